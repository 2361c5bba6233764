//! Reports over the catalog: `catalog show`, `catalog stats`, `catalog anomalies`.
//!
//! Each report is plain data (serialisable to JSON); the CLI prints it.

use crate::batch::{Severity, SourceKind};
use crate::catalog::{Catalog, Edge, ProductId, Provenance, ReleaseDateSource};
use crate::kind::UpdateKind;
use crate::product::Architecture;
use lockstep_model::{KbId, WinVersion};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An edge with its product named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedEdge {
    pub newer: KbId,
    pub older: KbId,
    pub product: String,
    pub sources: Vec<Provenance>,
}

impl NamedEdge {
    fn new(c: &Catalog, e: &Edge) -> Self {
        Self {
            newer: e.newer,
            older: e.older,
            product: c.product_name(e.product).to_string(),
            sources: e.sources.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ShowProduct {
    pub product: String,
    /// False when the KB only appears in an edge on this product.
    pub published: bool,
    pub architectures: Vec<Architecture>,
    pub fixed_build: Option<WinVersion>,
    pub subtype: Option<String>,
    pub restart_required: Option<String>,
    pub sources: Vec<Provenance>,
    /// Every edge below the KB (what it supersedes, transitively).
    pub supersedes: Vec<NamedEdge>,
    /// Every edge above the KB (what supersedes it, transitively).
    pub superseded_by: Vec<NamedEdge>,
    /// Updates this one covers only where it is installed (a servicing
    /// model's installed-only rule), and those that cover it so.
    pub covers_when_installed: Vec<NamedEdge>,
    pub covered_when_installed_by: Vec<NamedEdge>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShowReport {
    pub kb: KbId,
    pub known: bool,
    pub kind: Option<UpdateKind>,
    pub title: Option<String>,
    pub release_date: Option<jiff::civil::Date>,
    pub release_date_source: Option<ReleaseDateSource>,
    /// The CVRF document the release date comes from.
    pub release_document: Option<String>,
    pub kind_note: Option<String>,
    pub max_severity: Severity,
    pub cve_count: usize,
    pub products: Vec<ShowProduct>,
}

/// Everything the catalog knows about one KB, per product.
pub fn show(c: &Catalog, kb: KbId) -> ShowReport {
    let update = c.update(kb);
    let mut products: Vec<ShowProduct> = Vec::new();
    let mut seen: HashSet<ProductId> = HashSet::new();
    let mut add = |pid: ProductId, published: Option<&crate::catalog::UpdateProduct>| {
        if !seen.insert(pid) {
            return;
        }
        let supersedes: Vec<NamedEdge> = c
            .supersedes_chain(pid, kb)
            .into_iter()
            .map(|e| NamedEdge::new(c, e))
            .collect();
        let superseded_by: Vec<NamedEdge> = c
            .superseded_by_chain(pid, kb)
            .into_iter()
            .map(|e| NamedEdge::new(c, e))
            .collect();
        products.push(ShowProduct {
            product: c.product_name(pid).to_string(),
            published: published.is_some(),
            architectures: published
                .map(|p| p.architectures.clone())
                .unwrap_or_default(),
            fixed_build: published.and_then(|p| p.fixed_build),
            subtype: published.and_then(|p| p.subtype.clone()),
            restart_required: published.and_then(|p| p.restart_required.clone()),
            sources: published.map(|p| p.sources.clone()).unwrap_or_default(),
            supersedes,
            superseded_by,
            covers_when_installed: c
                .covers_when_installed(pid, kb)
                .iter()
                .map(|e| NamedEdge::new(c, e))
                .collect(),
            covered_when_installed_by: c
                .covered_when_installed_by(pid, kb)
                .iter()
                .map(|e| NamedEdge::new(c, e))
                .collect(),
        });
    };
    if let Some(u) = update {
        for p in &u.products {
            add(p.product, Some(p));
        }
    }
    // Products where the KB is only named by an edge (an older KB outside the data).
    for (pid, _) in c.products() {
        if !c.superseded_by(pid, kb).is_empty() || !c.supersedes(pid, kb).is_empty() {
            add(pid, None);
        }
    }
    products.sort_by(|a, b| a.product.cmp(&b.product));
    ShowReport {
        kb,
        known: update.is_some(),
        kind: update.map(|u| u.kind),
        title: update.and_then(|u| u.title.clone()),
        release_date: update.and_then(|u| u.release_date),
        release_date_source: update.and_then(|u| u.release_date_source),
        release_document: update.and_then(|u| u.release_document.clone()),
        kind_note: update.and_then(|u| u.kind_note.clone()),
        max_severity: update.map(|u| u.max_severity).unwrap_or_default(),
        cve_count: update.map(|u| u.cves.len()).unwrap_or(0),
        products,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StatsReport {
    pub documents: Vec<Provenance>,
    pub products: usize,
    pub updates: usize,
    pub updates_by_kind: BTreeMap<String, usize>,
    pub edges: usize,
    pub edges_by_source: BTreeMap<String, usize>,
    pub kb_cves: usize,
    pub earliest_release: Option<jiff::civil::Date>,
    pub latest_release: Option<jiff::civil::Date>,
}

pub fn stats(c: &Catalog) -> StatsReport {
    let mut updates_by_kind = BTreeMap::new();
    let mut kb_cves = 0;
    let mut earliest: Option<jiff::civil::Date> = None;
    let mut latest: Option<jiff::civil::Date> = None;
    for u in c.updates() {
        *updates_by_kind.entry(u.kind.to_string()).or_insert(0) += 1;
        kb_cves += u.cves.len();
        if let Some(d) = u.release_date {
            earliest = Some(earliest.map_or(d, |e| e.min(d)));
            latest = Some(latest.map_or(d, |e| e.max(d)));
        }
    }
    let mut edges = 0;
    let mut edges_by_source = BTreeMap::new();
    for (pid, _) in c.products() {
        for kb in c.kbs_with_edges(pid) {
            for e in c.supersedes(pid, kb) {
                edges += 1;
                let mut kinds: Vec<&str> = e.sources.iter().map(|s| s.kind.as_str()).collect();
                kinds.sort();
                kinds.dedup();
                *edges_by_source.entry(kinds.join("+")).or_insert(0) += 1;
            }
        }
    }
    let mut documents = c.documents().to_vec();
    documents.sort();
    StatsReport {
        documents,
        // Products that still carry data (a replaced document can leave names behind).
        products: c
            .products()
            .filter(|(p, _)| c.updates_for(*p).next().is_some() || !c.kbs_with_edges(*p).is_empty())
            .count(),
        updates: updates_by_kind.values().sum(),
        updates_by_kind,
        edges,
        edges_by_source,
        kb_cves,
        earliest_release: earliest,
        latest_release: latest,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Anomaly {
    /// KBs that supersede each other in a loop on one product.
    Cycle { product: String, kbs: Vec<KbId> },
    /// An edge to a KB the catalog has no data about at all.
    MissingKb { edge: NamedEdge },
    /// An edge to a KB that exists, but not for this product.
    CrossProduct {
        edge: NamedEdge,
        older_products: Vec<String>,
    },
    /// An edge between updates of different kinds (hotpatch ↔ cumulative, .NET ↔ OS, ...).
    CrossKind {
        edge: NamedEdge,
        newer_kind: UpdateKind,
        older_kind: UpdateKind,
    },
    /// Nothing supersedes `kb` on `product`, yet `newer` (same kind, same
    /// product, released later) exists: the chain is broken or the KB is a
    /// separate chain.
    ChainBreak {
        product: String,
        kb: KbId,
        kind: UpdateKind,
        newer: KbId,
    },
    /// Both sources know both KBs on the product, but only one states the edge.
    SourceConflict {
        edge: NamedEdge,
        stated_by: SourceKind,
        not_stated_by: SourceKind,
    },
}

impl Anomaly {
    pub fn label(&self) -> &'static str {
        match self {
            Anomaly::Cycle { .. } => "cycle",
            Anomaly::MissingKb { .. } => "missing-kb",
            Anomaly::CrossProduct { .. } => "cross-product",
            Anomaly::CrossKind { .. } => "cross-kind",
            Anomaly::ChainBreak { .. } => "chain-break",
            Anomaly::SourceConflict { .. } => "source-conflict",
        }
    }
}

/// Finds anomalies, optionally for one product only.
pub fn anomalies(c: &Catalog, only: Option<ProductId>) -> Vec<Anomaly> {
    let mut out = Vec::new();
    let products: Vec<ProductId> = match only {
        Some(p) => vec![p],
        None => c.products().map(|(p, _)| p).collect(),
    };
    for pid in products {
        let name = c.product_name(pid).to_string();
        let kbs = c.kbs_with_edges(pid);
        // Cycles: strongly connected components with more than one KB.
        for scc in strongly_connected(c, pid, &kbs) {
            if scc.len() > 1 {
                out.push(Anomaly::Cycle {
                    product: name.clone(),
                    kbs: scc,
                });
            }
        }
        for kb in &kbs {
            for e in c.supersedes(pid, *kb) {
                let named = || NamedEdge::new(c, e);
                match (c.update(e.newer), c.update(e.older)) {
                    (_, None) => out.push(Anomaly::MissingKb { edge: named() }),
                    (Some(n), Some(o)) => {
                        if !c.is_published_for(e.older, pid) {
                            let mut older_products: Vec<String> = o
                                .products
                                .iter()
                                .map(|p| c.product_name(p.product).to_string())
                                .collect();
                            older_products.sort();
                            out.push(Anomaly::CrossProduct {
                                edge: named(),
                                older_products,
                            });
                        }
                        if n.kind != o.kind {
                            out.push(Anomaly::CrossKind {
                                edge: named(),
                                newer_kind: n.kind,
                                older_kind: o.kind,
                            });
                        }
                    }
                    (None, Some(_)) => {}
                }
                // Source conflicts: both kinds publish both KBs here, one is silent.
                // A model-derived edge states nothing about the sources.
                let stated: HashSet<SourceKind> = e
                    .sources
                    .iter()
                    .map(|s| s.kind)
                    .filter(|k| *k != SourceKind::Model)
                    .collect();
                if stated.len() == 1 {
                    let sources_of = |k: KbId| -> HashSet<SourceKind> {
                        c.update(k)
                            .and_then(|u| u.product(pid))
                            .map(|p| p.sources.iter().map(|s| s.kind).collect())
                            .unwrap_or_default()
                    };
                    let (a, b) = (sources_of(e.newer), sources_of(e.older));
                    for other in [SourceKind::Cvrf, SourceKind::Wesng] {
                        if !stated.contains(&other)
                            && a.contains(&other)
                            && b.contains(&other)
                            && let Some(s) = stated.iter().next()
                        {
                            {
                                out.push(Anomaly::SourceConflict {
                                    edge: named(),
                                    stated_by: *s,
                                    not_stated_by: other,
                                });
                            }
                        }
                    }
                }
            }
        }
        // Chain breaks: per kind, the latest update of that kind on the product;
        // every other update of the kind must be superseded by something.
        let mut latest: HashMap<UpdateKind, (jiff::civil::Date, KbId)> = HashMap::new();
        for kb in c.updates_for(pid) {
            if let Some(u) = c.update(kb)
                && let Some(d) = u.release_date
            {
                let e = latest.entry(u.kind).or_insert((d, kb));
                if (d, kb) > *e {
                    *e = (d, kb);
                }
            }
        }
        for kb in c.updates_for(pid) {
            let Some(u) = c.update(kb) else { continue };
            let Some(d) = u.release_date else { continue };
            if !matches!(
                u.kind,
                UpdateKind::Cumulative
                    | UpdateKind::MonthlyRollup
                    | UpdateKind::Hotpatch
                    | UpdateKind::DotNet
            ) {
                continue;
            }
            if let Some((ld, lkb)) = latest.get(&u.kind)
                && *ld > d
                && c.superseded_by(pid, kb).is_empty()
            {
                out.push(Anomaly::ChainBreak {
                    product: name.clone(),
                    kb,
                    kind: u.kind,
                    newer: *lkb,
                });
            }
        }
    }
    out
}

/// Tarjan's algorithm over the product's supersedence graph (iterative, so
/// long chains cannot overflow the stack).
fn strongly_connected(c: &Catalog, pid: ProductId, kbs: &[KbId]) -> Vec<Vec<KbId>> {
    let mut index: HashMap<KbId, usize> = HashMap::new();
    let mut low: HashMap<KbId, usize> = HashMap::new();
    let mut on_stack: HashSet<KbId> = HashSet::new();
    let mut stack: Vec<KbId> = Vec::new();
    let mut out = Vec::new();
    let mut next_index = 0;
    for &root in kbs {
        if index.contains_key(&root) {
            continue;
        }
        // (node, next edge position)
        let mut work: Vec<(KbId, usize)> = vec![(root, 0)];
        index.insert(root, next_index);
        low.insert(root, next_index);
        next_index += 1;
        stack.push(root);
        on_stack.insert(root);
        while let Some((v, i)) = work.pop() {
            let edges = c.supersedes(pid, v);
            if let Some(e) = edges.get(i) {
                work.push((v, i + 1));
                let w = e.older;
                if let std::collections::hash_map::Entry::Vacant(slot) = index.entry(w) {
                    slot.insert(next_index);
                    low.insert(w, next_index);
                    next_index += 1;
                    stack.push(w);
                    on_stack.insert(w);
                    work.push((w, 0));
                } else if on_stack.contains(&w) {
                    let lw = index.get(&w).copied().unwrap_or(0);
                    let lv = low.get(&v).copied().unwrap_or(0);
                    low.insert(v, lv.min(lw));
                }
            } else {
                let lv = low.get(&v).copied().unwrap_or(0);
                if let Some((parent, _)) = work.last() {
                    let lp = low.get(parent).copied().unwrap_or(0);
                    low.insert(*parent, lp.min(lv));
                }
                if Some(&lv) == index.get(&v) {
                    let mut scc = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack.remove(&w);
                        scc.push(w);
                        if w == v {
                            break;
                        }
                    }
                    scc.sort();
                    out.push(scc);
                }
            }
        }
    }
    out
}
