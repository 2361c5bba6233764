//! The security posture as every report shows it: one summary line per
//! node, then each missing update once per group of nodes with the same
//! gaps, per product, with its title, classification, severity, CVE count,
//! release date and links; updates only Extended Security Updates
//! customers can install are marked and counted apart.

use lockstep_check::knowledge::UpdateKind;
use lockstep_check::lifecycle;
use lockstep_check::posture::{ChainHead, NodePosture, ProductPosture};
use lockstep_check::posture_findings::{GapCounts, catalog_url, support_url};
use serde::Serialize;

/// An update kind in the words of Microsoft's catalogs (the report's
/// "classification").
pub fn kind_name(kind: UpdateKind) -> &'static str {
    match kind {
        // MSRC's SubType for Windows 10/11 and Server 2016+ cumulative
        // updates and for plain security updates alike.
        UpdateKind::Cumulative => "Security update",
        UpdateKind::MonthlyRollup => "Security monthly quality rollup",
        UpdateKind::SecurityOnly => "Security-only update",
        UpdateKind::Hotpatch => "Security hotpatch update",
        UpdateKind::ServicingStack => "Servicing stack update",
        UpdateKind::Preview => "Preview (non-security)",
        UpdateKind::SetupDynamic => "Setup dynamic update",
        UpdateKind::DotNet => ".NET Framework update",
        UpdateKind::Browser => "Browser update",
        UpdateKind::Other => "Update",
    }
}

/// One missing update, as a row.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateRow {
    pub kb: String,
    pub title: Option<String>,
    /// The classification, in Microsoft's words.
    pub kind: Option<&'static str>,
    pub severity: Option<String>,
    pub cves: Option<u32>,
    pub released: Option<String>,
    pub esu_only: bool,
    /// Older missing updates of its chain that installing it closes.
    pub folds: usize,
    pub catalog_url: String,
    pub support_url: String,
}

impl UpdateRow {
    fn of(h: &ChainHead, os: Option<&str>) -> UpdateRow {
        UpdateRow {
            kb: h.kb.to_string(),
            title: h.title.as_deref().map(str::to_string),
            kind: h.kind.map(kind_name),
            severity: h.severity.as_deref().map(str::to_string),
            cves: h.cves,
            released: h.release_date.map(|d| d.to_string()),
            esu_only: lifecycle::esu_only(os, h.release_date),
            folds: h.folds.len(),
            catalog_url: catalog_url(h.kb),
            support_url: support_url(h.kb),
        }
    }
}

/// What one product lacks on a group of nodes.
#[derive(Debug, Clone, Serialize)]
pub struct ProductGaps {
    pub product: String,
    /// Why the nodes are taken to have a separately serviced product.
    pub shown_by: Option<String>,
    /// Every customer can install these; newest first.
    pub rows: Vec<UpdateRow>,
    /// Released after the OS's support ended; newest first.
    pub esu_rows: Vec<UpdateRow>,
}

/// Nodes with the same gaps, and what they lack.
#[derive(Debug, Clone, Serialize)]
pub struct PostureGroup {
    pub nodes: Vec<String>,
    pub os: Option<String>,
    pub products: Vec<ProductGaps>,
    /// "ESU only: released after … ended on …", when some update is.
    pub esu_note: Option<String>,
}

/// One line about a node: what it lacks, or why that cannot be said.
pub fn node_summary(p: &NodePosture) -> String {
    if let Some(note) = &p.note {
        return note.clone();
    }
    let os = p.product.as_deref();
    let as_of = p.as_of.map(|d| format!(" as of {d}")).unwrap_or_default();
    let mut products = p
        .products
        .iter()
        .filter(|x| x.applicable && !x.missing.is_empty());
    let first = p.products.first().filter(|x| x.applicable);
    let mut s = match first.filter(|x| !x.missing.is_empty()) {
        Some(x) => {
            products.next();
            format!("{}{as_of}", GapCounts::of(&x.missing, os).summary())
        }
        None => format!("nothing missing for the OS in the catalog{as_of}"),
    };
    let others: Vec<&ProductPosture> = products.collect();
    if !others.is_empty() {
        let counts = GapCounts::of(others.iter().flat_map(|x| &x.missing), os);
        s.push_str(&format!(
            "; {} for {} separately installed product(s)",
            counts.summary(),
            others.len()
        ));
    }
    s
}

/// The nodes grouped by identical gaps (in node order), each group's
/// products with what they lack. Nodes that lack nothing, or cannot be
/// judged, are in no group: their summary line says it all.
pub fn groups(postures: &[NodePosture]) -> Vec<PostureGroup> {
    let mut out: Vec<(&NodePosture, PostureGroup)> = Vec::new();
    for p in postures {
        if p.note.is_some() || p.products.iter().all(|x| x.missing.is_empty()) {
            continue;
        }
        if let Some((_, g)) = out
            .iter_mut()
            .find(|(q, _)| q.product == p.product && q.products == p.products)
        {
            g.nodes.push(p.node.clone());
            continue;
        }
        let os = p.product.as_deref();
        let products: Vec<ProductGaps> = p
            .products
            .iter()
            .filter(|x| x.applicable && !x.missing.is_empty())
            .map(|x| {
                let (esu, rows): (Vec<UpdateRow>, Vec<UpdateRow>) = x
                    .missing
                    .iter()
                    .map(|h| UpdateRow::of(h, os))
                    .partition(|r| r.esu_only);
                ProductGaps {
                    product: x.product.to_string(),
                    shown_by: x.shown_by.clone(),
                    rows,
                    esu_rows: esu,
                }
            })
            .collect();
        let counts = GapCounts::of(
            p.products
                .iter()
                .filter(|x| x.applicable)
                .flat_map(|x| &x.missing),
            os,
        );
        out.push((
            p,
            PostureGroup {
                nodes: vec![p.node.clone()],
                os: p.product.clone(),
                products,
                esu_note: counts.esu_sentence(),
            },
        ));
    }
    out.into_iter().map(|(_, g)| g).collect()
}
