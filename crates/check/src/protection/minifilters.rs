//! The table of well-known minifilters (`crates/check/data/minifilters.toml`):
//! who makes a filter, and which load-order group its altitude falls in.

use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFilter {
    pub name: String,
    pub altitude: String,
    pub vendor: String,
    pub product: String,
    /// Part of the CSV stack itself: never a suspect.
    #[serde(default)]
    pub expected: bool,
}

impl KnownFilter {
    pub fn is_microsoft(&self) -> bool {
        self.vendor == "Microsoft"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AltitudeGroup {
    pub from: u32,
    pub to: u32,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinifilterTable {
    #[serde(default)]
    pub filter: Vec<KnownFilter>,
    #[serde(default)]
    pub group: Vec<AltitudeGroup>,
}

const DATA: &str = include_str!("../../data/minifilters.toml");

impl MinifilterTable {
    /// The built-in table (parsed once). The unit tests make sure it parses.
    pub fn builtin() -> &'static MinifilterTable {
        static TABLE: OnceLock<MinifilterTable> = OnceLock::new();
        TABLE.get_or_init(|| toml::from_str(DATA).unwrap_or_default())
    }

    /// By name, case-insensitively (a `.sys` suffix is ignored).
    pub fn get(&self, name: &str) -> Option<&KnownFilter> {
        let n = name.trim();
        let n = n
            .get(..n.len().saturating_sub(4))
            .filter(|_| n.to_ascii_lowercase().ends_with(".sys"))
            .unwrap_or(n);
        self.filter.iter().find(|f| f.name.eq_ignore_ascii_case(n))
    }

    /// The load-order group of an altitude such as `321300` or `41006.03`.
    pub fn group(&self, altitude: &str) -> Option<&AltitudeGroup> {
        let whole: u32 = altitude.split('.').next()?.trim().parse().ok()?;
        self.group.iter().find(|g| g.from <= whole && whole <= g.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_names_vendors() {
        let parsed: MinifilterTable = toml::from_str(DATA).expect("minifilters.toml parses");
        assert_eq!(&parsed, MinifilterTable::builtin());
        let t = MinifilterTable::builtin();
        let f = t.get("MFEHIDK.sys").unwrap();
        assert_eq!(
            (f.altitude.as_str(), f.vendor.as_str()),
            ("321300", "McAfee")
        );
        assert_eq!(t.get("WdFilter").unwrap().altitude, "328010");
        assert!(t.get("csvflt").unwrap().expected);
        assert_eq!(t.get("csagent").unwrap().vendor, "CrowdStrike");
        assert_eq!(t.group("321300").unwrap().name, "FSFilter Anti-Virus");
        assert_eq!(t.group("41006.03").unwrap().name, "FSFilter Bottom");
        assert_eq!(t.group("<Legacy>"), None);
        assert_eq!(
            t.group("385100.5").unwrap().name,
            "FSFilter Activity Monitor"
        );
        // Every name once.
        let mut names: Vec<String> = t
            .filter
            .iter()
            .map(|f| f.name.to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), t.filter.len());
    }
}
