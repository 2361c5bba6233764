//! What the check stage needs to know about updates, behind one trait.
//!
//! Two sources feed it: the local catalog (MSRC CVRF, WES-NG; optional — a
//! user may have none yet) and the known-issues database (always built in).
//! The known-issues database both *asserts* edges the catalogs lack (the 2011
//! KB2616676 → KB2607712 edge predates MSRC's CVRF feed) and *judges* edges
//! per product (intended, incomplete, wrong). Merging them here keeps the
//! drift and posture logic free of source details: they only see
//! [`EdgeInfo`]s with their provenance and verdict.

use jiff::civil::Date;
use lockstep_model::{KbId, OsInfo, WinVersion};
use serde::{Deserialize, Serialize};

/// How a known issue judges one supersedence edge on one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    /// The newer update contains the older one: drift is harmless for security.
    Intended,
    /// The newer update lacks some of the older one's content.
    Incomplete,
    /// The edge should not exist.
    Wrong,
    /// The edge should exist but the catalog data lacks it.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeVerdict {
    pub known_issue: String,
    pub kind: VerdictKind,
    pub note: String,
}

/// One "newer supersedes older" edge on one servicing product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeInfo {
    pub newer: KbId,
    pub older: KbId,
    /// Where the edge comes from: `wesng`, `cvrf:2023-Dec`, `known-issue:LOCKSTEP-2011-0001`.
    pub sources: Vec<String>,
    pub verdict: Option<EdgeVerdict>,
    /// Set when the sources disagree about this edge (one asserts it, another
    /// that covers both updates for this product does not).
    pub disputed: Option<String>,
}

/// The kind of an update (the catalog's; one enum for every stage).
pub use lockstep_catalog::UpdateKind;

pub trait Knowledge: Sync {
    /// Whether a catalog was loaded (without one, only known-issue edges exist).
    fn has_catalog(&self) -> bool;
    /// The servicing product of a node's OS, e.g. `Windows Server 2008 R2 Service Pack 1`.
    fn product_of(&self, os: &OsInfo) -> Option<String>;
    /// Whether the catalog has any data about this KB.
    fn kb_known(&self, kb: KbId) -> bool;
    fn published_for(&self, kb: KbId, product: &str) -> bool;
    /// Edges `newer → kb` on this product.
    fn superseded_by(&self, kb: KbId, product: &str) -> Vec<EdgeInfo>;
    /// Edges `kb → older` on this product.
    fn supersedes(&self, kb: KbId, product: &str) -> Vec<EdgeInfo>;
    /// Edges `newer → kb` that count only where `newer` is installed (a
    /// servicing model's installed-only rule: an installed cumulative update
    /// covers the servicing stack updates released before it). Never a
    /// reason to install `newer` instead of `kb`.
    fn covered_when_installed_by(&self, kb: KbId, product: &str) -> Vec<EdgeInfo>;
    fn fixed_build(&self, kb: KbId, product: &str) -> Option<WinVersion>;
    fn release_date(&self, kb: KbId) -> Option<Date>;
    fn kind(&self, kb: KbId, product: &str) -> Option<UpdateKind>;
    fn title(&self, kb: KbId) -> Option<String>;
    /// Highest CVE severity of the KB on this product (`Critical`, `Important`, ...), if any.
    fn max_severity(&self, kb: KbId, product: &str) -> Option<String>;
    /// Every KB published for this product.
    fn updates_for(&self, product: &str) -> Vec<KbId>;
    /// Products installed separately on top of this OS product (`.NET Framework
    /// 4.8 on Windows Server 2022`, browsers), whose chains are judged apart.
    fn companion_products(&self, product: &str) -> Vec<String>;
    /// Whether installing or removing the KB on this product needs a
    /// restart (MSRC's RestartRequired; `Maybe` counts as yes: a restart too
    /// many costs minutes, one too few makes the next install fail). `None`
    /// when no source says.
    fn restart_required(&self, _kb: KbId, _product: &str) -> Option<bool> {
        None
    }
    /// How many CVEs the KB fixes (over every product), when a source says.
    fn cve_count(&self, _kb: KbId) -> Option<usize> {
        None
    }
}

impl<K: Knowledge + ?Sized> Knowledge for &K {
    fn has_catalog(&self) -> bool {
        (**self).has_catalog()
    }
    fn product_of(&self, os: &OsInfo) -> Option<String> {
        (**self).product_of(os)
    }
    fn kb_known(&self, kb: KbId) -> bool {
        (**self).kb_known(kb)
    }
    fn published_for(&self, kb: KbId, product: &str) -> bool {
        (**self).published_for(kb, product)
    }
    fn superseded_by(&self, kb: KbId, product: &str) -> Vec<EdgeInfo> {
        (**self).superseded_by(kb, product)
    }
    fn supersedes(&self, kb: KbId, product: &str) -> Vec<EdgeInfo> {
        (**self).supersedes(kb, product)
    }
    fn covered_when_installed_by(&self, kb: KbId, product: &str) -> Vec<EdgeInfo> {
        (**self).covered_when_installed_by(kb, product)
    }
    fn fixed_build(&self, kb: KbId, product: &str) -> Option<WinVersion> {
        (**self).fixed_build(kb, product)
    }
    fn release_date(&self, kb: KbId) -> Option<Date> {
        (**self).release_date(kb)
    }
    fn kind(&self, kb: KbId, product: &str) -> Option<UpdateKind> {
        (**self).kind(kb, product)
    }
    fn title(&self, kb: KbId) -> Option<String> {
        (**self).title(kb)
    }
    fn max_severity(&self, kb: KbId, product: &str) -> Option<String> {
        (**self).max_severity(kb, product)
    }
    fn updates_for(&self, product: &str) -> Vec<KbId> {
        (**self).updates_for(product)
    }
    fn companion_products(&self, product: &str) -> Vec<String> {
        (**self).companion_products(product)
    }
    fn restart_required(&self, kb: KbId, product: &str) -> Option<bool> {
        (**self).restart_required(kb, product)
    }
    fn cve_count(&self, kb: KbId) -> Option<usize> {
        (**self).cve_count(kb)
    }
}
