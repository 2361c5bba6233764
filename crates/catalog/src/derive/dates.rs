//! Release dates.
//!
//! MSRC revises old monthly CVRF documents to list later fixes, so "the
//! earliest document that lists a KB" is not its release: KB4493464 (the
//! April 2019 cumulative update for Windows 10 1803) is listed under
//! ADV180002 in the January 2018 document, KB4532691 (February 2020) under a
//! June 2018 CVE. The rule, checked over the 2016–2026 archive (every
//! supersedence edge's dates are monotonic, see the catalog's tests):
//!
//! 1. **Clean listing.** The KB's month is the earliest document in which it
//!    fixes one of that document's own vulnerabilities (first published in the
//!    document's month) that was never revised after that month. The date is
//!    the latest first-publication date among those vulnerabilities, so an
//!    out-of-band update gets its own day (KB4483234: 2018-12-19).
//! 2. **Revised listing.** Without a clean listing, the document in which it
//!    fixes the most of the document's own vulnerabilities (ties: the
//!    earliest); without any, the earliest document.
//! 3. **WES-NG estimate** for KBs no CVRF document lists (the most common
//!    DatePosted of the KB's rows: a CVE date, so only an estimate).
//! 4. **Supersedence bound.** A KB cannot be older than a KB it supersedes.
//!    When rule 2 or 3 says it is (its own month's document is missing from
//!    the catalog, for example), the WES-NG estimate is used when it respects
//!    the bound, else the bound itself. Only a KB dated by MSRC bounds
//!    another (a WES-NG estimate is a CVE date, too loose to move anything),
//!    and a clean listing is never moved: an edge against it is the data's
//!    error (KB4096040, an out-of-band March 2018 IE update, is listed as
//!    superseding April's KB4092946).

use crate::batch::Listing;
use jiff::civil::Date;
use lockstep_model::{KbId, KbMap};

/// How a KB's release date was found (stored in `updates.release_date_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateRule {
    /// Rule 1: a clean listing in the document of its month.
    Cvrf,
    /// Rule 2: only listed under vulnerabilities revised later.
    CvrfRevised,
    /// Rule 3: WES-NG's most common DatePosted.
    WesngEstimate,
    /// Rule 4: raised to the date of an update it supersedes.
    SupersedenceBound,
}

impl DateRule {
    pub fn as_str(self) -> &'static str {
        match self {
            DateRule::Cvrf => "cvrf",
            DateRule::CvrfRevised => "cvrf-revised",
            DateRule::WesngEstimate => "wesng",
            DateRule::SupersedenceBound => "bound",
        }
    }

    pub fn parse(s: &str) -> Option<DateRule> {
        Some(match s {
            "cvrf" => DateRule::Cvrf,
            "cvrf-revised" => DateRule::CvrfRevised,
            "wesng" => DateRule::WesngEstimate,
            "bound" => DateRule::SupersedenceBound,
            _ => return None,
        })
    }

    /// A few words for `catalog show`, with the document the date comes from.
    pub fn short(self, document: Option<&str>) -> String {
        let doc = document.map(|d| format!(" {d}")).unwrap_or_default();
        match self {
            DateRule::Cvrf => format!("MSRC CVRF{doc}"),
            DateRule::CvrfRevised => format!("MSRC CVRF{doc}, only under revised vulnerabilities"),
            DateRule::WesngEstimate => "WES-NG estimate".to_string(),
            DateRule::SupersedenceBound => "no earlier than an update it supersedes".to_string(),
        }
    }

    /// Words for reports: how the date was found.
    pub fn describe(self) -> &'static str {
        match self {
            DateRule::Cvrf => "MSRC CVRF: month whose own vulnerabilities it first fixes",
            DateRule::CvrfRevised => {
                "MSRC CVRF: listed only under vulnerabilities revised later (approximate)"
            }
            DateRule::WesngEstimate => "WES-NG estimate (most common CVE date)",
            DateRule::SupersedenceBound => {
                "no earlier than an update it supersedes (its own month is not in the catalog): WES-NG's estimate when that agrees, else that update's date"
            }
        }
    }
}

/// One CVRF document listing a KB.
#[derive(Debug, Clone)]
pub struct DocListing {
    /// The document's id (`2019-Apr`).
    pub document: String,
    /// Its InitialReleaseDate.
    pub released: Date,
    pub listing: Listing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    pub date: Date,
    pub rule: DateRule,
    /// The CVRF document the date comes from.
    pub document: Option<String>,
}

/// Rules 1–3 for one KB.
pub fn date_of(cvrf: &[DocListing], wesng_estimate: Option<Date>) -> Option<Dated> {
    let clean = cvrf
        .iter()
        .filter(|d| d.listing.clean > 0)
        .min_by_key(|d| (d.released, d.document.as_str()));
    if let Some(d) = clean {
        return Some(Dated {
            date: d.listing.clean_date.unwrap_or(d.released),
            rule: DateRule::Cvrf,
            document: Some(d.document.clone()),
        });
    }
    let most_native = cvrf.iter().filter(|d| d.listing.native > 0).max_by(|a, b| {
        a.listing
            .native
            .cmp(&b.listing.native)
            .then(b.released.cmp(&a.released))
    });
    let chosen = most_native.or_else(|| cvrf.iter().min_by_key(|d| d.released));
    if let Some(d) = chosen {
        return Some(Dated {
            date: d.listing.native_date.unwrap_or(d.released),
            rule: DateRule::CvrfRevised,
            document: Some(d.document.clone()),
        });
    }
    wesng_estimate.map(|date| Dated {
        date,
        rule: DateRule::WesngEstimate,
        document: None,
    })
}

/// Rule 4 over every (newer, older) supersedence pair: raises each KB to at
/// least the date of every KB it supersedes. Bounded passes, so a cycle in
/// the source data cannot loop; chains settle in one pass when the pairs
/// come oldest first, which the caller's sort by the older KB's date gives.
pub fn apply_supersedence_bound(
    dates: &mut KbMap<Dated>,
    pairs: &[(KbId, KbId)],
    wesng: &KbMap<Date>,
) {
    const PASSES: usize = 16;
    for _ in 0..PASSES {
        let mut changed = false;
        for &(newer, older) in pairs {
            let Some(bound) = dates
                .get(&older)
                .filter(|d| d.rule != DateRule::WesngEstimate)
                .map(|d| d.date)
            else {
                continue;
            };
            let Some(d) = dates.get_mut(&newer) else {
                continue;
            };
            if d.date >= bound || d.rule == DateRule::Cvrf {
                continue;
            }
            *d = Dated {
                date: wesng
                    .get(&newer)
                    .copied()
                    .filter(|w| *w >= bound)
                    .unwrap_or(bound),
                rule: DateRule::SupersedenceBound,
                document: d.document.clone(),
            };
            changed = true;
        }
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn doc(name: &str, released: &str, native: u32, clean: u32, date: &str) -> DocListing {
        DocListing {
            document: name.into(),
            released: d(released),
            listing: Listing {
                native,
                clean,
                native_date: (native > 0).then(|| d(date)),
                clean_date: (clean > 0).then(|| d(date)),
            },
        }
    }

    #[test]
    fn clean_listing_wins_over_an_older_revised_document() {
        // KB4493464: ADV180002 in 2018-Jan (revised until 2019-06), three
        // February and one March CVE revised in April, 49 clean April CVEs.
        let listings = [
            doc("2018-Jan", "2018-01-09", 1, 0, "2018-01-03"),
            doc("2019-Feb", "2019-02-12", 3, 0, "2019-02-12"),
            doc("2019-Mar", "2019-03-12", 1, 0, "2019-03-12"),
            doc("2019-Apr", "2019-04-09", 49, 49, "2019-04-09"),
        ];
        let got = date_of(&listings, Some(d("2019-04-09"))).unwrap();
        assert_eq!(got.date, d("2019-04-09"));
        assert_eq!(got.rule, DateRule::Cvrf);
        assert_eq!(got.document.as_deref(), Some("2019-Apr"));
    }

    #[test]
    fn without_a_clean_listing_the_most_native_document_counts() {
        // KB3185330 (October 2016 rollup): one August CVE and seventeen
        // October CVEs, all revised in December.
        let listings = [
            doc("2016-Aug", "2016-08-09", 1, 0, "2016-08-09"),
            doc("2016-Oct", "2016-10-11", 17, 0, "2016-10-11"),
        ];
        let got = date_of(&listings, Some(d("2016-12-13"))).unwrap();
        assert_eq!(
            (got.date, got.rule),
            (d("2016-10-11"), DateRule::CvrfRevised)
        );
    }

    #[test]
    fn bound_prefers_a_consistent_wesng_estimate_then_the_bound() {
        let mut dates = KbMap::default();
        let at = |s: &str, rule| Dated {
            date: d(s),
            rule,
            document: None,
        };
        dates.insert(KbId(1), at("2020-02-11", DateRule::Cvrf));
        // Neither a WES-NG-dated older KB nor a clean listing moves anything.
        dates.insert(KbId(4), at("2021-01-01", DateRule::WesngEstimate));
        dates.insert(KbId(5), at("2019-01-08", DateRule::Cvrf));
        dates.insert(KbId(2), at("2019-08-13", DateRule::CvrfRevised));
        dates.insert(KbId(3), at("2019-08-13", DateRule::CvrfRevised));
        let mut wesng = KbMap::default();
        wesng.insert(KbId(2), d("2020-03-10"));
        wesng.insert(KbId(3), d("2019-09-10"));
        apply_supersedence_bound(
            &mut dates,
            &[(KbId(2), KbId(1)), (KbId(3), KbId(2))],
            &wesng,
        );
        assert_eq!(dates[&KbId(2)].date, d("2020-03-10"));
        assert_eq!(dates[&KbId(2)].rule, DateRule::SupersedenceBound);
        assert_eq!(dates[&KbId(3)].date, d("2020-03-10"));
        assert_eq!(dates[&KbId(3)].rule, DateRule::SupersedenceBound);
    }

    #[test]
    fn a_cycle_in_the_data_terminates() {
        let mut dates = KbMap::default();
        for (kb, s) in [(1, "2020-01-14"), (2, "2020-02-11")] {
            dates.insert(
                KbId(kb),
                Dated {
                    date: d(s),
                    rule: DateRule::CvrfRevised,
                    document: None,
                },
            );
        }
        apply_supersedence_bound(
            &mut dates,
            &[(KbId(1), KbId(2)), (KbId(2), KbId(1))],
            &KbMap::default(),
        );
        assert_eq!(dates[&KbId(1)].date, d("2020-02-11"));
    }
}
