//! Parsing and validating known-issue files.
//!
//! Two passes: serde (with `deny_unknown_fields`) turns the TOML front matter
//! into raw, span-carrying structs, which catches unknown keys, missing keys
//! and wrong types (one error, the first); then every value is checked
//! (dates, KB numbers, versions, ranges, kinds, cross-references) and *all*
//! problems are reported together, each with the line it is on.

use super::{Details, IssueSeverity, Kind, KnownIssue, Origin};
use jiff::Timestamp;
use jiff::civil::Date;
use lockstep_model::{KbId, VersionRange};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

mod kinds;
use kinds::{antivirus, bad_update, supersedence};

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

    let (open, close_start, close_end, close_line) =
        split_front_matter(text).map_err(|(line, message)| fail(line, message))?;
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

    let (id, id_line) = check_id(&mut cx, &raw, path);

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

    let severity = severity(&mut cx, &raw);

    let aliases: Vec<String> = raw
        .aliases
        .iter()
        .map(|a| cx.line_text("aliases", a))
        .collect();

    let references = references(&mut cx, &raw);

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

    let details = kind_details(&mut cx, &raw, kind);

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

/// Where the TOML front matter lies in "+++\n<toml>\n+++\n<markdown>":
/// (after the opening line, start and end of the closing line, its line);
/// else the line and message of the error.
fn split_front_matter(text: &str) -> Result<(usize, usize, usize, u32), (u32, String)> {
    let mut offset = 0usize;
    let mut line_no = 0u32;
    let mut open: Option<usize> = None; // byte offset after the opening line
    let mut close: Option<(usize, usize, u32)> = None; // (start, end, line) of closing line
    for raw_line in text.split_inclusive('\n') {
        line_no += 1;
        let content = raw_line.trim_end_matches(['\n', '\r']);
        if open.is_none() {
            if content.trim_end() != "+++" {
                return Err((
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
        return Err((
            1,
            "expected the file to start with a +++ line opening the TOML front matter".into(),
        ));
    };
    let Some((close_start, close_end, close_line)) = close else {
        return Err((
            line_no.max(1),
            "expected a closing +++ line after the TOML front matter opened on line 1".into(),
        ));
    };
    Ok((open, close_start, close_end, close_line))
}

/// The id, its shape and its file name; and the line it is on.
fn check_id(cx: &mut Ctx<'_>, raw: &RawIssue, path: &Path) -> (String, u32) {
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

    (id, id_line)
}

fn severity(cx: &mut Ctx<'_>, raw: &RawIssue) -> IssueSeverity {
    match raw.severity.as_ref() {
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
    }
}

/// At least one reference, each an http(s) URL.
fn references(cx: &mut Ctx<'_>, raw: &RawIssue) -> Vec<String> {
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
    references
}

/// The kind's own table (and no other kind's).
fn kind_details(cx: &mut Ctx<'_>, raw: &RawIssue, kind: Option<Kind>) -> Option<Details> {
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
        cx,
        raw.supersedence.as_ref().map(|s| s.span()),
        "[supersedence]",
        Kind::Supersedence,
    );
    stray(
        cx,
        raw.verdict.as_ref().map(|s| s.span()),
        "[[verdict]]",
        Kind::Supersedence,
    );
    stray(
        cx,
        raw.bad_update.as_ref().map(|s| s.span()),
        "[bad-update]",
        Kind::BadUpdate,
    );
    stray(
        cx,
        raw.antivirus.as_ref().map(|s| s.span()),
        "[antivirus]",
        Kind::Antivirus,
    );

    let kind_span = raw.kind.span();
    match kind {
        Some(Kind::Supersedence) => supersedence(cx, raw, &kind_span),
        Some(Kind::BadUpdate) => match raw.bad_update.as_ref() {
            Some(b) => Some(bad_update(cx, b.get_ref())),
            None => {
                cx.at(
                    &kind_span,
                    "kind = \"bad-update\" needs a [bad-update] table",
                );
                None
            }
        },
        Some(Kind::Antivirus) => match raw.antivirus.as_ref() {
            Some(a) => Some(antivirus(cx, a.get_ref(), &a.span())),
            None => {
                cx.at(
                    &kind_span,
                    "kind = \"antivirus\" needs an [antivirus] table",
                );
                None
            }
        },
        None => None,
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
