//! PostgreSQL backend: the production path.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Pool, Postgres};
use std::str::FromStr;
use std::time::Duration;

pub struct PgStore {
    pub(crate) writer: Pool<Postgres>,
    pub(crate) reader: Pool<Postgres>,
    pub(crate) intake: crate::intake::Intake,
}

impl PgStore {
    const BACKEND: crate::Backend = crate::Backend::Postgres;
    /// Whether multi-row statements use `?` instead of `$N` (see backend.rs).
    const ANONYMOUS_PARAMS: bool = false;
    const BEGIN_WRITE: &'static str = "BEGIN";
    /// The rows of a JSON array of text bound at `#` (see `rollups::in_list`).
    /// One of a JSON set, as an array PostgreSQL computes once and can then
    /// seek an index with (`= ANY`); `IN (subquery)` is only a filter, so a
    /// few holders' rollups were found by reading every holder's
    /// (1,000,000 reports, the regional governments' category breakdown:
    /// 110 -> 15 ms in `EXPLAIN ANALYZE`).
    const SEEK_SET: &'static str =
        " = ANY(ARRAY(SELECT value FROM jsonb_array_elements_text(CAST(# AS jsonb)) AS j(value)))";
    const TEXT_SET: &'static str = "SELECT value FROM jsonb_array_elements_text(CAST(# AS jsonb)) AS j(value)";
    /// The report export streams rows: they arrive in network batches.
    const EXPORT_PAGE: Option<&'static str> = None;
    /// The open reports, for "overdue now": the planner finds
    /// reports_open_holder itself.
    const OPEN_REPORTS: &'static str = "reports";
    /// The same, for a set of holders (reports_open_by_holder).
    const OPEN_REPORTS_OF: &'static str = "reports";
    /// The day number (days since 1970-01-01 UTC) of `due_at`, and of the
    /// first day of its month (src/overdue.rs).
    const DUE_DAY: &'static str = "CAST(floor(extract(epoch FROM due_at) / 86400) AS BIGINT)";
    const DUE_MONTH: &'static str =
        "CAST(CAST(date_trunc('month', due_at AT TIME ZONE 'UTC') AS date) - DATE '1970-01-01' AS BIGINT)";
    /// Search postings from a JSON array of `[term, sort_at_ms, doc]`.
    const INSERT_POSTINGS: &'static str = "INSERT INTO report_terms (term, sort_at, doc) \
        SELECT e ->> 0, timestamptz 'epoch' + (e ->> 1)::bigint * interval '1 millisecond', e ->> 2 \
        FROM jsonb_array_elements($1::jsonb) AS e";
    /// Also sets the visibility map, so postings are read from the index alone.
    const ANALYZE: &'static str = "VACUUM (ANALYZE)";
    /// Generated data is not worth a flush per batch.
    const BULK_SETUP: &'static str = "SET LOCAL synchronous_commit TO OFF";
    /// The secondary indexes a bulk load may set aside: not unique (those
    /// guard data, and keys are unique).
    const SECONDARY_INDEXES: &'static str = "SELECT c.relname AS name, pg_get_indexdef(x.indexrelid) AS definition \
        FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
        WHERE t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND NOT x.indisunique \
        AND t.relname IN ('reports', 'report_events', 'report_terms', 'rollups') ORDER BY c.relname";
    /// Whether the table named by `$1` exists (1 or 0).
    const TABLE_EXISTS: &'static str =
        "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1";
    /// Before making an index again: memory for the sort, and a parallel
    /// build.
    const INDEX_SETUP: &'static str =
        "SET LOCAL maintenance_work_mem = '1GB'; SET LOCAL max_parallel_maintenance_workers = 2";
    const BULK_RESET: &'static str = "SELECT 1";
    /// Appended to the outbox claim: rows another worker holds are skipped.
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    /// The changes feed: ordered by writing transaction, and only up to the
    /// oldest transaction still running (its rows may yet commit).
    const FEED_TX_TEXT: &'static str = "c.tx::text";
    const FEED_TX_PARAM: &'static str = "$2::text::xid8";
    const FEED_VISIBLE: &'static str = " AND c.tx < pg_snapshot_xmin(pg_current_snapshot())";
    const MIGRATIONS: &'static [(i64, &'static str)] = &[
        (1, include_str!("../migrations/postgres/0001_init.sql")),
        (2, include_str!("../migrations/postgres/0002_citizen.sql")),
        (3, include_str!("../migrations/postgres/0003_workspace.sql")),
        (4, include_str!("../migrations/postgres/0004_queue_category.sql")),
        (5, include_str!("../migrations/postgres/0005_deadlines.sql")),
        (6, include_str!("../migrations/postgres/0006_channels.sql")),
        (7, include_str!("../migrations/postgres/0007_inbound_indexes.sql")),
        (8, include_str!("../migrations/postgres/0008_integration.sql")),
        (9, include_str!("../migrations/postgres/0009_rollups.sql")),
        (10, include_str!("../migrations/postgres/0010_single_label_grains.sql")),
        (
            11,
            include_str!("../migrations/postgres/0011_open_reports_by_holder.sql"),
        ),
        (12, include_str!("../migrations/both/0012_histogram_buckets.sql")),
        (
            13,
            include_str!("../migrations/both/0013_day_labels_and_national_rows.sql"),
        ),
        // 14 clusters SQLite's rollups; PostgreSQL has no such step.
        (15, include_str!("../migrations/postgres/0015_push_subscriptions.sql")),
        (
            16,
            include_str!("../migrations/both/0016_open_reports_by_holder_due.sql"),
        ),
        (17, include_str!("../migrations/both/0017_deferred_indexes.sql")),
        (
            18,
            include_str!("../migrations/postgres/0018_open_by_holder_covering.sql"),
        ),
        // 19 is followed by `recount_overdue` (see `migrate`).
        (19, include_str!("../migrations/postgres/0019_overdue_tallies.sql")),
        (20, include_str!("../migrations/both/0020_unit_reports_by_date.sql")),
        (21, include_str!("../migrations/both/0021_public_reports_by_date.sql")),
    ];

    pub async fn open(url: &str, opts: &crate::StoreOptions) -> crate::Result<PgStore> {
        let co = PgConnectOptions::from_str(url)
            .map_err(|e| lapor_domain::Error::validation(format!("database url: {e}")))?;
        let co = Self::without_loopback_tls(url, co);
        // No JIT compilation: Lapor's statements are short, and a dashboard
        // read over a large table crossed the JIT cost threshold and spent
        // 49 of its 158 ms compiling (1,000,000 reports, EXPLAIN ANALYZE).
        let co = co.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(co)
            .await
            .map_err(crate::db_err)?;
        // One pool serves both: PostgreSQL handles concurrent writers itself.
        let intake = crate::intake::Intake::start(std::sync::Arc::new(imp::Writer(pool.clone())), 3);
        Ok(PgStore {
            writer: pool.clone(),
            reader: pool,
            intake,
        })
    }

    /// No TLS to a server on this machine unless the URL asks for it
    /// (decision 0017). TLS over loopback protects nothing, and with sqlx
    /// 0.9.0, which leaves Nagle's algorithm on, it splits every statement
    /// over 16 KB into two writes; the second waits for the server's delayed
    /// ACK, 40 ms a statement. That made bulk writes 13 times slower.
    fn without_loopback_tls(url: &str, co: PgConnectOptions) -> PgConnectOptions {
        let explicit = url.contains("sslmode=") || url.contains("ssl-mode=");
        let loopback = matches!(co.get_host(), "localhost" | "127.0.0.1" | "::1" | "[::1]");
        if loopback && !explicit {
            co.ssl_mode(sqlx::postgres::PgSslMode::Disable)
        } else {
            co
        }
    }

    /// The pool, for tests and tools that need raw access.
    pub fn pool(&self) -> &Pool<Postgres> {
        &self.writer
    }
}

mod imp {
    use super::PgStore;
    crate::backend::backend_impl!(PgStore, sqlx::Postgres, sqlx::postgres::PgRow);
    crate::workspace::workspace_impl!(PgStore, sqlx::Postgres, sqlx::postgres::PgRow);
    crate::jobs::jobs_impl!(PgStore, sqlx::Postgres, sqlx::postgres::PgRow);
    crate::integration::integrations_impl!(PgStore, sqlx::Postgres, sqlx::postgres::PgRow);
    crate::chat::chats_impl!(PgStore, sqlx::Postgres, sqlx::postgres::PgRow);
    crate::rollups::rollups_impl!(PgStore, sqlx::Postgres, sqlx::postgres::PgRow);

    /// Bytes of COPY data sent at a time.
    const COPY_CHUNK: usize = 4 << 20;

    /// A bulk load's rollups: COPY into a staging table, then one upsert.
    /// As multi-row INSERTs of 61 bound values a row they went in at about
    /// 25,000 rows/s, 270 s of the generator's load of 1,000,000 reports
    /// (decision 0023).
    async fn load_rollup_rows(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        rows: &BTreeMap<RollupKey, RollupCounters>,
    ) -> crate::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let all = rollup_row_columns();
        // Dropped with the transaction, committed or not.
        sqlx::raw_sql("CREATE TEMP TABLE rollup_stage (LIKE rollups) ON COMMIT DROP")
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        let mut copy = tx
            .copy_in_raw(&format!("COPY rollup_stage ({all}) FROM STDIN"))
            .await
            .map_err(db_err)?;
        let mut buf = Vec::with_capacity(COPY_CHUNK + 4096);
        for (k, c) in rows {
            copy_row(&mut buf, k, &counter_values(c));
            if buf.len() >= COPY_CHUNK {
                copy.send(std::mem::take(&mut buf)).await.map_err(db_err)?;
                buf.reserve(COPY_CHUNK + 4096);
            }
        }
        copy.send(buf).await.map_err(db_err)?;
        copy.finish().await.map_err(db_err)?;
        let upsert = format!(
            "INSERT INTO rollups ({all}) SELECT {all} FROM rollup_stage {}",
            rollup_add_on_conflict()
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(upsert))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// One line of COPY's text format: the key, then the values.
    fn copy_row(buf: &mut Vec<u8>, k: &RollupKey, values: &[i64]) {
        use std::io::Write;
        copy_text(buf, k.grain.as_str());
        let _ = write!(buf, "\t{}", k.period);
        for s in [&k.institution, &k.classification, &k.category, &k.channel] {
            buf.push(b'\t');
            copy_text(buf, s);
        }
        for v in values {
            let _ = write!(buf, "\t{v}");
        }
        buf.push(b'\n');
    }

    /// Text with COPY's escapes: backslash, and the separators it uses.
    fn copy_text(buf: &mut Vec<u8>, s: &str) {
        for b in s.bytes() {
            match b {
                b'\\' => buf.extend_from_slice(b"\\\\"),
                b'\t' => buf.extend_from_slice(b"\\t"),
                b'\n' => buf.extend_from_slice(b"\\n"),
                b'\r' => buf.extend_from_slice(b"\\r"),
                _ => buf.push(b),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PgStore;
    use sqlx::postgres::{PgConnectOptions, PgSslMode};
    use std::str::FromStr;

    fn mode(url: &str) -> PgSslMode {
        PgStore::without_loopback_tls(url, PgConnectOptions::from_str(url).unwrap()).get_ssl_mode()
    }

    #[test]
    fn tls_is_dropped_only_for_this_machine_and_only_when_not_asked_for() {
        assert!(matches!(mode("postgres://u@127.0.0.1:5432/db"), PgSslMode::Disable));
        assert!(matches!(mode("postgres://u@localhost/db"), PgSslMode::Disable));
        assert!(matches!(mode("postgres://u@db.example.go.id/db"), PgSslMode::Prefer));
        assert!(matches!(
            mode("postgres://u@127.0.0.1/db?sslmode=require"),
            PgSslMode::Require
        ));
    }
}
