//! Telegram Bot API: `Update` objects in (webhook with the secret-token
//! header), `sendMessage` out, photos through `getFile`.

use crate::conversation::{Capabilities, Input, MediaRef, Reply};
use crate::inbound::{ApiRequest, Inbound, ParseError, bad, clip, json};
use chrono::{DateTime, Utc};
use lapor_domain::report::Channel;
use serde::Deserialize;
use serde_json::{Value, json};

pub const CAPS: Capabilities = Capabilities { buttons: true };
/// `sendMessage` takes at most 4096 characters.
const MAX_TEXT: usize = 4096;

#[derive(Deserialize)]
struct Update {
    update_id: i64,
    message: Option<Message>,
    callback_query: Option<CallbackQuery>,
}

#[derive(Deserialize)]
struct Message {
    message_id: i64,
    from: Option<User>,
    chat: Chat,
    date: Option<i64>,
    text: Option<String>,
    caption: Option<String>,
    location: Option<Location>,
    photo: Option<Vec<PhotoSize>>,
    document: Option<Document>,
    sticker: Option<Value>,
    voice: Option<Value>,
    video: Option<Value>,
}

#[derive(Deserialize)]
struct User {
    id: i64,
    #[serde(default)]
    is_bot: bool,
    first_name: Option<String>,
    last_name: Option<String>,
    language_code: Option<String>,
}

#[derive(Deserialize)]
struct Chat {
    id: i64,
}

#[derive(Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
struct PhotoSize {
    file_id: String,
    file_size: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
}

#[derive(Deserialize)]
struct Document {
    file_id: String,
    mime_type: Option<String>,
    file_size: Option<u64>,
}

#[derive(Deserialize)]
struct CallbackQuery {
    id: String,
    from: User,
    message: Option<Message>,
    data: Option<String>,
}

fn name(u: &User) -> Option<String> {
    match (&u.first_name, &u.last_name) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(f), None) => Some(f.clone()),
        (None, Some(l)) => Some(l.clone()),
        _ => None,
    }
}

/// What one webhook delivery carries: at most one message, plus the id of
/// a button press to acknowledge in the webhook's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub message: Option<Inbound>,
    pub callback_query_id: Option<String>,
}

/// Parses one `Update`. Edits, channel posts, bots and other update kinds
/// carry nothing to act on and come back empty.
pub fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let u: Update = json(body)?;
    let platform_id = u.update_id.to_string();
    if let Some(cb) = u.callback_query {
        let chat = cb.message.as_ref().map(|m| m.chat.id).unwrap_or(cb.from.id);
        let data = cb.data.clone().unwrap_or_default();
        return Ok(Parsed {
            message: (!cb.from.is_bot && !data.is_empty()).then(|| Inbound {
                channel: Channel::Telegram,
                platform_id,
                sender: chat.to_string(),
                sender_name: name(&cb.from),
                sent_at: None,
                input: Input::Button(data),
                reply_token: None,
                lang_hint: cb.from.language_code.clone(),
            }),
            callback_query_id: Some(cb.id),
        });
    }
    let Some(m) = u.message else {
        return Ok(Parsed {
            message: None,
            callback_query_id: None,
        });
    };
    if m.from.as_ref().is_some_and(|f| f.is_bot) {
        return Ok(Parsed {
            message: None,
            callback_query_id: None,
        });
    }
    let input = if let Some(t) = m.text {
        Input::Text(t)
    } else if let Some(l) = m.location {
        Input::Location {
            lat: l.latitude,
            lon: l.longitude,
        }
    } else if let Some(sizes) = m.photo {
        // The largest rendition Telegram kept.
        let best = sizes
            .into_iter()
            .max_by_key(|p| (p.width.unwrap_or(0) as u64) * (p.height.unwrap_or(0) as u64))
            .ok_or_else(|| bad("photo without sizes"))?;
        Input::Photo(MediaRef {
            id: best.file_id,
            mime: Some("image/jpeg".into()),
            size: best.file_size,
            url: None,
        })
    } else if let Some(d) = m
        .document
        .filter(|d| d.mime_type.as_deref().is_some_and(|t| t.starts_with("image/")))
    {
        Input::Photo(MediaRef {
            id: d.file_id,
            mime: d.mime_type,
            size: d.file_size,
            url: None,
        })
    } else if m.sticker.is_some() {
        Input::Unsupported("sticker".into())
    } else if m.voice.is_some() {
        Input::Unsupported("voice".into())
    } else if m.video.is_some() {
        Input::Unsupported("video".into())
    } else if let Some(c) = m.caption {
        Input::Text(c)
    } else {
        Input::Unsupported("other".into())
    };
    let _ = m.message_id;
    Ok(Parsed {
        message: Some(Inbound {
            channel: Channel::Telegram,
            platform_id,
            sender: m.chat.id.to_string(),
            sender_name: m.from.as_ref().and_then(name),
            sent_at: m.date.and_then(|d| DateTime::<Utc>::from_timestamp(d, 0)),
            input,
            reply_token: None,
            lang_hint: m.from.and_then(|f| f.language_code),
        }),
        callback_query_id: None,
    })
}

fn chat_id(to: &str) -> Value {
    match to.parse::<i64>() {
        Ok(n) => json!(n),
        Err(_) => json!(to),
    }
}

/// `sendMessage` with the choices as an inline keyboard, two per row.
pub fn send_message(api_base: &str, token: &str, to: &str, reply: &Reply) -> ApiRequest {
    let mut body = json!({
        "chat_id": chat_id(to),
        "text": clip(&reply.text, MAX_TEXT),
    });
    if !reply.buttons.is_empty() {
        let rows: Vec<Value> = reply
            .buttons
            .chunks(2)
            .map(|row| {
                Value::Array(
                    row.iter()
                        .map(|b| json!({ "text": b.label, "callback_data": b.id }))
                        .collect(),
                )
            })
            .collect();
        body["reply_markup"] = json!({ "inline_keyboard": rows });
    }
    ApiRequest::post_json(
        format!("{}/bot{token}/sendMessage", api_base.trim_end_matches('/')),
        None,
        &body,
    )
}

/// The answer to a webhook that acknowledges a button press (Telegram lets
/// the webhook response carry one Bot API call).
pub fn answer_callback(callback_query_id: &str) -> Value {
    json!({ "method": "answerCallbackQuery", "callback_query_id": callback_query_id })
}

pub fn get_file(api_base: &str, token: &str, file_id: &str) -> ApiRequest {
    let q = serde_urlencoded::to_string([("file_id", file_id)]).unwrap_or_default();
    ApiRequest {
        method: "GET",
        url: format!("{}/bot{token}/getFile?{q}", api_base.trim_end_matches('/')),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// The download URL from a `getFile` answer.
pub fn file_url(api_base: &str, token: &str, get_file_response: &[u8]) -> Result<(String, Option<u64>), ParseError> {
    let v: Value = json(get_file_response)?;
    if v.get("ok") != Some(&Value::Bool(true)) {
        return Err(bad("getFile refused"));
    }
    let path = v
        .pointer("/result/file_path")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("getFile without file_path"))?;
    if path.contains("..") {
        return Err(bad("odd file_path"));
    }
    let size = v.pointer("/result/file_size").and_then(Value::as_u64);
    Ok((
        format!("{}/file/bot{token}/{path}", api_base.trim_end_matches('/')),
        size,
    ))
}
