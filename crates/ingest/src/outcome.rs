//! How inputs are read ([`LoadOptions`]) and what loading produced
//! ([`LoadOutcome`]): shared by the loader, the stream and manifests.

use crate::consistency::MergeLog;
use crate::formats::FileContent;
use crate::{IngestError, IngestWarning};
use lockstep_model::Inventory;
use lockstep_model::input_file;
use std::path::Path;

/// How inputs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// The largest file read, in bytes (`--max-input-size`).
    pub max_input_size: u64,
    /// A fleet manifest may name files outside its own folder
    /// (`--allow-paths-outside-manifest`).
    pub manifest_outside: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            max_input_size: input_file::DEFAULT_MAX_INPUT_SIZE,
            manifest_outside: false,
        }
    }
}

/// What loading produced: the inventory, the inputs that failed, what the
/// user should know about the inputs that were read, and which format each
/// readable file was read as.
#[derive(Debug, Default)]
pub struct LoadOutcome {
    pub inventory: Inventory,
    pub errors: Vec<IngestError>,
    /// Hotfix lists cut short, captures of one host that disagree (and what
    /// was used): the inventory is complete, but these shape its verdicts.
    pub warnings: Vec<IngestWarning>,
    /// (path, format name) of every file that parsed.
    pub files: Vec<(String, &'static str)>,
    /// Warnings while loading, and what merging needs to write them.
    pub(crate) log: MergeLog,
}

/// Records what reading `path` gave: its format, or its error. A fleet
/// manifest is an error here: it is read only when named as an argument.
pub(crate) fn record(
    path: &Path,
    result: Result<(FileContent, &'static str), IngestError>,
    out: &mut LoadOutcome,
) -> Option<(FileContent, &'static str)> {
    match result {
        Ok((FileContent::Manifest(text), _)) => {
            out.errors.push(crate::formats::manifest_not_here(
                &path.display().to_string(),
                &text,
            ));
            None
        }
        Ok((content, format)) => {
            out.files.push((path.display().to_string(), format));
            Some((content, format))
        }
        Err(e) => {
            out.errors.push(e);
            None
        }
    }
}
