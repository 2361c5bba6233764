//! Four-part Windows versions and ranges of them.
//!
//! Windows builds (`10.0.20348.2159`: major, minor, build, revision/UBR) and
//! Defender platform and engine versions (`4.18.24090.11`, `1.1.24090.11`)
//! have four numeric parts compared left to right. Semver does not fit: there is
//! no pre-release, and the fourth part matters. Versions with fewer parts are
//! padded with zeros for comparison (`10.0.20348` == `10.0.20348.0`), but keep
//! how many parts were written so they print as they were read.
//!
//! Defender's platform folder spells a version `4.18.2111-5.0`
//! (`C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.2111-5.0`): the
//! dash form is accepted and means `4.18.2111.5`.
//!
//! A [`VersionRange`] is a comma-separated list of comparators that must all
//! hold, e.g. `>= 4.18.2111.5, < 4.18.2201.0`; `= 8.8.0.1247` is an exact
//! version and `*` matches everything.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, Eq)]
pub struct WinVersion {
    parts: [u32; 4],
    len: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a Windows version of 1 to 4 numeric parts such as 10.0.20348.2159, found {0:?}")]
pub struct VersionParseError(pub String);

impl WinVersion {
    pub const fn new(major: u32, minor: u32, build: u32, revision: u32) -> Self {
        Self {
            parts: [major, minor, build, revision],
            len: 4,
        }
    }

    pub fn major(&self) -> u32 {
        self.parts[0]
    }
    pub fn minor(&self) -> u32 {
        self.parts[1]
    }
    pub fn build(&self) -> u32 {
        self.parts[2]
    }
    pub fn revision(&self) -> u32 {
        self.parts[3]
    }
    /// How many parts were written (1 to 4).
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        false
    }
    pub fn parts(&self) -> [u32; 4] {
        self.parts
    }

    /// The same version with the revision (UBR) replaced, written with four parts.
    pub fn with_revision(self, revision: u32) -> Self {
        Self::new(self.parts[0], self.parts[1], self.parts[2], revision)
    }
}

impl PartialEq for WinVersion {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl std::hash::Hash for WinVersion {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.parts.hash(state)
    }
}

impl Ord for WinVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

impl PartialOrd for WinVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for WinVersion {
    type Err = VersionParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || VersionParseError(s.to_string());
        let t = s.trim();
        // Defender platform folder form: 4.18.2111-5.0 → 4.18.2111.5
        let normalized;
        let t = if let Some((head, tail)) = t.split_once('-') {
            let tail = tail.strip_suffix(".0").unwrap_or(tail);
            normalized = format!("{head}.{tail}");
            normalized.as_str()
        } else {
            t
        };
        let mut parts = [0u32; 4];
        let mut len = 0usize;
        for piece in t.split('.') {
            if len == 4 || piece.is_empty() || piece.len() > 10 {
                return Err(err());
            }
            if !piece.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            parts[len] = piece.parse().map_err(|_| err())?;
            len += 1;
        }
        if len == 0 {
            return Err(err());
        }
        Ok(Self {
            parts,
            len: len as u8,
        })
    }
}

impl fmt::Display for WinVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.parts[..self.len()].iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl Serialize for WinVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WinVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

/// All comparators must hold. Empty (written `*`) matches every version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    comparators: Vec<(Op, WinVersion)>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected a version range such as \">= 4.18.2111.5, < 4.18.2201.0\" or \"*\", found {text:?}: {why}"
)]
pub struct RangeParseError {
    pub text: String,
    pub why: String,
}

impl VersionRange {
    pub fn any() -> Self {
        Self {
            comparators: Vec::new(),
            text: "*".into(),
        }
    }

    pub fn contains(&self, v: &WinVersion) -> bool {
        self.comparators.iter().all(|(op, bound)| match op {
            Op::Lt => v < bound,
            Op::Le => v <= bound,
            Op::Gt => v > bound,
            Op::Ge => v >= bound,
            Op::Eq => v == bound,
        })
    }
}

impl FromStr for VersionRange {
    type Err = RangeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let fail = |why: &str| RangeParseError {
            text: s.to_string(),
            why: why.to_string(),
        };
        if t == "*" {
            return Ok(Self::any());
        }
        if t.is_empty() {
            return Err(fail("empty range"));
        }
        let mut comparators = Vec::new();
        for clause in t.split(',') {
            let c = clause.trim();
            let (op, rest) = if let Some(r) = c.strip_prefix(">=") {
                (Op::Ge, r)
            } else if let Some(r) = c.strip_prefix("<=") {
                (Op::Le, r)
            } else if let Some(r) = c.strip_prefix('>') {
                (Op::Gt, r)
            } else if let Some(r) = c.strip_prefix('<') {
                (Op::Lt, r)
            } else if let Some(r) = c.strip_prefix('=') {
                (Op::Eq, r)
            } else {
                return Err(fail("each clause starts with >=, >, <=, < or ="));
            };
            let v = rest
                .trim()
                .parse::<WinVersion>()
                .map_err(|e| fail(&e.to_string()))?;
            comparators.push((op, v));
        }
        Ok(Self {
            comparators,
            text: t.to_string(),
        })
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for VersionRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VersionRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> WinVersion {
        s.parse().unwrap()
    }

    #[test]
    fn orders_numerically_not_lexically() {
        assert!(v("10.0.20348.2159") > v("10.0.20348.987"));
        assert!(v("4.18.24090.11") > v("4.18.2111.5"));
        assert_eq!(v("10.0.20348"), v("10.0.20348.0"));
        assert_eq!(v("10.0.20348").to_string(), "10.0.20348");
    }

    #[test]
    fn defender_platform_folder_form() {
        assert_eq!(v("4.18.2111-5.0"), v("4.18.2111.5"));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "1..2", "1.2.3.4.5", "a.b", "10.0.x", "-", "1.2.3.4-"] {
            assert!(bad.parse::<WinVersion>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ranges() {
        let r: VersionRange = ">= 4.18.2111.5, < 4.18.2201.0".parse().unwrap();
        assert!(r.contains(&v("4.18.2111.5")));
        assert!(r.contains(&v("4.18.2112.1")));
        assert!(!r.contains(&v("4.18.2201.0")));
        assert!(!r.contains(&v("4.18.2107.4")));
        assert!(VersionRange::any().contains(&v("1")));
        assert!("4.18".parse::<VersionRange>().is_err());
        assert!(">= x".parse::<VersionRange>().is_err());
        let eq: VersionRange = "= 8.8.0.1247".parse().unwrap();
        assert!(eq.contains(&v("8.8.0.1247")) && !eq.contains(&v("8.8.0.1248")));
    }

    proptest! {
        #[test]
        fn display_round_trips(a in 0u32..100000, b in 0u32..100, c in 0u32..100000, d in 0u32..100000) {
            let x = WinVersion::new(a, b, c, d);
            prop_assert_eq!(x.to_string().parse::<WinVersion>().unwrap(), x);
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = s.parse::<WinVersion>();
            let _ = s.parse::<VersionRange>();
        }
    }
}
