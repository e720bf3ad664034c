//! E-mail over SMTP with lettre (rustls for TLS, a pooled connection per
//! worker). The idempotency key travels as the Message-ID and as an
//! `X-Lapor-Key` header, so a receiving system can drop the copy a retry
//! after a crash may produce.

use super::{AddressKind, Channel, Outgoing, SendError};
use async_trait::async_trait;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MessageBuilder};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Domain of generated Message-IDs.
    id_domain: String,
}

impl EmailChannel {
    /// `url` as lettre reads it: `smtp://host:port` (plain, for a local
    /// relay), `smtp://…?tls=required` (STARTTLS) or `smtps://…` (TLS), with
    /// optional `user:pass@`.
    pub fn new(url: &str, from: &str, pool_size: u32) -> Result<EmailChannel, String> {
        let from: Mailbox = from.parse().map_err(|e| format!("mail from {from:?}: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("smtp url: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(pool_size.max(1)))
            .build();
        let id_domain = from.email.domain().to_string();
        Ok(EmailChannel {
            transport,
            from,
            id_domain,
        })
    }

    fn message(&self, msg: &Outgoing) -> Result<Message, SendError> {
        let to: Mailbox = msg
            .to
            .parse()
            .map_err(|e| SendError::Undeliverable(format!("address {:?}: {e}", msg.to)))?;
        // Message-IDs must be short and plain; the key may be neither.
        let digest = hex::encode(&Sha256::digest(msg.key.as_bytes())[..16]);
        let builder = MessageBuilder::new()
            .from(self.from.clone())
            .to(to)
            .subject(msg.subject.clone())
            .message_id(Some(format!("<{digest}@{}>", self.id_domain)))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Lapor-Key"),
                msg.key.chars().filter(|c| c.is_ascii_graphic()).take(200).collect(),
            ))
            .header(ContentType::TEXT_PLAIN);
        // Answers thread under the citizen's own mail in their client, and
        // say they are automatic so autoresponders do not answer them back.
        let builder = match &msg.in_reply_to {
            Some(id) => {
                let id = format!("<{}>", id.trim_matches(|c| c == '<' || c == '>'));
                builder
                    .in_reply_to(id.clone())
                    .references(id)
                    .raw_header(HeaderValue::new(
                        HeaderName::new_from_ascii_str("Auto-Submitted"),
                        "auto-replied".into(),
                    ))
            }
            None => builder,
        };
        builder
            .body(msg.text.clone())
            .map_err(|e| SendError::Permanent(format!("message: {e}")))
    }
}

/// Mailbox-level refusals (RFC 5321: 550 mailbox unavailable, 551 user not
/// local, 553 mailbox name not allowed) mean the address is bad; other
/// permanent errors are about the message.
fn classify(e: &SmtpError) -> SendError {
    let text = e.to_string();
    if e.is_permanent() {
        match e.status().map(|c| c.to_string()) {
            Some(code) if matches!(code.as_str(), "550" | "551" | "553") => SendError::Undeliverable(text),
            _ => SendError::Permanent(text),
        }
    } else {
        SendError::Transient(text)
    }
}

#[async_trait]
impl Channel for EmailChannel {
    fn name(&self) -> &'static str {
        "email"
    }

    fn address_kind(&self) -> AddressKind {
        AddressKind::Email
    }

    async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        let m = self.message(msg)?;
        self.transport.send(m).await.map(|_| ()).map_err(|e| classify(&e))
    }
}
