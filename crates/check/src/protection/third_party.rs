//! Third-party anti-virus: which product scans when Defender is passive.

use super::facts::{cluster_name, defender_status, node_filter_names};
use super::minifilters::MinifilterTable;
use super::needs::{display_value, exclusion_item, needs};
use super::roles::Roles;
use super::rules::Rules;
use crate::{Evidence, Finding, FindingCode, Fix, Severity};
use lockstep_model::protection::Section;
use lockstep_model::{Cluster, Node};
use std::collections::BTreeSet;

/// Words that mark an installed product as the scanner itself rather than
/// a vendor's agent or management tool ("McAfee Agent").
const SCANNER_WORDS: &[&str] = &[
    "virusscan",
    "antivirus",
    "anti-virus",
    "endpoint",
    "security",
    "protection",
    "sensor",
    "falcon",
    "sentinel",
    "cortex",
];

pub(super) fn third_party_names(node: &Node) -> Option<String> {
    let table = MinifilterTable::builtin();
    let vendors: BTreeSet<String> = table
        .filter
        .iter()
        .filter(|f| !f.is_microsoft())
        .map(|f| f.vendor.to_ascii_lowercase())
        .collect();
    let shown = |p: &lockstep_model::protection::InstalledProduct| match &p.version {
        Some(v) => format!("{} {v}", p.name),
        None => p.name.clone(),
    };
    let products = node.protection.products.as_ref().and_then(Section::data);
    let by_vendor: Vec<&lockstep_model::protection::InstalledProduct> = products
        .into_iter()
        .flatten()
        .filter(|p| {
            let hay = format!("{} {}", p.name, p.vendor.as_deref().unwrap_or_default())
                .to_ascii_lowercase();
            vendors.iter().any(|v| hay.contains(v.as_str()))
        })
        .collect();
    let scanners: Vec<String> = by_vendor
        .iter()
        .filter(|p| {
            let n = p.name.to_ascii_lowercase();
            SCANNER_WORDS.iter().any(|w| n.contains(w))
        })
        .map(|p| shown(p))
        .collect();
    let mut names = if scanners.is_empty() {
        by_vendor.iter().map(|p| shown(p)).collect()
    } else {
        scanners
    };
    if names.is_empty() {
        for f in node_filter_names(node) {
            if let Some(k) = table.get(&f).filter(|k| !k.is_microsoft()) {
                let s = format!("{} ({})", k.product, k.name);
                if !names.contains(&s) {
                    names.push(s);
                }
            }
        }
    }
    (!names.is_empty()).then(|| names.join(", "))
}

pub(super) fn passive_finding(
    node: &Node,
    cluster: Option<&Cluster>,
    roles: &Roles,
    rules: &Rules,
) -> Option<Finding> {
    let s = defender_status(node).filter(|s| s.is_passive())?;
    let mode = s.am_running_mode.clone().unwrap_or_default();
    let product = third_party_names(node);
    let needs = needs(node, cluster, roles, rules);
    let mut detail = format!(
        "Microsoft Defender Antivirus runs in {mode} on {}: it does not scan files in real time; {} does. Defender's exclusions and its automatic server-role exclusions do not protect Hyper-V or the cluster from that product.",
        node.name,
        product
            .clone()
            .unwrap_or_else(|| "another anti-virus product (not named in the inputs)".into())
    );
    if !needs.is_empty() {
        let list: Vec<String> = needs
            .iter()
            .map(|n| {
                format!(
                    "{} {}",
                    n.rule.kind.as_str(),
                    display_value(n.rule.kind, &n.value)
                )
            })
            .collect();
        detail.push_str(&format!(
            "\nConfigure these exclusions in that product: {}.",
            list.join("; ")
        ));
    }
    Some(Finding {
        code: FindingCode::AvPassiveMode,
        severity: Severity::Info,
        cluster: cluster_name(cluster),
        nodes: vec![node.name.clone()],
        title: format!(
            "{}: Defender is in {mode}; {} is in charge of real-time scanning",
            node.name,
            product.unwrap_or_else(|| "another product".into())
        ),
        detail,
        evidence: vec![Evidence {
            source: (&s.source).into(),
            note: format!("Get-MpComputerStatus AMRunningMode {mode}"),
        }],
        fix: Some(Fix {
            text: "Apply the Hyper-V and cluster exclusions in the product that is in charge, following its vendor's guidance for Hyper-V hosts and Cluster Shared Volumes.".into(),
            commands: Vec::new(),
        }),
        known_issues: Vec::new(),
        items: needs.iter().map(|n| exclusion_item(n, &node.name)).collect(),
    })
}
