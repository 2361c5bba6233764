//! PowerShell single-quoted literals, the one quoting rule every stage that
//! writes commands from input data uses (check's fix commands, plan's
//! scripts).
//!
//! Inside single quotes PowerShell interprets nothing (`$()`, backticks and
//! `;` are literal) except the quote itself, which is doubled. PowerShell also
//! treats the typographic quotes U+2018 ‘, U+2019 ’, U+201A ‚ and U+201B ‛ as
//! single quotes (the tokenizer's `IsSingleQuote`), so they are doubled too.

/// Characters PowerShell treats as a single quote.
pub fn is_ps_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

/// A single-quoted PowerShell literal, or `None` when the value holds a
/// control character (a newline would end the command).
pub fn ps_literal(value: &str) -> Option<String> {
    if value.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if is_ps_single_quote(c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_inert() {
        assert_eq!(ps_literal("C:\\VMs").as_deref(), Some("'C:\\VMs'"));
        assert_eq!(ps_literal("a'b").as_deref(), Some("'a''b'"));
        assert_eq!(
            ps_literal("a\u{2019}b").as_deref(),
            Some("'a\u{2019}\u{2019}b'")
        );
        assert_eq!(
            ps_literal("$(Stop-Computer)`;x").as_deref(),
            Some("'$(Stop-Computer)`;x'")
        );
        assert_eq!(ps_literal("a\nb"), None);
    }
}
