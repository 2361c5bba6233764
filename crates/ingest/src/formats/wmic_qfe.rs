//! `wmic qfe` output in its three forms:
//!
//! * `wmic qfe list full` (and `list /format:list`): `Key=Value` lines, one
//!   block per hotfix, blocks separated by blank lines.
//! * `wmic qfe`, `wmic qfe list brief`, `wmic qfe get HotFixID,InstalledOn`:
//!   a table whose header names the columns (property names, not
//!   localized). wmic pads every column by at least two spaces, but pads by
//!   a measure that is not the character count when values are not ASCII
//!   (the Russian sample's `TEST_dc\Администратор` shifts the rest of the
//!   row left), so values are split on runs of two spaces and assigned to
//!   columns by position with the shift corrected ([`Table::split_row`]).
//! * `wmic qfe list full /format:csv`: a blank line, then a header whose
//!   first column is `Node`, then unquoted rows.
//!
//! Real captures carry stray lines around the output (the Russian sample
//! starts with the shell command `cat q`): lines before the header and
//! lines that are not rows are skipped. `InstalledOn` is `M/d/yyyy` (or a
//! hex FILETIME on old systems); the node is `CSName` (`Node` in CSV).

use super::qfe::{self, QfeColumns, QfeRow};
use super::{FileContent, Format, Text};
use crate::IngestError;
use crate::util::{self, Table, lines};
use std::borrow::Cow;

pub static FORMAT: Format = Format {
    name: "wmic-qfe",
    detect,
    parse,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    List,
    Table(usize),
    Csv(usize),
}

fn form(text: &str) -> Option<Form> {
    let h = util::head(text, 16 * 1024);
    for (i, (_, l)) in lines(h).enumerate().take(40) {
        let t = l.trim();
        if t.len() > 9
            && t.get(..9)
                .is_some_and(|p| p.eq_ignore_ascii_case("HotFixID="))
        {
            return Some(Form::List);
        }
        if t.contains(',') {
            let mut fields = t.split(',');
            if fields
                .next()
                .is_some_and(|f| f.trim().eq_ignore_ascii_case("Node"))
                && fields.any(|f| f.trim().eq_ignore_ascii_case("HotFixID"))
            {
                return Some(Form::Csv(i));
            }
            continue;
        }
        let words = util::tokens(t, 2);
        // A header is property names only (`Format-List` lines have `:`).
        let names_only = words
            .iter()
            .all(|(_, w)| w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        if names_only
            && words
                .iter()
                .any(|(_, w)| w.eq_ignore_ascii_case("HotFixID"))
        {
            // A PowerShell table has a line of dashes under its header.
            let next = lines(h).nth(i + 1).map(|(_, l)| l).unwrap_or("");
            if util::dash_groups(next).is_some() {
                return None;
            }
            return Some(Form::Table(i));
        }
    }
    None
}

fn detect(text: &str) -> bool {
    form(text).is_some()
}

fn parse(t: &Text) -> Result<FileContent, IngestError> {
    let rows = match form(&t.text) {
        Some(Form::List) => parse_list(t),
        Some(Form::Table(h)) => parse_table(t, h),
        Some(Form::Csv(h)) => parse_csv(t, h)?,
        None => {
            return Err(IngestError::new(
                t.path.as_ref(),
                0,
                "wmic qfe output (a table with a HotFixID column, HotFixID= lines, or /format:csv)",
            ));
        }
    };
    Ok(FileContent::Nodes(qfe::qfe_rows_to_nodes(t, &rows)))
}

fn parse_list(t: &Text) -> Vec<QfeRow<'_>> {
    let mut rows = Vec::new();
    let mut cur = QfeRow::default();
    let mut in_block = false;
    for (n, l) in lines(&t.text) {
        let l = l.trim();
        let Some((k, v)) = l.split_once('=') else {
            if l.is_empty() && in_block {
                rows.push(std::mem::take(&mut cur));
                in_block = false;
            }
            continue;
        };
        let v = Cow::Borrowed(v.trim());
        let k = k.trim();
        if !in_block {
            cur.line = n;
            in_block = true;
        }
        if k.eq_ignore_ascii_case("HotFixID") {
            // A new id inside a block that already has one: blocks were not
            // separated (a mangled capture); start a new row.
            if cur.hotfix_id.is_some() {
                rows.push(std::mem::take(&mut cur));
            }
            cur.hotfix_id = Some(v);
            cur.line = n;
        } else if k.eq_ignore_ascii_case("CSName") {
            cur.node = Some(v);
        } else if k.eq_ignore_ascii_case("Description") {
            cur.description = Some(v);
        } else if k.eq_ignore_ascii_case("InstalledBy") {
            cur.installed_by = Some(v);
        } else if k.eq_ignore_ascii_case("InstalledOn") {
            cur.installed_on = Some(v);
        }
    }
    if in_block {
        rows.push(cur);
    }
    rows.retain(|r| r.hotfix_id.is_some());
    rows
}

fn parse_table(t: &Text, header_idx: usize) -> Vec<QfeRow<'_>> {
    let mut it = lines(&t.text).skip(header_idx);
    let Some((_, header)) = it.next() else {
        return Vec::new();
    };
    let table = Table::from_header(header);
    let columns = QfeColumns::find(|n| table.index(n), &["CSName"]);
    let mut rows = Vec::new();
    for (n, l) in it {
        if l.trim().is_empty() {
            continue;
        }
        // Stray lines (prompts, messages) have no hotfix id in that column.
        rows.extend(QfeRow::from_cells(n, &table.split_row(l), columns));
    }
    rows
}

fn parse_csv(t: &Text, header_idx: usize) -> Result<Vec<QfeRow<'_>>, IngestError> {
    let offset = util::line_start(&t.text, header_idx);
    let body = t.text.get(offset..).unwrap_or("");
    let base = u32::try_from(header_idx).unwrap_or(u32::MAX);
    let (mut rdr, headers) = util::csv_reader(t, body, base + 1, "a wmic CSV header")?;
    let columns = QfeColumns::find(|n| util::csv_col(&headers, &[n]), &["Node", "CSName"]);
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            util::csv_error(t, base + util::csv_line(e.position()), "a wmic CSV row", &e)
        })?;
        let row = QfeRow::from_record(base + util::csv_line(rec.position()), &rec, columns);
        if row.has_hotfix_id() {
            rows.push(row);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeFacts;

    fn nodes(text: &str) -> Vec<NodeFacts> {
        assert!(detect(text), "not detected");
        match parse(&Text::new("q.txt", text)).unwrap() {
            FileContent::Nodes(n) => n,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn list_full() {
        let text = "\n\nCaption=http://support.microsoft.com/?kbid=4462930\nCSName=WIN-O863JARO7CM\nDescription=Update\nFixComments=\nHotFixID=KB4462930\nInstallDate=\nInstalledBy=NT AUTHORITY\\SYSTEM\nInstalledOn=1/13/2019\nName=\nServicePackInEffect=\nStatus=\n\n\nCaption=\nCSName=WIN-O863JARO7CM\nDescription=Security Update\nFixComments=\nHotFixID=KB4480116\nInstallDate=\nInstalledBy=\nInstalledOn=01d4ab9e1c1a2b00\nName=\nServicePackInEffect=\nStatus=\n\n";
        let n = nodes(text);
        assert_eq!(n[0].name.as_ref().unwrap().value, "WIN-O863JARO7CM");
        let u = &n[0].node.updates;
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].installed_on.unwrap().to_string(), "2019-01-13");
        assert_eq!(u[0].source.line, 7);
        assert_eq!(u[1].installed_on.unwrap().to_string(), "2019-01-14");
    }

    #[test]
    fn csv_form() {
        let text = "\nNode,Caption,CSName,Description,FixComments,HotFixID,InstallDate,InstalledBy,InstalledOn,Name,ServicePackInEffect,Status\nHV01,http://support.microsoft.com/?kbid=5032306,HV01,Update,,KB5032306,,NT AUTHORITY\\SYSTEM,11/15/2023,,,\nHV01,https://support.microsoft.com/help/5033118,HV01,Security Update,,KB5033118,,NT AUTHORITY\\SYSTEM,12/13/2023,,,\n";
        let n = nodes(text);
        assert_eq!(n[0].name.as_ref().unwrap().value, "HV01");
        let kbs: Vec<_> = n[0]
            .node
            .updates
            .iter()
            .map(|u| (u.kb.to_string(), u.source.line))
            .collect();
        assert_eq!(
            kbs,
            [("KB5032306".to_string(), 3), ("KB5033118".to_string(), 4)]
        );
    }

    #[test]
    fn get_table_subset() {
        let text =
            "HotFixID   InstalledOn  \nKB5032306  11/15/2023   \nKB5033118  12/13/2023   \n\n";
        let n = nodes(text);
        assert!(n[0].name.is_none());
        assert_eq!(n[0].node.updates.len(), 2);
    }
}
