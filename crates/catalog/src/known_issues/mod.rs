//! The known-issues database: cases where Microsoft's update metadata is wrong
//! or surprising, updates known to break clusters, and anti-virus versions
//! known to break Hyper-V hosts or Cluster Shared Volumes.
//!
//! # Format
//!
//! One file per issue, `known-issues/<ID>.md`, in the style of the RustSec
//! advisory database: TOML front matter between two `+++` lines, then a
//! Markdown description.
//!
//! ```text
//! +++
//! id = "LOCKSTEP-2011-0001"
//! kind = "supersedence"            # supersedence | bad-update | antivirus
//! title = "KB2616676 supersedes KB2607712 ..."
//! published = "2026-11-27"         # when this entry was published here
//! updated = "2026-11-28"           # optional, last substantive change
//! reported = "2011-09-13"          # optional, first public report of the issue
//! severity = "warning"             # optional: error | warning (default) | info
//! aliases = ["MSA-2607712"]        # optional
//! references = ["https://..."]     # at least one
//!
//! [supersedence]                   # kind = "supersedence" only
//! newer = "KB2616676"
//! older = ["KB2607712"]
//!
//! [[verdict]]                      # one or more, kind = "supersedence" only
//! products = ["Windows Server 2008 R2", "Windows 7"]
//! older = ["KB2607712"]            # optional subset of supersedence.older
//! verdict = "intended"             # intended | incomplete | wrong | missing
//! note = "..."
//! until = "2011-09-19"             # optional: the verdict held until then
//! fixed_by = "KB..."               # optional: the update that fixed it
//!
//! [bad-update]                     # kind = "bad-update" only
//! kbs = ["KB..."]
//! products = ["Windows Server 2022"]
//! builds = ">= 10.0.20348.0, < 10.0.20348.2300"   # optional VersionRange
//! symptoms = ["..."]
//! clusters = true                  # whether failover clusters are affected
//!
//! [antivirus]                      # kind = "antivirus" only
//! vendor = "CrowdStrike"
//! product = "CrowdStrike Windows Sensor"
//! versions = [">= 7.11"]           # VersionRange list, "*" for any; may be
//!                                  # left out when a defender_* range is given
//! filters = ["csagent"]            # optional minifilter names
//! defender_platform = ">= 4.18.2111.5, < 4.18.2201.0"   # optional
//! defender_engine = "..."          # optional
//! window = { start = "2024-07-19T04:09:00Z", end = "2024-07-19T05:27:00Z" }
//!
//! [fix]                            # optional
//! steps = ["...", "..."]
//! +++
//!
//! Markdown description (required).
//! ```
//!
//! Dates may be written as strings or as TOML dates. Unknown keys are
//! rejected, as are bad dates, malformed KB numbers, versions and ranges,
//! unknown kinds, a table that does not belong to the kind, and an id that
//! does not match the file name. [`lint_file`] reports every problem it can
//! find at once, each with the file and line.
//!
//! # Product names
//!
//! Supersedence verdicts and bad updates name *servicing products* the way
//! the catalog normalises them (the MSRC product name without the
//! architecture phrase and without " (Server Core installation)"). A pattern
//! matches a servicing name case-insensitively when it is equal to it, or
//! when the name starts with the pattern followed by a space or a comma:
//! "Windows Server 2008 R2" matches "Windows Server 2008 R2 Service Pack 1".
//! One exception: a pattern does not match when the rest of the name starts
//! with the word "R2", because Windows Server 2008 R2 and 2012 R2 are
//! different products from 2008 and 2012 (see [`product_matches`]).
//!
//! # Merging
//!
//! [`KnownIssues::builtin`] holds the files compiled into the binary;
//! [`KnownIssues::load_dir`] adds a user's folder. A user entry with the id of
//! a built-in one replaces it; when several entries match a query, user
//! entries (the most recently loaded folder first) win over built-in ones.

mod lint;

pub use lint::{LintError, lint_file, lint_sources};

use jiff::Timestamp;
use jiff::civil::Date;
use lockstep_model::{KbId, VersionRange, WinVersion};
use std::fmt;
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/known_issues_embedded.rs"));
}

/// The three kinds of known issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Supersedence metadata that is wrong, incomplete, missing or surprising.
    Supersedence,
    /// An update known to break something (clusters in particular).
    BadUpdate,
    /// An anti-virus product or version known to break Hyper-V hosts or CSV.
    Antivirus,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Supersedence => "supersedence",
            Kind::BadUpdate => "bad-update",
            Kind::Antivirus => "antivirus",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious the issue is. Ordered `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IssueSeverity {
    Info,
    Warning,
    Error,
}

impl IssueSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueSeverity::Info => "info",
            IssueSeverity::Warning => "warning",
            IssueSeverity::Error => "error",
        }
    }
}

impl fmt::Display for IssueSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a supersedence verdict says about an edge newer → older on a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VerdictKind {
    /// The newer update contains the older one: drift is harmless for security.
    Intended,
    /// The newer update lacks some of the older one's content: a real gap.
    Incomplete,
    /// The edge should not exist.
    Wrong,
    /// The edge should exist but the published data lacks it.
    Missing,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Intended => "intended",
            VerdictKind::Incomplete => "incomplete",
            VerdictKind::Wrong => "wrong",
            VerdictKind::Missing => "missing",
        }
    }

    /// Whether the database holds that the edge exists (all but `wrong`).
    pub fn asserts_edge(self) -> bool {
        !matches!(self, VerdictKind::Wrong)
    }
}

impl fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `[[verdict]]` table of a supersedence issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Servicing-product patterns (see [`product_matches`]).
    pub products: Vec<String>,
    /// The older updates this verdict is about; empty means all of the
    /// issue's `older` list.
    pub older: Vec<KbId>,
    pub verdict: VerdictKind,
    pub note: String,
    /// The verdict held until this date (e.g. a corrected re-release).
    pub until: Option<Date>,
    /// The update that fixed the problem, when it is a different KB.
    pub fixed_by: Option<KbId>,
}

impl Verdict {
    /// Whether the verdict held for an update installed (or a catalog
    /// captured) on `date`: always without `until`, else only before it.
    /// E.g. KB2616676 installed on Windows Server 2003 on or after 2011-09-19
    /// is the corrected re-release.
    pub fn holds_on(&self, date: Date) -> bool {
        self.until.is_none_or(|until| date < until)
    }

    /// Whether this verdict covers `older` on `servicing_product`.
    pub fn applies_to(&self, older: KbId, servicing_product: &str) -> bool {
        (self.older.is_empty() || self.older.contains(&older))
            && self
                .products
                .iter()
                .any(|p| product_matches(p, servicing_product))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupersedenceIssue {
    pub newer: KbId,
    pub older: Vec<KbId>,
    pub verdicts: Vec<Verdict>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadUpdateIssue {
    pub kbs: Vec<KbId>,
    pub products: Vec<String>,
    /// Affected OS builds, when only some builds of the products are hit.
    pub builds: Option<VersionRange>,
    pub symptoms: Vec<String>,
    /// Whether the issue affects failover clusters.
    pub clusters: bool,
}

impl BadUpdateIssue {
    /// Whether an OS build is affected (always, when no range is given).
    pub fn affects_build(&self, build: &WinVersion) -> bool {
        self.builds.as_ref().is_none_or(|r| r.contains(build))
    }
}

/// A time window, e.g. when a faulty content update was being delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl TimeWindow {
    /// Whether `t` lies in `[start, end]`.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t <= self.end
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AntivirusIssue {
    pub vendor: String,
    /// Matched case-insensitively as a part of installed product names.
    pub product: String,
    /// Affected product versions; any range matching is enough. Empty for
    /// entries that are only about Defender platform/engine versions: those
    /// never match by installed product.
    pub versions: Vec<VersionRange>,
    /// Minifilter driver names (as `fltmc filters` shows them, no `.sys`).
    pub filters: Vec<String>,
    pub defender_platform: Option<VersionRange>,
    pub defender_engine: Option<VersionRange>,
    pub window: Option<TimeWindow>,
}

impl AntivirusIssue {
    /// Whether a product version is affected.
    pub fn affects_version(&self, version: &WinVersion) -> bool {
        self.versions.iter().any(|r| r.contains(version))
    }
}

/// The kind-specific part of an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Details {
    Supersedence(SupersedenceIssue),
    BadUpdate(BadUpdateIssue),
    Antivirus(AntivirusIssue),
}

/// Where an entry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into the binary from `known-issues/<file>`.
    Builtin(String),
    /// Read from a user's `--known-issues` folder.
    User(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin(name) => write!(f, "built-in known-issues/{name}"),
            Origin::User(path) => write!(f, "{}", path.display()),
        }
    }
}

/// One entry of the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownIssue {
    pub id: String,
    pub title: String,
    /// When the entry was published in this database.
    pub published: Date,
    pub updated: Option<Date>,
    /// When the issue itself was first publicly reported, if known.
    pub reported: Option<Date>,
    pub severity: IssueSeverity,
    pub aliases: Vec<String>,
    pub references: Vec<String>,
    /// Workaround or fix steps, in order, as prose.
    pub fix_steps: Vec<String>,
    /// The Markdown body after the front matter, trimmed.
    pub description: String,
    pub details: Details,
    pub origin: Origin,
}

impl KnownIssue {
    pub fn kind(&self) -> Kind {
        match self.details {
            Details::Supersedence(_) => Kind::Supersedence,
            Details::BadUpdate(_) => Kind::BadUpdate,
            Details::Antivirus(_) => Kind::Antivirus,
        }
    }

    pub fn supersedence(&self) -> Option<&SupersedenceIssue> {
        match &self.details {
            Details::Supersedence(s) => Some(s),
            _ => None,
        }
    }

    pub fn bad_update(&self) -> Option<&BadUpdateIssue> {
        match &self.details {
            Details::BadUpdate(b) => Some(b),
            _ => None,
        }
    }

    pub fn antivirus(&self) -> Option<&AntivirusIssue> {
        match &self.details {
            Details::Antivirus(a) => Some(a),
            _ => None,
        }
    }
}

/// An edge newer → older that the database asserts on some products.
#[derive(Debug, Clone, Copy)]
pub struct AssertedEdge<'a> {
    pub issue: &'a KnownIssue,
    pub newer: KbId,
    pub older: KbId,
    pub verdict: &'a Verdict,
}

/// The merged database: built-in entries plus any user folders.
#[derive(Debug, Clone, Default)]
pub struct KnownIssues {
    /// Sorted by id; ids are unique.
    issues: Vec<KnownIssue>,
    /// Load sequence per entry (same order as `issues`): 0 for built-ins,
    /// 1.. for user folders in the order loaded. Higher wins on a tie.
    rank: Vec<u32>,
    folders_loaded: u32,
}

impl KnownIssues {
    /// An empty database (no built-ins).
    pub fn empty() -> KnownIssues {
        KnownIssues::default()
    }

    /// The entries compiled into the binary. A built-in file that does not
    /// lint clean is left out (the test suite and `known-issues lint` make
    /// sure none is shipped that way).
    pub fn builtin() -> KnownIssues {
        let mut db = KnownIssues::default();
        for (name, text) in builtin_sources() {
            if let Ok(mut issue) = lint_file(Path::new(name), text) {
                issue.origin = Origin::Builtin((*name).to_string());
                db.insert(issue, 0);
            }
        }
        db
    }

    /// Adds every `*.md` file of a user folder (not recursive; `README.md` and
    /// dot files are skipped). All files are
    /// linted; on any error nothing is added and every error is returned.
    /// Entries with the id of an existing one replace it.
    pub fn load_dir(&mut self, dir: &Path) -> Result<(), Vec<LintError>> {
        let sources = read_dir_sources(dir)?;
        let borrowed: Vec<(&Path, &str)> = sources
            .iter()
            .map(|(p, t)| (p.as_path(), t.as_str()))
            .collect();
        let issues = lint_sources(&borrowed)?;
        self.folders_loaded += 1;
        let rank = self.folders_loaded;
        for (mut issue, (path, _)) in issues.into_iter().zip(sources.iter()) {
            issue.origin = Origin::User(path.clone());
            self.insert(issue, rank);
        }
        Ok(())
    }

    fn insert(&mut self, issue: KnownIssue, rank: u32) {
        match self
            .issues
            .binary_search_by(|i| i.id.as_str().cmp(issue.id.as_str()))
        {
            Ok(at) => {
                self.issues[at] = issue;
                self.rank[at] = rank;
            }
            Err(at) => {
                self.issues.insert(at, issue);
                self.rank.insert(at, rank);
            }
        }
    }

    /// Every entry, sorted by id.
    pub fn all(&self) -> &[KnownIssue] {
        &self.issues
    }

    pub fn len(&self) -> usize {
        self.issues.len()
    }

    pub fn is_empty(&self) -> bool {
        self.issues.is_empty()
    }

    /// The entry with this id, or with this alias (ids are compared exactly,
    /// aliases case-insensitively).
    pub fn get(&self, id: &str) -> Option<&KnownIssue> {
        match self.issues.binary_search_by(|i| i.id.as_str().cmp(id)) {
            Ok(at) => self.issues.get(at),
            Err(_) => self
                .issues
                .iter()
                .find(|i| i.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))),
        }
    }

    /// Entries in query precedence: user folders (latest first), then
    /// built-ins; by id within the same folder.
    fn by_precedence(&self) -> impl Iterator<Item = &KnownIssue> {
        let mut order: Vec<usize> = (0..self.issues.len()).collect();
        order.sort_by(|&a, &b| {
            self.rank[b]
                .cmp(&self.rank[a])
                .then_with(|| self.issues[a].id.cmp(&self.issues[b].id))
        });
        order.into_iter().filter_map(|i| self.issues.get(i))
    }

    /// The verdict the database holds on "`newer` supersedes `older`" for a
    /// servicing product, with the issue that holds it. The first matching
    /// `[[verdict]]` of the first matching issue wins (user entries first).
    pub fn supersedence_verdict(
        &self,
        newer: KbId,
        older: KbId,
        servicing_product: &str,
    ) -> Option<(&KnownIssue, &Verdict)> {
        self.by_precedence().find_map(|issue| {
            let s = issue.supersedence()?;
            if s.newer != newer || !s.older.contains(&older) {
                return None;
            }
            s.verdicts
                .iter()
                .find(|v| v.applies_to(older, servicing_product))
                .map(|v| (issue, v))
        })
    }

    /// The supersedence edges the database itself asserts (any verdict but
    /// `wrong` covers them), once per (issue, newer, older). Useful where the
    /// imported catalogs lack an edge, e.g. the 2011 KB2616676 → KB2607712.
    pub fn supersedence_edges(&self) -> impl Iterator<Item = (&KnownIssue, KbId, KbId)> {
        self.issues.iter().flat_map(|issue| {
            let pairs: Vec<(KbId, KbId)> = match issue.supersedence() {
                Some(s) => s
                    .older
                    .iter()
                    .filter(|&&old| {
                        s.verdicts.iter().any(|v| {
                            v.verdict.asserts_edge()
                                && (v.older.is_empty() || v.older.contains(&old))
                        })
                    })
                    .map(|&old| (s.newer, old))
                    .collect(),
                None => Vec::new(),
            };
            pairs
                .into_iter()
                .map(move |(newer, older)| (issue, newer, older))
        })
    }

    /// Like [`KnownIssues::supersedence_edges`], with the verdict (and so the
    /// product patterns) behind each asserted edge; one item per verdict.
    pub fn asserted_edges(&self) -> Vec<AssertedEdge<'_>> {
        let mut out = Vec::new();
        for issue in &self.issues {
            let Some(s) = issue.supersedence() else {
                continue;
            };
            for verdict in s.verdicts.iter().filter(|v| v.verdict.asserts_edge()) {
                for &older in &s.older {
                    if verdict.older.is_empty() || verdict.older.contains(&older) {
                        out.push(AssertedEdge {
                            issue,
                            newer: s.newer,
                            older,
                            verdict,
                        });
                    }
                }
            }
        }
        out
    }

    /// Bad-update entries naming `kb` on a product matching `servicing_product`.
    /// Check [`BadUpdateIssue::affects_build`] when the node's build is known.
    pub fn bad_updates_for(&self, kb: KbId, servicing_product: &str) -> Vec<&KnownIssue> {
        self.by_precedence()
            .filter(|issue| {
                issue.bad_update().is_some_and(|b| {
                    b.kbs.contains(&kb)
                        && b.products
                            .iter()
                            .any(|p| product_matches(p, servicing_product))
                })
            })
            .collect()
    }

    /// Anti-virus entries for an installed product.
    ///
    /// * the entry's `product` must occur in `product_name`, ignoring case
    ///   and runs of white space;
    /// * when `vendor` is given, one of the entry's vendor and `vendor` must
    ///   contain the other ("McAfee" vs "McAfee, Inc.");
    /// * entries without product versions (Defender platform/engine entries)
    ///   never match here; see [`KnownIssues::defender_matches`];
    /// * when `version` is given it must be in one of the entry's ranges;
    ///   without a version every entry for the product matches, so the caller
    ///   reports "possibly affected, version unknown" rather than nothing.
    pub fn antivirus_matches(
        &self,
        product_name: &str,
        vendor: Option<&str>,
        version: Option<&WinVersion>,
    ) -> Vec<&KnownIssue> {
        let installed = normalize_name(product_name);
        let vendor = vendor.map(normalize_name).filter(|v| !v.is_empty());
        self.by_precedence()
            .filter(|issue| {
                let Some(av) = issue.antivirus() else {
                    return false;
                };
                if av.versions.is_empty() {
                    return false;
                }
                let wanted = normalize_name(&av.product);
                if wanted.is_empty() || !installed.contains(&wanted) {
                    return false;
                }
                if let Some(v) = &vendor {
                    let entry_vendor = normalize_name(&av.vendor);
                    if !v.contains(&entry_vendor) && !entry_vendor.contains(v.as_str()) {
                        return false;
                    }
                }
                version.is_none_or(|v| av.affects_version(v))
            })
            .collect()
    }

    /// Anti-virus entries that list this minifilter (case-insensitive; a
    /// trailing `.sys` is ignored). A filter name alone is a weak signal:
    /// several products of one vendor share drivers.
    pub fn filter_matches(&self, filter_name: &str) -> Vec<&KnownIssue> {
        let wanted = normalize_filter(filter_name);
        if wanted.is_empty() {
            return Vec::new();
        }
        self.by_precedence()
            .filter(|issue| {
                issue
                    .antivirus()
                    .is_some_and(|av| av.filters.iter().any(|f| normalize_filter(f) == wanted))
            })
            .collect()
    }

    /// Entries about Microsoft Defender platform or engine versions. An entry
    /// matches when it states at least one of the two ranges and every range
    /// it states contains the corresponding version; an unknown (None)
    /// version never satisfies a range.
    pub fn defender_matches(
        &self,
        platform: Option<&WinVersion>,
        engine: Option<&WinVersion>,
    ) -> Vec<&KnownIssue> {
        fn holds(range: &Option<VersionRange>, v: Option<&WinVersion>) -> bool {
            match range {
                None => true,
                Some(r) => v.is_some_and(|v| r.contains(v)),
            }
        }
        self.by_precedence()
            .filter(|issue| {
                issue.antivirus().is_some_and(|av| {
                    (av.defender_platform.is_some() || av.defender_engine.is_some())
                        && holds(&av.defender_platform, platform)
                        && holds(&av.defender_engine, engine)
                })
            })
            .collect()
    }
}

/// `(file name, text)` of every built-in known-issue file, sorted by name.
pub fn builtin_sources() -> &'static [(&'static str, &'static str)] {
    embedded::EMBEDDED
}

/// Lints the built-in files as one set (ids unique across them).
pub fn lint_builtin() -> Result<Vec<KnownIssue>, Vec<LintError>> {
    let sources: Vec<(&Path, &str)> = builtin_sources()
        .iter()
        .map(|(name, text)| (Path::new(*name), *text))
        .collect();
    lint_sources(&sources)
}

/// Reads every issue file of a folder (see [`is_issue_file_name`]), sorted by
/// name. Errors name the file.
pub fn read_dir_sources(dir: &Path) -> Result<Vec<(PathBuf, String)>, Vec<LintError>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![LintError {
            path: dir.display().to_string(),
            line: 0,
            message: format!("cannot read the known-issues folder: {e}"),
        }]
    })?;
    // Directories named `*.md` are passed over; any other entry with an issue
    // file name must be a regular file (a FIFO or device is an error, never
    // opened in a way that blocks), read up to the input size limit.
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.is_dir() && is_issue_file_name(p))
        .collect();
    paths.sort();
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        use lockstep_model::input_file::{DEFAULT_MAX_INPUT_SIZE, Origin, read};
        match read(&path, DEFAULT_MAX_INPUT_SIZE, Origin::Found) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push((path, text)),
                Err(_) => errors.push(LintError {
                    path: path.display().to_string(),
                    line: 0,
                    message: "expected UTF-8 text".into(),
                }),
            },
            Err(e) => errors.push(LintError {
                path: path.display().to_string(),
                line: 0,
                message: e.to_string(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(errors)
    }
}

/// Whether a file in a known-issues folder is an issue file: `*.md`, except
/// `README.md` (any case) and hidden or editor files starting with `.`.
pub fn is_issue_file_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with(".md") && !name.starts_with('.') && !name.eq_ignore_ascii_case("README.md")
}

/// Whether a servicing-product pattern matches a servicing product name:
/// case-insensitively equal, or the name continues after the pattern with a
/// space or a comma — except when the next word is "R2" (2008 R2 and 2012 R2
/// are not 2008 and 2012).
pub fn product_matches(pattern: &str, servicing_name: &str) -> bool {
    let pattern = pattern.trim();
    let name = servicing_name.trim();
    if pattern.is_empty() || name.len() < pattern.len() {
        return false;
    }
    let Some((head, rest)) = split_at_char_boundary(name, pattern.len()) else {
        return false;
    };
    // Unicode case folding only where the text is not ASCII: the check runs
    // for every update and product when servicing models are derived.
    let same = head.eq_ignore_ascii_case(pattern)
        || (!(head.is_ascii() && pattern.is_ascii())
            && head.to_lowercase() == pattern.to_lowercase());
    if !same {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let Some(after) = rest.strip_prefix(' ').or_else(|| rest.strip_prefix(',')) else {
        return false;
    };
    let next_word = after
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == ',')
        .next()
        .unwrap_or("");
    !next_word.eq_ignore_ascii_case("R2")
}

fn split_at_char_boundary(s: &str, at: usize) -> Option<(&str, &str)> {
    if s.is_char_boundary(at) {
        Some(s.split_at(at))
    } else {
        None
    }
}

/// Lower case, runs of white space collapsed to one space, trimmed.
fn normalize_name(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn normalize_filter(s: &str) -> String {
    let t = s.trim().to_ascii_lowercase();
    t.strip_suffix(".sys").unwrap_or(&t).to_string()
}

#[cfg(test)]
mod tests;
