//! JSON report, schema `lockstep-report/1` (documented in
//! `schema/report-v1.schema.json`).

use lockstep_check::run::CheckReport;

pub fn render_json(report: &CheckReport) -> String {
    // Serialising plain data cannot fail: every map key is a string.
    let mut s = serde_json::to_string(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the report: {e}\"}}"));
    s.push('\n');
    s
}
