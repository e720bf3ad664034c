//! Sending through the platforms' APIs (outbox topic `channel.send`, and
//! progress notices), and fetching the photos citizens sent.

use crate::AppState;
use crate::notify::SendError;
use lapor_channels::conversation::{MediaRef, Reply};
use lapor_channels::{ApiRequest, line, meta, sms, telegram, x};
use lapor_domain::report::Channel;
use lapor_store::NewAttachment;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The payload of a `channel.send` job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub channel: String,
    pub to: String,
    pub replies: Vec<Reply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_token: Option<String>,
    /// The tweet or e-mail (Message-ID) this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// E-mail only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// A progress notice rather than an answer in a conversation (platforms
    /// treat messages outside their reply window differently).
    #[serde(default)]
    pub notice: bool,
}

fn off(ch: &str) -> SendError {
    // Waits in the outbox until the channel is configured again.
    SendError::Transient(format!("channel {ch} is not configured"))
}

/// Sends one API request; 2xx is done, 429 and 5xx are worth retrying,
/// other 4xx are refusals.
async fn execute(state: &AppState, r: &ApiRequest) -> Result<Vec<u8>, SendError> {
    let method = reqwest::Method::from_bytes(r.method.as_bytes()).map_err(|e| SendError::Permanent(e.to_string()))?;
    let mut req = state.chat.http.request(method, &r.url);
    for (k, v) in &r.headers {
        req = req.header(k, v);
    }
    if !r.body.is_empty() {
        req = req.body(r.body.clone());
    }
    let resp = req
        .send()
        .await
        .map_err(|e| SendError::Transient(e.without_url().to_string()))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| SendError::Transient(e.without_url().to_string()))?
        .to_vec();
    if status.is_success() {
        return Ok(body);
    }
    let snippet = String::from_utf8_lossy(&body[..body.len().min(300)]).to_string();
    let what = format!("HTTP {}: {snippet}", status.as_u16());
    if status.as_u16() == 429 || status.is_server_error() {
        Err(SendError::Transient(what))
    } else {
        Err(SendError::Permanent(what))
    }
}

/// Delivers one job's replies. `key` is the job's idempotency key.
pub async fn send(state: &AppState, key: &str, d: &Delivery) -> Result<(), SendError> {
    let cfg = &state.config.channels;
    let ch =
        Channel::parse(&d.channel).ok_or_else(|| SendError::Permanent(format!("unknown channel {}", d.channel)))?;
    match ch {
        Channel::Telegram => {
            let c = cfg.telegram.as_ref().ok_or_else(|| off("telegram"))?;
            for r in &d.replies {
                execute(state, &telegram::send_message(&c.api_base, &c.bot_token, &d.to, r)).await?;
            }
        }
        Channel::Line => {
            let c = cfg.line.as_ref().ok_or_else(|| off("line"))?;
            // The reply token is free but single-use and short-lived; when it
            // has expired (or a retry finds it used) the push API takes over.
            let replied = match &d.reply_token {
                Some(t) => execute(state, &line::reply(&c.api_base, &c.access_token, t, &d.replies)).await,
                None => Err(SendError::Permanent("no reply token".into())),
            };
            if let Err(e) = replied {
                if matches!(e, SendError::Transient(_)) {
                    return Err(e);
                }
                execute(state, &line::push(&c.api_base, &c.access_token, &d.to, &d.replies, key)).await?;
            }
        }
        Channel::Whatsapp => {
            let c = cfg.whatsapp.as_ref().ok_or_else(|| off("whatsapp"))?;
            let api = meta::WhatsappApi {
                base: &c.graph_base,
                version: &c.graph_version,
                phone_number_id: &c.phone_number_id,
                access_token: &c.access_token,
                notice_template: c.notice_template.as_deref(),
            };
            for r in &d.replies {
                execute(state, &meta::send_whatsapp(&api, &d.to, r, d.notice)).await?;
            }
        }
        Channel::Messenger => {
            let c = cfg.messenger.as_ref().ok_or_else(|| off("messenger"))?;
            let api = meta::MessengerApi {
                base: &c.graph_base,
                version: &c.graph_version,
                page_access_token: &c.page_access_token,
            };
            for r in &d.replies {
                execute(state, &meta::send_messenger(&api, &d.to, r, d.notice)).await?;
            }
        }
        Channel::Sms => {
            let c = cfg.sms.as_ref().ok_or_else(|| off("sms"))?;
            let text = d.replies.iter().map(Reply::flattened).collect::<Vec<_>>().join("\n");
            match c.send_via.as_str() {
                "http" => {
                    let (Some(url), Some(token)) = (&c.http_send_url, &c.http_send_token) else {
                        return Err(off("sms (http_send_url/http_send_token)"));
                    };
                    execute(state, &sms::send_generic(url, token, &c.sender_id, &d.to, &text, key)).await?;
                }
                "twilio" => {
                    let (Some(sid), Some(token)) = (&c.twilio_account_sid, &c.twilio_auth_token) else {
                        return Err(off("sms (twilio_account_sid/twilio_auth_token)"));
                    };
                    execute(
                        state,
                        &sms::send_twilio(&c.twilio_api_base, sid, token, &c.sender_id, &d.to, &text),
                    )
                    .await?;
                }
                "smpp" => {
                    let esme = state.chat.smpp.read().await.clone();
                    let Some(esme) = esme.filter(|e| !e.is_closed()) else {
                        return Err(SendError::Transient("SMPP session is not bound".into()));
                    };
                    esme.submit(&d.to, &text).await.map_err(|e| {
                        if e.is_transient() {
                            SendError::Transient(e.to_string())
                        } else {
                            SendError::Permanent(e.to_string())
                        }
                    })?;
                }
                other => return Err(SendError::Permanent(format!("sms send_via {other:?} is not known"))),
            }
        }
        Channel::Email => {
            let text = d.replies.iter().map(Reply::flattened).collect::<Vec<_>>().join("\n\n");
            let subject = d.subject.clone().unwrap_or_else(|| "LAPOR!".into());
            crate::worker::handlers::email(state, key, &d.to, subject, text, d.in_reply_to.clone()).await?;
        }
        Channel::Twitter => {
            let c = cfg.x.as_ref().ok_or_else(|| off("x"))?;
            let Some(tweet) = &d.in_reply_to else {
                // X has no private channel we may use for notices.
                return Ok(());
            };
            let text = d.replies.iter().map(Reply::flattened).collect::<Vec<_>>().join("\n");
            execute(state, &x::reply_request(&c.api_base, &c.user_token, tweet, &text)).await?;
        }
        other => {
            return Err(SendError::Permanent(format!(
                "{} is not a chat channel",
                other.as_str()
            )));
        }
    }
    Ok(())
}

/// Reads a body, refusing more than `max` bytes.
pub(crate) async fn download(state: &AppState, r: &ApiRequest, max: usize) -> Result<Vec<u8>, String> {
    let method = reqwest::Method::from_bytes(r.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut req = state.chat.http.request(method, &r.url);
    for (k, v) in &r.headers {
        req = req.header(k, v);
    }
    let mut resp = req.send().await.map_err(|e| e.without_url().to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status().as_u16()));
    }
    if resp.content_length().is_some_and(|n| n as usize > max) {
        return Err("too large".into());
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.without_url().to_string())? {
        if out.len() + chunk.len() > max {
            return Err("too large".into());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn get(url: String, bearer: Option<&str>) -> ApiRequest {
    ApiRequest {
        method: "GET",
        url,
        headers: bearer
            .map(|t| vec![("authorization".to_string(), format!("Bearer {t}"))])
            .unwrap_or_default(),
        body: Vec::new(),
    }
}

/// Fetches a photo a citizen sent, then sniffs and cleans it like a web
/// upload. An error says why it was left out.
pub async fn fetch_photo(state: &AppState, ch: Channel, m: &MediaRef) -> Result<NewAttachment, String> {
    let max = lapor_domain::media::MAX_FILE_BYTES;
    if m.size.is_some_and(|s| s as usize > max) {
        return Err("too large".into());
    }
    let cfg = &state.config.channels;
    let bytes = match ch {
        Channel::Telegram => {
            let c = cfg.telegram.as_ref().ok_or("telegram is off")?;
            let meta = download(state, &telegram::get_file(&c.api_base, &c.bot_token, &m.id), 64 * 1024).await?;
            let (url, _) = telegram::file_url(&c.api_base, &c.bot_token, &meta).map_err(|e| e.to_string())?;
            download(state, &get(url, None), max).await?
        }
        Channel::Line => {
            let c = cfg.line.as_ref().ok_or("line is off")?;
            download(state, &line::content(&c.data_api_base, &c.access_token, &m.id), max).await?
        }
        Channel::Whatsapp => {
            let c = cfg.whatsapp.as_ref().ok_or("whatsapp is off")?;
            let api = meta::WhatsappApi {
                base: &c.graph_base,
                version: &c.graph_version,
                phone_number_id: &c.phone_number_id,
                access_token: &c.access_token,
                notice_template: None,
            };
            let obj = download(state, &meta::whatsapp_media(&api, &m.id), 64 * 1024).await?;
            let (url, _) = meta::media_url(&obj).map_err(|e| e.to_string())?;
            download(state, &get(url, Some(&c.access_token)), max).await?
        }
        Channel::Messenger => {
            let url = m.url.clone().ok_or("no attachment url")?;
            if !url.starts_with("https://") && !url.starts_with("http://") {
                return Err("odd attachment url".into());
            }
            download(state, &get(url, None), max).await?
        }
        other => return Err(format!("{} carries no photos", other.as_str())),
    };
    attachment_from(&bytes, "foto").map_err(|e| e.code.as_str().to_string())
}

/// Sniffs and cleans a file a citizen sent, like a web upload.
pub fn attachment_from(bytes: &[u8], name: &str) -> Result<NewAttachment, lapor_domain::Error> {
    let cleaned = lapor_domain::media::clean(bytes)?;
    Ok(NewAttachment {
        id: crate::auth::new_id("a-"),
        media_type: cleaned.media_type.as_str().to_string(),
        filename: lapor_domain::media::safe_filename(name, cleaned.media_type),
        sha256: hex::encode(Sha256::digest(&cleaned.bytes)),
        data: Arc::new(cleaned.bytes),
    })
}
