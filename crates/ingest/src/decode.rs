//! Bytes to text. (Filled in by the ingest work.)
