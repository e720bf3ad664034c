//! Sending messages to people: the `Channel` trait every delivery route
//! implements (e-mail now; SMS and the chat platforms implement it too), the
//! registry that picks a channel for a reporter, and the templates.

pub mod email;
pub mod templates;
pub mod webpush;

use async_trait::async_trait;
use lapor_domain::report::Channel as ReportChannel;
use std::collections::HashMap;
use std::sync::Arc;

/// One message to one recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The outbox message's idempotency key (plus the recipient when one
    /// job fans out); receivers can deduplicate on it.
    pub key: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The Message-ID this answers (e-mail threads on it).
    pub in_reply_to: Option<String>,
}

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Try again later (connection refused, 4xx, timeout).
    Transient(String),
    /// The address does not exist; retrying cannot help.
    Undeliverable(String),
    /// The message itself was refused; retrying cannot help.
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Transient(m) => write!(f, "transient: {m}"),
            SendError::Undeliverable(m) => write!(f, "undeliverable: {m}"),
            SendError::Permanent(m) => write!(f, "permanent: {m}"),
        }
    }
}

/// A way to reach people: e-mail, SMS, a chat platform.
#[async_trait]
pub trait Channel: Send + Sync {
    /// Stable name, e.g. `email`.
    fn name(&self) -> &'static str;
    /// Which kind of address it sends to (`email`, `phone`, or a platform's
    /// user id), to pick the right field of a reporter's contact details.
    fn address_kind(&self) -> AddressKind;
    async fn send(&self, msg: &Outgoing) -> Result<(), SendError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    Email,
    Phone,
}

/// The channels this instance can send through.
#[derive(Default, Clone)]
pub struct Channels {
    by_name: HashMap<&'static str, Arc<dyn Channel>>,
}

impl Channels {
    pub fn with(mut self, ch: Arc<dyn Channel>) -> Channels {
        self.by_name.insert(ch.name(), ch);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Channel>> {
        self.by_name.get(name)
    }

    pub fn email(&self) -> Option<&Arc<dyn Channel>> {
        self.get("email")
    }

    /// The channel to answer a reporter on: the one the report came in by
    /// when this instance can send through it, else e-mail.
    pub fn for_report(&self, came_by: ReportChannel) -> Vec<&Arc<dyn Channel>> {
        let preferred = self.get(came_by.as_str());
        let mut out: Vec<&Arc<dyn Channel>> = preferred.into_iter().collect();
        if let Some(e) = self.email()
            && !out.iter().any(|c| c.name() == "email")
        {
            out.push(e);
        }
        out
    }
}
