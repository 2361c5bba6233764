use crate::Global;
use crate::cmd::{OutputFormat, load_inputs, open_knowledge, output_for, refuse_empty};
use crate::say;
use lockstep_check::Severity;
use lockstep_check::run::{
    CheckOptions, CheckReport, ClusterReport, ReportHead, check, check_each,
};
use lockstep_report::{TextOptions, json, text};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// `lockstep check PATH...`
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Snapshot JSON files, directories (one cluster each) or fleet manifests (TOML).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Write the report to this file instead of standard output (a regular file is replaced atomically; `-` is standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this level (never: always exit 0 unless an input failed).
    #[arg(long, value_name = "LEVEL", default_value = "error", value_parser = parse_fail_on)]
    pub fail_on: FailOn,
    /// Judge security posture with what the catalog says was published by this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
}

#[derive(Debug, Clone, Copy)]
pub enum FailOn {
    Level(Severity),
    Never,
}

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s.eq_ignore_ascii_case("never") {
        Ok(FailOn::Never)
    } else {
        s.parse::<Severity>().map(FailOn::Level)
    }
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut timings = Timings::from_env();
    let loaded = load_inputs(global, &args.paths);
    timings.mark("load");
    let output = output_for(args.output.as_deref(), &args.paths, &loaded)?;
    if let Some(code) = refuse_empty(&loaded, &output) {
        return Ok(code);
    }
    let sources = open_knowledge(global)?;
    timings.mark("catalog");
    let knowledge = sources.knowledge().judged_on(
        args.as_of
            .unwrap_or_else(|| jiff::ZonedDateTime::now().date()),
    );
    let options = CheckOptions { as_of: args.as_of };
    let color = output.is_stdout()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut head = ReportHead::new(
        &loaded.inventory,
        sources.catalog_info(),
        &options,
        loaded.errors.clone(),
    );
    head.input_warnings = loaded.warnings.clone();
    // Text and JSON stream: each cluster is judged, rendered and written,
    // then dropped; the findings follow the last cluster.
    // `separated`: each rendered cluster starts with a one-byte separator
    // (JSON's `,`) that the first one drops. A writer thread takes the
    // rendered clusters, so judging the next chunk overlaps the writing.
    let streamed = |w: &mut (dyn std::io::Write + Send),
                    separated: bool,
                    render: &(dyn Fn(ClusterReport) -> std::io::Result<Vec<u8>> + Sync)|
     -> std::io::Result<CheckReport> {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(64);
            let writer = scope.spawn(move || -> std::io::Result<()> {
                let mut first = true;
                for part in rx {
                    let skip = usize::from(separated && first);
                    first = false;
                    w.write_all(part.get(skip..).unwrap_or_default())?;
                }
                Ok(())
            });
            let checked = check_each(
                &loaded.inventory,
                &knowledge,
                Some(sources.protection()),
                sources.catalog_info(),
                &options,
                render,
                |part: std::io::Result<Vec<u8>>| {
                    // A closed channel means the writer failed: its error
                    // is the one to report, from `join` below.
                    tx.send(part?)
                        .map_err(|_| std::io::Error::other("the report writer stopped"))
                },
            );
            drop(tx);
            let written = writer
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the report writer panicked")));
            let mut report = match (checked, written) {
                (_, Err(e)) | (Err(e), Ok(())) => return Err(e),
                (Ok(report), Ok(())) => report,
            };
            report.input_errors = loaded.errors.clone();
            report.input_warnings = loaded.warnings.clone();
            Ok(report)
        })
    };
    let report = match args.format {
        OutputFormat::Text => {
            let o = TextOptions { color };
            output.write_with(|w| {
                text::write_head(w, &head, o)?;
                let report = streamed(w, false, &|c| {
                    let mut s = String::new();
                    text::cluster_text(&mut s, &c, o);
                    Ok(text::terminal_safe(s, o).into_bytes())
                })?;
                timings.mark("check and clusters");
                text::write_tail(w, &report, o)?;
                Ok(report)
            })?
        }
        OutputFormat::Json => output.write_with(|w| {
            // Bidi controls and C1 controls from the inputs are written as
            // `\uXXXX` escapes: the same strings, nothing raw on a terminal.
            let mut w = lockstep_model::term::JsonSafeWriter::new(w);
            json::write_head(&mut w, &head)?;
            let report = streamed(&mut w, true, &|c| json::cluster_json(&c))?;
            timings.mark("check and clusters");
            json::write_tail(&mut w, &report)?;
            std::io::Write::flush(&mut w)?;
            Ok(report)
        })?,
        OutputFormat::Html => {
            let mut report = check(
                &loaded.inventory,
                &knowledge,
                Some(sources.protection()),
                sources.catalog_info(),
                &options,
            );
            report.input_errors = loaded.errors.clone();
            report.input_warnings = loaded.warnings.clone();
            timings.mark("check");
            let title = args
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            // The HTML report is the page for the change ticket: it carries
            // both plans, so the board sees what each target would do.
            let plans: Vec<lockstep_report::html::PlanView> = [
                lockstep_plan::Target::Secure,
                lockstep_plan::Target::Converge,
            ]
            .into_iter()
            .flat_map(|t| {
                lockstep_plan::report_sections(&loaded.inventory, &report.clusters, &knowledge, t)
            })
            .map(|(cluster, target, text)| lockstep_report::html::PlanView {
                cluster,
                target,
                text,
            })
            .collect();
            let body = lockstep_report::render_html(&report, &title, &plans)
                .map_err(|e| anyhow::anyhow!(e))?;
            output.write(body.as_bytes())?.map(|()| report)
        }
    };
    timings.mark("report");
    for e in &loaded.errors {
        say!("lockstep: {e}");
    }
    // Standard output closed early: nothing more to say; the exit code is
    // still the one the inputs earned.
    let Some(report) = report else {
        return Ok(if loaded.errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        });
    };
    let failed = match (args.fail_on, report.max_severity()) {
        (FailOn::Level(level), Some(max)) => max >= level,
        _ => false,
    };
    let code = if !loaded.errors.is_empty() {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // A fleet's inventory and report are millions of small allocations;
    // the process ends here, and the OS takes the pages back far faster
    // than freeing them one by one would (about a second on 8,000 nodes).
    std::mem::forget(report);
    std::mem::forget(loaded);
    Ok(code)
}

/// Phase times on standard error when `LOCKSTEP_TIMINGS` is set: how
/// BENCHMARKS.md says where the time goes, without a profiler.
struct Timings {
    last: Option<std::time::Instant>,
}

impl Timings {
    fn from_env() -> Self {
        Timings {
            last: std::env::var_os("LOCKSTEP_TIMINGS").map(|_| std::time::Instant::now()),
        }
    }

    fn mark(&mut self, phase: &str) {
        if let Some(last) = self.last {
            say!("lockstep: {phase} {:.3} s", last.elapsed().as_secs_f64());
            self.last = Some(std::time::Instant::now());
        }
    }
}
