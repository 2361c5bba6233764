//! The lockstep snapshot (schema `lockstep-snapshot/1`), written by
//! `Collect-LockstepSnapshot.ps1`: one JSON document per cluster carrying
//! everything lockstep reads (nodes, updates, cluster and CSV state,
//! Defender, filter drivers, products, VMs). The format is defined by the
//! serde types in [`lockstep_model::snapshot`] and published as
//! `schema/snapshot-v1.schema.json`.
//!
//! Detection is cheap: the text starts with `{` and its first or last 512
//! bytes name `"schema"` and `lockstep-snapshot/` (the collector writes
//! `schema` first; tools that sort keys move it to the end).
//! Any version is detected so that a newer snapshot gets a clear "wrong
//! version" error instead of "unknown format".
//!
//! Source lines. JSON has no line per fact that serde reports, so facts get
//! a best-effort line: the line where the fact's key and value appear in the
//! text (`"hotFixId": "KB5033118"`), found by a forward search bounded to the
//! node's part of the document; the section's key line when the value cannot
//! be found (PowerShell escapes some characters differently from serde); and
//! line 0 (the whole file) as the last resort. With the pretty-printed output
//! of `ConvertTo-Json` that is the fact's own line; with compressed JSON it is
//! line 1. Errors carry serde_json's line.
//!
//! Sections. A section whose status is not `ok` becomes a model section with
//! that status and message (for protection data), or an entry in
//! [`Node::unread`] (for updates, OS, memory, VMs, ...), so later stages say
//! "unknown" rather than treat the node as empty. A section marked `ok` but
//! without `data` is treated as `error`.

use super::{FileContent, Format, Text};
use crate::IngestError;
use crate::updates::Interner;
use crate::util::head;
use cluster::convert_cluster;
use locator::{Key, Locator};
use lockstep_model::CollectedAt;
use lockstep_model::CollectedBasis;
use lockstep_model::snapshot::{SCHEMA_ID, Snapshot};

mod cluster;
mod locator;
mod node;
mod protection;
mod section;

pub static FORMAT: Format = Format {
    name: "lockstep-snapshot",
    detect,
    parse,
};

const EXPECTED: &str = "a lockstep snapshot (schema lockstep-snapshot/1)";

fn detect(text: &str) -> bool {
    let h = head(text, 512);
    if !h
        .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
        .starts_with('{')
    {
        return false;
    }
    // The collector writes `schema` first; tools that sort keys
    // (serde_json, `jq -S`) put it last, after `nodes` and before nothing.
    let names_schema =
        |part: &str| part.contains("\"schema\"") && part.contains("lockstep-snapshot/");
    names_schema(h) || names_schema(tail(text, 512))
}

/// The last `limit` bytes of `text`, cut at a character boundary.
fn tail(text: &str, limit: usize) -> &str {
    let mut start = text.len().saturating_sub(limit);
    while start < text.len() && !text.is_char_boundary(start) {
        start += 1;
    }
    text.get(start..).unwrap_or("")
}

#[derive(serde::Deserialize)]
struct Probe {
    #[serde(default)]
    schema: Option<serde_json::Value>,
}

fn json_error(text: &Text, e: &serde_json::Error, what: &str) -> IngestError {
    let line = u32::try_from(e.line()).unwrap_or(u32::MAX);
    IngestError::new(
        text.path.as_ref(),
        line,
        format!("{EXPECTED}: {what} at column {}", e.column()),
    )
    .found(e.to_string())
}

fn parse(text: &Text) -> Result<FileContent, IngestError> {
    let body = text.text.trim_start_matches('\u{FEFF}');
    let loc = Locator::new(body);
    // The full parse comes first, so a good snapshot is read once, into the
    // model's types borrowing the text. Only when it fails does the probe
    // run, to report a missing or other schema before the fields (what the
    // reader must fix first). A document that is not an object (which a
    // struct can also be read from) keeps the probe-first order.
    if !body.trim_start().starts_with('{') {
        check_schema(text, body, &loc)?;
    }
    let snapshot = match serde_json::from_str::<Snapshot>(body) {
        Ok(s) if s.schema == SCHEMA_ID => s,
        Ok(s) => return Err(wrong_schema(text, body, &loc, &s.schema)),
        Err(e) => {
            check_schema(text, body, &loc)?;
            return Err(json_error(
                text,
                &e,
                "fields as schema/snapshot-v1.schema.json defines them",
            ));
        }
    };
    let mut strings = Interner::default();
    let mut clusters = Vec::with_capacity(snapshot.clusters.len());
    let name_key = Key::new("name");
    let mut from = 0;
    let cluster_starts: Vec<usize> = snapshot
        .clusters
        .iter()
        .map(|c| {
            let at = loc
                .find_pair(from, body.len(), &name_key, &c.name)
                .unwrap_or(from);
            from = at + 1;
            at
        })
        .collect();
    // A collection time that does not parse is left unknown: the loader
    // then uses the file's modification time and says so.
    let collected_at = snapshot
        .collected_at
        .trim()
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|at| CollectedAt {
            at,
            basis: CollectedBasis::Input,
        });
    // Drained, so that what is converted is freed at once: a snapshot of a
    // whole fleet in one file holds millions of hotfix entries.
    let mut snapshot = snapshot;
    for (i, mut c) in snapshot.clusters.drain(..).enumerate() {
        let start = cluster_starts.get(i).copied().unwrap_or(0);
        let end = cluster_starts.get(i + 1).copied().unwrap_or(body.len());
        let mut cluster = convert_cluster(text, &loc, start, end, &mut c, &mut strings)?;
        for n in &mut cluster.nodes {
            n.collected_at = collected_at;
        }
        clusters.push(cluster);
    }
    Ok(FileContent::Clusters(clusters))
}

/// Whether `body` is JSON with the schema this reader knows, ignoring the
/// other fields.
fn check_schema(text: &Text, body: &str, loc: &Locator<'_>) -> Result<(), IngestError> {
    let probe: Probe =
        serde_json::from_str(body).map_err(|e| json_error(text, &e, "valid JSON"))?;
    match probe.schema.as_ref().and_then(|v| v.as_str()) {
        Some(SCHEMA_ID) => Ok(()),
        Some(other) => Err(wrong_schema(text, body, loc, other)),
        None => Err(IngestError::new(
            text.path.as_ref(),
            1,
            format!("{EXPECTED} with a top-level \"schema\" string"),
        )),
    }
}

fn wrong_schema(text: &Text, body: &str, loc: &Locator<'_>, found: &str) -> IngestError {
    let line = loc.line_of_key(0, body.len(), &Key::new("schema"));
    IngestError::new(
        text.path.as_ref(),
        line,
        format!(
            "schema {SCHEMA_ID} (this lockstep reads snapshot version 1; use the collector printed by `lockstep collector`)"
        ),
    )
    .found(found)
}

#[cfg(test)]
mod tests;
