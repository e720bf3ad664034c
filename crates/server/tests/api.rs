//! The REST API end to end over real HTTP, on SQLite and (with
//! `LAPOR_TEST_PG_URL`) PostgreSQL.

mod common;

use common::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

async fn full_lifecycle(app: &TestApp) {
    let (id, pin) = app
        .submit(json!({ "anonymous": true, "reporter": { "name": "Siti", "email": "siti@contoh.id" } }))
        .await;
    let path = |a: &str| format!("/api/v1/reports/{id}/{a}");
    // Not yet verified: invisible to the public, visible with the PIN.
    assert_eq!(app.get(&format!("/api/v1/reports/{id}"), None).await.0, 404);
    let (s, v) = read_pin(app, &id, &pin).await;
    assert_eq!(s, 200);
    assert_eq!(v["view"], "reporter");
    assert_eq!(v["status"], "submitted");

    let (s, v) = app
        .post(
            &path("disposition"),
            Some("national"),
            json!({ "institution": "pemkot-32.73", "version": 1 }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "dispositioned");
    let (s, v) = app.post(&path("accept"), Some("bandung_admin"), json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "in_progress");
    let (s, v) = app
        .post(
            &path("disposition-unit"),
            Some("bandung_admin"),
            json!({ "unit": "pemkot-32.73-dishub" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["unit"], "pemkot-32.73-dishub");
    let (s, v) = app
        .post(
            &path("follow-up"),
            Some("dishub_admin"),
            json!({ "body": "Lubang sudah kami tambal pada 3 November." }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "responded");

    // The reporter answers with the PIN, the liaison follows up again.
    let (s, v) = post_pin(
        app,
        &path("reply"),
        &pin,
        json!({ "body": "Masih ada satu lubang lagi di sebelahnya." }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "in_progress");
    let (s, _) = app
        .post(
            &path("follow-up"),
            Some("bandung_liaison"),
            json!({ "body": "Lubang kedua juga sudah ditambal." }),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = post_pin(
        app,
        &path("rate"),
        &pin,
        json!({ "rating": 5, "comment": "Terima kasih" }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["rating"], 5);

    // Now public: anonymous shown as "Anonim", internal events hidden.
    let (s, v) = app.get(&format!("/api/v1/reports/{id}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["view"], "public");
    assert_eq!(v["reporter_label"], "Anonim");
    let kinds: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        !kinds.contains(&"dispositioned_to_unit"),
        "internal event leaked: {kinds:?}"
    );
    assert!(v.get("unit").is_none());
    assert!(!v.to_string().contains("siti@contoh.id"));

    // Reopen once within the window.
    let (s, v) = post_pin(
        app,
        &path("reopen"),
        &pin,
        json!({ "reason": "Lubangnya muncul lagi setelah hujan." }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "in_progress");
    assert_eq!(app.event_count(&id).await, 9);
}

async fn read_pin(app: &TestApp, id: &str, pin: &str) -> (u16, Value) {
    common::read(
        app.req(Method::GET, &format!("/api/v1/reports/{id}"), None)
            .header("x-lapor-pin", pin)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn post_pin(app: &TestApp, path: &str, pin: &str, body: Value) -> (u16, Value) {
    common::read(
        app.req(Method::POST, path, None)
            .header("x-lapor-pin", pin)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

on_both_backends!(full_lifecycle);

/// Each bad request gets its 4xx code and leaves no event or outbox row.
async fn bad_input_is_refused_whole(app: &TestApp) {
    let (id, _) = app.submit(json!({})).await;
    let events = app.event_count(&id).await;
    let outbox = app.outbox_count().await;
    let url = format!("{}/api/v1/reports/{id}/disposition", app.base);
    let bearer = format!("Bearer {}", app.tokens["national"]);
    let raw = |body: Vec<u8>, ct: &'static str| {
        app.client
            .post(&url)
            .header("authorization", &bearer)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or_default().to_string();

    let (s, v) = common::read(raw(b"{\"institution\": ".to_vec(), "application/json").await.unwrap()).await;
    assert_eq!((s, code(&v).as_str()), (400, "invalid_json"));
    let (s, v) = common::read(
        raw(vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'], "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, code(&v).as_str()), (400, "invalid_encoding"));
    let (s, v) = common::read(
        raw(b"institution=x".to_vec(), "application/x-www-form-urlencoded")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, code(&v).as_str()), (415, "unsupported_media_type"));
    let big = format!("{{\"institution\": \"{}\"}}", "x".repeat(200_000));
    let (s, v) = common::read(raw(big.into_bytes(), "application/json").await.unwrap()).await;
    assert_eq!((s, code(&v).as_str()), (413, "body_too_large"));
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/disposition"),
            Some("national"),
            json!({ "institution": "nowhere" }),
        )
        .await;
    assert_eq!((s, code(&v).as_str()), (422, "unknown_institution"));
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/disposition"),
            Some("national"),
            json!({ "institution": 7 }),
        )
        .await;
    assert_eq!((s, code(&v).as_str()), (422, "validation_failed"));
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/accept"),
            Some("bandung_admin"),
            json!({}),
        )
        .await;
    assert_eq!(
        s, 404,
        "an institution that does not hold the report cannot even see it: {v}"
    );
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("national"),
            json!({ "body": "Jawaban resmi." }),
        )
        .await;
    assert_eq!((s, code(&v).as_str()), (403, "forbidden"));
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/disposition"),
            Some("national"),
            json!({ "institution": "pemkot-32.73", "version": 7 }),
        )
        .await;
    assert_eq!((s, code(&v).as_str()), (409, "stale_version"));
    let (s, v) = app
        .post(&format!("/api/v1/reports/{id}/complete"), Some("national"), json!({}))
        .await;
    assert_eq!((s, code(&v).as_str()), (409, "transition_not_allowed"));
    assert_eq!(app.event_count(&id).await, events, "no event from refused requests");
    assert_eq!(app.outbox_count().await, outbox, "no outbox row from refused requests");

    // Submission errors, in English on request.
    let (s, v) = common::read(
        app.req(Method::POST, "/api/v1/reports", None)
            .header("accept-language", "en-US,en;q=0.9")
            .json(&json!({ "classification": "pengaduan", "title": "Jalan rusak parah", "body": "Jalan rusak parah sekali.", "region_code": "99.99" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, code(&v).as_str()), (422, "unknown_region"));
    assert_eq!(v["error"]["message"], "Unknown region code.");
    let (s, v) = app
        .post(
            "/api/v1/reports",
            None,
            json!({ "classification": "keluhan", "title": "x", "body": "y" }),
        )
        .await;
    assert_eq!((s, code(&v).as_str()), (422, "validation_failed"));
    assert_eq!(v["error"]["message"], "Data yang dikirim tidak sah.");
    let (s, v) = app.post("/api/v1/reports", None, json!({ "classification": "aspirasi", "title": "Usulan taman", "body": "Mohon dibangun taman kota.", "latitude": 48.8, "longitude": 2.3 })).await;
    assert_eq!((s, code(&v).as_str()), (422, "validation_failed"));
    let (s, v) = app.get("/api/v1/reports?limit=0", None).await;
    assert_eq!((s, code(&v).as_str()), (400, "invalid_query"));
    let (s, v) = app.get("/api/v1/reports?status=lost", None).await;
    assert_eq!((s, code(&v).as_str()), (400, "invalid_query"));
    let (s, v) = app.get("/api/v1/reports?cursor=garbage", None).await;
    assert_eq!((s, code(&v).as_str()), (400, "invalid_query"));
    let (s, v) = app.get("/api/v1/nothing-here", None).await;
    assert_eq!((s, code(&v).as_str()), (404, "not_found"));
    let (s, v) = common::read(app.req(Method::DELETE, "/api/v1/reports", None).send().await.unwrap()).await;
    assert_eq!((s, code(&v).as_str()), (405, "method_not_allowed"));
    let (s, v) = common::read(
        app.req(Method::GET, "/api/v1/me", None)
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, code(&v).as_str()), (401, "unauthenticated"));
}

on_both_backends!(bad_input_is_refused_whole);

async fn privacy_rules_hold(app: &TestApp) {
    // An anonymous report with a name in it, dispositioned to Bandung.
    let (id, _pin) = app
        .submit(json!({
            "anonymous": true,
            "body": "Saya Budi, NIK 3273010101900001, hp 0812-3456-7890, dipungut biaya saat mengurus KTP.",
            "reporter": { "name": "Budi", "phone": "081234567890" }
        }))
        .await;
    app.post(
        &format!("/api/v1/reports/{id}/disposition"),
        Some("national"),
        json!({ "institution": "pemkot-32.73" }),
    )
    .await;

    // Public view masks personal data.
    let (s, v) = app.get(&format!("/api/v1/reports/{id}"), None).await;
    assert_eq!(s, 200);
    let text = v.to_string();
    assert!(!text.contains("3273010101900001") && !text.contains("3456"), "{text}");
    assert!(text.contains("[NIK disamarkan]"));
    // Staff see the text and the PII flags, but not the identity.
    let (_, v) = app.get(&format!("/api/v1/reports/{id}"), Some("bandung_admin")).await;
    assert_eq!(v["view"], "staff");
    assert!(v["pii_detected"].as_array().unwrap().contains(&json!("nik")));
    assert!(v.get("reporter_id").is_none());
    for who in [
        "bandung_admin",
        "bandung_liaison",
        "dishub_admin",
        "jabar_supervisor",
        "ombudsman",
        "auditor",
        "kemenkes_admin",
    ] {
        let (s, v) = app.get(&format!("/api/v1/reports/{id}/reporter"), Some(who)).await;
        assert!(s == 403 || s == 404, "{who} read an anonymous identity: {s} {v}");
        assert!(!v.to_string().contains("Budi"));
    }
    // The national admin may, and the read is audited.
    let before = app.db.store.audit_entries(Some(&id), 10).await.unwrap().len();
    let (s, v) = app
        .get(&format!("/api/v1/reports/{id}/reporter"), Some("national"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["reporter"]["name"], "Budi");
    assert_eq!(v["reporter"]["phone"], "+6281234567890");
    let after = app.db.store.audit_entries(Some(&id), 10).await.unwrap();
    assert_eq!(after.len(), before + 1);
    assert_eq!(after[0].action, "read_anonymous_identity");

    // A confidential report: same 404 for the public, a wrong PIN, and a missing report.
    let (cid, cpin) = app.submit(json!({ "confidential": true })).await;
    app.post(
        &format!("/api/v1/reports/{cid}/disposition"),
        Some("national"),
        json!({ "institution": "pemkot-32.73" }),
    )
    .await;
    let missing = app.get("/api/v1/reports/0000-0000", None).await;
    let public = app.get(&format!("/api/v1/reports/{cid}"), None).await;
    let wrong_pin = read_pin(app, &cid, if cpin == "00000000" { "11111111" } else { "00000000" }).await;
    assert_eq!(public, missing);
    assert_eq!(wrong_pin, missing);
    assert_eq!(missing.0, 404);
    assert_eq!(read_pin(app, &cid, &cpin).await.0, 200);
    let (_, list) = app.get("/api/v1/reports?limit=100", None).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tracking_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id.as_str()) && !ids.contains(&cid.as_str()), "{ids:?}");
    // Staff of another institution see neither in their list.
    let (_, list) = app.get("/api/v1/reports?limit=100", Some("kemenkes_admin")).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    // The province supervisor sees both, read-only.
    let (_, list) = app.get("/api/v1/reports?limit=100", Some("jabar_supervisor")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    // Search is the same store capability for both: stemmed ("berlubang" and
    // "lubang" meet), confidential reports only for staff who may read them.
    let ids_of = |v: &serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["tracking_id"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, list) = app.get("/api/v1/reports?q=lubang%20setiabudi", None).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(ids_of(&list), vec![id.clone()]);
    let (_, list) = app
        .get("/api/v1/reports?q=lubang%20setiabudi", Some("jabar_supervisor"))
        .await;
    assert_eq!(ids_of(&list), vec![cid.clone(), id.clone()]);
    let (_, list) = app.get("/api/v1/reports?q=puskesmas", Some("jabar_supervisor")).await;
    assert!(ids_of(&list).is_empty());
    let (s, _) = app
        .post(
            &format!("/api/v1/reports/{cid}/accept"),
            Some("jabar_supervisor"),
            json!({}),
        )
        .await;
    assert_eq!(s, 403);
}

on_both_backends!(privacy_rules_hold);

/// PIN guessing is throttled per Tracking ID, for real and made-up IDs alike.
async fn pin_guessing_is_throttled(app: &TestApp) {
    let (id, pin) = app.submit(json!({})).await;
    let wrong = if pin == "00000000" { "11111111" } else { "00000000" };
    for target in [id.as_str(), "0000-0000"] {
        for _ in 0..lapor_server::service::PIN_FAILURES_ALLOWED {
            assert_eq!(read_pin(app, target, wrong).await.0, 404);
        }
        let (s, v) = read_pin(app, target, wrong).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (429, Some("rate_limited")),
            "{target}"
        );
    }
    // Locked even with the right PIN until the window passes; other reports are unaffected.
    assert_eq!(read_pin(app, &id, &pin).await.0, 429);
    let (other, other_pin) = app.submit(json!({})).await;
    assert_eq!(read_pin(app, &other, &other_pin).await.0, 200);
    // Staff and the public (without a PIN) are not affected by the lock.
    assert_eq!(app.get(&format!("/api/v1/reports/{id}"), Some("national")).await.0, 200);
}

on_both_backends!(pin_guessing_is_throttled);

async fn idempotent_submission_and_accounts(app: &TestApp) {
    let body = json!({ "classification": "aspirasi", "title": "Usulan halte baru", "body": "Mohon dibangun halte di depan pasar." });
    let send = || {
        app.req(Method::POST, "/api/v1/reports", None)
            .header("idempotency-key", "c0ffee-2026-11-23-0001")
            .json(&body)
            .send()
    };
    let (s1, v1) = common::read(send().await.unwrap()).await;
    let (s2, v2) = common::read(send().await.unwrap()).await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(v1["tracking_id"], v2["tracking_id"]);
    assert_eq!(v1["pin"], v2["pin"], "a retry gets the same PIN");
    assert_eq!(v2["duplicate"], true);

    // A citizen account: register, log in, submit, list own reports.
    let (s, v) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "name": "Ani", "email": "ani@contoh.id", "password": "kata-sandi-ani" }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "name": "Ani", "email": "ani@contoh.id", "password": "kata-sandi-ani" }),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("conflict")));
    let (s, _) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "login": "ani@contoh.id", "password": "salah-sandi" }),
        )
        .await;
    assert_eq!(s, 401);
    let resp = app
        .req(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({ "login": "ANI@contoh.id", "password": "kata-sandi-ani" }))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let (s, v) = common::read(resp).await;
    assert_eq!(s, 200);
    let token = v["token"].as_str().unwrap().to_string();
    let (s, v) = common::read(
        app.req(Method::POST, "/api/v1/reports", None)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let mine = v["tracking_id"].as_str().unwrap().to_string();
    let (s, v) = common::read(
        app.req(Method::GET, "/api/v1/reports?mine=true", None)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["tracking_id"], mine.as_str());
    // The owner reads it without a PIN; logout revokes the token.
    let (s, v) = common::read(
        app.req(Method::GET, &format!("/api/v1/reports/{mine}"), None)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, v["view"].as_str()), (200, Some("reporter")));
    let (s, _) = common::read(
        app.req(Method::POST, "/api/v1/auth/logout", None)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = common::read(
        app.req(Method::GET, "/api/v1/me", None)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);

    // Staff enter a report on a citizen's behalf.
    let (s, v) = app
        .post("/api/v1/reports", Some("bandung_admin"), json!({ "classification": "pengaduan", "title": "Laporan lewat telepon", "body": "Warga melapor lampu jalan mati sejak seminggu.", "reporter": { "name": "Pak Ujang", "phone": "0813 1111 2222" }, "channel": "staff" }))
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["report"]["channel"], "staff");
    let (s, _) = app
        .post("/api/v1/reports", Some("bandung_liaison"), json!({ "classification": "aspirasi", "title": "Usulan lewat telepon", "body": "Usulan penambahan tempat sampah." }))
        .await;
    assert_eq!(s, 403, "a liaison does not file on behalf of citizens");
}

on_both_backends!(idempotent_submission_and_accounts);

async fn reference_data_and_docs(app: &TestApp) {
    let (s, v) = app.get("/api/v1/institutions/pemkot-32.73", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["path"], json!(["lapor", "pemprov-32", "pemkot-32.73"]));
    assert_eq!(v["children"][0]["code"], "pemkot-32.73-dishub");
    let (s, v) = app.get("/api/v1/institutions?q=dishub", None).await;
    assert_eq!((s, v.as_array().unwrap().len()), (200, 1));
    let (s, v) = app.get("/api/v1/regions", None).await;
    assert_eq!((s, v.as_array().unwrap().len()), (200, 2), "provinces by default");
    let (s, v) = app.get("/api/v1/regions?parent=32.73.01", None).await;
    assert_eq!((s, v[0]["name"].as_str()), (200, Some("Gegerkalong")));
    assert_eq!(app.get("/api/v1/regions/99", None).await.0, 404);
    assert_eq!(app.get("/api/v1/regions?level=9", None).await.0, 400);
    let (s, v) = app.get("/api/v1/categories", None).await;
    assert_eq!((s, v[0]["code"].as_str()), (200, Some("jalan")));

    let (s, doc) = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/reports",
        "/api/v1/reports/{id}",
        "/api/v1/reports/{id}/disposition",
        "/api/v1/reports/{id}/reopen",
        "/api/v1/regions",
        "/api/v1/auth/login",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
    }
    let html = app
        .client
        .get(format!("{}/api/v1/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    assert!(html.text().await.unwrap().contains("swagger"));
}

on_both_backends!(reference_data_and_docs);
