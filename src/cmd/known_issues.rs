//! `lockstep known-issues list|show|lint`: the known-issues database.
//!
//! The database is the built-in entries (compiled from the repository's
//! `known-issues/` folder) plus every `--known-issues DIR`; user entries
//! replace built-in ones with the same id. A folder that does not lint is
//! reported (file, line, message) and skipped; the command still does its
//! job with the rest and exits 2 at the end.

use crate::Global;
use crate::cmd::FormatArg;
use crate::output::print;
use crate::say;
use lockstep_catalog::known_issues::{
    Details, KnownIssue, KnownIssues, LintError, builtin_sources, lint_sources, read_dir_sources,
};
use lockstep_model::term::{Lines, json_safe, one_line, terminal_safe};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    /// List every known issue (id, kind, severity, title).
    List {
        /// Only issues of this kind: supersedence, bad-update or antivirus.
        #[arg(long, value_parser = ["supersedence", "bad-update", "antivirus"])]
        kind: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Show one known issue in full (by id or alias).
    Show {
        id: String,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Check known-issue files: unknown keys, bad dates, malformed KB numbers,
    /// versions and ranges, id/file-name mismatches, duplicate ids. Without
    /// DIR, checks the built-in files and every --known-issues folder.
    Lint {
        /// Folders of `<ID>.md` files to check.
        dirs: Vec<PathBuf>,
    },
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::List { kind, format } => {
            let json = format.is_json();
            let (db, ok) = load(global);
            let issues: Vec<&KnownIssue> = db
                .all()
                .iter()
                .filter(|i| kind.as_deref().is_none_or(|k| i.kind().as_str() == k))
                .collect();
            if json {
                let list: Vec<Value> = issues.iter().map(|i| summary_json(i)).collect();
                print_json(&Value::Array(list))?;
            } else {
                print_text(&list_text(&issues))?;
            }
            Ok(exit(ok))
        }
        Sub::Show { id, format } => {
            let json = format.is_json();
            let (db, ok) = load(global);
            let Some(issue) = db.get(&id) else {
                say!(
                    "lockstep: error: no known issue with id or alias {id:?} (`lockstep known-issues list` shows them)"
                );
                return Ok(ExitCode::from(2));
            };
            if json {
                print_json(&issue_json(issue))?;
            } else {
                print_text(&show_text(issue))?;
            }
            Ok(exit(ok))
        }
        Sub::Lint { dirs } => lint(global, &dirs),
    }
}

/// Text for people on standard output, safe for the terminal: user
/// known-issue files are input like any other.
fn print_text(text: &str) -> anyhow::Result<()> {
    print(&terminal_safe(text, Lines::Keep)).map(|_| ())
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&json_safe(text)).map(|_| ())
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// Built-ins plus every `--known-issues` folder; errors are printed and the
/// folder skipped.
fn load(global: &Global) -> (KnownIssues, bool) {
    let mut db = KnownIssues::builtin();
    let mut ok = true;
    for dir in &global.known_issues {
        if let Err(errors) = db.load_dir(dir) {
            print_errors(&errors);
            say!(
                "lockstep: error: known-issues folder {} skipped ({} error{})",
                dir.display(),
                errors.len(),
                plural(errors.len())
            );
            ok = false;
        }
    }
    (db, ok)
}

fn print_errors(errors: &[LintError]) {
    for e in errors {
        say!("{e}");
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn lint(global: &Global, dirs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut files = 0usize;
    let mut errors: Vec<LintError> = Vec::new();
    if dirs.is_empty() {
        // The embedded copies of the repository's known-issues/ folder.
        let named: Vec<(String, &str)> = builtin_sources()
            .iter()
            .map(|(name, text)| (format!("known-issues/{name}"), *text))
            .collect();
        let sources: Vec<(&Path, &str)> = named
            .iter()
            .map(|(p, t)| (Path::new(p.as_str()), *t))
            .collect();
        files += sources.len();
        if let Err(mut e) = lint_sources(&sources) {
            errors.append(&mut e);
        }
    }
    let extra = if dirs.is_empty() {
        global.known_issues.as_slice()
    } else {
        dirs
    };
    for dir in extra {
        match read_dir_sources(dir) {
            Ok(sources) => {
                files += sources.len();
                let borrowed: Vec<(&Path, &str)> = sources
                    .iter()
                    .map(|(p, t)| (p.as_path(), t.as_str()))
                    .collect();
                if let Err(mut e) = lint_sources(&borrowed) {
                    errors.append(&mut e);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    print_errors(&errors);
    if errors.is_empty() {
        print(&format!(
            "{files} known-issue file{} checked, no errors\n",
            plural(files)
        ))?;
        Ok(ExitCode::SUCCESS)
    } else {
        print(&format!(
            "{files} known-issue file{} checked, {} error{}\n",
            plural(files),
            errors.len(),
            plural(errors.len())
        ))?;
        Ok(ExitCode::from(2))
    }
}

fn list_text(issues: &[&KnownIssue]) -> String {
    let id_w = issues
        .iter()
        .map(|i| one_line(&i.id).chars().count())
        .max()
        .unwrap_or(2)
        .max(2);
    let mut out = format!(
        "{:<id_w$}  {:<12}  {:<8}  TITLE\n",
        "ID", "KIND", "SEVERITY"
    );
    for i in issues {
        out.push_str(&format!(
            "{:<id_w$}  {:<12}  {:<8}  {}\n",
            one_line(&i.id),
            i.kind().as_str(),
            i.severity.as_str(),
            one_line(&i.title)
        ));
    }
    out
}

fn show_text(i: &KnownIssue) -> String {
    let mut out = String::new();
    // Every value is one line: a newline in a user's file cannot forge a field.
    let mut line = |k: &str, v: &str| out.push_str(&format!("{k:<10} {}\n", one_line(v)));
    line("id", &i.id);
    line("title", &i.title);
    line("kind", i.kind().as_str());
    line("severity", i.severity.as_str());
    line("published", &i.published.to_string());
    if let Some(d) = i.updated {
        line("updated", &d.to_string());
    }
    if let Some(d) = i.reported {
        line("reported", &d.to_string());
    }
    if !i.aliases.is_empty() {
        line("aliases", &i.aliases.join(", "));
    }
    line("source", &i.origin.to_string());
    match &i.details {
        Details::Supersedence(s) => {
            let older: Vec<String> = s.older.iter().map(|k| k.to_string()).collect();
            line(
                "edge",
                &format!("{} supersedes {}", s.newer, older.join(", ")),
            );
            for v in &s.verdicts {
                let scope = if v.older.is_empty() {
                    String::new()
                } else {
                    let o: Vec<String> = v.older.iter().map(|k| k.to_string()).collect();
                    format!(" ({})", o.join(", "))
                };
                line(
                    "verdict",
                    &format!("{}{} on {}", v.verdict, scope, v.products.join("; ")),
                );
                if let Some(d) = v.until {
                    line("  until", &d.to_string());
                }
                if let Some(kb) = v.fixed_by {
                    line("  fixed by", &kb.to_string());
                }
                line("  note", &v.note);
            }
        }
        Details::BadUpdate(b) => {
            let kbs: Vec<String> = b.kbs.iter().map(|k| k.to_string()).collect();
            line("updates", &kbs.join(", "));
            line("products", &b.products.join("; "));
            if let Some(r) = &b.builds {
                line("builds", &r.to_string());
            }
            line(
                "clusters",
                if b.clusters {
                    "affected"
                } else {
                    "not affected"
                },
            );
            for s in &b.symptoms {
                line("symptom", s);
            }
        }
        Details::Antivirus(a) => {
            line("vendor", &a.vendor);
            line("product", &a.product);
            let v: Vec<String> = a.versions.iter().map(|r| r.to_string()).collect();
            line("versions", &v.join(" | "));
            if !a.filters.is_empty() {
                line("filters", &a.filters.join(", "));
            }
            if let Some(r) = &a.defender_platform {
                line("platform", &r.to_string());
            }
            if let Some(r) = &a.defender_engine {
                line("engine", &r.to_string());
            }
            if let Some(w) = &a.window {
                line("window", &format!("{} .. {}", w.start, w.end));
            }
        }
    }
    for (n, step) in i.fix_steps.iter().enumerate() {
        line(&format!("fix {}", n + 1), step);
    }
    for r in &i.references {
        line("reference", r);
    }
    out.push('\n');
    out.push_str(&i.description);
    out.push('\n');
    out
}

fn summary_json(i: &KnownIssue) -> Value {
    json!({
        "id": i.id,
        "kind": i.kind().as_str(),
        "severity": i.severity.as_str(),
        "title": i.title,
    })
}

fn issue_json(i: &KnownIssue) -> Value {
    let kbs = |list: &[lockstep_model::KbId]| -> Vec<String> {
        list.iter().map(|k| k.to_string()).collect()
    };
    let details = match &i.details {
        Details::Supersedence(s) => json!({
            "newer": s.newer.to_string(),
            "older": kbs(&s.older),
            "verdicts": s.verdicts.iter().map(|v| json!({
                "products": v.products,
                "older": kbs(&v.older),
                "verdict": v.verdict.as_str(),
                "note": v.note,
                "until": v.until.map(|d| d.to_string()),
                "fixed_by": v.fixed_by.map(|k| k.to_string()),
            })).collect::<Vec<_>>(),
        }),
        Details::BadUpdate(b) => json!({
            "kbs": kbs(&b.kbs),
            "products": b.products,
            "builds": b.builds.as_ref().map(|r| r.to_string()),
            "symptoms": b.symptoms,
            "clusters": b.clusters,
        }),
        Details::Antivirus(a) => json!({
            "vendor": a.vendor,
            "product": a.product,
            "versions": a.versions.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "filters": a.filters,
            "defender_platform": a.defender_platform.as_ref().map(|r| r.to_string()),
            "defender_engine": a.defender_engine.as_ref().map(|r| r.to_string()),
            "window": a.window.map(|w| json!({
                "start": w.start.to_string(),
                "end": w.end.to_string(),
            })),
        }),
    };
    json!({
        "id": i.id,
        "kind": i.kind().as_str(),
        "severity": i.severity.as_str(),
        "title": i.title,
        "published": i.published.to_string(),
        "updated": i.updated.map(|d| d.to_string()),
        "reported": i.reported.map(|d| d.to_string()),
        "aliases": i.aliases,
        "references": i.references,
        "fix_steps": i.fix_steps,
        "details": details,
        "description": i.description,
        "source": i.origin.to_string(),
    })
}
