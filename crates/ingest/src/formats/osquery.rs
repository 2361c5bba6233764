//! osquery's `patches` table as `osqueryi --json "select * from patches"`
//! prints it: an array of objects whose values are all strings, columns
//! `csname`, `hotfix_id`, `caption`, `description`, `fix_comments`,
//! `installed_by`, `install_date`, `installed_on` (the table reads
//! `Win32_QuickFixEngineering`, so `installed_on` is WMI's `M/d/yyyy`).
//! Fleet managers that wrap results (`{"rows": [...]}` from the osquery
//! distributed API) are out of scope; `osqueryd` result logs carry one
//! object per line and are read as a sequence of bare objects.

use super::qfe::{self, QfeRow};
use super::{FileContent, Format, Text};
use crate::IngestError;
use crate::util::{self, Loose};

pub static FORMAT: Format = Format {
    name: "osquery-patches",
    detect,
    parse,
};

fn detect(text: &str) -> bool {
    let h = util::head(text, 8 * 1024);
    matches!(util::first_significant(h), Some('[' | '{')) && h.contains("\"hotfix_id\"")
}

#[derive(serde::Deserialize)]
struct Row<'a> {
    #[serde(borrow, default)]
    csname: Loose<'a>,
    #[serde(borrow, default)]
    hotfix_id: Loose<'a>,
    #[serde(borrow, default)]
    description: Loose<'a>,
    #[serde(borrow, default)]
    installed_by: Loose<'a>,
    #[serde(borrow, default)]
    installed_on: Loose<'a>,
}

fn parse(t: &Text) -> Result<FileContent, IngestError> {
    let err = |(line, msg): (u32, String)| {
        IngestError::new(
            t.path.as_ref(),
            line,
            "osquery patches JSON (an array of objects with hotfix_id)",
        )
        .found(msg)
    };
    let body = t.text.trim_start();
    let parsed: Vec<(u32, Row)> = if body.starts_with('[') {
        let rows: Vec<Row> = util::json_rows(&t.text).map_err(err)?;
        // The line of each fact is the line of its hotfix_id value.
        let mut line_of = util::LineOf::new(&t.text);
        rows.into_iter()
            .map(|r| (line_of.line(r.hotfix_id.0.as_deref()), r))
            .collect()
    } else {
        // Result logs: one JSON object per line.
        let mut out = Vec::new();
        for (n, l) in util::lines(&t.text) {
            if l.trim().is_empty() {
                continue;
            }
            let row = serde_json::from_str::<Row>(l).map_err(|e| err((n, e.to_string())))?;
            out.push((n, row));
        }
        out
    };
    let rows: Vec<QfeRow> = parsed
        .into_iter()
        .map(|(line, r)| QfeRow {
            line,
            node: r.csname.0,
            hotfix_id: r.hotfix_id.0,
            description: r.description.0,
            installed_by: r.installed_by.0,
            installed_on: r.installed_on.0,
        })
        .collect();
    Ok(FileContent::Nodes(qfe::qfe_rows_to_nodes(t, &rows)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_nodes() {
        let text = "[\n  {\"caption\":\"http://support.microsoft.com/?kbid=5032306\",\"csname\":\"HV01\",\"description\":\"Update\",\"fix_comments\":\"\",\"hotfix_id\":\"KB5032306\",\"install_date\":\"\",\"installed_by\":\"NT AUTHORITY\\\\SYSTEM\",\"installed_on\":\"11/15/2023\"},\n  {\"caption\":\"\",\"csname\":\"HV01\",\"description\":\"Security Update\",\"fix_comments\":\"\",\"hotfix_id\":\"KB5033118\",\"install_date\":\"\",\"installed_by\":\"\",\"installed_on\":\"\"}\n]\n";
        assert!(detect(text));
        let FileContent::Nodes(n) = parse(&Text::new("p.json", text)).unwrap() else {
            panic!()
        };
        assert_eq!(n[0].name.as_ref().unwrap().value, "HV01");
        let u = &n[0].node.updates;
        assert_eq!(
            (
                u[0].kb.to_string(),
                u[0].installed_on.map(|d| d.to_string())
            ),
            ("KB5032306".into(), Some("2023-11-15".into()))
        );
        assert_eq!(
            (u[1].kb.to_string(), u[1].installed_by.clone()),
            ("KB5033118".into(), None)
        );
    }
}
