//! Every real capture in `tests/fixtures/real/inventory/` parses to the exact
//! host name, OS build and KB list it contains (lists written here by
//! reading each file).

use lockstep_ingest::load_paths;
use lockstep_model::{Inventory, Node};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/real/inventory/"
    ))
    .join(name)
}

/// Loads one file given directly: exactly one loose node, no errors.
fn one_node(name: &str) -> (Node, &'static str) {
    let out = load_paths(&[fixture(name)]);
    assert!(out.errors.is_empty(), "{name}: {:?}", out.errors);
    let Inventory {
        clusters,
        mut loose_nodes,
    } = out.inventory;
    assert!(clusters.is_empty());
    assert_eq!(loose_nodes.len(), 1, "{name}");
    (loose_nodes.remove(0), out.files[0].1)
}

fn kbs(n: &Node) -> Vec<u32> {
    n.updates.iter().map(|u| u.kb.number()).collect()
}

fn val<T: Clone>(s: &Option<lockstep_model::Sourced<T>>) -> Option<T> {
    s.as_ref().map(|x| x.value.clone())
}

#[test]
fn srv_2022() {
    let (n, fmt) = one_node("wesng__srv_2022_systeminfo.txt");
    assert_eq!(fmt, "systeminfo");
    assert_eq!(n.name, "WIN-RIBN7SM07BK");
    assert_eq!(n.os.build(), Some(20348));
    assert_eq!(kbs(&n), [5004330, 5005039, 5005552]);
    assert_eq!(
        val(&n.os.caption).as_deref(),
        Some("Microsoft Windows Server 2022 Standard")
    );
    assert_eq!(val(&n.os.architecture).as_deref(), Some("x64"));
    assert_eq!(val(&n.domain).as_deref(), Some("WORKGROUP"));
    assert_eq!(val(&n.boot_time).as_deref(), Some("10/22/2021, 8:36:55 AM"));
    assert_eq!(n.os.service_pack, None);
    // Network card `[01]: 192.168.254.172` lines are not hotfixes.
    assert!(n.other_entries.is_empty());
    assert_eq!(n.updates[1].source.line, 35);
    assert_eq!(n.name_source.as_ref().unwrap().line, 2);
}

#[test]
fn srv_2019_rtm() {
    let (n, _) = one_node("wesng__srv_2019_rtm_datacenter_en-us_systeminfo.txt");
    assert_eq!(n.name, "WIN-O863JARO7CM");
    assert_eq!(n.os.build(), Some(17763));
    assert_eq!(kbs(&n), [4462930, 4470788, 4480056, 4480979, 4480116]);
    assert_eq!(val(&n.boot_time).as_deref(), Some("1/13/2019, 1:52:11 PM"));
}

#[test]
fn srv_2016() {
    let (n, _) = one_node("wesng__srv_2016_1607_datacenter_en-us_systeminfo.txt");
    assert_eq!(n.name, "MYSERVER");
    assert_eq!(n.os.build(), Some(14393));
    assert_eq!(kbs(&n), [4049065, 4091664, 4132216, 4465659, 4483229]);
    assert!(n.other_entries.is_empty());
}

#[test]
fn win10_1803_spanish_capture_without_host_name_line() {
    // The capture starts at `OS Name`: no host name, domain or logon server
    // lines, so the node is named after the file.
    let (n, _) = one_node("wesng__10_1803_x64_enterprise_es-ar_20190307_systeminfo.txt");
    assert_eq!(
        n.name,
        "wesng__10_1803_x64_enterprise_es-ar_20190307_systeminfo"
    );
    assert_eq!(n.name_source.as_ref().unwrap().line, 0);
    assert_eq!(n.os.build(), Some(17134));
    assert_eq!(
        kbs(&n),
        [4456655, 4465663, 4477029, 4477137, 4480979, 4487029]
    );
    assert_eq!(
        val(&n.os.caption).as_deref(),
        Some("Microsoft Windows 10 Enterprise")
    );
    assert_eq!(val(&n.domain), None);
    assert_eq!(val(&n.boot_time).as_deref(), Some("3/7/2019, 7:54:07 AM"));
}

#[test]
fn win10_1803_no_hotfixes() {
    let (n, _) = one_node("wesng__10_1803_x64_proforworkstations_en-us_B_20190306_systeminfo.txt");
    assert_eq!(n.name, "DESKTOP-OOF6NB5");
    assert_eq!(n.os.build(), Some(17134));
    assert_eq!(kbs(&n), Vec::<u32>::new());
    assert!(n.other_entries.is_empty());
    assert_eq!(val(&n.domain).as_deref(), Some("WORKGROUP"));
}

#[test]
fn win7_german_truncated_hotfix_list() {
    let (n, _) = one_node("wesng__7_sp1_x64_ultimaten_de_systeminfo.txt");
    assert_eq!(n.name, "OLI7-PC");
    assert_eq!(n.os.build(), Some(7601));
    assert_eq!(n.os.version.as_ref().unwrap().value.to_string(), "6.1.7601");
    assert_eq!(n.os.service_pack.as_deref(), Some("Service Pack 1"));
    assert_eq!(
        val(&n.os.caption).as_deref(),
        Some("Microsoft Windows 7 Ultimate N")
    );
    assert_eq!(val(&n.domain).as_deref(), Some("WORKGROUP"));
    assert_eq!(val(&n.boot_time).as_deref(), Some("04.03.2019, 11:44:54"));
    // 245 entries printed (three KBs twice), then the cut-off `[24`.
    assert_eq!(kbs(&n), GERMAN_KBS);
    assert!(n.other_entries.is_empty());
}

#[test]
fn srv_2012r2_russian() {
    let (n, _) = one_node("wesng__srv_2012r2_x64_standard_ru_systeminfo.txt");
    assert_eq!(n.name, "DC");
    assert_eq!(n.os.build(), Some(9600));
    assert_eq!(
        kbs(&n),
        [
            2919355, 2919442, 2937220, 2938772, 2939471, 2949621, 2999226
        ]
    );
    assert_eq!(
        val(&n.os.caption).as_deref(),
        Some("Майкрософт Ознакомительная версия Windows Server 2012 R2 Standard")
    );
    assert_eq!(val(&n.domain).as_deref(), Some("TEST"));
    assert_eq!(val(&n.boot_time).as_deref(), Some("23.04.2020, 7:15:57"));
}

#[test]
fn srv_2012r2_russian_wmic_qfe_with_stray_shell_line() {
    let (n, fmt) = one_node("wesng__srv_2012r2_x64_standard_ru_qfe.txt");
    assert_eq!(fmt, "wmic-qfe");
    assert_eq!(n.name, "DC");
    assert_eq!(n.os.build(), None);
    assert_eq!(
        kbs(&n),
        [
            2919355, 2919442, 2937220, 2938772, 2939471, 2949621, 2999226
        ]
    );
    let dates: Vec<String> = n
        .updates
        .iter()
        .map(|u| u.installed_on.unwrap().to_string())
        .collect();
    assert_eq!(dates[0], "2014-03-18");
    assert_eq!(dates[6], "2020-04-17");
    assert_eq!(
        n.updates[0].installed_by.as_deref(),
        Some("TEST_dc\\Администратор")
    );
    assert_eq!(n.updates[5].description.as_deref(), Some("Hotfix"));
    assert_eq!(n.updates[0].source.line, 3);
}

#[test]
fn empty_utf16_qfe_capture_is_an_error_naming_the_file() {
    let path = fixture("wesng__10_1803_x64_proforworkstations_en-us_B_20190306_qfe.txt");
    let out = load_paths(std::slice::from_ref(&path));
    assert_eq!(out.inventory.all_nodes().count(), 0);
    assert_eq!(out.errors.len(), 1);
    let e = &out.errors[0];
    assert_eq!(e.path, path.display().to_string());
    assert_eq!(e.line, 0);
    assert!(e.expected.ends_with("found an empty file"), "{e}");
}

#[test]
fn systeminfo_and_qfe_of_one_host_merge_in_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cl = dir.path().join("RU-CLUSTER");
    std::fs::create_dir(&cl).unwrap();
    for f in [
        "wesng__srv_2012r2_x64_standard_ru_systeminfo.txt",
        "wesng__srv_2012r2_x64_standard_ru_qfe.txt",
    ] {
        std::fs::copy(fixture(f), cl.join(f)).unwrap();
    }
    let out = load_paths(&[cl]);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let c = &out.inventory.clusters[0];
    assert_eq!(c.name, "RU-CLUSTER");
    assert_eq!(c.nodes.len(), 1);
    let n = &c.nodes[0];
    assert_eq!(n.name, "DC");
    assert_eq!(n.sources.len(), 2);
    assert_eq!(n.os.build(), Some(9600));
    assert_eq!(
        kbs(n),
        [
            2919355, 2919442, 2937220, 2938772, 2939471, 2949621, 2999226
        ]
    );
    // The qfe file (sorted first) gave dates; systeminfo added the OS.
    assert_eq!(n.updates[0].installed_on.unwrap().to_string(), "2014-03-18");
    assert_eq!(n.cluster.as_deref(), Some("RU-CLUSTER"));
}

const GERMAN_KBS: [u32; 242] = [
    2849697, 2849696, 2841134, 968211, 2670838, 2830477, 2592687, 2479943, 2491683, 2506014,
    2506212, 2506928, 2509553, 2511455, 2532531, 2533552, 2533623, 2534111, 2536275, 2544893,
    2545698, 2547666, 2552343, 2560656, 2563227, 2564958, 2570947, 2574819, 2579686, 2585542,
    2603229, 2604115, 2620704, 2621440, 2631813, 2639308, 2640148, 2653956, 2654428, 2656356,
    2660075, 2667402, 2676562, 2685811, 2685813, 2685939, 2690533, 2698365, 2705219, 2706045,
    2712808, 2718704, 2719857, 2726535, 2727528, 2729094, 2729452, 2731771, 2732059, 2732487,
    2736422, 2742599, 2750841, 2758857, 2761217, 2763523, 2770660, 2773072, 2786081, 2789645,
    2791765, 2798162, 2799926, 2800095, 2807986, 2808679, 2813430, 2834140, 2836942, 2836943,
    2839894, 2840149, 2840631, 2843630, 2847927, 2852386, 2853952, 2857650, 2861698, 2862152,
    2862330, 2862335, 2864202, 2868038, 2868116, 2868626, 2871997, 2882822, 2884256, 2888049,
    2891804, 2892074, 2893294, 2893519, 2894844, 2900986, 2908783, 2911501, 2912390, 2918077,
    2919469, 2923545, 2929733, 2931356, 2937610, 2943357, 2952664, 2957189, 2965788, 2966583,
    2968294, 2970228, 2972100, 2972211, 2973112, 2973201, 2973351, 2977292, 2978120, 2978742,
    2984972, 2984976, 2985461, 2991963, 2992611, 2993651, 2999226, 3003743, 3004361, 3004375,
    3005607, 3006121, 3006137, 3010788, 3011780, 3013531, 3019978, 3020369, 3020370, 3020388,
    3021674, 3021917, 3022777, 3023215, 3030377, 3031432, 3033889, 3033929, 3035126, 3035132,
    3037574, 3042058, 3042553, 3045685, 3046017, 3046269, 3054476, 3055642, 3059317, 3060716,
    3067903, 3067904, 3068708, 3071756, 3072305, 3072630, 3074543, 3075220, 3075226, 3076895,
    3076949, 3078601, 3078667, 3080079, 3080149, 3080446, 3084135, 3086255, 3087039, 3092601,
    3093513, 3097989, 3101722, 3102429, 3107998, 3108371, 3108381, 3108664, 3108670, 3109094,
    3109103, 3109560, 3110329, 3115858, 3118401, 3122648, 3123479, 3124275, 3124280, 3126587,
    3127220, 3133977, 3135983, 3137061, 3138378, 3138612, 3138910, 3139398, 3139914, 3139940,
    3140245, 3142024, 3142042, 3145739, 3146706, 3146963, 3147071, 3149090, 3150220, 3150513,
    3153171, 3155178, 3156016, 3156017, 3156019, 3159398, 3161102, 3161561, 3161664, 3161949,
    3161958, 3162835,
];
