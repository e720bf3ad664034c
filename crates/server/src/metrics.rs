//! `/metrics` in the Prometheus text format: the outbox's depth per topic
//! and state, the age of the oldest waiting job, failures, this process's
//! delivery counters, its HTTP requests (by part of the site and status
//! class, with a latency histogram) and its resident memory.
//!
//! Served two ways: on a listener of its own (`metrics_bind`, reachable
//! only from the monitoring network, no token), or on the main listener to
//! callers with the configured bearer token. With neither, it does not exist.

use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lapor_domain::Error;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Upper bounds of the request latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Parts of the site, kept coarse so the series stay few whatever the URLs.
const PARTS: [&str; 7] = ["api", "staff", "web", "hooks", "open311", "metrics", "other"];
/// Status classes 1xx..5xx.
const CLASSES: usize = 5;

/// This process's HTTP requests since it started.
pub struct HttpCounters {
    /// Per part: requests per status class.
    requests: [[AtomicU64; CLASSES]; PARTS.len()],
    /// Per part: cumulative latency buckets, then +Inf.
    latency: [[AtomicU64; BUCKETS.len() + 1]; PARTS.len()],
    /// Per part: the sum of latencies, in microseconds.
    latency_sum_us: [AtomicU64; PARTS.len()],
    started: Instant,
}

impl Default for HttpCounters {
    fn default() -> Self {
        HttpCounters {
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            latency: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            latency_sum_us: std::array::from_fn(|_| AtomicU64::new(0)),
            started: Instant::now(),
        }
    }
}

fn part_of(path: &str) -> usize {
    let p = if path.starts_with("/api/") {
        "api"
    } else if path == "/staf" || path.starts_with("/staf/") {
        "staff"
    } else if path.starts_with("/hooks/") {
        "hooks"
    } else if path.starts_with("/open311/") {
        "open311"
    } else if path == "/metrics" {
        "metrics"
    } else if path == "/"
        || path.starts_with("/lapor")
        || path.starts_with("/lacak")
        || path.starts_with("/laporan")
        || path.starts_with("/statistik")
        || path.starts_with("/aset/")
        || path.starts_with("/masuk")
        || path.starts_with("/daftar")
        || path.starts_with("/akun")
        || path.starts_with("/fragmen/")
    {
        "web"
    } else {
        "other"
    };
    PARTS.iter().position(|x| *x == p).unwrap_or(PARTS.len() - 1)
}

impl HttpCounters {
    pub fn record(&self, path: &str, status: u16, secs: f64) {
        let part = part_of(path);
        let class = (usize::from(status / 100)).clamp(1, CLASSES) - 1;
        self.requests[part][class].fetch_add(1, Ordering::Relaxed);
        let bucket = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        // Cumulative, as Prometheus wants: every bucket from this one up.
        for b in &self.latency[part][bucket..] {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.latency_sum_us[part].fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP lapor_http_requests_total HTTP requests answered by this process."
        );
        let _ = writeln!(out, "# TYPE lapor_http_requests_total counter");
        for (i, part) in PARTS.iter().enumerate() {
            for (c, n) in self.requests[i].iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "lapor_http_requests_total{{part=\"{part}\",status=\"{}xx\"}} {n}",
                        c + 1
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP lapor_http_request_seconds Time to answer an HTTP request (to its headers)."
        );
        let _ = writeln!(out, "# TYPE lapor_http_request_seconds histogram");
        for (i, part) in PARTS.iter().enumerate() {
            let total = self.latency[i][BUCKETS.len()].load(Ordering::Relaxed);
            if total == 0 {
                continue;
            }
            for (b, le) in BUCKETS.iter().enumerate() {
                let n = self.latency[i][b].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "lapor_http_request_seconds_bucket{{part=\"{part}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "lapor_http_request_seconds_bucket{{part=\"{part}\",le=\"+Inf\"}} {total}"
            );
            let sum = self.latency_sum_us[i].load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "lapor_http_request_seconds_sum{{part=\"{part}\"}} {sum}");
            let _ = writeln!(out, "lapor_http_request_seconds_count{{part=\"{part}\"}} {total}");
        }
        let _ = writeln!(
            out,
            "# HELP lapor_process_uptime_seconds Seconds since this process started."
        );
        let _ = writeln!(out, "# TYPE lapor_process_uptime_seconds gauge");
        let _ = writeln!(out, "lapor_process_uptime_seconds {}", self.started.elapsed().as_secs());
        if let Some(rss) = resident_bytes() {
            let _ = writeln!(
                out,
                "# HELP lapor_process_resident_memory_bytes Resident memory of this process."
            );
            let _ = writeln!(out, "# TYPE lapor_process_resident_memory_bytes gauge");
            let _ = writeln!(out, "lapor_process_resident_memory_bytes {rss}");
        }
    }
}

/// Resident memory from /proc (Linux); None elsewhere.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Middleware: counts every answer and its latency.
pub async fn count_requests(
    State(st): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path().to_string();
    let t = Instant::now();
    let resp = next.run(req).await;
    st.http_counters
        .record(&path, resp.status().as_u16(), t.elapsed().as_secs_f64());
    resp
}

fn authorized(st: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = st.config.metrics_token.as_deref().filter(|t| !t.is_empty()) else {
        return false;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    crate::service::subtle_eq::ct_eq(given.as_bytes(), token.as_bytes())
}

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

pub async fn render(st: &AppState) -> Result<String, Error> {
    let depths = st.store.queue_depths().await?;
    let now = Utc::now();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP lapor_outbox_jobs Outbox jobs by topic and state (pending, dead, undeliverable)."
    );
    let _ = writeln!(out, "# TYPE lapor_outbox_jobs gauge");
    for d in &depths {
        let _ = writeln!(
            out,
            "lapor_outbox_jobs{{topic=\"{}\",state=\"{}\"}} {}",
            label(&d.topic),
            d.state,
            d.count
        );
    }
    let _ = writeln!(
        out,
        "# HELP lapor_outbox_failing_jobs Pending jobs that failed at least once."
    );
    let _ = writeln!(out, "# TYPE lapor_outbox_failing_jobs gauge");
    for d in depths.iter().filter(|d| d.state == "pending") {
        let _ = writeln!(
            out,
            "lapor_outbox_failing_jobs{{topic=\"{}\"}} {}",
            label(&d.topic),
            d.failing
        );
    }
    let oldest = depths
        .iter()
        .filter(|d| d.state == "pending")
        .filter_map(|d| d.oldest)
        .min()
        .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
    let _ = writeln!(
        out,
        "# HELP lapor_outbox_oldest_pending_seconds Age of the oldest pending job."
    );
    let _ = writeln!(out, "# TYPE lapor_outbox_oldest_pending_seconds gauge");
    let _ = writeln!(out, "lapor_outbox_oldest_pending_seconds {oldest}");
    let c = &st.counters;
    let _ = writeln!(
        out,
        "# HELP lapor_deliveries_total Jobs finished by this process, by outcome."
    );
    let _ = writeln!(out, "# TYPE lapor_deliveries_total counter");
    for (outcome, n) in [
        ("delivered", &c.delivered),
        ("retried", &c.retried),
        ("dead", &c.dead),
        ("undeliverable", &c.undeliverable),
    ] {
        let _ = writeln!(
            out,
            "lapor_deliveries_total{{outcome=\"{outcome}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
    let w = &st.webhook_counters;
    let _ = writeln!(
        out,
        "# HELP lapor_webhook_deliveries_total Webhook attempts finished by this process, by outcome."
    );
    let _ = writeln!(out, "# TYPE lapor_webhook_deliveries_total counter");
    for (outcome, n) in [("delivered", &w.delivered), ("retried", &w.retried), ("dead", &w.dead)] {
        let _ = writeln!(
            out,
            "lapor_webhook_deliveries_total{{outcome=\"{outcome}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
    st.http_counters.write(&mut out);
    Ok(out)
}

/// `/metrics` on the main listener: only with the bearer token.
pub async fn metrics(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if st.config.metrics_token.as_deref().is_none_or(str::is_empty) {
        return crate::error::error_response(&Error::not_found(), crate::error::lang_of(&headers));
    }
    if !authorized(&st, &headers) {
        return crate::error::error_response(
            &Error::new(lapor_domain::ErrorCode::Unauthenticated),
            crate::error::lang_of(&headers),
        );
    }
    exposition(&st, &headers).await
}

/// The metrics listener's application: `/metrics` for anyone who can reach
/// it (bind it to a private address), and nothing else.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(st): State<AppState>, headers: HeaderMap| async move {
                exposition(&st, &headers).await
            }),
        )
        .with_state(state)
}

async fn exposition(st: &AppState, headers: &HeaderMap) -> Response {
    match render(st).await {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => crate::error::error_response(&e, crate::error::lang_of(headers)),
    }
}
