use crate::Global;
use crate::cmd::sources::open_knowledge;
use crate::cmd::{load_inputs, output_for, refuse_empty};
use crate::say;
use lockstep_check::missing::judge_cluster;
use lockstep_check::posture::PostureEngine;
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
    #[arg(long = "emit", visible_alias = "format", default_value = "text", value_parser = parse_emit)]
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
    /// WSUS computer group under which the per-node approval groups (lockstep-NODE) are made.
    #[arg(long, value_name = "NAME")]
    pub wsus_group: Option<String>,
    /// The cluster's witness when the inventory does not show it (plain
    /// captures) or you know better: disk, file-share, cloud or none.
    #[arg(long, value_name = "KIND", value_parser = parse_witness)]
    pub witness: Option<WitnessArg>,
    /// Node votes (NodeWeight) when the inventory lacks them, e.g. HV03=0,HV04=1.
    #[arg(long, value_delimiter = ',', value_name = "NODE=VOTES", value_parser = parse_vote)]
    pub node_votes: Vec<(String, u32)>,
    /// Memory every host must keep free for itself when it takes the drained
    /// node's VMs, e.g. 8GiB.
    #[arg(long, value_name = "SIZE", value_parser = lockstep_model::units::parse_bytes)]
    pub memory_reserve: Option<u64>,
    /// A cluster group that may stay offline (the health gate skips it); repeat for several.
    #[arg(long = "allow-offline-group", value_name = "GROUP")]
    pub allow_offline_groups: Vec<String>,
    /// Restart each node after its removals, before its installs, whatever the catalog says.
    #[arg(long)]
    pub reboot_between: bool,
}

/// `--witness`: `None` inside when the admin says there is none.
#[derive(Debug, Clone)]
pub struct WitnessArg(Option<String>);

fn parse_witness(s: &str) -> Result<WitnessArg, String> {
    lockstep_model::units::parse_witness(s).map(WitnessArg)
}

fn parse_vote(s: &str) -> Result<(String, u32), String> {
    let (node, votes) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NODE=VOTES such as HV03=0, found {s:?}"))?;
    let votes: u32 = votes
        .trim()
        .parse()
        .ok()
        .filter(|v| *v <= 1)
        .ok_or_else(|| format!("expected 0 or 1 votes (NodeWeight) for {node}, found {votes:?}"))?;
    Ok((node.trim().to_string(), votes))
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
        witness: args.witness.clone().map(|w| w.0),
        node_votes: args.node_votes.iter().cloned().collect(),
        memory_reserve_bytes: args.memory_reserve,
        allow_offline_groups: args.allow_offline_groups.clone(),
        reboot_between: args.reboot_between,
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
    let engine = PostureEngine::default();
    for c in &clusters {
        // Check's own judgement of the cluster: the secure plan installs
        // exactly what it reports missing.
        let report = judge_cluster(c, &engine, None, &knowledge);
        match plan_cluster(c, &report, &knowledge, &opts) {
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
