//! Report: the check (and, when given, the plan) as text for the terminal,
//! JSON for machines, and one self-contained HTML page for the change ticket.
//!
//! Text and JSON are streamed: the head, then each cluster as the check
//! hands it over (`text::cluster_text`, `json::cluster_json`), then the
//! findings rendered in parallel parts and written in order
//! (`parts::write_parts`), so a fleet's report is never whole in memory.
//! `json::write_json` / `render_json` render a whole report the same way
//! (a test holds them equal to serde's output). HTML is one page and is
//! built whole. Opening the file and renaming it into place atomically is
//! the caller's job. Nothing here decides anything: every word of judgement
//! comes from the check stage.

pub mod history;
pub mod history_html;
pub mod html;
mod html_views;
pub mod json;
pub mod markup;
pub mod metrics;
pub mod parts;
pub mod posture;
pub mod spill;
pub mod text;

pub use history_html::render_history_html;
pub use html::render_html;
pub use json::render_json;
pub use text::TextOptions;
