//! `lockstep catalog`: import, update, show, stats, anomalies.

use crate::Global;
use crate::cmd::FormatArg;
use crate::output::print;
use crate::say;
use anyhow::Context;
use clap::Subcommand;
use lockstep_catalog::download::{DEFAULT_BASE_URL, UpdateOptions, parse_since, update_catalog};
use lockstep_catalog::import::parse_file_each;
use lockstep_catalog::query::{self, Anomaly, NamedEdge};
use lockstep_catalog::{Catalog, ImportSession, ImportStatus};
use lockstep_model::KbId;
use lockstep_model::term::{Lines, json_safe, terminal_safe};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: CatalogCommand,
}

#[derive(Subcommand, Debug)]
pub enum CatalogCommand {
    /// Import MSRC CVRF documents (XML or JSON), WES-NG CSVs or a WES-NG definitions.zip.
    Import {
        /// Files to import; the format is detected from the content.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Download new and changed monthly documents from the MSRC CVRF API.
    Update {
        /// Only documents of this month and later.
        #[arg(long, value_name = "YYYY-MM")]
        since: Option<String>,
        /// The MSRC API base URL.
        #[arg(long, env = "LOCKSTEP_MSRC_URL", default_value = DEFAULT_BASE_URL, value_name = "URL")]
        base_url: String,
        /// Seconds allowed per request.
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        timeout: u64,
        /// Extra attempts after a failed request.
        #[arg(long, default_value_t = 2)]
        retries: u32,
    },
    /// Show updates: products, fixed builds, supersedence chains per product, sources.
    Show {
        #[arg(required = true, value_name = "KB")]
        kbs: Vec<String>,
        /// Only this servicing product (e.g. "Windows Server 2022").
        #[arg(long)]
        product: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Counts: documents, products, updates by kind, edges by source.
    Stats {
        #[command(flatten)]
        format: FormatArg,
    },
    /// Cycles, edges to unknown KBs, chain breaks, source conflicts, cross-kind and cross-product edges.
    Anomalies {
        /// Only this servicing product.
        #[arg(long)]
        product: Option<String>,
        /// Only these anomaly types (cycle, missing-kb, cross-product, cross-kind, chain-break, source-conflict).
        #[arg(long = "type", value_name = "TYPE")]
        types: Vec<String>,
        #[command(flatten)]
        format: FormatArg,
    },
}

fn catalog_path(global: &Global) -> PathBuf {
    global.catalog.clone().unwrap_or_else(Catalog::default_path)
}

/// The catalog the read-only commands look at, and how to name it: the
/// file, or (no `--catalog` and no local catalog) the bundled one, as
/// `check` uses it.
fn open_for_reading(global: &Global, path: &std::path::Path) -> anyhow::Result<(Catalog, String)> {
    if global.catalog.is_none() && !path.exists() {
        let store = lockstep_catalog::bundled::open_bundled()
            .map_err(|e| anyhow::anyhow!("opening the bundled catalog: {e}"))?;
        let date = store
            .data_date()
            .ok()
            .flatten()
            .map(|d| format!(" (data of {d})"))
            .unwrap_or_default();
        let catalog = Catalog::from_store(&store)?;
        return Ok((
            catalog,
            format!(
                "{}{date}; no local catalog at {}",
                lockstep_catalog::bundled::BUNDLED_NAME,
                path.display()
            ),
        ));
    }
    Ok((Catalog::open(path)?, path.display().to_string()))
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let path = catalog_path(global);
    match args.command {
        CatalogCommand::Import { files } => import(&path, &files),
        CatalogCommand::Update {
            since,
            base_url,
            timeout,
            retries,
        } => {
            let since = match since.as_deref() {
                None => None,
                Some(s) => match parse_since(s) {
                    Some(v) => Some(v),
                    None => {
                        say!(
                            "lockstep: error: --since expects YYYY-MM (e.g. 2023-06), found {s:?}"
                        );
                        return Ok(ExitCode::from(2));
                    }
                },
            };
            let bar = crate::progress::Bar::new(true, "{bar:30} {pos}/{len} {msg}");
            let opts = UpdateOptions {
                base_url,
                since,
                timeout: Duration::from_secs(timeout.max(1)),
                retries,
                progress: &bar,
            };
            let report = update_catalog(&path, &opts)?;
            let mut out = format!(
                "{} documents listed, {} in range: {} imported, {} replaced, {} unchanged, {} skipped (already current)\n",
                report.listed,
                report.in_range,
                report.imported.len(),
                report.replaced.len(),
                report.unchanged.len(),
                report.skipped.len()
            );
            for id in &report.imported {
                let _ = writeln!(out, "imported cvrf:{id}");
            }
            for id in &report.replaced {
                let _ = writeln!(out, "replaced cvrf:{id}");
            }
            for (id, why) in &report.rejected {
                say!(
                    "lockstep: warning: the MSRC index lists {id:?}, which was not fetched: {why}"
                );
            }
            print_text(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        CatalogCommand::Show {
            kbs,
            product,
            format,
        } => {
            let (catalog, _) = open_for_reading(global, &path)?;
            show(&catalog, &kbs, product.as_deref(), format.is_json())
        }
        CatalogCommand::Stats { format } => {
            let json = format.is_json();
            let (catalog, name) = open_for_reading(global, &path)?;
            let s = query::stats(&catalog);
            if json {
                print_json(&s)?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut out = String::new();
            let _ = writeln!(out, "catalog: {name}");
            let _ = writeln!(out, "documents: {}", s.documents.len());
            for d in &s.documents {
                let _ = writeln!(out, "  {d}");
            }
            let _ = writeln!(out, "servicing products: {}", s.products);
            let _ = writeln!(out, "updates: {}", s.updates);
            for (k, n) in &s.updates_by_kind {
                let _ = writeln!(out, "  {k}: {n}");
            }
            let _ = writeln!(out, "supersedence edges (per product): {}", s.edges);
            for (k, n) in &s.edges_by_source {
                let _ = writeln!(out, "  stated by {k}: {n}");
            }
            let _ = writeln!(out, "KB x CVE pairs: {}", s.kb_cves);
            if let (Some(a), Some(b)) = (s.earliest_release, s.latest_release) {
                let _ = writeln!(out, "release dates: {a} .. {b}");
            }
            print_text(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        CatalogCommand::Anomalies {
            product,
            types,
            format,
        } => {
            let json = format.is_json();
            let (catalog, _) = open_for_reading(global, &path)?;
            let only = match product.as_deref() {
                None => None,
                Some(name) => match catalog.product_by_name(name) {
                    Some(p) => Some(p),
                    None => {
                        say!("lockstep: error: no servicing product named {name:?} in the catalog");
                        return Ok(ExitCode::from(2));
                    }
                },
            };
            let mut list = query::anomalies(&catalog, only);
            if !types.is_empty() {
                list.retain(|a| types.iter().any(|t| t == a.label()));
            }
            if json {
                print_json(&list)?;
            } else {
                let mut out = String::new();
                for a in &list {
                    let _ = writeln!(out, "{}", describe_anomaly(a));
                }
                let _ = writeln!(out, "{} anomalies", list.len());
                print_text(&out)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Imports every file; what was imported is printed once the catalog is
/// committed, so that a failure to print (a full disk behind `>`) cannot
/// throw the import away.
fn import(path: &std::path::Path, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    let mut out = String::new();
    let mut session =
        ImportSession::begin(path).with_context(|| format!("opening {}", path.display()))?;
    for file in files {
        let mut outcome: anyhow::Result<()> = Ok(());
        let parsed = parse_file_each(file, &mut |batch| {
            let b = match batch {
                Ok(b) => b,
                Err(e) => {
                    say!("lockstep: error: {e}");
                    failed = true;
                    return;
                }
            };
            if outcome.is_err() {
                return;
            }
            match session.import(&b) {
                Ok(status) => {
                    let _ = writeln!(out, "{}", import_line(status, &b, file));
                }
                Err(e) => outcome = Err(e.into()),
            }
        });
        outcome?;
        if let Err(e) = parsed {
            say!("lockstep: error: {e}");
            failed = true;
        }
    }
    session.commit()?;
    print_text(&out)?;
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `imported cvrf:2023-Dec from FILE (51 vulnerabilities, ...)`.
fn import_line(
    status: ImportStatus,
    b: &lockstep_catalog::batch::ImportBatch,
    file: &std::path::Path,
) -> String {
    let what = match status {
        ImportStatus::Imported => "imported",
        ImportStatus::Replaced => "replaced",
        ImportStatus::Unchanged => "unchanged",
    };
    let c = &b.counts;
    let detail = if b.format.kind() == lockstep_catalog::SourceKind::Cvrf {
        format!(
            "{} vulnerabilities, {} products, {} vendor fixes",
            c.records, c.tree_products, c.vendor_fixes
        )
    } else {
        format!(
            "{} rows, {} skipped (not a KB)",
            c.records, c.skipped_not_kb
        )
    };
    format!(
        "{what} {}:{} from {} ({detail}; {} KBs, {} supersedence edges)",
        b.format.kind(),
        b.name,
        file.display(),
        b.kbs.len(),
        b.edges.len()
    )
}

/// Text for people on standard output, made safe for the terminal (titles
/// and product names come from imported documents).
fn print_text(text: &str) -> anyhow::Result<()> {
    print(&terminal_safe(text, Lines::Keep)).map(|_| ())
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&json_safe(text)).map(|_| ())
}

fn sources(s: &[lockstep_catalog::Provenance]) -> String {
    s.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn edge_line(e: &NamedEdge) -> String {
    format!("{} -> {}  [{}]", e.newer, e.older, sources(&e.sources))
}

fn show(
    catalog: &Catalog,
    kbs: &[String],
    product: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut code = ExitCode::SUCCESS;
    let mut reports = Vec::new();
    for text in kbs {
        let kb: KbId = match text.parse() {
            Ok(kb) => kb,
            Err(e) => {
                say!("lockstep: error: {e}");
                code = ExitCode::from(2);
                continue;
            }
        };
        let mut r = query::show(catalog, kb);
        if let Some(p) = product {
            r.products.retain(|sp| sp.product == p);
        }
        if !r.known && r.products.is_empty() {
            say!("lockstep: error: {kb} is not in the catalog");
            code = ExitCode::from(2);
            continue;
        }
        reports.push(r);
    }
    if json {
        print_json(&reports)?;
        return Ok(code);
    }
    print_text(&show_text(&reports))?;
    Ok(code)
}

fn show_text(reports: &[query::ShowReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let _ = write!(out, "{}", r.kb);
        if let Some(k) = r.kind {
            let _ = write!(out, "  kind: {k}");
        }
        if let Some(d) = r.release_date {
            let src = r
                .release_date_source
                .map(|s| s.short(r.release_document.as_deref()))
                .unwrap_or_else(|| "?".into());
            let _ = write!(out, "  released: {d} ({src})");
        }
        if r.cve_count > 0 {
            let _ = write!(out, "  CVEs: {} (max {})", r.cve_count, r.max_severity);
        }
        out.push('\n');
        if let Some(t) = &r.title {
            let _ = writeln!(out, "  {}", lockstep_model::term::one_line(t));
        }
        if let Some(n) = &r.kind_note {
            println!("  kind: {n}");
        }
        if !r.known {
            let _ = writeln!(out, "  (no update data: only named by supersedence edges)");
        }
        for p in &r.products {
            let _ = write!(out, "  {}", lockstep_model::term::one_line(&p.product));
            if !p.architectures.is_empty() {
                let a: Vec<&str> = p.architectures.iter().map(|a| a.as_str()).collect();
                let _ = write!(out, " [{}]", a.join(", "));
            }
            if let Some(b) = p.fixed_build {
                let _ = write!(out, "  fixed build {b}");
            }
            if let Some(s) = &p.subtype {
                let _ = write!(out, "  {s}");
            }
            if !p.published {
                let _ = write!(out, "  (not published for this product)");
            }
            out.push('\n');
            if !p.sources.is_empty() {
                let _ = writeln!(out, "    sources: {}", sources(&p.sources));
            }
            if !p.supersedes.is_empty() {
                let _ = writeln!(out, "    supersedes:");
                for e in &p.supersedes {
                    let _ = writeln!(out, "      {}", edge_line(e));
                }
            }
            if !p.superseded_by.is_empty() {
                let _ = writeln!(out, "    superseded by:");
                for e in &p.superseded_by {
                    let _ = writeln!(out, "      {}", edge_line(e));
                }
            }
            if !p.covers_when_installed.is_empty() {
                println!("    covers where it is installed:");
                for e in &p.covers_when_installed {
                    println!("      {}", edge_line(e));
                }
            }
            if !p.covered_when_installed_by.is_empty() {
                println!("    covered where one of these is installed:");
                for e in &p.covered_when_installed_by {
                    println!("      {}", edge_line(e));
                }
            }
        }
    }
    out
}

fn describe_anomaly(a: &Anomaly) -> String {
    match a {
        Anomaly::Cycle { product, kbs } => {
            let k: Vec<String> = kbs.iter().map(|k| k.to_string()).collect();
            format!("cycle on {product}: {}", k.join(" -> "))
        }
        Anomaly::MissingKb { edge } => format!(
            "missing-kb on {}: {} (the older KB has no data in the catalog)",
            edge.product,
            edge_line(edge)
        ),
        Anomaly::CrossProduct {
            edge,
            older_products,
        } => format!(
            "cross-product on {}: {} ({} is published only for: {})",
            edge.product,
            edge_line(edge),
            edge.older,
            older_products.join("; ")
        ),
        Anomaly::CrossKind {
            edge,
            newer_kind,
            older_kind,
        } => format!(
            "cross-kind on {}: {} ({newer_kind} supersedes {older_kind})",
            edge.product,
            edge_line(edge)
        ),
        Anomaly::ChainBreak {
            product,
            kb,
            kind,
            newer,
        } => format!(
            "chain-break on {product}: nothing supersedes {kb} ({kind}) although {newer} is a later {kind} for it"
        ),
        Anomaly::SourceConflict {
            edge,
            stated_by,
            not_stated_by,
        } => format!(
            "source-conflict on {}: {} stated by {stated_by}, not by {not_stated_by} (which knows both KBs)",
            edge.product,
            edge_line(edge)
        ),
    }
}
