//! One node's steps: drain, removals, installs in supersedence order,
//! restarts, verification, resume.

use super::needs::Need;
use crate::graph::{Graph, is_cumulative, tier};
use crate::model::*;
use crate::quote::validate_package;
use lockstep_check::knowledge::{Knowledge, UpdateKind};
use lockstep_model::{KbId, KbSet, Node};
use std::collections::{BTreeMap, BTreeSet};

pub fn mechanism_of(node: &Node) -> Mechanism {
    match node.os.version.as_ref().map(|v| v.value.major()) {
        Some(6) => Mechanism::Wusa,
        Some(m) if m >= 10 => Mechanism::Dism,
        _ => Mechanism::Auto,
    }
}

fn kb_list(kbs: &[KbId]) -> String {
    kbs.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a node's steps are, or why the node cannot be planned.
pub enum NodeOutcome {
    Planned {
        plan: NodePlan,
        removals: Vec<Removal>,
        warnings: Vec<String>,
    },
    Refused(String),
}

/// The DISM package of an installed KB, from the inventory's package list.
fn dism_package(node: &Node, kb: KbId) -> Option<String> {
    let needle = format!("kb{}~", kb.number());
    node.packages
        .as_ref()?
        .iter()
        .find(|p| {
            p.name.to_ascii_lowercase().contains(&needle)
                && !p.state.eq_ignore_ascii_case("Superseded")
        })
        .map(|p| p.name.clone())
}

/// Whether the catalog or the inventory calls the update a security
/// update; `None` when nothing says.
fn is_security(node: &Node, kb: KbId, k: &dyn Knowledge) -> Option<bool> {
    let described = node
        .update(kb)
        .and_then(|u| u.description.as_deref())
        .is_some_and(|d| d.to_ascii_lowercase().contains("security"));
    // MSRC's feed (and WES-NG, derived from it) lists security releases only.
    (described || k.kb_known(kb)).then_some(true)
}

pub fn node_plan(
    node: &Node,
    needed: &BTreeMap<KbId, Need>,
    graph: &mut Graph<'_>,
    k: &dyn Knowledge,
    settings: &PlanSettings,
) -> Result<NodeOutcome, crate::quote::InvalidValue> {
    let mechanism = mechanism_of(node);
    if let Some(v) = node.os.version.as_ref().filter(|v| v.value.major() < 6) {
        return Ok(NodeOutcome::Refused(format!(
            "{}: Windows {} (XP / Server 2003 family) installs updates from update.exe packages, which lockstep does not drive; patch it by hand",
            node.name, v.value
        )));
    }
    let blocks = blockers(node, needed, graph);
    if let Some(ssu) = blocks
        .keys()
        .find(|b| graph.kind(**b) == Some(UpdateKind::ServicingStack))
    {
        return Ok(NodeOutcome::Refused(format!(
            "{}: {} would have to be removed first, but it is a servicing stack update, which cannot be uninstalled",
            node.name, ssu
        )));
    }
    let product = graph.product().map(str::to_string);
    let kind_tier = |kb: KbId| tier(graph_kind(k, product.as_deref(), kb));
    let all: KbSet = needed.keys().chain(blocks.keys()).copied().collect();
    let (order, cycle) = graph.install_order(&all, kind_tier);
    let mut warnings = Vec::new();
    if cycle {
        warnings.push(format!(
            "{}: the supersedence data has a cycle among {}; they are installed in KB order",
            node.name,
            kb_list(&order)
        ));
    }
    let removal_set: KbSet = blocks.keys().copied().collect();
    let (removal_order, _) = graph.install_order(&removal_set, kind_tier);
    let removals: Vec<KbId> = removal_order.into_iter().rev().collect();

    let restart = restart_after_removals(&removals, graph, k, settings.reboot_between);
    let rule = if restart.is_some() {
        RebootRule::Planned
    } else {
        RebootRule::IfRequested
    };

    let mut steps = vec![Step::Drain];
    for &b in &removals {
        let package = if mechanism == Mechanism::Dism {
            dism_package(node, b)
        } else {
            None
        };
        if let Some(p) = &package {
            validate_package(p)?;
        }
        let blocked = blocks.get(&b).cloned().unwrap_or_default();
        steps.push(Step::Uninstall {
            kb: b,
            package,
            reason: format!(
                "it supersedes {}, which cannot be installed while it is present (not applicable, 0x80240017); reinstalled after",
                kb_list(&blocked)
            ),
            reboot: rule,
        });
    }
    let mut reboots = 0;
    if let Some(reason) = restart {
        reboots += 1;
        steps.push(Step::Reboot { reason });
    }
    for &kb in &order {
        let reinstall = removal_set.contains(&kb) && !needed.contains_key(&kb);
        let reason = if reinstall {
            "reinstall: removed above to make room for the update it supersedes".to_string()
        } else {
            needed
                .get(&kb)
                .map(|n| n.reason.clone())
                .unwrap_or_default()
        };
        steps.push(Step::Install {
            kb,
            reinstall,
            reason,
        });
    }
    reboots += 1;
    steps.push(Step::Reboot {
        reason: "one restart completes every install and removal on the node".to_string(),
    });
    let mut present: Vec<KbId> = all.iter().copied().collect();
    present.sort();
    steps.push(Step::Verify { present });
    steps.push(Step::Resume);

    let removal_windows = windows(node, &steps, k);
    let mut installs: Vec<KbId> = needed.keys().copied().collect();
    installs.sort();
    Ok(NodeOutcome::Planned {
        plan: NodePlan {
            name: node.name.clone(),
            os_version: node.os.version.as_ref().map(|v| v.value.to_string()),
            mechanism,
            roles: None,
            canary: false,
            gap: needed.values().any(|n| n.gap),
            steps,
            installs,
            reinstalls: removals,
            reboots,
        },
        removals: removal_windows,
        warnings,
    })
}

/// Installed updates above a needed one block its install (Windows: not
/// applicable, 0x80240017): removed first, put back after. Each with the
/// needed updates it blocks.
fn blockers(
    node: &Node,
    needed: &BTreeMap<KbId, Need>,
    graph: &mut Graph<'_>,
) -> BTreeMap<KbId, Vec<KbId>> {
    let installed: KbSet = node.updates.iter().map(|u| u.kb).collect();
    let reach = graph.reach_up(needed.keys().copied());
    let blocker_set: KbSet = reach
        .into_iter()
        .filter(|kb| installed.contains(kb) && !needed.contains_key(kb))
        .collect();
    let mut blocks: BTreeMap<KbId, Vec<KbId>> = BTreeMap::new();
    if !blocker_set.is_empty() {
        for &kb in needed.keys() {
            for b in graph.superseders_in(kb, &blocker_set) {
                blocks.entry(b).or_default().push(kb);
            }
        }
    }
    blocks
}

/// Why the node restarts between the removals and the installs, if it
/// must: a removed update is cumulative (its removal completes only at
/// restart), the catalog says its removal needs one, or the admin asks.
fn restart_after_removals(
    removals: &[KbId],
    graph: &Graph<'_>,
    k: &dyn Knowledge,
    reboot_between: bool,
) -> Option<String> {
    if removals.is_empty() {
        return None;
    }
    let cumulative: Vec<KbId> = removals
        .iter()
        .copied()
        .filter(|b| is_cumulative(graph.kind(*b)))
        .collect();
    let said: Vec<KbId> = removals
        .iter()
        .copied()
        .filter(|b| {
            graph
                .product()
                .and_then(|p| k.restart_required(*b, p))
                .unwrap_or(false)
        })
        .collect();
    if !cumulative.is_empty() {
        Some(format!(
            "{} {} cumulative: its removal completes only at restart, and the older update's applicability is judged against it until then",
            kb_list(&cumulative),
            if cumulative.len() == 1 { "is" } else { "are" }
        ))
    } else if !said.is_empty() {
        Some(format!(
            "the catalog says removing {} needs a restart; until then the older update's applicability is judged against it",
            kb_list(&said)
        ))
    } else if reboot_between {
        Some("--reboot-between: a restart after the removals, before the installs".to_string())
    } else {
        None
    }
}

fn graph_kind(k: &dyn Knowledge, product: Option<&str>, kb: KbId) -> Option<UpdateKind> {
    product.and_then(|p| k.kind(kb, p))
}

/// For every removed update: from its uninstall to its reinstall.
fn windows(node: &Node, steps: &[Step], k: &dyn Knowledge) -> Vec<Removal> {
    let mut out = Vec::new();
    let mut reinstall_at: BTreeMap<KbId, usize> = BTreeMap::new();
    for (i, s) in steps.iter().enumerate() {
        if let Step::Install {
            kb,
            reinstall: true,
            ..
        } = s
        {
            reinstall_at.insert(*kb, i);
        }
    }
    let mut seen = BTreeSet::new();
    for (i, s) in steps.iter().enumerate() {
        let Step::Uninstall { kb, .. } = s else {
            continue;
        };
        if !seen.insert(*kb) {
            continue;
        }
        let Some(&until) = reinstall_at.get(kb) else {
            continue;
        };
        let restarts = steps[i..until]
            .iter()
            .filter(|s| matches!(s, Step::Reboot { .. }))
            .count();
        let security = is_security(node, *kb, k);
        let what = match security {
            Some(true) => "a security update",
            _ => "no catalog says whether it is a security update: treat it as one",
        };
        out.push(Removal {
            node: node.name.clone(),
            kb: *kb,
            security,
            from_step: i + 1,
            until_step: until + 1,
            restarts,
            window: format!(
                "{kb} ({what}) is absent from {} from step {} (uninstall) to step {} (reinstall), {}; the node is drained meanwhile",
                node.name,
                i + 1,
                until + 1,
                match restarts {
                    0 => "with no restart between".to_string(),
                    1 => "across 1 restart".to_string(),
                    n => format!("across {n} restarts"),
                }
            ),
        });
    }
    out
}
