//! Crash safety of the delivery worker: 10,000 queued e-mails, `lapor worker`
//! SIGKILLed in the middle of a batch several times and restarted. Every
//! notification must reach the SMTP sink, exactly once after deduplication
//! by its idempotency key, on SQLite and (with `LAPOR_TEST_PG_URL`) on
//! PostgreSQL.

mod support;

use lapor_mailsink::{MailSink, SinkOptions};
use lapor_store::testing::TestDb;
use lapor_store::{OutboxMessage, Store};
use serde_json::json;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Rng, crash_seed as seed};

const JOBS: usize = 10_000;
const TOPIC: &str = "notify.staff.email";
/// Kill rounds; the one at `PAIR_ROUND` runs two workers side by side.
const ROUNDS: usize = 6;
const PAIR_ROUND: usize = 3;

/// The workers share two cores with the test; one backend at a time keeps
/// the kill points spread over the run instead of bunched at the start.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A `lapor worker` child, SIGKILLed (never stopped cleanly) when dropped.
struct Worker(Child);

impl Worker {
    fn spawn(db_url: &str, smtp: SocketAddr) -> Worker {
        let child = Command::new(env!("CARGO_BIN_EXE_lapor"))
            .args(["worker", "--no-scheduler"])
            .env_remove("LAPOR_CONFIG")
            .env("LAPOR_DATABASE_URL", db_url)
            .env("LAPOR_SMTP_URL", format!("smtp://{smtp}"))
            // Jobs held by a killed worker come back after 2 s, not 2 min.
            .env("LAPOR_WORKER_LEASE_SECS", "2")
            .env("LAPOR_LOG", "warn")
            .env("LAPOR_DATA_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn lapor worker");
        Worker(child)
    }

    /// `Child::kill` is SIGKILL on Unix: no chance to finish the batch.
    fn kill(mut self) {
        self.0.kill().expect("kill worker");
        self.0.wait().expect("reap worker");
    }

    fn assert_alive(&mut self) {
        if let Some(status) = self.0.try_wait().expect("try_wait") {
            panic!("lapor worker exited on its own: {status}");
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn key(i: usize) -> String {
    format!("crash-{i}")
}

async fn enqueue_all(store: &dyn Store) {
    for chunk in (0..JOBS).collect::<Vec<_>>().chunks(1_000) {
        let msgs: Vec<OutboxMessage> = chunk
            .iter()
            .map(|&i| OutboxMessage {
                topic: TOPIC.into(),
                key: key(i),
                payload: json!({
                    "to": format!("staf{i}@lapor.test"),
                    "subject": format!("Pemberitahuan {i}"),
                    "text": format!("Laporan menunggu tindak lanjut ({i})."),
                }),
            })
            .collect();
        store.enqueue(&msgs).await.expect("enqueue");
    }
}

/// Waits until `target` distinct keys reached the sink, waking on every
/// arrival so the kill that follows lands while a batch is being sent.
async fn wait_for_keys(sink: &MailSink, target: usize, workers: &mut [Worker]) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while sink.distinct_keys() < target {
        workers.iter_mut().for_each(Worker::assert_alive);
        assert!(
            Instant::now() < deadline,
            "stuck at {} of {target} keys",
            sink.distinct_keys()
        );
        sink.wait_for(sink.count() + 1, Duration::from_millis(50)).await;
    }
}

/// Ids of jobs claimed but not finished: with no worker alive, exactly the
/// jobs dead workers were holding.
async fn claimed_unfinished(store: &dyn Store) -> Vec<(i64, String)> {
    let rows = store.outbox(JOBS as i64).await.expect("outbox");
    rows.into_iter()
        .filter(|r| r.state == "pending" && r.attempts > 0)
        .map(|r| (r.id, r.key))
        .collect()
}

async fn pending(store: &dyn Store) -> i64 {
    let depths = store.queue_depths().await.expect("queue depths");
    depths.iter().filter(|d| d.state == "pending").map(|d| d.count).sum()
}

async fn crash_and_restart(backend: &str, db: TestDb) {
    let started = Instant::now();
    let store = db.store.as_ref();
    let sink = MailSink::start(
        "127.0.0.1:0",
        SinkOptions {
            keep_raw: false,
            ..Default::default()
        },
    )
    .await
    .expect("mail sink");
    enqueue_all(store).await;
    assert_eq!(store.outbox_count().await.unwrap(), JOBS as i64);

    let seed = seed();
    let mut rng = Rng(seed);
    let mut running: Vec<Worker> = Vec::new();
    let (mut kills, mut checked, mut mid_batch, mut stranded_total, mut resent_total) = (0, 0, 0, 0, 0);
    let mut seen_stranded: HashSet<i64> = HashSet::new();
    for round in 0..ROUNDS {
        // Rising, jittered kill points between about 1,000 and 8,450 keys,
        // leaving fresh jobs for every round.
        let target = 1_000 + round * 1_350 + rng.below(700) as usize;
        let want = if round == PAIR_ROUND { 2 } else { 1 };
        while running.len() < want {
            running.push(Worker::spawn(&db.url, sink.addr()));
        }
        wait_for_keys(&sink, target, &mut running).await;
        // Kill the oldest. In the pair round its partner lives on into the
        // next round, claiming beside a dead worker's expired leases.
        running.remove(0).kill();
        kills += 1;
        if !running.is_empty() {
            continue;
        }
        // Nobody is running: what is claimed and unfinished was stranded by
        // the kill(s); what of it the sink already has will be sent twice.
        let sent: HashSet<String> = sink.messages().into_iter().filter_map(|m| m.key).collect();
        let new: Vec<(i64, String)> = claimed_unfinished(store)
            .await
            .into_iter()
            .filter(|(id, _)| seen_stranded.insert(*id))
            .collect();
        let resent = new.iter().filter(|(_, k)| sent.contains(k)).count();
        eprintln!(
            "crash[{backend}]: kill {kills} at {} keys: {} jobs stranded mid-batch, {resent} of them already sent",
            sink.distinct_keys(),
            new.len()
        );
        checked += 1;
        mid_batch += usize::from(!new.is_empty());
        stranded_total += new.len();
        resent_total += resent;
    }

    // A last worker finishes the queue, stranded jobs included.
    let mut last = Worker::spawn(&db.url, sink.addr());
    let deadline = Instant::now() + Duration::from_secs(120);
    while pending(store).await > 0 {
        last.assert_alive();
        assert!(
            Instant::now() < deadline,
            "{backend}: {} jobs still pending after 120 s; {} keys at the sink",
            pending(store).await,
            sink.distinct_keys()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last.kill();
    let elapsed = started.elapsed().as_secs_f64();

    // Nothing lost: every row delivered, none dead or undeliverable.
    let rows = store.outbox(JOBS as i64).await.unwrap();
    assert_eq!(store.outbox_count().await.unwrap(), JOBS as i64);
    let undelivered: Vec<_> = rows
        .iter()
        .filter(|r| r.state != "delivered")
        .map(|r| (&r.key, &r.state))
        .collect();
    assert!(
        undelivered.is_empty(),
        "{backend}: {} rows not delivered, e.g. {:?}",
        undelivered.len(),
        &undelivered[..undelivered.len().min(5)]
    );
    let depths = store.queue_depths().await.unwrap();
    assert!(depths.is_empty(), "{backend}: {depths:?}");

    // Exactly once by key: every key arrived, each to its own recipient.
    let messages = sink.messages();
    let mut keys = HashSet::new();
    for m in &messages {
        let k = m.key.as_deref().expect("X-Lapor-Key header");
        let i: usize = k
            .strip_prefix("crash-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected key {k}"));
        assert_eq!(m.rcpt_to, [format!("staf{i}@lapor.test")], "{k}");
        keys.insert(i);
    }
    assert_eq!(sink.distinct_keys(), JOBS);
    assert_eq!(keys.len(), JOBS);
    assert!((0..JOBS).all(|i| keys.contains(&i)));

    // At least once, with repeats only from interrupted batches.
    let duplicates = sink.duplicates();
    assert_eq!(messages.len(), JOBS + duplicates);
    assert!(mid_batch > 0, "{backend}: no kill landed mid-batch");
    assert!(
        duplicates >= resent_total,
        "{backend}: {resent_total} stranded jobs were already sent, only {duplicates} duplicates"
    );
    assert!(duplicates < 2_000, "{backend}: {duplicates} duplicates");
    eprintln!(
        "crash[{backend}]: {JOBS} notifications, {kills} SIGKILLs ({mid_batch}/{checked} checked kills mid-batch, \
         {stranded_total} jobs stranded, {resent_total} already sent), {duplicates} duplicates \
         dropped by key, 0 lost, {elapsed:.1} s (seed {seed})"
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_lose_nothing_sqlite() {
    let _serial = SERIAL.lock().await;
    crash_and_restart("sqlite", TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_lose_nothing_postgres() {
    let _serial = SERIAL.lock().await;
    let Some(db) = TestDb::postgres().await else {
        eprintln!("crash[postgres]: skipped, LAPOR_TEST_PG_URL is not set");
        return;
    };
    crash_and_restart("postgres", db).await;
}
