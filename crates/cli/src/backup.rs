//! `lapor backup FILE` and `lapor restore FILE`.
//!
//! SQLite: an online snapshot (`VACUUM INTO`) checked page by page; a
//! restore puts a checked backup in place of the database file, refused
//! while a server or worker has it open.
//!
//! PostgreSQL: `pg_dump --format=custom` (a consistent snapshot taken in one
//! transaction while the server keeps writing), and `pg_restore` in one
//! transaction, refused while other sessions use the database.
//! docs/operations.md covers the rest (schedules, WAL archiving).

use lapor_store::backup::{self, Summary};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

pub async fn backup(url: &str, dest: &Path, progress: bool) -> Result<String, String> {
    let started = Instant::now();
    if is_sqlite(url) {
        let src = backup::sqlite_path(url).map_err(|e| e.to_string())?;
        let total = file_len(&src) + file_len(&wal_of(&src));
        let bar = progress.then(|| bytes_bar(total, "backup"));
        let work = backup::sqlite_snapshot(url, dest);
        tokio::pin!(work);
        let done = loop {
            tokio::select! {
                r = &mut work => break r,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {
                    if let Some(b) = &bar { b.set_position(file_len(dest).min(total)); }
                }
            }
        };
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        done.map_err(|e| e.to_string())?;
        let s = backup::sqlite_check(dest).await.map_err(|e| e.to_string())?;
        Ok(format!(
            "backup: {} ({}) in {:.1} s, checked",
            dest.display(),
            describe(&s),
            started.elapsed().as_secs_f64()
        ))
    } else {
        if dest.exists() {
            return Err(format!(
                "{}: exists already; a backup never overwrites a file",
                dest.display()
            ));
        }
        let path = dest.to_str().ok_or("backup path: not valid UTF-8")?;
        run_tool(
            "pg_dump",
            &["--format=custom", "--no-owner", "--file", path, "--dbname", url],
            progress,
        )?;
        // Read the archive's table of contents back: a truncated or foreign
        // file fails here, not on the day it is needed.
        let toc = run_tool("pg_restore", &["--list", path], false)?;
        let tables = toc.lines().filter(|l| l.contains(" TABLE DATA ")).count();
        Ok(format!(
            "backup: {} ({} tables, {} bytes) in {:.1} s, checked",
            dest.display(),
            tables,
            file_len(dest),
            started.elapsed().as_secs_f64()
        ))
    }
}

pub async fn restore(url: &str, file: &Path, progress: bool) -> Result<String, String> {
    let started = Instant::now();
    if is_sqlite(url) {
        let s = backup::sqlite_install(file, url).await.map_err(|e| e.to_string())?;
        Ok(format!(
            "restore: {} ({}) in {:.1} s; the previous database is kept as *.before-restore",
            file.display(),
            describe(&s),
            started.elapsed().as_secs_f64()
        ))
    } else {
        if !file.is_file() {
            return Err(format!("{}: no such file", file.display()));
        }
        let others = backup::pg_other_sessions(url).await.map_err(|e| e.to_string())?;
        if others > 0 {
            return Err(format!(
                "the database has {others} other session(s): stop `lapor serve` and `lapor worker` first"
            ));
        }
        let path = file.to_str().ok_or("backup path: not valid UTF-8")?;
        run_tool(
            "pg_restore",
            &[
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                url,
                path,
            ],
            progress,
        )?;
        let s = backup::pg_summary(url).await.map_err(|e| e.to_string())?;
        Ok(format!(
            "restore: {} ({}) in {:.1} s",
            file.display(),
            describe(&s),
            started.elapsed().as_secs_f64()
        ))
    }
}

fn describe(s: &Summary) -> String {
    format!(
        "{} reports, {} events, schema {}, {} bytes",
        s.reports, s.events, s.schema_version, s.bytes
    )
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn wal_of(p: &Path) -> std::path::PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push("-wal");
    s.into()
}

fn bytes_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(total);
    b.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} [{{bar:40.cyan/blue}}] {{bytes}}/{{total_bytes}} ({{eta}})"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}

/// Runs a PostgreSQL client tool; its standard output on success, its
/// error text otherwise. A spinner shows it is alive on long dumps.
fn run_tool(tool: &str, args: &[&str], progress: bool) -> Result<String, String> {
    let spinner = progress.then(|| {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_message(format!("{tool} …"));
        s.enable_steady_tick(Duration::from_millis(120));
        s
    });
    let out = Command::new(tool).args(args).output();
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let out = out.map_err(|e| {
        format!("{tool}: {e} (install the PostgreSQL client tools, e.g. `apt-get install postgresql-client`)")
    })?;
    if !out.status.success() {
        return Err(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
