//! Cluster Shared Volumes: redirected access, and the filter driver behind it.

use super::facts::{is_cluster_storage, node_filter_names, section_problem};
use super::known_issues::parse_version;
use super::matching;
use super::minifilters::{KnownFilter, MinifilterTable};
use super::powershell;
use crate::{Evidence, Finding, FindingCode, Fix, Item, ItemKind, Severity};
use lockstep_catalog::known_issues::KnownIssues;
use lockstep_model::protection::{
    BlockRedirectReason, CsvNodeState, CsvStateInfo, FilterInstance, FsRedirectReason, Section,
};
use lockstep_model::{Cluster, Node};

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
    pub(super) instance: &'a FilterInstance,
    pub(super) known: Option<&'a KnownFilter>,
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

pub(super) fn csv_findings(cluster: &Cluster, known: &KnownIssues) -> Vec<Finding> {
    let Some(section) = cluster.protection.csv_states.as_ref() else {
        return Vec::new();
    };
    let Some(states) = section.data() else {
        return vec![csv_state_unknown(cluster, section)];
    };
    let mut out = Vec::new();
    for st in states {
        let node = cluster
            .nodes
            .iter()
            .find(|n| n.name.eq_ignore_ascii_case(&st.node));
        // A name that cannot be quoted (a control character) gets no
        // command rather than one naming something else.
        let state_cmd = powershell::quote(&st.volume)
            .zip(powershell::quote(&st.node))
            .map(|(v, n)| format!("Get-ClusterSharedVolumeState -Name {v} -Node {n}"));
        let shown_volume = match &st.volume_path {
            Some(p) => format!("{} ({p})", st.volume),
            None => st.volume.clone(),
        };
        let state_evidence = Evidence {
            source: (&st.source).into(),
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
                        state_cmd.as_deref(),
                        known,
                    ));
                } else {
                    out.extend(fs_redirected_finding(
                        cluster,
                        st,
                        &shown_volume,
                        state_evidence,
                        state_cmd,
                    ));
                }
            }
            CsvStateInfo::BlockRedirected => out.push(block_redirected_finding(
                cluster,
                st,
                &shown_volume,
                state_evidence,
                state_cmd,
            )),
            _ => {}
        }
    }
    out
}

/// A fix whose text leads to its commands; without any (a volume or node
/// name no PowerShell literal can carry) the text says so instead of ending
/// on a colon.
fn fix_with(text: String, commands: Vec<String>) -> Fix {
    if !commands.is_empty() {
        return Fix { text, commands };
    }
    Fix {
        text: format!(
            "{}. No command is suggested: the volume's or node's name holds characters a PowerShell literal cannot carry.",
            text.trim_end_matches(':')
        ),
        commands,
    }
}

/// The CSV states could not be read.
fn csv_state_unknown(cluster: &Cluster, section: &Section<Vec<CsvNodeState>>) -> Finding {
    Finding {
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
                source: s.into(),
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
    }
}

/// File-system redirected access for another reason than a filter (none
/// for ReFS alone, which always runs redirected).
fn fs_redirected_finding(
    cluster: &Cluster,
    st: &CsvNodeState,
    shown_volume: &str,
    state_evidence: Evidence,
    state_cmd: Option<String>,
) -> Option<Finding> {
    let other = FsRedirectReason(st.fs_reason.0 & !FsRedirectReason::FileSystemReFs);
    if other.0 == 0 {
        // ReFS alone: CSV on ReFS always runs file-system redirected.
        return None;
    }
    let user = other.contains(FsRedirectReason::UserRequest);
    Some(Finding {
        code: FindingCode::CsvRedirected,
        severity: if user {
            Severity::Warning
        } else {
            Severity::Info
        },
        cluster: Some(cluster.name.clone()),
        nodes: vec![st.node.clone()],
        title: format!(
            "{shown_volume} is in file-system redirected access on {} ({other})",
            st.node
        ),
        detail: if user {
            "Someone put the volume into redirected access (Suspend-ClusterResource -RedirectedAccess, e.g. for a backup or maintenance) and it was not resumed: all I/O of this node goes over the network to the coordinator node.".into()
        } else {
            format!(
                "Redirected for {other}: usually temporary (BitLocker initializing, tiering); check again later."
            )
        },
        evidence: vec![state_evidence],
        fix: Some(fix_with(
            if user {
                "When the maintenance is over, resume direct access and check the state:".into()
            } else {
                "Check the state again:".into()
            },
            user.then(|| powershell::quote(&st.volume))
                .flatten()
                .map(|v| format!("Resume-ClusterResource -Name {v}"))
                .into_iter()
                .chain(state_cmd)
                .collect(),
        )),
        known_issues: Vec::new(),
        items: vec![volume_item(st)],
    })
}

/// Block redirected access: lost disk paths, Storage Replica or storage spaces.
fn block_redirected_finding(
    cluster: &Cluster,
    st: &CsvNodeState,
    shown_volume: &str,
    state_evidence: Evidence,
    state_cmd: Option<String>,
) -> Finding {
    let no_disk = st
        .block_reason
        .contains(BlockRedirectReason::NoDiskConnectivity);
    let replication = st.block_reason.0 == BlockRedirectReason::VolumeReplicationEnabled;
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
        "Storage Replica replicates this volume: block redirected access is expected.".into()
    } else {
        format!(
            "Block redirected for {}: the storage space is not attached on this node.",
            st.block_reason
        )
    };
    Finding {
        code: FindingCode::CsvBlockRedirected,
        severity,
        cluster: Some(cluster.name.clone()),
        nodes: vec![st.node.clone()],
        title: format!(
            "{shown_volume} is in block redirected access on {} ({})",
            st.node, st.block_reason
        ),
        detail,
        evidence: vec![state_evidence],
        fix: Some(fix_with(
            format!(
                "Check {}'s paths to the disk (Disk Management, `mpclaim -s -d`, `Get-PhysicalDisk`), repair them, then check the state again:",
                st.node
            ),
            state_cmd.into_iter().collect(),
        )),
        known_issues: Vec::new(),
        items: vec![volume_item(st)],
    }
}

fn csv_filter_finding(
    cluster: &Cluster,
    node: Option<&Node>,
    st: &CsvNodeState,
    shown_volume: &str,
    state_evidence: Evidence,
    state_cmd: Option<&str>,
    known: &KnownIssues,
) -> Finding {
    let mut evidence = vec![state_evidence];
    let (reason, mut detail) = redirect_reason(st, shown_volume);
    let instances = node.and_then(|n| n.protection.filter_instances.as_ref());
    let (suspects, volume_seen) =
        suspects_on_volume(cluster, instances.and_then(Section::data), st);
    let mut issue_ids: Vec<String> = Vec::new();
    let mut commands: Vec<String> = state_cmd.map(str::to_string).into_iter().collect();
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
                source: (&s.instance.source).into(),
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
            for (line, id) in filter_issue_lines(node, st, &s.instance.filter, known) {
                detail.push(line);
                if !issue_ids.contains(&id) {
                    issue_ids.push(id);
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
    } else {
        detail.push(unnamed_filter(node, st, instances, volume_seen));
    }
    Finding {
        code: FindingCode::CsvRedirectedByFilter,
        severity: Severity::Error,
        cluster: Some(cluster.name.clone()),
        nodes: vec![st.node.clone()],
        title: filter_title(st, shown_volume, reason, &suspects),
        detail: detail.join("\n"),
        evidence,
        fix: Some(fix_with(
            format!(
                "Update or reconfigure the product that owns the filter on {} to a CSV-compatible version (see the known issue, if any) or remove it; exclude C:\\ClusterStorage in it; then drain the node, restart it so the filter detaches, and check that the volume is Direct again:",
                st.node
            ),
            commands,
        )),
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

/// The redirect reason's name and the first lines of the detail, which
/// explain it.
fn redirect_reason(st: &CsvNodeState, shown_volume: &str) -> (&'static str, Vec<String>) {
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
    (reason, detail)
}

/// The non-Microsoft filters attached to the CSV on its node, and whether
/// fltmc shows the volume at all.
fn suspects_on_volume<'a>(
    cluster: &Cluster,
    instances: Option<&'a Vec<FilterInstance>>,
    st: &CsvNodeState,
) -> (Vec<Suspect<'a>>, bool) {
    let table = MinifilterTable::builtin();
    let mut suspects: Vec<Suspect<'a>> = Vec::new();
    let mut volume_seen = false;
    for i in instances.into_iter().flatten() {
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
    (suspects, volume_seen)
}

/// Known issues of the product behind `filter` as detail lines with their
/// ids, confirmed by the node's installed products when they are known.
fn filter_issue_lines(
    node: Option<&Node>,
    st: &CsvNodeState,
    filter: &str,
    known: &KnownIssues,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for issue in known.filter_matches(filter) {
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
        let line = match installed {
            Some(found) if found.is_empty() => continue,
            Some(found) => format!(
                "{} is installed on {} ({}): known issue {} — {}.",
                found.join(", "),
                st.node,
                av.vendor,
                issue.id,
                issue.title
            ),
            None => format!(
                "{} is a driver of {} {}, which has known issue {} — {} (the installed version is not in the inputs).",
                filter, av.vendor, av.product, issue.id, issue.title
            ),
        };
        out.push((line, issue.id.clone()));
    }
    out
}

/// What the detail says when no non-Microsoft filter is seen on the volume.
fn unnamed_filter(
    node: Option<&Node>,
    st: &CsvNodeState,
    instances: Option<&Section<Vec<FilterInstance>>>,
    volume_seen: bool,
) -> String {
    let table = MinifilterTable::builtin();
    if volume_seen {
        return format!(
            "fltmc instances on {} shows only Microsoft filters on this volume; the incompatible filter may be attached to the volume's underlying disk or have been unloaded since.",
            st.node
        );
    }
    match instances {
        Some(s) if s.data.is_some() => format!(
            "fltmc instances on {} does not show this volume; cannot name the filter.",
            st.node
        ),
        other => format!(
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
        ),
    }
}

/// The finding's title: the filters by name and vendor, or the reason.
fn filter_title(
    st: &CsvNodeState,
    shown_volume: &str,
    reason: &str,
    suspects: &[Suspect<'_>],
) -> String {
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
    if vendors.is_empty() {
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
    }
}

/// A CSV on one node as a finding item.
fn volume_item(st: &CsvNodeState) -> Item {
    Item::new(ItemKind::Volume, st.volume.clone()).on(&st.node)
}
