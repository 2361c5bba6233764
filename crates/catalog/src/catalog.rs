//! The in-memory catalog the check stage queries: loaded from the store in one
//! pass, indexed by servicing product and KB.

use crate::batch::HashMap;
use crate::batch::{Severity, SourceKind};
use crate::error::CatalogError;
use crate::kind::UpdateKind;
use crate::models::{ProductUpdate, ServicingModel, ServicingModels, derive_edges};
use crate::product::Architecture;
use crate::store::{LoadedFix, LoadedUpdate, Store};
use lockstep_model::{KbId, OsInfo, WinVersion};
use serde::Serialize;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};

/// A servicing product (see [`crate::product`]), an index into the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ProductId(pub u32);

/// Which source said something: the kind and the document (`2023-Dec`,
/// `CVEs_20260628.csv`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Provenance {
    pub kind: SourceKind,
    pub document: String,
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.document)
    }
}

/// "`newer` supersedes `older` on `product`", with every source that says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub newer: KbId,
    pub older: KbId,
    pub product: ProductId,
    pub sources: Vec<Provenance>,
}

/// One product an update ships for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateProduct {
    pub product: ProductId,
    /// Architectures of the raw product names (empty when the name has none,
    /// e.g. "Windows Server 2022").
    pub architectures: Vec<Architecture>,
    /// The highest FixedBuild any source gives for this product.
    pub fixed_build: Option<WinVersion>,
    /// MSRC SubType (`Security Update`, `Security Hotpatch Update`, ...).
    pub subtype: Option<String>,
    /// `Yes` / `No` / `Maybe` as MSRC wrote it.
    pub restart_required: Option<String>,
    pub sources: Vec<Provenance>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CveRef {
    pub id: String,
    /// Worst severity over the products the KB fixes it for.
    pub severity: Severity,
}

/// Where a release date came from: the rule of [`crate::derive::dates`].
pub use crate::derive::dates::DateRule as ReleaseDateSource;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Update {
    pub kb: KbId,
    pub kind: UpdateKind,
    pub release_date: Option<jiff::civil::Date>,
    pub release_date_source: Option<ReleaseDateSource>,
    /// The CVRF document the release date comes from.
    pub release_document: Option<String>,
    /// Why the kind was inferred, when a servicing model inferred it.
    pub kind_note: Option<String>,
    pub title: Option<String>,
    pub products: Vec<UpdateProduct>,
    pub cves: Vec<CveRef>,
    pub max_severity: Severity,
}

impl Update {
    pub fn product(&self, product: ProductId) -> Option<&UpdateProduct> {
        self.products.iter().find(|p| p.product == product)
    }
}

#[derive(Debug, Default)]
struct ProductIndex {
    updates: Vec<KbId>,
    supersedes: HashMap<KbId, Vec<Edge>>,
    superseded_by: HashMap<KbId, Vec<Edge>>,
    /// Edges that count only when the newer update is installed (a servicing
    /// model's `installed_only` rule), by newer and by older KB.
    covers_installed: HashMap<KbId, Vec<Edge>>,
    covered_installed_by: HashMap<KbId, Vec<Edge>>,
}

/// The whole catalog in memory.
#[derive(Debug)]
pub struct Catalog {
    products: Vec<String>,
    product_index: HashMap<String, ProductId>,
    updates: HashMap<KbId, Update>,
    per_product: Vec<ProductIndex>,
    documents: Vec<Provenance>,
}

const NO_EDGES: &[Edge] = &[];

impl Catalog {
    /// `$XDG_DATA_HOME/lockstep/catalog.sqlite3`, falling back to
    /// `~/.local/share/lockstep/`; on Windows `%LOCALAPPDATA%\lockstep\`.
    pub fn default_path() -> PathBuf {
        data_dir().join("catalog.sqlite3")
    }

    /// Opens the store at `path` and loads it; an error if the file does not exist.
    pub fn open(path: &Path) -> Result<Catalog, CatalogError> {
        let store = Store::open(path)?;
        Catalog::from_store(&store)
    }

    /// Loads the store and derives the built-in servicing models' edges.
    pub fn from_store(store: &Store) -> Result<Catalog, CatalogError> {
        Catalog::from_store_with(store, &ServicingModels::builtin())
    }

    pub fn from_store_with(
        store: &Store,
        models: &ServicingModels,
    ) -> Result<Catalog, CatalogError> {
        let loaded = store.load()?;
        let mut products = Vec::with_capacity(loaded.products.len());
        let mut db_product: HashMap<i64, ProductId> = HashMap::default();
        for (id, name) in loaded.products {
            db_product.insert(id, ProductId(products.len() as u32));
            products.push(name);
        }
        let product_index = products
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), ProductId(i as u32)))
            .collect();
        let raw: HashMap<i64, (ProductId, Option<Architecture>)> = loaded
            .raw_products
            .into_iter()
            .filter_map(|(id, pid, arch)| {
                let p = *db_product.get(&pid)?;
                Some((id, (p, arch.as_deref().and_then(Architecture::parse))))
            })
            .collect();
        let documents: Vec<Provenance> = Vec::new();
        let mut doc_index: HashMap<i64, usize> = HashMap::default();
        let mut documents = documents;
        for (id, kind, name) in loaded.documents {
            doc_index.insert(id, documents.len());
            documents.push(Provenance {
                kind: SourceKind::parse(&kind).unwrap_or(SourceKind::Cvrf),
                document: name,
            });
        }
        let prov = |doc: i64| doc_index.get(&doc).and_then(|i| documents.get(*i)).cloned();

        let mut updates: HashMap<KbId, Update> = HashMap::default();
        updates.reserve(loaded.updates.len());
        for lu in loaded.updates {
            updates.insert(KbId(lu.kb), update_of(lu));
        }
        let mut per_product: Vec<ProductIndex> = (0..products.len())
            .map(|_| ProductIndex::default())
            .collect();
        attach_fixes(
            &loaded.update_products,
            &loaded.words,
            &raw,
            &prov,
            &mut updates,
            &mut per_product,
        );
        for u in updates.values_mut() {
            u.products.sort_by_key(|p| p.product);
            for p in &mut u.products {
                p.architectures.sort();
                p.sources.sort();
            }
        }
        for pi in &mut per_product {
            pi.updates.sort();
            pi.updates.dedup();
        }
        // Edges: one per (product, newer, older), sources merged. Rows are per
        // raw product; sorting groups the raw variants of one product.
        let mut sourced: std::collections::BTreeMap<(ProductId, KbId, KbId), Vec<Provenance>> =
            Default::default();
        for (newer, older, raw_id, doc) in &loaded.edges {
            let Some((product, _)) = raw.get(raw_id).copied() else {
                continue;
            };
            let sources = sourced
                .entry((product, KbId(*newer), KbId(*older)))
                .or_default();
            if let Some(pv) = prov(*doc)
                && !sources.contains(&pv)
            {
                sources.push(pv);
            }
        }
        let mut installed_only: std::collections::BTreeMap<
            (ProductId, KbId, KbId),
            Vec<Provenance>,
        > = Default::default();
        derive_model_edges(
            models,
            &products,
            &per_product,
            &updates,
            &mut sourced,
            &mut installed_only,
        );
        index_edges([(sourced, false), (installed_only, true)], &mut per_product);
        Ok(Catalog {
            products,
            product_index,
            updates,
            per_product,
            documents,
        })
    }

    /// The servicing product a node runs, from its OS caption (or installation
    /// type), build and service pack, through the one table of Windows
    /// releases (`lockstep_model::windows`).
    pub fn product_for_os(&self, os: &OsInfo) -> Option<ProductId> {
        let build = os.build()?;
        let caption = os
            .caption
            .as_ref()
            .map(|c| c.value.as_str())
            .or(os.installation_type.as_deref());
        let name =
            lockstep_model::windows::product_for(caption, build, os.service_pack.as_deref())?;
        self.product_by_name(&name)
    }

    /// The product's servicing name; empty for an id from another catalog.
    pub fn product_name(&self, id: ProductId) -> &str {
        self.products
            .get(id.0 as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn product_by_name(&self, servicing_name: &str) -> Option<ProductId> {
        self.product_index.get(servicing_name).copied()
    }

    pub fn products(&self) -> impl Iterator<Item = (ProductId, &str)> + '_ {
        self.products
            .iter()
            .enumerate()
            .map(|(i, n)| (ProductId(i as u32), n.as_str()))
    }

    pub fn update(&self, kb: KbId) -> Option<&Update> {
        self.updates.get(&kb)
    }

    pub fn updates(&self) -> impl Iterator<Item = &Update> + '_ {
        self.updates.values()
    }

    pub fn documents(&self) -> &[Provenance] {
        &self.documents
    }

    pub fn is_published_for(&self, kb: KbId, product: ProductId) -> bool {
        self.updates
            .get(&kb)
            .is_some_and(|u| u.products.iter().any(|p| p.product == product))
    }

    /// Edges `kb → older` on `product` (what `kb` directly supersedes).
    pub fn supersedes(&self, product: ProductId, kb: KbId) -> &[Edge] {
        self.per_product
            .get(product.0 as usize)
            .and_then(|p| p.supersedes.get(&kb))
            .map(Vec::as_slice)
            .unwrap_or(NO_EDGES)
    }

    /// Edges `newer → kb` on `product` (what directly supersedes `kb`).
    pub fn superseded_by(&self, product: ProductId, kb: KbId) -> &[Edge] {
        self.per_product
            .get(product.0 as usize)
            .and_then(|p| p.superseded_by.get(&kb))
            .map(Vec::as_slice)
            .unwrap_or(NO_EDGES)
    }

    /// KBs published for `product`, ascending.
    pub fn updates_for(&self, product: ProductId) -> impl Iterator<Item = KbId> + '_ {
        self.per_product
            .get(product.0 as usize)
            .map(|p| p.updates.as_slice())
            .unwrap_or(&[])
            .iter()
            .copied()
    }

    /// Edges `kb → older` on `product` that count only when `kb` is installed.
    pub fn covers_when_installed(&self, product: ProductId, kb: KbId) -> &[Edge] {
        self.per_product
            .get(product.0 as usize)
            .and_then(|p| p.covers_installed.get(&kb))
            .map(Vec::as_slice)
            .unwrap_or(NO_EDGES)
    }

    /// Edges `newer → kb` on `product` that count only when `newer` is installed.
    pub fn covered_when_installed_by(&self, product: ProductId, kb: KbId) -> &[Edge] {
        self.per_product
            .get(product.0 as usize)
            .and_then(|p| p.covered_installed_by.get(&kb))
            .map(Vec::as_slice)
            .unwrap_or(NO_EDGES)
    }

    /// Every KB that has edges on `product` (published for it or only named in an edge).
    pub fn kbs_with_edges(&self, product: ProductId) -> Vec<KbId> {
        let Some(p) = self.per_product.get(product.0 as usize) else {
            return Vec::new();
        };
        let mut out: Vec<KbId> = p
            .supersedes
            .keys()
            .chain(p.superseded_by.keys())
            .copied()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The KB's release date: the month's CVRF document date when an MSRC
    /// document lists it, else the WES-NG estimate (most common DatePosted).
    pub fn release_date(&self, kb: KbId) -> Option<jiff::civil::Date> {
        self.updates.get(&kb).and_then(|u| u.release_date)
    }

    /// Every edge reachable from `kb` towards older updates on `product`
    /// (the whole chain below it), breadth first.
    pub fn supersedes_chain(&self, product: ProductId, kb: KbId) -> Vec<&Edge> {
        self.walk(kb, |c, k| c.supersedes(product, k), |e| e.older)
    }

    /// Every edge reachable from `kb` towards newer updates on `product`.
    pub fn superseded_by_chain(&self, product: ProductId, kb: KbId) -> Vec<&Edge> {
        self.walk(kb, |c, k| c.superseded_by(product, k), |e| e.newer)
    }

    fn walk<'a>(
        &'a self,
        start: KbId,
        next: impl Fn(&'a Catalog, KbId) -> &'a [Edge],
        other: impl Fn(&Edge) -> KbId,
    ) -> Vec<&'a Edge> {
        let mut seen: HashSet<KbId> = HashSet::from([start]);
        let mut queue = VecDeque::from([start]);
        let mut out = Vec::new();
        while let Some(k) = queue.pop_front() {
            for e in next(self, k) {
                out.push(e);
                let o = other(e);
                if seen.insert(o) {
                    queue.push_back(o);
                }
            }
        }
        out
    }

    /// A shortest supersedence path on `product` from `newer` down to `older`
    /// (edges ordered newest first), or `None` when `newer` does not
    /// (transitively) supersede `older`.
    pub fn supersedence_path(
        &self,
        product: ProductId,
        newer: KbId,
        older: KbId,
    ) -> Option<Vec<&Edge>> {
        let mut prev: HashMap<KbId, &Edge> = HashMap::default();
        let mut queue = VecDeque::from([newer]);
        let mut seen: HashSet<KbId> = HashSet::from([newer]);
        while let Some(k) = queue.pop_front() {
            if k == older {
                let mut path = Vec::new();
                let mut cur = older;
                while cur != newer {
                    let e = prev.get(&cur)?;
                    path.push(*e);
                    cur = e.newer;
                }
                path.reverse();
                return Some(path);
            }
            for e in self.supersedes(product, k) {
                if seen.insert(e.older) {
                    prev.insert(e.older, e);
                    queue.push_back(e.older);
                }
            }
        }
        None
    }
}

/// One `updates` row as the catalog holds it.
fn update_of(lu: LoadedUpdate) -> Update {
    // "CVE-2023-36696:3 CVE-2023-36011:3" (see the store schema).
    let cves = lu
        .cves
        .as_deref()
        .unwrap_or("")
        .split_ascii_whitespace()
        .map(|w| {
            let (id, rank) = w.rsplit_once(':').unwrap_or((w, "0"));
            CveRef {
                id: id.to_string(),
                severity: severity_from_rank(rank.parse().unwrap_or(0)),
            }
        })
        .collect();
    Update {
        kb: KbId(lu.kb),
        kind: UpdateKind::parse(&lu.kind).unwrap_or(UpdateKind::Other),
        release_date: lu.release_date.as_deref().and_then(|d| d.parse().ok()),
        release_date_source: lu
            .release_date_source
            .as_deref()
            .and_then(ReleaseDateSource::parse),
        release_document: lu.release_document,
        kind_note: lu.kind_note,
        title: lu.title,
        products: Vec::new(),
        cves,
        max_severity: severity_from_rank(lu.max_severity),
    }
}

/// The products each update fixes (`update_products` rows), with their
/// architectures, fixed build, SubType, restart and sources; and each
/// product's updates.
fn attach_fixes(
    fixes: &[LoadedFix],
    words: &[String],
    raw: &HashMap<i64, (ProductId, Option<Architecture>)>,
    prov: &dyn Fn(i64) -> Option<Provenance>,
    updates: &mut HashMap<KbId, Update>,
    per_product: &mut [ProductIndex],
) {
    let word = |i: Option<u32>| i.and_then(|i| words.get(i as usize)).cloned();
    for fix in fixes {
        let (kb, raw_id, doc) = (fix.kb, fix.raw_product, fix.document);
        let Some((product, arch)) = raw.get(&raw_id).copied() else {
            continue;
        };
        let Some(u) = updates.get_mut(&KbId(kb)) else {
            continue;
        };
        let i = match u.products.iter().position(|p| p.product == product) {
            Some(i) => i,
            None => {
                u.products.push(UpdateProduct {
                    product,
                    architectures: Vec::new(),
                    fixed_build: None,
                    subtype: None,
                    restart_required: None,
                    sources: Vec::new(),
                });
                if let Some(pi) = per_product.get_mut(product.0 as usize) {
                    pi.updates.push(KbId(kb));
                }
                u.products.len() - 1
            }
        };
        let Some(p) = u.products.get_mut(i) else {
            continue;
        };
        if let Some(a) = arch
            && !p.architectures.contains(&a)
        {
            p.architectures.push(a);
        }
        let fb = fix.fixed_build;
        p.fixed_build = match (p.fixed_build, fb) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if p.subtype.is_none() {
            p.subtype = word(fix.subtype);
        }
        if p.restart_required.is_none() {
            p.restart_required = word(fix.restart);
        }
        if let Some(pv) = prov(doc)
            && !p.sources.contains(&pv)
        {
            p.sources.push(pv);
        }
    }
}

/// Edges (one per product, newer, older) into each product's indexes, both
/// ways; `true` marks the edges that only cover an installed update.
fn index_edges(maps: [(EdgeSources, bool); 2], per_product: &mut [ProductIndex]) {
    for (maps, installed) in maps {
        for ((product, newer, older), mut sources) in maps {
            sources.sort();
            let edge = Edge {
                newer,
                older,
                product,
                sources,
            };
            let Some(pi) = per_product.get_mut(product.0 as usize) else {
                continue;
            };
            let (by_older, by_newer) = if installed {
                (&mut pi.covered_installed_by, &mut pi.covers_installed)
            } else {
                (&mut pi.superseded_by, &mut pi.supersedes)
            };
            by_older.entry(older).or_default().push(edge.clone());
            by_newer.entry(newer).or_default().push(edge);
        }
    }
}

/// Supersedence edges by (product, newer, older), with their sources.
type EdgeSources = std::collections::BTreeMap<(ProductId, KbId, KbId), Vec<Provenance>>;

/// Adds every servicing model's edges to the source edges of the products it
/// applies to: to `normal`, or to `installed_only` for such rules. An edge a
/// source already gives keeps its sources and gains the model's.
fn derive_model_edges(
    models: &ServicingModels,
    products: &[String],
    per_product: &[ProductIndex],
    updates: &HashMap<KbId, Update>,
    normal: &mut std::collections::BTreeMap<(ProductId, KbId, KbId), Vec<Provenance>>,
    installed_only: &mut std::collections::BTreeMap<(ProductId, KbId, KbId), Vec<Provenance>>,
) {
    // Per product and KB: the KBs a source links it to.
    let mut partners: HashMap<(ProductId, KbId), Vec<KbId>> = HashMap::default();
    for &(p, n, o) in normal.keys() {
        partners.entry((p, n)).or_default().push(o);
        partners.entry((p, o)).or_default().push(n);
    }
    for (i, name) in products.iter().enumerate() {
        let product = ProductId(i as u32);
        let applicable: Vec<&ServicingModel> = models
            .models
            .iter()
            .filter(|m| m.applies_to(name))
            .collect();
        if applicable.is_empty() {
            continue;
        }
        let Some(pi) = per_product.get(i) else {
            continue;
        };
        let view: Vec<ProductUpdate> = pi
            .updates
            .iter()
            .filter_map(|kb| updates.get(kb))
            .map(|u| ProductUpdate {
                kb: u.kb,
                kind: u.kind,
                date: u.release_date,
                partners: partners.get(&(product, u.kb)).cloned().unwrap_or_default(),
                has_fixed_build: u.product(product).is_some_and(|p| p.fixed_build.is_some()),
                cve_count: u.cves.len(),
                products: u
                    .products
                    .iter()
                    .filter_map(|p| products.get(p.product.0 as usize).cloned())
                    .collect(),
            })
            .collect();
        for model in applicable {
            let pv = Provenance {
                kind: SourceKind::Model,
                document: model.id.clone(),
            };
            for e in derive_edges(model, &view) {
                let map = if e.installed_only {
                    &mut *installed_only
                } else {
                    &mut *normal
                };
                let sources = map.entry((product, e.newer, e.older)).or_default();
                if !sources.contains(&pv) {
                    sources.push(pv.clone());
                }
            }
        }
    }
}

pub(crate) fn severity_from_rank(rank: i64) -> Severity {
    match rank {
        1 => Severity::Low,
        2 => Severity::Moderate,
        3 => Severity::Important,
        4 => Severity::Critical,
        _ => Severity::Unknown,
    }
}

/// lockstep's data folder: `$XDG_DATA_HOME/lockstep`, falling back to
/// `~/.local/share/lockstep`; on Windows `%LOCALAPPDATA%\lockstep`. The
/// catalog and the history live there by default.
pub fn data_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        env("LOCALAPPDATA")
            .or_else(|| env("USERPROFILE").map(|h| h.join("AppData").join("Local")))
            .unwrap_or_else(|| PathBuf::from("."))
    } else {
        env("XDG_DATA_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| env("HOME").map(|h| h.join(".local").join("share")))
            .unwrap_or_else(|| PathBuf::from("."))
    };
    base.join("lockstep")
}
