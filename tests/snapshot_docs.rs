//! docs/collecting.md maps every schema field to the script line that fills
//! it; this keeps the line numbers honest and the table complete.

use serde_json::Value;
use std::collections::BTreeSet;

const DOC: &str = include_str!("../docs/collecting.md");
const SCRIPT: &str = include_str!("../crates/collect/Collect-LockstepSnapshot.ps1");
const SCHEMA: &str = include_str!("../schema/snapshot-v1.schema.json");

/// (field path, script line) from the table rows.
fn rows() -> Vec<(String, usize)> {
    DOC.lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| {
            let mut cells = l.split(" | ");
            let field = cells
                .next()?
                .trim_start_matches("| ")
                .trim_matches('`')
                .to_string();
            let line = cells.next()?.trim().parse().ok()?;
            Some((field, line))
        })
        .collect()
}

#[test]
fn every_row_points_at_the_line_that_writes_the_field() {
    let script: Vec<&str> = SCRIPT.lines().collect();
    let rows = rows();
    assert!(rows.len() > 100, "table not found: {} rows", rows.len());
    for (field, line) in rows {
        let key = field.rsplit('.').next().unwrap_or(&field);
        let text = script.get(line - 1).copied().unwrap_or("");
        let writes = text.contains(&format!("{key} "))
            || text.contains(&format!("{key}="))
            || text.contains(&format!("'{key}'"));
        assert!(
            writes,
            "docs/collecting.md: {field} -> line {line} is {text:?}"
        );
    }
}

#[test]
fn every_schema_field_has_a_row() {
    fn props(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(p)) = m.get("properties") {
                    out.extend(p.keys().cloned());
                }
                m.values().for_each(|x| props(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| props(x, out)),
            _ => {}
        }
    }
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema");
    let mut fields = BTreeSet::new();
    props(&schema, &mut fields);
    let documented: BTreeSet<String> = rows()
        .into_iter()
        .map(|(f, _)| f.rsplit('.').next().unwrap_or(&f).to_string())
        .collect();
    let missing: Vec<&String> = fields.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "schema fields without a row in docs/collecting.md: {missing:?}"
    );
}
