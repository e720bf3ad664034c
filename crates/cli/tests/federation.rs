//! Federation between two Lapor instances, as two `lapor serve --demo`
//! processes: a national hub (on PostgreSQL when `LAPOR_TEST_PG_URL` is
//! set, else SQLite) and a regency (SQLite) connected to it as an ordinary
//! integration client of `pemkot-32.73`, registered with the ordinary CLI.
//!
//! - a report filed and verified at the regency reaches the hub, and the
//!   regency's follow-up reaches it too;
//! - a report filed at the hub and dispositioned to the regency reaches the
//!   regency, and the regency's answer goes back to the hub;
//! - a transfer the hub makes comes back as a note at the regency.

mod support;

use serde_json::{Value, json};
use std::path::PathBuf;
use support::{call, eventually, lapor, login, run_ok, serve, submit};

const CITY: &str = "pemkot-32.73";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lapor-fed-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn kinds(report: &Value) -> Vec<String> {
    report["events"].as_array().map_or(vec![], |e| {
        e.iter()
            .filter_map(|x| x["kind"].as_str().map(str::to_string))
            .collect()
    })
}

#[tokio::test]
async fn a_regency_lapor_federates_with_a_national_hub() {
    let dir = temp_dir("run");
    // The hub: PostgreSQL when available (the production path), else SQLite.
    let pg = lapor_store::testing::TestDb::postgres().await;
    let hub_db = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", dir.join("hub.db").display()),
    };
    let hub = serve(&hub_db, None);
    // The hub registers the regency as a connected system, as an operator
    // would.
    run_ok(lapor(&hub_db).args(["integration", "mode", CITY, "connected"]));
    let out = run_ok(lapor(&hub_db).args([
        "integration",
        "create-client",
        CITY,
        "--name",
        "Lapor Kota Bandung",
        "--scopes",
        "reports:read reports:write",
    ]));
    let key = out
        .lines()
        .find_map(|l| l.strip_prefix("api key:"))
        .unwrap()
        .trim()
        .to_string();

    let config = dir.join("regency.toml");
    std::fs::write(
        &config,
        format!(
            "[hub]\nbase_url = \"{}\"\napi_key = \"{key}\"\ninstitution = \"{CITY}\"\ninterval_secs = 1\n",
            hub.base
        ),
    )
    .unwrap();
    let regency_db = format!("sqlite://{}", dir.join("regency.db").display());
    let regency = serve(&regency_db, Some(&config));
    let http = reqwest::Client::new();
    let reg_national = login(&http, &regency.base, "nasional@lapor.demo").await;
    let reg_admin = login(&http, &regency.base, "admin.bandung@lapor.demo").await;
    let hub_national = login(&http, &hub.base, "nasional@lapor.demo").await;
    let hub_api = |path: &str| format!("{}/api/v1/integration{path}", hub.base);

    // 1. Filed and verified at the regency: the hub sees it, with our answer.
    let local = submit(&http, &regency.base, "Lampu jalan mati di Jl. Dipatiukur").await;
    let (s, v) = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/v1/reports/{local}/disposition", regency.base),
        Some(&reg_national),
        Some(json!({"institution": CITY})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let remote = eventually("the hub has the regency's report", || {
        let (http, url, key) = (http.clone(), hub_api("/reports"), key.clone());
        async move {
            let (_, v) = call(&http, reqwest::Method::GET, url, Some(&key), None).await;
            v["items"]
                .as_array()?
                .iter()
                .find(|r| r["title"] == json!("Lampu jalan mati di Jl. Dipatiukur"))
                .map(|r| r["tracking_id"].as_str().unwrap_or_default().to_string())
        }
    })
    .await;
    for action in ["accept", "follow-up"] {
        let body = if action == "accept" {
            json!({})
        } else {
            json!({"body": "Lampu sudah diganti oleh Dinas Perhubungan."})
        };
        let (s, v) = call(
            &http,
            reqwest::Method::POST,
            format!("{}/api/v1/reports/{local}/{action}", regency.base),
            Some(&reg_admin),
            Some(body),
        )
        .await;
        assert_eq!(s, 200, "{action}: {v}");
    }
    eventually("the regency's follow-up reaches the hub", || {
        let (http, url, key) = (http.clone(), hub_api(&format!("/reports/{remote}")), key.clone());
        async move {
            let (_, v) = call(&http, reqwest::Method::GET, url, Some(&key), None).await;
            (v["status"] == json!("responded") && kinds(&v).contains(&"followed_up".to_string())).then_some(())
        }
    })
    .await;

    // 2. Filed at the hub and dispositioned to the city: it reaches the
    //    regency, and the regency's answer goes back.
    let central = submit(&http, &hub.base, "Trotoar rusak di depan Gedung Sate").await;
    let (s, v) = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/v1/reports/{central}/disposition", hub.base),
        Some(&hub_national),
        Some(json!({"institution": CITY})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let pulled = eventually("the regency has the hub's report", || {
        let (http, url, t) = (
            http.clone(),
            format!("{}/api/v1/reports?institution={CITY}&limit=100", regency.base),
            reg_admin.clone(),
        );
        async move {
            let (_, v) = call(&http, reqwest::Method::GET, url, Some(&t), None).await;
            v["items"]
                .as_array()?
                .iter()
                .find(|r| r["title"] == json!("Trotoar rusak di depan Gedung Sate"))
                .map(|r| r["tracking_id"].as_str().unwrap_or_default().to_string())
        }
    })
    .await;
    for action in ["accept", "follow-up"] {
        let body = if action == "accept" {
            json!({})
        } else {
            json!({"body": "Perbaikan trotoar dijadwalkan pekan depan."})
        };
        let (s, v) = call(
            &http,
            reqwest::Method::POST,
            format!("{}/api/v1/reports/{pulled}/{action}", regency.base),
            Some(&reg_admin),
            Some(body),
        )
        .await;
        assert_eq!(s, 200, "{action}: {v}");
    }
    eventually("the regency's answer reaches the hub's report", || {
        let (http, url, t) = (
            http.clone(),
            format!("{}/api/v1/reports/{central}", hub.base),
            hub_national.clone(),
        );
        async move {
            let (_, v) = call(&http, reqwest::Method::GET, url, Some(&t), None).await;
            let answered = v["events"].as_array()?.iter().any(|e| {
                e["kind"] == json!("followed_up") && e["body"] == json!("Perbaikan trotoar dijadwalkan pekan depan.")
            });
            answered.then_some(())
        }
    })
    .await;

    // 3. The hub's verifier moves the regency's report to a ministry: the
    //    regency hears of it, as a note, and stops sending it up.
    let third = submit(&http, &regency.base, "Saluran air tersumbat di Jl. Riau").await;
    let (s, v) = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/v1/reports/{third}/disposition", regency.base),
        Some(&reg_national),
        Some(json!({"institution": CITY})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let third_remote = eventually("the hub has the third report", || {
        let (http, url, key) = (http.clone(), hub_api("/reports"), key.clone());
        async move {
            let (_, v) = call(&http, reqwest::Method::GET, url, Some(&key), None).await;
            v["items"]
                .as_array()?
                .iter()
                .find(|r| r["title"] == json!("Saluran air tersumbat di Jl. Riau"))
                .map(|r| r["tracking_id"].as_str().unwrap_or_default().to_string())
        }
    })
    .await;
    let (s, v) = call(
        &http,
        reqwest::Method::POST,
        format!("{}/api/v1/reports/{third_remote}/transfer", hub.base),
        Some(&hub_national),
        Some(json!({"institution": "kemenkes", "reason": "Lampu milik rumah sakit vertikal Kemenkes."})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    eventually("the hub's transfer comes back as a note", || {
        let (http, url, t) = (
            http.clone(),
            format!("{}/api/v1/reports/{third}", regency.base),
            reg_admin.clone(),
        );
        async move {
            let (_, v) = call(&http, reqwest::Method::GET, url, Some(&t), None).await;
            v["events"]
                .as_array()?
                .iter()
                .any(|e| {
                    e["kind"] == json!("note_added")
                        && e["body"]
                            .as_str()
                            .is_some_and(|b| b.starts_with("[Pusat] transferred") && b.contains("Kemenkes"))
                })
                .then_some(())
        }
    })
    .await;
    drop(regency);
    drop(hub);
    if let Some(db) = pg {
        db.close().await;
    }
    let _ = std::fs::remove_dir_all(dir);
}
