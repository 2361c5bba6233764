//! The bundled catalog: the repository's MSRC CVRF archive (2016–2026) and
//! WES-NG definitions, imported by `scripts/bundle-catalog.sh` into
//! `crates/catalog/bundled/catalog.sqlite3.zst` and compiled into the
//! binary, so that lockstep's main job works offline out of the box. It is
//! used when no local catalog exists; reports say so, with its date, and
//! warn when it is old (`lockstep catalog update` for current data).

use crate::error::CatalogError;
use crate::store::guard::identify;
use crate::store::{SCHEMA_VERSION, Store};
use rusqlite::{Connection, MAIN_DB};
use std::path::{Path, PathBuf};

static BUNDLED: &[u8] = include_bytes!("../bundled/catalog.sqlite3.zst");

/// How the bundled catalog is named in reports and errors.
pub const BUNDLED_NAME: &str = "bundled catalog";

/// Days after its data date from which a report warns that the catalog
/// is old.
pub const STALE_AFTER_DAYS: i64 = 45;

/// Opens the bundled catalog in memory (read-only; nothing is written to
/// disk).
pub fn open_bundled() -> Result<Store, CatalogError> {
    let path = PathBuf::from(BUNDLED_NAME);
    let bad = |why: String| CatalogError::NotACatalog {
        path: path.clone(),
        why,
    };
    let size = zstd::zstd_safe::get_frame_content_size(BUNDLED)
        .ok()
        .flatten()
        .ok_or_else(|| bad("the compressed data does not state its size".into()))?;
    let decoder = zstd::stream::read::Decoder::new(BUNDLED)
        .map_err(|e| bad(format!("cannot decompress it: {e}")))?;
    let mut conn = Connection::open_in_memory().map_err(CatalogError::sqlite(&path))?;
    conn.deserialize_read_exact(MAIN_DB, decoder, size as usize, true)
        .map_err(CatalogError::sqlite(&path))?;
    match identify(&conn, Path::new(BUNDLED_NAME))? {
        crate::store::guard::Identity::Catalog(v) if v == SCHEMA_VERSION => {}
        other => {
            return Err(bad(format!(
                "it is not a catalog of schema {SCHEMA_VERSION} ({other:?}): run scripts/bundle-catalog.sh and rebuild"
            )));
        }
    }
    Ok(Store::from_connection(conn, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalog_opens_and_is_dated() {
        let store = open_bundled().unwrap();
        // The newest source is WES-NG's definitions of 2026-06-28.
        assert_eq!(
            store.data_date().unwrap(),
            Some(jiff::civil::date(2026, 6, 28))
        );
        let docs = store.documents().unwrap();
        assert_eq!(
            docs.iter()
                .filter(|d| d.kind == crate::SourceKind::Cvrf)
                .count(),
            107
        );
        assert_eq!(
            docs.iter()
                .filter(|d| d.kind == crate::SourceKind::Wesng)
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>(),
            ["CVEs_20260628.csv", "Custom_20190321.csv"]
        );
    }
}
