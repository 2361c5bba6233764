//! Source lines: best-effort lines for facts in a JSON text (see the module
//! documentation of the snapshot reader).

use crate::formats::Text;
use lockstep_model::SourceRef;

/// Best-effort lines for facts in a JSON text: forward searches for
/// `"key": <value>` within a byte range.
pub(super) struct Locator<'a> {
    pub(super) text: &'a str,
    pub(super) line_starts: Vec<usize>,
    /// Every offset before the end of the text is on line 1 (compressed
    /// JSON, with or without a final newline).
    pub(super) one_line: bool,
}

/// A key's quoted form (`"hotFixId"`) with its searcher, built once and used
/// for every lookup of that key (a fleet has millions of lookups).
pub(super) struct Key {
    pub(super) finder: memchr::memmem::Finder<'static>,
}

impl Key {
    pub(super) fn new(key: &str) -> Self {
        let mut quoted = Vec::with_capacity(key.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(key.as_bytes());
        quoted.push(b'"');
        Self {
            finder: memchr::memmem::Finder::new(&quoted).into_owned(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.finder.needle().len()
    }
}

/// Whether serde_json writes `value` as `"value"`, unchanged: it escapes only
/// `"`, `\` and control characters below U+0020.
pub(super) fn needs_no_escape(value: &str) -> bool {
    !value.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

impl<'a> Locator<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        let one_line = match line_starts.as_slice() {
            [_] => true,
            [_, second] => *second == text.len(),
            _ => false,
        };
        Self {
            text,
            line_starts,
            one_line,
        }
    }

    /// 1-based line of a byte offset.
    pub(super) fn line(&self, offset: usize) -> u32 {
        let idx = self.line_starts.partition_point(|&s| s <= offset);
        u32::try_from(idx).unwrap_or(u32::MAX)
    }

    /// Offset of the first `"key"` followed by `:` in `[from, to)`.
    pub(super) fn find_key(&self, from: usize, to: usize, key: &Key) -> Option<usize> {
        self.find_key_then(from, to, key, |_| true)
    }

    pub(super) fn find_key_then(
        &self,
        from: usize,
        to: usize,
        key: &Key,
        value_ok: impl Fn(&str) -> bool,
    ) -> Option<usize> {
        let to = to.min(self.text.len());
        let hay = self.text.get(from..to)?;
        let mut pos = 0;
        while let Some(hit) = hay.as_bytes().get(pos..).and_then(|h| key.finder.find(h)) {
            let key_at = pos + hit;
            let after = hay.get(key_at + key.len()..).unwrap_or("");
            let rest = trim_start(after);
            if let Some(value) = rest.strip_prefix(':')
                && value_ok(trim_start(value))
            {
                return Some(from + key_at);
            }
            pos = key_at + key.len();
        }
        None
    }

    /// Offset of `"key": "value"` in `[from, to)`; `value` as serde_json
    /// escapes it.
    pub(super) fn find_pair(
        &self,
        from: usize,
        to: usize,
        key: &Key,
        value: &str,
    ) -> Option<usize> {
        if needs_no_escape(value) {
            // `"value"` without building it.
            let n = value.len();
            return self.find_key_then(from, to, key, |v| {
                let b = v.as_bytes();
                b.first() == Some(&b'"')
                    && b.get(1..=n) == Some(value.as_bytes())
                    && b.get(n + 1) == Some(&b'"')
            });
        }
        let encoded = serde_json::to_string(value).ok()?;
        self.find_key_then(from, to, key, |v| v.starts_with(encoded.as_str()))
    }

    pub(super) fn line_of_key(&self, from: usize, to: usize, key: &Key) -> u32 {
        self.find_key(from, to, key).map_or(0, |o| self.line(o))
    }

    /// Offset of `"key":` in `[from, to)`, for a key looked up once.
    pub(super) fn find_key_str(&self, from: usize, to: usize, key: &str) -> Option<usize> {
        self.find_key(from, to, &Key::new(key))
    }
}

/// Where one node's part of the document lies, to give its facts lines.
pub(super) struct Span<'t, 'l, 'a> {
    pub(super) text: &'t Text,
    pub(super) loc: &'l Locator<'a>,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) node_src: SourceRef,
}

impl Span<'_, '_, '_> {
    /// Offset and source of a section key of the node (the node's line when
    /// the key is not found).
    pub(super) fn key(&self, key: &str) -> (usize, SourceRef) {
        let at = self.loc.find_key_str(self.start, self.end, key);
        (
            at.unwrap_or(self.start),
            self.text
                .at(at.map_or(self.node_src.line, |o| self.loc.line(o))),
        )
    }
}

/// Lines of the entries of one list (each found by the same key), searched
/// in order from the section key.
pub(super) struct Cursor<'l, 'a> {
    pub(super) loc: &'l Locator<'a>,
    pub(super) key: Key,
    pub(super) section: usize,
    pub(super) at: usize,
    pub(super) end: usize,
}

impl<'l, 'a> Cursor<'l, 'a> {
    pub(super) fn new(
        loc: &'l Locator<'a>,
        key: &str,
        section: usize,
        at: usize,
        end: usize,
    ) -> Self {
        Self {
            loc,
            key: Key::new(key),
            section,
            at,
            end,
        }
    }

    pub(super) fn line_of(&mut self, value: &str) -> u32 {
        // A hit lies before the end of the text, so on line 1, and so does
        // the section unless it is the end itself, where nothing is found:
        // the answer is the section's line either way, without searching.
        if self.loc.one_line {
            return self.loc.line(self.section);
        }
        let hit = self
            .loc
            .find_pair(self.at, self.end, &self.key, value)
            .or_else(|| self.loc.find_pair(self.section, self.end, &self.key, value));
        match hit {
            Some(o) => {
                self.at = o + 1;
                self.loc.line(o)
            }
            None => self.loc.line(self.section),
        }
    }
}

/// `str::trim_start`, answering at once when the text starts with a visible
/// ASCII character.
pub(super) fn trim_start(s: &str) -> &str {
    match s.as_bytes().first() {
        Some(a) if a.is_ascii_graphic() => s,
        _ => s.trim_start(),
    }
}
