//! The fixtures under `tests/fixtures/inventory/` (formats with no real
//! capture in `tests/fixtures/real/`; see the README there) parse to the exact
//! nodes, builds and KBs they contain.

use lockstep_ingest::{decode, load_paths};
use lockstep_model::Node;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/inventory/"
    ))
    .join(name)
}

fn one(name: &str) -> (Node, &'static str) {
    let out = load_paths(&[fixture(name)]);
    assert!(out.errors.is_empty(), "{name}: {:?}", out.errors);
    assert_eq!(out.inventory.loose_nodes.len(), 1, "{name}");
    (out.inventory.loose_nodes[0].clone(), out.files[0].1)
}

fn kbs(n: &Node) -> Vec<String> {
    n.updates.iter().map(|u| u.kb.to_string()).collect()
}

fn dates(n: &Node) -> Vec<Option<String>> {
    n.updates
        .iter()
        .map(|u| u.installed_on.map(|d| d.to_string()))
        .collect()
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

#[test]
fn chinese_gbk_systeminfo() {
    assert_eq!(decode::sniff(&bytes("HV-CN01.systeminfo.gbk.txt")), "GBK");
    let (n, f) = one("HV-CN01.systeminfo.gbk.txt");
    assert_eq!(f, "systeminfo");
    assert_eq!(n.name, "HV-CN01");
    assert_eq!(n.os.build(), Some(17763));
    assert_eq!(n.os.service_pack, None);
    assert_eq!(
        kbs(&n),
        ["KB5031589", "KB5032196", "KB5032306", "KB5033371"]
    );
    assert_eq!(n.domain.as_ref().unwrap().value, "corp.example.cn");
    assert_eq!(n.boot_time.as_ref().unwrap().value, "2024/3/2, 6:01:12");
    assert_eq!(n.os.architecture.as_ref().unwrap().value, "x64");
    assert_eq!(
        n.os.caption.as_ref().unwrap().value,
        "Microsoft Windows Server 2019 Datacenter"
    );
}

#[test]
fn russian_cp1251_and_cp866_systeminfo() {
    assert_eq!(
        decode::sniff(&bytes("HV-RU01.systeminfo.cp1251.txt")),
        "windows-1251"
    );
    assert_eq!(
        decode::sniff(&bytes("HV-RU02.systeminfo.cp866.txt")),
        "IBM866"
    );
    for (file, host) in [
        ("HV-RU01.systeminfo.cp1251.txt", "HV-RU01"),
        ("HV-RU02.systeminfo.cp866.txt", "HV-RU02"),
    ] {
        let (n, _) = one(file);
        assert_eq!(n.name, host);
        assert_eq!(n.os.build(), Some(14393));
        assert_eq!(kbs(&n), ["KB4049065", "KB5031989", "KB5032197"]);
        assert_eq!(
            n.os.caption.as_ref().unwrap().value,
            "Майкрософт Windows Server 2016 Datacenter"
        );
        assert_eq!(n.domain.as_ref().unwrap().value, "corp.example.ru");
    }
}

#[test]
fn french_systeminfo_with_no_break_spaces() {
    let (n, _) = one("HV-FR01.systeminfo.utf8.txt");
    assert_eq!(n.name, "HV-FR01");
    assert_eq!(n.os.build(), Some(17763));
    assert_eq!(kbs(&n), ["KB5031589", "KB5032306", "KB5033371"]);
    assert_eq!(n.domain.as_ref().unwrap().value, "corp.exemple.fr");
    assert_eq!(n.boot_time.as_ref().unwrap().value, "02/03/2024, 06:01:12");
}

#[test]
fn systeminfo_csv_utf16_without_bom() {
    assert_eq!(
        decode::sniff(&bytes("HV04.systeminfo-csv-nh.utf16-nobom.txt")),
        "UTF-16LE"
    );
    let (n, f) = one("HV04.systeminfo-csv-nh.utf16-nobom.txt");
    assert_eq!(f, "systeminfo-csv");
    assert_eq!(n.name, "HV04");
    assert_eq!(n.os.build(), Some(20348));
    assert_eq!(
        kbs(&n),
        ["KB5032306", "KB5033118", "KB5034439", "KB5034129"]
    );
    assert_eq!(n.domain.as_ref().unwrap().value, "corp.example.com");
}

#[test]
fn get_hotfix_table_utf16le_bom() {
    let (n, f) = one("HV03.get-hotfix-table.utf16le.txt");
    assert_eq!(f, "get-hotfix");
    assert_eq!(n.name, "HV03");
    assert_eq!(
        kbs(&n),
        ["KB5031589", "KB5032306", "KB5033118", "KB5033371"]
    );
    assert_eq!(
        dates(&n),
        [
            Some("2023-11-15"),
            Some("2023-11-15"),
            Some("2023-12-13"),
            Some("2023-12-13")
        ]
        .map(|d| d.map(String::from))
    );
    assert_eq!(n.updates[2].description.as_deref(), Some("Security Update"));
    assert_eq!(n.updates[0].source.line, 4);
}

#[test]
fn get_hotfix_export_csv_with_type_line() {
    let (n, f) = one("HV01.get-hotfix.csv");
    assert_eq!(f, "get-hotfix");
    assert_eq!(n.name, "HV01");
    assert_eq!(
        kbs(&n),
        ["KB5031589", "KB5032306", "KB5033118", "KB5012170"]
    );
    assert_eq!(
        dates(&n),
        [
            Some("2023-11-15".to_string()),
            Some("2023-11-15".to_string()),
            Some("2023-12-13".to_string()),
            None
        ]
    );
    assert_eq!(
        n.updates[0].installed_by.as_deref(),
        Some("NT AUTHORITY\\SYSTEM")
    );
    assert_eq!(n.updates[3].installed_by, None);
    assert_eq!(n.updates[0].source.line, 3);
}

#[test]
fn get_hotfix_json_array_and_single_object() {
    let (n, f) = one("HV02.get-hotfix.json");
    assert_eq!(f, "get-hotfix");
    assert_eq!(n.name, "HV02");
    assert_eq!(kbs(&n), ["KB5031589", "KB5033118", "KB5012170"]);
    assert_eq!(
        dates(&n),
        [
            Some("2023-11-15".to_string()),
            Some("2023-12-13".to_string()),
            None
        ]
    );
    // The line of each object's HotFixID, for evidence.
    let lines: Vec<u32> = n.updates.iter().map(|u| u.source.line).collect();
    assert_eq!(lines, [26, 115, 200]);
    let (n, _) = one("HV05.get-hotfix-select-single.json");
    assert_eq!(n.name, "HV05");
    assert_eq!(kbs(&n), ["KB5034439"]);
    assert_eq!(dates(&n), [Some("2023-03-14".to_string())]);
}

#[test]
fn wmic_qfe_list_full_and_csv() {
    let (n, f) = one("HV06.wmic-qfe-list-full.txt");
    assert_eq!(f, "wmic-qfe");
    assert_eq!(n.name, "HV06");
    assert_eq!(kbs(&n), ["KB5031589", "KB5032306", "KB5033118"]);
    assert_eq!(dates(&n)[2].as_deref(), Some("2023-12-13"));
    let (n, f) = one("HV07.wmic-qfe.csv");
    assert_eq!(f, "wmic-qfe");
    assert_eq!(n.name, "HV07");
    assert_eq!(kbs(&n), ["KB5031589", "KB5033118"]);
    assert_eq!(n.updates[1].source.line, 4);
}

#[test]
fn get_wuhistory_csv_replays_by_date() {
    let (n, f) = one("HV08.get-wuhistory.csv");
    assert_eq!(f, "wu-history");
    assert_eq!(n.name, "HV08");
    // KB5032198 installed then uninstalled; KB5032310 failed.
    assert_eq!(kbs(&n), ["KB5032336", "KB5033118"]);
    assert_eq!(
        dates(&n),
        [
            Some("2023-11-15".to_string()),
            Some("2023-12-13".to_string())
        ]
    );
}

#[test]
fn get_wuhistory_json() {
    let (n, _) = one("HV09.get-wuhistory.json");
    assert_eq!(n.name, "HV09");
    assert_eq!(kbs(&n), ["KB5034129"]);
}

#[test]
fn osquery_patches() {
    let (n, f) = one("HV10.osquery-patches.json");
    assert_eq!(f, "osquery-patches");
    let lines: Vec<u32> = n.updates.iter().map(|u| u.source.line).collect();
    assert_eq!(lines, [2, 3, 4]);
    assert_eq!(n.name, "HV10");
    assert_eq!(kbs(&n), ["KB5031589", "KB5033118", "KB5012170"]);
    assert_eq!(
        dates(&n),
        [
            Some("2023-11-15".to_string()),
            Some("2023-12-13".to_string()),
            None
        ]
    );
}

#[test]
fn get_hotfix_format_list_utf16le() {
    let (n, f) = one("HV11.get-hotfix-list.utf16le.txt");
    assert_eq!(f, "get-hotfix");
    assert_eq!(n.name, "HV11");
    assert_eq!(kbs(&n), ["KB5031589", "KB5033118", "KB5012170"]);
    assert_eq!(
        dates(&n),
        [
            Some("2023-11-15".to_string()),
            Some("2023-12-13".to_string()),
            None
        ]
    );
    assert_eq!(n.updates[0].source.line, 5);
}

#[test]
fn srv_2019_domain_controller_with_tab_indented_entries() {
    let (n, _) = one("DC01.systeminfo-tab-indented.txt");
    assert_eq!(n.name, "DC01");
    assert_eq!(n.os.build(), Some(17763));
    assert_eq!(
        kbs(&n),
        ["KB5022511", "KB5023702", "KB5020374", "KB5025229"]
    );
    assert_eq!(
        n.domain.as_ref().map(|d| d.value.as_str()),
        Some("corp.example.com")
    );
    assert_eq!(
        n.boot_time.as_ref().map(|d| d.value.as_str()),
        Some("4/13/2023, 7:15:02 AM")
    );
    assert_eq!(
        n.os.architecture.as_ref().map(|d| d.value.as_str()),
        Some("x64")
    );
}

#[test]
fn wua_history_japanese_uninstalled_update_is_not_installed() {
    let (n, fmt) = one("WS01.wua-history-ja.txt");
    assert_eq!(fmt, "wu-history");
    assert_eq!(n.name, "WS01");
    assert_eq!(n.os.build(), None);
    // KB5022834 was installed and then uninstalled.
    assert_eq!(kbs(&n), ["KB5023794", "KB5023696"]);
    assert!(
        n.updates[0]
            .description
            .as_deref()
            .unwrap()
            .contains(".NET Framework 3.5")
    );
    assert_eq!(n.updates[0].source.line, 9);
}
