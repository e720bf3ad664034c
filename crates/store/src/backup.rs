//! SQLite backups for `lapor backup` and `lapor restore` (PostgreSQL's are
//! made with `pg_dump`, which the CLI runs).
//!
//! A backup is `VACUUM INTO`: one read transaction over the live database,
//! so it is a consistent snapshot taken while the server keeps writing. A
//! restore replaces the database file, which is only safe with no process
//! holding it open: every `SqliteStore` keeps a shared `flock` on its file
//! for as long as it lives (SQLite's own locks are `fcntl` locks, which
//! `flock` does not touch), and a restore needs the exclusive one.

use crate::{Error, Result};
use lapor_domain::ErrorCode;
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// What a backup file holds, read back from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub reports: i64,
    pub events: i64,
    /// The newest migration applied.
    pub schema_version: i64,
    pub bytes: u64,
}

/// The database file named by a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> Result<PathBuf> {
    let opts = SqliteConnectOptions::from_str(url).map_err(|e| Error::validation(format!("database url: {e}")))?;
    let path = opts.get_filename();
    if path.as_os_str().is_empty() || url.contains(":memory:") || url.contains("mode=memory") {
        return Err(Error::validation("an in-memory database has no file to back up"));
    }
    Ok(path.to_path_buf())
}

/// The shared lock a process holds on a database file while it uses it.
pub(crate) fn hold_shared(path: &Path) -> Option<File> {
    let f = File::open(path).ok()?;
    // Best effort: a filesystem without flock must not stop the server.
    f.lock_shared().ok()?;
    Some(f)
}

/// Writes a consistent copy of the live database at `url` to `dest`, which
/// must not exist yet.
pub async fn sqlite_snapshot(url: &str, dest: &Path) -> Result<()> {
    let src = sqlite_path(url)?;
    if !src.exists() {
        return Err(Error::with(
            ErrorCode::NotFound,
            format!("{}: no such database", src.display()),
        ));
    }
    if dest.exists() {
        return Err(Error::with(
            ErrorCode::Conflict,
            format!("{}: exists already; a backup never overwrites a file", dest.display()),
        ));
    }
    let dest_str = dest
        .to_str()
        .ok_or_else(|| Error::validation("backup path: not valid UTF-8"))?;
    let mut conn = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&src)
            .read_only(true)
            .busy_timeout(std::time::Duration::from_secs(30)),
    )
    .await
    .map_err(crate::db_err)?;
    sqlx::query("VACUUM INTO ?")
        .bind(dest_str)
        .execute(&mut conn)
        .await
        .map_err(crate::db_err)?;
    let _ = conn.close().await;
    // The copy is a plain file: make it durable before saying it exists.
    File::open(dest).and_then(|f| f.sync_all()).map_err(io_err)?;
    Ok(())
}

/// Checks a backup (or any database file) page by page and reads what it
/// holds. Refuses a file that is not an intact Lapor database.
pub async fn sqlite_check(path: &Path) -> Result<Summary> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| Error::with(ErrorCode::NotFound, format!("{}: {e}", path.display())))?
        .len();
    let mut head = [0u8; 16];
    use std::io::Read;
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map_err(|_| not_lapor(path, "too short to be a database"))?;
    if &head != b"SQLite format 3\0" {
        return Err(not_lapor(path, "not an SQLite database"));
    }
    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(path).read_only(true))
        .await
        .map_err(crate::db_err)?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check(1)")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| not_lapor(path, &e.to_string()))?;
    if verdict != "ok" {
        return Err(not_lapor(path, &format!("damaged: {verdict}")));
    }
    let mut read = async |sql: &str| -> Result<i64> {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .map_err(|_| not_lapor(path, "no Lapor tables"))
    };
    let summary = Summary {
        schema_version: read("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").await?,
        reports: read("SELECT COUNT(*) FROM reports").await?,
        events: read("SELECT COUNT(*) FROM report_events").await?,
        bytes,
    };
    let _ = conn.close().await;
    Ok(summary)
}

/// Puts a checked backup in place of the database at `url`. Refused while
/// any process (a server, a worker) has the database open. The old file is
/// kept beside it as `<name>.before-restore`.
pub async fn sqlite_install(backup: &Path, url: &str) -> Result<Summary> {
    let summary = sqlite_check(backup).await?;
    let target = sqlite_path(url)?;
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err)?;
    // Held until the new file is in place, so nothing opens the old one
    // in between.
    let _guard = match OpenOptions::new().read(true).open(&target) {
        Ok(f) => {
            if f.try_lock().is_err() {
                return Err(Error::with(
                    ErrorCode::Conflict,
                    format!(
                        "{} is in use: stop `lapor serve` and `lapor worker` first",
                        target.display()
                    ),
                ));
            }
            Some(f)
        }
        Err(_) => None,
    };
    // Copy next to the target, make it durable, then rename over: a crash
    // leaves either the old database or the new one, never half of one.
    let staging = with_suffix(&target, ".restoring");
    std::fs::copy(backup, &staging).map_err(io_err)?;
    File::open(&staging).and_then(|f| f.sync_all()).map_err(io_err)?;
    if target.exists() {
        std::fs::copy(&target, with_suffix(&target, ".before-restore")).map_err(io_err)?;
    }
    // The old database's write-ahead log belongs to the old file: left
    // beside the new one, SQLite would replay it into it.
    for s in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(&target, s));
    }
    std::fs::rename(&staging, &target).map_err(io_err)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err)?;
    Ok(summary)
}

/// Sessions on the PostgreSQL database at `url` other than this one.
pub async fn pg_other_sessions(url: &str) -> Result<i64> {
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(crate::db_err)?;
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(crate::db_err)?;
    let _ = conn.close().await;
    Ok(n)
}

/// What the PostgreSQL database at `url` holds (after a restore).
pub async fn pg_summary(url: &str) -> Result<Summary> {
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(crate::db_err)?;
    let mut read = async |sql: &str| -> Result<i64> {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .map_err(crate::db_err)
    };
    let summary = Summary {
        schema_version: read("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").await?,
        reports: read("SELECT COUNT(*) FROM reports").await?,
        events: read("SELECT COUNT(*) FROM report_events").await?,
        bytes: read("SELECT pg_database_size(current_database())").await? as u64,
    };
    let _ = conn.close().await;
    Ok(summary)
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn not_lapor(path: &Path, why: &str) -> Error {
    Error::validation(format!("{}: not a usable Lapor backup ({why})", path.display()))
}

fn io_err(e: std::io::Error) -> Error {
    Error::internal(format!("file: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_urls() {
        assert_eq!(
            sqlite_path("sqlite://data/lapor.db").unwrap(),
            PathBuf::from("data/lapor.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/lapor/lapor.db?mode=rwc").unwrap(),
            PathBuf::from("/var/lib/lapor/lapor.db")
        );
        assert!(sqlite_path("sqlite::memory:").is_err());
    }

    #[tokio::test]
    async fn check_refuses_what_is_not_a_lapor_database() {
        let dir = std::env::temp_dir().join(format!("lapor-backup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("text.db");
        std::fs::write(&text, "not a database at all, just some words").unwrap();
        assert_eq!(sqlite_check(&text).await.unwrap_err().code, ErrorCode::ValidationFailed);
        // An SQLite file without Lapor's tables.
        let empty = dir.join("empty.db");
        let _ = std::fs::remove_file(&empty);
        let mut c =
            SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&empty).create_if_missing(true))
                .await
                .unwrap();
        sqlx::query("CREATE TABLE t (x)").execute(&mut c).await.unwrap();
        c.close().await.unwrap();
        assert_eq!(
            sqlite_check(&empty).await.unwrap_err().code,
            ErrorCode::ValidationFailed
        );
        // Truncated halfway: damaged.
        let bytes = std::fs::read(&empty).unwrap();
        let cut = dir.join("cut.db");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        assert!(sqlite_check(&cut).await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
