//! The whole path a file takes: bytes → decode (BOM, UTF-16 sniffing, code
//! pages) → detect → parse, over every registered format.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lockstep_ingest::load::parse_bytes(data, "fuzz");
});
