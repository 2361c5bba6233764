//! Unit tests of the known-issues database. Behaviour tests of every shipped
//! entry live in the repository's `tests/known_issues_*.rs`; here: one
//! generated test per shipped file (it must lint clean) and the matching
//! helpers.

use super::*;

/// Called by the generated per-file tests (see build.rs).
fn assert_builtin_lints_clean(name: &str) {
    let (_, text) = builtin_sources()
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("{name} is not embedded"));
    let path = format!("known-issues/{name}");
    match lint_file(Path::new(&path), text) {
        Ok(issue) => assert_eq!(format!("{}.md", issue.id), name),
        Err(errors) => {
            let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            panic!("{name} does not lint clean:\n{}", shown.join("\n"));
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/known_issues_file_tests.rs"));

#[test]
fn builtin_set_lints_clean_and_loads_every_file() {
    let issues = match lint_builtin() {
        Ok(issues) => issues,
        Err(errors) => panic!(
            "{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    assert!(!issues.is_empty(), "no built-in known issues embedded");
    assert_eq!(KnownIssues::builtin().len(), builtin_sources().len());
}

#[test]
fn product_pattern_rules() {
    assert!(product_matches(
        "Windows Server 2008 R2",
        "Windows Server 2008 R2 Service Pack 1"
    ));
    assert!(product_matches(
        "windows server 2008 r2",
        "Windows Server 2008 R2 Service Pack 1"
    ));
    assert!(product_matches(
        "Windows Server 2022",
        "Windows Server 2022"
    ));
    assert!(product_matches("Windows 10", "Windows 10, Version 1607"));
    assert!(product_matches(
        "Windows Server 2008",
        "Windows Server 2008 Service Pack 2"
    ));
    // R2 is a different product.
    assert!(!product_matches(
        "Windows Server 2008",
        "Windows Server 2008 R2 Service Pack 1"
    ));
    assert!(!product_matches(
        "Windows Server 2012",
        "Windows Server 2012 R2"
    ));
    // No partial words.
    assert!(!product_matches("Windows 8", "Windows 8.1"));
    assert!(!product_matches(
        "Windows Server 202",
        "Windows Server 2022"
    ));
    assert!(!product_matches("", "Windows Server 2022"));
    assert!(!product_matches(
        "Windows Server 2022 Datacenter",
        "Windows Server 2022"
    ));
    // Multi-byte text never panics.
    assert!(!product_matches("Windows Ser", "Windows Sé"));
    assert!(!product_matches("Wé", "Windows"));
}

#[test]
fn lint_error_display() {
    let e = LintError {
        path: "known-issues/X.md".into(),
        line: 7,
        message: "boom".into(),
    };
    assert_eq!(e.to_string(), "known-issues/X.md:7: boom");
    let e = LintError {
        path: "dir".into(),
        line: 0,
        message: "cannot read".into(),
    };
    assert_eq!(e.to_string(), "dir: cannot read");
}

/// Damaged files (cut anywhere, any one line dropped or doubled) give errors
/// or a valid issue, never a panic.
#[test]
fn damaged_builtin_files_never_panic() {
    for (name, text) in builtin_sources() {
        let path = Path::new(name);
        let mut cut = 0;
        while cut < text.len() {
            if text.is_char_boundary(cut) {
                let _ = lint_file(path, &text[..cut]);
            }
            cut += 5;
        }
        let lines: Vec<&str> = text.lines().collect();
        for skip in 0..lines.len() {
            let dropped: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, l)| *l)
                .collect();
            let _ = lint_file(path, &dropped.join("\n"));
            let doubled: Vec<&str> = lines
                .iter()
                .enumerate()
                .flat_map(|(i, l)| if i == skip { vec![*l, *l] } else { vec![*l] })
                .collect();
            let _ = lint_file(path, &doubled.join("\n"));
        }
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A fixed pseudo-random walk over bytes that matter to the parser.
    let alphabet: &[u8] = b"+\n\r =\"'[]{},.#-_:0123456789KBidkntvr\\\xc3\xa9\t";
    let mut state: u64 = 0x2011_0913_2024_0719;
    for _ in 0..2000 {
        let mut bytes = b"+++\n".to_vec();
        for _ in 0..(state % 120) {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            bytes.push(alphabet[(state >> 33) as usize % alphabet.len()]);
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = lint_file(Path::new("LOCKSTEP-2099-0001.md"), &text);
    }
}
