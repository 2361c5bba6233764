//! Build script of lockstep-catalog: embeds the known-issues database and the
//! servicing models (`servicing-models/*.toml`, see `models.rs`).
//!
//! Every `known-issues/*.md` file at the repository root (except README.md)
//! is compiled into the
//! library with `include_str!`, so `KnownIssues::builtin()` needs no files at
//! run time. The script also writes one `#[test]` per file (included by the
//! known-issues unit tests) so that a broken data file fails with its own test
//! name. It never panics on a missing folder: the database is then empty and
//! the tests say so.

#[path = "build_embed.rs"]
mod embed;

use embed::{data_files, embedded_table, file_name, test_names};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build_embed.rs");

    let files = data_files(&manifest.join("../../known-issues"), is_issue_file);
    let embedded = embedded_table(
        "/// `(file name, contents)` of every `known-issues/*.md`, sorted by name.\n\
         pub(crate) static EMBEDDED: &[(&str, &str)] = &[",
        &files,
    );
    let mut tests = String::new();
    for (name, fn_name) in test_names(&files, ".md") {
        let _ = writeln!(
            tests,
            "#[test]\nfn builtin_lints_clean_{fn_name}() {{\n    assert_builtin_lints_clean({name:?});\n}}\n"
        );
    }
    let _ = std::fs::write(out_dir.join("known_issues_embedded.rs"), embedded);
    let _ = std::fs::write(out_dir.join("known_issues_file_tests.rs"), tests);

    // `EMBEDDED_MODELS`: every `servicing-models/*.toml`.
    let models = data_files(&manifest.join("../../servicing-models"), |p| {
        file_name(p).ends_with(".toml")
    });
    let embedded = embedded_table(
        "/// `(file name, contents)` of every `servicing-models/*.toml`, sorted by name.\n\
         static EMBEDDED_MODELS: &[(&str, &str)] = &[",
        &models,
    );
    let _ = std::fs::write(out_dir.join("servicing_models_embedded.rs"), embedded);
}

/// Same rule as `known_issues::is_issue_file_name`: `*.md` except README.md
/// and dot files.
fn is_issue_file(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".md") && !name.starts_with('.') && !name.eq_ignore_ascii_case("README.md")
}
