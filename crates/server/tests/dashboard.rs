//! The monitoring dashboards over real HTTP: reports moved through the API
//! show up at once in the national and institution views (the rollups are
//! written with the events); every role sees only the views its rights
//! give it; bad filters get a clear 400; the CSV exports agree with the page.

mod common;

use common::{TestApp, page, signed_in};
use reqwest::StatusCode;
use serde_json::json;

async fn ok(app: &TestApp, who: &str, path: &str, body: serde_json::Value) {
    let (s, v) = app.post(path, Some(who), body).await;
    assert!(s < 300, "{who} {path}: {s} {v}");
}

/// Three reports: two sent to Bandung, one of them accepted and answered.
async fn history(app: &TestApp) {
    let (a, _) = app.submit(json!({ "category": null })).await;
    let (b, _) = app.submit(json!({})).await;
    let _ = app.submit(json!({})).await;
    for id in [&a, &b] {
        ok(
            app,
            "national",
            &format!("/api/v1/reports/{id}/disposition"),
            json!({ "institution": "pemkot-32.73" }),
        )
        .await;
    }
    ok(app, "bandung_admin", &format!("/api/v1/reports/{a}/accept"), json!({})).await;
    ok(
        app,
        "bandung_admin",
        &format!("/api/v1/reports/{a}/follow-up"),
        json!({ "body": "Lubang sudah ditambal oleh Dinas PU pada hari ini." }),
    )
    .await;
}

async fn dashboards_follow_the_events_and_the_role_rules(app: &TestApp) {
    history(app).await;
    let base = &app.base;
    let national = signed_in(app, "national").await;

    // National: 3 submitted, 2 received, 1 followed up, at once.
    let (s, html) = page(&national, &format!("{base}/staf/dasbor")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("Dasbor pemantauan"), "{html}");
    assert!(html.contains(r#"<svg class="chart" id="tren""#), "trend chart drawn");
    assert!(html.contains(r#"id="ranking""#), "ranking shown");
    let kpi = |html: &str, label: &str| -> String {
        let at = html.find(label).unwrap_or_else(|| panic!("{label} missing"));
        let rest = &html[at..];
        let v = rest.find("kpi-value\">").unwrap() + "kpi-value\">".len();
        rest[v..].split('<').next().unwrap().to_string()
    };
    assert_eq!(kpi(&html, "Laporan masuk"), "3");
    assert_eq!(kpi(&html, "Diterima instansi"), "2");
    assert_eq!(kpi(&html, "Ditindaklanjuti</span>"), "50,0 %");

    // The map: 38 provinces, coloured by follow-up; West Java at 50 %.
    let map = |html: &str| -> String {
        let at = html.find(r#"id="peta-svg""#).expect("map drawn");
        html[at..at + html[at..].find("</svg>").unwrap()].to_string()
    };
    let provinces = map(&html);
    assert_eq!(provinces.matches("<path ").count(), 38);
    assert!(
        provinces.contains("<title>Jawa Barat: 50,0 %</title>"),
        "{provinces:.400}"
    );
    let (s, html) = page(
        &national,
        &format!("{base}/staf/dasbor?peta=kabkota&indikator=diterima"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let regencies = map(&html);
    assert_eq!(regencies.matches("<path ").count(), 514);
    assert!(regencies.contains("<title>Kota Bandung: 2</title>"), "{regencies:.400}");
    assert!(html.contains("Peta: Diterima"), "the indicator is named");

    // XLSX: a real workbook (a zip), named like the CSV.
    let r = national
        .get(format!("{base}/staf/dasbor/ekspor?tabel=peringkat&format=xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains(".xlsx"));
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK\x03\x04"), "zip signature");

    // Every report of the view, streamed: metadata only, no words or names.
    let r = national
        .get(format!("{base}/staf/dasbor/ekspor-laporan"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let mut lines = text.lines();
    assert!(
        lines.next().unwrap().starts_with("tracking_id,submitted_at,status,"),
        "{text}"
    );
    assert_eq!(lines.count(), 3, "{text}");
    assert!(!text.contains("Jalan berlubang"), "no report text in the export");
    let (_, html) = page(&national, &format!("{base}/staf/dasbor/ekspor-laporan?kanal=sms")).await;
    assert_eq!(html.lines().count(), 1, "a channel filter: header only: {html}");

    // The ranking CSV agrees: the province's row sums its city.
    let r = national
        .get(format!("{base}/staf/dasbor/ekspor?tabel=peringkat&urut=nama"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let csv = r.text().await.unwrap();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let head = rdr.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let jabar = rows
        .iter()
        .find(|r| &r[col("code")] == "pemprov-32")
        .expect("province row");
    assert_eq!(&jabar[col("received")], "2");
    assert_eq!(&jabar[col("followed_up")], "1");
    assert_eq!(&jabar[col("includes_below")], "true");
    let kemenkes = rows.iter().find(|r| &r[col("code")] == "kemenkes").unwrap();
    assert_eq!(&kemenkes[col("received")], "0");

    // Category breakdown: jalan 2, none 1 (national counts submissions).
    let cat = national
        .get(format!("{base}/staf/dasbor/ekspor?tabel=kategori"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(cat.lines().nth(1).unwrap().starts_with("jalan,2,"), "{cat}");
    assert!(cat.lines().nth(2).unwrap().starts_with(",1,"), "{cat}");
    // A filter narrows every figure.
    let (_, html) = page(&national, &format!("{base}/staf/dasbor?kategori=jalan")).await;
    assert_eq!(kpi(&html, "Laporan masuk"), "2");

    // Sorting: by name descending puts Jawa Barat before DKI Jakarta.
    let (_, html) = page(&national, &format!("{base}/staf/dasbor?urut=nama&arah=turun")).await;
    let html = &html[html.find(r#"id="ranking""#).expect("ranking")..];
    let order: Vec<usize> = ["pemprov-32", "pemprov-31"]
        .iter()
        .map(|c| html.find(&format!("kode={c}&")).unwrap_or(usize::MAX))
        .collect();
    assert!(order[0] < order[1], "descending by name");
    assert!(html.contains(r#"aria-sort="descending""#));

    // The city's own view, as its admin: received 2, followed up 1.
    let bandung = signed_in(app, "bandung_admin").await;
    let (s, html) = page(&bandung, &format!("{base}/staf/dasbor")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("Pemerintah Kota Bandung") || html.contains("pemkot-32.73"),
        "{html}"
    );
    assert_eq!(kpi(&html, "Diterima instansi"), "2");
    assert!(!html.contains("Laporan masuk</span>"), "no national intake figures");
    assert!(html.contains("Aktivitas admin"), "admin activity listed");
    assert!(html.contains("Tidak ada masalah berulang"), "two reports recur nothing");
    assert!(
        html.contains(r#"id="berpindah""#),
        "the bounced reports are listed (none here)"
    );
    assert!(!html.contains(r#"id="peta-svg""#), "a city's view has no map");

    // The printable evaluation report of the city.
    let (s, html) = page(
        &bandung,
        &format!("{base}/staf/dasbor/evaluasi?lingkup=instansi&kode=pemkot-32.73"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("Laporan evaluasi"), "{html}");
    assert!(html.contains("Definisi indikator"));
    assert!(!html.contains(r#"id="saring""#), "no filter form on paper");

    // Role rules, every view: (who, query, allowed).
    let views = [
        "lingkup=nasional",
        "lingkup=pemda",
        "lingkup=pengawasan",
        "lingkup=subpohon&kode=pemprov-32",
        "lingkup=instansi&kode=pemkot-32.73",
        "lingkup=subpohon&kode=pemprov-31",
        "lingkup=instansi&kode=kemenkes",
    ];
    #[rustfmt::skip]
    let table: [(&str, [bool; 7]); 8] = [
        ("national",         [true,  true,  true,  true,  true,  true,  true ]),
        ("ombudsman",        [true,  true,  true,  true,  true,  true,  true ]),
        ("auditor",          [true,  true,  true,  true,  true,  true,  true ]),
        ("jabar_supervisor", [false, false, false, true,  true,  false, false]),
        ("bandung_admin",    [false, false, false, false, true,  false, false]),
        ("bandung_liaison",  [false, false, false, false, true,  false, false]),
        ("dishub_admin",     [false, false, false, false, false, false, false]),
        ("kemenkes_admin",   [false, false, false, false, false, false, true ]),
    ];
    for (who, allowed) in table {
        let b = signed_in(app, who).await;
        for (view, ok) in views.iter().zip(allowed) {
            for path in [
                "/staf/dasbor?",
                "/staf/dasbor/ekspor?",
                "/staf/dasbor/ekspor?format=xlsx&",
                "/staf/dasbor/evaluasi?",
                "/staf/dasbor/ekspor-laporan?",
            ] {
                let (s, _) = page(&b, &format!("{base}{path}{view}")).await;
                let want = if ok { StatusCode::OK } else { StatusCode::FORBIDDEN };
                assert_eq!(s, want, "{who} {path}?{view}");
            }
        }
    }
    // The public and citizens are sent to sign in.
    let anon = common::browser();
    let (s, _) = page(&anon, &format!("{base}/staf/dasbor")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);

    // Public statistics: aggregates for anyone, small counts suppressed, no
    // names of staff or words of reports.
    let (s, html) = page(&anon, &format!("{base}/statistik")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(kpi(&html, "Laporan masuk"), "3");
    for secret in ["bandung_admin", "Lubang sudah ditambal", "Jalan berlubang"] {
        assert!(!html.contains(secret), "public page shows {secret}");
    }
    let (s, v) = app.get("/statistik.json", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["national"]["submitted"], 3);
    let jabar = v["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "pemprov-32")
        .unwrap();
    assert_eq!(jabar["received"], "<5", "2 reports are not shown as 2");
    assert!(jabar["followed_up"].is_null(), "no rate over 2 reports");
    assert!(!v.to_string().contains("bandung_admin"));
    let r = anon.get(format!("{base}/statistik.csv")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.starts_with("code,name,kind,includes_below,received,"), "{text}");
    assert!(text.contains("pemprov-32,") && text.contains(",<5,"), "{text}");
    let r = anon.get(format!("{base}/statistik.xlsx")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"PK\x03\x04"), "a workbook");
    let (s, v) = app.get("/statistik.json?dari=kemarin", None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_query")), "{v}");
    let (s, _) = app.get("/statistik.json?lingkup=pemda", None).await;
    assert_eq!(s, 400, "the public view is national only");

    // Bad input: a clear 400 with the reason, never a 500.
    for (q, code, says) in [
        ("dari=31-12-2026", 400, "TTTT-BB-HH"),
        ("dari=2026-03-01&sampai=2026-02-01", 400, "sebelum tanggal awal"),
        ("dari=2000-01-01&sampai=2026-01-01", 400, "10 tahun"),
        ("kanal=merpati", 400, "kanal"),
        ("klasifikasi=keluhan", 400, "klasifikasi"),
        ("lingkup=galaksi", 400, "lingkup"),
        ("urut=acak", 400, "urut"),
        ("tren=harian", 400, "tren"),
        ("kategori=tidak-ada", 422, "kategori"),
        ("peta=kecamatan", 400, "peta"),
        ("lingkup=instansi&kode=kemenkes&peta=provinsi", 400, "peta"),
        ("indikator=nama", 400, "indikator"),
        ("lingkup=instansi&kode=ghost", 422, "kode"),
    ] {
        let (s, html) = page(&national, &format!("{base}/staf/dasbor?{q}")).await;
        assert_eq!(s.as_u16(), code, "{q}: {html}");
        assert!(html.contains(says), "{q} says {says}: {html}");
    }
    let (s, _) = page(&national, &format!("{base}/staf/dasbor/ekspor?tabel=semua")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = page(&national, &format!("{base}/staf/dasbor/ekspor?format=pdf")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

on_both_backends!(dashboards_follow_the_events_and_the_role_rules);
