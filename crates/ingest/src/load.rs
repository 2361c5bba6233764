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
//! * A `.toml` file is a fleet manifest ([`crate::manifest`]).
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
use crate::formats::{self, FileContent, NodeFacts, Text};
use crate::stream::{Hold, Loader, Prefetch};
use crate::updates::UpdateIndex;
use crate::{IngestError, IngestWarning, decode};
use lockstep_model::input_file::{self, Origin};
use lockstep_model::protection::{CsvNodeState, Section};
use lockstep_model::{Cluster, CollectedAt, Inventory, Node, OsInfo, SourceRef, Sourced};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

fn is_toml(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

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

/// Reads files and directories into `loader`, in argument order.
pub(crate) fn load_into(paths: &[PathBuf], loader: &mut Loader<'_>) {
    let opts = loader.opts;
    // Files named one by one (`fleet/*.json`) are read and parsed in
    // parallel ahead of the loop, a batch at a time; what they yield is
    // merged below, in argument order.
    let named: Vec<Option<&Path>> = paths
        .par_iter()
        .map(|p| match std::fs::metadata(p) {
            Ok(m) if !m.is_dir() && !is_toml(p) => Some(p.as_path()),
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
            Ok(_) if is_toml(p) => {
                match input_file::read(p, opts.max_input_size, Origin::Named)
                    .map_err(|e| e.expected())
                    .and_then(|b| {
                        String::from_utf8(b).map_err(|e| {
                            format!("a readable UTF-8 fleet manifest, found an error: {e}")
                        })
                    }) {
                    Ok(text) if crate::manifest::is_manifest(p, &text) => {
                        crate::manifest::load_manifest(p, &text, loader)
                    }
                    Ok(_) => loader.out.errors.push(IngestError::new(
                        shown,
                        0,
                        "a fleet manifest: a UTF-8 TOML file with [[cluster]] tables",
                    )),
                    Err(expected) => loader.out.errors.push(IngestError::new(shown, 0, expected)),
                }
            }
            Ok(_) => {
                let mut loose = LooseNodes {
                    list: std::mem::take(&mut loader.out.inventory.loose_nodes),
                    index: &mut loose_index,
                    later: Vec::new(),
                };
                let mut csv = Vec::new();
                let content = match prefetch.take(i) {
                    Some(Ok((content, format))) => {
                        loader.out.files.push((shown.clone(), format));
                        Some((content, format))
                    }
                    Some(Err(e)) => {
                        loader.out.errors.push(e);
                        None
                    }
                    // It was not a plain file a moment ago.
                    None => read_one(p, &opts, &mut loader.out),
                };
                match content {
                    Some((FileContent::Clusters(cs), _)) => {
                        for c in cs {
                            loader.clusters.add(c, &mut loader.out.log);
                        }
                    }
                    Some((other, format)) => {
                        let owner = hosts.host_of(p);
                        absorb(other, &shown, format, owner, &mut loose, &mut csv, loader);
                    }
                    None => {}
                }
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
        }
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
        let (content, format) = match prefetch.take(i) {
            Some(Ok((content, format))) => {
                loader.out.files.push((shown.clone(), format));
                (content, format)
            }
            Some(Err(e)) => {
                loader.out.errors.push(e);
                continue;
            }
            None => continue,
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
                absorb(other, &shown, format, owner, &mut nodes, &mut csv, loader);
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

/// Reads, decodes, detects and parses one file, recording the outcome.
pub(crate) fn read_one(
    path: &Path,
    opts: &LoadOptions,
    out: &mut LoadOutcome,
) -> Option<(FileContent, &'static str)> {
    record(path, read_file(path, opts, Origin::Named), out)
}

/// Records what reading `path` gave: its format, or its error.
pub(crate) fn record(
    path: &Path,
    result: Result<(FileContent, &'static str), IngestError>,
    out: &mut LoadOutcome,
) -> Option<(FileContent, &'static str)> {
    match result {
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

/// File name up to its first dot: `HV01.fltmc-instances.txt` → `HV01`.
fn stem_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = file.split('.').next().unwrap_or("");
    if stem.is_empty() {
        file
    } else {
        stem.to_string()
    }
}

/// Takes what one file (read as `format`) yields: its nodes into `nodes`
/// (named by their content, else `owner`, else the file name), its
/// clusters to the loader's clusters, its CSV states into `csv`; the
/// errors and warnings of its lines into the loader's outcome.
pub(crate) fn absorb(
    content: FileContent,
    path: &str,
    format: &str,
    owner: Option<&str>,
    nodes: &mut dyn Nodes,
    csv: &mut Vec<CsvNodeState>,
    loader: &mut Loader<'_>,
) {
    let out = &mut loader.out;
    out.log.file_read(path, format);
    match content {
        FileContent::Nodes(list) => {
            nodes.reserve(list.len());
            for mut facts in list {
                out.errors.append(&mut facts.errors);
                out.log.warnings.append(&mut facts.warnings);
                nodes.push(named_node(facts, path, owner));
            }
        }
        FileContent::NodePieces(pieces) => {
            nodes.reserve(pieces.iter().map(Vec::len).sum());
            for piece in pieces {
                for mut facts in piece {
                    out.errors.append(&mut facts.errors);
                    out.log.warnings.append(&mut facts.warnings);
                    nodes.push(named_node(facts, path, owner));
                }
            }
        }
        FileContent::Clusters(cs) => {
            for c in cs {
                loader.clusters.add(c, &mut out.log);
            }
        }
        FileContent::CsvStates(states) => csv.extend(states),
    }
}

/// Where [`absorb`] puts a file's nodes, in order; they are merged by
/// name afterwards.
pub(crate) trait Nodes {
    fn push(&mut self, node: Node);
    /// Room for `n` more.
    fn reserve(&mut self, n: usize);
}

impl Nodes for Vec<Node> {
    fn push(&mut self, node: Node) {
        Vec::push(self, node)
    }

    fn reserve(&mut self, n: usize) {
        self.reserve_exact(n)
    }
}

/// The nodes outside a cluster as named files bring them: a node with a
/// new name is added at once, one named like a node already there waits
/// in `later` to be merged into it (after the file's errors and warnings,
/// as if every node of the file were merged after them). A run of
/// thousands of captures so becomes the list without a second list of it.
struct LooseNodes<'i> {
    list: Vec<Node>,
    index: &'i mut NameIndex,
    later: Vec<Node>,
}

impl Nodes for LooseNodes<'_> {
    fn push(&mut self, node: Node) {
        match self.index.find(&self.list, node_name, &node.name) {
            Some(_) => self.later.push(node),
            None => self.list.push(node),
        }
    }

    fn reserve(&mut self, n: usize) {
        if self.list.capacity() - self.list.len() < n {
            self.list.reserve_exact(n.max(self.list.len() / 2));
        }
    }
}

fn named_node(facts: NodeFacts, path: &str, owner: Option<&str>) -> Node {
    let NodeFacts { name, mut node, .. } = facts;
    let (name, source) = match name {
        Some(Sourced { value, source }) => (value, source),
        None => match owner {
            Some(d) => (d.to_string(), SourceRef::new(path, 0)),
            None => (stem_name(Path::new(path)), SourceRef::new(path, 0)),
        },
    };
    node.name = name;
    node.name_source = Some(source);
    if !node.sources.iter().any(|s| s == path) {
        node.sources.push(path.to_string());
    }
    node
}

fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_lowercase() == b.to_lowercase())
}

/// Positions of the clusters or nodes of a list by lower-cased name, so that
/// merging thousands of them stays linear. Two names that [`same_name`]
/// calls equal have equal lower-cased forms, so the first candidate under
/// the key that [`same_name`] accepts is exactly the element a search from
/// the start of the list would find. The lists only grow (elements are
/// merged into or appended, never removed or renamed), so the index catches
/// up with what was appended since it last looked, whoever appended it.
#[derive(Default)]
pub(crate) struct NameIndex {
    by_lower: HashMap<String, Vec<usize>>,
    indexed: usize,
}

impl NameIndex {
    /// Position of the first element of `list` named like `name`.
    pub(crate) fn find<T>(
        &mut self,
        list: &[T],
        name_of: fn(&T) -> &str,
        name: &str,
    ) -> Option<usize> {
        for (i, x) in list.iter().enumerate().skip(self.indexed) {
            self.by_lower
                .entry(name_of(x).to_lowercase())
                .or_default()
                .push(i);
        }
        self.indexed = list.len();
        self.by_lower
            .get(&name.to_lowercase())?
            .iter()
            .copied()
            .find(|&i| list.get(i).is_some_and(|x| same_name(name_of(x), name)))
    }
}

fn node_name(n: &Node) -> &str {
    &n.name
}

/// [`merge_into`] through an index of `list`.
fn merge_into_indexed(list: &mut Vec<Node>, index: &mut NameIndex, node: Node, log: &mut MergeLog) {
    let at = index.find(list, node_name, &node.name);
    match at.and_then(|i| list.get_mut(i)) {
        Some(existing) => merge_node(existing, node, log),
        None => list.push(node),
    }
}

/// Adds `node` to `list`, merging with a node of the same name.
pub(crate) fn merge_into(list: &mut Vec<Node>, node: Node, log: &mut MergeLog) {
    match list.iter_mut().find(|n| same_name(&n.name, &node.name)) {
        Some(existing) => merge_node(existing, node, log),
        None => list.push(node),
    }
}

/// Fills what `into` lacks from `from`; updates deduplicated by KB. Where
/// the two disagree, `log` gets a warning, and `from`'s OS facts replace
/// `into`'s when its version is the higher one.
fn merge_node(into: &mut Node, from: Node, log: &mut MergeLog) {
    let from_os_wins = log.compare(into, &from);
    let Node {
        name: _,
        name_source,
        os,
        domain,
        boot_time,
        cluster,
        updates,
        other_entries,
        sources,
        state,
        memory,
        vms,
        pending_reboot,
        packages,
        failed_installs,
        protection,
        unread,
        collected_at,
    } = from;
    into.unread.extend(unread);
    for f in failed_installs {
        if !into.failed_installs.iter().any(|x| x.kb == f.kb) {
            into.failed_installs.push(f);
        }
    }
    into.collected_at = CollectedAt::better(into.collected_at, collected_at);
    if into.name_source.is_none() {
        into.name_source = name_source;
    }
    if from_os_wins {
        let older = std::mem::replace(&mut into.os, os);
        fill_os(&mut into.os, older);
    } else {
        fill_os(&mut into.os, os);
    }
    if into.domain.is_none() {
        into.domain = domain;
    }
    if into.boot_time.is_none() {
        into.boot_time = boot_time;
    }
    if into.cluster.is_none() {
        into.cluster = cluster;
    }
    if !updates.is_empty() {
        let mut index = UpdateIndex::of(into);
        for u in updates {
            index.add(into, u);
        }
    }
    for e in other_entries {
        if !into.other_entries.iter().any(|x| x.text == e.text) {
            into.other_entries.push(e);
        }
    }
    for s in sources {
        if !into.sources.contains(&s) {
            into.sources.push(s);
        }
    }
    if into.state.is_none() {
        into.state = state;
    }
    if into.memory.is_none() {
        into.memory = memory;
    }
    if into.vms.is_none() {
        into.vms = vms;
    }
    if into.pending_reboot.is_none() {
        into.pending_reboot = pending_reboot;
    }
    if into.packages.is_none() {
        into.packages = packages;
    }
    let p = &mut into.protection;
    if p.defender_preferences.is_none() {
        p.defender_preferences = protection.defender_preferences;
    }
    if p.defender_status.is_none() {
        p.defender_status = protection.defender_status;
    }
    if p.filters.is_none() {
        p.filters = protection.filters;
    }
    if p.filter_instances.is_none() {
        p.filter_instances = protection.filter_instances;
    }
    if p.products.is_none() {
        p.products = protection.products;
    }
}

/// Fills what `o` lacks from `other`.
fn fill_os(o: &mut OsInfo, other: OsInfo) {
    if o.caption.is_none() {
        o.caption = other.caption;
    }
    // A four-part version (with the UBR) is better than a three-part one.
    match (&o.version, other.version) {
        (None, v) => o.version = v,
        (Some(cur), Some(new))
            if cur.value.len() < 4
                && new.value.len() == 4
                && cur.value.build() == new.value.build() =>
        {
            o.version = Some(new)
        }
        _ => {}
    }
    if o.service_pack.is_none() {
        o.service_pack = other.service_pack;
    }
    if o.architecture.is_none() {
        o.architecture = other.architecture;
    }
    if o.installation_type.is_none() {
        o.installation_type = other.installation_type;
    }
}

pub(crate) fn attach_csv(cluster: &mut Cluster, states: Vec<CsvNodeState>, path: &str) {
    let src = states
        .first()
        .map(|s| s.source.clone())
        .unwrap_or_else(|| SourceRef::new(path, 0));
    match &mut cluster.protection.csv_states {
        Some(Section {
            data: Some(existing),
            ..
        }) => existing.extend(states),
        slot => *slot = Some(Section::ok(states, SourceRef::new(src.file, 0))),
    }
}

/// Merges `c` into `existing`, the cluster of the same name: what
/// `existing` lacks is filled from `c`, nodes are merged by name.
pub(crate) fn merge_cluster_into(existing: &mut Cluster, c: Cluster, log: &mut MergeLog) {
    let Cluster {
        name: _,
        source,
        nodes,
        state,
        protection,
        admin,
    } = c;
    if existing.source.is_none() {
        existing.source = source;
    }
    // The manifest's statements fill what the cluster (from a snapshot
    // or another entry) lacks.
    let a = &mut existing.admin;
    if a.witness.is_none() {
        a.witness = admin.witness;
    }
    for (n, v) in admin.node_votes {
        a.node_votes.entry(n).or_insert(v);
    }
    if a.memory_reserve_bytes.is_none() {
        a.memory_reserve_bytes = admin.memory_reserve_bytes;
    }
    for g in admin.allow_offline_groups {
        if !a.allow_offline_groups.contains(&g) {
            a.allow_offline_groups.push(g);
        }
    }
    for n in nodes {
        merge_into(&mut existing.nodes, n, log);
    }
    if existing.state.is_none() {
        existing.state = state;
    }
    let p = &mut existing.protection;
    if p.compatible_filters.is_none() {
        p.compatible_filters = protection.compatible_filters;
    }
    if p.incompatible_filters.is_none() {
        p.incompatible_filters = protection.incompatible_filters;
    }
    if p.csv_states.is_none() {
        p.csv_states = protection.csv_states;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stem_is_up_to_first_dot() {
        assert_eq!(stem_name(Path::new("/x/HV01.fltmc-instances.txt")), "HV01");
        assert_eq!(stem_name(Path::new(".hidden")), ".hidden");
        assert_eq!(stem_name(Path::new("plain")), "plain");
    }

    /// Merging through the name index gives what the search from the start
    /// gives, also for names whose case-insensitive match is one-sided
    /// (`same_name("\u{212A}", "k")` holds, the other way round not).
    #[test]
    fn indexed_merge_matches_the_search() {
        let names = [
            "HV01",
            "hv01",
            "\u{212A}",
            "k",
            "K",
            "\u{130}",
            "i\u{307}",
            "I",
            "STRASSE",
            "stra\u{df}e",
            "Hv01",
            "\u{212A}",
            "\u{130}",
        ];
        let node = |i: usize, name: &str| Node {
            name: name.to_string(),
            sources: vec![format!("f{i}")],
            ..Node::default()
        };
        let mut searched = Vec::new();
        let mut indexed = Vec::new();
        let mut index = NameIndex::default();
        let log = &mut MergeLog::default();
        for (i, name) in names.iter().enumerate() {
            merge_into(&mut searched, node(i, name), log);
            merge_into_indexed(&mut indexed, &mut index, node(i, name), log);
            // Appended behind the index's back: it catches up.
            if i == 4 {
                searched.push(node(99, "late"));
                indexed.push(node(99, "late"));
            }
        }
        merge_into(&mut searched, node(100, "LATE"), log);
        merge_into_indexed(&mut indexed, &mut index, node(100, "LATE"), log);
        let view = |l: &[Node]| -> Vec<(String, Vec<String>)> {
            l.iter()
                .map(|n| (n.name.clone(), n.sources.clone()))
                .collect()
        };
        assert_eq!(view(&indexed), view(&searched));
        assert_eq!(searched.len(), 7, "{:?}", view(&searched));
    }

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
