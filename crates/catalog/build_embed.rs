//! Embedding a data folder's files in a library, shared by the build scripts
//! of lockstep-catalog (known issues, servicing models) and lockstep-check
//! (host-protection rules), which includes this file with `#[path]`.
//!
//! Nothing here panics: a missing folder embeds nothing, and the tests of
//! the embedded data say so.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The files of `dir` that `keep` accepts, sorted by path; cargo rescans
/// every file below `dir` when one changes.
pub fn data_files(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && keep(p))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Rust source of a static `(file name, contents)` slice of `files`, each
/// embedded with `include_str!`; `head` is its doc comment and declaration
/// up to `= &[`.
pub fn embedded_table(head: &str, files: &[PathBuf]) -> String {
    let mut out = format!("{head}\n");
    for path in files {
        let abs = path.canonicalize().unwrap_or_else(|_| path.clone());
        let _ = writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            file_name(path),
            abs.to_string_lossy()
        );
    }
    out.push_str("];\n");
    out
}

/// Each file's name with the name of its generated test: the name without
/// `extension`, lower-case ASCII letters and digits, anything else `_`. Two
/// names that differ only in punctuation still give two tests.
pub fn test_names(files: &[PathBuf], extension: &str) -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    files
        .iter()
        .map(|path| {
            let name = file_name(path);
            let mut fn_name: String = name
                .trim_end_matches(extension)
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
            (name, fn_name)
        })
        .collect()
}
