//! Fleet generator: realistic fleets of failover clusters drawn from the
//! catalog, for benchmarks and scale tests (the hidden `lockstep
//! generate-fleet` command).
//!
//! What a fleet looks like:
//!
//! * Clusters of 2 to 64 nodes, most of them small (2–8 nodes), a few
//!   large; the first cluster always has the largest size
//!   ([`FleetSpec::max_cluster_nodes`]), so that fleets of any size made
//!   with one seed share their largest cluster. Or every cluster of one
//!   size ([`FleetSpec::cluster_nodes`]).
//! * Each cluster runs one Windows Server release, from 2008 R2 to 2025,
//!   in the proportions a Hyper-V estate of today might have (most on 2019
//!   and 2022, a few left on 2008 R2 and 2012), and a .NET Framework that
//!   release ships with.
//! * The updates are the catalog's own: a node patched up to a date
//!   carries what Windows Update leaves installed (every update published
//!   for its release and its .NET by then that no other of them supersedes)
//!   and part of the superseded history it installed on the way (much on
//!   the monthly-rollup releases, little on the cumulative ones; servicing
//!   stack updates stay). The cluster's nodes share that history.
//! * Most clusters are within a few months of the newest update; a node in
//!   a dozen is one to three months behind its cluster, a cluster in ten is
//!   in the middle of a rolling update (some nodes already carry the next
//!   month), and now and then a node lacks one update that failed to
//!   install: the drift lockstep exists to explain.
//!
//! Everything derives from the seed and the catalog. Clusters are made one
//! at a time ([`Fleet`] is an iterator), so a fleet of any size is written
//! in the memory of one cluster ([`write`]).

pub mod captures;
pub mod write;

use jiff::civil::Date;
use lockstep_catalog::catalog::ProductId;
use lockstep_catalog::{Catalog, UpdateKind};
use lockstep_model::KbId;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, HashSet};

pub use write::{Layout, write};

#[derive(Debug, Clone)]
pub struct FleetSpec {
    /// Nodes in the whole fleet.
    pub nodes: usize,
    /// Every cluster this size; `None`: realistic sizes up to
    /// `max_cluster_nodes`.
    pub cluster_nodes: Option<usize>,
    /// The largest cluster (and the size of the first).
    pub max_cluster_nodes: usize,
    pub seed: u64,
}

impl Default for FleetSpec {
    fn default() -> Self {
        FleetSpec {
            nodes: 8000,
            cluster_nodes: None,
            max_cluster_nodes: 64,
            seed: 1,
        }
    }
}

/// A Windows Server release as the generated nodes report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The catalog's servicing product.
    pub product: &'static str,
    /// `Microsoft Windows Server 2019 Datacenter`.
    pub caption: &'static str,
    /// `10.0.17763`.
    pub version: &'static str,
    pub build: u32,
    /// `Service Pack 1` on 2008 R2.
    pub service_pack: Option<&'static str>,
    /// Share of the fleet's clusters, in percent.
    weight: u32,
    /// Chance that a superseded update stays in the node's list, in percent.
    history: u32,
}

/// The releases a fleet runs (those the catalog has updates for).
pub const RELEASES: &[Release] = &[
    Release {
        product: "Windows Server 2008 R2 Service Pack 1",
        caption: "Microsoft Windows Server 2008 R2 Datacenter",
        version: "6.1.7601",
        build: 7601,
        service_pack: Some("Service Pack 1"),
        weight: 3,
        history: 60,
    },
    Release {
        product: "Windows Server 2012",
        caption: "Microsoft Windows Server 2012 Datacenter",
        version: "6.2.9200",
        build: 9200,
        service_pack: None,
        weight: 4,
        history: 60,
    },
    Release {
        product: "Windows Server 2012 R2",
        caption: "Microsoft Windows Server 2012 R2 Datacenter",
        version: "6.3.9600",
        build: 9600,
        service_pack: None,
        weight: 12,
        history: 50,
    },
    Release {
        product: "Windows Server 2016",
        caption: "Microsoft Windows Server 2016 Datacenter",
        version: "10.0.14393",
        build: 14393,
        service_pack: None,
        weight: 20,
        history: 10,
    },
    Release {
        product: "Windows Server 2019",
        caption: "Microsoft Windows Server 2019 Datacenter",
        version: "10.0.17763",
        build: 17763,
        service_pack: None,
        weight: 28,
        history: 10,
    },
    Release {
        product: "Windows Server 2022",
        caption: "Microsoft Windows Server 2022 Datacenter",
        version: "10.0.20348",
        build: 20348,
        service_pack: None,
        weight: 24,
        history: 10,
    },
    Release {
        product: "Windows Server 2025",
        caption: "Microsoft Windows Server 2025 Datacenter",
        version: "10.0.26100",
        build: 26100,
        service_pack: None,
        weight: 9,
        history: 10,
    },
];

/// One generated cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetCluster {
    pub name: String,
    pub nodes: Vec<FleetNode>,
}

/// One generated node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetNode {
    pub name: String,
    pub release: &'static Release,
    /// The update build revision of its newest cumulative update, where
    /// the catalog gives that update's fixed build.
    pub ubr: Option<u32>,
    /// Sorted by installation date, then KB.
    pub hotfixes: Vec<Installed>,
}

/// An installed update as `Get-HotFix` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub kb: KbId,
    /// `Security Update` or `Update`.
    pub description: &'static str,
    pub installed_on: Date,
}

/// A product's dated updates that Windows Update installs.
#[derive(Debug)]
struct Line {
    id: ProductId,
    /// Sorted by date, then KB.
    kbs: Vec<(KbId, Date, UpdateKind)>,
}

/// A release with its catalog data: its own updates and its .NET lines.
#[derive(Debug)]
struct Pool {
    release: &'static Release,
    os: Line,
    /// The .NET Framework versions published for it: a cluster runs one.
    dotnet: Vec<Line>,
    /// Internet Explorer 11 and Adobe Flash Player on it, where published:
    /// every node has them.
    browsers: Vec<Line>,
    /// The distinct release dates of the OS line: the patch levels.
    levels: Vec<Date>,
}

/// Kinds Windows Update installs on a server that is not on hotpatch.
fn installs(kind: UpdateKind) -> bool {
    !matches!(
        kind,
        UpdateKind::Hotpatch | UpdateKind::Preview | UpdateKind::SetupDynamic
    )
}

fn line(catalog: &Catalog, id: ProductId) -> Line {
    let mut kbs: Vec<(KbId, Date, UpdateKind)> = catalog
        .updates_for(id)
        .filter_map(|kb| {
            let u = catalog.update(kb)?;
            Some((kb, u.release_date?, u.kind))
        })
        .filter(|(_, _, kind)| installs(*kind))
        .collect();
    kbs.sort_by_key(|(kb, d, _)| (*d, *kb));
    kbs.dedup_by_key(|(kb, _, _)| *kb);
    Line { id, kbs }
}

fn pools(catalog: &Catalog) -> Vec<Pool> {
    let products: Vec<(ProductId, String)> = catalog
        .products()
        .map(|(id, n)| (id, n.to_string()))
        .collect();
    let mut out = Vec::new();
    for release in RELEASES {
        let Some(id) = catalog.product_by_name(release.product) else {
            continue;
        };
        let os = line(catalog, id);
        if os.kbs.len() < 10 {
            continue;
        }
        let suffix = format!(" on {}", release.product);
        let on_release = |prefix: &str| -> Vec<Line> {
            products
                .iter()
                .filter(|(_, n)| n.starts_with(prefix) && n.ends_with(&suffix))
                .map(|(id, _)| line(catalog, *id))
                .filter(|l| !l.kbs.is_empty())
                .collect()
        };
        let dotnet = on_release("Microsoft .NET Framework");
        let browsers = [
            on_release("Internet Explorer 11"),
            on_release("Adobe Flash Player"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut levels: Vec<Date> = os.kbs.iter().map(|(_, d, _)| *d).collect();
        levels.dedup();
        out.push(Pool {
            release,
            os,
            dotnet,
            browsers,
            levels,
        });
    }
    out
}

/// The fleet, one cluster at a time.
pub struct Fleet<'c> {
    catalog: &'c Catalog,
    spec: FleetSpec,
    pools: Vec<Pool>,
    rng: ChaCha8Rng,
    made: usize,
    clusters: usize,
    /// (product, level) → (chain heads, superseded updates) published by then.
    sets: HashMap<(ProductId, Date), (Vec<KbId>, Vec<KbId>)>,
    /// When the fleet was collected: a week after the newest update.
    pub collected: Date,
}

/// The fleet `spec` describes, from the catalog's updates.
pub fn fleet<'c>(catalog: &'c Catalog, spec: &FleetSpec) -> Result<Fleet<'c>, String> {
    let pools = pools(catalog);
    if pools.is_empty() {
        return Err(
            "the catalog has no Windows Server release from 2008 R2 to 2025 with dated updates"
                .into(),
        );
    }
    if spec.max_cluster_nodes < 2 || spec.cluster_nodes.is_some_and(|n| n < 1) {
        return Err("a cluster has at least 2 nodes (1 with a fixed size)".into());
    }
    let newest = pools
        .iter()
        .filter_map(|p| p.levels.last())
        .max()
        .copied()
        .unwrap_or(jiff::civil::date(2026, 1, 1));
    Ok(Fleet {
        catalog,
        spec: spec.clone(),
        pools,
        rng: ChaCha8Rng::seed_from_u64(spec.seed),
        made: 0,
        clusters: 0,
        sets: HashMap::new(),
        collected: newest.saturating_add(jiff::Span::new().days(7)),
    })
}

impl Iterator for Fleet<'_> {
    type Item = FleetCluster;

    fn next(&mut self) -> Option<FleetCluster> {
        let left = self.spec.nodes.saturating_sub(self.made);
        if left == 0 {
            return None;
        }
        let size = match self.spec.cluster_nodes {
            Some(n) => n,
            None if self.clusters == 0 => self.spec.max_cluster_nodes,
            None => cluster_size(&mut self.rng, self.spec.max_cluster_nodes),
        };
        // The last cluster takes what is left (a single node joins it).
        let size = if left < size + 2 && self.spec.cluster_nodes.is_none() {
            left
        } else {
            size.min(left)
        };
        let c = self.cluster(size);
        self.made += size;
        self.clusters += 1;
        Some(c)
    }
}

/// A cluster size: mostly small, a few large, at most `max`.
fn cluster_size(rng: &mut ChaCha8Rng, max: usize) -> usize {
    let (lo, hi) = match rng.random_range(0..100u32) {
        0..18 => (2, 2),
        18..28 => (3, 3),
        28..48 => (4, 4),
        48..73 => (5, 8),
        73..90 => (9, 16),
        90..97 => (17, 32),
        _ => (33, 64),
    };
    rng.random_range(lo.min(max)..=hi.min(max))
}

/// One of a release's lines of updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Os,
    DotNet(usize),
    Browser(usize),
}

/// The rule of a cluster's history: which superseded updates its nodes
/// kept (the same on every node), decided by a hash of the cluster's
/// seed and the KB.
struct History {
    seed: u64,
    keep: f64,
}

impl History {
    fn kept(&self, kb: KbId) -> bool {
        let mut x = self.seed ^ u64::from(kb.number()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 33;
        x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        x ^= x >> 33;
        (x as f64 / u64::MAX as f64) < self.keep
    }
}

impl Fleet<'_> {
    fn pick_pool(&mut self) -> usize {
        let total: u32 = self.pools.iter().map(|p| p.release.weight).sum();
        let mut at = self.rng.random_range(0..total);
        for (i, p) in self.pools.iter().enumerate() {
            if at < p.release.weight {
                return i;
            }
            at -= p.release.weight;
        }
        0
    }

    fn cluster(&mut self, size: usize) -> FleetCluster {
        let name = format!("CLU{:05}", self.clusters);
        let pi = self.pick_pool();
        let levels = self.pools[pi].levels.len();
        // Most clusters are within a few patch levels of the newest.
        let lag = match self.rng.random_range(0..100u32) {
            0..45 => 0,
            45..70 => 1,
            70..82 => 2,
            82..94 => self.rng.random_range(3..=6usize),
            _ => self.rng.random_range(7..=24usize),
        };
        let level = levels.saturating_sub(1 + lag);
        let dotnet = match self.pools[pi].dotnet.len() {
            0 => None,
            n => {
                let newest = self.pools[pi]
                    .dotnet
                    .iter()
                    .position(|l| self.catalog.product_name(l.id).contains("4.8"));
                match newest {
                    Some(i) if self.rng.random_bool(0.8) => Some(i),
                    _ => Some(self.rng.random_range(0..n)),
                }
            }
        };
        let history = History {
            seed: self.rng.random(),
            keep: f64::from(self.pools[pi].release.history) / 100.0,
        };
        let installed_after = self.rng.random_range(0..10i64);
        let rolling = size > 2 && level + 1 < levels && self.rng.random_bool(0.1);
        let mut nodes = Vec::with_capacity(size);
        for n in 0..size {
            let mut node_level = level;
            if rolling && n < size / 2 {
                node_level = level + 1;
            } else if self.rng.random_bool(0.08) {
                node_level = level.saturating_sub(self.rng.random_range(1..=3usize));
            }
            let failed = self.rng.random_bool(0.01).then(|| self.rng.random::<u64>());
            let jitter = self.rng.random_range(0..3i64);
            let node = self.node(
                format!("{name}-N{n:02}"),
                pi,
                dotnet,
                node_level,
                &history,
                installed_after + jitter,
                failed,
            );
            nodes.push(node);
        }
        FleetCluster { name, nodes }
    }

    /// The chain heads and the superseded updates of a line published by `by`.
    fn set(&mut self, pool: usize, which: Which, by: Date) -> (Vec<KbId>, Vec<KbId>) {
        let p = &self.pools[pool];
        let line = match which {
            Which::Os => &p.os,
            Which::DotNet(i) => &p.dotnet[i],
            Which::Browser(i) => &p.browsers[i],
        };
        let key = (line.id, by);
        if let Some(s) = self.sets.get(&key) {
            return s.clone();
        }
        let published: Vec<KbId> = line
            .kbs
            .iter()
            .take_while(|(_, d, _)| *d <= by)
            .map(|(kb, _, _)| *kb)
            .collect();
        let present: HashSet<KbId> = published.iter().copied().collect();
        let mut superseded = HashSet::new();
        for kb in &published {
            for e in self.catalog.supersedes(line.id, *kb) {
                if present.contains(&e.older) {
                    superseded.insert(e.older);
                }
            }
        }
        let (old, heads): (Vec<KbId>, Vec<KbId>) =
            published.iter().partition(|kb| superseded.contains(kb));
        self.sets.insert(key, (heads.clone(), old.clone()));
        (heads, old)
    }

    #[allow(clippy::too_many_arguments)]
    fn node(
        &mut self,
        name: String,
        pool: usize,
        dotnet: Option<usize>,
        level: usize,
        history: &History,
        installed_after: i64,
        failed: Option<u64>,
    ) -> FleetNode {
        let by = self.pools[pool].levels[level];
        let mut kbs: Vec<KbId> = Vec::new();
        let lines = std::iter::once(Which::Os)
            .chain(dotnet.map(Which::DotNet))
            .chain((0..self.pools[pool].browsers.len()).map(Which::Browser));
        for which in lines {
            let (heads, old) = self.set(pool, which, by);
            let mut heads = heads;
            if let Some(f) = failed.filter(|_| which == Which::Os && !heads.is_empty()) {
                heads.remove(f as usize % heads.len());
            }
            kbs.extend(heads);
            kbs.extend(old.into_iter().filter(|kb| {
                history.kept(*kb)
                    || self.catalog.update(*kb).map(|u| u.kind) == Some(UpdateKind::ServicingStack)
            }));
        }
        let os = self.pools[pool].os.id;
        let release = self.pools[pool].release;
        let mut hotfixes: Vec<Installed> = kbs
            .iter()
            .filter_map(|kb| {
                let u = self.catalog.update(*kb)?;
                let released = u.release_date?;
                let on = released
                    .saturating_add(jiff::Span::new().days(installed_after))
                    .min(self.collected);
                Some(Installed {
                    kb: *kb,
                    description: match u.kind {
                        UpdateKind::ServicingStack | UpdateKind::Other => "Update",
                        _ => "Security Update",
                    },
                    installed_on: on,
                })
            })
            .collect();
        hotfixes.sort_by_key(|h| (h.installed_on, h.kb));
        let ubr = hotfixes
            .iter()
            .filter_map(|h| self.catalog.update(h.kb)?.product(os)?.fixed_build)
            .filter(|v| v.build() == release.build && v.len() == 4)
            .map(|v| v.revision())
            .max();
        FleetNode {
            name,
            release,
            ubr,
            hotfixes,
        }
    }
}
