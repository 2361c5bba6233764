//! In-box components (`data/inbox-components.toml`): products serviced
//! apart from the OS but shipped inside it (Flash Player on Windows 8.1/10
//! and Server 2012 R2–2019 until its removal update, Internet Explorer 11).
//! A node of such an OS has the component even when no update of it is
//! installed yet; that is what makes a missing Flash update on a Windows 10
//! node "missing", not "not applicable".

use lockstep_catalog::known_issues::product_matches;
use lockstep_model::KbId;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Pattern of the component's catalog products (`Adobe Flash Player`
    /// matches `Adobe Flash Player on Windows 10 Version 1803`).
    pub product: String,
    pub os: Vec<String>,
    #[serde(default)]
    pub removed_by: Vec<String>,
    /// When given, present only where one of these packages is installed.
    #[serde(default)]
    pub installed_by: Vec<String>,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    component: Vec<Component>,
}

const DATA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/inbox-components.toml"
));

/// The built-in table (empty if the compiled-in file were broken; its test
/// below keeps it parsing).
pub fn components() -> &'static [Component] {
    static TABLE: std::sync::OnceLock<Vec<Component>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str::<File>(DATA)
            .map(|f| f.component)
            .unwrap_or_default()
    })
}

/// Whether `companion` (a catalog product such as `Adobe Flash Player on
/// Windows 10 Version 1803`) ships inside `os` and is still there on a node
/// with these installed updates. Returns the component when it is.
pub fn inbox_component<'a>(companion: &str, os: &str, installed: &[KbId]) -> Option<&'a Component> {
    let has = |kb: &str| kb.parse::<KbId>().is_ok_and(|kb| installed.contains(&kb));
    components().iter().find(|c| {
        product_matches(&c.product, companion)
            && c.os.iter().any(|p| product_matches(p, os))
            && !c.removed_by.iter().any(|r| has(r))
            && (c.installed_by.is_empty() || c.installed_by.iter().any(|r| has(r)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses() {
        toml::from_str::<File>(DATA).unwrap();
        assert_eq!(components().len(), 3);
    }

    #[test]
    fn flash_is_inbox_on_1803_until_removed() {
        let flash = "Adobe Flash Player on Windows 10 Version 1803";
        let os = "Windows 10 Version 1803";
        assert!(inbox_component(flash, os, &[]).is_some());
        assert!(inbox_component(flash, os, &[KbId(4577586)]).is_none());
        assert!(inbox_component(flash, "Windows 7 Service Pack 1", &[]).is_none());
        assert!(
            inbox_component(
                "Internet Explorer 11 on Windows Server 2012 R2",
                "Windows Server 2012 R2",
                &[]
            )
            .is_some()
        );
        assert!(
            inbox_component(
                "Internet Explorer 11 on Windows 7 Service Pack 1",
                "Windows 7 Service Pack 1",
                &[]
            )
            .is_none()
        );
        assert!(
            inbox_component(
                "Internet Explorer 11 on Windows 7 Service Pack 1",
                "Windows 7 Service Pack 1",
                &[KbId(2841134)]
            )
            .is_some()
        );
    }
}
