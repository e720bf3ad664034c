//! Deadlines that bite, end to end with a controllable clock: a real
//! server and database, the deadline scheduler run at chosen instants, the
//! delivery workers sending to a real local SMTP server.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::TestApp;
use lapor_domain::ids::TrackingId;
use lapor_domain::report::{Ombudsman, Report, Status};
use lapor_server::deadlines::run_pass;
use lapor_server::worker::{Counters, WorkerConfig, run_batch_at};
use lapor_store::ReportFilter;
use serde_json::json;

async fn report(app: &TestApp, id: &str) -> Report {
    let tid = TrackingId::parse(id).unwrap();
    app.db.store.report(&tid).await.unwrap().unwrap().report
}

async fn kinds(app: &TestApp, id: &str) -> Vec<String> {
    let tid = TrackingId::parse(id).unwrap();
    app.db
        .store
        .events(&tid)
        .await
        .unwrap()
        .iter()
        .map(|e| e.data.kind().to_string())
        .collect()
}

/// Runs the workers at `now` until the queue is empty.
async fn drain(app: &TestApp, now: DateTime<Utc>) {
    let cfg = WorkerConfig::default();
    let counters = Counters::default();
    for _ in 0..50 {
        if run_batch_at(&app.state, &cfg, &counters, now).await.unwrap() == 0 {
            return;
        }
    }
    panic!("the outbox did not drain");
}

/// Recipients of the e-mails whose subject contains `needle`.
fn mailed(app: &TestApp, needle: &str) -> Vec<String> {
    let mut to: Vec<String> = app
        .sink
        .messages()
        .into_iter()
        .filter(|m| m.subject.as_deref().unwrap_or("").contains(needle))
        .flat_map(|m| m.rcpt_to)
        .collect();
    to.sort();
    to
}

async fn inbox(app: &TestApp, user: &str) -> Vec<String> {
    app.db
        .store
        .staff_notifications(&format!("u-{user}"), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.kind)
        .collect()
}

/// A complaint filed with the reporter's e-mail, verified to Bandung and
/// accepted there: its follow-up clock (14 working days) runs.
async fn accepted_complaint(app: &TestApp) -> (String, String) {
    let (id, pin) = app
        .submit(json!({ "reporter": { "name": "Budi", "email": "budi@warga.test" } }))
        .await;
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/disposition"),
            Some("national"),
            json!({ "institution": "pemkot-32.73" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/accept"),
            Some("bandung_admin"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    (id, pin)
}

async fn reminder_escalation_auto_completion(app: &TestApp) {
    let (id, pin) = accepted_complaint(app).await;
    let r = report(app, &id).await;
    let due = r.due_at.unwrap();
    let cal = app.state.calendar.get();
    let policy = app.state.policy_for(&r.policy).clone();
    let remind_at = cal.reminder_at(due, policy.remind_before_days, r.zone);
    assert!(remind_at < due);

    // Before the reminder moment nothing happens.
    let s = run_pass(&app.state, remind_at - Duration::seconds(1)).await.unwrap();
    assert_eq!(s.reminded + s.escalated, 0, "{s:?}");

    // One working day before the deadline: the reminder, once.
    let s = run_pass(&app.state, remind_at).await.unwrap();
    assert_eq!(s.reminded, 1, "{s:?}");
    let s = run_pass(&app.state, remind_at + Duration::minutes(5)).await.unwrap();
    assert_eq!(s.reminded, 0, "a reminder is sent once per deadline");
    drain(app, remind_at).await;
    // No liaison named yet: the institution's liaisons hear it.
    assert_eq!(mailed(app, "Pengingat"), vec!["bandung_liaison@lapor.test"]);
    assert_eq!(inbox(app, "bandung_liaison").await, vec!["reminded"]);

    // The ladder: one step at the deadline, then one per step period.
    let steps = [
        (due + Duration::seconds(1), "bandung_liaison"),
        (
            cal.working_days_after(due, policy.escalation_step_days, r.zone),
            "bandung_admin",
        ),
        (
            cal.working_days_after(due, 2 * policy.escalation_step_days, r.zone),
            "jabar_supervisor",
        ),
        (
            cal.working_days_after(due, 3 * policy.escalation_step_days, r.zone),
            "national",
        ),
    ];
    for (level, (at, who)) in steps.iter().enumerate() {
        let before = run_pass(&app.state, *at - Duration::seconds(2)).await.unwrap();
        assert_eq!(before.escalated, 0, "level {} came early", level + 1);
        let s = run_pass(&app.state, *at).await.unwrap();
        assert_eq!(s.escalated, 1, "level {}: {s:?}", level + 1);
        assert_eq!(report(app, &id).await.escalation_level as usize, level + 1);
        drain(app, *at).await;
        let subject = format!("Eskalasi tingkat {}", level + 1);
        // National admins get these in the app only (their e-mail is the digest).
        let expected = if *who == "national" {
            vec![]
        } else {
            vec![format!("{who}@lapor.test")]
        };
        assert_eq!(mailed(app, &subject), expected, "level {}", level + 1);
        assert!(inbox(app, who).await.contains(&"escalated".to_string()), "{who}");
    }
    // The top of the ladder is the top.
    let s = run_pass(&app.state, steps[3].0 + Duration::days(30)).await.unwrap();
    assert_eq!(s.escalated, 0);
    // The unrelated institution heard nothing.
    assert!(inbox(app, "kemenkes_admin").await.is_empty());

    // The follow-up starts the reporter's reply window; its silence
    // completes the report after 10 working days.
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("bandung_liaison"),
            json!({ "body": "Lubang sudah ditambal oleh Dinas PU pada hari Senin." }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let r = report(app, &id).await;
    assert_eq!(r.status, Status::Responded);
    assert_eq!(r.escalation_level, 0, "a new deadline starts the ladder again");
    let reply_due = r.due_at.unwrap();
    assert_eq!(
        reply_due,
        cal.due_at(r.updated_at, policy.reply_window_days, r.zone),
        "10 working days to answer"
    );
    let s = run_pass(&app.state, reply_due - Duration::seconds(1)).await.unwrap();
    assert_eq!(s.auto_completed, 0);
    let s = run_pass(&app.state, reply_due + Duration::seconds(1)).await.unwrap();
    assert_eq!(s.auto_completed, 1, "{s:?}");
    let r = report(app, &id).await;
    assert_eq!(r.status, Status::Completed);
    drain(app, reply_due + Duration::seconds(1)).await;
    // The reporter heard of every visible change, by e-mail, through the sink.
    let to_reporter: Vec<String> = app
        .sink
        .messages()
        .into_iter()
        .filter(|m| m.subject.as_deref().unwrap_or("").starts_with(&format!("Laporan {id}")))
        .flat_map(|m| m.rcpt_to)
        .collect();
    assert!(to_reporter.iter().all(|t| t == "budi@warga.test"));
    assert!(
        to_reporter.len() >= 4,
        "receipt, disposition, acceptance, follow-up, completion: {to_reporter:?}"
    );
    let k = kinds(app, &id).await;
    assert_eq!(k.iter().filter(|k| *k == "escalated").count(), 4, "{k:?}");
    assert_eq!(k.last().map(String::as_str), Some("completed"));
    // The PIN went out once and is gone from the outbox.
    assert!(
        app.sink
            .messages()
            .iter()
            .any(|m| String::from_utf8_lossy(&m.raw).contains(&pin)),
        "the receipt carries the PIN"
    );
    let rows = app.db.store.outbox(10_000).await.unwrap();
    assert!(
        rows.iter().all(|r| !r.payload.to_string().contains(&pin)),
        "PIN scrubbed after delivery"
    );
    assert_eq!(app.sink.duplicates(), 0);
}
on_both_backends!(reminder_escalation_auto_completion);

async fn ombudsman_offer_and_consent(app: &TestApp) {
    let (id, pin) = accepted_complaint(app).await;
    let r = report(app, &id).await;
    // Before it is offered, the reporter cannot escalate.
    let resp = app
        .req(reqwest::Method::POST, &format!("/api/v1/reports/{id}/ombudsman"), None)
        .header("X-Lapor-Pin", &pin)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 409);

    let at = r.submitted_at + Duration::days(60);
    let s = run_pass(&app.state, at - Duration::minutes(1)).await.unwrap();
    assert_eq!(s.ombudsman_offered, 0);
    let s = run_pass(&app.state, at + Duration::seconds(1)).await.unwrap();
    assert_eq!(s.ombudsman_offered, 1, "{s:?}");
    assert_eq!(report(app, &id).await.ombudsman, Some(Ombudsman::Offered));
    drain(app, at + Duration::seconds(1)).await;
    assert!(
        app.sink
            .messages()
            .iter()
            .any(|m| m.rcpt_to == ["budi@warga.test"] && String::from_utf8_lossy(&m.raw).contains("Ombudsman")),
        "the reporter is told of the offer"
    );
    // The offer is made once.
    let s = run_pass(&app.state, at + Duration::days(1)).await.unwrap();
    assert_eq!(s.ombudsman_offered, 0);

    // Staff cannot consent for the reporter.
    let (s, _) = app
        .post(&format!("/api/v1/reports/{id}/ombudsman"), Some("national"), json!({}))
        .await;
    assert_eq!(s, 403);
    let resp = app
        .req(reqwest::Method::POST, &format!("/api/v1/reports/{id}/ombudsman"), None)
        .header("X-Lapor-Pin", &pin)
        .json(&json!({ "note": "Sudah dua bulan belum ada perbaikan." }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(report(app, &id).await.ombudsman, Some(Ombudsman::Escalated));
    drain(app, Utc::now().max(at + Duration::days(1))).await;
    // The oversight role sees it in its queue and was notified.
    let page = app
        .db
        .store
        .list_reports(&ReportFilter {
            ombudsman: Some(Ombudsman::Escalated),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(
        inbox(app, "ombudsman")
            .await
            .contains(&"ombudsman_escalated".to_string())
    );
}
on_both_backends!(ombudsman_offer_and_consent);

async fn on_hold_pauses_and_undeliverable_stops(app: &TestApp) {
    let (id, _) = app
        .submit(json!({ "reporter": { "email": "nobody@nowhere.invalid" } }))
        .await;
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/hold"),
            Some("national"),
            json!({ "message": "Mohon lengkapi lokasi persisnya." }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let r = report(app, &id).await;
    // Paused: far past the verification deadline nothing escalates.
    let s = run_pass(&app.state, r.due_at.unwrap() + Duration::days(20))
        .await
        .unwrap();
    assert_eq!(s.escalated, 0, "{s:?}");
    // The receipt and the hold notice go to an address that does not
    // exist: marked undeliverable at once, no retries, and later mail to it
    // is not even attempted.
    drain(app, Utc::now()).await;
    let dead = app.db.store.dead_letters(10).await.unwrap();
    assert!(
        !dead.is_empty() && dead.iter().all(|d| d.state == "undeliverable" && d.attempts == 1),
        "{dead:?}"
    );
    assert!(
        app.db
            .store
            .undeliverable_reason("nobody@nowhere.invalid")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(app.sink.count(), 0);
    // The metrics count them, and /metrics itself is off without a token.
    let m = lapor_server::metrics::render(&app.state).await.unwrap();
    assert!(
        m.contains("lapor_outbox_jobs{topic=\"notify.reporter.receipt\",state=\"undeliverable\"} 1"),
        "{m}"
    );
    assert!(m.contains("lapor_outbox_oldest_pending_seconds"), "{m}");
    let (s, _) = app.get("/metrics", None).await;
    assert_eq!(s, 404);
    // Replay puts them back; they fail the same way without touching SMTP.
    let n = app
        .db
        .store
        .replay_jobs(None, lapor_store::ts::Ts::now())
        .await
        .unwrap();
    assert_eq!(n as usize, dead.len());
    drain(app, Utc::now()).await;
    assert_eq!(app.db.store.dead_letters(10).await.unwrap().len(), dead.len());
}
on_both_backends!(on_hold_pauses_and_undeliverable_stops);

/// The pages around deadlines and deliveries, as a browser uses them.
async fn operations_pages(app: &TestApp) {
    use common::{hidden, page, signed_in};
    let base = &app.base;
    // An escalation lands in the liaison's inbox.
    let (id, pin) = accepted_complaint(app).await;
    let due = report(app, &id).await.due_at.unwrap();
    run_pass(&app.state, due + Duration::seconds(1)).await.unwrap();
    drain(app, due + Duration::seconds(1)).await;
    let liaison = signed_in(app, "bandung_liaison").await;
    let (s, html) = page(&liaison, &format!("{base}/staf/kotak-masuk")).await;
    assert_eq!(s, 200);
    assert!(html.contains("Eskalasi tingkat 1") && html.contains(&id), "{html}");
    assert!(html.contains("1 belum dibaca"), "{html}");
    let form = [("csrf", hidden(&html, "csrf")), ("ft", hidden(&html, "ft"))];
    let r = liaison
        .post(format!("{base}/staf/kotak-masuk/baca"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = page(&liaison, &format!("{base}/staf/kotak-masuk")).await;
    assert!(html.contains("0 belum dibaca"), "{html}");
    // The operator pages are the national admins' alone.
    for path in ["/staf/pengiriman", "/staf/templat-notifikasi", "/staf/kalender"] {
        let (s, _) = page(&liaison, &format!("{base}{path}")).await;
        assert_eq!(s, 403, "{path}");
    }

    let national = signed_in(app, "national").await;
    // The calendar names its source and warns about provisional years.
    let (s, html) = page(&national, &format!("{base}/staf/kalender")).await;
    assert_eq!(s, 200);
    assert!(html.contains("2015–2027") && html.contains("2027"), "{html}");
    let (_, html) = page(&national, &format!("{base}/staf")).await;
    assert!(
        html.contains("masih sementara"),
        "the queue warns of provisional joint leave"
    );
    // A holiday file uploaded there: a bad one is refused whole with its
    // lines, a good one is in use at once.
    let upload = |html: &str, csv: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", hidden(html, "csrf"))
            .text("ft", hidden(html, "ft"))
            .text("sementara", "")
            .part(
                "berkas",
                reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("libur-2031.csv"),
            )
    };
    let (_, html) = page(&national, &format!("{base}/staf/kalender")).await;
    let bad = "date,category,name_id,name_en\n2031-03-03,libur_nasional,Uji,Test\n2031-02-30,libur_nasional,Mustahil,Impossible\n";
    let r = national
        .post(format!("{base}/staf/kalender"))
        .multipart(upload(&html, bad))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("baris 3"), "{html}");
    assert_eq!(app.state.calendar.file_id(), None, "the old calendar stays");
    let good = "date,category,name_id,name_en\n2031-03-03,libur_nasional,Libur uji (perkiraan),Test (estimated)\n";
    let r = national
        .post(format!("{base}/staf/kalender"))
        .multipart(upload(&html, good))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(app.state.calendar.file_id().is_some());
    assert!(
        !app.state
            .calendar
            .get()
            .is_working_day(chrono::NaiveDate::from_ymd_opt(2031, 3, 3).unwrap())
    );
    let (_, html) = page(&national, &format!("{base}/staf/kalender")).await;
    assert!(html.contains("libur-2031.csv"), "{html}");

    // A broken template is refused with its line and column, and kept for
    // correction; a good one is used for the next message.
    let (_, html) = page(&national, &format!("{base}/staf/templat-notifikasi")).await;
    let broken = [
        ("csrf", hidden(&html, "csrf")),
        ("ft", hidden(&html, "ft")),
        ("aksi", "simpan".into()),
        ("nama", "staff.escalation".into()),
        ("bahasa", "id".into()),
        ("subjek", "Eskalasi {{ tracking_id }}".into()),
        ("isi", "Baris satu\nBaris dua {% if level %}tanpa penutup".into()),
    ];
    let r = national
        .post(format!("{base}/staf/templat-notifikasi"))
        .form(&broken)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("line 2") || html.contains("baris 2"), "{html}");
    assert!(html.contains("tanpa penutup"), "the draft is kept");
    let good = [
        ("csrf", hidden(&html, "csrf")),
        ("ft", hidden(&html, "ft")),
        ("aksi", "simpan".into()),
        ("nama", "staff.escalation".into()),
        ("bahasa", "id".into()),
        ("subjek", "PERHATIAN {{ tracking_id }} tingkat {{ level }}".into()),
        ("isi", "Yth. {{ name }}, laporan {{ title }} terlambat.".into()),
    ];
    let r = national
        .post(format!("{base}/staf/templat-notifikasi"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let at = app
        .state
        .calendar
        .get()
        .working_days_after(due, 2, lapor_domain::calendar::Zone::Wib);
    run_pass(&app.state, at).await.unwrap();
    drain(app, at).await;
    assert_eq!(
        mailed(app, &format!("PERHATIAN {id} tingkat 2")),
        vec!["bandung_admin@lapor.test"]
    );

    // Dead letters are listed and can be replayed from the page.
    app.submit(json!({ "reporter": { "email": "salah@alamat.invalid" } }))
        .await;
    drain(app, Utc::now()).await;
    let (s, html) = page(&national, &format!("{base}/staf/pengiriman")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("notify.reporter.receipt") && html.contains("alamat tidak ada"),
        "{html}"
    );
    assert!(
        !html.contains("salah@alamat.invalid") || html.contains("550"),
        "payloads are not shown"
    );
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("ft", hidden(&html, "ft")),
        ("id", "semua".to_string()),
    ];
    let r = national
        .post(format!("{base}/staf/pengiriman/ulang"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("1 pesan dikirim ulang"));

    // The reporter sees the Ombudsman offer on the tracking page and accepts.
    let sixty = report(app, &id).await.submitted_at + Duration::days(61);
    run_pass(&app.state, sixty).await.unwrap();
    let reporter = common::browser();
    let (_, html) = page(&reporter, &format!("{base}/lacak")).await;
    let login = [
        ("csrf", hidden(&html, "csrf")),
        ("id", id.clone()),
        ("pin", pin.clone()),
    ];
    let r = reporter
        .post(format!("{base}/lacak"))
        .form(&login)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let (s, html) = page(&reporter, &format!("{base}/lacak/{id}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("Eskalasi ke Ombudsman"), "{html}");
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("isi", "Mohon ditindaklanjuti.".to_string()),
    ];
    let r = reporter
        .post(format!("{base}/lacak/{id}/ombudsman"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
    assert_eq!(report(app, &id).await.ombudsman, Some(Ombudsman::Escalated));
    let oversight = signed_in(app, "ombudsman").await;
    let (s, html) = page(&oversight, &format!("{base}/staf")).await;
    assert_eq!(s, 200);
    assert!(html.contains("Eskalasi Ombudsman") && html.contains(&id), "{html}");
}
on_both_backends!(operations_pages);

/// A holiday file imported while the server runs is used from the next
/// scheduler pass on; deadlines already set stay as they were.
async fn holidays_replaced_at_runtime(app: &TestApp) {
    let (id, _) = app.submit(json!({})).await;
    let before = report(app, &id).await.due_at;
    let day = chrono::NaiveDate::from_ymd_opt(2031, 3, 3).unwrap(); // a Monday
    assert!(app.state.calendar.get().is_working_day(day));
    let csv = "date,category,name_id,name_en\n2031-03-03,libur_nasional,Libur uji,Test holiday\n";
    let file = app
        .db
        .store
        .save_holiday_file("uji.csv", csv, &[2031], lapor_store::ts::Ts::now())
        .await
        .unwrap();
    run_pass(&app.state, Utc::now()).await.unwrap();
    assert_eq!(app.state.calendar.file_id(), Some(file));
    let cal = app.state.calendar.get();
    assert!(!cal.is_working_day(day));
    assert_eq!(cal.provisional_years(), vec![2031]);
    assert_eq!(
        report(app, &id).await.due_at,
        before,
        "a deadline already set does not move"
    );
}
on_both_backends!(holidays_replaced_at_runtime);

/// The daily digest: once a day after 07:00 WIB on a working day, each
/// staff member with overdue reports in their care gets one, however many
/// passes run.
async fn daily_digest(app: &TestApp) {
    let (id, _) = accepted_complaint(app).await;
    let due = report(app, &id).await.due_at.unwrap();
    let cal = app.state.calendar.get();
    // The first working day after the deadline, 06:00 and 08:00 WIB.
    let day = cal.add_working_days(
        lapor_domain::calendar::Calendar::local_date(due, lapor_domain::calendar::Zone::Wib),
        1,
    );
    let wib =
        |h: u32| chrono::TimeZone::from_utc_datetime(&Utc, &day.and_hms_opt(h, 0, 0).unwrap()) - Duration::hours(7);
    run_pass(&app.state, wib(6)).await.unwrap();
    drain(app, wib(6)).await;
    assert!(mailed(app, "Ringkasan harian").is_empty(), "not before 07:00");
    for _ in 0..3 {
        run_pass(&app.state, wib(8)).await.unwrap();
        drain(app, wib(8)).await;
    }
    let got = mailed(app, "Ringkasan harian: 1 laporan");
    // The report's institution (admin and liaison), the province above it
    // (supervisor) and the national admins; not the unrelated ministry, not
    // the unit the report is not with, not oversight.
    assert_eq!(
        got,
        vec![
            "bandung_admin@lapor.test",
            "bandung_liaison@lapor.test",
            "jabar_supervisor@lapor.test",
            "national@lapor.test"
        ],
        "one digest each"
    );
    assert!(inbox(app, "bandung_admin").await.contains(&"digest".to_string()));
    let text: String = app
        .sink
        .messages()
        .iter()
        .filter(|m| {
            m.rcpt_to == ["bandung_admin@lapor.test"] && m.subject.as_deref().unwrap_or("").contains("Ringkasan")
        })
        .map(|m| String::from_utf8_lossy(&m.raw).to_string())
        .collect();
    assert!(text.contains(&id), "the digest lists the report");
}
on_both_backends!(daily_digest);
