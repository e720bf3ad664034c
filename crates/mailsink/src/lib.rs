//! A small, real SMTP server (a subset of RFC 5321, plain TCP, no TLS or
//! AUTH). What happens to a message is up to a [`Mailbox`]:
//!
//! - [`MailSink`] stands in for a mail relay in tests, benchmarks and the
//!   demo mode. Lapor's delivery worker talks to it with `lettre` exactly as
//!   it would talk to a production relay, and the sink records what arrived
//!   so callers can check delivery, idempotency (duplicate keys) and failure
//!   handling (domains configured to fail permanently or transiently);
//! - Lapor's inbound e-mail channel is another mailbox, behind the
//!   organisation's MTA (which does TLS and sender authentication).

mod headers;
mod session;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// How the sink answers and what it keeps.
#[derive(Clone, Debug)]
pub struct SinkOptions {
    /// Recipient domains (lowercase, e.g. "invalid", "bounce.test") whose RCPT TO is answered
    /// `550 5.1.1 mailbox unavailable` (a permanent failure), to test undeliverable addresses.
    /// A listed domain also covers its subdomains ("invalid" matches `x@example.invalid`).
    pub reject_domains: Vec<String>,
    /// Recipient domains answered `451 4.3.0 try again later` (a transient failure).
    pub tempfail_domains: Vec<String>,
    /// If set, every accepted message is also written to this directory as `<n>.eml` (raw bytes after
    /// dot-unstuffing). The directory is created by [`MailSink::start`].
    pub out_dir: Option<PathBuf>,
    /// Max message size in bytes advertised with SIZE and enforced (552 when exceeded). Default 10 MiB.
    pub max_size: usize,
    /// Keep the raw message bytes in memory (tests) or only headers of interest (benchmarks with many
    /// messages). Default true.
    pub keep_raw: bool,
    /// Remember the last `n` to `2n` messages in memory: once `2n` are
    /// held, the oldest `n` are forgotten, with their keys (files in
    /// `out_dir` stay). A sink that runs for months, as the demo's does,
    /// must not grow without end.
    /// Default: no limit (tests read everything back).
    pub remember: Option<usize>,
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            reject_domains: Vec::new(),
            tempfail_domains: Vec::new(),
            out_dir: None,
            max_size: 10 * 1024 * 1024,
            keep_raw: true,
            remember: None,
        }
    }
}

/// One accepted message.
#[derive(Clone, Debug)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// Value of the Message-ID header without angle brackets, if present.
    pub message_id: Option<String>,
    /// Value of the `X-Lapor-Key` header, if present (Lapor's idempotency key).
    pub key: Option<String>,
    /// Subject header value, decoded if it is an RFC 2047 encoded-word in UTF-8 with B or Q encoding
    /// (lettre encodes non-ASCII subjects that way); otherwise raw.
    pub subject: Option<String>,
    /// Raw message (empty when keep_raw is false).
    pub raw: Vec<u8>,
}

/// The envelope of one SMTP transaction.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub peer: SocketAddr,
}

/// The answer to one `RCPT TO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcpt {
    Accept,
    /// 550: no such mailbox here.
    Reject,
    /// 451: try again later.
    TempFail,
}

/// Why a complete message was not taken: 451 (the client keeps it and
/// retries) or 554 (it bounces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    Temporary(String),
    Permanent(String),
}

pub type Delivered<'a> = Pin<Box<dyn Future<Output = Result<String, Refused>> + Send + 'a>>;

/// Where accepted mail goes. `deliver` answers with a queue id once the
/// message is kept: only then does the client hear 250.
pub trait Mailbox: Send + Sync + 'static {
    /// The word after `ESMTP` in the greeting.
    fn banner(&self) -> &str {
        "lapor"
    }
    /// Largest message taken (advertised with SIZE, 552 above it).
    fn max_size(&self) -> usize;
    /// Whether a client may talk to us at all (421 and close otherwise).
    fn admits(&self, _peer: SocketAddr) -> bool {
        true
    }
    fn rcpt(&self, to: &str) -> Rcpt;
    fn deliver(&self, envelope: Envelope, raw: Vec<u8>) -> Delivered<'_>;
}

/// A running SMTP listener; dropping it stops the listener and closes every
/// open connection.
pub struct SmtpServer {
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl SmtpServer {
    pub async fn start(bind: &str, mailbox: Arc<dyn Mailbox>) -> std::io::Result<SmtpServer> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(serve(listener, mailbox));
        Ok(SmtpServer { addr, server })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every
        // connection task, and drops the listener, which frees the port.
        self.server.abort();
    }
}

/// State shared by the accept loop, every connection task and the handle.
pub(crate) struct Shared {
    pub(crate) opts: SinkOptions,
    /// Queue ids, handed out before the message is stored so the `.eml` file
    /// exists by the time the message becomes visible to `wait_for`.
    next_id: AtomicU64,
    store: Mutex<Store>,
    arrived: Notify,
}

#[derive(Default)]
struct Store {
    /// Accepted since the start, remembered or not.
    accepted: usize,
    messages: Vec<Received>,
    /// Times each idempotency key was seen.
    keys: HashMap<String, u32>,
    duplicates: usize,
}

impl Shared {
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn record(&self, msg: Received) {
        {
            let mut store = self.lock();
            if let Some(key) = msg.key.as_ref().or(msg.message_id.as_ref()) {
                let seen = store.keys.entry(key.clone()).or_insert(0);
                *seen += 1;
                if *seen > 1 {
                    store.duplicates += 1;
                }
            }
            store.messages.push(msg);
            store.accepted += 1;
            // Forget in batches of `limit`, so trimming costs O(1) per message.
            if let Some(limit) = self.opts.remember
                && store.messages.len() >= 2 * limit.max(1)
            {
                let old: Vec<Received> = store.messages.drain(..limit.max(1)).collect();
                for m in old {
                    if let Some(key) = m.key.as_ref().or(m.message_id.as_ref())
                        && let Some(seen) = store.keys.get_mut(key)
                    {
                        *seen -= 1;
                        if *seen == 0 {
                            store.keys.remove(key);
                        }
                    }
                }
            }
        }
        self.arrived.notify_waiters();
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave Store half-updated in a
        // way that matters to a test sink, so keep serving after poisoning.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores a complete message (and its copy in `out_dir`; a failed
    /// write is a 451). The message is recorded before the reply is queued,
    /// so a client that saw 250 can rely on `count()`.
    async fn keep(&self, env: Envelope, mut msg: Vec<u8>) -> Result<String, Refused> {
        let id = self.next_id();
        if let Some(dir) = &self.opts.out_dir {
            let path = dir.join(format!("{id}.eml"));
            if let Err(e) = tokio::fs::write(&path, &msg).await {
                tracing::warn!(path = %path.display(), error = %e, "mail sink could not write message");
                return Err(Refused::Temporary("could not store message".into()));
            }
        }
        let found = headers::parse(&msg);
        if !self.opts.keep_raw {
            msg = Vec::new();
        }
        tracing::trace!(id, key = ?found.key, "mail sink accepted message");
        self.record(Received {
            mail_from: env.mail_from,
            rcpt_to: env.rcpt_to,
            message_id: found.message_id,
            key: found.key,
            subject: found.subject,
            raw: msg,
        });
        Ok(id.to_string())
    }
}

impl Mailbox for Shared {
    fn banner(&self) -> &str {
        "lapor-mailsink"
    }

    fn max_size(&self) -> usize {
        self.opts.max_size
    }

    fn rcpt(&self, to: &str) -> Rcpt {
        let domain = to
            .rsplit_once('@')
            .map_or("", |(_, d)| d)
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if session::domain_listed(&self.opts.reject_domains, &domain) {
            Rcpt::Reject
        } else if session::domain_listed(&self.opts.tempfail_domains, &domain) {
            Rcpt::TempFail
        } else {
            Rcpt::Accept
        }
    }

    fn deliver(&self, envelope: Envelope, raw: Vec<u8>) -> Delivered<'_> {
        Box::pin(self.keep(envelope, raw))
    }
}

/// Handle to a running sink. Dropping it (or calling [`MailSink::shutdown`])
/// stops the listener and closes every open connection.
pub struct MailSink {
    shared: Arc<Shared>,
    server: SmtpServer,
}

impl MailSink {
    /// Binds (use "127.0.0.1:0" for an ephemeral port) and serves in a spawned tokio task until dropped or
    /// shut down.
    pub async fn start(bind: &str, opts: SinkOptions) -> std::io::Result<MailSink> {
        if let Some(dir) = &opts.out_dir {
            tokio::fs::create_dir_all(dir).await?;
        }
        let opts = SinkOptions {
            reject_domains: lowercase(opts.reject_domains),
            tempfail_domains: lowercase(opts.tempfail_domains),
            ..opts
        };
        let shared = Arc::new(Shared {
            opts,
            next_id: AtomicU64::new(1),
            store: Mutex::new(Store::default()),
            arrived: Notify::new(),
        });
        let server = SmtpServer::start(bind, shared.clone()).await?;
        tracing::debug!(addr = %server.addr(), "mail sink listening");
        Ok(MailSink { shared, server })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The messages remembered (all accepted ones, unless `remember` is set).
    pub fn messages(&self) -> Vec<Received> {
        self.shared.lock().messages.clone()
    }

    /// Messages accepted since the start, remembered or not.
    pub fn count(&self) -> usize {
        self.shared.lock().accepted
    }

    /// Number of distinct keys (X-Lapor-Key, falling back to Message-ID) seen.
    pub fn distinct_keys(&self) -> usize {
        self.shared.lock().keys.len()
    }

    /// How many messages repeated an already-seen key.
    pub fn duplicates(&self) -> usize {
        self.shared.lock().duplicates
    }

    /// Waits until at least n messages have been accepted or the timeout passes; returns the count.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register interest before checking the count so an arrival in
            // between is not missed.
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let count = self.count();
            if count >= n {
                return count;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.count();
            }
        }
    }

    /// Stops accepting and closes all connections (same as dropping the handle).
    pub fn shutdown(self) {
        drop(self);
    }
}

fn lowercase(domains: Vec<String>) -> Vec<String> {
    domains
        .into_iter()
        .map(|d| {
            d.trim()
                .trim_start_matches('@')
                .trim_end_matches('.')
                .to_ascii_lowercase()
        })
        .collect()
}

async fn serve(listener: TcpListener, mailbox: Arc<dyn Mailbox>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((mut stream, peer)) => {
                    if !mailbox.admits(peer) {
                        tracing::warn!(%peer, "SMTP client not admitted");
                        tokio::spawn(async move {
                            use tokio::io::AsyncWriteExt;
                            let _ = stream.write_all(b"421 4.7.0 not accepting mail from you\r\n").await;
                        });
                        continue;
                    }
                    // Replies are batched by the session, so Nagle only adds latency.
                    let _ = stream.set_nodelay(true);
                    connections.spawn(session::run(stream, peer, mailbox.clone()));
                }
                Err(e) => {
                    // Typically EMFILE under load; back off instead of spinning.
                    tracing::warn!(error = %e, "mail sink accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            // Reap finished connections so the set does not grow without bound.
            Some(done) = connections.join_next(), if !connections.is_empty() => {
                if let Err(e) = done
                    && e.is_panic()
                {
                    tracing::error!(error = %e, "mail sink connection task panicked");
                }
            }
        }
    }
}
