//! The report as text, JSON, or self-contained HTML with inline SVG charts.
//!
//! HTML: no external assets (it opens offline and attaches to a ticket);
//! every value that comes from input (policy names carry file paths, roles,
//! host ids) goes through [`escape`].

use crate::experiment::{HISTOGRAM_BINS, PolicyResult, Report};
use std::fmt::Write;

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn model_line(r: &Report) -> String {
    let m = &r.model;
    let params = match (m.tau, m.gamma) {
        (Some(t), Some(g)) => format!("SIR τ={t} γ={g} (T={:.4})", m.transmissibility),
        _ => format!("bond percolation T={}", m.transmissibility),
    };
    format!(
        "{params}, efficacy {}, {} runs per policy, seed {}, start: {} {} host{}; major outbreak = at least {} hosts",
        m.efficacy,
        r.runs,
        r.seed,
        r.start_count,
        match r.start {
            crate::experiment::Start::Random => "random",
            crate::experiment::Start::Exposed => "random exposed",
        },
        if r.start_count == 1 { "" } else { "s" },
        r.major_threshold
    )
}

fn size_cell(p: &PolicyResult) -> String {
    match &p.size_given_major {
        Some(s) => format!(
            "{} [{}, {}] ({:.0} hosts)",
            pct(s.fraction.mean),
            pct(s.fraction.ci_low),
            pct(s.fraction.ci_high),
            s.hosts.mean
        ),
        None => "n/a (fewer than 2 major outbreaks)".into(),
    }
}

/// Plain text for the terminal.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    let roles: Vec<String> = r
        .network
        .hosts_by_role
        .iter()
        .map(|c| format!("{} {}", c.hosts, c.role))
        .collect();
    let _ = writeln!(
        out,
        "Network: {} hosts ({}), {} edges, {} exposed, {} protected as-is",
        r.network.hosts,
        roles.join(", "),
        r.network.edges,
        r.network.exposed_hosts,
        r.network.protected_hosts
    );
    let _ = writeln!(out, "Model: {}", model_line(r));
    let _ = writeln!(out);
    let name_w = r
        .policies
        .iter()
        .map(|p| p.policy.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        out,
        "{:<name_w$}  {:>9}  {:<26}  {:<36}  {:>10}",
        "policy", "protected", "P(major) [95% CI]", "size given major [95% CI]", "mean size"
    );
    for p in &r.policies {
        let pm = format!(
            "{:.3} [{:.3}, {:.3}]",
            p.major.p, p.major.ci_low, p.major.ci_high
        );
        let _ = writeln!(
            out,
            "{:<name_w$}  {:>9}  {:<26}  {:<36}  {:>10.1}",
            p.policy,
            p.protected_hosts,
            pm,
            size_cell(p),
            p.mean_size
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Infection probability per role (start hosts included):"
    );
    let mut header = format!("{:<name_w$}", "policy");
    for c in &r.network.hosts_by_role {
        let _ = write!(header, "  {:>17}", c.role.as_str());
    }
    let _ = writeln!(out, "{header}");
    for p in &r.policies {
        let mut line = format!("{:<name_w$}", p.policy);
        for ri in &p.role_infection {
            let _ = write!(line, "  {:>17}", format!("{:.4}", ri.probability));
        }
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The versioned JSON document (`schema: lockstep-coverage/1`).
pub fn json(r: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2em;color:#222;max-width:70em}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.hist{display:inline-block;margin:0 1em 1em 0;vertical-align:top}.note{color:#555;font-size:.9em}\
svg text{font-size:11px;fill:#333}";

/// P(major) per policy: a bar with its Wilson interval as an error bar.
fn major_chart(r: &Report) -> String {
    let bar_h = 22.0;
    let left = 200.0;
    let width = 420.0;
    let height = 30.0 + bar_h * r.policies.len() as f64 + 10.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"P(major outbreak) per policy\">",
        left + width + 60.0
    );
    for i in 0..=4 {
        let x = left + width * f64::from(i) / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{x}\" y1=\"20\" x2=\"{x}\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{x}\" y=\"14\" text-anchor=\"middle\">{:.2}</text>",
            height - 10.0,
            f64::from(i) / 4.0
        );
    }
    for (i, p) in r.policies.iter().enumerate() {
        let y = 25.0 + bar_h * i as f64;
        let name = escape(&p.policy);
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{name}</text>",
            left - 6.0,
            y + bar_h * 0.6
        );
        let w = width * p.major.p;
        let _ = write!(
            s,
            "<rect x=\"{left}\" y=\"{}\" width=\"{w:.2}\" height=\"{}\" fill=\"#c0504d\"><title>{name}: {:.3} [{:.3}, {:.3}]</title></rect>",
            y + 3.0,
            bar_h - 8.0,
            p.major.p,
            p.major.ci_low,
            p.major.ci_high
        );
        let (x1, x2) = (
            left + width * p.major.ci_low,
            left + width * p.major.ci_high,
        );
        let yc = y + bar_h / 2.0 - 1.0;
        let _ = write!(
            s,
            "<line x1=\"{x1:.2}\" y1=\"{yc}\" x2=\"{x2:.2}\" y2=\"{yc}\" stroke=\"#000\"/>\
<line x1=\"{x1:.2}\" y1=\"{}\" x2=\"{x1:.2}\" y2=\"{}\" stroke=\"#000\"/>\
<line x1=\"{x2:.2}\" y1=\"{}\" x2=\"{x2:.2}\" y2=\"{}\" stroke=\"#000\"/>\
<text x=\"{}\" y=\"{}\">{:.3}</text>",
            yc - 4.0,
            yc + 4.0,
            yc - 4.0,
            yc + 4.0,
            left + width + 6.0,
            y + bar_h * 0.6,
            p.major.p
        );
    }
    s.push_str("</svg>");
    s
}

/// Final-size distribution of one policy: share of runs per bin of the
/// infected fraction of the network.
fn histogram(p: &PolicyResult) -> String {
    let (w, h, pad) = (300.0, 120.0, 20.0);
    let runs = f64::from(p.runs.max(1));
    let bw = w / HISTOGRAM_BINS as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"final size distribution\">",
        w + 2.0 * pad,
        h + 2.0 * pad
    );
    let _ = write!(
        s,
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#888\"/>",
        pad + h,
        pad + w,
        pad + h
    );
    for (i, &c) in p.size_histogram.iter().enumerate() {
        let share = f64::from(c) / runs;
        let bh = h * share;
        let x = pad + bw * i as f64;
        let lo = i as f64 / HISTOGRAM_BINS as f64;
        let _ = write!(
            s,
            "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{bh:.2}\" fill=\"#4f81bd\"><title>{}–{} infected: {c} runs ({})</title></rect>",
            x + 1.0,
            pad + h - bh,
            bw - 2.0,
            pct(lo),
            pct(lo + 1.0 / HISTOGRAM_BINS as f64),
            pct(share)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{pad}\" y=\"{}\">0%</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">100% of hosts infected</text><text x=\"{pad}\" y=\"{}\">share of runs (bar height 100% = all runs)</text></svg>",
        pad + h + 14.0,
        pad + w,
        pad + h + 14.0,
        pad - 6.0
    );
    s
}

/// The self-contained HTML report.
pub fn html(r: &Report) -> String {
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lockstep coverage report</title>");
    let _ = write!(s, "<style>{STYLE}</style></head><body>");
    s.push_str("<h1>Anti-virus coverage: outbreak simulation</h1>");
    let roles: Vec<String> = r
        .network
        .hosts_by_role
        .iter()
        .map(|c| format!("{} {}", c.hosts, escape(c.role.as_str())))
        .collect();
    let _ = write!(
        s,
        "<p>Network: {} hosts ({}), {} edges, {} exposed, {} protected as-is.</p><p>Model: {}.</p>",
        r.network.hosts,
        roles.join(", "),
        r.network.edges,
        r.network.exposed_hosts,
        r.network.protected_hosts,
        escape(&model_line(r))
    );
    s.push_str("<h2>Policies</h2><table><tr><th>policy</th><th>protected hosts</th><th>P(major) [95% Wilson]</th><th>size given major [95% CI]</th><th>mean size</th><th>description</th></tr>");
    for p in &r.policies {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.3} [{:.3}, {:.3}]</td><td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td>{}</td></tr>",
            escape(&p.policy),
            p.protected_hosts,
            p.major.p,
            p.major.ci_low,
            p.major.ci_high,
            escape(&size_cell(p)),
            p.mean_size,
            escape(&p.description)
        );
    }
    s.push_str("</table><h2>P(major outbreak) per policy</h2>");
    s.push_str(&major_chart(r));
    s.push_str("<p class=\"note\">Bars: share of runs that became major outbreaks; whiskers: 95% Wilson interval.</p>");
    s.push_str("<h2>Final size distribution</h2>");
    for p in &r.policies {
        let _ = write!(
            s,
            "<div class=\"hist\"><h3>{}</h3>{}</div>",
            escape(&p.policy),
            histogram(p)
        );
    }
    s.push_str("<h2>Infection probability per role</h2><table><tr><th>policy</th>");
    for c in &r.network.hosts_by_role {
        let _ = write!(
            s,
            "<th>{} ({} hosts)</th>",
            escape(c.role.as_str()),
            c.hosts
        );
    }
    s.push_str("</tr>");
    for p in &r.policies {
        let _ = write!(s, "<tr><td>{}</td>", escape(&p.policy));
        for ri in &p.role_infection {
            let _ = write!(s, "<td class=\"num\">{:.4}</td>", ri.probability);
        }
        s.push_str("</tr>");
    }
    s.push_str("</table><p class=\"note\">Start hosts are infected whatever their protection; protection scales the transmission rate into a protected host by (1 − efficacy). Generated by lockstep.</p></body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_everything_html_cares_about() {
        assert_eq!(
            escape("<b>\"x\" & 'y'</b>\u{7}"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;\u{FFFD}"
        );
    }
}
