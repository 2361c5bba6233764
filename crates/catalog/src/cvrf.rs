//! MSRC CVRF documents (CVRF 1.1 as served by `api.msrc.microsoft.com/cvrf/v3.0`).
//!
//! XML comes in two spellings of the same schema: the default-namespace form
//! (`<cvrfdoc xmlns="http://www.icasi.org/CVRF/schema/cvrf/1.1">`, with
//! `ProductTree`/`Vulnerability` re-declaring the prod/vuln namespaces, as the
//! API serves today) and the prefixed form (`<cvrf:cvrfdoc>`, `<prod:...>`,
//! `<vuln:...>`, as older downloads look). The parser matches local names only,
//! so both read the same. It streams: one vulnerability at a time is held in
//! memory.
//!
//! From each vendor-fix remediation (`Type="Vendor Fix"` in XML, `Type: 2` in
//! JSON) lockstep takes the KB (`Description`, only when it is a KB number),
//! the product ids (mapped through the ProductTree to names), `SubType`,
//! `FixedBuild`, `RestartRequired` and `Supercedence` (sic; free text). Each
//! CVE is recorded per KB×product with the Severity and Impact threats for that
//! product.

use crate::batch::{
    CveFacts, FixFacts, ImportBatch, Severity, parse_iso_date_prefix, parse_kb_field,
    parse_supersedence,
};
use crate::error::ParseError;
use quick_xml::Reader;
use quick_xml::events::Event;
use std::collections::HashMap;
use std::io::BufRead;

/// A vulnerability as both CVRF forms describe it (only what lockstep uses).
#[derive(Debug, Default)]
pub(crate) struct CvrfVulnerability {
    pub cve: Option<String>,
    /// Dates of the vulnerability's RevisionHistory entries.
    pub revisions: Vec<jiff::civil::Date>,
    pub threats: Vec<CvrfThreat>,
    pub remediations: Vec<CvrfRemediation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThreatKind {
    Impact,
    Severity,
    Other,
}

#[derive(Debug)]
pub(crate) struct CvrfThreat {
    pub kind: ThreatKind,
    pub description: String,
    pub product_ids: Vec<String>,
}

#[derive(Debug, Default)]
pub(crate) struct CvrfRemediation {
    pub vendor_fix: bool,
    pub description: String,
    pub supercedence: String,
    pub product_ids: Vec<String>,
    pub restart_required: Option<String>,
    pub subtype: Option<String>,
    pub fixed_build: Option<String>,
}

/// Product ids → interned raw product names, built from the ProductTree.
#[derive(Debug, Default)]
pub(crate) struct ProductTree {
    pub ids: HashMap<String, String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Adds one vulnerability's facts to the batch.
pub(crate) fn apply_vulnerability(
    batch: &mut ImportBatch,
    tree: &ProductTree,
    vuln: CvrfVulnerability,
) {
    batch.counts.records += 1;
    // A vulnerability without a revision history counts as first published
    // (and never revised) on the document's date.
    let revised = (
        vuln.revisions.iter().min().copied(),
        vuln.revisions.iter().max().copied(),
    );
    let dates = match revised {
        (Some(first), Some(last)) => Some((first, last)),
        _ => batch.initial_release.map(|d| (d, d)),
    };
    let mut listed: Vec<lockstep_model::KbId> = Vec::new();
    let mut severity: HashMap<&str, Severity> = HashMap::new();
    let mut impact: HashMap<&str, &str> = HashMap::new();
    for t in &vuln.threats {
        for p in &t.product_ids {
            match t.kind {
                ThreatKind::Severity => {
                    let s = severity.entry(p.as_str()).or_default();
                    *s = (*s).max(Severity::parse(&t.description));
                }
                ThreatKind::Impact if !t.description.trim().is_empty() => {
                    impact.entry(p.as_str()).or_insert(t.description.trim());
                }
                _ => {}
            }
        }
    }
    for r in &vuln.remediations {
        if !r.vendor_fix {
            continue;
        }
        batch.counts.vendor_fixes += 1;
        let Some(kb) = parse_kb_field(&r.description) else {
            batch.counts.skipped_not_kb += 1;
            continue;
        };
        let older = parse_supersedence(&r.supercedence);
        let fixed_build = r
            .fixed_build
            .as_deref()
            .and_then(|b| b.trim().parse::<lockstep_model::WinVersion>().ok());
        let facts = batch.kbs.entry(kb).or_default();
        if let Some(d) = dates
            && !listed.contains(&kb)
        {
            listed.push(kb);
            facts.vulnerabilities.push(d);
        }
        for pid in &r.product_ids {
            let Some(name) = tree.ids.get(pid.trim()) else {
                batch.counts.unknown_product_ids += 1;
                continue;
            };
            let product = batch.products.intern(name);
            batch.add_fix(
                kb,
                product,
                FixFacts {
                    subtype: non_empty(r.subtype.clone()),
                    fixed_build,
                    restart_required: non_empty(r.restart_required.clone()),
                },
            );
            for o in &older {
                if *o != kb {
                    batch.edges.insert((kb, *o, product), ());
                }
            }
            if let Some(cve) = vuln.cve.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                batch.add_cve(
                    kb,
                    product,
                    cve,
                    CveFacts {
                        severity: severity.get(pid.trim()).copied().unwrap_or_default(),
                        impact: impact.get(pid.trim()).map(|s| s.to_string()),
                        date_posted: None,
                    },
                );
            }
        }
    }
}

/// Which leaf element's text is being collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    DocTitle,
    DocId,
    InitialRelease,
    CurrentRelease,
    ProductName,
    Cve,
    ThreatDescription,
    ThreatProduct,
    RemDescription,
    RemSupercedence,
    RemProduct,
    RemRestart,
    RemSubType,
    RemFixedBuild,
    RevisionDate,
}

/// The state of a CVRF XML parse between events: where the reader is and
/// the vulnerability, threat and remediation being read.
#[derive(Default)]
struct XmlState {
    stack: Vec<String>,
    field: Option<Field>,
    tree: ProductTree,
    product_id: Option<String>,
    vuln: Option<CvrfVulnerability>,
    threat: Option<CvrfThreat>,
    remediation: Option<CvrfRemediation>,
    root_seen: bool,
    root_closed: bool,
    doc_id: Option<String>,
}

impl XmlState {
    /// An element opens: which leaf field its text fills, which record it starts.
    fn start(&mut self, e: &quick_xml::events::BytesStart<'_>, pos: u64) -> Result<(), ParseError> {
        let local = e.local_name().as_ref().to_string();
        if self.stack.is_empty() {
            if local != "cvrfdoc" {
                return Err(ParseError::at(
                    pos,
                    format!(
                        "expected a CVRF document (root element cvrfdoc), found <{}>",
                        e.name().as_ref()
                    ),
                ));
            }
            self.root_seen = true;
        }
        let parent = self.stack.last().map(String::as_str);
        let in_vuln = self.vuln.is_some();
        let (threat, remediation) = (self.threat.is_some(), self.remediation.is_some());
        self.field = match local.as_str() {
            "DocumentTitle" if self.stack.len() == 1 => Some(Field::DocTitle),
            "ID" if parent == Some("Identification") => Some(Field::DocId),
            "InitialReleaseDate" if parent == Some("DocumentTracking") => {
                Some(Field::InitialRelease)
            }
            "CurrentReleaseDate" if parent == Some("DocumentTracking") => {
                Some(Field::CurrentRelease)
            }
            "FullProductName" => {
                self.product_id = attr(e, "ProductID");
                Some(Field::ProductName)
            }
            "CVE" if in_vuln => Some(Field::Cve),
            "Description" if threat => Some(Field::ThreatDescription),
            "ProductID" if threat => Some(Field::ThreatProduct),
            "Description" if remediation => Some(Field::RemDescription),
            "Supercedence" if remediation => Some(Field::RemSupercedence),
            "ProductID" if remediation => Some(Field::RemProduct),
            "RestartRequired" if remediation => Some(Field::RemRestart),
            "SubType" if remediation => Some(Field::RemSubType),
            "FixedBuild" if remediation => Some(Field::RemFixedBuild),
            "Date" if in_vuln && parent == Some("Revision") => Some(Field::RevisionDate),
            _ => None,
        };
        match local.as_str() {
            "Vulnerability" => self.vuln = Some(CvrfVulnerability::default()),
            "Threat" if in_vuln => {
                let kind = match attr(e, "Type").as_deref() {
                    Some("Impact") => ThreatKind::Impact,
                    Some("Severity") => ThreatKind::Severity,
                    _ => ThreatKind::Other,
                };
                self.threat = Some(CvrfThreat {
                    kind,
                    description: String::new(),
                    product_ids: Vec::new(),
                });
            }
            "Remediation" if in_vuln => {
                self.remediation = Some(CvrfRemediation {
                    vendor_fix: attr(e, "Type").as_deref() == Some("Vendor Fix"),
                    ..Default::default()
                })
            }
            _ => {}
        }
        self.stack.push(local);
        Ok(())
    }

    /// A leaf field's text is complete.
    fn store(&mut self, f: Field, value: String, batch: &mut ImportBatch) {
        match f {
            Field::DocTitle => batch.title = non_empty(Some(value)),
            Field::DocId => self.doc_id = non_empty(Some(value)),
            Field::InitialRelease => batch.initial_release = parse_iso_date_prefix(&value),
            Field::CurrentRelease => batch.current_release = non_empty(Some(value)),
            Field::ProductName => {
                if let Some(id) = self.product_id.take() {
                    let name = value.trim();
                    if !name.is_empty() {
                        self.tree.ids.entry(id).or_insert_with(|| name.to_string());
                    }
                }
            }
            Field::Cve => {
                if let Some(v) = self.vuln.as_mut() {
                    v.cve = non_empty(Some(value));
                }
            }
            Field::ThreatDescription => {
                if let Some(t) = self.threat.as_mut() {
                    t.description = value;
                }
            }
            Field::ThreatProduct => {
                if let Some(t) = self.threat.as_mut() {
                    t.product_ids.push(value.trim().to_string());
                }
            }
            Field::RemDescription => {
                if let Some(r) = self.remediation.as_mut() {
                    r.description = value;
                }
            }
            Field::RemSupercedence => {
                if let Some(r) = self.remediation.as_mut() {
                    r.supercedence = value;
                }
            }
            Field::RemProduct => {
                if let Some(r) = self.remediation.as_mut() {
                    r.product_ids.push(value.trim().to_string());
                }
            }
            Field::RemRestart => {
                if let Some(r) = self.remediation.as_mut() {
                    r.restart_required = Some(value);
                }
            }
            Field::RemSubType => {
                if let Some(r) = self.remediation.as_mut() {
                    r.subtype = Some(value);
                }
            }
            Field::RemFixedBuild => {
                if let Some(r) = self.remediation.as_mut() {
                    r.fixed_build = Some(value);
                }
            }
            Field::RevisionDate => {
                if let (Some(v), Some(d)) = (self.vuln.as_mut(), parse_iso_date_prefix(&value)) {
                    v.revisions.push(d);
                }
            }
        }
    }

    /// An element closes: a finished threat, remediation or vulnerability
    /// is filed.
    fn end(&mut self, local: &str, batch: &mut ImportBatch) {
        match local {
            "Threat" => {
                if let (Some(t), Some(v)) = (self.threat.take(), self.vuln.as_mut()) {
                    v.threats.push(t);
                }
            }
            "Remediation" => {
                if let (Some(r), Some(v)) = (self.remediation.take(), self.vuln.as_mut()) {
                    v.remediations.push(r);
                }
            }
            "Vulnerability" => {
                if let Some(v) = self.vuln.take() {
                    apply_vulnerability(batch, &self.tree, v);
                }
            }
            _ => {}
        }
    }
}

/// Parses a CVRF XML document (either namespace spelling) into `batch`.
pub(crate) fn parse_xml<R: BufRead>(input: R, batch: &mut ImportBatch) -> Result<(), ParseError> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut text = String::new();
    let mut st = XmlState::default();

    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            let text = e.to_string();
            let message = if text.contains("end of input") || text.contains("UnexpectedEof") {
                format!("the document ends inside a tag: the file is truncated ({text})")
            } else {
                format!("malformed XML: {text}")
            };
            ParseError::at(reader.error_position(), message)
        })?;
        let field = st.field;
        match event {
            Event::Start(e) => {
                st.start(&e, pos)?;
                text.clear();
            }
            Event::Empty(e) => {
                // <Description /> and friends carry nothing; nothing to record.
                if st.stack.is_empty() {
                    return Err(ParseError::at(
                        pos,
                        "expected a CVRF document, found an empty root element",
                    ));
                }
                let _ = e;
            }
            Event::Text(t) if field.is_some() => text.push_str(&t.xml10_content()),
            Event::CData(t) if field.is_some() => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if field.is_some() => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                Ok(None) => match &*r {
                    "lt" => text.push('<'),
                    "gt" => text.push('>'),
                    "amp" => text.push('&'),
                    "quot" => text.push('"'),
                    "apos" => text.push('\''),
                    other => {
                        return Err(ParseError::at(pos, format!("unknown XML entity &{other};")));
                    }
                },
                Err(e) => {
                    return Err(ParseError::at(pos, format!("bad character reference: {e}")));
                }
            },
            Event::End(e) => {
                let local = e.local_name().as_ref().to_string();
                st.stack.pop();
                if let Some(f) = st.field.take() {
                    st.store(f, std::mem::take(&mut text), batch);
                }
                st.end(&local, batch);
                if st.stack.is_empty() {
                    st.root_closed = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !st.root_seen {
        return Err(ParseError::at(
            0,
            "expected a CVRF XML document (<cvrfdoc>), found no root element",
        ));
    }
    if !st.root_closed {
        return Err(ParseError::at(
            reader.buffer_position(),
            "document ends before </cvrfdoc>: the file is truncated",
        ));
    }
    batch.counts.tree_products = st.tree.ids.len() as u64;
    match st.doc_id {
        Some(id) => batch.name = id,
        None => {
            return Err(ParseError::at(
                0,
                "expected DocumentTracking/Identification/ID (the document id, e.g. 2023-Dec)",
            ));
        }
    }
    Ok(())
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}
