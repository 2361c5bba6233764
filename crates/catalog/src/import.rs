//! Reading source files into [`ImportBatch`]es: format detection by content,
//! content hashing while streaming, and errors that name the file and line.

use crate::batch::{ImportBatch, SourceFormat};
use crate::error::{CatalogError, ParseError};
use crate::{cvrf, cvrf_json, limits, wesng};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

/// Hashes everything read through it (when it has a hasher).
struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(buf.get(..n).unwrap_or(&[]));
        }
        Ok(n)
    }
}

/// SHA-256 of a whole file, hex.
fn hash_file(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or(&[]));
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectedFormat {
    CvrfXml,
    CvrfJson,
    WesngCsv,
    Zip,
    /// A zstd-compressed tar of CVRF documents (`msrc-cvrf-2016-2026.tar.zst`).
    TarZst,
}

/// Detects the format from the first bytes (a UTF-8 BOM and white space are skipped).
pub fn detect_format(head: &[u8]) -> Option<DetectedFormat> {
    if head.starts_with(b"PK\x03\x04") {
        return Some(DetectedFormat::Zip);
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Some(DetectedFormat::TarZst);
    }
    let t = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = t.iter().position(|b| !b.is_ascii_whitespace())?;
    let t = t.get(start..)?;
    match t.first()? {
        b'<' => Some(DetectedFormat::CvrfXml),
        b'{' => Some(DetectedFormat::CvrfJson),
        _ if t.starts_with(b"\"DatePosted\"") || t.starts_with(b"DatePosted,") => {
            Some(DetectedFormat::WesngCsv)
        }
        _ => None,
    }
}

/// Line number (1-based) of a byte offset, by re-reading the source.
fn line_of_offset<R: Read>(mut r: R, offset: u64) -> u64 {
    let mut line = 1u64;
    let mut remaining = offset;
    let mut buf = [0u8; 64 * 1024];
    while remaining > 0 {
        let want = buf.len().min(remaining as usize);
        let n = match r.read(&mut buf[..want]) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        line += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        remaining -= n as u64;
    }
    line
}

/// Parses one stream of a known format. `source_name` names the file or URL in errors;
/// `reopen` re-reads the source to turn a byte offset into a line number.
pub fn parse_stream<R: Read>(
    input: R,
    format: SourceFormat,
    default_name: &str,
    source_name: &str,
    reopen: &dyn Fn() -> Option<Box<dyn Read>>,
) -> Result<ImportBatch, CatalogError> {
    parse_stream_with(input, format, default_name, source_name, reopen, true)
}

/// As [`parse_stream`]; with `hash_inline` false the caller fills in
/// `content_hash` (a file is hashed on a second core while it is parsed).
fn parse_stream_with<R: Read>(
    input: R,
    format: SourceFormat,
    default_name: &str,
    source_name: &str,
    reopen: &dyn Fn() -> Option<Box<dyn Read>>,
    hash_inline: bool,
) -> Result<ImportBatch, CatalogError> {
    let mut hashing = HashingReader {
        inner: input,
        hasher: hash_inline.then(Sha256::new),
    };
    let mut batch = ImportBatch::new(format, default_name);
    let result = {
        let mut buffered = BufReader::with_capacity(256 * 1024, &mut hashing);
        let r = match format {
            SourceFormat::CvrfXml => cvrf::parse_xml(&mut buffered, &mut batch),
            SourceFormat::CvrfJson => cvrf_json::parse_json(&mut buffered, &mut batch),
            SourceFormat::WesngCsv => wesng::parse_csv(&mut buffered, &mut batch),
        };
        // The hash covers the whole input, including what follows the parsed part.
        r.and_then(|()| {
            io::copy(&mut buffered, &mut io::sink())
                .map(|_| ())
                .map_err(|e| ParseError::at(0, format!("read error: {e}")))
        })
    };
    result.map_err(|e| {
        let line = e
            .line
            .unwrap_or_else(|| reopen().map(|r| line_of_offset(r, e.offset)).unwrap_or(0));
        CatalogError::Parse {
            file: source_name.to_string(),
            line,
            message: e.message,
        }
    })?;
    if let Some(h) = hashing.hasher.take() {
        batch.content_hash = hex(&h.finalize());
    }
    Ok(batch)
}

/// Parses in-memory bytes (a downloaded document).
pub fn parse_bytes(
    bytes: &[u8],
    source_name: &str,
    default_name: &str,
) -> Result<ImportBatch, CatalogError> {
    let format = match detect_format(bytes.get(..512).unwrap_or(bytes)) {
        Some(DetectedFormat::CvrfXml) => SourceFormat::CvrfXml,
        Some(DetectedFormat::CvrfJson) => SourceFormat::CvrfJson,
        Some(DetectedFormat::WesngCsv) => SourceFormat::WesngCsv,
        Some(DetectedFormat::Zip) | Some(DetectedFormat::TarZst) | None => {
            return Err(CatalogError::Parse {
                file: source_name.to_string(),
                line: 1,
                message: "expected a CVRF document (XML or JSON)".into(),
            });
        }
    };
    let reopen = || Some(Box::new(io::Cursor::new(bytes.to_vec())) as Box<dyn Read>);
    parse_stream(bytes, format, default_name, source_name, &reopen)
}

/// Parses a file: CVRF XML or JSON, a WES-NG CSV, a WES-NG
/// `definitions.zip` (every CSV inside with the WES-NG header becomes one
/// batch) or a `.tar.zst` of CVRF documents (one batch per document).
pub fn parse_file(path: &Path) -> Result<Vec<ImportBatch>, CatalogError> {
    let mut out = Vec::new();
    let mut first_error = None;
    parse_file_each(path, &mut |r| match r {
        Ok(b) => out.push(b),
        Err(e) => {
            first_error.get_or_insert(e);
        }
    })?;
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// As [`parse_file`], handing each batch (or each member's error: a bad
/// document in an archive does not stop the others) to `each` as soon as it
/// is parsed, so that an archive of a hundred documents is never whole in
/// memory. An error for the file as a whole is returned.
pub fn parse_file_each(
    path: &Path,
    each: &mut dyn FnMut(Result<ImportBatch, CatalogError>),
) -> Result<(), CatalogError> {
    let display = path.display().to_string();
    let mut head = Vec::with_capacity(4);
    File::open(path)
        .and_then(|f| f.take(4).read_to_end(&mut head))
        .map_err(|source| CatalogError::Io {
            file: display.clone(),
            source,
        })?;
    if detect_format(&head) == Some(DetectedFormat::TarZst) {
        return parse_tar_zst(path, &display, each);
    }
    for b in parse_single_file(path)? {
        each(Ok(b));
    }
    Ok(())
}

fn parse_tar_zst(
    path: &Path,
    display: &str,
    each: &mut dyn FnMut(Result<ImportBatch, CatalogError>),
) -> Result<(), CatalogError> {
    let io_err = |file: &str, source| CatalogError::Io {
        file: file.to_string(),
        source,
    };
    let file = File::open(path).map_err(|e| io_err(display, e))?;
    let decoder = zstd::stream::read::Decoder::new(file).map_err(|e| io_err(display, e))?;
    let mut archive = tar::Archive::new(decoder);
    let entries = archive.entries().map_err(|e| io_err(display, e))?;
    let mut documents = 0usize;
    for entry in entries {
        let mut entry = entry.map_err(|e| io_err(display, e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let member = format!("{display}!{name}");
        let mut bytes = Vec::new();
        if let Err(e) = entry.read_to_end(&mut bytes) {
            each(Err(io_err(&member, e)));
            continue;
        }
        let base = name.rsplit('/').next().unwrap_or(&name).to_string();
        let format = match detect_format(bytes.get(..512).unwrap_or(&bytes)) {
            Some(DetectedFormat::CvrfXml) => SourceFormat::CvrfXml,
            Some(DetectedFormat::CvrfJson) => SourceFormat::CvrfJson,
            // Anything else in the archive (a README, a checksum list) is not a document.
            _ => continue,
        };
        documents += 1;
        let reopen = || Some(Box::new(io::Cursor::new(bytes.clone())) as Box<dyn Read>);
        each(parse_stream(&bytes[..], format, &base, &member, &reopen));
    }
    if documents == 0 {
        return Err(CatalogError::Unsupported {
            file: display.to_string(),
            message: "expected a .tar.zst of MSRC CVRF documents; found none inside".into(),
        });
    }
    Ok(())
}

fn parse_single_file(path: &Path) -> Result<Vec<ImportBatch>, CatalogError> {
    let display = path.display().to_string();
    let io_err = |source| CatalogError::Io {
        file: display.clone(),
        source,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let mut head = Vec::with_capacity(512);
    (&mut file)
        .take(512)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    file.rewind().map_err(io_err)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display.clone());
    let reopen = || File::open(path).ok().map(|f| Box::new(f) as Box<dyn Read>);
    let single = |format| -> Result<Vec<ImportBatch>, CatalogError> {
        let f = File::open(path).map_err(io_err)?;
        // A CSV record is kept whole by the reader: bound it.
        let record = match format {
            SourceFormat::WesngCsv => limits::MAX_CSV_RECORD_BYTES,
            _ => usize::MAX,
        };
        let f = limits::Bounded::new(f, u64::MAX, record);
        std::thread::scope(|scope| {
            let hasher = scope.spawn(|| hash_file(path));
            let mut batch = parse_stream_with(f, format, &file_name, &display, &reopen, false)?;
            batch.content_hash = match hasher.join() {
                Ok(r) => r.map_err(io_err)?,
                Err(_) => {
                    return Err(CatalogError::Io {
                        file: display.clone(),
                        source: io::Error::other("the hashing thread failed"),
                    });
                }
            };
            Ok(vec![batch])
        })
    };
    match detect_format(&head) {
        Some(DetectedFormat::CvrfXml) => single(SourceFormat::CvrfXml),
        Some(DetectedFormat::CvrfJson) => single(SourceFormat::CvrfJson),
        Some(DetectedFormat::WesngCsv) => single(SourceFormat::WesngCsv),
        Some(DetectedFormat::Zip) => parse_zip(file, &display),
        Some(DetectedFormat::TarZst) | None => Err(CatalogError::Unsupported {
            file: display,
            message: "expected a CVRF document (XML or JSON), a WES-NG CSV (header \"DatePosted\",\"CVE\",...), a WES-NG definitions.zip or a .tar.zst of CVRF documents".into(),
        }),
    }
}

fn parse_zip(file: File, display: &str) -> Result<Vec<ImportBatch>, CatalogError> {
    let zip_err = |e: zip::result::ZipError| CatalogError::Unsupported {
        file: display.to_string(),
        message: format!("expected a WES-NG definitions.zip: {e}"),
    };
    let mut archive = zip::ZipArchive::new(file).map_err(zip_err)?;
    // definitions.zip is flat: a name with a folder or `..` in it is not
    // one (and must never become a path or a document name).
    if let Some(bad) = archive.file_names().find_map(|n| {
        let n = n.ok()?;
        (n.contains(['/', '\\']) || n.contains("..")).then(|| n.into_owned())
    }) {
        return Err(CatalogError::Unsupported {
            file: display.to_string(),
            message: format!(
                "expected a WES-NG definitions.zip with plain entry names, found {bad:?}"
            ),
        });
    }
    let mut names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .filter(|n| n.to_ascii_lowercase().ends_with(".csv"))
        .collect();
    // CVEs_*.csv first: it is the main data, the custom rows refine it.
    names.sort_by_key(|n| (!n.starts_with("CVEs_"), n.clone()));
    let mut batches = Vec::new();
    for name in names {
        let member = format!("{display}!{name}");
        let entry = archive.by_name(&name).map_err(zip_err)?;
        let mut reader = BufReader::new(limits::Bounded::new(
            entry,
            limits::MAX_ZIP_ENTRY_BYTES,
            limits::MAX_CSV_RECORD_BYTES,
        ));
        let head = reader.fill_buf().map_err(|source| CatalogError::Io {
            file: member.clone(),
            source,
        })?;
        if detect_format(head) != Some(DetectedFormat::WesngCsv) {
            continue;
        }
        let base = name.rsplit('/').next().unwrap_or(&name).to_string();
        // Offsets are not used for CSV (the csv reader reports lines itself).
        let reopen = || None;
        batches.push(parse_stream(
            reader,
            SourceFormat::WesngCsv,
            &base,
            &member,
            &reopen,
        )?);
    }
    if batches.is_empty() {
        return Err(CatalogError::Unsupported {
            file: display.to_string(),
            message:
                "expected a WES-NG definitions.zip with a CVEs_*.csv inside; found no WES-NG CSV"
                    .into(),
        });
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects() {
        assert_eq!(
            detect_format(b"\xef\xbb\xbf<?xml"),
            Some(DetectedFormat::CvrfXml)
        );
        assert_eq!(
            detect_format(b"  {\"a\":1}"),
            Some(DetectedFormat::CvrfJson)
        );
        assert_eq!(
            detect_format(b"\"DatePosted\",\"CVE\""),
            Some(DetectedFormat::WesngCsv)
        );
        assert_eq!(detect_format(b"PK\x03\x04xx"), Some(DetectedFormat::Zip));
        assert_eq!(
            detect_format(b"\x28\xb5\x2f\xfd\x04"),
            Some(DetectedFormat::TarZst)
        );
        assert_eq!(detect_format(b"hello"), None);
        assert_eq!(detect_format(b""), None);
    }

    #[test]
    fn line_from_offset() {
        assert_eq!(line_of_offset(&b"a\nb\nc"[..], 4), 3);
        assert_eq!(line_of_offset(&b"a\nb\nc"[..], 0), 1);
    }
}
