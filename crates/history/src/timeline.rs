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
//!   cumulative updates its nodes carry; a node without it is *behind*;
//! * a node whose updates could not be read in a run (a snapshot's
//!   `hotfixes` section in error) keeps its last known ones: an unreadable
//!   list is no evidence of a change.
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

/// A node's observations whose updates are known, by time.
type KnownByNode<'a> = HashMap<&'a str, Vec<&'a ObsView>>;

fn judge<'a>(
    run: &'a RunView,
    obs: &HashMap<(&str, i64), &'a ObsView>,
    known_by_node: &KnownByNode<'a>,
    cumulative: &HashMap<u32, Option<String>>,
) -> Judged<'a> {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut builds: BTreeMap<Option<u32>, Vec<(&'a str, &'a [u32])>> = BTreeMap::new();
    for (node, at) in &run.members {
        let Some(o) = obs.get(&(&**node, *at)) else {
            continue;
        };
        // A node whose updates could not be read this time keeps its last
        // known ones: an unreadable list is no evidence of a change.
        let carried = match &o.kbs {
            Some(_) => Some(*o),
            None => {
                unknown.push(&*o.node);
                known_by_node.get(&*o.node).and_then(|list| {
                    let i = list.partition_point(|k| k.at <= *at);
                    i.checked_sub(1).map(|i| list[i])
                })
            }
        };
        if let Some(k) = carried
            && let Some(kbs) = &k.kbs
        {
            let name: &'a str = &o.node;
            known.push((name, kbs.as_slice()));
            builds
                .entry(build_number(k.os_build.as_deref()))
                .or_default()
                .push((name, kbs.as_slice()));
        }
    }
    let mut union = BTreeSet::new();
    let mut inter: Option<BTreeSet<u32>> = None;
    for (_, kbs) in &known {
        union.extend(kbs.iter().copied());
        inter = Some(match inter {
            None => kbs.iter().copied().collect(),
            Some(i) => i
                .into_iter()
                .filter(|k| kbs.binary_search(k).is_ok())
                .collect(),
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

fn event(at: i64, kind: &'static str, kb: Option<u32>, nodes: Vec<String>) -> Event {
    Event {
        at: Time(at),
        kind,
        kb: kb.map(kb_name),
        nodes,
        days: None,
        resolution: None,
    }
}

/// The nodes of `known` that have (or lack) `kb`.
fn names(known: &[(&str, &[u32])], has: bool, kb: u32) -> Vec<String> {
    known
        .iter()
        .filter(|(_, kbs)| kbs.binary_search(&kb).is_ok() == has)
        .map(|(n, _)| n.to_string())
        .collect()
}

/// Walks the judged runs in order, opening and closing periods, drift
/// episodes and behind periods, and noting the findings.
#[derive(Default)]
struct Scan {
    periods: Vec<Period>,
    open_period: Option<i64>,
    episodes: Vec<DriftEpisode>,
    open_eps: BTreeMap<u32, OpenEpisode>,
    behind: Vec<BehindPeriod>,
    open_behind: BTreeMap<String, (i64, u32)>,
    events: Vec<Event>,
    findings: BTreeMap<(String, Vec<String>), FindingSeen>,
}

impl Scan {
    fn run(&mut self, j: &Judged) {
        self.period(j);
        self.drift(j);
        self.fall_behind(j);
        self.note_findings(j);
    }

    fn period(&mut self, j: &Judged) {
        let at = j.run.at;
        match (self.open_period, j.in_step()) {
            (None, false) => {
                self.open_period = Some(at);
                self.events.push(event(at, "out-of-step", None, Vec::new()));
            }
            (Some(start), true) => {
                self.open_period = None;
                self.periods.push(Period {
                    start: Time(start),
                    end: Some(Time(at)),
                    days: days_between(start, at),
                    seconds: at - start,
                });
                self.events.push(Event {
                    days: Some(days_between(start, at)),
                    ..event(at, "in-step", None, Vec::new())
                });
            }
            _ => {}
        }
    }

    fn drift(&mut self, j: &Judged) {
        let at = j.run.at;
        let differ: BTreeSet<u32> = j.differ().collect();
        let closing: Vec<u32> = self
            .open_eps
            .keys()
            .copied()
            .filter(|kb| !differ.contains(kb))
            .collect();
        for kb in closing {
            let Some(e) = self.open_eps.remove(&kb) else {
                continue;
            };
            let resolution = if j.inter.contains(&kb) {
                "installed-everywhere"
            } else {
                "removed-everywhere"
            };
            let days = days_between(e.opened, at);
            self.episodes.push(DriftEpisode {
                kb: kb_name(kb),
                opened: Time(e.opened),
                closed: Some(Time(at)),
                days,
                resolution,
                present_on: e.present_on,
                absent_on: e.absent_on,
            });
            self.events.push(Event {
                days: Some(days),
                resolution: Some(resolution),
                ..event(at, "drift-closed", Some(kb), Vec::new())
            });
        }
        for kb in differ {
            if self.open_eps.contains_key(&kb) {
                continue;
            }
            let absent_on = names(&j.known, false, kb);
            self.events
                .push(event(at, "drift-opened", Some(kb), absent_on.clone()));
            self.open_eps.insert(
                kb,
                OpenEpisode {
                    opened: at,
                    present_on: names(&j.known, true, kb),
                    absent_on,
                },
            );
        }
    }

    /// Behind the newest cumulative update: a node catches up when a run
    /// shows it with the update, or no longer lists it as a member; a run
    /// where its updates are unknown changes nothing.
    fn fall_behind(&mut self, j: &Judged) {
        let at = j.run.at;
        let members: BTreeSet<&str> = j.run.members.iter().map(|(n, _)| &**n).collect();
        let closing: Vec<String> = self
            .open_behind
            .keys()
            .filter(|n| {
                !j.unknown.contains(&n.as_str())
                    && (!members.contains(n.as_str()) || !j.behind.contains_key(n.as_str()))
            })
            .cloned()
            .collect();
        for n in closing {
            let Some((start, kb)) = self.open_behind.remove(&n) else {
                continue;
            };
            let days = days_between(start, at);
            self.behind.push(BehindPeriod {
                node: n.clone(),
                lacking: kb_name(kb),
                start: Time(start),
                end: Some(Time(at)),
                days,
            });
            self.events.push(Event {
                days: Some(days),
                ..event(at, "caught-up", Some(kb), vec![n])
            });
        }
        for (n, kb) in &j.behind {
            if !self.open_behind.contains_key(*n) {
                self.open_behind.insert(n.to_string(), (at, *kb));
                self.events
                    .push(event(at, "fell-behind", Some(*kb), vec![n.to_string()]));
            }
        }
    }

    fn note_findings(&mut self, j: &Judged) {
        let at = Time(j.run.at);
        for f in j.run.findings.iter() {
            let e = self
                .findings
                .entry((f.code.clone(), f.nodes.clone()))
                .or_insert_with(|| FindingSeen {
                    code: f.code.clone(),
                    severity: f.severity.clone(),
                    nodes: f.nodes.clone(),
                    title: f.title.clone(),
                    first_seen: at,
                    last_seen: at,
                    open: false,
                });
            e.last_seen = at;
            e.title.clone_from(&f.title);
            e.severity.clone_from(&f.severity);
        }
    }

    /// What is still open is measured to `as_of`.
    fn finish(&mut self, as_of: i64, last: Option<&Judged>) {
        if let Some(start) = self.open_period {
            self.periods.push(Period {
                start: Time(start),
                end: None,
                days: days_between(start, as_of),
                seconds: as_of - start,
            });
        }
        for (kb, e) in std::mem::take(&mut self.open_eps) {
            self.episodes.push(DriftEpisode {
                kb: kb_name(kb),
                opened: Time(e.opened),
                closed: None,
                days: days_between(e.opened, as_of),
                resolution: "open",
                present_on: e.present_on,
                absent_on: e.absent_on,
            });
        }
        for (n, (start, kb)) in std::mem::take(&mut self.open_behind) {
            self.behind.push(BehindPeriod {
                node: n,
                lacking: kb_name(kb),
                start: Time(start),
                end: None,
                days: days_between(start, as_of),
            });
        }
        for f in last.iter().flat_map(|j| j.run.findings.iter()) {
            if let Some(e) = self.findings.get_mut(&(f.code.clone(), f.nodes.clone())) {
                e.open = true;
            }
        }
    }

    /// Keeps what overlaps the window (from `since` on), sorted.
    fn window(&mut self, since: i64) {
        let overlaps =
            |start: Time, end: Option<Time>| end.is_none_or(|e| e.0 >= since) || start.0 >= since;
        self.periods.retain(|p| overlaps(p.start, p.end));
        self.episodes.retain(|e| overlaps(e.opened, e.closed));
        self.episodes
            .sort_by(|a, b| (a.opened, &a.kb).cmp(&(b.opened, &b.kb)));
        self.behind.retain(|b| overlaps(b.start, b.end));
        self.behind
            .sort_by(|a, b| (a.start, &a.node).cmp(&(b.start, &b.node)));
        self.events.retain(|e| e.at.0 >= since);
        // At one time: the cluster's state first, then what changed.
        let rank = |k: &str| match k {
            "out-of-step" | "in-step" => 0,
            "drift-closed" => 1,
            "drift-opened" => 2,
            "caught-up" => 3,
            _ => 4,
        };
        self.events.sort_by(|a, b| {
            (a.at, rank(a.kind), &a.kb, &a.nodes).cmp(&(b.at, rank(b.kind), &b.kb, &b.nodes))
        });
    }
}

/// Each run in the window: the cluster's state and each node's.
fn timeline_points(runs: &[&Judged], all_nodes: &BTreeSet<&str>) -> Vec<TimelinePoint> {
    runs.iter()
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
                            _ if j.unknown.contains(n) => "unknown",
                            None => "unknown",
                            Some(_) if j.behind.contains_key(n) => "behind",
                            Some(kbs) if kbs.len() < j.union.len() => "lacking",
                            Some(_) => "in-step",
                        },
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Per differing update, per node: first and last seen installed.
fn updates_seen(kbs: &BTreeSet<u32>, per_node: &BTreeMap<&str, Vec<&ObsView>>) -> Vec<UpdateSeen> {
    kbs.iter()
        .map(|kb| UpdateSeen {
            kb: kb_name(*kb),
            nodes: per_node
                .iter()
                .map(|(n, list)| {
                    let has =
                        |o: &&&ObsView| o.kbs.as_ref().is_some_and(|k| k.binary_search(kb).is_ok());
                    let last_known = list.iter().rev().find_map(|o| o.kbs.as_ref());
                    NodeSeen {
                        node: n.to_string(),
                        first_seen: list.iter().find(has).map(|o| Time(o.at)),
                        last_seen: list.iter().rev().find(has).map(|o| Time(o.at)),
                        installed: last_known.is_some_and(|k| k.binary_search(kb).is_ok()),
                    }
                })
                .collect(),
        })
        .collect()
}

/// The history of one cluster within `window`.
pub fn history(data: &ClusterData, window: Window) -> HistoryReport {
    let obs: HashMap<(&str, i64), &ObsView> = data
        .observations
        .iter()
        .map(|o| ((&*o.node, o.at), o))
        .collect();
    // Runs where no node's updates are known say nothing about the step.
    let mut known_by_node: KnownByNode = HashMap::new();
    for o in data.observations.iter().filter(|o| o.kbs.is_some()) {
        known_by_node.entry(&o.node).or_default().push(o);
    }
    let judged: Vec<Judged> = data
        .runs
        .iter()
        .map(|r| judge(r, &obs, &known_by_node, &data.cumulative))
        .filter(|j| !j.known.is_empty())
        .collect();
    let since = window.since.unwrap_or(i64::MIN);
    let as_of = judged.last().map(|j| j.run.at);
    let mut scan = Scan::default();
    for j in &judged {
        scan.run(j);
    }
    let out_of_step_since = scan.open_period.map(|start| Since {
        at: Time(start),
        days: days_between(start, as_of.unwrap_or(start)),
    });
    scan.finish(as_of.unwrap_or(0), judged.last());
    scan.window(since);
    let mut findings: Vec<FindingSeen> = std::mem::take(&mut scan.findings)
        .into_values()
        .filter(|f| f.last_seen.0 >= since)
        .collect();
    findings
        .sort_by(|a, b| (a.first_seen, &a.code, &a.nodes).cmp(&(b.first_seen, &b.code, &b.nodes)));

    let in_window: Vec<&Judged> = judged.iter().filter(|j| j.run.at >= since).collect();
    let all_nodes: BTreeSet<&str> = data
        .runs
        .iter()
        .flat_map(|r| r.members.iter().map(|(n, _)| &**n))
        .collect();
    let mut per_node: BTreeMap<&str, Vec<&ObsView>> = BTreeMap::new();
    for o in &data.observations {
        if all_nodes.contains(&*o.node) {
            per_node.entry(&o.node).or_default().push(o);
        }
    }
    let differing: BTreeSet<u32> = scan
        .episodes
        .iter()
        .filter_map(|e| e.kb.trim_start_matches("KB").parse().ok())
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
        runs: in_window.len(),
        first_run: in_window.first().map(|j| Time(j.run.at)),
        in_step: last.map(|j| j.in_step()),
        out_of_step_since,
        catalog: last.and_then(|j| j.run.catalog.as_deref().map(str::to_string)),
        nodes,
        updates: updates_seen(&differing, &per_node),
        periods: scan.periods,
        drift: scan.episodes,
        cumulative_known: !data.cumulative.is_empty(),
        behind: scan.behind,
        findings,
        events: scan.events,
        timeline: timeline_points(&in_window, &all_nodes),
    }
}
