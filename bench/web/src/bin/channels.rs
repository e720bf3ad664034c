//! Channels benchmark, per backend: WhatsApp Cloud API webhooks over real
//! HTTP into a real Lapor server, each going through the whole turn: the
//! `X-Hub-Signature-256` HMAC check, parsing, the redelivery check, the
//! block list, the per-sender limits, one chatbot step, and one commit of
//! the inbound record, the conversation and the reply's outbox row.
//!
//! Open loop: message i is due at `i / rate` seconds and its latency counts
//! from then, so a slow server cannot hide its backlog (no coordinated
//! omission). `--senders` chats each walk the guided submission (menu →
//! report → classification → title → description), one message at a time.
//!
//! Baseline, same run: the raw ceiling of that commit, `Chats::commit_turn`
//! with equal rows from 64 tasks, no HTTP, no signature, no chatbot.
//!
//!   LAPOR_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p lapor-bench-web --bin channels -- \
//!     --rate 1000 --seconds 20 --backend both

use chrono::Utc;
use clap::Parser;
use lapor_bench_web::{next_backend, summary};
use lapor_domain::calendar::Calendar;
use lapor_server::channels::{ChannelsConfig, WhatsappConfig};
use lapor_server::{AppState, ServerConfig};
use lapor_store::{ChatTurn, ConversationWrite, InboundRecord, OutboxMessage, Store, TurnOutcome};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Messages per second offered.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Seconds of offered load.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Distinct chats.
    #[arg(long, default_value_t = 4000)]
    senders: u64,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
}

const SECRET: &str = "bench-app-secret";
const BASELINE_TASKS: u64 = 64;

/// The five messages of a guided submission, as WhatsApp sends them.
fn step(k: u64) -> Value {
    let button = |id: &str| json!({ "type": "interactive", "interactive": { "type": "button_reply", "button_reply": { "id": id, "title": id } } });
    let text = |t: &str| json!({ "type": "text", "text": { "body": t } });
    match k % 5 {
        0 => text("halo"),
        1 => button("report"),
        2 => button("c:pengaduan"),
        3 => text("Jalan berlubang di depan Pasar Kosambi"),
        _ => text("Lubang besar di jalur kiri sudah dua minggu, motor sering terjatuh saat hujan malam hari."),
    }
}

fn phone(sender: u64) -> String {
    format!("628{:09}", 100_000_000 + sender)
}

fn webhook(i: u64, sender: u64, k: u64) -> Vec<u8> {
    let mut m = step(k);
    let from = phone(sender);
    m["from"] = json!(from);
    m["id"] = json!(format!("wamid.B{i}"));
    m["timestamp"] = json!(Utc::now().timestamp().to_string());
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "1708", "phone_number_id": "1122334455667" },
            "contacts": [{ "profile": { "name": "Warga" }, "wa_id": from }],
            "messages": [m]
        }}]}]
    }))
    .expect("json")
}

struct Run {
    sent: u64,
    failed: u64,
    wall: f64,
    lat: Vec<f64>,
}

async fn offered_load(base: &str, args: &Args) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .expect("client");
    let n = args.rate * args.seconds;
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let (sender, k) = (i % args.senders, i / args.senders);
        let body = webhook(i, sender, k);
        let sig = lapor_channels::signature::meta_sign(SECRET, &body);
        let due = start + Duration::from_secs_f64(i as f64 / args.rate as f64);
        let client = client.clone();
        let url = format!("{base}/hooks/whatsapp");
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(due).await;
            let r = client
                .post(url)
                .header("x-hub-signature-256", sig)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            let ok = match r {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            (ok, due.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut run = Run {
        sent: n,
        failed: 0,
        wall: 0.0,
        lat: Vec::with_capacity(n as usize),
    };
    for t in tasks {
        let (ok, ms) = t.await.expect("task");
        if !ok {
            run.failed += 1;
        }
        run.lat.push(ms);
    }
    run.wall = (tokio::time::Instant::now() - start).as_secs_f64();
    run
}

/// The same rows a turn commits, straight into the store.
async fn raw_ceiling(store: Arc<dyn Store>, messages: u64, senders: u64) -> (f64, Vec<f64>) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..BASELINE_TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            // Each chat belongs to one task, as on the server (one message
            // of a chat at a time), and walks its steps in order.
            let steps = messages / senders;
            for k in 0..steps {
                for s in (t..senders).step_by(BASELINE_TASKS as usize) {
                    let sender = senders + s; // not the HTTP run's chats
                    let i = k * senders + s;
                    let now = Utc::now();
                    let turn = ChatTurn {
                        inbound: InboundRecord {
                            channel: "whatsapp".into(),
                            platform_id: format!("raw.{i}"),
                            sender: phone(sender),
                            received_at: now,
                            text: "Jalan berlubang di depan Pasar Kosambi".into(),
                            outcome: "handled".into(),
                            tracking_id: None,
                        },
                        conversation: Some(ConversationWrite {
                            state: json!({ "lang": "id", "state": { "Draft": { "step": "Body", "draft": { "title": "Jalan berlubang di depan Pasar Kosambi" } } }, "updated_at": now }),
                            expected_version: (k > 0).then_some(k as i64),
                            updated_at: now,
                            expires_at: Some(now + chrono::Duration::minutes(30)),
                        }),
                        inbox: None,
                        outbox: vec![OutboxMessage {
                            topic: "channel.send".into(),
                            key: format!("whatsapp:raw.{i}:reply"),
                            payload: json!({ "channel": "whatsapp", "to": phone(sender), "replies": [{ "text": "Tuliskan isi laporan Anda." }] }),
                        }],
                    };
                    let t0 = Instant::now();
                    let out = store.commit_turn(&turn).await.expect("commit");
                    lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                    assert_eq!(out, TurnOutcome::Committed, "chat {sender} step {k}");
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    (started.elapsed().as_secs_f64(), all)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    // Each task is its own connection: the open loop needs many at once.
    let mut done = 0;
    while let Some((name, db)) = next_backend(&args.backend, done).await {
        done += 1;
        let Some(db) = db else {
            eprintln!("[{name}] LAPOR_TEST_PG_URL not set: skipped");
            continue;
        };
        let store = db.store.clone();
        let config = ServerConfig {
            channels: ChannelsConfig {
                whatsapp: Some(WhatsappConfig {
                    app_secret: SECRET.into(),
                    verify_token: "v".into(),
                    access_token: "t".into(),
                    phone_number_id: "1122334455667".into(),
                    notice_template: None,
                    graph_base: "http://127.0.0.1:9".into(),
                    graph_version: "v21.0".into(),
                }),
                per_sender_per_minute: Some(60),
                ..Default::default()
            },
            ..ServerConfig::unthrottled()
        };
        let state = AppState::new(store.clone(), Calendar::embedded(), vec![], config)
            .await
            .expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(lapor_server::serve(listener, lapor_server::router(state)));

        let n = args.rate * args.seconds;
        eprintln!("[{name}] offering {n} webhooks at {}/s…", args.rate);
        let before = store.outbox_count().await.expect("outbox");
        let run = offered_load(&base, &args).await;
        let queued = store.outbox_count().await.expect("outbox") - before;
        eprintln!("[{name}] raw commit ceiling over {n} turns…");
        let (raw_wall, raw_lat) = raw_ceiling(store.clone(), n, args.senders).await;
        let lat = summary(run.lat);
        let raw = summary(raw_lat);
        let achieved = run.sent as f64 / run.wall;
        let ceiling = n as f64 / raw_wall;
        println!(
            "\n== {name}: {n} WhatsApp webhooks offered at {}/s, {} chats",
            args.rate, args.senders
        );
        println!(
            "  through Lapor (HTTP → HMAC → chatbot → commit): {achieved:.0} msg/s achieved, \
             latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, failed {}, replies queued {queued}",
            lat.p50, lat.p95, lat.p99, run.failed
        );
        println!(
            "  raw commit_turn ceiling ({BASELINE_TASKS} tasks, no HTTP/HMAC/chatbot): {ceiling:.0} turns/s, \
             commit p50 {:.2} ms, p99 {:.2} ms",
            raw.p50, raw.p99
        );
        println!(
            "  offered rate / raw ceiling = {:.2}; p99 target 50 ms: {}",
            args.rate as f64 / ceiling,
            if lat.p99 < 50.0 && run.failed == 0 {
                "met"
            } else {
                "NOT met"
            }
        );
        db.close().await;
    }
}
