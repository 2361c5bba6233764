//! [`Knowledge`] implementations over the real sources, and [`Sources`]: the
//! knowledge a run uses, built from parts the binary opened.
//!
//! * [`NoCatalog`] — what is known with no catalog at all: the node's
//!   servicing product (from its OS caption and build) and nothing else.
//! * [`WithKnownIssues`] — wraps a base (the catalog, or [`NoCatalog`]) and
//!   lays the known-issues database over it: edges the database asserts
//!   (e.g. the 2011 KB2616676 → KB2607712 edge, which predates MSRC's CVRF
//!   feed) are added with their provenance, and every edge, from whatever
//!   source, carries the database's verdict for the node's product.

use crate::knowledge::{EdgeInfo, EdgeVerdict, Knowledge, UpdateKind, VerdictKind};
use crate::node_product::product_of_os;
use jiff::civil::Date;
use lockstep_catalog::known_issues::{KnownIssues, VerdictKind as KiVerdict, product_matches};
use lockstep_model::{KbId, OsInfo, WinVersion};
use std::collections::HashMap;

/// No catalog loaded.
pub struct NoCatalog;

impl Knowledge for NoCatalog {
    fn has_catalog(&self) -> bool {
        false
    }
    fn product_of(&self, os: &OsInfo) -> Option<String> {
        product_of_os(os)
    }
    fn kb_known(&self, _kb: KbId) -> bool {
        false
    }
    fn published_for(&self, _kb: KbId, _product: &str) -> bool {
        false
    }
    fn superseded_by(&self, _kb: KbId, _product: &str) -> Vec<EdgeInfo> {
        Vec::new()
    }
    fn supersedes(&self, _kb: KbId, _product: &str) -> Vec<EdgeInfo> {
        Vec::new()
    }
    fn covered_when_installed_by(&self, _kb: KbId, _product: &str) -> Vec<EdgeInfo> {
        Vec::new()
    }
    fn fixed_build(&self, _kb: KbId, _product: &str) -> Option<WinVersion> {
        None
    }
    fn release_date(&self, _kb: KbId) -> Option<Date> {
        None
    }
    fn kind(&self, _kb: KbId, _product: &str) -> Option<UpdateKind> {
        None
    }
    fn title(&self, _kb: KbId) -> Option<String> {
        None
    }
    fn max_severity(&self, _kb: KbId, _product: &str) -> Option<String> {
        None
    }
    fn updates_for(&self, _product: &str) -> Vec<KbId> {
        Vec::new()
    }
    fn companion_products(&self, _product: &str) -> Vec<String> {
        Vec::new()
    }
}

/// One edge the known-issues database asserts, with its product patterns.
#[derive(Debug, Clone)]
struct AssertedEdge {
    newer: KbId,
    older: KbId,
    issue: String,
    products: Vec<String>,
}

pub struct WithKnownIssues<'a, B: Knowledge> {
    base: B,
    known: &'a KnownIssues,
    /// The date verdicts are judged on: a verdict with `until` holds only
    /// before it (see [`WithKnownIssues::judged_on`]).
    judged_on: Option<Date>,
    by_older: HashMap<KbId, Vec<AssertedEdge>>,
    by_newer: HashMap<KbId, Vec<AssertedEdge>>,
}

fn verdict_kind(v: KiVerdict) -> VerdictKind {
    match v {
        KiVerdict::Intended => VerdictKind::Intended,
        KiVerdict::Incomplete => VerdictKind::Incomplete,
        KiVerdict::Wrong => VerdictKind::Wrong,
        KiVerdict::Missing => VerdictKind::Missing,
    }
}

impl<'a, B: Knowledge> WithKnownIssues<'a, B> {
    pub fn new(base: B, known: &'a KnownIssues) -> Self {
        let mut by_older: HashMap<KbId, Vec<AssertedEdge>> = HashMap::new();
        let mut by_newer: HashMap<KbId, Vec<AssertedEdge>> = HashMap::new();
        for e in known.asserted_edges() {
            let edge = AssertedEdge {
                newer: e.newer,
                older: e.older,
                issue: e.issue.id.clone(),
                products: e.verdict.products.clone(),
            };
            by_older.entry(e.older).or_default().push(edge.clone());
            by_newer.entry(e.newer).or_default().push(edge);
        }
        Self {
            base,
            known,
            judged_on: None,
            by_older,
            by_newer,
        }
    }

    /// Judges edges as of `date` (the check's `--as-of`, else today): a
    /// verdict that held only `until` an earlier date no longer applies
    /// (the November 2016 rollup's supersedence of the security-only
    /// updates was wrong only until Microsoft corrected it in December 2016).
    pub fn judged_on(mut self, date: Date) -> Self {
        self.judged_on = Some(date);
        self
    }

    pub fn base(&self) -> &B {
        &self.base
    }

    fn judge(&self, mut edge: EdgeInfo, product: &str) -> EdgeInfo {
        if edge.verdict.is_none()
            && let Some((issue, v)) = self
                .known
                .supersedence_verdict(edge.newer, edge.older, product)
            && self.judged_on.is_none_or(|d| v.holds_on(d))
        {
            edge.verdict = Some(EdgeVerdict {
                known_issue: issue.id.clone(),
                kind: verdict_kind(v.verdict),
                note: v.note.clone(),
            });
        }
        edge
    }

    /// Base edges plus asserted ones, merged per (newer, older), each judged.
    fn merge(
        &self,
        base: Vec<EdgeInfo>,
        asserted: &[&AssertedEdge],
        product: &str,
    ) -> Vec<EdgeInfo> {
        let mut out = base;
        for a in asserted {
            if !a.products.iter().any(|p| product_matches(p, product)) {
                continue;
            }
            let source = format!("known-issue:{}", a.issue);
            match out
                .iter_mut()
                .find(|e| e.newer == a.newer && e.older == a.older)
            {
                Some(e) => {
                    if !e.sources.contains(&source) {
                        e.sources.push(source);
                    }
                }
                None => out.push(EdgeInfo {
                    newer: a.newer,
                    older: a.older,
                    sources: vec![source],
                    verdict: None,
                    disputed: None,
                }),
            }
        }
        out.into_iter().map(|e| self.judge(e, product)).collect()
    }
}

impl<B: Knowledge> Knowledge for WithKnownIssues<'_, B> {
    fn has_catalog(&self) -> bool {
        self.base.has_catalog()
    }
    fn product_of(&self, os: &OsInfo) -> Option<String> {
        self.base.product_of(os)
    }
    fn kb_known(&self, kb: KbId) -> bool {
        self.base.kb_known(kb)
    }
    fn published_for(&self, kb: KbId, product: &str) -> bool {
        self.base.published_for(kb, product)
    }
    fn superseded_by(&self, kb: KbId, product: &str) -> Vec<EdgeInfo> {
        let asserted: Vec<&AssertedEdge> = self.by_older.get(&kb).into_iter().flatten().collect();
        self.merge(self.base.superseded_by(kb, product), &asserted, product)
    }
    fn supersedes(&self, kb: KbId, product: &str) -> Vec<EdgeInfo> {
        let asserted: Vec<&AssertedEdge> = self.by_newer.get(&kb).into_iter().flatten().collect();
        self.merge(self.base.supersedes(kb, product), &asserted, product)
    }
    fn covered_when_installed_by(&self, kb: KbId, product: &str) -> Vec<EdgeInfo> {
        self.base
            .covered_when_installed_by(kb, product)
            .into_iter()
            .map(|e| self.judge(e, product))
            .collect()
    }
    fn fixed_build(&self, kb: KbId, product: &str) -> Option<WinVersion> {
        self.base.fixed_build(kb, product)
    }
    fn release_date(&self, kb: KbId) -> Option<Date> {
        self.base.release_date(kb)
    }
    fn kind(&self, kb: KbId, product: &str) -> Option<UpdateKind> {
        self.base.kind(kb, product)
    }
    fn title(&self, kb: KbId) -> Option<String> {
        self.base.title(kb)
    }
    fn max_severity(&self, kb: KbId, product: &str) -> Option<String> {
        self.base.max_severity(kb, product)
    }
    fn updates_for(&self, product: &str) -> Vec<KbId> {
        self.base.updates_for(product)
    }
    fn companion_products(&self, product: &str) -> Vec<String> {
        self.base.companion_products(product)
    }
    fn restart_required(&self, kb: KbId, product: &str) -> Option<bool> {
        self.base.restart_required(kb, product)
    }
    fn cve_count(&self, kb: KbId) -> Option<usize> {
        self.base.cve_count(kb)
    }
}

/// Where the catalog in use comes from, as reports name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogOrigin {
    /// A catalog file (named by the store's path).
    File,
    /// The catalog compiled into lockstep.
    Bundled,
}

/// A catalog whose store opened but whose content could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("loading the catalog {}: {why}", path.display())]
pub struct CatalogLoadError {
    pub path: std::path::PathBuf,
    /// The catalog's own error, as text: the message names it once (the
    /// binary prints an error's whole chain).
    pub why: String,
}

/// The knowledge a run of `check` or `plan` uses: the known-issues database,
/// the host-protection rules and the catalog when there is one. Built from
/// parts the caller has already opened (the binary decides which catalog,
/// opens it and reads the user's folders).
pub struct Sources {
    pub known: KnownIssues,
    /// Host-protection rules (built in, plus the user's folders).
    pub rules: crate::protection::Rules,
    catalog: Option<Box<dyn Knowledge + Send + Sync>>,
    /// How reports name the catalog in use.
    catalog_path: Option<String>,
    /// The bundled catalog is in use.
    bundled: bool,
    /// The date of the newest data in the catalog in use.
    data_date: Option<Date>,
    /// Why there is no catalog, when there is none.
    missing_reason: Option<String>,
}

impl Sources {
    /// The catalog read from an open `store`, with the built-in rules.
    pub fn from_store(
        store: &lockstep_catalog::Store,
        origin: CatalogOrigin,
        known: KnownIssues,
    ) -> Result<Sources, CatalogLoadError> {
        let cat = lockstep_catalog::Catalog::from_store(store).map_err(|e| CatalogLoadError {
            path: store.path().to_path_buf(),
            why: e.to_string(),
        })?;
        let bundled = origin == CatalogOrigin::Bundled;
        Ok(Sources {
            known,
            rules: crate::protection::Rules::builtin(),
            catalog: Some(Box::new(crate::catalog_view::CatalogView::new(cat))),
            catalog_path: Some(match origin {
                CatalogOrigin::File => store.path().display().to_string(),
                CatalogOrigin::Bundled => lockstep_catalog::bundled::BUNDLED_NAME.to_string(),
            }),
            bundled,
            // A catalog whose documents cannot be dated is used undated.
            data_date: store.data_date().ok().flatten(),
            missing_reason: None,
        })
    }

    /// No catalog, only the known issues and the built-in rules (tests,
    /// `--no-catalog`); `reason` is what the report cannot tell.
    pub fn without_catalog(known: KnownIssues, reason: &str) -> Sources {
        Sources {
            known,
            rules: crate::protection::Rules::builtin(),
            catalog: None,
            catalog_path: None,
            bundled: false,
            data_date: None,
            missing_reason: Some(reason.to_string()),
        }
    }

    /// These host-protection rules instead of the built-in ones.
    pub fn with_rules(mut self, rules: crate::protection::Rules) -> Sources {
        self.rules = rules;
        self
    }

    pub fn knowledge(&self) -> WithKnownIssues<'_, &(dyn Knowledge + Send + Sync)> {
        let base: &(dyn Knowledge + Send + Sync) = match &self.catalog {
            Some(c) => c.as_ref(),
            None => &NoCatalog,
        };
        WithKnownIssues::new(base, &self.known)
    }

    pub fn protection(&self) -> crate::run::ProtectionInputs<'_> {
        crate::run::ProtectionInputs {
            rules: &self.rules,
            known: &self.known,
        }
    }

    pub fn catalog_info(&self) -> crate::run::CatalogInfo {
        self.catalog_info_on(jiff::ZonedDateTime::now().date())
    }

    /// [`Sources::catalog_info`] as of `today` (how old the data is).
    pub fn catalog_info_on(&self, today: Date) -> crate::run::CatalogInfo {
        // Date subtraction spans days (its largest unit).
        let age = self.data_date.map(|d| i64::from((today - d).get_days()));
        let stale = age.filter(|d| *d > lockstep_catalog::bundled::STALE_AFTER_DAYS);
        let date = self
            .data_date
            .map(|d| d.to_string())
            .unwrap_or_else(|| "unknown date".into());
        let notice = match (self.bundled, stale) {
            (true, Some(days)) => Some(format!(
                "bundled catalog of {date} ({days} days old: updates released since are not judged); `lockstep catalog update` for current data"
            )),
            (true, None) => Some(format!(
                "bundled catalog of {date}; `lockstep catalog update` for current data"
            )),
            (false, Some(days)) => Some(format!(
                "the catalog's newest data is of {date}, {days} days old: updates released since are not judged; `lockstep catalog update` for current data"
            )),
            (false, None) => None,
        };
        crate::run::CatalogInfo {
            available: self.catalog.is_some(),
            path: self.catalog_path.clone(),
            limits: self.missing_reason.clone(),
            bundled: self.bundled,
            data_date: self.data_date,
            notice,
        }
    }
}
