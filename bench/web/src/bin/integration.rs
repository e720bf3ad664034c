//! Integration benchmark, per backend.
//!
//! 1. Webhook delivery: `--reports` reports dispositioned to a connected
//!    institution, each with `--events` events, so every event is one
//!    delivery to a local receiver (loopback HTTP, answers 204). The worker
//!    claims the earliest pending event of each report, signs it with
//!    HMAC-SHA256, POSTs it, and records the attempt. Baseline, same run:
//!    the raw HTTP ceiling, the same number of POSTs of the same size with
//!    the same concurrency, no database and no signing.
//! 2. Changes feed: the same events read back through
//!    `GET /api/v1/integration/changes` with the opaque cursor, 1,000 per
//!    page, over HTTP. Baseline: a raw keyset scan of the same number of
//!    `report_events` rows through sqlx.
//!
//!   LAPOR_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p lapor-bench-web --bin integration -- --backend both

use chrono::Utc;
use clap::Parser;
use lapor_bench_web::{Fixture, next_backend, submission};
use lapor_domain::calendar::Calendar;
use lapor_domain::event::Actor;
use lapor_domain::institution::Role;
use lapor_domain::lifecycle::{Command, Ctx, InstitutionTarget, decide};
use lapor_domain::report::Report;
use lapor_server::integration::webhooks::{DeliveryConfig, run_batch_at};
use lapor_server::{AppState, ServerConfig};
use lapor_store::{Change, SigningSecret, Store, WebhookSubscription};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 5000)]
    reports: u64,
    /// Events per report that reach the institution (a disposition, then notes).
    #[arg(long, default_value_t = 4)]
    events: u64,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
}

const CITY: &str = "pemkot-32.73";

async fn receiver() -> (String, Arc<AtomicU64>) {
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |_body: axum::body::Bytes| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, count)
}

/// The change the server would append, rollup contributions included (so the
/// bench pays the history read the service pays).
fn change(fx: &Fixture, r: &Report, history: &[lapor_domain::event::Event], cmd: Command) -> Change {
    let ctx = Ctx {
        now: Utc::now(),
        actor: Actor::Staff {
            user_id: "u-bench".into(),
            role: Role::NationalAdmin,
            institution: "lapor".into(),
        },
        calendar: &fx.cal,
        policy: &fx.policy,
    };
    let e = decide(r, &cmd, &ctx).expect("decide");
    let rollup = lapor_domain::rollup::contributions(history, std::slice::from_ref(&e), &fx.cal);
    Change {
        rollup,
        ..Change::single_event(r, e).expect("apply")
    }
}

/// Reports dispositioned to the city, each followed by notes: every event
/// after the submission is one feed row and one delivery per subscription.
async fn make_events(store: &Arc<dyn Store>, fx: &Arc<Fixture>, reports: u64, events: u64) -> f64 {
    let mut ancestors = store.institution_path(CITY).await.expect("path");
    ancestors.pop();
    let mut made = Vec::new();
    lapor_bench_web::load(store, reports, |rng, i| {
        let (n, _) = submission(fx, rng, i, Utc::now());
        made.push(n.report.clone());
        n
    })
    .await;
    let started = Instant::now();
    let chunks: Vec<Vec<Report>> = made
        .chunks(made.len().div_ceil(64).max(1))
        .map(|c| c.to_vec())
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for chunk in chunks {
        let store = store.clone();
        let fx = fx.clone();
        let ancestors = ancestors.clone();
        set.spawn(async move {
            for mut r in chunk {
                for k in 0..events {
                    let cmd = if k == 0 {
                        Command::Disposition {
                            to: InstitutionTarget {
                                code: CITY.into(),
                                kind: lapor_domain::institution::InstitutionKind::City,
                                zone: lapor_domain::calendar::Zone::Wib,
                                ancestors: ancestors.clone(),
                            },
                            classification: None,
                            needs_investigation: None,
                            category: None,
                            note: None,
                        }
                    } else {
                        Command::AddNote {
                            body: format!("Catatan tindak lanjut nomor {k} untuk laporan ini."),
                        }
                    };
                    let history = store.events(&r.tracking_id).await.expect("history");
                    let c = change(&fx, &r, &history, cmd);
                    store.append(&c).await.expect("append");
                    r = c.report;
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("task");
    }
    started.elapsed().as_secs_f64()
}

async fn raw_http(url: &str, n: u64, body_len: usize, concurrency: usize) -> f64 {
    let client = reqwest::Client::new();
    let body = vec![b'x'; body_len];
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (client, url, body, sem) = (client.clone(), url.to_string(), body.clone(), sem.clone());
        set.spawn(async move {
            let _p = sem.acquire_owned().await;
            let r = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            assert!(r.expect("post").status().is_success());
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("task");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut done = 0;
    while let Some((name, db)) = next_backend(&args.backend, done).await {
        done += 1;
        let Some(db) = db else {
            eprintln!("[{name}] LAPOR_TEST_PG_URL not set: skipped");
            continue;
        };
        let store = db.store.clone();
        let fx = Arc::new(Fixture::seed(&store).await);
        store.set_integration_mode(CITY, "connected").await.expect("mode");
        let (url, received) = receiver().await;
        store
            .create_subscription(&WebhookSubscription {
                id: "wh-bench".into(),
                institution: CITY.into(),
                url: url.clone(),
                secrets: vec![SigningSecret {
                    secret: lapor_integration::webhook::Secret::from_random([7; 32]).expose(),
                    expires_at: None,
                }],
                active: true,
                created_at: Utc::now(),
                created_by: None,
            })
            .await
            .expect("subscribe");
        let n = args.reports * args.events;
        eprintln!("[{name}] making {n} events on {} reports…", args.reports);
        let make_s = make_events(&store, &fx, args.reports, args.events).await;

        let state = AppState::new(store.clone(), Calendar::embedded(), vec![], ServerConfig::unthrottled())
            .await
            .expect("state");
        let cfg = DeliveryConfig::default();
        eprintln!("[{name}] delivering…");
        let started = Instant::now();
        let mut batches = 0;
        loop {
            let k = run_batch_at(&state, &cfg, Utc::now()).await.expect("batch");
            if k == 0 {
                break;
            }
            batches += 1;
        }
        let deliver_s = started.elapsed().as_secs_f64();
        let got = received.load(Ordering::Relaxed);
        assert_eq!(got, n, "every event delivered once");
        let body_len = 420;
        let raw = raw_http(&url, n, body_len, cfg.concurrency).await;

        // The changes feed over HTTP, with a client key.
        let key = lapor_server::integration::clients::create(
            store.as_ref(),
            CITY,
            "bench",
            &[lapor_integration::client::Scope::ReportsRead],
            None,
        )
        .await
        .expect("client")
        .key;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(lapor_server::serve(listener, lapor_server::router(state.clone())));
        let http = reqwest::Client::new();
        let started = Instant::now();
        let mut cursor = String::new();
        let mut read = 0u64;
        loop {
            let url = if cursor.is_empty() {
                format!("{base}/api/v1/integration/changes?limit=1000")
            } else {
                format!("{base}/api/v1/integration/changes?limit=1000&cursor={cursor}")
            };
            let page: serde_json::Value = http
                .get(url)
                .bearer_auth(&key)
                .send()
                .await
                .expect("get")
                .json()
                .await
                .expect("json");
            read += page["items"].as_array().map_or(0, |a| a.len() as u64);
            cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
            if page["has_more"] != serde_json::json!(true) {
                break;
            }
        }
        let feed_s = started.elapsed().as_secs_f64();
        assert_eq!(read, n, "the feed holds every event");
        // Raw keyset scan of the same number of event rows.
        let started = Instant::now();
        let mut last = 0i64;
        let mut scanned = 0u64;
        let url = db.url.clone();
        let raw_rows = if url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
            while scanned < n {
                let rows: Vec<(i64, String, String)> = sqlx::query_as(
                    "SELECT id, tracking_id, CAST(data AS TEXT) FROM report_events WHERE id > ? ORDER BY id LIMIT 1000",
                )
                .bind(last)
                .fetch_all(&pool)
                .await
                .expect("scan");
                if rows.is_empty() {
                    break;
                }
                last = rows.last().map_or(last, |r| r.0);
                scanned += rows.len() as u64;
            }
            scanned
        } else {
            let pool = sqlx::PgPool::connect(&url).await.expect("pg");
            while scanned < n {
                let rows: Vec<(i64, String, String)> = sqlx::query_as(
                    "SELECT id, tracking_id, data::text FROM report_events WHERE id > $1 ORDER BY id LIMIT 1000",
                )
                .bind(last)
                .fetch_all(&pool)
                .await
                .expect("scan");
                if rows.is_empty() {
                    break;
                }
                last = rows.last().map_or(last, |r| r.0);
                scanned += rows.len() as u64;
            }
            scanned
        };
        let raw_feed = raw_rows as f64 / started.elapsed().as_secs_f64();

        let rate = n as f64 / deliver_s;
        let feed = read as f64 / feed_s;
        println!(
            "\n== {name}: {n} events on {} reports ({} each); made in {make_s:.1} s",
            args.reports, args.events
        );
        println!(
            "  webhooks: {rate:.0} deliveries/s ({batches} batches of ≤{}, {} in flight, in order per report, signed, logged)",
            cfg.batch, cfg.concurrency
        );
        println!(
            "  raw HTTP ceiling (same POSTs, no database, no signing): {raw:.0}/s; ratio {:.2}",
            rate / raw
        );
        println!(
            "  target 1,000 deliveries/s: {}",
            if rate >= 1000.0 { "met" } else { "NOT met" }
        );
        println!("  changes feed over HTTP: {feed:.0} changes/s (pages of 1,000, opaque cursor)");
        println!(
            "  raw keyset scan of report_events (sqlx, no HTTP/JSON): {raw_feed:.0} rows/s; ratio {:.2}",
            feed / raw_feed
        );
        println!(
            "  target 10,000 changes/s: {}",
            if feed >= 10_000.0 { "met" } else { "NOT met" }
        );
        db.close().await;
    }
}
