//! `/metrics` in the Prometheus text format: the outbox's depth per topic
//! and state, the age of the oldest waiting job, failures, and this
//! process's delivery counters. Only callers with the configured bearer
//! token may read it; without a token the endpoint does not exist.

use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lapor_domain::Error;
use std::fmt::Write;
use std::sync::atomic::Ordering;

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
    Ok(out)
}

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
    match render(&st).await {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => crate::error::error_response(&e, crate::error::lang_of(&headers)),
    }
}
