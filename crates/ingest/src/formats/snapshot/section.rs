//! A section of the snapshot as the collector wrote it: its data when it
//! is `ok`, otherwise the status and message to record instead.

use lockstep_model::protection::SectionStatus;
use lockstep_model::snapshot::{self as snap, Status};

pub(super) fn status(s: Status) -> SectionStatus {
    match s {
        Status::Ok => SectionStatus::Ok,
        Status::AccessDenied => SectionStatus::AccessDenied,
        Status::NotAvailable => SectionStatus::NotAvailable,
        Status::Error => SectionStatus::Error,
    }
}

/// The data of an `ok` section, or the status and message to record instead.
pub(super) fn read<T>(s: &snap::Section<T>) -> Result<&T, (SectionStatus, Option<String>)> {
    match (s.status, s.data.as_ref()) {
        (Status::Ok, Some(d)) => Ok(d),
        (Status::Ok, None) => Err((
            SectionStatus::Error,
            Some("the section is marked ok but carries no data".into()),
        )),
        (other, _) => Err((status(other), s.message.clone())),
    }
}
