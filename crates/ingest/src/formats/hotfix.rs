//! `Get-HotFix` / `Get-WmiObject Win32_QuickFixEngineering` /
//! `Get-CimInstance Win32_QuickFixEngineering` output in the three forms
//! admins save it:
//!
//! * `Export-Csv`: Windows PowerShell 5.1 writes a first line
//!   `#TYPE System.Management.ManagementObject#root\cimv2\Win32_QuickFixEngineering`
//!   (absent with `-NoTypeInformation` and in PowerShell 7), then a header
//!   of property names and quoted values. Columns are found by property
//!   name (`HotFixID`, `Description`, `InstalledBy`, `InstalledOn`, and the
//!   node from `PSComputerName`, `CSName`, `Source` or `__SERVER`); property
//!   names are not localized.
//! * `ConvertTo-Json`: an array, or one bare object when there was one
//!   hotfix. `InstalledOn` is `"/Date(1704844800000)/"`, an object
//!   `{"value": "/Date(...)/", "DateTime": "..."}` (5.1 with extended
//!   properties), or culture text (`3/14/2023 12:00:00 AM`,
//!   `14.03.2023 00:00:00`) after `Select-Object` turned it into a string.
//! * The default table (`Source Description HotFixID InstalledBy
//!   InstalledOn`, a dashes line, then rows), cut at the dash groups'
//!   columns, since PowerShell may separate columns by a single space.
//! * `Format-List` (`Get-HotFix | fl`): `Name : value` blocks.
//!
//! Culture dates `a/b/yyyy` are read month-first unless a value in the
//! same file proves day-first (a first number above 12).

use super::qfe::{self, QfeColumns, QfeRow};
use super::{FileContent, Format, Text};
use crate::IngestError;
use crate::util::{self, JsonDate, Loose, Table, lines};
use std::borrow::Cow;

pub static FORMAT: Format = Format {
    name: "get-hotfix",
    detect,
    parse,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Csv,
    Json,
    Table,
    List,
}

fn form(text: &str) -> Option<Form> {
    let h = util::head(text, 16 * 1024);
    match util::first_significant(h)? {
        '[' | '{' => {
            let lower = h.to_ascii_lowercase();
            return lower.contains("\"hotfixid\"").then_some(Form::Json);
        }
        _ => {}
    }
    if let Some((_, _, header)) = csv_header(h) {
        let first = header
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if !first.eq_ignore_ascii_case("Node") {
            return Some(Form::Csv);
        }
        return None;
    }
    if table_header(h).is_some() {
        return Some(Form::Table);
    }
    list_key_value(h).map(|_| Form::List)
}

/// `HotFixID   : KB5033118` (Format-List): the key and value of the first
/// such line among the first lines, when there is one.
fn list_key_value(text: &str) -> Option<(&str, &str)> {
    lines(text).take(60).find_map(|(_, l)| {
        let (k, v) = split_list_line(l)?;
        k.eq_ignore_ascii_case("HotFixID").then_some((k, v))
    })
}

/// A `Name : value` line of `Format-List` output.
fn split_list_line(l: &str) -> Option<(&str, &str)> {
    if l.starts_with(char::is_whitespace) {
        return None;
    }
    let (k, v) = l
        .split_once(" : ")
        .or_else(|| l.trim_end().strip_suffix(" :").map(|k| (k, "")))?;
    let k = k.trim();
    (!k.is_empty() && !k.contains(' ')).then_some((k, v.trim()))
}

fn detect(text: &str) -> bool {
    form(text).is_some()
}

fn parse(t: &Text) -> Result<FileContent, IngestError> {
    let rows = match form(&t.text) {
        Some(Form::Json) => return parse_json(t),
        Some(Form::Csv) => parse_csv(t)?,
        Some(Form::Table) => parse_table(t)?,
        Some(Form::List) => parse_list(t),
        None => {
            return Err(IngestError::new(
                t.path.as_ref(),
                0,
                "Get-HotFix output (Export-Csv with a HotFixID column, ConvertTo-Json, or the default table)",
            ));
        }
    };
    Ok(FileContent::Nodes(qfe::qfe_rows_to_nodes(t, &rows)))
}

/// The CSV header line after blank lines and a `#TYPE` line: (line number,
/// byte offset, text) when it has a `HotFixID` column.
fn csv_header(text: &str) -> Option<(u32, usize, &str)> {
    for (n, l) in lines(text).take(6) {
        let t = l.trim();
        if t.is_empty() || t.starts_with("#TYPE") {
            continue;
        }
        let offset = util::line_start(text, n as usize - 1);
        let has = t.contains(',')
            && t.split(',')
                .any(|f| f.trim().trim_matches('"').eq_ignore_ascii_case("HotFixID"));
        return has.then_some((n, offset, l));
    }
    None
}

/// The table header line index (0-based) followed by a dashes line.
fn table_header(text: &str) -> Option<usize> {
    let ls: Vec<&str> = lines(text).take(40).map(|(_, l)| l).collect();
    for i in 0..ls.len().saturating_sub(1) {
        let (Some(h), Some(d)) = (ls.get(i), ls.get(i + 1)) else {
            continue;
        };
        if util::dash_groups(d).is_some_and(|g| g.len() >= 2)
            && h.split_whitespace()
                .any(|w| w.eq_ignore_ascii_case("HotFixID"))
        {
            return Some(i);
        }
    }
    None
}

fn parse_csv(t: &Text) -> Result<Vec<QfeRow<'_>>, IngestError> {
    let Some((header_line, offset, _)) = csv_header(&t.text) else {
        return Err(IngestError::new(
            t.path.as_ref(),
            1,
            "a CSV header with a HotFixID column",
        ));
    };
    let body = t.text.get(offset..).unwrap_or("");
    let (mut rdr, headers) = util::csv_reader(t, body, header_line, "a CSV header")?;
    let line_base = header_line.saturating_sub(1);
    let columns = QfeColumns::find(
        |n| util::csv_col(&headers, &[n]),
        &[
            "PSComputerName",
            "CSName",
            "Source",
            "__SERVER",
            "ComputerName",
        ],
    );
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = line_base + util::csv_line(e.position());
            util::csv_error(t, line, "a CSV record with quoted fields", &e)
        })?;
        let line = line_base + util::csv_line(rec.position());
        rows.push(QfeRow::from_record(line, &rec, columns));
    }
    Ok(rows)
}

#[derive(serde::Deserialize)]
struct JsonRow<'a> {
    #[serde(
        rename = "HotFixID",
        alias = "HotfixID",
        alias = "HotFixId",
        alias = "hotfixid",
        borrow,
        default
    )]
    hotfix_id: Loose<'a>,
    #[serde(rename = "Description", alias = "description", borrow, default)]
    description: Loose<'a>,
    #[serde(rename = "InstalledBy", alias = "installedby", borrow, default)]
    installed_by: Loose<'a>,
    #[serde(rename = "InstalledOn", alias = "installedon", borrow, default)]
    installed_on: JsonDate<'a>,
    #[serde(rename = "PSComputerName", borrow, default)]
    ps_computer_name: Loose<'a>,
    #[serde(rename = "CSName", alias = "CsName", borrow, default)]
    cs_name: Loose<'a>,
    #[serde(rename = "Source", borrow, default)]
    source: Loose<'a>,
    #[serde(rename = "__SERVER", borrow, default)]
    server: Loose<'a>,
}

fn parse_json(t: &Text) -> Result<FileContent, IngestError> {
    let parsed: Vec<JsonRow> = util::json_rows(&t.text).map_err(|(line, msg)| {
        IngestError::new(
            t.path.as_ref(),
            line,
            "Get-HotFix ConvertTo-Json output (an array of objects or one object with HotFixID)",
        )
        .found(msg)
    })?;
    // The line of each fact is the line of its HotFixID value.
    let mut line_of = util::LineOf::new(&t.text);
    let rows: Vec<QfeRow> = parsed
        .into_iter()
        .map(|r| QfeRow {
            line: line_of.line(r.hotfix_id.0.as_deref()),
            node: r
                .ps_computer_name
                .0
                .or(r.cs_name.0)
                .or(r.source.0)
                .or(r.server.0),
            hotfix_id: r.hotfix_id.0,
            description: r.description.0,
            installed_by: r.installed_by.0,
            installed_on: r.installed_on.0,
        })
        .collect();
    Ok(FileContent::Nodes(qfe::qfe_rows_to_nodes(t, &rows)))
}

fn parse_table(t: &Text) -> Result<Vec<QfeRow<'_>>, IngestError> {
    let Some(hi) = table_header(&t.text) else {
        return Err(IngestError::new(
            t.path.as_ref(),
            1,
            "a Get-HotFix table header followed by a line of dashes",
        ));
    };
    let all: Vec<(u32, &str)> = lines(&t.text).collect();
    let (Some(&(_, header)), Some(&(_, dashes))) = (all.get(hi), all.get(hi + 1)) else {
        return Ok(Vec::new());
    };
    let starts = util::dash_groups(dashes).unwrap_or_default();
    let table = Table::from_header(header);
    let names: Vec<Option<String>> = table
        .slice_row(header, &starts)
        .into_iter()
        .map(|v| v.map(str::to_string))
        .collect();
    let col = |n: &str| {
        names
            .iter()
            .position(|x| x.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(n)))
    };
    let columns = QfeColumns::find(col, &["Source", "PSComputerName", "CSName"]);
    let mut rows = Vec::new();
    for &(n, l) in all.iter().skip(hi + 2) {
        if l.trim().is_empty() {
            continue;
        }
        // Stray lines after the table (a prompt, a warning) have no hotfix id.
        rows.extend(QfeRow::from_cells(n, &table.slice_row(l, &starts), columns));
    }
    Ok(rows)
}

/// `Get-HotFix | Format-List`: blocks of `Name : value` lines separated by
/// blank lines (`Source`, `Description`, `HotFixID`, `InstalledBy`,
/// `InstalledOn`, or every property with `Format-List *`).
fn parse_list(t: &Text) -> Vec<QfeRow<'_>> {
    let mut rows = Vec::new();
    let mut cur = QfeRow::default();
    let mut open = false;
    for (n, l) in lines(&t.text) {
        if l.trim().is_empty() {
            if open {
                rows.push(std::mem::take(&mut cur));
                open = false;
            }
            continue;
        }
        let Some((k, v)) = split_list_line(l) else {
            continue;
        };
        if !open {
            cur.line = n;
            open = true;
        }
        let v = Some(Cow::Borrowed(v));
        match k.to_ascii_lowercase().as_str() {
            "hotfixid" => {
                cur.hotfix_id = v;
                cur.line = n;
            }
            "description" => cur.description = v,
            "installedby" => cur.installed_by = v,
            "installedon" => cur.installed_on = v,
            "pscomputername" | "source" | "csname"
                if cur.node.as_deref().is_none_or(str::is_empty) =>
            {
                cur.node = v;
            }
            _ => {}
        }
    }
    if open {
        rows.push(cur);
    }
    rows.retain(QfeRow::has_hotfix_id);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeFacts;

    fn nodes(text: &str) -> Vec<NodeFacts> {
        assert!(detect(text), "not detected: {text}");
        match parse(&Text::new("t", text)).unwrap() {
            FileContent::Nodes(n) => n,
            other => panic!("{other:?}"),
        }
    }

    fn kbs_dates(f: &NodeFacts) -> Vec<(String, Option<String>)> {
        f.node
            .updates
            .iter()
            .map(|u| (u.kb.to_string(), u.installed_on.map(|d| d.to_string())))
            .collect()
    }

    #[test]
    fn json_single_object_and_date_forms() {
        let one = r#"{"PSComputerName": "HV01", "HotFixID": "KB5033118", "InstalledOn": {"value": "\/Date(1702425600000)\/", "DateTime": "Wednesday, December 13, 2023 12:00:00 AM"}, "Description": "Security Update", "InstalledBy": "NT AUTHORITY\\SYSTEM"}"#;
        let n = nodes(one);
        assert_eq!(n[0].name.as_ref().unwrap().value, "HV01");
        assert_eq!(
            kbs_dates(&n[0]),
            [("KB5033118".into(), Some("2023-12-13".into()))]
        );
        assert_eq!(
            n[0].node.updates[0].installed_by.as_deref(),
            Some("NT AUTHORITY\\SYSTEM")
        );
        let arr = r#"[{"CSName":"hv02","HotFixID":"KB5023705","InstalledOn":"14.03.2023 00:00:00"},{"CSName":"HV02","HotFixID":"KB5005039","InstalledOn":"3/14/2023 12:00:00 AM"},{"CSName":"HV02","HotFixID":"KB5004330","InstalledOn":null,"__GENUS":2}]"#;
        let n = nodes(arr);
        assert_eq!(n.len(), 1);
        assert_eq!(
            kbs_dates(&n[0]),
            [
                ("KB5023705".into(), Some("2023-03-14".into())),
                ("KB5005039".into(), Some("2023-03-14".into())),
                ("KB5004330".into(), None)
            ]
        );
    }

    #[test]
    fn json_errors_name_the_line() {
        let e = parse(&Text::new(
            "bad.json",
            "[\n{\"HotFixID\": \"KB5005039\",\n\"InstalledOn\": }\n]",
        ))
        .unwrap_err();
        assert_eq!((e.path.as_str(), e.line), ("bad.json", 3));
    }

    #[test]
    fn csv_without_type_line_and_day_first() {
        let text = "\"Source\",\"Description\",\"HotFixID\",\"InstalledBy\",\"InstalledOn\"\n\"HV01\",\"Update\",\"KB5032306\",\"NT AUTHORITY\\SYSTEM\",\"14/11/2023 00:00:00\"\n\"HV01\",\"Security Update\",\"KB5033118\",\"NT AUTHORITY\\SYSTEM\",\"01/12/2023 00:00:00\"\n";
        let n = nodes(text);
        assert_eq!(
            kbs_dates(&n[0]),
            [
                ("KB5032306".into(), Some("2023-11-14".into())),
                ("KB5033118".into(), Some("2023-12-01".into()))
            ]
        );
    }

    #[test]
    fn table_with_single_space_columns() {
        let text = "\nSource Description     HotFixID  InstalledBy         InstalledOn\n------ -----------     --------  -----------         -----------\nHV01   Update          KB5032306 NT AUTHORITY\\SYSTEM 11/15/2023 12:00:00 AM\nHV01   Security Update KB5033118 NT AUTHORITY\\SYSTEM 12/13/2023 12:00:00 AM\n\nPS C:\\> \n";
        let n = nodes(text);
        assert_eq!(n[0].name.as_ref().unwrap().value, "HV01");
        assert_eq!(
            kbs_dates(&n[0]),
            [
                ("KB5032306".into(), Some("2023-11-15".into())),
                ("KB5033118".into(), Some("2023-12-13".into()))
            ]
        );
        assert_eq!(
            n[0].node.updates[1].description.as_deref(),
            Some("Security Update")
        );
        assert_eq!(n[0].node.updates[1].source.line, 5);
    }

    #[test]
    fn format_list() {
        let text = "\n\nSource      : HV01\nDescription : Update\nHotFixID    : KB5032306\nInstalledBy : NT AUTHORITY\\SYSTEM\nInstalledOn : 11/15/2023 12:00:00 AM\n\nSource      : HV01\nDescription : Security Update\nHotFixID    : KB5033118\nInstalledBy :\nInstalledOn :\n\n\n";
        let n = nodes(text);
        assert_eq!(n[0].name.as_ref().unwrap().value, "HV01");
        assert_eq!(
            kbs_dates(&n[0]),
            [
                ("KB5032306".into(), Some("2023-11-15".into())),
                ("KB5033118".into(), None)
            ]
        );
        assert_eq!(n[0].node.updates[1].source.line, 11);
        assert_eq!(n[0].node.updates[1].installed_by, None);
    }

    #[test]
    fn not_claimed() {
        assert!(!detect("Node,Caption,HotFixID\nA,B,KB1\n"));
        assert!(!detect("Host Name: X\n"));
        assert!(!detect("[{\"hotfix_id\":\"KB1\"}]"));
    }
}
