//! Roles: why the audit treats a node as a Hyper-V host, a cluster node, a CSV user.

use super::facts::{fltmc_instances, is_cluster_storage};
use super::rules::AppliesTo;
use lockstep_model::protection::Section;
use lockstep_model::{Cluster, Node};
use std::collections::BTreeSet;

/// Why the audit treats a node as a Hyper-V host, a cluster node, a CSV user.
#[derive(Debug, Clone, Default)]
pub(super) struct Roles {
    pub(super) hyperv: Option<String>,
    pub(super) cluster: Option<String>,
    pub(super) csv: Option<String>,
}

impl Roles {
    pub(super) fn of(node: &Node, cluster: Option<&Cluster>) -> Roles {
        let csv = csv_evidence(node, cluster);
        let cluster_why = cluster.and_then(|c| {
            if let Some(why) = &csv {
                Some(why.clone())
            } else if c.state.is_some() {
                Some(format!("it is a node of cluster {} (snapshot)", c.name))
            } else {
                node.cluster
                    .as_ref()
                    .map(|name| format!("the inputs name it a node of cluster {name}"))
            }
        });
        let vm_groups = cluster
            .and_then(|c| c.state.as_ref())
            .and_then(|s| s.groups.as_ref())
            .map_or(0, |g| {
                g.iter()
                    .filter(|g| {
                        g.group_type
                            .as_deref()
                            .is_some_and(|t| t.eq_ignore_ascii_case("VirtualMachine"))
                    })
                    .count()
            });
        let hyperv = if let Some(vms) = &node.vms {
            Some(format!(
                "the inputs list its virtual machines ({} VMs, Get-VM)",
                vms.len()
            ))
        } else if vm_groups > 0 {
            Some(format!("its cluster has {vm_groups} virtual machine roles"))
        } else {
            csv.as_ref().map(|why| {
                format!("there is no VM list in the inputs and {why}; CSV is the storage of Hyper-V clusters")
            })
        };
        Roles {
            hyperv,
            cluster: cluster_why,
            csv,
        }
    }

    pub(super) fn holds(&self, a: AppliesTo) -> Option<&str> {
        match a {
            AppliesTo::HyperV => self.hyperv.as_deref(),
            AppliesTo::Cluster => self.cluster.as_deref(),
            AppliesTo::Csv => self.csv.as_deref(),
        }
    }
}

fn csv_evidence(node: &Node, cluster: Option<&Cluster>) -> Option<String> {
    let c = cluster?;
    if let Some(csvs) = c
        .state
        .as_ref()
        .and_then(|s| s.csvs.as_ref())
        .filter(|v| !v.is_empty())
    {
        return Some(format!(
            "the cluster uses {} Cluster Shared Volumes",
            csvs.len()
        ));
    }
    if let Some(states) = c
        .protection
        .csv_states
        .as_ref()
        .and_then(Section::data)
        .filter(|v| !v.is_empty())
    {
        let volumes: BTreeSet<&str> = states.iter().map(|s| s.volume.as_str()).collect();
        return Some(format!(
            "the cluster uses Cluster Shared Volumes ({} in Get-ClusterSharedVolumeState)",
            volumes.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    // Any node's filters attached to a \ClusterStorage\ volume.
    let attached = c
        .nodes
        .iter()
        .chain(std::iter::once(node))
        .flat_map(fltmc_instances)
        .find_map(|i| i.volume.as_deref().filter(|v| is_cluster_storage(v)));
    attached.map(|v| format!("the cluster uses Cluster Shared Volumes (fltmc instances shows {v})"))
}
