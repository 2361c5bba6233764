//! Nodes: OS, updates (Get-HotFix and the Windows Update history), packages,
//! reboot state, memory, VMs.

use super::locator::{Cursor, Key, Locator, Span};
use super::protection::protection;
use super::section::read;
use crate::IngestError;
use crate::formats::Text;
use crate::updates::{Interner, UpdateIndex};
use crate::util::normalize_arch;
use jiff::civil::Date;
use lockstep_model::inventory::{SharedStr, UnreadSection, WindowsPackage};
use lockstep_model::protection::SectionStatus;
use lockstep_model::snapshot::{HistoryEntry, SnapshotNode};
use lockstep_model::{
    FailedInstall, HostMemory, HotfixId, InstalledUpdate, KbId, Node, NodeState, OtherEntry,
    PendingReboot, SourceRef, Sourced, VirtualMachine, WinVersion,
};
use std::collections::BTreeMap;

/// `str::trim`, answering at once when the text starts and ends with a
/// visible ASCII character (nearly every value: a fleet has millions).
pub(super) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// The file's shared string for `s`, unless it is absent, empty or blank.
fn non_blank(s: Option<&str>, strings: &mut Interner) -> Option<SharedStr> {
    s.filter(|s| !trim(s).is_empty()).map(|s| strings.get(s))
}

/// `2023-12-13` or the date part of `2023-12-13T00:00:00.0000000Z`.
pub(super) fn civil_date(s: &str) -> Option<Date> {
    let day = trim(s).get(..10)?;
    // `yyyy-MM-dd` in digits, as the collector writes it, without the
    // general ISO 8601 parser (a fleet has millions of dates); the same
    // validation (`Date::new` checks month and day), anything else parsed.
    let b = day.as_bytes();
    let num = |r: std::ops::Range<usize>| {
        b.get(r)?.iter().try_fold(0i16, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i16::from(c - b'0'))
        })
    };
    if b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10))
    {
        return Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok();
    }
    day.parse().ok()
}

/// Sections that could not be read, kept so later stages say "unknown".
#[derive(Default)]
struct Unread(Vec<UnreadSection>);

impl Unread {
    fn add(
        &mut self,
        section: &str,
        status: SectionStatus,
        message: Option<String>,
        src: SourceRef,
    ) {
        self.0.push(UnreadSection {
            section: section.to_string(),
            status,
            message,
            source: src,
        })
    }
}

pub(super) fn convert_node(
    text: &Text,
    loc: &Locator<'_>,
    start: usize,
    end: usize,
    cluster: &str,
    n: &SnapshotNode<'_>,
    strings: &mut Interner,
) -> Result<Node, IngestError> {
    let span = Span {
        text,
        loc,
        start,
        end,
        node_src: text.at(loc.line(start)),
    };
    let mut node = Node {
        name: n.name.clone(),
        name_source: Some(span.node_src.clone()),
        cluster: Some(cluster.to_string()),
        sources: vec![text.path.to_string()],
        ..Default::default()
    };
    let mut unread = Unread::default();

    if let Some(state) = &n.state {
        node.state = Some(NodeState {
            state: state.clone(),
            node_weight: n.node_weight,
            dynamic_weight: n.dynamic_weight,
            drain_status: n.drain_status.clone(),
        });
    }
    read_os(&span, n, &mut node, &mut unread)?;
    let mut updates = read_hotfixes(&span, n, &mut node, &mut unread, strings);
    read_history(&span, n, &mut node, &mut unread, &mut updates, strings);
    read_host(&span, n, &mut node, &mut unread);

    // Capacity was reserved for every hotfix entry; non-KB entries and
    // repeats leave some unused, and a fleet holds millions of updates.
    node.updates.shrink_to_fit();
    node.unread = unread.0;
    node.protection = protection(&span, n);
    Ok(node)
}

/// The OS section: caption, version with its UBR, architecture, domain,
/// last boot. A version that does not parse is an error of the file.
fn read_os(
    span: &Span<'_, '_, '_>,
    n: &SnapshotNode<'_>,
    node: &mut Node,
    unread: &mut Unread,
) -> Result<(), IngestError> {
    let Span { text, loc, end, .. } = *span;
    let (os_at, os_src) = span.key("os");
    let os = match read(&n.os) {
        Ok(os) => os,
        Err((st, msg)) => {
            unread.add("os", st, msg, os_src);
            return Ok(());
        }
    };
    let line_src = |key: &str, value: &str| {
        loc.find_pair(os_at, end, &Key::new(key), value)
            .map_or(os_src.clone(), |o| text.at(loc.line(o)))
    };
    let version: WinVersion = os.version.parse().map_err(|_| {
        IngestError::new(
            text.path.as_ref(),
            line_src("version", &os.version).line,
            format!(
                "an OS version such as 10.0.20348 for node {} (os.data.version)",
                n.name
            ),
        )
        .found(&os.version)
    })?;
    let version = match os.ubr {
        Some(ubr) if version.len() <= 3 => version.with_revision(ubr),
        _ => version,
    };
    node.os.caption = Some(Sourced::new(
        os.caption.clone(),
        line_src("caption", &os.caption),
    ));
    node.os.version = Some(Sourced::new(version, line_src("version", &os.version)));
    node.os.service_pack = os.display_version.clone();
    node.os.installation_type = os.installation_type.clone();
    node.os.architecture = os
        .architecture
        .as_deref()
        .and_then(normalize_arch)
        .map(|a| Sourced::new(a, os_src.clone()));
    node.domain = os
        .domain
        .as_ref()
        .map(|d| Sourced::new(d.clone(), line_src("domain", d)));
    node.boot_time = os
        .last_boot_time
        .as_ref()
        .map(|b| Sourced::new(b.clone(), line_src("lastBootTime", b)));
    Ok(())
}

/// Get-HotFix: KBs as updates, other ids (`File 1`) as other entries.
fn read_hotfixes(
    span: &Span<'_, '_, '_>,
    n: &SnapshotNode<'_>,
    node: &mut Node,
    unread: &mut Unread,
    strings: &mut Interner,
) -> UpdateIndex {
    let (hf_at, hf_src) = span.key("hotfixes");
    let hotfixes = match read(&n.hotfixes) {
        Ok(hotfixes) => hotfixes,
        Err((st, msg)) => {
            unread.add("hotfixes", st, msg, hf_src);
            return UpdateIndex::default();
        }
    };
    let mut cur = Cursor::new(span.loc, "hotFixId", hf_at, hf_at, span.end);
    node.updates.reserve_exact(hotfixes.len());
    let mut updates = UpdateIndex::with_capacity(hotfixes.len());
    for h in hotfixes {
        let src = span.text.at(cur.line_of(&h.hot_fix_id));
        let id = trim(&h.hot_fix_id);
        // The collector's JSON cannot end inside an id, so an id
        // too short to be a KB is what Windows listed: kept as an
        // other entry, like `File 1`.
        match KbId::parse_hotfix_id(id) {
            HotfixId::Kb { kb, suffix } => updates.add(
                node,
                InstalledUpdate {
                    kb,
                    id_text: (!suffix.is_empty()).then(|| strings.get(id)),
                    description: non_blank(h.description.as_deref(), strings),
                    installed_on: h.installed_on.as_deref().and_then(civil_date),
                    installed_by: non_blank(h.installed_by.as_deref(), strings),
                    source: src,
                },
            ),
            _ if !id.is_empty() => node.other_entries.push(OtherEntry {
                text: id.to_string(),
                source: src,
            }),
            _ => {}
        }
    }
    updates
}

/// Windows Update history: KBs that it shows as installed and Get-HotFix
/// lacks, and installs that failed.
fn read_history(
    span: &Span<'_, '_, '_>,
    n: &SnapshotNode<'_>,
    node: &mut Node,
    unread: &mut Unread,
    updates: &mut UpdateIndex,
    strings: &mut Interner,
) {
    let Some(h) = &n.update_history else {
        return;
    };
    let (h_at, h_src) = span.key("updateHistory");
    let entries = match read(h) {
        Ok(entries) => entries,
        Err((st, msg)) => {
            unread.add("updateHistory", st, msg, h_src);
            return;
        }
    };
    let text = span.text;
    let mut cur = Cursor::new(span.loc, "title", h_at, h_at, span.end);
    let lines: Vec<u32> = entries.iter().map(|e| cur.line_of(&e.title)).collect();
    let (installed, failed) = net_installed(entries, &lines);
    for (kb, (entry, line)) in failed {
        node.failed_installs.push(FailedInstall {
            kb,
            title: Some(entry.title.clone()),
            date: entry.date.as_deref().and_then(civil_date),
            result: entry.result_code.clone(),
            source: text.at(line),
        });
    }
    for (kb, (entry, line)) in installed {
        if !updates.contains(kb) {
            updates.add(
                node,
                InstalledUpdate {
                    kb,
                    id_text: None,
                    description: Some(strings.get(&entry.title)),
                    installed_on: entry.date.as_deref().and_then(civil_date),
                    installed_by: None,
                    source: text.at(line),
                },
            );
        }
    }
}

/// Packages, pending reboot, memory and VMs of the host.
fn read_host(span: &Span<'_, '_, '_>, n: &SnapshotNode<'_>, node: &mut Node, unread: &mut Unread) {
    if let Some(p) = &n.packages {
        match read(p) {
            Ok(pkgs) => {
                node.packages = Some(
                    pkgs.iter()
                        .map(|p| WindowsPackage {
                            name: p.package_name.clone(),
                            state: p.package_state.clone(),
                            release_type: p.release_type.clone(),
                        })
                        .collect(),
                )
            }
            Err((st, msg)) => unread.add("packages", st, msg, span.key("packages").1),
        }
    }

    if let Some(p) = &n.pending_reboot {
        match read(p) {
            Ok(p) => {
                node.pending_reboot = Some(PendingReboot {
                    cbs_reboot_pending: p.cbs_reboot_pending,
                    windows_update_reboot_required: p.windows_update_reboot_required,
                    pending_file_rename_operations: p.pending_file_rename_operations,
                })
            }
            Err((st, msg)) => unread.add("pendingReboot", st, msg, span.key("pendingReboot").1),
        }
    }

    if let Some(m) = &n.memory {
        match read(m) {
            Ok(m) => {
                node.memory = Some(HostMemory {
                    total_bytes: m.total_physical_bytes,
                    free_bytes: m.free_physical_bytes,
                })
            }
            Err((st, msg)) => unread.add("memory", st, msg, span.key("memory").1),
        }
    }

    if let Some(v) = &n.vms {
        match read(v) {
            Ok(vms) => {
                node.vms = Some(
                    vms.iter()
                        .map(|v| VirtualMachine {
                            name: v.name.clone(),
                            state: v.state.clone(),
                            memory_assigned_bytes: v.memory_assigned_bytes,
                            memory_startup_bytes: v.memory_startup_bytes,
                            configuration_location: v.configuration_location.clone(),
                            snapshot_file_location: v.snapshot_file_location.clone(),
                            smart_paging_file_path: v.smart_paging_file_path.clone(),
                            hard_drives: v.hard_drives.clone(),
                        })
                        .collect(),
                )
            }
            Err((st, msg)) => unread.add("vms", st, msg, span.key("vms").1),
        }
    }
}

/// One history entry with its line, by KB.
pub(super) type HistoryHits<'e> = Vec<(KbId, (&'e HistoryEntry, u32))>;

/// KBs the history shows as installed at the end, replayed oldest to newest:
/// entries with a date in date order, undated ones in QueryHistory order
/// (newest first, so reversed) before them. Only successful operations count.
/// Second: installs that failed (or were aborted) with no later successful
/// install of the same KB, in KB order.
pub(super) fn net_installed<'e>(
    entries: &'e [HistoryEntry],
    lines: &[u32],
) -> (HistoryHits<'e>, HistoryHits<'e>) {
    let mut order: Vec<usize> = (0..entries.len()).rev().collect();
    // Stable sort: undated entries (None) first, keeping their reversed order.
    order.sort_by_key(|&i| {
        entries
            .get(i)
            .and_then(|e| e.date.as_deref())
            .and_then(|d| d.trim().parse::<jiff::Timestamp>().ok())
    });
    let mut installed: BTreeMap<KbId, (usize, &HistoryEntry, u32)> = BTreeMap::new();
    let mut failed: BTreeMap<KbId, (&HistoryEntry, u32)> = BTreeMap::new();
    let mut seq = 0;
    for i in order {
        let Some(e) = entries.get(i) else { continue };
        let Some(kb) = KbId::find_in(&e.title) else {
            continue;
        };
        let line = lines.get(i).copied().unwrap_or(0);
        if matches!(e.result_code.as_str(), "Failed" | "Aborted") {
            if e.operation == "Installation" {
                failed.insert(kb, (e, line));
            }
            continue;
        }
        if !matches!(e.result_code.as_str(), "Succeeded" | "SucceededWithErrors") {
            continue;
        }
        match e.operation.as_str() {
            "Installation" => {
                seq += 1;
                failed.remove(&kb);
                installed.insert(kb, (seq, e, line));
            }
            "Uninstallation" => {
                installed.remove(&kb);
            }
            _ => {}
        }
    }
    let mut out: Vec<_> = installed.into_iter().collect();
    out.sort_by_key(|(_, (seq, _, _))| *seq);
    (
        out.into_iter()
            .map(|(kb, (_, e, line))| (kb, (e, line)))
            .collect(),
        failed.into_iter().collect(),
    )
}
