//! Quorum and capacity: the snapshot fixtures (two-node without witness,
//! three-node with a file-share witness) and clusters changed in code.
mod common;
use common::*;
use lockstep_model::inventory::Witness;
use lockstep_model::{ClusterState, HostMemory, KbId};
use lockstep_plan::*;

/// The 2022 fixture with KB5032198 (November) taken off HV22-01 and
/// HV22-02 ("built after December") and, with `both`, December's KB5033118
/// put on HV22-03 too: then HV22-03 carries both and the others must take
/// November's under KB5033118 (remove, install, reinstall).
fn hvclu22(both: bool) -> lockstep_model::Cluster {
    let mut c = snapshot_cluster("hvclu22.json");
    for n in &mut c.nodes {
        if n.name != "HV22-03" {
            n.updates.retain(|u| u.kb != KbId(5032198));
        } else if both {
            let mut dec = n.updates[0].clone();
            dec.kb = KbId(5033118);
            n.updates.push(dec);
        }
    }
    c
}

#[test]
fn two_node_no_witness_with_dynamic_quorum_is_accepted() {
    // NodeMajority, no witness, and dynamic quorum has taken HV2N-02's vote
    // (DynamicWeight 0): draining HV2N-02 leaves the one vote that counts.
    let c = snapshot_cluster("two-node-no-witness.json");
    let k = server2022();
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Secure,
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Ready, "{}", render_text(&p));
    assert!(p.quorum.dynamic && p.quorum.verified);
    assert_eq!((p.quorum.total_votes, p.quorum.majority), (1, 1));
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["HV2N-02"]);
    insta::assert_snapshot!("two_node_dynamic_quorum_json", render_json(&p));
    let r = lockstep_plan::simulate::simulate(&p, &c, &k);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    assert_eq!(r.min_votes_up, 1);
}

#[test]
fn two_node_no_witness_refused_when_the_vote_holder_goes_down() {
    // Now HV2N-01, the node that holds the vote, is the one to patch.
    let mut c = snapshot_cluster("two-node-no-witness.json");
    for n in &mut c.nodes {
        if n.name == "HV2N-01" {
            n.updates.retain(|u| u.kb != KbId(5033118));
            let mut nov = n.updates[0].clone();
            nov.kb = KbId(5032198);
            n.updates.push(nov);
        } else {
            n.updates.retain(|u| u.kb != KbId(5032198));
            let mut dec = n.updates[0].clone();
            dec.kb = KbId(5033118);
            n.updates.push(dec);
        }
    }
    let k = server2022();
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Secure,
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Refused, "{}", render_text(&p));
    assert!(p.nodes.is_empty() && p.waves.is_empty());
    assert_eq!(
        p.refusals,
        [
            "quorum: 2 node votes and no witness; dynamic quorum has taken the vote of HV2N-02 (DynamicWeight 0), so it does not count: 1 vote, majority 1; taking HV2N-01 down leaves 0 of 1 votes, fewer than the majority of 1 — quorum would be lost. A cluster that loses quorum stops every role. Configure a witness (Set-ClusterQuorum -FileShareWitness \\\\server\\share, or Set-ClusterQuorum -CloudWitness -AccountName <storage account> -AccessKey <key>) or add a node, then plan again."
        ]
    );
    insta::assert_snapshot!("two_node_no_witness_text", render_text(&p));
    for e in [Emit::Powershell, Emit::Ansible, Emit::Wsus, Emit::Cau] {
        let err = emit(&p, e, &EmitOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the plan for HVCLU2N was refused"),
            "{err}"
        );
    }
}

#[test]
fn two_node_cluster_with_file_share_witness_is_planned() {
    let mut c = snapshot_cluster("two-node-no-witness.json");
    let st = c.state.get_or_insert_with(ClusterState::default);
    st.quorum_type = Some("NodeAndFileShareMajority".into());
    st.witness = Some(Witness {
        kind: "FileShareWitness".into(),
        resource: Some("File Share Witness".into()),
        path: Some("\\\\FS01\\Witness$\\HVCLU2N".into()),
    });
    // With a witness, dynamic quorum leaves both nodes their vote.
    for n in &mut c.nodes {
        if let Some(s) = n.state.as_mut() {
            s.dynamic_weight = Some(1);
        }
    }
    let k = server2022();
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Secure,
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Ready, "{}", render_text(&p));
    assert_eq!(p.quorum.total_votes, 3);
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["HV2N-02"]);
    let labels: Vec<String> = p.nodes[0].steps.iter().map(Step::label).collect();
    assert_eq!(
        labels,
        ["drain", "install KB5033118", "reboot", "verify", "resume"]
    );
    assert_eq!(p.nodes[0].mechanism, Mechanism::Dism);
    let r = lockstep_plan::simulate::simulate(&p, &c, &k);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    assert_eq!(r.min_votes_up, 2);
}

#[test]
fn hvclu22_converge_raises_the_lagging_node() {
    // HV22-03 has November's LCU and lacks December's, which the others
    // have: converging installs December's on HV22-03 and takes nothing off
    // the others.
    let c = hvclu22(false);
    let k = server2022();
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Ready, "{}", render_text(&p));
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["HV22-03"]);
    assert!(p.removals.is_empty());
    assert_eq!(p.untouched, ["HV22-01", "HV22-02"]);
    assert_eq!(
        p.left_alone
            .iter()
            .map(|l| l.reason.as_str())
            .collect::<Vec<_>>(),
        [
            "KB5032198 on HV22-01, HV22-02: covered by KB5033118; HV22-03 lacks KB5033118 and is raised to it instead of KB5033118 being removed here — left alone under --target converge"
        ]
    );
    let r = lockstep_plan::simulate::simulate(&p, &c, &k);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
}

#[test]
fn hvclu22_converge_removes_the_lcu_with_a_reboot_in_between() {
    let c = hvclu22(true);
    let k = server2022();
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Converge,
            soak_seconds: Some(7200),
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Ready, "{}", render_text(&p));
    // No real gap: fewest roles first; HV22-01 owns Cluster Group, DC03,
    // SQL01 (3), HV22-02 Available Storage, APP01, FS02 (3): name order.
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["HV22-01", "HV22-02"]);
    let n1 = p.node("HV22-01").unwrap();
    let labels: Vec<String> = n1.steps.iter().map(Step::label).collect();
    assert_eq!(
        labels,
        [
            "drain",
            "uninstall KB5033118",
            "reboot",
            "install KB5032198",
            "install KB5033118",
            "reboot",
            "verify",
            "resume"
        ]
    );
    assert_eq!(n1.reboots, 2);
    assert!(matches!(
        &n1.steps[1],
        Step::Uninstall {
            package: None,
            reboot: RebootRule::Planned,
            ..
        }
    ));
    // December's LCU is a security update taken off for a while: said so.
    let windows: Vec<(&str, usize, usize, usize, Option<bool>)> = p
        .removals
        .iter()
        .map(|r| {
            (
                r.node.as_str(),
                r.from_step,
                r.until_step,
                r.restarts,
                r.security,
            )
        })
        .collect();
    assert_eq!(
        windows,
        [
            ("HV22-01", 2, 5, 1, Some(true)),
            ("HV22-02", 2, 5, 1, Some(true))
        ]
    );
    assert_eq!(p.waves[0].soak_seconds, Some(7200));
    assert_eq!(p.capacity.len(), 2);
    assert!(p.capacity.iter().all(|c| c.fits));
    let r = lockstep_plan::simulate::simulate(&p, &c, &k);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    insta::assert_snapshot!("hvclu22_converge_text", render_text(&p));
    insta::assert_snapshot!(
        "hvclu22_converge_powershell",
        emit(&p, Emit::Powershell, &EmitOptions::default()).unwrap()
    );
}

#[test]
fn hvclu22_secure_install_only_goes_to_cau() {
    let c = snapshot_cluster("hvclu22.json");
    let k = server2022();
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Secure,
            retries: 1,
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Ready);
    assert_eq!(p.nodes.len(), 1);
    assert_eq!(p.nodes[0].installs, [KbId(5033118)]);
    let cau = emit(
        &p,
        Emit::Cau,
        &EmitOptions {
            cau_root: Some("\\\\FS01\\CAUHotfix\\HVCLU22".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        cau.contains("[pscustomobject]@{ Pass = 1; Folder = 'HV22-03'; Kb = '5033118' }"),
        "{cau}"
    );
    assert!(cau.contains("-CauPluginName 'Microsoft.HotfixPlugin'"));
    assert!(cau.contains("-MaxFailedNodes $MaxFailedNodes -MaxRetriesPerNode $MaxRetriesPerNode -RequireAllNodesOnline"));
    assert!(cau.contains("$MaxRetriesPerNode = 2\n"));
    insta::assert_snapshot!("hvclu22_secure_cau", cau);
    let yml = emit(&p, Emit::Ansible, &EmitOptions::default()).unwrap();
    assert!(yml.contains("      register: lockstep_install_5033118\n      retries: 1\n      delay: 60\n      until: lockstep_install_5033118 is succeeded\n"), "{yml}");
    // The configuration file is well-formed XML with the documented elements.
    let xml = lockstep_plan::emit::cau::hotfix_config_xml();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut names = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                names.push(e.name().into_inner().to_string())
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(
        names,
        [
            "HotfixConfiguration",
            "DefaultRules",
            "ExtensionRules",
            "Extension",
            "Template",
            "ExitConditions",
            "Success",
            "ExitCode",
            "Success_RebootRequired",
            "ExitCode",
            "AlreadyInstalled",
            "ExitCode",
            "NotApplicable",
            "ExitCode"
        ]
    );
}

#[test]
fn largest_node_whose_vms_do_not_fit_is_refused_with_the_figures() {
    let mut c = hvclu22(true);
    const GIB: u64 = 1024 * 1024 * 1024;
    // Leave the others 20 GiB free each; HV22-01 runs SQL01 (32 GiB) and DC03.
    for n in &mut c.nodes {
        if n.name != "HV22-01" {
            n.memory = Some(HostMemory {
                total_bytes: 256 * GIB,
                free_bytes: Some(20 * GIB),
            });
        }
    }
    let k = server2022();
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Refused, "{}", render_text(&p));
    let cap: Vec<&String> = p
        .refusals
        .iter()
        .filter(|r| r.starts_with("capacity: HV22-01"))
        .collect();
    assert_eq!(cap.len(), 1, "{:#?}", p.refusals);
    assert!(
        cap[0].contains(
            "the nodes that stay up have 40.0 GiB free (HV22-02 20.0 GiB, HV22-03 20.0 GiB) — they do not fit"
        ),
        "{}",
        cap[0]
    );
    insta::assert_snapshot!("capacity_refused_text", render_text(&p));
    // The memory each host keeps for itself counts too: with 250 GiB kept
    // on each host, HV22-01's VMs no longer fit where they did.
    let p = plan_k(
        &hvclu22(true),
        &k,
        &PlanOptions {
            target: Target::Converge,
            memory_reserve_bytes: Some(250 * GIB),
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Refused, "{}", render_text(&p));
    assert!(
        p.refusals.iter().any(|r| r.starts_with("capacity: HV22-01")
            && r.contains("after keeping 250.0 GiB each for the host")),
        "{:#?}",
        p.refusals
    );
}

#[test]
fn max_parallel_only_where_quorum_allows() {
    // HV22-03 also lacks KB5012170 (a real gap: it goes first); HV22-01 and
    // HV22-02 take November's LCU under December's.
    let mut c = hvclu22(true);
    for n in &mut c.nodes {
        if n.name == "HV22-03" {
            n.updates.retain(|u| u.kb != KbId(5012170));
        }
    }
    let k = server2022();
    // 3 nodes + witness = 4 votes, majority 3: two nodes down leaves 2.
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Converge,
            max_parallel: 2,
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Ready, "{}", render_text(&p));
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["HV22-03", "HV22-01", "HV22-02"]);
    assert!(p.waves.iter().all(|w| w.nodes.len() == 1));
    assert_eq!(
        p.warnings,
        [
            "HV22-03 had a reboot pending in the inventory; the gate stops before it until it is restarted",
            "cluster group \"TEST01\" was Offline in the inventory; the gate requires every group Online (--allow-offline-group names one that may stay offline)",
            "--max-parallel 2: taking HV22-01, HV22-02 down together would lose quorum; they go one at a time",
        ]
    );
    let r = lockstep_plan::simulate::simulate(&p, &c, &k);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    // A group the admin lets stay offline is no warning, and the script's
    // health gate skips it by default.
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Converge,
            allow_offline_groups: vec!["test01".into()],
            ..Default::default()
        },
    );
    assert!(
        !p.warnings.iter().any(|w| w.contains("TEST01")),
        "{:#?}",
        p.warnings
    );
    let script = emit(&p, Emit::Powershell, &EmitOptions::default()).unwrap();
    assert!(script.contains("    [string[]] $ExcludeGroup = @('test01'),\n"));
}

#[test]
fn the_manifest_states_the_witness_and_the_option_overrides_it() {
    // HV01 and HV03 of the 2008 R2 example: plain captures, no cluster state.
    let mut c = example_cluster();
    c.nodes.retain(|n| n.name == "HV01" || n.name == "HV03");
    let converge = PlanOptions {
        target: Target::Converge,
        ..Default::default()
    };
    let p = plan_with(&c, &converge);
    assert_eq!(p.status, PlanStatus::Refused, "{}", render_text(&p));
    c.admin.witness = Some(Some("DiskWitness".into()));
    c.admin.memory_reserve_bytes = Some(4 << 30);
    let p = plan_with(&c, &converge);
    assert_eq!(p.status, PlanStatus::Ready, "{}", render_text(&p));
    assert_eq!(p.settings.witness.as_deref(), Some("DiskWitness"));
    assert_eq!(p.settings.memory_reserve_bytes, 4 << 30);
    assert_eq!(
        p.quorum.explanation,
        "2 node votes and a witness (DiskWitness, as the admin states): 3 votes, majority 2; with 1 node down at a time at least 2 votes stay up — quorum kept"
    );
    // --witness none on the command line wins over the manifest.
    let p = plan_with(
        &c,
        &PlanOptions {
            witness: Some(None),
            ..converge.clone()
        },
    );
    assert_eq!(p.status, PlanStatus::Refused);
    assert_eq!(p.settings.witness.as_deref(), Some("none"));
}

#[test]
fn max_parallel_with_nothing_to_do_claims_no_node_changes() {
    // Both nodes get HV2N-01's updates: converged, nothing to plan.
    let mut c = snapshot_cluster("two-node-no-witness.json");
    let updates = c.nodes[0].updates.clone();
    for n in &mut c.nodes {
        n.updates = updates.clone();
    }
    let k = server2022();
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Converge,
            max_parallel: 2,
            ..Default::default()
        },
    );
    assert!(p.nodes.is_empty(), "{}", render_text(&p));
    assert!(
        !p.warnings.iter().any(|w| w.starts_with("--max-parallel")),
        "{:#?}",
        p.warnings
    );
    // One node to change: said.
    let c = snapshot_cluster("two-node-no-witness.json");
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Secure,
            max_parallel: 2,
            ..Default::default()
        },
    );
    assert_eq!(p.nodes.len(), 1, "{}", render_text(&p));
    assert_eq!(
        p.warnings
            .iter()
            .filter(|w| w.starts_with("--max-parallel"))
            .collect::<Vec<_>>(),
        ["--max-parallel 2: only one node changes; every node goes alone"]
    );
}
