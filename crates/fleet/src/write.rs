//! Writing a generated fleet in the layouts lockstep reads.

use crate::{Fleet, FleetCluster, FleetNode, captures};
use lockstep_model::snapshot::{
    Collector, Hotfix, Os, Section, Snapshot, SnapshotCluster, SnapshotNode, Status,
};
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

/// How a fleet is laid out on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One lockstep snapshot per cluster: `DIR/CLU00000.json`.
    Snapshots,
    /// One folder per cluster with one `systeminfo` capture per node:
    /// `DIR/CLU00000/CLU00000-N00.systeminfo.txt` (check `DIR/*`).
    Folders,
    /// The folders and a fleet manifest naming every file: `DIR/fleet.toml`.
    Manifest,
    /// One snapshot holding every cluster: `DIR/fleet.json`.
    Snapshot,
    /// Every node's `systeminfo` in one file, one after the other:
    /// `DIR/systeminfo.txt`.
    SysteminfoFile,
    /// Every node's updates in one `Get-HotFix | ConvertTo-Json` array:
    /// `DIR/get-hotfix.json`.
    HotfixJsonFile,
}

impl Layout {
    pub const NAMES: &'static [&'static str] = &[
        "snapshots",
        "folders",
        "manifest",
        "snapshot",
        "systeminfo-file",
        "get-hotfix-json-file",
    ];

    pub fn parse(s: &str) -> Option<Layout> {
        Some(match s {
            "snapshots" => Layout::Snapshots,
            "folders" => Layout::Folders,
            "manifest" => Layout::Manifest,
            "snapshot" => Layout::Snapshot,
            "systeminfo-file" => Layout::SysteminfoFile,
            "get-hotfix-json-file" => Layout::HotfixJsonFile,
            _ => return None,
        })
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub clusters: usize,
    pub nodes: usize,
    pub hotfixes: usize,
    pub largest_cluster: usize,
    pub files: usize,
}

const DOMAIN: &str = "corp.contoso.com";

/// Writes `fleet` into `dir` (created) in `layout`, one cluster at a time.
pub fn write(dir: &Path, fleet: Fleet<'_>, layout: Layout) -> std::io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let collected = format!("{}T00:00:00Z", fleet.collected);
    let mut out = Written::default();
    let mut single: Option<BufWriter<std::fs::File>> = None;
    let mut manifest: Option<BufWriter<std::fs::File>> = None;
    let mut first = true;
    let mut text = String::new();
    match layout {
        Layout::Snapshot => {
            let mut w = BufWriter::new(std::fs::File::create(dir.join("fleet.json"))?);
            // The document with no cluster, then the clusters spliced in
            // (`clusters` is its last field).
            let head = serde_json::to_string(&snapshot(&collected, "CLU00000-N00", Vec::new()))
                .map_err(std::io::Error::other)?;
            let head = head.strip_suffix("]}").unwrap_or(&head);
            w.write_all(head.as_bytes())?;
            single = Some(w);
        }
        Layout::SysteminfoFile => {
            single = Some(BufWriter::new(std::fs::File::create(
                dir.join("systeminfo.txt"),
            )?));
        }
        Layout::HotfixJsonFile => {
            let mut w = BufWriter::new(std::fs::File::create(dir.join("get-hotfix.json"))?);
            w.write_all(b"[\r\n")?;
            single = Some(w);
        }
        Layout::Manifest => {
            let mut w = BufWriter::new(std::fs::File::create(dir.join("fleet.toml"))?);
            w.write_all(b"# A generated fleet (lockstep generate-fleet --layout manifest).\n")?;
            manifest = Some(w);
        }
        Layout::Snapshots | Layout::Folders => {}
    }
    for cluster in fleet {
        out.clusters += 1;
        out.nodes += cluster.nodes.len();
        out.largest_cluster = out.largest_cluster.max(cluster.nodes.len());
        out.hotfixes += cluster
            .nodes
            .iter()
            .map(|n| n.hotfixes.len())
            .sum::<usize>();
        match layout {
            Layout::Snapshots => {
                let s = snapshot(
                    &collected,
                    &cluster.nodes[0].name,
                    vec![snapshot_cluster(&cluster)],
                );
                let body = serde_json::to_vec(&s).map_err(std::io::Error::other)?;
                std::fs::write(dir.join(format!("{}.json", cluster.name)), body)?;
                out.files += 1;
            }
            Layout::Folders | Layout::Manifest => {
                let folder = dir.join(&cluster.name);
                std::fs::create_dir_all(&folder)?;
                if let Some(m) = &mut manifest {
                    writeln!(m, "\n[[cluster]]\nname = \"{}\"", cluster.name)?;
                }
                for node in &cluster.nodes {
                    text.clear();
                    captures::systeminfo(&mut text, node, DOMAIN);
                    let file = format!("{}.systeminfo.txt", node.name);
                    std::fs::write(folder.join(&file), &text)?;
                    out.files += 1;
                    if let Some(m) = &mut manifest {
                        writeln!(
                            m,
                            "\n[[cluster.node]]\nname = \"{}\"\nfiles = [\"{}/{file}\"]",
                            node.name, cluster.name
                        )?;
                    }
                }
            }
            Layout::Snapshot => {
                let w = single
                    .as_mut()
                    .ok_or_else(|| std::io::Error::other("no file"))?;
                if !first {
                    w.write_all(b",")?;
                }
                first = false;
                serde_json::to_writer(&mut *w, &snapshot_cluster(&cluster))
                    .map_err(std::io::Error::other)?;
            }
            Layout::SysteminfoFile | Layout::HotfixJsonFile => {
                let w = single
                    .as_mut()
                    .ok_or_else(|| std::io::Error::other("no file"))?;
                for node in &cluster.nodes {
                    text.clear();
                    if layout == Layout::SysteminfoFile {
                        captures::systeminfo(&mut text, node, DOMAIN);
                    } else {
                        captures::get_hotfix_json(&mut text, node, &mut first);
                    }
                    w.write_all(text.as_bytes())?;
                }
            }
        }
    }
    match layout {
        Layout::Snapshot => finish(single, b"]}")?,
        Layout::HotfixJsonFile => finish(single, b"\r\n]\r\n")?,
        Layout::SysteminfoFile => finish(single, b"")?,
        Layout::Manifest => finish(manifest, b"")?,
        Layout::Snapshots | Layout::Folders => {}
    }
    if matches!(
        layout,
        Layout::Snapshot | Layout::SysteminfoFile | Layout::HotfixJsonFile | Layout::Manifest
    ) {
        out.files += 1;
    }
    Ok(out)
}

fn finish(w: Option<BufWriter<std::fs::File>>, tail: &[u8]) -> std::io::Result<()> {
    if let Some(mut w) = w {
        w.write_all(tail)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    Ok(())
}

fn snapshot(
    collected: &str,
    host: &str,
    clusters: Vec<SnapshotCluster<'static>>,
) -> Snapshot<'static> {
    Snapshot {
        schema: lockstep_model::snapshot::SCHEMA_ID.into(),
        collected_at: collected.into(),
        collector: Collector {
            version: "generated".into(),
            host: host.into(),
            user: None,
            elevated: true,
            powershell_version: None,
        },
        clusters,
    }
}

fn snapshot_cluster(c: &FleetCluster) -> SnapshotCluster<'static> {
    SnapshotCluster {
        name: c.name.clone(),
        domain: Some(DOMAIN.into()),
        quorum: None,
        shared_volume_compatible_filters: None,
        shared_volume_incompatible_filters: None,
        groups: None,
        shared_volumes: None,
        nodes: c.nodes.iter().map(snapshot_node).collect(),
    }
}

fn snapshot_node(n: &FleetNode) -> SnapshotNode<'static> {
    let r = n.release;
    let mut on = String::new();
    let hotfixes = n
        .hotfixes
        .iter()
        .map(|h| {
            on.clear();
            let _ = write!(on, "{}", h.installed_on);
            Hotfix {
                hot_fix_id: h.kb.to_string().into(),
                description: Some(h.description.into()),
                installed_on: Some(on.clone().into()),
                installed_by: Some("NT AUTHORITY\\SYSTEM".into()),
            }
        })
        .collect();
    SnapshotNode {
        name: n.name.clone(),
        state: Some("Up".into()),
        node_weight: Some(1),
        dynamic_weight: Some(1),
        drain_status: Some("NotInitiated".into()),
        os: Section {
            status: Status::Ok,
            message: None,
            data: Some(Os {
                caption: r.caption.into(),
                version: r.version.into(),
                build: r.build,
                ubr: n.ubr,
                display_version: r.service_pack.map(str::to_string),
                installation_type: Some("Server".into()),
                architecture: Some("AMD64".into()),
                domain: Some(DOMAIN.into()),
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
    }
}
