//! Small pieces every parser needs: line iteration, column tables, dates,
//! architecture names, lenient JSON scalars. Nothing here allocates per line
//! unless the caller keeps the result.

use jiff::civil::Date;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Lines with their 1-based numbers; a trailing `\r` is dropped so parsers
/// work on text that did not go through [`crate::decode`] too.
pub fn lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.split('\n').enumerate().map(|(i, l)| {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        (n, l.strip_suffix('\r').unwrap_or(l))
    })
}

/// Line (1-based) of a byte offset in `text` (an offset past the end is on
/// the last line).
pub(crate) fn line_at(text: &str, offset: usize) -> u32 {
    let upto = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    u32::try_from(memchr::memchr_iter(b'\n', upto).count() + 1).unwrap_or(u32::MAX)
}

/// Byte offset where line `idx` (0-based) starts.
pub fn line_start(text: &str, idx: usize) -> usize {
    if idx == 0 {
        return 0;
    }
    memchr::memchr_iter(b'\n', text.as_bytes())
        .nth(idx - 1)
        .map_or(text.len(), |i| i + 1)
}

/// The first `limit` bytes of `text`, cut at a character boundary. Detection
/// looks only at the start of a file so that it stays cheap on huge inputs.
pub fn head(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or("")
}

/// The first character that is not white space (BOM included).
pub fn first_significant(text: &str) -> Option<char> {
    text.chars()
        .find(|c| !c.is_whitespace() && *c != '\u{FEFF}')
}

/// True for text that is only white space (or nothing).
pub fn is_blank(text: &str) -> bool {
    first_significant(text).is_none()
}

/// `x64-based PC`, `x64-basierter PC`, `Ordinateur à base de x64`, `AMD64`,
/// `X86-based PC`, `ARM64-based PC` → `x64`, `x86`, `arm64`. Text naming
/// none of these is kept as written.
pub fn normalize_arch(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    Some(known_arch(t).map_or_else(|| t.to_string(), str::to_string))
}

/// The architecture a system type names (`x64-based PC`, `PC à base de
/// x64`, `AMD64`, `ARM64-based PC`), or `None` when it names none.
pub fn known_arch(s: &str) -> Option<&'static str> {
    let l = s.trim().to_ascii_lowercase();
    if l.contains("arm64") || l.contains("aarch64") {
        Some("arm64")
    } else if l.contains("x64")
        || l.contains("amd64")
        || l.contains("x86_64")
        || l.contains("x86-64")
    {
        Some("x64")
    } else if l.contains("ia64") || l.contains("itanium") {
        Some("ia64")
    } else if l.contains("x86") || l.contains("i386") || l.contains("i686") {
        Some("x86")
    } else {
        None
    }
}

/// A host name read from content: trimmed, non-empty, one line, bounded.
pub fn host_name(s: &str) -> Option<String> {
    let t = s.trim().trim_matches('"').trim();
    if t.is_empty() || t.len() > 255 || t.chars().any(|c| c.is_control()) {
        return None;
    }
    Some(t.to_string())
}

// ---------------------------------------------------------------- dates

/// How to read `a/b/yyyy`: `M/d/yyyy` (en-US, and what WMI's `InstalledOn`
/// always uses) or `d/M/yyyy` (en-GB, fr-FR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlashOrder {
    MonthFirst,
    DayFirst,
}

/// Decides the order for a whole file: a first number above 12 proves
/// day-first, a second above 12 proves month-first; otherwise month-first.
pub fn infer_slash_order<'a>(dates: impl Iterator<Item = &'a str>) -> SlashOrder {
    for d in dates {
        if let Some((a, b, _, sep)) = date_numbers(d)
            && sep == '/'
            && a < 1000
        {
            if a > 12 && b <= 12 {
                return SlashOrder::DayFirst;
            }
            if b > 12 && a <= 12 {
                return SlashOrder::MonthFirst;
            }
        }
    }
    SlashOrder::MonthFirst
}

/// The three leading numbers of a date and their separator.
fn date_numbers(s: &str) -> Option<(u32, u32, u32, char)> {
    let t = s.trim();
    let mut nums = [0u32; 3];
    let mut sep = None;
    let mut idx = 0;
    let mut digits = 0;
    for c in t.chars() {
        if let Some(d) = c.to_digit(10) {
            if digits >= 9 {
                return None;
            }
            nums[idx] = nums[idx] * 10 + d;
            digits += 1;
        } else if digits > 0
            && matches!(c, '/' | '.' | '-')
            && idx < 2
            && sep.is_none_or(|s| s == c)
        {
            sep = Some(c);
            idx += 1;
            digits = 0;
        } else {
            break;
        }
    }
    if idx == 2 && digits > 0 {
        Some((nums[0], nums[1], nums[2], sep?))
    } else {
        None
    }
}

/// A calendar date as Windows tools print it: `/Date(1704844800000)/`,
/// a 16-digit hex FILETIME (old `InstalledOn`), `2023-03-14`,
/// `14.03.2023 00:00:00`, `3/14/2023 12:00:00 AM` (by `order`),
/// `20230314` (WMI `InstallDate`).
pub fn parse_date(s: &str, order: SlashOrder) -> Option<Date> {
    parse_date_time(s, order).map(|(d, _)| d)
}

/// Like [`parse_date`], with the time of day in seconds when the text has one
/// (used to order update history entries of the same day).
pub fn parse_date_time(s: &str, order: SlashOrder) -> Option<(Date, u32)> {
    let t = s.trim().trim_matches('"').trim();
    if let Some(rest) = t
        .strip_prefix("/Date(")
        .or_else(|| t.strip_prefix("\\/Date("))
    {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '-'))?;
        let ms: i64 = rest.get(..end)?.parse().ok()?;
        let ts = jiff::Timestamp::from_millisecond(ms).ok()?;
        let dt = jiff::tz::TimeZone::UTC.to_datetime(ts);
        let secs = dt.hour() as u32 * 3600 + dt.minute() as u32 * 60 + dt.second() as u32;
        return Some((dt.date(), secs));
    }
    if t.len() == 16 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        let ft = u64::from_str_radix(t, 16).ok()?;
        // 100 ns ticks since 1601-01-01 → seconds since 1970-01-01.
        let secs = i64::try_from(ft / 10_000_000).ok()? - 11_644_473_600;
        let ts = jiff::Timestamp::from_second(secs).ok()?;
        let dt = jiff::tz::TimeZone::UTC.to_datetime(ts);
        return Some((dt.date(), 0));
    }
    if t.len() >= 8 && t.bytes().take(8).all(|b| b.is_ascii_digit()) && t.len() == 8 {
        let y: i16 = t.get(..4)?.parse().ok()?;
        let m: i8 = t.get(4..6)?.parse().ok()?;
        let d: i8 = t.get(6..8)?.parse().ok()?;
        return Date::new(y, m, d).ok().map(|d| (d, 0));
    }
    let (a, b, c, sep) = date_numbers(t)?;
    let (y, m, d) = if a >= 1000 {
        (a, b, c)
    } else {
        let year = if c < 100 { c + 2000 } else { c };
        match (sep, order) {
            ('/', SlashOrder::MonthFirst) => (year, a, b),
            _ => (year, b, a),
        }
    };
    let date = Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()?;
    Some((date, time_of_day(t)))
}

/// `12:00:00 AM`, `8:37:14 PM`, `00:00:00` anywhere after the date.
fn time_of_day(s: &str) -> u32 {
    let Some(colon) = s.find(':') else { return 0 };
    let before = s.get(..colon).unwrap_or("");
    let start = before
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let clock = s.get(start..).unwrap_or("");
    let mut parts = clock
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .take(3)
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let mut h = parts.next().unwrap_or(0) % 24;
    let m = parts.next().unwrap_or(0) % 60;
    let sec = parts.next().unwrap_or(0) % 60;
    let upper = s.to_ascii_uppercase();
    if upper.contains("PM") && h < 12 {
        h += 12;
    } else if upper.contains("AM") && h == 12 {
        h = 0;
    }
    h * 3600 + m * 60 + sec
}

// ---------------------------------------------------------------- tables

/// A text table whose header names its columns (`wmic qfe`, `Get-HotFix`
/// default view). Columns are found at the header's word starts.
#[derive(Debug, Clone)]
pub struct Table {
    /// Column names and their start in display columns.
    pub columns: Vec<(String, usize)>,
}

/// Display width of a character: CJK and other wide characters take two
/// console cells, which is how the console pads table columns.
fn cell_width(c: char) -> usize {
    let u = c as u32;
    let wide = matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
    if wide { 2 } else { 1 }
}

/// Runs of non-blank text separated by at least `min_gap` spaces, with their
/// start in display columns.
pub fn tokens(line: &str, min_gap: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut col = 0usize;
    let mut start: Option<(usize, usize)> = None; // (byte, col)
    let mut last_end_byte = 0usize;
    let mut gap = 0usize;
    for (i, c) in line.char_indices() {
        if c == ' ' || c == '\t' {
            gap += 1;
            if gap >= min_gap
                && let Some((sb, sc)) = start.take()
            {
                out.push((sc, line.get(sb..last_end_byte).unwrap_or("")));
            }
        } else {
            if start.is_none() {
                start = Some((i, col));
            }
            gap = 0;
            last_end_byte = i + c.len_utf8();
        }
        col += cell_width(c);
    }
    if let Some((sb, sc)) = start {
        out.push((sc, line.get(sb..last_end_byte).unwrap_or("")));
    }
    out
}

impl Table {
    /// Columns from a header line whose names are separated by spaces.
    pub fn from_header(line: &str) -> Table {
        Table {
            columns: tokens(line, 1)
                .into_iter()
                .map(|(c, t)| (t.to_string(), c))
                .collect(),
        }
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// A data row split on runs of two or more spaces (wmic pads every column
    /// by at least two). Each value goes to the column whose start is nearest
    /// at or before it; when the console padded a row by a different measure
    /// than characters (non-ASCII values shift the rest of the row), the shift
    /// is learned from the first value that lands in an occupied column and
    /// applied to the rest of the row.
    pub fn split_row<'a>(&self, line: &'a str) -> Vec<Option<&'a str>> {
        let mut out = vec![None; self.columns.len()];
        let mut shift: isize = 0;
        let mut prev: Option<usize> = None;
        for (col, tok) in tokens(line, 2) {
            let at = col as isize + shift;
            let mut idx = self
                .columns
                .iter()
                .rposition(|(_, s)| (*s as isize) <= at)
                .unwrap_or(0);
            if let Some(p) = prev
                && idx <= p
            {
                idx = p + 1;
                if let Some((_, s)) = self.columns.get(idx) {
                    shift = *s as isize - col as isize;
                }
            }
            if idx >= out.len() {
                break;
            }
            out[idx] = Some(tok);
            prev = Some(idx);
        }
        out
    }

    /// A row cut at fixed display columns (PowerShell tables, where columns
    /// may be separated by a single space).
    pub fn slice_row<'a>(&self, line: &'a str, starts: &[usize]) -> Vec<Option<&'a str>> {
        let mut out = vec![None; starts.len()];
        let mut col = 0usize;
        let mut bounds = vec![line.len(); starts.len() + 1];
        let mut next = 0usize;
        for (i, c) in line.char_indices() {
            while next < starts.len() && col >= starts[next] {
                bounds[next] = i;
                next += 1;
            }
            col += cell_width(c);
        }
        for (k, slot) in out.iter_mut().enumerate() {
            let (Some(&a), Some(&b)) = (bounds.get(k), bounds.get(k + 1)) else {
                continue;
            };
            if a < b
                && let Some(v) = line.get(a..b)
            {
                let v = v.trim();
                if !v.is_empty() {
                    *slot = Some(v);
                }
            }
        }
        out
    }
}

/// A line of dashes groups (`------ -----------  --------`): the starts of
/// each group, or `None` when the line is something else.
pub fn dash_groups(line: &str) -> Option<Vec<usize>> {
    let t = line.trim_end();
    if t.is_empty() || !t.bytes().all(|b| b == b'-' || b == b' ') || !t.contains('-') {
        return None;
    }
    let mut out = Vec::new();
    let mut prev = b' ';
    for (i, b) in t.bytes().enumerate() {
        if b == b'-' && prev == b' ' {
            out.push(i);
        }
        prev = b;
    }
    Some(out)
}

// ---------------------------------------------------------------- JSON

/// A JSON value read as text when it is a scalar (string, number, boolean)
/// and as nothing when it is null, an object or an array. PowerShell writes
/// enums as numbers or strings depending on version; this takes both.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Loose<'a>(pub Option<Cow<'a, str>>);

impl<'a> Loose<'a> {
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Loose<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Loose(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Loose(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Loose(Some(Cow::Owned(v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Loose(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Loose(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Loose(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Loose(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A PowerShell `DateTime` in JSON: `"/Date(1704844800000)/"`, culture text,
/// or (Windows PowerShell 5.1 with extended properties) an object
/// `{"value": "/Date(...)/", "DisplayHint": 2, "DateTime": "Wednesday, ..."}`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct JsonDate<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for JsonDate<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsonDate<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a date string or an object with `value`/`DateTime`")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(JsonDate(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(JsonDate(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(JsonDate(Some(Cow::Owned(v))))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(JsonDate(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(JsonDate(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(JsonDate(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(JsonDate(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(JsonDate(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(JsonDate(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut value = None;
                let mut text = None;
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    if k.eq_ignore_ascii_case("value") {
                        value = m.next_value::<Loose<'de>>()?.0;
                    } else if k.eq_ignore_ascii_case("DateTime") {
                        text = m.next_value::<Loose<'de>>()?.0;
                    } else {
                        m.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(JsonDate(value.or(text)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(JsonDate(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Rows of a JSON document that is either an array of objects or one bare
/// object (PowerShell's `ConvertTo-Json` does not wrap a single object). An
/// error gives the line in the document and serde's message.
pub fn json_rows<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<Vec<T>, (u32, String)> {
    // Only a BOM is cut (it has no newline), so serde's lines are the file's.
    let t = text.trim_start_matches('\u{FEFF}');
    let res = if t.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<T>>(t)
    } else {
        serde_json::from_str::<T>(t).map(|r| vec![r])
    };
    res.map_err(|e| (json_error_line(&e), e.to_string()))
}

/// Line numbers of strings borrowed from a text (a JSON value that serde
/// did not have to unescape points into the document). Offsets are
/// expected in increasing order, which keeps the counting linear; an owned
/// string (not inside the text) has line 0.
pub struct LineOf<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
}

impl<'a> LineOf<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            line: 1,
        }
    }

    pub fn line(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s else { return 0 };
        let off = (s.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        if off > self.text.len() {
            return 0;
        }
        if off < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        let chunk = self.text.as_bytes().get(self.pos..off).unwrap_or(&[]);
        let n = memchr::memchr_iter(b'\n', chunk).count();
        self.line = self
            .line
            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        self.pos = off;
        self.line
    }
}

/// The line (1-based) of a serde_json error, or 0.
pub fn json_error_line(e: &serde_json::Error) -> u32 {
    u32::try_from(e.line()).unwrap_or(u32::MAX)
}

/// A CSV header's column index by name, case-insensitively.
pub fn csv_col(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| {
        headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{FEFF}')
                .eq_ignore_ascii_case(n)
        })
    })
}

/// The 1-based line of a CSV record or error.
pub fn csv_line(p: Option<&csv::Position>) -> u32 {
    p.map_or(0, |p| u32::try_from(p.line()).unwrap_or(u32::MAX))
}

/// A CSV reader over `body` and its header record. Rows may differ in length
/// (PowerShell and wmic leave trailing fields out); a header the csv crate
/// cannot read is an error at `header_line` expecting `expected`.
pub fn csv_reader<'a>(
    t: &crate::Text,
    body: &'a str,
    header_line: u32,
    expected: &str,
) -> Result<(csv::Reader<&'a [u8]>, csv::StringRecord), crate::IngestError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(body.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| csv_error(t, header_line, expected, &e))?
        .clone();
    Ok((rdr, headers))
}

/// The error for a CSV header or record the csv crate could not read.
pub fn csv_error(t: &crate::Text, line: u32, expected: &str, e: &csv::Error) -> crate::IngestError {
    crate::IngestError::new(t.path.as_ref(), line, expected).found(e.to_string())
}

/// A capture damaged for never-panic tests: characters inserted (even
/// positions) or replaced (odd positions), then cut at `cut` characters.
#[cfg(test)]
pub fn damaged(sample: &str, cut: usize, edits: &[(usize, char)]) -> String {
    let mut chars: Vec<char> = sample.chars().collect();
    for &(pos, c) in edits {
        let i = pos % (chars.len() + 1);
        if pos % 2 == 0 {
            chars.insert(i, c)
        } else if i < chars.len() {
            chars[i] = c
        }
    }
    chars.truncate(cut.min(chars.len()));
    chars.into_iter().collect()
}

/// A format's never-panic property test, `damaged::never_panics`: damaged
/// copies of `$sample` (cut, characters replaced or inserted anywhere) go
/// through the format's `detect` and `parse` (both in scope where it is used).
#[cfg(test)]
macro_rules! never_panics_on_damage {
    ($sample:expr) => {
        /// Damaged captures (cut, characters replaced or inserted anywhere) never panic.
        mod damaged {
            use super::*;
            use proptest::prelude::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(96))]
                #[test]
                fn never_panics(cut in 0usize..4000, edits in proptest::collection::vec((0usize..4000, any::<char>()), 0..12)) {
                    let text = crate::util::damaged($sample, cut, &edits);
                    let _ = detect(&text);
                    let _ = parse(&Text::new("damaged", text));
                }
            }
        }
    };
}
#[cfg(test)]
pub(crate) use never_panics_on_damage;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = |s: &str| parse_date(s, SlashOrder::MonthFirst).map(|d| d.to_string());
        assert_eq!(d("/Date(1704844800000)/").as_deref(), Some("2024-01-10"));
        assert_eq!(d("3/14/2023 12:00:00 AM").as_deref(), Some("2023-03-14"));
        assert_eq!(d("14.03.2023 00:00:00").as_deref(), Some("2023-03-14"));
        assert_eq!(d("2023-03-14T00:00:00").as_deref(), Some("2023-03-14"));
        assert_eq!(d("20230314").as_deref(), Some("2023-03-14"));
        assert_eq!(d("01cc5c6a3d8e5b8a").as_deref(), Some("2011-08-16"));
        assert_eq!(
            parse_date("14/03/2023", SlashOrder::DayFirst)
                .map(|d| d.to_string())
                .as_deref(),
            Some("2023-03-14")
        );
        assert_eq!(d("13/13/2023"), None);
        assert_eq!(d(""), None);
        assert_eq!(
            infer_slash_order(["3/4/2023", "14/03/2023"].into_iter()),
            SlashOrder::DayFirst
        );
        assert_eq!(
            infer_slash_order(["3/4/2023", "3/14/2023"].into_iter()),
            SlashOrder::MonthFirst
        );
        assert_eq!(
            parse_date_time("12/14/2022 3:04:05 PM", SlashOrder::MonthFirst).map(|x| x.1),
            Some(15 * 3600 + 4 * 60 + 5)
        );
    }

    #[test]
    fn archs() {
        for (s, a) in [
            ("x64-based PC", "x64"),
            ("x64-basierter PC", "x64"),
            ("Ordinateur à base de x64", "x64"),
            ("PC à base de x64", "x64"),
            ("X86-based PC", "x86"),
            ("ARM64-based PC", "arm64"),
            ("AMD64", "x64"),
        ] {
            assert_eq!(normalize_arch(s).as_deref(), Some(a), "{s}");
        }
        assert_eq!(known_arch("3 Corrections installées."), None);
        assert_eq!(
            normalize_arch("3 Corrections installées.").as_deref(),
            Some("3 Corrections installées.")
        );
    }

    #[test]
    fn table_with_shifted_values() {
        let header = "Caption                                     CSName  Description  FixComments  HotFixID   InstallDate  InstalledBy                               InstalledOn  Name  ServicePackInEffect  Status  ";
        let t = Table::from_header(header);
        let row = t.split_row("http://support.microsoft.com/?kbid=2919355  DC      Update                    KB2919355               TEST_dc\\Администратор  3/18/2014                                       ");
        assert_eq!(row[t.index("HotFixID").unwrap()], Some("KB2919355"));
        assert_eq!(
            row[t.index("InstalledBy").unwrap()],
            Some("TEST_dc\\Администратор")
        );
        assert_eq!(row[t.index("InstalledOn").unwrap()], Some("3/18/2014"));
        assert_eq!(row[t.index("FixComments").unwrap()], None);
    }

    #[test]
    fn dashes() {
        assert_eq!(dash_groups("------ ----  --"), Some(vec![0, 7, 13]));
        assert_eq!(dash_groups("abc"), None);
    }
}
