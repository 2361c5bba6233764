//! The MSRC CVRF XML parser (plain and namespace-prefixed documents, as
//! `catalog import` and `catalog update` read them) on arbitrary bytes: a
//! batch or an error naming the line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_catalog::SourceFormat;
use lockstep_catalog::import::parse_stream;

fuzz_target!(|data: &[u8]| {
    let reopen = || Some(Box::new(std::io::Cursor::new(data.to_vec())) as Box<dyn std::io::Read>);
    let _ = parse_stream(data, SourceFormat::CvrfXml, "fuzz", "fuzz.xml", &reopen);
});
