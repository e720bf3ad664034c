//! Web Push for people with an account: the subscription endpoints the
//! apps call, what a notification says, and its delivery through the outbox.
//!
//! - **Opting in** is subscribing: the app asks the browser for permission,
//!   then registers the subscription here. Citizens hear of their reports'
//!   progress; staff hear of new assignments.
//! - **Delivery** is one outbox job per subscription (`push.send`), written
//!   by the jobs that already notify by e-mail. Keys derive from theirs, so
//!   a rerun writes nothing twice. A resend after a crash carries the same
//!   notification tag, so the device replaces the notification instead of
//!   showing it twice.
//! - **A subscription the push service calls gone** (404/410) is revoked.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::notify::SendError;
use crate::notify::webpush::{self, Notice, SubscriptionKeys, Target};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use chrono::{DateTime, Utc};
use lapor_domain::{Error, ErrorCode};
use lapor_store::ts::Ts;
use lapor_store::{OutboxMessage, PushSubscription};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// Under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/push/key", get(key))
        .route("/push/subscriptions", get(list).post(subscribe))
        .route("/push/subscriptions/{id}", delete(revoke))
}

#[derive(Serialize, ToSchema)]
pub struct PushKey {
    /// The instance's VAPID public key, for `pushManager.subscribe`'s
    /// `applicationServerKey` (uncompressed P-256 point, base64url).
    pub public_key: String,
}

/// The key to subscribe with. Anyone may call.
#[utoipa::path(get, path = "/api/v1/push/key", tag = "push", responses((status = 200, body = PushKey)))]
pub(crate) async fn key(State(st): State<AppState>) -> axum::Json<PushKey> {
    axum::Json(PushKey {
        public_key: st.push.vapid.public_key(),
    })
}

/// `PushSubscription.toJSON()` as the browser gives it.
#[derive(Deserialize, ToSchema)]
pub struct SubscribeRequest {
    /// The push service URL of this install.
    pub endpoint: String,
    pub keys: SubscriptionKeys,
}

#[derive(Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    pub endpoint: String,
    pub created_at: DateTime<Utc>,
}

impl From<&PushSubscription> for SubscriptionView {
    fn from(p: &PushSubscription) -> Self {
        SubscriptionView {
            id: p.id.clone(),
            endpoint: p.endpoint.clone(),
            created_at: p.created_at,
        }
    }
}

fn account(caller: &Caller) -> Result<&str, ApiError> {
    caller
        .user
        .as_ref()
        .map(|u| u.id.as_str())
        .ok_or_else(|| caller.err(Error::new(ErrorCode::Unauthenticated)))
}

/// Register this install for notifications. Any signed-in account (citizen
/// or staff). Registering an install again replaces its keys; an install
/// another account registered moves to this one.
#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "push", request_body = SubscribeRequest,
    responses((status = 201, body = SubscriptionView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn subscribe(
    State(st): State<AppState>,
    caller: Caller,
    Json(req): Json<SubscribeRequest>,
) -> Result<Response, ApiError> {
    let user_id = account(&caller)?.to_string();
    Target::parse(&req.endpoint, &req.keys, st.config.push_allow_loopback).map_err(|e| caller.err(e))?;
    let sub = PushSubscription {
        id: crate::auth::new_id("ps-"),
        user_id,
        endpoint: req.endpoint,
        p256dh: req.keys.p256dh,
        auth: req.keys.auth,
        created_at: Utc::now(),
    };
    st.store.save_push_subscription(&sub).await.map_err(|e| caller.err(e))?;
    Ok((StatusCode::CREATED, axum::Json(SubscriptionView::from(&sub))).into_response())
}

/// This account's registered installs. Any signed-in account.
#[utoipa::path(get, path = "/api/v1/push/subscriptions", tag = "push",
    responses((status = 200, body = Vec<SubscriptionView>), (status = 401, body = ErrorBody)))]
pub(crate) async fn list(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<SubscriptionView>>, ApiError> {
    let user_id = account(&caller)?;
    let subs = st.store.push_subscriptions(user_id).await.map_err(|e| caller.err(e))?;
    Ok(axum::Json(subs.iter().map(SubscriptionView::from).collect()))
}

/// Stop notifications to one install. Its own account only; anyone else's
/// subscription is answered like a missing one.
#[utoipa::path(delete, path = "/api/v1/push/subscriptions/{id}", tag = "push", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn revoke(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let user_id = account(&caller)?;
    let done = st
        .store
        .revoke_push_subscription(&id, Some(user_id), Ts::now())
        .await
        .map_err(|e| caller.err(e))?;
    if !done {
        return Err(caller.err(Error::not_found()));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// One `push.send` job per active subscription of `user_id`, keyed under
/// `key` so that a rerun of the parent job adds none.
pub async fn jobs_for(
    state: &AppState,
    key: &str,
    user_id: &str,
    notice: &Notice,
) -> Result<Vec<OutboxMessage>, Error> {
    let subs = state.store.push_subscriptions(user_id).await?;
    Ok(subs
        .iter()
        .map(|s| OutboxMessage {
            topic: "push.send".into(),
            key: format!("{key}:push:{}", s.id),
            payload: json!({ "subscription": s.id, "notice": notice }),
        })
        .collect())
}

/// The `push.send` job: encrypt for the subscription, sign, send. A gone
/// subscription is revoked and the job is done.
pub async fn deliver(state: &AppState, key: &str, payload: &serde_json::Value) -> Result<(), SendError> {
    let id = payload
        .get("subscription")
        .and_then(|v| v.as_str())
        .ok_or_else(|| SendError::Permanent("no subscription".into()))?;
    let notice: Notice = payload
        .get("notice")
        .cloned()
        .and_then(|n| serde_json::from_value(n).ok())
        .ok_or_else(|| SendError::Permanent("no notice".into()))?;
    let Some(sub) = state
        .store
        .push_subscription(id)
        .await
        .map_err(|e| SendError::Transient(e.to_string()))?
    else {
        return Ok(()); // revoked since: nothing to send
    };
    let keys = SubscriptionKeys {
        p256dh: sub.p256dh.clone(),
        auth: sub.auth.clone(),
    };
    let target = Target::parse(&sub.endpoint, &keys, state.config.push_allow_loopback)
        .map_err(|e| SendError::Permanent(e.to_string()))?;
    let body = serde_json::to_vec(&notice).map_err(|e| SendError::Permanent(e.to_string()))?;
    let rt = &state.push;
    match webpush::send(&rt.http, &rt.vapid, &target, &body, key, Utc::now().timestamp()).await {
        Err(SendError::Undeliverable(why)) => {
            state
                .store
                .revoke_push_subscription(&sub.id, None, Ts::now())
                .await
                .map_err(|e| SendError::Transient(e.to_string()))?;
            tracing::info!(subscription = %sub.id, %why, "push subscription gone: revoked");
            Ok(())
        }
        other => other,
    }
}

/// Cuts a text to `max` characters at a word boundary, for a notification.
pub fn short(text: &str, max: usize) -> String {
    let t = text.trim();
    if t.chars().count() <= max {
        return t.to_string();
    }
    let cut: String = t.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(i) if i > max / 2 => format!("{}…", &cut[..i]),
        _ => format!("{cut}…"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn notification_texts_are_cut_at_a_word() {
        assert_eq!(super::short("Lampu sudah diganti.", 40), "Lampu sudah diganti.");
        assert_eq!(
            super::short("Petugas sudah mengganti lampu yang mati", 20),
            "Petugas sudah…"
        );
    }
}
