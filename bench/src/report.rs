//! Results: one `Run` per scenario and concurrency, printed as JSON and as a Markdown table.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub server: String,
    pub scenario: String,
    pub concurrency: usize,
    pub seconds: f64,
    pub requests: u64,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// "status error" -> count; any entry makes the run a failed run.
    pub errors: BTreeMap<String, u64>,
    pub rss_max_kib: Option<u64>,
}

impl Run {
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub runs: Vec<Run>,
    pub startup_ms: Option<f64>,
    pub rss_idle_kib: Option<u64>,
    /// `--seed-sessions`: what was seeded before the runs (scale runs).
    pub seeded: Option<crate::seed::Seeded>,
    /// `--seed-expired`: seeded sessions the cleanup task had not deleted when the runs ended.
    pub seeded_left: Option<u64>,
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "| server | scenario | concurrency | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | max RSS MiB |\n\
             | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n",
        );
        for r in &self.runs {
            let errors = if r.errors.is_empty() {
                "0".to_string()
            } else {
                r.errors.iter().map(|(k, v)| format!("{v}× {k}")).collect::<Vec<_>>().join(", ")
            };
            let rss = r.rss_max_kib.map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |\n",
                r.server, r.scenario, r.concurrency, r.throughput, r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms, errors, rss
            ));
        }
        if let Some(ms) = self.startup_ms {
            out.push_str(&format!("\nStart-up to first served request: {ms:.0} ms\n"));
        }
        if let Some(kib) = self.rss_idle_kib {
            out.push_str(&format!("RSS idle after start-up: {:.1} MiB\n", kib as f64 / 1024.0));
        }
        out
    }
}
