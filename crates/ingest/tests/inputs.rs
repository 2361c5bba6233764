//! What the captures of real hosts look like where they are awkward (issue
//! 12, "Inputs"): KB ids with suffixes and descriptions, ids cut short,
//! hotfix lists cut short, wmic's first-run banner before UTF-16LE without a
//! BOM, the architecture of localized systeminfo, and captures of one host
//! that disagree. Real captures (tests/fixtures/real/SOURCES.md) where the
//! repository has them, written ones (tests/fixtures/inventory/README.md)
//! otherwise. Every KB list, error and warning is asserted exactly.

use lockstep_ingest::{LoadOutcome, load_paths};
use lockstep_model::Node;
use std::path::{Path, PathBuf};

fn dir(sub: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/"
    ))
    .join(sub)
}

fn real(name: &str) -> PathBuf {
    dir("real/inventory").join(name)
}

fn truth(name: &str) -> PathBuf {
    dir("real/truth").join(name)
}

fn written(name: &str) -> PathBuf {
    dir("inventory").join(name)
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

fn errors(o: &LoadOutcome) -> Vec<String> {
    o.errors.iter().map(ToString::to_string).collect()
}

fn warnings(o: &LoadOutcome) -> Vec<String> {
    o.warnings.iter().map(ToString::to_string).collect()
}

fn kbs(n: &Node) -> Vec<u32> {
    n.updates.iter().map(|u| u.kb.number()).collect()
}

/// The updates whose id said more than the KB number, as written.
fn id_texts(n: &Node) -> Vec<(u32, &str)> {
    n.updates
        .iter()
        .filter_map(|u| Some((u.kb.number(), u.id_text.as_deref()?)))
        .collect()
}

/// The one node of a file given on its own.
fn only_node(o: &LoadOutcome) -> &Node {
    let nodes: Vec<&Node> = o.inventory.all_nodes().collect();
    assert_eq!(nodes.len(), 1, "{nodes:#?}");
    nodes[0]
}

fn cut_list(declared: usize, listed: usize) -> String {
    format!(
        "systeminfo says {declared} hotfixes are installed but lists {listed}: the other {} are unknown from this file (systeminfo on Windows 7 and Server 2008 R2 stops listing long lists; a wmic qfe or Get-HotFix capture of the host lists them all)",
        declared - listed
    )
}

const UNION_WHY: &str = "since every update a capture lists was installed when it was taken (one capture may be older than the other, or have its list cut short)";

#[test]
fn server_2003_systeminfo_suffixes_descriptions_and_a_cut_id() {
    let path = real("wesng__srv_2003r2_sp2_x86_standard_en-us_systeminfo.txt");
    let out = load_paths(std::slice::from_ref(&path));
    let n = only_node(&out);
    assert_eq!(n.name, "SRV2K3R2SP2X86");
    assert_eq!(
        kbs(n),
        [
            2742604, 2894845, 2972207, 2978114, 3023211, 3037572, 933854, 979907, 968930, 975558,
            925398, 2510531, 2632503, 3065822, 3074886, 982632, 2564958, 971513, 2115168, 2229593,
            2345886, 2347290, 2387149, 2419635, 2423089, 2443105, 2478960, 2481109, 2483185,
            2485663, 2492386, 2506212, 2507938, 2508429, 2509553, 2535512, 2536276, 2544893,
            2566454, 2570947, 2584146, 2598479, 2603381, 2620712, 2631813, 2638806, 2653956,
            2659262, 2676562, 2685939, 2686509, 2698365, 2705219, 2712808, 2727528, 2748349,
            2749655, 2770660, 2779562, 2780091, 2803821, 2807986, 2808679, 2813345, 2820917,
            2834886, 2862152
        ]
    );
    assert_eq!(
        id_texts(n),
        [
            (975558, "KB975558_WM8"),
            (925398, "KB925398_WMP64"),
            (2510531, "KB2510531-IE8"),
            (2632503, "KB2632503-IE8"),
            (3065822, "KB3065822-IE8"),
            (3074886, "KB3074886-IE8"),
            (982632, "KB982632-IE8"),
            (2536276, "KB2536276-v2"),
            (2544893, "KB2544893-v2"),
            (2705219, "KB2705219-v2"),
            (2803821, "KB2803821-v2"),
        ]
    );
    // `KB2742604 - QFE` (line 206) and later `KB2742604 - Update`: one KB,
    // the first listing's description.
    let u = n.updates.iter().find(|u| u.kb.number() == 2742604).unwrap();
    assert_eq!(
        (u.description.as_deref(), u.source.line),
        (Some("QFE"), 206)
    );
    let u = n.updates.iter().find(|u| u.kb.number() == 975558).unwrap();
    assert_eq!(u.description.as_deref(), None);
    let others: Vec<&str> = n.other_entries.iter().map(|o| o.text.as_str()).collect();
    assert_eq!(others, ["File 1", "Q147222"]);
    assert_eq!(
        n.os.architecture
            .as_ref()
            .map(|a| (a.value.as_str(), a.source.line)),
        Some(("x86", 15))
    );
    // systeminfo stopped inside its 240th entry: an error, not KB2862.
    assert_eq!(
        errors(&out),
        [format!(
            "{}:274: expected a KB number of 6 or 7 digits such as KB5033118 (a shorter one is cut off), found \"KB2862\"",
            shown(&path)
        )]
    );
    assert_eq!(
        warnings(&out),
        [format!("{}:34: {}", shown(&path), cut_list(352, 240))]
    );
}

#[test]
fn windows_xp_systeminfo_suffixes_and_a_cut_list() {
    let path = real("wesng__xp_sp3_x86_professional_en-us_systeminfo.txt");
    let out = load_paths(std::slice::from_ref(&path));
    let n = only_node(&out);
    assert_eq!(n.name, "WINXPSP3");
    assert_eq!(
        kbs(n),
        [
            2378111, 2803821, 952069, 954155, 973540, 975558, 978695, 2510531, 2909921, 2564958,
            898461, 2115168, 2229593, 2296011, 2345886, 2347290, 2387149, 2393802, 2419632,
            2423089, 2443105, 2478960, 2478971, 2479943, 2481109, 2483185, 2485663, 2506212,
            2507938, 2508429, 2509553, 2510581, 2535512, 2536276, 2544893, 2566454, 2570947,
            2584146, 2585542, 2592799, 2598479, 2603381, 2619339, 2620712, 2631813, 2653956,
            2655992, 2659262, 2661637, 2676562, 2686509, 2691442, 2698365, 2705219, 2712808,
            2719985, 2723135, 2727528, 2749655, 2757638, 2770660, 2780091, 2802968, 2807986,
            2813345, 2820917, 2834886, 2847311, 2850869, 2859537, 2862152, 2862330, 2862335,
            2864063, 2868626, 2876217, 2876331, 2879017, 2892075, 2893294, 2898715, 2900986,
            2904266, 2909212, 2914368, 2916036, 2922229, 2929961, 2930275, 2934207, 923561, 946648
        ]
    );
    assert_eq!(
        id_texts(n),
        [
            (2378111, "KB2378111_WM9"),
            (2803821, "KB2803821-v2_WM9"),
            (952069, "KB952069_WM9"),
            (954155, "KB954155_WM9"),
            (973540, "KB973540_WM9"),
            (975558, "KB975558_WM8"),
            (978695, "KB978695_WM9"),
            (2510531, "KB2510531-IE8"),
            (2909921, "KB2909921-IE8"),
            (2536276, "KB2536276-v2"),
            (2544893, "KB2544893-v2"),
            (2705219, "KB2705219-v2"),
            (2723135, "KB2723135-v2"),
        ]
    );
    let u = n.updates.iter().find(|u| u.kb.number() == 2510531).unwrap();
    assert_eq!(u.description.as_deref(), Some("Update"));
    // The broken `[221` marker is not an entry: no error, the count says it.
    assert_eq!(errors(&out), Vec::<String>::new());
    assert_eq!(
        warnings(&out),
        [format!("{}:33: {}", shown(&path), cut_list(262, 220))]
    );
}

#[test]
fn french_windows_7_cmd_capture_takes_the_architecture_from_the_system_type() {
    // CP850, `[01]<no-break space>: Intel64 …` for the processor: the
    // processors are found, and the field before them is `Type du système`.
    let path = real("wesng__7_sp1_x64_enterprise_fr_systeminfo_cmd.txt");
    let out = load_paths(std::slice::from_ref(&path));
    let n = only_node(&out);
    assert_eq!(n.name, "WIN-IDKKFN87EL8");
    assert_eq!(
        n.os.architecture
            .as_ref()
            .map(|a| (a.value.as_str(), a.source.line)),
        Some(("x64", 15))
    );
    assert_eq!(n.updates.len(), 73);
    assert_eq!(n.updates[72].kb.number(), 4493472);
    assert_eq!(
        n.boot_time.as_ref().map(|b| b.value.as_str()),
        Some("29/04/2019, 18:56:01")
    );
    assert_eq!(errors(&out), Vec::<String>::new());
    assert_eq!(warnings(&out), Vec::<String>::new());
}

/// The line `line` of a capture, decoded as the parsers see it.
fn line_of(path: &Path, line: u32) -> String {
    let bytes = std::fs::read(path).unwrap();
    let text = lockstep_ingest::decode::decode(&bytes, "x").unwrap();
    text.lines().nth(line as usize - 1).unwrap().to_string()
}

#[test]
fn every_localized_systeminfo_reads_its_architecture_from_the_system_type_line() {
    let cases = [
        (
            written("HV-FR01.systeminfo.utf8.txt"),
            15,
            "Type du système:",
        ),
        (
            real("wesng__7_sp1_x64_enterprise_fr_systeminfo_cmd.txt"),
            15,
            "Type du système:",
        ),
        (
            real("wesng__7_sp1_x64_ultimaten_de_systeminfo.txt"),
            15,
            "Systemtyp:",
        ),
        (written("HV-RU01.systeminfo.cp1251.txt"), 15, "Тип системы:"),
        (written("HV-RU02.systeminfo.cp866.txt"), 15, "Тип системы:"),
        (
            real("wesng__srv_2012r2_x64_standard_ru_systeminfo.txt"),
            14,
            "Тип системы:",
        ),
        (
            real("wesng__10_1809_x64_education_es_systeminfo.txt"),
            15,
            "Tipo de sistema:",
        ),
        // es-AR regional settings, English labels.
        (
            real("wesng__10_1803_x64_enterprise_es-ar_20190307_systeminfo.txt"),
            13,
            "System Type:",
        ),
        (written("HV-CN01.systeminfo.gbk.txt"), 15, "系统类型:"),
    ];
    for (path, line, label) in cases {
        let out = load_paths(std::slice::from_ref(&path));
        let n = only_node(&out);
        let arch = n.os.architecture.as_ref().unwrap();
        assert_eq!(
            (arch.value.as_str(), arch.source.line),
            ("x64", line),
            "{path:?}"
        );
        let text = line_of(&path, line);
        assert!(
            text.starts_with(label) && text.ends_with("x64-based PC"),
            "{path:?}: line {line} is {text:?}"
        );
    }
}

#[test]
fn two_systeminfo_captures_of_one_host_are_merged_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let cl = tmp.path().join("LAB");
    std::fs::create_dir(&cl).unwrap();
    for f in [
        "wesng__srv_2012r2_u1_systeminfo.txt",
        "wesng__srv_2012r2_u1_systeminfo2.txt",
    ] {
        std::fs::copy(real(f), cl.join(f)).unwrap();
    }
    let out = load_paths(std::slice::from_ref(&cl));
    assert_eq!(errors(&out), Vec::<String>::new());
    let n = only_node(&out);
    assert_eq!(n.name, "SRV12R2U1X64");
    assert_eq!(n.updates.len(), 156);
    let tail: Vec<u32> = kbs(n).split_off(153);
    assert_eq!(tail, [4489881, 4489873, 4489883]);
    let first = shown(&cl.join("wesng__srv_2012r2_u1_systeminfo.txt"));
    let second = shown(&cl.join("wesng__srv_2012r2_u1_systeminfo2.txt"));
    assert_eq!(
        warnings(&out),
        [format!(
            "{second}: SRV12R2U1X64: installed updates differ from {first}: 2 only here (KB4489873, KB4489883), 0 only there; the union (156 updates) is used, {UNION_WHY}"
        )]
    );
}

/// A temporary directory holding `files` under new names.
fn host_dir(files: &[(PathBuf, &str)]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("TRUTH");
    std::fs::create_dir(&d).unwrap();
    for (from, to) in files {
        std::fs::copy(from, d.join(to)).unwrap();
    }
    (tmp, d)
}

#[test]
fn truth_windows_7_host_systeminfo_qfe_and_both() {
    let si = truth("wesng__7_sp1_x64_enterprise_en-us_20190305_systeminfo.txt");
    let qfe = truth("wesng__7_sp1_x64_enterprise_en-us_20190305_qfe.txt");
    // systeminfo alone: 245 of the 273 hotfixes it counts.
    let out = load_paths(std::slice::from_ref(&si));
    assert_eq!(only_node(&out).updates.len(), 245);
    assert_eq!(
        warnings(&out),
        [format!("{}:33: {}", shown(&si), cut_list(273, 245))]
    );
    // wmic qfe alone: 276 (three installed on 2019-03-06, after systeminfo).
    let out = load_paths(std::slice::from_ref(&qfe));
    assert_eq!(only_node(&out).updates.len(), 276);
    assert_eq!(warnings(&out), Vec::<String>::new());
    // Both, named after one host: the qfe capture names no host, so it goes
    // with the systeminfo of the same file name prefix.
    let (_tmp, d) = host_dir(&[(si, "HOST.systeminfo.txt"), (qfe, "HOST.qfe.txt")]);
    let out = load_paths(std::slice::from_ref(&d));
    assert_eq!(errors(&out), Vec::<String>::new());
    let n = only_node(&out);
    assert_eq!(n.name, "WIN7SP1X64");
    assert_eq!(n.updates.len(), 276);
    assert_eq!(n.sources.len(), 2);
    let (si, qfe) = (
        shown(&d.join("HOST.systeminfo.txt")),
        shown(&d.join("HOST.qfe.txt")),
    );
    assert_eq!(
        warnings(&out),
        [
            format!("{si}:33: {}", cut_list(273, 245)),
            format!(
                "{si}: WIN7SP1X64: installed updates differ from {qfe}: 0 only here, 31 only there (KB3109560, KB3133977, KB3137061, KB3138378, KB3138612, KB3138910, KB3139398, KB3139914, KB3140245, KB3147071 and 21 more); the union (276 updates) is used, {UNION_WHY}"
            ),
        ]
    );
}

#[test]
fn truth_windows_10_host_systeminfo_qfe_and_both_agree() {
    let si = truth("wesng__10_1803_x64_proforworkstations_en-us_A_20190305_systeminfo.txt");
    let qfe = truth("wesng__10_1803_x64_proforworkstations_en-us_A_20190305_qfe.txt");
    for p in [&si, &qfe] {
        let out = load_paths(std::slice::from_ref(p));
        assert_eq!(kbs(only_node(&out)), [4462930, 4485449, 4487038, 4487017]);
        assert_eq!(warnings(&out), Vec::<String>::new());
    }
    let (_tmp, d) = host_dir(&[(si, "HOST.systeminfo.txt"), (qfe, "HOST.qfe.txt")]);
    let out = load_paths(std::slice::from_ref(&d));
    let n = only_node(&out);
    assert_eq!(n.name, "DESKTOP-OOF6NB5");
    assert_eq!(kbs(n), [4462930, 4485449, 4487038, 4487017]);
    assert_eq!((errors(&out), warnings(&out)), (vec![], vec![]));
}

#[test]
fn wmic_first_run_banner_then_utf16le_without_bom() {
    let path = written("HV12.wmic-qfe-first-run.txt");
    let out = load_paths(std::slice::from_ref(&path));
    assert_eq!((errors(&out), warnings(&out)), (vec![], vec![]));
    assert_eq!(out.files[0].1, "wmic-qfe");
    let n = only_node(&out);
    assert_eq!(n.name, "HV12");
    assert_eq!(kbs(n), [4535680, 5005112, 5005030]);
    // Line 1 is the banner, line 2 the header.
    let lines: Vec<u32> = n.updates.iter().map(|u| u.source.line).collect();
    assert_eq!(lines, [3, 4, 5]);
    assert_eq!(
        line_of(&path, 1),
        "Please wait while WMIC is being installed."
    );
    assert_eq!(
        n.updates[2].installed_on.map(|d| d.to_string()).as_deref(),
        Some("2021-08-11")
    );
}

/// Every hotfix list form reads the same ids the same way: a suffix after
/// the digits (`KB2536276-v2`, `KB2510531-IE8`, `KB2378111_WM9`) names the
/// KB and is kept as written, and an id too short to be a KB (`KB2862`) is
/// an error naming the file and its line, never a KB.
#[test]
fn every_hotfix_list_form_reads_suffixes_and_rejects_short_ids() {
    let ids = ["KB2536276-v2", "KB2510531-IE8", "KB2378111_WM9", "KB2862"];
    let [a, b, c, d] = ids;
    let systeminfo = format!(
        "\r\nHost Name:                 FS01\r\nOS Name:                   Microsoft(R) Windows(R) Server 2003, Standard Edition\r\nOS Version:                5.2.3790 Service Pack 2 Build 3790\r\nHotfix(s):                 4 Hotfix(s) Installed.\r\n                           [01]: {a} - Update\r\n                           [02]: {b} - Update\r\n                           [03]: {c}\r\n                           [04]: {d}\r\nNetwork Card(s):           1 NIC(s) Installed.\r\n"
    );
    let systeminfo_csv = format!(
        "\"FS01\",\"Microsoft(R) Windows(R) Server 2003, Standard Edition\",\"5.2.3790 Service Pack 2 Build 3790\",\"Microsoft Corporation\",\"Standalone Server\",\"Multiprocessor Free\",\"User\",\"\",\"69712-652-4256684-45431\",\"4/25/2014, 11:19:12 AM\",\"0 Days, 0 Hours, 1 Minutes, 27 Seconds\",\"VMware, Inc.\",\"VMware Virtual Platform\",\"X86-based PC\",\"1 Processor(s) Installed.,[01]: x86 Family 6 Model 78 Stepping 3 GenuineIntel ~2495 Mhz\",\"INTEL  - 6040000\",\"C:\\WINDOWS\",\"C:\\WINDOWS\\system32\",\"\\Device\\HarddiskVolume1\",\"en-us;English (United States)\",\"en-us;English (United States)\",\"(GMT+01:00) Amsterdam\",\"1,023 MB\",\"757 MB\",\"1,510 MB\",\"1,338 MB\",\"172 MB\",\"C:\\pagefile.sys\",\"WORKGROUP\",\"\\\\FS01\",\"4 Hotfix(s) Installed.,[01]: {a} - Update,[02]: {b} - Update,[03]: {c},[04]: {d}\",\"1 NIC(s) Installed.,[01]: Intel(R) PRO/1000 MT Network Connection\"\r\n"
    );
    let hotfix_csv = format!(
        "#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_QuickFixEngineering\r\n\"PSComputerName\",\"Description\",\"HotFixID\",\"InstalledBy\",\"InstalledOn\"\r\n\"FS01\",\"Update\",\"{a}\",\"\",\"\"\r\n\"FS01\",\"Update\",\"{b}\",\"\",\"\"\r\n\"FS01\",\"Update\",\"{c}\",\"\",\"\"\r\n\"FS01\",\"Update\",\"{d}\",\"\",\"\"\r\n"
    );
    let hotfix_json = format!(
        "[\r\n    {{\r\n        \"CSName\":  \"FS01\",\r\n        \"HotFixID\":  \"{a}\"\r\n    }},\r\n    {{\r\n        \"CSName\":  \"FS01\",\r\n        \"HotFixID\":  \"{b}\"\r\n    }},\r\n    {{\r\n        \"CSName\":  \"FS01\",\r\n        \"HotFixID\":  \"{c}\"\r\n    }},\r\n    {{\r\n        \"CSName\":  \"FS01\",\r\n        \"HotFixID\":  \"{d}\"\r\n    }}\r\n]\r\n"
    );
    let hotfix_table = format!(
        "\r\nSource        Description      HotFixID      InstalledBy          InstalledOn\r\n------        -----------      --------      -----------          -----------\r\nFS01          Update           {a:<14}NT AUTHORITY\\SYSTEM  4/25/2014 12:00:00 AM\r\nFS01          Update           {b:<14}NT AUTHORITY\\SYSTEM  4/25/2014 12:00:00 AM\r\nFS01          Update           {c:<14}NT AUTHORITY\\SYSTEM  4/25/2014 12:00:00 AM\r\nFS01          Update           {d:<14}NT AUTHORITY\\SYSTEM  4/25/2014 12:00:00 AM\r\n\r\n"
    );
    let block = |id: &str| {
        format!(
            "Source      : FS01\r\nDescription : Update\r\nHotFixID    : {id}\r\nInstalledBy : \r\nInstalledOn : \r\n\r\n"
        )
    };
    let hotfix_list = format!("\r\n{}{}{}{}", block(a), block(b), block(c), block(d));
    let wmic_block = |id: &str| {
        format!(
            "CSName=FS01\r\r\nDescription=Update\r\r\nHotFixID={id}\r\r\nInstalledOn=\r\r\n\r\r\n\r\r\n"
        )
    };
    let wmic_list = format!(
        "\r\r\n\r\r\n{}{}{}{}",
        wmic_block(a),
        wmic_block(b),
        wmic_block(c),
        wmic_block(d)
    );
    let wmic_table = format!(
        "CSName  Description  HotFixID       InstalledOn  \r\nFS01    Update       {a:<15}4/25/2014    \r\nFS01    Update       {b:<15}4/25/2014    \r\nFS01    Update       {c:<15}4/25/2014    \r\nFS01    Update       {d:<15}4/25/2014    \r\n\r\n"
    );
    let wmic_csv = format!(
        "\r\r\nNode,CSName,Description,HotFixID,InstalledOn\r\r\nFS01,FS01,Update,{a},4/25/2014\r\r\nFS01,FS01,Update,{b},4/25/2014\r\r\nFS01,FS01,Update,{c},4/25/2014\r\r\nFS01,FS01,Update,{d},4/25/2014\r\r\n"
    );
    let osquery = format!(
        "[\n  {{\"csname\":\"FS01\",\"hotfix_id\":\"{a}\"}},\n  {{\"csname\":\"FS01\",\"hotfix_id\":\"{b}\"}},\n  {{\"csname\":\"FS01\",\"hotfix_id\":\"{c}\"}},\n  {{\"csname\":\"FS01\",\"hotfix_id\":\"{d}\"}}\n]\n"
    );
    // (form, text, format read as, line of the short id)
    let forms = [
        ("systeminfo", systeminfo, "systeminfo", 9),
        ("systeminfo /FO CSV", systeminfo_csv, "systeminfo-csv", 1),
        ("Get-HotFix | Export-Csv", hotfix_csv, "get-hotfix", 6),
        ("Get-HotFix | ConvertTo-Json", hotfix_json, "get-hotfix", 16),
        ("Get-HotFix", hotfix_table, "get-hotfix", 7),
        ("Get-HotFix | Format-List", hotfix_list, "get-hotfix", 22),
        ("wmic qfe list full", wmic_list, "wmic-qfe", 23),
        ("wmic qfe get", wmic_table, "wmic-qfe", 5),
        ("wmic qfe /format:csv", wmic_csv, "wmic-qfe", 6),
        ("osquery patches", osquery, "osquery-patches", 5),
    ];
    for (form, text, format, line) in forms {
        let (content, read_as) = lockstep_ingest::load::parse_bytes(text.as_bytes(), "ids.txt")
            .unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(read_as, format, "{form}");
        let lockstep_ingest::FileContent::Nodes(facts) = content else {
            panic!("{form}: not nodes")
        };
        assert_eq!(facts.len(), 1, "{form}");
        let f = &facts[0];
        assert_eq!(
            f.name.as_ref().map(|n| n.value.as_str()),
            Some("FS01"),
            "{form}"
        );
        assert_eq!(
            id_texts(&f.node),
            [
                (2536276, "KB2536276-v2"),
                (2510531, "KB2510531-IE8"),
                (2378111, "KB2378111_WM9")
            ],
            "{form}"
        );
        assert_eq!(kbs(&f.node), [2536276, 2510531, 2378111], "{form}");
        assert!(
            f.node.other_entries.is_empty(),
            "{form}: {:?}",
            f.node.other_entries
        );
        let errs: Vec<String> = f.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errs,
            [format!(
                "ids.txt:{line}: expected a KB number of 6 or 7 digits such as KB5033118 (a shorter one is cut off), found \"KB2862\""
            )],
            "{form}"
        );
    }
}

/// Windows Update history names KBs in its `KB` column or in the title; a
/// `KB` column too short to be a KB, with no KB in the title, is an error.
#[test]
fn update_history_reads_suffixed_and_rejects_short_kb_columns() {
    let text = "\"ComputerName\",\"Operationname\",\"Result\",\"Date\",\"Title\",\"KB\"\r\n\"FS01\",\"Installation\",\"Succeeded\",\"4/25/2014 10:00:00 AM\",\"Security Update for Windows Server 2003 (KB2536276)\",\"KB2536276-v2\"\r\n\"FS01\",\"Installation\",\"Succeeded\",\"4/25/2014 10:01:00 AM\",\"Update for Windows Server 2003\",\"KB2862\"\r\n";
    let (content, read_as) = lockstep_ingest::load::parse_bytes(text.as_bytes(), "wu.csv").unwrap();
    assert_eq!(read_as, "wu-history");
    let lockstep_ingest::FileContent::Nodes(facts) = content else {
        panic!("not nodes")
    };
    assert_eq!(kbs(&facts[0].node), [2536276]);
    let errs: Vec<String> = facts[0].errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errs,
        [
            "wu.csv:3: expected a KB number of 6 or 7 digits such as KB5033118 (a shorter one is cut off), found \"KB2862\""
        ]
    );
}

/// A file that stops without a line end may stop inside its last id: a
/// seven-digit KB there is whole (none has more), a shorter one may not be.
#[test]
fn an_id_cut_by_the_end_of_the_file_is_an_error() {
    let bytes =
        std::fs::read(real("wesng__srv_2016_1607_datacenter_en-us_systeminfo.txt")).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    for (cut_after, line, found) in [
        ("KB4132216", None, ""),
        ("KB413221", Some(36), "KB413221"),
        ("KB41", Some(36), "KB41"),
    ] {
        let end = text.find("KB4132216").unwrap() + cut_after.len();
        let (content, _) =
            lockstep_ingest::load::parse_bytes(&text.as_bytes()[..end], "cut.txt").unwrap();
        let lockstep_ingest::FileContent::Nodes(facts) = content else {
            panic!("not nodes")
        };
        let errs: Vec<(u32, String)> = facts[0]
            .errors
            .iter()
            .map(|e| (e.line, e.found.clone().unwrap_or_default()))
            .collect();
        match line {
            None => {
                assert!(errs.is_empty(), "{errs:?}");
                assert_eq!(kbs(&facts[0].node), [4049065, 4091664, 4132216]);
            }
            Some(l) => {
                assert_eq!(errs, [(l, found.to_string())]);
                assert_eq!(kbs(&facts[0].node), [4049065, 4091664]);
            }
        }
    }
}

/// Two systeminfo captures of one host with different OS versions (the host
/// was upgraded in place between them): the higher version is used, with
/// its caption, whichever file comes first, and a warning says so.
#[test]
fn captures_with_different_os_versions_use_the_higher_one_and_warn() {
    let older = std::fs::read_to_string(real("wesng__srv_2012r2_u1_systeminfo.txt")).unwrap();
    let newer = older
        .replace(
            "Microsoft Windows Server 2012 R2 Standard",
            "Microsoft Windows Server 2016 Standard",
        )
        .replace("6.3.9600 N/A Build 9600", "10.0.14393 N/A Build 14393");
    let why = "is used, the higher one, since a host's version only rises (updates raise the revision, upgrades the build); if these are two hosts with one name, give each capture its own";
    for newer_first in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let cl = tmp.path().join("LAB");
        std::fs::create_dir(&cl).unwrap();
        let (first, second) = if newer_first {
            (&newer, &older)
        } else {
            (&older, &newer)
        };
        std::fs::write(cl.join("a.txt"), first).unwrap();
        std::fs::write(cl.join("b.txt"), second).unwrap();
        let out = load_paths(std::slice::from_ref(&cl));
        let n = only_node(&out);
        let (a, b) = (shown(&cl.join("a.txt")), shown(&cl.join("b.txt")));
        let version = n.os.version.as_ref().unwrap();
        assert_eq!(version.value.to_string(), "10.0.14393");
        let from_newer = if newer_first { &a } else { &b };
        assert_eq!(version.source.file.as_ref(), from_newer.as_str());
        assert_eq!(
            n.os.caption
                .as_ref()
                .map(|c| (c.value.as_str(), c.source.file.as_ref())),
            Some((
                "Microsoft Windows Server 2016 Standard",
                from_newer.as_str()
            ))
        );
        let (here, there) = if newer_first {
            ("6.3.9600", "10.0.14393")
        } else {
            ("10.0.14393", "6.3.9600")
        };
        assert_eq!(
            warnings(&out),
            [format!(
                "{b}:4: SRV12R2U1X64: OS version {here} here, {there} in {a}:4: 10.0.14393 {why}"
            )]
        );
    }
}

/// Captures of one host that name different architectures with the same
/// version: the first capture's is kept, and a warning says so.
#[test]
fn captures_with_different_architectures_warn() {
    let x64 = std::fs::read_to_string(real("wesng__srv_2012r2_u1_systeminfo.txt")).unwrap();
    let x86 = x64.replace("x64-based PC", "X86-based PC");
    let tmp = tempfile::tempdir().unwrap();
    let cl = tmp.path().join("LAB");
    std::fs::create_dir(&cl).unwrap();
    std::fs::write(cl.join("a.txt"), &x64).unwrap();
    std::fs::write(cl.join("b.txt"), &x86).unwrap();
    let out = load_paths(std::slice::from_ref(&cl));
    let n = only_node(&out);
    assert_eq!(n.os.architecture.as_ref().unwrap().value, "x64");
    let (a, b) = (shown(&cl.join("a.txt")), shown(&cl.join("b.txt")));
    assert_eq!(
        warnings(&out),
        [format!(
            "{b}:15: SRV12R2U1X64: architecture x86 here, x64 in {a}:15: x64 is used, the first capture's is kept (two hosts with one name?)"
        )]
    );
}

/// A Windows Update history lists what Windows Update installed
/// (definitions, drivers…), not the hotfix list: beside a hotfix list of the
/// same host it is merged without a warning.
#[test]
fn update_history_beside_a_hotfix_list_is_not_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let cl = tmp.path().join("LAB");
    std::fs::create_dir_all(cl.join("WS01")).unwrap();
    std::fs::copy(
        written("WS01.wua-history-ja.txt"),
        cl.join("WS01").join("history.txt"),
    )
    .unwrap();
    std::fs::write(
        cl.join("WS01").join("qfe.txt"),
        "HotFixID   InstalledOn  \r\nKB5005039  8/10/2021    \r\n\r\n",
    )
    .unwrap();
    let out = load_paths(std::slice::from_ref(&cl));
    let n = only_node(&out);
    assert_eq!(n.sources.len(), 2);
    assert_eq!(kbs(n), [5023794, 5023696, 5005039]);
    assert_eq!((errors(&out), warnings(&out)), (vec![], vec![]));
}

/// A capture that names no host goes with the host its file-name prefix
/// names, unless two files of that prefix name different hosts.
#[test]
fn nameless_captures_take_the_host_of_their_file_name_prefix_when_it_is_one() {
    let qfe = "HotFixID   InstalledOn  \r\nKB5005039  8/10/2021    \r\n\r\n";
    let si = std::fs::read_to_string(real("wesng__srv_2022_systeminfo.txt")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("ONE");
    std::fs::create_dir(&one).unwrap();
    std::fs::write(one.join("h1.systeminfo.txt"), &si).unwrap();
    std::fs::write(one.join("h1.qfe.txt"), qfe).unwrap();
    let out = load_paths(std::slice::from_ref(&one));
    let names: Vec<&str> = out.inventory.all_nodes().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["WIN-RIBN7SM07BK"]);
    let two = tmp.path().join("TWO");
    std::fs::create_dir(&two).unwrap();
    std::fs::write(two.join("h1.a.txt"), &si).unwrap();
    std::fs::write(two.join("h1.b.txt"), si.replace("WIN-RIBN7SM07BK", "OTHER")).unwrap();
    std::fs::write(two.join("h1.qfe.txt"), qfe).unwrap();
    let out = load_paths(std::slice::from_ref(&two));
    let names: Vec<&str> = out.inventory.all_nodes().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["WIN-RIBN7SM07BK", "OTHER", "h1"]);
}
