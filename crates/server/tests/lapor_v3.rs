//! The connector to the national SP4N-LAPOR! v3 API against a local
//! simulator that enforces the API's shapes, on both backends: verified
//! reports go up (anonymous ones naming no one), follow-ups go up with
//! their files, a transfer goes up as a forward, national logs come back as
//! notes (paged, our own not echoed), and passes are idempotent.

mod common;
#[path = "support/lapor_v3_sim.rs"]
mod sim;

use common::TestApp;
use lapor_integration::client::parse_scopes;
use lapor_server::integration::clients;
use lapor_server::integration::lapor_v3::{Client, LaporV3Config, Pass, run_once, sync_institutions};
use serde_json::json;
use sim::Sim;

const OURS: i64 = 151_345;

fn config(base: &str) -> LaporV3Config {
    LaporV3Config {
        base_url: base.into(),
        bearer: sim::BEARER.into(),
        token: sim::TOKEN.into(),
        channel: 13,
        classification_id: 6,
        category_id: 436,
        location_id: 34,
        institution_id: OURS,
        since: None,
        interval_secs: 300,
    }
}

async fn verified(app: &TestApp, extra: serde_json::Value) -> String {
    let (id, _) = app.submit(extra).await;
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/disposition"),
            Some("national"),
            json!({"institution": "pemkot-32.73"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    id
}

async fn notes(app: &TestApp, id: &str) -> Vec<String> {
    let tid = lapor_domain::ids::TrackingId::parse(id).unwrap();
    app.db
        .store
        .events(&tid)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.data.kind() == "note_added")
        .filter_map(|e| e.body)
        .collect()
}

async fn reports_upward(app: &TestApp) {
    let (sim, base) = Sim::start(&[
        (1, "Kementerian PANRB"),
        (OURS, "Pemerintah Kota Bandung"),
        (777, "Instansi kemenkes"),
        (778, "Kota Surabaya"),
    ])
    .await;
    let cfg = config(&base);
    let client = Client::new(cfg.clone());
    let st = &app.state;

    // Wrong credentials are refused by the API, and reported as such.
    let wrong = Client::new(LaporV3Config {
        token: "nope".into(),
        ..cfg.clone()
    });
    let e = wrong.institutions().await.unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
    assert_eq!(
        sim.world.lock().unwrap().refused.drain(..).collect::<Vec<_>>(),
        ["Unauthorized"]
    );

    // The institution list, all pages, matched to ours by name.
    assert_eq!(sync_institutions(st, &client).await.unwrap(), (4, 1));

    let anon = verified(
        app,
        json!({"anonymous": true, "reporter": {"name": "Siti Rahmawati", "email": "siti@contoh.id"}}),
    )
    .await;
    let named = verified(
        app,
        json!({"reporter": {"name": "Budi Santoso", "email": "budi@contoh.id"}}),
    )
    .await;
    let (unverified, _) = app.submit(json!({})).await;

    let pass = run_once(st, &client, &cfg).await.unwrap();
    assert_eq!((pass.sent, pass.failed), (2, 0), "{pass:?}");
    {
        let w = sim.world.lock().unwrap();
        assert!(w.refused.is_empty(), "{:?}", w.refused);
        assert_eq!(w.complaints.len(), 2);
        let by = |needle: &str| {
            w.complaints
                .values()
                .find(|c| c["content"].as_str().unwrap().contains(needle))
                .cloned()
        };
        let a = by(&anon).expect("the anonymous report went up");
        assert_eq!(a["is_anonymous"], json!(true));
        assert!(
            !a.to_string().contains("Siti"),
            "no identity leaves for an anonymous reporter: {a}"
        );
        let b = by(&named).expect("the named report went up");
        assert!(b["content"].as_str().unwrap().contains("Pelapor: Budi Santoso"));
        assert_eq!(
            (b["disposition_id"].as_i64(), b["channel"].as_i64()),
            (Some(OURS), Some(13))
        );
        assert!(by(&unverified).is_none(), "unverified reports stay here");
    }
    // A second pass sends nothing again.
    assert_eq!(run_once(st, &client, &cfg).await.unwrap(), Pass::default());

    // A follow-up with a photo goes up as a multipart follow-up.
    let key = clients::create(
        app.db.store.as_ref(),
        "pemkot-32.73",
        "SIMPEL",
        &parse_scopes("reports:write").unwrap(),
        None,
    )
    .await
    .unwrap()
    .key;
    let (s, _) = app
        .post(
            &format!("/api/v1/reports/{anon}/accept"),
            Some("bandung_admin"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let form = reqwest::multipart::Form::new()
        .text("body", "Petugas sudah memperbaiki lampu, foto terlampir.")
        .part(
            "file",
            reqwest::multipart::Part::bytes(common::jpeg()).file_name("foto.jpg"),
        );
    let r = app
        .client
        .post(format!("{}/api/v1/integration/reports/{anon}/follow-ups", app.base))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Not our authority: the named report goes to the Ministry of Health.
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{named}/transfer"),
            Some("bandung_admin"),
            json!({"institution": "kemenkes", "reason": "Rumah sakit vertikal milik Kemenkes."}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let pass = run_once(st, &client, &cfg).await.unwrap();
    assert_eq!(
        (pass.followups_sent, pass.forwards_sent, pass.failed),
        (1, 1, 0),
        "{pass:?} {:?}",
        sim.world.lock().unwrap().refused
    );
    let anon_remote = {
        let w = sim.world.lock().unwrap();
        assert!(w.refused.is_empty(), "{:?}", w.refused);
        let (cid, _) = w
            .complaints
            .iter()
            .find(|(_, c)| c["content"].as_str().unwrap().contains(&anon))
            .unwrap();
        let logs = &w.logs[cid];
        assert_eq!(logs.len(), 1);
        assert_eq!((logs[0].from_id, logs[0].files), (OURS, 1));
        assert!(logs[0].content.contains("Petugas sudah memperbaiki"));
        assert_eq!(w.forwards.len(), 1);
        assert_eq!(
            (
                w.forwards[0].1["reason"].as_i64(),
                w.forwards[0].1["not_authority"].as_i64()
            ),
            (Some(777), Some(1))
        );
        *cid
    };

    // National actions come back as notes, across pages; ours are not echoed.
    for (i, content) in [
        "Mohon segera ditindaklanjuti.",
        "Sudah dipantau.",
        "Laporan dinyatakan selesai.",
    ]
    .iter()
    .enumerate()
    {
        let new = if i == 2 { "Selesai" } else { "Diproses" };
        sim.national_log(anon_remote, (1, "Kementerian PANRB"), content, "Diproses", new);
    }
    let pass = run_once(st, &client, &cfg).await.unwrap();
    assert_eq!((pass.notes_added, pass.failed), (3, 0), "{pass:?}");
    let got = notes(app, &anon).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[0].starts_with("[SP4N-LAPOR! ") && got[0].contains("Kementerian PANRB: Mohon segera ditindaklanjuti."));
    assert!(got[2].ends_with("(status: Diproses → Selesai)"), "{}", got[2]);
    assert_eq!(
        run_once(st, &client, &cfg).await.unwrap(),
        Pass::default(),
        "nothing twice"
    );

    // The API down: the pass fails softly and the next one catches up.
    sim.national_log(
        anon_remote,
        (1, "Kementerian PANRB"),
        "Catatan terakhir.",
        "Selesai",
        "Selesai",
    );
    let broken = Client::new(LaporV3Config {
        base_url: "http://127.0.0.1:9".into(),
        ..cfg.clone()
    });
    let pass = run_once(st, &broken, &cfg).await.unwrap();
    assert!(pass.failed > 0 && pass.notes_added == 0, "{pass:?}");
    assert_eq!(run_once(st, &client, &cfg).await.unwrap().notes_added, 1);

    // Removed upstream: one note, then it is no longer followed.
    sim.world.lock().unwrap().complaints.remove(&anon_remote);
    let pass = run_once(st, &client, &cfg).await.unwrap();
    assert_eq!((pass.notes_added, pass.failed), (1, 0), "{pass:?}");
    assert!(
        notes(app, &anon)
            .await
            .last()
            .unwrap()
            .contains("tidak ada lagi di sistem nasional")
    );
    assert_eq!(run_once(st, &client, &cfg).await.unwrap(), Pass::default());
}
on_both_backends!(reports_upward);
