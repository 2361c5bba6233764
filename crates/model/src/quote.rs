//! Quoting for the shells lockstep writes commands for: PowerShell
//! single-quoted literals (check's fix commands, plan's scripts) and POSIX
//! shell words (the `lockstep ...` command lines a report suggests, which the
//! admin runs where lockstep runs).
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

/// A POSIX shell word (sh, bash, zsh): left as it is when it only holds
/// characters no shell treats specially, else single-quoted, where nothing is
/// special except the quote itself, written `'\''`. A control character
/// (a newline in a folder name) or a bidi control is written as a
/// dollar-single-quoted escape, `$'\012'` (POSIX.1-2024, bash, zsh, ksh), so
/// that the word stays on one line, shows as it is on a terminal, and means
/// exactly the original bytes.
pub fn sh_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'-' | b'.' | b'/' | b',' | b':' | b'@' | b'+')
        });
    if plain {
        return value.to_string();
    }
    if value.is_empty() {
        return "''".into();
    }
    let mut out = String::with_capacity(value.len() + 2);
    let mut open = false;
    for c in value.chars() {
        if crate::term::is_unsafe(c) {
            if open {
                out.push('\'');
                open = false;
            }
            let mut buf = [0u8; 4];
            out.push_str("$'");
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\{b:03o}"));
            }
            out.push('\'');
            continue;
        }
        if !open {
            out.push('\'');
            open = true;
        }
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    if open {
        out.push('\'');
    }
    out
}

/// A path as a word of a `lockstep ...` command line, for the shell of the
/// machine lockstep runs on: PowerShell on Windows, a POSIX shell elsewhere.
/// A path starting with `-` gets `./` so that it cannot read as an option.
pub fn path_word(path: &str) -> String {
    let value = if path.starts_with('-') {
        format!("./{path}")
    } else {
        path.to_string()
    };
    if cfg!(windows) {
        // PowerShell literals refuse control characters; no Windows path has one.
        let one_line: String = value
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        ps_literal(&one_line).unwrap_or_else(|| "''".into())
    } else {
        sh_word(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sh_words_stay_one_inert_word() {
        assert_eq!(sh_word("clusters/HV01"), "clusters/HV01");
        assert_eq!(sh_word("HV$(touch PWNED)"), "'HV$(touch PWNED)'");
        assert_eq!(sh_word("a'b"), "'a'\\''b'");
        assert_eq!(sh_word("`id`;x y"), "'`id`;x y'");
        assert_eq!(sh_word(""), "''");
        assert_eq!(sh_word("a\nb"), "'a'$'\\012''b'");
        assert_eq!(sh_word("\u{1b}]0;x\u{7}"), "$'\\033'']0;x'$'\\007'");
        assert_eq!(sh_word("\u{9b}"), "$'\\302\\233'");
        assert_eq!(sh_word("a\u{202E}b"), "'a'$'\\342\\200\\256''b'");
        assert_eq!(sh_word("-rf"), "-rf");
        assert_eq!(path_word("--target"), "./--target");
        assert_eq!(path_word("a b/c"), "'a b/c'");
    }

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
