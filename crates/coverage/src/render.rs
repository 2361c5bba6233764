//! The report as text, JSON, or self-contained HTML with inline SVG charts.
//!
//! HTML: no external assets (it opens offline and attaches to a ticket);
//! every value that comes from input (policy names carry file paths, roles,
//! host ids) goes through [`escape`].

use crate::experiment::{HISTOGRAM_BINS, PolicyResult, Report};
use std::fmt::Write;

/// The model's parameters (the runs and starts are in [`basis_line`]).
fn model_line(r: &Report) -> String {
    let m = &r.model;
    let params = match (m.tau, m.gamma) {
        (Some(t), Some(g)) => format!("SIR τ={t} γ={g} (T={:.4})", m.transmissibility),
        _ => format!("bond percolation T={}", m.transmissibility),
    };
    format!(
        "{params}, anti-virus efficacy {}, seed {}",
        m.efficacy, r.seed
    )
}

/// "10.9 %".
fn percent(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// "10.9 % (9.8 – 12.0 %)".
fn with_interval(mean: f64, lo: f64, hi: f64) -> String {
    format!(
        "{:.1} % ({:.1} – {:.1} %)",
        100.0 * mean,
        100.0 * lo,
        100.0 * hi
    )
}

fn chance_cell(p: &PolicyResult) -> String {
    with_interval(p.major.p, p.major.ci_low, p.major.ci_high)
}

fn size_cell(p: &PolicyResult) -> String {
    match &p.size_given_major {
        Some(s) => format!(
            "{:.0} hosts, {}",
            s.hosts.mean,
            with_interval(s.fraction.mean, s.fraction.ci_low, s.fraction.ci_high)
        ),
        None => "too few large outbreaks to say".into(),
    }
}

fn share_cell(p: &PolicyResult, hosts: usize) -> String {
    match &p.share_infected {
        Some(s) => with_interval(s.mean, s.ci_low, s.ci_high),
        // One run: no interval.
        None => percent(p.mean_size / hosts.max(1) as f64),
    }
}

/// Percentage points, signed: "+2.7".
fn points(x: f64) -> String {
    format!("{:+.1}", 100.0 * x)
}

/// The answer first, in one sentence.
pub fn verdict_sentence(r: &Report) -> String {
    let Some(v) = &r.verdict else {
        return "No verdict on the hypervisors: it compares --policy full with --policy except-hypervisors (the default policies) on a network with hypervisor hosts.".into();
    };
    let hosts = if v.hypervisors == 1 {
        "the 1 Hyper-V host".to_string()
    } else {
        format!("the {} Hyper-V hosts", v.hypervisors)
    };
    let c = &v.change;
    let interval = format!(
        "95 % interval of the change {} to {} points",
        points(c.ci_low),
        points(c.ci_high)
    );
    let (from, to) = (percent(v.with_av.mean), percent(v.without_av.mean));
    if c.ci_low > 0.0 {
        format!(
            "Exempting {hosts} from anti-virus raises the expected share of hosts infected from {from} to {to} ({interval})."
        )
    } else if c.ci_high < 0.0 {
        format!(
            "Exempting {hosts} from anti-virus lowers the expected share of hosts infected from {from} to {to} ({interval})."
        )
    } else {
        format!(
            "Exempting {hosts} from anti-virus makes no measurable difference to the expected share of hosts infected: {from} with anti-virus everywhere, {to} without it on the hypervisors ({interval})."
        )
    }
}

/// What the numbers rest on, in words.
fn basis_line(r: &Report) -> String {
    format!(
        "{} simulated outbreaks per policy, each starting at {} {}host{}; a large outbreak is one that infects at least {} hosts.",
        r.runs,
        r.start_count,
        match r.start {
            crate::experiment::Start::Random => "random ",
            crate::experiment::Start::Exposed => "random exposed ",
        },
        if r.start_count == 1 { "" } else { "s" },
        r.major_threshold
    )
}

fn network_line(r: &Report) -> String {
    let roles: Vec<String> = r
        .network
        .hosts_by_role
        .iter()
        .map(|c| format!("{} {}", c.hosts, c.role))
        .collect();
    format!(
        "Network: {} hosts ({}), {} links, {} exposed, {} with anti-virus today",
        r.network.hosts,
        roles.join(", "),
        r.network.edges,
        r.network.exposed_hosts,
        r.network.protected_hosts
    )
}

/// The columns of the policy table, in plain words.
const COLUMNS: [&str; 5] = [
    "policy",
    "hosts with anti-virus",
    "chance of a large outbreak (95 % interval)",
    "hosts infected in a large outbreak (95 % interval)",
    "expected share infected (95 % interval)",
];

/// Plain text for the terminal.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", verdict_sentence(r));
    let _ = writeln!(out, "{}", basis_line(r));
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", network_line(r));
    let _ = writeln!(out, "Model: {}", model_line(r));
    let _ = writeln!(out);
    let rows: Vec<[String; 5]> = r
        .policies
        .iter()
        .map(|p| {
            [
                p.policy.clone(),
                p.protected_hosts.to_string(),
                chance_cell(p),
                size_cell(p),
                share_cell(p, r.network.hosts),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = COLUMNS.iter().map(|c| c.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(c);
            if i + 1 < cells.len() {
                l.push_str(&" ".repeat(w - c.chars().count()));
            }
        }
        l
    };
    let _ = writeln!(out, "{}", line(&COLUMNS));
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let _ = writeln!(out, "{}", line(&cells));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Chance that a host of each role is infected (start hosts included):"
    );
    let name_w = widths[0];
    let mut header = format!("{:<name_w$}", "policy");
    for c in &r.network.hosts_by_role {
        let _ = write!(header, "  {:>17}", c.role.as_str());
    }
    let _ = writeln!(out, "{header}");
    for p in &r.policies {
        let mut line = format!("{:<name_w$}", p.policy);
        for ri in &p.role_infection {
            let _ = write!(line, "  {:>17}", percent(ri.probability));
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
.verdict{font-size:1.25em;border-left:5px solid #2b6cb0;background:#f2f6fb;padding:.6em 1em}\
.hist{display:inline-block;margin:0 1em 1em 0;vertical-align:top}.note{color:#555;font-size:.9em}\
svg text{font-size:11px;fill:#333}svg text.axis{font-size:12px;fill:#000}";

/// One bar per policy with its 95% interval as whiskers; the x axis is a
/// share (0–100 %) named `axis`.
fn bar_chart(
    r: &Report,
    axis: &str,
    value: impl Fn(&PolicyResult) -> Option<(f64, f64, f64)>,
) -> String {
    let bar_h = 22.0;
    let left = 200.0;
    let width = 420.0;
    // The axis runs to the next tenth above the largest interval end.
    let top = r
        .policies
        .iter()
        .filter_map(&value)
        .map(|v| v.2)
        .fold(0.0f64, f64::max);
    let top = ((top * 10.0).ceil() / 10.0).clamp(0.1, 1.0);
    let plot_h = bar_h * r.policies.len() as f64;
    let height = 30.0 + plot_h + 45.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"{} per policy\">",
        left + width + 70.0,
        escape(axis)
    );
    for i in 0..=4 {
        let f = f64::from(i) / 4.0;
        let x = left + width * f;
        let _ = write!(
            s,
            "<line x1=\"{x}\" y1=\"20\" x2=\"{x}\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            25.0 + plot_h,
            40.0 + plot_h,
            percent(top * f)
        );
    }
    let _ = write!(
        s,
        "<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text><text class=\"axis\" x=\"{}\" y=\"14\" text-anchor=\"end\">policy</text>",
        left + width / 2.0,
        62.0 + plot_h,
        escape(axis),
        left - 6.0
    );
    for (i, p) in r.policies.iter().enumerate() {
        let y = 25.0 + bar_h * i as f64;
        let name = escape(&p.policy);
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{name}</text>",
            left - 6.0,
            y + bar_h * 0.6
        );
        let Some((v, lo, hi)) = value(p) else {
            continue;
        };
        let scale = |f: f64| left + width * (f / top).clamp(0.0, 1.0);
        let _ = write!(
            s,
            "<rect x=\"{left}\" y=\"{}\" width=\"{:.2}\" height=\"{}\" fill=\"#c0504d\"><title>{name}: {}</title></rect>",
            y + 3.0,
            scale(v) - left,
            bar_h - 8.0,
            with_interval(v, lo, hi)
        );
        let (x1, x2) = (scale(lo), scale(hi));
        let yc = y + bar_h / 2.0 - 1.0;
        let _ = write!(
            s,
            "<line x1=\"{x1:.2}\" y1=\"{yc}\" x2=\"{x2:.2}\" y2=\"{yc}\" stroke=\"#000\"/>\
<line x1=\"{x1:.2}\" y1=\"{}\" x2=\"{x1:.2}\" y2=\"{}\" stroke=\"#000\"/>\
<line x1=\"{x2:.2}\" y1=\"{}\" x2=\"{x2:.2}\" y2=\"{}\" stroke=\"#000\"/>\
<text x=\"{}\" y=\"{}\">{}</text>",
            yc - 4.0,
            yc + 4.0,
            yc - 4.0,
            yc + 4.0,
            left + width + 6.0,
            y + bar_h * 0.6,
            percent(v)
        );
    }
    s.push_str("</svg>");
    s
}

/// Final-size distribution of one policy: share of runs per bin of the
/// infected share of the network, both axes labelled.
fn histogram(p: &PolicyResult) -> String {
    let (w, h, left, top) = (300.0, 120.0, 44.0, 10.0);
    let runs = f64::from(p.runs.max(1));
    let bw = w / HISTOGRAM_BINS as f64;
    let tallest = p
        .size_histogram
        .iter()
        .map(|&c| f64::from(c) / runs)
        .fold(0.0f64, f64::max)
        .max(0.01);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"how many hosts the outbreaks infected\">",
        left + w + 24.0,
        top + h + 44.0
    );
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#888\"/><line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"#888\"/>",
        top + h,
        left + w,
        top + h,
        top + h
    );
    for (i, &c) in p.size_histogram.iter().enumerate() {
        let share = f64::from(c) / runs;
        let bh = h * share / tallest;
        let x = left + bw * i as f64;
        let lo = i as f64 / HISTOGRAM_BINS as f64;
        let _ = write!(
            s,
            "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{bh:.2}\" fill=\"#4f81bd\"><title>{}–{} of hosts infected: {c} runs ({})</title></rect>",
            x + 1.0,
            top + h - bh,
            bw - 2.0,
            percent(lo),
            percent(lo + 1.0 / HISTOGRAM_BINS as f64),
            percent(share)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{left}\" y=\"{}\" text-anchor=\"middle\">0 %</text><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">50 %</text><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">100 %</text>\
<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">0 %</text>\
<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">share of hosts infected</text>\
<text class=\"axis\" transform=\"translate(12 {}) rotate(-90)\" text-anchor=\"middle\">share of runs</text></svg>",
        top + h + 14.0,
        left + w / 2.0,
        top + h + 14.0,
        left + w,
        top + h + 14.0,
        left - 4.0,
        top + 8.0,
        percent(tallest),
        left - 4.0,
        top + h,
        left + w / 2.0,
        top + h + 34.0,
        top + h / 2.0
    );
    s
}

/// The self-contained HTML report: the answer first, then the network,
/// the numbers and the charts. `net`, when given and small, is drawn.
pub fn html(r: &Report, net: Option<&crate::network::Network>) -> String {
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lockstep coverage: anti-virus on the hypervisors</title>");
    let _ = write!(s, "<style>{STYLE}</style></head><body>");
    s.push_str("<h1>Anti-virus on the hypervisors: outbreak simulation</h1>");
    let _ = write!(
        s,
        "<p class=\"verdict\">{}</p><p>{}</p>",
        escape(&verdict_sentence(r)),
        escape(&basis_line(r))
    );
    let _ = write!(
        s,
        "<p>{}.</p><p class=\"note\">Model: {}.</p>",
        escape(&network_line(r)),
        escape(&model_line(r))
    );
    if let Some(picture) = net.and_then(crate::picture::svg) {
        let _ = write!(s, "<h2>The network</h2>{picture}");
    }
    s.push_str("<h2>Policies</h2><table><tr>");
    for c in COLUMNS {
        let _ = write!(s, "<th>{}</th>", escape(c));
    }
    s.push_str("<th>what it protects</th></tr>");
    for p in &r.policies {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&p.policy),
            p.protected_hosts,
            escape(&chance_cell(p)),
            escape(&size_cell(p)),
            escape(&share_cell(p, r.network.hosts)),
            escape(&p.description)
        );
    }
    s.push_str("</table><h2>Expected share of hosts infected</h2>");
    s.push_str(&bar_chart(r, "expected share of hosts infected", |p| {
        p.share_infected.map(|c| (c.mean, c.ci_low, c.ci_high))
    }));
    s.push_str("<p class=\"note\">Bars: the mean over all runs; whiskers: 95 % interval.</p>");
    s.push_str("<h2>Chance of a large outbreak</h2>");
    let axis = format!(
        "chance of a large outbreak (at least {} hosts infected)",
        r.major_threshold
    );
    s.push_str(&bar_chart(r, &axis, |p| {
        Some((p.major.p, p.major.ci_low, p.major.ci_high))
    }));
    s.push_str("<p class=\"note\">Bars: share of runs that became large outbreaks; whiskers: 95 % Wilson interval.</p>");
    s.push_str("<h2>How many hosts the outbreaks infected</h2>");
    for p in &r.policies {
        let _ = write!(
            s,
            "<div class=\"hist\"><h3>{}</h3>{}</div>",
            escape(&p.policy),
            histogram(p)
        );
    }
    s.push_str("<h2>Chance that a host of each role is infected</h2><table><tr><th>policy</th>");
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
            let _ = write!(s, "<td class=\"num\">{}</td>", percent(ri.probability));
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
