//! Needs: what the exclusion rules require on a node, and how a need is shown.

use super::facts::os_name;
use super::matching;
use super::roles::Roles;
use super::rules::{self, ExclusionKind, Requirement, Rules};
use crate::{Item, ItemKind};
use lockstep_model::{Cluster, Node};

/// One thing a rule requires on a node.
#[derive(Debug, Clone)]
pub(super) struct Need<'r> {
    pub(super) rule: &'r Requirement,
    /// As written in the rule (environment variables kept) or derived from the inputs.
    pub(super) value: String,
    /// "applies from Windows Server 2016; OS version unknown" and the like.
    pub(super) note: Option<String>,
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

pub(super) fn needs<'r>(
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

pub(super) fn vm_folders_unchecked(node: &Node, cluster: Option<&Cluster>, rules: &Rules) -> bool {
    let roles = Roles::of(node, cluster);
    node.vms.is_none()
        && rules.requirements.iter().any(|r| {
            r.from == Some(rules::Derived::VmFolders) && roles.holds(r.applies_to).is_some()
        })
}

pub(super) fn display_value(kind: ExclusionKind, v: &str) -> String {
    match kind {
        ExclusionKind::Extension => format!(".{}", matching::extension(v)),
        _ => v.to_string(),
    }
}

/// An exclusion as a finding item.
pub(super) fn exclusion_item(need: &Need<'_>, node: &str) -> Item {
    let kind = match need.rule.kind {
        ExclusionKind::Extension => ItemKind::Extension,
        ExclusionKind::Path => ItemKind::Path,
        ExclusionKind::Process => ItemKind::Process,
    };
    Item::new(kind, display_value(need.rule.kind, &need.value))
        .by_rule(need.rule.id.clone())
        .on(node)
}
