//! One Windows PowerShell 5.1 script that runs the plan from a cluster node
//! or a management host with the FailoverClusters module.
//!
//! The script is a fixed body (below) plus a data section: the plan's nodes,
//! steps and waves as single-quoted literals built by [`crate::quote::ps`].
//! No input value is ever spliced into code or comments, so the tests can
//! parse the script and check that every node name and package name occurs
//! only inside a single-quoted string.
//!
//! Mechanisms:
//! * Windows 6.x: `wusa.exe <msu> /quiet /norestart` and
//!   `wusa.exe /uninstall /kb:N /quiet /norestart`. wusa cannot run inside a
//!   WinRM session (Microsoft KB2773898: "Installing an update using WUSA or
//!   the WUA APIs on a remote machine isn't supported", it fails with 0x5),
//!   so the script runs it on the node as a one-shot SYSTEM scheduled task:
//!   registered with the ScheduledTasks cmdlets where the node has them
//!   (2012 and later; the exit code is the task's LastTaskResult), created
//!   with schtasks.exe on 2008 R2 (through `cmd.exe /s /c`, which writes
//!   the exit code to a file). Every command line is built in Rust by
//!   [`crate::winargs`] and written into the data section as a literal
//!   ([`super::wusa_task`]); the tests parse them back by the Windows rules.
//! * Windows 10 / Server 2016 and later: DISM, `Add-WindowsPackage -Online
//!   -PackagePath <msu> -NoRestart` and `Remove-WindowsPackage -Online
//!   -PackageName <name> -NoRestart`. Microsoft deprecated the quiet wusa
//!   uninstall in Windows 10 1507 ("Deprecated features for Windows client",
//!   https://learn.microsoft.com/windows/whats-new/deprecated-features: "The
//!   wusa usage to quietly uninstall an update has been deprecated. The
//!   uninstall command with /quiet switch fails with event ID 8 in the Setup
//!   event log."). Add-WindowsPackage "adds a single .cab or .msu file"
//!   (https://learn.microsoft.com/powershell/module/dism/add-windowspackage);
//!   Remove-WindowsPackage cannot take an .msu ("Only .cab files can be
//!   specified. You cannot use this command to remove .msu files",
//!   https://learn.microsoft.com/powershell/module/dism/remove-windowspackage),
//!   so it gets the package identity from `Get-WindowsPackage -Online`.
//!
//! What each node's release supports (drain, ScheduledTasks) comes from
//! [`lockstep_model::capabilities`]; unknown releases are checked on the
//! node. The script refuses to run on a node it drains, skips the groups
//! `-ExcludeGroup` names in its health gate, and checks capacity live the
//! way the planner does: each running VM must fit on one node that stays up.
//!
//! Installer results are classified alike for both: 0 success, 3010 reboot
//! required, 0x240006 (2359302) already installed, 0x80240017
//! (-2145124329) not applicable — on an install that means an installed
//! update supersedes it, and the node stops with that message. DISM's
//! CBS_E_NOT_APPLICABLE (0x800F081E) maps to the same verdict.

use super::{EmitError, EmitOptions, refuse_if_refused, wusa_task};
use crate::model::{Mechanism, NodePlan, Plan, RebootRule, Step};
use crate::quote::{ps, validate_host, validate_package};
use lockstep_model::WinVersion;
use lockstep_model::capabilities::{Feature, supports};

fn ps_array(items: &[String]) -> String {
    if items.is_empty() {
        "@()".to_string()
    } else {
        format!("@({})", items.join(", "))
    }
}

fn bool_ps(b: bool) -> &'static str {
    if b { "$true" } else { "$false" }
}

/// `drain`, `pause` (2008 R2: no -Drain) or `auto` (release unknown).
fn drain_mode(n: &NodePlan) -> &'static str {
    let v: Option<WinVersion> = n.os_version.as_deref().and_then(|v| v.parse().ok());
    match supports(v.as_ref(), Feature::ClusterDrain) {
        Some(true) => "drain",
        Some(false) => "pause",
        None => "auto",
    }
}

/// `scheduledtasks`, `schtasks` (2008 R2) or `auto`.
fn runner(n: &NodePlan) -> &'static str {
    let v: Option<WinVersion> = n.os_version.as_deref().and_then(|v| v.parse().ok());
    match supports(v.as_ref(), Feature::ScheduledTasksCmdlets) {
        Some(true) => "scheduledtasks",
        Some(false) => "schtasks",
        None => "auto",
    }
}

fn step_line(n: &NodePlan, s: &Step) -> Result<String, EmitError> {
    let empty = String::new;
    let (action, kb, package, present, restart) = match s {
        Step::Drain => ("drain", empty(), empty(), Vec::new(), false),
        Step::Uninstall {
            kb,
            package,
            reboot,
            ..
        } => {
            if let Some(p) = package {
                validate_package(p)?;
            }
            (
                "uninstall",
                kb.number().to_string(),
                package.clone().unwrap_or_default(),
                Vec::new(),
                *reboot == RebootRule::IfRequested,
            )
        }
        Step::Install { kb, .. } => (
            "install",
            kb.number().to_string(),
            empty(),
            Vec::new(),
            false,
        ),
        Step::Reboot { .. } => ("reboot", empty(), empty(), Vec::new(), false),
        Step::Verify { present } => (
            "verify",
            empty(),
            empty(),
            present
                .iter()
                .map(|k| ps(&k.number().to_string()))
                .collect(),
            false,
        ),
        Step::Resume => ("resume", empty(), empty(), Vec::new(), false),
    };
    // wusa's task and command lines, for the nodes that may run wusa.
    let wusa = match (s, n.mechanism) {
        (Step::Install { kb, .. }, Mechanism::Wusa | Mechanism::Auto) => {
            Some(wusa_task("install", *kb)?)
        }
        (Step::Uninstall { kb, .. }, Mechanism::Wusa | Mechanism::Auto) => {
            Some(wusa_task("uninstall", *kb)?)
        }
        _ => None,
    };
    let (task, execute, argument, schtasks, code_file) = match &wusa {
        Some(w) => (
            w.task.as_str(),
            w.execute.as_str(),
            w.argument.as_str(),
            w.schtasks.as_str(),
            w.code_file.as_str(),
        ),
        None => ("", "", "", "", ""),
    };
    Ok(format!(
        "            [pscustomobject]@{{ Action = {}; Kb = {}; Package = {}; Present = {}; RestartIfRequested = {}; Task = {}; Execute = {}; Argument = {}; Schtasks = {}; CodeFile = {} }}\n",
        ps(action),
        ps(&kb),
        ps(&package),
        ps_array(&present),
        bool_ps(restart),
        ps(task),
        ps(execute),
        ps(argument),
        ps(schtasks),
        ps(code_file),
    ))
}

fn data_section(plan: &Plan) -> Result<String, EmitError> {
    let mut d = String::new();
    d.push_str(&format!("$LockstepClusterLabel = {}\n", ps(&plan.cluster)));
    d.push_str(&format!("$LockstepTarget = {}\n", ps(plan.target.label())));
    d.push_str(&format!(
        "$MaxFailedNodes = {}\n",
        plan.settings.max_failed_nodes
    ));
    d.push_str(&format!("$Retries = {}\n", plan.settings.retries));
    d.push_str(&format!(
        "$RebootTimeoutMinutes = {}\n",
        plan.settings.reboot_timeout_minutes
    ));
    d.push_str(&format!(
        "$MemoryReserveBytes = {}\n",
        plan.settings.memory_reserve_bytes
    ));
    d.push_str("$LockstepNodes = @(\n");
    for n in &plan.nodes {
        validate_host("node name", &n.name)?;
        d.push_str("    [pscustomobject]@{\n");
        d.push_str(&format!("        Node      = {}\n", ps(&n.name)));
        d.push_str(&format!("        Canary    = {}\n", bool_ps(n.canary)));
        d.push_str(&format!(
            "        Mechanism = {}\n",
            ps(n.mechanism.label())
        ));
        d.push_str(&format!("        Drain     = {}\n", ps(drain_mode(n))));
        d.push_str(&format!("        Runner    = {}\n", ps(runner(n))));
        d.push_str("        Steps     = @(\n");
        for s in &n.steps {
            d.push_str(&step_line(n, s)?);
        }
        d.push_str("        )\n    }\n");
    }
    d.push_str(")\n$LockstepWaves = @(\n");
    for w in &plan.waves {
        let names: Vec<String> = w.nodes.iter().map(|n| ps(n)).collect();
        d.push_str(&format!(
            "    [pscustomobject]@{{ Nodes = {}; SoakSeconds = {} }}\n",
            ps_array(&names),
            w.soak_seconds.unwrap_or(0)
        ));
    }
    d.push_str(")\n");
    Ok(d)
}

const HEADER: &str = r#"#Requires -Version 5.1
<#
.SYNOPSIS
    Runs a lockstep plan: patches the cluster's nodes one drained node at a time.

.DESCRIPTION
    Generated by lockstep; review it before running (use -WhatIf first).
    Run it from a management host with the FailoverClusters module (or from a
    node the plan leaves untouched): it refuses to run on a node it drains.
    For every node, in order: health gate, drain (Suspend-ClusterNode -Drain -Wait;
    on Windows Server 2008 R2 pause and live-migrate), the node's uninstalls and
    installs in the order the plan derived from the supersedence chains (a
    removal that asks for a restart gets one before the next install), restart
    (Restart-Computer -Wait -For PowerShell), verification of the node's updates
    (Get-HotFix), resume (Resume-ClusterNode -Failback Immediate), health gate.
    The first node is the canary; with a soak time the script waits after it.
    It stops at the first failure with a message saying what failed and how to
    continue (-ResumeFrom). Every step is idempotent: an update already
    present is not installed again, one already absent is not removed again.

.PARAMETER Source
    Folder with the .msu files, one per KB, each file name containing KBnnnnnnn
    (as the Microsoft Update Catalog names them).

.PARAMETER ResumeFrom
    Start at this node after a stop; the nodes before it in the plan are skipped.

.PARAMETER Cluster
    The cluster to act on (default: the cluster of this node).

.PARAMETER ExcludeGroup
    Cluster groups the health gate lets stay offline (default: the plan's
    --allow-offline-group names).

.PARAMETER LogPath
    Transcript file (default: lockstep-plan-<time>.log in the TEMP folder).

.EXAMPLE
    .\lockstep-plan.ps1 -Source \\fileserver\updates -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]
param(
    [Parameter(Mandatory = $true)]
    [string] $Source,
    [string] $ResumeFrom = '',
    [string] $Cluster = '.',
"#;

const AFTER_PARAMS: &str = r#"    [string] $LogPath = ''
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
Import-Module -Name FailoverClusters

# ---- The plan (data only: every value is a single-quoted literal) ----
"#;

const BODY: &str = include_str!("lockstep-plan.body.ps1");

/// The whole script.
pub fn emit(plan: &Plan, _opts: &EmitOptions) -> Result<String, EmitError> {
    refuse_if_refused(plan)?;
    let mut s = String::new();
    s.push_str(HEADER);
    let groups: Vec<String> = plan
        .settings
        .allow_offline_groups
        .iter()
        .map(|g| ps(g))
        .collect();
    s.push_str(&format!(
        "    [string[]] $ExcludeGroup = {},\n",
        ps_array(&groups)
    ));
    s.push_str(AFTER_PARAMS);
    s.push_str(&data_section(plan)?);
    s.push_str(BODY);
    Ok(s)
}
