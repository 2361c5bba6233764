//! Writing one document's facts into the store.

use super::{ImportStatus, Store};
use crate::batch::{ImportBatch, SourceKind};
use crate::error::CatalogError;
use crate::product::normalize_product;
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;

impl Store {
    /// Writes one document's facts (the caller holds the transaction).
    pub(super) fn write_batch(
        &mut self,
        batch: &ImportBatch,
    ) -> Result<ImportStatus, CatalogError> {
        let path = self.path.clone();
        let kind = batch.format.kind();
        let existing: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT id, content_hash FROM documents WHERE source_kind = ?1 AND name = ?2",
                params![kind.as_str(), batch.name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(CatalogError::sqlite(&path))?;
        let status = match &existing {
            Some((_, hash)) if *hash == batch.content_hash => return Ok(ImportStatus::Unchanged),
            Some(_) => ImportStatus::Replaced,
            None => ImportStatus::Imported,
        };
        let doc_id = self.write_document(batch, existing.map(|(id, _)| id))?;
        let (raw_ids, servicing_ids) = self.product_ids(batch)?;
        self.write_fixes(batch, doc_id, &raw_ids)?;
        self.write_edges(batch, doc_id, &raw_ids)?;
        self.write_cves(batch, doc_id, &servicing_ids)?;
        self.write_kbs(batch, doc_id)?;
        Ok(status)
    }

    /// The document's row (a replaced document's facts deleted): its id.
    fn write_document(
        &self,
        batch: &ImportBatch,
        existing: Option<i64>,
    ) -> Result<i64, CatalogError> {
        let path = &self.path;
        let kind = batch.format.kind();
        let c = &self.conn;
        let now = jiff::Timestamp::now().to_string();
        let initial = batch.initial_release.map(|d| d.to_string());
        let doc_id: i64 = match existing {
            Some(id) => {
                for table in [
                    "update_products",
                    "supersedence",
                    "cves",
                    "update_documents",
                ] {
                    c.execute(&format!("DELETE FROM {table} WHERE document_id = ?1"), [id])
                        .map_err(CatalogError::sqlite(path))?;
                }
                c.execute(
                    "UPDATE documents SET format = ?2, title = ?3, content_hash = ?4, initial_release = ?5,
                     current_release = ?6, imported_at = ?7 WHERE id = ?1",
                    params![
                        id,
                        batch.format.as_str(),
                        batch.title,
                        batch.content_hash,
                        initial,
                        batch.current_release,
                        now
                    ],
                )
                .map_err(CatalogError::sqlite(path))?;
                id
            }
            None => {
                c.execute(
                    "INSERT INTO documents (source_kind, format, name, title, content_hash, initial_release, current_release, imported_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        kind.as_str(),
                        batch.format.as_str(),
                        batch.name,
                        batch.title,
                        batch.content_hash,
                        initial,
                        batch.current_release,
                        now
                    ],
                )
                .map_err(CatalogError::sqlite(path))?;
                c.last_insert_rowid()
            }
        };
        Ok(doc_id)
    }

    /// The store's ids of the batch's raw products and of their servicing
    /// products, by the batch's product index (created as needed).
    fn product_ids(&self, batch: &ImportBatch) -> Result<(Vec<i64>, Vec<i64>), CatalogError> {
        let path = &self.path;
        let c = &self.conn;
        let mut raw_ids: Vec<i64> = Vec::with_capacity(batch.products.len());
        let mut servicing_ids: Vec<i64> = Vec::with_capacity(batch.products.len());
        {
            let mut find_raw = c
                .prepare_cached("SELECT id, product_id FROM raw_products WHERE name = ?1")
                .map_err(CatalogError::sqlite(path))?;
            let mut find_product = c
                .prepare_cached("SELECT id FROM products WHERE name = ?1")
                .map_err(CatalogError::sqlite(path))?;
            let mut insert_product = c
                .prepare_cached("INSERT INTO products (name) VALUES (?1)")
                .map_err(CatalogError::sqlite(path))?;
            let mut insert_raw = c
                .prepare_cached(
                    "INSERT INTO raw_products (name, product_id, architecture, server_core) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(CatalogError::sqlite(path))?;
            for raw in &batch.products.names {
                let id: Option<(i64, i64)> = find_raw
                    .query_row([raw], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(CatalogError::sqlite(path))?;
                let (id, pid) = match id {
                    Some(ids) => ids,
                    None => {
                        let n = normalize_product(raw);
                        let pid: Option<i64> = find_product
                            .query_row([&n.servicing_name], |r| r.get(0))
                            .optional()
                            .map_err(CatalogError::sqlite(path))?;
                        let pid = match pid {
                            Some(p) => p,
                            None => {
                                insert_product
                                    .execute([&n.servicing_name])
                                    .map_err(CatalogError::sqlite(path))?;
                                c.last_insert_rowid()
                            }
                        };
                        insert_raw
                            .execute(params![
                                raw,
                                pid,
                                n.architecture.map(|a| a.as_str()),
                                n.server_core
                            ])
                            .map_err(CatalogError::sqlite(path))?;
                        (c.last_insert_rowid(), pid)
                    }
                };
                raw_ids.push(id);
                servicing_ids.push(pid);
            }
        }
        Ok((raw_ids, servicing_ids))
    }

    // Rows are sorted in primary-key order so the B-trees are appended to,
    // not split.

    fn write_fixes(
        &self,
        batch: &ImportBatch,
        doc_id: i64,
        raw_ids: &[i64],
    ) -> Result<(), CatalogError> {
        let path = &self.path;
        let c = &self.conn;
        let raw = |i: u32| raw_ids.get(i as usize).copied().unwrap_or(0);
        {
            let mut stmt = c
                .prepare_cached(
                    "INSERT INTO update_products (kb, raw_product_id, document_id, subtype, fixed_build, restart_required)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(CatalogError::sqlite(path))?;
            let mut rows: Vec<_> = batch
                .fixes
                .iter()
                .map(|((kb, p), f)| (kb.0, raw(*p), f))
                .collect();
            rows.sort_unstable_by_key(|(kb, p, _)| (*kb, *p));
            for (kb, p, f) in rows {
                stmt.execute(params![
                    kb,
                    p,
                    doc_id,
                    f.subtype,
                    f.fixed_build.map(|v| v.to_string()),
                    f.restart_required
                ])
                .map_err(CatalogError::sqlite(path))?;
            }
        }
        Ok(())
    }

    fn write_edges(
        &self,
        batch: &ImportBatch,
        doc_id: i64,
        raw_ids: &[i64],
    ) -> Result<(), CatalogError> {
        let path = &self.path;
        let c = &self.conn;
        let raw = |i: u32| raw_ids.get(i as usize).copied().unwrap_or(0);
        {
            let mut stmt = c
                .prepare_cached(
                    "INSERT INTO supersedence (newer, older, raw_product_id, document_id) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(CatalogError::sqlite(path))?;
            let mut rows: Vec<_> = batch
                .edges
                .keys()
                .map(|(n, o, p)| (n.0, o.0, raw(*p)))
                .collect();
            rows.sort_unstable();
            for (n, o, p) in rows {
                stmt.execute(params![n, o, p, doc_id])
                    .map_err(CatalogError::sqlite(path))?;
            }
        }
        Ok(())
    }

    /// CVE rows per servicing product: the worst severity of its raw
    /// names, the first impact, the earliest date.
    fn write_cves(
        &self,
        batch: &ImportBatch,
        doc_id: i64,
        servicing_ids: &[i64],
    ) -> Result<(), CatalogError> {
        let path = &self.path;
        let c = &self.conn;
        {
            let mut stmt = c
                .prepare_cached(
                    "INSERT INTO cves (kb, product_id, cve, document_id, severity, impact, date_posted)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(CatalogError::sqlite(path))?;
            let servicing = |i: u32| servicing_ids.get(i as usize).copied().unwrap_or(0);
            let mut merged: crate::batch::HashMap<(u32, i64, u32), crate::batch::CveFacts> =
                crate::batch::HashMap::default();
            for ((kb, p, cve), f) in &batch.cves {
                let e = merged
                    .entry((kb.0, servicing(*p), *cve))
                    .or_insert_with(|| f.clone());
                e.severity = e.severity.max(f.severity);
                if e.impact.is_none() {
                    e.impact = f.impact.clone();
                }
                e.date_posted = match (e.date_posted, f.date_posted) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            let mut rows: Vec<_> = merged
                .iter()
                .map(|((kb, p, cve), f)| (*kb, *p, batch.cve_ids.get(*cve), f))
                .collect();
            rows.sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
            let mut date_text: HashMap<jiff::civil::Date, String> = HashMap::new();
            for (kb, p, cve, f) in rows {
                let date = f
                    .date_posted
                    .map(|d| date_text.entry(d).or_insert_with(|| d.to_string()).as_str());
                stmt.execute(params![
                    kb,
                    p,
                    cve,
                    doc_id,
                    f.severity as i64,
                    f.impact,
                    date
                ])
                .map_err(CatalogError::sqlite(path))?;
            }
        }
        Ok(())
    }

    /// The KBs the document lists, with how a CVRF document lists them.
    fn write_kbs(&self, batch: &ImportBatch, doc_id: i64) -> Result<(), CatalogError> {
        let path = &self.path;
        let c = &self.conn;
        let kind = batch.format.kind();
        {
            let mut stmt = c
                .prepare_cached(
                    "INSERT INTO update_documents (kb, document_id, title, date_estimate, native, clean, native_date, clean_date)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(CatalogError::sqlite(path))?;
            let mut rows: Vec<_> = batch.kbs.iter().collect();
            rows.sort_unstable_by_key(|(kb, _)| **kb);
            for (kb, f) in rows {
                let listing = match (kind, batch.initial_release) {
                    (SourceKind::Cvrf, Some(released)) => Some(f.listing(released)),
                    _ => None,
                };
                stmt.execute(params![
                    kb.0,
                    doc_id,
                    f.title,
                    f.date_mode().map(|d| d.to_string()),
                    listing.map(|l| l.native),
                    listing.map(|l| l.clean),
                    listing.and_then(|l| l.native_date).map(|d| d.to_string()),
                    listing.and_then(|l| l.clean_date).map(|d| d.to_string()),
                ])
                .map_err(CatalogError::sqlite(path))?;
            }
        }
        Ok(())
    }
}
