//! [`Knowledge`] over the imported catalog (MSRC CVRF, WES-NG).
//!
//! Besides translating names, this is where "the sources disagree" is
//! decided: an edge asserted by one source kind is *disputed* when another
//! source kind lists both updates for the same product yet has no such edge.

use crate::knowledge::{EdgeInfo, Knowledge, UpdateKind};
use jiff::civil::Date;
use lockstep_catalog::catalog::{Edge, ProductId};
use lockstep_catalog::{Catalog, Severity, SourceKind};
use lockstep_model::{KbId, OsInfo, WinVersion};
use std::collections::BTreeSet;

pub struct CatalogView {
    catalog: Catalog,
}

impl CatalogView {
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn product(&self, name: &str) -> Option<ProductId> {
        self.catalog.product_by_name(name)
    }

    /// Source kinds that list `kb` for `product`.
    fn kinds_listing(&self, kb: KbId, product: ProductId) -> BTreeSet<SourceKind> {
        self.catalog
            .update(kb)
            .and_then(|u| u.product(product))
            .map(|p| p.sources.iter().map(|s| s.kind).collect())
            .unwrap_or_default()
    }

    fn edge_info(&self, e: &Edge) -> EdgeInfo {
        // A servicing model's edge is derived, not asserted by a source: it
        // is not disputed by a source's silence (MSRC's chains break where
        // the model bridges them).
        let asserted: BTreeSet<SourceKind> = e
            .sources
            .iter()
            .map(|s| s.kind)
            .filter(|k| *k != SourceKind::Model)
            .collect();
        let both =
            &self.kinds_listing(e.newer, e.product) & &self.kinds_listing(e.older, e.product);
        let silent: Vec<&SourceKind> = both.difference(&asserted).collect();
        let disputed = (!asserted.is_empty() && !silent.is_empty()).then(|| {
            format!(
                "{} → {} is given by {} but not by {}, which lists both updates for {}",
                e.newer,
                e.older,
                asserted
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                silent
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                self.catalog.product_name(e.product)
            )
        });
        EdgeInfo {
            newer: e.newer,
            older: e.older,
            sources: e.sources.iter().map(|s| s.to_string()).collect(),
            verdict: None,
            disputed,
        }
    }
}

impl Knowledge for CatalogView {
    fn has_catalog(&self) -> bool {
        true
    }
    fn product_of(&self, os: &OsInfo) -> Option<String> {
        // The servicing name even when the catalog lacks the product: the
        // known-issues database may still know it.
        crate::node_product::product_of_os(os)
    }
    fn kb_known(&self, kb: KbId) -> bool {
        self.catalog.update(kb).is_some()
    }
    fn published_for(&self, kb: KbId, product: &str) -> bool {
        self.product(product)
            .is_some_and(|p| self.catalog.is_published_for(kb, p))
    }
    fn superseded_by(&self, kb: KbId, product: &str) -> Vec<EdgeInfo> {
        let Some(p) = self.product(product) else {
            return Vec::new();
        };
        self.catalog
            .superseded_by(p, kb)
            .iter()
            .map(|e| self.edge_info(e))
            .collect()
    }
    fn supersedes(&self, kb: KbId, product: &str) -> Vec<EdgeInfo> {
        let Some(p) = self.product(product) else {
            return Vec::new();
        };
        self.catalog
            .supersedes(p, kb)
            .iter()
            .map(|e| self.edge_info(e))
            .collect()
    }
    fn covered_when_installed_by(&self, kb: KbId, product: &str) -> Vec<EdgeInfo> {
        let Some(p) = self.product(product) else {
            return Vec::new();
        };
        self.catalog
            .covered_when_installed_by(p, kb)
            .iter()
            .map(|e| self.edge_info(e))
            .collect()
    }
    fn fixed_build(&self, kb: KbId, product: &str) -> Option<WinVersion> {
        let p = self.product(product)?;
        self.catalog.update(kb)?.product(p)?.fixed_build
    }
    fn release_date(&self, kb: KbId) -> Option<Date> {
        self.catalog.release_date(kb)
    }
    fn kind(&self, kb: KbId, _product: &str) -> Option<UpdateKind> {
        self.catalog.update(kb).map(|u| u.kind)
    }
    fn title(&self, kb: KbId) -> Option<String> {
        self.catalog.update(kb).and_then(|u| u.title.clone())
    }
    fn max_severity(&self, kb: KbId, _product: &str) -> Option<String> {
        self.catalog
            .update(kb)
            .map(|u| u.max_severity)
            .filter(|s| *s != Severity::Unknown)
            .map(|s| s.as_str().to_string())
    }
    fn updates_for(&self, product: &str) -> Vec<KbId> {
        match self.product(product) {
            Some(p) => self.catalog.updates_for(p).collect(),
            None => Vec::new(),
        }
    }
    fn companion_products(&self, product: &str) -> Vec<String> {
        let suffix = format!(" on {product}");
        let suffix_lower = suffix.to_ascii_lowercase();
        let mut out: Vec<String> = self
            .catalog
            .products()
            .map(|(_, name)| name)
            .filter(|name| name.to_ascii_lowercase().ends_with(&suffix_lower))
            .map(str::to_string)
            .collect();
        out.sort();
        out
    }
    fn cve_count(&self, kb: KbId) -> Option<usize> {
        self.catalog.update(kb).map(|u| u.cves.len())
    }
    fn restart_required(&self, kb: KbId, product: &str) -> Option<bool> {
        let p = self.product(product)?;
        let word = self
            .catalog
            .update(kb)?
            .product(p)?
            .restart_required
            .clone()?;
        match word.trim().to_ascii_lowercase().as_str() {
            "yes" | "maybe" => Some(true),
            "no" => Some(false),
            _ => None,
        }
    }
}
