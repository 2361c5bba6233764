//! One module per input format. Each exposes a [`Format`]: a cheap `detect`
//! that looks at the text's structure (never at localized labels or the file
//! name) and a `parse` that returns what the file says.
//!
//! [`FORMATS`] is in detection order: more specific formats first.

pub mod csvstate;
pub mod fltmc;
pub mod mppreference;
pub mod mpstatus;
pub mod products;
pub mod qfe;
pub mod snapshot;

use lockstep_model::protection::CsvNodeState;
use lockstep_model::{Cluster, Node, SourceRef, Sourced};
use std::sync::Arc;

pub mod hotfix;
pub mod osquery;
pub mod systeminfo;
pub mod wmic_qfe;
pub mod wu_history;

/// Decoded text of one input file.
#[derive(Debug, Clone)]
pub struct Text {
    /// The path as given by the user, for messages and evidence.
    pub path: Arc<str>,
    pub text: String,
    /// How many lines of the file come before `text` (0 but for a piece of
    /// a large file read in pieces): its first line is line `line_offset + 1`.
    pub line_offset: u32,
}

impl Text {
    pub fn new(path: impl Into<Arc<str>>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
            line_offset: 0,
        }
    }
    pub fn at(&self, line: u32) -> SourceRef {
        SourceRef {
            file: self.path.clone(),
            line,
        }
    }
}

/// Facts about one node from one file. `name` is `None` when the format does
/// not carry the host name; the loader then uses the file name up to its first dot.
#[derive(Debug, Clone, Default)]
pub struct NodeFacts {
    pub name: Option<Sourced<String>>,
    /// Only the fields this file knows are filled.
    pub node: Node,
    /// Lines of the file that could not be read while the rest could (an id
    /// too short to be a KB): the loader reports them and the exit code
    /// says so, and the node keeps what was read.
    pub errors: Vec<crate::IngestError>,
    /// What the file says about itself that weakens it (systeminfo's hotfix
    /// list cut short); the loader passes these on.
    pub warnings: Vec<crate::IngestWarning>,
}

impl NodeFacts {
    /// A node known only by its host protection (one protection capture).
    pub fn protection(
        name: Option<Sourced<String>>,
        protection: lockstep_model::protection::NodeProtection,
    ) -> Self {
        NodeFacts {
            name,
            node: Node {
                protection,
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// What one file yields.
#[derive(Debug, Clone)]
pub enum FileContent {
    Nodes(Vec<NodeFacts>),
    /// The nodes of a large file read in pieces (a run of `systeminfo`
    /// captures, see the loader), each piece's apart and in order: taken a
    /// piece at a time, so that they are never held twice over.
    NodePieces(Vec<Vec<NodeFacts>>),
    /// Whole clusters, from a lockstep snapshot.
    Clusters(Vec<Cluster>),
    /// Cluster-wide `Get-ClusterSharedVolumeState` records (each names its node).
    CsvStates(Vec<CsvNodeState>),
    /// A fleet manifest's text (the `manifest` module): recognised by its
    /// content like every input, read by the loader when named as an
    /// argument.
    Manifest(String),
}

pub struct Format {
    /// Stable name, shown in `lockstep inventory` and in errors.
    pub name: &'static str,
    pub detect: fn(&str) -> bool,
    pub parse: fn(&Text) -> Result<FileContent, crate::IngestError>,
}

/// Formats in detection order.
pub static FORMATS: &[&Format] = &[
    &snapshot::FORMAT,
    // Update inventories before the protection formats: they are the bulk of
    // large inputs and their detectors look only at the start of the text,
    // while some protection detectors search the whole text.
    &systeminfo::FORMAT,
    &systeminfo::FORMAT_CSV,
    &wmic_qfe::FORMAT,
    &hotfix::FORMAT,
    &wu_history::FORMAT,
    &osquery::FORMAT,
    &fltmc::FORMAT,
    &mppreference::FORMAT,
    &mpstatus::FORMAT,
    &csvstate::FORMAT,
    &products::FORMAT,
];

/// The first format whose `detect` claims the text.
pub fn detect(text: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| (f.detect)(text)).copied()
}

/// The name files read as fleet manifests are known by.
pub const MANIFEST: &str = "fleet-manifest";

/// Line (1-based) of the first `[[cluster]]` table header of a fleet
/// manifest (the `manifest` module), comments and blanks around it allowed;
/// `None` when the text has none. Asked only of text no format claims, so
/// inventory output never pays for the scan.
pub fn manifest_line(text: &str) -> Option<u32> {
    let header = |l: &str| {
        let code = l.split('#').next().unwrap_or("");
        code.split_whitespace().collect::<String>() == "[[cluster]]"
    };
    let at = text.lines().position(header)?;
    Some(u32::try_from(at + 1).unwrap_or(u32::MAX))
}

/// The error for a fleet manifest where inventory output was expected: in
/// a folder, or among a manifest's files.
pub(crate) fn manifest_not_here(path: &str, text: &str) -> crate::IngestError {
    crate::IngestError::new(
        path,
        manifest_line(text).unwrap_or(0),
        "inventory output, found a fleet manifest (a manifest is read when named as an argument, not from a folder or another manifest)",
    )
}

/// The error for a `.toml` file that is neither inventory output nor a
/// fleet manifest: TOML's own error and line, or the first line of a TOML
/// file without a `[[cluster]]` table.
pub(crate) fn not_a_manifest(text: &Text) -> crate::IngestError {
    const EXPECTED: &str = "a fleet manifest (TOML with [[cluster]] tables)";
    match toml::from_str::<toml::Table>(&text.text) {
        Err(e) => crate::IngestError::new(
            text.path.as_ref(),
            e.span()
                .map_or(0, |s| crate::util::line_at(&text.text, s.start)),
            EXPECTED,
        )
        .found(e.message()),
        Ok(_) => {
            let first = text.text.lines().position(|l| !l.trim().is_empty());
            crate::IngestError::new(
                text.path.as_ref(),
                first.map_or(0, |i| u32::try_from(i + 1).unwrap_or(u32::MAX)),
                EXPECTED,
            )
            .found("TOML without a [[cluster]] table")
        }
    }
}
