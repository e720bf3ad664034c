//! The integration API over real HTTP on both backends: keys, scopes and
//! OAuth2; push, pull, act and the changes feed; signed webhooks delivered
//! in order to a local receiver, retried, dead-lettered and replayed; and a
//! receiver that is down for two days while 1,000 events happen.

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::{DateTime, Duration, Utc};
use common::TestApp;
use lapor_integration::webhook::{Secret, verify};
use lapor_server::integration::clients;
use lapor_server::integration::webhooks::{DeliveryConfig, run_batch_at};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const CITY: &str = "pemkot-32.73";

async fn client(app: &TestApp, institution: &str, scopes: &str) -> (String, String) {
    common::api_client(app, institution, scopes).await
}

async fn call(app: &TestApp, method: Method, path: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    app.call_with(method, path, key, body).await
}

fn push_body(external_id: &str) -> Value {
    json!({
        "external_id": external_id,
        "classification": "pengaduan",
        "title": "Lampu jalan mati di Jl. Dago",
        "body": "Sudah dua minggu lampu jalan di depan kampus mati, rawan kejahatan malam hari.",
        "region_code": "32.73.01.1001",
        "category": "jalan",
        "channel": "sms"
    })
}

async fn connect(app: &TestApp) -> String {
    clients::set_mode(app.db.store.as_ref(), CITY, "connected", None)
        .await
        .unwrap();
    client(app, CITY, "reports:read reports:write webhooks").await.1
}

async fn keys_scopes_and_oauth(app: &TestApp) {
    // The integration API is in the one OpenAPI document.
    let (s, doc) = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(s, 200);
    for path in [
        "/api/v1/oauth/token",
        "/api/v1/integration/reports",
        "/api/v1/integration/changes",
        "/api/v1/integration/webhooks/{id}/replay",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    let (id, read_only) = client(app, CITY, "reports:read").await;
    // No key, a key of the wrong shape, a right-shaped unknown key.
    let (s, v) = common::read(
        app.client
            .get(format!("{}/api/v1/integration/reports", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("unauthenticated")));
    let (s, v) = call(app, Method::GET, "/api/v1/integration/reports", "token-national", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("invalid_api_key")),
        "a staff token is not an integration key"
    );
    let forged = lapor_integration::client::new_key(&id, [9; 32]);
    let (s, _) = call(app, Method::GET, "/api/v1/integration/reports", &forged, None).await;
    assert_eq!(s, 401);
    // The X-API-Key header works as well as Bearer.
    let r = app
        .client
        .get(format!("{}/api/v1/integration/reports", app.base))
        .header("x-api-key", &read_only)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Scopes: reading is allowed, writing is not, and nothing was written.
    clients::set_mode(app.db.store.as_ref(), CITY, "connected", None)
        .await
        .unwrap();
    let before = app.outbox_count().await;
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/integration/reports",
        &read_only,
        Some(push_body("X-1")),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("insufficient_scope")),
        "{v}"
    );
    assert_eq!(app.outbox_count().await, before);

    // OAuth2 client credentials, in the body or with HTTP Basic.
    let token_url = format!("{}/api/v1/oauth/token", app.base);
    let r = app
        .client
        .post(&token_url)
        .basic_auth(&id, Some(&read_only))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let (s, v) = common::read(r).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["token_type"].as_str(), v["expires_in"].as_i64(), v["scope"].as_str()),
        (Some("Bearer"), Some(3600), Some("reports:read"))
    );
    let access = v["access_token"].as_str().unwrap().to_string();
    let (s, _) = call(app, Method::GET, "/api/v1/integration/reports", &access, None).await;
    assert_eq!(s, 200);
    let oauth = |form: Vec<(&'static str, String)>| {
        let url = token_url.clone();
        let c = app.client.clone();
        async move { common::read(c.post(url).form(&form).send().await.unwrap()).await }
    };
    let (s, v) = oauth(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", id.clone()),
        ("client_secret", "wrong".into()),
    ])
    .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    let (s, v) = oauth(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", id.clone()),
        ("client_secret", read_only.clone()),
        ("scope", "reports:write".into()),
    ])
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_scope")),
        "no more than the client holds"
    );
    let (s, v) = oauth(vec![("grant_type", "password".into())]).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (s, v) = oauth(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", "ic-other".into()),
        ("client_secret", read_only.clone()),
    ])
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("invalid_client")),
        "the secret must be that client's"
    );
    let (s, v) = oauth(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", id.clone()),
        ("client_secret", access.clone()),
    ])
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("invalid_client")),
        "an access token is no client secret"
    );

    // Rotation: an access token may not rotate; a key may. The old key
    // keeps working through the overlap; with no overlap it stops at once.
    let (s, _) = call(
        app,
        Method::POST,
        "/api/v1/integration/keys/rotate",
        &access,
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/integration/keys/rotate",
        &read_only,
        Some(json!({"overlap_hours": 24})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let second = v["key"].as_str().unwrap().to_string();
    for k in [&read_only, &second] {
        assert_eq!(
            call(app, Method::GET, "/api/v1/integration/reports", k, None).await.0,
            200
        );
    }
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/integration/keys/rotate",
        &second,
        Some(json!({"overlap_hours": 0})),
    )
    .await;
    assert_eq!(s, 200);
    let third = v["key"].as_str().unwrap().to_string();
    assert_eq!(
        call(app, Method::GET, "/api/v1/integration/reports", &read_only, None)
            .await
            .0,
        401
    );
    assert_eq!(
        call(app, Method::GET, "/api/v1/integration/reports", &second, None)
            .await
            .0,
        401
    );
    assert_eq!(
        call(app, Method::GET, "/api/v1/integration/reports", &third, None)
            .await
            .0,
        200
    );
    let (s, _) = call(
        app,
        Method::POST,
        "/api/v1/integration/keys/rotate",
        &third,
        Some(json!({"overlap_hours": 9999})),
    )
    .await;
    assert_eq!(s, 422);
    // Revocation ends every key and token of the client.
    assert!(clients::revoke(app.db.store.as_ref(), &id, None).await.unwrap());
    assert_eq!(
        call(app, Method::GET, "/api/v1/integration/reports", &third, None)
            .await
            .0,
        401
    );
    assert_eq!(
        call(app, Method::GET, "/api/v1/integration/reports", &access, None)
            .await
            .0,
        401
    );
    // Every step is in the audit log.
    let audit = app.db.store.audit_entries(Some(&id), 20).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    for a in [
        "integration.client_created",
        "integration.key_rotated",
        "integration.client_revoked",
    ] {
        assert!(actions.contains(&a), "{actions:?}");
    }
}
on_both_backends!(keys_scopes_and_oauth);

fn kinds(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn push_pull_act_and_feed(app: &TestApp) {
    let key = connect(app).await;
    // A native institution's client has no feed and may not push.
    let (_, kemenkes) = client(app, "kemenkes", "reports:read reports:write").await;
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/integration/reports",
        &kemenkes,
        Some(push_body("K-1")),
    )
    .await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("not_connected")));
    let (s, _) = call(app, Method::GET, "/api/v1/integration/changes", &kemenkes, None).await;
    assert_eq!(s, 409);

    // Push: filed, with the city, accepted; a resend is the same report.
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/integration/reports",
        &key,
        Some(push_body("SIMPEL-1")),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let id = v["tracking_id"].as_str().unwrap().to_string();
    assert_eq!(
        (
            v["duplicate"].as_bool(),
            v["report"]["status"].as_str(),
            v["report"]["institution"].as_str()
        ),
        (Some(false), Some("in_progress"), Some(CITY))
    );
    assert_eq!(v["report"]["channel"].as_str(), Some("sms"));
    let events = app.event_count(&id).await;
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/integration/reports",
        &key,
        Some(push_body("SIMPEL-1")),
    )
    .await;
    assert_eq!(
        (s, v["duplicate"].as_bool(), v["tracking_id"].as_str()),
        (200, Some(true), Some(id.as_str()))
    );
    assert_eq!(app.event_count(&id).await, events, "a resend adds nothing");

    // Bad input: a clear 4xx, nothing written.
    let outbox = app.outbox_count().await;
    let raw = |body: &'static str| {
        app.client
            .post(format!("{}/api/v1/integration/reports", app.base))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
    };
    let (s, v) = common::read(raw("{\"external_id\": ").send().await.unwrap()).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_json")));
    let big = format!("{{\"external_id\":\"A\",\"body\":\"{}\"}}", "x".repeat(200_000));
    let (s, _) = common::read(raw(Box::leak(big.into_boxed_str())).send().await.unwrap()).await;
    assert_eq!(s, 413);
    let mut bad = push_body("has space");
    let (s, _) = call(
        app,
        Method::POST,
        "/api/v1/integration/reports",
        &key,
        Some(bad.clone()),
    )
    .await;
    assert_eq!(s, 422);
    bad["external_id"] = json!("OK-1");
    bad["region_code"] = json!("99.99");
    let (s, v) = call(app, Method::POST, "/api/v1/integration/reports", &key, Some(bad)).await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("unknown_region")));
    assert_eq!(app.outbox_count().await, outbox);

    // A push with a photo, as multipart: the JSON in `report`, the file
    // sniffed and cleaned; a file that is not what it claims is refused
    // whole.
    let form = |file: Vec<u8>, id: &str| {
        reqwest::multipart::Form::new()
            .text("report", push_body(id).to_string())
            .part("file", reqwest::multipart::Part::bytes(file).file_name("lampu.jpg"))
    };
    let url = format!("{}/api/v1/integration/reports", app.base);
    let r = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .multipart(form(common::jpeg(), "WITH-PHOTO"))
        .send()
        .await
        .unwrap();
    let (s, v) = common::read(r).await;
    assert_eq!(s, 201, "{v}");
    let photo = lapor_domain::ids::TrackingId::parse(v["tracking_id"].as_str().unwrap()).unwrap();
    assert_eq!(app.db.store.attachments(&photo).await.unwrap().len(), 1);
    let before = app.outbox_count().await;
    let r = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .multipart(form(b"MZ not a photo".to_vec(), "FAKE-PHOTO"))
        .send()
        .await
        .unwrap();
    let (s, v) = common::read(r).await;
    assert_eq!((s, v["error"]["code"].as_str()), (415, Some("unsupported_file_type")));
    assert_eq!(app.outbox_count().await, before);

    // Pull and read what the city holds; a report it does not hold is 404,
    // whatever is done to it.
    let (s, v) = call(
        app,
        Method::GET,
        "/api/v1/integration/reports?status=in_progress",
        &key,
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["tracking_id"] == json!(id))
    );
    let (s, v) = call(
        app,
        Method::GET,
        &format!("/api/v1/integration/reports/{id}"),
        &key,
        None,
    )
    .await;
    assert_eq!((s, v["view"].as_str()), (200, Some("staff")));
    let (other, _) = app.submit(json!({})).await;
    let (s, _) = app
        .post(
            &format!("/api/v1/reports/{other}/disposition"),
            Some("national"),
            json!({"institution": "kemenkes"}),
        )
        .await;
    assert_eq!(s, 200);
    for (m, path, body) in [
        (Method::GET, format!("/api/v1/integration/reports/{other}"), None),
        (
            Method::POST,
            format!("/api/v1/integration/reports/{other}/follow-ups"),
            Some(json!({"body": "Sudah ditangani dengan baik."})),
        ),
        (
            Method::POST,
            format!("/api/v1/integration/reports/{other}/status"),
            Some(json!({"status": "completed"})),
        ),
        (
            Method::POST,
            "/api/v1/integration/reports/ZZZZ-ZZZZ/transfer".to_string(),
            Some(json!({"institution": "kemenkes", "reason": "x"})),
        ),
    ] {
        let (s, v) = call(app, m, &path, &key, body).await;
        assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")), "{path}");
    }

    // A follow-up under the system's own id; the resend is acknowledged.
    let path = format!("/api/v1/integration/reports/{id}/follow-ups");
    let answer = json!({"body": "Petugas PJU sudah mengganti lampu pada 20 November.", "external_id": "TL-7"});
    let (s, v) = call(app, Method::POST, &path, &key, Some(answer.clone())).await;
    assert_eq!(
        (s, v["duplicate"].as_bool(), v["report"]["status"].as_str()),
        (200, Some(false), Some("responded")),
        "{v}"
    );
    let events = app.event_count(&id).await;
    let (s, v) = call(app, Method::POST, &path, &key, Some(answer)).await;
    assert_eq!((s, v["duplicate"].as_bool()), (200, Some(true)));
    assert_eq!(app.event_count(&id).await, events);

    // With a photo (multipart): sniffed, cleaned, kept with the follow-up.
    let form = reqwest::multipart::Form::new()
        .text("body", "Foto setelah perbaikan terlampir.")
        .text("external_id", "TL-8")
        .part(
            "file",
            reqwest::multipart::Part::bytes(common::jpeg()).file_name("foto.jpg"),
        );
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (s, v) = common::read(r).await;
    assert_eq!(s, 200, "{v}");
    let tid = lapor_domain::ids::TrackingId::parse(&id).unwrap();
    assert_eq!(app.db.store.attachments(&tid).await.unwrap().len(), 1);
    // A text file named .jpg is refused by its bytes, and nothing is kept.
    let form = reqwest::multipart::Form::new().text("body", "Lampiran palsu.").part(
        "file",
        reqwest::multipart::Part::bytes(b"not an image at all".to_vec()).file_name("foto.jpg"),
    );
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (s, v) = common::read(r).await;
    assert_eq!((s, v["error"]["code"].as_str()), (415, Some("unsupported_file_type")));
    assert_eq!(app.db.store.attachments(&tid).await.unwrap().len(), 1);

    // Status: a hold needs a message; an unknown status is refused.
    let status = format!("/api/v1/integration/reports/{id}/status");
    let (s, _) = call(app, Method::POST, &status, &key, Some(json!({"status": "on_hold"}))).await;
    assert_eq!(s, 422);
    let (s, _) = call(app, Method::POST, &status, &key, Some(json!({"status": "teleported"}))).await;
    assert_eq!(s, 422);
    let (s, v) = call(
        app,
        Method::POST,
        &status,
        &key,
        Some(json!({"status": "completed", "message": "Selesai", "external_id": "ST-1"})),
    )
    .await;
    assert_eq!((s, v["report"]["status"].as_str()), (200, Some("completed")), "{v}");

    // A second pushed report goes on to another institution.
    let (_, v) = call(
        app,
        Method::POST,
        "/api/v1/integration/reports",
        &key,
        Some(push_body("SIMPEL-2")),
    )
    .await;
    let moved = v["tracking_id"].as_str().unwrap().to_string();
    let (s, v) = call(
        app,
        Method::POST,
        &format!("/api/v1/integration/reports/{moved}/transfer"),
        &key,
        Some(json!({"institution": "kemenkes", "reason": "Fasilitas milik rumah sakit vertikal Kemenkes.", "external_id": "TR-1"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = call(
        app,
        Method::GET,
        &format!("/api/v1/integration/reports/{moved}"),
        &key,
        None,
    )
    .await;
    assert_eq!(s, 404, "no longer the city's");

    // The changes feed: every event in commit order, paged by cursor. On
    // PostgreSQL it shows a commit once every older transaction on the
    // server has ended (tests in parallel hold some open), so wait for it.
    let mut all = Value::Null;
    for _ in 0..100 {
        let (s, page) = call(app, Method::GET, "/api/v1/integration/changes?limit=1000", &key, None).await;
        assert_eq!(s, 200, "{page}");
        all = page;
        if kinds(&all).len() >= 10 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        kinds(&all),
        [
            "dispositioned",
            "accepted",
            "dispositioned",
            "accepted",
            "followed_up",
            "followed_up",
            "completed",
            "dispositioned",
            "accepted",
            "transferred"
        ]
    );
    assert_eq!(all["has_more"], json!(false));
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let q = if cursor.is_empty() {
            "limit=3".to_string()
        } else {
            format!("limit=3&cursor={cursor}")
        };
        let (_, page) = call(
            app,
            Method::GET,
            &format!("/api/v1/integration/changes?{q}"),
            &key,
            None,
        )
        .await;
        seen.extend(kinds(&page));
        cursor = page["next_cursor"].as_str().unwrap().to_string();
        if page["has_more"] == json!(false) {
            break;
        }
    }
    assert_eq!(seen, kinds(&all));
    let (_, tail) = call(
        app,
        Method::GET,
        &format!("/api/v1/integration/changes?cursor={cursor}"),
        &key,
        None,
    )
    .await;
    assert!(kinds(&tail).is_empty());
    assert_eq!(
        tail["next_cursor"].as_str(),
        Some(cursor.as_str()),
        "an empty page keeps the cursor"
    );
    for bad in ["nonsense", "YzEueC4y", "%00"] {
        let (s, v) = call(
            app,
            Method::GET,
            &format!("/api/v1/integration/changes?cursor={bad}"),
            &key,
            None,
        )
        .await;
        assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_cursor")), "{bad}");
    }
}
on_both_backends!(push_pull_act_and_feed);

/// An anonymous citizen's report dispositioned to a connected institution:
/// nothing that leaves for the institution's system names the reporter.
async fn anonymity_holds_downstream(app: &TestApp) {
    let key = connect(app).await;
    let (id, _) = app
        .submit(json!({"anonymous": true, "reporter": {"name": "Siti Rahmawati", "email": "siti.rahma@contoh.id", "phone": "081234567890"}}))
        .await;
    let (s, _) = app
        .post(
            &format!("/api/v1/reports/{id}/disposition"),
            Some("national"),
            json!({"institution": CITY}),
        )
        .await;
    assert_eq!(s, 200);
    let tid = lapor_domain::ids::TrackingId::parse(&id).unwrap();
    let reporter = app
        .db
        .store
        .report(&tid)
        .await
        .unwrap()
        .unwrap()
        .report
        .reporter_id
        .unwrap();
    let mut seen = String::new();
    for path in [
        format!("/api/v1/integration/reports/{id}"),
        "/api/v1/integration/reports".to_string(),
        "/api/v1/integration/changes".to_string(),
    ] {
        let (s, v) = call(app, Method::GET, &path, &key, None).await;
        assert_eq!(s, 200, "{path}: {v}");
        seen.push_str(&v.to_string());
    }
    for secret in ["Siti", "siti.rahma", "081234567890", "6281234567890", reporter.as_str()] {
        assert!(!seen.contains(secret), "{secret} leaked: {seen}");
    }
    // The identity endpoint of the core API refuses the service account.
    let users = app.db.store.api_clients(Some(CITY)).await.unwrap();
    let token = "token-service-probe";
    app.db
        .store
        .create_token(&lapor_store::NewToken {
            token_hash: lapor_server::auth::token_digest(token),
            user_id: users[0].user_id.clone(),
            kind: lapor_store::TokenKind::Bearer,
            created_at: lapor_store::ts::Ts::now(),
            expires_at: lapor_store::ts::Ts::new(Utc::now() + Duration::hours(1)),
            user_agent: None,
        })
        .await
        .unwrap();
    let (s, _) = call(app, Method::GET, &format!("/api/v1/reports/{id}/reporter"), token, None).await;
    assert_eq!(s, 403, "an institution may not read an anonymous reporter's identity");
}
on_both_backends!(anonymity_holds_downstream);

// ------------------------------------------------------------ webhooks

/// A webhook receiver on a loopback port: records what arrives and answers
/// with the status it is told to.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    status: Arc<Mutex<u16>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let status = *r.status.lock().unwrap();
    r.got.lock().unwrap().push((headers, body));
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        *r.status.lock().unwrap() = 204;
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, url)
    }
    fn set(&self, status: u16) {
        *self.status.lock().unwrap() = status;
    }
    /// What arrived since the last call: headers, raw body, parsed body.
    fn take(&self) -> Vec<(HeaderMap, Bytes, Value)> {
        self.got
            .lock()
            .unwrap()
            .drain(..)
            .map(|(h, b)| {
                let v = serde_json::from_slice(&b).unwrap();
                (h, b, v)
            })
            .collect()
    }
}

fn verified(secret: &str, h: &HeaderMap, raw: &[u8], now: DateTime<Utc>) -> bool {
    let s = Secret::parse(secret).unwrap();
    let hv = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    verify(
        &[s],
        &hv("webhook-id"),
        &hv("webhook-timestamp"),
        &hv("webhook-signature"),
        raw,
        now.timestamp(),
    )
    .is_ok()
}

async fn pump(app: &TestApp, now: DateTime<Utc>) -> usize {
    let mut total = 0;
    loop {
        let n = run_batch_at(&app.state, &DeliveryConfig::default(), now).await.unwrap();
        total += n;
        if n == 0 {
            return total;
        }
    }
}

async fn webhooks_signed_ordered_retried_replayed(app: &TestApp) {
    let key = connect(app).await;
    let (rx, url) = Receiver::start().await;
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/integration/webhooks",
        &key,
        Some(json!({"url": url})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let sub = v["subscription"]["id"].as_str().unwrap().to_string();
    let secret = v["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    for bad in ["ftp://x/", "https://u:p@x.go.id/h", "nope"] {
        let (s, _) = call(
            app,
            Method::POST,
            "/api/v1/integration/webhooks",
            &key,
            Some(json!({"url": bad})),
        )
        .await;
        assert_eq!(s, 422, "{bad}");
    }
    // Another institution sees none of it.
    let (_, other) = client(app, "kemenkes", "webhooks").await;
    let (s, _) = call(
        app,
        Method::GET,
        &format!("/api/v1/integration/webhooks/{sub}/deliveries"),
        &other,
        None,
    )
    .await;
    assert_eq!(s, 404);

    // Three events reach the receiver, signed, in order, once each.
    let (id, _) = app.submit(json!({})).await;
    app.post(
        &format!("/api/v1/reports/{id}/disposition"),
        Some("national"),
        json!({"institution": CITY}),
    )
    .await;
    call(
        app,
        Method::POST,
        &format!("/api/v1/integration/reports/{id}/status"),
        &key,
        Some(json!({"status": "in_progress"})),
    )
    .await;
    call(
        app,
        Method::POST,
        &format!("/api/v1/integration/reports/{id}/follow-ups"),
        &key,
        Some(json!({"body": "Sedang kami periksa di lapangan."})),
    )
    .await;
    let now = Utc::now();
    assert_eq!(
        pump(app, now).await,
        3,
        "one batch per event: each waits for the one before"
    );
    let got = rx.take();
    let types: Vec<&str> = got.iter().map(|(_, _, b)| b["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["report.dispositioned", "report.accepted", "report.followed_up"]);
    for (h, raw, b) in &got {
        assert!(verified(&secret, h, raw, now), "signature of {b}");
        assert_eq!(
            h["webhook-id"].to_str().unwrap(),
            format!("msg_{}", b["data"]["event_id"])
        );
        assert_eq!(b["data"]["tracking_id"].as_str(), Some(id.as_str()));
    }

    // The receiver fails: the next event is retried with back-off, and the
    // one after it waits behind it.
    rx.set(500);
    call(
        app,
        Method::POST,
        &format!("/api/v1/integration/reports/{id}/follow-ups"),
        &key,
        Some(json!({"body": "Perbaikan dijadwalkan minggu depan."})),
    )
    .await;
    call(
        app,
        Method::POST,
        &format!("/api/v1/integration/reports/{id}/status"),
        &key,
        Some(json!({"status": "completed"})),
    )
    .await;
    let t0 = Utc::now();
    assert_eq!(pump(app, t0).await, 1);
    assert_eq!(rx.take().len(), 1);
    assert_eq!(pump(app, t0 + Duration::seconds(2)).await, 0, "backing off");
    assert_eq!(
        pump(app, t0 + Duration::seconds(10)).await,
        1,
        "second try after about 5 s"
    );
    let (_, log) = call(
        app,
        Method::GET,
        &format!("/api/v1/integration/webhooks/{sub}/deliveries?state=pending"),
        &key,
        None,
    )
    .await;
    let log = log.as_array().unwrap().clone();
    assert_eq!(log.len(), 2);
    let head = log.iter().find(|d| d["attempts"] == json!(2)).unwrap();
    assert_eq!(
        (head["last_status"].as_i64(), head["state"].as_str()),
        (Some(500), Some("pending"))
    );
    assert!(
        log.iter().any(|d| d["attempts"] == json!(0)),
        "the later event was never tried"
    );
    let (_, tries) = call(
        app,
        Method::GET,
        &format!("/api/v1/integration/webhooks/{sub}/deliveries/{}/attempts", head["id"]),
        &key,
        None,
    )
    .await;
    assert_eq!(tries.as_array().unwrap().len(), 2);
    assert!(tries[0]["latency_ms"].as_i64().is_some());

    // Three days of failures: dead-lettered; then the later event gets its
    // own three days.
    let mut t = t0;
    while t < t0 + Duration::days(6) + Duration::hours(8) {
        t += Duration::hours(1);
        pump(app, t).await;
    }
    let (_, dead) = call(
        app,
        Method::GET,
        &format!("/api/v1/integration/webhooks/{sub}/deliveries?state=dead"),
        &key,
        None,
    )
    .await;
    assert_eq!(dead.as_array().unwrap().len(), 2, "{dead}");
    rx.take();
    // Fixed; replay from the API delivers both, in order.
    rx.set(200);
    let (s, v) = call(
        app,
        Method::POST,
        &format!("/api/v1/integration/webhooks/{sub}/replay"),
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!((s, v["replayed"].as_u64()), (200, Some(2)));
    pump(app, Utc::now()).await;
    let types: Vec<String> = rx
        .take()
        .iter()
        .map(|(_, _, b)| b["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["report.followed_up", "report.completed"]);

    // Secret rotation: during the overlap both secrets sign.
    let (s, v) = call(
        app,
        Method::POST,
        &format!("/api/v1/integration/webhooks/{sub}/rotate-secret"),
        &key,
        Some(json!({"overlap_hours": 1})),
    )
    .await;
    assert_eq!(s, 200);
    let fresh = v["secret"].as_str().unwrap().to_string();
    let (s, _) = call(
        app,
        Method::POST,
        "/api/v1/integration/reports",
        &key,
        Some(push_body("ROT-1")),
    )
    .await;
    assert_eq!(s, 201);
    let now = Utc::now();
    pump(app, now).await;
    let got = rx.take();
    assert_eq!(got.len(), 2, "dispositioned and accepted");
    for (h, raw, _) in &got {
        assert_eq!(h["webhook-signature"].to_str().unwrap().split(' ').count(), 2);
        assert!(verified(&secret, h, raw, now) && verified(&fresh, h, raw, now));
    }
    // Unsubscribed: nothing more is queued.
    let (s, _) = call(
        app,
        Method::DELETE,
        &format!("/api/v1/integration/webhooks/{sub}"),
        &key,
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = call(
        app,
        Method::POST,
        "/api/v1/integration/reports",
        &key,
        Some(push_body("ROT-2")),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(pump(app, Utc::now()).await, 0);
}
on_both_backends!(webhooks_signed_ordered_retried_replayed);

/// The receiver is down for two days while 1,000 events happen on 500
/// reports; once it is back, every event arrives exactly once, each
/// report's in order, and nothing was dead-lettered.
async fn two_days_down_then_everything_arrives(app: &TestApp) {
    let key = connect(app).await;
    let (rx, url) = Receiver::start().await;
    let (_, v) = call(
        app,
        Method::POST,
        "/api/v1/integration/webhooks",
        &key,
        Some(json!({"url": url})),
    )
    .await;
    let sub = v["subscription"]["id"].as_str().unwrap().to_string();
    rx.set(503);
    // Each push is two events for the city: dispositioned, accepted.
    for i in 0..500 {
        let (s, v) = call(
            app,
            Method::POST,
            "/api/v1/integration/reports",
            &key,
            Some(push_body(&format!("BULK-{i}"))),
        )
        .await;
        assert_eq!(s, 201, "{v}");
    }
    let t0 = Utc::now();
    let mut t = t0;
    while t < t0 + Duration::days(2) {
        pump(app, t).await;
        t += Duration::minutes(20);
    }
    let failed = rx.take().len();
    assert!(
        failed >= 500 * 10,
        "every report's first event was retried through the outage ({failed} tries)"
    );
    rx.set(200);
    // Back up: within the next retry step everything is delivered.
    while t < t0 + Duration::days(2) + Duration::hours(8) {
        pump(app, t).await;
        t += Duration::minutes(20);
    }
    let got = rx.take();
    let mut ids: Vec<String> = got
        .iter()
        .map(|(h, _, _)| h["webhook-id"].to_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1000, "exactly once: {} arrived", ids.len());
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1000);
    let mut last: std::collections::HashMap<String, i64> = Default::default();
    for (_, _, b) in &got {
        let seq = b["data"]["seq"].as_i64().unwrap();
        let prev = last.insert(b["data"]["tracking_id"].as_str().unwrap().to_string(), seq);
        assert!(prev.is_none_or(|p| p < seq), "out of order");
    }
    let (_, dead) = call(
        app,
        Method::GET,
        &format!("/api/v1/integration/webhooks/{sub}/deliveries?state=dead"),
        &key,
        None,
    )
    .await;
    assert!(dead.as_array().unwrap().is_empty());
}
on_both_backends!(two_days_down_then_everything_arrives);

/// The staff page: institution admins manage their own clients and replay
/// their dead letters; the mode is the national admin's; others get 403.
async fn staff_integration_page(app: &TestApp) {
    use common::{hidden, page, signed_in};
    let base = &app.base;
    for who in ["bandung_liaison", "jabar_supervisor", "ombudsman"] {
        let b = signed_in(app, who).await;
        assert_eq!(page(&b, &format!("{base}/staf/integrasi")).await.0, 403, "{who}");
    }
    let kemenkes = signed_in(app, "kemenkes_admin").await;
    assert_eq!(
        page(&kemenkes, &format!("{base}/staf/integrasi?instansi={CITY}"))
            .await
            .0,
        403
    );

    let admin = signed_in(app, "bandung_admin").await;
    let (s, html) = page(&admin, &format!("{base}/staf/integrasi")).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains(CITY) && html.contains("Belum ada klien API"), "{html}");
    let post = |b: &reqwest::Client, html: &str, fields: Vec<(&'static str, String)>| {
        let mut f = vec![
            ("csrf", hidden(html, "csrf")),
            ("ft", hidden(html, "ft")),
            ("institution", CITY.to_string()),
        ];
        f.extend(fields);
        let req = b.post(format!("{base}/staf/integrasi")).form(&f);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // The mode is not the institution admin's to change.
    let (s, _) = post(&admin, &html, vec![("op", "mode".into()), ("mode", "connected".into())]).await;
    assert_eq!(s, 403);
    let national = signed_in(app, "national").await;
    let (_, nhtml) = page(&national, &format!("{base}/staf/integrasi?instansi={CITY}")).await;
    let (s, nhtml) = post(
        &national,
        &nhtml,
        vec![("op", "mode".into()), ("mode", "connected".into())],
    )
    .await;
    assert_eq!(s, 200);
    assert!(nhtml.contains("terhubung"), "{nhtml}");

    // A client made on the page: its key is shown once and works.
    let (_, html) = page(&admin, &format!("{base}/staf/integrasi")).await;
    let (s, html) = post(
        &admin,
        &html,
        vec![
            ("op", "create".into()),
            ("name", "SIMPEL Bandung".into()),
            ("reports_read", "on".into()),
            ("reports_write", "on".into()),
            ("webhooks", "on".into()),
        ],
    )
    .await;
    assert_eq!(s, 200, "{html}");
    let key = html
        .split("id=\"rahasia\" readonly value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        call(app, Method::GET, "/api/v1/integration/reports", &key, None)
            .await
            .0,
        200
    );
    let (_, again) = page(&admin, &format!("{base}/staf/integrasi")).await;
    assert!(!again.contains(&key), "shown once");

    // A dead letter shows in the log, with its response code, and is sent
    // again from the page.
    let (rx, url) = Receiver::start().await;
    rx.set(502);
    let (_, v) = call(
        app,
        Method::POST,
        "/api/v1/integration/webhooks",
        &key,
        Some(json!({"url": url})),
    )
    .await;
    let sub = v["subscription"]["id"].as_str().unwrap().to_string();
    call(
        app,
        Method::POST,
        "/api/v1/integration/reports",
        &key,
        Some(push_body("UI-1")),
    )
    .await;
    let t0 = Utc::now();
    let mut t = t0;
    while t < t0 + Duration::days(7) {
        pump(app, t).await;
        t += Duration::hours(2);
    }
    let (_, html) = page(&admin, &format!("{base}/staf/integrasi")).await;
    assert!(html.contains("dead") && html.contains("502"), "{html}");
    assert!(html.contains("Kirim ulang semua yang gagal"), "{html}");
    rx.set(200);
    let (s, html) = post(
        &admin,
        &html,
        vec![("op", "replay".into()), ("subscription", sub.clone())],
    )
    .await;
    assert_eq!(s, 200);
    assert!(html.contains("2 pengiriman dijadwalkan ulang"), "{html}");
    pump(app, Utc::now()).await;
    let (_, dead) = call(
        app,
        Method::GET,
        &format!("/api/v1/integration/webhooks/{sub}/deliveries?state=dead"),
        &key,
        None,
    )
    .await;
    assert!(dead.as_array().unwrap().is_empty());

    // Rotate and revoke from the page.
    let client_id = app.db.store.api_clients(Some(CITY)).await.unwrap()[0].id.clone();
    let (s, html) = post(
        &admin,
        &html,
        vec![
            ("op", "rotate".into()),
            ("client", client_id.clone()),
            ("overlap_hours", "0".into()),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let fresh = html
        .split("id=\"rahasia\" readonly value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        call(app, Method::GET, "/api/v1/integration/reports", &key, None)
            .await
            .0,
        401
    );
    assert_eq!(
        call(app, Method::GET, "/api/v1/integration/reports", &fresh, None)
            .await
            .0,
        200
    );
    let (s, _) = post(&admin, &html, vec![("op", "revoke".into()), ("client", client_id)]).await;
    assert_eq!(s, 200);
    assert_eq!(
        call(app, Method::GET, "/api/v1/integration/reports", &fresh, None)
            .await
            .0,
        401
    );
}
on_both_backends!(staff_integration_page);

/// Every integration route against every scope, and against callers that
/// are not integration clients: a missing scope is 403
/// `insufficient_scope`, a person's token or no credential is 401, and the
/// right scope gets past both (whatever the route then answers).
async fn every_route_against_every_scope(app: &TestApp) {
    clients::set_mode(app.db.store.as_ref(), CITY, "connected", None)
        .await
        .unwrap();
    let id = "ZZZZ-ZZZZ";
    #[rustfmt::skip]
    let routes: Vec<(Method, String, Option<Value>, &str)> = vec![
        (Method::POST, "/api/v1/integration/reports".into(), Some(push_body("T-1")), "reports:write"),
        (Method::GET, "/api/v1/integration/reports".into(), None, "reports:read"),
        (Method::GET, format!("/api/v1/integration/reports/{id}"), None, "reports:read"),
        (Method::POST, format!("/api/v1/integration/reports/{id}/follow-ups"), Some(json!({"body": "Jawaban"})), "reports:write"),
        (Method::POST, format!("/api/v1/integration/reports/{id}/status"), Some(json!({"status": "completed"})), "reports:write"),
        (Method::POST, format!("/api/v1/integration/reports/{id}/transfer"), Some(json!({"institution": "kemenkes", "reason": "x"})), "reports:write"),
        (Method::GET, "/api/v1/integration/changes".into(), None, "reports:read"),
        (Method::POST, "/api/v1/integration/webhooks".into(), Some(json!({"url": "http://127.0.0.1:9/h"})), "webhooks"),
        (Method::GET, "/api/v1/integration/webhooks".into(), None, "webhooks"),
        (Method::GET, "/api/v1/integration/webhooks/wh-x".into(), None, "webhooks"),
        (Method::DELETE, "/api/v1/integration/webhooks/wh-x".into(), None, "webhooks"),
        (Method::POST, "/api/v1/integration/webhooks/wh-x/rotate-secret".into(), Some(json!({})), "webhooks"),
        (Method::GET, "/api/v1/integration/webhooks/wh-x/deliveries".into(), None, "webhooks"),
        (Method::GET, "/api/v1/integration/webhooks/wh-x/deliveries/1/attempts".into(), None, "webhooks"),
        (Method::POST, "/api/v1/integration/webhooks/wh-x/replay".into(), Some(json!({})), "webhooks"),
    ];
    let mut keys = Vec::new();
    for scope in ["reports:read", "reports:write", "webhooks", "open311"] {
        keys.push((scope, client(app, CITY, scope).await.1));
    }
    let mut failures = Vec::new();
    for (method, path, body, needs) in &routes {
        for (scope, key) in &keys {
            let (s, v) = call(app, method.clone(), path, key, body.clone()).await;
            let refused = s == 403 && v["error"]["code"] == json!("insufficient_scope");
            if refused == (scope == needs) || s == 401 || s >= 500 {
                failures.push(format!("{method} {path} with {scope}: {s} {v}"));
            }
        }
        for who in ["token-national", "token-bandung_admin", ""] {
            let (s, _) = call(app, method.clone(), path, who, body.clone()).await;
            if s != 401 {
                failures.push(format!("{method} {path} as {who:?}: {s}, not 401"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
on_both_backends!(every_route_against_every_scope);
