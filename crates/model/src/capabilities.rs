//! What each Windows Server release supports, as one table: every emitter
//! (text plan, PowerShell, Ansible) and check's advice ask it before they
//! name a cmdlet, a parameter or a module, so that a Windows Server 2008 R2
//! node is never told to run something 2008 R2 lacks.
//!
//! Each row gives the first release that has the feature and the Microsoft
//! documentation that says so (the per-release cmdlet references on
//! learn.microsoft.com list the parameters each release has).

use crate::WinVersion;

/// A cmdlet, parameter or module whose presence depends on the OS release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// `Suspend-ClusterNode -Drain` and `Resume-ClusterNode -Failback`.
    ClusterDrain,
    /// The DISM PowerShell module (`Add-/Remove-/Get-WindowsPackage`);
    /// Ansible's `win_hotfix` needs it.
    DismCmdlets,
    /// The ScheduledTasks module (`Register-ScheduledTask`,
    /// `New-ScheduledTaskAction`, `Get-ScheduledTaskInfo`).
    ScheduledTasksCmdlets,
    /// The Hyper-V module (`Get-VM`).
    HyperVCmdlets,
    /// `Get-ClusterSharedVolumeState`.
    CsvStateCmdlet,
    /// `Set-ClusterQuorum -FileShareWitness` / `-DiskWitness` / `-NoWitness`
    /// (before: `-NodeAndFileShareMajority` / `-NodeAndDiskMajority`).
    QuorumWitnessParameters,
    /// `Set-ClusterQuorum -CloudWitness` (an Azure storage account witness).
    CloudWitness,
    /// Dynamic quorum: the cluster adjusts node votes (`DynamicWeight`).
    DynamicQuorum,
    /// Microsoft Defender and its module (`Get-MpPreference`, `Add-MpPreference`).
    DefenderCmdlets,
    /// Cluster-Aware Updating (`Invoke-CauRun`, the hotfix plug-in).
    ClusterAwareUpdating,
    /// `wusa.exe /uninstall /kb:N /quiet`; deprecated from Windows 10 /
    /// Server 2016 on (it fails with event 8), where DISM removes updates.
    WusaQuietUninstall,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Support {
    pub feature: Feature,
    /// What the feature is, as an admin would search for it.
    pub what: &'static str,
    /// First release that has it: (major, minor, build).
    pub since: (u32, u32, u32),
    /// Last release that has it, when it was removed.
    pub until: Option<(u32, u32, u32)>,
    /// Where Microsoft says so.
    pub source: &'static str,
}

const WS2012: (u32, u32, u32) = (6, 2, 9200);
const WS2012R2: (u32, u32, u32) = (6, 3, 9600);
const WS2016: (u32, u32, u32) = (10, 0, 14393);

/// The table. Releases before the first row's `since` lack the feature.
pub const TABLE: &[Support] = &[
    Support {
        feature: Feature::ClusterDrain,
        what: "Suspend-ClusterNode -Drain, Resume-ClusterNode -Failback",
        since: WS2012,
        until: None,
        source: "learn.microsoft.com Suspend-ClusterNode (FailoverClusters 2.0, Windows Server 2012); the 2008 R2 cmdlet (ee461012) has no -Drain",
    },
    Support {
        feature: Feature::DismCmdlets,
        what: "DISM PowerShell module (Add-WindowsPackage, Remove-WindowsPackage, Get-WindowsPackage)",
        since: WS2012,
        until: None,
        source: "learn.microsoft.com DISM module (Windows 8 / Server 2012); ansible.windows.win_hotfix: requires the DISM cmdlets, default on Windows 8 / Server 2012 and newer",
    },
    Support {
        feature: Feature::ScheduledTasksCmdlets,
        what: "ScheduledTasks module (Register-ScheduledTask, New-ScheduledTaskAction)",
        since: WS2012,
        until: None,
        source: "learn.microsoft.com ScheduledTasks module (Windows 8 / Server 2012)",
    },
    Support {
        feature: Feature::HyperVCmdlets,
        what: "Hyper-V module (Get-VM)",
        since: WS2012,
        until: None,
        source: "learn.microsoft.com Hyper-V module (Windows Server 2012)",
    },
    Support {
        feature: Feature::CsvStateCmdlet,
        what: "Get-ClusterSharedVolumeState",
        since: WS2012R2,
        until: None,
        source: "learn.microsoft.com Get-ClusterSharedVolumeState (Windows Server 2012 R2)",
    },
    Support {
        feature: Feature::QuorumWitnessParameters,
        what: "Set-ClusterQuorum -FileShareWitness / -DiskWitness / -NoWitness",
        since: WS2012R2,
        until: None,
        source: "learn.microsoft.com Set-ClusterQuorum: hh847275(v=wps.620) (2012) lists -NodeAndFileShareMajority / -NodeAndDiskMajority only, hh847275(v=wps.630) (2012 R2) -FileShareWitness / -DiskWitness",
    },
    Support {
        feature: Feature::CloudWitness,
        what: "Set-ClusterQuorum -CloudWitness",
        since: WS2016,
        until: None,
        source: "learn.microsoft.com Deploy a cloud witness for a failover cluster (Windows Server 2016 and later)",
    },
    Support {
        feature: Feature::DynamicQuorum,
        what: "dynamic quorum (Get-ClusterNode DynamicWeight)",
        since: WS2012,
        until: None,
        source: "learn.microsoft.com Configure and manage the quorum (dynamic quorum management, Windows Server 2012)",
    },
    Support {
        feature: Feature::DefenderCmdlets,
        what: "Microsoft Defender module (Get-MpPreference, Add-MpPreference)",
        since: WS2016,
        until: None,
        source: "learn.microsoft.com Microsoft Defender Antivirus on Windows Server (2016 and later); 2012 R2 and earlier have no Defender on Server",
    },
    Support {
        feature: Feature::ClusterAwareUpdating,
        what: "Cluster-Aware Updating (Invoke-CauRun)",
        since: WS2012,
        until: None,
        source: "learn.microsoft.com Cluster-Aware Updating overview (Windows Server 2012 and later)",
    },
    Support {
        feature: Feature::WusaQuietUninstall,
        what: "wusa.exe /uninstall /kb:N /quiet",
        since: (6, 0, 6001),
        until: Some((6, 3, 9600)),
        source: "learn.microsoft.com Deprecated features for Windows client: the quiet wusa uninstall is deprecated from Windows 10 1507 (fails with event ID 8)",
    },
];

/// The table's row for a feature.
pub fn row(feature: Feature) -> &'static Support {
    // Every feature has one row (a test checks it); the first is a safe
    // fallback that cannot be reached.
    TABLE
        .iter()
        .find(|s| s.feature == feature)
        .unwrap_or(&TABLE[0])
}

/// Whether a node with this OS version has the feature; `None` when the
/// version is unknown (the script then checks on the node).
pub fn supports(version: Option<&WinVersion>, feature: Feature) -> Option<bool> {
    let v = version?;
    let at = (v.major(), v.minor(), v.build());
    let s = row(feature);
    // A version without a build (`6.1`) compares by major and minor only.
    let key = |t: (u32, u32, u32)| {
        if v.len() >= 3 { t } else { (t.0, t.1, 0) }
    };
    let at = key(at);
    Some(at >= key(s.since) && s.until.is_none_or(|u| at <= key(u)))
}

/// The release's name for messages: `Windows Server 2008 R2` (the one table
/// of releases, `data/windows-builds.toml`).
pub fn release_name(version: &WinVersion) -> String {
    crate::windows::server_release_name(version)
}

/// The `Set-ClusterQuorum` command that adds a file-share witness on this
/// release (`-FileShareWitness` from 2012 R2 on, `-NodeAndFileShareMajority`
/// before), and, where the release has it, the cloud witness alternative.
pub fn witness_advice(version: Option<&WinVersion>) -> String {
    let new_params = supports(version, Feature::QuorumWitnessParameters);
    let cloud = supports(version, Feature::CloudWitness);
    let fsw = match new_params {
        Some(true) => "Set-ClusterQuorum -FileShareWitness \\\\server\\share",
        Some(false) => "Set-ClusterQuorum -NodeAndFileShareMajority \\\\server\\share",
        // Unknown release: the form every release accepts (-NodeAndFileShareMajority
        // is kept as an alias of -FileShareWitness from 2012 R2 on).
        None => "Set-ClusterQuorum -NodeAndFileShareMajority \\\\server\\share",
    };
    match cloud {
        Some(true) => format!(
            "{fsw}, or Set-ClusterQuorum -CloudWitness -AccountName <storage account> -AccessKey <key>"
        ),
        _ => fsw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> WinVersion {
        s.parse().unwrap()
    }

    #[test]
    fn every_feature_has_one_row() {
        use Feature::*;
        for f in [
            ClusterDrain,
            DismCmdlets,
            ScheduledTasksCmdlets,
            HyperVCmdlets,
            CsvStateCmdlet,
            QuorumWitnessParameters,
            CloudWitness,
            DynamicQuorum,
            DefenderCmdlets,
            ClusterAwareUpdating,
            WusaQuietUninstall,
        ] {
            assert_eq!(TABLE.iter().filter(|s| s.feature == f).count(), 1, "{f:?}");
        }
    }

    #[test]
    fn releases() {
        let r2008 = v("6.1.7601");
        let r2012 = v("6.2.9200");
        let r2016 = v("10.0.14393.6529");
        for f in [
            Feature::ClusterDrain,
            Feature::DismCmdlets,
            Feature::ScheduledTasksCmdlets,
            Feature::HyperVCmdlets,
            Feature::CsvStateCmdlet,
            Feature::QuorumWitnessParameters,
            Feature::CloudWitness,
            Feature::DefenderCmdlets,
        ] {
            assert_eq!(supports(Some(&r2008), f), Some(false), "{f:?}");
            assert_eq!(supports(Some(&r2016), f), Some(true), "{f:?}");
        }
        assert_eq!(supports(Some(&r2012), Feature::ClusterDrain), Some(true));
        assert_eq!(
            supports(Some(&r2012), Feature::QuorumWitnessParameters),
            Some(false)
        );
        assert_eq!(
            supports(Some(&v("6.3.9600")), Feature::QuorumWitnessParameters),
            Some(true)
        );
        assert_eq!(
            supports(Some(&r2008), Feature::WusaQuietUninstall),
            Some(true)
        );
        assert_eq!(
            supports(Some(&r2016), Feature::WusaQuietUninstall),
            Some(false)
        );
        assert_eq!(
            supports(Some(&v("6.1")), Feature::ClusterDrain),
            Some(false)
        );
        assert_eq!(supports(None, Feature::ClusterDrain), None);
        assert_eq!(release_name(&r2008), "Windows Server 2008 R2");
        assert_eq!(release_name(&v("10.0.20348")), "Windows Server 2022");
    }

    #[test]
    fn witness_advice_is_valid_on_the_release() {
        assert_eq!(
            witness_advice(Some(&v("6.1.7601"))),
            "Set-ClusterQuorum -NodeAndFileShareMajority \\\\server\\share"
        );
        assert_eq!(
            witness_advice(Some(&v("6.3.9600"))),
            "Set-ClusterQuorum -FileShareWitness \\\\server\\share"
        );
        assert_eq!(
            witness_advice(Some(&v("10.0.20348"))),
            "Set-ClusterQuorum -FileShareWitness \\\\server\\share, or Set-ClusterQuorum -CloudWitness -AccountName <storage account> -AccessKey <key>"
        );
    }
}
