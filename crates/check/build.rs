//! Build script of lockstep-check: embeds the host-protection rules.
//!
//! Every `rules/host-protection/*.toml` at the repository root is compiled
//! into the library with `include_str!` (`Rules::builtin()` needs no files at
//! run time), and one `#[test]` per file is generated so that a broken or
//! wrong rule fails under its own name. A missing folder is not a build
//! error: the rule set is then empty and the tests say so.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let dir = manifest.join("../../rules/host-protection");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();

    let mut embedded = String::from(
        "/// `(file name, contents)` of every `rules/host-protection/*.toml`, sorted by name.\n\
         pub(crate) static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    let mut tests = String::new();
    let mut seen = std::collections::HashSet::new();
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let abs = path.canonicalize().unwrap_or_else(|_| path.clone());
        let _ = writeln!(
            embedded,
            "    ({name:?}, include_str!({:?})),",
            abs.to_string_lossy()
        );
        let mut fn_name: String = name
            .trim_end_matches(".toml")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        while !seen.insert(fn_name.clone()) {
            fn_name.push('_');
        }
        let _ = writeln!(
            tests,
            "#[test]\nfn rule_file_{fn_name}() {{\n    assert_rule_file_behaves({name:?});\n}}\n"
        );
    }
    embedded.push_str("];\n");
    let _ = std::fs::write(out_dir.join("protection_rules_embedded.rs"), embedded);
    let _ = std::fs::write(out_dir.join("protection_rule_tests.rs"), tests);
}
