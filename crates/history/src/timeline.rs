//! What a cluster's history says: computed from the stored runs alone
//! (pure, so both stores give the same answer, byte for byte).
//!
//! A run is the cluster as one check saw it: each member node with the
//! update set of its observation. For every run:
//! * the nodes are *in step* when every node whose updates are known has
//!   the same set; the updates in some sets but not in all *differ*;
//! * an update that starts to differ opens a drift episode, which closes
//!   when it is on every node again (installed everywhere) or on none
//!   (removed everywhere);
//! * the cluster's newest cumulative update (per OS build: a mixed cluster
//!   mid-upgrade has one per build) is the newest by release date among the
//!   cumulative updates its nodes carry; a node without it is *behind*.
//!
//! Durations in days are calendar days between the UTC dates, as an admin
//! counts them ("since 2026-11-03 (31 days)" on 2026-12-04); open items are
//! measured to the last run in the window (`as_of`).

use crate::store::{ClusterData, ObsView, RunView};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const HISTORY_SCHEMA: &str = "lockstep-history/1";

/// A point in time, shown as RFC 3339 UTC (`2026-11-03T08:00:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

impl Time {
    pub fn timestamp(self) -> Timestamp {
        Timestamp::from_second(self.0).unwrap_or(Timestamp::UNIX_EPOCH)
    }
    /// `YYYY-MM-DD`, UTC.
    pub fn date(self) -> jiff::civil::Date {
        self.timestamp().to_zoned_datetime(TimeZone::UTC).date()
    }
}

impl std::fmt::Display for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.timestamp())
    }
}

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Calendar days from `a`'s UTC date to `b`'s.
pub fn days_between(a: i64, b: i64) -> i64 {
    Time(a)
        .date()
        .until(Time(b).date())
        .map(|s| i64::from(s.get_days()))
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HistoryReport {
    pub schema: &'static str,
    pub cluster: String,
    pub since: Option<Time>,
    pub until: Option<Time>,
    /// The last run in the window: open durations are measured to it.
    pub as_of: Option<Time>,
    /// Runs in the window.
    pub runs: usize,
    pub first_run: Option<Time>,
    pub in_step: Option<bool>,
    pub out_of_step_since: Option<Since>,
    pub catalog: Option<String>,
    pub nodes: Vec<NodeHistory>,
    /// Out-of-step periods (and how long each took to converge).
    pub periods: Vec<Period>,
    pub drift: Vec<DriftEpisode>,
    /// Per differing update, per node: when it was first and last seen installed.
    pub updates: Vec<UpdateSeen>,
    /// Whether the history knows any cumulative update (recorded with a catalog).
    pub cumulative_known: bool,
    pub behind: Vec<BehindPeriod>,
    pub findings: Vec<FindingSeen>,
    pub events: Vec<Event>,
    /// Per run in the window, each node's state (the HTML timeline).
    pub timeline: Vec<TimelinePoint>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Since {
    pub at: Time,
    pub days: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeHistory {
    pub name: String,
    pub first_observed: Time,
    pub last_observed: Time,
    pub observations: usize,
    pub os_build: Option<String>,
    /// What the last observation's time rests on: `input` or `file-modified`.
    pub collected_at_basis: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Period {
    pub start: Time,
    /// The first run in step again; `None` while still out of step.
    pub end: Option<Time>,
    pub days: i64,
    pub seconds: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DriftEpisode {
    pub kb: String,
    pub opened: Time,
    pub closed: Option<Time>,
    pub days: i64,
    /// `installed-everywhere`, `removed-everywhere` or `open`.
    pub resolution: &'static str,
    /// At the opening: the nodes that had it and those that did not.
    pub present_on: Vec<String>,
    pub absent_on: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UpdateSeen {
    pub kb: String,
    pub nodes: Vec<NodeSeen>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeSeen {
    pub node: String,
    pub first_seen: Option<Time>,
    pub last_seen: Option<Time>,
    /// Installed in the node's last observation.
    pub installed: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BehindPeriod {
    pub node: String,
    /// The cluster's newest cumulative update the node lacked when it fell behind.
    pub lacking: String,
    pub start: Time,
    pub end: Option<Time>,
    pub days: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FindingSeen {
    pub code: String,
    pub severity: String,
    pub nodes: Vec<String>,
    pub title: String,
    pub first_seen: Time,
    pub last_seen: Time,
    /// Reported by the last run.
    pub open: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    pub at: Time,
    /// `out-of-step`, `in-step`, `drift-opened`, `drift-closed`,
    /// `fell-behind`, `caught-up`.
    pub kind: &'static str,
    pub kb: Option<String>,
    pub nodes: Vec<String>,
    /// For closing events: how long the opened item lasted.
    pub days: Option<i64>,
    /// For `drift-closed`: `installed-everywhere` or `removed-everywhere`.
    pub resolution: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TimelinePoint {
    pub at: Time,
    pub in_step: bool,
    pub nodes: Vec<NodeState>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeState {
    pub node: String,
    /// `in-step`, `lacking` (lacks an update another node has), `behind`
    /// (lacks the newest cumulative update), `unknown`, `absent`.
    pub state: &'static str,
}

fn kb_name(kb: u32) -> String {
    format!("KB{kb}")
}

/// One run with its members' sets resolved.
struct Judged<'a> {
    run: &'a RunView,
    /// Members whose updates are known, with their sets.
    known: Vec<(&'a str, &'a [u32])>,
    unknown: Vec<&'a str>,
    union: BTreeSet<u32>,
    inter: BTreeSet<u32>,
    /// node → the newest cumulative update it lacks.
    behind: BTreeMap<&'a str, u32>,
}

impl Judged<'_> {
    fn differ(&self) -> impl Iterator<Item = u32> + '_ {
        self.union.difference(&self.inter).copied()
    }
    fn in_step(&self) -> bool {
        self.union.len() == self.inter.len()
    }
}

fn build_number(os_build: Option<&str>) -> Option<u32> {
    os_build?.split('.').nth(2)?.parse().ok()
}

fn judge<'a>(
    run: &'a RunView,
    obs: &HashMap<(&str, i64), &'a ObsView>,
    cumulative: &HashMap<u32, Option<String>>,
) -> Judged<'a> {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut builds: BTreeMap<Option<u32>, Vec<(&'a str, &'a [u32])>> = BTreeMap::new();
    for (node, at) in &run.members {
        match obs.get(&(&**node, *at)) {
            Some(o) => match &o.kbs {
                Some(kbs) => {
                    // The observation's node name is the run's (same Arc).
                    let name: &'a str = &o.node;
                    known.push((name, kbs.as_slice()));
                    builds
                        .entry(build_number(o.os_build.as_deref()))
                        .or_default()
                        .push((name, kbs.as_slice()));
                }
                None => unknown.push(&*o.node),
            },
            None => {}
        }
    }
    let mut union = BTreeSet::new();
    let mut inter: Option<BTreeSet<u32>> = None;
    for (_, kbs) in &known {
        union.extend(kbs.iter().copied());
        inter = Some(match inter {
            None => kbs.iter().copied().collect(),
            Some(i) => i.into_iter().filter(|k| kbs.binary_search(k).is_ok()).collect(),
        });
    }
    let mut behind = BTreeMap::new();
    for members in builds.values() {
        let newest = members
            .iter()
            .flat_map(|(_, kbs)| kbs.iter())
            .filter_map(|kb| cumulative.get(kb).map(|r| (r.clone(), *kb)))
            .max();
        if let Some((_, newest)) = newest {
            for (node, kbs) in members {
                if kbs.binary_search(&newest).is_err() {
                    behind.insert(*node, newest);
                }
            }
        }
    }
    Judged {
        run,
        known,
        unknown,
        union,
        inter: inter.unwrap_or_default(),
        behind,
    }
}

struct OpenEpisode {
    opened: i64,
    present_on: Vec<String>,
    absent_on: Vec<String>,
}

/// The history of one cluster within `window`.
pub fn history(data: &ClusterData, window: Window) -> HistoryReport {
    let obs: HashMap<(&str, i64), &ObsView> = data
        .observations
        .iter()
        .map(|o| ((&*o.node, o.at), o))
        .collect();
    let judged: Vec<Judged> = data
        .runs
        .iter()
        .map(|r| judge(r, &obs, &data.cumulative))
        .filter(|j| !j.known.is_empty())
        .collect();
    let since = window.since.unwrap_or(i64::MIN);
    let in_window = |t: i64| t >= since;
    let as_of = judged.last().map(|j| j.run.at);
    let end_or_now = |end: Option<i64>| end.or(as_of).unwrap_or(0);

    let mut periods: Vec<Period> = Vec::new();
    let mut open_period: Option<i64> = None;
    let mut episodes: Vec<DriftEpisode> = Vec::new();
    let mut open_eps: BTreeMap<u32, OpenEpisode> = BTreeMap::new();
    let mut behind: Vec<BehindPeriod> = Vec::new();
    let mut open_behind: BTreeMap<String, (i64, u32)> = BTreeMap::new();
    let mut events: Vec<Event> = Vec::new();
    let mut findings: BTreeMap<(String, Vec<String>), FindingSeen> = BTreeMap::new();

    let names = |v: &[(&str, &[u32])], has: bool, kb: u32| -> Vec<String> {
        v.iter()
            .filter(|(_, kbs)| kbs.binary_search(&kb).is_ok() == has)
            .map(|(n, _)| n.to_string())
            .collect()
    };
    for j in &judged {
        let at = j.run.at;
        // Out-of-step periods.
        match (open_period, j.in_step()) {
            (None, false) => {
                open_period = Some(at);
                events.push(Event {
                    at: Time(at),
                    kind: "out-of-step",
                    kb: None,
                    nodes: Vec::new(),
                    days: None,
                    resolution: None,
                });
            }
            (Some(start), true) => {
                open_period = None;
                periods.push(Period {
                    start: Time(start),
                    end: Some(Time(at)),
                    days: days_between(start, at),
                    seconds: at - start,
                });
                events.push(Event {
                    at: Time(at),
                    kind: "in-step",
                    kb: None,
                    nodes: Vec::new(),
                    days: Some(days_between(start, at)),
                    resolution: None,
                });
            }
            _ => {}
        }
        // Drift episodes.
        let differ: BTreeSet<u32> = j.differ().collect();
        let closing: Vec<u32> = open_eps
            .keys()
            .copied()
            .filter(|kb| !differ.contains(kb))
            .collect();
        for kb in closing {
            if let Some(e) = open_eps.remove(&kb) {
                let resolution = if j.inter.contains(&kb) {
                    "installed-everywhere"
                } else {
                    "removed-everywhere"
                };
                episodes.push(DriftEpisode {
                    kb: kb_name(kb),
                    opened: Time(e.opened),
                    closed: Some(Time(at)),
                    days: days_between(e.opened, at),
                    resolution,
                    present_on: e.present_on,
                    absent_on: e.absent_on,
                });
                events.push(Event {
                    at: Time(at),
                    kind: "drift-closed",
                    kb: Some(kb_name(kb)),
                    nodes: Vec::new(),
                    days: Some(days_between(e.opened, at)),
                    resolution: Some(resolution),
                });
            }
        }
        for kb in &differ {
            if !open_eps.contains_key(kb) {
                let absent_on = names(&j.known, false, *kb);
                open_eps.insert(
                    *kb,
                    OpenEpisode {
                        opened: at,
                        present_on: names(&j.known, true, *kb),
                        absent_on: absent_on.clone(),
                    },
                );
                events.push(Event {
                    at: Time(at),
                    kind: "drift-opened",
                    kb: Some(kb_name(*kb)),
                    nodes: absent_on,
                    days: None,
                    resolution: None,
                });
            }
        }
        // Behind the newest cumulative update.
        let members: BTreeSet<&str> = j.run.members.iter().map(|(n, _)| &**n).collect();
        let unknown: BTreeSet<&str> = j.unknown.iter().copied().collect();
        let closing: Vec<String> = open_behind
            .keys()
            .filter(|n| {
                !unknown.contains(n.as_str())
                    && (!members.contains(n.as_str()) || !j.behind.contains_key(n.as_str()))
            })
            .cloned()
            .collect();
        for n in closing {
            if let Some((start, kb)) = open_behind.remove(&n) {
                behind.push(BehindPeriod {
                    node: n.clone(),
                    lacking: kb_name(kb),
                    start: Time(start),
                    end: Some(Time(at)),
                    days: days_between(start, at),
                });
                events.push(Event {
                    at: Time(at),
                    kind: "caught-up",
                    kb: Some(kb_name(kb)),
                    nodes: vec![n],
                    days: Some(days_between(start, at)),
                    resolution: None,
                });
            }
        }
        for (n, kb) in &j.behind {
            if !open_behind.contains_key(*n) {
                open_behind.insert(n.to_string(), (at, *kb));
                events.push(Event {
                    at: Time(at),
                    kind: "fell-behind",
                    kb: Some(kb_name(*kb)),
                    nodes: vec![n.to_string()],
                    days: None,
                    resolution: None,
                });
            }
        }
        // Findings.
        for f in j.run.findings.iter() {
            let e = findings
                .entry((f.code.clone(), f.nodes.clone()))
                .or_insert_with(|| FindingSeen {
                    code: f.code.clone(),
                    severity: f.severity.clone(),
                    nodes: f.nodes.clone(),
                    title: f.title.clone(),
                    first_seen: Time(at),
                    last_seen: Time(at),
                    open: false,
                });
            e.last_seen = Time(at);
            e.title = f.title.clone();
            e.severity = f.severity.clone();
        }
    }
    if let Some(start) = open_period {
        periods.push(Period {
            start: Time(start),
            end: None,
            days: days_between(start, end_or_now(None)),
            seconds: end_or_now(None) - start,
        });
    }
    for (kb, e) in open_eps {
        episodes.push(DriftEpisode {
            kb: kb_name(kb),
            opened: Time(e.opened),
            closed: None,
            days: days_between(e.opened, end_or_now(None)),
            resolution: "open",
            present_on: e.present_on,
            absent_on: e.absent_on,
        });
    }
    for (n, (start, kb)) in open_behind {
        behind.push(BehindPeriod {
            node: n,
            lacking: kb_name(kb),
            start: Time(start),
            end: None,
            days: days_between(start, end_or_now(None)),
        });
    }
    if let Some(last) = judged.last() {
        for f in last.run.findings.iter() {
            if let Some(e) = findings.get_mut(&(f.code.clone(), f.nodes.clone())) {
                e.open = true;
            }
        }
    }
    let overlaps = |start: Time, end: Option<Time>| end.is_none_or(|e| in_window(e.0)) || in_window(start.0);
    periods.retain(|p| overlaps(p.start, p.end));
    episodes.retain(|e| overlaps(e.opened, e.closed));
    episodes.sort_by(|a, b| (a.opened, &a.kb).cmp(&(b.opened, &b.kb)));
    behind.retain(|b| overlaps(b.start, b.end));
    behind.sort_by(|a, b| (a.start, &a.node).cmp(&(b.start, &b.node)));
    events.retain(|e| in_window(e.at.0));
    // At one time: the cluster's state first, then what changed.
    let rank = |k: &str| match k {
        "out-of-step" | "in-step" => 0,
        "drift-closed" => 1,
        "drift-opened" => 2,
        "caught-up" => 3,
        _ => 4,
    };
    events.sort_by(|a, b| {
        (a.at, rank(a.kind), &a.kb, &a.nodes).cmp(&(b.at, rank(b.kind), &b.kb, &b.nodes))
    });
    let mut findings: Vec<FindingSeen> = findings
        .into_values()
        .filter(|f| in_window(f.last_seen.0))
        .collect();
    findings.sort_by(|a, b| (a.first_seen, &a.code, &a.nodes).cmp(&(b.first_seen, &b.code, &b.nodes)));

    let in_window_runs: Vec<&Judged> = judged.iter().filter(|j| in_window(j.run.at)).collect();
    let all_nodes: BTreeSet<&str> = data.runs.iter().flat_map(|r| r.members.iter().map(|(n, _)| &**n)).collect();
    let timeline = in_window_runs
        .iter()
        .map(|j| {
            let member: HashMap<&str, &[u32]> = j.known.iter().copied().collect();
            let listed: BTreeSet<&str> = j.run.members.iter().map(|(n, _)| &**n).collect();
            TimelinePoint {
                at: Time(j.run.at),
                in_step: j.in_step(),
                nodes: all_nodes
                    .iter()
                    .map(|n| NodeState {
                        node: n.to_string(),
                        state: match member.get(n) {
                            _ if !listed.contains(n) => "absent",
                            None => "unknown",
                            Some(_) if j.behind.contains_key(n) => "behind",
                            Some(kbs) if kbs.len() < j.union.len() => "lacking",
                            Some(_) => "in-step",
                        },
                    })
                    .collect(),
            }
        })
        .collect();

    // Per differing update, per node: first and last seen installed.
    let differing: BTreeSet<u32> = episodes
        .iter()
        .filter_map(|e| e.kb.trim_start_matches("KB").parse().ok())
        .collect();
    let mut per_node: BTreeMap<&str, Vec<&ObsView>> = BTreeMap::new();
    for o in &data.observations {
        if all_nodes.contains(&*o.node) {
            per_node.entry(&o.node).or_default().push(o);
        }
    }
    let updates = differing
        .iter()
        .map(|kb| UpdateSeen {
            kb: kb_name(*kb),
            nodes: per_node
                .iter()
                .map(|(n, list)| {
                    let with: Vec<i64> = list
                        .iter()
                        .filter(|o| o.kbs.as_ref().is_some_and(|k| k.binary_search(kb).is_ok()))
                        .map(|o| o.at)
                        .collect();
                    let last_known = list.iter().rev().find_map(|o| o.kbs.as_ref());
                    NodeSeen {
                        node: n.to_string(),
                        first_seen: with.first().copied().map(Time),
                        last_seen: with.last().copied().map(Time),
                        installed: last_known.is_some_and(|k| k.binary_search(kb).is_ok()),
                    }
                })
                .collect(),
        })
        .collect();
    let nodes = per_node
        .iter()
        .filter_map(|(n, list)| {
            let (first, last) = (list.first()?, list.last()?);
            Some(NodeHistory {
                name: n.to_string(),
                first_observed: Time(first.at),
                last_observed: Time(last.at),
                observations: list.len(),
                os_build: last.os_build.clone(),
                collected_at_basis: last.basis.as_str(),
            })
        })
        .collect();
    let last = judged.last();
    HistoryReport {
        schema: HISTORY_SCHEMA,
        cluster: data.name.clone(),
        since: window.since.map(Time),
        until: window.until.map(Time),
        as_of: as_of.map(Time),
        runs: in_window_runs.len(),
        first_run: in_window_runs.first().map(|j| Time(j.run.at)),
        in_step: last.map(|j| j.in_step()),
        out_of_step_since: open_period.map(|start| Since {
            at: Time(start),
            days: days_between(start, end_or_now(None)),
        }),
        catalog: last.and_then(|j| j.run.catalog.as_deref().map(str::to_string)),
        nodes,
        periods,
        drift: episodes,
        updates,
        cumulative_known: !data.cumulative.is_empty(),
        behind,
        findings,
        events,
        timeline,
    }
}
