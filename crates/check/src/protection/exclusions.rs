//! Exclusion findings: missing exclusions, lists that could not be read, VM folders
//! that could not be checked.

use super::coverage::{Coverage, Verdict, list_of};
use super::facts::{cluster_name, defender_status, is_passive, os_evidence};
use super::needs::{Need, display_value, exclusion_item, needs};
use super::powershell;
use super::roles::Roles;
use super::rules::{AppliesTo, ExclusionKind, Rules};
use super::third_party::third_party_names;
use crate::{Evidence, EvidenceSource, Finding, FindingCode, Fix, Severity};
use lockstep_model::capabilities::{Feature, release_name, supports};
use lockstep_model::protection::{ExclusionList, SectionStatus};
use lockstep_model::{Cluster, Node};
use std::collections::{BTreeSet, HashMap};

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

pub(super) fn exclusion_findings(
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
            source: (&p.source).into(),
            note: format!("Get-MpPreference {} {list}", kind.parameter()),
        });
        let dae = match p.disable_auto_exclusions {
            Some(true) => "True",
            Some(false) => "False",
            None => "not captured",
        };
        ev.push(Evidence {
            source: (&p.source).into(),
            note: format!("Get-MpPreference DisableAutoExclusions {dae}"),
        });
    }
    ev.extend(os_evidence(node));
    if let Some(s) = defender_status(node).filter(|s| s.is_passive()) {
        ev.push(Evidence {
            source: (&s.source).into(),
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
        if let Some(src) = s.data.as_ref().map(|p| &p.source).or(s.source.as_ref()) {
            evidence.push(Evidence {
                source: src.into(),
                note: "Get-MpPreference: exclusion lists hidden, shortened or not captured".into(),
            });
        }
    } else if let Some(first) = node.sources.first() {
        evidence.push(Evidence {
            source: EvidenceSource::whole(first.as_str()),
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
pub(super) fn merge_unknowns(findings: Vec<Finding>) -> Vec<Finding> {
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

pub(super) fn vm_folders_finding(nodes: &[&Node], cluster: Option<&Cluster>) -> Option<Finding> {
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
            .and_then(|c| c.source.as_ref())
            .map(EvidenceSource::from)
            .or_else(|| first.sources.first().map(|s| EvidenceSource::whole(s.as_str())))
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
