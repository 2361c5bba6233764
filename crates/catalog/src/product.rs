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
}
