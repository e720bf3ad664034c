//! Persistence for Lapor. One `Store` trait, two backends: SQLite (the
//! embedded default) and PostgreSQL (production). Both share their SQL text
//! wherever the dialects agree; the implementation is written once and
//! expanded for each backend by `backend_impl!`.
//!
//! Every change that touches several rows (a report, its event, its outbox
//! messages, an audit entry) is committed in one transaction.

mod backend;
pub mod backup;
pub mod chat;
pub mod filter;
mod intake;
pub mod integration;
pub mod jobs;
pub mod overdue;
mod postgres;
pub mod reference_csv;
pub mod rollups;
mod sqlite;
pub mod testing;
pub mod ts;
pub mod types;
pub mod workspace;

use async_trait::async_trait;
use lapor_domain::event::Event;
use lapor_domain::ids::TrackingId;
use lapor_domain::institution::{Institution, Membership};
use lapor_domain::{Error, ErrorCode};
use std::sync::Arc;

pub use chat::*;
pub use filter::{ReportFilter, ReportPage};
pub use integration::*;
pub use jobs::*;
pub use postgres::PgStore;
pub use rollups::{AdminSeen, BulkReport, GroupBy, OverdueQuery, RollupQuery, Rollups};
pub use sqlite::SqliteStore;
pub use types::*;
pub use workspace::*;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The detail of the `conflict` error of a change whose idempotency key was
/// already used.
pub const DUPLICATE_ACTION: &str = "duplicate_action";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[async_trait]
pub trait Store: Workspace + Jobs + Chats + Integrations + Rollups + Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// Applies pending migrations; safe to call on every start.
    async fn migrate(&self) -> Result<Vec<i64>>;
    /// Quick liveness check.
    async fn ping(&self) -> Result<()>;

    // Reference data.
    async fn upsert_regions(&self, rows: &[Region]) -> Result<u64>;
    async fn region(&self, code: &str) -> Result<Option<Region>>;
    async fn regions(&self, q: &RegionQuery) -> Result<Vec<Region>>;
    /// Row counts per level 1..=4.
    async fn region_counts(&self) -> Result<[i64; 4]>;
    async fn upsert_institutions(&self, rows: &[Institution]) -> Result<u64>;
    async fn institution(&self, code: &str) -> Result<Option<Institution>>;
    async fn institutions(&self, q: &InstitutionQuery) -> Result<Vec<Institution>>;
    /// Codes from the root down to `code` (inclusive); empty if unknown.
    async fn institution_path(&self, code: &str) -> Result<Vec<String>>;
    async fn institution_count(&self) -> Result<i64>;
    async fn upsert_categories(&self, rows: &[Category]) -> Result<u64>;
    async fn categories(&self) -> Result<Vec<Category>>;

    // Accounts.
    async fn create_user(&self, user: &NewUser) -> Result<User>;
    async fn add_membership(&self, user_id: &str, m: &Membership) -> Result<()>;
    async fn user_by_login(&self, login: &str) -> Result<Option<(User, String)>>;
    async fn user(&self, id: &str) -> Result<Option<User>>;
    async fn create_token(&self, t: &NewToken) -> Result<()>;
    async fn user_by_token(&self, token_hash: &str, kind: TokenKind, now: ts::Ts) -> Result<Option<User>>;
    async fn delete_token(&self, token_hash: &str) -> Result<()>;

    // Reports.
    /// Commits a new report with its first event, the reporter identity (if
    /// new), and outbox messages. With an idempotency key that was already
    /// used, commits nothing and returns the existing report's id.
    async fn create_report(&self, new: &NewReport) -> Result<CreateOutcome>;
    async fn report(&self, id: &TrackingId) -> Result<Option<StoredReport>>;
    /// Appends events and stores the new projection if the stored version is
    /// still `expected_version`; otherwise fails with `stale_version`.
    async fn append(&self, change: &Change) -> Result<()>;
    async fn events(&self, id: &TrackingId) -> Result<Vec<Event>>;
    async fn list_reports(&self, f: &ReportFilter) -> Result<ReportPage>;
    /// Every report the filter matches (its limit and cursor ignored),
    /// newest first, as lean summaries sent in batches of
    /// [`EXPORT_BATCH`]. One read transaction (a streamed statement, or on
    /// SQLite keyset pages read as JSON, decision 0022), so memory stays
    /// flat however many match; the channel's capacity is the
    /// backpressure. Stops early, without error, when the receiver is
    /// dropped. Returns the rows read.
    async fn export_reports(&self, f: &ReportFilter, out: tokio::sync::mpsc::Sender<Vec<ReportSummary>>)
    -> Result<u64>;
    /// The newest `limit` reports the filter matches (its own limit and
    /// cursor ignored), newest first, with only their words and what a
    /// topic needs: one statement, not pages of whole reports.
    async fn report_texts(&self, f: &ReportFilter, limit: usize) -> Result<Vec<ReportText>>;
    async fn reporter(&self, id: &str) -> Result<Option<ReporterIdentity>>;
    async fn reporter_for_user(&self, user_id: &str) -> Result<Option<String>>;

    /// Returns the stored value, or stores `value` and returns it when the
    /// key is new (first writer wins, even across nodes).
    async fn setting_or_init(&self, key: &str, value: &str) -> Result<String>;
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` under `key`, replacing what was there.
    async fn put_setting(&self, key: &str, value: &str) -> Result<()>;

    // Audit and outbox.
    async fn write_audit(&self, e: &AuditEntry) -> Result<()>;
    async fn audit_entries(&self, target: Option<&str>, limit: i64) -> Result<Vec<AuditEntry>>;
    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxRow>>;
    async fn outbox_count(&self) -> Result<i64>;

    // Citizen features.
    async fn set_notification_prefs(&self, user_id: &str, email: bool, sms: bool) -> Result<()>;
    async fn attachments(&self, id: &TrackingId) -> Result<Vec<AttachmentMeta>>;
    async fn attachment(&self, attachment_id: &str) -> Result<Option<(AttachmentMeta, Vec<u8>)>>;
    /// Records a support; false when this supporter already supported it.
    async fn add_support(&self, id: &TrackingId, supporter: &str) -> Result<bool>;
    async fn has_supported(&self, id: &TrackingId, supporter: &str) -> Result<bool>;
    /// Support counts of the given reports (absent means zero).
    async fn support_counts(&self, ids: &[TrackingId]) -> Result<std::collections::HashMap<String, i64>>;
    async fn public_stats(&self) -> Result<PublicStats>;
    /// Rebuilds the search postings when `lapor_domain::search::VERSION`
    /// changed since they were written (or were never written). Calls
    /// `progress(done, total)` as it goes. Returns the reports re-indexed.
    /// Refreshes the query planner's statistics, after bulk loads.
    async fn analyze(&self) -> Result<()>;
    async fn ensure_search_index(&self, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<u64>;
}

/// Opens a store from a URL: `sqlite://path` (or `sqlite::memory:`) or
/// `postgres://…`.
pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, opts).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url, opts).await?))
    } else {
        Err(Error::with(
            ErrorCode::ValidationFailed,
            format!("database url: unsupported scheme in {url:?}"),
        ))
    }
}

/// Maps a driver error to the one error type: uniqueness and foreign-key
/// violations are the caller's fault (409/422), the rest is ours.
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::with(ErrorCode::Conflict, d.message().to_string())
        }
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => Error::with(
            ErrorCode::ValidationFailed,
            "reference to something that does not exist",
        ),
        sqlx::Error::PoolTimedOut => Error::new(ErrorCode::Unavailable),
        _ => {
            tracing::error!(error = %e, "database error");
            Error::internal(e.to_string())
        }
    }
}
