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
//! * [`capabilities`] — what each Windows Server release supports (cmdlets,
//!   parameters, modules), one table for every emitter and check's advice.
//! * [`snapshot`] — the lockstep snapshot JSON (schema v1) written by the
//!   collector script.
//! * [`quote`], [`term`], [`input_file`] — the safety rules every stage
//!   shares: quoting for shells, text safe for terminals, bounded reading of
//!   input files.

pub mod capabilities;
pub mod input_file;
pub mod inventory;
pub mod kb;
pub mod progress;
pub mod protection;
pub mod quote;
pub mod snapshot;
pub mod source;
pub mod term;
pub mod units;
pub mod version;
pub mod windows;

pub use inventory::{
    Cluster, ClusterState, CollectedAt, CollectedBasis, FailedInstall, HostMemory, InstalledUpdate,
    Inventory, Node, NodeState, OsInfo, OtherEntry, PendingReboot, Sourced, VirtualMachine,
};
pub use kb::{HOTFIX_KB_DIGITS, HotfixId, KbId, KbMap, KbSet};
pub use source::SourceRef;
pub use version::{VersionRange, WinVersion};

/// Dates serialised as `YYYY-MM-DD` without the formatting machinery (a
/// fleet's report writes over a million of them); the same text as jiff's
/// own `Serialize`, which other years fall back to.
pub mod date_serde {
    use jiff::civil::Date;
    use serde::Serializer;

    pub fn option<S: Serializer>(date: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match date {
            None => s.serialize_none(),
            Some(d) => one(d, s),
        }
    }

    pub fn one<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        let (y, m, day) = (d.year(), d.month(), d.day());
        if !(0..=9999).contains(&y) {
            return s.collect_str(d);
        }
        let mut b = *b"0000-00-00";
        let y = y as u16;
        b[0] += (y / 1000) as u8;
        b[1] += (y / 100 % 10) as u8;
        b[2] += (y / 10 % 10) as u8;
        b[3] += (y % 10) as u8;
        b[5] += (m / 10) as u8;
        b[6] += (m % 10) as u8;
        b[8] += (day / 10) as u8;
        b[9] += (day % 10) as u8;
        // Only ASCII digits and dashes were written.
        s.serialize_str(std::str::from_utf8(&b).unwrap_or("0000-00-00"))
    }

    #[cfg(test)]
    mod tests {
        use jiff::civil::date;

        #[derive(serde::Serialize)]
        struct D(#[serde(serialize_with = "super::option")] Option<jiff::civil::Date>);

        #[test]
        fn same_text_as_jiff() {
            for d in [
                date(2011, 9, 7),
                date(2026, 11, 27),
                date(1, 1, 1),
                date(9999, 12, 31),
                date(-5, 3, 4),
            ] {
                assert_eq!(
                    serde_json::to_string(&D(Some(d))).unwrap(),
                    serde_json::to_string(&d).unwrap()
                );
            }
            assert_eq!(serde_json::to_string(&D(None)).unwrap(), "null");
        }
    }
}
