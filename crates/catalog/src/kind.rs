//! What kind of update a KB is, inferred from MSRC's `SubType`, the title and
//! the products it ships for.
//!
//! The kind matters because supersedence chains only make sense within one
//! kind: hotpatches and normal cumulative updates for the same product are
//! separate chains (WES-NG issues #74, #82), .NET has its own chains, and a
//! Security Only update is never superseded by the next month's Security Only.

use serde::Serialize;
use std::fmt;

/// One enum for every stage. Reports (serde) name the kinds in kebab case
/// (`cumulative`, `dot-net`); the store and the servicing-model files use
/// [`UpdateKind::as_str`] (`security-update`, `dotnet`), and
/// [`UpdateKind::parse`] reads both.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateKind {
    /// Windows 10/11/Server 2016+ cumulative update, or a plain security update.
    Cumulative,
    /// Windows 7/8.1/2008 R2/2012 Security Monthly Quality Rollup.
    MonthlyRollup,
    /// Windows 7/8.1/2008 R2/2012 Security Only update.
    SecurityOnly,
    /// Security Hotpatch Update (Server 2022 Azure Edition and later).
    Hotpatch,
    ServicingStack,
    /// Not a security release: a preview rollup or an optional update (MSRC
    /// SubType `Preview Rollup` / `Update`, e.g. KB4487029, the February 2019
    /// preview for Windows 10 1803). Covered by the next cumulative update;
    /// never reported as a missing security update.
    Preview,
    /// A setup dynamic update (SubType `Setup DU`): it refreshes installation
    /// media and is never offered to an installed system.
    SetupDynamic,
    DotNet,
    /// Internet Explorer cumulative updates, Edge, Flash.
    Browser,
    Other,
}

impl UpdateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateKind::Cumulative => "security-update",
            UpdateKind::MonthlyRollup => "monthly-rollup",
            UpdateKind::SecurityOnly => "security-only",
            UpdateKind::Hotpatch => "hotpatch",
            UpdateKind::ServicingStack => "servicing-stack",
            UpdateKind::Preview => "preview",
            UpdateKind::SetupDynamic => "setup-dynamic",
            UpdateKind::DotNet => "dotnet",
            UpdateKind::Browser => "browser",
            UpdateKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<UpdateKind> {
        Some(match s {
            "security-update" | "cumulative" => UpdateKind::Cumulative,
            "monthly-rollup" => UpdateKind::MonthlyRollup,
            "security-only" => UpdateKind::SecurityOnly,
            "hotpatch" => UpdateKind::Hotpatch,
            "servicing-stack" => UpdateKind::ServicingStack,
            "preview" => UpdateKind::Preview,
            "setup-dynamic" => UpdateKind::SetupDynamic,
            "dotnet" | "dot-net" => UpdateKind::DotNet,
            "browser" => UpdateKind::Browser,
            "other" => UpdateKind::Other,
            _ => return None,
        })
    }
}

impl fmt::Display for UpdateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Infers a KB's kind from everything the sources say about it.
///
/// Precedence: an explicit MSRC SubType (hotpatch, rollup, security only,
/// servicing stack, IE cumulative) wins; then the title; then the products (all
/// .NET → .NET, all browsers → browser); a KB shipped for Windows or anything
/// else with a security SubType is a security update; otherwise other.
pub fn infer_kind<'a>(
    subtypes: impl IntoIterator<Item = &'a str>,
    titles: impl IntoIterator<Item = &'a str>,
    products: impl IntoIterator<Item = &'a str>,
) -> UpdateKind {
    // MSRC spells one SubType several ways over the years ("Servicing Stack
    // Update" / "ServicingStackUpdate", "Security Hotpatch Update" /
    // "SecurityHotpatchUpdate" / "AzureHotpatch"): compare without spaces.
    let subtypes: Vec<String> = subtypes
        .into_iter()
        .map(|s| s.to_ascii_lowercase().replace(' ', ""))
        .filter(|s| !s.is_empty())
        .collect();
    let has_sub = |needle: &str| {
        let needle = needle.replace(' ', "");
        subtypes.iter().any(|s| s.contains(&needle))
    };
    if has_sub("hotpatch") {
        return UpdateKind::Hotpatch;
    }
    if has_sub("servicing stack") {
        return UpdateKind::ServicingStack;
    }
    if has_sub("setup du") {
        return UpdateKind::SetupDynamic;
    }
    // Only when every SubType says so: the same KB can be a "Security
    // Update" for one product and an "Update" for another.
    if !subtypes.is_empty()
        && subtypes
            .iter()
            .all(|s| s == "update" || s == "previewrollup")
    {
        return UpdateKind::Preview;
    }
    if has_sub("monthly rollup") {
        return UpdateKind::MonthlyRollup;
    }
    if has_sub("security only") {
        return UpdateKind::SecurityOnly;
    }
    if has_sub("ie cumulative") {
        return UpdateKind::Browser;
    }
    let titles: Vec<String> = titles.into_iter().map(|s| s.to_ascii_lowercase()).collect();
    let has_title = |needle: &str| titles.iter().any(|s| s.contains(needle));
    if has_title("hotpatch update") {
        return UpdateKind::Hotpatch;
    }
    if has_title("servicing stack update") {
        return UpdateKind::ServicingStack;
    }
    if has_title("monthly quality rollup") || has_title("monthly rollup") {
        return UpdateKind::MonthlyRollup;
    }
    if has_title("security only quality update") || has_title("security-only") {
        return UpdateKind::SecurityOnly;
    }
    let products: Vec<String> = products
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if !products.is_empty() {
        let dotnet = |p: &String| p.contains(".net framework") || p.starts_with(".net ");
        if products.iter().all(dotnet) {
            return UpdateKind::DotNet;
        }
        let browser = |p: &String| {
            p.starts_with("internet explorer")
                || p.starts_with("microsoft edge")
                || p.starts_with("adobe flash player")
        };
        if products.iter().all(browser) {
            return UpdateKind::Browser;
        }
    }
    if has_title(".net framework") {
        return UpdateKind::DotNet;
    }
    if has_title("cumulative security update for internet explorer") {
        return UpdateKind::Browser;
    }
    if has_sub("security update")
        || has_title("cumulative update")
        || has_title("security update")
        || products
            .iter()
            .any(|p| p.starts_with("windows") || p.starts_with("microsoft windows"))
    {
        return UpdateKind::Cumulative;
    }
    UpdateKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let none: [&str; 0] = [];
        assert_eq!(
            infer_kind(["Security Hotpatch Update"], none, ["Windows Server 2022"]),
            UpdateKind::Hotpatch
        );
        assert_eq!(
            infer_kind(["Security Update"], none, ["Windows Server 2022"]),
            UpdateKind::Cumulative
        );
        assert_eq!(
            infer_kind(["Monthly Rollup"], none, ["Windows Server 2012 R2"]),
            UpdateKind::MonthlyRollup
        );
        assert_eq!(
            infer_kind(["Security Only"], none, ["Windows Server 2012 R2"]),
            UpdateKind::SecurityOnly
        );
        assert_eq!(
            infer_kind(["IE Cumulative"], none, ["Internet Explorer 11"]),
            UpdateKind::Browser
        );
        assert_eq!(
            infer_kind(
                ["Security Update"],
                none,
                [".NET Framework 4.8 on Windows Server 2022"]
            ),
            UpdateKind::DotNet
        );
        assert_eq!(
            infer_kind(
                none,
                ["Latest Servicing Stack Updates"],
                ["Windows Server 2019"]
            ),
            UpdateKind::ServicingStack
        );
        assert_eq!(
            infer_kind(
                none,
                ["2023-12 Servicing Stack Update for Windows Server 2019"],
                ["Windows Server 2019"]
            ),
            UpdateKind::ServicingStack
        );
        assert_eq!(
            infer_kind(
                none,
                ["Security Update for Adobe Flash Player"],
                ["Adobe Flash Player on Windows 10"]
            ),
            UpdateKind::Browser
        );
        assert_eq!(
            infer_kind(["ServicingStackUpdate"], none, ["Windows RT 8.1"]),
            UpdateKind::ServicingStack
        );
        assert_eq!(
            infer_kind(["AzureHotpatch"], none, ["Windows Server 2022"]),
            UpdateKind::Hotpatch
        );
        assert_eq!(
            infer_kind(["Update"], none, ["Windows 10 Version 1803"]),
            UpdateKind::Preview
        );
        assert_eq!(
            infer_kind(["Preview Rollup"], none, ["Windows 8.1"]),
            UpdateKind::Preview
        );
        assert_eq!(
            infer_kind(
                ["Update", "Security Update"],
                none,
                ["Windows 10 Version 1803"]
            ),
            UpdateKind::Cumulative
        );
        assert_eq!(
            infer_kind(["Setup DU"], none, ["Windows 10 Version 1703"]),
            UpdateKind::SetupDynamic
        );
        assert_eq!(
            infer_kind(none, ["Something"], ["Microsoft Exchange Server 2019"]),
            UpdateKind::Other
        );
        assert_eq!(
            infer_kind(
                ["Security Update"],
                none,
                ["Microsoft Exchange Server 2019"]
            ),
            UpdateKind::Cumulative
        );
    }
}
