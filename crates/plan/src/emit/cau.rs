//! Cluster-Aware Updating with the hotfix plug-in, for install-only plans.
//!
//! Layout (Microsoft, "How Cluster-Aware Updating plug-ins work", section
//! "Use the Microsoft.HotfixPlugin"): a hotfix root folder holding the
//! configuration file `DefaultHotfixConfig.xml`, a `CAUHotfix_All` folder
//! for updates every node gets, and one folder per node, named with the
//! node's NetBIOS name, for updates only that node gets. The configuration
//! file follows the documented structure (`DefaultRules` / `ExtensionRules`
//! / `Extension name="MSU"` with a `Template` (`path`, `parameters`,
//! `$update$`) and `ExitConditions` (`Success`, `Success_RebootRequired`,
//! `AlreadyInstalled`, `NotApplicable`); codes not listed count as failure).
//! The emitted script validates it against `HotfixConfigSchema.xsd` from
//! the ClusterAwareUpdating module folder when that file is present.
//!
//! CAU cannot express an uninstall, so a plan that removes a superseding
//! update is refused with the reason; so is a plan for Windows Server 2008
//! R2 nodes, which have no CAU. CAU does not document the order in
//! which it installs the files of one folder, so a node that installs more
//! than one update gets one Updating Run per position in its order (pass 1
//! installs every node's first update, pass 2 the second, ...): the
//! supersedence order survives at the cost of a restart per pass.

use super::{EmitError, EmitOptions, checked, refuse_if_refused};
use crate::model::{Plan, Step};
use crate::quote::{ps, validate_host, xml};
use lockstep_model::capabilities::{Feature, release_name, supports};
use lockstep_model::{KbId, WinVersion};

/// `DefaultHotfixConfig.xml` for .msu files: wusa with the exit codes lockstep classifies.
pub fn hotfix_config_xml() -> String {
    let mut s = String::new();
    s.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    s.push_str("<HotfixConfiguration xmlns=\"http://schemas.microsoft.com/clusterawareupdating/2011/06\">\n");
    s.push_str("  <DefaultRules>\n    <ExtensionRules>\n      <Extension name=\"MSU\">\n");
    s.push_str(&format!(
        "        <Template path=\"{}\" parameters=\"{}\" />\n",
        xml("%systemroot%\\system32\\wusa.exe"),
        xml("$update$ /quiet /norestart")
    ));
    s.push_str("        <ExitConditions>\n");
    for (tag, code) in [
        ("Success", "0"),
        ("Success_RebootRequired", "3010"),
        ("AlreadyInstalled", "2359302"),
        ("NotApplicable", "-2145124329"),
    ] {
        s.push_str(&format!(
            "          <{tag}>\n            <ExitCode code=\"{code}\" />\n          </{tag}>\n"
        ));
    }
    s.push_str("        </ExitConditions>\n      </Extension>\n    </ExtensionRules>\n  </DefaultRules>\n</HotfixConfiguration>\n");
    s
}

pub fn emit(plan: &Plan, opts: &EmitOptions) -> Result<String, EmitError> {
    refuse_if_refused(plan)?;
    if plan.needs_uninstall() {
        let who: Vec<String> = plan
            .removals()
            .iter()
            .map(|(node, kbs)| format!("{node} must first remove {}", kbs.join(", ")))
            .collect();
        return Err(EmitError::Unsupported(format!(
            "CAU's hotfix plug-in only installs; this plan needs uninstalls ({}), because an installed update supersedes the one to install and Windows would answer \"not applicable\". Use --emit powershell or --emit ansible for this plan.",
            who.join("; ")
        )));
    }
    let old: Vec<String> = plan
        .nodes
        .iter()
        .filter_map(|n| {
            let v: Option<WinVersion> = n.os_version.as_deref().and_then(|v| v.parse().ok());
            (supports(v.as_ref(), Feature::ClusterAwareUpdating) == Some(false)).then(|| {
                format!(
                    "{} ({})",
                    n.name,
                    v.map_or_else(String::new, |v| release_name(&v))
                )
            })
        })
        .collect();
    if !old.is_empty() {
        return Err(EmitError::Unsupported(format!(
            "Cluster-Aware Updating needs Windows Server 2012 or later; {} cannot run it. Use --emit powershell or --emit ansible for this plan.",
            old.join(", ")
        )));
    }
    let root = checked("--cau-root folder", &opts.cau_root)?
        .unwrap_or_else(|| "\\\\fileserver\\CAUHotfix".to_string());
    let all_nodes: Vec<&str> = plan
        .nodes
        .iter()
        .map(|n| n.name.as_str())
        .chain(plan.untouched.iter().map(String::as_str))
        .collect();
    // installs per node, in plan order
    let per_node: Vec<(&str, Vec<KbId>)> = plan
        .nodes
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.steps
                    .iter()
                    .filter_map(|s| match s {
                        Step::Install { kb, .. } => Some(*kb),
                        _ => None,
                    })
                    .collect(),
            )
        })
        .collect();
    let passes = per_node.iter().map(|(_, k)| k.len()).max().unwrap_or(0);
    let mut layout = Vec::new();
    for pass in 0..passes {
        // A KB every cluster node installs in this pass goes to CAUHotfix_All.
        let mut kbs_here: Vec<KbId> = per_node
            .iter()
            .filter_map(|(_, k)| k.get(pass).copied())
            .collect();
        kbs_here.sort();
        kbs_here.dedup();
        for kb in kbs_here {
            let takers: Vec<&str> = per_node
                .iter()
                .filter(|(_, k)| k.get(pass) == Some(&kb))
                .map(|(n, _)| *n)
                .collect();
            if takers.len() == all_nodes.len() {
                layout.push((pass + 1, "CAUHotfix_All".to_string(), kb));
            } else {
                for n in takers {
                    validate_host("node name", n)?;
                    let netbios = n.split('.').next().unwrap_or(n).to_string();
                    layout.push((pass + 1, netbios, kb));
                }
            }
        }
    }
    // -NodeOrder names every node: the plan's in plan order, then the
    // untouched ones (they find nothing to install and are not restarted).
    let order: Vec<String> = all_nodes.iter().map(|n| ps(n)).collect();
    let mut s = String::new();
    s.push_str("#Requires -Version 5.1\n<#\n.SYNOPSIS\n    Cluster-Aware Updating run(s) with Microsoft.HotfixPlugin for a lockstep plan.\n\n.DESCRIPTION\n    Builds the hotfix root folder (DefaultHotfixConfig.xml, CAUHotfix_All, one folder per node)\n    from the .msu files in -Source, then runs Invoke-CauRun once per pass. A node that installs\n    several updates installs them in separate passes, in the order the plan derived from the\n    supersedence chains (CAU does not document the order within one folder).\n#>\n[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]\nparam(\n    [Parameter(Mandatory = $true)]\n    [string] $Source,\n");
    s.push_str(&format!("    [string] $HotfixRoot = {},\n", ps(&root)));
    s.push_str("    [string] $ClusterName = '.'\n)\n\nSet-StrictMode -Version 2.0\n$ErrorActionPreference = 'Stop'\nImport-Module -Name ClusterAwareUpdating\n\n");
    s.push_str(&format!("$LockstepClusterLabel = {}\n", ps(&plan.cluster)));
    s.push_str(&format!(
        "$MaxFailedNodes = {}\n",
        plan.settings.max_failed_nodes
    ));
    s.push_str(&format!(
        "$MaxRetriesPerNode = {}\n",
        plan.settings.retries + 1
    ));
    s.push_str(&format!("$NodeOrder = @({})\n", order.join(", ")));
    s.push_str("$Layout = @(\n");
    for (pass, folder, kb) in &layout {
        s.push_str(&format!(
            "    [pscustomobject]@{{ Pass = {pass}; Folder = {}; Kb = {} }}\n",
            ps(folder),
            ps(&kb.number().to_string())
        ));
    }
    s.push_str(")\n");
    s.push_str(&format!("$Passes = {passes}\n\n"));
    s.push_str("# DefaultHotfixConfig.xml (documented structure; .msu through wusa.exe).\n$HotfixConfig = @'\n");
    s.push_str(&hotfix_config_xml());
    s.push_str("'@\n");
    s.push_str(CAU_BODY);
    Ok(s)
}

const CAU_BODY: &str = r#"
$xsd = Join-Path -Path $PSHOME -ChildPath 'Modules\ClusterAwareUpdating\HotfixConfigSchema.xsd'
if (Test-Path -LiteralPath $xsd) {
    $settings = New-Object System.Xml.XmlReaderSettings
    $settings.ValidationType = [System.Xml.ValidationType]::Schema
    [void]$settings.Schemas.Add($null, $xsd)
    $reader = [System.Xml.XmlReader]::Create((New-Object System.IO.StringReader($HotfixConfig)), $settings)
    while ($reader.Read()) { }
    $reader.Close()
}

for ($pass = 1; $pass -le $Passes; $pass++) {
    $root = $HotfixRoot
    if ($Passes -gt 1) { $root = Join-Path -Path $HotfixRoot -ChildPath ('pass' + $pass) }
    if ($PSCmdlet.ShouldProcess($root, 'create the hotfix root folder')) {
        New-Item -ItemType Directory -Force -Path (Join-Path -Path $root -ChildPath 'CAUHotfix_All') | Out-Null
        Set-Content -LiteralPath (Join-Path -Path $root -ChildPath 'DefaultHotfixConfig.xml') -Value $HotfixConfig -Encoding UTF8
        foreach ($item in @($Layout | Where-Object { $_.Pass -eq $pass })) {
            $dir = Join-Path -Path $root -ChildPath $item.Folder
            New-Item -ItemType Directory -Force -Path $dir | Out-Null
            $files = @(Get-ChildItem -LiteralPath $Source -Filter ('*KB' + $item.Kb + '*.msu') -File)
            if ($files.Count -ne 1) { throw ('lockstep: expected exactly one .msu for KB' + $item.Kb + ' in ' + $Source + ', found ' + $files.Count) }
            Copy-Item -LiteralPath $files[0].FullName -Destination $dir -Force
        }
    }
    if ($PSCmdlet.ShouldProcess($ClusterName, ('Invoke-CauRun pass ' + $pass))) {
        Invoke-CauRun -ClusterName $ClusterName -CauPluginName 'Microsoft.HotfixPlugin' -CauPluginArguments @{ 'HotfixRootFolderPath' = $root; 'HotfixConfigFileName' = 'DefaultHotfixConfig.xml' } -MaxFailedNodes $MaxFailedNodes -MaxRetriesPerNode $MaxRetriesPerNode -RequireAllNodesOnline -NodeOrder $NodeOrder -EnableFirewallRules -Force
    }
}
"#;
