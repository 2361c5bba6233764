//! The collector side of lockstep.
//!
//! * [`SCRIPT`]: `Collect-LockstepSnapshot.ps1`, the read-only Windows
//!   PowerShell 5.1 script that an admin runs on one cluster node. It is
//!   embedded so that `lockstep collector` prints exactly the script this
//!   binary understands. `tests/script_is_read_only.rs` parses it with the
//!   tree-sitter PowerShell grammar and fails on any syntax error or any
//!   command, method or redirection outside an allow-list.
//! * [`SCHEMA_JSON`]: `schema/snapshot-v1.schema.json`, the JSON Schema
//!   (draft 2020-12) of what the script writes, and [`validate`], which checks
//!   a document against it and reports every problem with its JSON pointer.
//!
//! The Rust form of the same format is `lockstep_model::snapshot`; the schema
//! and those types are kept in step by `tests/snapshot_schema.rs` in the root
//! package (a field in one and not the other fails it).

use serde_json::Value;
use std::fmt;
use std::sync::OnceLock;

/// The collector script, byte for byte as shipped.
pub const SCRIPT: &str = include_str!("../Collect-LockstepSnapshot.ps1");

/// The file name admins know the script by.
pub const SCRIPT_FILE_NAME: &str = "Collect-LockstepSnapshot.ps1";

/// `$CollectorVersion` in [`SCRIPT`] (a test keeps them equal); written to
/// `collector.version` in every snapshot.
pub const COLLECTOR_VERSION: &str = "1.0.0";

/// The published JSON Schema of snapshot v1.
pub const SCHEMA_JSON: &str = include_str!("../../../schema/snapshot-v1.schema.json");

/// One way a document departs from the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON pointer to the offending value, e.g. `/clusters/0/nodes/1/os/data/build`;
    /// empty for the document root.
    pub path: String,
    /// What is wrong, e.g. `"x" is not of type "integer"`.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        // The schema is a compile-time constant checked by this crate's tests;
        // failing here means the shipped binary itself is broken.
        let schema: Value =
            serde_json::from_str(SCHEMA_JSON).expect("schema/snapshot-v1.schema.json is JSON");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .expect("schema/snapshot-v1.schema.json is a valid draft 2020-12 schema")
    })
}

/// Checks a parsed document against snapshot v1 and returns every problem
/// found, in the validator's order (empty when the document is valid).
pub fn validate(document: &Value) -> Vec<Problem> {
    validator()
        .iter_errors(document)
        .map(|e| Problem {
            path: e.instance_path().as_str().to_string(),
            message: e.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn script_version_matches_constant() {
        let line = format!("$CollectorVersion = '{COLLECTOR_VERSION}'");
        assert!(SCRIPT.contains(&line), "script must set {line}");
    }

    #[test]
    fn minimal_document_is_valid() {
        let doc = json!({
            "schema": "lockstep-snapshot/1",
            "collectedAt": "2023-12-14T09:30:00.0000000Z",
            "collector": {"version": "1.0.0", "host": "HV01", "elevated": true},
            "clusters": [{"name": "C", "nodes": [{
                "name": "HV01",
                "os": {"status": "ok", "data": {"caption": "Microsoft Windows Server 2022 Datacenter", "version": "10.0.20348", "build": 20348, "ubr": 2159}},
                "hotfixes": {"status": "accessDenied", "message": "Access is denied."}
            }]}]
        });
        assert_eq!(validate(&doc), vec![]);
    }

    #[test]
    fn reports_each_problem_with_its_path() {
        let doc = json!({
            "schema": "lockstep-snapshot/1",
            "collectedAt": "yesterday",
            "collector": {"version": "1.0.0", "host": "HV01", "elevated": true},
            "clusters": [{"name": "C", "nodes": [{
                "name": "HV01",
                "state": 2,
                "os": {"status": "ok", "data": {"caption": "x", "version": "10.0.20348", "build": "x"}},
                "hotfixes": {"status": "ok", "message": "m", "data": [{"hotFixId": "KB1", "extra": 1}]},
                "vms": {"status": "error"}
            }]}]
        });
        let problems = validate(&doc);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        for expected in [
            "/collectedAt",
            "/clusters/0/nodes/0/state",
            "/clusters/0/nodes/0/os/data/build",
            "/clusters/0/nodes/0/hotfixes/data/0",
            "/clusters/0/nodes/0/vms",
        ] {
            assert!(
                paths.contains(&expected),
                "no problem at {expected}: {problems:#?}"
            );
        }
        let build = problems
            .iter()
            .find(|p| p.path == "/clusters/0/nodes/0/os/data/build")
            .map(|p| p.to_string());
        assert_eq!(
            build.as_deref(),
            Some("/clusters/0/nodes/0/os/data/build: \"x\" is not of type \"integer\"")
        );
    }

    #[test]
    fn formats_are_checked() {
        let doc = json!({
            "schema": "lockstep-snapshot/1",
            "collectedAt": "2023-12-14T09:30:00.0000000Z",
            "collector": {"version": "1.0.0", "host": "HV01", "elevated": true},
            "clusters": [{"name": "C", "nodes": [{
                "name": "HV01",
                "os": {"status": "ok", "data": {"caption": "x", "version": "10.0.20348", "build": 20348, "lastBootTime": "13.12.2023 03:12"}},
                "hotfixes": {"status": "ok", "data": [
                    {"hotFixId": "KB5033118", "installedOn": "2023-12-13"},
                    {"hotFixId": "KB5032198", "installedOn": "13.12.2023"}
                ]}
            }]}]
        });
        let paths: Vec<String> = validate(&doc).into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "/clusters/0/nodes/0/hotfixes/data/1/installedOn",
                "/clusters/0/nodes/0/os/data/lastBootTime"
            ]
        );
    }

    #[test]
    fn wrong_schema_id_and_numeric_enum_are_rejected() {
        let doc = json!({
            "schema": "lockstep-snapshot/2",
            "collectedAt": "2023-12-14T09:30:00Z",
            "collector": {"version": "1.0.0", "host": "HV01", "elevated": false},
            "clusters": [{"name": "C", "nodes": [{
                "name": "HV01",
                "os": {"status": "notAvailable", "message": "m"},
                "hotfixes": {"status": "ok", "data": []},
                "sharedVolumes": null
            }], "groups": {"status": "ok", "data": [{"name": "g", "state": "2"}]}}]
        });
        let paths: Vec<String> = validate(&doc).into_iter().map(|p| p.path).collect();
        assert!(paths.contains(&"/schema".to_string()), "{paths:?}");
        assert!(
            paths.contains(&"/clusters/0/groups/data/0/state".to_string()),
            "{paths:?}"
        );
    }
}
