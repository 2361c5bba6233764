//! Posture as findings, and the words every report uses for a list of
//! missing updates: counts by severity, the updates only Extended Security
//! Updates customers can install counted apart ([`crate::lifecycle`]), and
//! the links of each update.
//!
//! A finding names its updates as `items`; its prose gives the counts and
//! leaves the list to the report's posture section, which shows each update
//! once per group of nodes with the same gaps (a 2008 R2 cluster lacks
//! hundreds: listed in the posture of every node, again in the finding and
//! again in its fix, they made a report nobody read).

use crate::posture::{ChainHead, NodePosture};
use crate::{Evidence, Finding, FindingCode, Fix, Item, Severity, lifecycle};
use lockstep_model::{KbId, KbMap, Node};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The update's page in the Microsoft Update Catalog (the packages).
pub fn catalog_url(kb: KbId) -> String {
    format!("https://catalog.update.microsoft.com/Search.aspx?q={kb}")
}

/// The update's support article.
pub fn support_url(kb: KbId) -> String {
    format!("https://support.microsoft.com/help/{}", kb.number())
}

/// MSRC's severities, highest first; updates without one come last.
const SEVERITIES: [&str; 4] = ["Critical", "Important", "Moderate", "Low"];

/// How many updates a list holds, by severity, and how many of them only
/// Extended Security Updates customers can install.
#[derive(Debug, Clone, Default)]
pub struct GapCounts {
    pub total: usize,
    pub esu_only: usize,
    /// Of the updates every customer can install: (severity, count),
    /// highest first, `unrated` last.
    pub severities: Vec<(&'static str, usize)>,
    /// The OS product's support end, when some update is ESU only.
    pub support_end: Option<&'static lifecycle::SupportEnd>,
}

impl GapCounts {
    /// `os`: the node's OS product, whose support end decides what is ESU
    /// only (for the OS and for products installed on it alike).
    pub fn of<'a>(heads: impl IntoIterator<Item = &'a ChainHead>, os: Option<&str>) -> Self {
        let mut c = GapCounts::default();
        let mut by = [0usize; SEVERITIES.len() + 1];
        for h in heads {
            c.total += 1;
            if lifecycle::esu_only(os, h.release_date) {
                c.esu_only += 1;
                continue;
            }
            let i = h
                .severity
                .as_deref()
                .and_then(|s| SEVERITIES.iter().position(|x| x.eq_ignore_ascii_case(s)))
                .unwrap_or(SEVERITIES.len());
            by[i] += 1;
        }
        c.severities = by
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (SEVERITIES.get(i).copied().unwrap_or("unrated"), *n))
            .collect();
        if c.esu_only > 0 {
            c.support_end = os.and_then(lifecycle::support_end);
        }
        c
    }

    /// "111 critical, 156 important, 1 unrated".
    fn by_severity(&self) -> String {
        self.severities
            .iter()
            .map(|(s, n)| format!("{n} {}", s.to_ascii_lowercase()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One line: "361 missing: 272 for every customer (111 critical, …),
    /// 89 ESU only".
    pub fn summary(&self) -> String {
        let installable = self.total - self.esu_only;
        let mut s = format!("{} missing", self.total);
        if self.esu_only == 0 {
            let _ = write!(s, " ({})", self.by_severity());
        } else {
            if installable > 0 {
                let _ = write!(
                    s,
                    ": {installable} for every customer ({})",
                    self.by_severity()
                );
            } else {
                s.push(':');
            }
            let _ = write!(
                s,
                "{} {} ESU only",
                if installable > 0 { "," } else { "" },
                self.esu_only
            );
        }
        s
    }

    /// Why the ESU-only ones are apart, when there are some.
    pub fn esu_sentence(&self) -> Option<String> {
        let end = self.support_end?;
        Some(format!(
            "ESU only: released after {}'s extended support ended on {}; only Extended Security Updates customers can install {}.",
            end.product,
            end.extended_end,
            if self.esu_only == 1 { "it" } else { "them" }
        ))
    }
}

/// Posture findings, grouped: nodes of one cluster whose missing chain
/// heads are identical share one finding (a cluster patched together lacks
/// the same updates on every node, and the admin installs them once per
/// node either way). The OS product gives `security-update-missing`; the
/// separately installed products the node shows give one
/// `companion-update-missing` per node group, each KB listed once with every
/// product it belongs to (a .NET rollup is published for several .NET
/// versions; the admin installs it once). Products the inventory does not
/// show are listed in the posture, not raised as findings.
pub fn posture_findings(
    cluster: Option<&str>,
    nodes: &[Node],
    postures: &[NodePosture],
) -> Vec<Finding> {
    group_gaps(postures)
        .into_iter()
        .map(|g| gap_finding(cluster, nodes, g))
        .collect()
}

/// What a group of nodes lacks (the heads, what each folds, the products
/// listing each); the words are written once per group.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Gap<'p> {
    code: FindingCode,
    products: Vec<&'p str>,
    /// (head, folded KBs newest first, the products listing it)
    heads: Vec<(KbId, Vec<KbId>, Vec<&'p str>)>,
}

struct Group<'p> {
    gap: Gap<'p>,
    /// The first member's heads, for titles, dates and severities.
    first: Vec<&'p ChainHead>,
    os: Option<&'p str>,
    members: Vec<usize>,
}

fn group_gaps(postures: &[NodePosture]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<Gap, usize> = HashMap::new();
    for (ni, p) in postures.iter().enumerate() {
        let mut products = p
            .products
            .iter()
            .filter(|x| x.applicable && !x.missing.is_empty());
        let os = p
            .products
            .first()
            .filter(|x| x.applicable && !x.missing.is_empty());
        let mut found: Vec<(Gap, Vec<&ChainHead>)> = Vec::new();
        if let Some(os) = os {
            products.next();
            found.push((
                Gap {
                    code: FindingCode::SecurityUpdateMissing,
                    products: vec![&*os.product],
                    heads: os
                        .missing
                        .iter()
                        .map(|h| (h.kb, h.folds.clone(), Vec::new()))
                        .collect(),
                },
                os.missing.iter().collect(),
            ));
        }
        if let Some(companions) = companion_gap(products) {
            found.push(companions);
        }
        for (gap, first) in found {
            match index.get(&gap) {
                Some(&i) => groups[i].members.push(ni),
                None => {
                    index.insert(gap.clone(), groups.len());
                    groups.push(Group {
                        gap,
                        first,
                        os: p.product.as_deref(),
                        members: vec![ni],
                    });
                }
            }
        }
    }
    groups
}

/// Every companion head once, with the products that list it and the union
/// of what it folds on each; newest first.
fn companion_gap<'p>(
    products: impl Iterator<Item = &'p crate::posture::ProductPosture>,
) -> Option<(Gap<'p>, Vec<&'p ChainHead>)> {
    let mut heads: Vec<(KbId, Vec<KbId>, Vec<&str>)> = Vec::new();
    let mut first: Vec<&ChainHead> = Vec::new();
    let mut at: KbMap<usize> = KbMap::default();
    let mut names: Vec<&str> = Vec::new();
    for prod in products {
        names.push(&prod.product);
        for h in &prod.missing {
            match at.get(&h.kb) {
                Some(&i) => {
                    heads[i].1.extend(h.folds.iter().copied());
                    heads[i].2.push(&prod.product);
                }
                None => {
                    at.insert(h.kb, heads.len());
                    heads.push((h.kb, h.folds.clone(), vec![&*prod.product]));
                    first.push(h);
                }
            }
        }
    }
    if heads.is_empty() {
        return None;
    }
    let mut order: Vec<usize> = (0..heads.len()).collect();
    order.sort_by(|&a, &b| {
        first[b]
            .release_date
            .cmp(&first[a].release_date)
            .then(first[b].kb.cmp(&first[a].kb))
    });
    let mut sorted_heads = Vec::with_capacity(heads.len());
    let mut sorted_first = Vec::with_capacity(heads.len());
    for i in order {
        let kb = heads[i].0;
        let (_, mut folds, prods) = std::mem::replace(&mut heads[i], (kb, Vec::new(), Vec::new()));
        folds.sort_by(|a, b| b.cmp(a));
        folds.dedup();
        sorted_heads.push((kb, folds, prods));
        sorted_first.push(first[i]);
    }
    Some((
        Gap {
            code: FindingCode::CompanionUpdateMissing,
            products: names,
            heads: sorted_heads,
        },
        sorted_first,
    ))
}

/// Titles name the updates themselves up to this many.
const NAMED_IN_TITLE: usize = 3;

fn gap_finding(cluster: Option<&str>, nodes: &[Node], g: Group<'_>) -> Finding {
    let Group {
        gap,
        first,
        os,
        members,
    } = g;
    let companion = gap.code == FindingCode::CompanionUpdateMissing;
    let severity = if first.iter().any(|h| {
        matches!(
            h.severity.as_deref(),
            Some("Critical") | Some("Important") | None
        )
    }) {
        Severity::Error
    } else {
        Severity::Warning
    };
    let names: Vec<String> = members.iter().map(|&i| nodes[i].name.clone()).collect();
    let on = names.join(", ");
    let counts = GapCounts::of(first.iter().copied(), os);
    let n = gap.heads.len();
    let kb_list = gap
        .heads
        .iter()
        .map(|h| h.0.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let product = gap.products.first().copied().unwrap_or("");
    let title = match (companion, n) {
        (true, _) => format!(
            "{n} update(s) missing on {on} for {} separately installed product(s)",
            gap.products.len()
        ),
        (false, 1) => format!("{kb_list} missing on {on} ({product})"),
        (false, n) if n <= NAMED_IN_TITLE => {
            format!("{n} updates missing on {on} ({product}): {kb_list}")
        }
        (false, n) => format!("{n} updates missing on {on} ({product})"),
    };
    let mut detail = String::new();
    if companion {
        let _ = writeln!(
            detail,
            "Products the inventory shows installed (an installed update of each): {}",
            gap.products.join("; ")
        );
    }
    let _ = writeln!(detail, "{}.", capitalise(&counts.summary()));
    if let Some(esu) = counts.esu_sentence() {
        let _ = writeln!(detail, "{esu}");
    }
    // A short list is named here too, with what each closes; a long one
    // is left to the posture section and the items.
    if n <= NAMED_IN_TITLE {
        for (head, (_, folds, prods)) in first.iter().zip(&gap.heads) {
            let _ = write!(detail, "{}", head.kb);
            if let Some(t) = &head.title {
                let _ = write!(detail, " ({t})");
            }
            if companion && gap.products.len() > 1 {
                let _ = write!(detail, " for {}", prods.join("; "));
            }
            if let Some(d) = head.release_date {
                let _ = write!(detail, " released {d}");
            }
            if !folds.is_empty() {
                let list: Vec<String> = folds.iter().map(|k| k.to_string()).collect();
                let _ = write!(detail, "; supersedes {}", list.join(", "));
            }
            detail.push('\n');
        }
    }
    let folded: usize = gap.heads.iter().map(|h| h.1.len()).sum();
    let _ = write!(
        detail,
        "Each is the newest missing update of its chain{}; the security posture {} lists each with its title, classification, severity, CVEs and links.",
        match folded {
            0 => String::new(),
            n => format!(" and installing it closes {n} older missing one(s) it supersedes"),
        },
        match cluster {
            Some(c) => format!("of cluster {c}"),
            None => "of the node".to_string(),
        }
    );
    let mut fix = if n <= NAMED_IN_TITLE {
        format!("Install {kb_list} on {on}")
    } else {
        format!("Install the {n} updates on {on}")
    };
    fix.push_str(
        ", one drained node at a time: `lockstep plan --target secure` gives the order (servicing stack updates first).",
    );
    if counts.esu_only > 0 {
        let _ = write!(
            fix,
            " The {} ESU-only update(s) install only where an Extended Security Updates licence is activated.",
            counts.esu_only
        );
    }
    let items = first
        .iter()
        .zip(&gap.heads)
        .flat_map(|(head, (_, _, prods))| {
            let esu = lifecycle::esu_only(os, head.release_date);
            let listed: Vec<&str> = if prods.is_empty() {
                vec![product]
            } else {
                prods.clone()
            };
            listed.into_iter().map(move |p| Item {
                esu_only: esu,
                ..Item::update(head.kb).for_product(p)
            })
        })
        .collect();
    Finding {
        code: gap.code,
        severity,
        cluster: cluster.map(str::to_string),
        title,
        detail,
        evidence: members
            .iter()
            .filter_map(|&i| {
                nodes[i].os.version.as_ref().map(|v| Evidence {
                    source: (&v.source).into(),
                    note: format!("{}: OS version {}", nodes[i].name, v.value),
                })
            })
            .collect(),
        fix: Some(Fix {
            text: fix,
            commands: Vec::new(),
        }),
        nodes: names,
        known_issues: Vec::new(),
        items,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn head(kb: u32, d: jiff::civil::Date, sev: Option<&str>) -> ChainHead {
        serde_json::from_value(serde_json::json!({
            "kb": format!("KB{kb}"),
            "kind": null,
            "release_date": d.to_string(),
            "title": null,
            "severity": sev,
            "folds": [],
        }))
        .unwrap()
    }

    #[test]
    fn esu_only_updates_are_counted_apart() {
        let heads = [
            head(5073699, date(2026, 1, 13), Some("Important")),
            head(4534310, date(2020, 1, 14), Some("Critical")),
            head(4530734, date(2019, 12, 10), Some("Critical")),
            head(954430, date(2008, 11, 11), None),
        ];
        let c = GapCounts::of(&heads, Some("Windows Server 2008 R2 Service Pack 1"));
        assert_eq!(
            c.summary(),
            "4 missing: 3 for every customer (2 critical, 1 unrated), 1 ESU only"
        );
        assert_eq!(
            c.esu_sentence().unwrap(),
            "ESU only: released after Windows Server 2008 R2's extended support ended on 2020-01-14; only Extended Security Updates customers can install it."
        );
        let c = GapCounts::of(&heads[..1], Some("Windows Server 2008 R2 Service Pack 1"));
        assert_eq!(c.summary(), "1 missing: 1 ESU only");
        let c = GapCounts::of(&heads, Some("Windows Server 2022"));
        assert_eq!(
            c.summary(),
            "4 missing (2 critical, 1 important, 1 unrated)"
        );
        assert_eq!(c.esu_sentence(), None);
    }

    #[test]
    fn links() {
        assert_eq!(
            catalog_url(KbId(5033118)),
            "https://catalog.update.microsoft.com/Search.aspx?q=KB5033118"
        );
        assert_eq!(
            support_url(KbId(5033118)),
            "https://support.microsoft.com/help/5033118"
        );
    }
}
