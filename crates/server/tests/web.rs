//! The citizen web pages over real HTTP, as a browser without JavaScript
//! would use them: CSRF, double submission, bad uploads and dates, the PIN
//! track flow, public search, supports, and a crawl showing that anonymous
//! and confidential reports never leak.

mod common;

use common::TestApp;
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode, multipart};
use serde_json::json;
use std::collections::{HashSet, VecDeque};

/// A cookie-keeping client that does not follow redirects.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle).unwrap_or_else(|| panic!("no {name} in page")) + needle.len();
    html[start..].split('"').next().unwrap().to_string()
}

fn between<'a>(html: &'a str, start: &str) -> &'a str {
    let i = html.find(start).unwrap_or_else(|| panic!("{start} not in page")) + start.len();
    html[i..].split('<').next().unwrap()
}

async fn page(b: &Client, url: &str) -> (StatusCode, String) {
    let r = b.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

fn report_form(csrf: &str, form_id: &str, title: &str, body: &str) -> multipart::Form {
    multipart::Form::new()
        .text("csrf", csrf.to_string())
        .text("form_id", form_id.to_string())
        .text("klasifikasi", "pengaduan")
        .text("judul", title.to_string())
        .text("isi", body.to_string())
        .text("action", "kirim")
}

/// A minimal JPEG carrying an Exif segment with a GPS marker.
fn jpeg_with_gps() -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    j.extend([0xFF, 0xE0, 0x00, 0x10]);
    j.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let exif = b"Exif\0\0MM\0*GPSLatitude-6.9025";
    j.extend([0xFF, 0xE1, 0x00, (exif.len() + 2) as u8]);
    j.extend(exif);
    j.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
    j.extend([1u8; 64]);
    j.extend([
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00,
    ]);
    j.extend([0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01]);
    j.extend([0u8; 15]);
    j.push(0x00);
    j.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    j.extend([0x00, 0xFF, 0xD9]);
    j
}

async fn submit(app: &TestApp, b: &Client, form: multipart::Form) -> (StatusCode, String) {
    let r = b
        .post(format!("{}/lapor", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn disposition(app: &TestApp, id: &str) {
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/disposition"),
            Some("national"),
            json!({"institution": "pemkot-32.73"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

async fn citizen_flow(app: &TestApp) {
    let b = browser();
    let (s, html) = page(&b, &format!("{}/lapor", app.base)).await;
    assert_eq!(s, 200);
    assert!(html.contains("lang=\"id\"") && html.contains("Kirim laporan"));
    let (csrf, form_id) = (hidden(&html, "csrf"), hidden(&html, "form_id"));

    // Anonymous, with a photo and a map point; twice, as a double click would.
    let make = || {
        report_form(
            &csrf,
            &form_id,
            "Jalan rusak di depan sekolah",
            "Jalan rusak diperbaiki asal-asalan. Hubungi 081234567890.",
        )
        .text("lat", "-6.9025")
        .text("lon", "107.6186")
        .text("anonim", "1")
        .text("nama", "Budi Santoso")
        .part(
            "lampiran",
            multipart::Part::bytes(jpeg_with_gps()).file_name("IMG_0001.JPG"),
        )
    };
    let (s, receipt) = submit(app, &b, make()).await;
    assert_eq!(s, 200, "{receipt}");
    let id = between(&receipt, "id=\"tracking-id\">").to_string();
    let pin = between(&receipt, "id=\"pin\">").to_string();
    let (s, again) = submit(app, &b, make()).await;
    assert_eq!(s, 200);
    assert_eq!(
        between(&again, "id=\"tracking-id\">"),
        id,
        "a repeated form is one report"
    );
    assert_eq!(between(&again, "id=\"pin\">"), pin, "with the same PIN");
    let stored = app
        .db
        .store
        .report(&lapor_domain::ids::TrackingId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.report.region_code.as_deref(),
        Some("32.73"),
        "the map point chose the regency"
    );
    assert_eq!(stored.report.channel.as_str(), "web");

    // Track with the PIN: a wrong one first.
    let track = |pin: String| {
        let b = b.clone();
        let csrf = csrf.clone();
        let id = id.clone();
        let url = format!("{}/lacak", app.base);
        async move {
            b.post(url)
                .form(&[("csrf", csrf), ("id", id), ("pin", pin)])
                .send()
                .await
                .unwrap()
        }
    };
    let wrong = track("00000000".into()).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ok = track(pin.clone()).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let (s, tpage) = page(&b, &format!("{}/lacak/{id}", app.base)).await;
    assert_eq!(s, 200, "{tpage}");
    assert!(
        tpage.contains("Laporan dikirim") && tpage.contains("paling lambat"),
        "timeline and deadline in words"
    );
    // The photo is stored without its Exif/GPS block, and the reporter may fetch it.
    let link = between(&tpage, "href=\"/lampiran/").to_string();
    let link = link.split('"').next().unwrap();
    let photo = b.get(format!("{}/lampiran/{link}", app.base)).send().await.unwrap();
    assert_eq!(photo.status(), 200);
    assert_eq!(photo.headers()["content-type"], "image/jpeg");
    let bytes = photo.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]) && !bytes.windows(3).any(|w| w == b"GPS"));
    // ...but a stranger may not.
    let stranger = browser();
    let r = stranger
        .get(format!("{}/lampiran/{link}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Staff forward it and follow up; the reporter replies and rates.
    disposition(app, &id).await;
    for (path, body) in [
        ("accept", json!({})),
        ("follow-up", json!({"body": "Sudah ditambal hari ini."})),
    ] {
        let (s, v) = app
            .post(&format!("/api/v1/reports/{id}/{path}"), Some("bandung_admin"), body)
            .await;
        assert_eq!(s, 200, "{path}: {v}");
    }
    // Someone without the PIN sees no file of it: their names may name
    // people, and only the reporter and staff may fetch them.
    let (s, other) = page(&stranger, &format!("{}/lacak/{id}", app.base)).await;
    assert!(
        s == 303 || (s == 200 && !other.contains("/lampiran/") && !other.contains("IMG_0001")),
        "{s}: {other}"
    );
    let (_, tpage) = page(&b, &format!("{}/lacak/{id}", app.base)).await;
    assert!(
        tpage.contains("Sudah ditambal hari ini.") && tpage.contains("/tanggapi"),
        "follow-up and reply box"
    );
    let r = b
        .post(format!("{}/lacak/{id}/tanggapi", app.base))
        .form(&[("csrf", csrf.as_str()), ("isi", "Terima kasih, sudah rapi.")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, tpage) = page(&b, &format!("{}/lacak/{id}", app.base)).await;
    assert!(
        tpage.contains("Terima kasih, sudah rapi.") && !tpage.contains("/nilai"),
        "no rating while the institution works"
    );
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("bandung_admin"),
            json!({"body": "Marka jalan juga sudah dicat."}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let r = b
        .post(format!("{}/lacak/{id}/nilai", app.base))
        .form(&[("csrf", csrf.as_str()), ("nilai", "5"), ("komentar", "Cepat")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, tpage) = page(&b, &format!("{}/lacak/{id}?ok=1", app.base)).await;
    assert!(tpage.contains("5/5") && tpage.contains("Tersimpan"), "rating saved");

    // Public: found by stemmed search, anonymous shown as Anonim, phone masked.
    let public = browser();
    let (s, list) = page(&public, &format!("{}/laporan?q=perbaikan+jalan", app.base)).await;
    assert_eq!(s, 200);
    assert!(list.contains(&format!("/laporan/{id}")), "stemmed search finds it");
    let (_, detail) = page(&public, &format!("{}/laporan/{id}", app.base)).await;
    assert!(detail.contains("Anonim") && !detail.contains("Budi") && !detail.contains("081234567890"));

    // Support once per browser.
    let (_, detail) = page(&public, &format!("{}/laporan/{id}", app.base)).await;
    let pc = hidden(&detail, "csrf");
    for _ in 0..2 {
        let r = public
            .post(format!("{}/laporan/{id}/dukung", app.base))
            .form(&[("csrf", pc.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let (_, detail) = page(&public, &format!("{}/laporan/{id}", app.base)).await;
    assert!(detail.contains("<strong>1</strong>"), "one support per browser");

    // English by Accept-Language, and by the toggle.
    let en = app
        .client
        .get(format!("{}/", app.base))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(en.text().await.unwrap().contains("lang=\"en\""));
    let r = public
        .get(format!("{}/bahasa/en?kembali=/laporan", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/laporan");
    let (_, list) = page(&public, &format!("{}/laporan", app.base)).await;
    assert!(list.contains("Public reports"));
}
on_both_backends!(citizen_flow);

async fn bad_input_is_answered_on_the_form(app: &TestApp) {
    let b = browser();
    let (_, html) = page(&b, &format!("{}/lapor", app.base)).await;
    let (csrf, form_id) = (hidden(&html, "csrf"), hidden(&html, "form_id"));
    let title = "Lampu jalan mati total";
    let body = "Sudah dua minggu lampu jalan mati di seluruh gang.";

    // No CSRF token: refused, nothing stored.
    let (s, _) = submit(app, &b, report_form("", &form_id, title, body)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A stranger's cookie-less post with a copied token: refused too.
    let (s, _) = submit(app, &browser(), report_form(&csrf, &form_id, title, body)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // An HTML page dressed as a photo.
    let disguised = report_form(&csrf, &form_id, title, body).part(
        "lampiran",
        multipart::Part::bytes(b"<html><script>alert(1)</script></html>".to_vec()).file_name("foto.jpg"),
    );
    let (s, page1) = submit(app, &b, disguised).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        page1.contains("Jenis berkas tidak didukung") && page1.contains(title) && page1.contains(body),
        "message, and nothing typed is lost"
    );
    assert!(page1.contains("Pilih ulang lampiran"));

    // A file over 10 MB.
    let mut big = jpeg_with_gps();
    big.resize(10 * 1024 * 1024 + 10, 0);
    let (s, page2) = submit(
        app,
        &b,
        report_form(&csrf, &form_id, title, body).part("lampiran", multipart::Part::bytes(big).file_name("besar.jpg")),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page2.contains("Berkas terlalu besar"));

    // Six files.
    let mut six = report_form(&csrf, &form_id, title, body);
    for i in 0..6 {
        six = six.part(
            "lampiran",
            multipart::Part::bytes(jpeg_with_gps()).file_name(format!("f{i}.jpg")),
        );
    }
    let (s, _) = submit(app, &b, six).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // An impossible date and a half location.
    let (s, page3) = submit(
        app,
        &b,
        report_form(&csrf, &form_id, title, body)
            .text("tanggal", "2026-02-31")
            .text("lat", "-6.9"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page3.contains("tanggal") && page3.contains("lat/lon") && page3.contains(title));

    // In English when the browser asks for it.
    let (s, page4) = {
        let r = b
            .post(format!("{}/lapor", app.base))
            .header("accept-language", "en")
            .multipart(report_form(&csrf, &form_id, "x", body))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page4.contains("The submitted data is not valid"), "{page4}");

    // None of it was stored.
    assert_eq!(app.db.store.public_stats().await.unwrap().reports, 0);
    let all = app
        .db
        .store
        .list_reports(&lapor_store::ReportFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(all.items.is_empty());

    // The "check personal data" button re-renders with what was found.
    let check = report_form(
        &csrf,
        &form_id,
        title,
        "NIK saya 3273010101010001, email budi@contoh.id",
    )
    .text("action", "periksa");
    let (s, page5) = submit(app, &b, check).await;
    assert_eq!(s, 200);
    assert!(page5.contains("NIK") && page5.contains("alamat email") && page5.contains("disamarkan"));

    // A valid report with an e-mail address: the receipt says a copy is on
    // its way, and the message is queued in the outbox with the report.
    let ok = report_form(&csrf, &form_id, title, body).text("email", "Sari@Contoh.ID");
    let (s, receipt) = submit(app, &b, ok).await;
    assert_eq!(s, 200);
    assert!(receipt.contains("akan dikirim"));
    let id = between(&receipt, "id=\"tracking-id\">").to_string();
    let queued = app.db.store.outbox(100).await.unwrap();
    let msg = queued
        .iter()
        .find(|m| m.topic == "notify.reporter.receipt" && m.payload["tracking_id"] == id.as_str())
        .expect("receipt queued");
    assert_eq!(msg.payload["to"]["email"], "sari@contoh.id");

    // Language switch only returns to local paths.
    let r = b
        .get(format!("{}/bahasa/en?kembali=//evil.example/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
}
on_both_backends!(bad_input_is_answered_on_the_form);

/// Crawls every page reachable from the public list, as the public, as a
/// citizen account and as staff: a confidential report never shows up on a
/// public page and an anonymous reporter's name never shows up at all.
async fn crawl_never_leaks(app: &TestApp) {
    let (open_id, _) = app.submit(json!({"title": "Trotoar rusak parah sekali", "anonymous": true, "reporter": {"name": "Rahasia Sekali Namanya", "email": "rahasia@contoh.id"}})).await;
    let (secret_id, _) = app
        .submit(json!({"title": "Pungutan liar di kelurahan", "confidential": true}))
        .await;
    disposition(app, &open_id).await;
    disposition(app, &secret_id).await;
    let (s, _) = app.get(&format!("/api/v1/reports/{open_id}"), None).await;
    assert_eq!(s, 200);

    let mut clients = vec![("public", browser())];
    // A citizen with an account.
    let citizen = browser();
    let (_, reg) = page(&citizen, &format!("{}/daftar", app.base)).await;
    let r = citizen
        .post(format!("{}/daftar", app.base))
        .form(&[
            ("csrf", hidden(&reg, "csrf")),
            ("nama", "Warga".into()),
            ("email", "warga@contoh.id".into()),
            ("password", "kata-sandi-panjang".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    clients.push(("citizen", citizen));

    for (who, b) in &clients {
        let mut queue = VecDeque::from([
            "/".to_string(),
            "/laporan".to_string(),
            "/laporan?q=pungutan".to_string(),
        ]);
        let mut seen = HashSet::new();
        while let Some(path) = queue.pop_front() {
            if !seen.insert(path.clone()) || seen.len() > 200 {
                continue;
            }
            let (_, html) = page(b, &format!("{}{path}", app.base)).await;
            assert!(
                !html.contains(&secret_id) && !html.contains("Pungutan liar"),
                "{who} saw the confidential report on {path}"
            );
            assert!(
                !html.contains("Rahasia Sekali") && !html.contains("rahasia@contoh.id"),
                "{who} saw the anonymous reporter on {path}"
            );
            for part in html.split("href=\"").skip(1) {
                let link = part.split('"').next().unwrap_or("").replace("&amp;", "&");
                if link.starts_with('/')
                    && !link.starts_with("/aset/")
                    && !link.starts_with("/api/")
                    && !link.starts_with("/bahasa/")
                    && !link.starts_with("/akun/data")
                {
                    queue.push_back(link);
                }
            }
        }
        assert!(
            seen.contains(&format!("/laporan/{open_id}")),
            "{who} reached the public report"
        );
        let (s, _) = page(b, &format!("{}/laporan/{secret_id}", app.base)).await;
        assert_eq!(s, 404, "{who}: the confidential report's page does not exist publicly");
        let (s, _) = page(b, &format!("{}/lacak/{secret_id}", app.base)).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{who}: the track page asks for the PIN");
    }
}
on_both_backends!(crawl_never_leaks);
