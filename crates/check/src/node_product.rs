//! Which catalog product a node runs. Its own captures usually say (the OS
//! caption and build, through `data/windows-builds.toml`); a node known only
//! by its Get-HotFix or wmic qfe list names no OS. Then lockstep takes the
//! product its cluster peers agree on, or failing that the one product all
//! its installed updates are published for, and says which it did.

use crate::knowledge::Knowledge;
use lockstep_model::{Node, OsInfo};

/// The servicing product of a node, as the catalog names products.
pub fn product_of_os(os: &OsInfo) -> Option<String> {
    let caption = os
        .caption
        .as_ref()
        .map(|c| c.value.as_str())
        .or(os.installation_type.as_deref());
    let build = os.build()?;
    lockstep_model::windows::product_for(caption, build, os.service_pack.as_deref())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeProduct {
    pub product: String,
    /// How the product was inferred; `None` when the node's captures name it.
    pub evidence: Option<String>,
}

/// The product of `node`, a member of a cluster with `peers` (the node itself
/// may be among them).
pub fn node_product(node: &Node, peers: &[Node], k: &dyn Knowledge) -> Option<NodeProduct> {
    if let Some(product) = k.product_of(&node.os) {
        return Some(NodeProduct {
            product,
            evidence: None,
        });
    }
    // A node whose OS is known but not mapped keeps that fact: only a node
    // whose captures name no OS at all borrows a product.
    if node.os.build().is_some() {
        return None;
    }
    let others: Vec<(&str, String)> = peers
        .iter()
        .filter(|p| p.name != node.name)
        .filter_map(|p| k.product_of(&p.os).map(|pr| (p.name.as_str(), pr)))
        .collect();
    if let Some((_, first)) = others.first()
        && others.iter().all(|(_, p)| p == first)
    {
        let names: Vec<&str> = others.iter().map(|(n, _)| *n).collect();
        return Some(NodeProduct {
            product: first.clone(),
            evidence: Some(format!(
                "its captures name no OS; its cluster peers {} all run {first}",
                names.join(", ")
            )),
        });
    }
    from_updates(node, k)
}

/// The one OS product every installed update the catalog knows is
/// published for.
fn from_updates(node: &Node, k: &dyn Knowledge) -> Option<NodeProduct> {
    if !k.has_catalog() {
        return None;
    }
    let mut products: Vec<&str> = lockstep_model::windows::releases()
        .iter()
        .filter_map(|r| r.product.as_deref())
        .collect();
    products.sort_unstable();
    products.dedup();
    let mut left: Option<Vec<&str>> = None;
    let mut witnesses = Vec::new();
    for u in &node.updates {
        let of: Vec<&str> = products
            .iter()
            .copied()
            .filter(|p| k.published_for(u.kb, p))
            .collect();
        if of.is_empty() {
            continue;
        }
        witnesses.push(u.kb);
        left = Some(match left {
            None => of,
            Some(prev) => prev.into_iter().filter(|p| of.contains(p)).collect(),
        });
    }
    match left.as_deref() {
        Some([one]) => {
            let shown: Vec<String> = witnesses.iter().take(3).map(|kb| kb.to_string()).collect();
            let more = witnesses.len().saturating_sub(3);
            Some(NodeProduct {
                product: one.to_string(),
                evidence: Some(format!(
                    "its captures name no OS; its installed updates {}{} are published for {one} only",
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )),
            })
        }
        _ => None,
    }
}
