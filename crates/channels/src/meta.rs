//! Meta's two platforms, which share the Graph API, the subscription
//! handshake and the `X-Hub-Signature-256` check: the WhatsApp Cloud API and
//! the Messenger Platform.

use crate::conversation::{Capabilities, Input, MediaRef, Reply};
use crate::inbound::{ApiRequest, Inbound, ParseError, bad, clip, json};
use chrono::{DateTime, Utc};
use lapor_domain::report::Channel;
use serde::Deserialize;
use serde_json::{Value, json};

pub const WHATSAPP_CAPS: Capabilities = Capabilities { buttons: true };
pub const MESSENGER_CAPS: Capabilities = Capabilities { buttons: true };

/// The subscription handshake: `GET ?hub.mode=subscribe&hub.verify_token=…
/// &hub.challenge=…` is answered with the challenge when the token matches.
pub fn verify_subscription<'a>(params: &'a [(String, String)], verify_token: &str) -> Option<&'a str> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let token_ok = get("hub.verify_token").is_some_and(|t| {
        !verify_token.is_empty()
            && t.len() == verify_token.len()
            && t.bytes().zip(verify_token.bytes()).all(|(a, b)| a == b)
    });
    (get("hub.mode") == Some("subscribe") && token_ok)
        .then(|| get("hub.challenge"))
        .flatten()
}

fn graph(base: &str, version: &str, path: &str) -> String {
    format!("{}/{}/{}", base.trim_end_matches('/'), version, path)
}

// ---------------------------------------------------------------- WhatsApp

#[derive(Deserialize)]
struct WaBody {
    object: String,
    #[serde(default)]
    entry: Vec<WaEntry>,
}

#[derive(Deserialize)]
struct WaEntry {
    #[serde(default)]
    changes: Vec<WaChange>,
}

#[derive(Deserialize)]
struct WaChange {
    field: Option<String>,
    value: WaValue,
}

#[derive(Deserialize)]
struct WaValue {
    #[serde(default)]
    contacts: Vec<WaContact>,
    #[serde(default)]
    messages: Vec<WaMessage>,
}

#[derive(Deserialize)]
struct WaContact {
    wa_id: Option<String>,
    profile: Option<WaProfile>,
}

#[derive(Deserialize)]
struct WaProfile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct WaMessage {
    from: String,
    id: String,
    timestamp: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    text: Option<WaText>,
    interactive: Option<WaInteractive>,
    button: Option<WaButton>,
    location: Option<WaLocation>,
    image: Option<WaMedia>,
}

#[derive(Deserialize)]
struct WaText {
    body: String,
}

#[derive(Deserialize)]
struct WaInteractive {
    button_reply: Option<WaReplyId>,
    list_reply: Option<WaReplyId>,
}

#[derive(Deserialize)]
struct WaReplyId {
    id: String,
}

#[derive(Deserialize)]
struct WaButton {
    payload: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct WaLocation {
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
struct WaMedia {
    id: String,
    mime_type: Option<String>,
}

/// Parses a WhatsApp Cloud API notification. Status updates (sent,
/// delivered, read) and system messages carry no citizen input: skipped.
pub fn parse_whatsapp(body: &[u8]) -> Result<Vec<Inbound>, ParseError> {
    let b: WaBody = json(body)?;
    if b.object != "whatsapp_business_account" {
        return Err(bad(format!("unexpected object {}", b.object)));
    }
    let mut out = Vec::new();
    for change in b.entry.into_iter().flat_map(|e| e.changes) {
        if change.field.as_deref().is_some_and(|f| f != "messages") {
            continue;
        }
        let v = change.value;
        for m in v.messages {
            let input = match m.kind.as_str() {
                "text" => Input::Text(m.text.ok_or_else(|| bad("text message without text"))?.body),
                // Meta also sends interactive messages that carry only an error.
                "interactive" => match m.interactive.and_then(|i| i.button_reply.or(i.list_reply)) {
                    Some(r) => Input::Button(r.id),
                    None => Input::Unsupported("interactive".into()),
                },
                // A quick-reply button of a template message.
                "button" => {
                    let btn = m.button.ok_or_else(|| bad("button without body"))?;
                    match btn.payload.or(btn.text) {
                        Some(p) => Input::Button(p),
                        None => continue,
                    }
                }
                "location" => {
                    let l = m.location.ok_or_else(|| bad("location without coordinates"))?;
                    Input::Location {
                        lat: l.latitude,
                        lon: l.longitude,
                    }
                }
                "image" => {
                    let img = m.image.ok_or_else(|| bad("image without media"))?;
                    Input::Photo(MediaRef {
                        id: img.id,
                        mime: img.mime_type,
                        size: None,
                        url: None,
                    })
                }
                "system" | "reaction" | "unsupported" | "request_welcome" => continue,
                other => Input::Unsupported(other.to_string()),
            };
            let name = v
                .contacts
                .iter()
                .find(|c| c.wa_id.as_deref() == Some(m.from.as_str()))
                .or(v.contacts.first())
                .and_then(|c| c.profile.as_ref())
                .and_then(|p| p.name.clone());
            out.push(Inbound {
                channel: Channel::Whatsapp,
                platform_id: m.id,
                sender: m.from,
                sender_name: name,
                sent_at: m
                    .timestamp
                    .and_then(|t| t.parse::<i64>().ok())
                    .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0)),
                input,
                reply_token: None,
                lang_hint: None,
            });
        }
    }
    Ok(out)
}

/// Settings a WhatsApp send needs.
pub struct WhatsappApi<'a> {
    pub base: &'a str,
    pub version: &'a str,
    pub phone_number_id: &'a str,
    pub access_token: &'a str,
    /// An approved template with one body parameter, for progress notices:
    /// outside the 24-hour customer-service window WhatsApp only delivers
    /// templates.
    pub notice_template: Option<&'a str>,
}

/// Reply buttons hold 20 characters, list rows 24; three buttons at most,
/// ten list rows.
const WA_BUTTON_TITLE: usize = 20;
const WA_ROW_TITLE: usize = 24;
const WA_BODY: usize = 1024;
const WA_TEXT: usize = 4096;

/// One send per reply: plain text, up to three reply buttons, or a list for
/// up to ten choices; a progress notice uses the template when configured.
pub fn send_whatsapp(api: &WhatsappApi<'_>, to: &str, reply: &Reply, notice: bool) -> ApiRequest {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
    });
    let n = reply.buttons.len();
    if notice && let Some(name) = api.notice_template {
        body["type"] = json!("template");
        body["template"] = json!({
            "name": name,
            "language": { "code": "id" },
            "components": [{
                "type": "body",
                "parameters": [{ "type": "text", "text": clip(&reply.text, WA_BODY) }]
            }]
        });
    } else if n == 0 || n > 10 {
        body["type"] = json!("text");
        body["text"] = json!({ "preview_url": false, "body": clip(&reply.flattened(), WA_TEXT) });
    } else if n <= 3 {
        body["type"] = json!("interactive");
        body["interactive"] = json!({
            "type": "button",
            "body": { "text": clip(&reply.text, WA_BODY) },
            "action": { "buttons": reply.buttons.iter().map(|b| json!({
                "type": "reply",
                "reply": { "id": b.id, "title": clip(&b.label, WA_BUTTON_TITLE) }
            })).collect::<Vec<_>>() }
        });
    } else {
        body["type"] = json!("interactive");
        body["interactive"] = json!({
            "type": "list",
            "body": { "text": clip(&reply.text, WA_BODY) },
            "action": {
                "button": "Pilih / Choose",
                "sections": [{
                    "title": "Menu",
                    "rows": reply.buttons.iter().map(|b| json!({
                        "id": b.id,
                        "title": clip(&b.label, WA_ROW_TITLE)
                    })).collect::<Vec<_>>()
                }]
            }
        });
    }
    ApiRequest::post_json(
        graph(api.base, api.version, &format!("{}/messages", api.phone_number_id)),
        Some(api.access_token),
        &body,
    )
}

/// Step one of fetching an image: the media object, with a short-lived URL.
pub fn whatsapp_media(api: &WhatsappApi<'_>, media_id: &str) -> ApiRequest {
    ApiRequest {
        method: "GET",
        url: graph(api.base, api.version, media_id),
        headers: vec![("authorization".into(), format!("Bearer {}", api.access_token))],
        body: Vec::new(),
    }
}

/// The download URL and declared size from a media object.
pub fn media_url(body: &[u8]) -> Result<(String, Option<u64>), ParseError> {
    let v: Value = json(body)?;
    let url = v
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("media object without url"))?;
    Ok((url.to_string(), v.get("file_size").and_then(Value::as_u64)))
}

// --------------------------------------------------------------- Messenger

#[derive(Deserialize)]
struct MsBody {
    object: String,
    #[serde(default)]
    entry: Vec<MsEntry>,
}

#[derive(Deserialize)]
struct MsEntry {
    #[serde(default)]
    messaging: Vec<MsEvent>,
}

#[derive(Deserialize)]
struct MsEvent {
    sender: MsId,
    timestamp: Option<i64>,
    message: Option<MsMessage>,
    postback: Option<MsPostback>,
}

#[derive(Deserialize)]
struct MsId {
    id: String,
}

#[derive(Deserialize)]
struct MsMessage {
    mid: String,
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    quick_reply: Option<MsPayload>,
    #[serde(default)]
    attachments: Vec<MsAttachment>,
}

#[derive(Deserialize)]
struct MsPayload {
    payload: String,
}

#[derive(Deserialize)]
struct MsPostback {
    mid: Option<String>,
    payload: Option<String>,
}

#[derive(Deserialize)]
struct MsAttachment {
    #[serde(rename = "type")]
    kind: String,
    payload: Option<Value>,
}

/// Parses a Messenger Platform notification. Echoes of the page's own
/// messages, deliveries and reads are skipped.
pub fn parse_messenger(body: &[u8]) -> Result<Vec<Inbound>, ParseError> {
    let b: MsBody = json(body)?;
    if b.object != "page" {
        return Err(bad(format!("unexpected object {}", b.object)));
    }
    let mut out = Vec::new();
    for ev in b.entry.into_iter().flat_map(|e| e.messaging) {
        let sent_at = ev.timestamp.and_then(DateTime::<Utc>::from_timestamp_millis);
        let (id, input) = if let Some(m) = ev.message {
            if m.is_echo {
                continue;
            }
            let input = if let Some(q) = m.quick_reply {
                Input::Button(q.payload)
            } else if let Some(t) = m.text {
                Input::Text(t)
            } else if let Some(a) = m.attachments.first() {
                let payload = a.payload.clone().unwrap_or(Value::Null);
                match a.kind.as_str() {
                    "image" => Input::Photo(MediaRef {
                        id: m.mid.clone(),
                        mime: None,
                        size: None,
                        url: payload.get("url").and_then(Value::as_str).map(str::to_string),
                    }),
                    "location" => match (
                        payload.pointer("/coordinates/lat").and_then(Value::as_f64),
                        payload.pointer("/coordinates/long").and_then(Value::as_f64),
                    ) {
                        (Some(lat), Some(lon)) => Input::Location { lat, lon },
                        _ => Input::Unsupported("location".into()),
                    },
                    other => Input::Unsupported(other.to_string()),
                }
            } else {
                continue;
            };
            (m.mid, input)
        } else if let Some(p) = ev.postback {
            let Some(payload) = p.payload else { continue };
            let id = p
                .mid
                .unwrap_or_else(|| format!("postback:{}:{}", ev.sender.id, ev.timestamp.unwrap_or(0)));
            (id, Input::Button(payload))
        } else {
            continue;
        };
        out.push(Inbound {
            channel: Channel::Messenger,
            platform_id: id,
            sender: ev.sender.id,
            sender_name: None,
            sent_at,
            input,
            reply_token: None,
            lang_hint: None,
        });
    }
    Ok(out)
}

pub struct MessengerApi<'a> {
    pub base: &'a str,
    pub version: &'a str,
    pub page_access_token: &'a str,
}

const MS_TEXT: usize = 2000;
const MS_QUICK_REPLIES: usize = 13;
const MS_TITLE: usize = 20;

/// The Send API. Answers within a conversation are `RESPONSE`s; progress
/// notices are account updates, which Messenger allows outside the 24-hour
/// window.
pub fn send_messenger(api: &MessengerApi<'_>, to: &str, reply: &Reply, notice: bool) -> ApiRequest {
    let mut message = json!({ "text": clip(&reply.text, MS_TEXT) });
    if !reply.buttons.is_empty() && reply.buttons.len() <= MS_QUICK_REPLIES {
        message["quick_replies"] = Value::Array(
            reply
                .buttons
                .iter()
                .map(|b| json!({ "content_type": "text", "title": clip(&b.label, MS_TITLE), "payload": b.id }))
                .collect(),
        );
    } else if !reply.buttons.is_empty() {
        message["text"] = json!(clip(&reply.flattened(), MS_TEXT));
    }
    let mut body = json!({ "recipient": { "id": to }, "message": message });
    if notice {
        body["messaging_type"] = json!("MESSAGE_TAG");
        body["tag"] = json!("ACCOUNT_UPDATE");
    } else {
        body["messaging_type"] = json!("RESPONSE");
    }
    ApiRequest::post_json(
        graph(api.base, api.version, "me/messages"),
        Some(api.page_access_token),
        &body,
    )
}
