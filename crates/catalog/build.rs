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

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let dir = manifest.join("../../known-issues");
    // A directory here makes cargo rescan every file below it.
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_issue_file(p))
                .collect()
        })
        .unwrap_or_default();
    files.sort();

    let mut embedded = String::from(
        "/// `(file name, contents)` of every `known-issues/*.md`, sorted by name.\n\
         pub(crate) static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    let mut tests = String::new();
    let mut seen_fns = std::collections::HashSet::new();
    for path in &files {
        let name = file_name(path);
        let abs = path.canonicalize().unwrap_or_else(|_| path.clone());
        let _ = writeln!(
            embedded,
            "    ({name:?}, include_str!({:?})),",
            abs.to_string_lossy()
        );
        let fn_name: String = name
            .trim_end_matches(".md")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        // Two names that differ only in punctuation must still give two tests.
        let mut fn_name = fn_name;
        while !seen_fns.insert(fn_name.clone()) {
            fn_name.push('_');
        }
        let _ = writeln!(
            tests,
            "#[test]\nfn builtin_lints_clean_{fn_name}() {{\n    assert_builtin_lints_clean({name:?});\n}}\n"
        );
    }
    embedded.push_str("];\n");

    let _ = std::fs::write(out_dir.join("known_issues_embedded.rs"), embedded);
    let _ = std::fs::write(out_dir.join("known_issues_file_tests.rs"), tests);
    embed_models(&manifest.join("../../servicing-models"), &out_dir);
}

/// `EMBEDDED_MODELS`: `(file name, contents)` of every `servicing-models/*.toml`.
fn embed_models(dir: &Path, out_dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && file_name(p).ends_with(".toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut embedded = String::from(
        "/// `(file name, contents)` of every `servicing-models/*.toml`, sorted by name.\n\
         static EMBEDDED_MODELS: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        let abs = path.canonicalize().unwrap_or_else(|_| path.clone());
        let _ = writeln!(
            embedded,
            "    ({:?}, include_str!({:?})),",
            file_name(path),
            abs.to_string_lossy()
        );
    }
    embedded.push_str("];\n");
    let _ = std::fs::write(out_dir.join("servicing_models_embedded.rs"), embedded);
}

/// Same rule as `known_issues::is_issue_file_name`: `*.md` except README.md
/// and dot files.
fn is_issue_file(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".md") && !name.starts_with('.') && !name.eq_ignore_ascii_case("README.md")
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
