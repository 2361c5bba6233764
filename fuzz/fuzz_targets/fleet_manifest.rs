//! Fleet manifests (TOML) on arbitrary text: recognised by content or not,
//! clusters, nodes and file lists read or refused with the line; paths that
//! leave the manifest's folder are refused (the files named mostly do not
//! exist: errors, not panics).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_ingest::formats::manifest_line;
use lockstep_ingest::load_paths;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = manifest_line(&text);
    // The loader reads manifests from files: one per fuzzing process.
    let dir = std::env::temp_dir().join(format!("lockstep-fuzz-manifest-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("fleet.toml");
    if std::fs::write(&path, data).is_ok() {
        let _ = load_paths(&[path]);
    }
});
