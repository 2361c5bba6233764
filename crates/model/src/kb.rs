//! KB numbers.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A Microsoft Knowledge Base article number, the identity of an update.
///
/// Stored as a number so that comparisons and hashing are cheap; displayed as
/// `KB5033118`. Parsing accepts `KB5033118`, `kb5033118` and `5033118`, with
/// surrounding white space, and nothing else: `MS16-087`, `KB`, `KB12a` and
/// numbers of more than 8 digits are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KbId(pub u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a KB number such as KB5033118, found {0:?}")]
pub struct KbParseError(pub String);

impl KbId {
    pub fn number(self) -> u32 {
        self.0
    }

    /// Finds the first `KBnnnnnn` (at least 6 digits) inside free text such as
    /// an update title: `2022-10 Cumulative Update ... (KB5020435)`.
    pub fn find_in(text: &str) -> Option<KbId> {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i + 2 < bytes.len() {
            if (bytes[i] == b'K' || bytes[i] == b'k')
                && (bytes[i + 1] == b'B' || bytes[i + 1] == b'b')
            {
                let start = i + 2;
                let mut end = start;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
                let after_ok = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
                if before_ok && after_ok && (6..=8).contains(&(end - start)) {
                    return text[start..end].parse().ok().map(KbId);
                }
                i = end.max(i + 1);
            } else {
                i += 1;
            }
        }
        None
    }
}

/// What a hotfix id names, as Windows lists it in `Win32_QuickFixEngineering`
/// (`Get-HotFix`, `wmic qfe`, osquery `patches`) and in `systeminfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotfixId<'a> {
    /// A KB number, with what Windows printed after its digits: `-v2` in
    /// `KB2536276-v2`, `v2` in `KB893803v2`, `-IE8` in `KB2510531-IE8`,
    /// `_WM9` in `KB2378111_WM9`; empty for a plain `KB5033118`.
    Kb { kb: KbId, suffix: &'a str },
    /// `KB` and fewer digits than any KB number has (`KB2862`): an id cut
    /// off, which must not be taken for a KB.
    TooShort,
    /// Not a KB id: `File 1`, `Q147222`, `M123456`, `KB` with more than 7
    /// digits or with text that is not a suffix.
    Other,
}

/// Digits of a KB number in a hotfix id. Microsoft's hotfix ids carry the
/// `KB` prefix since 2003, when article numbers had six digits (`KB329115`,
/// `KB968211`); after `KB999999` the numbering went on at 2000000, so
/// every KB since 2009 has seven (`KB2000011` … `KB5033118`). No hotfix id
/// ever had fewer than six digits: a shorter one was cut off.
pub const HOTFIX_KB_DIGITS: std::ops::RangeInclusive<usize> = 6..=7;

/// Longest suffix after the digits (`-v2`, `-IE8`, `_WM9`, `-x64-ENU`).
const MAX_SUFFIX: usize = 16;

/// `KB`/`kb` prefix, the digits after it and the rest: the one place that
/// takes a KB token apart. `None` when there are no digits.
fn split_kb_token(t: &str) -> Option<(bool, &str, &str)> {
    let (prefixed, rest) = match t.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("KB") => (true, t.get(2..).unwrap_or("")),
        _ => (false, t),
    };
    let end = rest
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    if end == 0 {
        return None;
    }
    Some((prefixed, rest.get(..end)?, rest.get(end..)?))
}

/// A suffix Windows puts after a KB number: an optional `-` or `_`, then
/// letters, digits and inner `-`, `_`, `.` (`-v2`, `v2`, `-IE8`, `_WM9`).
fn is_suffix(s: &str) -> bool {
    let body = s.strip_prefix(['-', '_']).unwrap_or(s);
    s.len() <= MAX_SUFFIX
        && body.starts_with(|c: char| c.is_ascii_alphanumeric())
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl KbId {
    /// Reads a hotfix id as Windows lists it (see [`HotfixId`]), with
    /// surrounding white space. The KB number must have 6 or 7 digits
    /// ([`HOTFIX_KB_DIGITS`]); `KB` with fewer and nothing after them is
    /// [`HotfixId::TooShort`]. A bare number (`5033118`) is read like
    /// `KB5033118`, but is never called too short.
    pub fn parse_hotfix_id(s: &str) -> HotfixId<'_> {
        let t = s.trim();
        let Some((prefixed, digits, suffix)) = split_kb_token(t) else {
            return HotfixId::Other;
        };
        if !suffix.is_empty() && (!prefixed || !is_suffix(suffix)) {
            return HotfixId::Other;
        }
        if digits.len() < *HOTFIX_KB_DIGITS.start() {
            return if prefixed && suffix.is_empty() {
                HotfixId::TooShort
            } else {
                HotfixId::Other
            };
        }
        match digits.parse::<u32>() {
            Ok(n) if HOTFIX_KB_DIGITS.contains(&digits.len()) && !digits.starts_with('0') => {
                HotfixId::Kb {
                    kb: KbId(n),
                    suffix,
                }
            }
            _ => HotfixId::Other,
        }
    }
}

impl FromStr for KbId {
    type Err = KbParseError;

    /// The canonical forms only (`KB5033118`, `kb5033118`, `5033118`, 1 to
    /// 8 digits): catalog data, known issues and command-line arguments.
    /// Hotfix lists go through [`KbId::parse_hotfix_id`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match split_kb_token(s.trim()) {
            Some((_, digits, "")) if digits.len() <= 8 => digits
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .map(KbId)
                .ok_or_else(|| KbParseError(s.to_string())),
            _ => Err(KbParseError(s.to_string())),
        }
    }
}

impl KbId {
    /// `KB5033118` written into `buf`, without the formatting machinery: a
    /// fleet's report writes millions of KB numbers.
    pub fn as_str(self, buf: &mut [u8; 12]) -> &str {
        let mut n = self.0;
        let mut at = buf.len();
        loop {
            at -= 1;
            buf[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        buf[at - 2] = b'K';
        buf[at - 1] = b'B';
        // Only ASCII digits and "KB" were written.
        std::str::from_utf8(&buf[at - 2..]).unwrap_or("KB?")
    }
}

impl fmt::Display for KbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str(&mut [0; 12]))
    }
}

impl Serialize for KbId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str(&mut [0; 12]))
    }
}

impl<'de> Deserialize<'de> for KbId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_and_serialises_as_kb_and_digits() {
        for n in [1, 9, 10, 2616676, 5033118, 99_999_999, u32::MAX] {
            assert_eq!(KbId(n).to_string(), format!("KB{n}"));
            assert_eq!(
                serde_json::to_string(&KbId(n)).unwrap(),
                format!("\"KB{n}\"")
            );
        }
        assert_eq!(format!("{:<11}|", KbId(2616676)), "KB2616676  |");
    }

    #[test]
    fn parses_forms() {
        assert_eq!("KB5033118".parse::<KbId>().unwrap(), KbId(5033118));
        assert_eq!(" kb2607712 ".parse::<KbId>().unwrap(), KbId(2607712));
        assert_eq!("5005039".parse::<KbId>().unwrap(), KbId(5005039));
        assert!("MS16-087".parse::<KbId>().is_err());
        assert!("KB".parse::<KbId>().is_err());
        assert!("KB12a".parse::<KbId>().is_err());
        assert!("KB123456789".parse::<KbId>().is_err());
        assert!("KB0".parse::<KbId>().is_err());
    }

    #[test]
    fn finds_in_titles() {
        assert_eq!(
            KbId::find_in(
                "2022-10 x64 ベース システム用 Windows 10 Version 21H2 の累積更新プログラム (KB5020435)"
            ),
            Some(KbId(5020435))
        );
        assert_eq!(KbId::find_in("Update for KB12 only"), None);
        assert_eq!(KbId::find_in("no kb here"), None);
        assert_eq!(KbId::find_in("x(KB4023057)"), Some(KbId(4023057)));
    }

    #[test]
    fn hotfix_ids_with_suffixes() {
        let kb = |s| match KbId::parse_hotfix_id(s) {
            HotfixId::Kb { kb, suffix } => Some((kb.0, suffix)),
            _ => None,
        };
        assert_eq!(kb("KB5033118"), Some((5033118, "")));
        assert_eq!(kb(" kb968211 "), Some((968211, "")));
        assert_eq!(kb("5033118"), Some((5033118, "")));
        assert_eq!(kb("KB2536276-v2"), Some((2536276, "-v2")));
        assert_eq!(kb("KB2510531-IE8"), Some((2510531, "-IE8")));
        assert_eq!(kb("KB2378111_WM9"), Some((2378111, "_WM9")));
        assert_eq!(kb("KB893803v2"), Some((893803, "v2")));
        for other in [
            "File 1",
            "Q147222",
            "M123456",
            "KB",
            "KB12345678",
            "KB0123456",
            "KB2536276 v2",
            "KB2536276-",
            "KB2536276-v2;rm",
            "KB2536276-averyveryverylongsuffix",
            "KB12-v2",
            "2862",
            "5033118-v2",
        ] {
            assert_eq!(KbId::parse_hotfix_id(other), HotfixId::Other, "{other}");
        }
        for short in ["KB2862", "kb1", "KB41", "KB50331"] {
            assert_eq!(KbId::parse_hotfix_id(short), HotfixId::TooShort, "{short}");
        }
    }
}

/// Hashes a KB number with one multiplication. KB ids are small distinct
/// integers, not attacker-chosen keys of a long-lived server, and a check
/// hashes tens of millions of them (every installed update of every node
/// against every product graph), where SipHash dominated the profile.
#[derive(Debug, Clone, Copy, Default)]
pub struct KbHasher(u64);

impl std::hash::Hasher for KbHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for non-u32 keys; FNV-1a keeps it correct.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u32(&mut self, n: u32) {
        // Fibonacci hashing: the high bits hashbrown uses are well mixed.
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub type BuildKbHasher = std::hash::BuildHasherDefault<KbHasher>;
/// A set of KBs with the fast hasher.
pub type KbSet = std::collections::HashSet<KbId, BuildKbHasher>;
/// A map keyed by KB with the fast hasher.
pub type KbMap<V> = std::collections::HashMap<KbId, V, BuildKbHasher>;

#[cfg(test)]
mod hasher_tests {
    use super::*;

    #[test]
    fn kb_set_behaves_as_a_set() {
        let mut s = KbSet::default();
        for n in [2616676u32, 2607712, 2616676, 5033118] {
            s.insert(KbId(n));
        }
        assert_eq!(s.len(), 3);
        assert!(s.contains(&KbId(2607712)));
        assert!(!s.contains(&KbId(5032198)));
    }
}
