//! Acceptance: the bundled four-node Server 2008 R2 SP1 example.
mod common;
use common::*;
use lockstep_model::KbId;
use lockstep_plan::emit::EmitError;
use lockstep_plan::*;

fn converge() -> Plan {
    plan_with(
        &example_cluster(),
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    )
}

fn opts() -> EmitOptions {
    EmitOptions {
        source: Some("\\\\fileserver\\updates".into()),
        cau_root: None,
        wsus_group: Some("Hyper-V hosts".into()),
    }
}

#[test]
fn converge_orders_hv03_then_hv04_with_the_dance() {
    let p = converge();
    assert_eq!(p.status, PlanStatus::Ready);
    assert_eq!(p.target, Target::Converge);
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["HV03", "HV04"]);
    assert_eq!(p.untouched, ["HV01", "HV02"]);
    let waves: Vec<Vec<String>> = p.waves.iter().map(|w| w.nodes.clone()).collect();
    assert_eq!(waves, [vec!["HV03".to_string()], vec!["HV04".to_string()]]);
    for n in &p.nodes {
        let labels: Vec<String> = n.steps.iter().map(Step::label).collect();
        assert_eq!(
            labels,
            [
                "drain",
                "uninstall KB2616676",
                "install KB2607712",
                "install KB2616676",
                "reboot",
                "verify",
                "resume"
            ],
            "{}",
            n.name
        );
        assert_eq!(n.mechanism, Mechanism::Wusa);
        assert_eq!(n.reboots, 1);
        assert_eq!(n.installs, [KbId(2607712)]);
        assert_eq!(n.reinstalls, [KbId(2616676)]);
        assert!(
            matches!(&n.steps[5], Step::Verify { present } if present == &[KbId(2607712), KbId(2616676)])
        );
        assert!(matches!(
            &n.steps[3],
            Step::Install {
                reinstall: true,
                ..
            }
        ));
    }
    assert!(p.nodes[0].canary && !p.nodes[1].canary);
    assert!(p.left_alone.is_empty());
    assert_eq!(p.quorum.total_votes, 4);
    assert_eq!(p.quorum.majority, 3);
    assert!(!p.quorum.verified);
    assert_eq!(p.unverified.len(), 5, "{:#?}", p.unverified);
}

#[test]
fn secure_is_empty_and_says_the_drift_is_covered() {
    let p = plan_with(
        &example_cluster(),
        &PlanOptions {
            target: Target::Secure,
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Empty);
    assert!(p.nodes.is_empty() && p.waves.is_empty());
    assert!(p.summary.contains("the drift is covered"), "{}", p.summary);
    assert_eq!(p.left_alone.len(), 1);
    assert_eq!(
        p.left_alone[0].reason,
        "KB2607712 on HV03, HV04: covered by KB2616676, supersedence intended (known issue LOCKSTEP-2011-0001) — left alone under --target secure"
    );
    insta::assert_snapshot!("kb2616676_secure_text", render_text(&p));
    // Every emitter still says there is nothing to do or emits a no-op.
    insta::assert_snapshot!(
        "kb2616676_secure_ansible",
        emit(&p, Emit::Ansible, &opts()).unwrap()
    );
}

#[test]
fn simulator_accepts_the_converge_plan() {
    let c = example_cluster();
    let known = known();
    let k =
        lockstep_check::sources::WithKnownIssues::new(lockstep_check::sources::NoCatalog, &known);
    let p = converge();
    let r = lockstep_plan::simulate::simulate(&p, &c, &k);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    for n in &r.final_cluster.nodes {
        assert!(
            n.has_kb(KbId(2607712)) && n.has_kb(KbId(2616676)),
            "{}",
            n.name
        );
    }
    assert_eq!(r.max_down, 1);
    assert_eq!(r.min_votes_up, 3);
}

#[test]
fn soak_and_order_flags() {
    let p = plan_with(
        &example_cluster(),
        &PlanOptions {
            target: Target::Converge,
            order: Some(vec!["hv04".into(), "HV01".into()]),
            soak_seconds: Some(parse_duration("30m").unwrap()),
            ..Default::default()
        },
    );
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["HV04", "HV03"]);
    assert_eq!(p.settings.order, "given");
    assert_eq!(p.waves[0].soak_seconds, Some(1800));
    assert_eq!(p.waves[1].soak_seconds, None);
    assert_eq!(
        p.warnings,
        ["--order names HV01, which has nothing to do under --target converge"]
    );
    let known = known();
    let k =
        lockstep_check::sources::WithKnownIssues::new(lockstep_check::sources::NoCatalog, &known);
    let err = plan_cluster(
        &example_cluster(),
        &report_k(&example_cluster(), &k),
        &k,
        &PlanOptions {
            order: Some(vec!["HV09".into()]),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "--order names \"HV09\", which is not a node of cluster kb2616676 (nodes: HV01, HV02, HV03, HV04)"
    );
    assert_eq!(parse_duration("2h").unwrap(), 7200);
    assert_eq!(parse_duration("1h30m").unwrap(), 5400);
    assert!(parse_duration("30x").is_err());
    assert!(parse_duration("30m5").is_err());
}

#[test]
fn every_emitter_snapshot() {
    let p = converge();
    insta::assert_snapshot!("kb2616676_converge_text", render_text(&p));
    insta::assert_snapshot!("kb2616676_converge_json", render_json(&p));
    insta::assert_snapshot!(
        "kb2616676_converge_powershell",
        emit(&p, Emit::Powershell, &opts()).unwrap()
    );
    insta::assert_snapshot!(
        "kb2616676_converge_ansible",
        emit(&p, Emit::Ansible, &opts()).unwrap()
    );
    // WSUS cannot drain a node around an uninstall approval: refused, with why.
    let wsus = emit(&p, Emit::Wsus, &opts()).unwrap_err();
    assert!(matches!(wsus, EmitError::Unsupported(_)));
    insta::assert_snapshot!("kb2616676_converge_wsus_refused", wsus.to_string());
    let cau = emit(&p, Emit::Cau, &opts()).unwrap_err();
    assert!(matches!(cau, EmitError::Unsupported(_)));
    insta::assert_snapshot!("kb2616676_converge_cau_refused", cau.to_string());
}

#[test]
fn report_plans_for_the_html_report() {
    let inv = example_inventory();
    let known = known();
    let k =
        lockstep_check::sources::WithKnownIssues::new(lockstep_check::sources::NoCatalog, &known);
    let reports: Vec<_> = inv.clusters.iter().map(|c| report_k(c, &k)).collect();
    let plans = report_plans(&inv, &reports, &k, Target::Converge);
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].0, "kb2616676");
    assert_eq!(plans[0].1.as_ref().unwrap(), &converge());
    // What the report lists for a node is what the text plan numbers.
    let p = converge();
    let node = &p.nodes[0];
    assert_eq!(
        node_heading(node),
        "HV03 [canary] — Windows 6.1.7601, wusa.exe"
    );
    let lines = step_lines(node);
    assert_eq!(lines.len(), node.steps.len());
    let text = render_text(&p);
    for (i, line) in lines.iter().enumerate() {
        assert!(
            text.contains(&format!("     {}. {line}\n", i + 1)),
            "{line}"
        );
    }
}
