//! When Microsoft's support of each Windows release ends
//! (`data/support-lifecycle.toml`): an update released for a product after
//! that date reaches only Extended Security Updates customers, so reports
//! label it "ESU only" and count it apart from what every admin can install.

use jiff::civil::Date;
use lockstep_catalog::known_issues::product_matches;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportEnd {
    /// Servicing-product pattern (`Windows Server 2008 R2`).
    pub product: String,
    /// The last day of extended support.
    pub extended_end: Date,
    /// The end of the Extended Security Updates programme, where there is one.
    #[serde(default)]
    pub esu_end: Option<Date>,
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    product: Vec<SupportEnd>,
}

const DATA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/support-lifecycle.toml"
));

/// The built-in table (empty if the compiled-in file were broken; its test
/// below keeps it parsing).
pub fn table() -> &'static [SupportEnd] {
    static TABLE: std::sync::OnceLock<Vec<SupportEnd>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str::<File>(DATA)
            .map(|f| f.product)
            .unwrap_or_default()
    })
}

/// The support end of an OS servicing product (the longest matching
/// pattern: `Windows Server 2008 R2` before `Windows Server 2008`).
pub fn support_end(os_product: &str) -> Option<&'static SupportEnd> {
    table()
        .iter()
        .filter(|s| product_matches(&s.product, os_product))
        .max_by_key(|s| s.product.len())
}

/// Whether an update released on `released` for a product of `os_product`
/// (the OS itself, or a product installed on it) came after the OS's
/// support ended.
pub fn esu_only(os_product: Option<&str>, released: Option<Date>) -> bool {
    match (os_product.and_then(support_end), released) {
        (Some(end), Some(d)) => d > end.extended_end,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_table_parses_and_every_entry_has_a_source() {
        let t: File = toml::from_str(DATA).unwrap();
        assert_eq!(t.product.len(), table().len());
        for s in table() {
            assert!(!s.sources.is_empty(), "{}", s.product);
            assert!(
                s.sources
                    .iter()
                    .all(|u| u.starts_with("https://learn.microsoft.com/"))
            );
            assert!(s.esu_end.is_none_or(|e| e > s.extended_end));
        }
    }

    #[test]
    fn r2_is_not_the_release_before_it() {
        let end = |p: &str| support_end(p).map(|s| s.extended_end);
        assert_eq!(
            end("Windows Server 2008 R2 Service Pack 1"),
            Some(date(2020, 1, 14))
        );
        assert_eq!(end("Windows Server 2012 R2"), Some(date(2023, 10, 10)));
        assert_eq!(
            support_end("Windows Server 2008 R2 Service Pack 1").map(|s| s.product.as_str()),
            Some("Windows Server 2008 R2")
        );
        assert_eq!(
            support_end("Windows Server 2008 Service Pack 2").map(|s| s.product.as_str()),
            Some("Windows Server 2008")
        );
        assert_eq!(end("Windows Server 2022"), Some(date(2031, 10, 14)));
        assert_eq!(end("Windows 10 Version 1809"), None);
    }

    #[test]
    fn esu_only_is_after_the_last_supported_patch_tuesday() {
        let os = Some("Windows Server 2008 R2 Service Pack 1");
        // KB4534310, the January 2020 rollup, reached everyone.
        assert!(!esu_only(os, Some(date(2020, 1, 14))));
        // KB4537820, February 2020: ESU only.
        assert!(esu_only(os, Some(date(2020, 2, 11))));
        assert!(!esu_only(os, None));
        assert!(!esu_only(None, Some(date(2026, 1, 13))));
        assert!(!esu_only(
            Some("Windows Server 2022"),
            Some(date(2026, 1, 13))
        ));
    }
}
