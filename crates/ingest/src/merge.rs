//! Merging what files say: a file's content into nodes, clusters and CSV
//! states ([`absorb`]), nodes of one name into one ([`merge_into`]),
//! clusters of one name into one ([`merge_cluster_into`]). Used by the
//! loader for named files and folders, and by fleet manifests.

use crate::consistency::MergeLog;
use crate::formats::{FileContent, NodeFacts};
use crate::outcome::LoadOutcome;
use crate::updates::UpdateIndex;
use lockstep_model::protection::{CsvNodeState, Section};
use lockstep_model::{Cluster, CollectedAt, Node, OsInfo, SourceRef, Sourced};
use std::collections::HashMap;
use std::path::Path;

/// Takes what one file (read as `format`) yields: its nodes into `nodes`
/// (named by their content, else `owner`, else the file name), its
/// clusters to `clusters`, the errors and warnings of its lines into `out`;
/// returns its CSV states.
pub(crate) fn absorb(
    content: FileContent,
    path: &str,
    format: &str,
    owner: Option<&str>,
    nodes: &mut dyn Nodes,
    out: &mut LoadOutcome,
    clusters: &mut dyn FnMut(Cluster, &mut MergeLog),
) -> Vec<CsvNodeState> {
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
                clusters(c, &mut out.log);
            }
        }
        FileContent::CsvStates(states) => return states,
        FileContent::Manifest(text) => out
            .errors
            .push(crate::formats::manifest_not_here(path, &text)),
    }
    Vec::new()
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
pub(crate) struct LooseNodes<'i> {
    pub(crate) list: Vec<Node>,
    pub(crate) index: &'i mut NameIndex,
    pub(crate) later: Vec<Node>,
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

/// File name up to its first dot: `HV01.fltmc-instances.txt` → `HV01`.
pub(crate) fn stem_name(path: &Path) -> String {
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
pub(crate) fn merge_into_indexed(
    list: &mut Vec<Node>,
    index: &mut NameIndex,
    node: Node,
    log: &mut MergeLog,
) {
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
    into.name_source = into.name_source.take().or(name_source);
    if from_os_wins {
        let older = std::mem::replace(&mut into.os, os);
        fill_os(&mut into.os, older);
    } else {
        fill_os(&mut into.os, os);
    }
    into.domain = into.domain.take().or(domain);
    into.boot_time = into.boot_time.take().or(boot_time);
    into.cluster = into.cluster.take().or(cluster);
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
    into.state = into.state.take().or(state);
    into.memory = into.memory.take().or(memory);
    into.vms = into.vms.take().or(vms);
    into.pending_reboot = into.pending_reboot.take().or(pending_reboot);
    into.packages = into.packages.take().or(packages);
    let p = &mut into.protection;
    p.defender_preferences = p
        .defender_preferences
        .take()
        .or(protection.defender_preferences);
    p.defender_status = p.defender_status.take().or(protection.defender_status);
    p.filters = p.filters.take().or(protection.filters);
    p.filter_instances = p.filter_instances.take().or(protection.filter_instances);
    p.products = p.products.take().or(protection.products);
}

/// Fills what `o` lacks from `other`.
fn fill_os(o: &mut OsInfo, other: OsInfo) {
    o.caption = o.caption.take().or(other.caption);
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
    o.service_pack = o.service_pack.take().or(other.service_pack);
    o.architecture = o.architecture.take().or(other.architecture);
    o.installation_type = o.installation_type.take().or(other.installation_type);
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
    existing.source = existing.source.take().or(source);
    // The manifest's statements fill what the cluster (from a snapshot
    // or another entry) lacks.
    let a = &mut existing.admin;
    a.witness = a.witness.take().or(admin.witness);
    for (n, v) in admin.node_votes {
        a.node_votes.entry(n).or_insert(v);
    }
    a.memory_reserve_bytes = a.memory_reserve_bytes.take().or(admin.memory_reserve_bytes);
    for g in admin.allow_offline_groups {
        if !a.allow_offline_groups.contains(&g) {
            a.allow_offline_groups.push(g);
        }
    }
    for n in nodes {
        merge_into(&mut existing.nodes, n, log);
    }
    existing.state = existing.state.take().or(state);
    let p = &mut existing.protection;
    p.compatible_filters = p
        .compatible_filters
        .take()
        .or(protection.compatible_filters);
    p.incompatible_filters = p
        .incompatible_filters
        .take()
        .or(protection.incompatible_filters);
    p.csv_states = p.csv_states.take().or(protection.csv_states);
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
}
