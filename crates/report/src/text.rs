//! Terminal report: tables and short paragraphs. Colour only when asked
//! (the CLI asks on a TTY without `NO_COLOR`).

use lockstep_check::Finding;
use lockstep_check::Severity;
use lockstep_check::drift::{Cell as DriftCell, DriftClass};
use lockstep_check::posture::NodePosture;
use lockstep_check::run::{CheckReport, ClusterReport, ReportHead};
use std::fmt::Write as _;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub color: bool,
}

fn paint(s: &str, code: &str, o: TextOptions) -> String {
    if o.color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn severity(sev: Severity, o: TextOptions) -> String {
    match sev {
        Severity::Error => paint("error", "1;31", o),
        Severity::Warning => paint("warning", "1;33", o),
        Severity::Info => paint("info", "36", o),
    }
}

pub fn class_mark(class: DriftClass) -> &'static str {
    match class {
        DriftClass::Missing => "MISSING",
        DriftClass::Suspect => "suspect",
        DriftClass::Unknown => "unknown",
        DriftClass::NotApplicable => "n/a",
        DriftClass::Covered => "covered",
    }
}

/// Findings rendered per part, parts in parallel and written in order
/// ([`crate::parts::write_parts`]): a fleet's report is never whole in memory.
const FINDINGS_PER_PART: usize = 256;

/// The first lines: what was checked against what, and the inputs that
/// could not be read.
pub fn write_head(w: &mut dyn Write, head: &ReportHead, o: TextOptions) -> io::Result<()> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "lockstep check: {} cluster(s), {} node(s); catalog: {}{}",
        head.clusters,
        head.nodes,
        match (&head.catalog.available, &head.catalog.path) {
            (true, Some(p)) => one_line(p).into_owned(),
            (true, None) => "loaded".into(),
            (false, _) => "none".into(),
        },
        head.as_of
            .map(|d| format!("; as of {d}"))
            .unwrap_or_default()
    );
    if let Some(limits) = &head.catalog.limits {
        let _ = writeln!(out, "  {}", one_line(limits));
    }
    if let Some(notice) = &head.catalog.notice {
        let _ = writeln!(out, "  {}", one_line(notice));
    }
    for e in &head.input_errors {
        let _ = writeln!(out, "{}: {}", paint("input error", "1;31", o), one_line(e));
    }
    for w in &head.input_warnings {
        let _ = writeln!(out, "{}: {w}", paint("input warning", "1;33", o));
    }
    w.write_all(terminal_safe(out, o).as_bytes())
}

/// Everything after the clusters: loose nodes, the findings, the totals.
/// `report.clusters` is not read (it is empty when the clusters were
/// streamed).
pub fn write_tail(
    w: &mut (dyn Write + Send),
    report: &CheckReport,
    o: TextOptions,
) -> io::Result<()> {
    write_findings_head(w, &report.loose_nodes, report.findings.len(), o)?;
    crate::parts::write_parts(w, &report.findings, FINDINGS_PER_PART, |fs, _| {
        let mut s = String::new();
        for f in fs {
            finding_text(&mut s, f, o);
        }
        Ok(terminal_safe(s, o).into_bytes())
    })?;
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    write_totals(
        w,
        [
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Info),
        ],
    )
}

/// The tail up to the first finding: the nodes outside a cluster and the
/// findings' heading with their number.
pub fn write_findings_head(
    w: &mut dyn Write,
    loose_nodes: &[lockstep_check::posture::NodePosture],
    findings: usize,
    o: TextOptions,
) -> io::Result<()> {
    let mut out = String::new();
    if !loose_nodes.is_empty() {
        let _ = writeln!(out, "\n{}", paint("Nodes outside a cluster", "1", o));
        posture_section(&mut out, loose_nodes, o);
    }
    let _ = writeln!(out, "\n{} ({findings})", paint("Findings", "1", o));
    w.write_all(terminal_safe(out, o).as_bytes())
}

/// One finding as the report writes it (terminal-safe): findings written
/// one after the other in their order make the report's list.
pub fn finding_bytes(f: &Finding, o: TextOptions) -> Vec<u8> {
    let mut s = String::new();
    finding_text(&mut s, f, o);
    terminal_safe(s, o).into_bytes()
}

/// The last line: how many errors, warnings and infos.
pub fn write_totals(w: &mut dyn Write, [errors, warnings, infos]: [usize; 3]) -> io::Result<()> {
    writeln!(
        w,
        "\n{errors} error(s), {warnings} warning(s), {infos} info"
    )
}

/// The whole rendered text made safe for a terminal
/// ([`lockstep_model::term`]): every control character except the newline
/// and tab, every bidi control and line separator becomes U+FFFD. With
/// colour on, escape sequences that only set colours (`ESC [ digits ; m`,
/// which is all lockstep paints) are kept. Values from the inputs are also
/// put into lines through [`one_line`], so that a newline in a cluster name
/// cannot start a line of its own.
pub fn terminal_safe(s: String, o: TextOptions) -> String {
    use lockstep_model::term::{Lines, push_safe, terminal_safe as safe};
    if !o.color {
        return match safe(&s, Lines::Keep) {
            std::borrow::Cow::Borrowed(_) => s,
            std::borrow::Cow::Owned(clean) => clean,
        };
    }
    if let std::borrow::Cow::Borrowed(_) = safe(&s, Lines::Keep) {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(esc) = rest.find('\x1b') {
        push_safe(&mut out, &rest[..esc], Lines::Keep);
        rest = &rest[esc..];
        let params = rest
            .get(2..)
            .filter(|_| rest.as_bytes().get(1) == Some(&b'['))
            .map(|p| {
                p.bytes()
                    .take_while(|b| b.is_ascii_digit() || *b == b';')
                    .count()
            });
        match params {
            Some(n) if rest.as_bytes().get(2 + n) == Some(&b'm') => {
                out.push_str(&rest[..3 + n]);
                rest = &rest[3 + n..];
            }
            _ => {
                out.push('\u{FFFD}');
                rest = &rest[1..];
            }
        }
    }
    push_safe(&mut out, rest, Lines::Keep);
    out
}

/// One value from the inputs inside a line of the report.
fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    lockstep_model::term::one_line(s)
}

/// A table in comfy-table's UTF8_FULL_CONDENSED look, written directly: a
/// fleet's report has a thousand matrices and `inventory` prints a row per
/// node, and a general table engine spent a tenth of the check on them and
/// held a copy of every cell. Columns are as wide as their widest line,
/// measured in terminal cells as comfy-table measures them (a CJK character
/// takes two, a combining mark none), so a wide table is left to the
/// terminal to wrap. A cell may hold several lines (`\n`): its row is as
/// tall as its tallest cell, the others blank below, as comfy-table draws it.
///
/// `rows` is gone through twice (widths, then lines), so a caller with many
/// rows can make them on the fly instead of holding them.
pub fn table<R, S>(out: &mut String, header: &[&str], rows: impl IntoIterator<Item = R> + Clone)
where
    R: AsRef<[S]>,
    S: AsRef<str>,
{
    let width = |s: &str| unicode_width::UnicodeWidthStr::width(s);
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows.clone() {
        for (w, cell) in widths.iter_mut().zip(row.as_ref()) {
            for l in cell.as_ref().split('\n') {
                *w = (*w).max(width(l));
            }
        }
    }
    let rule = |out: &mut String, left: char, fill: char, mid: char, right: char| {
        out.push(left);
        for (i, w) in widths.iter().enumerate() {
            if i > 0 {
                out.push(mid);
            }
            for _ in 0..w + 2 {
                out.push(fill);
            }
        }
        out.push(right);
        out.push('\n');
    };
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        out.push('│');
        for (i, w) in widths.iter().enumerate() {
            if i > 0 {
                out.push('┆');
            }
            let cell = cells.next().unwrap_or("");
            out.push(' ');
            out.push_str(cell);
            for _ in width(cell)..w + 1 {
                out.push(' ');
            }
        }
        out.push_str("│\n");
    };
    let row_lines = |out: &mut String, row: &[&str]| {
        let tall = row.iter().map(|c| c.split('\n').count()).max().unwrap_or(1);
        if tall == 1 {
            return line(out, &mut row.iter().copied());
        }
        for k in 0..tall {
            line(
                out,
                &mut row.iter().map(|c| c.split('\n').nth(k).unwrap_or("")),
            );
        }
    };
    rule(out, '┌', '─', '┬', '┐');
    row_lines(out, header);
    rule(out, '╞', '═', '╪', '╡');
    for row in rows {
        let cells: Vec<&str> = row.as_ref().iter().map(|c| c.as_ref()).collect();
        row_lines(out, &cells);
    }
    rule(out, '└', '─', '┴', '┘');
}

/// One cluster: its nodes, the drift matrix and its groups, the validation
/// verdict and each node's posture. Input text is interpolated as it is:
/// [`terminal_safe`] the result before writing it to a terminal.
pub fn cluster_text(out: &mut String, c: &ClusterReport, o: TextOptions) {
    cluster_text_with(out, c, None, o)
}

/// [`cluster_text`] with what the history says about the cluster
/// ([`out_of_step_line`]) under its heading.
pub fn cluster_text_with(
    out: &mut String,
    c: &ClusterReport,
    history: Option<&str>,
    o: TextOptions,
) {
    let d = &c.drift;
    let _ = writeln!(
        out,
        "\n{} {} — {} node(s), {} update(s) on every node, {} differ",
        paint("Cluster", "1", o),
        one_line(&c.name),
        d.nodes.len(),
        d.common_updates,
        d.rows.len()
    );
    if let Some(line) = history {
        let _ = writeln!(out, "{}", paint(line, "1;33", o));
    }
    let nodes_rows: Vec<Vec<String>> = d
        .nodes
        .iter()
        .map(|n| {
            vec![
                one_line(&n.name).into_owned(),
                n.os.as_deref()
                    .map_or("?".into(), |v| one_line(v).into_owned()),
                n.version
                    .as_deref()
                    .map_or("?".into(), |v| one_line(v).into_owned()),
                n.product
                    .as_deref()
                    .map_or("unknown".into(), |v| one_line(v).into_owned()),
                n.updates.to_string(),
            ]
        })
        .collect();
    table(
        out,
        &["Node", "OS", "Version", "Catalog product", "Updates"],
        &nodes_rows,
    );
    if !d.rows.is_empty() {
        let names: Vec<_> = d.nodes.iter().map(|n| one_line(&n.name)).collect();
        let mut header = vec!["Update"];
        header.extend(names.iter().map(|n| n.as_ref()));
        let kbs: Vec<String> = d.rows.iter().map(|r| r.kb.to_string()).collect();
        let rows: Vec<Vec<&str>> = d
            .rows
            .iter()
            .zip(&kbs)
            .map(|(row, kb)| {
                std::iter::once(kb.as_str())
                    .chain(row.cells.iter().map(|cell| match cell {
                        DriftCell::Present { .. } => "installed",
                        DriftCell::Absent { class } => class_mark(*class),
                    }))
                    .collect()
            })
            .collect();
        out.push_str("Drift matrix:\n");
        table(out, &header, &rows);
        for g in &d.groups {
            let _ = writeln!(out, "  [{}] {}", class_mark(g.class), one_line(&g.summary));
        }
    }
    let _ = writeln!(out, "\n{}", one_line(&d.validation.explanation));
    if !d.validation.remedy.is_empty() {
        let _ = writeln!(out, "{}", one_line(&d.validation.remedy));
    }
    posture_section(out, &c.posture, o);
}

fn finding_text(out: &mut String, f: &Finding, o: TextOptions) {
    let _ = writeln!(
        out,
        "{} [{}] {}{}",
        severity(f.severity, o),
        f.code,
        f.cluster
            .as_ref()
            .map(|c| format!("{}: ", one_line(c)))
            .unwrap_or_default(),
        one_line(&f.title)
    );
    // Detail and fix text are several lines of the check's own; each line
    // is indented, so a line break from an input value cannot start a
    // top-level line.
    for line in f.detail.lines() {
        let _ = writeln!(out, "    {}", one_line(line));
    }
    for e in &f.evidence {
        let _ = writeln!(
            out,
            "    evidence: {} — {}",
            one_line(&e.source.to_string()),
            one_line(&e.note)
        );
    }
    if let Some(fix) = &f.fix {
        for (i, line) in fix.text.lines().enumerate() {
            let _ = writeln!(
                out,
                "    {}{}",
                if i == 0 { "fix: " } else { "     " },
                one_line(line)
            );
        }
        for c in &fix.commands {
            let _ = writeln!(out, "      {}", one_line(c));
        }
    }
    if !f.known_issues.is_empty() {
        let _ = writeln!(
            out,
            "    known issues: {}",
            one_line(&f.known_issues.join(", "))
        );
    }
}

/// Rows of each update table in the terminal; the rest are named by KB
/// (HTML and JSON list every one in full).
const TEXT_ROWS: usize = 20;
/// KB numbers per line where only the numbers are listed.
const KBS_PER_LINE: usize = 10;

/// The security posture of some nodes: one line per node, then each group
/// of nodes with the same gaps and what it lacks, per product.
fn posture_section(out: &mut String, postures: &[NodePosture], o: TextOptions) {
    if postures.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", paint("Security posture:", "1", o));
    for p in postures {
        let _ = writeln!(
            out,
            "  {}: {}",
            one_line(&p.node),
            one_line(&crate::posture::node_summary(p))
        );
    }
    for g in crate::posture::groups(postures) {
        for prod in &g.products {
            posture_table(out, &g.nodes, prod);
        }
        if let Some(note) = &g.esu_note {
            let _ = writeln!(out, "  {}", one_line(note));
        }
    }
}

fn posture_table(out: &mut String, nodes: &[String], prod: &crate::posture::ProductGaps) {
    let _ = writeln!(
        out,
        "Missing on {} — {} ({}{}):",
        one_line(&nodes.join(", ")),
        one_line(&prod.product),
        match prod.rows.len() + prod.esu_rows.len() {
            1 => "1 update".to_string(),
            n => format!("{n} updates, newest first"),
        },
        if prod.esu_rows.is_empty() {
            String::new()
        } else {
            format!(", {} of them ESU only", prod.esu_rows.len())
        }
    );
    if let Some(why) = &prod.shown_by {
        let _ = writeln!(out, "  shown by: {}", one_line(why));
    }
    let all: Vec<&crate::posture::UpdateRow> = prod.rows.iter().chain(&prod.esu_rows).collect();
    let shown = &all[..all.len().min(TEXT_ROWS)];
    let titled = shown.iter().any(|r| r.title.is_some());
    let mut header = vec![
        "Update",
        "Released",
        "Classification",
        "Severity",
        "CVEs",
        "Article",
    ];
    if titled {
        header.push("Title");
    }
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|r| {
            let mut row = vec![
                r.kb.clone(),
                match (&r.released, r.esu_only) {
                    (Some(d), true) => format!("{d} ESU only"),
                    (Some(d), false) => d.clone(),
                    (None, _) => "?".into(),
                },
                r.kind.unwrap_or("?").to_string(),
                r.severity.clone().unwrap_or_else(|| "—".into()),
                r.cves.map_or_else(|| "?".into(), |n| n.to_string()),
                r.support_url.clone(),
            ];
            if titled {
                row.push(one_line(r.title.as_deref().unwrap_or("")).into_owned());
            }
            row
        })
        .collect();
    table(out, &header, &rows);
    let rest: Vec<&&crate::posture::UpdateRow> = all.iter().skip(TEXT_ROWS).collect();
    let (rest_esu, rest_all): (Vec<_>, Vec<_>) = rest.into_iter().partition(|r| r.esu_only);
    kb_lines(out, "and {n} older", &rest_all);
    kb_lines(out, "ESU only, {n} more (newest first)", &rest_esu);
    let _ = writeln!(
        out,
        "  Packages: https://catalog.update.microsoft.com/Search.aspx?q=KB<number>"
    );
}

/// "  and 252 older: KB…, KB…" wrapped at [`KBS_PER_LINE`] numbers a line;
/// `{n}` in `lead` is the count.
fn kb_lines(out: &mut String, lead: &str, rows: &[&&crate::posture::UpdateRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "  {}:", lead.replace("{n}", &rows.len().to_string()));
    for chunk in rows.chunks(KBS_PER_LINE) {
        let kbs: Vec<&str> = chunk.iter().map(|r| r.kb.as_str()).collect();
        let _ = writeln!(out, "    {}", kbs.join(", "));
    }
}

/// What a check with a history says about a cluster out of step:
/// "Out of step since 2026-11-03 (31 days), per the history".
pub fn out_of_step_line(o: &lockstep_history::OutOfStep) -> String {
    let since = lockstep_history::Time(o.since).date();
    let days = if o.days == 1 {
        "1 day".to_string()
    } else {
        format!("{} days", o.days)
    };
    format!("Out of step since {since} ({days}), per the history")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same table drawn by comfy-table, the look `table` keeps.
    fn comfy_oracle(header: &[&str], rows: &[Vec<&str>]) -> comfy_table::Table {
        let mut oracle = comfy_table::Table::new();
        oracle.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        oracle.set_header(header);
        for r in rows {
            oracle.add_row(r.clone());
        }
        oracle
    }

    /// Node and product names in Japanese (two cells a character) and with
    /// a combining mark (none) line up as comfy-table lines them up, the
    /// look the tables copy; every line is as wide as the others.
    #[test]
    fn tables_measure_display_width_like_comfy_table() {
        let header = ["Node", "Product", "KBs"];
        let rows = vec![
            vec!["ノード01", "Windows Server 2022", "12"],
            vec!["Cafe\u{301}-HV02", "サーバー 2019", "3"],
            vec!["HV03", "Windows Server 2016", "0"],
        ];
        let mut ours = String::new();
        table(&mut ours, &header, &rows);

        let oracle = comfy_oracle(&header, &rows);
        assert_eq!(ours, format!("{oracle}\n"));

        let widths: Vec<usize> = ours
            .lines()
            .map(unicode_width::UnicodeWidthStr::width)
            .collect();
        assert_eq!(widths, [41; 7], "{ours}");
    }

    /// A cell of several lines makes its row as tall as comfy-table makes
    /// it (the inventory's sources column), blank cells included.
    #[test]
    fn cells_of_several_lines_like_comfy_table() {
        let header = ["Cluster", "Node", "KBs", "Sources"];
        let rows = vec![
            vec![
                "HVCLU01",
                "HV01",
                "312",
                "HV01.systeminfo.txt\nHV01.get-hotfix.csv",
            ],
            vec!["-", "ノード02", "", "a.json"],
            vec![
                "HVCLU01",
                "HV03",
                "7",
                "x\n\nlonger-name-than-the-others.csv",
            ],
        ];
        let mut ours = String::new();
        table(&mut ours, &header, &rows);
        let oracle = comfy_oracle(&header, &rows);
        assert_eq!(ours, format!("{oracle}\n"));
        assert_eq!(ours.lines().count(), 10, "{ours}");
    }

    const HOSTILE: &str = "HV\u{1b}]0;owned\u{7}01\u{1b}[2J\r\u{9b}31m\tx\u{202E}\n";

    #[test]
    fn terminal_controls_from_input_are_replaced() {
        let plain = terminal_safe(HOSTILE.to_string(), TextOptions { color: false });
        assert_eq!(
            plain,
            "HV\u{FFFD}]0;owned\u{FFFD}01\u{FFFD}[2J\u{FFFD}\u{FFFD}31m\tx\u{FFFD}\n"
        );
    }

    #[test]
    fn with_colour_only_colour_sequences_survive() {
        let o = TextOptions { color: true };
        let s = format!("{} {HOSTILE}", paint("error", "1;31", o));
        assert_eq!(
            terminal_safe(s, o),
            "\u{1b}[1;31merror\u{1b}[0m HV\u{FFFD}]0;owned\u{FFFD}01\u{FFFD}[2J\u{FFFD}\u{FFFD}31m\tx\u{FFFD}\n"
        );
        // Clean text is returned as it is.
        assert_eq!(terminal_safe("KB2616676\n".into(), o), "KB2616676\n");
    }
}
