//! Parsing and validating known-issue files.
//!
//! Two passes: serde (with `deny_unknown_fields`) turns the TOML front matter
//! into raw, span-carrying structs, which catches unknown keys, missing keys
//! and wrong types (one error, the first); then every value is checked
//! (dates, KB numbers, versions, ranges, kinds, cross-references) and *all*
//! problems are reported together, each with the line it is on.

use super::{
    AntivirusIssue, BadUpdateIssue, Details, IssueSeverity, Kind, KnownIssue, Origin,
    SupersedenceIssue, TimeWindow, Verdict, VerdictKind,
};
use jiff::Timestamp;
use jiff::civil::Date;
use lockstep_model::{KbId, VersionRange};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// One problem in one known-issue file. `line` is 1-based; 0 means the whole
/// file (e.g. it could not be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintError {
    pub path: String,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A user's file names and values: one line, no terminal controls.
        use lockstep_model::term::one_line;
        let (path, message) = (one_line(&self.path), one_line(&self.message));
        if self.line == 0 {
            write!(f, "{path}: {message}")
        } else {
            write!(f, "{path}:{}: {message}", self.line)
        }
    }
}

impl std::error::Error for LintError {}

/// A date written as a string (`"2011-09-13"`) or as a TOML date
/// (`2011-09-13`); either way kept as text and validated later so that the
/// error can say what was found.
struct DateText(String);

impl<'de> Deserialize<'de> for DateText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DateText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date such as \"2011-09-13\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DateText, E> {
                Ok(DateText(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<DateText, A::Error> {
                // TOML date/time literals arrive as toml's private datetime map.
                let dt = toml::value::Datetime::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(DateText(dt.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

type S<T> = Spanned<T>;
type List = S<Vec<S<String>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssue {
    id: S<String>,
    kind: S<String>,
    title: S<String>,
    published: S<DateText>,
    updated: Option<S<DateText>>,
    reported: Option<S<DateText>>,
    severity: Option<S<String>>,
    #[serde(default)]
    aliases: Vec<S<String>>,
    references: List,
    fix: Option<S<RawFix>>,
    supersedence: Option<S<RawSupersedence>>,
    verdict: Option<S<Vec<S<RawVerdict>>>>,
    #[serde(rename = "bad-update")]
    bad_update: Option<S<RawBadUpdate>>,
    antivirus: Option<S<RawAntivirus>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFix {
    steps: List,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupersedence {
    newer: S<String>,
    older: List,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerdict {
    products: List,
    older: Option<List>,
    verdict: S<String>,
    note: S<String>,
    until: Option<S<DateText>>,
    fixed_by: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBadUpdate {
    kbs: List,
    products: List,
    builds: Option<S<String>>,
    symptoms: List,
    clusters: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAntivirus {
    vendor: S<String>,
    product: S<String>,
    versions: Option<List>,
    #[serde(default)]
    filters: Vec<S<String>>,
    defender_platform: Option<S<String>>,
    defender_engine: Option<S<String>>,
    window: Option<S<RawWindow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    start: S<DateText>,
    end: S<DateText>,
}

/// Collects errors for one file, turning byte spans of the front matter into
/// file line numbers.
struct Ctx<'a> {
    path: String,
    front: &'a str,
    /// File line of the front matter's first line.
    first_line: u32,
    errors: Vec<LintError>,
}

impl Ctx<'_> {
    fn line_of(&self, span: &Range<usize>) -> u32 {
        let upto = span.start.min(self.front.len());
        let before = self.front.get(..upto).unwrap_or("");
        self.first_line + before.bytes().filter(|&b| b == b'\n').count() as u32
    }

    fn at(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let line = self.line_of(span);
        self.at_line(line, message);
    }

    fn at_line(&mut self, line: u32, message: impl Into<String>) {
        self.errors.push(LintError {
            path: self.path.clone(),
            line,
            message: message.into(),
        });
    }

    fn kb(&mut self, field: &str, s: &S<String>) -> Option<KbId> {
        match s.get_ref().parse::<KbId>() {
            Ok(kb) => Some(kb),
            Err(e) => {
                self.at(&s.span(), format!("{field}: {e}"));
                None
            }
        }
    }

    fn kbs(&mut self, field: &str, list: &List) -> Vec<KbId> {
        if list.get_ref().is_empty() {
            self.at(
                &list.span(),
                format!("{field}: expected at least one KB number"),
            );
        }
        let mut out: Vec<KbId> = Vec::new();
        for s in list.get_ref() {
            if let Some(kb) = self.kb(field, s) {
                if out.contains(&kb) {
                    self.at(&s.span(), format!("{field}: {kb} is listed twice"));
                } else {
                    out.push(kb);
                }
            }
        }
        out
    }

    fn date(&mut self, field: &str, s: &S<DateText>) -> Option<Date> {
        let text = s.get_ref().0.as_str();
        let shape_ok = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        match text.parse::<Date>() {
            Ok(d) if shape_ok => Some(d),
            _ => {
                self.at(
                    &s.span(),
                    format!("{field}: expected a date YYYY-MM-DD, found {text:?}"),
                );
                None
            }
        }
    }

    fn timestamp(&mut self, field: &str, s: &S<DateText>) -> Option<Timestamp> {
        let text = s.get_ref().0.as_str();
        match text.parse::<Timestamp>() {
            Ok(t) => Some(t),
            Err(_) => {
                self.at(
                    &s.span(),
                    format!(
                        "{field}: expected an RFC 3339 timestamp such as 2024-07-19T04:09:00Z, found {text:?}"
                    ),
                );
                None
            }
        }
    }

    fn range(&mut self, field: &str, s: &S<String>) -> Option<VersionRange> {
        match s.get_ref().parse::<VersionRange>() {
            Ok(r) => Some(r),
            Err(e) => {
                self.at(&s.span(), format!("{field}: {e}"));
                None
            }
        }
    }

    fn text(&mut self, field: &str, s: &S<String>) -> String {
        let t = s.get_ref().trim();
        if t.is_empty() {
            self.at(&s.span(), format!("{field}: must not be empty"));
        }
        t.to_string()
    }

    fn line_text(&mut self, field: &str, s: &S<String>) -> String {
        let t = self.text(field, s);
        if t.contains('\n') || t.contains('\r') {
            self.at(&s.span(), format!("{field}: must be a single line"));
        }
        t
    }

    fn texts(&mut self, field: &str, list: &List) -> Vec<String> {
        if list.get_ref().is_empty() {
            self.at(
                &list.span(),
                format!("{field}: expected at least one entry"),
            );
        }
        list.get_ref().iter().map(|s| self.text(field, s)).collect()
    }
}

/// Parses and validates one known-issue file. `path` is used for messages
/// and for the id check (the file must be named `<id>.md`). The returned
/// issue's origin is `Origin::User(path)`; [`super::KnownIssues`] resets it.
pub fn lint_file(path: &Path, text: &str) -> Result<KnownIssue, Vec<LintError>> {
    lint_file_with_id_line(path, text).map(|(issue, _)| issue)
}

/// Lints a set of files that form one database: each file, then id
/// uniqueness across them. Returns the issues in input order.
pub fn lint_sources(sources: &[(&Path, &str)]) -> Result<Vec<KnownIssue>, Vec<LintError>> {
    let mut issues = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (path, text) in sources {
        match lint_file_with_id_line(path, text) {
            Ok((issue, id_line)) => {
                let shown = path.display().to_string();
                if let Some(first) = seen.get(&issue.id) {
                    errors.push(LintError {
                        path: shown,
                        line: id_line,
                        message: format!("duplicate id {:?}, also defined in {first}", issue.id),
                    });
                } else {
                    seen.insert(issue.id.clone(), shown);
                    issues.push(issue);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(issues)
    } else {
        Err(errors)
    }
}

fn lint_file_with_id_line(path: &Path, text: &str) -> Result<(KnownIssue, u32), Vec<LintError>> {
    let shown = path.display().to_string();
    let fail = |line: u32, message: String| {
        vec![LintError {
            path: shown.clone(),
            line,
            message,
        }]
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    // Split "+++\n<toml>\n+++\n<markdown>".
    let mut offset = 0usize;
    let mut line_no = 0u32;
    let mut open: Option<usize> = None; // byte offset after the opening line
    let mut close: Option<(usize, usize, u32)> = None; // (start, end, line) of closing line
    for raw_line in text.split_inclusive('\n') {
        line_no += 1;
        let content = raw_line.trim_end_matches(['\n', '\r']);
        if open.is_none() {
            if content.trim_end() != "+++" {
                return Err(fail(
                    1,
                    "expected the file to start with a +++ line opening the TOML front matter"
                        .into(),
                ));
            }
            open = Some(offset + raw_line.len());
        } else if content.trim_end() == "+++" {
            close = Some((offset, offset + raw_line.len(), line_no));
            break;
        }
        offset += raw_line.len();
    }
    let Some(open) = open else {
        return Err(fail(
            1,
            "expected the file to start with a +++ line opening the TOML front matter".into(),
        ));
    };
    let Some((close_start, close_end, close_line)) = close else {
        return Err(fail(
            line_no.max(1),
            "expected a closing +++ line after the TOML front matter opened on line 1".into(),
        ));
    };
    let front = text.get(open..close_start).unwrap_or("");
    let body = text.get(close_end..).unwrap_or("").trim();

    let mut cx = Ctx {
        path: shown.clone(),
        front,
        first_line: 2,
        errors: Vec::new(),
    };

    let raw: RawIssue = match toml::from_str(front) {
        Ok(raw) => raw,
        Err(e) => {
            let line = e.span().map(|s| cx.line_of(&s)).unwrap_or(2);
            return Err(fail(line, e.message().trim().to_string()));
        }
    };

    // id: shape and file name.
    let id = raw.id.get_ref().trim().to_string();
    let id_line = cx.line_of(&raw.id.span());
    if !id_shape_ok(&id) {
        cx.at(
            &raw.id.span(),
            format!("id: expected PREFIX-YYYY-NNNN such as LOCKSTEP-2011-0001, found {id:?}"),
        );
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let expected_name = format!("{id}.md");
    if file_name != expected_name {
        cx.at(
            &raw.id.span(),
            format!(
                "id {id:?} does not match the file name {file_name:?} (expected {expected_name:?})"
            ),
        );
    }

    let kind = match raw.kind.get_ref().as_str() {
        "supersedence" => Some(Kind::Supersedence),
        "bad-update" => Some(Kind::BadUpdate),
        "antivirus" => Some(Kind::Antivirus),
        other => {
            cx.at(
                &raw.kind.span(),
                format!("kind: expected supersedence, bad-update or antivirus, found {other:?}"),
            );
            None
        }
    };

    let title = cx.line_text("title", &raw.title);
    let published = cx.date("published", &raw.published);
    let updated = raw.updated.as_ref().and_then(|d| cx.date("updated", d));
    let reported = raw.reported.as_ref().and_then(|d| cx.date("reported", d));
    if let (Some(p), Some(u), Some(span)) = (published, updated, raw.updated.as_ref())
        && u < p
    {
        cx.at(
            &span.span(),
            format!("updated: {u} is before published {p}"),
        );
    }

    let severity = match raw.severity.as_ref() {
        None => IssueSeverity::Warning,
        Some(s) => match s.get_ref().as_str() {
            "error" => IssueSeverity::Error,
            "warning" => IssueSeverity::Warning,
            "info" => IssueSeverity::Info,
            other => {
                cx.at(
                    &s.span(),
                    format!("severity: expected error, warning or info, found {other:?}"),
                );
                IssueSeverity::Warning
            }
        },
    };

    let aliases: Vec<String> = raw
        .aliases
        .iter()
        .map(|a| cx.line_text("aliases", a))
        .collect();

    if raw.references.get_ref().is_empty() {
        cx.at(
            &raw.references.span(),
            "references: at least one reference URL is required",
        );
    }
    let mut references = Vec::new();
    for r in raw.references.get_ref() {
        let url = r.get_ref().trim();
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() > "https://".len()
            && !url.chars().any(char::is_whitespace);
        if !ok {
            cx.at(
                &r.span(),
                format!("references: expected an http(s) URL, found {url:?}"),
            );
        }
        references.push(url.to_string());
    }

    let fix_steps = match raw.fix.as_ref() {
        None => Vec::new(),
        Some(fix) => cx.texts("fix.steps", &fix.get_ref().steps),
    };

    if body.is_empty() {
        cx.at_line(
            close_line,
            "expected a Markdown description after the closing +++ line",
        );
    }

    // Tables that belong to another kind.
    let kind_name = kind.map(|k| k.as_str()).unwrap_or("?");
    let stray = |cx: &mut Ctx<'_>, present: Option<Range<usize>>, table: &str, owner: Kind| {
        if let (Some(span), Some(k)) = (present, kind)
            && k != owner
        {
            cx.at(
                &span,
                format!("{table} does not belong to an issue of kind {kind_name:?}"),
            );
        }
    };
    stray(
        &mut cx,
        raw.supersedence.as_ref().map(|s| s.span()),
        "[supersedence]",
        Kind::Supersedence,
    );
    stray(
        &mut cx,
        raw.verdict.as_ref().map(|s| s.span()),
        "[[verdict]]",
        Kind::Supersedence,
    );
    stray(
        &mut cx,
        raw.bad_update.as_ref().map(|s| s.span()),
        "[bad-update]",
        Kind::BadUpdate,
    );
    stray(
        &mut cx,
        raw.antivirus.as_ref().map(|s| s.span()),
        "[antivirus]",
        Kind::Antivirus,
    );

    let kind_span = raw.kind.span();
    let details = match kind {
        Some(Kind::Supersedence) => supersedence(&mut cx, &raw, &kind_span),
        Some(Kind::BadUpdate) => match raw.bad_update.as_ref() {
            Some(b) => Some(bad_update(&mut cx, b.get_ref())),
            None => {
                cx.at(
                    &kind_span,
                    "kind = \"bad-update\" needs a [bad-update] table",
                );
                None
            }
        },
        Some(Kind::Antivirus) => match raw.antivirus.as_ref() {
            Some(a) => Some(antivirus(&mut cx, a.get_ref(), &a.span())),
            None => {
                cx.at(
                    &kind_span,
                    "kind = \"antivirus\" needs an [antivirus] table",
                );
                None
            }
        },
        None => None,
    };

    match (details, published, cx.errors.is_empty()) {
        (Some(details), Some(published), true) => Ok((
            KnownIssue {
                id,
                title,
                published,
                updated,
                reported,
                severity,
                aliases,
                references,
                fix_steps,
                description: body.to_string(),
                details,
                origin: Origin::User(path.to_path_buf()),
            },
            id_line,
        )),
        _ => {
            let mut errors = cx.errors;
            errors.sort_by_key(|e| e.line);
            if errors.is_empty() {
                // Unreachable in practice: every None above records an error.
                errors.push(LintError {
                    path: shown,
                    line: 2,
                    message: "invalid known issue".into(),
                });
            }
            Err(errors)
        }
    }
}

fn id_shape_ok(id: &str) -> bool {
    let mut parts = id.split('-');
    let (Some(prefix), Some(year), Some(serial), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !prefix.is_empty()
        && prefix
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_uppercase())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && serial.len() >= 4
        && serial.bytes().all(|b| b.is_ascii_digit())
}

fn supersedence(cx: &mut Ctx<'_>, raw: &RawIssue, kind_span: &Range<usize>) -> Option<Details> {
    let Some(sup) = raw.supersedence.as_ref() else {
        cx.at(
            kind_span,
            "kind = \"supersedence\" needs a [supersedence] table",
        );
        return None;
    };
    let sup = sup.get_ref();
    let newer = cx.kb("supersedence.newer", &sup.newer);
    let older = cx.kbs("supersedence.older", &sup.older);
    if let Some(n) = newer {
        for s in sup.older.get_ref() {
            if s.get_ref().parse::<KbId>().ok() == Some(n) {
                cx.at(
                    &s.span(),
                    format!("supersedence.older: {n} is the newer update itself"),
                );
            }
        }
    }

    let raw_verdicts = raw
        .verdict
        .as_ref()
        .map(|v| v.get_ref().as_slice())
        .unwrap_or(&[]);
    if raw_verdicts.is_empty() {
        cx.at(
            kind_span,
            "kind = \"supersedence\" needs at least one [[verdict]] table",
        );
    }
    let mut verdicts = Vec::new();
    for rv in raw_verdicts {
        let rv = rv.get_ref();
        let products = cx.texts("verdict.products", &rv.products);
        // A verdict must be able to apply to some node: its products are
        // matched against the product a node's build maps to.
        for (p, span) in products.iter().zip(rv.products.get_ref()) {
            let known = lockstep_model::windows::releases().iter().any(|r| {
                r.product
                    .as_deref()
                    .is_some_and(|name| super::product_matches(p, name))
            });
            if !p.is_empty() && !known {
                cx.at(
                    &span.span(),
                    format!(
                        "verdict.products: {p:?} matches no product a Windows build maps to (data/windows-builds.toml), so the verdict could never apply to a node"
                    ),
                );
            }
        }
        let mut v_older = Vec::new();
        if let Some(list) = rv.older.as_ref() {
            for s in list.get_ref() {
                if let Some(kb) = cx.kb("verdict.older", s) {
                    if !older.contains(&kb) {
                        cx.at(
                            &s.span(),
                            format!("verdict.older: {kb} is not in supersedence.older"),
                        );
                    }
                    v_older.push(kb);
                }
            }
        }
        let kind = match rv.verdict.get_ref().as_str() {
            "intended" => Some(VerdictKind::Intended),
            "incomplete" => Some(VerdictKind::Incomplete),
            "wrong" => Some(VerdictKind::Wrong),
            "missing" => Some(VerdictKind::Missing),
            other => {
                cx.at(
                    &rv.verdict.span(),
                    format!(
                        "verdict.verdict: expected intended, incomplete, wrong or missing, found {other:?}"
                    ),
                );
                None
            }
        };
        let note = cx.text("verdict.note", &rv.note);
        let until = rv.until.as_ref().and_then(|d| cx.date("verdict.until", d));
        let fixed_by = rv
            .fixed_by
            .as_ref()
            .and_then(|s| cx.kb("verdict.fixed_by", s));
        if let Some(kind) = kind {
            verdicts.push(Verdict {
                products,
                older: v_older,
                verdict: kind,
                note,
                until,
                fixed_by,
            });
        }
    }
    // Every older update needs some verdict, or queries would silently miss it.
    for (kb, s) in older.iter().zip(sup.older.get_ref()) {
        let covered = verdicts
            .iter()
            .any(|v| v.older.is_empty() || v.older.contains(kb));
        if !verdicts.is_empty() && !covered {
            cx.at(
                &s.span(),
                format!("supersedence.older: no [[verdict]] covers {kb}"),
            );
        }
    }
    Some(Details::Supersedence(SupersedenceIssue {
        newer: newer?,
        older,
        verdicts,
    }))
}

fn bad_update(cx: &mut Ctx<'_>, b: &RawBadUpdate) -> Details {
    let kbs = cx.kbs("bad-update.kbs", &b.kbs);
    let products = cx.texts("bad-update.products", &b.products);
    let builds = b
        .builds
        .as_ref()
        .and_then(|s| cx.range("bad-update.builds", s));
    let symptoms = cx.texts("bad-update.symptoms", &b.symptoms);
    Details::BadUpdate(BadUpdateIssue {
        kbs,
        products,
        builds,
        symptoms,
        clusters: b.clusters,
    })
}

fn antivirus(cx: &mut Ctx<'_>, a: &RawAntivirus, table: &Range<usize>) -> Details {
    let vendor = cx.line_text("antivirus.vendor", &a.vendor);
    let product = cx.line_text("antivirus.product", &a.product);
    // Product versions are what installed-product matching uses; an entry
    // about Defender platform/engine versions only may leave them out.
    let defender_only = a.defender_platform.is_some() || a.defender_engine.is_some();
    let versions = match a.versions.as_ref() {
        Some(list) => {
            if list.get_ref().is_empty() {
                cx.at(
                    &list.span(),
                    "antivirus.versions: expected at least one version range (\"*\" for any)",
                );
            }
            list.get_ref()
                .iter()
                .filter_map(|s| cx.range("antivirus.versions", s))
                .collect()
        }
        None => {
            if !defender_only {
                cx.at(
                    table,
                    "antivirus.versions: required unless defender_platform or defender_engine is given",
                );
            }
            Vec::new()
        }
    };
    let mut filters = Vec::new();
    for f in &a.filters {
        let name = f.get_ref().trim();
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        if !ok {
            cx.at(
                &f.span(),
                format!(
                    "antivirus.filters: expected a minifilter name such as csagent, found {name:?}"
                ),
            );
        }
        filters.push(name.to_string());
    }
    let defender_platform = a
        .defender_platform
        .as_ref()
        .and_then(|s| cx.range("antivirus.defender_platform", s));
    let defender_engine = a
        .defender_engine
        .as_ref()
        .and_then(|s| cx.range("antivirus.defender_engine", s));
    let window = a.window.as_ref().and_then(|w| {
        let span = w.span();
        let w = w.get_ref();
        let start = cx.timestamp("antivirus.window.start", &w.start);
        let end = cx.timestamp("antivirus.window.end", &w.end);
        match (start, end) {
            (Some(start), Some(end)) if start < end => Some(TimeWindow { start, end }),
            (Some(start), Some(end)) => {
                cx.at(
                    &span,
                    format!("antivirus.window: start {start} is not before end {end}"),
                );
                None
            }
            _ => None,
        }
    });
    Details::Antivirus(AntivirusIssue {
        vendor,
        product,
        versions,
        filters,
        defender_platform,
        defender_engine,
        window,
    })
}
