//! Coverage: what Defender excludes on a node, and the verdict on each need.

use super::facts::{os_name, section_problem};
use super::matching;
use super::needs::Need;
use super::roles::Roles;
use super::rules::{AutoExclusions, ExclusionKind, Rules};
use lockstep_model::protection::{DefenderPreferences, ExclusionList, Section};
use lockstep_model::{Cluster, Node};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    Covered(String),
    Missing,
    Unknown(String),
}

pub(super) fn covers(kind: ExclusionKind, exclusion: &str, need: &str) -> bool {
    match kind {
        ExclusionKind::Path => matching::path_covers(exclusion, need),
        ExclusionKind::Extension => matching::extension(exclusion) == matching::extension(need),
        ExclusionKind::Process => matching::process_covers(exclusion, need),
    }
}

pub(super) fn list_of(p: &DefenderPreferences, kind: ExclusionKind) -> &ExclusionList {
    match kind {
        ExclusionKind::Path => &p.exclusion_path,
        ExclusionKind::Extension => &p.exclusion_extension,
        ExclusionKind::Process => &p.exclusion_process,
    }
}

/// A CSV's mount path and volume id, from the snapshot.
pub(super) struct CsvRef {
    pub(super) name: String,
    pub(super) path: String,
    pub(super) volume_id: Option<String>,
}

fn csv_refs(cluster: Option<&Cluster>) -> Vec<CsvRef> {
    cluster
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.csvs.as_ref())
        .map(|v| {
            v.iter()
                .filter_map(|c| {
                    Some(CsvRef {
                        name: c.name.clone(),
                        path: c.path.clone()?,
                        volume_id: c.volume_id.as_deref().and_then(matching::volume_id),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What Defender excludes on a node: its lists and the automatic exclusions in force.
pub(super) struct Coverage<'a> {
    pub(super) prefs: Result<&'a DefenderPreferences, String>,
    pub(super) auto: Vec<&'a AutoExclusions>,
    /// Why the automatic exclusions are (not) counted, for the finding.
    pub(super) auto_note: String,
    pub(super) csvs: Vec<CsvRef>,
}

impl<'a> Coverage<'a> {
    pub(super) fn of(
        node: &'a Node,
        cluster: Option<&Cluster>,
        roles: &Roles,
        rules: &'a Rules,
    ) -> Coverage<'a> {
        let section = node.protection.defender_preferences.as_ref();
        let prefs = section_problem(section, "Get-MpPreference").and_then(|_| {
            section
                .and_then(Section::data)
                .ok_or_else(|| "Get-MpPreference is empty".to_string())
        });
        let build = node.os.build();
        let (auto, auto_note) = match (&prefs, build) {
            (Err(_), _) => (Vec::new(), "Defender's automatic exclusions are not counted: its settings are unknown".to_string()),
            (Ok(_), None) => (
                Vec::new(),
                "Defender's automatic exclusions are not counted: the OS version is not in the inputs (they exist on Windows Server 2016 and later only)".to_string(),
            ),
            (Ok(p), Some(b)) if p.disable_auto_exclusions == Some(true) => (
                Vec::new(),
                format!("Defender's automatic exclusions are off on this node (DisableAutoExclusions = True, {})", os_name(b)),
            ),
            (Ok(p), Some(b)) => {
                let active: Vec<&AutoExclusions> = rules
                    .auto
                    .iter()
                    .filter(|a| b >= a.min_build && roles.holds(a.applies_to).is_some())
                    .collect();
                let note = if active.is_empty() {
                    format!("{} has no automatic Defender exclusions for these roles (Windows Server 2016 and later only)", os_name(b))
                } else {
                    let default_note = if p.disable_auto_exclusions.is_none() {
                        " (DisableAutoExclusions is not in the capture; its default, False, is assumed)"
                    } else {
                        ""
                    };
                    format!(
                        "Defender's automatic exclusions on {} are counted{}: {}; they apply to real-time protection only and to default paths only",
                        os_name(b),
                        default_note,
                        active.iter().map(|a| a.title.as_str()).collect::<Vec<_>>().join("; ")
                    )
                };
                (active, note)
            }
        };
        Coverage {
            prefs,
            auto,
            auto_note,
            csvs: csv_refs(cluster),
        }
    }

    pub(super) fn verdict(&self, need: &Need<'_>) -> Verdict {
        let kind = need.rule.kind;
        for a in &self.auto {
            if let Some(item) = a.list(kind).iter().find(|i| covers(kind, i, &need.value)) {
                return Verdict::Covered(format!("Defender automatic exclusion {item} ({})", a.id));
            }
        }
        let p = match &self.prefs {
            Ok(p) => p,
            Err(why) => return Verdict::Unknown(why.clone()),
        };
        let items = match list_of(p, kind) {
            ExclusionList::Items(v) => v,
            ExclusionList::Redacted(m) => {
                return Verdict::Unknown(format!("{}: {m}", kind.parameter()));
            }
        };
        if let Some(e) = items.iter().find(|e| covers(kind, e, &need.value)) {
            return Verdict::Covered(format!("{} {e}", kind.parameter()));
        }
        if kind == ExclusionKind::Path {
            // A CSV excluded by its volume id (KB3119208) covers every folder on it.
            let ids: Vec<String> = items
                .iter()
                .filter_map(|e| matching::volume_id(e))
                .collect();
            if let Some(c) = self.csvs.iter().find(|c| {
                matching::path_covers(&c.path, &need.value)
                    && c.volume_id.as_ref().is_some_and(|v| ids.contains(v))
            }) {
                return Verdict::Covered(format!("volume id of {} ({})", c.name, c.path));
            }
            // The CSV root counts as covered when every CSV below it is.
            if need.rule.csv_volume_ids {
                let csv_covered = |c: &CsvRef| {
                    items.iter().any(|e| matching::path_covers(e, &c.path))
                        || c.volume_id.as_ref().is_some_and(|v| ids.contains(v))
                };
                let under: Vec<&CsvRef> = self
                    .csvs
                    .iter()
                    .filter(|c| matching::path_covers(&need.value, &c.path))
                    .collect();
                if !under.is_empty() && under.iter().all(|c| csv_covered(c)) {
                    return Verdict::Covered(format!(
                        "every CSV is excluded by path or volume id ({})",
                        under
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        Verdict::Missing
    }
}
