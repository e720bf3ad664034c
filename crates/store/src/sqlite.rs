//! SQLite backend: the embedded default. WAL journal; one writer connection
//! (SQLite allows one writer at a time, so queueing in the pool beats
//! retrying on SQLITE_BUSY) and a pool of readers.

use lapor_domain::Error;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    pub(crate) writer: Pool<Sqlite>,
    pub(crate) reader: Pool<Sqlite>,
    pub(crate) intake: crate::intake::Intake,
    /// A shared lock on the database file while this store lives, so that
    /// `lapor restore` can tell the file is in use (`backup.rs`).
    _in_use: Option<std::fs::File>,
}

impl SqliteStore {
    const BACKEND: crate::Backend = crate::Backend::Sqlite;
    /// Take the write lock up front so a transaction never fails half-way
    /// on lock upgrade.
    /// Whether multi-row statements use `?` instead of `$N` (see backend.rs).
    const ANONYMOUS_PARAMS: bool = true;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    /// Search postings from a JSON array of `[term, sort_at_ms, doc]`.
    /// The rows of a JSON array of text bound at `#` (see `rollups::in_list`).
    /// One of a JSON set, in a form the planner seeks an index with.
    const SEEK_SET: &'static str = " IN (SELECT value FROM json_each(#))";
    const TEXT_SET: &'static str = "SELECT value FROM json_each(#)";
    /// The report export reads pages of rows as one JSON array each (`#`:
    /// the columns): sqlx hands SQLite's rows from its worker thread to the
    /// reader one by one, and that hand-over cost more than the reading
    /// (1,000,000 rows: about 9 s, against 2.3 s in the `sqlite3` shell).
    const EXPORT_PAGE: Option<&'static str> = Some("json_group_array(json_array(#))");
    /// The open reports, for "overdue now". SQLite's planner prefers
    /// reports_status_due and then reads every overdue report's row; the
    /// covering index answers alone (1,000,000 reports: 300 -> 60 ms). Its
    /// predicate is the query's own, so the hint can always be met.
    const OPEN_REPORTS: &'static str = "reports INDEXED BY reports_open_holder";
    /// The same, for a set of holders: looked up holder by holder.
    const OPEN_REPORTS_OF: &'static str = "reports INDEXED BY reports_open_by_holder";
    /// The day number (days since 1970-01-01 UTC) of `due_at`, and of the
    /// first day of its month (src/overdue.rs). `due_at` is in milliseconds.
    const DUE_DAY: &'static str = "(due_at / 86400000)";
    const DUE_MONTH: &'static str =
        "CAST(julianday(due_at / 1000, 'unixepoch', 'start of month') - 2440587.5 AS INTEGER)";
    const INSERT_POSTINGS: &'static str = "INSERT INTO report_terms (term, sort_at, doc) \
        SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each($1)";
    /// Whole-table statistics. Sampled ones (`analysis_limit`) read only an
    /// index's first rows, where the rollups' leading column (the grain)
    /// has one value: the planner then took every grain's rows of a
    /// period for a few holders' and walked all holders' days (1,000,000
    /// reports, an institution's category breakdown: 32 -> 1 ms with full
    /// statistics). A full pass costs about 7 s per million reports, once,
    /// after a bulk load. The write-ahead log is then folded back and
    /// emptied: until the next write restarts it, every page a reader
    /// fetches is first looked up among all of the log's frames, and a bulk
    /// load leaves gigabytes of them.
    const ANALYZE: &'static str = "PRAGMA analysis_limit = 0; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)";
    /// Bulk loads touch more index pages than the usual 64 MiB cache holds.
    const BULK_SETUP: &'static str = "PRAGMA cache_size = -1048576";
    /// The secondary indexes a bulk load may set aside: not unique (those
    /// guard data), not a key (`sql` is NULL for those).
    const SECONDARY_INDEXES: &'static str = "SELECT name, sql AS definition FROM sqlite_master \
        WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' \
        AND tbl_name IN ('reports', 'report_events', 'report_terms', 'rollups') ORDER BY name";
    /// Whether the table named by `$1` exists (1 or 0).
    const TABLE_EXISTS: &'static str = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
    /// Before making an index again: a large sort buffer, and a second
    /// core for the sort.
    const INDEX_SETUP: &'static str = "PRAGMA cache_size = -1048576; PRAGMA threads = 2";
    const BULK_RESET: &'static str = "PRAGMA cache_size = -65536";
    /// Appended to the outbox claim: rows another worker holds are skipped.
    const SKIP_LOCKED: &'static str = "";
    /// The changes feed: SQLite commits in id order, so the tx part is 0.
    const FEED_TX_TEXT: &'static str = "CAST(c.tx AS TEXT)";
    const FEED_TX_PARAM: &'static str = "CAST($2 AS INTEGER)";
    const FEED_VISIBLE: &'static str = "";
    const MIGRATIONS: &'static [(i64, &'static str)] = &[
        (1, include_str!("../migrations/sqlite/0001_init.sql")),
        (2, include_str!("../migrations/sqlite/0002_citizen.sql")),
        (3, include_str!("../migrations/sqlite/0003_workspace.sql")),
        (4, include_str!("../migrations/sqlite/0004_queue_category.sql")),
        (5, include_str!("../migrations/sqlite/0005_deadlines.sql")),
        (6, include_str!("../migrations/sqlite/0006_channels.sql")),
        (7, include_str!("../migrations/sqlite/0007_inbound_indexes.sql")),
        (8, include_str!("../migrations/sqlite/0008_integration.sql")),
        (9, include_str!("../migrations/sqlite/0009_rollups.sql")),
        (10, include_str!("../migrations/sqlite/0010_single_label_grains.sql")),
        (11, include_str!("../migrations/sqlite/0011_open_reports_by_holder.sql")),
        (12, include_str!("../migrations/both/0012_histogram_buckets.sql")),
        (
            13,
            include_str!("../migrations/both/0013_day_labels_and_national_rows.sql"),
        ),
        (14, include_str!("../migrations/sqlite/0014_rollups_clustered.sql")),
        (15, include_str!("../migrations/sqlite/0015_push_subscriptions.sql")),
        (
            16,
            include_str!("../migrations/both/0016_open_reports_by_holder_due.sql"),
        ),
        (17, include_str!("../migrations/both/0017_deferred_indexes.sql")),
        // 19 is followed by `recount_overdue` (see `migrate`).
        (19, include_str!("../migrations/sqlite/0019_overdue_tallies.sql")),
        (20, include_str!("../migrations/both/0020_unit_reports_by_date.sql")),
        (21, include_str!("../migrations/both/0021_public_reports_by_date.sql")),
    ];

    pub async fn open(url: &str, opts: &crate::StoreOptions) -> crate::Result<SqliteStore> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::validation(format!("database url: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Statement journals (needed inside multi-statement transactions)
            // stay in memory instead of a temporary file; a larger page cache
            // keeps the report indexes resident.
            .pragma("temp_store", "MEMORY")
            .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
            .synchronous(if opts.durable {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            });
        let base = if memory {
            base.shared_cache(true)
        } else {
            base.journal_mode(SqliteJournalMode::Wal)
        };
        // The checkpointer copies pages without keeping them.
        let checkpoint_opts = base.clone().pragma("cache_size", "-2048");
        // Each reader keeps its own copy of the pages it read: one budget
        // shared among them, so memory stops at a known size however many
        // readers are configured (the soak saw 9 caches of 64 MiB fill as
        // the database grew).
        let readers = opts.max_connections.max(1);
        // (Not below SQLite's own default of 2 MiB, past 128 readers.)
        let reader_kib = (READERS_CACHE_KIB / readers as u64).max(2048);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.clone())
            .await
            .map_err(crate::db_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.read_only(!memory).pragma("cache_size", format!("-{reader_kib}")))
            .await
            .map_err(crate::db_err)?;
        // Started only once the writer has put the file in WAL mode: two
        // connections switching the journal mode at once can fail with
        // "database is locked".
        let in_use = if memory {
            None
        } else {
            spawn_checkpointer(checkpoint_opts.clone());
            crate::backup::hold_shared(checkpoint_opts.get_filename())
        };
        let intake = crate::intake::Intake::start(std::sync::Arc::new(imp::Writer(writer.clone())), 1);
        Ok(SqliteStore {
            writer,
            reader,
            intake,
            _in_use: in_use,
        })
    }
}

/// The writer's page cache: the indexes every commit updates.
const WRITER_CACHE_KIB: u64 = 64 * 1024;
/// All readers' page caches together (the OS page cache holds the rest).
const READERS_CACHE_KIB: u64 = 256 * 1024;

/// Copies the WAL back into the database in the background, so that the
/// committing writer never stalls on an automatic checkpoint (that stall was
/// the tail of submission latency).
fn spawn_checkpointer(opts: SqliteConnectOptions) {
    tokio::spawn(async move {
        let Ok(pool) = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await else {
            return;
        };
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
    });
}

mod imp {
    use super::SqliteStore;
    crate::backend::backend_impl!(SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow);
    crate::workspace::workspace_impl!(SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow);
    crate::jobs::jobs_impl!(SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow);
    crate::integration::integrations_impl!(SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow);
    crate::chat::chats_impl!(SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow);
    crate::rollups::rollups_impl!(SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow);

    /// A bulk load's rollups: SQLite has no COPY, and its bound upserts run
    /// in-process (about 11 s for a million rows).
    async fn load_rollup_rows(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        rows: &BTreeMap<RollupKey, RollupCounters>,
    ) -> crate::Result<()> {
        add_rollup_rows(tx, rows).await
    }
}
