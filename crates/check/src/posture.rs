//! Per-node security posture: what the node really lacks against the catalog
//! for its exact product.
//!
//! The candidates are the updates published for the node's product (by
//! `as_of` when given: a capture from 2021 is judged against what existed
//! then). An update is *covered* when the node has it, when an installed
//! update supersedes it (transitively, on this product), or when the node's
//! build revision is at or past its FixedBuild. What is left is missing, and
//! is reported as chain heads: the newest missing update of each chain, with
//! the missing updates it supersedes folded under it. Installing the head
//! closes the whole chain.
//!
//! Hotpatch and normal cumulative updates are separate chains (MSRC lists no
//! edges between them): a node that is not on hotpatch is never told to
//! install a hotpatch, and a node on hotpatch is not told to install the
//! normal cumulative update of a month its hotpatch covers.
//!
//! Updates of separately installed products (.NET Framework on this OS,
//! browsers) are judged apart and marked applicable only when the inventory
//! shows the product (an installed update of it).

use crate::knowledge::{Knowledge, UpdateKind};
use jiff::civil::Date;
use lockstep_model::KbMap;
use lockstep_model::{KbId, Node, WinVersion};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub kb: KbId,
    pub kind: Option<UpdateKind>,
    #[serde(serialize_with = "lockstep_model::date_serde::option")]
    pub release_date: Option<Date>,
    /// Shared with the product's graph: a head is listed on thousands of
    /// nodes of a fleet.
    pub title: Option<Arc<str>>,
    /// Highest CVE severity on this product.
    pub severity: Option<Arc<str>>,
    /// How many CVEs it fixes, when the catalog says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cves: Option<u32>,
    /// Missing updates this one supersedes (folded under it), newest first.
    pub folds: Vec<KbId>,
    /// Why it is missing, in the admin's words: what the node has of this
    /// kind instead, and which servicing models link the folded updates.
    #[serde(default)]
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductPosture {
    pub product: Arc<str>,
    /// False for a separately installed product the inventory does not show.
    pub applicable: bool,
    pub missing: Vec<ChainHead>,
    /// For a separately serviced product: why the node is taken to have it
    /// (an installed update only that product receives, or an in-box
    /// component of the OS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePosture {
    pub node: String,
    pub product: Option<String>,
    /// How the product was inferred when the node's captures name no OS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_evidence: Option<String>,
    pub as_of: Option<Date>,
    /// Whether the node is on the hotpatch chain.
    pub hotpatch: bool,
    /// The OS product first, then separately installed products the
    /// inventory shows (an installed update of them).
    pub products: Vec<ProductPosture>,
    /// Separately installed products published for this OS that the
    /// inventory does not show; their chains are listed once per report
    /// (`CheckReport::companion_chains`), not per node.
    #[serde(default)]
    pub companions_not_shown: Vec<String>,
    /// Why nothing could be judged, when that is the case.
    pub note: Option<String>,
    /// Updates the node installed after the as-of date: not counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installed_after: Vec<KbId>,
}

fn published_by(k: &dyn Knowledge, kb: KbId, as_of: Option<Date>) -> bool {
    match as_of {
        None => true,
        // An update with no known date cannot be placed before the cut-off.
        Some(d) => k.release_date(kb).is_some_and(|r| r <= d),
    }
}

/// One product's updates and supersedence edges as integer indices, built
/// once per (product, as-of) and shared by every node that runs the
/// product: the per-node work is then a walk over integers.
pub struct ProductGraph {
    product: Arc<str>,
    kbs: Vec<KbId>,
    index: KbMap<u32>,
    /// Published for the product by the as-of date.
    candidate: Vec<bool>,
    kind: Vec<Option<UpdateKind>>,
    date: Vec<Option<Date>>,
    fixed_build: Vec<Option<WinVersion>>,
    /// `older[i]`: the updates `kbs[i]` supersedes.
    older: Vec<Vec<u32>>,
    /// `older_model[i][j]`: the servicing model that alone derives the edge
    /// `kbs[i]` → `older[i][j]` (no source document states it).
    older_model: Vec<Vec<Option<Arc<str>>>>,
    /// `covers_installed[i]`: the updates `kbs[i]` covers only where it is
    /// installed (a servicing model's installed-only rule).
    covers_installed: Vec<Vec<u32>>,
    /// Published for the product (not only named by an edge).
    published: Vec<bool>,
    /// Normal cumulative updates in a month that has a hotpatch.
    in_hotpatch_month: Vec<bool>,
    title: Vec<Option<Arc<str>>>,
    severity: Vec<Option<Arc<str>>>,
    cves: Vec<Option<u32>>,
    /// `superseded[hotpatch as usize][i]`: an in-scope candidate supersedes
    /// `kbs[i]`, directly or through updates that are not candidates (a
    /// preview, an update of another kind); the same for every node, so
    /// computed once.
    superseded: [Vec<bool>; 2],
}

impl ProductGraph {
    /// `os`: for a separately serviced product, the node's OS product: its
    /// updates that the OS product also receives (a Windows 10 cumulative
    /// update is listed under "Internet Explorer 11 on Windows 10" and
    /// ".NET Framework 3.5 on Windows 10" too) are the OS posture's to
    /// judge, never this product's.
    pub fn build(
        product: &str,
        os: Option<&str>,
        as_of: Option<Date>,
        k: &dyn Knowledge,
    ) -> ProductGraph {
        let mut g = ProductGraph {
            product: Arc::from(product),
            kbs: Vec::new(),
            index: KbMap::default(),
            candidate: Vec::new(),
            kind: Vec::new(),
            date: Vec::new(),
            fixed_build: Vec::new(),
            older: Vec::new(),
            older_model: Vec::new(),
            covers_installed: Vec::new(),
            published: Vec::new(),
            in_hotpatch_month: Vec::new(),
            title: Vec::new(),
            severity: Vec::new(),
            cves: Vec::new(),
            superseded: [Vec::new(), Vec::new()],
        };
        let mut queue: Vec<KbId> = k.updates_for(product);
        let published: HashSet<KbId> = queue.iter().copied().collect();
        // Every KB reachable through edges belongs to the graph, published
        // for the product or not: coverage is transitive through it.
        let mut i = 0;
        while i < queue.len() {
            let kb = queue[i];
            i += 1;
            if g.index.contains_key(&kb) {
                continue;
            }
            let id = g.kbs.len() as u32;
            g.index.insert(kb, id);
            g.kbs.push(kb);
            let kind = k.kind(kb, product);
            // Previews and setup dynamic updates are never a security gap.
            let security = !matches!(
                kind,
                Some(UpdateKind::Preview) | Some(UpdateKind::SetupDynamic)
            );
            // An OS update, or an update an OS update contains (the IE
            // cumulative update of a Patch Tuesday inside that day's rollup):
            // judged with the OS, never as this product's own gap.
            let os_update = os.is_some_and(|os| {
                k.published_for(kb, os)
                    || k.superseded_by(kb, product)
                        .iter()
                        .any(|e| !is_wrong(e) && k.published_for(e.newer, os))
            });
            g.published.push(published.contains(&kb));
            g.candidate.push(
                published.contains(&kb) && security && !os_update && published_by(k, kb, as_of),
            );
            g.kind.push(kind);
            g.date.push(k.release_date(kb));
            g.fixed_build.push(k.fixed_build(kb, product));
            g.older.push(Vec::new());
            for e in k.supersedes(kb, product) {
                queue.push(e.older);
            }
        }
        for (i, &kb) in g.kbs.iter().enumerate() {
            // An edge a known issue calls wrong covers nothing.
            let (olders, models): (Vec<u32>, Vec<Option<Arc<str>>>) = k
                .supersedes(kb, product)
                .iter()
                .filter(|e| !is_wrong(e))
                .filter_map(|e| {
                    let o = g.index.get(&e.older).copied()?;
                    let derived = e
                        .sources
                        .iter()
                        .all(|s| s.starts_with("model:"))
                        .then(|| e.sources.first())
                        .flatten()
                        .map(|s| Arc::from(s.trim_start_matches("model:")));
                    Some((o, derived))
                })
                .unzip();
            g.older[i] = olders;
            g.older_model.push(models);
        }
        g.covers_installed = vec![Vec::new(); g.kbs.len()];
        for (i, &kb) in g.kbs.iter().enumerate() {
            for e in k.covered_when_installed_by(kb, product) {
                if is_wrong(&e) {
                    continue;
                }
                if let Some(&n) = g.index.get(&e.newer) {
                    g.covers_installed[n as usize].push(i as u32);
                }
            }
        }
        let hotpatch_months: HashSet<(i16, i8)> = (0..g.kbs.len())
            .filter(|&i| g.candidate[i] && g.kind[i] == Some(UpdateKind::Hotpatch))
            .filter_map(|i| g.date[i].map(|d| (d.year(), d.month())))
            .collect();
        g.in_hotpatch_month = (0..g.kbs.len())
            .map(|i| {
                g.kind[i] == Some(UpdateKind::Cumulative)
                    && g.date[i].is_some_and(|d| hotpatch_months.contains(&(d.year(), d.month())))
            })
            .collect();
        g.title = g.kbs.iter().map(|&kb| k.title(kb).map(Arc::from)).collect();
        g.severity = g
            .kbs
            .iter()
            .map(|&kb| k.max_severity(kb, product).map(Arc::from))
            .collect();
        g.cves = g
            .kbs
            .iter()
            .map(|&kb| k.cve_count(kb).map(|n| n as u32))
            .collect();
        for hotpatch in [false, true] {
            let mut superseded = vec![false; g.kbs.len()];
            let mut stack: Vec<u32> = (0..g.kbs.len())
                .filter(|&i| g.in_scope(i, hotpatch))
                .flat_map(|i| g.older[i].iter().copied())
                .collect();
            while let Some(o) = stack.pop() {
                if !std::mem::replace(&mut superseded[o as usize], true) {
                    stack.extend(g.older[o as usize].iter().copied());
                }
            }
            g.superseded[hotpatch as usize] = superseded;
        }
        g
    }

    fn in_scope(&self, i: usize, hotpatch: bool) -> bool {
        self.candidate[i]
            && match self.kind[i] {
                Some(UpdateKind::Hotpatch) => hotpatch,
                Some(UpdateKind::Cumulative) if hotpatch => !self.in_hotpatch_month[i],
                _ => true,
            }
    }

    /// The graph's indices of these installed updates.
    fn installed_ids(&self, installed: &[KbId]) -> Vec<u32> {
        installed
            .iter()
            .filter_map(|kb| self.index.get(kb).copied())
            .collect()
    }

    /// Missing chain heads for a node with these installed updates (graph
    /// indices, from [`Self::installed_ids`]).
    fn gaps(
        &self,
        installed: &[u32],
        version: Option<WinVersion>,
        hotpatch: bool,
    ) -> Vec<ChainHead> {
        let n = self.kbs.len();
        SCRATCH.with_borrow_mut(|scratch| self.gaps_in(scratch, n, installed, version, hotpatch))
    }

    fn gaps_in(
        &self,
        scratch: &mut Scratch,
        n: usize,
        installed: &[u32],
        version: Option<WinVersion>,
        hotpatch: bool,
    ) -> Vec<ChainHead> {
        let Scratch {
            covered,
            missing,
            folded_by,
            stack,
        } = scratch;
        // Covered: reachable from an installed update through "supersedes".
        // A cumulative update whose fixed build the node's build has reached
        // is installed in effect, whatever the hotfix list says; an installed
        // update also covers what it covers only where it is installed.
        covered.clear();
        covered.resize(n, false);
        stack.clear();
        stack.extend_from_slice(installed);
        if let Some(v) = version {
            stack.extend((0..n as u32).filter(|&i| {
                self.fixed_build[i as usize].is_some_and(|f| same_build(f, v) && f <= v)
            }));
        }
        while let Some(i) = stack.pop() {
            let i = i as usize;
            if covered[i] {
                continue;
            }
            covered[i] = true;
            // What an update covers where it is installed holds for every
            // update the installed one contains.
            stack.extend(
                self.older[i]
                    .iter()
                    .chain(&self.covers_installed[i])
                    .copied()
                    .filter(|&o| !covered[o as usize]),
            );
        }
        missing.clear();
        missing.extend((0..n).map(|i| {
            self.in_scope(i, hotpatch)
                && !covered[i]
                && match (version, self.fixed_build[i]) {
                    (Some(v), Some(fixed)) => v < fixed,
                    _ => true,
                }
        }));
        // A head is a missing update that no in-scope candidate supersedes.
        let superseded = &self.superseded[hotpatch as usize];
        let mut heads = Vec::new();
        // `folded_by[o] == i`: already folded under head `i` (one pass per head).
        folded_by.clear();
        folded_by.resize(n, u32::MAX);
        for i in 0..n {
            if !missing[i] || superseded[i] {
                continue;
            }
            let mut folds = Vec::new();
            folded_by[i] = i as u32;
            stack.clear();
            stack.push(i as u32);
            // Through updates that are not missing but not covered either
            // (a preview, an update outside the as-of date) down to the
            // missing ones; covered ones cover everything below them.
            let mut models: Vec<Arc<str>> = Vec::new();
            while let Some(cur) = stack.pop() {
                let cur = cur as usize;
                for (j, &o) in self.older[cur].iter().enumerate() {
                    if !covered[o as usize] && folded_by[o as usize] != i as u32 {
                        folded_by[o as usize] = i as u32;
                        if missing[o as usize] {
                            folds.push(self.kbs[o as usize]);
                        }
                        if let Some(Some(m)) = self.older_model.get(cur).and_then(|v| v.get(j))
                            && !models.contains(m)
                        {
                            models.push(m.clone());
                        }
                        stack.push(o);
                    }
                }
            }
            folds.sort_by(|a, b| b.cmp(a));
            let kb = self.kbs[i];
            let why = self.why(i, installed, folds.len(), &models);
            heads.push(ChainHead {
                kb,
                kind: self.kind[i],
                release_date: self.date[i],
                title: self.title[i].clone(),
                severity: self.severity[i].clone(),
                cves: self.cves[i],
                folds,
                why,
            });
        }
        heads.sort_by(|a, b| b.release_date.cmp(&a.release_date).then(b.kb.cmp(&a.kb)));
        heads
    }
}

fn is_wrong(e: &crate::knowledge::EdgeInfo) -> bool {
    e.verdict
        .as_ref()
        .is_some_and(|v| v.kind == crate::knowledge::VerdictKind::Wrong)
}

impl ProductGraph {
    /// "The newest monthly rollup installed is KB4467107 of 2018-11-13; it
    /// contains the 5 older missing updates listed (servicing model
    /// windows-monthly-rollup)."
    fn why(&self, head: usize, installed: &[u32], folds: usize, models: &[Arc<str>]) -> String {
        let kind = self.kind[head];
        let what = kind_words(kind);
        // The usual case: the node has the update this one replaces.
        if let Some(&o) = self.older[head].iter().find(|o| installed.contains(o)) {
            let mut out = format!(
                "{} replaces {}, which is installed on the node",
                self.kbs[head], self.kbs[o as usize]
            );
            if folds > 0 {
                out.push_str(&format!(
                    "; it contains the {folds} older missing update(s) listed"
                ));
            }
            return out;
        }
        let newest = installed
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| self.kind[i] == kind)
            .max_by_key(|&i| (self.date[i], self.kbs[i]));
        let mut out = match newest {
            Some(i) => match self.date[i] {
                Some(d) => format!(
                    "the newest {what} installed on the node is {} of {d}, and nothing installed supersedes {}",
                    self.kbs[i], self.kbs[head]
                ),
                None => format!(
                    "the newest {what} installed on the node is {}, and nothing installed supersedes {}",
                    self.kbs[i], self.kbs[head]
                ),
            },
            None => format!(
                "no {what} of {} is installed on the node, and nothing installed supersedes {}",
                self.product, self.kbs[head]
            ),
        };
        if folds > 0 {
            out.push_str(&format!(
                "; it contains the {folds} older missing update(s) listed"
            ));
            if !models.is_empty() {
                let names: Vec<&str> = models.iter().map(|m| m.as_ref()).collect();
                out.push_str(&format!(
                    " (chain derived by servicing model {})",
                    names.join(", ")
                ));
            }
        }
        out
    }
}

fn kind_words(kind: Option<UpdateKind>) -> &'static str {
    match kind {
        Some(UpdateKind::Cumulative) => "security or cumulative update",
        Some(UpdateKind::MonthlyRollup) => "monthly rollup",
        Some(UpdateKind::SecurityOnly) => "security-only update",
        Some(UpdateKind::Hotpatch) => "hotpatch",
        Some(UpdateKind::ServicingStack) => "servicing stack update",
        Some(UpdateKind::DotNet) => ".NET update",
        Some(UpdateKind::Browser) => "browser update",
        Some(UpdateKind::Preview) => "preview",
        Some(UpdateKind::SetupDynamic) => "setup update",
        Some(UpdateKind::Other) | None => "update",
    }
}

/// Whether two versions are the same Windows build (a fixed build is only
/// comparable with the node's version within one build: 10.0.17763.x).
fn same_build(a: WinVersion, b: WinVersion) -> bool {
    a.major() == b.major() && a.minor() == b.minor() && a.build() == b.build()
}

/// Per-thread buffers for [`ProductGraph::gaps`], which runs for every
/// node and product of a fleet: reused instead of allocated and zeroed each
/// time.
#[derive(Default)]
struct Scratch {
    covered: Vec<bool>,
    missing: Vec<bool>,
    folded_by: Vec<u32>,
    stack: Vec<u32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Graphs keyed by (product, the OS it is judged on for a separately
/// serviced product, as-of date).
type GraphCache = Mutex<HashMap<(String, Option<String>, Option<Date>), Arc<ProductGraph>>>;

/// Builds each product's graph once and hands it to every node (and
/// thread) that needs it.
#[derive(Default)]
pub struct PostureEngine {
    graphs: GraphCache,
    companions: Mutex<HashMap<String, Arc<Vec<String>>>>,
}

impl PostureEngine {
    pub fn graph(
        &self,
        product: &str,
        os: Option<&str>,
        as_of: Option<Date>,
        k: &dyn Knowledge,
    ) -> Arc<ProductGraph> {
        let key = (product.to_string(), os.map(str::to_string), as_of);
        if let Some(g) = self.graphs.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return g;
        }
        // Built outside the lock: two threads may build the same graph once
        // each; the result is identical and the second insert is dropped.
        let g = Arc::new(ProductGraph::build(product, os, as_of, k));
        if let Ok(mut m) = self.graphs.lock() {
            m.entry(key).or_insert_with(|| g.clone());
        }
        g
    }

    fn companions(&self, product: &str, k: &dyn Knowledge) -> Arc<Vec<String>> {
        if let Some(c) = self
            .companions
            .lock()
            .ok()
            .and_then(|m| m.get(product).cloned())
        {
            return c;
        }
        let c = Arc::new(k.companion_products(product));
        if let Ok(mut m) = self.companions.lock() {
            m.entry(product.to_string()).or_insert_with(|| c.clone());
        }
        c
    }

    pub fn node_posture(&self, node: &Node, as_of: Option<Date>, k: &dyn Knowledge) -> NodePosture {
        self.node_posture_in(node, &[], as_of, k)
    }

    /// [`Self::node_posture`] for a node of a cluster: a node whose captures
    /// name no OS takes its product from its peers or its updates
    /// ([`crate::node_product`]).
    pub fn node_posture_in(
        &self,
        node: &Node,
        peers: &[Node],
        as_of: Option<Date>,
        k: &dyn Knowledge,
    ) -> NodePosture {
        let found = crate::node_product::node_product(node, peers, k);
        let product = found.as_ref().map(|f| f.product.clone());
        let mut posture = NodePosture {
            node: node.name.clone(),
            product: product.clone(),
            product_evidence: found.and_then(|f| f.evidence),
            as_of,
            hotpatch: false,
            products: Vec::new(),
            companions_not_shown: Vec::new(),
            note: None,
            installed_after: Vec::new(),
        };
        if !k.has_catalog() {
            posture.note = Some(
                "no catalog loaded: missing security updates cannot be judged (run `lockstep catalog update` or `lockstep catalog import`)"
                    .into(),
            );
            return posture;
        }
        let Some(product) = product else {
            posture.note = Some("the node's OS cannot be matched to a catalog product".into());
            return posture;
        };
        if let Some(u) = node.unread.iter().find(|u| u.section == "hotfixes") {
            posture.note = Some(format!(
                "the node's installed updates could not be read ({}{}): nothing can be judged",
                u.status.words(),
                u.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ));
            return posture;
        }
        // Judged as of a date, an update the node installed after it was
        // not there yet (a capture taken a day after the scan it is
        // compared with lists what that scan offered).
        let mut installed: Vec<KbId> = Vec::with_capacity(node.updates.len());
        for u in &node.updates {
            match (as_of, u.installed_on) {
                (Some(d), Some(on)) if on > d => posture.installed_after.push(u.kb),
                _ => installed.push(u.kb),
            }
        }
        installed.sort_unstable();
        installed.dedup();
        let version = node
            .os
            .version
            .as_ref()
            .map(|v| v.value)
            .filter(|v| v.len() == 4);
        let graph = self.graph(&product, None, as_of, k);
        let ids = graph.installed_ids(&installed);
        posture.hotpatch = ids
            .iter()
            .any(|&i| graph.kind[i as usize] == Some(UpdateKind::Hotpatch));
        posture.products.push(ProductPosture {
            missing: graph.gaps(&ids, version, posture.hotpatch),
            product: graph.product.clone(),
            applicable: true,
            shown_by: None,
        });
        for companion in self.companions(&product, k).iter() {
            let g = self.graph(companion, Some(&product), as_of, k);
            let ids = g.installed_ids(&installed);
            let shown_by = match ids
                .iter()
                .map(|&i| i as usize)
                .find(|&i| g.published[i] && !k.published_for(g.kbs[i], &product))
            {
                Some(i) => Some(format!(
                    "{} is installed, an update of {companion} that {product} itself does not receive",
                    g.kbs[i]
                )),
                None => crate::inbox::inbox_component(companion, &product, &installed).map(|c| {
                    if c.installed_by.is_empty() {
                        format!(
                            "{} ships inside {product} (data/inbox-components.toml){}",
                            c.product,
                            if c.removed_by.is_empty() {
                                String::new()
                            } else {
                                format!(" and {} is not installed", c.removed_by.join(", "))
                            }
                        )
                    } else {
                        format!(
                            "the {} package ({}) is installed (data/inbox-components.toml)",
                            c.product,
                            c.installed_by.join(" or ")
                        )
                    }
                }),
            };
            let Some(shown_by) = shown_by else {
                posture.companions_not_shown.push(companion.clone());
                continue;
            };
            posture.products.push(ProductPosture {
                missing: g.gaps(&ids, None, false),
                product: g.product.clone(),
                applicable: true,
                shown_by: Some(shown_by),
            });
        }
        posture
    }
}

impl PostureEngine {
    /// A product's chain heads for a host that has none of its updates:
    /// what a separately installed product would lack if it were installed.
    pub fn product_chains(
        &self,
        product: &str,
        as_of: Option<Date>,
        k: &dyn Knowledge,
    ) -> ProductPosture {
        let g = self.graph(product, None, as_of, k);
        ProductPosture {
            missing: g.gaps(&[], None, false),
            product: g.product.clone(),
            applicable: false,
            shown_by: None,
        }
    }
}

/// One node's posture, without sharing graphs (tests, single nodes).
pub fn node_posture(node: &Node, as_of: Option<Date>, k: &dyn Knowledge) -> NodePosture {
    PostureEngine::default().node_posture(node, as_of, k)
}
