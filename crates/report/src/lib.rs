//! Report: the check (and, when given, the plan) as text for the terminal,
//! JSON for machines, and one self-contained HTML page for the change ticket.
//!
//! Text and JSON stream to any `io::Write` (`write_text`, `write_json`),
//! rendering clusters and findings in parallel chunks, so a fleet's report
//! is never whole in memory; `render_*` return a `String` for tests and
//! small reports. HTML is one page and is built whole. Opening the file
//! and renaming it into place atomically is the caller's job. Nothing here decides anything: every
//! word of judgement comes from the check stage.

pub mod html;
pub mod json;
pub mod parts;
pub mod text;

pub use html::render_html;
pub use json::render_json;
pub use text::{TextOptions, render_text};
