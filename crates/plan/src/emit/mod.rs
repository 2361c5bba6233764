//! Emitters: the same [`Plan`] for the tools administrators already use.
//!
//! Each emitter refuses (returns an error with the reason) what it cannot
//! express: a refused plan, or for CAU a plan that needs an uninstall.

pub mod ansible;
pub mod cau;
pub mod powershell;
pub mod wsus;

use crate::model::{Plan, PlanStatus};
use crate::quote::{InvalidValue, validate_path};

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
    /// WSUS computer target group to approve for.
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
