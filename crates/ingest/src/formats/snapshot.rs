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

use super::{FileContent, Format, Text, fltmc};
use crate::IngestError;
use crate::updates::{Interner, UpdateIndex};
use crate::util::{head, normalize_arch};
use doc::{ClusterDoc, NodeDoc, Shared, SnapshotDoc};
use jiff::civil::Date;
use lockstep_model::inventory::{ClusterGroup, SharedStr, UnreadSection, WindowsPackage, Witness};
use lockstep_model::protection::{
    BlockRedirectReason, ClusterProtection, CsvNodeState, CsvStateInfo, CsvVolume,
    DefenderPreferences, DefenderStatus, ExclusionList, FsRedirectReason, InstalledProduct,
    NodeProtection, Section, SectionStatus,
};
use lockstep_model::snapshot::{
    self as snap, HistoryEntry, ListOrText, SCHEMA_ID, Snapshot, Status,
};
use lockstep_model::{
    Cluster, ClusterState, CollectedAt, CollectedBasis, FailedInstall, HostMemory, HotfixId,
    InstalledUpdate, KbId, Node, NodeState, OtherEntry, PendingReboot, SourceRef, Sourced,
    VirtualMachine, WinVersion,
};
use std::collections::BTreeMap;

mod doc;

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
    // reader's borrowed view of the types (`doc`). Only when it fails does the
    // probe run, to report a missing or other schema before the fields (what
    // the reader must fix first), and the model's types word the error. A
    // document that is not an object (which a struct can also be read from)
    // keeps the probe-first order.
    doc::reset_strings();
    let parsed = if body.trim_start().starts_with('{') {
        serde_json::from_str::<SnapshotDoc>(body)
    } else {
        check_schema(text, body, &loc)?;
        serde_json::from_str::<SnapshotDoc>(body)
    };
    let snapshot = match parsed {
        Ok(s) if s.schema == SCHEMA_ID => s,
        Ok(s) => return Err(wrong_schema(text, body, &loc, &s.schema)),
        Err(_) => return Err(model_error(text, body, &loc)),
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
    let mut snapshot = snapshot;
    for (i, c) in snapshot.clusters.iter_mut().enumerate() {
        let start = cluster_starts.get(i).copied().unwrap_or(0);
        let end = cluster_starts.get(i + 1).copied().unwrap_or(body.len());
        let mut cluster = convert_cluster(text, &loc, start, end, c, &mut strings)?;
        for n in &mut cluster.nodes {
            n.collected_at = collected_at;
        }
        clusters.push(cluster);
    }
    drop(snapshot);
    doc::reset_strings();
    Ok(FileContent::Clusters(clusters))
}

/// The error for a text the reader could not read, as the model's types
/// word it: no JSON, no or another schema, then the first field in error.
fn model_error(text: &Text, body: &str, loc: &Locator<'_>) -> IngestError {
    if let Err(e) = check_schema(text, body, loc) {
        return e;
    }
    match serde_json::from_str::<Snapshot>(body) {
        Err(e) => json_error(
            text,
            &e,
            "fields as schema/snapshot-v1.schema.json defines them",
        ),
        // `doc` mirrors the model's types (a test compares them), so this
        // is a bug, said as such rather than read half-way.
        Ok(_) => IngestError::new(
            text.path.as_ref(),
            0,
            format!(
                "{EXPECTED} that this reader's view of the schema accepts (a lockstep bug: the model reads it; please report it)"
            ),
        ),
    }
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

// ------------------------------------------------------------------ lines

/// Best-effort lines for facts in a JSON text: forward searches for
/// `"key": <value>` within a byte range.
struct Locator<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// Every offset before the end of the text is on line 1 (compressed
    /// JSON, with or without a final newline).
    one_line: bool,
}

/// A key's quoted form (`"hotFixId"`) with its searcher, built once and used
/// for every lookup of that key (a fleet has millions of lookups).
struct Key {
    finder: memchr::memmem::Finder<'static>,
}

impl Key {
    fn new(key: &str) -> Self {
        let mut quoted = Vec::with_capacity(key.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(key.as_bytes());
        quoted.push(b'"');
        Self {
            finder: memchr::memmem::Finder::new(&quoted).into_owned(),
        }
    }

    fn len(&self) -> usize {
        self.finder.needle().len()
    }
}

/// Whether serde_json writes `value` as `"value"`, unchanged: it escapes only
/// `"`, `\` and control characters below U+0020.
fn needs_no_escape(value: &str) -> bool {
    !value.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        let one_line = match line_starts.as_slice() {
            [_] => true,
            [_, second] => *second == text.len(),
            _ => false,
        };
        Self {
            text,
            line_starts,
            one_line,
        }
    }

    /// 1-based line of a byte offset.
    fn line(&self, offset: usize) -> u32 {
        let idx = self.line_starts.partition_point(|&s| s <= offset);
        u32::try_from(idx).unwrap_or(u32::MAX)
    }

    /// Offset of the first `"key"` followed by `:` in `[from, to)`.
    fn find_key(&self, from: usize, to: usize, key: &Key) -> Option<usize> {
        self.find_key_then(from, to, key, |_| true)
    }

    fn find_key_then(
        &self,
        from: usize,
        to: usize,
        key: &Key,
        value_ok: impl Fn(&str) -> bool,
    ) -> Option<usize> {
        let to = to.min(self.text.len());
        let hay = self.text.get(from..to)?;
        let mut pos = 0;
        while let Some(hit) = hay.as_bytes().get(pos..).and_then(|h| key.finder.find(h)) {
            let key_at = pos + hit;
            let after = hay.get(key_at + key.len()..).unwrap_or("");
            let rest = trim_start(after);
            if let Some(value) = rest.strip_prefix(':')
                && value_ok(trim_start(value))
            {
                return Some(from + key_at);
            }
            pos = key_at + key.len();
        }
        None
    }

    /// Offset of `"key": "value"` in `[from, to)`; `value` as serde_json
    /// escapes it.
    fn find_pair(&self, from: usize, to: usize, key: &Key, value: &str) -> Option<usize> {
        if needs_no_escape(value) {
            // `"value"` without building it.
            let n = value.len();
            return self.find_key_then(from, to, key, |v| {
                let b = v.as_bytes();
                b.first() == Some(&b'"')
                    && b.get(1..=n) == Some(value.as_bytes())
                    && b.get(n + 1) == Some(&b'"')
            });
        }
        let encoded = serde_json::to_string(value).ok()?;
        self.find_key_then(from, to, key, |v| v.starts_with(encoded.as_str()))
    }

    fn line_of_key(&self, from: usize, to: usize, key: &Key) -> u32 {
        self.find_key(from, to, key).map_or(0, |o| self.line(o))
    }

    /// Offset of `"key":` in `[from, to)`, for a key looked up once.
    fn find_key_str(&self, from: usize, to: usize, key: &str) -> Option<usize> {
        self.find_key(from, to, &Key::new(key))
    }
}

/// Lines of the entries of one list (each found by the same key), searched
/// in order from the section key.
struct Cursor<'l, 'a> {
    loc: &'l Locator<'a>,
    key: Key,
    section: usize,
    at: usize,
    end: usize,
}

impl<'l, 'a> Cursor<'l, 'a> {
    fn new(loc: &'l Locator<'a>, key: &str, section: usize, at: usize, end: usize) -> Self {
        Self {
            loc,
            key: Key::new(key),
            section,
            at,
            end,
        }
    }

    fn line_of(&mut self, value: &str) -> u32 {
        // A hit lies before the end of the text, so on line 1, and so does
        // the section unless it is the end itself, where nothing is found:
        // the answer is the section's line either way, without searching.
        if self.loc.one_line {
            return self.loc.line(self.section);
        }
        let hit = self
            .loc
            .find_pair(self.at, self.end, &self.key, value)
            .or_else(|| self.loc.find_pair(self.section, self.end, &self.key, value));
        match hit {
            Some(o) => {
                self.at = o + 1;
                self.loc.line(o)
            }
            None => self.loc.line(self.section),
        }
    }
}

// --------------------------------------------------------------- clusters

fn status(s: Status) -> SectionStatus {
    match s {
        Status::Ok => SectionStatus::Ok,
        Status::AccessDenied => SectionStatus::AccessDenied,
        Status::NotAvailable => SectionStatus::NotAvailable,
        Status::Error => SectionStatus::Error,
    }
}

/// The data of an `ok` section, or the status and message to record instead.
fn read<T>(s: &snap::Section<T>) -> Result<&T, (SectionStatus, Option<String>)> {
    match (s.status, s.data.as_ref()) {
        (Status::Ok, Some(d)) => Ok(d),
        (Status::Ok, None) => Err((
            SectionStatus::Error,
            Some("the section is marked ok but carries no data".into()),
        )),
        (other, _) => Err((status(other), s.message.clone())),
    }
}

fn convert_cluster(
    text: &Text,
    loc: &Locator<'_>,
    start: usize,
    end: usize,
    c: &mut ClusterDoc<'_>,
    strings: &mut Interner,
) -> Result<Cluster, IngestError> {
    let cluster_src = text.at(loc.line(start));
    let mut state = ClusterState::default();
    let mut protection = ClusterProtection {
        compatible_filters: c.shared_volume_compatible_filters.clone(),
        incompatible_filters: c.shared_volume_incompatible_filters.clone(),
        csv_states: None,
    };

    if let Some(q) = &c.quorum
        && let Ok(q) = read(q)
    {
        state.quorum_type = Some(q.quorum_type.clone());
        state.witness = q.witness.as_ref().map(|w| Witness {
            kind: w.kind.clone(),
            resource: w.resource.clone(),
            path: w.path.clone(),
        });
    }
    if let Some(g) = &c.groups
        && let Ok(groups) = read(g)
    {
        state.groups = Some(
            groups
                .iter()
                .map(|g| ClusterGroup {
                    name: g.name.clone(),
                    state: g.state.clone(),
                    owner_node: g.owner_node.clone(),
                    group_type: g.group_type.clone(),
                })
                .collect(),
        );
    }
    if let Some(sv) = &c.shared_volumes {
        let sv_at = loc
            .find_key_str(start, end, "sharedVolumes")
            .unwrap_or(start);
        match read(sv) {
            Ok(volumes) => {
                state.csvs = Some(
                    volumes
                        .iter()
                        .map(|v| CsvVolume {
                            name: v.name.clone(),
                            path: v.path.clone(),
                            owner_node: v.owner_node.clone(),
                            volume_id: v.volume_id.clone(),
                            file_system: v.file_system.clone(),
                        })
                        .collect(),
                );
                protection.csv_states = csv_states(text, loc, sv_at, end, volumes);
            }
            Err((st, msg)) => {
                protection.csv_states =
                    Some(Section::unavailable(st, msg, text.at(loc.line(sv_at))));
            }
        }
    }

    let nodes_at = loc.find_key_str(start, end, "nodes").unwrap_or(start);
    let mut from = nodes_at;
    let name_key = Key::new("name");
    let starts: Vec<usize> = c
        .nodes
        .iter()
        .map(|n| {
            let at = loc.find_pair(from, end, &name_key, &n.name).unwrap_or(from);
            from = at + 1;
            at
        })
        .collect();
    let mut nodes = Vec::with_capacity(c.nodes.len());
    for (i, n) in c.nodes.iter_mut().enumerate() {
        let n_start = starts.get(i).copied().unwrap_or(nodes_at);
        let n_end = starts.get(i + 1).copied().unwrap_or(end);
        nodes.push(convert_node(
            text, loc, n_start, n_end, &c.name, n, strings,
        )?);
    }

    Ok(Cluster {
        name: c.name.clone(),
        source: Some(cluster_src),
        nodes,
        state: Some(state),
        protection,
        admin: Default::default(),
    })
}

/// All `Get-ClusterSharedVolumeState` records of the cluster. One volume
/// whose state could not be read, or a value lockstep does not know, makes
/// the whole section unknown: a partial list could hide the redirected one.
fn csv_states(
    text: &Text,
    loc: &Locator<'_>,
    sv_at: usize,
    end: usize,
    volumes: &[snap::SharedVolume],
) -> Option<Section<Vec<CsvNodeState>>> {
    if volumes.iter().all(|v| v.state.is_none()) && !volumes.is_empty() {
        return None;
    }
    let section_src = text.at(loc.line(sv_at));
    let mut out = Vec::new();
    let mut vcur = Cursor::new(loc, "name", sv_at, sv_at, end);
    for v in volumes {
        let v_line = vcur.line_of(&v.name);
        let Some(state) = &v.state else {
            return Some(Section::unavailable(
                SectionStatus::Error,
                Some(format!(
                    "no Get-ClusterSharedVolumeState records for {}",
                    v.name
                )),
                text.at(v_line),
            ));
        };
        let records = match read(state) {
            Ok(r) => r,
            Err((st, msg)) => {
                let msg = Some(format!("{}: {}", v.name, msg.unwrap_or_default()));
                return Some(Section::unavailable(st, msg, text.at(v_line)));
            }
        };
        let mut rcur = Cursor::new(loc, "node", vcur.at.saturating_sub(1), vcur.at, end);
        for r in records {
            let line = rcur.line_of(&r.node);
            let parsed = (
                CsvStateInfo::parse(&r.state_info),
                FsRedirectReason::parse(&r.file_system_redirected_io_reason),
                BlockRedirectReason::parse(&r.block_redirected_io_reason),
            );
            let (Some(state), Some(fs_reason), Some(block_reason)) = parsed else {
                return Some(Section::unavailable(
                    SectionStatus::Error,
                    Some(format!(
                        "{} on {}: unrecognised state {:?} / {:?} / {:?}",
                        v.name,
                        r.node,
                        r.state_info,
                        r.file_system_redirected_io_reason,
                        r.block_redirected_io_reason
                    )),
                    text.at(line),
                ));
            };
            out.push(CsvNodeState {
                volume: v.name.clone(),
                volume_path: v.path.clone(),
                node: r.node.clone(),
                state,
                fs_reason,
                block_reason,
                source: text.at(line),
            });
        }
    }
    Some(Section::ok(out, section_src))
}

// ------------------------------------------------------------------ nodes

/// `str::trim`, answering at once when the text starts and ends with a
/// visible ASCII character (nearly every value: a fleet has millions).
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// `str::trim_start`, answering at once when the text starts with a visible
/// ASCII character.
fn trim_start(s: &str) -> &str {
    match s.as_bytes().first() {
        Some(a) if a.is_ascii_graphic() => s,
        _ => s.trim_start(),
    }
}

/// The shared string unless it is empty or blank.
fn non_blank(s: Option<Shared>) -> Option<SharedStr> {
    s.filter(|s| !trim(&s.0).is_empty()).map(|s| s.0)
}

/// `2023-12-13` or the date part of `2023-12-13T00:00:00.0000000Z`.
fn civil_date(s: &str) -> Option<Date> {
    let day = trim(s).get(..10)?;
    // `yyyy-MM-dd` in digits, as the collector writes it, without the
    // general ISO 8601 parser (a fleet has millions of dates); the same
    // validation (`Date::new` checks month and day), anything else parsed.
    let b = day.as_bytes();
    let num = |r: std::ops::Range<usize>| {
        b.get(r)?.iter().try_fold(0i16, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i16::from(c - b'0'))
        })
    };
    if b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10))
    {
        return Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok();
    }
    day.parse().ok()
}

fn convert_node(
    text: &Text,
    loc: &Locator<'_>,
    start: usize,
    end: usize,
    cluster: &str,
    n: &mut NodeDoc<'_>,
    strings: &mut Interner,
) -> Result<Node, IngestError> {
    let node_src = text.at(loc.line(start));
    let key_src = |key: &str| {
        let at = loc.find_key_str(start, end, key);
        (
            at.unwrap_or(start),
            text.at(at.map_or(node_src.line, |o| loc.line(o))),
        )
    };
    let mut node = Node {
        name: n.name.clone(),
        name_source: Some(node_src.clone()),
        cluster: Some(cluster.to_string()),
        sources: vec![text.path.to_string()],
        ..Default::default()
    };
    let mut unread_sections: Vec<UnreadSection> = Vec::new();
    let mut unread = |section: &str, st: SectionStatus, message: Option<String>, src: SourceRef| {
        unread_sections.push(UnreadSection {
            section: section.to_string(),
            status: st,
            message,
            source: src,
        })
    };

    if let Some(state) = &n.state {
        node.state = Some(NodeState {
            state: state.clone(),
            node_weight: n.node_weight,
            dynamic_weight: n.dynamic_weight,
            drain_status: n.drain_status.clone(),
        });
    }

    // OS.
    let (_, os_src) = key_src("os");
    match read(&n.os) {
        Ok(os) => {
            let line_src = |key: &str, value: &str| {
                let (from, _) = key_src("os");
                loc.find_pair(from, end, &Key::new(key), value)
                    .map_or(os_src.clone(), |o| text.at(loc.line(o)))
            };
            let version: WinVersion = os.version.parse().map_err(|_| {
                IngestError::new(
                    text.path.as_ref(),
                    line_src("version", &os.version).line,
                    format!(
                        "an OS version such as 10.0.20348 for node {} (os.data.version)",
                        n.name
                    ),
                )
                .found(&os.version)
            })?;
            let version = match os.ubr {
                Some(ubr) if version.len() <= 3 => version.with_revision(ubr),
                _ => version,
            };
            node.os.caption = Some(Sourced::new(
                os.caption.clone(),
                line_src("caption", &os.caption),
            ));
            node.os.version = Some(Sourced::new(version, line_src("version", &os.version)));
            node.os.service_pack = os.display_version.clone();
            node.os.installation_type = os.installation_type.clone();
            node.os.architecture = os
                .architecture
                .as_deref()
                .and_then(normalize_arch)
                .map(|a| Sourced::new(a, os_src.clone()));
            node.domain = os
                .domain
                .as_ref()
                .map(|d| Sourced::new(d.clone(), line_src("domain", d)));
            node.boot_time = os
                .last_boot_time
                .as_ref()
                .map(|b| Sourced::new(b.clone(), line_src("lastBootTime", b)));
        }
        Err((st, msg)) => unread("os", st, msg, os_src),
    }

    // Get-HotFix.
    let mut updates = UpdateIndex::default();
    let (hf_at, hf_src) = key_src("hotfixes");
    match read(&n.hotfixes).map(|_| ()) {
        Ok(()) => {
            // Taken, so that the shared strings move into the updates.
            let hotfixes = n.hotfixes.data.take().unwrap_or_default();
            let mut cur = Cursor::new(loc, "hotFixId", hf_at, hf_at, end);
            node.updates.reserve_exact(hotfixes.len());
            updates = UpdateIndex::with_capacity(hotfixes.len());
            for h in hotfixes {
                let src = text.at(cur.line_of(&h.hot_fix_id));
                let id = trim(&h.hot_fix_id);
                // The collector's JSON cannot end inside an id, so an id
                // too short to be a KB is what Windows listed: kept as an
                // other entry, like `File 1`.
                match KbId::parse_hotfix_id(id) {
                    HotfixId::Kb { kb, suffix } => updates.add(
                        &mut node,
                        InstalledUpdate {
                            kb,
                            id_text: (!suffix.is_empty()).then(|| strings.get(id)),
                            description: non_blank(h.description),
                            installed_on: h.installed_on.as_deref().and_then(civil_date),
                            installed_by: non_blank(h.installed_by),
                            source: src,
                        },
                    ),
                    _ if !id.is_empty() => node.other_entries.push(OtherEntry {
                        text: id.to_string(),
                        source: src,
                    }),
                    _ => {}
                }
            }
        }
        Err((st, msg)) => unread("hotfixes", st, msg, hf_src),
    }

    // Windows Update history: KBs that it shows as installed and Get-HotFix lacks.
    if let Some(h) = &n.update_history {
        let (h_at, h_src) = key_src("updateHistory");
        match read(h) {
            Ok(entries) => {
                let mut cur = Cursor::new(loc, "title", h_at, h_at, end);
                let lines: Vec<u32> = entries.iter().map(|e| cur.line_of(&e.title)).collect();
                let (installed, failed) = net_installed(entries, &lines);
                for (kb, (entry, line)) in failed {
                    node.failed_installs.push(FailedInstall {
                        kb,
                        title: Some(entry.title.clone()),
                        date: entry.date.as_deref().and_then(civil_date),
                        result: entry.result_code.clone(),
                        source: text.at(line),
                    });
                }
                for (kb, (entry, line)) in installed {
                    if !updates.contains(kb) {
                        updates.add(
                            &mut node,
                            InstalledUpdate {
                                kb,
                                id_text: None,
                                description: Some(strings.get(&entry.title)),
                                installed_on: entry.date.as_deref().and_then(civil_date),
                                installed_by: None,
                                source: text.at(line),
                            },
                        );
                    }
                }
            }
            Err((st, msg)) => unread("updateHistory", st, msg, h_src),
        }
    }

    if let Some(p) = &n.packages {
        match read(p) {
            Ok(pkgs) => {
                node.packages = Some(
                    pkgs.iter()
                        .map(|p| WindowsPackage {
                            name: p.package_name.clone(),
                            state: p.package_state.clone(),
                            release_type: p.release_type.clone(),
                        })
                        .collect(),
                )
            }
            Err((st, msg)) => unread("packages", st, msg, key_src("packages").1),
        }
    }

    if let Some(p) = &n.pending_reboot {
        match read(p) {
            Ok(p) => {
                node.pending_reboot = Some(PendingReboot {
                    cbs_reboot_pending: p.cbs_reboot_pending,
                    windows_update_reboot_required: p.windows_update_reboot_required,
                    pending_file_rename_operations: p.pending_file_rename_operations,
                })
            }
            Err((st, msg)) => unread("pendingReboot", st, msg, key_src("pendingReboot").1),
        }
    }

    if let Some(m) = &n.memory {
        match read(m) {
            Ok(m) => {
                node.memory = Some(HostMemory {
                    total_bytes: m.total_physical_bytes,
                    free_bytes: m.free_physical_bytes,
                })
            }
            Err((st, msg)) => unread("memory", st, msg, key_src("memory").1),
        }
    }

    if let Some(v) = &n.vms {
        match read(v) {
            Ok(vms) => {
                node.vms = Some(
                    vms.iter()
                        .map(|v| VirtualMachine {
                            name: v.name.clone(),
                            state: v.state.clone(),
                            memory_assigned_bytes: v.memory_assigned_bytes,
                            memory_startup_bytes: v.memory_startup_bytes,
                            configuration_location: v.configuration_location.clone(),
                            snapshot_file_location: v.snapshot_file_location.clone(),
                            smart_paging_file_path: v.smart_paging_file_path.clone(),
                            hard_drives: v.hard_drives.clone(),
                        })
                        .collect(),
                )
            }
            Err((st, msg)) => unread("vms", st, msg, key_src("vms").1),
        }
    }

    // Capacity was reserved for every hotfix entry; non-KB entries and
    // repeats leave some unused, and a fleet holds millions of updates.
    node.updates.shrink_to_fit();
    node.unread = unread_sections;
    node.protection = protection(text, loc, start, end, n);
    Ok(node)
}

/// One history entry with its line, by KB.
type HistoryHits<'e> = Vec<(KbId, (&'e HistoryEntry, u32))>;

/// KBs the history shows as installed at the end, replayed oldest to newest:
/// entries with a date in date order, undated ones in QueryHistory order
/// (newest first, so reversed) before them. Only successful operations count.
/// Second: installs that failed (or were aborted) with no later successful
/// install of the same KB, in KB order.
fn net_installed<'e>(
    entries: &'e [HistoryEntry],
    lines: &[u32],
) -> (HistoryHits<'e>, HistoryHits<'e>) {
    let mut order: Vec<usize> = (0..entries.len()).rev().collect();
    // Stable sort: undated entries (None) first, keeping their reversed order.
    order.sort_by_key(|&i| {
        entries
            .get(i)
            .and_then(|e| e.date.as_deref())
            .and_then(|d| d.trim().parse::<jiff::Timestamp>().ok())
    });
    let mut installed: BTreeMap<KbId, (usize, &HistoryEntry, u32)> = BTreeMap::new();
    let mut failed: BTreeMap<KbId, (&HistoryEntry, u32)> = BTreeMap::new();
    let mut seq = 0;
    for i in order {
        let Some(e) = entries.get(i) else { continue };
        let Some(kb) = KbId::find_in(&e.title) else {
            continue;
        };
        let line = lines.get(i).copied().unwrap_or(0);
        if matches!(e.result_code.as_str(), "Failed" | "Aborted") {
            if e.operation == "Installation" {
                failed.insert(kb, (e, line));
            }
            continue;
        }
        if !matches!(e.result_code.as_str(), "Succeeded" | "SucceededWithErrors") {
            continue;
        }
        match e.operation.as_str() {
            "Installation" => {
                seq += 1;
                failed.remove(&kb);
                installed.insert(kb, (seq, e, line));
            }
            "Uninstallation" => {
                installed.remove(&kb);
            }
            _ => {}
        }
    }
    let mut out: Vec<_> = installed.into_iter().collect();
    out.sort_by_key(|(_, (seq, _, _))| *seq);
    (
        out.into_iter()
            .map(|(kb, (_, e, line))| (kb, (e, line)))
            .collect(),
        failed.into_iter().collect(),
    )
}

// ------------------------------------------------------------- protection

/// An exclusion list as Defender gave it. `null` under an `ok` section means
/// none is set (`Get-MpPreference` returns `$null`, not an empty array).
fn exclusions(v: &Option<ListOrText>) -> ExclusionList {
    let redacted = |s: &str| {
        s.trim()
            .trim_start_matches('{')
            .trim_start()
            .starts_with("N/A")
    };
    match v {
        None => ExclusionList::Items(Vec::new()),
        Some(ListOrText::List(items)) => {
            if items.iter().any(|i| redacted(i)) {
                ExclusionList::Redacted(format!("{{{}}}", items.join(", ")))
            } else {
                ExclusionList::Items(items.clone())
            }
        }
        Some(ListOrText::Text(t)) if redacted(t) => ExclusionList::Redacted(t.clone()),
        // One exclusion that lost its array on the way.
        Some(ListOrText::Text(t)) if t.trim().is_empty() => ExclusionList::Items(Vec::new()),
        Some(ListOrText::Text(t)) => ExclusionList::Items(vec![t.clone()]),
    }
}

fn version(v: &Option<String>) -> Option<WinVersion> {
    v.as_deref().and_then(|s| s.parse().ok())
}

fn protection(
    text: &Text,
    loc: &Locator<'_>,
    start: usize,
    end: usize,
    n: &NodeDoc<'_>,
) -> NodeProtection {
    let src = |key: &str| {
        text.at(loc
            .find_key_str(start, end, key)
            .map_or(loc.line(start), |o| loc.line(o)))
    };

    let defender_preferences = n.defender_preferences.as_ref().map(|s| {
        let at = src("defenderPreferences");
        match read(s) {
            Ok(d) => Section::ok(
                DefenderPreferences {
                    exclusion_path: exclusions(&d.exclusion_path),
                    exclusion_extension: exclusions(&d.exclusion_extension),
                    exclusion_process: exclusions(&d.exclusion_process),
                    disable_auto_exclusions: d.disable_auto_exclusions,
                    disable_realtime_monitoring: d.disable_realtime_monitoring,
                    source: at.clone(),
                },
                at,
            ),
            Err((st, msg)) => Section::unavailable(st, msg, at),
        }
    });

    let defender_status = n.defender_status.as_ref().map(|s| {
        let at = src("defenderStatus");
        match read(s) {
            Ok(d) => Section::ok(
                DefenderStatus {
                    am_product_version: version(&d.am_product_version),
                    am_engine_version: version(&d.am_engine_version),
                    am_running_mode: d.am_running_mode.clone(),
                    antivirus_signature_version: version(&d.antivirus_signature_version),
                    real_time_protection_enabled: d.real_time_protection_enabled,
                    is_tamper_protected: d.is_tamper_protected,
                    antivirus_enabled: d.antivirus_enabled,
                    am_service_enabled: d.am_service_enabled,
                    source: at.clone(),
                },
                at,
            ),
            Err((st, msg)) => Section::unavailable(st, msg, at),
        }
    });

    let filters = n.fltmc_filters.as_ref().map(|s| {
        fltmc_section(
            text,
            src("fltmcFilters"),
            s,
            fltmc::parse_filters,
            |f, at| f.source = at,
        )
    });
    let filter_instances = n.fltmc_instances.as_ref().map(|s| {
        fltmc_section(
            text,
            src("fltmcInstances"),
            s,
            fltmc::parse_instances,
            |f, at| f.source = at,
        )
    });

    let products = n.installed_products.as_ref().map(|s| {
        let at = src("installedProducts");
        match read(s) {
            Ok(products) => {
                let section = loc
                    .find_key_str(start, end, "installedProducts")
                    .unwrap_or(start);
                let mut cur = Cursor::new(loc, "name", section, section, end);
                let items = products
                    .iter()
                    .map(|pr| InstalledProduct {
                        name: pr.name.clone(),
                        vendor: pr.vendor.clone(),
                        version: pr.version.clone(),
                        source: text.at(cur.line_of(&pr.name)),
                    })
                    .collect();
                Section::ok(items, at)
            }
            Err((st, msg)) => Section::unavailable(st, msg, at),
        }
    });
    NodeProtection {
        defender_preferences,
        defender_status,
        filters,
        filter_instances,
        products,
    }
}

/// `fltmc` text embedded in the snapshot, parsed by the fltmc parser. Every
/// row gets the line of the embedded string (the whole output is one JSON
/// string on one line). Text the parser cannot read makes the section `error`.
fn fltmc_section<T>(
    text: &Text,
    at: SourceRef,
    s: &snap::Section<String>,
    parse: fn(&Text) -> Result<Vec<T>, IngestError>,
    set_source: fn(&mut T, SourceRef),
) -> Section<Vec<T>> {
    match read(s) {
        Ok(raw) => {
            if fltmc::is_access_denied(raw) {
                return Section::unavailable(
                    SectionStatus::AccessDenied,
                    Some(raw.trim().to_string()),
                    at,
                );
            }
            let normalized = raw.replace("\r\n", "\n");
            match parse(&Text::new(text.path.clone(), normalized)) {
                Ok(mut rows) => {
                    for r in &mut rows {
                        set_source(r, at.clone());
                    }
                    Section::ok(rows, at)
                }
                Err(e) => Section::unavailable(
                    SectionStatus::Error,
                    Some(format!(
                        "fltmc output not understood: expected {}",
                        e.expected
                    )),
                    at,
                ),
            }
        }
        Err((st, msg)) => Section::unavailable(st, msg, at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HVCLU22: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/snapshot/hvclu22.json"
    ));

    fn minimal(node_extra: &str) -> String {
        format!(
            r#"{{
  "schema": "lockstep-snapshot/1",
  "collectedAt": "2023-12-14T09:30:00Z",
  "collector": {{"version": "1.0.0", "host": "HV01", "elevated": true}},
  "clusters": [{{"name": "C", "nodes": [{{
    "name": "HV01",
    "os": {{"status": "ok", "data": {{"caption": "Microsoft Windows Server 2019 Datacenter", "version": "10.0.17763", "build": 17763, "ubr": 5206, "architecture": "AMD64"}}}},
    "hotfixes": {{"status": "ok", "data": [{{"hotFixId": "KB5033371", "description": "Security Update", "installedOn": "2023-12-13"}}, {{"hotFixId": "File 1"}}]}}{node_extra}
  }}]}}]
}}"#
        )
    }

    fn clusters(s: &str) -> Vec<Cluster> {
        match parse(&Text::new("s.json", s)) {
            Ok(FileContent::Clusters(c)) => c,
            Ok(_) => panic!("not clusters"),
            Err(e) => panic!("{e}"),
        }
    }

    fn node(s: &str) -> Node {
        clusters(s).remove(0).nodes.remove(0)
    }

    #[test]
    fn detects_snapshots_only() {
        assert!(detect(HVCLU22));
        assert!(detect(&minimal("")));
        assert!(detect("\u{FEFF}{\"schema\": \"lockstep-snapshot/2\"}"));
        assert!(!detect("[{\"HotFixID\": \"KB5033118\"}]"));
        assert!(!detect("{\"schema\": \"other/1\"}"));
        assert!(!detect("Host Name: HV01\n\"schema\" lockstep-snapshot/1"));
        let sorted = format!(
            "{{\"clusters\": [{}], \"schema\": \"lockstep-snapshot/1\"}}",
            " ".repeat(2000)
        );
        assert!(detect(&sorted));
        assert!(!detect(&sorted.replace("lockstep-snapshot/1", "x")));
        assert_eq!(tail("aé", 1), "");
        assert_eq!(tail("aé", 2), "é");
    }

    #[test]
    fn minimal_snapshot_converts() {
        let n = node(&minimal(""));
        assert_eq!(n.name, "HV01");
        assert_eq!(n.cluster.as_deref(), Some("C"));
        assert_eq!(
            n.os.version
                .as_ref()
                .map(|v| v.value.to_string())
                .as_deref(),
            Some("10.0.17763.5206")
        );
        assert_eq!(
            n.os.architecture.as_ref().map(|a| a.value.as_str()),
            Some("x64")
        );
        assert_eq!(n.updates.len(), 1);
        assert_eq!(n.updates[0].kb, KbId(5033371));
        assert_eq!(
            n.updates[0].installed_on,
            Some(jiff::civil::date(2023, 12, 13))
        );
        assert_eq!(n.updates[0].source.line, 8);
        assert_eq!(n.other_entries.len(), 1);
        assert_eq!(n.other_entries[0].text, "File 1");
        assert!(n.unread.is_empty());
        assert!(
            n.state.is_none() && n.vms.is_none() && n.protection.defender_preferences.is_none()
        );
    }

    #[test]
    fn invalid_json_names_line_column_and_format() {
        let broken = "{\n  \"schema\": \"lockstep-snapshot/1\",\n  \"clusters\": [\n    {,\n  ]\n}";
        let e = parse(&Text::new("b.json", broken)).unwrap_err();
        assert_eq!(e.path, "b.json");
        assert_eq!(e.line, 4);
        assert!(
            e.expected.starts_with(
                "a lockstep snapshot (schema lockstep-snapshot/1): valid JSON at column 6"
            ),
            "{}",
            e.expected
        );
    }

    #[test]
    fn wrong_version_is_a_clear_error() {
        let doc = minimal("").replace("lockstep-snapshot/1", "lockstep-snapshot/2");
        let e = parse(&Text::new("v2.json", doc)).unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.found.as_deref(), Some("lockstep-snapshot/2"));
        assert!(
            e.expected
                .starts_with("schema lockstep-snapshot/1 (this lockstep reads snapshot version 1")
        );
    }

    #[test]
    fn missing_required_field_is_an_error_with_line() {
        let doc = minimal("").replace(
            "\"caption\": \"Microsoft Windows Server 2019 Datacenter\", ",
            "",
        );
        let e = parse(&Text::new("m.json", doc)).unwrap_err();
        assert_eq!(e.line, 7);
        assert!(
            e.found
                .as_deref()
                .unwrap_or("")
                .contains("missing field `caption`"),
            "{e:?}"
        );
    }

    #[test]
    fn bad_os_version_is_an_error() {
        let doc = minimal("").replace("\"10.0.17763\"", "\"ten\"");
        let e = parse(&Text::new("o.json", doc)).unwrap_err();
        assert_eq!((e.line, e.found.as_deref()), (7, Some("ten")));
    }

    #[test]
    fn unread_sections_are_recorded_not_treated_as_empty() {
        let doc = minimal(
            r#",
    "vms": {"status": "notAvailable", "message": "The Hyper-V module is not available on this computer."},
    "memory": {"status": "ok"},
    "packages": {"status": "accessDenied", "message": "The requested operation requires elevation."}"#,
        )
        .replace(
            r#""hotfixes": {"status": "ok", "data": [{"hotFixId": "KB5033371", "description": "Security Update", "installedOn": "2023-12-13"}, {"hotFixId": "File 1"}]}"#,
            r#""hotfixes": {"status": "error", "message": "RPC server unavailable"}"#,
        );
        let n = node(&doc);
        assert!(
            n.updates.is_empty() && n.vms.is_none() && n.memory.is_none() && n.packages.is_none()
        );
        let got: Vec<(&str, SectionStatus, Option<&str>)> = n
            .unread
            .iter()
            .map(|u| (u.section.as_str(), u.status, u.message.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "hotfixes",
                    SectionStatus::Error,
                    Some("RPC server unavailable")
                ),
                (
                    "packages",
                    SectionStatus::AccessDenied,
                    Some("The requested operation requires elevation.")
                ),
                (
                    "memory",
                    SectionStatus::Error,
                    Some("the section is marked ok but carries no data")
                ),
                (
                    "vms",
                    SectionStatus::NotAvailable,
                    Some("The Hyper-V module is not available on this computer.")
                ),
            ]
        );
        assert_eq!(n.unread("hotfixes").map(|u| u.source.line), Some(8));
    }

    #[test]
    fn history_replay_adds_net_installed_kbs_only() {
        let doc = minimal(
            r#",
    "updateHistory": {"status": "ok", "data": [
      {"title": "Update (KB4000002)", "date": "2023-12-02T00:00:00Z", "operation": "Uninstallation", "resultCode": "Succeeded"},
      {"title": "Update (KB4000003)", "date": "2023-12-01T00:00:00Z", "operation": "Installation", "resultCode": "Failed"},
      {"title": "Update (KB4000002)", "date": "2023-11-02T00:00:00Z", "operation": "Installation", "resultCode": "Succeeded"},
      {"title": "2023-12 Cumulative Update (KB5033371)", "date": "2023-12-13T02:00:00Z", "operation": "Installation", "resultCode": "Succeeded"},
      {"title": "Update (KB4000001)", "date": "2023-10-02T00:00:00.1234567Z", "operation": "Installation", "resultCode": "SucceededWithErrors"},
      {"title": "Definition update without a KB", "date": "2023-10-01T00:00:00Z", "operation": "Installation", "resultCode": "Succeeded"}
    ]}"#,
        );
        let n = node(&doc);
        let kbs: Vec<String> = n.updates.iter().map(|u| u.kb.to_string()).collect();
        assert_eq!(kbs, ["KB5033371", "KB4000001"]);
        // The hotfix entry wins over the history entry for the same KB.
        assert_eq!(n.updates[0].description.as_deref(), Some("Security Update"));
        assert_eq!(
            n.updates[1].description.as_deref(),
            Some("Update (KB4000001)")
        );
        assert_eq!(
            n.updates[1].installed_on,
            Some(jiff::civil::date(2023, 10, 2))
        );
        assert_eq!(n.updates[1].source.line, 14);
        // KB4000003's install failed and nothing installed it later.
        let failed: Vec<(String, &str, u32)> = n
            .failed_installs
            .iter()
            .map(|f| (f.kb.to_string(), f.result.as_str(), f.source.line))
            .collect();
        assert_eq!(failed, [("KB4000003".to_string(), "Failed", 11)]);
        assert_eq!(
            n.failed_installs[0].date,
            Some(jiff::civil::date(2023, 12, 1))
        );
    }

    #[test]
    fn a_failed_install_followed_by_a_successful_one_is_not_kept() {
        let doc = minimal(
            r#",
    "updateHistory": {"status": "ok", "data": [
      {"title": "Update (KB4000003)", "date": "2023-12-02T00:00:00Z", "operation": "Installation", "resultCode": "Succeeded"},
      {"title": "Update (KB4000003)", "date": "2023-12-01T00:00:00Z", "operation": "Installation", "resultCode": "Failed"},
      {"title": "Update (KB4000004)", "date": "2023-12-03T00:00:00Z", "operation": "Installation", "resultCode": "Aborted"},
      {"title": "Update (KB4000004)", "date": "2023-12-01T00:00:00Z", "operation": "Installation", "resultCode": "Succeeded"}
    ]}"#,
        );
        let n = node(&doc);
        let failed: Vec<String> = n.failed_installs.iter().map(|f| f.kb.to_string()).collect();
        assert_eq!(failed, ["KB4000004"]);
    }

    #[test]
    fn exclusion_lists_redacted_null_and_single_text() {
        assert_eq!(exclusions(&None), ExclusionList::Items(vec![]));
        let hidden = "{N/A: Must be and administrator to view exclusions}".to_string();
        assert_eq!(
            exclusions(&Some(ListOrText::Text(hidden.clone()))),
            ExclusionList::Redacted(hidden.clone())
        );
        assert_eq!(
            exclusions(&Some(ListOrText::List(vec![
                "N/A: Must be and administrator to view exclusions".into()
            ]))),
            ExclusionList::Redacted(hidden)
        );
        assert_eq!(
            exclusions(&Some(ListOrText::Text("C:\\ClusterStorage".into()))),
            ExclusionList::Items(vec!["C:\\ClusterStorage".into()])
        );
        assert_eq!(
            exclusions(&Some(ListOrText::List(vec![
                ".vhdx".into(),
                ".avhdx".into()
            ]))),
            ExclusionList::Items(vec![".vhdx".into(), ".avhdx".into()])
        );
    }

    #[test]
    fn compressed_json_puts_every_fact_on_line_one() {
        let value: serde_json::Value = serde_json::from_str(HVCLU22).unwrap();
        let compact = serde_json::to_string(&value).unwrap();
        let c = clusters(&compact);
        assert_eq!(c[0].nodes.len(), 3);
        assert!(
            c[0].nodes
                .iter()
                .all(|n| n.updates.iter().all(|u| u.source.line == 1))
        );
    }

    /// On one-line text the cursor answers without searching, and gives
    /// what the search gives (found or not, with or without a final newline).
    #[test]
    fn one_line_cursor_matches_the_search() {
        let value: serde_json::Value = serde_json::from_str(HVCLU22).unwrap();
        let compact = serde_json::to_string(&value).unwrap();
        for text in [compact.clone(), format!("{compact}\n")] {
            let fast = Locator::new(&text);
            assert!(fast.one_line);
            let mut slow = Locator::new(&text);
            slow.one_line = false;
            for (key, values) in [
                (
                    "hotFixId",
                    vec!["KB5032198", "KB5033118", "nope", "KB5032198"],
                ),
                ("name", vec!["HV22-02", "HV22-01", "missing"]),
            ] {
                for section in [0, 10, text.len()] {
                    let mut a = Cursor::new(&fast, key, section, section, text.len());
                    let mut b = Cursor::new(&slow, key, section, section, text.len());
                    for v in &values {
                        assert_eq!(a.line_of(v), b.line_of(v), "{key} {v} {section}");
                    }
                }
            }
        }
        assert!(!Locator::new(HVCLU22).one_line);
        assert!(!Locator::new("{\n}").one_line);
    }

    #[test]
    fn locator_lines() {
        let text = "{\n  \"a\": \"x\",\n  \"b\" : \"x\",\n  \"a\":\"y\"\n}";
        let loc = Locator::new(text);
        assert_eq!(
            loc.find_pair(0, text.len(), &Key::new("a"), "y")
                .map(|o| loc.line(o)),
            Some(4)
        );
        assert_eq!(
            loc.find_pair(0, text.len(), &Key::new("b"), "x")
                .map(|o| loc.line(o)),
            Some(3)
        );
        assert_eq!(loc.find_pair(0, text.len(), &Key::new("c"), "x"), None);
        assert_eq!(loc.line_of_key(0, text.len(), &Key::new("b")), 3);
        assert_eq!(
            loc.find_pair(0, 10_000, &Key::new("a"), "x")
                .map(|o| loc.line(o)),
            Some(2)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// The shortcuts trim exactly as `str` does.
        #[test]
        fn trims_match_str(s in "[ \t\n\u{a0}\u{3000}a-z:\"\u{e9}]{0,6}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
            proptest::prop_assert_eq!(trim_start(&s), s.trim_start());
        }

        /// The digit fast path gives what jiff's parser gives.
        #[test]
        fn civil_date_matches_jiff(y in 0u32..10_000, m in 0u32..14, d in 0u32..33, rest in "(|T00:00:00Z| |x)") {
            let s = format!("{y:04}-{m:02}-{d:02}{rest}");
            let jiff: Option<Date> = s.trim().get(..10).and_then(|p| p.parse().ok());
            proptest::prop_assert_eq!(civil_date(&s), jiff);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Truncated or corrupted snapshots give an error or clusters, never a panic.
        #[test]
        fn damaged_snapshot_never_panics(cut in 0usize..70_000, at in 0usize..70_000, junk in "[\\x00-\\x7f\u{e9}\u{4e2d}]{0,8}") {
            let mut s: String = HVCLU22.chars().take(cut).collect();
            let at = s.char_indices().map(|(i, _)| i).nth(at % (s.chars().count() + 1)).unwrap_or(s.len());
            s.insert_str(at, &junk);
            let _ = parse(&Text::new("p.json", s.as_str()));
            let _ = detect(&s);
        }
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "",
            "{",
            "{\"schema\": \"lockstep-snapshot/1\"}",
            "{\"schema\": 1}",
            "{\"schema\": \"lockstep-snapshot/1\", \"collectedAt\": \"x\", \"collector\": {\"version\": \"1\", \"host\": \"h\", \"elevated\": true}, \"clusters\": [{\"name\": \"c\", \"nodes\": [{\"name\": \"n\", \"os\": {\"status\": \"ok\"}, \"hotfixes\": {\"status\": \"weird\"}}]}]}",
        ] {
            let _ = parse(&Text::new("g.json", s));
        }
    }
}
