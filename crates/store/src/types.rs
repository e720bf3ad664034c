//! Values that cross the store boundary.

use crate::ts::Ts;
use lapor_domain::event::Event;
use lapor_domain::ids::TrackingId;
use lapor_domain::institution::{InstitutionKind, Membership};
use lapor_domain::report::Report;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections in the pool (readers, for SQLite; there is one writer).
    pub max_connections: u32,
    /// Durable commits: SQLite `synchronous=FULL` (WAL). PostgreSQL follows
    /// the server's `synchronous_commit`.
    pub durable: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            durable: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub code: String,
    /// 1 province, 2 regency/city, 3 district (kecamatan), 4 village (desa/kelurahan).
    pub level: i64,
    pub parent_code: Option<String>,
    pub name: String,
    pub postal_code: Option<String>,
}

impl Region {
    /// Level from the shape of a Kemendagri code: `32`, `32.73`, `32.73.01`, `32.73.01.1001`.
    pub fn level_of(code: &str) -> Option<i64> {
        let parts: Vec<&str> = code.split('.').collect();
        let ok = parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        let shape_ok = matches!(lens.as_slice(), [2] | [2, 2] | [2, 2, 2] | [2, 2, 2, 4]);
        (ok && shape_ok).then_some(parts.len() as i64)
    }
    pub fn parent_of(code: &str) -> Option<String> {
        code.rsplit_once('.').map(|(p, _)| p.to_string())
    }
}

#[derive(Debug, Clone, Default)]
pub struct RegionQuery {
    pub parent: Option<String>,
    pub level: Option<i64>,
    pub name_contains: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, Default)]
pub struct InstitutionQuery {
    /// Direct children of this code; `Some("")` means roots.
    pub parent: Option<String>,
    pub kind: Option<InstitutionKind>,
    pub name_contains: Option<String>,
    pub region_code: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub name_id: String,
    pub name_en: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: String,
    pub password_hash: String,
    pub is_staff: bool,
    pub memberships: Vec<Membership>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: String,
    pub is_staff: bool,
    pub memberships: Vec<Membership>,
    /// Citizen notification preferences (the delivery workers honour them).
    pub notify_email: bool,
    pub notify_sms: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Browser session, sent as a cookie.
    Session,
    /// API bearer token.
    Bearer,
    /// Password reset link sent by e-mail; used once.
    PasswordReset,
    /// Password checked, second factor still owed; used once.
    SecondFactor,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Bearer => "bearer",
            TokenKind::PasswordReset => "password_reset",
            TokenKind::SecondFactor => "second_factor",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewToken {
    /// SHA-256 of the secret token; the token itself is never stored.
    pub token_hash: String,
    pub user_id: String,
    pub kind: TokenKind,
    pub created_at: Ts,
    pub expires_at: Ts,
    /// The browser that opened a session, to tell sessions apart.
    pub user_agent: Option<String>,
}

/// Rows per batch of [`crate::Store::export_reports`].
pub const EXPORT_BATCH: usize = 1_000;

/// A report's words with just what a topic finder needs: the recurring
/// problems read up to thousands of these per page.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportText {
    pub tracking_id: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub title: String,
    pub body: String,
    pub channel: String,
    pub transfer_count: i64,
}

/// A report as exports list it: metadata only, never its words or its
/// reporter. Labels stay as stored (`status`, `classification`, `channel`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSummary {
    pub tracking_id: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub status: String,
    pub classification: String,
    pub category: Option<String>,
    pub channel: String,
    pub region_code: Option<String>,
    pub institution: Option<String>,
    pub unit: Option<String>,
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    pub first_response_at: Option<chrono::DateTime<chrono::Utc>>,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub rating: Option<i64>,
    pub transfer_count: i64,
    pub reopen_count: i64,
    pub anonymous: bool,
    pub confidential: bool,
}

/// Who filed a report, kept in its own table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReporterIdentity {
    pub id: String,
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A message that must leave the system (notification, webhook, reply),
/// keyed for idempotent delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub topic: String,
    pub key: String,
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub topic: String,
    pub key: String,
    pub payload: serde_json::Value,
    pub state: String,
    pub attempts: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at: chrono::DateTime<chrono::Utc>,
    pub user_id: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewReport {
    pub report: Report,
    pub event: Event,
    pub pin_hash: String,
    /// A reporter identity to insert with the report (None when anonymous
    /// without contact details, or when `report.reporter_id` already exists).
    pub new_reporter: Option<ReporterIdentity>,
    pub outbox: Vec<OutboxMessage>,
    pub idempotency_key: Option<String>,
    /// Files already sniffed and cleaned, stored in the same transaction.
    pub attachments: Vec<NewAttachment>,
    /// See [`Change::wake_at`].
    pub wake_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub id: String,
    pub media_type: String,
    pub filename: String,
    pub sha256: String,
    /// Shared: a submission is cloned into the intake queue.
    pub data: std::sync::Arc<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentMeta {
    pub id: String,
    pub tracking_id: String,
    pub seq: i64,
    /// The event the file came with (1: the submission).
    pub event_seq: i64,
    pub media_type: String,
    pub filename: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Headline numbers for the public home page.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PublicStats {
    pub reports: i64,
    pub completed: i64,
    pub in_progress: i64,
    pub institutions_involved: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The idempotency key was used before, for this report.
    Duplicate(TrackingId),
}

#[derive(Debug, Clone)]
pub struct StoredReport {
    pub report: Report,
    pub pin_hash: String,
}

/// A lifecycle change to commit atomically.
#[derive(Debug, Clone)]
pub struct Change {
    pub expected_version: i64,
    pub report: Report,
    pub events: Vec<Event>,
    pub outbox: Vec<OutboxMessage>,
    pub audit: Vec<AuditEntry>,
    /// Files that come with the last event (a follow-up's attachments).
    pub attachments: Vec<NewAttachment>,
    /// The title or body changed: rewrite the search postings.
    pub reindex: bool,
    /// When the deadline scheduler must next look at the report
    /// (`lapor_domain::sla::timers`); None when no timer runs.
    pub wake_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The sender's own id for this action: a second change with the same
    /// key commits nothing and fails with `conflict` / `duplicate_action`.
    pub idempotency_key: Option<String>,
    /// What the events add to the dashboards' rollups: computed by the
    /// caller with `lapor_domain::rollup::contributions` from the report's
    /// history (decision 0016), added in the same transaction.
    pub rollup: Vec<(lapor_domain::rollup::Cell, lapor_domain::rollup::Counters)>,
}

impl Change {
    /// A change that records one decided event and nothing else: no outbox,
    /// audit, files, timer or rollup. Tests and benchmarks start from it and
    /// set what they exercise; the server builds its changes in full.
    pub fn single_event(before: &Report, event: Event) -> Result<Change, lapor_domain::Error> {
        Ok(Change {
            expected_version: before.version,
            report: lapor_domain::lifecycle::apply(Some(before.clone()), &event)?,
            events: vec![event],
            outbox: vec![],
            audit: vec![],
            attachments: vec![],
            reindex: false,
            wake_at: None,
            idempotency_key: None,
            rollup: vec![],
        })
    }
}
