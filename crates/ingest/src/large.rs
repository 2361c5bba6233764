//! Large files read in pieces.
//!
//! A run of `systeminfo` captures (`systeminfo /s HOST >> all.txt` over a
//! fleet) can be hundreds of megabytes, and the nodes read from it are about
//! as large again: read whole, the file and its nodes would be in memory at
//! once. Such a file is read a piece at a time instead (a few megabytes,
//! cut after a line end), each piece checked and normalised as
//! [`crate::decode`] does the whole text, and its records parsed as they
//! complete (a record cut by the end of a piece is parsed again with the
//! next); only the nodes stay.
//!
//! The result is exactly that of reading the file whole. Whatever the
//! pieces cannot decide alone sends the file back to the whole reading:
//! a start that is not UTF-8 text in systeminfo's list form (another
//! encoding, another format), a piece that is not valid UTF-8, a NUL byte,
//! too many control or replacement characters over the whole file.

use crate::IngestError;
use crate::decode::{self, TextStats};
use crate::formats::{FileContent, NodeFacts, Text, systeminfo};
use crate::outcome::LoadOptions;
use lockstep_model::input_file::{self, Origin};
use std::io::Read;
use std::path::Path;

/// Files at least this large are read in pieces when they can be.
pub(crate) const PIECES_FROM: u64 = 64 << 20;

/// How much is read at a time.
const PIECE: usize = 8 << 20;

/// Lines the first piece must hold: format detection and the value column
/// look at the first 80 lines of the text.
const FIRST_LINES: usize = 81;

/// What reading `path` in pieces gave, or `None` when it is to be read
/// whole (see the module documentation).
pub(crate) fn read_in_pieces(
    path: &Path,
    opts: &LoadOptions,
    origin: Origin,
) -> Option<Result<(FileContent, &'static str), IngestError>> {
    let (file, size) = input_file::open_checked(path, opts.max_input_size, origin).ok()?;
    if size? < PIECES_FROM {
        return None;
    }
    let shown = path.display().to_string();
    let mut reader = file.take(opts.max_input_size.saturating_add(1));
    let mut raw: Vec<u8> = Vec::with_capacity(PIECE + PIECE / 8);
    let mut read_total = 0u64;
    let mut eof = fill(&mut reader, &mut raw, &mut read_total).ok()?;
    let bom = decode::utf8_bom(&raw)?;
    raw.drain(..bom);
    let mut stats = TextStats::default();
    let mut t = Text::new(shown.as_str(), String::new());
    // Each piece's nodes apart: the loader takes them a piece at a time.
    let mut pieces: Vec<Vec<NodeFacts>> = Vec::new();
    let mut records = None;
    loop {
        if read_total > opts.max_input_size {
            return None;
        }
        // A piece ends after its last line end (the whole rest at the end).
        let cut = if eof {
            raw.len()
        } else {
            match memchr::memrchr(b'\n', &raw) {
                Some(i) => i + 1,
                None => {
                    eof = fill(&mut reader, &mut raw, &mut read_total).ok()?;
                    continue;
                }
            }
        };
        let rest = raw.split_off(cut);
        let mut piece = std::mem::replace(&mut raw, rest);
        let text = std::str::from_utf8(&piece).ok()?;
        if memchr::memchr(0, text.as_bytes()).is_some() {
            return None;
        }
        stats.add(text);
        decode::normalize_in_place(&mut piece);
        let piece = String::from_utf8(piece).ok()?;
        if records.is_none() {
            if !starts_as_systeminfo(&piece, eof) {
                return None;
            }
            records = Some(systeminfo::Records::new(&piece));
        }
        let records = records.as_mut()?;
        t.text.push_str(&piece);
        drop(piece);
        let mut these = Vec::new();
        let fed = systeminfo::parse_piece(&t, !eof, records, &mut these);
        these.shrink_to_fit();
        pieces.push(these);
        let lines = memchr::memchr_iter(b'\n', &t.text.as_bytes()[..fed]).count();
        t.line_offset = t
            .line_offset
            .saturating_add(u32::try_from(lines).unwrap_or(u32::MAX));
        t.text.drain(..fed);
        if eof {
            stats.verdict(&shown).ok()?;
            if let Some(line) = records.missing() {
                return Some(Err(systeminfo::no_record(&t, line)));
            }
            return Some(Ok((
                FileContent::NodePieces(pieces),
                systeminfo::FORMAT.name,
            )));
        }
        eof = fill(&mut reader, &mut raw, &mut read_total).ok()?;
    }
}

/// Reads up to a piece more into `raw`; whether the file ended.
fn fill(reader: &mut impl Read, raw: &mut Vec<u8>, total: &mut u64) -> std::io::Result<bool> {
    let want = raw.len() + PIECE;
    while raw.len() < want {
        let old = raw.len();
        raw.resize(want, 0);
        let n = reader.read(&mut raw[old..])?;
        raw.truncate(old + n);
        *total += n as u64;
        if n == 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the first piece is the start of a text that is detected as
/// systeminfo's list form whole: no format before it claims it (only the
/// snapshot, which starts with `{`), and it holds the lines detection and
/// the value column look at.
fn starts_as_systeminfo(first: &str, whole: bool) -> bool {
    let lines = memchr::memchr_iter(b'\n', first.as_bytes()).count();
    (whole || lines >= FIRST_LINES)
        && !first
            .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
            .starts_with('{')
        && crate::formats::detect(first).is_some_and(|f| f.name == systeminfo::FORMAT.name)
}
