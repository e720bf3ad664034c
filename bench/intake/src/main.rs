//! Intake benchmark: N reports posted through the real HTTP API by C
//! concurrent clients, against SQLite and PostgreSQL, compared with the raw
//! ceiling measured in the same run (the same rows written through the store
//! directly, same durability), plus a fixed-rate pass at half the target
//! rate to read the latency a user would see.
//!
//!   cargo run --release -p lapor-bench-intake -- --reports 20000 --clients 32
//!
//! PostgreSQL is used when --pg-url (or LAPOR_TEST_PG_URL) is given; the
//! benchmark creates and drops its own database there.

use chrono::Utc;
use clap::Parser;
use lapor_domain::calendar::{Calendar, Zone};
use lapor_domain::event::{Actor, Submission};
use lapor_domain::ids::TrackingId;
use lapor_domain::lifecycle::{Ctx, apply, submit};
use lapor_domain::report::{Channel, Classification};
use lapor_domain::sla::SlaPolicy;
use lapor_server::{AppState, ServerConfig};
use lapor_store::testing::TestDb;
use lapor_store::{NewReport, OutboxMessage, ReporterIdentity, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Reports per measured pass.
    #[arg(long, default_value_t = 20_000)]
    reports: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: u64,
    /// Rate of the fixed-rate latency pass (reports/s); the target is half of 2,000.
    #[arg(long, default_value_t = 1_000)]
    rate: u64,
    /// Seconds of the fixed-rate pass.
    #[arg(long, default_value_t = 10)]
    rate_seconds: u64,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
    #[arg(long, env = "LAPOR_TEST_PG_URL")]
    pg_url: Option<String>,
}

struct Stats {
    count: u64,
    secs: f64,
    lat_ms: Vec<f64>,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.count as f64 / self.secs
    }
    fn pct(&self, p: f64) -> f64 {
        if self.lat_ms.is_empty() {
            return f64::NAN;
        }
        let mut v = self.lat_ms.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    }
}

fn body_json(i: u64) -> serde_json::Value {
    serde_json::json!({
        "classification": "pengaduan",
        "title": format!("Jalan berlubang nomor {i} di Kota Bandung"),
        "body": "Lubang besar di depan sekolah membahayakan pengendara motor setiap pagi, mohon segera diperbaiki.",
        "region_code": "32.73",
        "anonymous": i.is_multiple_of(3),
        "reporter": { "name": "Warga", "email": format!("warga{i}@contoh.id") }
    })
}

/// The same rows the HTTP handler writes, built the same way, for the ceiling.
fn raw_report(i: u64, cal: &Calendar, policy: &SlaPolicy) -> NewReport {
    let tid = TrackingId::from_random(rand_u64(i));
    // Same id scheme as the HTTP path.
    let rid = lapor_server::auth::new_id("r-");
    let now = Utc::now();
    let sub = Submission {
        classification: Classification::Pengaduan,
        needs_investigation: false,
        category: None,
        title: format!("Jalan berlubang nomor {i} di Kota Bandung"),
        body: "Lubang besar di depan sekolah membahayakan pengendara motor setiap pagi, mohon segera diperbaiki."
            .into(),
        incident_date: None,
        region_code: Some("32.73".into()),
        latitude: None,
        longitude: None,
        anonymous: i.is_multiple_of(3),
        confidential: false,
        channel: Channel::Api,
        reporter_id: Some(rid.clone()),
        suggested_institution: None,
        policy: policy.name.clone(),
        zone: Zone::Wib,
    };
    let ctx = Ctx {
        now,
        actor: Actor::Reporter { reporter_id: None },
        calendar: cal,
        policy,
    };
    let event = submit(tid.clone(), sub, &ctx);
    let report = apply(None, &event).unwrap();
    NewReport {
        wake_at: lapor_domain::sla::timers(&report, policy, cal).next(),
        report,
        event,
        pin_hash: format!("{:064x}", i),
        new_reporter: Some(ReporterIdentity {
            id: rid,
            user_id: None,
            name: Some("Warga".into()),
            email: Some(format!("warga{i}@contoh.id")),
            phone: None,
        }),
        outbox: vec![
            OutboxMessage {
                topic: "report.submitted".into(),
                key: format!("{tid}:1"),
                payload: serde_json::json!({"tracking_id": tid.as_str()}),
            },
            OutboxMessage {
                topic: "notify.reporter.receipt".into(),
                key: format!("{tid}:receipt"),
                payload: serde_json::json!({"tracking_id": tid.as_str()}),
            },
        ],
        idempotency_key: None,
        attachments: vec![],
    }
}

fn rand_u64(i: u64) -> u64 {
    // splitmix64 over a per-run seed: distinct ids without a shared RNG.
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let seed = *SEED.get_or_init(|| Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64);
    let mut z = seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

async fn raw_pass(store: Arc<dyn Store>, n: u64, clients: u64, offset: u64) -> Stats {
    let cal = Arc::new(Calendar::embedded());
    let policy = Arc::new(SlaPolicy::default());
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (store, next, cal, policy) = (store.clone(), next.clone(), cal.clone(), policy.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                let r = raw_report(offset + i, &cal, &policy);
                store.create_report(&r).await.unwrap();
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut lat_ms = Vec::new();
    for t in tasks {
        lat_ms.extend(t.await.unwrap());
    }
    Stats {
        count: n,
        secs: start.elapsed().as_secs_f64(),
        lat_ms,
    }
}

/// A deliberately small HTTP/1.1 keep-alive client, so that the load
/// generator (which shares the two cores with the server) spends as little
/// CPU as possible. It speaks only what this benchmark needs: a POST with a
/// JSON body, and a response with Content-Length.
struct Conn {
    stream: tokio::io::BufStream<tokio::net::TcpStream>,
    host: String,
}

impl Conn {
    async fn open(base: &str) -> Conn {
        let host = base.trim_start_matches("http://").to_string();
        let tcp = tokio::net::TcpStream::connect(&host).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        Conn {
            stream: tokio::io::BufStream::new(tcp),
            host,
        }
    }

    /// Returns the status code after reading the whole body.
    async fn post_json(&mut self, path: &str, body: &[u8]) -> u16 {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        self.stream.write_all(head.as_bytes()).await.unwrap();
        self.stream.write_all(body).await.unwrap();
        self.stream.flush().await.unwrap();
        let mut line = String::new();
        self.stream.read_line(&mut line).await.unwrap();
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let mut len = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap();
            }
        }
        let mut buf = vec![0u8; len];
        self.stream.read_exact(&mut buf).await.unwrap();
        status
    }
}

async fn http_pass(base: &str, n: u64, clients: u64, offset: u64) -> Stats {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, base) = (next.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&base).await;
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let body = serde_json::to_vec(&body_json(offset + i)).unwrap();
                let t = Instant::now();
                assert_eq!(conn.post_json("/api/v1/reports", &body).await, 201);
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut lat_ms = Vec::new();
    for t in tasks {
        lat_ms.extend(t.await.unwrap());
    }
    Stats {
        count: n,
        secs: start.elapsed().as_secs_f64(),
        lat_ms,
    }
}

/// Open-loop load: requests start on a fixed schedule whatever the latency,
/// so slow answers show up as latency rather than as a lower rate. Each
/// request takes a free connection from a pool (or opens one).
async fn fixed_rate_pass(base: &str, rate: u64, seconds: u64, offset: u64) -> Stats {
    let pool: Arc<std::sync::Mutex<Vec<Conn>>> = Arc::default();
    let total = rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let (pool, base) = (pool.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let body = serde_json::to_vec(&body_json(offset + i)).unwrap();
            let taken = pool.lock().unwrap().pop();
            let mut conn = match taken {
                Some(c) => c,
                None => Conn::open(&base).await,
            };
            assert_eq!(conn.post_json("/api/v1/reports", &body).await, 201);
            let ms = due.elapsed().as_secs_f64() * 1000.0;
            pool.lock().unwrap().push(conn);
            ms
        }));
    }
    let mut lat_ms = Vec::new();
    for t in tasks {
        lat_ms.push(t.await.unwrap());
    }
    Stats {
        count: total,
        secs: start.elapsed().as_secs_f64(),
        lat_ms,
    }
}

async fn bench(name: &str, db: TestDb, args: &Args) {
    lapor_store::testing::seed_reference(db.store.as_ref()).await;
    let state = AppState::new(
        db.store.clone(),
        Calendar::embedded(),
        vec![],
        ServerConfig::unthrottled(),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum_serve(listener, state).await });

    // Warm up both paths, then measure raw and HTTP alternately.
    raw_pass(db.store.clone(), 500, args.clients, 10_000_000).await;
    http_pass(&base, 500, args.clients, 20_000_000).await;
    let raw = raw_pass(db.store.clone(), args.reports, args.clients, 30_000_000).await;
    let http = http_pass(&base, args.reports, args.clients, 40_000_000).await;
    let fixed = fixed_rate_pass(&base, args.rate, args.rate_seconds, 50_000_000).await;
    println!(
        "{name:<9} raw store   {:>8.0} reports/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        raw.rate(),
        raw.pct(0.50),
        raw.pct(0.99)
    );
    println!(
        "{name:<9} HTTP intake {:>8.0} reports/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ratio to raw {:.2}",
        http.rate(),
        http.pct(0.50),
        http.pct(0.99),
        http.rate() / raw.rate()
    );
    println!(
        "{name:<9} fixed rate  {:>8.0} reports/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} s at {}/s)",
        fixed.rate(),
        fixed.pct(0.50),
        fixed.pct(0.99),
        args.rate_seconds,
        args.rate
    );
    let total = db.store.outbox_count().await.unwrap();
    println!("{name:<9} rows check: {total} outbox rows committed with the reports");
    db.close().await;
}

async fn axum_serve(listener: tokio::net::TcpListener, state: AppState) {
    let app = lapor_server::router(state);
    if let Err(e) = lapor_server::serve(listener, app).await {
        eprintln!("server: {e}");
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    println!(
        "intake benchmark: {} reports per pass, {} clients; durable commits (SQLite WAL synchronous=FULL, PostgreSQL synchronous_commit=on)",
        args.reports, args.clients
    );
    if args.backend == "sqlite" || args.backend == "both" {
        bench("sqlite", TestDb::sqlite().await, &args).await;
    }
    if args.backend == "postgres" || args.backend == "both" {
        match &args.pg_url {
            Some(url) => {
                // SAFETY: single-threaded at this point in main's flow; the
                // testing helper reads the URL from the environment.
                unsafe { std::env::set_var("LAPOR_TEST_PG_URL", url) };
                bench("postgres", TestDb::postgres().await.unwrap(), &args).await;
            }
            None => eprintln!("postgres skipped: pass --pg-url or set LAPOR_TEST_PG_URL"),
        }
    }
}
