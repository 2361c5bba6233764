//! Fleet generator: N clusters of M nodes with install histories that look
//! like real ones, drawn from the catalog, written as lockstep snapshots (one
//! file per cluster). Used by the check benchmark and available as the
//! hidden `lockstep generate-fleet` command.
//!
//! How a node's history is made: each cluster runs one servicing product
//! with enough updates in the catalog. The cluster has a patch level (mostly
//! recent). A node carries what Windows Update would have left it with: every
//! update published up to its patch level that nothing newer supersedes (the
//! chain heads), plus older, superseded updates it installed on the way,
//! up to about `updates_per_node` in all. One node in five is behind the
//! cluster by up to 30 updates, and a few updates are skipped at random: the
//! drift lockstep exists to explain. Everything derives from one seed.

use lockstep_catalog::Catalog;
use lockstep_catalog::catalog::ProductId;
use lockstep_model::KbId;
use lockstep_model::snapshot::{
    Collector, Hotfix, Os, Section, Snapshot, SnapshotCluster, SnapshotNode, Status,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct FleetSpec {
    pub clusters: usize,
    pub nodes_per_cluster: usize,
    /// Roughly how many updates a node carries; products are picked so that
    /// their catalog holds at least this many.
    pub updates_per_node: usize,
    pub seed: u64,
}

/// Servicing products usable for the fleet: (id, name, build, sorted KBs with dates).
struct ProductPool {
    id: ProductId,
    name: String,
    build: u32,
    caption: &'static str,
    kbs: Vec<(KbId, jiff::civil::Date)>,
}

fn build_of(name: &str) -> Option<(u32, &'static str)> {
    Some(match name {
        "Windows Server 2008 R2 Service Pack 1" => {
            (7601, "Microsoft Windows Server 2008 R2 Datacenter")
        }
        "Windows Server 2012" => (9200, "Microsoft Windows Server 2012 Datacenter"),
        "Windows Server 2012 R2" => (9600, "Microsoft Windows Server 2012 R2 Datacenter"),
        "Windows Server 2016" => (14393, "Microsoft Windows Server 2016 Datacenter"),
        "Windows Server 2019" => (17763, "Microsoft Windows Server 2019 Datacenter"),
        "Windows Server 2022" => (20348, "Microsoft Windows Server 2022 Datacenter"),
        _ => return None,
    })
}

fn pools(catalog: &Catalog, min_updates: usize) -> Vec<ProductPool> {
    let mut out = Vec::new();
    let products: Vec<(ProductId, String)> = catalog
        .products()
        .map(|(id, n)| (id, n.to_string()))
        .collect();
    for (id, name) in products {
        let Some((build, caption)) = build_of(&name) else {
            continue;
        };
        let mut kbs: Vec<(KbId, jiff::civil::Date)> = catalog
            .updates_for(id)
            .filter_map(|kb| catalog.release_date(kb).map(|d| (kb, d)))
            .collect();
        kbs.sort_by_key(|(kb, d)| (*d, *kb));
        if kbs.len() >= min_updates {
            out.push(ProductPool {
                id,
                name,
                build,
                caption,
                kbs,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Generates the fleet in memory.
pub fn generate(catalog: &Catalog, spec: &FleetSpec) -> Result<Vec<Snapshot>, String> {
    let pools = pools(catalog, spec.updates_per_node);
    if pools.is_empty() {
        return Err(format!(
            "the catalog has no Windows Server product with {} or more dated updates",
            spec.updates_per_node
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut out = Vec::with_capacity(spec.clusters);
    for c in 0..spec.clusters {
        let pool = &pools[rng.random_range(0..pools.len())];
        // The cluster's patch level: an index into the product's history
        // such that about `updates_per_node` updates precede it.
        let len = pool.kbs.len();
        // Most clusters are within a few months of the newest update.
        let end = len - rng.random_range(0..len.min(60));
        let cluster_name = format!("CLU{c:05}");
        let mut nodes = Vec::with_capacity(spec.nodes_per_cluster);
        for n in 0..spec.nodes_per_cluster {
            let behind = if rng.random_bool(0.2) {
                rng.random_range(1..=30usize)
            } else {
                0
            };
            let node_end = end.saturating_sub(behind).max(1);
            let chosen = history(catalog, pool, node_end, spec.updates_per_node, &mut rng);
            let mut hotfixes = Vec::with_capacity(chosen.len());
            for (kb, date) in chosen {
                // A few updates are skipped (drift).
                if rng.random_bool(0.985) {
                    hotfixes.push(Hotfix {
                        hot_fix_id: kb.to_string(),
                        description: Some("Security Update".into()),
                        installed_on: Some(date.to_string()),
                        installed_by: Some("NT AUTHORITY\\SYSTEM".into()),
                    });
                }
            }
            nodes.push(SnapshotNode {
                name: format!("{cluster_name}-N{n:02}"),
                state: Some("Up".into()),
                node_weight: Some(1),
                dynamic_weight: Some(1),
                drain_status: Some("NotInitiated".into()),
                os: Section {
                    status: Status::Ok,
                    message: None,
                    data: Some(Os {
                        caption: pool.caption.into(),
                        version: format!("{}.{}", major_minor(pool.build), pool.build),
                        build: pool.build,
                        ubr: None,
                        display_version: None,
                        installation_type: Some("Server".into()),
                        architecture: Some("AMD64".into()),
                        domain: Some("corp.contoso.com".into()),
                        last_boot_time: None,
                    }),
                },
                hotfixes: Section {
                    status: Status::Ok,
                    message: None,
                    data: Some(hotfixes),
                },
                packages: None,
                update_history: None,
                pending_reboot: None,
                defender_preferences: None,
                defender_status: None,
                fltmc_filters: None,
                fltmc_instances: None,
                installed_products: None,
                vms: None,
                memory: None,
            });
        }
        out.push(Snapshot {
            schema: lockstep_model::snapshot::SCHEMA_ID.into(),
            collected_at: "2026-11-27T00:00:00Z".into(),
            collector: Collector {
                version: "generated".into(),
                host: format!("{cluster_name}-N00"),
                user: None,
                elevated: true,
                powershell_version: None,
            },
            clusters: vec![SnapshotCluster {
                name: cluster_name,
                domain: Some("corp.contoso.com".into()),
                quorum: None,
                shared_volume_compatible_filters: None,
                shared_volume_incompatible_filters: None,
                groups: None,
                shared_volumes: None,
                nodes,
            }],
        });
    }
    Ok(out)
}

/// A node's installed updates at patch level `end` (an index into the
/// product's dated history): the chain heads, then superseded older updates,
/// newest first, until about `want` are chosen. Sorted by date.
fn history(
    catalog: &Catalog,
    pool: &ProductPool,
    end: usize,
    want: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<(KbId, jiff::civil::Date)> {
    let published = &pool.kbs[..end.min(pool.kbs.len())];
    let present: std::collections::HashSet<KbId> = published.iter().map(|(kb, _)| *kb).collect();
    let mut superseded = std::collections::HashSet::new();
    for (kb, _) in published {
        for e in catalog.supersedes(pool.id, *kb) {
            if present.contains(&e.older) {
                superseded.insert(e.older);
            }
        }
    }
    let mut chosen: Vec<(KbId, jiff::civil::Date)> = published
        .iter()
        .filter(|(kb, _)| !superseded.contains(kb))
        .copied()
        .collect();
    for (kb, date) in published.iter().rev() {
        if chosen.len() >= want {
            break;
        }
        if superseded.contains(kb) && rng.random_bool(0.8) {
            chosen.push((*kb, *date));
        }
    }
    chosen.sort_by_key(|(kb, d)| (*d, *kb));
    chosen
}

fn major_minor(build: u32) -> &'static str {
    match build {
        7601 => "6.1",
        9200 => "6.2",
        9600 => "6.3",
        _ => "10.0",
    }
}

/// Writes one snapshot file per cluster into `dir`; returns the paths.
pub fn write(dir: &Path, fleet: &[Snapshot]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::with_capacity(fleet.len());
    for s in fleet {
        let name = s
            .clusters
            .first()
            .map(|c| c.name.as_str())
            .unwrap_or("fleet");
        let path = dir.join(format!("{name}.json"));
        let body = serde_json::to_vec(s).map_err(std::io::Error::other)?;
        std::fs::write(&path, body)?;
        paths.push(path);
    }
    Ok(paths)
}
