//! Bad input: truncated, binary, empty, very long lines, arbitrary bytes.
//! Parsers must return an error naming file and line, or a result, never
//! panic.

use lockstep_ingest::load::{parse_bytes, parse_text};
use lockstep_ingest::{FileContent, Text, formats};
use proptest::prelude::*;

fn real(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/real/inventory/{}"
        ),
        name
    ))
    .unwrap()
}

fn written(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/inventory/{}"
        ),
        name
    ))
    .unwrap()
}

fn kb_count(c: &FileContent) -> usize {
    match c {
        FileContent::Nodes(n) => n.iter().map(|f| f.node.updates.len()).sum(),
        _ => 0,
    }
}

#[test]
fn truncated_systeminfo_keeps_what_was_printed() {
    let bytes = real("wesng__srv_2016_1607_datacenter_en-us_systeminfo.txt");
    // Cut in the middle of the hotfix list (after `[03]: KB41`).
    let text = String::from_utf8(bytes).unwrap();
    let cut = text.find("KB4132216").unwrap() + 4;
    let (c, f) = parse_bytes(&text.as_bytes()[..cut], "cut.txt").unwrap();
    assert_eq!(f, "systeminfo");
    // KB4049065, KB4091664; `[03]: KB41` is not a KB (too short): not kept
    // as one, and reported with its line.
    assert_eq!(kb_count(&c), 2);
    let FileContent::Nodes(facts) = &c else {
        panic!("not nodes")
    };
    let errors: Vec<String> = facts[0].errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        errors,
        [
            "cut.txt:36: expected a KB number of 6 or 7 digits such as KB5033118 (a shorter one is cut off), found \"KB41\""
        ]
    );
    // Cut before the OS version line: no longer recognisable.
    let cut = text.find("OS Version").unwrap();
    let e = parse_bytes(&text.as_bytes()[..cut], "cut2.txt").unwrap_err();
    assert_eq!(e.path, "cut2.txt");
    assert_eq!(e.line, 2);
    assert!(
        e.expected.starts_with("inventory output in a known format"),
        "{e}"
    );
}

#[test]
fn truncated_json_names_the_line() {
    let bytes = written("HV02.get-hotfix.json");
    let half = &bytes[..bytes.len() / 2];
    let e = parse_bytes(half, "half.json").unwrap_err();
    assert_eq!(e.path, "half.json");
    assert!(e.line > 1, "{e}");
    assert!(
        e.expected.starts_with("Get-HotFix ConvertTo-Json output"),
        "{e}"
    );
}

#[test]
fn binary_input_is_an_error() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..2000u32).map(|i| (i * 7919 % 251) as u8));
    let e = parse_bytes(&png, "shot.png").unwrap_err();
    assert_eq!(e.path, "shot.png");
    assert!(e.expected.starts_with("text, found binary data"), "{e}");
}

#[test]
fn empty_and_blank_files_are_errors() {
    for b in [&b""[..], b"\r\n\r\n", b"\xEF\xBB\xBF", b"\xFF\xFE"] {
        let e = parse_bytes(b, "e.txt").unwrap_err();
        assert!(e.expected.ends_with("found an empty file"), "{e}");
    }
}

#[test]
fn unknown_text_names_first_line() {
    let e = parse_bytes(b"\n\nhello world\nsecond\n", "x.txt").unwrap_err();
    assert_eq!(e.line, 3);
    // No excerpt of a file that is no inventory (it may be /etc/shadow).
    assert_eq!(e.found, None);
    assert!(
        e.to_string()
            .starts_with("x.txt:3: expected inventory output in a known format")
    );
}

#[test]
fn ten_megabyte_lines() {
    let long = "A".repeat(10 << 20);
    // A huge value inside a systeminfo capture.
    let text = format!(
        "\nHost Name:                 HV01\nOS Name:                   {long}\nOS Version:                10.0.20348 N/A Build 20348\nHotfix(s):                 1 Hotfix(s) Installed.\n                           [01]: KB5005039\n"
    );
    let (c, _) = parse_text(Text::new("long.txt", text)).unwrap();
    assert_eq!(kb_count(&c), 1);
    // A single 10 MB line of nothing known.
    let e = parse_text(Text::new("one-line.txt", long.clone())).unwrap_err();
    assert_eq!(e.line, 1);
    assert_eq!(e.found, None);
    // A 10 MB JSON string value.
    let json = format!("[{{\"HotFixID\": \"KB5005039\", \"Description\": \"{long}\"}}]");
    let (c, f) = parse_text(Text::new("big.json", json)).unwrap();
    assert_eq!((kb_count(&c), f), (1, "get-hotfix"));
}

#[test]
fn utf16_without_bom_systeminfo_list() {
    let text = String::from_utf8(real("wesng__srv_2022_systeminfo.txt")).unwrap();
    let utf16: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let (c, f) = parse_bytes(&utf16, "nobom.txt").unwrap();
    assert_eq!((kb_count(&c), f), (3, "systeminfo"));
    let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    let (c, _) = parse_bytes(&be, "nobom-be.txt").unwrap();
    assert_eq!(kb_count(&c), 3);
}

/// Text that looks like the start of each format, so that the fuzzing
/// reaches the parsers and not only detection.
fn seeds() -> Vec<String> {
    vec![
        String::from_utf8(real("wesng__srv_2022_systeminfo.txt")).unwrap(),
        String::from_utf8(written("WS01.wua-history-ja.txt")).unwrap(),
        String::from_utf8(real("wesng__srv_2012r2_x64_standard_ru_qfe.txt")).unwrap(),
        String::from_utf8(written("HV01.get-hotfix.csv")).unwrap(),
        String::from_utf8(written("HV10.osquery-patches.json")).unwrap(),
        String::from_utf8(written("HV08.get-wuhistory.csv")).unwrap(),
        "[{\"HotFixID\": \"KB1\", \"InstalledOn\": {\"value\": \"/Date(1)/\"}}]".to_string(),
        "\nNode,Caption,CSName,HotFixID,InstalledOn\n".to_string(),
        "Source Description HotFixID\n------ ----------- --------\n".to_string(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every parser, called directly (not only after its own detection), on
    /// arbitrary text.
    #[test]
    fn parsers_never_panic_on_text(s in "\\PC{0,400}") {
        let t = Text::new("p", s.clone());
        for f in formats::FORMATS {
            let _ = (f.detect)(&s);
            let _ = (f.parse)(&t);
        }
    }

    /// Known inputs with a slice replaced by arbitrary text.
    #[test]
    fn parsers_never_panic_on_mutated_inputs(i in 0usize..9, at in 0usize..4000, len in 0usize..200, junk in "\\PC{0,60}") {
        let seeds = seeds();
        let base = &seeds[i % seeds.len()];
        let mut a = at.min(base.len());
        while !base.is_char_boundary(a) { a -= 1; }
        let mut b = (a + len).min(base.len());
        while !base.is_char_boundary(b) { b -= 1; }
        let text = format!("{}{}{}", &base[..a], junk, &base[b..]);
        let t = Text::new("m", text.clone());
        for f in formats::FORMATS {
            let _ = (f.detect)(&text);
            let _ = (f.parse)(&t);
        }
    }

    /// Decode + detect + parse on arbitrary bytes.
    #[test]
    fn bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_bytes(&b, "b");
    }
}
