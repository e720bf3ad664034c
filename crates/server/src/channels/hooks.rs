//! Webhook routes, one per platform. Who may call them: the platform, which
//! proves it with its signature (or, for Telegram, the secret token); every
//! other caller gets 401 and nothing is processed. A channel that is not
//! configured answers 404 `channel_off`.
//!
//! | route | platform |
//! |---|---|
//! | `POST /hooks/telegram` | Telegram Bot API (`X-Telegram-Bot-Api-Secret-Token`) |
//! | `POST /hooks/line` | LINE Messaging API (`X-Line-Signature`) |
//! | `GET/POST /hooks/whatsapp` | WhatsApp Cloud API (subscription handshake; `X-Hub-Signature-256`) |
//! | `GET/POST /hooks/messenger` | Messenger Platform (same scheme) |
//! | `POST /hooks/sms` | our generic SMS gateway hook (`X-Lapor-Signature`) |
//! | `POST /hooks/sms/twilio` | Twilio-compatible form (`X-Twilio-Signature`) |

use super::turn;
use crate::AppState;
use crate::error::error_response;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lapor_channels::{Inbound, ParseError, line, meta, signature, sms, telegram};
use lapor_domain::{Error, ErrorCode, Lang};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/telegram", post(telegram_hook))
        .route("/hooks/line", post(line_hook))
        .route("/hooks/whatsapp", get(whatsapp_verify).post(whatsapp_hook))
        .route("/hooks/messenger", get(messenger_verify).post(messenger_hook))
        .route("/hooks/sms", post(sms_hook))
        .route("/hooks/sms/twilio", post(twilio_hook))
}

fn fail(code: ErrorCode) -> Response {
    error_response(&Error::new(code), Lang::En)
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn unsigned(channel: &str) -> Response {
    tracing::warn!(channel, "webhook with a missing or invalid signature refused");
    fail(ErrorCode::InvalidSignature)
}

fn malformed(channel: &str, e: &ParseError) -> Response {
    tracing::info!(channel, error = %e, "malformed webhook body refused");
    error_response(&Error::with(ErrorCode::MalformedWebhook, e.to_string()), Lang::En)
}

/// Runs every message of one delivery. An internal failure answers 503 so
/// the platform delivers again; messages already handled are skipped then.
async fn process(state: &AppState, messages: Vec<Inbound>) -> Result<(), Response> {
    for m in messages {
        if let Err(e) = turn::handle(state, &m).await {
            tracing::error!(channel = m.channel.as_str(), error = %e, "inbound message not processed; the platform will retry");
            return Err(fail(ErrorCode::Unavailable));
        }
    }
    Ok(())
}

fn ok() -> Response {
    (StatusCode::OK, axum::Json(serde_json::json!({ "ok": true }))).into_response()
}

async fn telegram_hook(State(st): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let Some(c) = &st.config.channels.telegram else {
        return fail(ErrorCode::ChannelOff);
    };
    if !signature::telegram(&c.secret_token, header_str(&h, "x-telegram-bot-api-secret-token")) {
        return unsigned("telegram");
    }
    let parsed = match telegram::parse(&body) {
        Ok(p) => p,
        Err(e) => return malformed("telegram", &e),
    };
    if let Err(r) = process(&st, parsed.message.into_iter().collect()).await {
        return r;
    }
    match parsed.callback_query_id {
        // Stops the button's spinner, in the webhook's own answer.
        Some(id) => axum::Json(telegram::answer_callback(&id)).into_response(),
        None => ok(),
    }
}

async fn line_hook(State(st): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let Some(c) = &st.config.channels.line else {
        return fail(ErrorCode::ChannelOff);
    };
    if !signature::line(&c.channel_secret, &body, header_str(&h, "x-line-signature")) {
        return unsigned("line");
    }
    match line::parse(&body) {
        Ok(msgs) => process(&st, msgs).await.map(|_| ok()).unwrap_or_else(|r| r),
        Err(e) => malformed("line", &e),
    }
}

fn query_pairs(q: Option<String>) -> Vec<(String, String)> {
    q.and_then(|q| serde_urlencoded::from_str(&q).ok()).unwrap_or_default()
}

fn handshake(q: Option<String>, verify_token: &str) -> Response {
    let params = query_pairs(q);
    match meta::verify_subscription(&params, verify_token) {
        Some(challenge) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge.to_string(),
        )
            .into_response(),
        None => fail(ErrorCode::Forbidden),
    }
}

async fn whatsapp_verify(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    match &st.config.channels.whatsapp {
        Some(c) => handshake(q, &c.verify_token),
        None => fail(ErrorCode::ChannelOff),
    }
}

async fn messenger_verify(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    match &st.config.channels.messenger {
        Some(c) => handshake(q, &c.verify_token),
        None => fail(ErrorCode::ChannelOff),
    }
}

async fn whatsapp_hook(State(st): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let Some(c) = &st.config.channels.whatsapp else {
        return fail(ErrorCode::ChannelOff);
    };
    if !signature::meta(&c.app_secret, &body, header_str(&h, "x-hub-signature-256")) {
        return unsigned("whatsapp");
    }
    match meta::parse_whatsapp(&body) {
        Ok(msgs) => process(&st, msgs).await.map(|_| ok()).unwrap_or_else(|r| r),
        Err(e) => malformed("whatsapp", &e),
    }
}

async fn messenger_hook(State(st): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let Some(c) = &st.config.channels.messenger else {
        return fail(ErrorCode::ChannelOff);
    };
    if !signature::meta(&c.app_secret, &body, header_str(&h, "x-hub-signature-256")) {
        return unsigned("messenger");
    }
    match meta::parse_messenger(&body) {
        Ok(msgs) => process(&st, msgs).await.map(|_| ok()).unwrap_or_else(|r| r),
        Err(e) => malformed("messenger", &e),
    }
}

async fn sms_hook(State(st): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = st.config.channels.sms.as_ref().and_then(|c| c.inbound_secret.clone()) else {
        return fail(ErrorCode::ChannelOff);
    };
    if !signature::generic(&secret, &body, header_str(&h, "x-lapor-signature")) {
        return unsigned("sms");
    }
    match sms::parse_generic(&body) {
        Ok(m) => process(&st, vec![m]).await.map(|_| ok()).unwrap_or_else(|r| r),
        Err(e) => malformed("sms", &e),
    }
}

async fn twilio_hook(State(st): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let Some(c) = st.config.channels.sms.as_ref() else {
        return fail(ErrorCode::ChannelOff);
    };
    let (Some(token), Some(url)) = (&c.twilio_auth_token, &c.twilio_hook_url) else {
        return fail(ErrorCode::ChannelOff);
    };
    let params = match sms::form_params(&body) {
        Ok(p) => p,
        // Unreadable bodies cannot be signed either.
        Err(_) => return unsigned("sms/twilio"),
    };
    if !signature::twilio(token, url, &params, header_str(&h, "x-twilio-signature")) {
        return unsigned("sms/twilio");
    }
    let m = match sms::parse_twilio(&params) {
        Ok(m) => m,
        Err(e) => return malformed("sms/twilio", &e),
    };
    if let Err(r) = process(&st, vec![m]).await {
        return r;
    }
    // An empty TwiML answer: the reply goes out through the API instead.
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
    )
        .into_response()
}
