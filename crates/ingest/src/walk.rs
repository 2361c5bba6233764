//! Finding the files of a capture folder: regular files only, each once,
//! without following a link back into a folder being read (see the `load`
//! module documentation).

use crate::IngestError;
use crate::outcome::LoadOutcome;
use lockstep_model::input_file::{self, FileKey, file_key};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The regular files under a directory, found once each.
pub(crate) struct Walk<'a> {
    /// (file, first-level subdirectory), in sorted order.
    files: Vec<(PathBuf, Option<String>)>,
    seen_files: HashSet<FileKey>,
    seen_dirs: HashSet<FileKey>,
    /// The folders from the top down to the one being read.
    ancestors: Vec<FileKey>,
    out: &'a mut LoadOutcome,
}

impl<'a> Walk<'a> {
    /// The regular files under `dir` (sorted, each once), with their
    /// first-level subdirectory; problems are errors in `out`.
    pub(crate) fn files_of(dir: &Path, out: &'a mut LoadOutcome) -> Vec<(PathBuf, Option<String>)> {
        let mut walk = Walk {
            files: Vec::new(),
            seen_files: HashSet::new(),
            seen_dirs: HashSet::new(),
            ancestors: Vec::new(),
            out,
        };
        if let Ok(meta) = std::fs::metadata(dir) {
            let key = file_key(dir, &meta);
            walk.seen_dirs.insert(key.clone());
            walk.ancestors.push(key);
        }
        walk.collect(dir, None, 0);
        walk.files
    }

    fn error(&mut self, path: &Path, expected: impl Into<String>) {
        self.out
            .errors
            .push(IngestError::new(path.display().to_string(), 0, expected));
    }

    /// Files under `dir`, sorted; `node_dir` is the first-level subdirectory.
    fn collect(&mut self, dir: &Path, node_dir: Option<&str>, depth: usize) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.error(dir, format!("a readable directory, found an error: {e}"));
                return;
            }
        };
        let mut list: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        list.sort();
        for p in list {
            let meta = match std::fs::metadata(&p) {
                Ok(m) => m,
                Err(e) => {
                    self.error(
                        &p,
                        format!("a readable file or directory, found an error: {e}"),
                    );
                    continue;
                }
            };
            let key = file_key(&p, &meta);
            if meta.is_dir() {
                if self.ancestors.contains(&key) {
                    self.error(
                        &p,
                        "a file or a folder, found a link back to a folder that contains it (a loop); not followed",
                    );
                } else if self.seen_dirs.insert(key.clone()) && depth < 8 {
                    // Deeper levels still belong to the first-level node
                    // folder; a folder reached twice is read once.
                    let nd = node_dir
                        .map(str::to_string)
                        .or_else(|| p.file_name().map(|n| n.to_string_lossy().into_owned()));
                    self.ancestors.push(key);
                    self.collect(&p, nd.as_deref(), depth + 1);
                    self.ancestors.pop();
                }
            } else if !meta.is_file() {
                let kind = input_file::kind_of(&meta.file_type());
                self.error(&p, format!("a regular file, found {kind}; it was not read"));
            } else if self.seen_files.insert(key) {
                self.files.push((p, node_dir.map(str::to_string)));
            }
        }
    }
}
