//! The history of one cluster (`lockstep history CLUSTER`) as text and
//! JSON; [`crate::history_html`] renders the page. Every judgement comes
//! from [`lockstep_history::timeline`]; this only words it.

use crate::text::{TextOptions, terminal_safe};
use lockstep_history::store::ClusterListing;
use lockstep_history::timeline::{Event, HistoryReport, Time};
use std::fmt::Write as _;

fn date(t: Time) -> String {
    t.date().to_string()
}

fn span(start: Time, end: Option<Time>) -> String {
    match end {
        Some(e) => format!("{} → {}", date(start), date(e)),
        None => format!("{} → (still)", date(start)),
    }
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// The cluster's state in one line: "Out of step since 2026-11-03 (31 days)"
/// or "In step".
pub fn state_line(h: &HistoryReport) -> String {
    match (&h.out_of_step_since, h.in_step) {
        (Some(s), _) => format!("Out of step since {} ({})", date(s.at), days(s.days)),
        (None, Some(true)) => match h.periods.last().and_then(|p| p.end) {
            Some(end) => format!("In step since {}", date(end)),
            None => "In step throughout".into(),
        },
        _ => "No run in the window".into(),
    }
}

/// The words of one event.
pub fn event_text(e: &Event) -> String {
    let kb = e.kb.as_deref().unwrap_or("");
    match e.kind {
        "out-of-step" => "nodes out of step".into(),
        "in-step" => format!("nodes in step again after {}", days(e.days.unwrap_or(0))),
        "drift-opened" => format!("{kb} differs: absent on {}", list(&e.nodes)),
        "drift-closed" => format!(
            "{kb} {} after {}",
            match e.resolution {
                Some("removed-everywhere") => "removed from every node",
                _ => "on every node",
            },
            days(e.days.unwrap_or(0))
        ),
        "fell-behind" => format!(
            "{} fell behind the cluster's newest cumulative update {kb}",
            list(&e.nodes)
        ),
        "caught-up" => format!(
            "{} no longer lacks {kb}, after {}",
            list(&e.nodes),
            days(e.days.unwrap_or(0))
        ),
        other => other.to_string(),
    }
}

/// The text report.
pub fn history_text(h: &HistoryReport, o: TextOptions) -> String {
    let mut out = String::new();
    let _ = write!(out, "History of cluster {}: {} run(s)", h.cluster, h.runs);
    if let (Some(first), Some(last)) = (h.first_run, h.as_of) {
        let _ = write!(out, " from {} to {}", date(first), date(last));
    }
    let window = match (h.since, h.until) {
        (None, None) => String::new(),
        (s, u) => format!(
            " (window {} to {})",
            s.map(date).unwrap_or_else(|| "the start".into()),
            u.map(date).unwrap_or_else(|| "the end".into())
        ),
    };
    let _ = writeln!(out, "{window}");
    let _ = writeln!(out, "{}", state_line(h));
    if let Some(c) = &h.catalog {
        let _ = writeln!(out, "Catalog of the last run: {c}");
    }

    let _ = writeln!(out, "\nNodes");
    for n in &h.nodes {
        let _ = writeln!(
            out,
            "  {}: observed {} to {} ({} observation(s)), OS build {}, time from {}",
            n.name,
            date(n.first_observed),
            date(n.last_observed),
            n.observations,
            n.os_build.as_deref().unwrap_or("unknown"),
            n.collected_at_basis
        );
    }

    let _ = writeln!(out, "\nOut of step (time to converge)");
    if h.periods.is_empty() {
        let _ = writeln!(out, "  never in the window");
    }
    for p in &h.periods {
        let _ = writeln!(
            out,
            "  {}: {}{}",
            span(p.start, p.end),
            days(p.days),
            if p.end.is_none() {
                ", not converged yet"
            } else {
                ""
            }
        );
    }

    let _ = writeln!(out, "\nDrift");
    if h.drift.is_empty() {
        let _ = writeln!(out, "  no update differed in the window");
    }
    for d in &h.drift {
        let how = match d.resolution {
            "installed-everywhere" => "installed everywhere",
            "removed-everywhere" => "removed everywhere",
            _ => "still open",
        };
        let _ = writeln!(
            out,
            "  {}: {} ({}); present on {}, absent on {}; {how}",
            d.kb,
            span(d.opened, d.closed),
            days(d.days),
            list(&d.present_on),
            list(&d.absent_on)
        );
    }

    if !h.updates.is_empty() {
        let _ = writeln!(
            out,
            "\nUpdates that differed: first and last seen installed"
        );
        for u in &h.updates {
            let _ = writeln!(out, "  {}", u.kb);
            for n in &u.nodes {
                let seen = match (n.first_seen, n.last_seen) {
                    (Some(f), Some(l)) => format!("{} to {}", date(f), date(l)),
                    _ => "never".into(),
                };
                let _ = writeln!(
                    out,
                    "    {}: {seen}{}",
                    n.node,
                    if n.installed {
                        ", installed"
                    } else {
                        ", not installed now"
                    }
                );
            }
        }
    }

    let _ = writeln!(out, "\nBehind the cluster's newest cumulative update");
    if !h.cumulative_known {
        let _ = writeln!(
            out,
            "  unknown: no run was recorded with a catalog that knows the cumulative updates"
        );
    } else if h.behind.is_empty() {
        let _ = writeln!(out, "  no node in the window");
    }
    for b in &h.behind {
        let _ = writeln!(
            out,
            "  {} lacked {}: {} ({})",
            b.node,
            b.lacking,
            span(b.start, b.end),
            days(b.days)
        );
    }

    if !h.findings.is_empty() {
        let _ = writeln!(out, "\nFindings");
        for f in &h.findings {
            let _ = writeln!(
                out,
                "  {} [{}] {}: first {}, last {}{}",
                f.severity,
                f.code,
                f.title,
                date(f.first_seen),
                date(f.last_seen),
                if f.open { ", still reported" } else { "" }
            );
        }
    }

    let _ = writeln!(out, "\nEvents");
    if h.events.is_empty() {
        let _ = writeln!(out, "  none in the window");
    }
    for e in &h.events {
        let _ = writeln!(out, "  {}  {}", date(e.at), event_text(e));
    }
    terminal_safe(out, o)
}

/// The JSON report (`lockstep-history/1`).
pub fn history_json(h: &HistoryReport) -> String {
    let mut s = serde_json::to_string_pretty(h).unwrap_or_else(|e| {
        format!(
            "{{\"error\": {}}}",
            serde_json::Value::String(e.to_string())
        )
    });
    s.push('\n');
    s
}

/// `lockstep history` without a cluster: what the history holds.
pub fn listing_text(clusters: &[ClusterListing], o: TextOptions) -> String {
    let mut out = String::new();
    if clusters.is_empty() {
        out.push_str("The history holds no cluster yet.\n");
    }
    for c in clusters {
        let _ = writeln!(
            out,
            "{}: {} node(s), {} run(s) from {} to {}, {} at the last run",
            c.name,
            c.nodes,
            c.runs,
            date(Time(c.first)),
            date(Time(c.last)),
            if c.last_in_step {
                "in step"
            } else {
                "out of step"
            }
        );
    }
    terminal_safe(out, o)
}

pub fn listing_json(clusters: &[ClusterListing]) -> String {
    let v: Vec<serde_json::Value> = clusters
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "nodes": c.nodes,
                "runs": c.runs,
                "first_run": Time(c.first),
                "last_run": Time(c.last),
                "in_step": c.last_in_step,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&serde_json::json!({
        "schema": "lockstep-history-clusters/1",
        "clusters": v,
    }))
    .unwrap_or_default();
    s.push('\n');
    s
}
