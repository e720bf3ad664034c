//! SMS over HTTP gateways: our generic JSON webhook (signed like Meta's, in
//! `X-Lapor-Signature`), the Twilio-compatible form many aggregators speak,
//! and the matching send calls. SMPP lives in `lapor-smpp`.

use crate::conversation::{Capabilities, Input};
use crate::inbound::{ApiRequest, Inbound, ParseError, bad, json};
use base64::Engine;
use chrono::{DateTime, Utc};
use lapor_domain::report::Channel;
use serde::Deserialize;
use serde_json::json;

pub const CAPS: Capabilities = Capabilities { buttons: false };
/// Longest inbound text accepted (a reassembled SMS of ~10 parts).
const MAX_TEXT: usize = 2000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generic {
    id: String,
    from: String,
    #[serde(default)]
    #[allow(dead_code)]
    to: Option<String>,
    text: String,
    received_at: Option<DateTime<chrono::FixedOffset>>,
}

fn check(id: &str, from: &str, text: &str) -> Result<(), ParseError> {
    if id.is_empty() || id.len() > 200 {
        return Err(bad("id: 1-200 characters"));
    }
    let digits = from.trim_start_matches('+');
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("from: a phone number"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(bad("text: too long"));
    }
    Ok(())
}

pub fn parse_generic(body: &[u8]) -> Result<Inbound, ParseError> {
    let g: Generic = json(body)?;
    check(&g.id, &g.from, &g.text)?;
    Ok(Inbound {
        channel: Channel::Sms,
        platform_id: g.id,
        sender: g.from,
        sender_name: None,
        sent_at: g.received_at.map(|d| d.with_timezone(&Utc)),
        input: Input::Text(g.text),
        reply_token: None,
        lang_hint: None,
    })
}

/// The form's parameters, in order, for the signature check.
pub fn form_params(body: &[u8]) -> Result<Vec<(String, String)>, ParseError> {
    serde_urlencoded::from_bytes(body).map_err(|e| bad(format!("malformed form: {e}")))
}

pub fn parse_twilio(params: &[(String, String)]) -> Result<Inbound, ParseError> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let id = get("MessageSid")
        .or(get("SmsSid"))
        .ok_or_else(|| bad("MessageSid missing"))?;
    let from = get("From").ok_or_else(|| bad("From missing"))?;
    let text = get("Body").unwrap_or("");
    check(id, from, text)?;
    Ok(Inbound {
        channel: Channel::Sms,
        platform_id: id.to_string(),
        sender: from.to_string(),
        sender_name: None,
        sent_at: None,
        input: Input::Text(text.to_string()),
        reply_token: None,
        lang_hint: None,
    })
}

/// Our generic gateway's send call: JSON, bearer-authenticated, with an
/// idempotency key so a resend after a crash is dropped by the gateway.
pub fn send_generic(url: &str, token: &str, sender_id: &str, to: &str, text: &str, key: &str) -> ApiRequest {
    let mut r = ApiRequest::post_json(
        url.to_string(),
        Some(token),
        &json!({ "from": sender_id, "to": to, "text": text, "reference": key }),
    );
    r.headers.push(("idempotency-key".into(), key.to_string()));
    r
}

/// Twilio's Messages resource: a form post with HTTP basic auth.
pub fn send_twilio(
    api_base: &str,
    account_sid: &str,
    auth_token: &str,
    from: &str,
    to: &str,
    text: &str,
) -> ApiRequest {
    let body = serde_urlencoded::to_string([("To", to), ("From", from), ("Body", text)]).unwrap_or_default();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{account_sid}:{auth_token}"));
    ApiRequest {
        method: "POST",
        url: format!(
            "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
            api_base.trim_end_matches('/')
        ),
        headers: vec![
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ("authorization".into(), format!("Basic {basic}")),
        ],
        body: body.into_bytes(),
    }
}
