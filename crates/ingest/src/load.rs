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

use crate::consistency::{MergeLog, StemHosts};
use crate::formats::{self, FileContent, Text};
use crate::merge::{LooseNodes, absorb, attach_csv, merge_into_indexed, stem_name};
use crate::stream::{Hold, Loader, Prefetch};
use crate::{IngestError, decode};
use lockstep_model::input_file::{self, Origin};
use lockstep_model::{Cluster, CollectedAt, Inventory, Node, SourceRef};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

// Where the loader's types and merging lived before they were shared with
// manifests and the stream.
pub(crate) use crate::merge::{NameIndex, merge_cluster_into};
pub(crate) use crate::outcome::record;
pub use crate::outcome::{LoadOptions, LoadOutcome};

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

/// Reads files and directories into `loader`, in argument order. A file
/// is what its content says: inventory output, a snapshot or a fleet
/// manifest, whatever its name.
pub(crate) fn load_into(paths: &[PathBuf], loader: &mut Loader<'_>) {
    let opts = loader.opts;
    // Files named one by one (`fleet/*.json`) are read and parsed in
    // parallel ahead of the loop, a batch at a time; what they yield is
    // merged below, in argument order.
    let named: Vec<Option<&Path>> = paths
        .par_iter()
        .map(|p| match std::fs::metadata(p) {
            Ok(m) if !m.is_dir() => Some(p.as_path()),
            _ => None,
        })
        .collect();
    let mut prefetch = Prefetch::new(named.clone(), Origin::Named, &opts);
    let hosts = stem_hosts(&named, &mut prefetch);
    // Loose nodes are only added below.
    let mut loose_index = NameIndex::default();
    for (i, p) in paths.iter().enumerate() {
        let shown = p.display().to_string();
        match std::fs::metadata(p) {
            Err(e) => loader.out.errors.push(IngestError::new(
                shown,
                0,
                format!("a readable file or directory, found an error: {e}"),
            )),
            Ok(m) if m.is_dir() => load_dir(p, loader),
            Ok(_) => {
                let read = match prefetch.take(i) {
                    Some(read) => read,
                    // It was not a plain file a moment ago.
                    None => read_file(p, &opts, Origin::Named),
                };
                match read {
                    Ok((FileContent::Manifest(text), _)) => {
                        crate::manifest::load_manifest(p, &text, loader)
                    }
                    Ok((content, format)) => {
                        loader.out.files.push((shown.clone(), format));
                        let owner = hosts.host_of(p);
                        load_named(p, content, format, owner, &mut loose_index, loader);
                    }
                    Err(e) => loader.out.errors.push(e),
                }
            }
        }
    }
}

/// Adds what a file named as an argument holds: its clusters; its nodes to
/// the loose nodes; its CSV states as a cluster named after the file.
fn load_named(
    p: &Path,
    content: FileContent,
    format: &'static str,
    owner: Option<&str>,
    loose_index: &mut NameIndex,
    loader: &mut Loader<'_>,
) {
    let shown = p.display().to_string();
    if let FileContent::Clusters(cs) = content {
        for c in cs {
            loader.clusters.add(c, &mut loader.out.log);
        }
        return;
    }
    let mut loose = LooseNodes {
        list: std::mem::take(&mut loader.out.inventory.loose_nodes),
        index: loose_index,
        later: Vec::new(),
    };
    let mut csv = Vec::new();
    let clusters = &mut loader.clusters;
    csv.extend(absorb(
        content,
        &shown,
        format,
        owner,
        &mut loose,
        &mut loader.out,
        &mut |c, log| clusters.add(c, log),
    ));
    let LooseNodes {
        mut list,
        index,
        later,
    } = loose;
    for n in later {
        merge_into_indexed(&mut list, index, n, &mut loader.out.log);
    }
    loader.out.inventory.loose_nodes = list;
    if !csv.is_empty() {
        let mut c = Cluster {
            name: stem_name(p),
            source: Some(SourceRef::new(shown.as_str(), 0)),
            ..Cluster::default()
        };
        attach_csv(&mut c, csv, &shown);
        loader.clusters.add(c, &mut loader.out.log);
    }
}

/// Which host a file's stem names ([`StemHosts`]), learnt from the files
/// that share their folder and stem with another (only those can name a
/// host for another file); they are read now.
fn stem_hosts(paths: &[Option<&Path>], prefetch: &mut Prefetch<'_>) -> StemHosts {
    let mut count: HashMap<(String, String), usize> = HashMap::new();
    for p in paths.iter().flatten() {
        *count.entry(crate::consistency::stem_key(p)).or_default() += 1;
    }
    let shared: Vec<usize> = paths
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let key = crate::consistency::stem_key((*p)?);
            (count.get(&key).copied().unwrap_or(0) > 1).then_some(i)
        })
        .collect();
    if shared.is_empty() {
        return StemHosts::default();
    }
    prefetch.read_now(&shared);
    StemHosts::learn(
        shared
            .iter()
            .filter_map(|&i| Some((paths[i]?, prefetch.peek(i)?)))
            .collect::<Vec<_>>()
            .into_iter(),
    )
}

/// Cluster and node names are identifiers every report, plan and message
/// shows: one line each, no terminal or bidi control (no Windows name has
/// one; a folder name can).
pub(crate) fn one_line_name(name: &mut String) {
    if let std::borrow::Cow::Owned(clean) = lockstep_model::term::one_line(name) {
        *name = clean;
    }
}

/// A node as the inventory holds it: names on one line; parsers and merges
/// grow update lists by pushing, and a fleet holds millions of updates, so
/// the unused capacity is given back (in place).
pub(crate) fn one_line_node(n: &mut Node) {
    one_line_name(&mut n.name);
    if let Some(c) = &mut n.cluster {
        one_line_name(c);
    }
    n.updates.shrink_to_fit();
}

/// A node whose inputs do not say when they were collected (every format
/// but the snapshot) gets the newest modification time of its files.
pub(crate) fn fill_collected_at(n: &mut Node) {
    if n.collected_at.is_some() {
        return;
    }
    n.collected_at = n
        .sources
        .iter()
        .filter_map(|s| std::fs::metadata(s).and_then(|m| m.modified()).ok())
        .filter_map(|t| jiff::Timestamp::try_from(t).ok())
        .max()
        .map(|at| CollectedAt {
            at,
            basis: lockstep_model::CollectedBasis::FileModified,
        });
}

/// Reads a directory as one cluster. The files are read and parsed in
/// parallel, a batch at a time (each on its own: nothing is shared but the
/// result), then merged one after the other in sorted file order, so the
/// inventory and the order of errors do not depend on the number of
/// threads or on timing. Snapshots in it bring their own clusters, handed
/// on as each file is merged.
fn load_dir(dir: &Path, loader: &mut Loader<'_>) {
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string());
    let shown = dir.display().to_string();
    let mut cluster = Cluster {
        name,
        source: Some(SourceRef::new(shown.as_str(), 0)),
        ..Cluster::default()
    };
    let files = crate::walk::Walk::files_of(dir, &mut loader.out);
    let paths: Vec<Option<&Path>> = files.iter().map(|(p, _)| Some(p.as_path())).collect();
    let mut prefetch = Prefetch::new(paths.clone(), Origin::Found, &loader.opts);
    let hosts = stem_hosts(&paths, &mut prefetch);
    let mut nodes = Vec::new();
    let mut csv = Vec::new();
    for (i, (path, node_dir)) in files.iter().enumerate() {
        let shown = path.display().to_string();
        let Some((content, format)) = prefetch
            .take(i)
            .and_then(|read| record(path, read, &mut loader.out))
        else {
            continue;
        };
        match content {
            // A directory of snapshots is a fleet: thousands of clusters,
            // each handed on as its file is merged.
            FileContent::Clusters(cs) => {
                for c in cs {
                    loader.clusters.add(c, &mut loader.out.log);
                }
            }
            other => {
                let owner = node_dir.as_deref().or_else(|| hosts.host_of(path));
                let clusters = &mut loader.clusters;
                csv.extend(absorb(
                    other,
                    &shown,
                    format,
                    owner,
                    &mut nodes,
                    &mut loader.out,
                    &mut |c, log| clusters.add(c, log),
                ));
            }
        }
    }
    let mut node_index = NameIndex::default();
    for n in nodes {
        merge_into_indexed(&mut cluster.nodes, &mut node_index, n, &mut loader.out.log);
    }
    if !csv.is_empty() {
        attach_csv(&mut cluster, csv, &shown);
    }
    for n in &mut cluster.nodes {
        if n.cluster.is_none() {
            n.cluster = Some(cluster.name.clone());
        }
    }
    if !cluster.nodes.is_empty() || cluster.protection.csv_states.is_some() {
        loader.clusters.add(cluster, &mut loader.out.log);
    }
}

thread_local! {
    /// The buffer the last file was read into, reused for the next one: a
    /// fresh buffer per file costs a page fault per 4 KiB (the kernel zeroes
    /// every new page), more than reading the file.
    static READ_BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Reads, decodes, detects and parses one file. The file's bytes become its
/// text in place (UTF-8) and the buffer is kept for the next file once the
/// text is parsed; a large run of systeminfo captures is read in pieces
/// ([`crate::large`]).
pub(crate) fn read_file(
    path: &Path,
    opts: &LoadOptions,
    origin: Origin,
) -> Result<(FileContent, &'static str), IngestError> {
    if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() >= crate::large::PIECES_FROM)
        && let Some(read) = crate::large::read_in_pieces(path, opts, origin)
    {
        return read;
    }
    let shown = path.display().to_string();
    let mut bytes = READ_BUFFER.take();
    bytes.clear();
    if let Err(e) = input_file::read_into(path, opts.max_input_size, origin, &mut bytes) {
        bytes.clear();
        if bytes.capacity() <= KEEP_BUFFER_UP_TO {
            READ_BUFFER.set(bytes);
        }
        return Err(IngestError::new(shown.as_str(), 0, e.expected()));
    }
    let text = Text::new(shown.as_str(), decode::decode_owned(bytes, &shown)?);
    let parsed = parse_text_ref(&text);
    // A huge input should not stay allocated for the rest of the run.
    if text.text.capacity() <= KEEP_BUFFER_UP_TO {
        READ_BUFFER.set(text.text.into_bytes());
    }
    parsed
}

/// Largest read buffer kept for the next file.
const KEEP_BUFFER_UP_TO: usize = 16 << 20;

/// Decode, detect and parse bytes as one input file.
pub fn parse_bytes(bytes: &[u8], path: &str) -> Result<(FileContent, &'static str), IngestError> {
    let text = decode::decode(bytes, path)?;
    parse_text(Text::new(path, text))
}

/// Like [`parse_bytes`], taking the buffer (no copy for UTF-8 input).
pub fn parse_owned(bytes: Vec<u8>, path: &str) -> Result<(FileContent, &'static str), IngestError> {
    let text = decode::decode_owned(bytes, path)?;
    parse_text(Text::new(path, text))
}

/// Detect and parse decoded text.
pub fn parse_text(text: Text) -> Result<(FileContent, &'static str), IngestError> {
    parse_text_ref(&text)
}

fn parse_text_ref(text: &Text) -> Result<(FileContent, &'static str), IngestError> {
    if text.text.trim().is_empty() {
        return Err(IngestError::new(
            text.path.as_ref(),
            0,
            format!(
                "inventory output ({}), found an empty file",
                formats::FORMATS
                    .iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let Some(format) = formats::detect(&text.text) else {
        if formats::manifest_line(&text.text).is_some() {
            return Ok((FileContent::Manifest(text.text.clone()), formats::MANIFEST));
        }
        if has_extension(&text.path, "toml") {
            return Err(crate::manifest::not_a_manifest(text));
        }
        // No excerpt: a file that is no inventory may hold anything (a
        // manifest pointed at /etc/shadow), and errors end up in reports.
        let line = text
            .text
            .lines()
            .position(|l| !l.trim().is_empty())
            .map_or(0, |i| i + 1);
        return Err(IngestError::new(
            text.path.as_ref(),
            u32::try_from(line).unwrap_or(u32::MAX),
            format!(
                "inventory output in a known format ({})",
                formats::FORMATS
                    .iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let content = (format.parse)(text)?;
    Ok((content, format.name))
}

/// Whether the file `path` names ends in `.ext` (any case).
fn has_extension(path: &str, ext: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_error_names_the_formats() {
        let e = parse_bytes(b"\xFF\xFE\r\x00\n\x00", "q.txt").unwrap_err();
        assert_eq!(e.path, "q.txt");
        assert!(
            e.expected.contains("wmic-qfe") && e.expected.ends_with("found an empty file"),
            "{e}"
        );
    }
}
