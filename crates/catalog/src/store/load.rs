//! Reading the store back: the rows the in-memory catalog loads, and the
//! listings of `catalog show` and `catalog stats`.

use super::Store;
use crate::error::CatalogError;
use lockstep_model::KbId;

/// Rows of the store, as the in-memory catalog loads them (tuples in column order).
#[allow(clippy::type_complexity)]
pub(crate) struct Loaded {
    pub products: Vec<(i64, String)>,
    pub raw_products: Vec<(i64, i64, Option<String>)>,
    pub documents: Vec<(i64, String, String)>,
    pub updates: Vec<LoadedUpdate>,
    pub update_products: Vec<LoadedFix>,
    /// Distinct SubType / RestartRequired words, indexed by `LoadedFix`.
    pub words: Vec<String>,
    pub edges: Vec<(u32, u32, i64, i64)>,
}

/// One `update_products` row; `subtype`/`restart` index `Loaded::words`.
pub(crate) struct LoadedFix {
    pub kb: u32,
    pub raw_product: i64,
    pub document: i64,
    pub subtype: Option<u32>,
    pub fixed_build: Option<lockstep_model::WinVersion>,
    pub restart: Option<u32>,
}

pub(crate) struct LoadedUpdate {
    pub kb: u32,
    pub kind: String,
    pub kind_note: Option<String>,
    pub title: Option<String>,
    pub release_date: Option<String>,
    pub release_date_source: Option<String>,
    pub release_document: Option<String>,
    pub max_severity: i64,
    pub cves: Option<String>,
}

impl Store {
    pub(crate) fn load(&self) -> Result<Loaded, CatalogError> {
        let c = &self.conn;
        let e = || CatalogError::sqlite(&self.path);
        // update_products is the largest table: read it without allocating a
        // string per row (SubType and RestartRequired take a handful of values).
        let mut words = crate::batch::Interner::default();
        let mut update_products = Vec::new();
        {
            let mut stmt = c
                .prepare(
                    "SELECT kb, raw_product_id, document_id, subtype, fixed_build, restart_required FROM update_products",
                )
                .map_err(e())?;
            let mut rows = stmt.query([]).map_err(e())?;
            while let Some(r) = rows.next().map_err(e())? {
                let text = |i: usize| -> Result<Option<&str>, CatalogError> {
                    let v = r.get_ref(i).map_err(e())?;
                    Ok(v.as_str_or_null().ok().flatten())
                };
                let subtype = text(3)?.map(|w| words.intern(w));
                let fixed_build = text(4)?.and_then(|b| b.parse().ok());
                let restart = text(5)?.map(|w| words.intern(w));
                update_products.push(LoadedFix {
                    kb: r.get(0).map_err(e())?,
                    raw_product: r.get(1).map_err(e())?,
                    document: r.get(2).map_err(e())?,
                    subtype,
                    fixed_build,
                    restart,
                });
            }
        }
        Ok(Loaded {
            products: self.rows("SELECT id, name FROM products ORDER BY id", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?,
            raw_products: self.rows(
                "SELECT id, product_id, architecture FROM raw_products",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?,
            documents: self.rows("SELECT id, source_kind, name FROM documents", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?,
            updates: self.rows(
                "SELECT kb, kind, title, release_date, release_date_source, max_severity, cves, release_document, kind_note FROM updates",
                [],
                |r| {
                    Ok(LoadedUpdate {
                        kb: r.get(0)?,
                        kind: r.get(1)?,
                        title: r.get(2)?,
                        release_date: r.get(3)?,
                        release_date_source: r.get(4)?,
                        max_severity: r.get(5)?,
                        cves: r.get(6)?,
                        release_document: r.get(7)?,
                        kind_note: r.get(8)?,
                    })
                },
            )?,
            update_products,
            words: words.names,
            edges: self.rows(
                "SELECT newer, older, raw_product_id, document_id FROM supersedence",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?,
        })
    }

    /// Per-product CVE rows of one KB (for `catalog show`).
    #[allow(clippy::type_complexity)]
    pub fn cves_of(
        &self,
        kb: KbId,
    ) -> Result<Vec<(String, String, i64, Option<String>, String)>, CatalogError> {
        self.rows(
            "SELECT c.cve, p.name, c.severity, c.impact, d.source_kind || ':' || d.name
             FROM cves c JOIN products p ON p.id = c.product_id JOIN documents d ON d.id = c.document_id
             WHERE c.kb = ?1 ORDER BY c.cve, p.name",
            [kb.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
    }

    /// Row counts per table (for `catalog stats` and tests).
    pub fn table_counts(&self) -> Result<Vec<(&'static str, i64)>, CatalogError> {
        let mut out = Vec::new();
        for t in [
            "documents",
            "products",
            "raw_products",
            "updates",
            "update_products",
            "supersedence",
            "cves",
            "update_documents",
        ] {
            let n: i64 = self
                .conn
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .map_err(CatalogError::sqlite(&self.path))?;
            out.push((t, n));
        }
        Ok(out)
    }
}
