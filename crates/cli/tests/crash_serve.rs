//! Crash consistency of `lapor serve` (issue 10). A mixed load runs over
//! real HTTP while the server, which runs the delivery workers too, is
//! SIGKILLed at random moments and restarted, `LAPOR_CRASH_KILLS` times
//! (default 20) on SQLite and (with `LAPOR_TEST_PG_URL`) on PostgreSQL:
//!
//! - citizens file reports with an e-mail address for their receipt;
//! - the national admin dispositions them;
//! - SMS arrive through the gateway webhook ("LAPOR <isi>"), each answered
//!   by an SMS through the gateway's send API (a local stand-in);
//! - Telegram updates arrive through the bot webhook, each from a new chat,
//!   and are answered through the Bot API's `sendMessage` (the same
//!   stand-in, at `/bot<token>/sendMessage`).
//!
//! Then the last server drains the queue, and:
//! - every report whose 201 arrived is stored as sent, with its event;
//! - every disposition whose 200 arrived is stored;
//! - every SMS the gateway got a 200 for is recorded, and every Telegram
//!   update Telegram got a 200 for;
//! - every receipt of those, by e-mail or SMS, was delivered: exactly once
//!   after deduplication by its key (the sink and the gateway count repeats);
//! - every acknowledged Telegram chat got its answer. The Bot API takes no
//!   idempotency key, so a send repeated after a kill reaches the chat twice:
//!   those are counted, not deduplicated.
//! - no job is left pending, dead or undeliverable.
//!
//! Kill points are random; the seed is printed and `LAPOR_CRASH_SEED`
//! repeats a run.

mod support;

use axum::Json;
use axum::http::HeaderMap;
use lapor_mailsink::{MailSink, SinkOptions};
use lapor_store::testing::TestUrl;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{Rng, Server, crash_seed, lapor, login, serve_at};
use tokio::sync::Mutex;

const SMS_SECRET: &str = "sms-secret";
const TG_SECRET: &str = "tg-secret";

/// What the stand-in SMS gateway was asked to send: (idempotency key, to).
type Sent = Arc<Mutex<Vec<(String, String)>>>;
/// The chats the stand-in Bot API was asked to answer.
type Chats = Arc<Mutex<Vec<String>>>;

async fn gateway() -> (String, Sent, Chats) {
    let sent: Sent = Arc::default();
    let chats: Chats = Arc::default();
    let (rec, tg) = (sent.clone(), chats.clone());
    let app = axum::Router::new()
        .route(
            "/sms/send",
            axum::routing::post(move |headers: HeaderMap, Json(body): Json<Value>| {
                let rec = rec.clone();
                async move {
                    let key = headers
                        .get("idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let to = body["to"].as_str().unwrap_or_default().to_string();
                    rec.lock().await.push((key, to));
                    Json(json!({ "id": "gw-accepted" }))
                }
            }),
        )
        .route(
            "/{bot}/sendMessage",
            axum::routing::post(move |Json(body): Json<Value>| {
                let tg = tg.clone();
                async move {
                    let chat = match &body["chat_id"] {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    tg.lock().await.push(chat);
                    Json(json!({ "ok": true, "result": { "message_id": 1, "date": 0, "chat": { "id": 1, "type": "private" } } }))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), sent, chats)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Default)]
struct Acked {
    /// Tracking ID and the title sent.
    reports: Vec<(String, String)>,
    dispositions: Vec<String>,
    /// Gateway message id and the sender's number.
    sms: Vec<(String, String)>,
    /// Telegram update id and its chat.
    telegram: Vec<(String, String)>,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

async fn citizens(base: String, stop: Arc<AtomicBool>, acked: Arc<Mutex<Acked>>) {
    let http = client();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let title = format!("Trotoar rusak nomor {n}");
        let r = http
            .post(format!("{base}/api/v1/reports"))
            .json(&json!({
                "classification": "pengaduan",
                "title": title,
                "body": "Trotoar di depan sekolah berlubang dan membahayakan anak-anak yang berjalan kaki.",
                "region_code": "32.73",
                "reporter": { "name": "Warga", "email": format!("warga{n}@contoh.id") }
            }))
            .send()
            .await;
        match r {
            Ok(r) if r.status().as_u16() == 201 => {
                if let Ok(v) = r.json::<Value>().await
                    && let Some(id) = v["tracking_id"].as_str()
                {
                    acked.lock().await.reports.push((id.to_string(), title));
                }
            }
            // The server is down or restarting: try again shortly.
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn admin(base: String, token: String, stop: Arc<AtomicBool>, acked: Arc<Mutex<Acked>>) {
    let http = client();
    let mut next = 0;
    while !stop.load(Ordering::Relaxed) {
        let id = acked.lock().await.reports.get(next).map(|(id, _)| id.clone());
        let Some(id) = id else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        next += 1;
        let r = http
            .post(format!("{base}/api/v1/reports/{id}/disposition"))
            .bearer_auth(&token)
            .json(&json!({ "institution": "pemkot-32.73", "version": 1 }))
            .send()
            .await;
        match r {
            Ok(r) if r.status().as_u16() == 200 => acked.lock().await.dispositions.push(id),
            Ok(_) => {}
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn sms_senders(base: String, stop: Arc<AtomicBool>, acked: Arc<Mutex<Acked>>) {
    let http = client();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let (id, from) = (format!("gw-{n}"), format!("+62812{n:07}"));
        let body = serde_json::to_vec(&json!({
            "id": id,
            "from": from,
            "to": "1708",
            "text": format!("LAPOR Lampu jalan mati di gang nomor {n}, sudah seminggu gelap"),
        }))
        .unwrap();
        let r = http
            .post(format!("{base}/hooks/sms"))
            .header("content-type", "application/json")
            .header(
                "x-lapor-signature",
                lapor_channels::signature::meta_sign(SMS_SECRET, &body),
            )
            .body(body)
            .send()
            .await;
        match r {
            Ok(r) if r.status().as_u16() == 200 => acked.lock().await.sms.push((id, from)),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Each update from a chat of its own, so every acknowledged update must
/// have its own answer.
async fn telegram_users(base: String, stop: Arc<AtomicBool>, acked: Arc<Mutex<Acked>>) {
    let http = client();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let chat = 700_000_000 + n;
        let update = json!({
            "update_id": n,
            "message": {
                "message_id": n,
                "from": { "id": chat, "is_bot": false, "first_name": "Warga", "language_code": "id" },
                "chat": { "id": chat, "first_name": "Warga", "type": "private" },
                "date": chrono::Utc::now().timestamp(),
                "text": "Halo, saya mau melapor"
            }
        });
        let r = http
            .post(format!("{base}/hooks/telegram"))
            .header("x-telegram-bot-api-secret-token", TG_SECRET)
            .json(&update)
            .send()
            .await;
        match r {
            Ok(r) if r.status().as_u16() == 200 => acked.lock().await.telegram.push((n.to_string(), chat.to_string())),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// A report's event kinds, oldest first.
async fn kinds(store: &dyn lapor_store::Store, id: &lapor_domain::ids::TrackingId) -> Vec<String> {
    let events = store.events(id).await.unwrap();
    events.iter().map(|e| e.data.kind().to_string()).collect()
}

async fn healthy(base: &str) {
    let http = client();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} did not come back");
}

async fn crash_and_restart(backend: &str, db: TestUrl) {
    let kills: usize = std::env::var("LAPOR_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed = crash_seed();
    let mut rng = Rng(seed);
    let sink = MailSink::start("127.0.0.1:0", SinkOptions::default()).await.unwrap();
    let (gw, sent, chats) = gateway().await;
    let dir = std::env::temp_dir().join(format!("lapor-crash-serve-{}-{backend}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("lapor.toml");
    std::fs::write(
        &config,
        format!(
            "[channels.sms]\ninbound_secret = \"{SMS_SECRET}\"\nsend_via = \"http\"\nsender_id = \"1708\"\n\
             http_send_url = \"{gw}/sms/send\"\nhttp_send_token = \"GW-TOKEN\"\n\
             [channels.telegram]\nbot_token = \"123:ABC\"\nsecret_token = \"{TG_SECRET}\"\napi_base = \"{gw}\"\n"
        ),
    )
    .unwrap();
    let bind = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{bind}");
    let start = |demo: bool| -> Server {
        let mut cmd = lapor(&db.url);
        cmd.env("LAPOR_SMTP_URL", format!("smtp://{}", sink.addr()))
            // Jobs a killed server held come back after 2 s, not 2 min.
            .env("LAPOR_WORKER_LEASE_SECS", "2")
            .env("LAPOR_LIMIT_SIGN_IN_PER_MINUTE", "0")
            .env("LAPOR_LIMIT_SUBMIT_PER_MINUTE", "0");
        serve_at(cmd, Some(&config), &bind, demo)
    };

    let mut server = start(true);
    healthy(&base).await;
    let token = login(&client(), &base, "nasional@lapor.demo").await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acked::default()));
    let load = vec![
        tokio::spawn(citizens(base.clone(), stop.clone(), acked.clone())),
        tokio::spawn(citizens(base.clone(), stop.clone(), acked.clone())),
        tokio::spawn(admin(base.clone(), token, stop.clone(), acked.clone())),
        tokio::spawn(sms_senders(base.clone(), stop.clone(), acked.clone())),
        tokio::spawn(telegram_users(base.clone(), stop.clone(), acked.clone())),
    ];
    let started = Instant::now();
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(300 + rng.below(1200))).await;
        // SIGKILL: no chance to finish a request, a commit or a batch.
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        server = start(false);
        healthy(&base).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.await.unwrap();
    }

    // The last server's workers finish the queue.
    let store = lapor_store::connect(&db.url, &Default::default()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let depths = store.queue_depths().await.unwrap();
        if depths.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "{backend}: queue not drained: {depths:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(server);
    let acked = std::mem::take(&mut *acked.lock().await);
    assert!(
        acked.reports.len() >= kills,
        "{backend}: too little load: {}",
        acked.reports.len()
    );
    assert!(
        !acked.sms.is_empty() && !acked.dispositions.is_empty() && !acked.telegram.is_empty(),
        "{backend}: no SMS, Telegram updates or dispositions"
    );

    // Every acknowledged report and disposition is stored, as sent.
    for (id, title) in &acked.reports {
        let tid = lapor_domain::ids::TrackingId::parse(id).unwrap();
        let r = store.report(&tid).await.unwrap();
        let r = r.unwrap_or_else(|| panic!("{backend}: acknowledged report {id} is lost"));
        assert_eq!(&r.report.title, title, "{backend}: {id}");
        let kinds = kinds(store.as_ref(), &tid).await;
        assert_eq!(
            kinds.first().map(String::as_str),
            Some("submitted"),
            "{backend}: {id} {kinds:?}"
        );
    }
    for id in &acked.dispositions {
        let tid = lapor_domain::ids::TrackingId::parse(id).unwrap();
        let kinds = kinds(store.as_ref(), &tid).await;
        assert!(
            kinds.iter().any(|k| k == "dispositioned"),
            "{backend}: disposition of {id} is lost: {kinds:?}"
        );
    }
    for (id, _) in &acked.sms {
        assert!(
            store.inbound_seen("sms", id).await.unwrap(),
            "{backend}: acknowledged SMS {id} is lost"
        );
    }
    for (id, _) in &acked.telegram {
        assert!(
            store.inbound_seen("telegram", id).await.unwrap(),
            "{backend}: acknowledged Telegram update {id} is lost"
        );
    }

    // Every receipt delivered, exactly once after deduplication by key.
    let mut mail: HashMap<String, usize> = HashMap::new();
    for m in sink.messages() {
        *mail.entry(m.key.clone().expect("X-Lapor-Key")).or_default() += 1;
    }
    for (id, _) in &acked.reports {
        assert!(
            mail.contains_key(&format!("{id}:receipt")),
            "{backend}: receipt of {id} never sent"
        );
    }
    let sent = sent.lock().await.clone();
    let mut sms_keys: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (key, to) in &sent {
        assert!(!key.is_empty(), "an SMS sent without an idempotency key");
        sms_keys.entry(to.as_str()).or_default().insert(key.as_str());
    }
    for (id, from) in &acked.sms {
        assert!(
            sms_keys.contains_key(from.as_str()),
            "{backend}: the answer to SMS {id} was never sent"
        );
    }
    let distinct_sms: usize = sms_keys.values().map(HashSet::len).sum();
    let chats = chats.lock().await.clone();
    let answered: HashSet<&str> = chats.iter().map(String::as_str).collect();
    for (id, chat) in &acked.telegram {
        assert!(
            answered.contains(chat.as_str()),
            "{backend}: Telegram update {id} was never answered"
        );
    }
    let asked: HashSet<&str> = acked.telegram.iter().map(|(_, c)| c.as_str()).collect();
    let repeated = chats.iter().filter(|c| asked.contains(c.as_str())).count() - asked.len();
    eprintln!(
        "crash_serve[{backend}]: {kills} SIGKILLs of lapor serve in {:.1} s; acknowledged {} reports, {} dispositions, {} SMS: 0 lost; \
         {} e-mails for {} keys ({} repeats dropped), {} SMS sends for {} keys ({} repeats dropped); \
         {} Telegram updates: 0 lost, all answered, {} sends beyond one per chat (seed {seed})",
        started.elapsed().as_secs_f64(),
        acked.reports.len(),
        acked.dispositions.len(),
        acked.sms.len(),
        sink.count(),
        mail.len(),
        sink.duplicates(),
        sent.len(),
        distinct_sms,
        sent.len() - distinct_sms,
        acked.telegram.len(),
        repeated,
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_servers_lose_nothing_sqlite() {
    crash_and_restart("sqlite", TestUrl::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_servers_lose_nothing_postgres() {
    let Some(db) = TestUrl::postgres().await else {
        eprintln!("LAPOR_TEST_PG_URL not set: skipped");
        return;
    };
    crash_and_restart("postgres", db).await;
}
