//! Amounts the admin writes: memory sizes (`8GiB`, `512MiB`), witness kinds.

/// Bytes from `8GiB`, `8G`, `512MiB`, `1.5TiB` or a plain number of bytes.
/// Units are binary (K, M, G, T = 1024^1..4), as Windows reports memory;
/// `B`, `iB` and case do not matter.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let bad = || format!("expected a memory size such as 8GiB, 512MiB or 1.5TiB, found {s:?}");
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(bad());
    }
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let mult: u64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return Err(bad()),
    };
    let value: f64 = num.parse().map_err(|_| bad())?;
    let bytes = value * mult as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 / 2.0 {
        return Err(bad());
    }
    Ok(bytes.round() as u64)
}

/// The witness kinds the admin may state, as `Get-ClusterQuorum` names the
/// resource types: `disk` → `DiskWitness`, `file-share` → `FileShareWitness`,
/// `cloud` → `CloudWitness`; `none` → no witness (`None`).
pub fn parse_witness(s: &str) -> Result<Option<String>, String> {
    match s
        .trim()
        .to_ascii_lowercase()
        .replace(['_', ' '], "-")
        .as_str()
    {
        "disk" | "diskwitness" | "disk-witness" => Ok(Some("DiskWitness".into())),
        "file-share" | "fileshare" | "fsw" | "filesharewitness" | "file-share-witness" => {
            Ok(Some("FileShareWitness".into()))
        }
        "cloud" | "cloudwitness" | "cloud-witness" => Ok(Some("CloudWitness".into())),
        "none" | "no" | "nowitness" => Ok(None),
        _ => Err(format!(
            "expected a witness kind: disk, file-share, cloud or none, found {s:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("8GiB"), Ok(8 << 30));
        assert_eq!(parse_bytes("8G"), Ok(8 << 30));
        assert_eq!(parse_bytes("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("1.5TiB"), Ok(3 << 39));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("2gb"), Ok(2 << 30));
        for bad in ["", "GiB", "8XB", "-1G", "1e30T", "8 G i"] {
            assert!(parse_bytes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn witnesses() {
        assert_eq!(parse_witness("disk"), Ok(Some("DiskWitness".into())));
        assert_eq!(
            parse_witness("File-Share"),
            Ok(Some("FileShareWitness".into()))
        );
        assert_eq!(parse_witness("cloud"), Ok(Some("CloudWitness".into())));
        assert_eq!(parse_witness("none"), Ok(None));
        assert!(parse_witness("quorum").is_err());
    }
}
