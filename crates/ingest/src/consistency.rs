//! Captures of one host that disagree, and files that name no host.
//!
//! A node is often read from several files: a `systeminfo` and a `wmic qfe`
//! export, or two `systeminfo` captures of different days. Their facts are
//! merged, and where they disagree the merge says so ([`MergeLog`]): which
//! files, what differs, and what was used and why.
//!
//! * Installed updates, when both sides are complete hotfix lists
//!   (`systeminfo`, `Get-HotFix`, `wmic qfe`, osquery `patches`): the KBs
//!   only one side lists are named. The union is used: every update a
//!   capture lists was installed when it was taken, and one capture can be
//!   older than the other or have its list cut short (systeminfo on
//!   Windows 7). Windows Update history, and snapshots that add it, are not
//!   compared: they name updates a hotfix list never shows (definitions,
//!   drivers), so a difference there says nothing.
//! * OS version (build and revision): the higher one is used, since a
//!   host's version only rises (updates raise the revision, upgrades the
//!   build); its caption and architecture come with it.
//! * Architecture: with the version used; when the versions agree, the
//!   first capture's is kept.
//!
//! A file whose content names no host (`wmic qfe get HotFixID,...` has no
//! `CSName` column) belongs to the node named after the file. When another
//! file with the same name up to its first dot names its host
//! (`HOST.systeminfo.txt` says `WIN7SP1X64`), the nameless one
//! (`HOST.qfe.txt`) belongs to that host too ([`StemHosts`]).

use crate::formats::{self, FileContent};
use crate::{IngestError, IngestWarning};
use lockstep_model::{KbId, KbSet, Node, WinVersion};
use std::collections::HashMap;
use std::path::Path;

/// What a file's update list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UpdateList {
    /// Every hotfix the host had (`Win32_QuickFixEngineering`, systeminfo).
    Hotfixes,
    /// Updates of another kind (Windows Update history), or mixed with
    /// them (snapshots): not compared.
    Other,
    /// The file lists no updates (Defender, filter drivers, products).
    None,
}

fn update_list(format: &str) -> UpdateList {
    use formats::{hotfix, osquery, systeminfo, wmic_qfe};
    let hotfix_lists = [
        systeminfo::FORMAT.name,
        systeminfo::FORMAT_CSV.name,
        wmic_qfe::FORMAT.name,
        hotfix::FORMAT.name,
        osquery::FORMAT.name,
    ];
    if hotfix_lists.contains(&format) {
        UpdateList::Hotfixes
    } else if format == formats::wu_history::FORMAT.name || format == formats::snapshot::FORMAT.name
    {
        UpdateList::Other
    } else {
        UpdateList::None
    }
}

/// The warnings of a load, and what merging needs to write them: which
/// files hold a complete hotfix list.
#[derive(Debug, Default)]
pub(crate) struct MergeLog {
    lists: HashMap<String, UpdateList>,
    pub(crate) warnings: Vec<IngestWarning>,
}

/// How many KBs a warning names before it only counts the rest.
const KBS_SHOWN: usize = 10;

impl MergeLog {
    /// Notes the format a file was read as.
    pub(crate) fn file_read(&mut self, path: &str, format: &str) {
        self.lists.insert(path.to_string(), update_list(format));
    }

    /// What the update lists of a node's files are: hotfix lists only, or
    /// something that is not compared (a file not noted, such as a
    /// snapshot's cluster, counts as not compared).
    fn side(&self, n: &Node) -> UpdateList {
        let mut side = UpdateList::None;
        for s in &n.sources {
            match self.lists.get(s).copied().unwrap_or(UpdateList::Other) {
                UpdateList::Other => return UpdateList::Other,
                UpdateList::Hotfixes => side = UpdateList::Hotfixes,
                UpdateList::None => {}
            }
        }
        side
    }

    /// Compares the facts about to be merged into `into` with it, warns
    /// about each disagreement, and says whether `from`'s OS facts are the
    /// ones to use.
    pub(crate) fn compare(&mut self, into: &Node, from: &Node) -> bool {
        let here = from.sources.first().map_or("", String::as_str);
        let others: Vec<&str> = into
            .sources
            .iter()
            .filter(|s| !from.sources.contains(s))
            .map(String::as_str)
            .collect();
        let there = if others.is_empty() {
            "an earlier capture in this file".to_string()
        } else {
            others.join(", ")
        };
        let node = &from.name;
        if self.side(into) == UpdateList::Hotfixes && self.side(from) == UpdateList::Hotfixes {
            self.compare_updates(into, from, here, &there);
        }
        let mut from_wins = false;
        let mut versions_differ = false;
        if let (Some(a), Some(b)) = (&into.os.version, &from.os.version)
            && !same_version(&a.value, &b.value)
        {
            versions_differ = true;
            from_wins = b.value > a.value;
            let used = if from_wins { b } else { a };
            self.warnings.push(IngestWarning::new(
                here,
                b.source.line,
                format!(
                    "{node}: OS version {} here, {} in {}: {} is used, the higher one, since a host's version only rises (updates raise the revision, upgrades the build); if these are two hosts with one name, give each capture its own",
                    b.value, a.value, a.source, used.value
                ),
            ));
        }
        if let (Some(a), Some(b)) = (&into.os.architecture, &from.os.architecture)
            && a.value != b.value
        {
            let (used, why) = match (from_wins, versions_differ) {
                (true, _) => (&b.value, "it comes with the OS version used"),
                (false, true) => (&a.value, "it comes with the OS version used"),
                (false, false) => (
                    &a.value,
                    "the first capture's is kept (two hosts with one name?)",
                ),
            };
            self.warnings.push(IngestWarning::new(
                here,
                b.source.line,
                format!(
                    "{node}: architecture {} here, {} in {}: {used} is used, {why}",
                    b.value, a.value, a.source
                ),
            ));
        }
        from_wins
    }

    fn compare_updates(&mut self, into: &Node, from: &Node, here: &str, there: &str) {
        let in_into: KbSet = into.updates.iter().map(|u| u.kb).collect();
        let in_from: KbSet = from.updates.iter().map(|u| u.kb).collect();
        let only_here: Vec<KbId> = from
            .updates
            .iter()
            .map(|u| u.kb)
            .filter(|k| !in_into.contains(k))
            .collect();
        let only_there: Vec<KbId> = into
            .updates
            .iter()
            .map(|u| u.kb)
            .filter(|k| !in_from.contains(k))
            .collect();
        if only_here.is_empty() && only_there.is_empty() {
            return;
        }
        let union = in_into.len() + only_here.len();
        self.warnings.push(IngestWarning::new(
            here,
            0,
            format!(
                "{}: installed updates differ from {there}: {} only here{}, {} only there{}; the union ({union} updates) is used, since every update a capture lists was installed when it was taken (one capture may be older than the other, or have its list cut short)",
                from.name,
                only_here.len(),
                kb_list(&only_here),
                only_there.len(),
                kb_list(&only_there),
            ),
        ));
    }
}

/// Equal in the parts both versions have: `10.0.17763` (systeminfo) and
/// `10.0.17763.5206` (with the UBR) agree.
fn same_version(a: &WinVersion, b: &WinVersion) -> bool {
    let n = a.len().min(b.len());
    a.parts().get(..n) == b.parts().get(..n)
}

/// ` (KB1, KB2, … and 3 more)`, or nothing for an empty list.
fn kb_list(kbs: &[KbId]) -> String {
    if kbs.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = kbs.iter().take(KBS_SHOWN).map(KbId::to_string).collect();
    match kbs.len().saturating_sub(KBS_SHOWN) {
        0 => format!(" ({})", shown.join(", ")),
        more => format!(" ({} and {more} more)", shown.join(", ")),
    }
}

/// Host names that files name in their content, by the folder and the file
/// name up to the first dot (case-insensitively), for the files beside them
/// that name no host.
#[derive(Debug, Default)]
pub(crate) struct StemHosts {
    by_stem: HashMap<(String, String), Option<String>>,
}

impl StemHosts {
    /// Learns from the files' parsed content: a file with exactly one named
    /// node names the host of its stem; two different names make the stem
    /// ambiguous (no host).
    pub(crate) fn learn<'a>(
        files: impl Iterator<
            Item = (
                &'a Path,
                &'a Result<(FileContent, &'static str), IngestError>,
            ),
        >,
    ) -> Self {
        let mut by_stem: HashMap<(String, String), Option<String>> = HashMap::new();
        for (path, parsed) in files {
            let one = match parsed {
                Ok((FileContent::Nodes(list), _)) => match list.as_slice() {
                    [one] => one,
                    _ => continue,
                },
                Ok((FileContent::NodePieces(pieces), _)) => {
                    match pieces.iter().flatten().collect::<Vec<_>>().as_slice() {
                        [one] => *one,
                        _ => continue,
                    }
                }
                _ => continue,
            };
            let Some(name) = &one.name else { continue };
            let entry = by_stem
                .entry(stem_key(path))
                .or_insert_with(|| Some(name.value.clone()));
            if entry
                .as_deref()
                .is_some_and(|n| !n.eq_ignore_ascii_case(&name.value))
            {
                *entry = None;
            }
        }
        Self { by_stem }
    }

    /// The host that another file of the same stem names.
    pub(crate) fn host_of(&self, path: &Path) -> Option<&str> {
        self.by_stem.get(&stem_key(path))?.as_deref()
    }
}

/// A file's folder and its name up to the first dot (lower case): files
/// that share it are captures of one host.
pub(crate) fn stem_key(path: &Path) -> (String, String) {
    let dir = path
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let stem = file.split('.').next().unwrap_or("").to_string();
    (dir, stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_agree_in_common_parts() {
        let v = |s: &str| s.parse::<WinVersion>().unwrap();
        assert!(same_version(&v("10.0.17763"), &v("10.0.17763.5206")));
        assert!(!same_version(&v("10.0.17763.5206"), &v("10.0.17763.5329")));
        assert!(!same_version(&v("10.0.17763"), &v("10.0.20348")));
    }

    #[test]
    fn kb_lists_are_cut_after_ten() {
        let kbs: Vec<KbId> = (0..12).map(|i| KbId(5_000_000 + i)).collect();
        assert_eq!(kb_list(&[]), "");
        assert_eq!(kb_list(&kbs[..1]), " (KB5000000)");
        assert_eq!(
            kb_list(&kbs),
            " (KB5000000, KB5000001, KB5000002, KB5000003, KB5000004, KB5000005, KB5000006, KB5000007, KB5000008, KB5000009 and 2 more)"
        );
    }
}
