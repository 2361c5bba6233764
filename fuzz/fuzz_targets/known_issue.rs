//! Known-issue files (`+++` TOML front matter and Markdown) on arbitrary
//! text, through the linter every user folder goes through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_catalog::known_issues::lint_sources;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = lint_sources(&[(Path::new("LOCKSTEP-2099-0001.md"), &text)]);
});
