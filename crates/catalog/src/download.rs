//! `lockstep catalog update`: download MSRC CVRF documents.
//!
//! 1. `GET {base}/cvrf/v3.0/updates` (JSON): the index of monthly documents,
//!    each with `ID` (`2023-Dec`), `InitialReleaseDate` and `CurrentReleaseDate`.
//! 2. For each document in range (`--since YYYY-MM`), unless the catalog
//!    already holds it with the same CurrentReleaseDate:
//!    `GET {base}/cvrf/v3.0/cvrf/{ID}` with `Accept: application/xml`.
//!
//! Documents are fetched as XML rather than JSON because XML is what MSRC
//! documents and archives as CVRF (and what the recorded fixtures are), and
//! the XML parser streams with constant memory while the JSON form wraps every
//! string in an object and is larger. Both forms import identically.
//!
//! The whole run is one [`ImportSession`]: any failure (offline, HTTP error,
//! timeout, a truncated body that does not parse) leaves the catalog file
//! exactly as it was.
//!
//! What the server sends is not trusted: bodies are read (decompressed) up
//! to [`MAX_INDEX_BYTES`] / [`MAX_DOCUMENT_BYTES`] as they stream, redirects
//! are followed only on the host of the base URL, and a document id from the
//! index must look like `2023-Dec` before it goes into a URL.

use crate::batch::SourceKind;
use crate::error::CatalogError;
use crate::import::parse_bytes;
use crate::store::{ImportSession, ImportStatus};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://api.msrc.microsoft.com";

/// The largest index body read (decompressed): the real one is about 30 KB.
pub const MAX_INDEX_BYTES: u64 = 16 << 20;
/// The largest document body read (decompressed): the largest real monthly
/// document (2020-Apr) is 4 MB of XML.
pub const MAX_DOCUMENT_BYTES: u64 = 64 << 20;
/// Redirects followed per request (all on the base URL's host).
const MAX_REDIRECTS: u32 = 5;

#[derive(Clone)]
pub struct UpdateOptions<'a> {
    /// Scheme and host (and optional path prefix), without the `/cvrf/v3.0` part.
    pub base_url: String,
    /// Only documents of this month and later: (year, month).
    pub since: Option<(i16, i8)>,
    /// Per-request time limit.
    pub timeout: Duration,
    /// Extra attempts after a failed request (connection errors, timeouts, HTTP 5xx).
    pub retries: u32,
    /// Told of every document (the binary draws a bar from it).
    pub progress: &'a dyn lockstep_model::progress::Progress,
}

impl Default for UpdateOptions<'_> {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            since: None,
            timeout: Duration::from_secs(60),
            retries: 2,
            progress: &lockstep_model::progress::Silent,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpdateReport {
    /// Documents in the MSRC index.
    pub listed: usize,
    /// Documents in range.
    pub in_range: usize,
    /// Skipped without downloading (same CurrentReleaseDate as in the catalog).
    pub skipped: Vec<String>,
    /// Downloaded and identical to what the catalog holds.
    pub unchanged: Vec<String>,
    pub imported: Vec<String>,
    pub replaced: Vec<String>,
    /// Index entries not fetched, with why (an id that is not `YYYY-Mon`).
    pub rejected: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    value: Vec<IndexEntry>,
}

#[derive(Deserialize)]
struct IndexEntry {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "InitialReleaseDate", default)]
    initial_release: Option<String>,
    #[serde(rename = "CurrentReleaseDate", default)]
    current_release: Option<String>,
}

/// `2023-Dec` → (2023, 12).
pub fn parse_document_month(id: &str) -> Option<(i16, i8)> {
    let (y, m) = id.trim().split_once('-')?;
    let year: i16 = y.parse().ok()?;
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = m.to_ascii_lowercase();
    let month = MONTHS.iter().position(|n| *n == lower)? as i8 + 1;
    Some((year, month))
}

/// Whether an index id may go into a URL: exactly `YYYY-Mon`.
fn valid_document_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..].iter().all(u8::is_ascii_alphabetic)
        && parse_document_month(id).is_some()
}

/// `YYYY-MM` (the `--since` flag).
pub fn parse_since(s: &str) -> Option<(i16, i8)> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let year: i16 = y.parse().ok()?;
    let month: i8 = m.parse().ok()?;
    (1..=12).contains(&month).then_some((year, month))
}

/// Release dates compare on `YYYY-MM-DDTHH:MM:SS` (the index writes a `Z`,
/// the document does not).
fn same_release(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().chars().take(19).collect::<String>();
    norm(a) == norm(b)
}

struct Client<'a> {
    agent: ureq::Agent,
    opts: UpdateOptions<'a>,
}

impl<'a> Client<'a> {
    fn new(opts: &UpdateOptions<'a>) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            // Redirects are followed by hand, on the base URL's host only.
            .max_redirects(0)
            .user_agent(concat!("lockstep/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: config.into(),
            opts: opts.clone(),
        }
    }

    /// GET, following redirects on the base URL's host only.
    fn call(&self, url: &str, accept: &str) -> Result<ureq::http::Response<ureq::Body>, Fetch> {
        let mut url = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let response = self
                .agent
                .get(&url)
                .header("Accept", accept)
                .call()
                .map_err(|e| Fetch::Retry(self.describe(&url, &e), is_offline(&e)))?;
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            url = same_host_redirect(&self.opts.base_url, &url, location).ok_or_else(|| {
                Fetch::Fail(format!(
                    "{url}: the server redirects to {location:?}, which is not on the host of {}; lockstep follows redirects only there. The catalog was not changed.",
                    self.opts.base_url
                ))
            })?;
        }
        Err(Fetch::Fail(format!(
            "{url}: more than {MAX_REDIRECTS} redirects. The catalog was not changed."
        )))
    }

    /// GET with retries; returns the whole body, at most `limit` bytes after
    /// decompression (read as it streams: a small compressed body cannot
    /// grow without bound).
    fn get(&self, url: &str, accept: &str, limit: u64) -> Result<Vec<u8>, CatalogError> {
        let attempts = self.opts.retries + 1;
        let mut last = String::new();
        let mut offline = false;
        for attempt in 1..=attempts {
            if attempt > 1 {
                std::thread::sleep(Duration::from_millis(250 * u64::from(attempt - 1)));
            }
            let mut response = match self.call(url, accept) {
                Ok(r) => r,
                Err(Fetch::Retry(message, off)) => {
                    last = message;
                    offline = off;
                    continue;
                }
                Err(Fetch::Fail(message)) => return Err(CatalogError::Download(message)),
            };
            offline = false;
            let status = response.status().as_u16();
            if status >= 500 {
                last = format!("{url}: the server answered HTTP {status}");
                continue;
            }
            if status != 200 {
                return Err(CatalogError::Download(format!(
                    "{url}: the server answered HTTP {status} (expected 200). The catalog was not changed."
                )));
            }
            match response.body_mut().with_config().limit(limit).read_to_vec() {
                Ok(body) => return Ok(body),
                Err(ureq::Error::BodyExceedsLimit(_)) => {
                    return Err(CatalogError::Download(format!(
                        "{url}: the response is larger than {} MiB (decompressed), more than any MSRC document; the catalog was not changed",
                        limit >> 20
                    )));
                }
                Err(e) => {
                    last = format!("the download broke off: {}", self.describe(url, &e));
                    continue;
                }
            }
        }
        let tries = format!(
            "after {attempts} attempt{}",
            if attempts == 1 { "" } else { "s" }
        );
        if offline {
            return Err(CatalogError::Download(format!(
                "{last} ({tries}). Are you offline? To work offline, import CVRF or WES-NG files with `lockstep catalog import FILE...`. The catalog was not changed."
            )));
        }
        Err(CatalogError::Download(format!(
            "{last} ({tries}). The catalog was not changed."
        )))
    }

    fn describe(&self, url: &str, e: &ureq::Error) -> String {
        match e {
            ureq::Error::Timeout(_) => format!(
                "{url}: no complete response within {} s",
                self.opts.timeout.as_secs_f64()
            ),
            ureq::Error::HostNotFound => format!("{url}: host not found"),
            ureq::Error::ConnectionFailed => format!("{url}: connection failed"),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                format!("{url}: connection refused")
            }
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                format!("{url}: the response ended before its announced length (truncated)")
            }
            other => format!("{url}: {other}"),
        }
    }
}

/// Why a request did not give a response.
enum Fetch {
    /// Worth another attempt: the message, and whether the server was unreachable.
    Retry(String, bool),
    /// Not worth another attempt.
    Fail(String),
}

/// Where a redirect from `current` to `location` leads, when that is on the
/// same scheme, host and port as `base`.
fn same_host_redirect(base: &str, current: &str, location: &str) -> Option<String> {
    use ureq::http::Uri;
    let origin = |u: &Uri| -> Option<(String, String, Option<u16>)> {
        Some((
            u.scheme_str()?.to_ascii_lowercase(),
            u.host()?.to_ascii_lowercase(),
            u.port_u16(),
        ))
    };
    let base: Uri = base.parse().ok()?;
    let current: Uri = current.parse().ok()?;
    let next = if location.starts_with('/') && !location.starts_with("//") {
        format!(
            "{}://{}{location}",
            current.scheme_str()?,
            current.authority()?.as_str()
        )
    } else {
        location.to_string()
    };
    let parsed: Uri = next.parse().ok()?;
    (origin(&parsed)? == origin(&base)?).then_some(next)
}

/// Errors that mean "cannot reach the server at all".
fn is_offline(e: &ureq::Error) -> bool {
    use std::io::ErrorKind;
    match e {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::NotConnected
                | ErrorKind::AddrNotAvailable
                | ErrorKind::NetworkUnreachable
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkDown
        ),
        _ => false,
    }
}

/// Downloads new and changed MSRC documents into the catalog at `target`.
pub fn update_catalog(
    target: &Path,
    opts: &UpdateOptions<'_>,
) -> Result<UpdateReport, CatalogError> {
    let base = opts.base_url.trim_end_matches('/');
    let client = Client::new(opts);
    let index_url = format!("{base}/cvrf/v3.0/updates");
    let body = client.get(&index_url, "application/json", MAX_INDEX_BYTES)?;
    let index: Index = serde_json::from_slice(&body).map_err(|e| CatalogError::Parse {
        file: index_url.clone(),
        line: e.line() as u64,
        message: format!("expected the MSRC index JSON ({{\"value\": [{{\"ID\": ...}}]}}): {e}"),
    })?;
    let mut report = UpdateReport {
        listed: index.value.len(),
        ..Default::default()
    };
    for e in index.value.iter().filter(|e| !valid_document_id(&e.id)) {
        report.rejected.push((
            e.id.clone(),
            "expected a document id such as 2023-Dec".into(),
        ));
    }
    let mut entries: Vec<&IndexEntry> = index
        .value
        .iter()
        .filter(|e| valid_document_id(&e.id))
        .filter(|e| {
            let month = parse_document_month(&e.id).or_else(|| {
                e.initial_release
                    .as_deref()
                    .and_then(crate::batch::parse_iso_date_prefix)
                    .map(|d| (d.year(), d.month()))
            });
            match (opts.since, month) {
                (Some(since), Some(m)) => m >= since,
                (Some(_), None) => false,
                (None, _) => true,
            }
        })
        .collect();
    entries.sort_by_key(|e| parse_document_month(&e.id));
    report.in_range = entries.len();

    let mut session = ImportSession::begin(target)?;
    let bar = opts.progress;
    bar.start(entries.len() as u64);
    for entry in entries {
        bar.step(&entry.id);
        let stored = session.document(SourceKind::Cvrf, &entry.id)?;
        if let (Some(doc), Some(current)) = (&stored, &entry.current_release)
            && doc
                .current_release
                .as_deref()
                .is_some_and(|c| same_release(c, current))
        {
            report.skipped.push(entry.id.clone());
            bar.advance(1);
            continue;
        }
        let url = format!("{base}/cvrf/v3.0/cvrf/{}", entry.id);
        let body = client.get(&url, "application/xml", MAX_DOCUMENT_BYTES)?;
        let batch = parse_bytes(&body, &url, &entry.id)?;
        if batch.name != entry.id {
            return Err(CatalogError::Parse {
                file: url,
                line: 1,
                message: format!(
                    "expected the document {} but it identifies itself as {}; the catalog was not changed",
                    entry.id, batch.name
                ),
            });
        }
        match session.import(&batch)? {
            ImportStatus::Imported => report.imported.push(entry.id.clone()),
            ImportStatus::Replaced => report.replaced.push(entry.id.clone()),
            ImportStatus::Unchanged => report.unchanged.push(entry.id.clone()),
        }
        bar.advance(1);
    }
    bar.finish();
    session.commit()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        assert_eq!(parse_document_month("2023-Dec"), Some((2023, 12)));
        assert_eq!(parse_document_month("2017-feb"), Some((2017, 2)));
        assert_eq!(parse_document_month("2017-Foo"), None);
        assert_eq!(parse_since("2023-06"), Some((2023, 6)));
        assert_eq!(parse_since("2023-13"), None);
        assert_eq!(parse_since("2023-6"), None);
        assert!(same_release("2023-12-21T18:16:53Z", "2023-12-21T18:16:53"));
        assert!(!same_release("2023-12-21T18:16:53Z", "2023-12-22T18:16:53"));
    }

    #[test]
    fn ids_and_redirects() {
        assert!(valid_document_id("2023-Dec"));
        for bad in [
            "../../../../secret",
            "2023-Dec/../x",
            "2023-Foo",
            "2023-Dec ",
            "23-Dec",
        ] {
            assert!(!valid_document_id(bad), "{bad}");
        }
        let base = "https://api.msrc.microsoft.com";
        let here = "https://api.msrc.microsoft.com/cvrf/v3.0/updates";
        assert_eq!(
            same_host_redirect(base, here, "/cvrf/v3.0/updates/").as_deref(),
            Some("https://api.msrc.microsoft.com/cvrf/v3.0/updates/")
        );
        assert_eq!(
            same_host_redirect(base, here, "https://API.msrc.microsoft.com/x").as_deref(),
            Some("https://API.msrc.microsoft.com/x")
        );
        for away in [
            "https://evil.example/cvrf",
            "//evil.example/cvrf",
            "http://api.msrc.microsoft.com/x",
            "https://api.msrc.microsoft.com:8443/x",
            "",
        ] {
            assert_eq!(same_host_redirect(base, here, away), None, "{away}");
        }
    }
}
