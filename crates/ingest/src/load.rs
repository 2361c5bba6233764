//! Files and directories to an inventory.
//!
//! * A directory is one cluster named after the directory. Its files are read
//!   and parsed in parallel and merged in sorted order, so the output does not
//!   depend on the thread count (nor do the errors, or their order; the same
//!   holds for files named one by one and for a manifest's files, merged in
//!   argument and manifest order); files in a subdirectory
//!   belong to the node named after that subdirectory unless their content
//!   names a node (`HV01/fltmc-instances.txt` → HV01).
//! * A file given directly contributes loose nodes (or, for a snapshot, whole
//!   clusters).
//! * A file's node is the one its content names (`Host Name`, `CSName`,
//!   `PSComputerName`, `Node`); otherwise the subdirectory's name; otherwise
//!   the host that a file beside it with the same name up to its first dot
//!   names (`HOST.qfe.txt` goes with `HOST.systeminfo.txt`'s host);
//!   otherwise the file name up to its first dot (`HV01.fltmc-instances.txt`
//!   → HV01).
//! * Node names compare case-insensitively; facts about one node from several
//!   files are merged (updates deduplicated by KB, the first source that
//!   names a KB wins and later ones only fill what it lacked; every file is
//!   listed in `node.sources`). Where the files disagree (installed updates,
//!   OS version, architecture) a warning says which files, what differs and
//!   what was used ([`crate::consistency`]).
//! * `Get-ClusterSharedVolumeState` captures (which name the node on every
//!   record) attach to the directory's cluster; given as a single file they
//!   form a cluster named after the file.
//! * Snapshot clusters are added as they are; a directory cluster and a
//!   snapshot cluster with the same name are merged.
//!
//! * A fleet manifest ([`crate::manifest`]) is recognised by its content (a
//!   `[[cluster]]` table in text no inventory format claims), whatever its
//!   name, and read when named as an argument; one in a folder or among a
//!   manifest's files is an error. A `.toml` file that is neither inventory
//!   output nor a manifest is an error naming its line.
//!
//! A file that cannot be read yields an [`IngestError`] and loading goes on.
//! Hidden files (`.name`) in directories are skipped.
//!
//! Cluster and node names come out as one line without terminal or bidi
//! controls ([`lockstep_model::term::one_line`]): they are identifiers that
//! every report, plan and message shows.
//!
//! Inputs are read through [`lockstep_model::input_file`]: in a directory
//! only regular files are read (a FIFO, a socket or a device is an error and
//! is skipped), every file at most [`LoadOptions::max_input_size`] bytes; a
//! file reached twice (a symlink beside its target) is read once, and a
//! symlink back to a folder that contains it is an error, not a loop.
//!
//! Where each step lives, leaves first: `read` reads and parses one
//! file (and prefetches a batch in parallel); `merge` merges nodes and
//! clusters; `sink` holds one load's state and hands clusters on;
//! [`crate::manifest`] reads a fleet manifest's entries; `inputs` walks the
//! arguments and folders; [`crate::stream`] is the load as a stream of
//! clusters, and this module the whole load: the stream holding every
//! cluster. Each calls only the ones before it.

use crate::consistency::MergeLog;
use crate::stream::Hold;
use lockstep_model::Inventory;
use std::path::PathBuf;

pub use crate::outcome::{LoadOptions, LoadOutcome};
pub use crate::read::{parse_bytes, parse_owned, parse_text};

/// Reads files and directories into one inventory, with the default
/// [`LoadOptions`].
pub fn load_paths(paths: &[PathBuf]) -> LoadOutcome {
    load_paths_with(paths, &LoadOptions::default())
}

/// Reads files and directories into one inventory (the stream of
/// [`crate::stream`], every cluster held).
pub fn load_paths_with(paths: &[PathBuf], opts: &LoadOptions) -> LoadOutcome {
    let mut clusters = Vec::new();
    let streamed =
        crate::stream::stream_paths_with(paths, opts, Hold::All, &mut |_, c| clusters.push(c));
    LoadOutcome {
        inventory: Inventory {
            clusters,
            loose_nodes: streamed.loose_nodes,
        },
        errors: streamed.errors,
        warnings: streamed.warnings,
        files: streamed.files,
        log: MergeLog::default(),
    }
}
