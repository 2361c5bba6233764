//! Coverage inputs on arbitrary text: the first half as a hosts file (CSV
//! or JSON), the second as an edges file and a policy list against the
//! network the hosts made, and the whole as a snapshot's VM edges.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_coverage::input::{parse_edges, parse_hosts, parse_policy, parse_snapshot_edges};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mid = text.len() / 2;
    let cut = (mid..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
    let (hosts, rest) = text.split_at(cut);
    if let Ok(mut net) = parse_hosts("hosts.csv", hosts) {
        let _ = parse_edges("edges.csv", rest, &mut net);
        let _ = parse_policy("policy.txt", rest, &net);
        let _ = parse_snapshot_edges("snapshot.json", &text, &mut net);
    }
});
