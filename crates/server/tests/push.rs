//! Web Push end to end, on both backends: accounts register their devices
//! through the API, report events go through the outbox to a local push
//! service that checks the VAPID signature and decrypts every message
//! (`support/push_standin.rs`), revoking stops them, and a subscription the
//! service calls gone is revoked by the worker.

mod common;
#[path = "support/push_standin.rs"]
mod push_standin;

use chrono::Utc;
use common::TestApp;
use lapor_server::ServerConfig;
use lapor_server::notify::webpush::Notice;
use lapor_server::worker::{Counters, WorkerConfig, run_batch_at};
use push_standin::PushStandIn;
use reqwest::Method;
use serde_json::{Value, json};

async fn drain(app: &TestApp) {
    let (cfg, counters) = (WorkerConfig::default(), Counters::default());
    for _ in 0..50 {
        if run_batch_at(&app.state, &cfg, &counters, Utc::now()).await.unwrap() == 0 {
            return;
        }
    }
    panic!("the outbox did not drain");
}

async fn call(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut r = app.req(method, path, None);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    common::read(r.send().await.unwrap()).await
}

/// The notices the service delivered to `endpoint`'s device, in order.
fn notices(service: &PushStandIn, endpoint: &str) -> Vec<Notice> {
    let n: usize = endpoint.rsplit('/').next().unwrap().parse().unwrap();
    service
        .received()
        .iter()
        .filter(|r| r.subscription == n)
        .map(|r| serde_json::from_slice(&r.plaintext).expect("a notice as JSON"))
        .collect()
}

async fn pushes_follow_reports(app: &TestApp) {
    let service = PushStandIn::start().await;
    let (s, key) = call(app, Method::GET, "/api/v1/push/key", None, None).await;
    assert_eq!(s, 200);
    let server_key = key["public_key"].as_str().unwrap().to_string();

    // A citizen with an account, and the Bandung admin, each on one device.
    let (s, _) = call(
        app,
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({ "name": "Rina", "email": "rina@contoh.id", "password": "kata-sandi-rina-2026" })),
    )
    .await;
    assert_eq!(s, 201);
    let (_, login) = call(
        app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "login": "rina@contoh.id", "password": "kata-sandi-rina-2026" })),
    )
    .await;
    let rina = login["token"].as_str().unwrap().to_string();
    let phone = service.subscribe(&server_key);
    let subscription = |b: &push_standin::BrowserSubscription| json!({ "endpoint": b.endpoint, "keys": { "p256dh": b.p256dh, "auth": b.auth } });

    // Registering needs an account and a real subscription.
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/push/subscriptions",
        None,
        Some(subscription(&phone)),
    )
    .await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("unauthenticated")));
    let mut bad = subscription(&phone);
    bad["keys"]["p256dh"] = json!("bm90LWEta2V5");
    let (s, v) = call(app, Method::POST, "/api/v1/push/subscriptions", Some(&rina), Some(bad)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("validation_failed")),
        "{v}"
    );
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/push/subscriptions",
        Some(&rina),
        Some(json!({ "endpoint": "http://10.0.0.7/push/1", "keys": subscription(&phone)["keys"] })),
    )
    .await;
    assert_eq!(s, 422, "no private-network endpoints: {v}");
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/push/subscriptions",
        Some(&rina),
        Some(subscription(&phone)),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let rina_sub = v["id"].as_str().unwrap().to_string();
    let desk = service.subscribe(&server_key);
    let admin = app.tokens["bandung_admin"].clone();
    let (s, _) = call(
        app,
        Method::POST,
        "/api/v1/push/subscriptions",
        Some(&admin),
        Some(subscription(&desk)),
    )
    .await;
    assert_eq!(s, 201);
    let (_, mine) = call(app, Method::GET, "/api/v1/push/subscriptions", Some(&rina), None).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);

    // Rina files a report; the national admin sends it to Kota Bandung.
    let (s, v) = call(app, Method::POST, "/api/v1/reports", Some(&rina), Some(json!({ "classification": "pengaduan", "title": "Lampu jalan mati di Jalan Riau", "body": "Tiga lampu penerangan jalan mati sejak seminggu, jalan gelap pada malam hari." }))).await;
    assert_eq!(s, 201, "{v}");
    let id = v["tracking_id"].as_str().unwrap().to_string();
    let (s, _) = app
        .post(
            &format!("/api/v1/reports/{id}/disposition"),
            Some("national"),
            json!({ "institution": "pemkot-32.73" }),
        )
        .await;
    assert_eq!(s, 200);
    drain(app).await;
    drain(app).await; // a second pass finds nothing left to send twice

    let to_rina = notices(&service, &phone.endpoint);
    assert_eq!(to_rina.len(), 1, "refused: {:?}", service.refused());
    assert_eq!(to_rina[0].url, format!("/lacak/{id}"));
    assert_eq!(to_rina[0].tag, id);
    assert!(to_rina[0].title.starts_with(&id), "{:?}", to_rina[0]);
    let to_admin = notices(&service, &desk.endpoint);
    assert_eq!(to_admin.len(), 1, "the new assignment reaches the admin's device");
    assert_eq!(to_admin[0].url, format!("/staf/laporan/{id}"));

    // Rina turns notifications off on that phone: nothing more reaches it.
    // Nobody else can revoke her subscription, nor can she twice.
    let path = format!("/api/v1/push/subscriptions/{rina_sub}");
    assert_eq!(call(app, Method::DELETE, &path, Some(&admin), None).await.0, 404);
    assert_eq!(call(app, Method::DELETE, &path, Some(&rina), None).await.0, 204);
    assert_eq!(call(app, Method::DELETE, &path, Some(&rina), None).await.0, 404);
    let (s, _) = app
        .post(
            &format!("/api/v1/reports/{id}/accept"),
            Some("bandung_admin"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("bandung_admin"),
            json!({ "body": "Lampu sudah diganti petugas." }),
        )
        .await;
    assert_eq!(s, 200);
    drain(app).await;
    assert_eq!(
        notices(&service, &phone.endpoint).len(),
        1,
        "revoked: no more notifications"
    );

    // A new phone whose permission the user withdrew in the browser: the
    // push service answers 410, and the worker revokes the subscription.
    let tablet = service.subscribe(&server_key);
    let (s, _) = call(
        app,
        Method::POST,
        "/api/v1/push/subscriptions",
        Some(&rina),
        Some(subscription(&tablet)),
    )
    .await;
    assert_eq!(s, 201);
    service.unsubscribe(&tablet.endpoint);
    let (s, v) = call(
        app,
        Method::POST,
        &format!("/api/v1/reports/{id}/reply"),
        Some(&rina),
        Some(json!({ "body": "Satu lampu masih mati." })),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("bandung_admin"),
            json!({ "body": "Lampu terakhir juga sudah diganti." }),
        )
        .await;
    assert_eq!(s, 200);
    drain(app).await;
    let (_, mine) = call(app, Method::GET, "/api/v1/push/subscriptions", Some(&rina), None).await;
    assert_eq!(mine.as_array().unwrap().len(), 0, "the gone subscription was revoked");
    assert!(
        app.db.store.dead_letters(100).await.unwrap().is_empty(),
        "a gone device is not a failure"
    );
}

on_both_backends!(
    pushes_follow_reports,
    ServerConfig {
        push_allow_loopback: true,
        ..Default::default()
    }
);
