//! Restarts between a removal and the next install: planned when the
//! catalog says the removal needs one (or the update is cumulative, or
//! --reboot-between), otherwise made by the scripts only when the removal
//! asks (3010); the simulator rejects an install that would be judged
//! against a half-removed update.
mod common;
use common::*;
use lockstep_model::{
    Cluster, InstalledUpdate, KbId, Node, OsInfo, SourceRef, Sourced, WinVersion,
};
use lockstep_plan::*;

fn node(name: &str, kbs: &[u32]) -> Node {
    let src = SourceRef::new("t", 1);
    Node {
        name: name.into(),
        os: OsInfo {
            caption: Some(Sourced::new(
                "Microsoft Windows Server 2012 R2 Datacenter".into(),
                src.clone(),
            )),
            version: Some(Sourced::new(WinVersion::new(6, 3, 9600, 0), src.clone())),
            ..Default::default()
        },
        updates: kbs
            .iter()
            .map(|&k| InstalledUpdate {
                kb: KbId(k),
                id_text: None,
                description: None,
                installed_on: None,
                installed_by: None,
                source: src.clone(),
            })
            .collect(),
        ..Default::default()
    }
}

/// Three nodes all with KB3000002; N1 also has KB3000001, which KB3000002
/// supersedes: converging, N2 and N3 remove KB3000002, install KB3000001,
/// reinstall KB3000002.
fn cluster() -> Cluster {
    Cluster {
        name: "C".into(),
        nodes: vec![
            node("N1", &[3000001, 3000002]),
            node("N2", &[3000002]),
            node("N3", &[3000002]),
        ],
        ..Default::default()
    }
}

fn labels(p: &Plan, n: &str) -> Vec<String> {
    p.node(n).unwrap().steps.iter().map(Step::label).collect()
}

#[test]
fn the_catalogs_restart_data_plans_the_reboot() {
    let mut k = TestKnowledge::new("Windows Server 2012 R2", &[(3000002, 3000001)]);
    let converge = PlanOptions {
        target: Target::Converge,
        ..Default::default()
    };
    // Nothing says a restart is needed: the rule is left to the exit code.
    let p = plan_k(&cluster(), &k, &converge);
    assert_eq!(
        labels(&p, "N2"),
        [
            "drain",
            "uninstall KB3000002",
            "install KB3000001",
            "install KB3000002",
            "reboot",
            "verify",
            "resume"
        ]
    );
    assert!(matches!(
        p.node("N2").unwrap().steps[1],
        Step::Uninstall {
            reboot: RebootRule::IfRequested,
            ..
        }
    ));
    // The catalog says removing KB3000002 needs a restart.
    k.restart.insert(KbId(3000002));
    let p = plan_k(&cluster(), &k, &converge);
    assert_eq!(
        labels(&p, "N2"),
        [
            "drain",
            "uninstall KB3000002",
            "reboot",
            "install KB3000001",
            "install KB3000002",
            "reboot",
            "verify",
            "resume"
        ]
    );
    assert!(matches!(
        &p.node("N2").unwrap().steps[2],
        Step::Reboot { reason } if reason == "the catalog says removing KB3000002 needs a restart; until then the older update's applicability is judged against it"
    ));
    assert_eq!(p.removals[0].restarts, 1);
    // Without the planned restart the simulator rejects the plan.
    let mut bad = p.clone();
    for n in &mut bad.nodes {
        n.steps.remove(2);
    }
    let r = lockstep_plan::simulate::simulate(&bad, &cluster(), &k);
    assert!(
        r.violations
            .iter()
            .any(|v| v
                == "N2: install of KB3000001 before the restart that removing KB3000002 needs"),
        "{:#?}",
        r.violations
    );
}

#[test]
fn reboot_between_forces_it() {
    let k = TestKnowledge::new("Windows Server 2012 R2", &[(3000002, 3000001)]);
    let p = plan_k(
        &cluster(),
        &k,
        &PlanOptions {
            target: Target::Converge,
            reboot_between: true,
            ..Default::default()
        },
    );
    assert!(matches!(
        &p.node("N3").unwrap().steps[2],
        Step::Reboot { reason } if reason == "--reboot-between: a restart after the removals, before the installs"
    ));
    assert!(p.settings.reboot_between);
    // The scripts carry the rule: restart before the next install when the
    // removal exits 3010 (only where no restart is planned).
    let k = TestKnowledge::new("Windows Server 2012 R2", &[(3000002, 3000001)]);
    let p = plan_k(
        &cluster(),
        &k,
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    );
    let ps1 = emit(&p, Emit::Powershell, &EmitOptions::default()).unwrap();
    assert!(ps1.contains("[pscustomobject]@{ Action = 'uninstall'; Kb = '3000002'; Package = ''; Present = @(); RestartIfRequested = $true;"));
    assert!(ps1.contains(
        "if ($verdict -eq 'reboot-required' -and $step.RestartIfRequested) { $restartOwed = $true }"
    ));
    let yml = emit(&p, Emit::Ansible, &EmitOptions::default()).unwrap();
    assert!(yml.contains("      when: (lockstep_uninstall_3000002.reboot_required | default(false)) or (lockstep_uninstall_3000002.rc | default(0)) == 3010\n"));
}
