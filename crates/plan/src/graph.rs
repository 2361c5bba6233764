//! The supersedence graph of one product as the planner and the simulator
//! walk it: "superseded by" edges asked of the knowledge layer once per KB
//! and kept, edges a known issue calls *wrong* left out (as in the drift).
//! Every walk is linear in the part of the graph it reaches, so a plan over
//! a hundred thousand differing updates stays fast.

use lockstep_check::knowledge::{Knowledge, UpdateKind, VerdictKind};
use lockstep_model::{KbId, KbMap, KbSet};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

pub struct Graph<'k> {
    k: &'k dyn Knowledge,
    product: Option<String>,
    /// `up[kb]`: the updates that directly supersede `kb`.
    up: KbMap<Vec<KbId>>,
}

impl<'k> Graph<'k> {
    /// `product` is `None` when the node's OS is not a product lockstep can
    /// name: no edges then.
    pub fn new(k: &'k dyn Knowledge, product: Option<&str>) -> Self {
        Graph {
            k,
            product: product.map(str::to_string),
            up: KbMap::default(),
        }
    }

    pub fn product(&self) -> Option<&str> {
        self.product.as_deref()
    }

    /// Updates that directly supersede `kb`.
    pub fn up(&mut self, kb: KbId) -> &[KbId] {
        let (k, product) = (self.k, self.product.as_deref());
        self.up.entry(kb).or_insert_with(|| match product {
            None => Vec::new(),
            Some(p) => {
                let mut v: Vec<KbId> = k
                    .superseded_by(kb, p)
                    .into_iter()
                    .filter(|e| {
                        !e.verdict
                            .as_ref()
                            .is_some_and(|v| v.kind == VerdictKind::Wrong)
                            && e.newer != kb
                    })
                    .map(|e| e.newer)
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            }
        })
    }

    /// Every update reachable upwards ("superseded by", transitively) from
    /// any of `from`, not counting `from` itself unless reached again.
    pub fn reach_up(&mut self, from: impl IntoIterator<Item = KbId>) -> KbSet {
        let mut seen = KbSet::default();
        let mut queue: VecDeque<KbId> = from.into_iter().collect();
        while let Some(cur) = queue.pop_front() {
            let ups = self.up(cur).to_vec();
            for u in ups {
                if seen.insert(u) {
                    queue.push_back(u);
                }
            }
        }
        seen
    }

    /// The first update of `installed` met walking upwards from `kb`, if
    /// any (the simulator's "an installed update supersedes it").
    pub fn installed_above(&mut self, kb: KbId, installed: &KbSet) -> Option<KbId> {
        let mut seen = KbSet::default();
        let mut queue = VecDeque::from([kb]);
        while let Some(cur) = queue.pop_front() {
            let ups = self.up(cur).to_vec();
            for u in ups {
                if u == kb || !seen.insert(u) {
                    continue;
                }
                if installed.contains(&u) {
                    return Some(u);
                }
                queue.push_back(u);
            }
        }
        None
    }

    /// The updates of `among` that `kb` is superseded by, transitively.
    pub fn superseders_in(&mut self, kb: KbId, among: &KbSet) -> Vec<KbId> {
        let mut out: Vec<KbId> = self
            .reach_up([kb])
            .into_iter()
            .filter(|u| *u != kb && among.contains(u))
            .collect();
        out.sort_unstable();
        out
    }

    /// The kind of an update on this product.
    pub fn kind(&self, kb: KbId) -> Option<UpdateKind> {
        self.product.as_deref().and_then(|p| self.k.kind(kb, p))
    }

    /// An order of `kbs` in which every update comes before each update
    /// that supersedes it (directly or through updates outside `kbs`),
    /// ready updates taken by `tier` and then KB number. Returns the order
    /// and whether a cycle in the data had to be broken (its updates then
    /// follow in that same preference).
    pub fn install_order(&mut self, kbs: &KbSet, tier: impl Fn(KbId) -> u8) -> (Vec<KbId>, bool) {
        // The subgraph reachable upwards from `kbs`, with in-degrees.
        let mut nodes: Vec<KbId> = kbs.iter().copied().collect();
        nodes.sort_unstable();
        let mut index: KbMap<usize> = nodes.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        let mut i = 0;
        let mut edges: Vec<Vec<usize>> = Vec::new();
        while i < nodes.len() {
            let ups = self.up(nodes[i]).to_vec();
            let mut out = Vec::with_capacity(ups.len());
            for u in ups {
                let j = *index.entry(u).or_insert_with(|| {
                    nodes.push(u);
                    nodes.len() - 1
                });
                out.push(j);
            }
            edges.push(out);
            i += 1;
        }
        let mut indegree = vec![0usize; nodes.len()];
        for out in &edges {
            for &j in out {
                indegree[j] += 1;
            }
        }
        let keys: Vec<(u8, KbId)> = nodes.iter().map(|&k| (tier(k), k)).collect();
        let mut ready: BinaryHeap<Reverse<((u8, KbId), usize)>> = (0..nodes.len())
            .filter(|&i| indegree[i] == 0)
            .map(|i| Reverse((keys[i], i)))
            .collect();
        let mut done = vec![false; nodes.len()];
        let mut order = Vec::with_capacity(kbs.len());
        let mut cycle = false;
        let mut placed = 0;
        // Not yet placed, in preference order: where a cycle is broken.
        let mut rest: Vec<usize> = (0..nodes.len()).collect();
        rest.sort_by_key(|&i| keys[i]);
        let mut rest_at = 0;
        while placed < nodes.len() {
            let next = match ready.pop() {
                Some(Reverse((_, i))) => i,
                None => {
                    cycle = true;
                    while rest_at < rest.len() && done[rest[rest_at]] {
                        rest_at += 1;
                    }
                    match rest.get(rest_at) {
                        Some(&i) => i,
                        None => break,
                    }
                }
            };
            if done[next] {
                continue;
            }
            done[next] = true;
            placed += 1;
            if kbs.contains(&nodes[next]) {
                order.push(nodes[next]);
            }
            for &j in &edges[next] {
                if indegree[j] > 0 {
                    indegree[j] -= 1;
                    if indegree[j] == 0 && !done[j] {
                        ready.push(Reverse((keys[j], j)));
                    }
                }
            }
        }
        (order, cycle)
    }
}

/// Install preference: servicing stack updates first, then cumulative
/// updates and rollups, then the rest.
pub fn tier(kind: Option<UpdateKind>) -> u8 {
    match kind {
        Some(UpdateKind::ServicingStack) => 0,
        Some(
            UpdateKind::Cumulative
            | UpdateKind::MonthlyRollup
            | UpdateKind::SecurityOnly
            | UpdateKind::Hotpatch,
        ) => 1,
        _ => 2,
    }
}

/// Whether removing the update completes only at restart (the older
/// update's applicability is judged against it until then).
pub fn is_cumulative(kind: Option<UpdateKind>) -> bool {
    tier(kind) == 1
}
