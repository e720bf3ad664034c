//! Chat and SMS channels at runtime: their configuration, the webhook
//! routes (`hooks`), the turn pipeline shared by every platform (`turn`),
//! and delivery of replies and progress notices through each platform's API
//! (`deliver`). The pure parts (chatbot, parsers, signatures, request shapes)
//! are in `lapor-channels`.

pub mod deliver;
pub mod email;
pub mod hooks;
pub mod limits;
pub mod turn;
pub mod x_poll;

use lapor_channels::conversation::{Directory, Place};
use lapor_domain::report::Channel;
use lapor_store::{ChatTurn, TurnOutcome};
use serde::Deserialize;
use std::sync::{Arc, OnceLock};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelsConfig {
    pub telegram: Option<TelegramConfig>,
    pub line: Option<LineConfig>,
    pub whatsapp: Option<WhatsappConfig>,
    pub messenger: Option<MessengerConfig>,
    pub sms: Option<SmsConfig>,
    pub x: Option<XConfig>,
    pub email: Option<EmailConfig>,
    /// Messages one sender may send per minute on one channel.
    pub per_sender_per_minute: Option<u32>,
}

fn telegram_api() -> String {
    "https://api.telegram.org".into()
}
fn line_api() -> String {
    "https://api.line.me".into()
}
fn line_data_api() -> String {
    "https://api-data.line.me".into()
}
fn graph_api() -> String {
    "https://graph.facebook.com".into()
}
fn graph_version() -> String {
    "v21.0".into()
}
fn twilio_api() -> String {
    "https://api.twilio.com".into()
}
fn x_api() -> String {
    "https://api.x.com".into()
}
fn sms_sender() -> String {
    "1708".into()
}
fn poll_secs() -> u64 {
    60
}
fn smtp_bind() -> String {
    "127.0.0.1:2525".into()
}
fn relays() -> Vec<String> {
    vec!["127.0.0.1".into(), "::1".into()]
}
fn mail_max() -> usize {
    25 << 20
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    pub bot_token: String,
    /// The `secret_token` given to `setWebhook`.
    pub secret_token: String,
    #[serde(default = "telegram_api")]
    pub api_base: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineConfig {
    pub channel_secret: String,
    pub access_token: String,
    #[serde(default = "line_api")]
    pub api_base: String,
    #[serde(default = "line_data_api")]
    pub data_api_base: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsappConfig {
    pub app_secret: String,
    pub verify_token: String,
    pub access_token: String,
    pub phone_number_id: String,
    /// Approved template (one body parameter) for progress notices.
    pub notice_template: Option<String>,
    #[serde(default = "graph_api")]
    pub graph_base: String,
    #[serde(default = "graph_version")]
    pub graph_version: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessengerConfig {
    pub app_secret: String,
    pub verify_token: String,
    pub page_access_token: String,
    #[serde(default = "graph_api")]
    pub graph_base: String,
    #[serde(default = "graph_version")]
    pub graph_version: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// Shared secret of the generic inbound hook (`X-Lapor-Signature`).
    pub inbound_secret: Option<String>,
    /// Twilio-compatible inbound form: the auth token, and the exact public
    /// URL the gateway posts to (the signature covers it).
    pub twilio_auth_token: Option<String>,
    pub twilio_hook_url: Option<String>,
    /// How replies go out: `http` (the generic gateway), `twilio` or `smpp`.
    pub send_via: String,
    /// Our number or short code.
    #[serde(default = "sms_sender")]
    pub sender_id: String,
    pub http_send_url: Option<String>,
    pub http_send_token: Option<String>,
    pub twilio_account_sid: Option<String>,
    #[serde(default = "twilio_api")]
    pub twilio_api_base: String,
    pub smpp: Option<SmppConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmppConfig {
    /// `host:port` of the operator's SMSC.
    pub address: String,
    pub system_id: String,
    pub password: String,
    #[serde(default)]
    pub system_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XConfig {
    /// App bearer token, to read mentions.
    pub bearer_token: String,
    /// User-context OAuth 2.0 token of the account, to post replies.
    pub user_token: String,
    /// The account's numeric id and its handle (without `@`).
    pub account_id: String,
    pub account_handle: String,
    #[serde(default = "x_api")]
    pub api_base: String,
    #[serde(default = "poll_secs")]
    pub poll_secs: u64,
}

/// The inbound SMTP listener, behind the organisation's own MTA (see
/// docs/channels.md): it takes mail for `addresses` from `relays` only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    #[serde(default = "smtp_bind")]
    pub bind: String,
    /// The addresses citizens write to, e.g. `lapor@lapor.go.id`.
    pub addresses: Vec<String>,
    /// IP addresses of the MTAs allowed to hand mail over.
    #[serde(default = "relays")]
    pub relays: Vec<String>,
    #[serde(default = "mail_max")]
    pub max_bytes: usize,
    /// The authserv-id the MTA writes in `Authentication-Results`. Only a
    /// mail with `dmarc=pass` from it is acted on as its sender; without it
    /// every mail goes to the handler inbox unanswered (a forged From must
    /// not reply for someone or make us mail a stranger).
    pub authserv_id: Option<String>,
}

impl ChannelsConfig {
    /// One line per channel: on, or off and why, for the startup log.
    pub fn summary(&self) -> Vec<String> {
        let on = |name: &str, c: bool, how: &str| {
            if c {
                format!("{name}: on ({how})")
            } else {
                format!("{name}: off (not configured)")
            }
        };
        let sms_how = self
            .sms
            .as_ref()
            .map(|s| format!("replies via {}", s.send_via))
            .unwrap_or_default();
        vec![
            on("telegram", self.telegram.is_some(), "POST /hooks/telegram"),
            on("line", self.line.is_some(), "POST /hooks/line"),
            on("whatsapp", self.whatsapp.is_some(), "GET/POST /hooks/whatsapp"),
            on("messenger", self.messenger.is_some(), "GET/POST /hooks/messenger"),
            on(
                "sms",
                self.sms.is_some(),
                &format!("POST /hooks/sms, /hooks/sms/twilio; {sms_how}"),
            ),
            on("x", self.x.is_some(), "polling mentions"),
            on(
                "email",
                self.email.is_some(),
                &format!(
                    "SMTP on {}",
                    self.email.as_ref().map(|e| e.bind.as_str()).unwrap_or_default()
                ),
            ),
        ]
    }

    pub fn enabled(&self, ch: Channel) -> bool {
        match ch {
            Channel::Telegram => self.telegram.is_some(),
            Channel::Line => self.line.is_some(),
            Channel::Whatsapp => self.whatsapp.is_some(),
            Channel::Messenger => self.messenger.is_some(),
            Channel::Sms => self.sms.is_some(),
            Channel::Twitter => self.x.is_some(),
            Channel::Email => self.email.is_some(),
            _ => false,
        }
    }
}

/// Shared runtime of the channels: the HTTP client for platform APIs, the
/// per-sender limits, the place names the chatbot matches, and the SMPP
/// session when SMS goes out that way.
pub struct ChatRuntime {
    pub http: reqwest::Client,
    pub limits: limits::Limits,
    places: OnceLock<Arc<Places>>,
    pub smpp: tokio::sync::RwLock<Option<lapor_smpp::esme::Esme>>,
    committer: OnceLock<tokio::sync::mpsc::Sender<Pending>>,
}

/// A turn waiting for the next group commit, and who waits for its outcome.
type Pending = (
    ChatTurn,
    tokio::sync::oneshot::Sender<Result<TurnOutcome, lapor_domain::Error>>,
);

/// Turns committed together at most.
const MAX_BATCH: usize = 128;

impl Default for ChatRuntime {
    fn default() -> Self {
        ChatRuntime {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(20))
                .connect_timeout(std::time::Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            limits: limits::Limits::default(),
            places: OnceLock::new(),
            smpp: tokio::sync::RwLock::new(None),
            committer: OnceLock::new(),
        }
    }
}

impl ChatRuntime {
    /// Commits a turn together with whatever other turns are waiting: one
    /// transaction, so one disk flush, for all of them (SQLite flushes once
    /// per commit with `synchronous=FULL`; a flush per message would cap a
    /// node at the disk's flush rate). Returns once the turn is durable.
    pub async fn commit(
        &self,
        store: &Arc<dyn lapor_store::Store>,
        turn: ChatTurn,
    ) -> Result<TurnOutcome, lapor_domain::Error> {
        let queue = self.committer.get_or_init(|| group_committer(store.clone()));
        let (reply, outcome) = tokio::sync::oneshot::channel();
        if let Err(tokio::sync::mpsc::error::SendError((turn, _))) = queue.send((turn, reply)).await {
            return store.commit_turn(&turn).await;
        }
        outcome
            .await
            .unwrap_or_else(|_| Err(lapor_domain::Error::new(lapor_domain::ErrorCode::Unavailable)))
    }

    /// Province and regency/city names, loaded once from the store.
    pub async fn places(&self, store: &dyn lapor_store::Store) -> Result<Arc<Places>, lapor_domain::Error> {
        if let Some(p) = self.places.get() {
            return Ok(p.clone());
        }
        let mut all = Vec::new();
        for level in [1, 2] {
            let rows = store
                .regions(&lapor_store::RegionQuery {
                    parent: None,
                    level: Some(level),
                    name_contains: None,
                    limit: 2000,
                })
                .await?;
            all.extend(rows.into_iter().map(|r| Place {
                code: r.code,
                name: r.name,
            }));
        }
        let p = Arc::new(Places::new(all));
        Ok(self.places.get_or_init(|| p).clone())
    }
}

/// The task behind `ChatRuntime::commit`: takes every waiting turn (up to
/// `MAX_BATCH`) and commits them at once. If a batch fails, its turns are
/// committed one by one, so one bad turn cannot sink the others.
///
/// SQLite has one writer, so one committer. PostgreSQL commits in parallel
/// and each statement is a network round trip, so a few committers share
/// the queue: while one waits on the network another fills its batch.
fn group_committer(store: Arc<dyn lapor_store::Store>) -> tokio::sync::mpsc::Sender<Pending> {
    let (queue, waiting) = tokio::sync::mpsc::channel::<Pending>(4 * MAX_BATCH);
    let waiting = Arc::new(tokio::sync::Mutex::new(waiting));
    let committers = match store.backend() {
        lapor_store::Backend::Sqlite => 1,
        _ => 4,
    };
    for _ in 0..committers {
        tokio::spawn(commit_batches(store.clone(), waiting.clone()));
    }
    queue
}

async fn commit_batches(
    store: Arc<dyn lapor_store::Store>,
    waiting: Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Pending>>>,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    loop {
        if waiting.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        {
            let (turns, replies): (Vec<ChatTurn>, Vec<_>) = batch.drain(..).unzip();
            match store.commit_turns(&turns).await {
                Ok(outcomes) => {
                    for (reply, o) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(Ok(o));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, turns = turns.len(), "group commit failed; committing one by one");
                    for (reply, t) in replies.into_iter().zip(&turns) {
                        let _ = reply.send(store.commit_turn(t).await);
                    }
                }
            }
        }
    }
}

/// Region names for the chatbot's location step.
pub struct Places {
    all: Vec<(String, Place)>,
}

/// Words people leave out when typing a place name.
const PREFIXES: [&str; 5] = ["kabupaten ", "kab. ", "kab ", "kota ", "provinsi "];

fn fold(s: &str) -> String {
    s.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn bare(s: &str) -> &str {
    PREFIXES.iter().find_map(|p| s.strip_prefix(p)).unwrap_or(s)
}

impl Places {
    pub fn new(places: Vec<Place>) -> Places {
        Places {
            all: places.into_iter().map(|p| (fold(&p.name), p)).collect(),
        }
    }
}

impl Directory for Places {
    fn find_regions(&self, text: &str) -> Vec<Place> {
        let q = fold(text);
        if q.chars().count() < 3 {
            return Vec::new();
        }
        // An exact name wins ("kota bandung"); then the name without its
        // prefix ("bandung" → Kota and Kabupaten Bandung); then a prefix match.
        let exact: Vec<Place> = self
            .all
            .iter()
            .filter(|(n, _)| *n == q)
            .map(|(_, p)| p.clone())
            .collect();
        if !exact.is_empty() {
            return exact;
        }
        let bq = bare(&q);
        let same: Vec<Place> = self
            .all
            .iter()
            .filter(|(n, p)| bare(n) == bq && p.code.contains('.'))
            .map(|(_, p)| p.clone())
            .collect();
        if !same.is_empty() {
            return same;
        }
        self.all
            .iter()
            .filter(|(n, _)| bare(n).starts_with(bq))
            .map(|(_, p)| p.clone())
            .collect()
    }

    fn place_at(&self, lat: f64, lon: f64) -> Option<Place> {
        crate::web::report_form_geo()
            .and_then(|g| g.locate(lon, lat))
            .map(|p| Place {
                code: p.code.clone(),
                name: p.name.clone(),
            })
    }
}
