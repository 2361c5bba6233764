//! Ingest throughput on generated inputs (not a test; see BENCHMARKS.md).
//!
//! Generates `systeminfo` list captures (many outputs per file, as
//! `systeminfo /s HOST >> all.txt` writes them: CRLF, network cards,
//! 20–60 hotfixes each) and Windows PowerShell 5.1 `Get-HotFix |
//! ConvertTo-Json` arrays (every WMI property, nested Scope/Path/Options
//! objects, `InstalledOn` as `{value, DisplayHint, DateTime}`), ~1 GB each
//! by default, in 64 MiB files; and lockstep snapshots as the collector
//! writes them (`ConvertTo-Json` layout, one 16-node cluster a file, 150–350
//! Get-HotFix entries a node). Then, per file, on one thread: read the file
//! (not timed), decode (timed), detect + parse (timed).
//!
//! Environment: `LOCKSTEP_BENCH_DIR` (default /tmp/lockstep-bench-ingest),
//! `LOCKSTEP_BENCH_MB` (per format, default 1024), `LOCKSTEP_BENCH_KINDS`
//! (comma-separated, default `systeminfo,get-hotfix-json,snapshot`).

use lockstep_ingest::load::parse_text;
use lockstep_ingest::{FileContent, Text, decode};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const FILE_BYTES: usize = 64 << 20;

/// A small deterministic generator (xorshift) so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn systeminfo(out: &mut String, rng: &mut Rng, host: u64) {
    let kbs = 20 + rng.below(41);
    let build = [14393u32, 17763, 20348][rng.below(3) as usize];
    let caption = match build {
        14393 => "Microsoft Windows Server 2016 Datacenter",
        17763 => "Microsoft Windows Server 2019 Datacenter",
        _ => "Microsoft Windows Server 2022 Datacenter",
    };
    let _ = write!(
        out,
        "\r\nHost Name:                 HV{host:05}\r\nOS Name:                   {caption}\r\nOS Version:                10.0.{build} N/A Build {build}\r\nOS Manufacturer:           Microsoft Corporation\r\nOS Configuration:          Member Server\r\nOS Build Type:             Multiprocessor Free\r\nRegistered Owner:          Windows User\r\nRegistered Organization:   N/A\r\nProduct ID:                00454-60000-00001-AA{:03}\r\nOriginal Install Date:     1/{}/2024, 9:12:44 AM\r\nSystem Boot Time:          3/{}/2024, 6:01:12 AM\r\nSystem Manufacturer:       Dell Inc.\r\nSystem Model:              PowerEdge R750\r\nSystem Type:               x64-based PC\r\nProcessor(s):              2 Processor(s) Installed.\r\n                           [01]: Intel64 Family 6 Model 106 Stepping 6 GenuineIntel ~2000 Mhz\r\n                           [02]: Intel64 Family 6 Model 106 Stepping 6 GenuineIntel ~2000 Mhz\r\nBIOS Version:              Dell Inc. 1.10.2, 6/20/2023\r\nWindows Directory:         C:\\Windows\r\nSystem Directory:          C:\\Windows\\system32\r\nBoot Device:               \\Device\\HarddiskVolume3\r\nSystem Locale:             en-us;English (United States)\r\nInput Locale:              en-us;English (United States)\r\nTime Zone:                 (UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna\r\nTotal Physical Memory:     523,985 MB\r\nAvailable Physical Memory: 401,233 MB\r\nVirtual Memory: Max Size:  555,729 MB\r\nVirtual Memory: Available: 430,112 MB\r\nVirtual Memory: In Use:    125,617 MB\r\nPage File Location(s):     C:\\pagefile.sys\r\nDomain:                    corp.example.com\r\nLogon Server:              \\\\DC01\r\nHotfix(s):                 {kbs} Hotfix(s) Installed.\r\n",
        rng.below(1000),
        1 + rng.below(28),
        1 + rng.below(28),
    );
    for i in 0..kbs {
        let _ = write!(
            out,
            "                           [{:02}]: KB{}\r\n",
            i + 1,
            5_000_000 + rng.below(40_000)
        );
    }
    out.push_str("Network Card(s):           2 NIC(s) Installed.\r\n");
    for n in 1..=2 {
        let _ = write!(
            out,
            "                           [{n:02}]: Mellanox ConnectX-4 Lx Ethernet Adapter #{n}\r\n                                 Connection Name: SMB{n}\r\n                                 DHCP Enabled:    No\r\n                                 IP address(es)\r\n                                 [01]: 10.0.{n}.{}\r\n                                 [02]: fe80::{:x}:{:x}\r\n",
            rng.below(250),
            rng.below(65535),
            rng.below(65535)
        );
    }
    out.push_str("Hyper-V Requirements:      A hypervisor has been detected. Features required for Hyper-V will not be displayed.\r\n");
}

fn hotfix_object(out: &mut String, rng: &mut Rng, host: u64, first: bool) {
    let kb = 5_000_000 + rng.below(40_000);
    let ms = 1_600_000_000_000u64 + rng.below(120_000_000) * 1000;
    let node = format!("HV{host:05}");
    let rel =
        format!("Win32_QuickFixEngineering.HotFixID=\\\"KB{kb}\\\",ServicePackInEffect=\\\"\\\"");
    if !first {
        out.push_str(",\r\n");
    }
    let _ = write!(
        out,
        r#"    {{
        "PSComputerName":  "{node}",
        "InstalledOn":  {{
                            "value":  "\/Date({ms})\/",
                            "DisplayHint":  2,
                            "DateTime":  "Wednesday, November 15, 2023 12:00:00 AM"
                        }},
        "__GENUS":  2,
        "__CLASS":  "Win32_QuickFixEngineering",
        "__SUPERCLASS":  "CIM_LogicalElement",
        "__DYNASTY":  "CIM_ManagedSystemElement",
        "__RELPATH":  "{rel}",
        "__PROPERTY_COUNT":  11,
        "__DERIVATION":  [
                             "CIM_LogicalElement",
                             "CIM_ManagedSystemElement"
                         ],
        "__SERVER":  "{node}",
        "__NAMESPACE":  "root\\cimv2",
        "__PATH":  "\\\\{node}\\root\\cimv2:{rel}",
        "Caption":  "https://support.microsoft.com/help/{kb}",
        "CSName":  "{node}",
        "Description":  "{desc}",
        "FixComments":  "",
        "HotFixID":  "KB{kb}",
        "InstallDate":  null,
        "InstalledBy":  "NT AUTHORITY\\SYSTEM",
        "Name":  null,
        "ServicePackInEffect":  "",
        "Status":  null,
        "Scope":  {{
                      "IsConnected":  true,
                      "Options":  "System.Management.ConnectionOptions",
                      "Path":  "\\\\{node}\\root\\cimv2"
                  }},
        "Path":  {{
                     "Path":  "\\\\{node}\\root\\cimv2:{rel}",
                     "RelativePath":  "{rel}",
                     "Server":  "{node}",
                     "NamespacePath":  "root\\cimv2",
                     "ClassName":  "Win32_QuickFixEngineering",
                     "IsClass":  false,
                     "IsInstance":  true,
                     "IsSingleton":  false
                 }},
        "Options":  {{
                        "Context":  "",
                        "Timeout":  "-00:00:00.0010000",
                        "UseAmendedQualifiers":  false
                    }},
        "ClassPath":  {{
                          "Path":  "\\\\{node}\\root\\cimv2:Win32_QuickFixEngineering",
                          "RelativePath":  "Win32_QuickFixEngineering",
                          "Server":  "{node}",
                          "NamespacePath":  "root\\cimv2",
                          "ClassName":  "Win32_QuickFixEngineering",
                          "IsClass":  true,
                          "IsInstance":  false,
                          "IsSingleton":  false
                      }},
        "Properties":  [
                           "System.Management.PropertyData",
                           "System.Management.PropertyData",
                           "System.Management.PropertyData"
                       ],
        "SystemProperties":  [
                                 "System.Management.PropertyData",
                                 "System.Management.PropertyData"
                             ],
        "Qualifiers":  [
                           "System.Management.QualifierData",
                           "System.Management.QualifierData"
                       ],
        "Site":  null,
        "Container":  null
    }}"#,
        desc = ["Update", "Security Update", "Hotfix"][rng.below(3) as usize],
    );
}

/// One node of a snapshot, in the collector's `ConvertTo-Json` layout.
fn snapshot_node(out: &mut String, rng: &mut Rng, host: u64, first: bool) {
    let ubr = 2000 + rng.below(300);
    if !first {
        out.push_str(",\r\n");
    }
    let _ = write!(
        out,
        r#"        {{
            "name":  "HV{host:05}",
            "state":  "Up",
            "nodeWeight":  1,
            "dynamicWeight":  1,
            "drainStatus":  "NotInitiated",
            "os":  {{
                "status":  "ok",
                "data":  {{
                    "caption":  "Microsoft Windows Server 2022 Datacenter",
                    "version":  "10.0.20348",
                    "build":  20348,
                    "ubr":  {ubr},
                    "displayVersion":  "21H2",
                    "installationType":  "Server",
                    "architecture":  "AMD64",
                    "domain":  "corp.example.com",
                    "lastBootTime":  "2024-03-{:02}T06:01:12.0000000Z"
                }}
            }},
            "hotfixes":  {{
                "status":  "ok",
                "data":  ["#,
        1 + rng.below(28),
    );
    for i in 0..(150 + rng.below(201)) {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "\r\n                    {{\r\n                        \"hotFixId\":  \"KB{}\",\r\n                        \"description\":  \"{}\",\r\n                        \"installedOn\":  \"20{:02}-{:02}-{:02}\",\r\n                        \"installedBy\":  \"NT AUTHORITY\\\\SYSTEM\"\r\n                    }}",
            5_000_000 + rng.below(40_000),
            ["Update", "Security Update", "Hotfix"][rng.below(3) as usize],
            18 + rng.below(7),
            1 + rng.below(12),
            1 + rng.below(28),
        );
    }
    out.push_str(
        "\r\n                ]\r\n            },\r\n            \"pendingReboot\":  {\r\n                \"status\":  \"ok\",\r\n                \"data\":  {\r\n                    \"cbsRebootPending\":  false,\r\n                    \"windowsUpdateRebootRequired\":  false,\r\n                    \"pendingFileRenameOperations\":  false\r\n                }\r\n            }\r\n        }",
    );
}

/// Snapshot files of one 16-node cluster each, `total` bytes in all.
fn generate_snapshots(dir: &Path, total: usize) -> Vec<PathBuf> {
    let sub = dir.join(format!("snapshot-{}mb", total >> 20));
    std::fs::create_dir_all(&sub).expect("bench dir");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ 8);
    let (mut host, mut written) = (0u64, 0usize);
    let mut paths = Vec::new();
    while written < total {
        let p = sub.join(format!("cluster-{:05}.json", paths.len()));
        let mut s = String::with_capacity(2 << 20);
        let _ = write!(
            s,
            "{{\r\n    \"schema\":  \"lockstep-snapshot/1\",\r\n    \"collectedAt\":  \"2024-03-29T09:30:00.0000000Z\",\r\n    \"collector\":  {{\r\n        \"version\":  \"1.0.0\",\r\n        \"host\":  \"HV{:05}\",\r\n        \"user\":  \"CORP\\\\admin\",\r\n        \"elevated\":  true,\r\n        \"powershellVersion\":  \"5.1.20348.2031\"\r\n    }},\r\n    \"clusters\":  [\r\n    {{\r\n    \"name\":  \"CLU{:05}\",\r\n    \"domain\":  \"corp.example.com\",\r\n    \"nodes\":  [\r\n",
            host + 1,
            paths.len(),
        );
        for i in 0..16 {
            host += 1;
            snapshot_node(&mut s, &mut rng, host, i == 0);
        }
        s.push_str("\r\n    ]\r\n    }\r\n    ]\r\n}");
        written += s.len();
        if std::fs::metadata(&p).ok().map(|m| m.len() as usize) != Some(s.len()) {
            std::fs::write(&p, &s).expect("write bench input");
        }
        paths.push(p);
    }
    paths
}

fn generate(dir: &Path, kind: &str, total: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("bench dir");
    let files = total.div_ceil(FILE_BYTES).max(1);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ kind.len() as u64);
    let mut host = 0u64;
    let mut paths = Vec::new();
    for i in 0..files {
        let p = dir.join(format!("{kind}-{i:03}.txt"));
        paths.push(p.clone());
        let want = FILE_BYTES.min(total - i * FILE_BYTES);
        if std::fs::metadata(&p)
            .map(|m| m.len() as usize >= want)
            .unwrap_or(false)
        {
            continue;
        }
        let mut s = String::with_capacity(want + 65536);
        match kind {
            "systeminfo" => {
                while s.len() < want {
                    host += 1;
                    systeminfo(&mut s, &mut rng, host);
                }
            }
            _ => {
                s.push_str("[\r\n");
                let mut first = true;
                while s.len() < want {
                    host += 1;
                    for _ in 0..(20 + rng.below(41)) {
                        hotfix_object(&mut s, &mut rng, host, first);
                        first = false;
                    }
                }
                s.push_str("\r\n]\r\n");
            }
        }
        std::fs::write(&p, s).expect("write bench input");
    }
    paths
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`), so that
/// throughput on a shared machine is not charged for time spent waiting.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn run(kind: &str, paths: &[PathBuf]) {
    let (mut bytes, mut nodes, mut updates) = (0usize, 0usize, 0usize);
    let (mut t_decode, mut t_parse) = (Duration::ZERO, Duration::ZERO);
    let (mut cpu_decode, mut cpu_parse) = (0u64, 0u64);
    for p in paths {
        let raw = std::fs::read(p).expect("read");
        bytes += raw.len();
        let path = p.display().to_string();
        let c0 = cpu_ns().unwrap_or(0);
        let t0 = Instant::now();
        // What the loader does: decode the buffer it read, in place when UTF-8.
        let text = decode::decode_owned(raw, &path).expect("decode");
        let t1 = Instant::now();
        let c1 = cpu_ns().unwrap_or(0);
        let (content, format) = parse_text(Text::new(path.as_str(), text)).expect("parse");
        let t2 = Instant::now();
        let c2 = cpu_ns().unwrap_or(0);
        t_decode += t1 - t0;
        t_parse += t2 - t1;
        cpu_decode += c1.saturating_sub(c0);
        cpu_parse += c2.saturating_sub(c1);
        assert!(
            ["systeminfo", "get-hotfix", "lockstep-snapshot"].contains(&format),
            "{format}"
        );
        match &content {
            FileContent::Nodes(n) => {
                nodes += n.len();
                updates += n.iter().map(|f| f.node.updates.len()).sum::<usize>();
            }
            FileContent::Clusters(c) => {
                for n in c.iter().flat_map(|c| &c.nodes) {
                    nodes += 1;
                    updates += n.updates.len();
                }
            }
            _ => {}
        }
        drop(content);
    }
    let mb = bytes as f64 / 1e6;
    println!(
        "{kind:<22} {:>8.1} MB  decode {:>6.2} s ({:>6.0} MB/s)  detect+parse {:>6.2} s ({:>6.0} MB/s)  total {:>6.0} MB/s  nodes {nodes}  updates {updates}",
        mb,
        t_decode.as_secs_f64(),
        mb / t_decode.as_secs_f64(),
        t_parse.as_secs_f64(),
        mb / t_parse.as_secs_f64(),
        mb / (t_decode + t_parse).as_secs_f64(),
    );
    if cpu_decode + cpu_parse > 0 {
        let secs = |ns: u64| ns as f64 / 1e9;
        println!(
            "{:<22} {:>8} CPU time: decode {:>6.2} s ({:>6.0} MB/s)  detect+parse {:>6.2} s ({:>6.0} MB/s)  total {:>6.0} MB/s",
            "",
            "",
            secs(cpu_decode),
            mb / secs(cpu_decode),
            secs(cpu_parse),
            mb / secs(cpu_parse),
            mb / secs(cpu_decode + cpu_parse),
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too:
    // only generate and measure when invoked as a benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = PathBuf::from(
        std::env::var("LOCKSTEP_BENCH_DIR").unwrap_or_else(|_| "/tmp/lockstep-bench-ingest".into()),
    );
    let mb: usize = std::env::var("LOCKSTEP_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let total = mb << 20;
    let kinds = std::env::var("LOCKSTEP_BENCH_KINDS")
        .unwrap_or_else(|_| "systeminfo,get-hotfix-json,snapshot".into());
    for kind in kinds.split(',') {
        let paths = match kind {
            "snapshot" => generate_snapshots(&dir, total),
            "systeminfo" | "get-hotfix-json" => generate(&dir, kind, total),
            other => panic!("LOCKSTEP_BENCH_KINDS: unknown kind {other}"),
        };
        run(kind, &paths);
    }
}
