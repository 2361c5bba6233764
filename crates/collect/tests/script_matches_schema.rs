//! The collector writes exactly the field names the schema defines: every
//! key of every hashtable literal in the script is a schema property (or one
//! of the few keys that never reach the JSON), and every schema property is
//! written by the script.

use serde_json::Value;
use std::collections::BTreeSet;
use tree_sitter::{Node, Parser};

/// Hashtable keys that are not snapshot fields: the node script's wrapper
/// (`computerName`, dropped before writing), the pairing of each answer with
/// the node it came from (`target`, `answer`) and the Invoke-Command splat.
const NOT_FIELDS: &[&str] = &[
    "computerName",
    "target",
    "answer",
    "ComputerName",
    "ScriptBlock",
    "ArgumentList",
    "ThrottleLimit",
    "ErrorAction",
    "ErrorVariable",
];

fn walk<'t>(n: Node<'t>, out: &mut Vec<Node<'t>>) {
    out.push(n);
    let mut c = n.walk();
    for ch in n.children(&mut c) {
        walk(ch, out);
    }
}

fn schema_properties(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(p)) = m.get("properties") {
                out.extend(p.keys().cloned());
            }
            m.values().for_each(|x| schema_properties(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| schema_properties(x, out)),
        _ => {}
    }
}

fn script_keys(src: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("grammar");
    let tree = parser.parse(src, None).expect("tree");
    let mut nodes = Vec::new();
    walk(tree.root_node(), &mut nodes);
    let text = |n: Node| n.utf8_text(src.as_bytes()).unwrap_or("").to_string();
    // Keys of hashtable literals.
    let keys: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n.kind() == "key_expression")
        .map(|n| text(*n).trim_matches(|c| c == '\'' || c == '"').to_string())
        .filter(|k| !k.chars().all(|c| c.is_ascii_digit()))
        .collect();
    // Every single-quoted literal too: keys set by index (`$entry['state']`)
    // and the section names of an unreachable node.
    let literals: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n.kind() == "string_literal")
        .map(|n| text(*n).trim_matches(|c| c == '\'' || c == '"').to_string())
        .collect();
    (keys, literals)
}

fn unknown_keys(src: &str) -> Vec<String> {
    let schema: Value = serde_json::from_str(lockstep_collect::SCHEMA_JSON).expect("schema");
    let mut fields = BTreeSet::new();
    schema_properties(&schema, &mut fields);
    let (keys, _) = script_keys(src);
    assert!(keys.len() > 60, "walk found too few keys: {keys:?}");
    keys.into_iter()
        .filter(|k| !fields.contains(k) && !NOT_FIELDS.contains(&k.as_str()))
        .collect()
}

#[test]
fn every_hashtable_key_is_a_schema_field() {
    let unknown = unknown_keys(lockstep_collect::SCRIPT);
    assert!(
        unknown.is_empty(),
        "script writes fields the schema does not define: {unknown:?}"
    );
}

#[test]
fn a_misspelt_field_is_caught() {
    let typo = lockstep_collect::SCRIPT.replacen("hotFixId    =", "hotFixID    =", 1);
    assert_ne!(typo, lockstep_collect::SCRIPT);
    assert_eq!(unknown_keys(&typo), ["hotFixID"]);
}

#[test]
fn every_schema_field_is_written_by_the_script() {
    let schema: Value = serde_json::from_str(lockstep_collect::SCHEMA_JSON).expect("schema");
    let mut fields = BTreeSet::new();
    schema_properties(&schema, &mut fields);
    let (keys, literals) = script_keys(lockstep_collect::SCRIPT);
    let missing: Vec<&String> = fields
        .iter()
        .filter(|f| !keys.contains(*f) && !literals.contains(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "schema fields the script never writes: {missing:?}"
    );
}

#[test]
fn script_is_ascii() {
    // Windows PowerShell 5.1 reads a BOM-less .ps1 in the ANSI code page.
    assert!(lockstep_collect::SCRIPT.is_ascii());
}
