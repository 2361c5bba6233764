//! The `systeminfo` parser on arbitrary text (called directly, whether or not
//! its `detect` claims the text): it must return a result or an error, never
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_ingest::Text;
use lockstep_ingest::formats::systeminfo::FORMAT as FORMAT;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = (FORMAT.detect)(&text);
    let _ = (FORMAT.parse)(&Text::new("fuzz", text.into_owned()));
});
