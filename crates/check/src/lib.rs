//! Check: verdicts an admin can act on.
//!
//! Every verdict is a [`Finding`] with a stable kebab-case code, a severity,
//! the nodes, the evidence (file and line of each fact) and the fix.

pub mod finding;

pub use finding::{Evidence, Finding, Fix, Severity};
