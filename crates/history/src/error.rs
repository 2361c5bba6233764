//! What can go wrong with a history store, worded for the admin.

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file or database belongs to something else: it is left untouched.
    #[error(
        "{target} is not a lockstep history ({detail}); it was not modified. Give --history a new file or an empty database"
    )]
    Foreign { target: String, detail: String },
    #[error(
        "{target} has history schema version {found}, newer than this lockstep knows ({supported}); it was not modified. Upgrade lockstep"
    )]
    SchemaTooNew {
        target: String,
        found: i64,
        supported: i64,
    },
    #[error("no history at {0}: record one with `lockstep check --record` or `lockstep record`")]
    NotFound(String),
    #[error("the history {target}: {message}")]
    Sqlite { target: String, message: String },
    #[error("the PostgreSQL history {target}: {message}")]
    Postgres { target: String, message: String },
    /// Stored data this lockstep cannot read (a blob it did not write).
    #[error("the history {target} holds data this lockstep cannot read: {detail}")]
    Corrupt { target: String, detail: String },
    #[error("{0}")]
    Input(String),
}

impl HistoryError {
    pub(crate) fn sqlite(target: &str) -> impl Fn(rusqlite::Error) -> HistoryError + '_ {
        move |e| HistoryError::Sqlite {
            target: target.to_string(),
            message: e.to_string(),
        }
    }

    pub(crate) fn postgres(target: &str) -> impl Fn(postgres::Error) -> HistoryError + '_ {
        move |e| HistoryError::Postgres {
            target: target.to_string(),
            message: postgres_message(&e),
        }
    }
}

/// The server's own words when there are some (`relation … does not
/// exist`), else the client's (`connection refused`), with the cause.
pub(crate) fn postgres_message(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{} ({})", db.message(), db.code().code());
        if let Some(d) = db.detail() {
            s.push_str(": ");
            s.push_str(d);
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}
