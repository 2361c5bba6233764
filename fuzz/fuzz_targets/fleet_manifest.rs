//! Fleet manifests (TOML) on arbitrary text: clusters, nodes and file lists
//! are read or refused with the line; paths that leave the manifest's folder
//! are refused (the files named mostly do not exist: errors, not panics).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_ingest::manifest::{is_manifest, load_manifest};
use lockstep_ingest::{LoadOptions, LoadOutcome};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("/nonexistent-lockstep-fuzz/fleet.toml");
    let _ = is_manifest(path, &text);
    let mut out = LoadOutcome::default();
    load_manifest(path, &text, &LoadOptions::default(), &mut out);
});
