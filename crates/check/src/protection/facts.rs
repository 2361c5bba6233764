//! What the inputs say about a node, read the same way by every part of the audit.

use super::matching;
use crate::Evidence;
use lockstep_model::protection::{
    DefenderStatus, FilterDriver, FilterInstance, Section, SectionStatus,
};
use lockstep_model::{Cluster, Node};

pub(super) fn is_cluster_storage(volume: &str) -> bool {
    matching::components(volume)
        .iter()
        .any(|c| c == "clusterstorage")
}

pub(super) fn os_name(build: u32) -> String {
    lockstep_model::windows::server_release_name_of_build(build)
}

pub(super) fn section_problem<T>(s: Option<&Section<T>>, what: &str) -> Result<(), String> {
    match s {
        None => Err(format!("{what} is not in the inputs")),
        Some(s) if s.status != SectionStatus::Ok || s.data.is_none() => {
            let why = match s.status {
                SectionStatus::AccessDenied => "access was denied (not elevated)",
                SectionStatus::NotAvailable => "it was not available",
                _ => "it could not be read",
            };
            Err(match &s.message {
                Some(m) => format!("{what}: {why} ({m})"),
                None => format!("{what}: {why}"),
            })
        }
        Some(_) => Ok(()),
    }
}

pub(super) fn cluster_name(cluster: Option<&Cluster>) -> Option<String> {
    cluster.map(|c| c.name.clone())
}

pub(super) fn os_evidence(node: &Node) -> Option<Evidence> {
    let v = node.os.version.as_ref()?;
    let caption = node
        .os
        .caption
        .as_ref()
        .map(|c| format!("{} ", c.value))
        .unwrap_or_default();
    Some(Evidence {
        source: (&v.source).into(),
        note: format!(
            "OS {caption}version {} ({})",
            v.value,
            os_name(v.value.build())
        ),
    })
}

pub(super) fn defender_status(node: &Node) -> Option<&DefenderStatus> {
    node.protection
        .defender_status
        .as_ref()
        .and_then(Section::data)
}

pub(super) fn is_passive(node: &Node) -> bool {
    defender_status(node).is_some_and(DefenderStatus::is_passive)
}

/// The node's `fltmc filters` rows (none when the section is missing or unreadable).
pub(super) fn fltmc_filters(node: &Node) -> impl Iterator<Item = &FilterDriver> {
    node.protection
        .filters
        .as_ref()
        .and_then(Section::data)
        .into_iter()
        .flatten()
}

/// The node's `fltmc instances` rows (none when the section is missing or unreadable).
pub(super) fn fltmc_instances(node: &Node) -> impl Iterator<Item = &FilterInstance> {
    node.protection
        .filter_instances
        .as_ref()
        .and_then(Section::data)
        .into_iter()
        .flatten()
}

pub(super) fn node_filter_names(node: &Node) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let from_filters = fltmc_filters(node).map(|f| f.name.clone());
    let from_instances = fltmc_instances(node).map(|i| i.filter.clone());
    for n in from_filters.chain(from_instances) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&n)) {
            out.push(n);
        }
    }
    out
}
