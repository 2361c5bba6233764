//! Host-protection rule files (TOML) on arbitrary text, through the linter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_check::protection::rules::lint_file;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = lint_file("fuzz-rule.toml", &text);
});
