//! Drift: the nodes × updates matrix of one cluster, every difference
//! classified and explained.
//!
//! For every KB installed on some nodes of a cluster but not on others, each
//! node that lacks it gets one [`DriftClass`]:
//!
//! * **covered** — an update installed on that node supersedes it on that
//!   node's product (the chain is shown, each edge with its sources), or the
//!   node's build revision is at or past the KB's FixedBuild;
//! * **suspect** — covered only through an edge that a known issue marks
//!   incomplete for this product, or that the sources disagree on;
//! * **missing** — a real gap;
//! * **not-applicable** — the catalog does not publish the KB for that
//!   node's product;
//! * **unknown** — no catalog data for the KB (or the node's OS is not a
//!   product lockstep can name).
//!
//! The chain search walks "superseded by" edges upwards from the absent KB
//! until it meets an update the node has (breadth first, so the shortest
//! chain is shown). Edges a known issue calls *wrong* are not walked.
//! Identical situations (same KB, class, chain) are grouped so the report
//! says "KB2607712 absent on HV03, HV04; covered by KB2616676 …" once.

use crate::knowledge::{EdgeInfo, Knowledge, VerdictKind};
use lockstep_model::{Cluster, KbId, Node, SourceRef, WinVersion};
use lockstep_model::{KbMap, KbSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftClass {
    Missing,
    Suspect,
    Unknown,
    NotApplicable,
    Covered,
}

impl DriftClass {
    pub fn label(self) -> &'static str {
        match self {
            DriftClass::Missing => "missing",
            DriftClass::Suspect => "suspect",
            DriftClass::Unknown => "unknown",
            DriftClass::NotApplicable => "not-applicable",
            DriftClass::Covered => "covered",
        }
    }
}

/// Why an absent KB got its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsentVerdict {
    pub class: DriftClass,
    /// Edges from the absent KB up to an installed update, oldest first
    /// (`chain[0].older` is the absent KB; the last `newer` is installed).
    pub chain: Vec<EdgeInfo>,
    /// Set when the node's build revision covers the KB's FixedBuild.
    pub covered_by_build: Option<BuildCover>,
    pub product: Option<String>,
    /// One sentence in the admin's words.
    pub reason: String,
    /// The rest of the explanation (the chain, the known issue's verdict);
    /// kept apart so a cluster-wide note can go between the two.
    pub reason_tail: String,
    pub known_issues: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildCover {
    pub fixed_build: WinVersion,
    pub node_version: WinVersion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Cell {
    Present {
        #[serde(serialize_with = "lockstep_model::date_serde::option")]
        installed_on: Option<jiff::civil::Date>,
        source: SourceRef,
    },
    Absent {
        class: DriftClass,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRow {
    pub kb: KbId,
    pub title: Option<String>,
    /// One cell per node, in the order of [`ClusterDrift::nodes`].
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSummary {
    pub name: String,
    pub os: Option<String>,
    pub version: Option<String>,
    pub product: Option<String>,
    pub updates: usize,
    pub sources: Vec<String>,
}

/// Nodes lacking one KB for the same reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftGroup {
    pub kb: KbId,
    pub class: DriftClass,
    pub absent_on: Vec<String>,
    pub present_on: Vec<String>,
    pub product: Option<String>,
    pub chain: Vec<EdgeInfo>,
    pub covered_by_build: Option<BuildCover>,
    pub known_issues: Vec<String>,
    /// "KB2607712 absent on HV03, HV04; covered by KB2616676 (installed on all 4 nodes) — …"
    pub summary: String,
    /// Evidence: where each present node's install was read.
    pub evidence: Vec<(String, SourceRef)>,
}

/// Will Test-Cluster's "Validate Software Update Levels" warn?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationVerdict {
    pub will_warn: bool,
    /// The KBs that are not installed on every node.
    pub kbs: Vec<KbId>,
    /// KBs whose absence is a real or suspected security gap.
    pub gap_kbs: Vec<KbId>,
    pub explanation: String,
    pub remedy: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterDrift {
    pub cluster: String,
    pub nodes: Vec<NodeSummary>,
    /// Updates present on every node.
    pub common_updates: usize,
    /// Only the KBs that differ.
    pub rows: Vec<DriftRow>,
    pub groups: Vec<DriftGroup>,
    pub validation: ValidationVerdict,
}

/// Classifies why `node` lacks `kb`.
pub fn classify_absent(node: &Node, kb: KbId, k: &dyn Knowledge) -> AbsentVerdict {
    let installed: KbSet = node.updates.iter().map(|u| u.kb).collect();
    classify_absent_with(node, &installed, kb, k)
}

/// [`classify_absent`] with the node's installed KBs already collected.
pub fn classify_absent_with(
    node: &Node,
    installed: &KbSet,
    kb: KbId,
    k: &dyn Knowledge,
) -> AbsentVerdict {
    classify_absent_for(
        node,
        k.product_of(&node.os),
        installed,
        kb,
        k,
        &mut EdgeCache::default(),
    )
}

impl AbsentVerdict {
    /// A verdict without a chain, a build that covers it or known issues.
    fn plain(class: DriftClass, product: Option<String>, reason: String) -> AbsentVerdict {
        AbsentVerdict {
            class,
            chain: Vec::new(),
            covered_by_build: None,
            product,
            reason,
            reason_tail: String::new(),
            known_issues: Vec::new(),
        }
    }
}

/// [`classify_absent_with`] with the node's product already named (a
/// cluster's drift classifies many KBs per node).
fn classify_absent_for(
    node: &Node,
    product: Option<String>,
    installed: &KbSet,
    kb: KbId,
    k: &dyn Knowledge,
    cache: &mut EdgeCache,
) -> AbsentVerdict {
    if let Some(u) = node.unread("hotfixes") {
        let reason = format!(
            "the installed updates of {} could not be read ({}{})",
            node.name,
            u.status.words(),
            u.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
        return AbsentVerdict::plain(DriftClass::Unknown, product, reason);
    }
    let Some(product) = product else {
        let reason = format!(
            "{} cannot be matched to a catalog product ({})",
            node.name,
            match (node.os.caption.as_ref(), node.os.version.as_ref()) {
                (Some(c), Some(v)) => format!("OS {} version {}", c.value.trim(), v.value),
                (Some(c), None) => format!("OS {}, version unknown", c.value.trim()),
                (None, Some(v)) => format!("OS version {}", v.value),
                (None, None) => "its captures name no OS".to_string(),
            }
        );
        return AbsentVerdict::plain(DriftClass::Unknown, None, reason);
    };
    // An update of a product the OS ships or the node shows (Flash on
    // Windows 10, IE 11 where its package is installed) is judged on that
    // product: absent there, it is missing, not "a different product".
    let product = serviced_product(node, &product, installed, kb, k).unwrap_or(product);
    if let Some(chain) = find_chain(kb, &product, installed, k, cache) {
        return chain_verdict(kb, product, chain);
    }
    if !k.kb_known(kb) {
        let reason = if k.has_catalog() {
            format!("the catalog has no data about {kb}")
        } else {
            format!("no catalog loaded: whether an installed update covers {kb} cannot be told")
        };
        return AbsentVerdict::plain(DriftClass::Unknown, Some(product), reason);
    }
    if !k.published_for(kb, &product) {
        let reason = format!("{kb} is not published for {product}");
        return AbsentVerdict::plain(DriftClass::NotApplicable, Some(product), reason);
    }
    if let (Some(fixed), Some(version)) = (
        k.fixed_build(kb, &product),
        node.os
            .version
            .as_ref()
            .map(|v| v.value)
            .filter(|v| v.len() == 4),
    ) && version >= fixed
    {
        let reason = format!("build {version} is at or past {kb}'s fixed build {fixed}");
        return AbsentVerdict {
            covered_by_build: Some(BuildCover {
                fixed_build: fixed,
                node_version: version,
            }),
            ..AbsentVerdict::plain(DriftClass::Covered, Some(product), reason)
        };
    }
    let reason = format!("no installed update supersedes {kb} on {product}");
    AbsentVerdict::plain(DriftClass::Missing, Some(product), reason)
}

/// The verdict on an absent `kb` that `chain` leads from to an installed
/// update: covered, or suspect when an edge of it is in doubt.
fn chain_verdict(kb: KbId, product: String, chain: Vec<EdgeInfo>) -> AbsentVerdict {
    let known_issues: Vec<String> = chain
        .iter()
        .filter_map(|e| e.verdict.as_ref().map(|v| v.known_issue.clone()))
        .collect();
    let weak = chain.iter().find(|e| {
        e.disputed.is_some()
            || e.verdict
                .as_ref()
                .is_some_and(|v| v.kind == VerdictKind::Incomplete)
    });
    let top = chain.last().map(|e| e.newer).unwrap_or(kb);
    let (class, reason) = match weak {
        Some(e) => (
            DriftClass::Suspect,
            format!(
                "covered by {top} only through {} → {}, which {}",
                e.newer,
                e.older,
                match (&e.verdict, &e.disputed) {
                    (Some(v), _) if v.kind == VerdictKind::Incomplete => format!(
                        "known issue {} marks incomplete on {product}: {}",
                        v.known_issue, v.note
                    ),
                    (_, Some(d)) => format!("the sources disagree on: {d}"),
                    _ => "is in doubt".to_string(),
                }
            ),
        ),
        None => (DriftClass::Covered, format!("covered by {top}")),
    };
    let mut reason_tail = format!(", chain {}", chain_text(&chain));
    if let Some(v) = chain.iter().find_map(|e| e.verdict.as_ref())
        && v.kind == VerdictKind::Intended
    {
        reason_tail.push_str(&format!(
            " — supersedence intended on {product} (known issue {}: {})",
            v.known_issue, v.note
        ));
    }
    AbsentVerdict {
        class,
        chain,
        covered_by_build: None,
        product: Some(product),
        reason,
        reason_tail,
        known_issues,
    }
}

/// The separately serviced product that publishes `kb` and that `node`
/// has, when the OS product itself does not publish it.
fn serviced_product(
    node: &Node,
    os: &str,
    installed: &KbSet,
    kb: KbId,
    k: &dyn Knowledge,
) -> Option<String> {
    if !k.has_catalog() || k.published_for(kb, os) {
        return None;
    }
    let kbs: Vec<KbId> = installed.iter().copied().collect();
    k.companion_products(os).into_iter().find(|c| {
        k.published_for(kb, c)
            && (crate::inbox::inbox_component(c, os, &kbs).is_some()
                || node
                    .updates
                    .iter()
                    .any(|u| k.published_for(u.kb, c) && !k.published_for(u.kb, os)))
    })
}

/// "Superseded by" edges already asked for, per (product, KB): the nodes of
/// a cluster lack the same KBs and their searches climb the same chains,
/// so one cluster asks the knowledge layer once per KB instead of once per
/// node and search.
#[derive(Default)]
struct EdgeCache {
    up: HashMap<String, KbMap<Rc<[EdgeInfo]>>>,
}

impl EdgeCache {
    fn superseded_by(&mut self, kb: KbId, product: &str, k: &dyn Knowledge) -> Rc<[EdgeInfo]> {
        if !self.up.contains_key(product) {
            self.up.insert(product.to_string(), KbMap::default());
        }
        let Some(by_kb) = self.up.get_mut(product) else {
            return k.superseded_by(kb, product).into();
        };
        by_kb
            .entry(kb)
            .or_insert_with(|| {
                // Installed-only edges lead up too: a search only ends at an
                // installed update, where they hold.
                let mut up = k.superseded_by(kb, product);
                up.extend(k.covered_when_installed_by(kb, product));
                up.into()
            })
            .clone()
    }
}

/// Breadth-first search from `kb` up "superseded by" edges to an installed KB.
fn find_chain(
    kb: KbId,
    product: &str,
    installed: &KbSet,
    k: &dyn Knowledge,
    cache: &mut EdgeCache,
) -> Option<Vec<EdgeInfo>> {
    // Where each reached KB came from: the edge list it is in and its
    // position (edges are cloned only for the chain that is found).
    let mut came_from: KbMap<(Rc<[EdgeInfo]>, usize)> = KbMap::default();
    let mut queue = VecDeque::from([kb]);
    let mut seen = KbSet::default();
    seen.insert(kb);
    while let Some(cur) = queue.pop_front() {
        let edges = cache.superseded_by(cur, product, k);
        for (i, edge) in edges.iter().enumerate() {
            if edge
                .verdict
                .as_ref()
                .is_some_and(|v| v.kind == VerdictKind::Wrong)
            {
                continue;
            }
            let next = edge.newer;
            if !seen.insert(next) {
                continue;
            }
            came_from.insert(next, (edges.clone(), i));
            if installed.contains(&next) {
                let mut chain = Vec::new();
                let mut at = next;
                while at != kb {
                    let (list, i) = came_from.remove(&at)?;
                    let e = list.get(i)?.clone();
                    at = e.older;
                    chain.push(e);
                }
                chain.reverse();
                return Some(chain);
            }
            queue.push_back(next);
        }
    }
    None
}

/// `KB2607712 ← KB2616676 (known-issue:LOCKSTEP-2011-0001)`.
pub fn chain_text(chain: &[EdgeInfo]) -> String {
    let mut s = String::new();
    for (i, e) in chain.iter().enumerate() {
        if i == 0 {
            s.push_str(&e.older.to_string());
        }
        s.push_str(&format!(" ← {} ({})", e.newer, e.sources.join(", ")));
    }
    s
}

fn node_summary(node: &Node, product: Option<String>) -> NodeSummary {
    NodeSummary {
        name: node.name.clone(),
        os: node.os.caption.as_ref().map(|c| c.value.trim().to_string()),
        version: node.os.version.as_ref().map(|v| v.value.to_string()),
        product,
        updates: node.updates.len(),
        sources: node.sources.clone(),
    }
}

fn join_names(names: &[String]) -> String {
    names.join(", ")
}

/// The drift of one cluster.
pub fn cluster_drift(cluster: &Cluster, k: &dyn Knowledge) -> ClusterDrift {
    let nodes: Vec<&Node> = cluster.nodes.iter().collect();
    let mut all: BTreeMap<KbId, usize> = BTreeMap::new();
    for n in &nodes {
        for u in &n.updates {
            *all.entry(u.kb).or_default() += 1;
        }
    }
    let common_updates = all.values().filter(|c| **c == nodes.len()).count();
    // Per node: KB → its installed update, and the product, looked up once.
    let installed: Vec<KbMap<&lockstep_model::InstalledUpdate>> = nodes
        .iter()
        .map(|n| n.updates.iter().rev().map(|u| (u.kb, u)).collect())
        .collect();
    let installed_sets: Vec<KbSet> = installed
        .iter()
        .map(|m| m.keys().copied().collect())
        .collect();
    // A node whose captures name no OS takes its peers' product, or the one
    // its updates belong to (crate::node_product).
    let products: Vec<Option<String>> = nodes
        .iter()
        .map(|n| crate::node_product::node_product(n, &cluster.nodes, k).map(|p| p.product))
        .collect();
    let mut cache = EdgeCache::default();
    let mut rows = Vec::new();
    let mut groups: Vec<DriftGroup> = Vec::new();
    for (&kb, &count) in &all {
        if count == nodes.len() {
            continue;
        }
        let mut cells = Vec::new();
        let mut present_on = Vec::new();
        let mut evidence = Vec::new();
        let mut by_reason: BTreeMap<(DriftClass, String), (AbsentVerdict, Vec<String>)> =
            BTreeMap::new();
        for (ni, n) in nodes.iter().enumerate() {
            match installed[ni].get(&kb) {
                Some(u) => {
                    cells.push(Cell::Present {
                        installed_on: u.installed_on,
                        source: u.source.clone(),
                    });
                    present_on.push(n.name.clone());
                    evidence.push((n.name.clone(), u.source.clone()));
                }
                None => {
                    let v = classify_absent_for(
                        n,
                        products[ni].clone(),
                        &installed_sets[ni],
                        kb,
                        k,
                        &mut cache,
                    );
                    cells.push(Cell::Absent { class: v.class });
                    let key = (v.class, v.reason.clone());
                    by_reason
                        .entry(key)
                        .or_insert_with(|| (v, Vec::new()))
                        .1
                        .push(n.name.clone());
                }
            }
        }
        for ((class, _), (v, absent_on)) in by_reason {
            let top_installed = v.chain.last().map(|e| e.newer);
            let top_note = top_installed
                .map(|t| {
                    let have = installed_sets.iter().filter(|s| s.contains(&t)).count();
                    if have == nodes.len() {
                        format!(" ({t} installed on all {} nodes)", nodes.len())
                    } else {
                        String::new()
                    }
                })
                .unwrap_or_default();
            let summary = format!(
                "{kb} absent on {}; {}{}{}",
                join_names(&absent_on),
                v.reason,
                top_note,
                v.reason_tail
            );
            groups.push(DriftGroup {
                kb,
                class,
                absent_on,
                present_on: present_on.clone(),
                product: v.product,
                chain: v.chain,
                covered_by_build: v.covered_by_build,
                known_issues: v.known_issues,
                summary,
                evidence: evidence.clone(),
            });
        }
        rows.push(DriftRow {
            kb,
            title: k.title(kb),
            cells,
        });
    }
    let kbs: Vec<KbId> = rows.iter().map(|r| r.kb).collect();
    let mut gap_kbs: Vec<KbId> = groups
        .iter()
        .filter(|g| matches!(g.class, DriftClass::Missing | DriftClass::Suspect))
        .map(|g| g.kb)
        .collect();
    gap_kbs.dedup();
    // A shell word: the admin pastes this path into a command line.
    let input = cluster
        .source
        .as_ref()
        .map(|s| lockstep_model::quote::path_word(&s.file))
        .unwrap_or_else(|| "<inputs>".to_string());
    let validation = validation_verdict(&cluster.name, &input, &kbs, &gap_kbs, &groups);
    ClusterDrift {
        cluster: cluster.name.clone(),
        nodes: nodes
            .iter()
            .zip(&products)
            .map(|(n, p)| node_summary(n, p.clone()))
            .collect(),
        common_updates,
        rows,
        groups,
        validation,
    }
}

fn validation_verdict(
    cluster: &str,
    input: &str,
    kbs: &[KbId],
    gap_kbs: &[KbId],
    groups: &[DriftGroup],
) -> ValidationVerdict {
    if kbs.is_empty() {
        return ValidationVerdict {
            will_warn: false,
            kbs: Vec::new(),
            gap_kbs: Vec::new(),
            explanation: format!(
                "All nodes of {cluster} report the same installed updates: \"Validate Software Update Levels\" will pass."
            ),
            remedy: String::new(),
        };
    }
    let list = kbs
        .iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let unknown = groups.iter().any(|g| g.class == DriftClass::Unknown);
    let security = if !gap_kbs.is_empty() {
        format!(
            "{} of them {} a security gap: {}.",
            gap_kbs.len(),
            if gap_kbs.len() == 1 { "is" } else { "are" },
            gap_kbs
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else if unknown {
        "None is a known security gap, but some could not be judged (see unknown).".to_string()
    } else if kbs.len() == 1 {
        "It is not a security gap: it is covered on the nodes that lack it.".to_string()
    } else {
        "None of them is a security gap: every absent update is covered on the nodes that lack it."
            .to_string()
    };
    ValidationVerdict {
        will_warn: true,
        kbs: kbs.to_vec(),
        gap_kbs: gap_kbs.to_vec(),
        explanation: format!(
            "Cluster validation (Test-Cluster, \"Validate Software Update Levels\") will warn about {cluster}: {} not installed on every node ({list}). {security}",
            if kbs.len() == 1 {
                "1 update is"
            } else {
                "updates are"
            }
        ),
        remedy: format!(
            "To make validation pass, converge the nodes: `lockstep plan {cluster_arg} --target converge` gives the ordered steps (uninstall the superseding update, install the older one, reinstall), one drained node at a time.{close}",
            cluster_arg = input,
            close = if gap_kbs.is_empty() {
                ""
            } else {
                " To close only the security gaps, use `--target secure`."
            }
        ),
    }
}
