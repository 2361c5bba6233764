//! Ingest: every Windows inventory format lockstep reads, into one model.
//!
//! A file goes through three steps:
//!
//! 1. [`decode`] turns its bytes into text: BOM sniffing (UTF-8, UTF-16LE/BE),
//!    UTF-16 without a BOM from the byte pattern, legacy code pages (GBK,
//!    CP1251, CP1252, CP866, ...) by detection. Windows PowerShell 5.1's `>`
//!    writes UTF-16LE, `cmd`'s `>` writes the console code page.
//! 2. [`formats`] picks the parser by content, never by file name: each format
//!    has a cheap `detect` and a `parse`; the first that claims the text wins.
//! 3. [`load`] merges what the parsers found into nodes and clusters: a
//!    directory is one cluster named after it; a file's node is the one its
//!    content names (`Host Name`, `CSName`, `PSComputerName`, `Node`), else the
//!    file name up to its first dot; a subdirectory per node works too.
//!
//! Parsers never panic. A file that cannot be read yields an [`IngestError`]
//! naming the file, the line and what was expected; loading goes on with the
//! other inputs and the caller decides the exit code.

mod consistency;
pub mod decode;
pub mod error;
pub mod formats;
pub mod hotfix_id;
mod inputs;
mod large;
pub mod load;
pub mod manifest;
mod merge;
mod outcome;
mod read;
mod sink;
pub mod stream;
mod updates;
pub mod util;
mod walk;

pub use error::{IngestError, IngestWarning};
pub use formats::{FileContent, Format, NodeFacts, Text};
pub use load::{LoadOptions, LoadOutcome, load_paths, load_paths_with};
pub use stream::{Hold, Streamed, stream_paths_with};
