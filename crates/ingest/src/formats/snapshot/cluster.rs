//! Clusters: quorum, groups, Cluster Shared Volumes and their states, then
//! every node.

use super::locator::{Cursor, Key, Locator};
use super::node::convert_node;
use super::section::read;
use crate::IngestError;
use crate::formats::Text;
use crate::updates::Interner;
use lockstep_model::inventory::{ClusterGroup, Witness};
use lockstep_model::protection::{
    BlockRedirectReason, ClusterProtection, CsvNodeState, CsvStateInfo, CsvVolume,
    FsRedirectReason, Section, SectionStatus,
};
use lockstep_model::snapshot::{self as snap};
use lockstep_model::{Cluster, ClusterState};

pub(super) fn convert_cluster(
    text: &Text,
    loc: &Locator<'_>,
    start: usize,
    end: usize,
    c: &mut snap::SnapshotCluster<'_>,
    strings: &mut Interner,
) -> Result<Cluster, IngestError> {
    let cluster_src = text.at(loc.line(start));
    let mut state = ClusterState::default();
    let mut protection = ClusterProtection {
        compatible_filters: c.shared_volume_compatible_filters.clone(),
        incompatible_filters: c.shared_volume_incompatible_filters.clone(),
        csv_states: None,
    };

    if let Some(q) = &c.quorum
        && let Ok(q) = read(q)
    {
        state.quorum_type = Some(q.quorum_type.clone());
        state.witness = q.witness.as_ref().map(|w| Witness {
            kind: w.kind.clone(),
            resource: w.resource.clone(),
            path: w.path.clone(),
        });
    }
    if let Some(g) = &c.groups
        && let Ok(groups) = read(g)
    {
        state.groups = Some(
            groups
                .iter()
                .map(|g| ClusterGroup {
                    name: g.name.clone(),
                    state: g.state.clone(),
                    owner_node: g.owner_node.clone(),
                    group_type: g.group_type.clone(),
                })
                .collect(),
        );
    }
    if let Some(sv) = &c.shared_volumes {
        let sv_at = loc
            .find_key_str(start, end, "sharedVolumes")
            .unwrap_or(start);
        match read(sv) {
            Ok(volumes) => {
                state.csvs = Some(
                    volumes
                        .iter()
                        .map(|v| CsvVolume {
                            name: v.name.clone(),
                            path: v.path.clone(),
                            owner_node: v.owner_node.clone(),
                            volume_id: v.volume_id.clone(),
                            file_system: v.file_system.clone(),
                        })
                        .collect(),
                );
                protection.csv_states = csv_states(text, loc, sv_at, end, volumes);
            }
            Err((st, msg)) => {
                protection.csv_states =
                    Some(Section::unavailable(st, msg, text.at(loc.line(sv_at))));
            }
        }
    }

    let nodes_at = loc.find_key_str(start, end, "nodes").unwrap_or(start);
    let mut from = nodes_at;
    let name_key = Key::new("name");
    let starts: Vec<usize> = c
        .nodes
        .iter()
        .map(|n| {
            let at = loc.find_pair(from, end, &name_key, &n.name).unwrap_or(from);
            from = at + 1;
            at
        })
        .collect();
    let mut nodes = Vec::with_capacity(c.nodes.len());
    // Drained: each node's entries are freed once converted.
    for (i, n) in c.nodes.drain(..).enumerate() {
        let n_start = starts.get(i).copied().unwrap_or(nodes_at);
        let n_end = starts.get(i + 1).copied().unwrap_or(end);
        nodes.push(convert_node(
            text, loc, n_start, n_end, &c.name, &n, strings,
        )?);
    }

    Ok(Cluster {
        name: c.name.clone(),
        source: Some(cluster_src),
        nodes,
        state: Some(state),
        protection,
        admin: Default::default(),
    })
}

/// All `Get-ClusterSharedVolumeState` records of the cluster. One volume
/// whose state could not be read, or a value lockstep does not know, makes
/// the whole section unknown: a partial list could hide the redirected one.
pub(super) fn csv_states(
    text: &Text,
    loc: &Locator<'_>,
    sv_at: usize,
    end: usize,
    volumes: &[snap::SharedVolume],
) -> Option<Section<Vec<CsvNodeState>>> {
    if volumes.iter().all(|v| v.state.is_none()) && !volumes.is_empty() {
        return None;
    }
    let section_src = text.at(loc.line(sv_at));
    let mut out = Vec::new();
    let mut vcur = Cursor::new(loc, "name", sv_at, sv_at, end);
    for v in volumes {
        let v_line = vcur.line_of(&v.name);
        let Some(state) = &v.state else {
            return Some(Section::unavailable(
                SectionStatus::Error,
                Some(format!(
                    "no Get-ClusterSharedVolumeState records for {}",
                    v.name
                )),
                text.at(v_line),
            ));
        };
        let records = match read(state) {
            Ok(r) => r,
            Err((st, msg)) => {
                let msg = Some(format!("{}: {}", v.name, msg.unwrap_or_default()));
                return Some(Section::unavailable(st, msg, text.at(v_line)));
            }
        };
        let mut rcur = Cursor::new(loc, "node", vcur.at.saturating_sub(1), vcur.at, end);
        for r in records {
            let line = rcur.line_of(&r.node);
            let parsed = (
                CsvStateInfo::parse(&r.state_info),
                FsRedirectReason::parse(&r.file_system_redirected_io_reason),
                BlockRedirectReason::parse(&r.block_redirected_io_reason),
            );
            let (Some(state), Some(fs_reason), Some(block_reason)) = parsed else {
                return Some(Section::unavailable(
                    SectionStatus::Error,
                    Some(format!(
                        "{} on {}: unrecognised state {:?} / {:?} / {:?}",
                        v.name,
                        r.node,
                        r.state_info,
                        r.file_system_redirected_io_reason,
                        r.block_redirected_io_reason
                    )),
                    text.at(line),
                ));
            };
            out.push(CsvNodeState {
                volume: v.name.clone(),
                volume_path: v.path.clone(),
                node: r.node.clone(),
                state,
                fs_reason,
                block_reason,
                source: text.at(line),
            });
        }
    }
    Some(Section::ok(out, section_src))
}
