//! Windows releases by build number (`data/windows-builds.toml`): the one
//! table every stage asks which catalog product a node runs and what to call
//! its release in a message. A new Windows release is a row in that file.

use crate::WinVersion;
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Server,
    Client,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub build: u32,
    pub family: Family,
    /// The release, for messages (`Windows Server 2008 R2`).
    pub name: String,
    /// The catalog's servicing product (`Windows Server 2008 R2 Service Pack 1`).
    pub product: Option<String>,
    /// Text the OS caption must contain (`R2`), case ignored.
    pub caption: Option<String>,
    /// The service pack number the node must have.
    pub service_pack: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    release: Vec<Release>,
}

const DATA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/windows-builds.toml"
));

/// The parsed table, or what is wrong with the compiled-in file.
pub fn parse_table(text: &str) -> Result<Vec<Release>, String> {
    toml::from_str::<File>(text)
        .map(|f| f.release)
        .map_err(|e| format!("data/windows-builds.toml: {e}"))
}

/// The built-in table (empty if the compiled-in file were broken: its test
/// keeps it parsing).
pub fn releases() -> &'static [Release] {
    static TABLE: OnceLock<Vec<Release>> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(DATA).unwrap_or_default())
}

/// `Service Pack 2` anywhere in the text → 2.
fn service_pack_number(text: &str) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("service pack")?;
    lower[at + "service pack".len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
}

/// The release a node runs: from its build, the OS caption (or installation
/// type: `Server`, `Server Core`, `Client`) and its service-pack text.
/// Without a caption, a build that exists in one family only is enough.
pub fn release_for(
    caption: Option<&str>,
    build: u32,
    service_pack: Option<&str>,
) -> Option<&'static Release> {
    let rows: Vec<&Release> = releases().iter().filter(|r| r.build == build).collect();
    let family = match caption {
        Some(c) if c.to_ascii_lowercase().contains("server") => Family::Server,
        Some(_) => Family::Client,
        None => {
            let first = rows.first()?.family;
            if rows.iter().any(|r| r.family != first) {
                return None;
            }
            first
        }
    };
    let caption_lower = caption.unwrap_or("").to_ascii_lowercase();
    let sp = service_pack
        .and_then(service_pack_number)
        .or_else(|| caption.and_then(service_pack_number));
    rows.into_iter()
        .filter(|r| r.family == family)
        .filter(|r| {
            r.caption
                .as_ref()
                .is_none_or(|c| caption_lower.contains(&c.to_ascii_lowercase()))
        })
        .filter(|r| r.service_pack.is_none_or(|n| sp == Some(n)))
        .max_by_key(|r| r.caption.is_some() as u8 + r.service_pack.is_some() as u8)
}

/// The catalog product a node runs (see [`release_for`]).
pub fn product_for(
    caption: Option<&str>,
    build: u32,
    service_pack: Option<&str>,
) -> Option<String> {
    release_for(caption, build, service_pack).and_then(|r| r.product.clone())
}

/// A Windows Server release's name for messages (`Windows Server 2016`);
/// `Windows build N` for a build the table does not name.
pub fn server_release_name(version: &WinVersion) -> String {
    server_release_name_of_build(version.build())
}

/// [`server_release_name`] of a build number.
pub fn server_release_name_of_build(build: u32) -> String {
    match release_for(Some("Server"), build, None) {
        Some(r) => r.name.clone(),
        None => format!("Windows build {build}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_builds_are_unique_per_family() {
        let table = parse_table(DATA).unwrap();
        assert!(table.len() >= 40);
        let mut seen = std::collections::HashSet::new();
        for r in &table {
            assert!(
                seen.insert((r.build, r.family, r.caption.clone(), r.service_pack)),
                "{r:?} twice"
            );
        }
    }

    #[test]
    fn products_by_build_caption_and_service_pack() {
        let p = |caption: Option<&str>, build, sp: Option<&str>| product_for(caption, build, sp);
        // Server 2008 shipped as build 6001 (the level of Vista SP1): the
        // catalog calls it plain "Windows Server 2008".
        assert_eq!(
            p(
                Some("Microsoft Windows Server 2008 Enterprise"),
                6001,
                Some("Service Pack 1")
            ),
            Some("Windows Server 2008".into())
        );
        assert_eq!(
            p(Some("Microsoft Windows Vista Business"), 6001, None),
            Some("Windows Vista Service Pack 1".into())
        );
        assert_eq!(
            p(
                Some("Microsoft Windows Server 2008 R2 Datacenter"),
                7601,
                None
            ),
            Some("Windows Server 2008 R2 Service Pack 1".into())
        );
        assert_eq!(
            p(
                Some("Microsoft(R) Windows(R) Server 2003, Standard Edition R2"),
                3790,
                Some("Service Pack 2")
            ),
            Some("Windows Server 2003 R2 Service Pack 2".into())
        );
        assert_eq!(
            p(
                Some("Microsoft(R) Windows(R) Server 2003, Standard Edition"),
                3790,
                Some("Service Pack 2")
            ),
            Some("Windows Server 2003 Service Pack 2".into())
        );
        assert_eq!(
            p(
                Some("Microsoft Windows XP Professional"),
                2600,
                Some("Service Pack 2")
            ),
            None
        );
        assert_eq!(
            p(None, 20348, None),
            Some("Windows Server 2022".into()),
            "a server-only build needs no caption"
        );
        assert_eq!(
            p(None, 17763, None),
            None,
            "17763 is Server 2019 and Windows 10 1809"
        );
        assert_eq!(
            p(Some("Server Core"), 25398, None),
            Some("Windows Server 2022, 23H2 Edition".into())
        );
        assert_eq!(
            p(Some("Microsoft Windows 11 Pro"), 22000, None),
            Some("Windows 11 version 21H2".into())
        );
        assert_eq!(p(Some("Microsoft Windows Server 2022"), 99999, None), None);
        for (caption, build, product) in [
            (
                "Microsoft Windows 7 Professional",
                7601,
                "Windows 7 Service Pack 1",
            ),
            (
                "Microsoft Windows Server 2019 Datacenter",
                17763,
                "Windows Server 2019",
            ),
            (
                "Microsoft Windows 10 Enterprise",
                17763,
                "Windows 10 Version 1809",
            ),
            ("Microsoft Windows 10 Pro", 19045, "Windows 10 Version 22H2"),
            (
                "Microsoft Windows Server 2012 R2 Standard",
                9600,
                "Windows Server 2012 R2",
            ),
            (
                "Microsoft Windows Server 2012 Datacenter",
                9200,
                "Windows Server 2012",
            ),
            (
                "Microsoft Windows Server 2016 Standard",
                14393,
                "Windows Server 2016",
            ),
            (
                "Microsoft Windows Server 2025 Datacenter",
                26100,
                "Windows Server 2025",
            ),
            ("Server Core", 7601, "Windows Server 2008 R2 Service Pack 1"),
        ] {
            assert_eq!(
                p(Some(caption), build, None).as_deref(),
                Some(product),
                "{caption}"
            );
        }
        assert_eq!(
            p(None, 7601, None),
            None,
            "7601 is Windows 7 and Server 2008 R2"
        );
    }

    #[test]
    fn release_names_for_messages() {
        let n = |v: &str| server_release_name(&v.parse().unwrap());
        assert_eq!(n("6.1.7601"), "Windows Server 2008 R2");
        assert_eq!(n("10.0.14393.6529"), "Windows Server 2016");
        assert_eq!(n("10.0.25398"), "Windows Server 2022, 23H2 Edition");
        assert_eq!(n("10.0.30000"), "Windows build 30000");
    }
}
