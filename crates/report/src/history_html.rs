//! The history page: one self-contained HTML file (inline CSS, an inline
//! SVG timeline, no script, no external request). Every value from the
//! history goes through minijinja's HTML auto-escaping.

use crate::history::{event_text, state_line};
use lockstep_history::timeline::{HistoryReport, Time, TimelinePoint};
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

const TEMPLATE: &str = include_str!("templates/history.html.j2");

const LABEL_WIDTH: f64 = 150.0;
const PLOT_WIDTH: f64 = 760.0;
const LANE: f64 = 18.0;
const GAP: f64 = 6.0;
const TOP: f64 = 8.0;

#[derive(Serialize)]
struct View<'a> {
    version: &'a str,
    h: &'a HistoryReport,
    state: String,
    chart: Chart,
    events: Vec<(String, String)>,
}

#[derive(Serialize)]
struct Chart {
    width: f64,
    height: f64,
    plot_left: f64,
    plot_right: f64,
    axis_y: f64,
    lanes: Vec<Lane>,
    ticks: Vec<Tick>,
    markers: Vec<Marker>,
}

#[derive(Serialize)]
struct Lane {
    label: String,
    y: f64,
    text_y: f64,
    segments: Vec<Segment>,
}

#[derive(Serialize)]
struct Segment {
    x: f64,
    w: f64,
    class: &'static str,
    title: String,
}

#[derive(Serialize)]
struct Tick {
    x: f64,
    label: String,
    /// `end` for the last one, so that it stays inside the picture.
    anchor: &'static str,
}

#[derive(Serialize)]
struct Marker {
    x: f64,
    y1: f64,
    y2: f64,
    class: &'static str,
    title: String,
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Segments of one lane: runs in the same state merged, each drawn from
/// its run to the next; the last run gets a sliver at the right edge.
fn segments(points: &[(i64, &'static str)], x: &dyn Fn(i64) -> f64, what: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut i = 0;
    while i < points.len() {
        let (start, state) = points[i];
        let mut j = i + 1;
        while j < points.len() && points[j].1 == state {
            j += 1;
        }
        let end_x = match points.get(j) {
            Some((t, _)) => x(*t),
            None => x(points[points.len() - 1].0).max(x(start) + 4.0),
        };
        let end_label = match points.get(j) {
            Some((t, _)) => Time(*t).date().to_string(),
            None => "the last run".into(),
        };
        if state != "absent" {
            let x0 = x(start).min(end_x - 4.0);
            out.push(Segment {
                x: round(x0),
                w: round((end_x - x0).max(4.0)),
                class: state,
                title: format!("{what}: {state} from {} to {end_label}", Time(start).date()),
            });
        }
        i = j;
    }
    out
}

fn chart(h: &HistoryReport) -> Chart {
    let t: &[TimelinePoint] = &h.timeline;
    let t0 = t.first().map_or(0, |p| p.at.0);
    let t1 = t.last().map_or(0, |p| p.at.0);
    let left = LABEL_WIDTH;
    let x = move |at: i64| -> f64 {
        if t1 == t0 {
            left
        } else {
            left + (at - t0) as f64 / (t1 - t0) as f64 * (PLOT_WIDTH - 4.0)
        }
    };
    let mut lanes = Vec::new();
    let cluster_points: Vec<(i64, &'static str)> = t
        .iter()
        .map(|p| (p.at.0, if p.in_step { "in-step" } else { "out-of-step" }))
        .collect();
    lanes.push(Lane {
        label: format!("cluster {}", h.cluster),
        y: TOP,
        text_y: TOP + LANE - 5.0,
        segments: segments(&cluster_points, &x, "cluster"),
    });
    let names: Vec<&str> = t
        .first()
        .map(|p| p.nodes.iter().map(|n| n.node.as_str()).collect())
        .unwrap_or_default();
    for (i, name) in names.iter().enumerate() {
        let points: Vec<(i64, &'static str)> = t
            .iter()
            .map(|p| (p.at.0, p.nodes.get(i).map_or("absent", |n| n.state)))
            .collect();
        let y = TOP + (i as f64 + 1.0) * (LANE + GAP);
        lanes.push(Lane {
            label: name.to_string(),
            y,
            text_y: y + LANE - 5.0,
            segments: segments(&points, &x, name),
        });
    }
    let axis_y = TOP + lanes.len() as f64 * (LANE + GAP) + 2.0;
    let mut ticks = Vec::new();
    if !t.is_empty() {
        let n = if t1 == t0 { 1 } else { 6 };
        for k in 0..n {
            let at = t0 + (t1 - t0) * k / (n - 1).max(1);
            ticks.push(Tick {
                x: round(x(at)),
                label: Time(at).date().to_string(),
                anchor: if k + 1 == n && n > 1 { "end" } else { "middle" },
            });
        }
        ticks.dedup_by(|a, b| a.label == b.label);
    }
    let markers = h
        .events
        .iter()
        .filter_map(|e| {
            let class = match e.kind {
                "drift-opened" => "m-open",
                "drift-closed" => "m-close",
                _ => return None,
            };
            Some(Marker {
                x: round(x(e.at.0)),
                y1: TOP - 4.0,
                y2: axis_y,
                class,
                title: format!("{}: {}", e.at.date(), event_text(e)),
            })
        })
        .collect();
    Chart {
        width: LABEL_WIDTH + PLOT_WIDTH + 20.0,
        height: axis_y + 22.0,
        plot_left: left,
        plot_right: left + PLOT_WIDTH,
        axis_y,
        lanes,
        ticks,
        markers,
    }
}

/// The page.
pub fn render_history_html(h: &HistoryReport) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("history.html", TEMPLATE)
        .map_err(|e| e.to_string())?;
    let view = View {
        version: env!("CARGO_PKG_VERSION"),
        h,
        state: state_line(h),
        chart: chart(h),
        events: h
            .events
            .iter()
            .map(|e| (e.at.date().to_string(), event_text(e)))
            .collect(),
    };
    env.get_template("history.html")
        .and_then(|t| t.render(minijinja::value::Serde(&view)))
        .map_err(|e| e.to_string())
}
