//! Installed products from the Uninstall registry keys, as an admin exports
//! them:
//!
//! ```powershell
//! Get-ItemProperty HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*,
//!                  HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\* |
//!     Select-Object DisplayName, Publisher, DisplayVersion |
//!     Export-Csv HV01.products.csv          # or: ConvertTo-Json > HV01.products.json
//! ```
//!
//! `Export-Csv` (Windows PowerShell 5.1) writes a `#TYPE
//! Selected.System.Management.Automation.PSCustomObject` line unless
//! `-NoTypeInformation`, then a quoted header. `ConvertTo-Json` writes an
//! array (or one bare object). Keys without a `DisplayName` (most Uninstall
//! entries of updates and components) are skipped, as Programs and Features
//! does. A `PSComputerName` column or property, when present, names the node.

use super::mppreference::computer_name;
use super::mppreference::list::{jget, json_objects, jstr, looks_like_json};
use super::{FileContent, Format, NodeFacts, Text};
use crate::IngestError;
use crate::util;
use lockstep_model::Node;
use lockstep_model::protection::{InstalledProduct, NodeProtection, Section};
use std::collections::BTreeMap;

pub static FORMAT: Format = Format {
    name: "installed-products",
    detect,
    parse,
};

fn csv_body(text: &str) -> &str {
    let t = text.trim_start_matches('\u{feff}');
    match t.strip_prefix("#TYPE") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
        None => t,
    }
}

fn header_has(line: &str, name: &str) -> bool {
    line.split(',')
        .any(|c| c.trim().trim_matches('"').eq_ignore_ascii_case(name))
}

fn detect(text: &str) -> bool {
    if !text.contains("DisplayName") || !text.contains("Publisher") {
        return false;
    }
    if looks_like_json(text) {
        return json_objects(text).is_some_and(|v| {
            !v.is_empty()
                && v.iter()
                    .all(|o| jget(o, "DisplayName").is_some() && jget(o, "Publisher").is_some())
        });
    }
    let header = csv_body(text).lines().next().unwrap_or_default();
    header_has(header, "DisplayName") && header_has(header, "Publisher")
}

/// Products grouped by the node that reported them (`None`: not named).
type ByNode = BTreeMap<Option<String>, Vec<InstalledProduct>>;

fn parse_json(text: &Text) -> Result<ByNode, IngestError> {
    let objs = json_objects(&text.text).ok_or_else(|| {
        IngestError::new(
            &*text.path,
            0,
            "a ConvertTo-Json array of DisplayName/Publisher/DisplayVersion objects",
        )
    })?;
    let mut out = ByNode::new();
    for o in objs {
        let Some(name) = jget(&o, "DisplayName").and_then(jstr) else {
            continue;
        };
        let node = jget(&o, "PSComputerName").and_then(jstr);
        out.entry(node).or_default().push(InstalledProduct {
            name,
            vendor: jget(&o, "Publisher").and_then(jstr),
            version: jget(&o, "DisplayVersion").and_then(jstr),
            source: text.at(0),
        });
    }
    Ok(out)
}

/// 1-based line of a byte offset (the csv crate's own line counter starts
/// after the header, so count newlines instead).
fn line_at(body: &str, byte: u64) -> u32 {
    let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(body.len());
    // A record's position can point at the CR/LF that ended the previous one.
    while matches!(body.as_bytes().get(end), Some(b'\r' | b'\n')) {
        end += 1;
    }
    body.as_bytes()
        .get(..end)
        .map_or(0, |b| memchr::memchr_iter(b'\n', b).count()) as u32
        + 1
}

fn parse_csv(text: &Text) -> Result<ByNode, IngestError> {
    let full = text.text.trim_start_matches('\u{feff}');
    let body = csv_body(full);
    // Line numbers in the file: the #TYPE line, when present, comes first.
    let offset = if body.len() < full.len() { 1 } else { 0 };
    let (mut rdr, headers) = util::csv_reader(
        text,
        body,
        1 + offset,
        "a CSV header with DisplayName, Publisher, DisplayVersion",
    )?;
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let name_col = col("DisplayName")
        .ok_or_else(|| IngestError::new(&*text.path, 1 + offset, "a DisplayName column"))?;
    let (vendor_col, version_col, node_col) = (
        col("Publisher"),
        col("DisplayVersion"),
        col("PSComputerName"),
    );
    let mut out = ByNode::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| line_at(body, p.byte()) + offset);
            util::csv_error(text, line, "a CSV row of quoted fields", &e)
        })?;
        let line = rec
            .position()
            .map_or(0, |p| line_at(body, p.byte()) + offset);
        let field = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let Some(name) = field(Some(name_col)) else {
            continue;
        };
        out.entry(field(node_col))
            .or_default()
            .push(InstalledProduct {
                name,
                vendor: field(vendor_col),
                version: field(version_col),
                source: text.at(line),
            });
    }
    Ok(out)
}

fn parse(text: &Text) -> Result<FileContent, IngestError> {
    let by_node = if looks_like_json(&text.text) {
        parse_json(text)?
    } else {
        parse_csv(text)?
    };
    let by_node = if by_node.is_empty() {
        // A file with a header and no products is still a (empty) list.
        BTreeMap::from([(None, Vec::new())])
    } else {
        by_node
    };
    let nodes = by_node
        .into_iter()
        .map(|(node, products)| NodeFacts {
            name: computer_name(node.as_deref(), text.at(0)),
            node: Node {
                protection: NodeProtection {
                    products: Some(Section::ok(products, text.at(0))),
                    ..Default::default()
                },
                ..Default::default()
            },
            ..Default::default()
        })
        .collect();
    Ok(FileContent::Nodes(nodes))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row = (String, Option<String>, Option<String>, u32);

    fn products(c: FileContent) -> Vec<(Option<String>, Vec<Row>)> {
        let FileContent::Nodes(n) = c else {
            panic!("nodes")
        };
        n.into_iter()
            .map(|f| {
                let p = f.node.protection.products.unwrap().data.unwrap();
                (
                    f.name.map(|s| s.value),
                    p.into_iter()
                        .map(|p| (p.name, p.vendor, p.version, p.source.line))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn export_csv_with_type_line() {
        let t = "#TYPE Selected.System.Management.Automation.PSCustomObject\r\n\"DisplayName\",\"Publisher\",\"DisplayVersion\"\r\n\"McAfee VirusScan Enterprise\",\"McAfee, Inc.\",\"8.8.0.849\"\r\n,,\r\n\"Microsoft Visual C++ 2015 x64\",\"Microsoft Corporation\",\"14.0.24215\"\r\n";
        assert!(detect(t));
        let got = products(parse(&Text::new("p.csv", t)).unwrap());
        assert_eq!(
            got,
            vec![(
                None,
                vec![
                    (
                        "McAfee VirusScan Enterprise".into(),
                        Some("McAfee, Inc.".into()),
                        Some("8.8.0.849".into()),
                        3
                    ),
                    (
                        "Microsoft Visual C++ 2015 x64".into(),
                        Some("Microsoft Corporation".into()),
                        Some("14.0.24215".into()),
                        5
                    ),
                ]
            )]
        );
    }

    #[test]
    fn json_array_with_computer_names() {
        let t = r#"[{"DisplayName":"CrowdStrike Windows Sensor","Publisher":"CrowdStrike, Inc.","DisplayVersion":"7.11.18110.0","PSComputerName":"HV02"},{"DisplayName":null,"Publisher":null,"DisplayVersion":null,"PSComputerName":"HV02"}]"#;
        assert!(detect(t));
        let got = products(parse(&Text::new("p.json", t)).unwrap());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.as_deref(), Some("HV02"));
        assert_eq!(got[0].1[0].2.as_deref(), Some("7.11.18110.0"));
    }
}
