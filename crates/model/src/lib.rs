//! Typed data that flows between lockstep's pipeline stages.
//!
//! ```text
//!  collect ──► ingest ──► catalog ──► check ──► plan ──► report
//! ```
//!
//! Every stage depends on this crate and on the stages before it, never on the
//! ones after it. The types here are deliberately plain: a [`Node`] is what an
//! inventory says about one Windows host, each fact carrying the
//! [`SourceRef`] (file and line) it came from so that a finding can always show
//! its evidence.
//!
//! * [`kb`] — KB numbers (`KB5033118`), parsed strictly.
//! * [`version`] — four-part Windows versions (`10.0.20348.2159`) and ranges;
//!   semver does not fit them.
//! * [`inventory`] — nodes, clusters, installed updates.
//! * [`protection`] — Defender settings and status, file-system filters, CSV
//!   redirection state, installed products.
//! * [`snapshot`] — the lockstep snapshot JSON (schema v1) written by the
//!   collector script.

pub mod inventory;
pub mod kb;
pub mod protection;
pub mod quote;
pub mod snapshot;
pub mod source;
pub mod version;

pub use inventory::{
    Cluster, ClusterState, HostMemory, InstalledUpdate, Inventory, Node, NodeState, OsInfo,
    OtherEntry, PendingReboot, Sourced, VirtualMachine,
};
pub use kb::{KbId, KbMap, KbSet};
pub use source::SourceRef;
pub use version::{VersionRange, WinVersion};
