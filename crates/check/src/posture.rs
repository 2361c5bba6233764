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
use lockstep_model::{KbId, Node};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub kb: KbId,
    pub kind: Option<UpdateKind>,
    pub release_date: Option<Date>,
    pub title: Option<String>,
    /// Highest CVE severity on this product.
    pub severity: Option<String>,
    /// Missing updates this one supersedes (folded under it), newest first.
    pub folds: Vec<KbId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductPosture {
    pub product: String,
    /// False for a separately installed product the inventory does not show.
    pub applicable: bool,
    pub missing: Vec<ChainHead>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePosture {
    pub node: String,
    pub product: Option<String>,
    pub as_of: Option<Date>,
    /// Whether the node is on the hotpatch chain.
    pub hotpatch: bool,
    /// The OS product first, then separately installed products.
    pub products: Vec<ProductPosture>,
    /// Why nothing could be judged, when that is the case.
    pub note: Option<String>,
}

fn published_by(k: &dyn Knowledge, kb: KbId, as_of: Option<Date>) -> bool {
    match as_of {
        None => true,
        // An update with no known date cannot be placed before the cut-off.
        Some(d) => k.release_date(kb).is_some_and(|r| r <= d),
    }
}

/// Missing chain heads of one product for a node.
fn product_gaps(
    node: &Node,
    product: &str,
    installed: &HashSet<KbId>,
    hotpatch: bool,
    as_of: Option<Date>,
    k: &dyn Knowledge,
) -> Vec<ChainHead> {
    let candidates: Vec<KbId> = k
        .updates_for(product)
        .into_iter()
        .filter(|kb| published_by(k, *kb, as_of))
        .collect();
    let kinds: HashMap<KbId, Option<UpdateKind>> = candidates
        .iter()
        .map(|kb| (*kb, k.kind(*kb, product)))
        .collect();
    // Months in which a hotpatch exists: on a hotpatch node the normal
    // cumulative update of such a month is not a gap.
    let hotpatch_months: HashSet<(i16, i8)> = candidates
        .iter()
        .filter(|kb| kinds.get(kb).copied().flatten() == Some(UpdateKind::Hotpatch))
        .filter_map(|kb| k.release_date(*kb).map(|d| (d.year(), d.month())))
        .collect();
    let in_scope = |kb: &KbId| -> bool {
        let kind = kinds.get(kb).copied().flatten();
        match kind {
            Some(UpdateKind::Hotpatch) => hotpatch,
            Some(UpdateKind::Cumulative) if hotpatch => k
                .release_date(*kb)
                .is_none_or(|d| !hotpatch_months.contains(&(d.year(), d.month()))),
            _ => true,
        }
    };
    let scope: HashSet<KbId> = candidates.iter().copied().filter(in_scope).collect();

    // Everything reachable from an installed update through "supersedes" edges.
    let mut covered: HashSet<KbId> = HashSet::new();
    let mut stack: Vec<KbId> = installed.iter().copied().collect();
    while let Some(kb) = stack.pop() {
        if !covered.insert(kb) {
            continue;
        }
        for e in k.supersedes(kb, product) {
            if !covered.contains(&e.older) {
                stack.push(e.older);
            }
        }
    }
    let version = node
        .os
        .version
        .as_ref()
        .map(|v| v.value)
        .filter(|v| v.len() == 4);
    let missing: BTreeSet<KbId> = scope
        .iter()
        .copied()
        .filter(|kb| !covered.contains(kb))
        .filter(|kb| match (version, k.fixed_build(*kb, product)) {
            (Some(v), Some(fixed)) => v < fixed,
            _ => true,
        })
        .collect();
    // A head is a missing update that no in-scope candidate supersedes.
    let superseded_in_scope: HashSet<KbId> = scope
        .iter()
        .flat_map(|kb| k.supersedes(*kb, product))
        .filter(|e| scope.contains(&e.newer))
        .map(|e| e.older)
        .collect();
    let mut heads: Vec<ChainHead> = Vec::new();
    for &kb in missing.iter().rev() {
        if superseded_in_scope.contains(&kb) {
            continue;
        }
        let mut folds = Vec::new();
        let mut seen = HashSet::from([kb]);
        let mut stack = vec![kb];
        while let Some(cur) = stack.pop() {
            for e in k.supersedes(cur, product) {
                if missing.contains(&e.older) && seen.insert(e.older) {
                    folds.push(e.older);
                    stack.push(e.older);
                }
            }
        }
        folds.sort_by(|a, b| b.cmp(a));
        heads.push(ChainHead {
            kb,
            kind: kinds.get(&kb).copied().flatten(),
            release_date: k.release_date(kb),
            title: k.title(kb),
            severity: k.max_severity(kb, product),
            folds,
        });
    }
    heads.sort_by(|a, b| b.release_date.cmp(&a.release_date).then(b.kb.cmp(&a.kb)));
    heads
}

pub fn node_posture(node: &Node, as_of: Option<Date>, k: &dyn Knowledge) -> NodePosture {
    let product = k.product_of(&node.os);
    let mut posture = NodePosture {
        node: node.name.clone(),
        product: product.clone(),
        as_of,
        hotpatch: false,
        products: Vec::new(),
        note: None,
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
    let installed: HashSet<KbId> = node.updates.iter().map(|u| u.kb).collect();
    posture.hotpatch = installed
        .iter()
        .any(|kb| k.kind(*kb, &product) == Some(UpdateKind::Hotpatch));
    posture.products.push(ProductPosture {
        missing: product_gaps(node, &product, &installed, posture.hotpatch, as_of, k),
        product: product.clone(),
        applicable: true,
    });
    for companion in k.companion_products(&product) {
        let applicable = installed.iter().any(|kb| k.published_for(*kb, &companion));
        posture.products.push(ProductPosture {
            missing: product_gaps(node, &companion, &installed, false, as_of, k),
            product: companion,
            applicable,
        });
    }
    posture
}
