//! The WES-NG CSV parser on arbitrary bytes, read through the same record
//! bound as `catalog import` (a row that never ends is an error).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_catalog::SourceFormat;
use lockstep_catalog::import::parse_stream;
use lockstep_catalog::limits::Bounded;

fuzz_target!(|data: &[u8]| {
    // A small record bound, so that the fuzzer reaches it.
    let input = Bounded::new(data, u64::MAX, 4096);
    let _ = parse_stream(input, SourceFormat::WesngCsv, "fuzz.csv", "fuzz.csv", &|| None);
});
