//! Catalog: which updates exist for which product and what supersedes what.
//!
//! ```text
//!  CVRF XML/JSON ─┐
//!  WES-NG CSV/zip ┼─► ImportBatch ─► Store (SQLite, per-document provenance) ─► Catalog (in memory)
//!  MSRC API ──────┘
//! ```
//!
//! * [`import`] reads source files (format detected by content) into
//!   [`batch::ImportBatch`]es; [`cvrf`], [`cvrf_json`] and [`wesng`] are the
//!   parsers.
//! * [`store`] is the SQLite store with versioned migrations and atomic imports.
//! * [`catalog`] is the in-memory view the check stage queries
//!   ([`Catalog::product_for_os`], [`Catalog::supersedes`], ...).
//! * [`product`] normalises raw product names into servicing products;
//!   [`kind`] infers what kind of update a KB is.
//! * [`query`] builds the `show`, `stats` and `anomalies` reports.
//! * [`download`] fetches MSRC documents (`lockstep catalog update`).
//! * [`known_issues`] is the known-issues database.

pub mod batch;
pub mod bundled;
pub mod catalog;
pub mod cvrf;
pub mod cvrf_json;
pub mod derive;
#[cfg(feature = "download")]
pub mod download;
pub mod error;
pub mod import;
pub mod kind;
pub mod known_issues;
pub mod limits;
pub mod models;
pub mod product;
pub mod query;
pub mod store;
pub mod wesng;

pub use batch::{Severity, SourceFormat, SourceKind};
pub use catalog::{
    Catalog, CveRef, Edge, ProductId, Provenance, ReleaseDateSource, Update, UpdateProduct,
    data_dir,
};
pub use error::CatalogError;
pub use kind::UpdateKind;
pub use product::{Architecture, normalize_product};
pub use store::{ImportSession, ImportStatus, Store};
