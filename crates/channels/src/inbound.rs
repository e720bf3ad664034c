//! What every webhook parser produces, and what every sender builds.

use crate::conversation::Input;
use chrono::{DateTime, Utc};
use lapor_domain::report::Channel;

/// One message from a citizen, out of the platform's format.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub channel: Channel,
    /// The platform's id for this message: the deduplication key (platforms
    /// redeliver when we answer slowly).
    pub platform_id: String,
    /// Who wrote: the platform's user id, or the phone number for SMS and
    /// WhatsApp. Replies go back to this address.
    pub sender: String,
    pub sender_name: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub input: Input,
    /// LINE's one-time token for a free reply within a minute.
    pub reply_token: Option<String>,
    /// The sender's client language, when the platform tells it.
    pub lang_hint: Option<String>,
}

impl Inbound {
    /// The text of the message, for logs and the staff inbox.
    pub fn text(&self) -> String {
        use crate::conversation::Input::*;
        match &self.input {
            Text(s) | Button(s) => s.clone(),
            Location { lat, lon } => format!("[lokasi {lat:.5}, {lon:.5}]"),
            Photo(_) => "[foto]".into(),
            Unsupported(kind) => format!("[{kind}]"),
        }
    }
}

/// Why a webhook body was refused (answered with 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

pub(crate) fn bad(what: impl Into<String>) -> ParseError {
    ParseError(what.into())
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ParseError> {
    serde_json::from_slice(body).map_err(|e| bad(format!("malformed JSON: {e}")))
}

/// An HTTP call to a platform's API, built purely so tests can compare it
/// byte for byte; the delivery worker sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiRequest {
    pub fn post_json(url: String, bearer: Option<&str>, body: &serde_json::Value) -> ApiRequest {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(t) = bearer {
            headers.push(("authorization".to_string(), format!("Bearer {t}")));
        }
        ApiRequest {
            method: "POST",
            url,
            headers,
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Cuts text to at most `max` characters on a character boundary.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
