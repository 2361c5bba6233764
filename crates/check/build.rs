//! Build script of lockstep-check: embeds the host-protection rules.
//!
//! Every `rules/host-protection/*.toml` at the repository root is compiled
//! into the library with `include_str!` (`Rules::builtin()` needs no files at
//! run time), and one `#[test]` per file is generated so that a broken or
//! wrong rule fails under its own name. A missing folder is not a build
//! error: the rule set is then empty and the tests say so.

// The catalog's build script embeds its data the same way.
#[path = "../catalog/build_embed.rs"]
mod embed;

use embed::{data_files, embedded_table, test_names};
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../catalog/build_embed.rs");

    let files = data_files(&manifest.join("../../rules/host-protection"), |p| {
        p.extension().is_some_and(|x| x == "toml")
    });
    let embedded = embedded_table(
        "/// `(file name, contents)` of every `rules/host-protection/*.toml`, sorted by name.\n\
         pub(crate) static EMBEDDED: &[(&str, &str)] = &[",
        &files,
    );
    let mut tests = String::new();
    for (name, fn_name) in test_names(&files, ".toml") {
        let _ = writeln!(
            tests,
            "#[test]\nfn rule_file_{fn_name}() {{\n    assert_rule_file_behaves({name:?});\n}}\n"
        );
    }
    let _ = std::fs::write(out_dir.join("protection_rules_embedded.rs"), embedded);
    let _ = std::fs::write(out_dir.join("protection_rule_tests.rs"), tests);
}
