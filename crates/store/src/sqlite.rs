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
}

impl SqliteStore {
    const BACKEND: crate::Backend = crate::Backend::Sqlite;
    /// Take the write lock up front so a transaction never fails half-way
    /// on lock upgrade.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const MIGRATIONS: &'static [(i64, &'static str)] = &[(1, include_str!("../migrations/sqlite/0001_init.sql"))];

    pub async fn open(url: &str, opts: &crate::StoreOptions) -> crate::Result<SqliteStore> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::validation(format!("database url: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
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
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.clone())
            .await
            .map_err(crate::db_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.read_only(!memory))
            .await
            .map_err(crate::db_err)?;
        Ok(SqliteStore { writer, reader })
    }
}

mod imp {
    use super::SqliteStore;
    crate::backend::backend_impl!(SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow);
}
