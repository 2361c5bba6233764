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

pub use minifilters::{KnownFilter, MinifilterTable};
pub use rules::{AppliesTo, AutoExclusions, ExclusionKind, Requirement, Rule, RuleError, Rules};

use crate::{Evidence, Finding, FindingCode, Fix, Item, ItemKind, Severity};
use lockstep_catalog::known_issues::{IssueSeverity, KnownIssue, KnownIssues};
use lockstep_model::capabilities::{Feature, release_name, supports};
use lockstep_model::protection::{
    BlockRedirectReason, CsvNodeState, CsvStateInfo, DefenderPreferences, DefenderStatus,
    ExclusionList, FilterInstance, FsRedirectReason, Section, SectionStatus,
};
use lockstep_model::{Cluster, Inventory, Node, SourceRef, WinVersion};
use std::collections::{BTreeSet, HashMap};

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

// ---------------------------------------------------------------- roles

/// Why the audit treats a node as a Hyper-V host, a cluster node, a CSV user.
#[derive(Debug, Clone, Default)]
struct Roles {
    hyperv: Option<String>,
    cluster: Option<String>,
    csv: Option<String>,
}

impl Roles {
    fn of(node: &Node, cluster: Option<&Cluster>) -> Roles {
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

    fn holds(&self, a: AppliesTo) -> Option<&str> {
        match a {
            AppliesTo::HyperV => self.hyperv.as_deref(),
            AppliesTo::Cluster => self.cluster.as_deref(),
            AppliesTo::Csv => self.csv.as_deref(),
        }
    }
}

fn is_cluster_storage(volume: &str) -> bool {
    matching::components(volume)
        .iter()
        .any(|c| c == "clusterstorage")
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
        .filter_map(|n| {
            n.protection
                .filter_instances
                .as_ref()
                .and_then(Section::data)
        })
        .flatten()
        .find_map(|i| i.volume.as_deref().filter(|v| is_cluster_storage(v)));
    attached.map(|v| format!("the cluster uses Cluster Shared Volumes (fltmc instances shows {v})"))
}

// ---------------------------------------------------------------- needs

/// One thing a rule requires on a node.
#[derive(Debug, Clone)]
struct Need<'r> {
    rule: &'r Requirement,
    /// As written in the rule (environment variables kept) or derived from the inputs.
    value: String,
    /// "applies from Windows Server 2016; OS version unknown" and the like.
    note: Option<String>,
}

fn os_name(build: u32) -> String {
    lockstep_model::windows::server_release_name_of_build(build)
}

fn vm_folders(node: &Node) -> Option<Vec<String>> {
    let vms = node.vms.as_ref()?;
    let mut folders: Vec<String> = Vec::new();
    for vm in vms {
        let parents = vm.hard_drives.iter().filter_map(|d| {
            let t = d.trim().trim_end_matches('\\');
            t.rfind('\\').and_then(|i| t.get(..i)).map(String::from)
        });
        let direct = [
            &vm.configuration_location,
            &vm.snapshot_file_location,
            &vm.smart_paging_file_path,
        ]
        .into_iter()
        .flatten()
        .map(|s| s.trim().trim_end_matches('\\').to_string());
        for f in direct.chain(parents) {
            if !f.is_empty()
                && !folders
                    .iter()
                    .any(|x| matching::components(x) == matching::components(&f))
            {
                folders.push(f);
            }
        }
    }
    // Keep only the top folders: excluding C:\VMs covers C:\VMs\Web01.
    let tops: Vec<String> = folders
        .iter()
        .filter(|f| {
            !folders.iter().any(|o| {
                o != *f
                    && matching::components(o).len() < matching::components(f).len()
                    && matching::path_covers(o, f)
            })
        })
        .cloned()
        .collect();
    Some(tops)
}

fn witness_folder(cluster: Option<&Cluster>) -> Option<String> {
    let w = cluster?.state.as_ref()?.witness.as_ref()?;
    if !w.kind.eq_ignore_ascii_case("DiskWitness") {
        return None;
    }
    let p = w.path.as_deref()?.trim().trim_end_matches('\\');
    (!p.is_empty()).then(|| format!("{p}\\Cluster"))
}

fn needs<'r>(
    node: &Node,
    cluster: Option<&Cluster>,
    roles: &Roles,
    rules: &'r Rules,
) -> Vec<Need<'r>> {
    let build = node.os.build();
    let mut out = Vec::new();
    for rule in &rules.requirements {
        if roles.holds(rule.applies_to).is_none() {
            continue;
        }
        match rule.from {
            Some(rules::Derived::VmFolders) => {
                for f in vm_folders(node).unwrap_or_default() {
                    out.push(Need {
                        rule,
                        value: f,
                        note: None,
                    });
                }
            }
            Some(rules::Derived::WitnessDisk) => {
                if let Some(f) = witness_folder(cluster) {
                    out.push(Need {
                        rule,
                        value: f,
                        note: None,
                    });
                }
            }
            None => {
                for item in &rule.items {
                    let since = item.since.clone().or_else(|| item.min_build.map(os_name));
                    let note = match (item.min_build, build) {
                        (Some(min), Some(b)) if b < min => continue,
                        (Some(_), None) => since.map(|s| {
                            format!("applies from {s}; the OS version is not in the inputs")
                        }),
                        (Some(_), Some(_)) => since.map(|s| format!("{s} and later")),
                        (None, _) => None,
                    };
                    out.push(Need {
                        rule,
                        value: item.value.clone(),
                        note,
                    });
                }
            }
        }
    }
    out
}

fn vm_folders_unchecked(node: &Node, cluster: Option<&Cluster>, rules: &Rules) -> bool {
    let roles = Roles::of(node, cluster);
    node.vms.is_none()
        && rules.requirements.iter().any(|r| {
            r.from == Some(rules::Derived::VmFolders) && roles.holds(r.applies_to).is_some()
        })
}

// ---------------------------------------------------------------- coverage

#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Covered(String),
    Missing,
    Unknown(String),
}

fn covers(kind: ExclusionKind, exclusion: &str, need: &str) -> bool {
    match kind {
        ExclusionKind::Path => matching::path_covers(exclusion, need),
        ExclusionKind::Extension => matching::extension(exclusion) == matching::extension(need),
        ExclusionKind::Process => matching::process_covers(exclusion, need),
    }
}

fn list_of(p: &DefenderPreferences, kind: ExclusionKind) -> &ExclusionList {
    match kind {
        ExclusionKind::Path => &p.exclusion_path,
        ExclusionKind::Extension => &p.exclusion_extension,
        ExclusionKind::Process => &p.exclusion_process,
    }
}

/// A CSV's mount path and volume id, from the snapshot.
struct CsvRef {
    name: String,
    path: String,
    volume_id: Option<String>,
}

fn csv_refs(cluster: Option<&Cluster>) -> Vec<CsvRef> {
    cluster
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.csvs.as_ref())
        .map(|v| {
            v.iter()
                .filter_map(|c| {
                    Some(CsvRef {
                        name: c.name.clone(),
                        path: c.path.clone()?,
                        volume_id: c.volume_id.as_deref().and_then(matching::volume_id),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What Defender excludes on a node: its lists and the automatic exclusions in force.
struct Coverage<'a> {
    prefs: Result<&'a DefenderPreferences, String>,
    auto: Vec<&'a AutoExclusions>,
    /// Why the automatic exclusions are (not) counted, for the finding.
    auto_note: String,
    csvs: Vec<CsvRef>,
}

fn section_problem<T>(s: Option<&Section<T>>, what: &str) -> Result<(), String> {
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

impl<'a> Coverage<'a> {
    fn of(
        node: &'a Node,
        cluster: Option<&Cluster>,
        roles: &Roles,
        rules: &'a Rules,
    ) -> Coverage<'a> {
        let section = node.protection.defender_preferences.as_ref();
        let prefs = section_problem(section, "Get-MpPreference").and_then(|_| {
            section
                .and_then(Section::data)
                .ok_or_else(|| "Get-MpPreference is empty".to_string())
        });
        let build = node.os.build();
        let (auto, auto_note) = match (&prefs, build) {
            (Err(_), _) => (Vec::new(), "Defender's automatic exclusions are not counted: its settings are unknown".to_string()),
            (Ok(_), None) => (
                Vec::new(),
                "Defender's automatic exclusions are not counted: the OS version is not in the inputs (they exist on Windows Server 2016 and later only)".to_string(),
            ),
            (Ok(p), Some(b)) if p.disable_auto_exclusions == Some(true) => (
                Vec::new(),
                format!("Defender's automatic exclusions are off on this node (DisableAutoExclusions = True, {})", os_name(b)),
            ),
            (Ok(p), Some(b)) => {
                let active: Vec<&AutoExclusions> = rules
                    .auto
                    .iter()
                    .filter(|a| b >= a.min_build && roles.holds(a.applies_to).is_some())
                    .collect();
                let note = if active.is_empty() {
                    format!("{} has no automatic Defender exclusions for these roles (Windows Server 2016 and later only)", os_name(b))
                } else {
                    let default_note = if p.disable_auto_exclusions.is_none() {
                        " (DisableAutoExclusions is not in the capture; its default, False, is assumed)"
                    } else {
                        ""
                    };
                    format!(
                        "Defender's automatic exclusions on {} are counted{}: {}; they apply to real-time protection only and to default paths only",
                        os_name(b),
                        default_note,
                        active.iter().map(|a| a.title.as_str()).collect::<Vec<_>>().join("; ")
                    )
                };
                (active, note)
            }
        };
        Coverage {
            prefs,
            auto,
            auto_note,
            csvs: csv_refs(cluster),
        }
    }

    fn verdict(&self, need: &Need<'_>) -> Verdict {
        let kind = need.rule.kind;
        for a in &self.auto {
            if let Some(item) = a.list(kind).iter().find(|i| covers(kind, i, &need.value)) {
                return Verdict::Covered(format!("Defender automatic exclusion {item} ({})", a.id));
            }
        }
        let p = match &self.prefs {
            Ok(p) => p,
            Err(why) => return Verdict::Unknown(why.clone()),
        };
        let items = match list_of(p, kind) {
            ExclusionList::Items(v) => v,
            ExclusionList::Redacted(m) => {
                return Verdict::Unknown(format!("{}: {m}", kind.parameter()));
            }
        };
        if let Some(e) = items.iter().find(|e| covers(kind, e, &need.value)) {
            return Verdict::Covered(format!("{} {e}", kind.parameter()));
        }
        if kind == ExclusionKind::Path {
            // A CSV excluded by its volume id (KB3119208) covers every folder on it.
            let ids: Vec<String> = items
                .iter()
                .filter_map(|e| matching::volume_id(e))
                .collect();
            if let Some(c) = self.csvs.iter().find(|c| {
                matching::path_covers(&c.path, &need.value)
                    && c.volume_id.as_ref().is_some_and(|v| ids.contains(v))
            }) {
                return Verdict::Covered(format!("volume id of {} ({})", c.name, c.path));
            }
            // The CSV root counts as covered when every CSV below it is.
            if need.rule.csv_volume_ids {
                let csv_covered = |c: &CsvRef| {
                    items.iter().any(|e| matching::path_covers(e, &c.path))
                        || c.volume_id.as_ref().is_some_and(|v| ids.contains(v))
                };
                let under: Vec<&CsvRef> = self
                    .csvs
                    .iter()
                    .filter(|c| matching::path_covers(&need.value, &c.path))
                    .collect();
                if !under.is_empty() && under.iter().all(|c| csv_covered(c)) {
                    return Verdict::Covered(format!(
                        "every CSV is excluded by path or volume id ({})",
                        under
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        Verdict::Missing
    }
}

// ---------------------------------------------------------------- findings

fn cluster_name(cluster: Option<&Cluster>) -> Option<String> {
    cluster.map(|c| c.name.clone())
}

fn os_evidence(node: &Node) -> Option<Evidence> {
    let v = node.os.version.as_ref()?;
    let caption = node
        .os
        .caption
        .as_ref()
        .map(|c| format!("{} ", c.value))
        .unwrap_or_default();
    Some(Evidence {
        source: v.source.clone(),
        note: format!(
            "OS {caption}version {} ({})",
            v.value,
            os_name(v.value.build())
        ),
    })
}

fn display_value(kind: ExclusionKind, v: &str) -> String {
    match kind {
        ExclusionKind::Extension => format!(".{}", matching::extension(v)),
        _ => v.to_string(),
    }
}

/// An exclusion as a finding item.
fn exclusion_item(need: &Need<'_>, node: &str) -> Item {
    let kind = match need.rule.kind {
        ExclusionKind::Extension => ItemKind::Extension,
        ExclusionKind::Path => ItemKind::Path,
        ExclusionKind::Process => ItemKind::Process,
    };
    Item::new(kind, display_value(need.rule.kind, &need.value))
        .by_rule(need.rule.id.clone())
        .on(node)
}

fn summarize(values: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut s = values
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if values.len() > SHOWN {
        s.push_str(&format!(" and {} more", values.len() - SHOWN));
    }
    s
}

fn defender_status(node: &Node) -> Option<&DefenderStatus> {
    node.protection
        .defender_status
        .as_ref()
        .and_then(Section::data)
}

fn is_passive(node: &Node) -> bool {
    defender_status(node).is_some_and(DefenderStatus::is_passive)
}

fn exclusion_findings(
    node: &Node,
    cluster: Option<&Cluster>,
    roles: &Roles,
    rules: &Rules,
) -> Vec<Finding> {
    let needs = needs(node, cluster, roles, rules);
    if needs.is_empty() {
        return Vec::new();
    }
    let cov = Coverage::of(node, cluster, roles, rules);
    let verdicts: Vec<(Need<'_>, Verdict)> = needs
        .into_iter()
        .map(|n| {
            let v = cov.verdict(&n);
            (n, v)
        })
        .collect();
    let passive = is_passive(node);
    let mut out = Vec::new();
    for (kind, code) in [
        (
            ExclusionKind::Extension,
            FindingCode::AvExclusionMissingExtension,
        ),
        (ExclusionKind::Path, FindingCode::AvExclusionMissingPath),
        (
            ExclusionKind::Process,
            FindingCode::AvExclusionMissingProcess,
        ),
    ] {
        let missing: Vec<&Need<'_>> = verdicts
            .iter()
            .filter(|(n, v)| n.rule.kind == kind && *v == Verdict::Missing)
            .map(|(n, _)| n)
            .collect();
        if missing.is_empty() {
            continue;
        }
        out.push(missing_finding(
            node, cluster, roles, &cov, kind, code, &missing, &verdicts, passive,
        ));
    }
    let unknown: Vec<(&Need<'_>, &str)> = verdicts
        .iter()
        .filter_map(|(n, v)| match v {
            Verdict::Unknown(why) => Some((n, why.as_str())),
            _ => None,
        })
        .collect();
    if !unknown.is_empty() {
        out.push(unknown_finding(node, cluster, roles, &cov, &unknown));
    }
    out
}

fn role_lines(roles: &Roles, needs: &[&Need<'_>]) -> Vec<String> {
    let applies: BTreeSet<AppliesTo> = needs.iter().map(|n| n.rule.applies_to).collect();
    applies
        .into_iter()
        .filter_map(|a| {
            let what = match a {
                AppliesTo::HyperV => "Hyper-V host",
                AppliesTo::Cluster => "failover cluster node",
                AppliesTo::Csv => "CSV user",
            };
            roles
                .holds(a)
                .map(|why| format!("Judged as a {what} because {why}."))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn missing_finding(
    node: &Node,
    cluster: Option<&Cluster>,
    roles: &Roles,
    cov: &Coverage<'_>,
    kind: ExclusionKind,
    code: FindingCode,
    missing: &[&Need<'_>],
    all: &[(Need<'_>, Verdict)],
    passive: bool,
) -> Finding {
    let values: Vec<String> = missing
        .iter()
        .map(|n| display_value(kind, &n.value))
        .collect();
    let noun = match kind {
        ExclusionKind::Extension => "file type",
        ExclusionKind::Path => "folder",
        ExclusionKind::Process => "process",
    };
    let plural = if values.len() == 1 { "" } else { "s" };
    let title = format!(
        "{}: Defender does not exclude {} required {noun}{plural}: {}",
        node.name,
        values.len(),
        summarize(&values)
    );
    let mut detail = Vec::new();
    for n in missing {
        let mut line = format!(
            "- {} — rule {} ({}): {}",
            display_value(kind, &n.value),
            n.rule.id,
            n.rule.title,
            n.rule.why
        );
        if let Some(note) = &n.note {
            line.push_str(&format!(" [{note}]"));
        }
        detail.push(line);
    }
    let covered: Vec<String> = all
        .iter()
        .filter(|(n, _)| n.rule.kind == kind)
        .filter_map(|(n, v)| match v {
            Verdict::Covered(by) => Some(format!("{} (by {by})", display_value(kind, &n.value))),
            _ => None,
        })
        .collect();
    if !covered.is_empty() {
        detail.push(format!("Already covered: {}.", covered.join("; ")));
    }
    detail.extend(role_lines(roles, missing));
    detail.push(format!("{}.", cov.auto_note));
    let references: BTreeSet<&str> = missing
        .iter()
        .flat_map(|n| n.rule.references.iter().map(String::as_str))
        .collect();
    detail.push(format!(
        "References: {}",
        references.into_iter().collect::<Vec<_>>().join(" ")
    ));
    let mut severity = missing
        .iter()
        .map(|n| n.rule.severity)
        .max()
        .unwrap_or(Severity::Warning);
    let mut fix_text = format!(
        "Run on {} in an elevated PowerShell session (Add-MpPreference adds to the lists; it does not replace them):",
        node.name
    );
    if passive {
        severity = Severity::Info;
        let product = third_party_names(node);
        fix_text = format!(
            "Defender is in passive mode on {}: {} does the real-time scanning. Configure the same exclusions there; the command below keeps Defender right if it becomes active again. {fix_text}",
            node.name,
            product.unwrap_or_else(|| "another product".into())
        );
    }
    let csv_root_missing =
        kind == ExclusionKind::Path && missing.iter().any(|n| n.rule.csv_volume_ids);
    let ids: Vec<String> = cov
        .csvs
        .iter()
        .filter_map(|c| {
            c.volume_id
                .as_ref()
                .map(|v| format!("{}\\ ({})", v, c.path))
        })
        .collect();
    if csv_root_missing && !ids.is_empty() {
        fix_text.push_str(&format!(
            " Instead of {}, each CSV may be excluded by its volume id as System Center VMM does (KB3119208): {}.",
            r"%SystemDrive%\ClusterStorage",
            ids.join(", ")
        ));
    }
    let command_values: Vec<String> = missing
        .iter()
        .map(|n| display_value(kind, &n.value))
        .collect();
    let (cmd, rejected) = powershell::command_with_list(
        &format!("Add-MpPreference -{}", kind.parameter()),
        &command_values,
    );
    if !rejected.is_empty() {
        fix_text.push_str(&format!(
            " Not emitted (control characters in the value; add by hand after checking it): {}.",
            rejected
                .iter()
                .map(|r| format!("{r:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Finding {
        code,
        severity,
        cluster: cluster_name(cluster),
        nodes: vec![node.name.clone()],
        title,
        detail: detail.join("\n"),
        evidence: exclusion_evidence(node, cov, kind),
        fix: Some(Fix {
            text: fix_text,
            commands: cmd.into_iter().collect(),
        }),
        known_issues: Vec::new(),
        items: missing
            .iter()
            .map(|n| exclusion_item(n, &node.name))
            .collect(),
    }
}

fn exclusion_evidence(node: &Node, cov: &Coverage<'_>, kind: ExclusionKind) -> Vec<Evidence> {
    let mut ev = Vec::new();
    if let Ok(p) = &cov.prefs {
        let list = match list_of(p, kind) {
            ExclusionList::Items(v) if v.is_empty() => "empty".to_string(),
            ExclusionList::Items(v) => format!("{{{}}}", v.join(", ")),
            ExclusionList::Redacted(m) => format!("unreadable: {m}"),
        };
        ev.push(Evidence {
            source: p.source.clone(),
            note: format!("Get-MpPreference {} {list}", kind.parameter()),
        });
        let dae = match p.disable_auto_exclusions {
            Some(true) => "True",
            Some(false) => "False",
            None => "not captured",
        };
        ev.push(Evidence {
            source: p.source.clone(),
            note: format!("Get-MpPreference DisableAutoExclusions {dae}"),
        });
    }
    ev.extend(os_evidence(node));
    if let Some(s) = defender_status(node).filter(|s| s.is_passive()) {
        ev.push(Evidence {
            source: s.source.clone(),
            note: format!(
                "Get-MpComputerStatus AMRunningMode {}",
                s.am_running_mode.as_deref().unwrap_or_default()
            ),
        });
    }
    ev
}

fn unknown_finding(
    node: &Node,
    cluster: Option<&Cluster>,
    roles: &Roles,
    cov: &Coverage<'_>,
    unknown: &[(&Need<'_>, &str)],
) -> Finding {
    let reasons: BTreeSet<&str> = unknown.iter().map(|(_, why)| *why).collect();
    let needs: Vec<&Need<'_>> = unknown.iter().map(|(n, _)| *n).collect();
    let mut detail = vec![format!(
        "Cannot tell whether these {} exclusions are in place (unknown is not compliant):",
        unknown.len()
    )];
    for (n, _) in unknown {
        detail.push(format!(
            "- {} {} — rule {}",
            n.rule.kind.as_str(),
            display_value(n.rule.kind, &n.value),
            n.rule.id
        ));
    }
    detail.push(format!(
        "Why: {}.",
        reasons.into_iter().collect::<Vec<_>>().join("; ")
    ));
    detail.extend(role_lines(roles, &needs));
    detail.push(format!("{}.", cov.auto_note));
    let mut evidence = Vec::new();
    if let Some(s) = node.protection.defender_preferences.as_ref() {
        if let Some(src) = s
            .data
            .as_ref()
            .map(|p| p.source.clone())
            .or_else(|| s.source.clone())
        {
            evidence.push(Evidence {
                source: src,
                note: "Get-MpPreference: exclusion lists hidden, shortened or not captured".into(),
            });
        }
    } else if let Some(first) = node.sources.first() {
        evidence.push(Evidence {
            source: SourceRef::new(first.as_str(), 0),
            note: "no Get-MpPreference capture for this node".into(),
        });
    }
    evidence.extend(os_evidence(node));
    // Defender absent (Windows Server 2012 R2 without it, or removed for a
    // third-party product) is not a collection problem: say so.
    let defender_absent = node
        .protection
        .defender_preferences
        .as_ref()
        .is_some_and(|s| s.status == SectionStatus::NotAvailable);
    // A release without Defender (2012 R2 and older): Get-MpPreference
    // does not exist there, so asking for it would be wrong advice.
    let version = node.os.version.as_ref().map(|v| &v.value);
    let situation = if node.protection.defender_preferences.is_none()
        && supports(version, Feature::DefenderCmdlets) == Some(false)
        && version.is_some_and(|v| v.major() < 10)
    {
        DefenderSituation::NotOnRelease(old_release_words(version))
    } else if defender_absent {
        DefenderSituation::Absent
    } else {
        DefenderSituation::Collect
    };
    let (title, fix) = unknown_wording(&node.name, situation);
    Finding {
        code: FindingCode::AvExclusionsUnknown,
        severity: Severity::Warning,
        cluster: cluster_name(cluster),
        nodes: vec![node.name.clone()],
        title,
        detail: detail.join("\n"),
        evidence,
        fix: Some(fix),
        known_issues: Vec::new(),
        items: unknown
            .iter()
            .map(|(n, _)| exclusion_item(n, &node.name))
            .collect(),
    }
}

/// Why the exclusions of a node could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DefenderSituation {
    /// Defender's settings were not (fully) collected: collect them again.
    Collect,
    /// Defender is not available on the node.
    Absent,
    /// The node's release has no Defender at all.
    NotOnRelease(&'static str),
}

/// The releases [`DefenderSituation::NotOnRelease`] names (Windows 6.x and older).
const SITUATIONS_ON_OLD_RELEASES: [&str; 6] = [
    "Windows Server 2008",
    "Windows Server 2008 R2",
    "Windows Server 2012",
    "Windows Server 2012 R2",
    "Windows Server 2003 or older",
    "this Windows release",
];

/// One of [`SITUATIONS_ON_OLD_RELEASES`] for a release without Defender.
fn old_release_words(version: Option<&lockstep_model::WinVersion>) -> &'static str {
    let Some(v) = version else {
        return "this Windows release";
    };
    let name = release_name(v);
    SITUATIONS_ON_OLD_RELEASES
        .iter()
        .copied()
        .find(|r| *r == name)
        .unwrap_or(if v.major() < 6 {
            "Windows Server 2003 or older"
        } else {
            "this Windows release"
        })
}

/// Title and fix of an `av-exclusions-unknown` finding about `on` (one
/// node, or several joined by [`merge_unknowns`]).
fn unknown_wording(on: &str, situation: DefenderSituation) -> (String, Fix) {
    if let DefenderSituation::NotOnRelease(release) = situation {
        return (
            format!(
                "{on}: {release} has no Microsoft Defender; cannot tell whether the anti-virus in use excludes what this host needs"
            ),
            Fix {
                text: format!(
                    "{release} has no Microsoft Defender and no Get-MpPreference (Defender and its module come with Windows Server 2016 and later). Configure and check the exclusions listed above in the anti-virus product that runs on {on}, following its vendor's guidance for Hyper-V hosts and clusters; lockstep cannot read them."
                ),
                commands: Vec::new(),
            },
        );
    }
    if situation == DefenderSituation::Absent {
        (
            format!(
                "{on}: Defender is not available; cannot tell whether the anti-virus in use excludes what this host needs"
            ),
            Fix {
                text: format!(
                    "Defender's settings are not available on {on} (not installed, or removed in favour of another product). Configure the exclusions listed above in the anti-virus product that runs there, following its vendor's guidance for Hyper-V hosts and clusters; lockstep cannot read them."
                ),
                commands: Vec::new(),
            },
        )
    } else {
        (
            format!("{on}: cannot tell whether Defender excludes what this host needs; collect elevated"),
            Fix {
                text: format!(
                    "Collect Defender's settings on {on} again from an elevated PowerShell session, as JSON so that no list is shortened, then re-run the check:"
                ),
                commands: vec!["Get-MpPreference | ConvertTo-Json -Depth 3 | Out-File -Encoding utf8 \"$env:COMPUTERNAME.mppreference.json\"".into()],
            },
        )
    }
}

/// Nodes of a cluster that cannot be judged for the same reason (typically:
/// no Defender capture at all) share one `av-exclusions-unknown` finding
/// instead of one each; its evidence says which node each fact is about.
fn merge_unknowns(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    // (detail, fix commands, title without the node) → index in `out`
    let mut groups: HashMap<(String, Vec<String>, String), usize> = HashMap::new();
    for mut f in findings {
        let [node] = f.nodes.as_slice() else {
            out.push(f);
            continue;
        };
        let node = node.clone();
        let rest = f
            .title
            .strip_prefix(&format!("{node}: "))
            .map(str::to_string);
        let (true, Some(rest), Some(fix)) =
            (f.code == FindingCode::AvExclusionsUnknown, rest, &f.fix)
        else {
            out.push(f);
            continue;
        };
        for e in &mut f.evidence {
            e.note = format!("{node}: {}", e.note);
        }
        let key = (f.detail.clone(), fix.commands.clone(), rest);
        match groups.get(&key) {
            None => {
                groups.insert(key, out.len());
                out.push(f);
            }
            Some(&i) => {
                let m = &mut out[i];
                m.nodes.push(node);
                m.evidence.extend(f.evidence);
            }
        }
    }
    for f in &mut out {
        if f.code != FindingCode::AvExclusionsUnknown || f.nodes.len() < 2 {
            continue;
        }
        // The wording is written again for the group, not patched: a node
        // name can be any text, including words of the sentence.
        let rest = f
            .title
            .strip_prefix(&format!("{}: ", f.nodes[0]))
            .unwrap_or("");
        let situation = SITUATIONS_ON_OLD_RELEASES
            .iter()
            .find(|r| rest.starts_with(&format!("{r} has no Microsoft Defender")))
            .map(|r| DefenderSituation::NotOnRelease(r))
            .unwrap_or(if f.fix.as_ref().is_some_and(|x| x.commands.is_empty()) {
                DefenderSituation::Absent
            } else {
                DefenderSituation::Collect
            });
        let (title, fix) = unknown_wording(&f.nodes.join(", "), situation);
        f.title = title;
        f.fix = Some(fix);
        // The same needs on every node of the group (the detail says so).
        for item in &mut f.items {
            item.node = None;
        }
    }
    out
}

fn vm_folders_finding(nodes: &[&Node], cluster: Option<&Cluster>) -> Option<Finding> {
    let first = nodes.first()?;
    let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
    Some(Finding {
        code: FindingCode::AvVmFoldersUnchecked,
        severity: Severity::Info,
        cluster: cluster_name(cluster),
        nodes: names.clone(),
        title: format!("Custom VM folder exclusions not checked on {}: no VM list in the inputs", names.join(", ")),
        detail: "KB3105657 asks to exclude every custom VM configuration, virtual hard disk, checkpoint and Replica folder, and Defender's automatic exclusions cover default paths only. The inputs carry no VM list (Get-VM), so these folders could not be checked; the default folders, file types and processes were.".into(),
        evidence: cluster
            .and_then(|c| c.source.clone())
            .or_else(|| first.sources.first().map(|s| SourceRef::new(s.as_str(), 0)))
            .map(|source| Evidence {
                source,
                note: "captures without a VM list (Get-VM)".into(),
            })
            .into_iter()
            .collect(),
        fix: Some(if nodes.iter().all(|n| {
            supports(n.os.version.as_ref().map(|v| &v.value), Feature::HyperVCmdlets)
                == Some(false)
        }) {
            // 2008 R2 has no Hyper-V module: no Get-VM to suggest.
            Fix {
                text: "These nodes' release has no Get-VM (the Hyper-V PowerShell module comes with Windows Server 2012): read each VM's configuration, virtual hard disk, snapshot and smart paging folders in Hyper-V Manager (the VM's Settings) and check them against the exclusions.".into(),
                commands: Vec::new(),
            }
        } else {
            Fix {
                text: "Collect a lockstep snapshot (Collect-LockstepSnapshot.ps1), which records every VM's paths, or list them on each node:".into(),
                commands: vec!["Get-VM | Select-Object Name, ConfigurationLocation, SnapshotFileLocation, SmartPagingFilePath, @{n='Disks';e={$_.HardDrives.Path -join ';'}}".into()],
            }
        }),
        known_issues: Vec::new(),
        items: Vec::new(),
    })
}

// ---------------------------------------------------------------- third parties

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

fn third_party_names(node: &Node) -> Option<String> {
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

fn node_filter_names(node: &Node) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let from_filters = node
        .protection
        .filters
        .as_ref()
        .and_then(Section::data)
        .into_iter()
        .flatten()
        .map(|f| f.name.clone());
    let from_instances = node
        .protection
        .filter_instances
        .as_ref()
        .and_then(Section::data)
        .into_iter()
        .flatten()
        .map(|i| i.filter.clone());
    for n in from_filters.chain(from_instances) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&n)) {
            out.push(n);
        }
    }
    out
}

fn passive_finding(
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
            source: s.source.clone(),
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

// ---------------------------------------------------------------- known issues

fn severity_of(s: IssueSeverity) -> Severity {
    match s {
        IssueSeverity::Info => Severity::Info,
        IssueSeverity::Warning => Severity::Warning,
        IssueSeverity::Error => Severity::Error,
    }
}

fn parse_version(s: Option<&str>) -> Option<WinVersion> {
    s.and_then(|v| v.trim().parse().ok())
}

fn issue_fix(issue: &KnownIssue) -> Fix {
    let mut text = issue
        .fix_steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect::<Vec<_>>()
        .join("\n");
    if !issue.references.is_empty() {
        text.push_str(&format!("\nReferences: {}", issue.references.join(" ")));
    }
    Fix {
        text,
        commands: Vec::new(),
    }
}

fn known_issue_findings(
    node: &Node,
    cluster: Option<&Cluster>,
    known: &KnownIssues,
) -> Vec<Finding> {
    let table = MinifilterTable::builtin();
    let mut out: Vec<Finding> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let products_section = node.protection.products.as_ref();
    let products = products_section.and_then(Section::data);
    let filters = node_filter_names(node);
    let filter_evidence = |name: &str| -> Option<Evidence> {
        let src = node
            .protection
            .filters
            .as_ref()
            .and_then(Section::data)
            .into_iter()
            .flatten()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| (f.source.clone(), f.altitude.clone()))
            .or_else(|| {
                node.protection
                    .filter_instances
                    .as_ref()
                    .and_then(Section::data)
                    .into_iter()
                    .flatten()
                    .find(|i| i.filter.eq_ignore_ascii_case(name))
                    .map(|i| (i.source.clone(), i.altitude.clone()))
            })?;
        let vendor = table
            .get(name)
            .map(|k| format!(", {} {}", k.vendor, k.product))
            .unwrap_or_default();
        Some(Evidence {
            source: src.0,
            note: format!(
                "fltmc: filter {name} at altitude {}{vendor}",
                src.1.unwrap_or_default()
            ),
        })
    };

    // Installed products.
    for p in products.into_iter().flatten() {
        let version = parse_version(p.version.as_deref());
        for issue in known.antivirus_matches(&p.name, p.vendor.as_deref(), version.as_ref()) {
            if seen.contains(&issue.id) {
                continue;
            }
            seen.push(issue.id.clone());
            let Some(av) = issue.antivirus() else {
                continue;
            };
            let shown = match &p.version {
                Some(v) => format!("{} {v}", p.name),
                None => p.name.clone(),
            };
            let mut evidence = vec![Evidence {
                source: p.source.clone(),
                note: format!(
                    "installed: {shown}{}",
                    p.vendor
                        .as_deref()
                        .map(|v| format!(" ({v})"))
                        .unwrap_or_default()
                ),
            }];
            for f in &av.filters {
                if filters.iter().any(|n| n.eq_ignore_ascii_case(f)) {
                    evidence.extend(filter_evidence(f));
                }
            }
            let mut severity = severity_of(issue.severity);
            let mut detail = issue.description.clone();
            if version.is_none() {
                detail.insert_str(0, "The installed version could not be read, so every version of this product is flagged; check it.\n\n");
            }
            if let Some(w) = &av.window {
                severity = severity.min(Severity::Warning);
                detail.insert_str(
                    0,
                    &format!("Affected only hosts that were online between {} and {}; check whether this one was.\n\n", w.start, w.end),
                );
            }
            out.push(Finding {
                code: FindingCode::AvKnownIssue,
                severity,
                cluster: cluster_name(cluster),
                nodes: vec![node.name.clone()],
                title: format!(
                    "{}: {shown} — known issue {}: {}",
                    node.name, issue.id, issue.title
                ),
                detail,
                evidence,
                fix: Some(issue_fix(issue)),
                known_issues: vec![issue.id.clone()],
                items: vec![Item::new(ItemKind::Product, shown.clone()).on(&node.name)],
            });
        }
    }

    // Minifilters, when the products are not known: a filter name alone is a
    // weak signal (a vendor's products share drivers), so only without a
    // product list, and only as "possibly".
    let products_known =
        products_section.is_some_and(|s| s.status == SectionStatus::Ok && s.data.is_some());
    if !products_known {
        for f in &filters {
            for issue in known.filter_matches(f) {
                if seen.contains(&issue.id) {
                    continue;
                }
                seen.push(issue.id.clone());
                let Some(av) = issue.antivirus() else {
                    continue;
                };
                out.push(Finding {
                    code: FindingCode::AvKnownIssue,
                    severity: severity_of(issue.severity).min(Severity::Warning),
                    cluster: cluster_name(cluster),
                    nodes: vec![node.name.clone()],
                    title: format!(
                        "{}: filter {f} ({}) may belong to a product with known issue {}: {}",
                        node.name, av.vendor, issue.id, issue.title
                    ),
                    detail: format!(
                        "The inputs have no installed-products list for {}, so the {} {} version cannot be checked; the filter {f} is one of its drivers.\n\n{}",
                        node.name, av.vendor, av.product, issue.description
                    ),
                    evidence: filter_evidence(f).into_iter().collect(),
                    fix: Some(issue_fix(issue)),
                    known_issues: vec![issue.id.clone()],
                    items: vec![Item::new(ItemKind::Filter, f.clone()).on(&node.name)],
                });
            }
        }
    }

    // Defender platform / engine.
    if let Some(s) = defender_status(node) {
        for issue in
            known.defender_matches(s.am_product_version.as_ref(), s.am_engine_version.as_ref())
        {
            if seen.contains(&issue.id) {
                continue;
            }
            seen.push(issue.id.clone());
            let show = |v: &Option<WinVersion>| {
                v.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into())
            };
            out.push(Finding {
                code: FindingCode::AvKnownIssue,
                severity: severity_of(issue.severity),
                cluster: cluster_name(cluster),
                nodes: vec![node.name.clone()],
                title: format!(
                    "{}: Microsoft Defender platform {} / engine {} — known issue {}: {}",
                    node.name,
                    show(&s.am_product_version),
                    show(&s.am_engine_version),
                    issue.id,
                    issue.title
                ),
                detail: issue.description.clone(),
                evidence: vec![Evidence {
                    source: s.source.clone(),
                    note: format!(
                        "Get-MpComputerStatus AMProductVersion {} AMEngineVersion {}",
                        show(&s.am_product_version),
                        show(&s.am_engine_version)
                    ),
                }],
                fix: Some(issue_fix(issue)),
                known_issues: vec![issue.id.clone()],
                items: vec![
                    Item::new(
                        ItemKind::Product,
                        format!(
                            "Microsoft Defender platform {} engine {}",
                            show(&s.am_product_version),
                            show(&s.am_engine_version)
                        ),
                    )
                    .on(&node.name),
                ],
            });
        }
    }
    out
}

// ---------------------------------------------------------------- CSV

/// Whether an fltmc volume name is this CSV's mount point.
fn volume_matches(fltmc_volume: &str, state: &CsvNodeState, cluster: &Cluster) -> bool {
    let v = matching::components(fltmc_volume);
    let from_snapshot = cluster
        .state
        .as_ref()
        .and_then(|s| s.csvs.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| c.name.eq_ignore_ascii_case(&state.volume))
        .filter_map(|c| c.path.as_deref())
        .any(|p| matching::components(p) == v);
    if from_snapshot {
        return true;
    }
    match state.volume_path.as_deref() {
        Some(p) if p.contains('\\') => matching::components(p) == v,
        // VolumeFriendlyName is the folder under \ClusterStorage\.
        Some(name) => {
            is_cluster_storage(fltmc_volume)
                && v.last()
                    .is_some_and(|l| l.eq_ignore_ascii_case(name.trim()))
        }
        None => false,
    }
}

struct Suspect<'a> {
    instance: &'a FilterInstance,
    known: Option<&'a KnownFilter>,
}

fn describe_filter(name: &str, altitude: Option<&str>, known: Option<&KnownFilter>) -> String {
    let table = MinifilterTable::builtin();
    let alt = altitude.unwrap_or("?");
    match known {
        Some(k) => format!("{name} (altitude {alt}, {} — {})", k.vendor, k.product),
        None => {
            let group = altitude
                .and_then(|a| table.group(a))
                .map(|g| format!(", {}", g.name))
                .unwrap_or_default();
            format!("{name} (altitude {alt}{group}, vendor not in lockstep's table)")
        }
    }
}

fn csv_findings(cluster: &Cluster, known: &KnownIssues) -> Vec<Finding> {
    let Some(section) = cluster.protection.csv_states.as_ref() else {
        return Vec::new();
    };
    let Some(states) = section.data() else {
        return vec![Finding {
            code: FindingCode::CsvStateUnknown,
            severity: Severity::Info,
            cluster: Some(cluster.name.clone()),
            nodes: Vec::new(),
            title: format!(
                "{}: the state of the Cluster Shared Volumes could not be read",
                cluster.name
            ),
            detail: section_problem(Some(section), "Get-ClusterSharedVolumeState")
                .err()
                .unwrap_or_default(),
            evidence: section
                .source
                .clone()
                .map(|s| Evidence {
                    source: s,
                    note: "Get-ClusterSharedVolumeState".into(),
                })
                .into_iter()
                .collect(),
            fix: Some(Fix {
                text: "Run on a cluster node from an elevated session:".into(),
                commands: vec!["Get-ClusterSharedVolumeState | ConvertTo-Json".into()],
            }),
            known_issues: Vec::new(),
            items: Vec::new(),
        }];
    };
    let mut out = Vec::new();
    for st in states {
        let node = cluster
            .nodes
            .iter()
            .find(|n| n.name.eq_ignore_ascii_case(&st.node));
        let q = |s: &str| powershell::quote(s).unwrap_or_else(|| "'?'".into());
        let state_cmd = format!(
            "Get-ClusterSharedVolumeState -Name {} -Node {}",
            q(&st.volume),
            q(&st.node)
        );
        let shown_volume = match &st.volume_path {
            Some(p) => format!("{} ({p})", st.volume),
            None => st.volume.clone(),
        };
        let state_evidence = Evidence {
            source: st.source.clone(),
            note: format!(
                "{} on {}: {:?}, FileSystemRedirectedIOReason {}, BlockRedirectedIOReason {}",
                st.volume, st.node, st.state, st.fs_reason, st.block_reason
            ),
        };
        match st.state {
            CsvStateInfo::FileSystemRedirected => {
                let by_filter = st
                    .fs_reason
                    .contains(FsRedirectReason::IncompatibleFileSystemFilter)
                    || st
                        .fs_reason
                        .contains(FsRedirectReason::IncompatibleVolumeFilter);
                if by_filter {
                    out.push(csv_filter_finding(
                        cluster,
                        node,
                        st,
                        &shown_volume,
                        state_evidence,
                        &state_cmd,
                        known,
                    ));
                } else {
                    let other =
                        FsRedirectReason(st.fs_reason.0 & !FsRedirectReason::FileSystemReFs);
                    if other.0 == 0 {
                        // ReFS alone: CSV on ReFS always runs file-system redirected.
                        continue;
                    }
                    let user = other.contains(FsRedirectReason::UserRequest);
                    out.push(Finding {
                        code: FindingCode::CsvRedirected,
                        severity: if user { Severity::Warning } else { Severity::Info },
                        cluster: Some(cluster.name.clone()),
                        nodes: vec![st.node.clone()],
                        title: format!("{shown_volume} is in file-system redirected access on {} ({other})", st.node),
                        detail: if user {
                            "Someone put the volume into redirected access (Suspend-ClusterResource -RedirectedAccess, e.g. for a backup or maintenance) and it was not resumed: all I/O of this node goes over the network to the coordinator node.".into()
                        } else {
                            format!("Redirected for {other}: usually temporary (BitLocker initializing, tiering); check again later.")
                        },
                        evidence: vec![state_evidence],
                        fix: Some(Fix {
                            text: if user {
                                "When the maintenance is over, resume direct access and check the state:".into()
                            } else {
                                "Check the state again:".into()
                            },
                            commands: if user {
                                vec![format!("Resume-ClusterResource -Name {}", q(&st.volume)), state_cmd]
                            } else {
                                vec![state_cmd]
                            },
                        }),
                        known_issues: Vec::new(),
                        items: vec![volume_item(st)],
                    });
                }
            }
            CsvStateInfo::BlockRedirected => {
                let no_disk = st
                    .block_reason
                    .contains(BlockRedirectReason::NoDiskConnectivity);
                let replication =
                    st.block_reason.0 == BlockRedirectReason::VolumeReplicationEnabled;
                let severity = if no_disk {
                    Severity::Error
                } else if replication {
                    Severity::Info
                } else {
                    Severity::Warning
                };
                let detail = if no_disk {
                    format!(
                        "{} has lost its direct path to the disk behind {shown_volume}: its block I/O goes over the cluster network through the coordinator node. This is a storage connectivity problem (HBA, MPIO, iSCSI or SAS paths, zoning, masking), not anti-virus; a second failure can take the VMs on this volume down.",
                        st.node
                    )
                } else if replication {
                    "Storage Replica replicates this volume: block redirected access is expected."
                        .into()
                } else {
                    format!(
                        "Block redirected for {}: the storage space is not attached on this node.",
                        st.block_reason
                    )
                };
                out.push(Finding {
                    code: FindingCode::CsvBlockRedirected,
                    severity,
                    cluster: Some(cluster.name.clone()),
                    nodes: vec![st.node.clone()],
                    title: format!("{shown_volume} is in block redirected access on {} ({})", st.node, st.block_reason),
                    detail,
                    evidence: vec![state_evidence],
                    fix: Some(Fix {
                        text: format!(
                            "Check {}'s paths to the disk (Disk Management, `mpclaim -s -d`, `Get-PhysicalDisk`), repair them, then check the state again:",
                            st.node
                        ),
                        commands: vec![state_cmd],
                    }),
                    known_issues: Vec::new(),
                    items: vec![volume_item(st)],
                });
            }
            _ => {}
        }
    }
    out
}

fn csv_filter_finding(
    cluster: &Cluster,
    node: Option<&Node>,
    st: &CsvNodeState,
    shown_volume: &str,
    state_evidence: Evidence,
    state_cmd: &str,
    known: &KnownIssues,
) -> Finding {
    let table = MinifilterTable::builtin();
    let mut evidence = vec![state_evidence];
    let mut detail = Vec::new();
    let reason = if st
        .fs_reason
        .contains(FsRedirectReason::IncompatibleFileSystemFilter)
    {
        "IncompatibleFileSystemFilter"
    } else {
        "IncompatibleVolumeFilter"
    };
    detail.push(format!(
        "{shown_volume} is in file-system redirected access on {} because of {reason}: every I/O of that node to the volume goes over the network to the coordinator node. VMs on it slow down, and a filter that is not CSV-aware can hold or corrupt VM files.",
        st.node
    ));
    if st.fs_reason.contains(FsRedirectReason::FileSystemReFs) {
        detail.push("The volume is ReFS, which is redirected anyway; the incompatible filter is the finding.".into());
    }
    if st
        .fs_reason
        .contains(FsRedirectReason::IncompatibleVolumeFilter)
    {
        detail.push(format!(
            "IncompatibleVolumeFilter points at a volume filter driver (backup, replication, encryption), which fltmc does not list: check the volume class UpperFilters on {} (HKLM\\SYSTEM\\CurrentControlSet\\Control\\Class\\{{71a27cdd-812a-11d0-bec7-08002be2092f}}).",
            st.node
        ));
    }
    let instances = node.and_then(|n| n.protection.filter_instances.as_ref());
    let mut suspects: Vec<Suspect<'_>> = Vec::new();
    let mut volume_seen = false;
    if let Some(list) = instances.and_then(Section::data) {
        for i in list {
            let Some(v) = i.volume.as_deref() else {
                continue;
            };
            if !volume_matches(v, st, cluster) {
                continue;
            }
            volume_seen = true;
            let k = table.get(&i.filter);
            if k.is_some_and(|k| k.is_microsoft() || k.expected) {
                continue;
            }
            // Declared CSV-compatible by the cluster (SharedVolumeCompatibleFilters).
            let declared_compatible = cluster
                .protection
                .compatible_filters
                .iter()
                .flatten()
                .any(|f| f.eq_ignore_ascii_case(&i.filter));
            if declared_compatible {
                continue;
            }
            suspects.push(Suspect {
                instance: i,
                known: k,
            });
        }
    }
    let mut issue_ids: Vec<String> = Vec::new();
    let mut commands = vec![state_cmd.to_string()];
    if !suspects.is_empty() {
        let names: Vec<String> = suspects
            .iter()
            .map(|s| describe_filter(&s.instance.filter, s.instance.altitude.as_deref(), s.known))
            .collect();
        detail.push(format!(
            "Non-Microsoft filters attached to this volume on {}: {}.",
            st.node,
            names.join("; ")
        ));
        for s in &suspects {
            evidence.push(Evidence {
                source: s.instance.source.clone(),
                note: format!(
                    "fltmc instances: {} attached to {} at altitude {}",
                    s.instance.filter,
                    s.instance.volume.as_deref().unwrap_or_default(),
                    s.instance.altitude.as_deref().unwrap_or("?")
                ),
            });
            let listed_incompatible = cluster
                .protection
                .incompatible_filters
                .iter()
                .flatten()
                .any(|f| f.eq_ignore_ascii_case(&s.instance.filter));
            if listed_incompatible {
                detail.push(format!(
                    "{} is listed in the cluster's SharedVolumeIncompatibleFilters.",
                    s.instance.filter
                ));
            }
            // Known issues of the product behind the filter, confirmed by the
            // node's installed products when they are known.
            for issue in known.filter_matches(&s.instance.filter) {
                let Some(av) = issue.antivirus() else {
                    continue;
                };
                let installed = node
                    .and_then(|n| n.protection.products.as_ref())
                    .and_then(Section::data)
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| {
                                let v = parse_version(p.version.as_deref());
                                known
                                    .antivirus_matches(&p.name, p.vendor.as_deref(), v.as_ref())
                                    .iter()
                                    .any(|i| i.id == issue.id)
                            })
                            .map(|p| {
                                format!("{} {}", p.name, p.version.as_deref().unwrap_or_default())
                                    .trim()
                                    .to_string()
                            })
                            .collect::<Vec<_>>()
                    });
                match installed {
                    Some(found) if found.is_empty() => continue,
                    Some(found) => detail.push(format!(
                        "{} is installed on {} ({}): known issue {} — {}.",
                        found.join(", "),
                        st.node,
                        av.vendor,
                        issue.id,
                        issue.title
                    )),
                    None => detail.push(format!(
                        "{} is a driver of {} {}, which has known issue {} — {} (the installed version is not in the inputs).",
                        s.instance.filter, av.vendor, av.product, issue.id, issue.title
                    )),
                }
                if !issue_ids.contains(&issue.id) {
                    issue_ids.push(issue.id.clone());
                }
            }
        }
        if let Some(q) = suspects
            .first()
            .and_then(|s| s.instance.volume.as_deref())
            .and_then(powershell::quote)
        {
            commands.push(format!("fltmc instances -v {q}"));
        }
    } else if volume_seen {
        detail.push(format!(
            "fltmc instances on {} shows only Microsoft filters on this volume; the incompatible filter may be attached to the volume's underlying disk or have been unloaded since.",
            st.node
        ));
    } else {
        match instances {
            Some(s) if s.data.is_some() => detail.push(format!(
                "fltmc instances on {} does not show this volume; cannot name the filter.",
                st.node
            )),
            other => detail.push(format!(
                "Cannot name the filter: {}. Candidates from fltmc filters: {}.",
                section_problem(other, &format!("fltmc instances for {}", st.node))
                    .err()
                    .unwrap_or_default(),
                node.map(|n| {
                    let c: Vec<String> = node_filter_names(n)
                        .into_iter()
                        .filter(|f| !table.get(f).is_some_and(|k| k.is_microsoft() || k.expected))
                        .map(|f| describe_filter(&f, None, table.get(&f)))
                        .collect();
                    if c.is_empty() {
                        "none".to_string()
                    } else {
                        c.join("; ")
                    }
                })
                .unwrap_or_else(|| "none (node not in the inputs)".into())
            )),
        }
    }
    let vendors: Vec<String> = suspects
        .iter()
        .map(|s| match s.known {
            Some(k) => format!(
                "{} ({} {})",
                s.instance.filter,
                k.vendor,
                s.instance.altitude.as_deref().unwrap_or("?")
            ),
            None => format!(
                "{} ({})",
                s.instance.filter,
                s.instance.altitude.as_deref().unwrap_or("?")
            ),
        })
        .collect();
    let title = if vendors.is_empty() {
        format!(
            "{shown_volume} is redirected on {} by an incompatible filter ({reason})",
            st.node
        )
    } else {
        format!(
            "{shown_volume} is redirected on {} by filter {}",
            st.node,
            vendors.join(", ")
        )
    };
    Finding {
        code: FindingCode::CsvRedirectedByFilter,
        severity: Severity::Error,
        cluster: Some(cluster.name.clone()),
        nodes: vec![st.node.clone()],
        title,
        detail: detail.join("\n"),
        evidence,
        fix: Some(Fix {
            text: format!(
                "Update or reconfigure the product that owns the filter on {} to a CSV-compatible version (see the known issue, if any) or remove it; exclude C:\\ClusterStorage in it; then drain the node, restart it so the filter detaches, and check that the volume is Direct again:",
                st.node
            ),
            commands,
        }),
        known_issues: issue_ids,
        items: std::iter::once(volume_item(st))
            .chain(
                suspects
                    .iter()
                    .map(|s| Item::new(ItemKind::Filter, s.instance.filter.clone()).on(&st.node)),
            )
            .collect(),
    }
}

/// A CSV on one node as a finding item.
fn volume_item(st: &CsvNodeState) -> Item {
    Item::new(ItemKind::Volume, st.volume.clone()).on(&st.node)
}

#[cfg(test)]
mod tests;
