//! Two `lapor serve` nodes against one PostgreSQL, each with its own
//! delivery workers and deadline scheduler (issue 10, scale-out): what a
//! load balancer in front of them relies on.
//!
//! - a sign-in on one node is good on the other (sessions live in the
//!   database, not in a node);
//! - reports filed on either node are read the same on both;
//! - the same action sent to both nodes at once on one version of a report
//!   succeeds exactly once; the other gets `stale_version`;
//! - every receipt e-mail is delivered exactly once after deduplication by
//!   its key, by whichever node's worker claimed it, and none is left;
//! - each node serves its own `/metrics` on a separate listener.
//!
//! Needs `LAPOR_TEST_PG_URL` (skipped without it): SQLite is one machine's
//! database by design.

mod support;

use lapor_mailsink::{MailSink, SinkOptions};
use lapor_store::testing::TestUrl;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use support::{Server, call, eventually, lapor, login, serve_with};

const REPORTS: usize = 30;
const RACES: usize = 10;

fn node(db: &str, smtp: &str) -> Server {
    let mut cmd = lapor(db);
    cmd.env("LAPOR_SMTP_URL", smtp)
        .env("LAPOR_METRICS_BIND", "127.0.0.1:0")
        .env("LAPOR_SCHEDULER_INTERVAL_SECS", "1")
        .env("LAPOR_LIMIT_SUBMIT_PER_MINUTE", "0");
    serve_with(cmd, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_postgres() {
    let Some(db) = TestUrl::postgres().await else {
        eprintln!("LAPOR_TEST_PG_URL not set: skipped");
        return;
    };
    let sink = MailSink::start("127.0.0.1:0", SinkOptions::default()).await.unwrap();
    let smtp = format!("smtp://{}", sink.addr());
    // One after the other: the second node's demo seed finds the first's.
    let nodes = [node(&db.url, &smtp), node(&db.url, &smtp)];
    let http = reqwest::Client::new();
    let base = |i: usize| nodes[i % 2].base.clone();

    // Filed on alternating nodes, each with an e-mail for its receipt.
    let mut ids = Vec::new();
    for i in 0..REPORTS {
        let (s, v) = call(
            &http,
            reqwest::Method::POST,
            format!("{}/api/v1/reports", base(i)),
            None,
            Some(json!({
                "classification": "pengaduan",
                "title": format!("Saluran air tersumbat nomor {i}"),
                "body": "Saluran air di depan pasar tersumbat sampah dan meluap setiap hujan deras.",
                "region_code": "32.73",
                "reporter": { "name": "Warga", "email": format!("warga{i}@contoh.id") }
            })),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["tracking_id"].as_str().unwrap().to_string());
    }

    // Signed in on node 0, working on node 1.
    let token = login(&http, &base(0), "nasional@lapor.demo").await;
    let get = |node: usize, path: String| {
        let (http, token, url) = (http.clone(), token.clone(), format!("{}{path}", base(node)));
        async move { call(&http, reqwest::Method::GET, url, Some(&token), None).await }
    };
    let (s, me) = get(1, "/api/v1/me".to_string()).await;
    assert_eq!(s, 200, "{me}");

    // Every report reads the same on both nodes.
    for id in &ids {
        let a = get(0, format!("/api/v1/reports/{id}")).await;
        let b = get(1, format!("/api/v1/reports/{id}")).await;
        assert_eq!(a.0, 200, "{}", a.1);
        assert_eq!(
            (a.1["status"].clone(), a.1["version"].clone()),
            (b.1["status"].clone(), b.1["version"].clone())
        );
    }

    // The same disposition on the same version, sent to both nodes at once.
    for id in ids.iter().take(RACES) {
        let send = |i: usize| {
            call(
                &http,
                reqwest::Method::POST,
                format!("{}/api/v1/reports/{id}/disposition", base(i)),
                Some(&token),
                Some(json!({ "institution": "pemkot-32.73", "version": 1 })),
            )
        };
        let (a, b) = tokio::join!(send(0), send(1));
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{id}: {} / {}", a.1, b.1);
        let loser = if a.0 == 409 { &a.1 } else { &b.1 };
        assert_eq!(loser["error"]["code"], "stale_version", "{loser}");
        let (_, r) = get(1, format!("/api/v1/reports/{id}")).await;
        let kinds: Vec<&str> = r["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["submitted", "dispositioned"], "{id}");
    }

    // Receipts: each exactly once after deduplication, none left waiting.
    eventually("every receipt delivered", || async {
        (sink.distinct_keys() >= REPORTS).then_some(())
    })
    .await;
    let store = lapor_store::connect(&db.url, &Default::default()).await.unwrap();
    eventually("an empty queue", || async {
        store.queue_depths().await.unwrap().is_empty().then_some(())
    })
    .await;
    let mut per_key: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    for m in sink.messages() {
        per_key
            .entry(m.key.clone().expect("X-Lapor-Key"))
            .or_default()
            .push(m.rcpt_to.clone());
    }
    let receipts: Vec<_> = per_key.iter().filter(|(k, _)| k.ends_with(":receipt")).collect();
    assert_eq!(receipts.len(), REPORTS, "{per_key:?}");
    for (k, rcpts) in &receipts {
        let i = ids
            .iter()
            .position(|id| k.starts_with(id.as_str()))
            .expect("a receipt for a filed report");
        assert!(
            rcpts.iter().all(|r| r == &vec![format!("warga{i}@contoh.id")]),
            "{k}: {rcpts:?}"
        );
    }

    // Each node's own metrics listener, without a token; its counters are
    // its own, and together they count every receipt at least once.
    let mut delivered = 0;
    for n in &nodes {
        let url = n.metrics.clone().expect("a metrics listener");
        let text = http.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(text.contains("lapor_http_requests_total{part=\"api\""), "{text}");
        delivered += text
            .lines()
            .find_map(|l| l.strip_prefix("lapor_deliveries_total{outcome=\"delivered\"} "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    assert!(delivered >= REPORTS as u64, "{delivered}");
    eprintln!(
        "two nodes: {REPORTS} reports, {RACES} races won exactly once, {} receipts ({} duplicates dropped), {delivered} deliveries counted",
        receipts.len(),
        sink.duplicates()
    );
    drop(store);
    drop(nodes);
    tokio::time::sleep(Duration::from_millis(200)).await;
    db.close().await;
}
