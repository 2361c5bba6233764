//! Hotfix ids as captures write them, read through the one KB-token parser
//! ([`KbId::parse_hotfix_id`]) with what the capture adds: the file and line
//! for errors, and whether the file ends inside the id.

use crate::{IngestError, Text};
use lockstep_model::{HotfixId, KbId};

/// A hotfix id that Windows lists, KB or not: `KB5005039`, `KB2536276-v2`,
/// `KB2862` (cut off, still an id: reported, not skipped), `File 1`,
/// `Q147222`, `M123456`. Table parsers use it to tell rows from stray lines.
pub fn is_hotfix_like(s: &str) -> bool {
    let t = s.trim();
    if KbId::parse_hotfix_id(t) != HotfixId::Other {
        return true;
    }
    let mut words = t.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(w), Some(n), None) => {
            w.chars().all(|c| c.is_alphabetic()) && n.bytes().all(|b| b.is_ascii_digit())
        }
        (Some(w), None, None) => {
            let mut cs = w.chars();
            cs.next().is_some_and(|c| c.is_ascii_alphabetic())
                && w.len() > 1
                && cs.all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// What a hotfix id of a capture is, read by [`KbId::parse_hotfix_id`]
/// with the capture's context (its file, its line, whether the file ends
/// inside it).
#[derive(Debug)]
pub enum CaptureId<'a> {
    /// A KB, and the id as written when it says more than the number
    /// (`KB2536276-v2`).
    Kb(KbId, Option<&'a str>),
    /// Not a KB id (`File 1`, `Q147222`): kept as an other entry.
    Other,
    /// Too short to be a KB (`KB2862`), or cut by the end of the file: an
    /// error for that line; the rest of the file is still read.
    Cut(IngestError),
}

/// Reads the hotfix id `id` found on line `line` of `t`. A file that stops
/// without a line end may stop inside its last id: there an id with fewer
/// than seven digits (the length of every KB since 2009) cannot be told
/// from a cut one and is reported, not taken.
pub fn read_hotfix_id<'a>(t: &Text, line: u32, id: &'a str) -> CaptureId<'a> {
    let id = id.trim();
    match KbId::parse_hotfix_id(id) {
        HotfixId::Kb { kb, suffix } => {
            if ends_file_inside(t, line, id) && kb.0 < 1_000_000 && suffix.is_empty() {
                return CaptureId::Cut(
                    IngestError::new(
                        t.path.as_ref(),
                        line,
                        "a whole hotfix id (the file ends inside this one, without a line end)",
                    )
                    .found(id),
                );
            }
            CaptureId::Kb(kb, (!suffix.is_empty()).then_some(id))
        }
        HotfixId::TooShort => CaptureId::Cut(too_short_kb(t, line, id)),
        HotfixId::Other => CaptureId::Other,
    }
}

/// The error for an id too short to be a KB (`KB2862`).
pub fn too_short_kb(t: &Text, line: u32, id: &str) -> IngestError {
    IngestError::new(
        t.path.as_ref(),
        line,
        "a KB number of 6 or 7 digits such as KB5033118 (a shorter one is cut off)",
    )
    .found(id)
}

/// Whether `id` on line `line` is the very end of a file that has no final
/// line end.
fn ends_file_inside(t: &Text, line: u32, id: &str) -> bool {
    let text = t.text.as_str();
    !text.ends_with('\n')
        && !id.is_empty()
        && text.trim_end().ends_with(id)
        && usize::try_from(line).ok()
            == Some(
                memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1 + t.line_offset as usize,
            )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotfix_like() {
        assert!(is_hotfix_like("KB5005039"));
        assert!(is_hotfix_like("File 1"));
        assert!(is_hotfix_like("Q147222"));
        assert!(!is_hotfix_like(
            "Intel64 Family 6 Model 85 Stepping 4 GenuineIntel ~2095 Mhz"
        ));
        assert!(!is_hotfix_like("192.168.254.172"));
        assert!(!is_hotfix_like("Realtek PCIe GBE Family Controller"));
    }
}
