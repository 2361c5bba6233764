//! Report: the check (and, when given, the plan) as text for the terminal,
//! JSON for machines, and one self-contained HTML page for the change ticket.
//!
//! Renderers take the typed report and return a `String`; writing files
//! (atomically) is the caller's job. Nothing here decides anything: every
//! word of judgement comes from the check stage.

pub mod html;
pub mod json;
pub mod text;

pub use html::render_html;
pub use json::render_json;
pub use text::{TextOptions, render_text};
