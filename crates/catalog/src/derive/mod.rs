//! What the catalog derives from the stored facts after every import: one
//! `updates` row per KB with its kind, title, release date (and the rule and
//! document it came from), worst severity and CVEs, so that loading needs no
//! joins.
//!
//! * Kinds: [`crate::kind::infer_kind`] from SubTypes, titles and products;
//!   where the data has no SubType at all (WES-NG), a hotpatch is recognised
//!   by the `hotpatch` servicing model's rule (see [`infer_hotpatches`]).
//! * Dates: [`dates`].

pub mod dates;

use crate::batch::{HashMap, Listing};
use crate::error::CatalogError;
use crate::kind::{UpdateKind, infer_kind};
use crate::models::ServicingModels;
use dates::{Dated, DocListing, apply_supersedence_bound, date_of};
use jiff::civil::Date;
use lockstep_model::{KbId, KbMap};
use rusqlite::{Connection, params};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

#[derive(Default)]
struct Acc {
    subtypes: Vec<String>,
    products: Vec<String>,
    /// Servicing product ids the KB ships for.
    product_ids: Vec<i64>,
    titles: Vec<String>,
    cvrf: Vec<DocListing>,
    wesng_date: Option<Date>,
}

fn date(s: Option<String>) -> Option<Date> {
    s.and_then(|d| d.parse().ok())
}

/// What the store says of each KB: its SubTypes, products, titles, how the
/// CVRF documents list it and WES-NG's date.
fn kb_facts(c: &Connection, path: &Path) -> Result<HashMap<u32, Acc>, CatalogError> {
    let e = || CatalogError::sqlite(path);
    let mut acc: HashMap<u32, Acc> = HashMap::default();
    {
        let mut stmt = c
            .prepare(
                "SELECT DISTINCT up.kb, up.subtype, p.name, p.id FROM update_products up
                 JOIN raw_products r ON r.id = up.raw_product_id JOIN products p ON p.id = r.product_id",
            )
            .map_err(e())?;
        let mut rows = stmt.query([]).map_err(e())?;
        while let Some(r) = rows.next().map_err(e())? {
            let kb: u32 = r.get(0).map_err(e())?;
            let a = acc.entry(kb).or_default();
            if let Some(s) = r.get::<_, Option<String>>(1).map_err(e())?
                && !a.subtypes.contains(&s)
            {
                a.subtypes.push(s);
            }
            let p: String = r.get(2).map_err(e())?;
            if !a.products.contains(&p) {
                a.products.push(p);
            }
            let pid: i64 = r.get(3).map_err(e())?;
            if !a.product_ids.contains(&pid) {
                a.product_ids.push(pid);
            }
        }
    }
    {
        let mut stmt = c
            .prepare(
                "SELECT ud.kb, ud.title, ud.date_estimate, d.source_kind, d.initial_release, d.name,
                        ud.native, ud.clean, ud.native_date, ud.clean_date
                 FROM update_documents ud JOIN documents d ON d.id = ud.document_id",
            )
            .map_err(e())?;
        let mut rows = stmt.query([]).map_err(e())?;
        while let Some(r) = rows.next().map_err(e())? {
            let kb: u32 = r.get(0).map_err(e())?;
            let a = acc.entry(kb).or_default();
            if let Some(t) = r.get::<_, Option<String>>(1).map_err(e())? {
                a.titles.push(t);
            }
            let kind: String = r.get(3).map_err(e())?;
            if kind == "cvrf" {
                let Some(released) = date(r.get(4).map_err(e())?) else {
                    continue;
                };
                a.cvrf.push(DocListing {
                    document: r.get(5).map_err(e())?,
                    released,
                    listing: Listing {
                        native: r.get::<_, Option<u32>>(6).map_err(e())?.unwrap_or(0),
                        clean: r.get::<_, Option<u32>>(7).map_err(e())?.unwrap_or(0),
                        native_date: date(r.get(8).map_err(e())?),
                        clean_date: date(r.get(9).map_err(e())?),
                    },
                });
            } else if let Some(d) = date(r.get(2).map_err(e())?)
                && a.wesng_date.is_none_or(|old| d < old)
            {
                a.wesng_date = Some(d);
            }
        }
    }
    Ok(acc)
}

/// KB → ("CVE-…:rank CVE-…:rank", worst rank).
fn cve_words(c: &Connection, path: &Path) -> Result<HashMap<u32, (String, i64)>, CatalogError> {
    let e = || CatalogError::sqlite(path);
    let mut cves: HashMap<u32, (String, i64)> = HashMap::default();
    {
        let mut stmt = c
            .prepare("SELECT kb, cve, max(severity) FROM cves GROUP BY kb, cve")
            .map_err(e())?;
        let mut rows = stmt.query([]).map_err(e())?;
        while let Some(r) = rows.next().map_err(e())? {
            let kb: u32 = r.get(0).map_err(e())?;
            let cve: String = r.get(1).map_err(e())?;
            let rank: i64 = r.get(2).map_err(e())?;
            let entry = cves.entry(kb).or_default();
            if !entry.0.is_empty() {
                entry.0.push(' ');
            }
            entry.0.push_str(&cve);
            entry.0.push(':');
            entry.0.push_str(&rank.to_string());
            entry.1 = entry.1.max(rank);
        }
    }
    Ok(cves)
}

/// Recomputes the `updates` table (the caller holds the transaction).
pub(crate) fn derive(c: &Connection, path: &Path) -> Result<(), CatalogError> {
    let e = || CatalogError::sqlite(path);
    let acc = kb_facts(c, path)?;
    let mut cves = cve_words(c, path)?;
    // Supersedence as the sources give it: (newer, older, servicing product).
    let mut edges: Vec<(u32, u32, i64)> = {
        let mut stmt = c
            .prepare(
                "SELECT DISTINCT s.newer, s.older, r.product_id FROM supersedence s
                 JOIN raw_products r ON r.id = s.raw_product_id",
            )
            .map_err(e())?;
        let it = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(e())?;
        it.collect::<Result<_, _>>().map_err(e())?
    };
    edges.sort_unstable();

    let mut kinds: KbMap<UpdateKind> = KbMap::default();
    let mut dated: KbMap<Dated> = KbMap::default();
    let mut wesng: KbMap<Date> = KbMap::default();
    for (&kb, a) in &acc {
        let kind = infer_kind(
            a.subtypes.iter().map(String::as_str),
            a.titles.iter().map(String::as_str),
            a.products.iter().map(String::as_str),
        );
        kinds.insert(KbId(kb), kind);
        if let Some(d) = date_of(&a.cvrf, a.wesng_date) {
            dated.insert(KbId(kb), d);
        }
        if let Some(w) = a.wesng_date {
            wesng.insert(KbId(kb), w);
        }
    }
    let mut pairs: Vec<(KbId, KbId)> = edges
        .iter()
        .map(|&(n, o, _)| (KbId(n), KbId(o)))
        .filter(|(n, o)| n != o)
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    // Oldest first, so that a chain settles in one pass.
    pairs.sort_by_key(|(_, o)| dated.get(o).map(|d| d.date));
    apply_supersedence_bound(&mut dated, &pairs, &wesng);

    let notes = infer_hotpatches(c, path, &acc, &edges, &dated, &mut kinds)?;

    c.execute("DELETE FROM updates", []).map_err(e())?;
    let mut stmt = c
        .prepare(
            "INSERT INTO updates (kb, kind, title, release_date, release_date_source, max_severity, cves, release_document, kind_note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(e())?;
    let mut kbs: Vec<_> = acc.into_iter().collect();
    kbs.sort_unstable_by_key(|(kb, _)| *kb);
    for (kb, a) in kbs {
        let id = KbId(kb);
        let kind = kinds.get(&id).copied().unwrap_or(UpdateKind::Other);
        let d = dated.get(&id);
        let (cve_text, worst) = cves.remove(&kb).unwrap_or_default();
        stmt.execute(params![
            kb,
            kind.as_str(),
            a.titles.first(),
            d.map(|d| d.date.to_string()),
            d.map(|d| d.rule.as_str()),
            worst,
            (!cve_text.is_empty()).then_some(cve_text),
            d.and_then(|d| d.document.clone()),
            notes.get(&id),
        ])
        .map_err(e())?;
    }
    Ok(())
}

/// The `hotpatch` model's recognition rule for data without SubTypes
/// (WES-NG): on a product the model names, an update with no SubType, no
/// supersedence edge on the product, released in the month of a linked
/// security update of the product that also fixes at least four fifths of its
/// CVEs, is that month's hotpatch (KB5033464 beside KB5033118, December 2023;
/// KB5026456 beside KB5026370 in May 2023 lists one CVE the cumulative update
/// does not). A standalone update of the month (a Secure Boot fix) shares
/// none. Returns the note saying so per KB.
fn infer_hotpatches(
    c: &Connection,
    path: &Path,
    acc: &HashMap<u32, Acc>,
    edges: &[(u32, u32, i64)],
    dated: &KbMap<Dated>,
    kinds: &mut KbMap<UpdateKind>,
) -> Result<KbMap<String>, CatalogError> {
    let e = || CatalogError::sqlite(path);
    let mut notes = KbMap::default();
    let models = ServicingModels::builtin();
    let Some(model) = models.get("hotpatch") else {
        return Ok(notes);
    };
    let products: Vec<(i64, String)> = {
        let mut stmt = c.prepare("SELECT id, name FROM products").map_err(e())?;
        let it = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(e())?;
        it.collect::<Result<Vec<_>, _>>()
            .map_err(e())?
            .into_iter()
            .filter(|(_, name): &(i64, String)| model.applies_to(name))
            .collect()
    };
    if products.is_empty() {
        return Ok(notes);
    }
    let linked: HashSet<(u32, i64)> = edges
        .iter()
        .flat_map(|&(n, o, p)| [(n, p), (o, p)])
        .collect();
    for (pid, pname) in &products {
        // Security updates of this product, by month.
        let mut by_month: std::collections::BTreeMap<(i16, i8), Vec<u32>> = Default::default();
        for (&kb, a) in acc {
            if a.product_ids.contains(pid)
                && kinds.get(&KbId(kb)) == Some(&UpdateKind::Cumulative)
                && let Some(d) = dated.get(&KbId(kb))
            {
                by_month
                    .entry((d.date.year(), d.date.month()))
                    .or_default()
                    .push(kb);
            }
        }
        for ((year, month), kbs) in by_month {
            let (cumulative, lone): (Vec<u32>, Vec<u32>) =
                kbs.iter().partition(|kb| linked.contains(&(**kb, *pid)));
            let lone: Vec<u32> = lone
                .into_iter()
                .filter(|kb| acc.get(kb).is_some_and(|a| a.subtypes.is_empty()))
                .collect();
            if cumulative.is_empty() || lone.is_empty() {
                continue;
            }
            let cve_set = |kb: u32| -> Result<BTreeSet<String>, CatalogError> {
                let mut stmt = c
                    .prepare_cached("SELECT cve FROM cves WHERE kb = ?1 AND product_id = ?2")
                    .map_err(e())?;
                let it = stmt
                    .query_map(params![kb, pid], |r| r.get::<_, String>(0))
                    .map_err(e())?;
                it.collect::<Result<_, _>>().map_err(e())
            };
            for kb in lone {
                let own = cve_set(kb)?;
                if own.is_empty() {
                    continue;
                }
                for &cu in &cumulative {
                    let shared = own.intersection(&cve_set(cu)?).count();
                    if shared * 5 >= own.len() * 4 {
                        kinds.insert(KbId(kb), UpdateKind::Hotpatch);
                        notes.insert(
                            KbId(kb),
                            format!(
                                "hotpatch by servicing model `hotpatch`: released for {pname} in {year}-{month:02} beside KB{cu} with no supersedence edge and {shared} of its {} CVEs in common (the source gives no SubType)",
                                own.len()
                            ),
                        );
                        break;
                    }
                }
            }
        }
    }
    Ok(notes)
}
