//! "Deadlines that bite" benchmark, per backend:
//!
//! 1. **Scheduler pass over N open reports** (default 1,000,000) whose
//!    timers (`wake_at`) are spread over about 60 days; `now` is put where
//!    0.5 % of them are due. Timed: the query a pass starts with,
//!    `Jobs::reports_to_wake(now, 500)` (the partial index `reports_wake`),
//!    against the same rows found by a full scan (`wake_at + 0` defeats the
//!    index; both plans are checked and printed), and one whole
//!    `deadlines::run_pass` (wake up to 500 reports, commit their events).
//! 2. **Delivery to a local SMTP sink** (`lapor-mailsink`): M staff e-mail
//!    jobs queued in the outbox and drained by `worker::run_batch` loops (one,
//!    then `--workers` at once), end to end (claim → send → finish), against
//!    the raw SMTP ceiling: the same M messages sent straight through the
//!    same e-mail channel by 32 tasks, no database. The sink checks that
//!    every key arrived once. A smaller mixed run adds
//!    `notify.reporter.update` jobs (load report, events and reporter,
//!    render the template) for seeded reports that have a reporter.
//!
//!   LAPOR_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p lapor-bench-web --bin deadlines -- \
//!     --reports 1000000 --notifications 20000 --backend both
//!
//! PostgreSQL is used when LAPOR_TEST_PG_URL is set; the benchmark creates
//! and drops its own database there.

use chrono::{Duration as CDuration, Utc};
use clap::Parser;
use lapor_bench_web::{Fixture, load, next_backend, pct, submission, summary};
use lapor_domain::calendar::Calendar;
use lapor_mailsink::{MailSink, SinkOptions};
use lapor_server::notify::email::EmailChannel;
use lapor_server::notify::{Channel, Channels, Outgoing};
use lapor_server::worker::{Counters, WorkerConfig, run_batch};
use lapor_server::{AppState, ServerConfig};
use lapor_store::testing::TestDb;
use lapor_store::ts::Ts;
use lapor_store::{OutboxMessage, ReporterIdentity};
use sqlx::{PgPool, Row, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Open reports with timers.
    #[arg(long, default_value_t = 1_000_000)]
    reports: u64,
    /// Staff e-mail jobs per delivery run.
    #[arg(long, default_value_t = 20_000)]
    notifications: usize,
    /// Timed repetitions of the pass query and of its scan baseline.
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// Worker loops draining the queue together in the second delivery run.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
}

/// Share of the reports whose timer is due at the measured `now`.
const DUE_FRACTION: f64 = 0.005;
/// Every 50th report has a reporter with an e-mail address (mixed run).
const REPORTER_EVERY: u64 = 50;
/// What a pass asks for (`deadlines::PASS_LIMIT`).
const LIMIT: i64 = lapor_server::deadlines::PASS_LIMIT;
/// Senders in flight: the worker's per-batch concurrency and the channel's pool.
const SENDERS: usize = 32;
const FROM: &str = "Lapor <no-reply@lapor.test>";

/// The store's own query (`Jobs::reports_to_wake`), for EXPLAIN.
const WAKE_SQL: &str = "SELECT tracking_id FROM reports WHERE wake_at <= $1 ORDER BY wake_at LIMIT $2";
// The baselines order by the same expression too: ordered by plain
// `wake_at`, PostgreSQL walks the index anyway and stops after 500 rows.
const SCAN_SQLITE: &str = "SELECT tracking_id FROM reports WHERE wake_at + 0 <= $1 ORDER BY wake_at + 0 LIMIT $2";
// timestamptz has no `+ integer`; adding a zero interval does the same.
const SCAN_PG: &str = "SELECT tracking_id FROM reports WHERE wake_at + interval '0 seconds' <= $1 \
                       ORDER BY wake_at + interval '0 seconds' LIMIT $2";

/// Raw SQL beside the store (SqliteStore has no pool accessor and the store
/// is a trait object here): a second pool on the same database.
enum Raw {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

impl Raw {
    async fn open(url: &str) -> Raw {
        if url.starts_with("sqlite:") {
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .expect("sqlite url")
                .read_only(true)
                // The store's readers have the same cache: a fair baseline.
                .pragma("cache_size", "-65536");
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await
                .expect("raw sqlite pool");
            Raw::Sqlite(pool)
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .expect("raw postgres pool");
            Raw::Pg(pool)
        }
    }

    /// Rows of the baseline query (same result as the pass query).
    async fn scan(&self, now: Ts) -> usize {
        // Decoded as the store decodes its ids, so both do the same work.
        let ids: Vec<String> = match self {
            Raw::Sqlite(p) => sqlx::query_scalar(SCAN_SQLITE).bind(now).bind(LIMIT).fetch_all(p).await,
            Raw::Pg(p) => sqlx::query_scalar(SCAN_PG).bind(now).bind(LIMIT).fetch_all(p).await,
        }
        .expect("scan");
        ids.len()
    }

    async fn due(&self, now: Ts) -> i64 {
        let sql = "SELECT COUNT(*) FROM reports WHERE wake_at <= $1";
        match self {
            Raw::Sqlite(p) => sqlx::query_scalar(sql).bind(now).fetch_one(p).await,
            Raw::Pg(p) => sqlx::query_scalar(sql).bind(now).fetch_one(p).await,
        }
        .expect("count due")
    }

    /// Seeded reports that have a reporter, for `notify.reporter.update`.
    async fn with_reporter(&self, limit: usize) -> Vec<String> {
        let sql = "SELECT tracking_id FROM reports WHERE reporter_id IS NOT NULL ORDER BY tracking_id LIMIT $1";
        let limit = limit as i64;
        match self {
            Raw::Sqlite(p) => sqlx::query_scalar(sql).bind(limit).fetch_all(p).await,
            Raw::Pg(p) => sqlx::query_scalar(sql).bind(limit).fetch_all(p).await,
        }
        .expect("reports with a reporter")
    }

    /// The plan as the docs show it: SQLite's query plan tree, PostgreSQL's
    /// plan as executed with buffer counts.
    async fn explain(&self, sql: &str, now: Ts) -> Vec<String> {
        match self {
            Raw::Sqlite(p) => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                    .bind(now)
                    .bind(LIMIT)
                    .fetch_all(p)
                    .await
                    .expect("explain");
                // Indent each step under its parent, like the sqlite3 shell.
                let mut depth = std::collections::HashMap::new();
                rows.iter()
                    .map(|r| {
                        let (id, parent): (i64, i64) = (r.get(0), r.get(1));
                        let d = depth.get(&parent).map_or(0, |d| d + 1);
                        depth.insert(id, d);
                        format!("{}{}", "  ".repeat(d), r.get::<String, _>(3))
                    })
                    .collect()
            }
            Raw::Pg(p) => sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN (ANALYZE, BUFFERS) {sql}")))
                .bind(now)
                .bind(LIMIT)
                .fetch_all(p)
                .await
                .expect("explain")
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect(),
        }
    }

    /// Whether a plan reads the `reports_wake` index, and whether the
    /// baseline's plan really scans the table.
    fn plan_ok(&self, indexed: &[String], scan: &[String]) -> bool {
        let uses_index = |plan: &[String]| plan.iter().any(|l| l.contains("reports_wake"));
        let scans = match self {
            Raw::Sqlite(_) => scan
                .iter()
                .any(|l| l.starts_with("SCAN reports") || l.contains(" SCAN reports")),
            Raw::Pg(_) => scan.iter().any(|l| l.contains("Seq Scan on reports")),
        };
        uses_index(indexed) && !uses_index(scan) && scans
    }

    async fn close(self) {
        match self {
            Raw::Sqlite(p) => p.close().await,
            Raw::Pg(p) => p.close().await,
        }
    }
}

/// One staff e-mail, the same for the worker runs and the raw baseline.
fn staff_mail(i: usize) -> (String, String, String) {
    (
        format!("staf{}@lapor.test", i % 500),
        format!("Pengingat: laporan #{i} mendekati batas waktu"),
        format!(
            "Yth. Petugas,\n\nLaporan #{i} harus ditindaklanjuti sebelum batas waktu \
             verifikasi. Buka ruang kerja untuk memprosesnya.\n\nSalam,\nLapor"
        ),
    )
}

fn staff_job(tag: &str, i: usize) -> OutboxMessage {
    let (to, subject, text) = staff_mail(i);
    OutboxMessage {
        topic: "notify.staff.email".into(),
        key: format!("bench:{tag}:{i}"),
        payload: serde_json::json!({ "to": to, "subject": subject, "text": text }),
    }
}

/// A fresh sink (so its key counts are this run's) and a channel to it.
async fn sink() -> (MailSink, Arc<dyn Channel>) {
    let sink = MailSink::start(
        "127.0.0.1:0",
        SinkOptions {
            keep_raw: false,
            ..Default::default()
        },
    )
    .await
    .expect("mail sink");
    let ch = EmailChannel::new(&format!("smtp://{}", sink.addr()), FROM, SENDERS as u32).expect("e-mail channel");
    (sink, Arc::new(ch))
}

/// What a delivery run did, as the sink saw it.
struct Delivery {
    messages: usize,
    secs: f64,
    distinct: usize,
    duplicates: usize,
    failed: u64,
}

impl Delivery {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.secs
    }
    fn ok(&self) -> bool {
        self.distinct == self.messages && self.duplicates == 0 && self.failed == 0
    }
    fn line(&self, name: &str, base: Option<&Delivery>) -> String {
        let ratio = base.map_or(String::new(), |b| {
            format!(
                "   / raw = {:.2}x   target ≥ 1000/s: {}",
                self.rate() / b.rate(),
                if self.rate() >= 1000.0 { "met" } else { "MISSED" }
            )
        });
        format!(
            "  {name:<44} {:>6} in {:6.2} s = {:7.0} /s   sink: {} distinct, {} dup, {} failed{}{ratio}",
            self.messages,
            self.secs,
            self.rate(),
            self.distinct,
            self.duplicates,
            self.failed,
            if self.ok() { "" } else { "  CHECK FAILED" },
        )
    }
}

/// Queues `msgs` (untimed), then times `loops` worker loops draining the
/// queue until a claim comes back empty.
async fn deliver(state: &AppState, msgs: &[OutboxMessage], loops: usize) -> Delivery {
    let (sink, ch) = sink().await;
    let mut state = state.clone();
    state.channels = Arc::new(Channels::default().with(ch));
    for chunk in msgs.chunks(1000) {
        state.store.enqueue(chunk).await.expect("enqueue");
    }
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..loops.max(1) {
        let (state, counters) = (state.clone(), counters.clone());
        set.spawn(async move {
            let cfg = WorkerConfig::default();
            while run_batch(&state, &cfg, &counters).await.expect("worker batch") > 0 {}
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("worker loop");
    }
    let secs = started.elapsed().as_secs_f64();
    // The sink records a message before it answers, so this should not wait.
    sink.wait_for(msgs.len(), Duration::from_secs(10)).await;
    Delivery {
        messages: msgs.len(),
        secs,
        distinct: sink.distinct_keys(),
        duplicates: sink.duplicates(),
        failed: [&counters.retried, &counters.dead, &counters.undeliverable]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum(),
    }
}

/// The SMTP ceiling: the same messages through the same channel by the same
/// number of senders, without the outbox.
async fn raw_smtp(m: usize) -> Delivery {
    let (sink, ch) = sink().await;
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..SENDERS {
        let (ch, next, failed) = (ch.clone(), next.clone(), failed.clone());
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= m {
                    return;
                }
                let (to, subject, text) = staff_mail(i);
                let msg = Outgoing {
                    key: format!("bench:raw:{i}"),
                    to,
                    subject,
                    text,
                    in_reply_to: None,
                };
                if ch.send(&msg).await.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("sender");
    }
    let secs = started.elapsed().as_secs_f64();
    sink.wait_for(m, Duration::from_secs(10)).await;
    Delivery {
        messages: m,
        secs,
        distinct: sink.distinct_keys(),
        duplicates: sink.duplicates(),
        failed: failed.load(Ordering::Relaxed),
    }
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// "p50 … p95 … max …" of timings in ms.
fn lat(xs: &[f64]) -> String {
    let s = summary(xs.to_vec());
    let max = pct(&mut xs.to_vec(), 1.0);
    format!("p50 {:8.2} ms  p95 {:8.2} ms  max {:8.2} ms", s.p50, s.p95, max)
}

/// Returns the table lines and whether every check passed.
async fn run(name: &str, db: TestDb, args: &Args) -> (Vec<String>, bool) {
    let store = db.store.clone();
    let fx = Fixture::seed(&store).await;
    eprintln!("[{name}] loading {} open reports…", args.reports);
    // Submitted over 60 days, so their first timers spread over 60 days too.
    let start = Utc::now() - CDuration::days(3);
    let step_ms = 60.0 * 86_400_000.0 / args.reports as f64;
    let mut wakes = Vec::with_capacity(args.reports as usize);
    let mut first_seq = 1;
    let secs = load(&store, args.reports, |rng, i| {
        let at = start + CDuration::milliseconds((i as f64 * step_ms) as i64);
        let (mut r, _) = submission(&fx, rng, i, at);
        if i % REPORTER_EVERY == 1 {
            let id = format!("r-bench-{i}");
            r.report.reporter_id = Some(id.clone());
            r.new_reporter = Some(ReporterIdentity {
                id,
                user_id: None,
                name: Some(format!("Pelapor {i}")),
                email: Some(format!("pelapor{i}@lapor.test")),
                phone: None,
            });
        }
        wakes.extend(r.wake_at);
        first_seq = r.event.seq;
        r
    })
    .await;
    store.analyze().await.expect("analyze");
    // `now` where the chosen share of timers has come due. Deadlines end a
    // working day, so a day's submissions fall due together: the share due
    // is the whole block the quantile lands in (about one working day's).
    wakes.sort();
    let now = wakes[((wakes.len() as f64 * DUE_FRACTION) as usize).min(wakes.len() - 1)];
    let now_ts = Ts::new(now);
    let raw = Raw::open(&db.url).await;
    let due = raw.due(now_ts).await;

    // 1. The pass query against the scan, interleaved so both see the same
    // cache state; two untimed rounds warm them up.
    let (mut idx, mut scan) = (Vec::new(), Vec::new());
    let (mut rows, mut scan_rows) = (0, 0);
    for round in 0..args.repeats + 2 {
        let t = Instant::now();
        rows = store
            .reports_to_wake(now_ts, LIMIT)
            .await
            .expect("reports_to_wake")
            .len();
        let a = ms_since(t);
        let t = Instant::now();
        scan_rows = raw.scan(now_ts).await;
        let b = ms_since(t);
        if round >= 2 {
            idx.push(a);
            scan.push(b);
        }
    }
    let explain = raw.explain(WAKE_SQL, now_ts).await;
    let explain_scan = raw
        .explain(
            if matches!(raw, Raw::Sqlite(_)) {
                SCAN_SQLITE
            } else {
                SCAN_PG
            },
            now_ts,
        )
        .await;
    let plans_ok = raw.plan_ok(&explain, &explain_scan) && rows == scan_rows;

    // 2. Delivery: worker loops, raw SMTP, then the mixed run.
    let state = AppState::new(store.clone(), Calendar::embedded(), vec![], ServerConfig::unthrottled())
        .await
        .expect("state");
    let m = args.notifications;
    eprintln!("[{name}] delivering {m} notifications…");
    let raw_mail = raw_smtp(m).await;
    let one: Vec<_> = (0..m).map(|i| staff_job("w1", i)).collect();
    let single = deliver(&state, &one, 1).await;
    let many = if args.workers > 1 {
        let msgs: Vec<_> = (0..m).map(|i| staff_job("wn", i)).collect();
        Some(deliver(&state, &msgs, args.workers).await)
    } else {
        None
    };
    let reporters = raw.with_reporter(m / 4).await;
    let mut mixed_msgs = Vec::with_capacity(reporters.len() * 2);
    for (i, tid) in reporters.iter().enumerate() {
        mixed_msgs.push(OutboxMessage {
            topic: "notify.reporter.update".into(),
            key: format!("{tid}:{first_seq}:reporter"),
            payload: serde_json::json!({ "tracking_id": tid, "seq": first_seq, "status": "submitted" }),
        });
        mixed_msgs.push(staff_job("mixed", i));
    }
    let mixed = deliver(&state, &mixed_msgs, args.workers).await;

    // 3. One whole scheduler pass, last: it changes reports and queues mail.
    eprintln!("[{name}] running one scheduler pass…");
    let t = Instant::now();
    let stats = lapor_server::deadlines::run_pass(&state, now).await.expect("pass");
    let pass_ms = ms_since(t);
    raw.close().await;
    db.close().await;

    let p95 = summary(idx.clone()).p95;
    let (p50_idx, p50_scan) = (summary(idx.clone()).p50, summary(scan.clone()).p50);
    let mut lines = vec![
        format!(
            "{name}: {} open reports loaded in {secs:.0} s; {due} due at now = {} ({:.2} %, one deadline block), pass limit {LIMIT}, {} rounds",
            args.reports,
            now.format("%Y-%m-%d %H:%M UTC"),
            100.0 * due as f64 / args.reports as f64,
            args.repeats
        ),
        format!(
            "  {:<44} {}   {rows} rows",
            "pass query reports_to_wake (index)",
            lat(&idx)
        ),
        format!(
            "  {:<44} {}   {scan_rows} rows",
            "baseline: same rows by full scan",
            lat(&scan)
        ),
        format!(
            "  {:<44} {:.4}x (the scan takes {:.1}x as long)   target p95 < 1000 ms: {}",
            "index / scan (p50)",
            p50_idx / p50_scan,
            p50_scan / p50_idx,
            if p95 < 1000.0 { "met" } else { "MISSED" }
        ),
        format!(
            "  {:<44} {pass_ms:8.1} ms: woken {}, reminded {}, escalated {}, auto-completed {}, ombudsman {}, skipped {}, failed {}",
            "one full pass (run_pass)",
            stats.woken,
            stats.reminded,
            stats.escalated,
            stats.auto_completed,
            stats.ombudsman_offered,
            stats.skipped,
            stats.failed
        ),
        format!(
            "  plans: index used by the pass query, table scanned by the baseline, same rows: {}",
            if plans_ok { "yes" } else { "NO — CHECK FAILED" }
        ),
        raw_mail.line(&format!("baseline: raw SMTP, {SENDERS} senders, no db"), None),
        single.line("outbox → worker (1 loop) → SMTP", Some(&raw_mail)),
    ];
    if let Some(many) = &many {
        lines.push(many.line(
            &format!("outbox → worker ({} loops) → SMTP", args.workers),
            Some(&raw_mail),
        ));
    }
    lines.push(mixed.line(
        &format!("mixed: {} reporter updates + staff mail", reporters.len()),
        Some(&raw_mail),
    ));
    let kind = if matches!(name, "SQLite") {
        "EXPLAIN QUERY PLAN"
    } else {
        "EXPLAIN (ANALYZE, BUFFERS)"
    };
    lines.push(format!("  {kind} {WAKE_SQL}"));
    lines.extend(explain.iter().map(|l| format!("    {l}")));
    lines.push("  baseline plan:".into());
    lines.extend(explain_scan.iter().map(|l| format!("    {l}")));
    let ok = plans_ok
        && raw_mail.ok()
        && single.ok()
        && many.as_ref().is_none_or(Delivery::ok)
        && mixed.ok()
        && stats.failed == 0;
    (lines, ok)
}

/// CPU count and model, for the record.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let n = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{n} × {model}")
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut lines = vec![
        format!(
            "lapor-bench-web deadlines: {} open reports, {} notifications per delivery run",
            args.reports, args.notifications
        ),
        format!("machine: {}; {}", machine(), Utc::now().format("%Y-%m-%d %H:%M UTC")),
    ];
    let (mut done, mut ok) = (0, true);
    while let Some((name, db)) = next_backend(&args.backend, done).await {
        done += 1;
        match db {
            Some(db) => {
                let (l, good) = run(name, db, &args).await;
                lines.extend(l);
                ok &= good;
            }
            None => lines.push(format!("{name}: skipped (set LAPOR_TEST_PG_URL)")),
        }
    }
    println!("{}", lines.join("\n"));
    if !ok {
        std::process::exit(1);
    }
}
