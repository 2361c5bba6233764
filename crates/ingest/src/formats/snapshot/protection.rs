//! Host protection: Defender settings and status, filter drivers, installed
//! products.

use super::locator::{Cursor, Span};
use super::section::read;
use crate::IngestError;
use crate::formats::{Text, fltmc};
use lockstep_model::protection::{
    DefenderPreferences, DefenderStatus, ExclusionList, InstalledProduct, NodeProtection, Section,
    SectionStatus,
};
use lockstep_model::snapshot::{self as snap, ListOrText};
use lockstep_model::{SourceRef, WinVersion};

/// An exclusion list as Defender gave it. `null` under an `ok` section means
/// none is set (`Get-MpPreference` returns `$null`, not an empty array).
pub(super) fn exclusions(v: &Option<ListOrText>) -> ExclusionList {
    let redacted = |s: &str| {
        s.trim()
            .trim_start_matches('{')
            .trim_start()
            .starts_with("N/A")
    };
    match v {
        None => ExclusionList::Items(Vec::new()),
        Some(ListOrText::List(items)) => {
            if items.iter().any(|i| redacted(i)) {
                ExclusionList::Redacted(format!("{{{}}}", items.join(", ")))
            } else {
                ExclusionList::Items(items.clone())
            }
        }
        Some(ListOrText::Text(t)) if redacted(t) => ExclusionList::Redacted(t.clone()),
        // One exclusion that lost its array on the way.
        Some(ListOrText::Text(t)) if t.trim().is_empty() => ExclusionList::Items(Vec::new()),
        Some(ListOrText::Text(t)) => ExclusionList::Items(vec![t.clone()]),
    }
}

pub(super) fn version(v: &Option<String>) -> Option<WinVersion> {
    v.as_deref().and_then(|s| s.parse().ok())
}

pub(super) fn protection(span: &Span<'_, '_, '_>, n: &snap::SnapshotNode<'_>) -> NodeProtection {
    let text = span.text;
    let src = |key: &str| span.key(key).1;

    let defender_preferences = n.defender_preferences.as_ref().map(|s| {
        let at = src("defenderPreferences");
        match read(s) {
            Ok(d) => Section::ok(
                DefenderPreferences {
                    exclusion_path: exclusions(&d.exclusion_path),
                    exclusion_extension: exclusions(&d.exclusion_extension),
                    exclusion_process: exclusions(&d.exclusion_process),
                    disable_auto_exclusions: d.disable_auto_exclusions,
                    disable_realtime_monitoring: d.disable_realtime_monitoring,
                    source: at.clone(),
                },
                at,
            ),
            Err((st, msg)) => Section::unavailable(st, msg, at),
        }
    });

    let defender_status = n.defender_status.as_ref().map(|s| {
        let at = src("defenderStatus");
        match read(s) {
            Ok(d) => Section::ok(
                DefenderStatus {
                    am_product_version: version(&d.am_product_version),
                    am_engine_version: version(&d.am_engine_version),
                    am_running_mode: d.am_running_mode.clone(),
                    antivirus_signature_version: version(&d.antivirus_signature_version),
                    real_time_protection_enabled: d.real_time_protection_enabled,
                    is_tamper_protected: d.is_tamper_protected,
                    antivirus_enabled: d.antivirus_enabled,
                    am_service_enabled: d.am_service_enabled,
                    source: at.clone(),
                },
                at,
            ),
            Err((st, msg)) => Section::unavailable(st, msg, at),
        }
    });

    let filters = n.fltmc_filters.as_ref().map(|s| {
        fltmc_section(
            text,
            src("fltmcFilters"),
            s,
            fltmc::parse_filters,
            |f, at| f.source = at,
        )
    });
    let filter_instances = n.fltmc_instances.as_ref().map(|s| {
        fltmc_section(
            text,
            src("fltmcInstances"),
            s,
            fltmc::parse_instances,
            |f, at| f.source = at,
        )
    });

    let products = n.installed_products.as_ref().map(|s| {
        let (section, at) = span.key("installedProducts");
        match read(s) {
            Ok(products) => {
                let mut cur = Cursor::new(span.loc, "name", section, section, span.end);
                let items = products
                    .iter()
                    .map(|pr| InstalledProduct {
                        name: pr.name.clone(),
                        vendor: pr.vendor.clone(),
                        version: pr.version.clone(),
                        source: text.at(cur.line_of(&pr.name)),
                    })
                    .collect();
                Section::ok(items, at)
            }
            Err((st, msg)) => Section::unavailable(st, msg, at),
        }
    });
    NodeProtection {
        defender_preferences,
        defender_status,
        filters,
        filter_instances,
        products,
    }
}

/// `fltmc` text embedded in the snapshot, parsed by the fltmc parser. Every
/// row gets the line of the embedded string (the whole output is one JSON
/// string on one line). Text the parser cannot read makes the section `error`.
pub(super) fn fltmc_section<T>(
    text: &Text,
    at: SourceRef,
    s: &snap::Section<String>,
    parse: fn(&Text) -> Result<Vec<T>, IngestError>,
    set_source: fn(&mut T, SourceRef),
) -> Section<Vec<T>> {
    match read(s) {
        Ok(raw) => {
            if fltmc::is_access_denied(raw) {
                return Section::unavailable(
                    SectionStatus::AccessDenied,
                    Some(raw.trim().to_string()),
                    at,
                );
            }
            let normalized = raw.replace("\r\n", "\n");
            match parse(&Text::new(text.path.clone(), normalized)) {
                Ok(mut rows) => {
                    for r in &mut rows {
                        set_source(r, at.clone());
                    }
                    Section::ok(rows, at)
                }
                Err(e) => Section::unavailable(
                    SectionStatus::Error,
                    Some(format!(
                        "fltmc output not understood: expected {}",
                        e.expected
                    )),
                    at,
                ),
            }
        }
        Err((st, msg)) => Section::unavailable(st, msg, at),
    }
}
