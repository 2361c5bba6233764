//! `lockstep coverage`: is it safe to leave hypervisor hosts without
//! anti-virus? Outbreak simulation on the admin's own reachability network.
//!
//! The question is the vaccination one: an outbreak is contained without 100%
//! coverage as long as the unprotected hosts do not form a connected path for
//! it; that holds for random gaps on a homogeneous network and fails when the
//! unprotected hosts are hubs. This crate answers it with numbers:
//!
//! * [`network`]: hosts (role, exposure, protection) and directed, weighted
//!   reachability edges; compressed sparse rows for the engine;
//! * [`input`]: hosts and edges from CSV or JSON (errors name file and line),
//!   policy files, hypervisor→guest edges from a lockstep snapshot;
//! * [`generate`]: test topologies (Erdős–Rényi, random k-regular,
//!   Barabási–Albert, a data-centre shape);
//! * [`engine`]: one outbreak, continuous-time SIR (event-driven, like EoN's
//!   `fast_SIR`) or bond percolation;
//! * [`policy`]: which hosts are protected (as-is, full, all except
//!   hypervisors, random, top degree, acquaintance, a list);
//! * [`experiment`]: many seeded runs per policy in parallel, summarised as
//!   P(major outbreak) with a Wilson interval, size given a major outbreak
//!   with a t-interval, and per-role infection probabilities;
//! * [`render`]: the verdict on exempting the hypervisors first, then text,
//!   JSON and a self-contained HTML report with SVG charts (the binary
//!   writes them, through the one writer every `-o` uses);
//! * [`picture`]: an SVG drawing of a small network.

pub mod engine;
pub mod experiment;
pub mod generate;
mod html;
pub mod input;
pub mod network;
pub mod picture;
pub mod policy;
pub mod render;
pub mod stats;

pub use engine::{Engine, Model, Workspace};
pub use experiment::{Config, Report, Start, run_experiment, run_experiment_with};
pub use network::{Csr, Edge, Host, Network, Role};
pub use policy::{Policy, PolicySpec};
