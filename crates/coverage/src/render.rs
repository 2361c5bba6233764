//! The report as text, JSON, or self-contained HTML with inline SVG charts.
//!
//! HTML: no external assets (it opens offline and attaches to a ticket);
//! minijinja templates (`templates/`) with HTML auto-escaping, so every
//! value that comes from input (policy names carry file paths, roles, host
//! ids) is escaped by the template engine.

use crate::experiment::{HISTOGRAM_BINS, PolicyResult, Report};
use serde::Serialize;
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

/// A tick of a bar chart's share axis.
#[derive(Serialize)]
struct Tick {
    x: String,
    label: String,
}

/// One policy's bar: its value and 95 % interval, `None` when it has none.
#[derive(Serialize)]
struct BarRow {
    name: String,
    y: String,
    text_y: String,
    bar: Option<Bar>,
}

#[derive(Serialize)]
struct Bar {
    y: String,
    width: String,
    height: String,
    tip: String,
    x1: String,
    x2: String,
    yc: String,
    whisker_top: String,
    whisker_bottom: String,
    label: String,
}

/// One bar per policy with its 95% interval as whiskers; the x axis is a
/// share (0–100 %) named `axis` (templates/charts.html.j2 draws it).
#[derive(Serialize)]
struct BarChart {
    axis: String,
    width: String,
    height: String,
    left: f64,
    name_x: String,
    value_x: String,
    grid_bottom: String,
    tick_y: String,
    axis_x: String,
    axis_y: String,
    ticks: Vec<Tick>,
    rows: Vec<BarRow>,
}

fn bar_chart(
    r: &Report,
    axis: &str,
    value: impl Fn(&PolicyResult) -> Option<(f64, f64, f64)>,
) -> BarChart {
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
    let ticks = (0..=4)
        .map(|i| {
            let f = f64::from(i) / 4.0;
            Tick {
                x: format!("{}", left + width * f),
                label: percent(top * f),
            }
        })
        .collect();
    let scale = |f: f64| left + width * (f / top).clamp(0.0, 1.0);
    let rows = r
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let y = 25.0 + bar_h * i as f64;
            let yc = y + bar_h / 2.0 - 1.0;
            BarRow {
                name: p.policy.clone(),
                y: format!("{y}"),
                text_y: format!("{}", y + bar_h * 0.6),
                bar: value(p).map(|(v, lo, hi)| Bar {
                    y: format!("{}", y + 3.0),
                    width: format!("{:.2}", scale(v) - left),
                    height: format!("{}", bar_h - 8.0),
                    tip: with_interval(v, lo, hi),
                    x1: format!("{:.2}", scale(lo)),
                    x2: format!("{:.2}", scale(hi)),
                    yc: format!("{yc}"),
                    whisker_top: format!("{}", yc - 4.0),
                    whisker_bottom: format!("{}", yc + 4.0),
                    label: percent(v),
                }),
            }
        })
        .collect();
    BarChart {
        axis: axis.to_string(),
        width: format!("{}", left + width + 70.0),
        height: format!("{height}"),
        left,
        name_x: format!("{}", left - 6.0),
        value_x: format!("{}", left + width + 6.0),
        grid_bottom: format!("{}", 25.0 + plot_h),
        tick_y: format!("{}", 40.0 + plot_h),
        axis_x: format!("{}", left + width / 2.0),
        axis_y: format!("{}", 62.0 + plot_h),
        ticks,
        rows,
    }
}

/// One bin of a histogram.
#[derive(Serialize)]
struct Bin {
    x: String,
    y: String,
    width: String,
    height: String,
    tip: String,
}

/// Final-size distribution of one policy: share of runs per bin of the
/// infected share of the network, both axes labelled.
#[derive(Serialize)]
struct Histogram {
    policy: String,
    width: String,
    height: String,
    left: f64,
    top: f64,
    right: String,
    bottom: String,
    middle_x: String,
    label_y: String,
    axis_label_x: String,
    tallest: String,
    tallest_y: String,
    axis_y: String,
    rotate_y: String,
    bins: Vec<Bin>,
}

fn histogram(p: &PolicyResult) -> Histogram {
    let (w, h, left, top) = (300.0, 120.0, 44.0, 10.0);
    let runs = f64::from(p.runs.max(1));
    let bw = w / HISTOGRAM_BINS as f64;
    let tallest = p
        .size_histogram
        .iter()
        .map(|&c| f64::from(c) / runs)
        .fold(0.0f64, f64::max)
        .max(0.01);
    let bins = p
        .size_histogram
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let share = f64::from(c) / runs;
            let bh = h * share / tallest;
            let x = left + bw * i as f64;
            let lo = i as f64 / HISTOGRAM_BINS as f64;
            Bin {
                x: format!("{:.2}", x + 1.0),
                y: format!("{:.2}", top + h - bh),
                width: format!("{:.2}", bw - 2.0),
                height: format!("{bh:.2}"),
                tip: format!(
                    "{}–{} of hosts infected: {c} runs ({})",
                    percent(lo),
                    percent(lo + 1.0 / HISTOGRAM_BINS as f64),
                    percent(share)
                ),
            }
        })
        .collect();
    Histogram {
        policy: p.policy.clone(),
        width: format!("{}", left + w + 24.0),
        height: format!("{}", top + h + 44.0),
        left,
        top,
        right: format!("{}", left + w),
        bottom: format!("{}", top + h),
        middle_x: format!("{}", left + w / 2.0),
        label_y: format!("{}", top + h + 14.0),
        axis_label_x: format!("{}", left - 4.0),
        tallest: percent(tallest),
        tallest_y: format!("{}", top + 8.0),
        axis_y: format!("{}", top + h + 34.0),
        rotate_y: format!("{}", top + h / 2.0),
        bins,
    }
}

/// One row of the policy table.
#[derive(Serialize)]
struct PolicyRow {
    policy: String,
    protected_hosts: usize,
    chance: String,
    size: String,
    share: String,
    description: String,
    /// Per role, in the order of the network's roles.
    role_infection: Vec<String>,
}

/// What templates/coverage.html.j2 shows.
#[derive(Serialize)]
struct Page<'a> {
    verdict: String,
    basis: String,
    network: String,
    model: String,
    /// The network drawn by templates/network.svg.j2 (escaped there).
    picture: Option<String>,
    columns: [&'static str; 5],
    policies: Vec<PolicyRow>,
    roles: Vec<(&'a str, usize)>,
    share_chart: BarChart,
    chance_chart: BarChart,
    histograms: Vec<Histogram>,
}

/// The self-contained HTML report: the answer first, then the network,
/// the numbers and the charts. `net`, when given and small, is drawn.
/// Every value is escaped by the template engine (see [`crate::html`]).
pub fn html(r: &Report, net: Option<&crate::network::Network>) -> Result<String, String> {
    let picture = match net {
        Some(net) => crate::picture::svg(net)?,
        None => None,
    };
    let policies: Vec<PolicyRow> = r
        .policies
        .iter()
        .map(|p| PolicyRow {
            policy: p.policy.clone(),
            protected_hosts: p.protected_hosts,
            chance: chance_cell(p),
            size: size_cell(p),
            share: share_cell(p, r.network.hosts),
            description: p.description.clone(),
            role_infection: p
                .role_infection
                .iter()
                .map(|ri| percent(ri.probability))
                .collect(),
        })
        .collect();
    let roles: Vec<(&str, usize)> = r
        .network
        .hosts_by_role
        .iter()
        .map(|c| (c.role.as_str(), c.hosts))
        .collect();
    let share_chart = bar_chart(r, "expected share of hosts infected", |p| {
        p.share_infected.map(|c| (c.mean, c.ci_low, c.ci_high))
    });
    let axis = format!(
        "chance of a large outbreak (at least {} hosts infected)",
        r.major_threshold
    );
    let chance_chart = bar_chart(r, &axis, |p| {
        Some((p.major.p, p.major.ci_low, p.major.ci_high))
    });
    let histograms: Vec<Histogram> = r.policies.iter().map(histogram).collect();
    let page = Page {
        verdict: verdict_sentence(r),
        basis: basis_line(r),
        network: network_line(r),
        model: model_line(r),
        picture,
        columns: COLUMNS,
        policies,
        roles,
        share_chart,
        chance_chart,
        histograms,
    };
    crate::html::render("coverage.html", page).map(|mut page| {
        page.push('\n');
        page
    })
}
