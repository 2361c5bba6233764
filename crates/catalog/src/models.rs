//! Servicing models: how Microsoft services a family of updates, as data
//! (`servicing-models/*.toml` at the repository root, compiled in; the format
//! is in that folder's README).
//!
//! MSRC's supersedence lists break where a monthly document is missing and
//! WES-NG's stop at out-of-band releases, so a node would be told to install
//! nine old cumulative updates that Windows Update knows are contained in the
//! one it has. A model states the servicing rule once ("the newest cumulative
//! update covers every older one of the same product") and [`derive_edges`]
//! turns it into supersedence edges when the catalog is loaded. Derived
//! edges carry the model's id as their provenance (`model:<id>`), so reports
//! show them as derived and known issues can dispute them.

use crate::kind::UpdateKind;
use crate::known_issues::product_matches;
use jiff::civil::Date;
use lockstep_model::KbId;
use serde::Deserialize;
use std::path::Path;

/// Which updates of a chain kind take part in a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Members {
    All,
    /// Only the product's cumulative line (see the folder README).
    Cumulative,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    pub newer: Vec<UpdateKind>,
    pub older: Vec<UpdateKind>,
    pub members: Members,
    /// The edges count only when the covering update is installed.
    pub installed_only: bool,
    /// Only covering updates released on or after this date take part.
    #[serde(serialize_with = "lockstep_model::date_serde::option")]
    pub newer_since: Option<Date>,
    /// Only covered updates released before this date take part.
    #[serde(serialize_with = "lockstep_model::date_serde::option")]
    pub older_before: Option<Date>,
    /// Updates the rule never covers (each explained in the model's description).
    pub exclude: Vec<KbId>,
    /// A covered update needs a covering one released the same day (the
    /// Patch Tuesday rollup contains that day's IE cumulative update, not an
    /// out-of-band one).
    pub same_date: bool,
    /// Product patterns: an update also published for one of these takes
    /// no part (a Windows 10 cumulative update is never published for
    /// Windows 8.1; a Secure Boot update published for both is not one).
    pub not_also_for: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServicingModel {
    pub id: String,
    pub title: String,
    pub description: String,
    pub sources: Vec<String>,
    pub products: Vec<String>,
    #[serde(serialize_with = "lockstep_model::date_serde::option")]
    pub since: Option<Date>,
    pub rules: Vec<Rule>,
}

impl ServicingModel {
    pub fn applies_to(&self, product: &str) -> bool {
        self.products.iter().any(|p| product_matches(p, product))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    id: String,
    title: String,
    description: String,
    sources: Vec<String>,
    products: Vec<String>,
    since: Option<String>,
    rule: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    newer: Vec<String>,
    older: Vec<String>,
    members: Option<String>,
    installed_only: Option<bool>,
    newer_since: Option<String>,
    older_before: Option<String>,
    #[serde(default)]
    exclude: Vec<String>,
    same_date: Option<bool>,
    #[serde(default)]
    not_also_for: Vec<String>,
}

/// A problem in a model file, with the file and (where TOML says) the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ModelError {}

fn kinds(file: &str, field: &str, words: &[String]) -> Result<Vec<UpdateKind>, ModelError> {
    if words.is_empty() {
        return Err(ModelError {
            file: file.into(),
            line: None,
            message: format!("rule.{field} lists no kind"),
        });
    }
    words
        .iter()
        .map(|w| {
            UpdateKind::parse(w).ok_or_else(|| ModelError {
                file: file.into(),
                line: None,
                message: format!(
                    "rule.{field}: unknown kind {w:?} (expected one of security-update, monthly-rollup, security-only, hotpatch, servicing-stack, preview, setup-dynamic, dotnet, browser, other)"
                ),
            })
        })
        .collect()
}

/// Parses one model file; `file` names it in errors and must be `<id>.toml`.
pub fn parse_model(file: &str, text: &str) -> Result<ServicingModel, ModelError> {
    let err = |line: Option<usize>, message: String| ModelError {
        file: file.into(),
        line,
        message,
    };
    let raw: ModelFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text.get(..s.start).unwrap_or("").lines().count().max(1));
        err(line, e.message().to_string())
    })?;
    let stem = Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".toml"))
        .unwrap_or(file);
    if raw.id != stem {
        return Err(err(
            None,
            format!("id {:?} must equal the file name {stem:?}", raw.id),
        ));
    }
    if raw.sources.is_empty() {
        return Err(err(None, "sources: at least one source is required".into()));
    }
    if raw.products.iter().all(|p| p.trim().is_empty()) {
        return Err(err(
            None,
            "products: at least one product pattern is required".into(),
        ));
    }
    if raw.rule.is_empty() {
        return Err(err(None, "at least one [[rule]] is required".into()));
    }
    let date = |field: &str, v: Option<&str>| -> Result<Option<Date>, ModelError> {
        match v {
            None => Ok(None),
            Some(s) => s.parse::<Date>().map(Some).map_err(|e| {
                err(
                    None,
                    format!("{field}: expected a date YYYY-MM-DD, found {s:?} ({e})"),
                )
            }),
        }
    };
    let since = date("since", raw.since.as_deref())?;
    let mut rules = Vec::new();
    for r in &raw.rule {
        let members = match r.members.as_deref() {
            None | Some("all") => Members::All,
            Some("cumulative") => Members::Cumulative,
            Some(other) => {
                return Err(err(
                    None,
                    format!("rule.members: expected \"all\" or \"cumulative\", found {other:?}"),
                ));
            }
        };
        let exclude = r
            .exclude
            .iter()
            .map(|k| {
                k.parse::<KbId>().map_err(|_| {
                    err(
                        None,
                        format!("rule.exclude: expected a KB number, found {k:?}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        rules.push(Rule {
            newer: kinds(file, "newer", &r.newer)?,
            older: kinds(file, "older", &r.older)?,
            members,
            installed_only: r.installed_only.unwrap_or(false),
            newer_since: date("rule.newer_since", r.newer_since.as_deref())?,
            older_before: date("rule.older_before", r.older_before.as_deref())?,
            exclude,
            same_date: r.same_date.unwrap_or(false),
            not_also_for: r.not_also_for.clone(),
        });
    }
    Ok(ServicingModel {
        id: raw.id,
        title: raw.title,
        description: raw.description.trim().to_string(),
        sources: raw.sources,
        products: raw.products,
        since,
        rules,
    })
}

include!(concat!(env!("OUT_DIR"), "/servicing_models_embedded.rs"));

/// The set of models in force.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServicingModels {
    pub models: Vec<ServicingModel>,
}

impl ServicingModels {
    /// The models compiled into the binary. A broken built-in file is a bug
    /// caught by its generated test; here it is left out rather than panic.
    pub fn builtin() -> ServicingModels {
        ServicingModels {
            models: EMBEDDED_MODELS
                .iter()
                .filter_map(|(name, text)| parse_model(name, text).ok())
                .collect(),
        }
    }

    /// Every built-in file parsed, with the errors (for `lint` and tests).
    pub fn builtin_checked() -> Result<ServicingModels, Vec<ModelError>> {
        let mut models = Vec::new();
        let mut errors = Vec::new();
        for (name, text) in EMBEDDED_MODELS {
            match parse_model(name, text) {
                Ok(m) => models.push(m),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(ServicingModels { models })
        } else {
            Err(errors)
        }
    }

    pub fn get(&self, id: &str) -> Option<&ServicingModel> {
        self.models.iter().find(|m| m.id == id)
    }
}

/// One update of a product, as a rule sees it.
#[derive(Debug, Clone)]
pub struct ProductUpdate {
    pub kb: KbId,
    pub kind: UpdateKind,
    pub date: Option<Date>,
    /// The updates of the product a source (not a model) lists a
    /// supersedence edge with, either way.
    pub partners: Vec<KbId>,
    pub has_fixed_build: bool,
    pub cve_count: usize,
    /// Every servicing product the update is published for.
    pub products: Vec<String>,
}

/// A derived edge: `newer` covers `older` on the product, by `rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerivedEdge {
    pub newer: KbId,
    pub older: KbId,
    pub installed_only: bool,
}

/// Whether an update looks like a cumulative update by itself: MSRC gives it
/// a fixed build, or it fixes three or more CVEs.
fn is_big(u: &ProductUpdate) -> bool {
    u.has_fixed_build || u.cve_count >= 3
}

/// The cumulative-line test applies to security updates only: previews,
/// rollups and the other kinds are what their kind says. A small update
/// belongs to the line when a source links it to a big one (an out-of-band
/// cumulative update with one CVE), not when it is only linked to other
/// small ones (a Secure Boot DBX update superseding the previous one).
fn is_member(u: &ProductUpdate, members: Members, big: &std::collections::HashSet<KbId>) -> bool {
    match members {
        Members::All => true,
        Members::Cumulative => {
            u.kind != UpdateKind::Cumulative
                || is_big(u)
                || u.partners.iter().any(|p| big.contains(p))
        }
    }
}

/// The edges one model derives on one product's updates.
pub fn derive_edges(model: &ServicingModel, updates: &[ProductUpdate]) -> Vec<DerivedEdge> {
    let mut out = Vec::new();
    let big: std::collections::HashSet<KbId> = updates
        .iter()
        .filter(|u| u.kind == UpdateKind::Cumulative && is_big(u))
        .map(|u| u.kb)
        .collect();
    for rule in &model.rules {
        let in_rule = |u: &&ProductUpdate| {
            u.date.is_some_and(|d| model.since.is_none_or(|s| d >= s))
                && (rule.newer.contains(&u.kind) || rule.older.contains(&u.kind))
        };
        let mut pool: Vec<&ProductUpdate> = updates
            .iter()
            .filter(in_rule)
            .filter(|u| !rule.newer.contains(&u.kind) || is_member(u, rule.members, &big))
            .filter(|u| !rule.exclude.contains(&u.kb))
            .filter(|u| {
                !u.products.iter().any(|p| {
                    rule.not_also_for
                        .iter()
                        .any(|pattern| product_matches(pattern, p))
                })
            })
            .collect();
        if rule.members == Members::Cumulative {
            drop_parallel_packages(&mut pool);
        }
        pool.sort_by_key(|u| (u.date, u.kb));
        let chain: Vec<&ProductUpdate> = pool
            .iter()
            .copied()
            .filter(|u| rule.newer.contains(&u.kind))
            .filter(|u| rule.newer_since.is_none_or(|s| u.date >= Some(s)))
            .collect();
        let older = pool.iter().filter(|u| {
            rule.older.contains(&u.kind) && rule.older_before.is_none_or(|b| u.date < Some(b))
        });
        for o in older {
            let covering = if rule.same_date {
                chain.iter().find(|n| n.date == o.date && n.kb != o.kb)
            } else if rule.newer.contains(&o.kind) {
                // The next one in release order.
                chain.iter().find(|n| (n.date, n.kb) > (o.date, o.kb))
            } else {
                chain.iter().find(|n| n.date >= o.date)
            };
            if let Some(n) = covering
                && n.kb != o.kb
            {
                out.push(DerivedEdge {
                    newer: n.kb,
                    older: o.kb,
                    installed_only: rule.installed_only,
                });
            }
        }
    }
    out
}

/// Leaves out a chain-kind update with no source edge when another update of
/// the same month is linked: a parallel package of that month (a hotpatch,
/// a standalone fix), not the month's cumulative update.
fn drop_parallel_packages(pool: &mut Vec<&ProductUpdate>) {
    let linked_months: std::collections::HashSet<(i16, i8)> = pool
        .iter()
        .filter(|u| !u.partners.is_empty() && u.kind == UpdateKind::Cumulative)
        .filter_map(|u| u.date.map(|d| (d.year(), d.month())))
        .collect();
    pool.retain(|u| {
        u.kind != UpdateKind::Cumulative
            || !u.partners.is_empty()
            || u.has_fixed_build
            || !u
                .date
                .is_some_and(|d| linked_months.contains(&(d.year(), d.month())))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `linked`: a source edge to an update of the line (KB 1, a big one).
    fn u(kb: u32, kind: UpdateKind, date: &str, linked: bool, cves: usize) -> ProductUpdate {
        ProductUpdate {
            kb: KbId(kb),
            kind,
            date: Some(date.parse().unwrap()),
            partners: if linked {
                vec![KbId(4471324)]
            } else {
                Vec::new()
            },
            has_fixed_build: false,
            cve_count: cves,
            products: vec!["Windows 10 Version 1803".into()],
        }
    }

    fn edges(model: &ServicingModel, updates: &[ProductUpdate]) -> Vec<(u32, u32, bool)> {
        let mut e: Vec<_> = derive_edges(model, updates)
            .into_iter()
            .map(|e| (e.newer.0, e.older.0, e.installed_only))
            .collect();
        e.sort();
        e
    }

    #[test]
    fn every_builtin_model_parses() {
        let models = ServicingModels::builtin_checked().unwrap();
        let mut ids: Vec<&str> = models.models.iter().map(|m| m.id.as_str()).collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                "dotnet-rollup",
                "flash-player",
                "hotpatch",
                "internet-explorer-cumulative",
                "servicing-stack",
                "windows-cumulative",
                "windows-monthly-rollup",
                "windows-rollup-backfill",
                "windows-server-2008-rollup"
            ]
        );
    }

    #[test]
    fn cumulative_chain_bridges_a_missing_month_and_covers_previews() {
        use UpdateKind::*;
        let m = ServicingModels::builtin();
        let model = m.get("windows-cumulative").unwrap();
        assert!(model.applies_to("Windows 10 Version 1803"));
        assert!(model.applies_to("Windows Server 2022, 23H2 Edition"));
        assert!(!model.applies_to("Windows Server 2012 R2"));
        // 1803: Dec 2018, the Dec 19 out-of-band update, Jan 2019, Feb
        // 2019, the Feb 20 preview (newest: it covers Feb's CU), a
        // one-CVE standalone update with no edge (stays apart), and an
        // unlinked five-CVE update in the month of Jan's CU (a parallel
        // package: left out).
        let updates = [
            u(4471324, Cumulative, "2018-12-11", true, 12),
            u(4483234, Cumulative, "2018-12-19", true, 1),
            u(4480966, Cumulative, "2019-01-08", true, 26),
            u(4487017, Cumulative, "2019-02-12", true, 29),
            u(4487029, Preview, "2019-02-20", false, 1),
            u(4524244, Cumulative, "2020-02-11", false, 1),
            u(4480999, Cumulative, "2019-01-08", false, 5),
            // A Secure Boot update linked only to the previous one: apart.
            ProductUpdate {
                partners: vec![KbId(4535680)],
                ..u(5012171, Cumulative, "2019-01-20", false, 1)
            },
            // A Secure Boot update with five CVEs, also for Windows 8.1: apart.
            ProductUpdate {
                products: vec!["Windows 10 Version 1803".into(), "Windows 8.1".into()],
                ..u(5012170, Cumulative, "2019-01-21", true, 5)
            },
            u(4535680, Cumulative, "2018-02-11", false, 1),
        ];
        assert_eq!(
            edges(model, &updates),
            [
                (4480966, 4483234, false),
                (4483234, 4471324, false),
                (4487017, 4480966, false),
                (4487029, 4487017, false),
            ]
        );
        // A March CU covers the February preview.
        let mut more = updates.to_vec();
        more.push(u(4489868, Cumulative, "2019-03-12", true, 33));
        assert!(edges(model, &more).contains(&(4489868, 4487029, false)));
    }

    #[test]
    fn rollup_covers_security_only_of_its_month_and_before_from_since() {
        use UpdateKind::*;
        let m = ServicingModels::builtin();
        let model = m.get("windows-monthly-rollup").unwrap();
        let updates = [
            u(3185330, MonthlyRollup, "2016-10-11", false, 30),
            u(3192391, SecurityOnly, "2016-10-11", false, 30),
            u(3197868, MonthlyRollup, "2016-11-08", false, 30),
            u(3197867, SecurityOnly, "2016-11-08", false, 30),
            // Before the model's since date: no part.
            u(3172605, MonthlyRollup, "2016-09-20", false, 1),
        ];
        assert_eq!(
            edges(model, &updates),
            [
                (3185330, 3192391, false),
                (3197868, 3185330, false),
                (3197868, 3197867, false),
            ]
        );
    }

    #[test]
    fn an_installed_cumulative_update_covers_older_servicing_stacks_only_when_installed() {
        use UpdateKind::*;
        let m = ServicingModels::builtin();
        let model = m.get("servicing-stack").unwrap();
        let updates = [
            u(4465663, ServicingStack, "2018-11-13", false, 1),
            u(4485449, ServicingStack, "2019-02-12", false, 0),
            u(4487017, Cumulative, "2019-02-12", true, 29),
        ];
        assert_eq!(
            edges(model, &updates),
            [
                (4485449, 4465663, false),
                (4487017, 4465663, true),
                (4487017, 4485449, true),
            ]
        );
    }

    #[test]
    fn unknown_keys_kinds_and_ids_are_rejected_with_the_file() {
        let ok = "id = \"x\"\ntitle = \"t\"\ndescription = \"d\"\nsources = [\"s\"]\nproducts = [\"Windows 10\"]\n[[rule]]\nnewer = [\"security-update\"]\nolder = [\"security-update\"]\n";
        assert!(parse_model("x.toml", ok).is_ok());
        let e = parse_model("y.toml", ok).unwrap_err();
        assert_eq!(
            e.to_string(),
            "y.toml: id \"x\" must equal the file name \"y\""
        );
        let e = parse_model("x.toml", &format!("{ok}colour = 1\n")).unwrap_err();
        assert_eq!(e.file, "x.toml");
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        let e = parse_model(
            "x.toml",
            &ok.replace("older = [\"security-update\"]", "older = [\"rollup\"]"),
        )
        .unwrap_err();
        assert!(
            e.message.starts_with("rule.older: unknown kind \"rollup\""),
            "{e}"
        );
    }
}
