//! The catalog's schema: one migration per version (see the `store`
//! module documentation for the tables).

pub const SCHEMA_VERSION: i64 = 2;

pub(super) const MIGRATIONS: &[&str] = &[
    // 0 → 1
    r#"
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        source_kind TEXT NOT NULL,
        format TEXT NOT NULL,
        name TEXT NOT NULL,
        title TEXT,
        content_hash TEXT NOT NULL,
        initial_release TEXT,
        current_release TEXT,
        imported_at TEXT NOT NULL,
        UNIQUE (source_kind, name)
    );
    CREATE TABLE products (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE raw_products (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        product_id INTEGER NOT NULL REFERENCES products(id),
        architecture TEXT,
        server_core INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE update_products (
        kb INTEGER NOT NULL,
        raw_product_id INTEGER NOT NULL,
        document_id INTEGER NOT NULL,
        subtype TEXT,
        fixed_build TEXT,
        restart_required TEXT,
        PRIMARY KEY (kb, raw_product_id, document_id)
    ) WITHOUT ROWID;
    CREATE TABLE supersedence (
        newer INTEGER NOT NULL,
        older INTEGER NOT NULL,
        raw_product_id INTEGER NOT NULL,
        document_id INTEGER NOT NULL,
        PRIMARY KEY (newer, older, raw_product_id, document_id)
    ) WITHOUT ROWID;
    CREATE TABLE cves (
        kb INTEGER NOT NULL,
        product_id INTEGER NOT NULL,
        cve TEXT NOT NULL,
        document_id INTEGER NOT NULL,
        severity INTEGER NOT NULL,
        impact TEXT,
        date_posted TEXT,
        PRIMARY KEY (kb, product_id, cve, document_id)
    ) WITHOUT ROWID;
    CREATE TABLE update_documents (
        kb INTEGER NOT NULL,
        document_id INTEGER NOT NULL,
        title TEXT,
        date_estimate TEXT,
        PRIMARY KEY (kb, document_id)
    ) WITHOUT ROWID;
    CREATE TABLE updates (
        kb INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT,
        release_date TEXT,
        release_date_source TEXT,
        max_severity INTEGER NOT NULL DEFAULT 0,
        cves TEXT
    );
    "#,
    // 1 → 2: how each CVRF document lists a KB (release dates, see
    // `derive::dates`), the document a date comes from, why a kind was
    // inferred. CVRF documents imported before lack the listing facts: their
    // content hashes are cleared so that the next import or update reads
    // them again.
    r#"
    ALTER TABLE update_documents ADD COLUMN native INTEGER;
    ALTER TABLE update_documents ADD COLUMN clean INTEGER;
    ALTER TABLE update_documents ADD COLUMN native_date TEXT;
    ALTER TABLE update_documents ADD COLUMN clean_date TEXT;
    ALTER TABLE updates ADD COLUMN release_document TEXT;
    ALTER TABLE updates ADD COLUMN kind_note TEXT;
    UPDATE documents SET content_hash = '' WHERE source_kind = 'cvrf';
    "#,
];
