//! A generated node as the Windows tools print it: `systeminfo` (list form,
//! as `systeminfo /s HOST >> all.txt` appends it: CRLF, a blank line
//! before each capture) and Windows PowerShell 5.1 `Get-HotFix |
//! ConvertTo-Json` (every WMI property, nested `Scope`, `Path`, `Options`
//! and `ClassPath` objects, `InstalledOn` as `{value, DisplayHint,
//! DateTime}`). The fields the tools print that lockstep does not read
//! (processors, memory, network cards) are those of a Dell PowerEdge
//! Hyper-V host, varied per node.

use crate::FleetNode;
use jiff::civil::{Date, Weekday};
use std::fmt::Write as _;

/// A number that varies per node but is the same on every run.
fn spread(name: &str, salt: u64) -> u64 {
    let mut x = salt ^ 0xCBF2_9CE4_8422_2325;
    for b in name.bytes() {
        x ^= u64::from(b);
        x = x.wrapping_mul(0x0000_0100_0000_01B3);
    }
    x
}

/// `3/14/2024` (en-US, as systeminfo prints dates).
fn us_date(d: Date) -> String {
    format!("{}/{}/{}", d.month(), d.day(), d.year())
}

/// One `systeminfo` capture of `node`, preceded by the blank line
/// `systeminfo` prints first.
pub fn systeminfo(out: &mut String, node: &FleetNode, domain: &str) {
    let r = node.release;
    let version = match r.service_pack {
        Some(sp) => format!("{} {sp} Build {}", r.version, r.build),
        None => format!("{} N/A Build {}", r.version, r.build),
    };
    let h = spread(&node.name, 1);
    let installed = node
        .hotfixes
        .first()
        .map(|f| f.installed_on)
        .unwrap_or(jiff::civil::date(2020, 1, 1));
    let boot = node
        .hotfixes
        .last()
        .map(|f| f.installed_on)
        .unwrap_or(installed);
    let _ = write!(
        out,
        "\r\nHost Name:                 {name}\r\nOS Name:                   {caption}\r\nOS Version:                {version}\r\nOS Manufacturer:           Microsoft Corporation\r\nOS Configuration:          Member Server\r\nOS Build Type:             Multiprocessor Free\r\nRegistered Owner:          Windows User\r\nRegistered Organization:   N/A\r\nProduct ID:                00454-60000-00001-AA{pid:03}\r\nOriginal Install Date:     {installed}, 9:12:44 AM\r\nSystem Boot Time:          {boot}, 6:01:12 AM\r\nSystem Manufacturer:       Dell Inc.\r\nSystem Model:              PowerEdge R750\r\nSystem Type:               x64-based PC\r\nProcessor(s):              2 Processor(s) Installed.\r\n                           [01]: Intel64 Family 6 Model 106 Stepping 6 GenuineIntel ~2000 Mhz\r\n                           [02]: Intel64 Family 6 Model 106 Stepping 6 GenuineIntel ~2000 Mhz\r\nBIOS Version:              Dell Inc. 1.10.2, 6/20/2023\r\nWindows Directory:         C:\\Windows\r\nSystem Directory:          C:\\Windows\\system32\r\nBoot Device:               \\Device\\HarddiskVolume3\r\nSystem Locale:             en-us;English (United States)\r\nInput Locale:              en-us;English (United States)\r\nTime Zone:                 (UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna\r\nTotal Physical Memory:     523,985 MB\r\nAvailable Physical Memory: {avail},{avail_k:03} MB\r\nVirtual Memory: Max Size:  555,729 MB\r\nVirtual Memory: Available: 430,112 MB\r\nVirtual Memory: In Use:    125,617 MB\r\nPage File Location(s):     C:\\pagefile.sys\r\nDomain:                    {domain}\r\nLogon Server:              \\\\DC01\r\nHotfix(s):                 {count} Hotfix(s) Installed.\r\n",
        name = node.name,
        caption = r.caption,
        pid = h % 1000,
        installed = us_date(installed),
        boot = us_date(boot),
        avail = 200 + h % 300,
        avail_k = (h >> 16) % 1000,
        count = node.hotfixes.len(),
    );
    for (i, f) in node.hotfixes.iter().enumerate() {
        let _ = write!(
            out,
            "                           [{:02}]: {}\r\n",
            i + 1,
            f.kb
        );
    }
    out.push_str("Network Card(s):           2 NIC(s) Installed.\r\n");
    for n in 1..=2u64 {
        let _ = write!(
            out,
            "                           [{n:02}]: Mellanox ConnectX-4 Lx Ethernet Adapter #{n}\r\n                                 Connection Name: SMB{n}\r\n                                 DHCP Enabled:    No\r\n                                 IP address(es)\r\n                                 [01]: 10.0.{n}.{}\r\n                                 [02]: fe80::{:x}:{:x}\r\n",
            (h >> (8 * n)) % 250,
            (h >> 20) % 65535,
            (h >> 36) % 65535
        );
    }
    out.push_str("Hyper-V Requirements:      A hypervisor has been detected. Features required for Hyper-V will not be displayed.\r\n");
}

fn weekday(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The `Get-HotFix | ConvertTo-Json` array elements of `node`'s updates,
/// each preceded by `,\r\n` unless it is the array's first (`first`).
pub fn get_hotfix_json(out: &mut String, node: &FleetNode, first: &mut bool) {
    let name = &node.name;
    for f in &node.hotfixes {
        if !*first {
            out.push_str(",\r\n");
        }
        *first = false;
        let kb = f.kb.number();
        let d = f.installed_on;
        // Local midnight of the date, as Windows PowerShell writes it for
        // a host in UTC.
        let ms = d
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(0);
        let when = format!(
            "{}, {} {}, {} 12:00:00 AM",
            weekday(d.weekday()),
            MONTHS[usize::from(d.month().unsigned_abs()) - 1],
            d.day(),
            d.year()
        );
        let rel = format!(
            "Win32_QuickFixEngineering.HotFixID=\\\"KB{kb}\\\",ServicePackInEffect=\\\"\\\""
        );
        let _ = write!(
            out,
            r#"    {{
        "PSComputerName":  "{name}",
        "InstalledOn":  {{
                            "value":  "\/Date({ms})\/",
                            "DisplayHint":  2,
                            "DateTime":  "{when}"
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
        "__SERVER":  "{name}",
        "__NAMESPACE":  "root\\cimv2",
        "__PATH":  "\\\\{name}\\root\\cimv2:{rel}",
        "Caption":  "https://support.microsoft.com/help/{kb}",
        "CSName":  "{name}",
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
                      "Path":  "\\\\{name}\\root\\cimv2"
                  }},
        "Path":  {{
                     "Path":  "\\\\{name}\\root\\cimv2:{rel}",
                     "RelativePath":  "{rel}",
                     "Server":  "{name}",
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
                          "Path":  "\\\\{name}\\root\\cimv2:Win32_QuickFixEngineering",
                          "RelativePath":  "Win32_QuickFixEngineering",
                          "Server":  "{name}",
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
            desc = f.description,
        );
    }
}
