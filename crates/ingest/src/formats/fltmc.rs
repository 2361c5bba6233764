//! `fltmc filters` and `fltmc instances` text.
//!
//! Both print a table whose columns are fixed by the line of dashes under the
//! header (documented at learn.microsoft.com, "Development and testing tools"
//! → fltmc.exe, and the SQL Server anti-virus guidance that shows a full
//! `fltmc instances` sample):
//!
//! ```text
//! Filter Name                     Num Instances    Altitude    Frame
//! ------------------------------  -------------  ------------  -----
//! AVLegacy                                        389998.99   <Legacy>
//! AVMiniFilter                           3        328000         0
//!
//! Filter                Volume Name                              Altitude        Instance Name       Frame   SprtFtrs  VlStatus
//! --------------------  -------------------------------------  ------------  ----------------------  -----   --------  --------
//! FileInfo                                                         40500     FileInfo                  0     0000000f
//! RsFx0603              C:                                         41006.03  RsFx0603 MiniFilter Instance    0     00000000
//! ```
//!
//! What the real output does that a naive split gets wrong, and how this
//! parser copes:
//! * legacy filters print no instance count and `<Legacy>` in the Frame column;
//! * altitudes can be fractional (`41006.03`, `389998.99`);
//! * the volume column is blank for instances on unnamed volumes;
//! * instance names contain spaces and may be wider than their column, which
//!   pushes Frame/SprtFtrs/VlStatus to the right. Columns are therefore found
//!   from the dashes line for the *left* part (filter, volume, altitude) and
//!   from the right for the tail (Frame is decimal; SprtFtrs and VlStatus are
//!   eight hex digits and VlStatus is often blank);
//! * older Windows prints no SprtFtrs column.
//!
//! Headers are read by structure, not by their (localizable) words: the table
//! kind follows from the number of dash groups (4 = filters, 5 to 7 =
//! instances) and the first row must carry a numeric altitude where the header
//! puts it.
//!
//! Without elevation `fltmc` prints an error ending in `Access is denied.`
//! (HRESULT 0x80070005) instead of a table. That is information too: the file
//! becomes a section with status `AccessDenied`, which the audit reports as
//! "cannot tell, collect elevated".

use super::{FileContent, Format, NodeFacts, Text};
use crate::IngestError;
use lockstep_model::protection::{
    FilterDriver, FilterInstance, NodeProtection, Section, SectionStatus,
};

pub static FORMAT: Format = Format {
    name: "fltmc",
    detect,
    parse,
};

/// A whitespace-separated token with its position in characters.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    start: usize,
    end: usize,
    text: &'a str,
}

fn tokens(line: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (char pos, byte pos)
    let mut char_pos = 0;
    for (byte_pos, ch) in line.char_indices() {
        if ch.is_whitespace() {
            if let Some((cs, bs)) = start.take() {
                out.push(Token {
                    start: cs,
                    end: char_pos,
                    text: line.get(bs..byte_pos).unwrap_or_default(),
                });
            }
        } else if start.is_none() {
            start = Some((char_pos, byte_pos));
        }
        char_pos += 1;
    }
    if let Some((cs, bs)) = start {
        out.push(Token {
            start: cs,
            end: char_pos,
            text: line.get(bs..).unwrap_or_default(),
        });
    }
    out
}

/// Text between two character positions, trimmed; `None` when blank.
fn between(line: &str, from: usize, to: usize) -> Option<String> {
    let s: String = line
        .chars()
        .skip(from)
        .take(to.saturating_sub(from))
        .collect();
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn is_altitude(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn is_decimal(s: &str) -> bool {
    !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_hex8(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Filters,
    Instances,
}

/// One table: the dash groups (character spans) and its rows.
struct Table<'a> {
    kind: Kind,
    /// 1-based line of the header.
    header_line: u32,
    groups: Vec<(usize, usize)>,
    rows: Vec<(u32, &'a str)>,
}

fn dash_groups(line: &str) -> Option<Vec<(usize, usize)>> {
    let t = line.trim();
    if t.is_empty() || !t.chars().all(|c| c == '-' || c == ' ') {
        return None;
    }
    let groups: Vec<(usize, usize)> = tokens(line).iter().map(|t| (t.start, t.end)).collect();
    (groups.len() >= 2).then_some(groups)
}

fn tables(text: &str) -> Vec<Table<'_>> {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut out = Vec::new();
    let mut i = 1;
    while i < lines.len() {
        let Some(groups) = lines.get(i).and_then(|l| dash_groups(l)) else {
            i += 1;
            continue;
        };
        let kind = match groups.len() {
            4 => Kind::Filters,
            5..=7 => Kind::Instances,
            _ => {
                i += 1;
                continue;
            }
        };
        let mut rows = Vec::new();
        let mut j = i + 1;
        while let Some(line) = lines.get(j) {
            if line.trim().is_empty() {
                break;
            }
            rows.push((j as u32 + 1, *line));
            j += 1;
        }
        out.push(Table {
            kind,
            header_line: i as u32, // the header is the line above the dashes (1-based: i)
            groups,
            rows,
        });
        i = j;
    }
    out
}

/// The first row's altitude sits under the third dash group: the cheap check
/// that tells an fltmc table from any other dashed table (Get-HotFix, wmic).
fn looks_like_fltmc(table: &Table<'_>) -> bool {
    let Some((_, row)) = table.rows.first() else {
        return false;
    };
    let Some(&(alt_start, alt_end)) = table.groups.get(2) else {
        return false;
    };
    tokens(row)
        .iter()
        .skip(1)
        .any(|t| t.end > alt_start && t.start <= alt_end + 2 && is_altitude(t.text))
}

/// True when the text is fltmc's refusal to run without elevation.
pub fn is_access_denied(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let denied = lower.contains("access is denied") || lower.contains("0x80070005");
    let about_filters = lower.contains("filter")
        || lower.contains("fltmc")
        || lower.contains("instance information");
    denied && about_filters && !lower.contains("cluster") && tables(text).is_empty()
}

fn detect(text: &str) -> bool {
    let head: String = text.chars().take(64 * 1024).collect();
    if is_access_denied(&head) {
        return true;
    }
    tables(&head).iter().any(looks_like_fltmc)
}

fn parse_filter_row(
    text: &Text,
    line_no: u32,
    line: &str,
    groups: &[(usize, usize)],
) -> Result<FilterDriver, IngestError> {
    let err = |what: &str| IngestError::new(&*text.path, line_no, what.to_string()).found(line);
    let toks = tokens(line);
    let (name, rest) = toks
        .split_first()
        .ok_or_else(|| err("a filter row: name, instances, altitude, frame"))?;
    let (last, middle) = rest
        .split_last()
        .ok_or_else(|| err("a filter row with an altitude and a frame after the name"))?;
    let (legacy, frame) = if last.text.eq_ignore_ascii_case("<Legacy>") {
        (true, None)
    } else if is_decimal(last.text) {
        (false, last.text.parse().ok())
    } else {
        return Err(err("a frame number or <Legacy> in the last column"));
    };
    let alt_start = groups.get(2).map(|g| g.0).unwrap_or(usize::MAX);
    let mut instances = None;
    let mut altitude = None;
    for t in middle {
        if t.start < alt_start && instances.is_none() && is_decimal(t.text) {
            instances = t.text.parse().ok();
        } else if altitude.is_none() && is_altitude(t.text) {
            altitude = Some(t.text.to_string());
        } else {
            return Err(err(
                "a number of instances and an altitude such as 328010 or 385100.5",
            ));
        }
    }
    Ok(FilterDriver {
        name: name.text.to_string(),
        instances,
        altitude,
        frame,
        legacy,
        source: text.at(line_no),
    })
}

fn parse_instance_row(
    text: &Text,
    line_no: u32,
    line: &str,
    groups: &[(usize, usize)],
) -> Result<FilterInstance, IngestError> {
    let err = |what: &str| IngestError::new(&*text.path, line_no, what.to_string()).found(line);
    let toks = tokens(line);
    let (filter, rest) = toks
        .split_first()
        .ok_or_else(|| err("an instance row: filter, volume, altitude, instance, frame"))?;
    let alt_start = groups.get(2).map(|g| g.0).unwrap_or(0);
    let alt_idx = rest
        .iter()
        .position(|t| t.end > alt_start && is_altitude(t.text))
        .ok_or_else(|| err("an altitude such as 328010 or 41006.03 in the Altitude column"))?;
    let alt = rest
        .get(alt_idx)
        .copied()
        .ok_or_else(|| err("an altitude"))?;
    let volume = between(line, filter.end, alt.start);
    let tail = rest.get(alt_idx + 1..).unwrap_or_default();
    // Frame is the last decimal token before at most (groups - 5) eight-digit hex columns.
    let max_hex = groups.len().saturating_sub(5);
    let mut hex = 0;
    while hex < max_hex
        && hex < tail.len()
        && tail
            .get(tail.len() - 1 - hex)
            .is_some_and(|t| is_hex8(t.text))
    {
        hex += 1;
    }
    let frame_idx = tail
        .len()
        .checked_sub(hex + 1)
        .ok_or_else(|| err("a frame number after the instance name"))?;
    let frame_tok = tail.get(frame_idx).ok_or_else(|| err("a frame number"))?;
    if !is_decimal(frame_tok.text) {
        return Err(err("a frame number after the instance name"));
    }
    let instance = between(line, alt.end, frame_tok.start);
    Ok(FilterInstance {
        filter: filter.text.to_string(),
        volume,
        altitude: Some(alt.text.to_string()),
        instance,
        frame: frame_tok.text.parse().ok(),
        source: text.at(line_no),
    })
}

fn no_table(text: &Text, what: &str) -> IngestError {
    let mut e = IngestError::new(
        &*text.path,
        0,
        format!("an `fltmc {what}` table (a header line, a line of dashes, rows)"),
    );
    if is_access_denied(&text.text) {
        e = e.found("Access is denied: fltmc must run elevated");
    }
    e
}

/// Parses one row given the file, its line number, the line and the dash groups.
type RowParser<T> = fn(&Text, u32, &str, &[(usize, usize)]) -> Result<T, IngestError>;

fn parse_table<T>(
    text: &Text,
    kind: Kind,
    row: RowParser<T>,
) -> Option<Result<Vec<T>, IngestError>> {
    let table = tables(&text.text)
        .into_iter()
        .find(|t| t.kind == kind && looks_like_fltmc(t))?;
    Some(
        table
            .rows
            .iter()
            .map(|(n, l)| row(text, *n, l, &table.groups))
            .collect(),
    )
}

/// The rows of the `fltmc filters` table in `text`.
pub fn parse_filters(text: &Text) -> Result<Vec<FilterDriver>, IngestError> {
    parse_table(text, Kind::Filters, parse_filter_row)
        .unwrap_or_else(|| Err(no_table(text, "filters")))
}

/// The rows of the `fltmc instances` table in `text`.
pub fn parse_instances(text: &Text) -> Result<Vec<FilterInstance>, IngestError> {
    parse_table(text, Kind::Instances, parse_instance_row)
        .unwrap_or_else(|| Err(no_table(text, "instances")))
}

fn parse(text: &Text) -> Result<FileContent, IngestError> {
    let mut protection = NodeProtection::default();
    if is_access_denied(&text.text) {
        let msg = Some("fltmc: Access is denied (run elevated)".to_string());
        // fltmc's refusal does not say which listing failed; "instance" in the
        // message or the command line tells instances apart.
        if text.text.to_ascii_lowercase().contains("instance") {
            protection.filter_instances = Some(Section::unavailable(
                SectionStatus::AccessDenied,
                msg,
                text.at(0),
            ));
        } else {
            protection.filters = Some(Section::unavailable(
                SectionStatus::AccessDenied,
                msg,
                text.at(0),
            ));
        }
    } else {
        let all = tables(&text.text);
        if let Some(t) = all
            .iter()
            .find(|t| t.kind == Kind::Filters && looks_like_fltmc(t))
        {
            let rows = parse_filters(text)?;
            protection.filters = Some(Section::ok(rows, text.at(t.header_line)));
        }
        if let Some(t) = all
            .iter()
            .find(|t| t.kind == Kind::Instances && looks_like_fltmc(t))
        {
            let rows = parse_instances(text)?;
            protection.filter_instances = Some(Section::ok(rows, text.at(t.header_line)));
        }
        if protection.filters.is_none() && protection.filter_instances.is_none() {
            return Err(no_table(text, "filters` or `fltmc instances"));
        }
    }
    Ok(FileContent::Nodes(vec![NodeFacts::protection(
        None, protection,
    )]))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::util::never_panics_on_damage!(INSTANCES);

    const LEGACY: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/real/host-protection/msdocs__fltmc_filters_legacy_example.txt"
    ));

    const INSTANCES: &str = "\
Filter                Volume Name                              Altitude        Instance Name       Frame   SprtFtrs  VlStatus
--------------------  -------------------------------------  ------------  ----------------------  -----   --------  --------
CldFlt                C:                                        180451     CldFlt                    0     0000000f
FileInfo                                                         40500     FileInfo                  0     0000000f
MsSecFlt              \\Device\\Mup                               385600     MsSecFlt Instance         0     0000000f
RsFx0603              C:                                         41006.03  RsFx0603 MiniFilter Instance    0     00000000
WdFilter              C:\\ClusterStorage\\Volume 1               328010     WdFilter Instance         0     0000000f
";

    #[test]
    fn real_legacy_filters_example() {
        let t = Text::new("f.txt", LEGACY);
        assert!(detect(LEGACY));
        let f = parse_filters(&t).unwrap();
        let got: Vec<_> = f
            .iter()
            .map(|d| {
                (
                    d.name.as_str(),
                    d.instances,
                    d.altitude.as_deref(),
                    d.frame,
                    d.legacy,
                    d.source.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("AVLegacy", None, Some("389998.99"), None, true, 5),
                ("EncryptionLegacy", None, Some("149998.99"), None, true, 6),
                ("AVMiniFilter", Some(3), Some("328000"), Some(0), false, 7),
            ]
        );
        assert!(parse_instances(&t).is_err());
    }

    #[test]
    fn instances_with_blank_volumes_spaces_and_overflow() {
        let t = Text::new("i.txt", INSTANCES);
        assert!(detect(INSTANCES));
        let got: Vec<_> = parse_instances(&t)
            .unwrap()
            .into_iter()
            .map(|i| (i.filter, i.volume, i.altitude, i.instance, i.frame))
            .collect();
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            got,
            vec![
                ("CldFlt".into(), s("C:"), s("180451"), s("CldFlt"), Some(0)),
                ("FileInfo".into(), None, s("40500"), s("FileInfo"), Some(0)),
                (
                    "MsSecFlt".into(),
                    s("\\Device\\Mup"),
                    s("385600"),
                    s("MsSecFlt Instance"),
                    Some(0)
                ),
                (
                    "RsFx0603".into(),
                    s("C:"),
                    s("41006.03"),
                    s("RsFx0603 MiniFilter Instance"),
                    Some(0)
                ),
                (
                    "WdFilter".into(),
                    s("C:\\ClusterStorage\\Volume 1"),
                    s("328010"),
                    s("WdFilter Instance"),
                    Some(0)
                ),
            ]
        );
    }

    #[test]
    fn access_denied_is_a_section() {
        let txt = "Failed to get instance information: 0x80070005\r\nAccess is denied.\r\n";
        assert!(detect(txt));
        let FileContent::Nodes(n) = parse(&Text::new("x", txt)).unwrap() else {
            panic!("nodes expected")
        };
        let s = n[0].node.protection.filter_instances.as_ref().unwrap();
        assert_eq!(s.status, SectionStatus::AccessDenied);
        assert!(n[0].node.protection.filters.is_none());
        assert!(
            parse_instances(&Text::new("x", txt))
                .unwrap_err()
                .found
                .unwrap()
                .contains("elevated")
        );
    }

    #[test]
    fn other_tables_are_not_fltmc() {
        let hotfix = "\nSource        Description      HotFixID      InstalledBy          InstalledOn\n------        -----------      --------      -----------          -----------\nHV01          Update           KB3199986     NT AUTHORITY\\SYSTEM  11/21/2016 12:00:00 AM\n";
        assert!(!detect(hotfix));
        assert!(!detect("hello\nworld\n"));
    }

    #[test]
    fn bad_row_names_the_line() {
        let bad = "Filter Name                     Num Instances    Altitude    Frame\n------------------------------  -------------  ------------  -----\nWdFilter                               5        328010         0\nBroken                                 x        abc         zz\n";
        let e = parse_filters(&Text::new("b.txt", bad)).unwrap_err();
        assert_eq!((e.path.as_str(), e.line), ("b.txt", 4));
    }
}
