//! The MSRC CVRF JSON parser on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_catalog::SourceFormat;
use lockstep_catalog::import::parse_stream;

fuzz_target!(|data: &[u8]| {
    let reopen = || Some(Box::new(std::io::Cursor::new(data.to_vec())) as Box<dyn std::io::Read>);
    let _ = parse_stream(data, SourceFormat::CvrfJson, "fuzz", "fuzz.json", &reopen);
});
