//! The JSON form of real plans (ready, empty, refused) validates against
//! schema/plan-v1.schema.json, and the schema rejects a broken plan.
mod common;
use common::*;
use lockstep_plan::*;
use serde_json::Value;

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/plan-v1.schema.json"
    ))
    .unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .expect("valid draft 2020-12 schema")
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path().as_str()))
        .collect()
}

#[test]
fn plans_validate_against_the_schema() {
    let v = validator();
    let ex = example_cluster();
    let mut plans = vec![
        plan_with(
            &ex,
            &PlanOptions {
                target: Target::Converge,
                soak_seconds: Some(1800),
                ..Default::default()
            },
        ),
        plan_with(
            &ex,
            &PlanOptions {
                target: Target::Secure,
                ..Default::default()
            },
        ),
    ];
    let k = server2022();
    plans.push(plan_k(
        &snapshot_cluster("two-node-no-witness.json"),
        &k,
        &PlanOptions {
            target: Target::Secure,
            ..Default::default()
        },
    ));
    let mut hv = snapshot_cluster("hvclu22.json");
    for n in &mut hv.nodes {
        if n.name != "HV22-03" {
            n.updates.retain(|u| u.kb != lockstep_model::KbId(5032198));
        }
    }
    plans.push(plan_k(
        &hv,
        &k,
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    ));
    // Without dynamic weights the two-node cluster has no spare vote: refused.
    let mut two = snapshot_cluster("two-node-no-witness.json");
    for n in &mut two.nodes {
        if let Some(s) = n.state.as_mut() {
            s.dynamic_weight = None;
        }
    }
    plans.push(plan_k(
        &two,
        &k,
        &PlanOptions {
            target: Target::Secure,
            ..Default::default()
        },
    ));
    let statuses: Vec<PlanStatus> = plans.iter().map(|p| p.status).collect();
    assert_eq!(
        statuses,
        [
            PlanStatus::Ready,
            PlanStatus::Empty,
            PlanStatus::Ready,
            PlanStatus::Ready,
            PlanStatus::Refused
        ]
    );
    for p in &plans {
        let doc: Value = serde_json::from_str(&render_json(p)).unwrap();
        assert_eq!(errors(&v, &doc), Vec::<String>::new(), "{}", p.cluster);
    }
    let all: Value = serde_json::to_value(&plans).unwrap();
    assert!(errors(&v, &all).is_empty());
    // A broken plan is caught: unknown step action, missing field.
    let mut bad: Value = serde_json::from_str(&render_json(&plans[0])).unwrap();
    bad["nodes"][0]["steps"][1]["action"] = Value::String("format-disk".into());
    assert!(!errors(&v, &bad).is_empty());
    let mut bad: Value = serde_json::from_str(&render_json(&plans[0])).unwrap();
    bad.as_object_mut().unwrap().remove("target");
    assert!(!errors(&v, &bad).is_empty());
}
