//! Damaged input never panics: truncated, byte-flipped and random documents
//! give an error (or a smaller batch), never a crash.

use lockstep_catalog::import::parse_bytes;
use proptest::prelude::*;

const XML: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/catalog/cvrf-2023-Dec-slice-prefixed.xml"
));
const JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/catalog/cvrf-2023-Dec-slice.json"
));
const CSV: &str = "\"DatePosted\",\"CVE\",\"BulletinKB\",\"Title\",\"AffectedProduct\",\"AffectedComponent\",\"Severity\",\"Impact\",\"Supersedes\",\"Exploits\"\n\
\"20231212\",\"CVE-2023-36696\",\"5033118\",\"Windows Cloud Files Mini Filter Driver Elevation of Privilege Vulnerability\",\"Windows Server 2022\",\"Windows Cloud Files Mini Filter Driver\",\"Important\",\"Elevation of Privilege\",\"5032198\",\n\
\"20231212\",\"CVE-2023-36696\",\"5033464\",\"Windows Cloud Files Mini Filter Driver Elevation of Privilege Vulnerability\",\"Windows Server 2022\",\"Windows Cloud Files Mini Filter Driver\",\"Important\",\"Elevation of Privilege\",\"\",\n";

fn damage(base: &str, cut: usize, flips: &[(usize, u8)]) -> Vec<u8> {
    let mut bytes = base.as_bytes().to_vec();
    for (at, b) in flips {
        let n = bytes.len();
        if n > 0 {
            bytes[at % n] = *b;
        }
    }
    let n = bytes.len();
    bytes.truncate(cut % (n + 1));
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn damaged_xml_never_panics(cut in 0usize..10_000, flips in prop::collection::vec((0usize..10_000, any::<u8>()), 0..8)) {
        let _ = parse_bytes(&damage(XML, cut, &flips), "t.xml", "t");
    }

    #[test]
    fn damaged_json_never_panics(cut in 0usize..6_000, flips in prop::collection::vec((0usize..6_000, any::<u8>()), 0..8)) {
        let _ = parse_bytes(&damage(JSON, cut, &flips), "t.json", "t");
    }

    #[test]
    fn damaged_csv_never_panics(cut in 0usize..1_000, flips in prop::collection::vec((0usize..1_000, any::<u8>()), 0..8)) {
        let _ = parse_bytes(&damage(CSV, cut, &flips), "t.csv", "t");
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_bytes(&bytes, "r", "r");
    }
}

#[test]
fn undamaged_inputs_parse() {
    assert_eq!(
        parse_bytes(XML.as_bytes(), "t.xml", "t")
            .unwrap()
            .fixes
            .len(),
        7
    );
    assert_eq!(
        parse_bytes(JSON.as_bytes(), "t.json", "t")
            .unwrap()
            .fixes
            .len(),
        7
    );
    let csv = parse_bytes(CSV.as_bytes(), "t.csv", "CVEs_t.csv").unwrap();
    assert_eq!(csv.name, "CVEs_t.csv");
    assert_eq!(csv.fixes.len(), 2);
    assert_eq!(csv.edges.len(), 1);
}
