//! Every lifecycle endpoint against every kind of caller, over HTTP. The
//! expected callers are written out by hand per action; everyone else must
//! be refused (403, or 404 when they may not even see the report) and leave
//! no event behind.

mod common;

use common::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

/// Callers: the staff users of `common::USERS`, plus the public and the
/// reporter holding the PIN.
const CALLERS: &[&str] = &[
    "national",
    "bandung_admin",
    "dishub_admin",
    "bandung_liaison",
    "jabar_supervisor",
    "ombudsman",
    "auditor",
    "kemenkes_admin",
    "public",
    "pin",
];

/// States a report can be brought to before the action is tried.
#[derive(Clone, Copy, Debug)]
enum Setup {
    Submitted,
    Dispositioned,
    InProgress,
    WithUnit,
    Responded,
    Completed,
    OnHold,
    /// In progress and unresolved for 60 days: the Ombudsman is offered.
    OmbudsmanOffered,
}

async fn call(app: &TestApp, who: &str, path: &str, pin: &str, body: &Value) -> u16 {
    let mut req = match who {
        "public" | "pin" => app.req(Method::POST, path, None),
        staff => app.req(Method::POST, path, Some(staff)),
    };
    if who == "pin" {
        req = req.header("x-lapor-pin", pin);
    }
    req.json(body).send().await.unwrap().status().as_u16()
}

async fn prepare(app: &TestApp, setup: Setup) -> (String, String) {
    let (id, pin) = app.submit(json!({})).await;
    let p = |a: &str| format!("/api/v1/reports/{id}/{a}");
    let ok = |s: (u16, Value)| assert_eq!(s.0, 200, "{}", s.1);
    use Setup::*;
    if matches!(setup, Submitted) {
        return (id, pin);
    }
    ok(app
        .post(
            &p("disposition"),
            Some("national"),
            json!({ "institution": "pemkot-32.73" }),
        )
        .await);
    if matches!(setup, OnHold) {
        ok(app
            .post(
                &p("hold"),
                Some("bandung_admin"),
                json!({ "message": "Mohon lengkapi alamat kejadian." }),
            )
            .await);
        return (id, pin);
    }
    if matches!(setup, Dispositioned) {
        return (id, pin);
    }
    ok(app.post(&p("accept"), Some("bandung_admin"), json!({})).await);
    if matches!(setup, InProgress) {
        return (id, pin);
    }
    if matches!(setup, OmbudsmanOffered) {
        let tid = lapor_domain::ids::TrackingId::parse(&id).unwrap();
        let submitted = app.db.store.report(&tid).await.unwrap().unwrap().report.submitted_at;
        let at = submitted + chrono::Duration::days(61);
        let s = lapor_server::deadlines::run_pass(&app.state, at).await.unwrap();
        assert!(s.ombudsman_offered >= 1, "{s:?}");
        return (id, pin);
    }
    ok(app
        .post(
            &p("disposition-unit"),
            Some("bandung_admin"),
            json!({ "unit": "pemkot-32.73-dishub" }),
        )
        .await);
    if matches!(setup, WithUnit) {
        return (id, pin);
    }
    ok(app
        .post(
            &p("follow-up"),
            Some("dishub_admin"),
            json!({ "body": "Sudah kami tangani hari ini." }),
        )
        .await);
    if matches!(setup, Responded) {
        return (id, pin);
    }
    ok(app.post(&p("complete"), Some("bandung_admin"), json!({})).await);
    (id, pin)
}

async fn every_caller_against_every_action(app: &TestApp) {
    use Setup::*;
    #[rustfmt::skip]
    let table: Vec<(&str, Setup, Value, &[&str])> = vec![
        ("disposition", Submitted, json!({ "institution": "pemkot-32.73" }), &["national"]),
        ("archive", Submitted, json!({ "reason": "spam" }), &["national"]),
        ("merge", Submitted, json!({ "into": "__OTHER__" }), &["national"]),
        ("hold", Dispositioned, json!({ "message": "Mohon lengkapi lokasi." }), &["national", "bandung_admin"]),
        ("accept", Dispositioned, json!({}), &["bandung_admin"]),
        ("resume", OnHold, json!({ "note": "Alamat: Jl. Setiabudi 12." }), &["national", "bandung_admin", "pin"]),
        ("transfer", InProgress, json!({ "institution": "kemenkes", "reason": "Urusan fasilitas kesehatan pusat." }), &["national", "bandung_admin"]),
        ("disposition-unit", InProgress, json!({ "unit": "pemkot-32.73-dishub" }), &["bandung_admin"]),
        ("follow-up", WithUnit, json!({ "body": "Tim sudah turun ke lokasi." }), &["bandung_admin", "dishub_admin", "bandung_liaison"]),
        ("reply", Responded, json!({ "body": "Masih ada lubang lain." }), &["pin"]),
        ("rate", Responded, json!({ "rating": 4 }), &["pin"]),
        ("complete", Responded, json!({}), &["national", "bandung_admin", "pin"]),
        ("reopen", Completed, json!({ "reason": "Lubang muncul lagi." }), &["national", "pin"]),
        ("ombudsman", OmbudsmanOffered, json!({}), &["pin"]),
    ];
    let (other, _) = app.submit(json!({})).await;
    let mut failures = Vec::new();
    for (action, setup, body, allowed) in &table {
        let body: Value = serde_json::from_str(&body.to_string().replace("__OTHER__", &other)).unwrap();
        for who in CALLERS {
            let (id, pin) = prepare(app, *setup).await;
            let before = app.event_count(&id).await;
            let status = call(app, who, &format!("/api/v1/reports/{id}/{action}"), &pin, &body).await;
            let after = app.event_count(&id).await;
            let expect_ok = allowed.contains(who);
            let fine = if expect_ok {
                status == 200 && after == before + 1
            } else {
                matches!(status, 401 | 403 | 404) && after == before
            };
            if !fine {
                failures.push(format!(
                    "{action} in {setup:?} as {who}: HTTP {status}, events {before} -> {after}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

on_both_backends!(every_caller_against_every_action);
