//! The checks of each kind's own table: `[supersedence]` with its
//! `[[verdict]]`s, `[bad-update]`, `[antivirus]`.

use super::{Ctx, RawAntivirus, RawBadUpdate, RawIssue};
use crate::known_issues::{
    AntivirusIssue, BadUpdateIssue, Details, SupersedenceIssue, TimeWindow, Verdict, VerdictKind,
};
use lockstep_model::KbId;
use std::ops::Range;

pub(super) fn supersedence(
    cx: &mut Ctx<'_>,
    raw: &RawIssue,
    kind_span: &Range<usize>,
) -> Option<Details> {
    let Some(sup) = raw.supersedence.as_ref() else {
        cx.at(
            kind_span,
            "kind = \"supersedence\" needs a [supersedence] table",
        );
        return None;
    };
    let sup = sup.get_ref();
    let newer = cx.kb("supersedence.newer", &sup.newer);
    let older = cx.kbs("supersedence.older", &sup.older);
    if let Some(n) = newer {
        for s in sup.older.get_ref() {
            if s.get_ref().parse::<KbId>().ok() == Some(n) {
                cx.at(
                    &s.span(),
                    format!("supersedence.older: {n} is the newer update itself"),
                );
            }
        }
    }

    let raw_verdicts = raw
        .verdict
        .as_ref()
        .map(|v| v.get_ref().as_slice())
        .unwrap_or(&[]);
    if raw_verdicts.is_empty() {
        cx.at(
            kind_span,
            "kind = \"supersedence\" needs at least one [[verdict]] table",
        );
    }
    let mut verdicts = Vec::new();
    for rv in raw_verdicts {
        let rv = rv.get_ref();
        let products = cx.texts("verdict.products", &rv.products);
        // A verdict must be able to apply to some node: its products are
        // matched against the product a node's build maps to.
        for (p, span) in products.iter().zip(rv.products.get_ref()) {
            let known = lockstep_model::windows::releases().iter().any(|r| {
                r.product
                    .as_deref()
                    .is_some_and(|name| crate::known_issues::product_matches(p, name))
            });
            if !p.is_empty() && !known {
                cx.at(
                    &span.span(),
                    format!(
                        "verdict.products: {p:?} matches no product a Windows build maps to (data/windows-builds.toml), so the verdict could never apply to a node"
                    ),
                );
            }
        }
        let mut v_older = Vec::new();
        if let Some(list) = rv.older.as_ref() {
            for s in list.get_ref() {
                if let Some(kb) = cx.kb("verdict.older", s) {
                    if !older.contains(&kb) {
                        cx.at(
                            &s.span(),
                            format!("verdict.older: {kb} is not in supersedence.older"),
                        );
                    }
                    v_older.push(kb);
                }
            }
        }
        let kind = match rv.verdict.get_ref().as_str() {
            "intended" => Some(VerdictKind::Intended),
            "incomplete" => Some(VerdictKind::Incomplete),
            "wrong" => Some(VerdictKind::Wrong),
            "missing" => Some(VerdictKind::Missing),
            other => {
                cx.at(
                    &rv.verdict.span(),
                    format!(
                        "verdict.verdict: expected intended, incomplete, wrong or missing, found {other:?}"
                    ),
                );
                None
            }
        };
        let note = cx.text("verdict.note", &rv.note);
        let until = rv.until.as_ref().and_then(|d| cx.date("verdict.until", d));
        let fixed_by = rv
            .fixed_by
            .as_ref()
            .and_then(|s| cx.kb("verdict.fixed_by", s));
        if let Some(kind) = kind {
            verdicts.push(Verdict {
                products,
                older: v_older,
                verdict: kind,
                note,
                until,
                fixed_by,
            });
        }
    }
    // Every older update needs some verdict, or queries would silently miss it.
    for (kb, s) in older.iter().zip(sup.older.get_ref()) {
        let covered = verdicts
            .iter()
            .any(|v| v.older.is_empty() || v.older.contains(kb));
        if !verdicts.is_empty() && !covered {
            cx.at(
                &s.span(),
                format!("supersedence.older: no [[verdict]] covers {kb}"),
            );
        }
    }
    Some(Details::Supersedence(SupersedenceIssue {
        newer: newer?,
        older,
        verdicts,
    }))
}

pub(super) fn bad_update(cx: &mut Ctx<'_>, b: &RawBadUpdate) -> Details {
    let kbs = cx.kbs("bad-update.kbs", &b.kbs);
    let products = cx.texts("bad-update.products", &b.products);
    let builds = b
        .builds
        .as_ref()
        .and_then(|s| cx.range("bad-update.builds", s));
    let symptoms = cx.texts("bad-update.symptoms", &b.symptoms);
    Details::BadUpdate(BadUpdateIssue {
        kbs,
        products,
        builds,
        symptoms,
        clusters: b.clusters,
    })
}

pub(super) fn antivirus(cx: &mut Ctx<'_>, a: &RawAntivirus, table: &Range<usize>) -> Details {
    let vendor = cx.line_text("antivirus.vendor", &a.vendor);
    let product = cx.line_text("antivirus.product", &a.product);
    // Product versions are what installed-product matching uses; an entry
    // about Defender platform/engine versions only may leave them out.
    let defender_only = a.defender_platform.is_some() || a.defender_engine.is_some();
    let versions = match a.versions.as_ref() {
        Some(list) => {
            if list.get_ref().is_empty() {
                cx.at(
                    &list.span(),
                    "antivirus.versions: expected at least one version range (\"*\" for any)",
                );
            }
            list.get_ref()
                .iter()
                .filter_map(|s| cx.range("antivirus.versions", s))
                .collect()
        }
        None => {
            if !defender_only {
                cx.at(
                    table,
                    "antivirus.versions: required unless defender_platform or defender_engine is given",
                );
            }
            Vec::new()
        }
    };
    let mut filters = Vec::new();
    for f in &a.filters {
        let name = f.get_ref().trim();
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        if !ok {
            cx.at(
                &f.span(),
                format!(
                    "antivirus.filters: expected a minifilter name such as csagent, found {name:?}"
                ),
            );
        }
        filters.push(name.to_string());
    }
    let defender_platform = a
        .defender_platform
        .as_ref()
        .and_then(|s| cx.range("antivirus.defender_platform", s));
    let defender_engine = a
        .defender_engine
        .as_ref()
        .and_then(|s| cx.range("antivirus.defender_engine", s));
    let window = a.window.as_ref().and_then(|w| {
        let span = w.span();
        let w = w.get_ref();
        let start = cx.timestamp("antivirus.window.start", &w.start);
        let end = cx.timestamp("antivirus.window.end", &w.end);
        match (start, end) {
            (Some(start), Some(end)) if start < end => Some(TimeWindow { start, end }),
            (Some(start), Some(end)) => {
                cx.at(
                    &span,
                    format!("antivirus.window: start {start} is not before end {end}"),
                );
                None
            }
            _ => None,
        }
    });
    Details::Antivirus(AntivirusIssue {
        vendor,
        product,
        versions,
        filters,
        defender_platform,
        defender_engine,
        window,
    })
}
