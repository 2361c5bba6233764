//! Reading networks: hosts and edges as CSV or JSON, policy files, and
//! hypervisor→guest edges from a lockstep snapshot.
//!
//! Encodings: whatever `lockstep_ingest::decode` reads (UTF-8 with or
//! without BOM, UTF-16LE/BE, legacy code pages).
//!
//! Formats (documented in `examples/coverage/README.md`):
//! * hosts CSV: header `id,role,exposure,protected` (`exposure` and
//!   `protected` optional); `#` starts a comment line;
//! * hosts JSON: an array of `{"id", "role", "exposure", "protected"}`;
//! * edges CSV: header `from,to,weight` (`weight` optional, default 1);
//! * edges JSON: an array of `{"from", "to", "weight"}`;
//! * policy file: one host id per line, `#` comments.
//!
//! The format is recognised by content (a JSON file starts with `[`), so file
//! names do not matter. Every error names the file, the line, and what was
//! expected; all bad rows of a file are reported, not just the first.

use crate::network::{Host, Network, NetworkError, ROLE_CHOICES, Role};
use lockstep_model::snapshot::{Snapshot, Status};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;
use std::path::Path;

/// At most this many row errors are collected per file; past that the file is
/// clearly in the wrong format and more messages would only bury the first.
const MAX_ERRORS_PER_FILE: usize = 20;

/// One problem in one input file.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub file: String,
    /// 1-based line, when the problem is on a line.
    pub line: Option<u64>,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// The errors of one or more files.
#[derive(Debug, Clone, PartialEq)]
pub struct InputErrors(pub Vec<InputError>);

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

struct Collector {
    file: String,
    errors: Vec<InputError>,
}

impl Collector {
    fn new(file: &str) -> Self {
        Collector {
            file: file.to_string(),
            errors: Vec::new(),
        }
    }
    fn push(&mut self, line: Option<u64>, message: impl Into<String>) {
        if self.errors.len() < MAX_ERRORS_PER_FILE {
            self.errors.push(InputError {
                file: self.file.clone(),
                line,
                message: message.into(),
            });
        }
    }
    fn full(&self) -> bool {
        self.errors.len() >= MAX_ERRORS_PER_FILE
    }
    fn finish(self) -> Result<(), InputErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(InputErrors(self.errors))
        }
    }
}

/// Reads a text file in any encoding Windows writes.
pub fn read_text(path: &Path) -> Result<String, InputErrors> {
    let name = path.display().to_string();
    let err = |message: String| {
        InputErrors(vec![InputError {
            file: name.clone(),
            line: None,
            message,
        }])
    };
    // Bounded like every input (a symlink to /dev/zero must not fill memory).
    let bytes = lockstep_model::input_file::read(
        path,
        lockstep_model::input_file::DEFAULT_MAX_INPUT_SIZE,
        lockstep_model::input_file::Origin::Named,
    )
    .map_err(|e| err(format!("cannot read: {e}")))?;
    // The one decoder every input goes through (UTF-8 with or without BOM,
    // UTF-16LE/BE as Windows PowerShell 5.1 writes, legacy code pages).
    lockstep_ingest::decode::decode(&bytes, &name).map_err(|e| {
        InputErrors(vec![InputError {
            file: name.clone(),
            line: (e.line > 0).then_some(u64::from(e.line)),
            message: e.expected,
        }])
    })
}

fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with('[') || text.trim_start().starts_with('{')
}

fn line_of(text: &str, offset: usize) -> u64 {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Some(true),
        "no" | "n" | "false" | "0" | "" => Some(false),
        _ => None,
    }
}

/// Parses the elements of a top-level JSON array, each with the line it
/// starts on, so that errors in an element can name its line.
fn json_elements<'a>(text: &'a str, c: &mut Collector) -> Option<Vec<(u64, &'a RawValue)>> {
    let items: Vec<&RawValue> = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            c.push(
                Some(e.line() as u64),
                format!("expected a JSON array of objects: {e}"),
            );
            return None;
        }
    };
    let base = text.as_ptr() as usize;
    Some(
        items
            .into_iter()
            .map(|raw| {
                let offset = (raw.get().as_ptr() as usize).saturating_sub(base);
                (line_of(text, offset), raw)
            })
            .collect(),
    )
}

/// Columns found in a CSV header, by position.
struct Columns {
    map: Vec<(&'static str, usize)>,
}

impl Columns {
    fn get<'r>(&self, name: &str, rec: &'r csv::StringRecord) -> Option<&'r str> {
        self.map
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, i)| rec.get(*i))
            .map(str::trim)
    }
    fn has(&self, name: &str) -> bool {
        self.map.iter().any(|(n, _)| *n == name)
    }
}

/// Maps header names (and their accepted aliases) to canonical column names.
fn columns(header: &csv::StringRecord, known: &[(&'static str, &[&str])]) -> Columns {
    let mut map = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().to_ascii_lowercase();
        if let Some((canon, _)) = known
            .iter()
            .find(|(_, aliases)| aliases.contains(&h.as_str()))
            && !map.iter().any(|(n, _)| n == canon)
        {
            map.push((*canon, i));
        }
    }
    Columns { map }
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

/// A CSV reader past its header, with the columns the header names; `None`
/// (the error collected at line 1) when the header cannot be read or lacks
/// one of `required`, which `missing` says.
fn csv_with_columns<'a>(
    text: &'a str,
    c: &mut Collector,
    known: &[(&'static str, &[&str])],
    required: &[&str],
    missing: &str,
) -> Option<(csv::Reader<&'a [u8]>, Columns)> {
    let mut rdr = csv_reader(text);
    let cols = match rdr.headers() {
        Ok(h) => columns(h, known),
        Err(e) => {
            c.push(Some(1), format!("expected a CSV header: {e}"));
            return None;
        }
    };
    if required.iter().any(|k| !cols.has(k)) {
        c.push(Some(1), missing);
        return None;
    }
    Some((rdr, cols))
}

/// A CSV record with its line; an unreadable one is collected as an error
/// and gives `None` (the rows after it are still read).
fn csv_record(
    rec: Result<csv::StringRecord, csv::Error>,
    c: &mut Collector,
) -> Option<(u64, csv::StringRecord)> {
    match rec {
        Ok(r) => Some((r.position().map(|p| p.line()).unwrap_or(0), r)),
        Err(e) => {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            c.push(Some(line), format!("unreadable CSV row: {e}"));
            None
        }
    }
}

const HOST_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["id", "host", "hostname", "name", "computername"]),
    ("role", &["role"]),
    ("exposure", &["exposure", "exposed"]),
    ("protected", &["protected", "av", "antivirus"]),
];

const EDGE_COLUMNS: &[(&str, &[&str])] = &[
    ("from", &["from", "source", "src"]),
    ("to", &["to", "target", "dst", "destination"]),
    ("weight", &["weight"]),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostJson {
    id: String,
    role: String,
    #[serde(default)]
    exposure: Option<String>,
    #[serde(default)]
    protected: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EdgeJson {
    from: String,
    to: String,
    #[serde(default)]
    weight: Option<f64>,
}

fn make_host(
    id: &str,
    role: &str,
    exposure: &str,
    protected: Result<bool, String>,
) -> Result<Host, String> {
    if id.is_empty() {
        return Err("expected a host id, found an empty field".into());
    }
    if id.chars().any(char::is_control) {
        return Err(format!("host id {id:?} contains control characters"));
    }
    let role = Role::parse(role)
        .ok_or_else(|| format!("role {role:?} of host {id:?}: expected {ROLE_CHOICES}"))?;
    let protected = protected?;
    Ok(Host {
        id: id.to_string(),
        role,
        exposure: exposure.to_string(),
        protected,
    })
}

/// Reads a hosts file (CSV or JSON) into a new network.
pub fn load_hosts(path: &Path) -> Result<Network, InputErrors> {
    let text = read_text(path)?;
    parse_hosts(&path.display().to_string(), &text)
}

/// Parses hosts from text; `file` names the source in errors.
pub fn parse_hosts(file: &str, text: &str) -> Result<Network, InputErrors> {
    let mut c = Collector::new(file);
    let mut net = Network::new();
    let add = |net: &mut Network, c: &mut Collector, line: u64, h: Result<Host, String>| match h
        .and_then(|h| net.add_host(h).map_err(|e| e.to_string()))
    {
        Ok(_) => {}
        Err(m) => c.push(Some(line), m),
    };
    if looks_like_json(text) {
        if let Some(items) = json_elements(text, &mut c) {
            for (line, raw) in items {
                let h = serde_json::from_str::<HostJson>(raw.get())
                    .map_err(|e| {
                        format!(
                            "expected a host object {{\"id\", \"role\", \"exposure\", \"protected\"}}: {e}"
                        )
                    })
                    .and_then(|h| {
                        let protected = match &h.protected {
                            None | Some(serde_json::Value::Null) => Ok(false),
                            Some(serde_json::Value::Bool(b)) => Ok(*b),
                            Some(serde_json::Value::String(s)) => parse_bool(s)
                                .ok_or_else(|| format!("protected {s:?}: expected yes or no")),
                            Some(other) => Err(format!("protected {other}: expected true or false")),
                        };
                        make_host(
                            h.id.trim(),
                            &h.role,
                            h.exposure.as_deref().unwrap_or("").trim(),
                            protected,
                        )
                    });
                add(&mut net, &mut c, line, h);
                if c.full() {
                    break;
                }
            }
        }
    } else {
        let Some((mut rdr, cols)) = csv_with_columns(
            text,
            &mut c,
            HOST_COLUMNS,
            &["id", "role"],
            "expected a CSV header with at least `id` and `role` (optional `exposure`, `protected`)",
        ) else {
            return c.finish().map(|_| net);
        };
        for rec in rdr.records() {
            let Some((line, rec)) = csv_record(rec, &mut c) else {
                continue;
            };
            let protected = cols.get("protected", &rec).unwrap_or("");
            let h = make_host(
                cols.get("id", &rec).unwrap_or(""),
                cols.get("role", &rec).unwrap_or(""),
                cols.get("exposure", &rec).unwrap_or(""),
                parse_bool(protected)
                    .ok_or_else(|| format!("protected {protected:?}: expected yes or no")),
            );
            add(&mut net, &mut c, line, h);
            if c.full() {
                break;
            }
        }
    }
    if net.is_empty() && c.errors.is_empty() {
        c.push(None, "expected at least one host, found none");
    }
    c.finish().map(|_| net)
}

/// Reads an edges file (CSV or JSON) into `net`, whose hosts must already be
/// loaded.
pub fn load_edges(path: &Path, net: &mut Network) -> Result<(), InputErrors> {
    let text = read_text(path)?;
    parse_edges(&path.display().to_string(), &text, net)
}

fn add_edge(net: &mut Network, from: &str, to: &str, weight: Option<f64>) -> Result<(), String> {
    let f = net
        .find(from)
        .ok_or_else(|| format!("edge source {from:?} is not a host in the hosts file"))?;
    let t = net
        .find(to)
        .ok_or_else(|| format!("edge target {to:?} is not a host in the hosts file"))?;
    net.add_edge(f, t, weight.unwrap_or(1.0))
        .map_err(|e| match e {
            NetworkError::BadWeight(w) => format!("weight {w}: expected a finite number >= 0"),
            other => other.to_string(),
        })
}

/// Parses edges from text into `net`; `file` names the source in errors.
pub fn parse_edges(file: &str, text: &str, net: &mut Network) -> Result<(), InputErrors> {
    let mut c = Collector::new(file);
    if looks_like_json(text) {
        if let Some(items) = json_elements(text, &mut c) {
            for (line, raw) in items {
                let r = serde_json::from_str::<EdgeJson>(raw.get())
                    .map_err(|e| {
                        format!("expected an edge object {{\"from\", \"to\", \"weight\"}}: {e}")
                    })
                    .and_then(|e| add_edge(net, e.from.trim(), e.to.trim(), e.weight));
                if let Err(m) = r {
                    c.push(Some(line), m);
                    if c.full() {
                        break;
                    }
                }
            }
        }
    } else {
        let Some((mut rdr, cols)) = csv_with_columns(
            text,
            &mut c,
            EDGE_COLUMNS,
            &["from", "to"],
            "expected a CSV header with `from` and `to` (optional `weight`)",
        ) else {
            return c.finish();
        };
        for rec in rdr.records() {
            let Some((line, rec)) = csv_record(rec, &mut c) else {
                continue;
            };
            let weight = match cols.get("weight", &rec) {
                None | Some("") => Ok(None),
                Some(w) => w
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| format!("weight {w:?}: expected a number >= 0")),
            };
            let r = weight.and_then(|w| {
                add_edge(
                    net,
                    cols.get("from", &rec).unwrap_or(""),
                    cols.get("to", &rec).unwrap_or(""),
                    w,
                )
            });
            if let Err(m) = r {
                c.push(Some(line), m);
                if c.full() {
                    break;
                }
            }
        }
    }
    c.finish()
}

/// Reads a policy file: the ids of the hosts to protect, one per line.
pub fn load_policy_file(path: &Path, net: &Network) -> Result<Vec<u32>, InputErrors> {
    let text = read_text(path)?;
    parse_policy(&path.display().to_string(), &text, net)
}

pub fn parse_policy(file: &str, text: &str, net: &Network) -> Result<Vec<u32>, InputErrors> {
    let mut c = Collector::new(file);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let id = line.trim();
        if id.is_empty() || id.starts_with('#') {
            continue;
        }
        match net.find(id) {
            Some(idx) => out.push(idx),
            None => c.push(
                Some(i as u64 + 1),
                format!("{id:?} is not a host in the hosts file (expected one host id per line)"),
            ),
        }
    }
    c.finish().map(|_| out)
}

/// What reading a snapshot added to the network.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SnapshotEdges {
    pub edges_added: usize,
    /// Hosts that the snapshot names but the hosts file lacked; they were
    /// added (hypervisor or vm, unprotected, not exposed).
    pub hosts_added: Vec<String>,
    /// Nodes whose VM list could not be used, with the reason.
    pub warnings: Vec<String>,
}

/// Adds a hypervisor→guest edge for every VM a snapshot lists on a cluster
/// node: whoever controls a Hyper-V host controls its guests (console, disks,
/// checkpoints), whatever the network says.
pub fn load_snapshot_edges(path: &Path, net: &mut Network) -> Result<SnapshotEdges, InputErrors> {
    let text = read_text(path)?;
    parse_snapshot_edges(&path.display().to_string(), &text, net)
}

pub fn parse_snapshot_edges(
    file: &str,
    text: &str,
    net: &mut Network,
) -> Result<SnapshotEdges, InputErrors> {
    let snap: Snapshot = serde_json::from_str(text).map_err(|e| {
        InputErrors(vec![InputError {
            file: file.to_string(),
            line: Some(e.line() as u64),
            message: format!("expected a lockstep snapshot (lockstep-snapshot/1): {e}"),
        }])
    })?;
    let mut out = SnapshotEdges::default();
    let mut c = Collector::new(file);
    let ensure = |net: &mut Network, out: &mut SnapshotEdges, id: &str, role: Role| {
        if let Some(i) = net.find(id) {
            return Ok(i);
        }
        let h = make_host(id, role.as_str(), "", Ok(false))?;
        let i = net.add_host(h).map_err(|e| e.to_string())?;
        out.hosts_added.push(id.to_string());
        Ok::<u32, String>(i)
    };
    for cluster in &snap.clusters {
        for node in &cluster.nodes {
            let Some(section) = &node.vms else {
                out.warnings.push(format!(
                    "cluster {:?} node {:?}: the snapshot has no VM list",
                    cluster.name, node.name
                ));
                continue;
            };
            let vms = match (section.status, &section.data) {
                (Status::Ok, Some(vms)) => vms,
                (status, _) => {
                    out.warnings.push(format!(
                        "cluster {:?} node {:?}: VM list not read ({status:?}{})",
                        cluster.name,
                        node.name,
                        section
                            .message
                            .as_deref()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    ));
                    continue;
                }
            };
            if vms.is_empty() {
                continue;
            }
            let hv = match ensure(net, &mut out, node.name.trim(), Role::Hypervisor) {
                Ok(i) => i,
                Err(m) => {
                    c.push(None, format!("node {:?}: {m}", node.name));
                    continue;
                }
            };
            for vm in vms {
                let r = ensure(net, &mut out, vm.name.trim(), Role::Vm)
                    .and_then(|g| net.add_edge(hv, g, 1.0).map_err(|e| e.to_string()));
                match r {
                    Ok(()) => out.edges_added += 1,
                    Err(m) => c.push(None, format!("node {:?} VM {:?}: {m}", node.name, vm.name)),
                }
            }
        }
    }
    c.finish().map(|_| out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_csv_with_comment_and_aliases() {
        let text = "# comment\nid,role,exposure,protected\nHV01,hypervisor,,no\nWEB01,vm,internet-facing,yes\nDC01,dc,internal,true\n";
        let net = parse_hosts("h.csv", text).unwrap();
        assert_eq!(net.len(), 3);
        let h = &net.hosts()[1];
        assert_eq!(
            (h.id.as_str(), h.role, h.protected, h.is_exposed()),
            ("WEB01", Role::Vm, true, true)
        );
        assert_eq!(net.hosts()[2].role, Role::DomainController);
    }

    #[test]
    fn hosts_csv_errors_name_lines() {
        let text = "id,role,protected\nA,server,no\nB,router,no\nC,server,maybe\nA,vm,no\n";
        let err = parse_hosts("h.csv", text).unwrap_err();
        let lines: Vec<String> = err.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            vec![
                format!("h.csv:3: role \"router\" of host \"B\": expected {ROLE_CHOICES}"),
                "h.csv:4: protected \"maybe\": expected yes or no".to_string(),
                "h.csv:5: duplicate host id \"A\" (host ids are case-insensitive)".to_string(),
            ]
        );
    }

    #[test]
    fn hosts_csv_without_header_is_rejected() {
        let err = parse_hosts("h.csv", "A,server\n").unwrap_err();
        assert_eq!(err.0[0].line, Some(1));
        assert!(err.0[0].message.contains("`id` and `role`"));
    }

    #[test]
    fn hosts_json_errors_name_lines() {
        let text = "[\n  {\"id\": \"A\", \"role\": \"server\"},\n  {\"id\": \"B\", \"role\": \"toaster\"},\n  {\"id\": \"C\", \"role\": \"vm\", \"protected\": \"yes\", \"exposure\": \"vpn\"}\n]";
        let err = parse_hosts("h.json", text).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].line, Some(3));
        let ok = text.replace("toaster", "workstation");
        let net = parse_hosts("h.json", &ok).unwrap();
        assert!(net.hosts()[2].protected && net.hosts()[2].is_exposed());
    }

    #[test]
    fn edges_csv_and_json() {
        let mut net = parse_hosts("h.csv", "id,role\nA,server\nB,server\n").unwrap();
        parse_edges("e.csv", "from,to,weight\nA,B,\nb,a,0.5\n", &mut net).unwrap();
        assert_eq!(net.edges().len(), 2);
        assert_eq!((net.edges()[1].from, net.edges()[1].weight), (1, 0.5));
        let err = parse_edges(
            "e.csv",
            "from,to,weight\nA,X,1\nA,B,-1\nA,B,abc\nA,A,1\n",
            &mut net,
        )
        .unwrap_err();
        let msgs: Vec<String> = err.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            msgs,
            vec![
                "e.csv:2: edge target \"X\" is not a host in the hosts file",
                "e.csv:3: weight -1: expected a finite number >= 0",
                "e.csv:4: weight \"abc\": expected a number >= 0",
                "e.csv:5: an edge from a host to itself (\"A\") means nothing for spreading",
            ]
        );
        let err = parse_edges(
            "e.json",
            "[\n{\"from\":\"A\",\"to\":\"B\"},\n{\"from\":\"A\"}\n]",
            &mut net,
        )
        .unwrap_err();
        assert_eq!(err.0[0].line, Some(3));
        let err =
            parse_edges("e.json", "[\n{\"from\":\"A\",\"to\":\"B\"},\n", &mut net).unwrap_err();
        assert_eq!(err.0[0].file, "e.json");
    }

    #[test]
    fn utf16_and_bom_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let text = "#TYPE System.Management.Automation.PSCustomObject\n\"id\",\"role\"\n\"HV01\",\"hypervisor\"\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        let p = dir.path().join("le.csv");
        std::fs::write(&p, &le).unwrap();
        let net = load_hosts(&p).unwrap();
        assert_eq!(net.hosts()[0].id, "HV01");
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
        std::fs::write(&p, &be).unwrap();
        assert_eq!(load_hosts(&p).unwrap().len(), 1);
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend(text.as_bytes());
        std::fs::write(&p, &bom).unwrap();
        assert_eq!(load_hosts(&p).unwrap().len(), 1);
        // Binary data is refused by the shared decoder, naming the file.
        std::fs::write(&p, b"id,role\nA,server\n\x00\x01\x02\x03\x00\x00\x00\n").unwrap();
        let e = load_hosts(&p).unwrap_err();
        assert_eq!(
            e.0[0],
            InputError {
                file: p.display().to_string(),
                line: Some(3),
                message: "text, found binary data (a NUL byte at offset 17)".into(),
            }
        );
    }

    #[test]
    fn policy_file() {
        let net = parse_hosts("h.csv", "id,role\nA,server\nB,server\n").unwrap();
        assert_eq!(
            parse_policy("p", "# protect\nb\n\nA\n", &net).unwrap(),
            vec![1, 0]
        );
        let err = parse_policy("p", "A\nZ\n", &net).unwrap_err();
        assert_eq!(err.0[0].line, Some(2));
    }
}
