//! Emitters: the same [`Plan`] for the tools administrators already use.
//!
//! Each emitter refuses (returns an error with the reason) what it cannot
//! express: a refused plan, or for CAU a plan that needs an uninstall.

pub mod ansible;
mod ansible_scripts;
pub mod cau;
pub mod powershell;
pub mod wsus;

use crate::model::{Plan, PlanStatus};
use crate::quote::{InvalidValue, validate_path};
use crate::winargs;
use lockstep_model::KbId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    Text,
    Json,
    Powershell,
    Ansible,
    Wsus,
    Cau,
}

impl std::str::FromStr for Emit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "text" => Emit::Text,
            "json" => Emit::Json,
            "powershell" | "ps1" => Emit::Powershell,
            "ansible" => Emit::Ansible,
            "wsus" => Emit::Wsus,
            "cau" => Emit::Cau,
            _ => {
                return Err(format!(
                    "expected text, json, powershell, ansible, wsus or cau, found {s:?}"
                ));
            }
        })
    }
}

/// Settings only some emitters use; every path is validated and quoted.
#[derive(Debug, Clone, Default)]
pub struct EmitOptions {
    /// Folder with the .msu files (Ansible `source`, CAU layout copy).
    pub source: Option<String>,
    /// CAU hotfix root folder (`HotfixRootFolderPath`).
    pub cau_root: Option<String>,
    /// WSUS computer group under which the per-node approval groups are made.
    pub wsus_group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    #[error("the plan for {cluster} was refused, so there is nothing to run: {why}")]
    Refused { cluster: String, why: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Invalid(#[from] InvalidValue),
}

pub(crate) fn refuse_if_refused(plan: &Plan) -> Result<(), EmitError> {
    if plan.status == PlanStatus::Refused {
        return Err(EmitError::Refused {
            cluster: plan.cluster.clone(),
            why: plan.refusals.join("; "),
        });
    }
    Ok(())
}

pub(crate) fn checked(what: &'static str, v: &Option<String>) -> Result<Option<String>, EmitError> {
    match v {
        Some(p) => {
            validate_path(what, p)?;
            Ok(Some(p.clone()))
        }
        None => Ok(None),
    }
}

/// How wusa.exe runs one install or removal on a node, as a one-shot
/// SYSTEM scheduled task: every command line built by [`winargs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WusaTask {
    /// `lockstep-install-5033118`.
    pub task: String,
    /// The program, `%SystemRoot%\System32\wusa.exe` (expanded on the node).
    pub execute: String,
    /// wusa's arguments (`New-ScheduledTaskAction -Argument`), expanded on the node.
    pub argument: String,
    /// The whole argument line of `schtasks.exe /Create` (Windows Server
    /// 2008 R2, no ScheduledTasks module): its /TR runs wusa through
    /// `cmd.exe /s /c`, which writes wusa's exit code to `code_file`.
    pub schtasks: String,
    /// The exit-code file, relative to `%SystemRoot%`.
    pub code_file: String,
}

/// Where the scripts put a KB's .msu on the node, relative to `%SystemRoot%`.
pub fn msu_on_node(kb: KbId) -> String {
    format!("Temp\\lockstep\\KB{}.msu", kb.number())
}

/// wusa's arguments for an install (`msu` is the package's path on the
/// node) or a removal.
pub fn wusa_arguments(operation: &str, kb: KbId, msu: &str) -> Vec<String> {
    if operation == "install" {
        vec![msu.to_string(), "/quiet".into(), "/norestart".into()]
    } else {
        vec![
            "/uninstall".into(),
            format!("/kb:{}", kb.number()),
            "/quiet".into(),
            "/norestart".into(),
        ]
    }
}

pub fn wusa_task(operation: &str, kb: KbId) -> Result<WusaTask, InvalidValue> {
    let root = "%SystemRoot%";
    let execute = format!("{root}\\System32\\wusa.exe");
    let msu = format!("{root}\\{}", msu_on_node(kb));
    // Paths with %SystemRoot% are always quoted: expanded, they may hold spaces.
    let argument = wusa_arguments(operation, kb, &msu)
        .iter()
        .map(|a| {
            if a.contains('%') {
                winargs::quoted(a)
            } else {
                winargs::arg(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let task = format!("lockstep-{operation}-{}", kb.number());
    let code_file = format!("Temp\\lockstep\\{operation}-{}.exitcode", kb.number());
    let inner = format!(
        "{} {argument} & call echo %^errorlevel% > {}",
        winargs::quoted(&execute),
        winargs::quoted(&format!("{root}\\{code_file}"))
    );
    let tr = format!(
        "{} {}",
        winargs::program(&format!("{root}\\System32\\cmd.exe"))?,
        winargs::cmd_c(&inner)?
    );
    Ok(WusaTask {
        schtasks: winargs::schtasks_create(&task, &tr)?,
        task,
        execute,
        argument,
        code_file,
    })
}

/// Renders the plan in one format.
pub fn emit(plan: &Plan, format: Emit, opts: &EmitOptions) -> Result<String, EmitError> {
    match format {
        Emit::Text => Ok(crate::text::render_text(plan)),
        Emit::Json => Ok(crate::text::render_json(plan)),
        Emit::Powershell => powershell::emit(plan, opts),
        Emit::Ansible => ansible::emit(plan, opts),
        Emit::Wsus => wsus::emit(plan, opts),
        Emit::Cau => cau::emit(plan, opts),
    }
}
