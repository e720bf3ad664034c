//! The inbound e-mail channel: an SMTP listener (the `lapor-mailsink`
//! server with a mailbox of our own) that the organisation's MTA hands
//! citizens' mail to. The MTA does what a public-facing mail server must
//! (TLS, SPF/DKIM/DMARC, spam scoring); we take mail only from its
//! addresses and only for the configured recipients.
//!
//! A message is answered 250 only once its turn has committed, so mail the
//! MTA was told we took is never lost; a failure answers 451 and the MTA
//! keeps the message and retries (the Message-ID dedupe drops a repeat).

use super::EmailConfig;
use super::turn;
use crate::AppState;
use lapor_domain::ErrorCode;
use lapor_mailsink::{Delivered, Envelope, Mailbox, Rcpt, Refused, SmtpServer};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

pub struct Inbox {
    state: AppState,
    addresses: Vec<String>,
    relays: Vec<IpAddr>,
    max_bytes: usize,
}

impl Inbox {
    pub fn new(state: AppState, cfg: &EmailConfig) -> Result<Inbox, String> {
        let relays = cfg
            .relays
            .iter()
            .map(|r| {
                r.parse::<IpAddr>()
                    .map_err(|e| format!("channels.email.relays {r:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Inbox {
            state,
            addresses: cfg.addresses.iter().map(|a| a.trim().to_lowercase()).collect(),
            relays,
            max_bytes: cfg.max_bytes,
        })
    }

    async fn take(&self, env: Envelope, raw: Vec<u8>) -> Result<String, Refused> {
        let mail = lapor_channels::email::parse(&raw).map_err(|e| {
            tracing::info!(peer = %env.peer, error = %e, "inbound mail refused");
            Refused::Permanent(format!("message not readable: {e}"))
        })?;
        match turn::handle_mail(&self.state, &mail).await {
            Ok(h) => {
                tracing::debug!(outcome = ?h, "inbound mail handled");
                // Our own queue id: the sender's Message-ID is not ours to echo.
                let d = <sha2::Sha256 as sha2::Digest>::digest(&raw);
                Ok(hex::encode(&d[..8]))
            }
            Err(e) if e.code == ErrorCode::Internal || e.code.http_status() >= 500 => {
                tracing::error!(error = %e, "inbound mail not processed; the MTA will retry");
                Err(Refused::Temporary("try again later".into()))
            }
            Err(e) => Err(Refused::Permanent(e.code.message(lapor_domain::Lang::En).to_string())),
        }
    }
}

impl Mailbox for Inbox {
    fn max_size(&self) -> usize {
        self.max_bytes
    }

    fn admits(&self, peer: SocketAddr) -> bool {
        let ip = match peer.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        self.relays.contains(&ip)
    }

    fn rcpt(&self, to: &str) -> Rcpt {
        if self.addresses.iter().any(|a| a.eq_ignore_ascii_case(to)) {
            Rcpt::Accept
        } else {
            Rcpt::Reject
        }
    }

    fn deliver(&self, envelope: Envelope, raw: Vec<u8>) -> Delivered<'_> {
        Box::pin(self.take(envelope, raw))
    }
}

/// Starts the listener; it runs until the returned server is dropped.
pub async fn listen(state: &AppState) -> Result<Option<SmtpServer>, String> {
    let Some(cfg) = state.config.channels.email.as_ref() else {
        return Ok(None);
    };
    let inbox = Inbox::new(state.clone(), cfg)?;
    let server = SmtpServer::start(&cfg.bind, Arc::new(inbox))
        .await
        .map_err(|e| format!("inbound SMTP on {}: {e}", cfg.bind))?;
    tracing::info!(addr = %server.addr(), "inbound e-mail listening");
    Ok(Some(server))
}
