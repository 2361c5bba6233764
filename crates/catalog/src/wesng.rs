//! WES-NG definitions (<https://github.com/bitsadmin/wesng>): `definitions.zip`
//! holds `CVEs_YYYYMMDD.csv` (MSRC-derived, one row per CVE × KB × product,
//! back to 2008) and `Custom_YYYYMMDD.csv` (service packs and other manual
//! entries, same columns).
//!
//! Columns: DatePosted (YYYYMMDD, the CVE row's date — not the KB's release
//! date), CVE, BulletinKB (a KB number, or a package name for the Linux rows,
//! which are skipped), Title (of the CVE), AffectedProduct, AffectedComponent,
//! Severity, Impact, Supersedes (free text like CVRF's Supercedence), Exploits.
//!
//! The CSV is read as a stream of byte records; only the de-duplicated facts
//! stay in memory.

use crate::batch::{CveFacts, ImportBatch, Severity, parse_kb_field, parse_supersedence};
use crate::error::ParseError;
use lockstep_model::KbId;
use std::io::Read;

pub(crate) const HEADER: [&str; 10] = [
    "DatePosted",
    "CVE",
    "BulletinKB",
    "Title",
    "AffectedProduct",
    "AffectedComponent",
    "Severity",
    "Impact",
    "Supersedes",
    "Exploits",
];

/// `20231212` → 2023-12-12.
fn parse_yyyymmdd(b: &[u8]) -> Option<jiff::civil::Date> {
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> i32 {
        b.get(r)
            .map(|s| s.iter().fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0')))
            .unwrap_or(0)
    };
    jiff::civil::Date::new(n(0..4) as i16, n(4..6) as i8, n(6..8) as i8).ok()
}

fn field(record: &csv::ByteRecord, i: usize, line: u64) -> Result<&str, ParseError> {
    let bytes = record.get(i).unwrap_or(b"");
    std::str::from_utf8(bytes).map_err(|_| ParseError {
        offset: 0,
        line: Some(line),
        message: format!(
            "column {} ({}) is not valid UTF-8",
            i + 1,
            HEADER.get(i).unwrap_or(&"?")
        ),
    })
}

/// Parses a WES-NG CSV into `batch`.
pub(crate) fn parse_csv<R: Read>(input: R, batch: &mut ImportBatch) -> Result<(), ParseError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        // Custom_*.csv has section comments such as `# Service Packs`.
        .comment(Some(b'#'))
        .from_reader(input);
    let headers = reader.byte_headers().map_err(csv_error)?.clone();
    let found: Vec<String> = headers
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    if found.len() != HEADER.len() || found.iter().zip(HEADER).any(|(a, b)| a != b) {
        return Err(ParseError {
            offset: 0,
            line: Some(1),
            message: format!(
                "expected the WES-NG header {}, found {}",
                HEADER.join(","),
                found.join(",")
            ),
        });
    }
    let mut record = csv::ByteRecord::new();
    // Reused across rows: the previous row's KB and product are usually the
    // same, which saves the hash lookups.
    let mut last_product: Option<(Vec<u8>, u32)> = None;
    let mut last_supersedes: Option<(KbId, u32, Vec<u8>)> = None;
    while reader.read_byte_record(&mut record).map_err(csv_error)? {
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        batch.counts.records += 1;
        let kb_text = field(&record, 2, line)?;
        let Some(kb) = parse_kb_field(kb_text) else {
            batch.counts.skipped_not_kb += 1;
            continue;
        };
        let date = parse_yyyymmdd(record.get(0).unwrap_or(b""));
        let product_bytes = record.get(4).unwrap_or(b"");
        let product = match &last_product {
            Some((b, id)) if b.as_slice() == product_bytes => *id,
            _ => {
                let name = field(&record, 4, line)?.trim();
                if name.is_empty() {
                    return Err(ParseError {
                        offset: 0,
                        line: Some(line),
                        message:
                            "expected a product name in column 5 (AffectedProduct), found nothing"
                                .into(),
                    });
                }
                let id = batch.products.intern(name);
                last_product = Some((product_bytes.to_vec(), id));
                id
            }
        };
        let facts = batch.kbs.entry(kb).or_default();
        if let Some(d) = date {
            *facts.date_counts.entry(d).or_insert(0) += 1;
        }
        // The Title column names the CVE; it names the update only in the
        // custom rows ("Windows 8.1 Update 1 ... (KB2919355)").
        if facts.title.is_none()
            && memchr::memmem::find(record.get(3).unwrap_or(b""), b"KB").is_some()
        {
            let title = field(&record, 3, line)?;
            if KbId::find_in(title) == Some(kb) {
                facts.title = Some(title.trim().to_string());
            }
        }
        batch.fixes.entry((kb, product)).or_default();
        // Consecutive rows of one KB × product repeat the same Supersedes text.
        let supersedes_bytes = record.get(8).unwrap_or(b"");
        let repeated = last_supersedes
            .as_ref()
            .is_some_and(|(k, p, t)| *k == kb && *p == product && t.as_slice() == supersedes_bytes);
        if !supersedes_bytes.is_empty() && !repeated {
            let supersedes = field(&record, 8, line)?;
            for older in parse_supersedence(supersedes) {
                if older != kb {
                    batch.edges.insert((kb, older, product), ());
                }
            }
            last_supersedes = Some((kb, product, supersedes_bytes.to_vec()));
        }
        let cve = field(&record, 1, line)?.trim();
        if !cve.is_empty() {
            let severity = Severity::parse(field(&record, 6, line)?);
            let impact = field(&record, 7, line)?.trim();
            let c = batch.cve_ids.intern(cve);
            let e = batch
                .cves
                .entry((kb, product, c))
                .or_insert_with(|| CveFacts {
                    severity,
                    impact: None,
                    date_posted: date,
                });
            e.severity = e.severity.max(severity);
            if e.impact.is_none() && !impact.is_empty() && impact != "System.Object[]" {
                e.impact = Some(impact.to_string());
            }
            if let (Some(old), Some(new)) = (e.date_posted, date)
                && new < old
            {
                e.date_posted = Some(new);
            }
        }
    }
    Ok(())
}

fn csv_error(e: csv::Error) -> ParseError {
    let line = e.position().map(|p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("expected {expected_len} columns (the WES-NG layout), found {len}")
        }
        csv::ErrorKind::Io(io) => format!("read error: {io}"),
        _ => format!("malformed CSV: {e}"),
    };
    ParseError {
        offset: 0,
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            parse_yyyymmdd(b"20231212"),
            Some(jiff::civil::date(2023, 12, 12))
        );
        assert_eq!(parse_yyyymmdd(b"20231332"), None);
        assert_eq!(parse_yyyymmdd(b"2023121"), None);
        assert_eq!(parse_yyyymmdd(b"2023-12-"), None);
    }
}
