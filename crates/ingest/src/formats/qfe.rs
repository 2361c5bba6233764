//! `Win32_QuickFixEngineering` rows as every tool prints them (`Get-HotFix`,
//! `wmic qfe`, osquery `patches`), and the nodes they make: shared by those
//! formats' parsers.

use crate::hotfix_id::{CaptureId, read_hotfix_id};
use crate::updates::{Interner, UpdateIndex};
use crate::util::{host_name, infer_slash_order, parse_date};
use std::borrow::Cow;

/// One `Win32_QuickFixEngineering` instance as any tool printed it
/// (`Get-HotFix`, `wmic qfe`, osquery `patches`).
#[derive(Debug, Default, Clone)]
pub struct QfeRow<'a> {
    pub line: u32,
    pub node: Option<Cow<'a, str>>,
    pub hotfix_id: Option<Cow<'a, str>>,
    pub description: Option<Cow<'a, str>>,
    pub installed_by: Option<Cow<'a, str>>,
    pub installed_on: Option<Cow<'a, str>>,
}

/// Where the QFE fields sit in a table's cells.
#[derive(Debug, Clone, Copy, Default)]
pub struct QfeColumns {
    pub node: Option<usize>,
    pub hotfix_id: Option<usize>,
    pub description: Option<usize>,
    pub installed_by: Option<usize>,
    pub installed_on: Option<usize>,
}

impl QfeColumns {
    /// The QFE columns of a header, found by name with `col`; the host name
    /// is in the first column of `node` that the header has.
    pub fn find(col: impl Fn(&str) -> Option<usize>, node: &[&str]) -> QfeColumns {
        QfeColumns {
            node: node.iter().find_map(|n| col(n)),
            hotfix_id: col("HotFixID"),
            description: col("Description"),
            installed_by: col("InstalledBy"),
            installed_on: col("InstalledOn"),
        }
    }
}

impl QfeRow<'static> {
    /// A row from one CSV record (fields the record lacks are `None`).
    pub fn from_record(line: u32, rec: &csv::StringRecord, c: QfeColumns) -> QfeRow<'static> {
        QfeRow::from_columns(line, c, |i| {
            i.and_then(|i| rec.get(i))
                .map(|s| Cow::Owned(s.to_string()))
        })
    }
}

impl<'a> QfeRow<'a> {
    /// A row from one table line's cells; `None` for stray lines (a prompt,
    /// a warning) whose hotfix-id cell does not look like a hotfix id.
    pub fn from_cells(line: u32, cells: &[Option<&'a str>], c: QfeColumns) -> Option<QfeRow<'a>> {
        let row = QfeRow::from_columns(line, c, |i| {
            i.and_then(|i| cells.get(i).copied().flatten())
                .map(Cow::Borrowed)
        });
        row.has_hotfix_id().then_some(row)
    }

    /// A row whose fields `get` reads from the columns `c` names.
    fn from_columns(
        line: u32,
        c: QfeColumns,
        get: impl Fn(Option<usize>) -> Option<Cow<'a, str>>,
    ) -> QfeRow<'a> {
        QfeRow {
            line,
            node: get(c.node),
            hotfix_id: get(c.hotfix_id),
            description: get(c.description),
            installed_by: get(c.installed_by),
            installed_on: get(c.installed_on),
        }
    }

    /// Whether the row's id looks like a hotfix id: stray lines (a prompt,
    /// a warning) caught in a table or list have none.
    pub fn has_hotfix_id(&self) -> bool {
        self.hotfix_id
            .as_deref()
            .is_some_and(crate::hotfix_id::is_hotfix_like)
    }
}

fn non_empty(v: &Option<Cow<'_, str>>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Groups rows by node (case-insensitively, in order of first appearance)
/// and turns them into node facts. Dates are read with one `M/d` or `d/M`
/// order for the whole file ([`infer_slash_order`]).
pub fn qfe_rows_to_nodes(t: &crate::Text, rows: &[QfeRow<'_>]) -> Vec<crate::NodeFacts> {
    let order = infer_slash_order(rows.iter().filter_map(|r| r.installed_on.as_deref()));
    let mut out: Vec<crate::NodeFacts> = Vec::new();
    // Node name (lower case) → index in `out`; a map keeps files with
    // thousands of nodes linear.
    let mut keys: std::collections::HashMap<Option<String>, usize> =
        std::collections::HashMap::new();
    // One KB index per node of `out` (same positions).
    let mut indexes: Vec<UpdateIndex> = Vec::new();
    let mut strings = Interner::default();
    for r in rows {
        let name = r.node.as_deref().and_then(host_name);
        let key = name.as_ref().map(|n| n.to_lowercase());
        let idx = match keys.get(&key) {
            Some(&i) => i,
            None => {
                keys.insert(key, out.len());
                let mut f = crate::NodeFacts::default();
                if let Some(n) = name {
                    f.name = Some(lockstep_model::Sourced::new(n, t.at(r.line)));
                }
                out.push(f);
                indexes.push(UpdateIndex::default());
                out.len() - 1
            }
        };
        let (Some(facts), Some(index)) = (out.get_mut(idx), indexes.get_mut(idx)) else {
            continue;
        };
        let Some(id) = non_empty(&r.hotfix_id) else {
            continue;
        };
        match read_hotfix_id(t, r.line, &id) {
            CaptureId::Kb(kb, id_text) => index.add(
                &mut facts.node,
                lockstep_model::InstalledUpdate {
                    kb,
                    id_text: id_text.map(|s| strings.get(s)),
                    description: strings.trimmed(r.description.as_deref()),
                    installed_on: r.installed_on.as_deref().and_then(|d| parse_date(d, order)),
                    installed_by: strings.trimmed(r.installed_by.as_deref()),
                    source: t.at(r.line),
                },
            ),
            CaptureId::Cut(e) => facts.errors.push(e),
            CaptureId::Other => {
                if !facts.node.other_entries.iter().any(|o| o.text == id) {
                    facts.node.other_entries.push(lockstep_model::OtherEntry {
                        text: id,
                        source: t.at(r.line),
                    });
                }
            }
        }
    }
    out
}
