//! LINE Messaging API: webhook events in (`X-Line-Signature`), the reply
//! API out while the reply token is fresh, else the push API.

use crate::conversation::{Capabilities, Input, MediaRef, Reply};
use crate::inbound::{ApiRequest, Inbound, ParseError, bad, clip, json};
use chrono::{DateTime, Utc};
use lapor_domain::report::Channel;
use serde::Deserialize;
use serde_json::{Value, json};

pub const CAPS: Capabilities = Capabilities { buttons: true };
/// A text message holds at most 5000 characters; a quick-reply label 20; a
/// request carries at most 5 messages and 13 quick-reply items.
const MAX_TEXT: usize = 5000;
const MAX_LABEL: usize = 20;
const MAX_MESSAGES: usize = 5;
const MAX_ITEMS: usize = 13;

#[derive(Deserialize)]
struct Body {
    events: Vec<Event>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    reply_token: Option<String>,
    timestamp: Option<i64>,
    source: Option<Source>,
    webhook_event_id: Option<String>,
    message: Option<Message>,
    postback: Option<Postback>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(rename = "type")]
    kind: String,
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Deserialize)]
struct Postback {
    data: String,
}

/// Parses a webhook body. Only one-to-one chats with a user count; group
/// and room events, unfollows and other kinds are skipped.
pub fn parse(body: &[u8]) -> Result<Vec<Inbound>, ParseError> {
    let b: Body = json(body)?;
    let mut out = Vec::new();
    for e in b.events {
        let Some(src) = e.source.as_ref().filter(|s| s.kind == "user") else {
            continue;
        };
        let Some(user) = src.user_id.clone() else {
            continue;
        };
        let input = match (e.kind.as_str(), &e.message, &e.postback) {
            ("message", Some(m), _) => match m.kind.as_str() {
                "text" => Input::Text(m.text.clone().ok_or_else(|| bad("text message without text"))?),
                "location" => match (m.latitude, m.longitude) {
                    (Some(lat), Some(lon)) => Input::Location { lat, lon },
                    _ => return Err(bad("location without coordinates")),
                },
                "image" => Input::Photo(MediaRef {
                    id: m.id.clone(),
                    mime: None,
                    size: None,
                    url: None,
                }),
                other => Input::Unsupported(other.to_string()),
            },
            ("postback", _, Some(p)) => Input::Button(p.data.clone()),
            // A new friend: greet with the menu.
            ("follow", _, _) => Input::Button("menu".into()),
            _ => continue,
        };
        let platform_id = e
            .webhook_event_id
            .clone()
            .or_else(|| e.message.as_ref().map(|m| m.id.clone()))
            .ok_or_else(|| bad("event without webhookEventId"))?;
        out.push(Inbound {
            channel: Channel::Line,
            platform_id,
            sender: user,
            sender_name: None,
            sent_at: e.timestamp.and_then(DateTime::<Utc>::from_timestamp_millis),
            input,
            reply_token: e.reply_token,
            lang_hint: None,
        });
    }
    Ok(out)
}

fn messages(replies: &[Reply]) -> Vec<Value> {
    replies
        .iter()
        .take(MAX_MESSAGES)
        .map(|r| {
            let mut m = json!({ "type": "text", "text": clip(&r.text, MAX_TEXT) });
            if !r.buttons.is_empty() {
                let items: Vec<Value> = r
                    .buttons
                    .iter()
                    .take(MAX_ITEMS)
                    .map(|b| {
                        json!({
                            "type": "action",
                            "action": {
                                "type": "postback",
                                "label": clip(&b.label, MAX_LABEL),
                                "data": b.id,
                                "displayText": b.label,
                            }
                        })
                    })
                    .collect();
                m["quickReply"] = json!({ "items": items });
            }
            m
        })
        .collect()
}

/// The reply API: free, but the token is single-use and expires quickly.
pub fn reply(api_base: &str, access_token: &str, reply_token: &str, replies: &[Reply]) -> ApiRequest {
    ApiRequest::post_json(
        format!("{}/v2/bot/message/reply", api_base.trim_end_matches('/')),
        Some(access_token),
        &json!({ "replyToken": reply_token, "messages": messages(replies) }),
    )
}

/// The push API, for progress notices and expired reply tokens. The retry
/// key makes LINE drop a repeated push (the worker may resend after a crash).
pub fn push(api_base: &str, access_token: &str, to: &str, replies: &[Reply], retry_key: &str) -> ApiRequest {
    let mut r = ApiRequest::post_json(
        format!("{}/v2/bot/message/push", api_base.trim_end_matches('/')),
        Some(access_token),
        &json!({ "to": to, "messages": messages(replies) }),
    );
    r.headers.push(("x-line-retry-key".into(), uuid_from(retry_key)));
    r
}

/// LINE wants the retry key as a UUID: derived from our job key, so every
/// resend of one job carries the same one.
fn uuid_from(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(key.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Downloads an image a user sent.
pub fn content(data_api_base: &str, access_token: &str, message_id: &str) -> ApiRequest {
    ApiRequest {
        method: "GET",
        url: format!(
            "{}/v2/bot/message/{}/content",
            data_api_base.trim_end_matches('/'),
            message_id
        ),
        headers: vec![("authorization".into(), format!("Bearer {access_token}"))],
        body: Vec::new(),
    }
}
