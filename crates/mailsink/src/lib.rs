//! A small, real SMTP server (a subset of RFC 5321, plain TCP, no TLS or AUTH)
//! that stands in for a mail relay in tests, benchmarks and the demo mode.
//! Lapor's delivery worker talks to it with `lettre` exactly as it would talk
//! to a production relay, and the sink records what arrived so callers can
//! check delivery, idempotency (duplicate keys) and failure handling (domains
//! configured to fail permanently or transiently).

mod headers;
mod session;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
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
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            reject_domains: Vec::new(),
            tempfail_domains: Vec::new(),
            out_dir: None,
            max_size: 10 * 1024 * 1024,
            keep_raw: true,
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
        }
        self.arrived.notify_waiters();
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave Store half-updated in a
        // way that matters to a test sink, so keep serving after poisoning.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Handle to a running sink. Dropping it (or calling [`MailSink::shutdown`])
/// stops the listener and closes every open connection.
pub struct MailSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl MailSink {
    /// Binds (use "127.0.0.1:0" for an ephemeral port) and serves in a spawned tokio task until dropped or
    /// shut down.
    pub async fn start(bind: &str, opts: SinkOptions) -> std::io::Result<MailSink> {
        if let Some(dir) = &opts.out_dir {
            tokio::fs::create_dir_all(dir).await?;
        }
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
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
        let server = tokio::spawn(serve(listener, shared.clone()));
        tracing::debug!(%addr, "mail sink listening");
        Ok(MailSink { addr, shared, server })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// All accepted messages so far (clone).
    pub fn messages(&self) -> Vec<Received> {
        self.shared.lock().messages.clone()
    }

    pub fn count(&self) -> usize {
        self.shared.lock().messages.len()
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

impl Drop for MailSink {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every
        // connection task, and drops the listener, which frees the port.
        self.server.abort();
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

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Replies are batched by the session, so Nagle only adds latency.
                    let _ = stream.set_nodelay(true);
                    connections.spawn(session::run(stream, peer, shared.clone()));
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
