//! Host protection audit: anti-virus that cannot take the cluster down.
//!
//! For every node the audit works out which of Microsoft's exclusion rules
//! apply ([`rules`], data files under `rules/host-protection/`), what
//! Defender excludes (the lists from `Get-MpPreference` plus the automatic
//! server-role exclusions Defender adds by itself on Windows Server 2016 and
//! later), and reports the gaps with the exact `Add-MpPreference` commands
//! that close them. It then names the filter driver behind every Cluster
//! Shared Volume in redirected access, and matches installed anti-virus
//! products, minifilters and Defender versions against the known-issues
//! database.
//!
//! # Finding codes
//!
//! The `av-*` and `csv-*` codes of [`crate::codes::FindingCode`], with the
//! severities README's finding-code table gives. Missing exclusions are
//! errors (info when Defender is passive): a found fault, which monitoring
//! must tell from "could not look" below.
//!
//! # Why "unknown" is a warning
//!
//! An unelevated `Get-MpPreference` prints
//! `{N/A: Must be and administrator to view exclusions}` for every list; a
//! list longer than `$FormatEnumerationLimit` prints shortened. Treating that
//! as "nothing excluded" would flood the report with false gaps; treating it
//! as "fine" would hide real ones. The audit reports it as
//! `av-exclusions-unknown` at **warning**, so that `--fail-on warning` (the
//! setting a change board uses) does not pass a cluster whose protection
//! nobody could check, while `--fail-on error` still lets monitoring tell
//! "could not look" from "found a fault". Only requirements that Defender's
//! automatic exclusions provably cover are counted as covered without the
//! lists.
//!
//! # What files alone can and cannot tell
//!
//! A directory of per-node captures (`HV01.mppreference.txt`,
//! `HV01.fltmc-instances.txt`, `csv-state.txt`, ...) carries no VM list and
//! no CSV list. The audit then:
//! * treats a node as a **Hyper-V host** when the inputs list its VMs, when
//!   the cluster has virtual machine groups, or — with no VM data at all —
//!   when the cluster uses CSV (the storage of Hyper-V clusters); the finding
//!   says which;
//! * knows the cluster **uses CSV** from `Get-ClusterSharedVolumeState`
//!   records or from filters attached to `\ClusterStorage\` volumes;
//! * cannot check **custom VM folders** (reported once as
//!   `av-vm-folders-unchecked`), the witness disk folder, or CSV exclusions by
//!   volume id (no id-to-CSV map): those need the lockstep snapshot.
//!
//! # Defender's automatic exclusions
//!
//! Windows Server 2016 and later (build 14393+) add server-role exclusions
//! that `Get-MpPreference` does not show. They are modelled by the
//! `defender-auto-exclusions` rule files and counted only when the OS build
//! is known and at least the rule's `min_build`, when `DisableAutoExclusions`
//! is not `True`, and only for the default paths they name. They apply to
//! real-time protection only; the findings say so.

pub mod matching;
pub mod minifilters;
pub mod powershell;
pub mod rules;

mod coverage;
mod csv;
mod exclusions;
mod facts;
mod known_issues;
mod needs;
mod roles;
mod third_party;

pub use minifilters::{KnownFilter, MinifilterTable};
pub use rules::{AppliesTo, AutoExclusions, ExclusionKind, Requirement, Rule, RuleError, Rules};

use crate::Finding;
use csv::csv_findings;
use exclusions::{exclusion_findings, merge_unknowns, vm_folders_finding};
use known_issues::known_issue_findings;
use lockstep_catalog::known_issues::KnownIssues;
use lockstep_model::{Cluster, Inventory, Node};
use needs::vm_folders_unchecked;
use roles::Roles;
use third_party::passive_finding;

/// Every node of every cluster, then the loose nodes.
pub fn audit_inventory(inventory: &Inventory, rules: &Rules, known: &KnownIssues) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &inventory.clusters {
        out.extend(audit_cluster(c, rules, known));
    }
    for n in &inventory.loose_nodes {
        out.extend(audit_node(n, None, rules, known));
    }
    out
}

/// Every node of the cluster, then the cluster-wide findings (VM folders
/// not checked, CSV redirection).
pub fn audit_cluster(cluster: &Cluster, rules: &Rules, known: &KnownIssues) -> Vec<Finding> {
    let mut out = Vec::new();
    for n in &cluster.nodes {
        out.extend(audit_node(n, Some(cluster), rules, known));
    }
    let mut out = merge_unknowns(out);
    let unchecked: Vec<&Node> = cluster
        .nodes
        .iter()
        .filter(|n| vm_folders_unchecked(n, Some(cluster), rules))
        .collect();
    if let Some(f) = vm_folders_finding(&unchecked, Some(cluster)) {
        out.push(f);
    }
    out.extend(csv_findings(cluster, known));
    out
}

/// One node: exclusion gaps, unknowns, passive mode, known issues. With
/// `cluster` the node's role and CSV usage come from its cluster too.
pub fn audit_node(
    node: &Node,
    cluster: Option<&Cluster>,
    rules: &Rules,
    known: &KnownIssues,
) -> Vec<Finding> {
    let roles = Roles::of(node, cluster);
    let mut out = exclusion_findings(node, cluster, &roles, rules);
    if cluster.is_none() && vm_folders_unchecked(node, None, rules) {
        out.extend(vm_folders_finding(&[node], None));
    }
    out.extend(passive_finding(node, cluster, &roles, rules));
    out.extend(known_issue_findings(node, cluster, known));
    out
}
#[cfg(test)]
mod tests;
