use std::path::PathBuf;

/// A parse failure inside one document: where (byte offset, and line when the
/// parser knows it) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: u64,
    pub line: Option<u64>,
    pub message: String,
}

impl ParseError {
    pub fn at(offset: u64, message: impl Into<String>) -> Self {
        Self {
            offset,
            line: None,
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A document that could not be parsed; `file` is a path or a URL.
    #[error("{file}:{line}: {message}")]
    Parse {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("catalog database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "no catalog at {0}: import data first with `lockstep catalog import FILE...` or `lockstep catalog update`"
    )]
    NotFound(PathBuf),
    #[error(
        "catalog database {path} has schema version {found}; this lockstep understands up to {supported}"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{file}: {message}")]
    Unsupported { file: String, message: String },
    #[error("{0}")]
    Download(String),
    /// Another import holds the catalog's lock.
    #[error(
        "another lockstep import is writing this catalog (it holds the lock on {0}); wait for it to finish"
    )]
    Busy(PathBuf),
    /// A file that is not lockstep's catalog: lockstep neither reads nor
    /// changes it.
    #[error(
        "{path} is not a lockstep catalog ({why}); lockstep leaves it as it is. Give --catalog a lockstep catalog, or a new file for `lockstep catalog import|update`"
    )]
    NotACatalog { path: PathBuf, why: String },
}

impl CatalogError {
    pub fn sqlite(path: &std::path::Path) -> impl FnOnce(rusqlite::Error) -> CatalogError + '_ {
        move |source| CatalogError::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }
}
