//! Check: verdicts an admin can act on.
//!
//! * [`drift`] — the nodes × updates matrix of a cluster, every difference
//!   classified (missing, covered, suspect, not applicable, unknown), and
//!   whether cluster validation will warn.
//! * [`posture`] — per node, the security updates missing against the
//!   catalog for its exact product, as chain heads, optionally as of a date.
//! * [`health`] — failed installs, pending reboots and offline groups the
//!   inventory holds.
//! * [`missing`] — what check reports missing per node, the list
//!   `plan --target secure` installs.
//! * [`knowledge`] — the one interface through which both see the catalog
//!   and the known-issues database.
//!
//! Every verdict becomes a [`Finding`] with a stable kebab-case code, a
//! severity, the nodes, the evidence (file and line of each fact) and the fix.

pub mod catalog_view;
pub mod codes;
pub mod drift;
pub mod finding;
pub mod health;
pub mod inbox;
pub mod knowledge;
pub mod lifecycle;
pub mod missing;
pub mod node_product;
pub mod posture;
pub mod posture_findings;
pub mod protection;
pub mod run;
pub mod sources;

pub use codes::FindingCode;
pub use finding::{Evidence, EvidenceSource, Finding, Fix, Item, ItemKind, Severity};
