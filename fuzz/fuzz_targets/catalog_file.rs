//! `catalog import FILE` on arbitrary bytes: format detection, then a CVRF
//! document, a WES-NG CSV or a `definitions.zip` (the zip reader: entry
//! names, inflating, the bounded CSV inside). The bytes go through a file,
//! as an import reads them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("lockstep-fuzz-{}.bin", std::process::id()));
    let written = std::fs::File::create(&path).and_then(|mut f| f.write_all(data));
    if written.is_ok() {
        let _ = lockstep_catalog::import::parse_file(&path);
    }
});
