//! Who is calling the integration API: an API key (`Authorization: Bearer
//! lapor_…` or `X-API-Key`), or an OAuth2 access token got with the client
//! credentials grant. Both are stored only as SHA-256 digests.

use super::clients;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, lang_of};
use crate::extract::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use lapor_domain::authz::Principal;
use lapor_domain::{Error, ErrorCode, Lang};
use lapor_integration::client::{Scope, digest, key_client, parse_scopes};
use lapor_store::ts::Ts;
use lapor_store::{ApiClient, NewApiKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long an OAuth2 access token lives.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 3600;

/// An authenticated integration client.
#[derive(Debug, Clone)]
pub struct Client {
    /// The service account, as the rest of Lapor sees callers.
    pub caller: Caller,
    pub client: ApiClient,
    pub scopes: Vec<Scope>,
    /// `key` or `access`.
    pub kind: String,
}

impl Client {
    pub fn err(&self, e: Error) -> ApiError {
        ApiError::new(e, self.caller.lang)
    }

    /// Refuses with 403 `insufficient_scope` unless the key carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(self.err(Error::with(ErrorCode::InsufficientScope, scope.as_str())))
        }
    }

    pub fn institution(&self) -> &str {
        &self.client.institution
    }
}

/// The credential a request carries, if any.
fn presented(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    bearer.or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim))
}

/// Looks a credential up; None when it is not a live key or token.
pub async fn authenticate(state: &AppState, key: &str, lang: Lang) -> Result<Option<Client>, Error> {
    if key_client(key).is_none() {
        return Ok(None);
    }
    let now = Utc::now();
    let hash = digest(key);
    let Some(holder) = state.store.key_holder(&hash, Ts::new(now)).await? else {
        return Ok(None);
    };
    // Remembering the last use costs a write; once a minute is enough to
    // tell a live integration from a dead one.
    if holder
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::minutes(1))
        && let Err(e) = state.store.touch_api_key(&hash, Ts::new(now)).await
    {
        tracing::warn!(error = %e, "could not record the key's last use");
    }
    let Some(user) = state.store.user(&holder.client.user_id).await? else {
        return Ok(None);
    };
    let scopes = parse_scopes(&holder.scopes).unwrap_or_default();
    Ok(Some(Client {
        caller: Caller {
            principal: Principal::Staff {
                user_id: user.id.clone(),
                memberships: user.memberships.clone(),
            },
            user: Some(user),
            lang,
        },
        client: holder.client,
        scopes,
        kind: holder.kind,
    }))
}

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        let Some(key) = presented(&parts.headers) else {
            return Err(ApiError::new(Error::new(ErrorCode::Unauthenticated), lang));
        };
        let client = authenticate(state, key, lang)
            .await
            .map_err(|e| ApiError::new(e, lang))?;
        let Some(client) = client else {
            // The claimed client id helps an operator find a misconfigured
            // system; the key itself never reaches the log.
            tracing::warn!(
                claimed_client = key_client(key).unwrap_or("-"),
                "integration credential refused"
            );
            return Err(ApiError::new(Error::new(ErrorCode::InvalidApiKey), lang));
        };
        if !state.integration.allow(&client.client.id) {
            return Err(ApiError::new(Error::with(ErrorCode::RateLimited, "client"), lang));
        }
        Ok(client)
    }
}

// ------------------------------------------------------------- OAuth2

/// A token request (RFC 6749 §4.4), form-encoded.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    pub grant_type: String,
    /// Or in HTTP Basic authentication.
    pub client_id: Option<String>,
    /// An API key of the client (or in HTTP Basic authentication).
    pub client_secret: Option<String>,
    /// Space-separated; at most the client's own scopes. Default: all.
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
}

/// An OAuth2 error body (RFC 6749 §5.2), which OAuth client libraries read.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    pub error: String,
    pub error_description: String,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = (
        status,
        axum::Json(OAuthError {
            error: error.into(),
            error_description: description.into(),
        }),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED
        && let Ok(v) = header::HeaderValue::from_str("Basic realm=\"lapor\"")
    {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// OAuth2 client credentials: trade the client's id and an API key for a
/// short-lived access token. Anyone may call; a wrong secret is 401
/// `invalid_client`. Errors follow RFC 6749, not Lapor's error body.
#[utoipa::path(post, path = "/api/v1/oauth/token", tag = "integration",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenResponse), (status = 400, body = OAuthError), (status = 401, body = OAuthError)))]
pub async fn token(State(st): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Ok(req) = serde_urlencoded::from_bytes::<TokenRequest>(&body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "form-encoded grant_type is required",
        );
    };
    if req.grant_type != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let (id, secret) = match (basic_credentials(&headers), req.client_id, req.client_secret) {
        (Some(pair), _, _) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client credentials are missing",
            );
        }
    };
    let lang = lang_of(&headers);
    let client = match authenticate(&st, &secret, lang).await {
        Ok(Some(c)) if c.client.id == id && c.kind == "key" => c,
        Ok(_) => {
            tracing::warn!(claimed_client = %id, "OAuth2 client credentials refused");
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown client or wrong secret",
            );
        }
        Err(e) => return crate::error::error_response(&e, lang),
    };
    let scopes = match req.scope.as_deref().map(parse_scopes) {
        None => client.scopes.clone(),
        Some(Ok(asked)) if asked.iter().all(|s| client.scopes.contains(s)) => asked,
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "the scope asks for more than the client holds",
            );
        }
    };
    let now = Utc::now();
    let access = lapor_integration::client::new_key(&client.client.id, rand::random());
    let scope = lapor_integration::client::format_scopes(&scopes);
    let key = NewApiKey {
        key_hash: digest(&access),
        client_id: client.client.id.clone(),
        kind: "access".into(),
        prefix: lapor_integration::client::display_prefix(&access),
        created_at: now,
        expires_at: Some(now + chrono::Duration::seconds(ACCESS_TOKEN_TTL_SECS)),
        scopes: Some(scope.clone()),
    };
    if let Err(e) = st.store.add_api_key(&key, None).await {
        return crate::error::error_response(&e, lang);
    }
    axum::Json(TokenResponse {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_TTL_SECS,
        scope,
    })
    .into_response()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// How long the keys in use keep working, 0–720 hours (default 168:
    /// a week to roll the new key out).
    pub overlap_hours: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKey {
    /// The new key. Shown once; only its digest is kept.
    pub key: String,
    /// When the keys in use stop working.
    pub previous_expires_at: DateTime<Utc>,
}

/// Rotate the client's API key: a new key now, the old ones until the
/// overlap ends. The client itself, with a long-lived key (not an access
/// token).
#[utoipa::path(post, path = "/api/v1/integration/keys/rotate", tag = "integration", request_body = RotateKey,
    responses((status = 200, body = RotatedKey), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn rotate_key(
    State(st): State<AppState>,
    client: Client,
    Json(req): Json<RotateKey>,
) -> Result<axum::Json<RotatedKey>, ApiError> {
    if client.kind != "key" {
        return Err(client.err(Error::with(ErrorCode::Forbidden, "an access token cannot rotate keys")));
    }
    let overlap = req.overlap_hours.unwrap_or(clients::DEFAULT_OVERLAP_HOURS);
    let (key, previous_expires_at) = clients::rotate(st.store.as_ref(), &client.client.id, overlap)
        .await
        .map_err(|e| client.err(e))?;
    Ok(axum::Json(RotatedKey {
        key,
        previous_expires_at,
    }))
}
