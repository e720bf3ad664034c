//! The institution workspace over real HTTP, as a browser without
//! JavaScript would use it: second-factor sign-in with codes computed here,
//! lockout, the verification → disposition → unit → follow-up flow that the
//! reporter then sees, stale and replayed forms, transfer, merge, and a
//! crawl of every workspace page as institution staff that must never show
//! an anonymous reporter's identity.

mod common;

use common::{TestApp, act, browser, hidden, page, signed_in};
use lapor_domain::totp;
use lapor_server::auth::hash_password;
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::collections::{HashSet, VecDeque};

async fn status_of(app: &TestApp, id: &str) -> String {
    let tid = lapor_domain::ids::TrackingId::parse(id).unwrap();
    app.db
        .store
        .report(&tid)
        .await
        .unwrap()
        .unwrap()
        .report
        .status
        .to_string()
}

async fn two_factor_sign_in_and_lockout(app: &TestApp) {
    let store = &app.db.store;
    store
        .set_password("u-national", &hash_password("sandi-nasional-1").unwrap())
        .await
        .unwrap();
    let b = browser();
    let (_, html) = page(&b, &format!("{}/staf/masuk", app.base)).await;
    let login = |b: &Client, csrf: String, password: &'static str| {
        b.post(format!("{}/staf/masuk", app.base))
            .form(&[
                ("csrf", csrf),
                ("login", "national@lapor.test".into()),
                ("password", password.into()),
                ("kembali", "/staf".into()),
            ])
            .send()
    };
    let csrf = hidden(&html, "csrf");
    // An admin without a second factor must enrol one before anything else.
    let r = login(&b, csrf.clone(), "sandi-nasional-1").await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/staf/verifikasi/daftar");
    let (s, _) = page(&b, &format!("{}/staf", app.base)).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "no session before the second factor");
    let (_, enrol) = page(&b, &format!("{}/staf/verifikasi/daftar", app.base)).await;
    let secret = hidden(&enrol, "secret");
    let raw = totp::base32_decode(&secret).unwrap();
    let code = totp::code_at(&raw, chrono::Utc::now().timestamp());
    // A wrong code is refused; the right one shows the recovery codes once.
    let form = |code: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("secret", secret.clone()),
            ("mac", hidden(&enrol, "mac")),
            ("kode", code.to_string()),
        ]
    };
    let r = b
        .post(format!("{}/staf/verifikasi/daftar", app.base))
        .form(&form("000000x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = b
        .post(format!("{}/staf/verifikasi/daftar", app.base))
        .form(&form(&code))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let codes_page = r.text().await.unwrap();
    let recovery: Vec<String> = codes_page
        .split("<li><code>")
        .skip(1)
        .map(|x| x.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10, "{codes_page}");
    let (s, html) = page(&b, &format!("{}/staf", app.base)).await;
    assert_eq!(s, 200);
    assert!(html.contains("Antrean verifikasi"), "{html}");

    // Signing in again asks for a code; the one already used is refused.
    let b2 = browser();
    let (_, html) = page(&b2, &format!("{}/staf/masuk", app.base)).await;
    let csrf2 = hidden(&html, "csrf");
    let r = login(&b2, csrf2.clone(), "sandi-nasional-1").await.unwrap();
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/staf/verifikasi?")
    );
    let post_code = |code: String| {
        b2.post(format!("{}/staf/verifikasi", app.base))
            .form(&[("csrf", csrf2.clone()), ("kode", code), ("kembali", "/staf".into())])
            .send()
    };
    let r = post_code(code.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a TOTP code works once");
    // A recovery code works, once.
    let r = post_code(recovery[0].clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, _) = page(&b2, &format!("{}/staf", app.base)).await;
    assert_eq!(s, 200);

    // The API login needs the code too.
    let (s, v) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": "national@lapor.test", "password": "sandi-nasional-1"}),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("invalid_second_factor")));

    // The sessions page lists both browsers; one can be revoked.
    let (_, sessions) = page(&b2, &format!("{}/staf/sesi", app.base)).await;
    assert!(sessions.contains("Sisa kode pemulihan: 9"), "{sessions}");

    // Five wrong passwords lock the account, even for the right password.
    let b3 = browser();
    let (_, html) = page(&b3, &format!("{}/staf/masuk", app.base)).await;
    let csrf3 = hidden(&html, "csrf");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            login(&b3, csrf3.clone(), "salah-sandi-sekali")
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 429]);
    let r = login(&b3, csrf3.clone(), "sandi-nasional-1").await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let sec = store.user_security("u-national").await.unwrap().unwrap();
    assert!(sec.locked_until.is_some());

    // Password reset: a link is queued for e-mail; it works once and ends
    // every session.
    let (_, html) = page(&b3, &format!("{}/staf/lupa-sandi", app.base)).await;
    let r = b3
        .post(format!("{}/staf/lupa-sandi", app.base))
        .form(&[("csrf", hidden(&html, "csrf")), ("email", "national@lapor.test".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let outbox = store.outbox(10_000).await.unwrap();
    let mail = outbox
        .iter()
        .find(|m| m.topic == "notify.staff.password_reset")
        .expect("reset mail queued");
    let link = mail.payload["link"].as_str().unwrap();
    let path = &link[link.find("/staf/atur-ulang/").unwrap()..];
    let reset = |pw: &'static str| {
        b3.post(format!("{}{path}", app.base))
            .form(&[("csrf", csrf3.clone()), ("password", pw.into())])
            .send()
    };
    assert_eq!(reset("pendek").await.unwrap().status(), 422);
    assert_eq!(
        reset("sandi-baru-yang-panjang").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        reset("sandi-lain-yang-panjang").await.unwrap().status(),
        400,
        "the link works once"
    );
    let (s, _) = page(&b2, &format!("{}/staf", app.base)).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "sessions ended by the reset");
}
on_both_backends!(two_factor_sign_in_and_lockout);

async fn verify_route_follow_up_transfer_merge(app: &TestApp) {
    let (id, pin) = app
        .submit(json!({
            "title": "Lampu jalan mati di Jl. Dago",
            "anonymous": true,
            "reporter": {"name": "Rahasia Sekali Namanya", "email": "rahasia@contoh.id"}
        }))
        .await;
    let national = signed_in(app, "national").await;
    let (s, queue) = page(&national, &format!("{}/staf", app.base)).await;
    assert_eq!(s, 200);
    assert!(queue.contains(&id), "the new report is in the verification queue");
    assert!(queue.contains("hari kerja lagi"), "with its countdown");

    // Stale form: the page as first loaded, acted on after someone else.
    let (_, first) = page(&national, &format!("{}/staf/laporan/{id}", app.base)).await;
    assert!(
        first.contains("value=\"pemkot-32.73\" checked"),
        "suggested from the location:\n{first}"
    );
    let (s, _) = act(
        app,
        &national,
        &id,
        &[("aksi", "note"), ("catatan", "Dicek via telepon.")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let stale = vec![
        ("csrf", hidden(&first, "csrf")),
        ("ft", hidden(&first, "ft")),
        ("v", hidden(&first, "v")),
        ("aksi", "disposition".to_string()),
        ("instansi", "pemkot-32.73".to_string()),
    ];
    let r = national
        .post(format!("{}/staf/laporan/{id}/aksi", app.base))
        .form(&stale)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains("diubah oleh orang lain"), "{body}");
    assert!(body.contains("Dicek via telepon."), "the new state is shown");
    assert_eq!(status_of(app, &id).await, "submitted");
    // Replaying the same form is refused outright.
    let r = national
        .post(format!("{}/staf/laporan/{id}/aksi", app.base))
        .form(&stale)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Verify and disposition to the city.
    let (s, body) = act(
        app,
        &national,
        &id,
        &[
            ("aksi", "disposition"),
            ("instansi", "pemkot-32.73"),
            ("klasifikasi", "pengaduan"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(status_of(app, &id).await, "dispositioned");

    // The city accepts and sends it to its transport unit; the unit answers.
    let city = signed_in(app, "bandung_admin").await;
    let (s, inbox) = page(&city, &format!("{}/staf", app.base)).await;
    assert_eq!(s, 200);
    assert!(inbox.contains(&id));
    assert_eq!(
        act(app, &city, &id, &[("aksi", "accept")]).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        act(app, &city, &id, &[("aksi", "unit"), ("unit", "pemkot-32.73-dishub")])
            .await
            .0,
        StatusCode::SEE_OTHER
    );
    // The national admin may not accept for the city: not offered, refused if forced.
    let (_, npage) = page(&national, &format!("{}/staf/laporan/{id}", app.base)).await;
    assert!(!npage.contains("form-accept"));
    let (s, _) = act(app, &national, &id, &[("aksi", "accept")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let unit = signed_in(app, "dishub_admin").await;
    let (s, editor) = page(&unit, &format!("{}/staf/laporan/{id}/tindak-lanjut", app.base)).await;
    assert_eq!(s, 200, "{editor}");
    let form = reqwest::multipart::Form::new()
        .text("csrf", hidden(&editor, "csrf"))
        .text("ft", hidden(&editor, "ft"))
        .text("v", hidden(&editor, "v"))
        .text("isi", "Lampu sudah diganti oleh Dinas Perhubungan pada hari Senin.")
        .part(
            "lampiran",
            reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec()).file_name("berita-acara.pdf"),
        );
    let r = unit
        .post(format!("{}/staf/laporan/{id}/tindak-lanjut", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    assert_eq!(status_of(app, &id).await, "responded");

    // The reporter sees the answer with the PIN.
    let (s, v) = app.get(&format!("/api/v1/reports/{id}?pin={pin}"), None).await;
    assert_eq!(s, 200, "{v}");
    let events = v["events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["body"].as_str().is_some_and(|b| b.contains("Lampu sudah diganti")))
    );
    assert!(
        !events.iter().any(|e| e["kind"] == "note_added"),
        "internal notes never reach the reporter"
    );

    // Transfer: a second report goes to the city, which passes it to the
    // ministry with a reason; the ministry accepts.
    let (id2, _) = app.submit(json!({"title": "Obat habis di puskesmas Dago"})).await;
    assert_eq!(
        act(
            app,
            &national,
            &id2,
            &[("aksi", "disposition"), ("instansi", "pemkot-32.73")]
        )
        .await
        .0,
        StatusCode::SEE_OTHER
    );
    let (s, _) = act(
        app,
        &city,
        &id2,
        &[
            ("aksi", "transfer"),
            ("instansi", "kemenkes"),
            ("alasan", "Kewenangan Kementerian Kesehatan."),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let ministry = signed_in(app, "kemenkes_admin").await;
    let (_, mpage) = page(&ministry, &format!("{}/staf/laporan/{id2}", app.base)).await;
    assert!(
        mpage.contains("Kewenangan Kementerian Kesehatan."),
        "the reason is in the history"
    );
    assert_eq!(
        act(app, &ministry, &id2, &[("aksi", "accept")]).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(status_of(app, &id2).await, "in_progress");

    // Merge: a duplicate of the first report is suggested and merged.
    let (dup, _) = app.submit(json!({"title": "Lampu jalan mati di Jl. Dago lagi"})).await;
    let (_, dpage) = page(&national, &format!("{}/staf/laporan/{dup}", app.base)).await;
    assert!(dpage.contains(&format!("value=\"{id}\"")), "the original is suggested");
    let (s, _) = act(app, &national, &dup, &[("aksi", "merge"), ("ke", &id)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(status_of(app, &dup).await, "merged");

    // Every staff action is in the audit log.
    let (s, audit) = page(&national, &format!("{}/staf/audit?sasaran={id}", app.base)).await;
    assert_eq!(s, 200);
    assert!(
        audit.contains("report.dispositioned") && audit.contains("report.followed_up"),
        "{audit}"
    );
    let r = national
        .get(format!("{}/staf/audit?format=csv&sasaran={id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.text().await.unwrap().lines().count() >= 4);

    // Institution staff crawl every workspace page they can reach: the
    // anonymous reporter's identity is never on any of them.
    for who in [
        "bandung_admin",
        "dishub_admin",
        "bandung_liaison",
        "jabar_supervisor",
        "kemenkes_admin",
    ] {
        let b = signed_in(app, who).await;
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from(["/staf".to_string(), format!("/staf/laporan/{id}")]);
        while let Some(path) = queue.pop_front() {
            if !seen.insert(path.clone()) || seen.len() > 200 {
                continue;
            }
            let (s, html) = page(&b, &format!("{}{path}", app.base)).await;
            assert!(s.as_u16() < 500, "{who} {path}: {s}");
            assert!(
                !html.contains("Rahasia Sekali") && !html.contains("rahasia@contoh.id"),
                "{who} saw the anonymous reporter on {path}"
            );
            for part in html.split("href=\"").skip(1) {
                let link = part.split('"').next().unwrap_or("").replace("&amp;", "&");
                if link.starts_with("/staf") && !link.contains("format=csv") {
                    queue.push_back(link);
                }
            }
        }
        assert!(seen.len() > 3, "{who} reached pages: {seen:?}");
    }
}
on_both_backends!(verify_route_follow_up_transfer_merge);
