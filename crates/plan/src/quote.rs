//! Validation and quoting of every value that comes from the inputs.
//!
//! Values are validated first (host names, KB numbers, DISM package names,
//! paths) and then always emitted as quoted literals, so that a value that
//! slipped through validation is still inert:
//!
//! * PowerShell: single-quoted literals. PowerShell treats not only `'` but
//!   also the Unicode quotes U+2018 ‘, U+2019 ’, U+201A ‚ and U+201B ‛ as
//!   single quotes (the tokenizer's `IsSingleQuote`), so each of them is
//!   doubled like `'`; control characters are rejected because a newline
//!   would end the statement in a comment or here-string context.
//! * YAML: double-quoted scalars with `\`, `"` and every non-printable
//!   character escaped.
//! * XML: `&`, `<`, `>`, `"`, `'` escaped; control characters rejected.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidValue {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} {:?}: expected {}",
            self.what, self.value, self.expected
        )
    }
}

/// A NetBIOS or DNS host name: labels of ASCII letters, digits and `-`, not
/// starting or ending with `-`, joined by `.`; at most 253 characters. The
/// first label (the NetBIOS name) at most 15 characters, as cluster node
/// names are.
pub fn validate_host(what: &'static str, name: &str) -> Result<(), InvalidValue> {
    let bad = || InvalidValue {
        what,
        value: name.to_string(),
        expected: "a NetBIOS or DNS host name (letters, digits, '-', '.'; first label at most 15 characters)",
    };
    if name.is_empty() || name.len() > 253 {
        return Err(bad());
    }
    for (i, label) in name.split('.').enumerate() {
        if label.is_empty()
            || label.len() > 63
            || (i == 0 && label.len() > 15)
            || label.starts_with('-')
            || label.ends_with('-')
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad());
        }
    }
    Ok(())
}

/// Names a cluster node may not have in a plan: Ansible's implicit groups
/// (`all`, `ungrouped`) and implicit host (`localhost`) would make a play
/// target other machines, and `localhost` in PowerShell would act on the
/// machine that runs the script.
pub const RESERVED_NODE_NAMES: &[&str] = &["all", "ungrouped", "localhost"];

/// A cluster node name: a host name ([`validate_host`]) that is not a
/// reserved name and whose first label is not all digits (an IP address
/// such as 127.0.0.1, which Ansible also treats as the implicit localhost,
/// and never a Windows computer name).
pub fn validate_node_name(name: &str) -> Result<(), InvalidValue> {
    validate_host("node name", name)?;
    let first = name.split('.').next().unwrap_or(name);
    if RESERVED_NODE_NAMES
        .iter()
        .any(|r| name.eq_ignore_ascii_case(r) || first.eq_ignore_ascii_case(r))
        || first.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(InvalidValue {
            what: "node name",
            value: name.to_string(),
            expected: "a computer name other than all, ungrouped or localhost and not all digits (Ansible would take it for its implicit group or host)",
        });
    }
    Ok(())
}

/// A DISM package identity as `Get-WindowsPackage` prints it, e.g.
/// `Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.2159.1.7`.
pub fn validate_package(name: &str) -> Result<(), InvalidValue> {
    if !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'~' | b'.' | b'-'))
    {
        Ok(())
    } else {
        Err(InvalidValue {
            what: "DISM package name",
            value: name.to_string(),
            expected: "letters, digits, '_', '~', '.', '-' (a Get-WindowsPackage PackageName)",
        })
    }
}

/// A local or UNC folder path given on the command line (`--source`,
/// `--cau-root`). Quoting makes any character inert; control characters are
/// refused because no real path has them.
pub fn validate_path(what: &'static str, path: &str) -> Result<(), InvalidValue> {
    if path.is_empty() || path.len() > 1024 || path.chars().any(char::is_control) {
        return Err(InvalidValue {
            what,
            value: path.to_string(),
            expected: "a folder path without control characters",
        });
    }
    Ok(())
}

pub use lockstep_model::quote::is_ps_single_quote;

/// A PowerShell single-quoted literal. Control characters are replaced by
/// `?` so the literal always stays on one line (callers validate first; this
/// is the second line of defence).
pub fn ps(value: &str) -> String {
    let one_line: String = value
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    // Cannot fail: no control character is left.
    lockstep_model::quote::ps_literal(&one_line).unwrap_or_else(|| "''".to_string())
}

/// Free text for a PowerShell `#` comment: one line, no control characters.
pub fn ps_comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A YAML double-quoted scalar.
pub fn yaml(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' || c == '\u{FEFF}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A YAML scalar Ansible never templates: `!unsafe` keeps `{{ … }}` in an
/// input value from being evaluated (a play name is templated, and a
/// `lookup('pipe', …)` there would run on the controller).
pub fn yaml_unsafe(value: &str) -> String {
    format!("!unsafe {}", yaml(value))
}

/// Text for an XML attribute value or element content.
pub fn xml(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// GiB with one decimal, as the capacity messages print memory.
pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1024.0 * 1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        for ok in ["HV01", "hv-03", "node1.corp.contoso.com", "A"] {
            assert!(validate_host("node", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "HV01'",
            "HV$(calc)",
            "HV01;rm",
            "-HV",
            "HV-",
            "ABCDEFGHIJKLMNOP",
            "a..b",
            "HV 01",
            "HV01\n",
            "HV`01",
            "HV\u{2019}01",
        ] {
            assert!(validate_host("node", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reserved_node_names() {
        for bad in [
            "all",
            "ALL",
            "ungrouped",
            "localhost",
            "LocalHost.corp",
            "127.0.0.1",
            "1234",
        ] {
            assert!(validate_node_name(bad).is_err(), "{bad:?}");
        }
        for ok in ["HV01", "allnodes", "hv-all", "node1.corp.contoso.com"] {
            assert!(validate_node_name(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn ps_literal_doubles_every_quote_kind() {
        assert_eq!(ps("a'b"), "'a''b'");
        assert_eq!(ps("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
        assert_eq!(ps("x\ny"), "'x?y'");
        assert_eq!(ps("$(calc)`;"), "'$(calc)`;'");
    }

    #[test]
    fn yaml_and_xml() {
        assert_eq!(yaml("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(yaml("\u{7}"), "\"\\u0007\"");
        assert_eq!(xml("<a href='x'>&"), "&lt;a href=&apos;x&apos;&gt;&amp;");
    }

    #[test]
    fn packages() {
        assert!(
            validate_package("Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.2159.1.7")
                .is_ok()
        );
        assert!(validate_package("Package'; Remove-Item").is_err());
    }
}
