//! Text that people read: the one rule that keeps input data from driving a
//! terminal or forging lines.
//!
//! Host names, cluster names, file names, titles and notes come from input
//! files. A capture naming a host `"\x1b]0;…\x07"` or `"\x1b[2J"` must not
//! retitle or clear the admin's terminal, a newline in a cluster name must not
//! print a fake summary line, and a bidi control (U+202E RIGHT-TO-LEFT
//! OVERRIDE and its kin) must not make `KB5034439` read as something else.
//! Every such character becomes U+FFFD, so the admin still sees that
//! something was there.
//!
//! * [`terminal_safe`] with [`Lines::Keep`] is for whole rendered texts, whose
//!   newlines and tabs are the renderer's own.
//! * [`one_line`] is for a single value placed into a line (a name in a
//!   table cell, a path in a message): newlines and tabs go too.
//! * [`json_safe`] escapes the same characters inside JSON text as `\uXXXX`:
//!   the document decodes to exactly the same strings, and `cat report.json`
//!   shows nothing raw.

use std::borrow::Cow;

/// Bidirectional formatting characters: embeddings and overrides (U+202A–
/// U+202E), isolates (U+2066–U+2069), the implicit marks (U+200E, U+200F)
/// and the Arabic letter mark (U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Characters that never reach a terminal as they are: C0 and C1 controls,
/// DEL, bidi controls and the Unicode line and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || c == '\u{2028}' || c == '\u{2029}'
}

/// What happens to newlines and tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Kept: the text is a whole rendering whose line breaks are its own.
    Keep,
    /// Replaced like every other control character: the text is one value.
    One,
}

/// Where the first unsafe character starts, if anywhere. Works on bytes
/// because reports are hundreds of megabytes and almost always clean: whole
/// 64-byte blocks are tested for a lead byte first (C0 controls, DEL, 0xC2,
/// 0xD8, 0xE2), without an early exit, which the compiler vectorises; only a
/// block with one is looked at closely: C1 controls are 0xC2 0x80..0x9F,
/// U+061C is 0xD8 0x9C, the bidi marks, embeddings, isolates and the line
/// separators are 0xE2 0x80 / 0xE2 0x81 followed by their last byte.
fn first_suspect(b: &[u8], lines: Lines) -> Option<usize> {
    let keep = lines == Lines::Keep;
    let lead = |x: u8| {
        (x < 0x20 && !(keep && (x == b'\n' || x == b'\t')))
            | (x == 0x7f)
            | (x == 0xc2)
            | (x == 0xd8)
            | (x == 0xe2)
    };
    let unsafe_at = |i: usize| match b[i] {
        0xc2 => matches!(b.get(i + 1), Some(0x80..=0x9f)),
        0xd8 => b.get(i + 1) == Some(&0x9c),
        0xe2 => matches!(
            (b.get(i + 1), b.get(i + 2)),
            (Some(0x80), Some(0x8e | 0x8f | 0xa8..=0xae)) | (Some(0x81), Some(0xa6..=0xa9))
        ),
        _ => true,
    };
    let mut base = 0;
    for block in b.chunks(64) {
        if block.iter().fold(false, |hit, &x| hit | lead(x)) {
            for (i, &x) in block.iter().enumerate() {
                if lead(x) && unsafe_at(base + i) {
                    return Some(base + i);
                }
            }
        }
        base += block.len();
    }
    None
}

/// `s` with every unsafe character replaced by U+FFFD (newlines and tabs
/// too with [`Lines::One`]). Borrowed when there was nothing to replace.
pub fn terminal_safe(s: &str, lines: Lines) -> Cow<'_, str> {
    let Some(start) = first_suspect(s.as_bytes(), lines) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..start]);
    push_safe(&mut out, &s[start..], lines);
    Cow::Owned(out)
}

/// Appends `s` to `out` with every unsafe character replaced.
pub fn push_safe(out: &mut String, s: &str, lines: Lines) {
    for c in s.chars() {
        let kept = lines == Lines::Keep && (c == '\n' || c == '\t');
        out.push(if !kept && is_unsafe(c) { '\u{FFFD}' } else { c });
    }
}

/// One value inside a line of text (see the module documentation).
pub fn one_line(s: &str) -> Cow<'_, str> {
    terminal_safe(s, Lines::One)
}

/// JSON text with every unsafe character that JSON allows raw (DEL, C1
/// controls, bidi controls, U+2028/U+2029) written as a `\uXXXX` escape.
/// They can only occur inside strings, where the escape means the same
/// character, so the document is unchanged for every parser. (C0 controls
/// are escaped by every JSON writer already.)
pub fn json_safe(s: String) -> String {
    let Some(start) = first_suspect(s.as_bytes(), Lines::Keep) else {
        return s;
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..start]);
    for c in s[start..].chars() {
        if is_unsafe(c) && !matches!(c, '\n' | '\t' | '\r') {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A writer that passes JSON text through [`json_safe`] as it streams (a
/// fleet's report is never whole in memory). A character split between two
/// writes is held back until it is complete.
pub struct JsonSafeWriter<W: std::io::Write> {
    inner: W,
    carry: Vec<u8>,
}

impl<W: std::io::Write> JsonSafeWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            carry: Vec::new(),
        }
    }
}

/// How many bytes at the end of `b` are an incomplete UTF-8 sequence.
fn incomplete_tail(b: &[u8]) -> usize {
    for back in 1..=b.len().min(3) {
        let x = b[b.len() - back];
        if x & 0xC0 == 0x80 {
            continue; // a continuation byte: look further back
        }
        let need = match x {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if need > back { back } else { 0 };
    }
    0
}

impl<W: std::io::Write> JsonSafeWriter<W> {
    /// Writes complete characters, escaped where needed.
    fn emit(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if first_suspect(bytes, Lines::Keep).is_none() {
            return self.inner.write_all(bytes);
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => self.inner.write_all(json_safe(text.to_string()).as_bytes()),
            // Not UTF-8: not JSON text this writer can judge.
            Err(_) => self.inner.write_all(bytes),
        }
    }
}

impl<W: std::io::Write> std::io::Write for JsonSafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        // Complete the character held back from the last write first.
        if let Some(&lead) = self.carry.first() {
            let len: usize = match lead {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            let take = len.saturating_sub(self.carry.len()).min(rest.len());
            self.carry.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.carry.len() < len {
                return Ok(buf.len());
            }
            let held = std::mem::take(&mut self.carry);
            self.emit(&held)?;
        }
        let keep = incomplete_tail(rest);
        let (done, tail) = rest.split_at(rest.len() - keep);
        self.emit(done)?;
        self.carry.extend_from_slice(tail);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.carry.is_empty() {
            let held = std::mem::take(&mut self.carry);
            self.inner.write_all(&held)?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "HV\u{1b}]0;owned\u{7}01\u{1b}[2J\r\u{9b}31m\tx\nKB\u{202E}9344\u{2066}\u{200F}\u{61C}\u{2028}\u{7f}";

    #[test]
    fn every_control_bidi_and_separator_is_replaced() {
        assert_eq!(
            terminal_safe(HOSTILE, Lines::Keep),
            "HV\u{FFFD}]0;owned\u{FFFD}01\u{FFFD}[2J\u{FFFD}\u{FFFD}31m\tx\nKB\u{FFFD}9344\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(
            one_line("cluster\nFindings (0)\t"),
            "cluster\u{FFFD}Findings (0)\u{FFFD}"
        );
    }

    /// The byte scan finds exactly the characters `is_unsafe` names, at any
    /// offset inside a 64-byte block and across block boundaries.
    #[test]
    fn the_byte_scan_agrees_with_the_character_rule() {
        for cp in (0..0x3000u32)
            .chain(0xFE00..0x10000)
            .chain([0x1F600, 0x10FFFF])
        {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            for pad in [0, 1, 62, 63, 64] {
                let s = format!("{}{c}x", "a".repeat(pad));
                let expected = is_unsafe(c) && !matches!(c, '\n' | '\t');
                assert_eq!(
                    first_suspect(s.as_bytes(), Lines::Keep),
                    expected.then_some(pad),
                    "U+{cp:04X} at {pad}"
                );
                assert_eq!(
                    first_suspect(s.as_bytes(), Lines::One).is_some(),
                    is_unsafe(c),
                    "U+{cp:04X}"
                );
            }
        }
    }

    #[test]
    fn clean_text_is_borrowed_including_box_drawing_and_dashes() {
        let clean = "┌─┬─┐ — café © 漢字 ‘quoted’ … العربية\n\tend";
        assert!(matches!(
            terminal_safe(clean, Lines::Keep),
            Cow::Borrowed(_)
        ));
        assert!(matches!(one_line("HV01 — 10.0.20348"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_escapes_decode_to_the_same_strings() {
        let value = serde_json::json!({"name": "HV\u{202E}01\u{7f}\u{9b}\u{2029}", "ok": "é—"});
        let raw = serde_json::to_string(&value).unwrap();
        let safe = json_safe(raw.clone());
        assert_eq!(safe, r#"{"name":"HV\u202e01\u007f\u009b\u2029","ok":"é—"}"#);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
        assert_eq!(json_safe("{\"a\": 1}\n".into()), "{\"a\": 1}\n");
    }

    #[test]
    fn the_writer_escapes_characters_split_between_writes() {
        use std::io::Write;
        let text = "{\"a\":\"x\u{202E}y\u{9b}—\"}".as_bytes();
        for split in 0..text.len() {
            let mut w = JsonSafeWriter::new(Vec::new());
            w.write_all(&text[..split]).unwrap();
            w.write_all(&text[split..]).unwrap();
            w.flush().unwrap();
            assert_eq!(
                String::from_utf8(w.inner).unwrap(),
                r#"{"a":"x\u202ey\u009b—"}"#,
                "split at {split}"
            );
        }
    }
}
