//! What the timeline makes of runs, on hand-made histories: nodes whose
//! updates could not be read, a node leaving the cluster, a mixed-OS
//! cluster mid-upgrade, the window.

use lockstep_history::store::{ClusterData, ObsView, RunView};
use lockstep_history::timeline::{Window, history};
use lockstep_model::CollectedBasis;
use std::collections::HashMap;
use std::sync::Arc;

const DAY: i64 = 86_400;
/// 2026-11-01T08:00:00Z
const T0: i64 = 1_793_520_000;

struct Builder {
    data: ClusterData,
}

impl Builder {
    fn new() -> Self {
        Builder {
            data: ClusterData {
                name: "HVCLU01".into(),
                ..ClusterData::default()
            },
        }
    }

    /// A run on day `d`: (node, build, updates or None when unreadable).
    fn run(mut self, d: i64, nodes: &[(&str, &str, Option<&[u32]>)]) -> Self {
        let at = T0 + d * DAY;
        let mut members = Vec::new();
        for (n, build, kbs) in nodes {
            let node: Arc<str> = Arc::from(*n);
            members.push((node.clone(), at));
            self.data.observations.push(ObsView {
                node,
                at,
                basis: CollectedBasis::Input,
                kbs: kbs.map(|k| Arc::new(k.to_vec())),
                os_build: Some(build.to_string()),
                recorded_at: at,
            });
        }
        self.data.runs.push(RunView {
            at,
            in_step: false,
            members,
            findings: Arc::new(Vec::new()),
            catalog: None,
            recorded_at: at,
        });
        self
    }

    fn cumulative(mut self, kbs: &[(u32, &str)]) -> Self {
        self.data.cumulative = kbs
            .iter()
            .map(|(k, d)| (*k, Some(d.to_string())))
            .collect::<HashMap<_, _>>();
        self
    }

    fn done(mut self) -> ClusterData {
        self.data
            .observations
            .sort_by(|a, b| (&a.node, a.at).cmp(&(&b.node, b.at)));
        self.data
    }
}

const B22: &str = "10.0.20348.2159";
const B19: &str = "10.0.17763.5206";

#[test]
fn a_node_whose_updates_could_not_be_read_keeps_its_last_known_ones() {
    let data = Builder::new()
        .run(0, &[("A", B22, Some(&[1, 2])), ("B", B22, Some(&[1]))])
        .run(1, &[("A", B22, Some(&[1, 2])), ("B", B22, None)])
        .run(2, &[("A", B22, Some(&[1, 2])), ("B", B22, Some(&[1, 2]))])
        .done();
    let h = history(&data, Window::default());
    assert_eq!(h.drift.len(), 1);
    assert_eq!(h.drift[0].kb, "KB2");
    assert_eq!(h.drift[0].absent_on, ["B"]);
    assert_eq!(h.drift[0].days, 2);
    // Day 1 changes nothing: B's list could not be read.
    assert_eq!(h.periods.len(), 1);
    assert_eq!(h.periods[0].end.map(|t| t.0), Some(T0 + 2 * DAY));
    assert_eq!(h.events.len(), 4, "{:?}", h.events);
    assert_eq!(h.timeline[1].nodes[1].state, "unknown");
    assert_eq!(h.in_step, Some(true));
}

#[test]
fn a_node_that_leaves_the_cluster_stops_being_behind() {
    let data = Builder::new()
        .cumulative(&[(10, "2026-10-14"), (11, "2026-11-11")])
        .run(0, &[("A", B22, Some(&[11])), ("B", B22, Some(&[10]))])
        .run(3, &[("A", B22, Some(&[11]))])
        .done();
    let h = history(&data, Window::default());
    assert_eq!(h.behind.len(), 1);
    assert_eq!(h.behind[0].node, "B");
    assert_eq!(h.behind[0].lacking, "KB11");
    assert_eq!(h.behind[0].end.map(|t| t.0), Some(T0 + 3 * DAY));
    assert_eq!(h.behind[0].days, 3);
    assert_eq!(h.timeline[1].nodes[1].state, "absent");
    assert_eq!(h.out_of_step_since, None);
}

#[test]
fn each_os_build_has_its_own_newest_cumulative_update() {
    // Mid-upgrade: A and B run Server 2022, C still Server 2019.
    let data = Builder::new()
        .cumulative(&[(21, "2026-11-11"), (19, "2026-11-11"), (18, "2026-10-14")])
        .run(
            0,
            &[
                ("A", B22, Some(&[21])),
                ("B", B22, Some(&[21])),
                ("C", B19, Some(&[18])),
            ],
        )
        .done();
    let h = history(&data, Window::default());
    // C is not behind A's update for another product; it has its own newest.
    assert!(h.behind.is_empty(), "{:?}", h.behind);
    let data = Builder::new()
        .cumulative(&[(21, "2026-11-11"), (19, "2026-11-11"), (18, "2026-10-14")])
        .run(
            0,
            &[
                ("A", B22, Some(&[21])),
                ("C", B19, Some(&[18])),
                ("D", B19, Some(&[19])),
            ],
        )
        .done();
    let h = history(&data, Window::default());
    assert_eq!(h.behind.len(), 1);
    assert_eq!(
        (h.behind[0].node.as_str(), h.behind[0].lacking.as_str()),
        ("C", "KB19")
    );
}

#[test]
fn the_window_keeps_what_overlaps_it_and_durations_stay_true() {
    let data = Builder::new()
        .run(0, &[("A", B22, Some(&[1])), ("B", B22, Some(&[1]))])
        .run(5, &[("A", B22, Some(&[1, 2])), ("B", B22, Some(&[1]))])
        .run(20, &[("A", B22, Some(&[1, 2])), ("B", B22, Some(&[1]))])
        .run(40, &[("A", B22, Some(&[1, 2])), ("B", B22, Some(&[1, 2]))])
        .run(
            41,
            &[("A", B22, Some(&[1, 2, 3])), ("B", B22, Some(&[1, 2]))],
        )
        .done();
    let h = history(
        &data,
        Window {
            since: Some(T0 + 10 * DAY),
            until: None,
        },
    );
    // The first period began before the window and ended in it.
    assert_eq!(h.periods.len(), 2);
    assert_eq!(h.periods[0].start.0, T0 + 5 * DAY);
    assert_eq!(h.periods[0].days, 35);
    assert_eq!(
        h.out_of_step_since.map(|s| (s.at.0, s.days)),
        Some((T0 + 41 * DAY, 0))
    );
    assert_eq!(h.runs, 3);
    let kinds: Vec<&str> = h.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        ["in-step", "drift-closed", "out-of-step", "drift-opened"]
    );
    assert_eq!(h.events[1].resolution, Some("installed-everywhere"));
    assert_eq!(h.events[1].days, Some(35));
}
