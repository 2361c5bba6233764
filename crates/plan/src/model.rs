//! The plan as data: what `lockstep plan` decided, in the order it runs.
//!
//! Every emitter (text, JSON, PowerShell, Ansible, WSUS, CAU) renders this one
//! structure, so they cannot disagree about the order. The JSON form is
//! documented by `schema/plan-v1.schema.json`.

use lockstep_check::drift::DriftClass;
use lockstep_model::KbId;
use serde::{Deserialize, Serialize};

pub const PLAN_SCHEMA: &str = "lockstep-plan/1";

/// What the plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Close real gaps only: the *missing* and *suspect* drift classes.
    Secure,
    /// Make every node carry the same updates so cluster validation passes:
    /// also the *covered* and *unknown* classes, with uninstall / install /
    /// reinstall where supersedence blocks a plain install.
    Converge,
}

impl Target {
    pub fn label(self) -> &'static str {
        match self {
            Target::Secure => "secure",
            Target::Converge => "converge",
        }
    }

    /// Whether a drift class is closed under this target.
    pub fn closes(self, class: DriftClass) -> bool {
        match self {
            Target::Secure => matches!(class, DriftClass::Missing | DriftClass::Suspect),
            Target::Converge => !matches!(class, DriftClass::NotApplicable),
        }
    }
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "secure" => Ok(Target::Secure),
            "converge" => Ok(Target::Converge),
            _ => Err(format!("expected secure or converge, found {s:?}")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanStatus {
    /// Steps to run.
    Ready,
    /// Nothing to do for this target.
    Empty,
    /// Running it would endanger the cluster (quorum, capacity) or cannot work;
    /// `refusals` says why. No steps are emitted.
    Refused,
}

/// How updates are installed and removed on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mechanism {
    /// `wusa.exe` (Windows 6.x: Server 2008 to 2012 R2).
    Wusa,
    /// DISM package servicing (`Add-WindowsPackage` / `Remove-WindowsPackage`),
    /// Windows 10 / Server 2016 and later, where `wusa.exe /uninstall /quiet`
    /// is no longer supported.
    Dism,
    /// The OS version is unknown: the script picks one at run time.
    Auto,
}

impl Mechanism {
    pub fn label(self) -> &'static str {
        match self {
            Mechanism::Wusa => "wusa",
            Mechanism::Dism => "dism",
            Mechanism::Auto => "auto",
        }
    }
}

/// One action on one node, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Step {
    /// `Suspend-ClusterNode -Drain -Wait`: roles move to the other nodes.
    Drain,
    Uninstall {
        kb: KbId,
        /// DISM package name from the inventory (`Get-WindowsPackage`), when
        /// the mechanism is DISM and the inventory had it; otherwise the
        /// script looks it up on the node.
        package: Option<String>,
        reason: String,
        /// How the restart this removal may need is made before the next install.
        reboot: RebootRule,
    },
    Install {
        kb: KbId,
        /// Put back after an uninstall that made room for an older update.
        reinstall: bool,
        reason: String,
    },
    Reboot {
        reason: String,
    },
    /// The listed updates must be installed (and `absent` not) after the reboot.
    Verify {
        present: Vec<KbId>,
    },
    /// `Resume-ClusterNode -Failback Immediate`.
    Resume,
}

impl Step {
    pub fn label(&self) -> String {
        match self {
            Step::Drain => "drain".into(),
            Step::Uninstall { kb, .. } => format!("uninstall {kb}"),
            Step::Install { kb, .. } => format!("install {kb}"),
            Step::Reboot { .. } => "reboot".into(),
            Step::Verify { .. } => "verify".into(),
            Step::Resume => "resume".into(),
        }
    }
}

/// When a removal's restart happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RebootRule {
    /// A reboot step follows the removals (the catalog says the update
    /// needs a restart, it is cumulative, or `--reboot-between`).
    Planned,
    /// Nothing says a restart is needed: the node restarts before the next
    /// install only if the removal asks for one (exit code 3010), so that
    /// the install is not judged against a half-removed update.
    IfRequested,
}

/// A security update (or one whose classification is unknown) absent from a
/// node for a while: removed to make room, reinstalled later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    pub node: String,
    pub kb: KbId,
    /// True when the catalog or the inventory calls it a security update;
    /// null when nothing says (no catalog).
    pub security: Option<bool>,
    /// 1-based positions in the node's steps: the uninstall and the reinstall.
    pub from_step: usize,
    pub until_step: usize,
    /// Restarts between the two.
    pub restarts: usize,
    /// "KB2616676 is absent from HV03 from step 2 (uninstall) to step 4 (reinstall), …".
    pub window: String,
}

/// What one node goes through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePlan {
    pub name: String,
    /// OS version as the inventory states it.
    pub os_version: Option<String>,
    pub mechanism: Mechanism,
    /// Cluster groups the node owns (its roles); `None` when unknown.
    pub roles: Option<usize>,
    /// First node, run alone, followed by the soak time.
    pub canary: bool,
    /// The node closes a real gap (a missing or suspect update): such
    /// nodes go first.
    pub gap: bool,
    pub steps: Vec<Step>,
    /// Updates installed for the target (not counting reinstalls).
    pub installs: Vec<KbId>,
    /// Superseding updates removed first and reinstalled after.
    pub reinstalls: Vec<KbId>,
    pub reboots: usize,
}

/// Nodes taken down together, between two health gates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wave {
    pub nodes: Vec<String>,
    /// Seconds to wait after this wave before the next (canary soak).
    pub soak_seconds: Option<u64>,
}

/// A drift the plan does not touch, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftAlone {
    pub kb: KbId,
    pub nodes: Vec<String>,
    pub class: DriftClass,
    /// "KB2607712 on HV03, HV04: covered by KB2616676, supersedence intended — left alone under --target secure".
    pub reason: String,
}

/// Quorum arithmetic for the largest wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumCheck {
    /// Node votes (NodeWeight) plus the witness vote.
    pub total_votes: u32,
    pub witness: Option<String>,
    /// Votes needed to keep quorum: more than half of `total_votes`.
    pub majority: u32,
    /// Whether node votes and the witness came from the inventory or the
    /// admin (false: every node assumed to vote, no witness assumed;
    /// checked live).
    pub verified: bool,
    /// Whether the counts are the dynamic votes (DynamicWeight) the
    /// inventory shows: a node dynamic quorum has already taken the vote
    /// from does not lower the count when it goes down.
    pub dynamic: bool,
    pub explanation: String,
}

/// Memory needed by a drained node's VMs against what the others have free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityCheck {
    /// Nodes drained together (one wave).
    pub nodes: Vec<String>,
    /// Assigned memory of the running VMs on those nodes.
    pub vm_memory_bytes: u64,
    pub vm_count: usize,
    /// Free memory on the nodes that stay up.
    pub free_bytes: u64,
    pub fits: bool,
    pub explanation: String,
}

/// Options the plan was made with, so emitters and readers see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSettings {
    pub max_parallel: u32,
    pub max_failed_nodes: u32,
    pub retries: u32,
    pub soak_seconds: Option<u64>,
    /// `gaps-first` (nodes with a real gap, then fewest roles) or `given`.
    pub order: String,
    pub reboot_timeout_minutes: u32,
    /// The witness the admin stated (`DiskWitness`, `FileShareWitness`,
    /// `CloudWitness`, `none`), over what the inventory says.
    pub witness: Option<String>,
    /// Node votes the admin stated, over the inventory's NodeWeight.
    pub node_votes: std::collections::BTreeMap<String, u32>,
    /// Memory every host that stays up keeps free for itself.
    pub memory_reserve_bytes: u64,
    /// Cluster groups that may stay offline (the health gate skips them).
    pub allow_offline_groups: Vec<String>,
    /// A restart after the removals on every node, whatever the catalog says.
    pub reboot_between: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub schema: String,
    pub cluster: String,
    pub target: Target,
    pub status: PlanStatus,
    /// One line saying what the plan does or why it does nothing.
    pub summary: String,
    /// Why the plan was refused (empty unless `status` is `refused`).
    pub refusals: Vec<String>,
    pub warnings: Vec<String>,
    /// Updates removed for a while (the uninstall / reinstall dance), with
    /// the window each is absent.
    pub removals: Vec<Removal>,
    pub left_alone: Vec<LeftAlone>,
    /// Facts the inventory lacked; the emitted scripts check them live.
    pub unverified: Vec<String>,
    pub settings: PlanSettings,
    pub quorum: QuorumCheck,
    pub capacity: Vec<CapacityCheck>,
    /// Nodes in the order they are patched.
    pub nodes: Vec<NodePlan>,
    pub waves: Vec<Wave>,
    /// Nodes the plan does not change.
    pub untouched: Vec<String>,
    /// The checks run before and after every wave, in words.
    pub gates: Vec<String>,
}

impl Plan {
    pub fn node(&self, name: &str) -> Option<&NodePlan> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// Whether any node must uninstall something (CAU's hotfix plug-in cannot).
    pub fn needs_uninstall(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| n.steps.iter().any(|s| matches!(s, Step::Uninstall { .. })))
    }

    /// Each node that must uninstall something, with the KBs it removes, in
    /// plan order (what the install-only emitters name when they refuse).
    pub fn removals(&self) -> Vec<(&str, Vec<String>)> {
        self.nodes
            .iter()
            .filter_map(|n| {
                let kbs: Vec<String> = n
                    .steps
                    .iter()
                    .filter_map(|s| match s {
                        Step::Uninstall { kb, .. } => Some(kb.to_string()),
                        _ => None,
                    })
                    .collect();
                (!kbs.is_empty()).then_some((n.name.as_str(), kbs))
            })
            .collect()
    }
}
