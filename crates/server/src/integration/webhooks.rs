//! Outbound webhooks: subscriptions managed through the API, and the worker
//! that delivers them.
//!
//! Each event on a report an institution holds becomes one delivery per
//! active subscription, in the transaction that wrote the event. The worker
//! sends a report's events in order (the next waits until the one before it
//! is delivered or dead), signs each the Standard Webhooks way with every
//! live secret of the subscription, retries with back-off for three days
//! (`lapor_integration::retry`), then dead-letters. Every attempt is logged
//! with its status and latency; dead letters can be replayed.

use super::access::Client;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Query};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use lapor_domain::{Error, ErrorCode};
use lapor_integration::client::Scope;
use lapor_integration::feed::Change;
use lapor_integration::webhook::{self, Secret};
use lapor_store::ts::Ts;
use lapor_store::{
    DeliveryNext, DeliveryOutcome, SigningSecret, WebhookAttempt, WebhookDelivery, WebhookJob, WebhookSubscription,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<T, ApiError>;

/// Subscriptions one institution may hold.
const MAX_SUBSCRIPTIONS: usize = 10;
/// Longest overlap of an old signing secret after rotation.
const MAX_SECRET_OVERLAP_HOURS: i64 = 168;

/// Checks a receiver URL: http(s), a host, no credentials in it.
pub fn check_url(raw: &str) -> Result<String, Error> {
    let bad = |why: &str| Error::validation(format!("url: {why}"));
    if raw.len() > 2000 {
        return Err(bad("at most 2000 characters"));
    }
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| bad("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("http or https only"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("no credentials in the URL; verify our signature instead"));
    }
    Ok(url.to_string())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    /// Where to POST the events.
    #[schema(example = "https://simpel.bandungkota.go.id/hooks/lapor")]
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    pub url: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&WebhookSubscription> for SubscriptionView {
    fn from(s: &WebhookSubscription) -> Self {
        SubscriptionView {
            id: s.id.clone(),
            url: s.url.clone(),
            active: s.active,
            created_at: s.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Subscribed {
    pub subscription: SubscriptionView,
    /// The signing secret (`whsec_…`). Shown once; verify `webhook-signature`
    /// with it.
    pub secret: String,
}

fn new_secret() -> SigningSecret {
    SigningSecret {
        secret: Secret::from_random(rand::random()).expose(),
        expires_at: None,
    }
}

/// Subscribe a URL to the events of reports your institution holds.
/// Clients with `webhooks`.
#[utoipa::path(post, path = "/api/v1/integration/webhooks", tag = "integration", request_body = Subscribe, security(("bearer" = [])),
    responses((status = 201, body = Subscribed), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn subscribe(State(st): State<AppState>, client: Client, Json(req): Json<Subscribe>) -> ApiResult<Response> {
    client.require(Scope::Webhooks)?;
    let url = check_url(&req.url).map_err(|e| client.err(e))?;
    let existing = st
        .store
        .subscriptions(Some(client.institution()))
        .await
        .map_err(|e| client.err(e))?;
    if existing.iter().filter(|s| s.active).count() >= MAX_SUBSCRIPTIONS {
        return Err(client.err(Error::with(ErrorCode::Conflict, "at most 10 active subscriptions")));
    }
    let secret = new_secret();
    let sub = WebhookSubscription {
        id: format!("wh-{}", &crate::auth::new_id("")[4..22]),
        institution: client.institution().to_string(),
        url,
        secrets: vec![secret.clone()],
        active: true,
        created_at: Utc::now(),
        created_by: Some(client.client.id.clone()),
    };
    st.store.create_subscription(&sub).await.map_err(|e| client.err(e))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Subscribed {
            subscription: (&sub).into(),
            secret: secret.secret,
        }),
    )
        .into_response())
}

/// The institution's subscriptions. Clients with `webhooks`.
#[utoipa::path(get, path = "/api/v1/integration/webhooks", tag = "integration", security(("bearer" = [])),
    responses((status = 200, body = Vec<SubscriptionView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(State(st): State<AppState>, client: Client) -> ApiResult<axum::Json<Vec<SubscriptionView>>> {
    client.require(Scope::Webhooks)?;
    let subs = st
        .store
        .subscriptions(Some(client.institution()))
        .await
        .map_err(|e| client.err(e))?;
    Ok(axum::Json(subs.iter().map(Into::into).collect()))
}

/// A subscription of the client's institution, or 404.
async fn owned(st: &AppState, client: &Client, id: &str) -> ApiResult<WebhookSubscription> {
    client.require(Scope::Webhooks)?;
    match st.store.subscription(id).await.map_err(|e| client.err(e))? {
        Some(s) if s.institution == client.institution() => Ok(s),
        _ => Err(client.err(Error::not_found())),
    }
}

/// One subscription. Clients with `webhooks`.
#[utoipa::path(get, path = "/api/v1/integration/webhooks/{id}", tag = "integration", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = SubscriptionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    client: Client,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SubscriptionView>> {
    let s = owned(&st, &client, &id).await?;
    Ok(axum::Json((&s).into()))
}

/// Stop a subscription; its log stays. Clients with `webhooks`.
#[utoipa::path(delete, path = "/api/v1/integration/webhooks/{id}", tag = "integration", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unsubscribe(State(st): State<AppState>, client: Client, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let s = owned(&st, &client, &id).await?;
    st.store
        .deactivate_subscription(&s.id)
        .await
        .map_err(|e| client.err(e))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the current secret keeps signing too, 0–168 hours
    /// (default 24).
    pub overlap_hours: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The new secret. Shown once.
    pub secret: String,
    /// Until then deliveries carry a signature with each secret.
    pub previous_expires_at: DateTime<Utc>,
}

/// Rotate the signing secret. During the overlap every delivery is signed
/// with both secrets, so a receiver can switch at its own pace. Clients
/// with `webhooks`.
#[utoipa::path(post, path = "/api/v1/integration/webhooks/{id}/rotate-secret", tag = "integration", params(("id" = String, Path)),
    request_body = RotateSecret, security(("bearer" = [])),
    responses((status = 200, body = RotatedSecret), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rotate_secret(
    State(st): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Json(req): Json<RotateSecret>,
) -> ApiResult<axum::Json<RotatedSecret>> {
    let s = owned(&st, &client, &id).await?;
    let hours = req.overlap_hours.unwrap_or(24);
    if !(0..=MAX_SECRET_OVERLAP_HOURS).contains(&hours) {
        return Err(client.err(Error::validation("overlap_hours: 0-168")));
    }
    let now = Utc::now();
    let until = now + chrono::Duration::hours(hours);
    let fresh = new_secret();
    let mut secrets = vec![fresh.clone()];
    // Keep the secrets still signing, each ending no later than `until`.
    secrets.extend(
        s.secrets
            .iter()
            .filter(|x| x.expires_at.is_none_or(|t| t > now))
            .map(|x| SigningSecret {
                secret: x.secret.clone(),
                expires_at: Some(x.expires_at.map_or(until, |t| t.min(until))),
            }),
    );
    st.store
        .set_subscription_secrets(&s.id, &secrets)
        .await
        .map_err(|e| client.err(e))?;
    Ok(axum::Json(RotatedSecret {
        secret: fresh.secret,
        previous_expires_at: until,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// `pending`, `delivered` or `dead`.
    pub state: Option<String>,
    /// Page back: deliveries with a smaller id than this.
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// The delivery log of a subscription, newest first: state, attempts, the
/// last response code and latency. Clients with `webhooks`.
#[utoipa::path(get, path = "/api/v1/integration/webhooks/{id}/deliveries", tag = "integration", params(("id" = String, Path), DeliveryParams),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    State(st): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Query(p): Query<DeliveryParams>,
) -> ApiResult<axum::Json<Vec<WebhookDelivery>>> {
    let s = owned(&st, &client, &id).await?;
    if let Some(state) = &p.state
        && !matches!(state.as_str(), "pending" | "delivered" | "dead")
    {
        return Err(client.err(Error::with(
            ErrorCode::InvalidQuery,
            "state: pending, delivered or dead",
        )));
    }
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(client.err(Error::with(ErrorCode::InvalidQuery, "limit: 1-200")));
    }
    st.store
        .webhook_deliveries(&s.id, p.state.as_deref(), p.before, limit)
        .await
        .map(axum::Json)
        .map_err(|e| client.err(e))
}

/// Every attempt at one delivery. Clients with `webhooks`.
#[utoipa::path(get, path = "/api/v1/integration/webhooks/{id}/deliveries/{delivery}/attempts", tag = "integration",
    params(("id" = String, Path), ("delivery" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn attempts(
    State(st): State<AppState>,
    client: Client,
    Path((id, delivery)): Path<(String, i64)>,
) -> ApiResult<axum::Json<Vec<WebhookAttempt>>> {
    let s = owned(&st, &client, &id).await?;
    let tries = st.store.webhook_attempts(delivery).await.map_err(|e| client.err(e))?;
    // The attempts of another subscription's delivery are not this
    // client's to see; check through the log row.
    let ours = st
        .store
        .webhook_deliveries(&s.id, None, Some(delivery + 1), 1)
        .await
        .map_err(|e| client.err(e))?
        .first()
        .is_some_and(|d| d.id == delivery);
    if !ours {
        return Err(client.err(Error::not_found()));
    }
    Ok(axum::Json(tries))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// Dead deliveries to send again; absent: all of them.
    pub ids: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    pub replayed: u64,
}

/// Send dead-lettered deliveries again, with three fresh days of retries.
/// Clients with `webhooks`.
#[utoipa::path(post, path = "/api/v1/integration/webhooks/{id}/replay", tag = "integration", params(("id" = String, Path)),
    request_body = Replay, security(("bearer" = [])),
    responses((status = 200, body = Replayed), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replay(
    State(st): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Json(req): Json<Replay>,
) -> ApiResult<axum::Json<Replayed>> {
    let s = owned(&st, &client, &id).await?;
    if req.ids.as_ref().is_some_and(|ids| ids.len() > 1000) {
        return Err(client.err(Error::validation("ids: at most 1000")));
    }
    let n = st
        .store
        .replay_webhook_deliveries(&s.id, req.ids.as_deref(), Ts::now())
        .await
        .map_err(|e| client.err(e))?;
    Ok(axum::Json(Replayed { replayed: n }))
}

// ------------------------------------------------------------ delivery

/// The body of one webhook message.
#[derive(Debug, Serialize)]
struct Message<'a> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: DateTime<Utc>,
    data: &'a Change,
}

/// The `webhook-id` of an event: the same on every retry, so receivers
/// drop repeats.
pub fn message_id(event_id: i64) -> String {
    format!("msg_{event_id}")
}

/// Sends one delivery; the attempt as logged.
async fn send(http: &reqwest::Client, job: &WebhookJob, now: DateTime<Utc>) -> WebhookAttempt {
    let change = Change::from_event(job.event_id, &job.event);
    let body = serde_json::to_vec(&Message {
        kind: change.webhook_type(),
        timestamp: job.event.at,
        data: &change,
    })
    .unwrap_or_default();
    let secrets: Vec<Secret> = job
        .subscription
        .live_secrets(now)
        .into_iter()
        .filter_map(|s| Secret::parse(s).ok())
        .collect();
    let refs: Vec<&Secret> = secrets.iter().collect();
    let id = message_id(job.event_id);
    let mut attempt = WebhookAttempt {
        delivery_id: job.delivery_id,
        attempt: job.attempts,
        at: now,
        status: None,
        latency_ms: 0,
        error: None,
    };
    if refs.is_empty() {
        attempt.error = Some("the subscription has no live signing secret".into());
        return attempt;
    }
    let mut req = http
        .post(&job.subscription.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    for (name, value) in webhook::headers(&refs, &id, now.timestamp(), &body) {
        req = req.header(name, value);
    }
    let started = Instant::now();
    let res = req.body(body).send().await;
    attempt.latency_ms = started.elapsed().as_millis().min(i64::MAX as u128) as i64;
    match res {
        Ok(r) => {
            let code = r.status();
            attempt.status = Some(i64::from(code.as_u16()));
            if !code.is_success() {
                let text = r.text().await.unwrap_or_default();
                attempt.error = Some(format!(
                    "HTTP {}: {}",
                    code.as_u16(),
                    text.chars().take(200).collect::<String>()
                ));
            }
        }
        Err(e) => attempt.error = Some(e.to_string().chars().take(300).collect()),
    }
    attempt
}

fn next(job: &WebhookJob, attempt: &WebhookAttempt, now: DateTime<Utc>) -> DeliveryNext {
    if attempt.error.is_none() {
        return DeliveryNext::Delivered;
    }
    match lapor_integration::retry::next_attempt(job.attempts, job.first_attempt_at, now, rand::random::<f64>()) {
        Some(at) => DeliveryNext::Retry(at),
        None => DeliveryNext::Dead,
    }
}

/// Counters of this node's webhook deliveries, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub delivered: std::sync::atomic::AtomicU64,
    pub retried: std::sync::atomic::AtomicU64,
    pub dead: std::sync::atomic::AtomicU64,
}

/// How the delivery worker runs.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    pub batch: i64,
    pub concurrency: usize,
    /// How long a claimed delivery is hidden from other workers.
    pub lease: Duration,
    pub idle: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            batch: 500,
            concurrency: 128,
            lease: Duration::from_secs(60),
            idle: Duration::from_millis(250),
        }
    }
}

/// Claims and sends one batch at `now`; returns how many were tried.
pub async fn run_batch_at(state: &AppState, cfg: &DeliveryConfig, now: DateTime<Utc>) -> Result<usize, Error> {
    let lease = chrono::Duration::from_std(cfg.lease).unwrap_or(chrono::Duration::minutes(1));
    let jobs = state
        .store
        .claim_webhook_deliveries(Ts::new(now), Ts::new(now + lease), cfg.batch)
        .await?;
    let tried = jobs.len();
    if tried == 0 {
        return Ok(0);
    }
    let sem = Arc::new(tokio::sync::Semaphore::new(cfg.concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for job in jobs {
        let http = state.integration.http.clone();
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let attempt = send(&http, &job, now).await;
            let next = next(&job, &attempt, now);
            DeliveryOutcome { attempt, next }
        });
    }
    let mut outcomes = Vec::with_capacity(tried);
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(o) => outcomes.push(o),
            // A delivery whose task died stays leased and is tried again
            // when the lease runs out.
            Err(e) => tracing::error!(error = %e, "webhook delivery task panicked"),
        }
    }
    use std::sync::atomic::Ordering::Relaxed;
    for o in &outcomes {
        match o.next {
            DeliveryNext::Delivered => state.webhook_counters.delivered.fetch_add(1, Relaxed),
            DeliveryNext::Retry(_) => state.webhook_counters.retried.fetch_add(1, Relaxed),
            DeliveryNext::Dead => {
                tracing::warn!(delivery = o.attempt.delivery_id, error = ?o.attempt.error, "webhook dead-lettered after three days");
                state.webhook_counters.dead.fetch_add(1, Relaxed)
            }
        };
    }
    state.store.finish_webhook_deliveries(&outcomes).await?;
    Ok(tried)
}

/// Delivers until `stop` turns true; purges the log after 30 days.
pub async fn run(state: AppState, cfg: DeliveryConfig, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut last_purge = Instant::now();
    loop {
        if *stop.borrow() {
            return;
        }
        let n = match run_batch_at(&state, &cfg, Utc::now()).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "webhook worker");
                0
            }
        };
        if last_purge.elapsed() > Duration::from_secs(3600) {
            last_purge = Instant::now();
            let before = Ts::new(Utc::now() - chrono::Duration::days(30));
            if let Err(e) = state.store.purge_webhook_deliveries(before).await {
                tracing::warn!(error = %e, "webhook log purge");
            }
        }
        if n == 0 {
            tokio::select! {
                _ = tokio::time::sleep(cfg.idle) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiver_urls() {
        assert_eq!(check_url("https://a.go.id/hook").as_deref(), Ok("https://a.go.id/hook"));
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        for bad in [
            "ftp://a.go.id/",
            "not a url",
            "https://user:pw@a.go.id/",
            "file:///etc/passwd",
            &format!("https://a.go.id/{}", "x".repeat(2001)),
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
