//! JSON report, schema `lockstep-report/1` (documented in
//! `schema/report-v1.schema.json`).
//!
//! The two long arrays (clusters and findings) are serialised in parallel
//! chunks and streamed; everything else goes through serde as is. The bytes
//! are exactly `serde_json::to_string(report)` (a test holds this), so the
//! field order below must follow `CheckReport`'s declaration.

use lockstep_check::run::{CheckReport, ClusterReport, ReportHead};
use serde::Serialize;
use std::io::{self, Write};

/// The whole JSON report as one string (tests, small reports).
pub fn render_json(report: &CheckReport) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and plain data always serialises.
    let _ = write_json(report, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

const ITEMS_PER_PART: usize = 256;

fn field(w: &mut dyn Write, first: bool, name: &str, value: &impl Serialize) -> io::Result<()> {
    if !first {
        w.write_all(b",")?;
    }
    serde_json::to_writer(&mut *w, name)?;
    w.write_all(b":")?;
    serde_json::to_writer(&mut *w, value)?;
    Ok(())
}

/// The elements of a long array, separated by `,` (rendered in parallel
/// parts).
fn items<T: Serialize + Sync>(w: &mut (dyn Write + Send), items: &[T]) -> io::Result<()> {
    crate::parts::write_parts(w, items, ITEMS_PER_PART, |part, first| {
        let mut buf = sized_buffer();
        for (i, item) in part.iter().enumerate() {
            if !(first && i == 0) {
                buf.push(b',');
            }
            serde_json::to_writer(&mut buf, item)?;
        }
        note_size(buf.len());
        Ok(buf)
    })
}

/// Streams the whole JSON report (one line, then a newline) to `w`.
pub fn write_json(report: &CheckReport, w: &mut (dyn Write + Send)) -> io::Result<()> {
    write_head(w, &report.head())?;
    crate::parts::write_parts(w, &report.clusters, 1, |cs, first| {
        let mut buf = Vec::new();
        for (i, c) in cs.iter().enumerate() {
            let part = cluster_json(c)?;
            write_cluster(&mut buf, &part, first && i == 0)?;
        }
        Ok(buf)
    })?;
    write_tail(w, report)
}

/// `{"schema": …, …, "clusters":[` — what comes before the first cluster.
pub fn write_head(w: &mut dyn Write, head: &ReportHead) -> io::Result<()> {
    w.write_all(b"{")?;
    field(w, true, "schema", &head.schema)?;
    field(w, false, "lockstep_version", &head.lockstep_version)?;
    field(w, false, "as_of", &head.as_of)?;
    field(w, false, "catalog", &head.catalog)?;
    field(w, false, "input_errors", &head.input_errors)?;
    field(w, false, "input_warnings", &head.input_warnings)?;
    w.write_all(b",\"clusters\":[")
}

/// One cluster as an element of the `clusters` array, preceded by its `,`
/// separator (rendered in parallel; [`write_cluster`] drops the separator
/// of the first).
pub fn cluster_json(c: &ClusterReport) -> io::Result<Vec<u8>> {
    let mut buf = sized_buffer();
    buf.push(b',');
    serde_json::to_writer(&mut buf, c)?;
    note_size(buf.len());
    Ok(buf)
}

thread_local! {
    /// The size of the last part this thread rendered: the next buffer
    /// starts that big instead of growing (and copying) from nothing.
    static LAST_SIZE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn sized_buffer() -> Vec<u8> {
    Vec::with_capacity(LAST_SIZE.get() + LAST_SIZE.get() / 4)
}

fn note_size(n: usize) {
    LAST_SIZE.set(n);
}

/// Writes one element from [`cluster_json`]: the first drops its separator.
pub fn write_cluster(w: &mut dyn Write, part: &[u8], first: bool) -> io::Result<()> {
    w.write_all(if first {
        part.get(1..).unwrap_or_default()
    } else {
        part
    })
}

/// `],"loose_nodes": …, "findings": […]}` and the final newline.
/// `report.clusters` is not read (it is empty when the clusters were
/// streamed).
pub fn write_tail(w: &mut (dyn Write + Send), report: &CheckReport) -> io::Result<()> {
    write_tail_start(w, report)?;
    items(w, &report.findings)?;
    write_tail_end(w)
}

/// What [`write_tail`] writes before the first finding (`report.findings`
/// is not read): the findings then follow as [`finding_json`] writes them,
/// separated by `,`, and [`write_tail_end`] closes the report.
pub fn write_tail_start(w: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    w.write_all(b"]")?;
    field(w, false, "loose_nodes", &report.loose_nodes)?;
    field(w, false, "companion_chains", &report.companion_chains)?;
    w.write_all(b",\"findings\":[")
}

/// One finding as an element of the `findings` array.
pub fn finding_json(f: &lockstep_check::Finding) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    serde_json::to_writer(&mut buf, f)?;
    Ok(buf)
}

/// The end of the report after the last finding.
pub fn write_tail_end(w: &mut dyn Write) -> io::Result<()> {
    w.write_all(b"]}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_check::run::{CatalogInfo, CheckOptions, check};
    use lockstep_check::sources::NoCatalog;

    #[test]
    fn streamed_bytes_equal_serde_for_every_field() {
        // A report with every top-level field set, and more findings and
        // clusters than one part holds, so part joins are exercised.
        let dir = std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/kb2616676"
        ));
        let loaded = lockstep_ingest::load_paths(&[dir]);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let template = loaded.inventory.clusters[0].clone();
        let mut inv = lockstep_model::Inventory::default();
        for c in 0..300 {
            let mut cluster = template.clone();
            cluster.name = format!("C{c:03}");
            inv.clusters.push(cluster);
        }
        inv.loose_nodes.push(template.nodes[0].clone());
        let mut report = check(
            &inv,
            &NoCatalog,
            None,
            CatalogInfo {
                available: false,
                path: None,
                limits: Some("no catalog".into()),
                bundled: false,
                data_date: None,
                notice: None,
            },
            &CheckOptions {
                as_of: Some(jiff::civil::date(2024, 1, 1)),
            },
        );
        report.input_errors = vec!["x.txt:3: expected \"a\"".into()];
        assert!(report.findings.len() > ITEMS_PER_PART * 2);
        let mut expected = serde_json::to_string(&report).unwrap();
        expected.push('\n');
        assert_eq!(render_json(&report), expected);
    }
}
