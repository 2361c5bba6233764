//! Exclusion matching the way Microsoft Defender does it.
//!
//! * Environment variables are expanded as the SYSTEM account sees them
//!   (Defender's service runs as SYSTEM): `%ProgramData%` = `C:\ProgramData`,
//!   `%PUBLIC%` = `C:\Users\Public`, `%SystemRoot%`/`%windir%` = `C:\Windows`,
//!   `%SystemDrive%` = `C:`, `%ProgramFiles%` = `C:\Program Files`. Unknown
//!   variables stay as written and then only match the same text.
//! * Case-insensitive; `/` is `\`; a trailing `\` is ignored.
//! * A folder exclusion covers everything below it.
//! * `*` in a folder path matches within one path component (`C:\VMs\*`
//!   covers `C:\VMs\Web01` and below; `C:\*\Hyper-V` covers `C:\X\Hyper-V`
//!   but not `C:\X\Y\Hyper-V`); `?` matches one character.
//! * `vhdx`, `.vhdx` and `*.vhdx` are the same extension.
//! * A process exclusion is either an image name (`vmwp.exe`: any process of
//!   that name) or a full path, possibly with wildcards.
//! * `\\?\Volume{GUID}\` (how SCVMM excludes a CSV, KB3119208) is kept as a
//!   volume id and compared with the CSVs' volume ids by the audit.

/// The fixed expansions of the SYSTEM account's environment.
const SYSTEM_ENV: &[(&str, &str)] = &[
    ("programdata", r"C:\ProgramData"),
    ("allusersprofile", r"C:\ProgramData"),
    ("public", r"C:\Users\Public"),
    ("systemroot", r"C:\Windows"),
    ("windir", r"C:\Windows"),
    ("systemdrive", "C:"),
    ("programfiles", r"C:\Program Files"),
    ("programw6432", r"C:\Program Files"),
    ("programfiles(x86)", r"C:\Program Files (x86)"),
    ("commonprogramfiles", r"C:\Program Files\Common Files"),
];

/// Expands the known `%VAR%`s (case-insensitive).
pub fn expand(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('%') {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start + 1..).unwrap_or_default();
        match after.find('%') {
            Some(end) => {
                let name = after.get(..end).unwrap_or_default();
                match SYSTEM_ENV
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('%');
                        out.push_str(name);
                        out.push('%');
                    }
                }
                rest = after.get(end + 1..).unwrap_or_default();
            }
            None => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A volume id `\\?\Volume{GUID}\`, lower-cased without the trailing `\`.
pub fn volume_id(s: &str) -> Option<String> {
    let t = s.trim().trim_end_matches('\\').to_ascii_lowercase();
    (t.starts_with(r"\\?\volume{") && t.ends_with('}')).then_some(t)
}

/// Path components after expansion, lower-cased, without empty parts.
pub fn components(s: &str) -> Vec<String> {
    expand(s.trim())
        .replace('/', "\\")
        .to_lowercase()
        .split('\\')
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

/// `*` and `?` wildcards within one component.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with single-star backtracking: linear-ish, no recursion.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).unwrap_or_default().iter().all(|c| *c == '*')
}

/// Whether a folder (or file) exclusion covers `target` (a folder).
pub fn path_covers(exclusion: &str, target: &str) -> bool {
    let e = components(exclusion);
    let t = components(target);
    !e.is_empty() && e.len() <= t.len() && e.iter().zip(&t).all(|(p, c)| glob(p, c))
}

/// `vhdx`, `.vhdx`, `*.vhdx` → `vhdx`.
pub fn extension(s: &str) -> String {
    s.trim()
        .trim_start_matches('*')
        .trim_start_matches('.')
        .to_lowercase()
}

/// Whether a process exclusion covers the process `target` (a full path
/// such as `%SystemRoot%\System32\Vmwp.exe`).
pub fn process_covers(exclusion: &str, target: &str) -> bool {
    let e = components(exclusion);
    let t = components(target);
    match (e.as_slice(), t.last()) {
        ([name], Some(target_name)) => glob(name, target_name),
        (_, _) if e.len() == t.len() => e.iter().zip(&t).all(|(p, c)| glob(p, c)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_vars_as_system_sees_them() {
        assert_eq!(
            expand(r"%ProgramData%\Microsoft"),
            r"C:\ProgramData\Microsoft"
        );
        assert_eq!(expand(r"%PUBLIC%\Documents"), r"C:\Users\Public\Documents");
        assert_eq!(expand(r"%systemroot%\Cluster"), r"C:\Windows\Cluster");
        assert_eq!(
            expand(r"%SystemDrive%\ClusterStorage"),
            r"C:\ClusterStorage"
        );
        assert_eq!(expand(r"%Foo%\x"), r"%Foo%\x");
        assert_eq!(expand("50% off"), "50% off");
    }

    #[test]
    fn folders() {
        assert!(path_covers(
            r"C:\ProgramData\Microsoft\Windows\Hyper-V\",
            r"%ProgramData%\Microsoft\Windows\Hyper-V"
        ));
        assert!(path_covers(
            r"c:\programdata",
            r"%SystemDrive%\ProgramData\Microsoft\Windows\Hyper-V\Snapshots"
        ));
        assert!(!path_covers(
            r"C:\ProgramData\Microsoft\Windows\Hyper-V\Snapshots",
            r"%ProgramData%\Microsoft\Windows\Hyper-V"
        ));
        assert!(!path_covers(r"C:\Cluster", r"C:\ClusterStorage"));
        assert!(path_covers(
            r"C:\ClusterStorage\*",
            r"C:\ClusterStorage\Volume1\VMs"
        ));
        assert!(!path_covers(r"C:\ClusterStorage\*", r"C:\ClusterStorage"));
        assert!(path_covers(r"C:\*\Hyper-V", r"C:\X\Hyper-V\Y"));
        assert!(!path_covers(r"C:\*\Hyper-V", r"C:\X\Y\Hyper-V"));
        assert!(path_covers(
            r"C:\ClusterStorage\Vol*",
            r"C:\ClusterStorage\Volume2"
        ));
        assert!(path_covers("C:/VMs", r"c:\vms\web01"));
        assert!(!path_covers("", r"C:\VMs"));
    }

    #[test]
    fn extensions_and_processes() {
        assert_eq!(extension("*.VHDX"), "vhdx");
        assert_eq!(extension(".vhdx"), "vhdx");
        assert_eq!(extension("vhdx"), "vhdx");
        assert!(process_covers(
            "vmwp.exe",
            r"%SystemRoot%\System32\Vmwp.exe"
        ));
        assert!(process_covers(
            r"C:\Windows\System32\vmwp.exe",
            r"%SystemRoot%\System32\Vmwp.exe"
        ));
        assert!(process_covers(
            r"%windir%\system32\vm*.exe",
            r"%SystemRoot%\System32\Vmwp.exe"
        ));
        assert!(!process_covers(
            r"D:\Tools\vmwp.exe",
            r"%SystemRoot%\System32\Vmwp.exe"
        ));
        assert!(!process_covers(
            "vmms.exe",
            r"%SystemRoot%\System32\Vmwp.exe"
        ));
    }

    #[test]
    fn globs() {
        assert!(glob("*", ""));
        assert!(glob("a*c", "abbbc"));
        assert!(!glob("a*c", "abbbd"));
        assert!(glob("a?c", "abc"));
        assert!(glob("*.exe", "vmwp.exe"));
    }

    #[test]
    fn volume_ids() {
        assert_eq!(
            volume_id(r"\\?\Volume{3BA0B8B4-6B6A-4A2B-9D6C-93A2A1D3E4F1}\"),
            Some(r"\\?\volume{3ba0b8b4-6b6a-4a2b-9d6c-93a2a1d3e4f1}".to_string())
        );
        assert_eq!(volume_id(r"C:\ClusterStorage"), None);
    }
}
