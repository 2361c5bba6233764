use crate::Global;
use crate::cmd::{load_inputs, open_knowledge, output_for, refuse_empty};
use crate::say;
use lockstep_check::drift::cluster_drift;
use lockstep_plan::{
    Emit, EmitOptions, Plan, PlanOptions, PlanStatus, Target, emit, parse_duration, plan_cluster,
};
use std::path::PathBuf;
use std::process::ExitCode;

/// `lockstep plan PATH... --target secure|converge`
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Snapshot JSON files, directories (one cluster each) or fleet manifests (TOML).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// secure: close real gaps only (missing, suspect); converge: make every node carry the same updates.
    #[arg(long, value_parser = parse_target)]
    pub target: Target,
    /// Output: text (for people), json, powershell, ansible, wsus or cau.
    #[arg(long = "emit", default_value = "text", value_parser = parse_emit)]
    pub emit: Emit,
    /// Write to this file instead of standard output (a regular file is replaced atomically; `-` is standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Plan only this cluster (when the inputs hold several).
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// Node order, e.g. HV03,HV04 (nodes not named follow, fewest roles first).
    #[arg(long, value_delimiter = ',', value_name = "NODES")]
    pub order: Option<Vec<String>>,
    /// Nodes down at once after the canary, where quorum and capacity allow.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub max_parallel: u32,
    /// Wait this long after the canary node before the rest (30m, 2h, 1h30m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub soak: Option<u64>,
    /// Stop after more than N nodes failed.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_failed_nodes: u32,
    /// Retries per node before it counts as failed.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub retries: u32,
    /// Minutes to wait for a node to come back after a restart.
    #[arg(long, default_value_t = 30, value_name = "MINUTES")]
    pub reboot_timeout: u32,
    /// Folder with the .msu files (Ansible: on the controller).
    #[arg(long, value_name = "FOLDER")]
    pub source: Option<String>,
    /// CAU hotfix root folder (HotfixRootFolderPath), e.g. \\fileserver\CAUHotfix.
    #[arg(long, value_name = "FOLDER")]
    pub cau_root: Option<String>,
    /// WSUS computer target group that holds the cluster nodes.
    #[arg(long, value_name = "NAME")]
    pub wsus_group: Option<String>,
}

fn parse_target(s: &str) -> Result<Target, String> {
    s.parse()
}

fn parse_emit(s: &str) -> Result<Emit, String> {
    s.parse()
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let loaded = load_inputs(global, &args.paths);
    let output = output_for(args.output.as_deref(), &args.paths, &loaded)?;
    if let Some(code) = refuse_empty(&loaded, &output) {
        return Ok(code);
    }
    let sources = open_knowledge(global)?;
    let knowledge = sources.knowledge();
    let opts = PlanOptions {
        target: args.target,
        order: args.order.clone(),
        max_parallel: args.max_parallel,
        soak_seconds: args.soak,
        max_failed_nodes: args.max_failed_nodes,
        retries: args.retries,
        reboot_timeout_minutes: args.reboot_timeout,
    };
    let mut failed = !loaded.errors.is_empty();
    let clusters: Vec<_> = loaded
        .inventory
        .clusters
        .iter()
        .filter(|c| {
            args.cluster
                .as_deref()
                .is_none_or(|want| c.name.eq_ignore_ascii_case(want))
        })
        .collect();
    if clusters.is_empty() {
        for e in &loaded.errors {
            say!("lockstep: {e}");
        }
        match &args.cluster {
            Some(want) => say!(
                "lockstep: no cluster named {want:?} in the inputs (clusters: {})",
                loaded
                    .inventory
                    .clusters
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => say!(
                "lockstep: the inputs hold no cluster to plan (a directory of node captures, a snapshot or a fleet manifest is one)"
            ),
        }
        return Ok(ExitCode::from(2));
    }
    if !loaded.inventory.loose_nodes.is_empty() {
        say!(
            "lockstep: {} node(s) given on their own are not part of a cluster and are not planned",
            loaded.inventory.loose_nodes.len()
        );
    }
    let mut plans: Vec<Plan> = Vec::new();
    for c in &clusters {
        let drift = cluster_drift(c, &knowledge);
        match plan_cluster(c, &drift, &knowledge, &opts) {
            Ok(p) => plans.push(p),
            Err(e) => {
                say!("lockstep: cluster {}: {e}", c.name);
                failed = true;
            }
        }
    }
    let script = !matches!(args.emit, Emit::Text | Emit::Json);
    if script && plans.len() > 1 {
        say!(
            "lockstep: --emit {:?} writes one script per cluster; the inputs hold {} ({}): choose one with --cluster",
            args.emit,
            plans.len(),
            plans
                .iter()
                .map(|p| p.cluster.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::from(2));
    }
    let emit_opts = EmitOptions {
        source: args.source.clone(),
        cau_root: args.cau_root.clone(),
        wsus_group: args.wsus_group.clone(),
    };
    let refused = plans.iter().any(|p| p.status == PlanStatus::Refused);
    let body = match args.emit {
        // Names from the inputs in the text cannot drive the terminal.
        Emit::Text => lockstep_model::term::terminal_safe(
            &plans
                .iter()
                .map(lockstep_plan::render_text)
                .collect::<Vec<_>>()
                .join("\n"),
            lockstep_model::term::Lines::Keep,
        )
        .into_owned(),
        Emit::Json => lockstep_model::term::json_safe(if plans.len() == 1 {
            lockstep_plan::render_json(&plans[0])
        } else {
            let mut s = serde_json::to_string_pretty(&plans)?;
            s.push('\n');
            s
        }),
        other => {
            let Some(plan) = plans.first() else {
                return Ok(ExitCode::from(2));
            };
            match emit(plan, other, &emit_opts) {
                Ok(s) => s,
                Err(e) => {
                    for err in &loaded.errors {
                        say!("lockstep: {err}");
                    }
                    say!("lockstep: {e}");
                    // A plan refused by the planner, or one the target tool
                    // cannot run (CAU cannot uninstall), is exit code 1 as
                    // any refused plan; a bad value or a bad input is 2.
                    let refusal = matches!(
                        e,
                        lockstep_plan::emit::EmitError::Refused { .. }
                            | lockstep_plan::emit::EmitError::Unsupported(_)
                    );
                    return Ok(ExitCode::from(if refusal && !failed { 1 } else { 2 }));
                }
            }
        }
    };
    output.write(body.as_bytes())?;
    for e in &loaded.errors {
        say!("lockstep: {e}");
    }
    Ok(if failed {
        ExitCode::from(2)
    } else if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
