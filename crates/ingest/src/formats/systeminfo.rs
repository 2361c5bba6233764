//! `systeminfo` output, list form (the default, `/FO LIST`) and CSV form
//! (`/FO CSV`, with or without the header row `/NH` drops), in any display
//! language.
//!
//! Labels are localized (`Host Name`, `Hostname`, `Имя узла`, `主机名`), so
//! fields are found by structure, never by label:
//!
//! * The anchor is the OS version field, recognised by its value:
//!   `10.0.20348 N/A Build 20348`, `6.1.7601 Service Pack 1 Build 7601`,
//!   `6.3.9600 Н/Д построение 9600`, `10.0.17763 暂缺 Build 17763`: a
//!   three-part version, some words, and the build number again.
//! * systeminfo prints its fields in a fixed order around it: host name two
//!   fields before, OS name one before; after it manufacturer, configuration,
//!   build type, registered owner, organization, product id, install date,
//!   boot time (+8), system manufacturer, model, system type (+11) and
//!   processors (+12, the first field with `[01]:` entries).
//! * Captures are not always complete (a Spanish sample in the fixtures has
//!   no host name, domain or logon server lines), so the later fields are
//!   found by shape: the logon server is the field after the processors whose
//!   value starts with `\\`, the domain is the field before it; the hotfix
//!   block is the first field after the processors whose `[NN]:` entries look
//!   like hotfix ids (`KB5005039`, `File 1`, `Q147222`) and have no nested
//!   lines (network cards nest `Connection Name`, IP addresses ...).
//! * Windows 7's systeminfo cuts long hotfix lists short (a German sample says
//!   263 hotfixes and lists 245, then a broken `[24`); the broken line is
//!   skipped, the entries that were printed are kept.
//!
//! The value column of the list form is where most values start; labels
//! longer than it (`Virtual Memory: Max Size:`) and CJK labels (two console
//! cells per character) fall back to "after the first colon".
//!
//! A file may hold several outputs one after the other (`systeminfo /s A >>
//! all.txt`); each OS version field starts a new node.

use super::{FileContent, Format, NodeFacts, Text};
use crate::hotfix_id;
use crate::updates::{Interner, UpdateIndex};
use crate::util::{self, lines};
use crate::{IngestError, IngestWarning};
use lockstep_model::{HotfixId, InstalledUpdate, KbId, OtherEntry, Sourced, WinVersion};

pub static FORMAT: Format = Format {
    name: "systeminfo",
    detect,
    parse,
};

pub static FORMAT_CSV: Format = Format {
    name: "systeminfo-csv",
    detect: detect_csv,
    parse: parse_csv,
};

/// The OS version field: `10.0.20348 N/A Build 20348` → version and the
/// service pack text when there is one.
pub fn parse_os_version(value: &str) -> Option<(WinVersion, Option<String>)> {
    // Most values fail here; this runs on every field of every capture.
    if !value.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut words = value.split_whitespace();
    let first = words.next()?;
    if first.split('.').count() != 3 {
        return None;
    }
    let version: WinVersion = first.parse().ok()?;
    let rest: Vec<&str> = words.collect();
    if rest.len() < 2 || rest.len() > 8 {
        return None;
    }
    let build_word = rest.last()?;
    if build_word.parse::<u32>().ok()? != version.build() {
        return None;
    }
    let middle = rest.get(..rest.len() - 2).unwrap_or(&[]).join(" ");
    let service_pack = if middle.bytes().any(|b| b.is_ascii_digit()) {
        Some(middle)
    } else {
        None
    };
    Some((version, service_pack))
}

// ------------------------------------------------------------ list form

#[derive(Debug)]
struct Entry<'a> {
    line: u32,
    text: &'a str,
}

#[derive(Debug)]
pub(crate) struct Field<'a> {
    line: u32,
    /// Byte offset of its line in the text.
    at: usize,
    value: &'a str,
    entries: Vec<Entry<'a>>,
    /// Continuation lines indented deeper than the entries (network cards).
    nested: bool,
    entry_indent: Option<usize>,
}

/// `[01]: KB5005039` → `KB5005039`. French systeminfo writes a (no-break)
/// space before the colon of its processor entries (`[01] : Intel64 …`,
/// while the hotfixes are `[01]: KB…`), so blanks before the colon are
/// allowed.
fn entry_text(t: &str) -> Option<&str> {
    let rest = t.strip_prefix('[')?;
    let close = memchr::memchr(b']', rest.as_bytes())?;
    let idx = rest.get(..close)?;
    if idx.is_empty() || !idx.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let after = rest.get(close + 1..)?.trim_start_matches([' ', '\t']);
    Some(after.strip_prefix(':')?.trim())
}

/// A hotfix entry's id and description: Windows XP and Server 2003 print
/// `KB2536276-v2 - Update` and `KB2742604 - QFE`, later systeminfo only
/// the id.
fn split_entry(text: &str) -> (&str, Option<&str>) {
    match text.split_once(" - ") {
        Some((id, desc)) if KbId::parse_hotfix_id(id) != HotfixId::Other => {
            (id.trim(), Some(desc.trim()).filter(|d| !d.is_empty()))
        }
        _ => (text, None),
    }
}

/// Whether a `[NN]:` entry is a hotfix (`KB5005039`, `File 1`, `KB893803v2 - Update`).
fn is_hotfix_entry(text: &str) -> bool {
    hotfix_id::is_hotfix_like(split_entry(text).0)
}

/// The number a hotfix field's value states (`273 Hotfix(s) Installed.`,
/// `Число установленных исправлений - 7.`, `安装了 4 个修补程序。`): its
/// first run of digits.
fn declared_count(value: &str) -> Option<usize> {
    let start = value.find(|c: char| c.is_ascii_digit())?;
    let digits = value.get(start..)?;
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits.get(..end)?.parse().ok()
}

/// A warning when the hotfix field says more hotfixes are installed than it
/// lists (Windows 7 and Server 2008 R2 stop listing at a fixed size).
fn cut_list_warning(t: &Text, line: u32, value: &str, listed: usize) -> Option<IngestWarning> {
    let declared = declared_count(value)?;
    (declared > listed).then(|| {
        IngestWarning::new(
            t.path.as_ref(),
            line,
            format!(
                "systeminfo says {declared} hotfixes are installed but lists {listed}: the other {} are unknown from this file (systeminfo on Windows 7 and Server 2008 R2 stops listing long lists; a wmic qfe or Get-HotFix capture of the host lists them all)",
                declared - listed
            ),
        )
    })
}

/// Where the value starts in a `label:   value` line: after the first colon
/// that is followed by white space (or ends the line). Returns the byte
/// offset of the value and its char column.
fn colon_split(line: &str) -> Option<(usize, usize)> {
    let mut chars = line.char_indices().peekable();
    let mut col = 0usize;
    while let Some((i, c)) = chars.next() {
        col += 1;
        if c == ':' || c == '：' {
            match chars.peek() {
                None => return Some((line.len(), col)),
                Some((_, n)) if n.is_whitespace() => {
                    let mut j = i + c.len_utf8();
                    let mut vcol = col;
                    for (k, n) in line.get(j..).unwrap_or("").char_indices() {
                        if !n.is_whitespace() {
                            j += k;
                            return Some((j, vcol));
                        }
                        vcol += 1;
                    }
                    return Some((line.len(), vcol));
                }
                _ => {}
            }
        }
    }
    None
}

/// The value of a top-level line given the file's value column.
fn field_value(line: &str, value_col: Option<usize>) -> Option<&str> {
    if let Some(vc) = value_col
        && let Some(byte) = char_offset(line, vc)
    {
        let (label, value) = line.split_at(byte);
        // Everything between the colon and the value column is blank, so the
        // value cannot start before it.
        let l = label.trim_end();
        if label.ends_with(|c: char| c.is_whitespace()) && (l.ends_with(':') || l.ends_with('：'))
        {
            return Some(value.trim());
        }
    }
    let (byte, _) = colon_split(line)?;
    Some(line.get(byte..).unwrap_or("").trim())
}

/// Byte offset of the `n`th character; ASCII prefixes (the common case) need
/// no decoding.
fn char_offset(line: &str, n: usize) -> Option<usize> {
    match line.as_bytes().get(..n) {
        Some(prefix) if prefix.is_ascii() => (n < line.len()).then_some(n),
        _ => line.char_indices().nth(n).map(|(i, _)| i),
    }
}

/// Leading blanks (spaces and tabs, as systeminfo indents) in bytes.
fn indent_len(line: &str) -> usize {
    line.bytes()
        .take_while(|b| *b == b' ' || *b == b'\t')
        .count()
}

/// The value column: the most common start of values among the first lines.
fn value_column(text: &str) -> Option<usize> {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for (_, l) in lines(text).take(80) {
        if l.starts_with(|c: char| !c.is_whitespace())
            && let Some((_, col)) = colon_split(l)
        {
            match counts.iter_mut().find(|(c, _)| *c == col) {
                Some(e) => e.1 += 1,
                None => counts.push((col, 1)),
            }
        }
    }
    counts
        .iter()
        .max_by_key(|(c, n)| (*n, usize::MAX - *c))
        .map(|(c, _)| *c)
}

/// Where a run of captures is split into records: what the text said so
/// far, for a text fed in pieces ([`feed_records`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Records {
    /// The value column of the whole text (from its first lines).
    value_col: Option<usize>,
    /// The line of the first field, for the error when no record is found.
    first_line: Option<u32>,
    /// Whether a record was found.
    found: bool,
}

impl Records {
    /// Splitting `start`, the text or its first piece (at least its first
    /// 80 lines).
    pub(crate) fn new(start: &str) -> Records {
        Records {
            value_col: value_column(start),
            first_line: None,
            found: false,
        }
    }

    /// `None` when a record was found, else the line of the first field
    /// (the error's line; 0 when there is none).
    pub(crate) fn missing(&self) -> Option<u32> {
        (!self.found).then_some(self.first_line.unwrap_or(0))
    }
}

/// Feeds the fields of `text` to `record` one capture at a time: the fields
/// of a record and the index of its OS version field. Only one record's
/// fields are held at once, so memory stays flat on large concatenations.
fn for_each_record<'a>(text: &'a str, record: impl FnMut(&[Field<'a>], usize)) -> Option<u32> {
    let mut records = Records::new(text);
    feed_records(text, 0, false, &mut records, record);
    records.missing()
}

/// [`for_each_record`] on a piece of a text whose lines are numbered from
/// `line0 + 1`. With `more` (the text goes on after this piece, which ends
/// with a line end), the last record may go on too: it is not fed, and the
/// byte offset where it starts is returned; the caller feeds the text from
/// there again with the next piece. Without `more`, everything is fed and
/// the length of the piece is returned.
pub(crate) fn feed_records<'a>(
    text: &'a str,
    line0: u32,
    more: bool,
    records: &mut Records,
    mut record: impl FnMut(&[Field<'a>], usize),
) -> usize {
    let value_col = records.value_col;
    let mut buf: Vec<Field> = Vec::new();
    let mut anchor: Option<usize> = None;
    let mut start = 0usize;
    for (n, l) in lines(text) {
        let at = start;
        start += l.len() + 1;
        if text.as_bytes().get(at + l.len()) == Some(&b'\r') {
            start += 1;
        }
        let n = n.saturating_add(line0);
        let indent = indent_len(l);
        let Some(rest) = l.get(indent..).map(str::trim_end).filter(|r| !r.is_empty()) else {
            continue;
        };
        if indent == 0 && !rest.starts_with(char::is_whitespace) {
            // A line without a colon is not a field (stray shell output).
            let Some(value) = field_value(l, value_col) else {
                continue;
            };
            records.first_line.get_or_insert(n);
            if parse_os_version(value).is_some() {
                let cur = buf.len();
                if let Some(a) = anchor {
                    // The previous capture ends where this one's host name
                    // and OS name fields begin.
                    let boundary = cur.saturating_sub(2).max(a + 1);
                    records.found = true;
                    record(buf.get(..boundary).unwrap_or(&[]), a);
                    buf.drain(..boundary.min(buf.len()));
                }
                anchor = Some(buf.len());
            }
            buf.push(Field {
                line: n,
                at,
                value,
                entries: Vec::new(),
                nested: false,
                entry_indent: None,
            });
        } else if let Some(f) = buf.last_mut() {
            if let Some(ei) = f.entry_indent
                && indent > ei
            {
                f.nested = true;
                continue;
            }
            if let Some(e) = entry_text(rest) {
                f.entry_indent.get_or_insert(indent);
                f.entries.push(Entry { line: n, text: e });
            }
        }
    }
    if more {
        // The fields held belong to the record that may go on.
        return buf.first().map_or(text.len(), |f| f.at);
    }
    if let Some(a) = anchor {
        records.found = true;
        record(&buf, a);
    }
    text.len()
}

fn detect(text: &str) -> bool {
    // Lines, not a byte prefix: a capture may carry a huge value before the
    // OS version line. Lines longer than any real field are skipped.
    for (i, (_, l)) in lines(text).enumerate() {
        if i > 60 {
            break;
        }
        if l.len() < 4096
            && l.starts_with(|c: char| !c.is_whitespace() && c != '"')
            && let Some((b, _)) = colon_split(l)
            && parse_os_version(l.get(b..).unwrap_or("").trim()).is_some()
        {
            return true;
        }
    }
    false
}

fn parse(t: &Text) -> Result<FileContent, IngestError> {
    let mut nodes = Vec::new();
    let missing = for_each_record(&t.text, |fields, o| {
        nodes.push(record_to_node(t, fields, o))
    });
    if let Some(line) = missing {
        return Err(no_record(t, line));
    }
    Ok(FileContent::Nodes(nodes))
}

/// The error for a text without a capture.
pub(crate) fn no_record(t: &Text, line: u32) -> IngestError {
    IngestError::new(
        t.path.as_ref(),
        line,
        "a systeminfo OS version line such as \"OS Version:  10.0.20348 N/A Build 20348\"",
    )
}

/// Parses a piece of a large capture read in pieces (see
/// [`feed_records`]): its records' nodes into `nodes`; returns the byte
/// offset of the text to feed again with the next piece.
pub(crate) fn parse_piece(
    t: &Text,
    more: bool,
    records: &mut Records,
    nodes: &mut Vec<NodeFacts>,
) -> usize {
    feed_records(&t.text, t.line_offset, more, records, |fields, o| {
        nodes.push(record_to_node(t, fields, o))
    })
}

fn record_to_node(t: &Text, f: &[Field], o: usize) -> NodeFacts {
    let mut facts = NodeFacts::default();
    let node = &mut facts.node;
    let at = |line: u32| t.at(line);
    if o >= 2
        && let Some(h) = f.get(o - 2)
        && let Some(name) = util::host_name(h.value)
    {
        facts.name = Some(Sourced::new(name, at(h.line)));
    }
    if o >= 1
        && let Some(c) = f.get(o - 1)
        && !c.value.is_empty()
    {
        node.os.caption = Some(Sourced::new(c.value.to_string(), at(c.line)));
    }
    if let Some(v) = f.get(o)
        && let Some((version, sp)) = parse_os_version(v.value)
    {
        node.os.version = Some(Sourced::new(version, at(v.line)));
        node.os.service_pack = sp;
    }
    if let Some(b) = f.get(o + 8)
        && b.value.bytes().any(|c| c.is_ascii_digit())
    {
        node.boot_time = Some(Sourced::new(b.value.to_string(), at(b.line)));
    }
    let processors = f
        .iter()
        .enumerate()
        .skip(o + 1)
        .find(|(_, x)| !x.entries.is_empty() && !x.entries.iter().any(|e| is_hotfix_entry(e.text)))
        .map(|(i, _)| i);
    // The system type is the field before the processors (+11 when they
    // were not found), and only a value naming an architecture is taken.
    let type_idx = processors.map_or(o + 11, |p| p - 1);
    if let Some(st) = f.get(type_idx)
        && type_idx > o
        && let Some(arch) = util::known_arch(st.value)
    {
        node.os.architecture = Some(Sourced::new(arch.to_string(), at(st.line)));
    }
    let after = o;
    let hotfix = f
        .iter()
        .enumerate()
        .skip(after + 1)
        .find(|(_, x)| !x.nested && x.entries.iter().any(|e| is_hotfix_entry(e.text)));
    let logon = f
        .iter()
        .enumerate()
        .skip(after + 1)
        .find(|(_, x)| x.value.starts_with("\\\\"))
        .map(|(i, _)| i);
    if let Some(l) = logon
        && hotfix.is_none_or(|(h, _)| l + 1 == h)
        && let Some(d) = f.get(l - 1)
        && l - 1 > after
        && !d.value.is_empty()
    {
        node.domain = Some(Sourced::new(d.value.to_string(), at(d.line)));
    }
    if let Some((_, h)) = hotfix {
        // Exactly as many as listed: a run of captures holds millions.
        facts.node.updates.reserve_exact(h.entries.len());
        add_entries(&mut facts, t, h.entries.iter().map(|e| (e.line, e.text)));
        facts
            .warnings
            .extend(cut_list_warning(t, h.line, h.value, h.entries.len()));
    }
    facts
}

/// Adds hotfix entries to the node: KBs (with their suffix), other entries,
/// and an error for an id too short to be a KB or cut by the end of the
/// file.
fn add_entries<'a>(facts: &mut NodeFacts, t: &Text, entries: impl Iterator<Item = (u32, &'a str)>) {
    let node = &mut facts.node;
    let mut index = UpdateIndex::of(node);
    let mut strings = Interner::default();
    for (line, text) in entries {
        if text.is_empty() {
            continue;
        }
        let (id, description) = split_entry(text);
        match hotfix_id::read_hotfix_id(t, line, id) {
            hotfix_id::CaptureId::Kb(kb, id_text) => index.add(
                node,
                InstalledUpdate {
                    kb,
                    id_text: id_text.map(|s| strings.get(s)),
                    description: strings.trimmed(description),
                    installed_on: None,
                    installed_by: None,
                    source: t.at(line),
                },
            ),
            hotfix_id::CaptureId::Cut(e) => facts.errors.push(e),
            hotfix_id::CaptureId::Other => {
                if !node.other_entries.iter().any(|o| o.text == text) {
                    node.other_entries.push(OtherEntry {
                        text: text.to_string(),
                        source: t.at(line),
                    });
                }
            }
        }
    }
}

// ------------------------------------------------------------- CSV form

fn quick_fields(line: &str) -> impl Iterator<Item = &str> {
    line.trim().trim_matches('"').split("\",\"")
}

fn detect_csv(text: &str) -> bool {
    let h = util::head(text, 64 * 1024);
    for (i, (_, l)) in lines(h).enumerate() {
        if i > 6 {
            break;
        }
        if !l.trim_start().starts_with('"') {
            continue;
        }
        if quick_fields(l)
            .take(4)
            .any(|f| parse_os_version(f).is_some())
            && quick_fields(l).count() >= 14
        {
            return true;
        }
    }
    false
}

fn parse_csv(t: &Text) -> Result<FileContent, IngestError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(t.text.as_bytes());
    let mut nodes = Vec::new();
    let mut first_line = 0;
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .position()
                    .map_or(0, |p| u32::try_from(p.line()).unwrap_or(u32::MAX));
                return Err(IngestError::new(
                    t.path.as_ref(),
                    line,
                    "a systeminfo CSV record (quoted fields separated by commas)",
                )
                .found(e.to_string()));
            }
        };
        let line = rec
            .position()
            .map_or(0, |p| u32::try_from(p.line()).unwrap_or(u32::MAX));
        if first_line == 0 {
            first_line = line;
        }
        let Some(o) = (0..rec.len().min(4))
            .find(|&i| rec.get(i).is_some_and(|v| parse_os_version(v).is_some()))
        else {
            // The header row (localized labels) or a stray line.
            continue;
        };
        nodes.push(csv_record_to_node(t, &rec, o, line));
    }
    if nodes.is_empty() {
        return Err(IngestError::new(
            t.path.as_ref(),
            first_line,
            "a systeminfo CSV record with an OS version such as \"10.0.20348 N/A Build 20348\"",
        ));
    }
    Ok(FileContent::Nodes(nodes))
}

fn csv_record_to_node(t: &Text, rec: &csv::StringRecord, o: usize, line: u32) -> NodeFacts {
    let mut facts = NodeFacts::default();
    let src = t.at(line);
    let get = |i: usize| rec.get(i).map(str::trim);
    if o >= 2
        && let Some(name) = get(o - 2).and_then(util::host_name)
    {
        facts.name = Some(Sourced::new(name, src.clone()));
    }
    let node = &mut facts.node;
    if o >= 1
        && let Some(c) = get(o - 1).filter(|c| !c.is_empty())
    {
        node.os.caption = Some(Sourced::new(c.to_string(), src.clone()));
    }
    if let Some((version, sp)) = get(o).and_then(parse_os_version) {
        node.os.version = Some(Sourced::new(version, src.clone()));
        node.os.service_pack = sp;
    }
    if let Some(b) = get(o + 8).filter(|b| b.bytes().any(|c| c.is_ascii_digit())) {
        node.boot_time = Some(Sourced::new(b.to_string(), src.clone()));
    }
    if let Some(arch) = get(o + 11).and_then(util::known_arch) {
        node.os.architecture = Some(Sourced::new(arch.to_string(), src.clone()));
    }
    // Multi-valued fields are joined with commas: `3 Hotfix(s) Installed.,[01]: KB5004330,...`.
    let entries_of = |v: &str| -> Vec<String> {
        v.split(',')
            .filter_map(|p| entry_text(p.trim()).map(str::to_string))
            .collect()
    };
    let hotfix = (o + 13..rec.len()).find(|&i| {
        let v = get(i).unwrap_or("");
        let nested = v
            .split(',')
            .skip(1)
            .any(|p| !p.trim().is_empty() && entry_text(p.trim()).is_none());
        !nested && entries_of(v).iter().any(|e| is_hotfix_entry(e))
    });
    let logon = (o + 13..rec.len()).find(|&i| get(i).is_some_and(|v| v.starts_with("\\\\")));
    if let Some(l) = logon
        && hotfix.is_none_or(|h| l + 1 == h)
        && let Some(d) = get(l - 1).filter(|d| !d.is_empty())
    {
        node.domain = Some(Sourced::new(d.to_string(), src.clone()));
    }
    if let Some(h) = hotfix {
        let value = get(h).unwrap_or("");
        let entries = entries_of(value);
        add_entries(&mut facts, t, entries.iter().map(|e| (line, e.as_str())));
        let head = value.split(',').next().unwrap_or("");
        facts
            .warnings
            .extend(cut_list_warning(t, line, head, entries.len()));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(fc: FileContent) -> Vec<NodeFacts> {
        match fc {
            FileContent::Nodes(n) => n,
            other => panic!("expected nodes, got {other:?}"),
        }
    }

    #[test]
    fn os_version_shapes() {
        let (v, sp) = parse_os_version("10.0.20348 N/A Build 20348").unwrap();
        assert_eq!((v.to_string(), sp), ("10.0.20348".to_string(), None));
        let (v, sp) = parse_os_version("6.1.7601 Service Pack 1 Build 7601").unwrap();
        assert_eq!(
            (v.to_string(), sp.as_deref()),
            ("6.1.7601".to_string(), Some("Service Pack 1"))
        );
        assert!(parse_os_version("10.0.17763 暂缺 Build 17763").is_some());
        assert!(parse_os_version("6.3.9600 Н/Д построение 9600").is_some());
        assert!(parse_os_version("10.0.17763 N/A Build 17764").is_none());
        assert!(parse_os_version("1/16/2023, 10:04:07 AM").is_none());
    }

    #[test]
    fn csv_with_and_without_header() {
        let header = "\"Host Name\",\"OS Name\",\"OS Version\",\"OS Manufacturer\",\"OS Configuration\",\"OS Build Type\",\"Registered Owner\",\"Registered Organization\",\"Product ID\",\"Original Install Date\",\"System Boot Time\",\"System Manufacturer\",\"System Model\",\"System Type\",\"Processor(s)\",\"BIOS Version\",\"Windows Directory\",\"System Directory\",\"Boot Device\",\"System Locale\",\"Input Locale\",\"Time Zone\",\"Total Physical Memory\",\"Available Physical Memory\",\"Virtual Memory: Max Size\",\"Virtual Memory: Available\",\"Virtual Memory: In Use\",\"Page File Location(s)\",\"Domain\",\"Logon Server\",\"Hotfix(s)\",\"Network Card(s)\",\"Hyper-V Requirements\"";
        let row = "\"HV01\",\"Microsoft Windows Server 2022 Datacenter\",\"10.0.20348 N/A Build 20348\",\"Microsoft Corporation\",\"Member Server\",\"Multiprocessor Free\",\"Windows User\",\"N/A\",\"00454-60000-00001-AA763\",\"1/10/2024, 9:12:44 AM\",\"3/2/2024, 6:01:12 AM\",\"Dell Inc.\",\"PowerEdge R750\",\"x64-based PC\",\"2 Processor(s) Installed.,[01]: Intel64 Family 6 Model 106 Stepping 6 GenuineIntel ~2000 Mhz,[02]: Intel64 Family 6 Model 106 Stepping 6 GenuineIntel ~2000 Mhz\",\"Dell Inc. 1.10.2, 6/20/2023\",\"C:\\Windows\",\"C:\\Windows\\system32\",\"\\Device\\HarddiskVolume3\",\"en-us;English (United States)\",\"en-us;English (United States)\",\"(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna\",\"523,985 MB\",\"401,233 MB\",\"555,729 MB\",\"430,112 MB\",\"125,617 MB\",\"C:\\pagefile.sys\",\"corp.example.com\",\"\\\\DC01\",\"3 Hotfix(s) Installed.,[01]: KB5032306,[02]: KB5033118,[03]: File 1\",\"1 NIC(s) Installed.,[01]: Broadcom NetXtreme E-Series,      Connection Name: SET1,      DHCP Enabled:    No,      IP address(es),      [01]: 10.0.0.11\",\"A hypervisor has been detected. Features required for Hyper-V will not be displayed.\"";
        for text in [format!("\n{header}\n{row}\n"), format!("{row}\n")] {
            assert!(detect_csv(&text));
            assert!(!detect(&text));
            let n = nodes(parse_csv(&Text::new("s.csv", text.clone())).unwrap());
            assert_eq!(n.len(), 1);
            let f = &n[0];
            assert_eq!(f.name.as_ref().unwrap().value, "HV01");
            assert_eq!(f.node.os.build(), Some(20348));
            assert_eq!(f.node.os.architecture.as_ref().unwrap().value, "x64");
            assert_eq!(f.node.domain.as_ref().unwrap().value, "corp.example.com");
            assert_eq!(
                f.node.boot_time.as_ref().unwrap().value,
                "3/2/2024, 6:01:12 AM"
            );
            let kbs: Vec<String> = f.node.updates.iter().map(|u| u.kb.to_string()).collect();
            assert_eq!(kbs, ["KB5032306", "KB5033118"]);
            assert_eq!(f.node.other_entries[0].text, "File 1");
        }
    }

    #[test]
    fn two_outputs_in_one_file() {
        let one = "\nHost Name:                 HV01\nOS Name:                   Microsoft Windows Server 2019 Datacenter\nOS Version:                10.0.17763 N/A Build 17763\nHotfix(s):                 1 Hotfix(s) Installed.\n                           [01]: KB5005039\n";
        let two = one
            .replace("HV01", "HV02")
            .replace("KB5005039", "KB5006672");
        let n = nodes(parse(&Text::new("all.txt", format!("{one}{two}"))).unwrap());
        assert_eq!(n.len(), 2);
        assert_eq!(n[1].name.as_ref().unwrap().value, "HV02");
        assert_eq!(n[0].name.as_ref().unwrap().value, "HV01");
    }
}
