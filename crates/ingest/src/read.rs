//! Reading one input file: its bytes decoded, its format detected, its
//! content parsed; and [`Prefetch`], which reads the files of a folder, a
//! manifest or the arguments in parallel ahead of the loader that takes
//! them in order.

use crate::formats::{self, FileContent, Text};
use crate::outcome::LoadOptions;
use crate::{IngestError, decode};
use lockstep_model::input_file::{self, Origin};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;

thread_local! {
    /// The buffer the last file was read into, reused for the next one: a
    /// fresh buffer per file costs a page fault per 4 KiB (the kernel zeroes
    /// every new page), more than reading the file.
    static READ_BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Reads, decodes, detects and parses one file. The file's bytes become its
/// text in place (UTF-8) and the buffer is kept for the next file once the
/// text is parsed; a large run of systeminfo captures is read in pieces
/// ([`crate::large`]).
pub(crate) fn read_file(
    path: &Path,
    opts: &LoadOptions,
    origin: Origin,
) -> Result<(FileContent, &'static str), IngestError> {
    if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() >= crate::large::PIECES_FROM)
        && let Some(read) = crate::large::read_in_pieces(path, opts, origin)
    {
        return read;
    }
    let shown = path.display().to_string();
    let mut bytes = READ_BUFFER.take();
    bytes.clear();
    if let Err(e) = input_file::read_into(path, opts.max_input_size, origin, &mut bytes) {
        bytes.clear();
        if bytes.capacity() <= KEEP_BUFFER_UP_TO {
            READ_BUFFER.set(bytes);
        }
        return Err(IngestError::new(shown.as_str(), 0, e.expected()));
    }
    let text = Text::new(shown.as_str(), decode::decode_owned(bytes, &shown)?);
    let parsed = parse_text_ref(&text);
    // A huge input should not stay allocated for the rest of the run.
    if text.text.capacity() <= KEEP_BUFFER_UP_TO {
        READ_BUFFER.set(text.text.into_bytes());
    }
    parsed
}

/// Largest read buffer kept for the next file.
const KEEP_BUFFER_UP_TO: usize = 16 << 20;

/// Decode, detect and parse bytes as one input file.
pub fn parse_bytes(bytes: &[u8], path: &str) -> Result<(FileContent, &'static str), IngestError> {
    let text = decode::decode(bytes, path)?;
    parse_text(Text::new(path, text))
}

/// Like [`parse_bytes`], taking the buffer (no copy for UTF-8 input).
pub fn parse_owned(bytes: Vec<u8>, path: &str) -> Result<(FileContent, &'static str), IngestError> {
    let text = decode::decode_owned(bytes, path)?;
    parse_text(Text::new(path, text))
}

/// Detect and parse decoded text.
pub fn parse_text(text: Text) -> Result<(FileContent, &'static str), IngestError> {
    parse_text_ref(&text)
}

fn parse_text_ref(text: &Text) -> Result<(FileContent, &'static str), IngestError> {
    if text.text.trim().is_empty() {
        return Err(IngestError::new(
            text.path.as_ref(),
            0,
            format!("inventory output ({}), found an empty file", format_names()),
        ));
    }
    let Some(format) = formats::detect(&text.text) else {
        if formats::manifest_line(&text.text).is_some() {
            return Ok((FileContent::Manifest(text.text.clone()), formats::MANIFEST));
        }
        if has_extension(&text.path, "toml") {
            return Err(formats::not_a_manifest(text));
        }
        // No excerpt: a file that is no inventory may hold anything (a
        // manifest pointed at /etc/shadow), and errors end up in reports.
        let line = text
            .text
            .lines()
            .position(|l| !l.trim().is_empty())
            .map_or(0, |i| i + 1);
        return Err(IngestError::new(
            text.path.as_ref(),
            u32::try_from(line).unwrap_or(u32::MAX),
            format!("inventory output in a known format ({})", format_names()),
        ));
    };
    let content = (format.parse)(text)?;
    Ok((content, format.name))
}

/// The names of every format, for errors that list what was expected.
fn format_names() -> String {
    formats::FORMATS
        .iter()
        .map(|f| f.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the file `path` names ends in `.ext` (any case).
fn has_extension(path: &str, ext: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// How many bytes of files a batch reads before they are parsed (at least
/// one file per thread). A parsed batch waits beside the clusters being
/// judged, so it is part of a check's peak: at 16 MB the peak heap of a
/// fleet depended on how its files fell into batches (tests/scale.rs);
/// 4 MB is as fast on two threads.
const BATCH_BYTES: u64 = 4 << 20;

type Parsed = Result<(FileContent, &'static str), IngestError>;

/// Files read and parsed in parallel ahead of the loader, a batch at a
/// time, and taken in order.
pub(crate) struct Prefetch<'p> {
    /// The files, by the loader's index; `None` is not read here.
    paths: Vec<Option<&'p Path>>,
    origin: Origin,
    opts: LoadOptions,
    ready: HashMap<usize, Parsed>,
}

impl<'p> Prefetch<'p> {
    pub(crate) fn new(paths: Vec<Option<&'p Path>>, origin: Origin, opts: &LoadOptions) -> Self {
        Prefetch {
            paths,
            origin,
            opts: *opts,
            ready: HashMap::new(),
        }
    }

    /// Reads these files now (in parallel), whatever their order.
    pub(crate) fn read_now(&mut self, indices: &[usize]) {
        let todo: Vec<(usize, &Path)> = indices
            .iter()
            .filter(|i| !self.ready.contains_key(i))
            .filter_map(|&i| Some((i, (*self.paths.get(i)?)?)))
            .collect();
        self.read_batch(todo);
    }

    /// What file `i` gave when it is read already.
    pub(crate) fn peek(&self, i: usize) -> Option<&Parsed> {
        self.ready.get(&i)
    }

    /// What file `i` gave, read with the files after it (a batch) when it
    /// is not read yet; `None` for a file this prefetch does not read.
    /// Taken in increasing order, each once.
    pub(crate) fn take(&mut self, i: usize) -> Option<Parsed> {
        if let Some(r) = self.ready.remove(&i) {
            return Some(r);
        }
        self.paths.get(i).copied().flatten()?;
        let threads = rayon::current_num_threads().max(1);
        let mut batch = Vec::new();
        let mut bytes = 0u64;
        for (j, slot) in self.paths.iter().enumerate().skip(i) {
            let Some(p) = slot else { continue };
            if self.ready.contains_key(&j) {
                continue;
            }
            if batch.len() >= threads && bytes >= BATCH_BYTES {
                break;
            }
            bytes += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            batch.push((j, *p));
        }
        self.read_batch(batch);
        self.ready.remove(&i)
    }

    fn read_batch(&mut self, batch: Vec<(usize, &Path)>) {
        let origin = self.origin;
        let opts = self.opts;
        // One file is read on this thread, which takes what it gives.
        let parsed: Vec<(usize, Parsed)> = if batch.len() == 1 {
            batch
                .into_iter()
                .map(|(i, p)| (i, read_file(p, &opts, origin)))
                .collect()
        } else {
            batch
                .into_par_iter()
                .map(|(i, p)| (i, read_file(p, &opts, origin)))
                .collect()
        };
        self.ready.extend(parsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_error_names_the_formats() {
        let e = parse_bytes(b"\xFF\xFE\r\x00\n\x00", "q.txt").unwrap_err();
        assert_eq!(e.path, "q.txt");
        assert!(
            e.expected.contains("wmic-qfe") && e.expected.ends_with("found an empty file"),
            "{e}"
        );
    }
}
