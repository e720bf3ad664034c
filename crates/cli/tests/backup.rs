//! `lapor backup` while citizens keep filing reports, then `lapor restore`
//! (issue 10), on SQLite and (with `LAPOR_TEST_PG_URL`) PostgreSQL:
//!
//! - every report acknowledged before the backup began is in the restored
//!   database, with its events intact; none acknowledged after the backup
//!   ended is (the restore really replaced the database);
//! - a restore is refused while a server has the database open;
//! - a file that is not a Lapor backup is refused and changes nothing.

mod support;

use lapor_store::testing::TestUrl;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{lapor, report_body, serve_with};
use tokio::sync::Mutex;

/// Acknowledged Tracking IDs with the moment the 201 arrived.
type Acked = Arc<Mutex<Vec<(String, Instant)>>>;

async fn load(base: String, stop: Arc<AtomicBool>, acked: Acked) {
    let http = reqwest::Client::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let r = http
            .post(format!("{base}/api/v1/reports"))
            .json(&report_body(&format!("Lampu jalan mati nomor {n}")))
            .send()
            .await;
        // Only a 201 is an acknowledgement; anything else was not promised.
        if let Ok(r) = r
            && r.status().as_u16() == 201
            && let Ok(v) = r.json::<serde_json::Value>().await
            && let Some(id) = v["tracking_id"].as_str()
        {
            acked.lock().await.push((id.to_string(), Instant::now()));
        }
    }
}

async fn backup_under_load_then_restore(db: TestUrl) {
    let dir = std::env::temp_dir().join(format!("lapor-backup-{}-{}", std::process::id(), db.is_postgres()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lapor.backup");

    let mut cmd = lapor(&db.url);
    cmd.env("LAPOR_LIMIT_SUBMIT_PER_MINUTE", "0");
    let server = serve_with(cmd, None);
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Acked = Arc::default();
    let clients: Vec<_> = (0..4)
        .map(|_| tokio::spawn(load(server.base.clone(), stop.clone(), acked.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let began = Instant::now();
    let out = tokio::task::spawn_blocking({
        let (url, file) = (db.url.clone(), file.clone());
        move || lapor(&url).arg("backup").arg(&file).output().unwrap()
    })
    .await
    .unwrap();
    let ended = Instant::now();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "backup failed: {text}");
    assert!(text.contains("checked"), "{text}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().await.clone();
    let before: Vec<&String> = acked.iter().filter(|(_, t)| *t < began).map(|(id, _)| id).collect();
    let after: Vec<&String> = acked.iter().filter(|(_, t)| *t > ended).map(|(id, _)| id).collect();
    assert!(
        before.len() >= 20,
        "too little load before the backup: {}",
        before.len()
    );
    assert!(!after.is_empty(), "no load after the backup");
    println!(
        "{} reports acknowledged: {} before the backup, {} after it",
        acked.len(),
        before.len(),
        after.len()
    );

    // Refused while the server has the database open; nothing changes.
    let out = lapor(&db.url).arg("restore").arg(&file).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stop `lapor serve`"), "{err}");
    drop(server);

    // Not a backup: refused, nothing changes.
    let junk = dir.join("junk.backup");
    std::fs::write(&junk, b"PK\x03\x04 this is a zip file, not a database").unwrap();
    let out = lapor(&db.url).arg("restore").arg(&junk).output().unwrap();
    assert!(!out.status.success(), "a junk file was restored");

    // PostgreSQL sees a killed server's sessions end a moment later.
    let restored = eventually_ok(|| lapor(&db.url).arg("restore").arg(&file).output().unwrap()).await;
    assert!(restored.contains("restore:"), "{restored}");

    let store = lapor_store::connect(&db.url, &Default::default()).await.unwrap();
    for id in &before {
        let tid = lapor_domain::ids::TrackingId::parse(id).unwrap();
        let r = store.report(&tid).await.unwrap();
        let r = r.unwrap_or_else(|| panic!("{id} was acknowledged before the backup and is missing"));
        assert_eq!(
            r.report.title.split_whitespace().take(3).collect::<Vec<_>>(),
            ["Lampu", "jalan", "mati"]
        );
        assert!(!store.events(&tid).await.unwrap().is_empty(), "{id} has no events");
    }
    for id in &after {
        let tid = lapor_domain::ids::TrackingId::parse(id).unwrap();
        assert!(
            store.report(&tid).await.unwrap().is_none(),
            "{id} came after the backup"
        );
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    db.close().await;
}

/// Runs a command until it succeeds (for at most 20 s); its output.
async fn eventually_ok(mut run: impl FnMut() -> std::process::Output) -> String {
    let start = Instant::now();
    loop {
        let out = run();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            return text;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{text}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_load_sqlite() {
    backup_under_load_then_restore(TestUrl::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_load_postgres() {
    let Some(db) = TestUrl::postgres().await else {
        eprintln!("LAPOR_TEST_PG_URL not set: skipped");
        return;
    };
    backup_under_load_then_restore(db).await;
}
