//! Products: raw names as the sources spell them, normalised into servicing
//! products.
//!
//! MSRC and WES-NG name a product per architecture and installation option
//! ("Windows Server 2022 (Server Core installation)", "Windows 10 Version 1809
//! for x64-based Systems"). One update and one supersedence chain serve all of
//! them, so lockstep groups them into one *servicing product*. The rule, which
//! the check stage and the known-issues database rely on:
//!
//! servicing name = raw name with the architecture phrase (" for x64-based
//! Systems", " for 32-bit Systems", " for ARM64-based Systems", " for
//! Itanium-Based Systems", and the older " x64 Edition" / trailing " x64",
//! " 32-bit", " 64-bit" forms) and " (Server Core installation)" removed,
//! white space collapsed. The architecture is kept separately.
//!
//! Editions stay distinct: "Windows Server 2022, 23H2 Edition" is not
//! "Windows Server 2022", and ".NET Framework 4.8 on Windows Server 2022" is its
//! own product. Office's "(64-bit editions)" is left alone.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Architecture {
    X86,
    X64,
    Arm64,
    Itanium,
}

impl Architecture {
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86 => "x86",
            Architecture::X64 => "x64",
            Architecture::Arm64 => "arm64",
            Architecture::Itanium => "itanium",
        }
    }

    pub fn parse(s: &str) -> Option<Architecture> {
        match s {
            "x86" => Some(Architecture::X86),
            "x64" => Some(Architecture::X64),
            "arm64" => Some(Architecture::Arm64),
            "itanium" => Some(Architecture::Itanium),
            _ => None,
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Phrases removed anywhere in the name (matched case-insensitively).
const ARCH_PHRASES: &[(&str, Architecture)] = &[
    (" for x64-based Systems", Architecture::X64),
    (" for 32-bit Systems", Architecture::X86),
    (" for ARM64-based Systems", Architecture::Arm64),
    (" for Itanium-Based Systems", Architecture::Itanium),
    (" x64 Edition", Architecture::X64),
];

/// Suffixes removed only at the end of the name.
const ARCH_SUFFIXES: &[(&str, Architecture)] = &[
    (" x64", Architecture::X64),
    (" 32-bit", Architecture::X86),
    (" 64-bit", Architecture::X64),
];

const SERVER_CORE: &str = " (Server Core installation)";

/// A raw product name split into its servicing product and architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedProduct {
    pub servicing_name: String,
    pub architecture: Option<Architecture>,
    pub server_core: bool,
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    // ASCII case-insensitive search; the phrases are ASCII so byte offsets of a
    // match are char boundaries.
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    if n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Applies the servicing-product rule (see the module documentation).
pub fn normalize_product(raw: &str) -> NormalizedProduct {
    let mut name = raw.to_string();
    let mut architecture = None;
    let mut server_core = false;
    if let Some(i) = find_ci(&name, SERVER_CORE) {
        name.replace_range(i..i + SERVER_CORE.len(), "");
        server_core = true;
    }
    for (phrase, arch) in ARCH_PHRASES {
        if let Some(i) = find_ci(&name, phrase) {
            name.replace_range(i..i + phrase.len(), "");
            architecture.get_or_insert(*arch);
        }
    }
    if architecture.is_none() {
        for (suffix, arch) in ARCH_SUFFIXES {
            let n = name.len();
            if n > suffix.len()
                && name.is_char_boundary(n - suffix.len())
                && name[n - suffix.len()..].eq_ignore_ascii_case(suffix)
            {
                name.truncate(n - suffix.len());
                architecture = Some(*arch);
                break;
            }
        }
    }
    let servicing_name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    NormalizedProduct {
        servicing_name,
        architecture,
        server_core,
    }
}

/// The servicing product a Windows host runs, from its OS caption and build,
/// as MSRC names it. `None` when the build is unknown or not a Windows release
/// lockstep knows.
///
/// Server builds: 6001/6002 Server 2008 (SP1/SP2), 7600/7601 Server 2008 R2
/// (RTM/SP1), 9200 Server 2012, 9600 Server 2012 R2, 14393 Server 2016, 17763
/// Server 2019, 20348 Server 2022, 25398 Server 2022 23H2 edition, 26100
/// Server 2025. Client builds map to Windows 7/8.1/10/11 versions.
///
/// `caption` is the OS caption ("Microsoft Windows Server 2022 Standard") or,
/// lacking one, the installation type ("Server", "Server Core", "Client").
/// Without either, only builds that exist for one family map.
pub fn servicing_product_for(caption: Option<&str>, build: u32) -> Option<String> {
    let lower = caption.unwrap_or("").to_ascii_lowercase();
    let server = match caption {
        Some(_) => lower.contains("server"),
        None => match build {
            6001..=6003 | 20348 | 25398 => true,
            7600 | 7601 | 9200 | 9600 | 14393 | 17763 | 26100 => return None,
            _ => false,
        },
    };
    let name = if server {
        match build {
            6001 => "Windows Server 2008 Service Pack 1",
            6002 | 6003 => "Windows Server 2008 Service Pack 2",
            7600 => "Windows Server 2008 R2",
            7601 => "Windows Server 2008 R2 Service Pack 1",
            9200 => "Windows Server 2012",
            9600 => "Windows Server 2012 R2",
            14393 => "Windows Server 2016",
            17763 => "Windows Server 2019",
            20348 => "Windows Server 2022",
            25398 => "Windows Server 2022, 23H2 Edition",
            26100 => "Windows Server 2025",
            _ => return None,
        }
    } else {
        match build {
            7600 => "Windows 7",
            7601 => "Windows 7 Service Pack 1",
            9200 => "Windows 8",
            9600 => "Windows 8.1",
            10240 => "Windows 10",
            10586 => "Windows 10 Version 1511",
            14393 => "Windows 10 Version 1607",
            15063 => "Windows 10 Version 1703",
            16299 => "Windows 10 Version 1709",
            17134 => "Windows 10 Version 1803",
            17763 => "Windows 10 Version 1809",
            18362 => "Windows 10 Version 1903",
            18363 => "Windows 10 Version 1909",
            19041 => "Windows 10 Version 2004",
            19042 => "Windows 10 Version 20H2",
            19043 => "Windows 10 Version 21H1",
            19044 => "Windows 10 Version 21H2",
            19045 => "Windows 10 Version 22H2",
            22000 if lower.contains("windows 11") || !lower.contains("windows 10") => {
                "Windows 11 version 21H2"
            }
            22621 => "Windows 11 Version 22H2",
            22631 => "Windows 11 Version 23H2",
            26100 => "Windows 11 Version 24H2",
            _ => return None,
        }
    };
    // The build decides the service pack (7601 is SP1 whatever the text says).
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(raw: &str) -> (String, Option<Architecture>) {
        let p = normalize_product(raw);
        (p.servicing_name, p.architecture)
    }

    #[test]
    fn servicing_rule() {
        assert_eq!(
            n(
                "Windows Server 2008 R2 for x64-based Systems Service Pack 1 (Server Core installation)"
            ),
            (
                "Windows Server 2008 R2 Service Pack 1".into(),
                Some(Architecture::X64)
            )
        );
        assert_eq!(
            n("Windows Server 2022 (Server Core installation)"),
            ("Windows Server 2022".into(), None)
        );
        assert_eq!(
            n("Windows Server 2022, 23H2 Edition (Server Core installation)"),
            ("Windows Server 2022, 23H2 Edition".into(), None)
        );
        assert_eq!(
            n(".NET Framework 4.8 on Windows Server 2022"),
            (".NET Framework 4.8 on Windows Server 2022".into(), None)
        );
        assert_eq!(
            n("Windows 10 Version 1809 for ARM64-based Systems"),
            ("Windows 10 Version 1809".into(), Some(Architecture::Arm64))
        );
        assert_eq!(
            n("Adobe Flash Player on Windows 8.1 for 32-bit systems"),
            (
                "Adobe Flash Player on Windows 8.1".into(),
                Some(Architecture::X86)
            )
        );
        assert_eq!(
            n("Windows Server 2008 for Itanium-Based Systems Service Pack 2"),
            (
                "Windows Server 2008 Service Pack 2".into(),
                Some(Architecture::Itanium)
            )
        );
        assert_eq!(
            n("Windows Vista x64 Edition Service Pack 2"),
            (
                "Windows Vista Service Pack 2".into(),
                Some(Architecture::X64)
            )
        );
        assert_eq!(
            n("Windows Malicious Software Removal Tool 32-bit"),
            (
                "Windows Malicious Software Removal Tool".into(),
                Some(Architecture::X86)
            )
        );
        assert_eq!(
            n("Microsoft Office 2016 (64-bit edition)"),
            ("Microsoft Office 2016 (64-bit edition)".into(), None)
        );
        assert_eq!(
            n("  Windows   Server 2016  "),
            ("Windows Server 2016".into(), None)
        );
    }

    #[test]
    fn os_to_product() {
        let p = |c: &str, b: u32| servicing_product_for(Some(c), b);
        assert_eq!(
            p("Microsoft Windows Server 2008 R2 Enterprise", 7601).as_deref(),
            Some("Windows Server 2008 R2 Service Pack 1")
        );
        assert_eq!(
            p("Microsoft Windows 7 Professional", 7601).as_deref(),
            Some("Windows 7 Service Pack 1")
        );
        assert_eq!(
            p("Microsoft Windows Server 2022 Standard", 20348).as_deref(),
            Some("Windows Server 2022")
        );
        assert_eq!(
            p("Microsoft Windows Server 2019 Datacenter", 17763).as_deref(),
            Some("Windows Server 2019")
        );
        assert_eq!(
            p("Microsoft Windows 10 Enterprise", 17763).as_deref(),
            Some("Windows 10 Version 1809")
        );
        assert_eq!(
            p("Microsoft Windows 10 Pro", 19045).as_deref(),
            Some("Windows 10 Version 22H2")
        );
        assert_eq!(
            p("Microsoft Windows Server 2012 R2 Standard", 9600).as_deref(),
            Some("Windows Server 2012 R2")
        );
        assert_eq!(
            p("Microsoft Windows Server 2025 Datacenter", 26100).as_deref(),
            Some("Windows Server 2025")
        );
        assert_eq!(
            p("Microsoft Windows Server 2016 Standard", 14393).as_deref(),
            Some("Windows Server 2016")
        );
        assert_eq!(
            p("Microsoft Windows Server 2012 Datacenter", 9200).as_deref(),
            Some("Windows Server 2012")
        );
        assert_eq!(p("Something", 12345), None);
        assert_eq!(
            servicing_product_for(None, 20348).as_deref(),
            Some("Windows Server 2022")
        );
        assert_eq!(servicing_product_for(None, 7601), None);
        assert_eq!(
            servicing_product_for(Some("Server Core"), 7601).as_deref(),
            Some("Windows Server 2008 R2 Service Pack 1")
        );
    }
}
