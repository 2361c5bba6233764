//! What one source document says, parsed and de-duplicated in memory before it
//! is written to the store in a single transaction.
//!
//! Every importer (CVRF XML, CVRF JSON, WES-NG CSV) produces an
//! [`ImportBatch`]; the store only knows batches. Raw product names and CVE ids
//! are interned so that a 600k-row WES-NG file costs a few tens of megabytes.

use lockstep_model::{KbId, WinVersion};
use std::collections::HashMap as StdHashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// The multiply-rotate hash rustc uses (FxHash): the maps here are keyed by
/// small integers and short strings from trusted-size input, and SipHash
/// dominated the WES-NG import profile.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FxHasher`].
pub type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Which kind of source a fact came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum SourceKind {
    /// An MSRC CVRF document (XML or JSON: the same data, one kind).
    Cvrf,
    /// A WES-NG definitions CSV.
    Wesng,
    /// A servicing model (`servicing-models/`): the edge is derived, not
    /// given by a source document.
    Model,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Cvrf => "cvrf",
            SourceKind::Wesng => "wesng",
            SourceKind::Model => "model",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        match s {
            "cvrf" => Some(SourceKind::Cvrf),
            "wesng" => Some(SourceKind::Wesng),
            "model" => Some(SourceKind::Model),
            _ => None,
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The concrete format a document was read from (kept in the store for the
/// record; provenance only distinguishes [`SourceKind`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SourceFormat {
    CvrfXml,
    CvrfJson,
    WesngCsv,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::CvrfXml => "cvrf-xml",
            SourceFormat::CvrfJson => "cvrf-json",
            SourceFormat::WesngCsv => "wesng",
        }
    }

    pub fn kind(self) -> SourceKind {
        match self {
            SourceFormat::CvrfXml | SourceFormat::CvrfJson => SourceKind::Cvrf,
            SourceFormat::WesngCsv => SourceKind::Wesng,
        }
    }
}

/// Severity as MSRC writes it. Ordered so that `max` is the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub enum Severity {
    #[default]
    Unknown,
    Low,
    Moderate,
    Important,
    Critical,
}

impl Severity {
    /// Unknown words (empty, `None`, WES-NG's `System.Object[]`) map to `Unknown`.
    pub fn parse(s: &str) -> Severity {
        let t = s.trim();
        if t.eq_ignore_ascii_case("important") {
            Severity::Important
        } else if t.eq_ignore_ascii_case("critical") {
            Severity::Critical
        } else if t.eq_ignore_ascii_case("moderate") {
            Severity::Moderate
        } else if t.eq_ignore_ascii_case("low") {
            Severity::Low
        } else {
            Severity::Unknown
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "",
            Severity::Low => "Low",
            Severity::Moderate => "Moderate",
            Severity::Important => "Important",
            Severity::Critical => "Critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *self == Severity::Unknown {
            "unknown"
        } else {
            self.as_str()
        })
    }
}

/// A string table: each distinct string once, addressed by index.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    pub names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }

    pub fn get(&self, i: u32) -> &str {
        self.names.get(i as usize).map(String::as_str).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// One vendor fix: a KB for one raw product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixFacts {
    pub subtype: Option<String>,
    pub fixed_build: Option<WinVersion>,
    /// `Yes`, `No`, `Maybe` as the source wrote it.
    pub restart_required: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CveFacts {
    pub severity: Severity,
    pub impact: Option<String>,
    /// WES-NG's DatePosted of the row (not the KB's release date).
    pub date_posted: Option<jiff::civil::Date>,
}

/// What a document says about one KB as a whole.
#[derive(Debug, Clone, Default)]
pub struct KbFacts {
    pub title: Option<String>,
    /// WES-NG only: how many rows carry each DatePosted (the mode estimates the release date).
    pub date_counts: HashMap<jiff::civil::Date, u32>,
    /// CVRF only: the revision dates (first, last) of each vulnerability
    /// that lists the KB as a vendor fix, once per vulnerability. MSRC
    /// revises old documents to list later fixes; these dates tell a KB's
    /// own month from a later addition (see [`Listing`]).
    pub vulnerabilities: Vec<(jiff::civil::Date, jiff::civil::Date)>,
}

/// How a CVRF document lists one KB, summarised for dating the KB.
///
/// A vulnerability is *native* to the document when it was first published
/// in the document's month, and *clean* when it is native and was never
/// revised after that month: a KB listed under a clean vulnerability was
/// there when the month's updates came out. A KB listed only under revised
/// vulnerabilities may have been added by a later revision (KB4493464, an
/// April 2019 update, is listed under ADV180002 in the January 2018
/// document).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Listing {
    pub native: u32,
    pub clean: u32,
    /// Latest first-publication date among the native vulnerabilities (an
    /// out-of-band vulnerability dates an out-of-band update).
    pub native_date: Option<jiff::civil::Date>,
    /// The same among the clean ones.
    pub clean_date: Option<jiff::civil::Date>,
}

impl KbFacts {
    /// Summarises the vulnerabilities listing the KB for a document first
    /// released on `document` (its InitialReleaseDate).
    pub fn listing(&self, document: jiff::civil::Date) -> Listing {
        let month = (document.year(), document.month());
        let mut l = Listing::default();
        for &(first, last) in &self.vulnerabilities {
            if (first.year(), first.month()) != month {
                continue;
            }
            l.native += 1;
            l.native_date = l.native_date.max(Some(first));
            if (last.year(), last.month()) <= month {
                l.clean += 1;
                l.clean_date = l.clean_date.max(Some(first));
            }
        }
        l
    }
}

impl KbFacts {
    /// The most common date; ties go to the earliest.
    pub fn date_mode(&self) -> Option<jiff::civil::Date> {
        self.date_counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(d, _)| *d)
    }
}

/// Counts an importer reports (and tests assert).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ParseCounts {
    /// CVRF `Vulnerability` elements / WES-NG data rows.
    pub records: u64,
    /// Distinct product ids in the CVRF ProductTree (0 for WES-NG).
    pub tree_products: u64,
    /// CVRF remediations of type Vendor Fix (any description).
    pub vendor_fixes: u64,
    /// Vendor fixes / rows whose KB field is not a KB number (release notes, Linux package names).
    pub skipped_not_kb: u64,
    /// Product ids referenced by a remediation but absent from the ProductTree.
    pub unknown_product_ids: u64,
}

/// Everything one document contributes, de-duplicated.
#[derive(Debug, Clone)]
pub struct ImportBatch {
    pub format: SourceFormat,
    /// Document name: the CVRF ID (`2023-Dec`) or the WES-NG CSV file name.
    pub name: String,
    pub title: Option<String>,
    pub content_hash: String,
    /// CVRF InitialReleaseDate (date part).
    pub initial_release: Option<jiff::civil::Date>,
    /// CVRF CurrentReleaseDate as written (used to skip unchanged downloads).
    pub current_release: Option<String>,
    pub products: Interner,
    pub cve_ids: Interner,
    pub kbs: HashMap<KbId, KbFacts>,
    pub fixes: HashMap<(KbId, u32), FixFacts>,
    /// (newer, older, raw product)
    pub edges: HashMap<(KbId, KbId, u32), ()>,
    pub cves: HashMap<(KbId, u32, u32), CveFacts>,
    pub counts: ParseCounts,
}

impl ImportBatch {
    pub fn new(format: SourceFormat, name: impl Into<String>) -> Self {
        Self {
            format,
            name: name.into(),
            title: None,
            content_hash: String::new(),
            initial_release: None,
            current_release: None,
            products: Interner::default(),
            cve_ids: Interner::default(),
            kbs: HashMap::default(),
            fixes: HashMap::default(),
            edges: HashMap::default(),
            cves: HashMap::default(),
            counts: ParseCounts::default(),
        }
    }

    /// Records a fix; when a KB×product appears more than once (once per CVE in
    /// CVRF), the first non-empty value of each field wins, except the fixed
    /// build where the highest wins.
    pub fn add_fix(&mut self, kb: KbId, product: u32, fix: FixFacts) {
        let e = self.fixes.entry((kb, product)).or_default();
        if e.subtype.is_none() {
            e.subtype = fix.subtype;
        }
        if e.restart_required.is_none() {
            e.restart_required = fix.restart_required;
        }
        e.fixed_build = match (e.fixed_build, fix.fixed_build) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    pub fn add_cve(&mut self, kb: KbId, product: u32, cve: &str, facts: CveFacts) {
        let c = self.cve_ids.intern(cve);
        let e = self.cves.entry((kb, product, c)).or_default();
        e.severity = e.severity.max(facts.severity);
        if e.impact.is_none() {
            e.impact = facts.impact;
        }
        e.date_posted = match (e.date_posted, facts.date_posted) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// A KB from a CVRF remediation `Description` or a WES-NG `BulletinKB`: only
/// plain KB numbers (`5033118`, `KB5033118`) count; `Release Notes`, package
/// names and bulletin ids do not.
pub fn parse_kb_field(s: &str) -> Option<KbId> {
    let t = s.trim();
    let digits = t
        .strip_prefix("KB")
        .or_else(|| t.strip_prefix("kb"))
        .unwrap_or(t);
    if (4..=8).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok().filter(|n| *n > 0).map(KbId)
    } else {
        None
    }
}

/// `Supercedence` / `Supersedes` free text: KB numbers separated by `;`, `,`,
/// white space (or stray HTML such as `<br>`). Bulletin ids (`MS16-087`),
/// versions (`20.0.1`) and words (`None`) are dropped.
pub fn parse_supersedence(s: &str) -> Vec<KbId> {
    let mut out = Vec::new();
    for token in s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')) {
        if let Some(kb) = parse_kb_field(token)
            && !out.contains(&kb)
        {
            out.push(kb);
        }
    }
    out
}

/// `2023-12-12T08:00:00` / `2017-02-21T08:00:00Z` → 2023-12-12.
pub fn parse_iso_date_prefix(s: &str) -> Option<jiff::civil::Date> {
    let t = s.trim();
    t.get(..10)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supersedence_free_text() {
        assert_eq!(parse_supersedence("5032198"), vec![KbId(5032198)]);
        assert_eq!(
            parse_supersedence("3214628; 3205394,3212646 4010250"),
            vec![KbId(3214628), KbId(3205394), KbId(3212646), KbId(4010250)]
        );
        assert_eq!(parse_supersedence("MS16-087;3170455"), vec![KbId(3170455)]);
        assert_eq!(
            parse_supersedence("3118389<br>3142037\n"),
            vec![KbId(3118389), KbId(3142037)]
        );
        assert_eq!(parse_supersedence("None"), Vec::<KbId>::new());
        assert_eq!(parse_supersedence("20.0.1"), Vec::<KbId>::new());
        assert_eq!(parse_supersedence(""), Vec::<KbId>::new());
        assert_eq!(parse_supersedence("2883200;SP81X86"), vec![KbId(2883200)]);
    }

    #[test]
    fn kb_fields() {
        assert_eq!(parse_kb_field("5033118"), Some(KbId(5033118)));
        assert_eq!(parse_kb_field("KB5033118"), Some(KbId(5033118)));
        assert_eq!(parse_kb_field("Release Notes"), None);
        assert_eq!(parse_kb_field("CBL-Mariner kernel"), None);
        assert_eq!(parse_kb_field("0"), None);
    }

    #[test]
    fn date_mode_prefers_count_then_earliest() {
        let mut k = KbFacts::default();
        let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        k.date_counts.insert(d("2021-12-14"), 3);
        k.date_counts.insert(d("2021-02-09"), 1);
        assert_eq!(k.date_mode(), Some(d("2021-12-14")));
        k.date_counts.insert(d("2021-02-09"), 3);
        assert_eq!(k.date_mode(), Some(d("2021-02-09")));
    }
}
