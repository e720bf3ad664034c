//! The integration API: how a regional complaint system (or another Lapor)
//! works with this instance as a connected institution.
//!
//! - `/api/v1/oauth/token`: OAuth2 client credentials;
//! - `/api/v1/integration/reports…`: push, pull, read and act on reports;
//! - `/api/v1/integration/changes`: the changes feed, for systems that poll;
//! - `/api/v1/integration/webhooks…`: subscriptions, delivery log, replay;
//! - `/api/v1/integration/keys/rotate`: a new key with an overlap.
//!
//! A client acts as a service account holding the institution-admin role of
//! its institution, so everything it does passes the same authorization
//! rules, lifecycle checks and audit as a person's; its scopes narrow that.

pub mod access;
pub mod clients;
pub mod federation;
pub mod lapor_v3;
pub mod reports;
pub mod webhooks;

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests one client may make per minute on one node.
pub const DEFAULT_PER_MINUTE: u32 = 6000;

/// Runtime of the integration adapter on this node.
pub struct Runtime {
    /// For webhook deliveries: short time-outs (a slow receiver must not
    /// hold a worker), and no redirects (a signed body goes where the
    /// subscription says, nowhere else).
    pub http: reqwest::Client,
    limits: Mutex<HashMap<String, (Instant, u32)>>,
    pub per_minute: u32,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("Lapor-Webhooks/1")
                .build()
                .unwrap_or_default(),
            limits: Mutex::default(),
            per_minute: DEFAULT_PER_MINUTE,
        }
    }
}

impl Runtime {
    /// Counts a request of `client`; false when it is over its rate.
    pub fn allow(&self, client: &str) -> bool {
        let now = Instant::now();
        let mut map = match self.limits.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let w = map.entry(client.to_string()).or_insert((now, 0));
        if now.duration_since(w.0) >= Duration::from_secs(60) {
            *w = (now, 0);
        }
        w.1 += 1;
        w.1 <= self.per_minute
    }
}

/// The HTTP client for the systems Lapor reports upward to (the national
/// SP4N-LAPOR! API, a Lapor hub): patient, since they sit behind gateways.
pub(crate) fn upstream_http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

pub fn routes(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route("/oauth/token", post(access::token))
        .route("/integration/keys/rotate", post(access::rotate_key))
        .route(
            "/integration/reports",
            post(reports::push)
                .get(reports::pull)
                .layer(DefaultBodyLimit::max(max_upload)),
        )
        .route("/integration/reports/{id}", get(reports::read))
        .route(
            "/integration/reports/{id}/follow-ups",
            post(reports::follow_up).layer(DefaultBodyLimit::max(max_upload)),
        )
        .route("/integration/reports/{id}/status", post(reports::status))
        .route("/integration/reports/{id}/transfer", post(reports::transfer))
        .route("/integration/changes", get(reports::changes))
        .route("/integration/webhooks", post(webhooks::subscribe).get(webhooks::list))
        .route(
            "/integration/webhooks/{id}",
            get(webhooks::show).delete(webhooks::unsubscribe),
        )
        .route(
            "/integration/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route("/integration/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route(
            "/integration/webhooks/{id}/deliveries/{delivery}/attempts",
            get(webhooks::attempts),
        )
        .route("/integration/webhooks/{id}/replay", post(webhooks::replay))
}

/// The integration endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        access::token,
        access::rotate_key,
        reports::push,
        reports::pull,
        reports::read,
        reports::follow_up,
        reports::status,
        reports::transfer,
        reports::changes,
        webhooks::subscribe,
        webhooks::list,
        webhooks::show,
        webhooks::unsubscribe,
        webhooks::rotate_secret,
        webhooks::deliveries,
        webhooks::attempts,
        webhooks::replay
    ),
    tags((name = "integration", description = "For connected complaint systems: API keys or OAuth2 client credentials, scoped to one institution"))
)]
pub struct IntegrationDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_per_client_and_per_minute() {
        let rt = Runtime {
            per_minute: 3,
            ..Runtime::default()
        };
        assert!((0..3).all(|_| rt.allow("a")));
        assert!(!rt.allow("a"));
        assert!(rt.allow("b"), "another client has its own budget");
    }
}
