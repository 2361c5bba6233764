//! Windows Update history: what the Windows Update Agent installed and
//! uninstalled, as
//!
//! * the WUA COM API printed with `Format-List` (`IUpdateSearcher.QueryHistory`
//!   → `Title`, `Operation`, `ResultCode`, optionally `Date` blocks; the vuls
//!   scanner writes exactly this);
//! * PSWindowsUpdate's `Get-WUHistory`, as `Format-List`, `Export-Csv` or
//!   `ConvertTo-Json` (`ComputerName`, `Operationname`, `Result`, `Date`,
//!   `Title`, `KB`, and the raw `Operation` / `ResultCode`).
//!
//! `Operation` is an `UpdateOperation` (1 installation, 2 uninstallation)
//! and `ResultCode` an `OperationResultCode` (2 succeeded, 3 succeeded with
//! errors; 0 not started, 1 in progress, 4 failed, 5 aborted); the names
//! PSWindowsUpdate prints (`Installation`, `Succeeded`, ...) are accepted
//! too. Only succeeded operations count.
//!
//! The installed set is the history replayed from oldest to newest, so an
//! update installed and later uninstalled is not installed. Entries are
//! ordered by their dates when every entry has one. Without dates the file
//! order must be right, and both orders occur in practice: `QueryHistory`
//! returns newest first, but the vuls collector pipes it through
//! `Sort-Object -Property Date` (oldest first). The order is therefore read
//! from the file itself: an order in which some update is uninstalled before
//! it was ever installed is impossible, and monthly titles (`2022-10 ...`,
//! `2022-12 ...`) rise or fall with it; when neither tells, the list is taken
//! as `QueryHistory` returned it, newest first.

use super::{FileContent, Format, NodeFacts, Text};
use crate::IngestError;
use crate::hotfix_id;
use crate::util::{self, JsonDate, Loose, lines};
use jiff::civil::Date;
use lockstep_model::inventory::SharedStr;
use lockstep_model::{FailedInstall, HotfixId, InstalledUpdate, KbId, Sourced};
use std::borrow::Cow;

pub static FORMAT: Format = Format {
    name: "wu-history",
    detect,
    parse,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Install,
    Uninstall,
    Other,
}

#[derive(Debug, Clone)]
struct Entry {
    line: u32,
    computer: Option<String>,
    op: Op,
    succeeded: bool,
    /// The result when the operation failed or was aborted.
    failed: Option<String>,
    date: Option<String>,
    kb: Option<KbId>,
    /// The `KB` column when it holds an id too short to be a KB (`KB2862`).
    cut_kb: Option<String>,
    title: Option<String>,
}

fn op_of(s: &str) -> Op {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "installation" | "install" | "uoinstallation" => Op::Install,
        "2" | "uninstallation" | "uninstall" | "uouninstallation" => Op::Uninstall,
        _ => Op::Other,
    }
}

/// `OperationResultCode` 4 (failed) or 5 (aborted), by number or name.
fn failed(s: &str) -> bool {
    let l: String = s
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        l.as_str(),
        "4" | "5" | "failed" | "aborted" | "orcfailed" | "orcaborted"
    )
}

fn succeeded(s: &str) -> bool {
    let l: String = s
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        l.as_str(),
        "2" | "3" | "succeeded" | "succeededwitherrors" | "orcsucceeded" | "orcsucceededwitherrors"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    List,
    Csv,
    Json,
}

fn has_keys(keys: &[String]) -> bool {
    let k = |n: &str| keys.iter().any(|x| x.eq_ignore_ascii_case(n));
    k("Title") && (k("Operation") || k("Operationname")) && (k("ResultCode") || k("Result"))
}

fn form(text: &str) -> Option<Form> {
    let h = util::head(text, 16 * 1024);
    match util::first_significant(h)? {
        '[' | '{' => {
            let l = h.to_ascii_lowercase();
            let ok = l.contains("\"title\"")
                && (l.contains("\"operation\"") || l.contains("\"operationname\""))
                && (l.contains("\"resultcode\"") || l.contains("\"result\""));
            return ok.then_some(Form::Json);
        }
        _ => {}
    }
    let mut list_keys = Vec::new();
    for (_, l) in lines(h).take(60) {
        let t = l.trim();
        if t.is_empty() || t.starts_with("#TYPE") {
            continue;
        }
        if t.contains("\",\"") || (t.starts_with('"') && t.contains(',')) {
            let keys: Vec<String> = t
                .split(',')
                .map(|f| f.trim().trim_matches('"').to_string())
                .collect();
            return has_keys(&keys).then_some(Form::Csv);
        }
        if let Some((k, _)) = l
            .split_once(" : ")
            .or_else(|| l.strip_suffix(" :").map(|k| (k, "")))
            && !k.starts_with(char::is_whitespace)
            && !k.trim().is_empty()
            && !k.trim().contains(' ')
        {
            list_keys.push(k.trim().to_string());
            if has_keys(&list_keys) {
                return Some(Form::List);
            }
        }
    }
    None
}

fn detect(text: &str) -> bool {
    form(text).is_some()
}

fn parse(t: &Text) -> Result<FileContent, IngestError> {
    let entries = match form(&t.text) {
        Some(Form::List) => parse_list(t),
        Some(Form::Csv) => parse_csv(t)?,
        Some(Form::Json) => parse_json(t)?,
        None => {
            return Err(IngestError::new(
                t.path.as_ref(),
                0,
                "Windows Update history (Title/Operation/ResultCode entries)",
            ));
        }
    };
    Ok(FileContent::Nodes(replay(t, entries)))
}

#[derive(Default)]
struct Raw {
    line: u32,
    computer: Option<String>,
    op: Option<String>,
    result: Option<String>,
    date: Option<String>,
    kb: Option<String>,
    title: Option<String>,
}

impl Raw {
    fn set(&mut self, key: &str, value: String) {
        let slot = match key.to_ascii_lowercase().as_str() {
            "computername" => &mut self.computer,
            "operation" => &mut self.op,
            // PSWindowsUpdate's name for the operation wins over nothing only.
            "operationname" => {
                if self.op.is_none() {
                    self.op = Some(value);
                }
                return;
            }
            "resultcode" => &mut self.result,
            "result" => {
                if self.result.is_none() {
                    self.result = Some(value);
                }
                return;
            }
            "date" => &mut self.date,
            "kb" => &mut self.kb,
            "title" => &mut self.title,
            _ => return,
        };
        *slot = Some(value);
    }

    fn entry(self) -> Entry {
        let title = self.title.filter(|s| !s.trim().is_empty());
        let column = self.kb.as_deref().map(KbId::parse_hotfix_id);
        let kb = match column {
            Some(HotfixId::Kb { kb, .. }) => Some(kb),
            _ => None,
        }
        .or_else(|| title.as_deref().and_then(KbId::find_in));
        // A cut-off `KB` column is an error unless the title names the KB.
        let cut_kb = match (column, kb) {
            (Some(HotfixId::TooShort), None) => self.kb,
            _ => None,
        };
        Entry {
            line: self.line,
            computer: self.computer.and_then(|c| util::host_name(&c)),
            op: self.op.as_deref().map_or(Op::Other, op_of),
            succeeded: self.result.as_deref().is_some_and(succeeded),
            failed: self
                .result
                .as_deref()
                .filter(|r| failed(r))
                .map(|r| r.trim().to_string()),
            date: self.date.filter(|d| !d.trim().is_empty()),
            kb,
            cut_kb,
            title,
        }
    }
}

fn parse_list(t: &Text) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut cur: Option<Raw> = None;
    let mut last_key: Option<String> = None;
    for (n, l) in lines(&t.text) {
        if l.trim().is_empty() {
            if let Some(r) = cur.take() {
                out.push(r.entry());
            }
            last_key = None;
            continue;
        }
        if !l.starts_with(char::is_whitespace)
            && let Some((k, v)) = l
                .split_once(" : ")
                .or_else(|| l.strip_suffix(" :").map(|k| (k, "")))
            && !k.trim().contains(' ')
        {
            let k = k.trim();
            let r = cur.get_or_insert_with(|| Raw {
                line: n,
                ..Raw::default()
            });
            if k.eq_ignore_ascii_case("Title") {
                r.line = n;
            }
            r.set(k, v.trim().to_string());
            last_key = Some(k.to_string());
        } else if let (Some(r), Some(k)) = (cur.as_mut(), last_key.as_deref()) {
            // Format-List wraps long values onto indented lines, mid-word.
            if k.eq_ignore_ascii_case("Title") {
                let title = r.title.get_or_insert_with(String::new);
                title.push_str(l.trim());
            }
        }
    }
    if let Some(r) = cur {
        out.push(r.entry());
    }
    out
}

fn parse_csv(t: &Text) -> Result<Vec<Entry>, IngestError> {
    let (idx, _) = lines(&t.text)
        .enumerate()
        .find(|(_, (_, l))| !l.trim().is_empty() && !l.trim().starts_with("#TYPE"))
        .unwrap_or((0, (0, "")));
    let body = t.text.get(util::line_start(&t.text, idx)..).unwrap_or("");
    let base = u32::try_from(idx).unwrap_or(u32::MAX);
    let (mut rdr, headers) = util::csv_reader(t, body, base + 1, "a CSV header")?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            util::csv_error(t, base + util::csv_line(e.position()), "a CSV record", &e)
        })?;
        let mut r = Raw {
            line: base + util::csv_line(rec.position()),
            ..Raw::default()
        };
        for (h, v) in headers.iter().zip(rec.iter()) {
            r.set(h.trim(), v.to_string());
        }
        out.push(r.entry());
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
struct JsonEntry<'a> {
    #[serde(rename = "ComputerName", borrow, default)]
    computer: Loose<'a>,
    #[serde(rename = "Operation", borrow, default)]
    operation: Loose<'a>,
    #[serde(rename = "Operationname", alias = "OperationName", borrow, default)]
    operation_name: Loose<'a>,
    #[serde(rename = "ResultCode", borrow, default)]
    result_code: Loose<'a>,
    #[serde(rename = "Result", borrow, default)]
    result: Loose<'a>,
    #[serde(rename = "Date", borrow, default)]
    date: JsonDate<'a>,
    #[serde(rename = "KB", borrow, default)]
    kb: Loose<'a>,
    #[serde(rename = "Title", borrow, default)]
    title: Loose<'a>,
}

fn parse_json(t: &Text) -> Result<Vec<Entry>, IngestError> {
    let rows: Vec<JsonEntry> = util::json_rows(&t.text).map_err(|(line, msg)| {
        IngestError::new(
            t.path.as_ref(),
            line,
            "update history JSON (objects with Title, Operation and ResultCode)",
        )
        .found(msg)
    })?;
    let s = |c: Option<Cow<str>>| c.map(|c| c.into_owned());
    let mut line_of = util::LineOf::new(&t.text);
    Ok(rows
        .into_iter()
        .map(|r| {
            Raw {
                // The line of the entry's title.
                line: line_of.line(r.title.0.as_deref()),
                computer: s(r.computer.0),
                op: s(r.operation.0).or(s(r.operation_name.0)),
                result: s(r.result_code.0).or(s(r.result.0)),
                date: s(r.date.0),
                kb: s(r.kb.0),
                title: s(r.title.0),
            }
            .entry()
        })
        .collect())
}

/// Which way an undated list runs, from the list itself.
fn oldest_first(entries: &[&Entry]) -> bool {
    // Uninstalling an update that was never installed is impossible: count
    // such events for both readings.
    let impossible = |iter: &mut dyn Iterator<Item = &&Entry>| {
        let mut seen: Vec<KbId> = Vec::new();
        let mut bad = 0usize;
        for e in iter {
            let (Some(kb), true) = (e.kb, e.succeeded) else {
                continue;
            };
            match e.op {
                Op::Install => seen.push(kb),
                Op::Uninstall if !seen.contains(&kb) => bad += 1,
                _ => {}
            }
        }
        bad
    };
    let bad_if_oldest_first = impossible(&mut entries.iter());
    let bad_if_newest_first = impossible(&mut entries.iter().rev());
    if bad_if_oldest_first != bad_if_newest_first {
        return bad_if_oldest_first < bad_if_newest_first;
    }
    // Monthly titles: `2022-10 Cumulative Update ...`.
    let months: Vec<u32> = entries
        .iter()
        .filter_map(|e| {
            let t = e.title.as_deref()?;
            let y: u32 = t.get(..4)?.parse().ok()?;
            let m: u32 = t.get(5..7)?.parse().ok()?;
            (t.as_bytes().get(4) == Some(&b'-')).then_some(y * 12 + m)
        })
        .collect();
    let (mut up, mut down) = (0usize, 0usize);
    for w in months.windows(2) {
        if let [a, b] = w {
            if b > a {
                up += 1;
            } else if b < a {
                down += 1;
            }
        }
    }
    up > down
}

fn replay(t: &Text, entries: Vec<Entry>) -> Vec<NodeFacts> {
    let order = util::infer_slash_order(entries.iter().filter_map(|e| e.date.as_deref()));
    // Group by computer, keeping first appearance order.
    let mut groups: Vec<(Option<String>, Vec<Entry>)> = Vec::new();
    for e in entries {
        let key = e.computer.as_ref().map(|c| c.to_lowercase());
        match groups
            .iter_mut()
            .find(|(k, _)| k.as_ref().map(|k| k.to_lowercase()) == key)
        {
            Some((_, list)) => list.push(e),
            None => groups.push((e.computer.clone(), vec![e])),
        }
    }
    let mut out = Vec::new();
    for (computer, list) in groups {
        let dated: Vec<Option<(Date, u32)>> = list
            .iter()
            .map(|e| {
                e.date
                    .as_deref()
                    .and_then(|d| util::parse_date_time(d, order))
            })
            .collect();
        let mut chrono: Vec<(usize, &Entry)> = list.iter().enumerate().collect();
        if dated.iter().all(Option::is_some) {
            chrono.sort_by_key(|(i, _)| dated.get(*i).copied().flatten());
        } else {
            let refs: Vec<&Entry> = list.iter().collect();
            if !oldest_first(&refs) {
                chrono.reverse();
            }
        }
        let mut installed: Vec<(KbId, usize)> = Vec::new();
        // Installs that failed with no later successful install.
        let mut failures: std::collections::BTreeMap<KbId, usize> = Default::default();
        for (i, e) in &chrono {
            if let (Some(kb), Some(_), Op::Install) = (e.kb, &e.failed, e.op) {
                failures.insert(kb, *i);
            }
            let (Some(kb), true) = (e.kb, e.succeeded) else {
                continue;
            };
            match e.op {
                Op::Install => {
                    failures.remove(&kb);
                    installed.retain(|(k, _)| *k != kb);
                    installed.push((kb, *i));
                }
                Op::Uninstall => installed.retain(|(k, _)| *k != kb),
                Op::Other => {}
            }
        }
        let mut facts = NodeFacts::default();
        for e in &list {
            if let Some(cut) = &e.cut_kb {
                facts.errors.push(hotfix_id::too_short_kb(t, e.line, cut));
            }
        }
        if let Some(c) = computer {
            let line = list.first().map_or(0, |e| e.line);
            facts.name = Some(Sourced::new(c, t.at(line)));
        }
        // `installed` holds each KB once, so every update is new: no search.
        facts.node.updates.reserve_exact(installed.len());
        for (kb, i) in installed {
            let Some(e) = list.get(i) else { continue };
            facts.node.updates.push(InstalledUpdate {
                kb,
                id_text: None,
                description: e.title.as_deref().map(SharedStr::from),
                installed_on: dated.get(i).copied().flatten().map(|(d, _)| d),
                installed_by: None,
                source: t.at(e.line),
            });
        }
        for (kb, i) in failures {
            let Some(e) = list.get(i) else { continue };
            facts.node.failed_installs.push(FailedInstall {
                kb,
                title: e.title.clone(),
                date: dated.get(i).copied().flatten().map(|(d, _)| d),
                result: e.failed.clone().unwrap_or_default(),
                source: t.at(e.line),
            });
        }
        out.push(facts);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kbs(text: &str) -> Vec<String> {
        assert!(detect(text), "not detected");
        match parse(&Text::new("h", text)).unwrap() {
            FileContent::Nodes(n) => n[0].node.updates.iter().map(|u| u.kb.to_string()).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn undated_lists_in_either_order() {
        let e = |kb: &str, op: u8, rc: u8| {
            format!("Title      : Update ({kb})\nOperation  : {op}\nResultCode : {rc}\n\n")
        };
        // Oldest first (vuls sorts by date): installed, then uninstalled.
        let oldest = [
            e("KB5000001", 1, 2),
            e("KB5000001", 2, 2),
            e("KB5000002", 1, 2),
            e("KB5000003", 1, 4),
        ]
        .concat();
        assert_eq!(kbs(&oldest), ["KB5000002"]);
        // QueryHistory order (newest first): the uninstallation comes first.
        let newest = [
            e("KB5000003", 1, 4),
            e("KB5000002", 1, 2),
            e("KB5000001", 2, 2),
            e("KB5000001", 1, 2),
        ]
        .concat();
        assert_eq!(kbs(&newest), ["KB5000002"]);
        // Reinstalled after the uninstallation, newest first.
        let again = [
            e("KB5000001", 1, 2),
            e("KB5000001", 2, 2),
            e("KB5000001", 1, 2),
        ]
        .concat();
        assert_eq!(kbs(&again), ["KB5000001"]);
    }

    #[test]
    fn dated_entries_sort_by_date() {
        let text = "\"ComputerName\",\"Operationname\",\"Result\",\"Date\",\"Title\",\"KB\"\n\"HV01\",\"Uninstallation\",\"Succeeded\",\"12/20/2022 10:00:00 AM\",\"2022-10 Update (KB5020435)\",\"KB5020435\"\n\"HV01\",\"Installation\",\"Succeeded\",\"10/20/2022 9:00:00 AM\",\"2022-10 Update (KB5020435)\",\"KB5020435\"\n\"HV01\",\"Installation\",\"SucceededWithErrors\",\"12/14/2022 9:00:00 AM\",\"2022-12 Update (KB5021233)\",\"KB5021233\"\n\"HV01\",\"Installation\",\"Failed\",\"12/14/2022 9:00:00 AM\",\"Update (KB5021088)\",\"KB5021088\"\n";
        assert_eq!(kbs(text), ["KB5021233"]);
        // KB5021088's install failed and nothing installed it later.
        let Ok(FileContent::Nodes(nodes)) = parse(&Text::new("h.csv", text)) else {
            panic!("parsed")
        };
        let failed: Vec<(String, &str, Option<jiff::civil::Date>, u32)> = nodes[0]
            .node
            .failed_installs
            .iter()
            .map(|f| (f.kb.to_string(), f.result.as_str(), f.date, f.source.line))
            .collect();
        assert_eq!(
            failed,
            [(
                "KB5021088".to_string(),
                "Failed",
                Some(jiff::civil::date(2022, 12, 14)),
                5
            )]
        );
    }

    #[test]
    fn json_with_numbers_and_dates() {
        let text = r#"[{"ComputerName":"HV01","Operation":1,"ResultCode":2,"Date":"\/Date(1671000000000)\/","Title":"x (KB5021233)"},{"ComputerName":"HV01","Operation":2,"ResultCode":2,"Date":"\/Date(1672000000000)\/","Title":"x (KB5021233)"},{"ComputerName":"HV01","Operation":1,"ResultCode":2,"Date":"\/Date(1670000000000)\/","Title":"y (KB5020435)"}]"#;
        assert_eq!(kbs(text), ["KB5020435"]);
    }
}
