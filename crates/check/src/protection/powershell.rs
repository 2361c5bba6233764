//! PowerShell literals for fix commands built from input data.

/// A single-quoted PowerShell literal, or `None` when the value holds a
/// control character; see [`lockstep_model::quote`].
pub fn quote(value: &str) -> Option<String> {
    lockstep_model::quote::ps_literal(value)
}

/// `Cmdlet -Param 'a', 'b'` for the values that can be quoted; the values
/// that cannot are returned separately so the caller can say so.
pub fn command_with_list(
    cmdlet_and_param: &str,
    values: &[String],
) -> (Option<String>, Vec<String>) {
    let mut quoted = Vec::new();
    let mut rejected = Vec::new();
    for v in values {
        match quote(v) {
            Some(q) => quoted.push(q),
            None => rejected.push(v.clone()),
        }
    }
    let cmd = (!quoted.is_empty()).then(|| format!("{cmdlet_and_param} {}", quoted.join(", ")));
    (cmd, rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote(r"C:\VMs").as_deref(), Some(r"'C:\VMs'"));
        assert_eq!(quote("O'Brien").as_deref(), Some("'O''Brien'"));
        assert_eq!(quote("a\u{2019}b").as_deref(), Some("'a\u{2019}\u{2019}b'"));
        assert_eq!(
            quote("$(Remove-Item C:\\ -Recurse); `x`").as_deref(),
            Some("'$(Remove-Item C:\\ -Recurse); `x`'")
        );
        assert_eq!(quote("a\nb"), None);
        assert_eq!(quote("a\u{0}b"), None);
        let (cmd, rejected) = command_with_list(
            "Add-MpPreference -ExclusionPath",
            &["C:\\A".to_string(), "C:\\B\r\nStop-Computer".to_string()],
        );
        assert_eq!(
            cmd.as_deref(),
            Some(r"Add-MpPreference -ExclusionPath 'C:\A'")
        );
        assert_eq!(rejected.len(), 1);
    }
}
