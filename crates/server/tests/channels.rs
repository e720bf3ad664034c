//! Every chat and SMS channel end to end, against a real Lapor server and a
//! local HTTP stand-in for the platform APIs that records each outbound
//! call: submit → track → staff follow-up → the reporter hears it on that
//! channel → replies → rates. Also the refusals: bad signatures (401),
//! malformed bodies (400), redeliveries (acknowledged, handled once).

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::TestApp;
use lapor_channels::signature;
use lapor_server::ServerConfig;
use lapor_server::channels::*;
use lapor_server::worker::{Counters, WorkerConfig, run_batch};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Path prefixes answered with an error status, once each.
    fail_once: Arc<Mutex<Vec<(String, u16)>>>,
    base: Arc<Mutex<String>>,
    /// Path prefixes answered with this JSON, once each, in order.
    canned: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn platform(State(r): State<Recorder>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    r.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.to_vec(),
    });
    {
        let mut f = r.fail_once.lock().unwrap();
        if let Some(i) = f.iter().position(|(p, _)| path.starts_with(p.as_str())) {
            let (_, code) = f.remove(i);
            return (
                StatusCode::from_u16(code).unwrap(),
                "{\"message\":\"Invalid reply token\"}",
            )
                .into_response();
        }
    }
    {
        let mut c = r.canned.lock().unwrap();
        if let Some(i) = c.iter().position(|(p, _)| path.starts_with(p.as_str())) {
            return axum::Json(c.remove(i).1).into_response();
        }
    }
    let base = r.base.lock().unwrap().clone();
    if path.contains("/getFile") {
        return axum::Json(json!({ "ok": true, "result": { "file_id": "F1", "file_unique_id": "u", "file_size": 300, "file_path": "photos/file_1.jpg" } })).into_response();
    }
    if path.starts_with("/file/") || path.starts_with("/media/") || path.contains("/content") {
        return common::jpeg().into_response();
    }
    if method == Method::GET && path.starts_with("/v21.0/MEDIA") {
        return axum::Json(json!({ "url": format!("{base}/media/1.jpg"), "mime_type": "image/jpeg", "file_size": 300, "id": "MEDIA1" })).into_response();
    }
    axum::Json(json!({ "ok": true, "result": { "message_id": 1 } })).into_response()
}

async fn stand_in() -> (String, Recorder) {
    let rec = Recorder::default();
    let app = axum::Router::new().fallback(platform).with_state(rec.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    *rec.base.lock().unwrap() = base.clone();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (base, rec)
}

impl Recorder {
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn config(base: &str) -> ServerConfig {
    ServerConfig {
        channels: ChannelsConfig {
            telegram: Some(TelegramConfig {
                bot_token: "123:ABC".into(),
                secret_token: "tg-secret".into(),
                api_base: base.into(),
            }),
            line: Some(LineConfig {
                channel_secret: "line-secret".into(),
                access_token: "LINE-TOKEN".into(),
                api_base: base.into(),
                data_api_base: base.into(),
            }),
            whatsapp: Some(WhatsappConfig {
                app_secret: "wa-secret".into(),
                verify_token: "wa-verify".into(),
                access_token: "WA-TOKEN".into(),
                phone_number_id: "1122334455667".into(),
                notice_template: Some("lapor_update".into()),
                graph_base: base.into(),
                graph_version: "v21.0".into(),
            }),
            messenger: Some(MessengerConfig {
                app_secret: "fb-secret".into(),
                verify_token: "fb-verify".into(),
                page_access_token: "PAGE-TOKEN".into(),
                graph_base: base.into(),
                graph_version: "v21.0".into(),
            }),
            sms: Some(SmsConfig {
                inbound_secret: Some("sms-secret".into()),
                twilio_auth_token: Some("12345".into()),
                twilio_hook_url: Some("https://lapor.example.go.id/hooks/sms/twilio".into()),
                send_via: "http".into(),
                sender_id: "1708".into(),
                http_send_url: Some(format!("{base}/sms/send")),
                http_send_token: Some("GW-TOKEN".into()),
                twilio_account_sid: None,
                twilio_api_base: base.into(),
                smpp: None,
            }),
            x: Some(XConfig {
                bearer_token: "X-APP-BEARER".into(),
                user_token: "X-USER-TOKEN".into(),
                account_id: X_ACCOUNT.into(),
                account_handle: "LAPOR1708".into(),
                api_base: base.into(),
                poll_secs: 60,
            }),
            email: Some(EmailConfig {
                bind: "127.0.0.1:0".into(),
                addresses: vec!["lapor@lapor.example.go.id".into()],
                relays: vec!["127.0.0.1".into()],
                max_bytes: 5 << 20,
                authserv_id: Some("mx.lapor.example.go.id".into()),
            }),
            per_sender_per_minute: Some(60),
        },
        ..Default::default()
    }
}

async fn start(db: lapor_store::testing::TestDb) -> (TestApp, Recorder) {
    let (base, rec) = stand_in().await;
    (TestApp::start_with(db, config(&base)).await, rec)
}

async fn drain(app: &TestApp) {
    let cfg = WorkerConfig::default();
    let counters = Counters::default();
    for _ in 0..50 {
        if run_batch(&app.state, &cfg, &counters).await.unwrap() == 0 {
            return;
        }
    }
    panic!("the outbox did not drain");
}

async fn hook(app: &TestApp, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> (u16, String) {
    let mut r = app.client.post(format!("{}{path}", app.base)).body(body);
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    let resp = r.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

// ---------------------------------------------------------------- Telegram

struct Tg<'a> {
    app: &'a TestApp,
    next: i64,
}

impl Tg<'_> {
    async fn send(&mut self, update: Value) -> (u16, String) {
        self.next += 1;
        let mut u = update;
        u["update_id"] = json!(self.next);
        self.raw(&u).await
    }
    async fn raw(&self, u: &Value) -> (u16, String) {
        hook(
            self.app,
            "/hooks/telegram",
            &[("x-telegram-bot-api-secret-token", "tg-secret".into())],
            serde_json::to_vec(u).unwrap(),
        )
        .await
    }
    async fn text(&mut self, t: &str) {
        let (s, b) = self.send(json!({ "message": { "message_id": 1, "from": { "id": 5123, "is_bot": false, "first_name": "Siti", "language_code": "id" }, "chat": { "id": 5123, "type": "private" }, "date": 1795137206, "text": t } })).await;
        assert_eq!(s, 200, "{b}");
    }
    async fn press(&mut self, data: &str) {
        let (s, b) = self.send(json!({ "callback_query": { "id": format!("cb{}", self.next), "from": { "id": 5123, "is_bot": false, "first_name": "Siti" }, "message": { "message_id": 2, "chat": { "id": 5123, "type": "private" }, "date": 1795137206 }, "chat_instance": "1", "data": data } })).await;
        assert_eq!(s, 200, "{b}");
        assert!(b.contains("answerCallbackQuery"), "{b}");
    }
    async fn other(&mut self, message: Value) {
        let mut m = message;
        m["message_id"] = json!(3);
        m["from"] = json!({ "id": 5123, "is_bot": false, "first_name": "Siti" });
        m["chat"] = json!({ "id": 5123, "type": "private" });
        m["date"] = json!(1795137206);
        let (s, b) = self.send(json!({ "message": m })).await;
        assert_eq!(s, 200, "{b}");
    }
}

fn texts(seen: &[Seen]) -> String {
    seen.iter()
        .map(|s| {
            let j = s.json();
            j["text"]
                .as_str()
                .or(j["messages"][0]["text"].as_str())
                .or(j["interactive"]["body"]["text"].as_str())
                .or(j["message"]["text"].as_str())
                .map(str::to_string)
                .or(j["template"]["components"][0]["parameters"][0]["text"]
                    .as_str()
                    .map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&s.body).to_string())
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

fn tracking_id_in(text: &str) -> String {
    let re = regex_lite(text);
    re.expect("a Tracking ID in the reply")
}

/// The `XXXX-XXXX` after "ID Pelacakan: ".
fn regex_lite(text: &str) -> Option<String> {
    let at = text.find("ID Pelacakan: ")? + "ID Pelacakan: ".len();
    Some(text[at..at + 9].to_string())
}

/// The institution answers: disposition, acceptance, follow-up.
async fn staff_answers(app: &TestApp, id: &str, body: &str) {
    for (path, who, payload) in [
        ("disposition", "national", json!({ "institution": "pemkot-32.73" })),
        ("accept", "bandung_admin", json!({})),
        ("follow-up", "bandung_admin", json!({ "body": body })),
    ] {
        let (s, v) = app
            .post(&format!("/api/v1/reports/{id}/{path}"), Some(who), payload)
            .await;
        assert_eq!(s, 200, "{path}: {v}");
    }
}

async fn kinds(app: &TestApp, id: &str) -> Vec<String> {
    let tid = lapor_domain::ids::TrackingId::parse(id).unwrap();
    app.db
        .store
        .events(&tid)
        .await
        .unwrap()
        .iter()
        .map(|e| e.data.kind().to_string())
        .collect()
}

async fn telegram_end_to_end(app: &TestApp, rec: &Recorder) {
    let mut tg = Tg { app, next: 9000 };
    tg.text("/start").await;
    drain(app).await;
    let out = rec.take();
    assert_eq!(out.len(), 1);
    // The exact call Telegram documents for sendMessage.
    assert_eq!(out[0].method, "POST");
    assert_eq!(out[0].path, "/bot123:ABC/sendMessage");
    assert_eq!(out[0].header("content-type"), Some("application/json"));
    let body = out[0].json();
    assert_eq!(body["chat_id"], 5123);
    assert!(body["text"].as_str().unwrap().starts_with("Selamat datang di LAPOR!"));
    assert_eq!(
        body["reply_markup"]["inline_keyboard"][0][0],
        json!({ "text": "Buat laporan", "callback_data": "report" })
    );

    tg.press("report").await;
    tg.press("c:pengaduan").await;
    tg.text("Jalan berlubang di Dago").await;
    tg.text("Lubang besar di Jl. Ir. H. Juanda dekat simpang Dago, sudah dua minggu.")
        .await;
    tg.other(json!({ "location": { "latitude": -6.9025, "longitude": 107.6186 } }))
        .await;
    tg.other(json!({ "photo": [{ "file_id": "F0", "file_unique_id": "a", "file_size": 90, "width": 90, "height": 60 }, { "file_id": "F1", "file_unique_id": "b", "file_size": 300, "width": 800, "height": 600 }] })).await;
    tg.press("skip").await;
    tg.press("anon:no").await;
    tg.press("send").await;
    drain(app).await;
    let out = rec.take();
    // The photo was fetched through getFile, then downloaded.
    assert!(
        out.iter()
            .any(|s| s.method == "GET" && s.path == "/bot123:ABC/getFile?file_id=F1"),
        "{out:?}"
    );
    assert!(out.iter().any(|s| s.path == "/file/bot123:ABC/photos/file_1.jpg"));
    let said = texts(&out);
    let id = tracking_id_in(&said);
    assert!(said.contains("PIN: "), "{said}");
    let stored = app
        .db
        .store
        .report(&lapor_domain::ids::TrackingId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.report.channel.as_str(), "telegram");
    assert_eq!(stored.report.region_code.as_deref(), Some("32.73"));
    assert_eq!(
        app.db
            .store
            .attachments(&stored.report.tracking_id)
            .await
            .unwrap()
            .len(),
        1
    );
    // The PIN does not outlive its delivery in the outbox.
    let rows = app.db.store.outbox(500).await.unwrap();
    assert!(
        !rows.iter().any(|r| r.payload.to_string().contains("PIN: ")),
        "PIN scrubbed"
    );

    // Redelivery of an update already handled: acknowledged, nothing new.
    let before = app.outbox_count().await;
    let (s, _) = tg.raw(&json!({ "update_id": tg.next, "callback_query": { "id": "x", "from": { "id": 5123, "is_bot": false }, "data": "send" } })).await;
    assert_eq!(s, 200);
    assert_eq!(app.outbox_count().await, before);

    // Tracking by ID.
    tg.text(&id).await;
    drain(app).await;
    assert!(texts(&rec.take()).contains(&format!("Laporan {id}")));

    // The institution answers; the reporter hears it on Telegram.
    staff_answers(app, &id, "Lubang sudah ditambal oleh Dinas PU pada 20 November.").await;
    drain(app).await;
    let notices = rec.take();
    assert!(
        notices.iter().any(|s| s.path == "/bot123:ABC/sendMessage"
            && s.json()["chat_id"] == 5123
            && texts(std::slice::from_ref(s)).contains("ditambal")),
        "{}",
        texts(&notices)
    );

    // Replies and rates from the chat.
    tg.press("reply").await;
    tg.text(&id).await;
    tg.text("Terima kasih, tapi marka jalannya belum dicat ulang.").await;
    // A reply sends the report back to the institution, which answers again.
    let (st, v) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("bandung_admin"),
            json!({ "body": "Marka dicat ulang hari ini." }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    tg.press("rate").await;
    tg.text(&id).await;
    tg.press("star:4").await;
    drain(app).await;
    let said = texts(&rec.take());
    assert!(said.contains("Balasan Anda sudah diteruskan"), "{said}");
    assert!(said.contains("(4/5)"), "{said}");
    let k = kinds(app, &id).await;
    assert!(
        k.contains(&"reporter_replied".to_string()) || k.iter().any(|x| x.contains("repl")),
        "{k:?}"
    );
    assert!(k.iter().any(|x| x.contains("rat")), "{k:?}");
}

async fn refusals(app: &TestApp, rec: &Recorder) {
    let body = br#"{"update_id":1,"message":{"message_id":1,"chat":{"id":1},"text":"halo"}}"#.to_vec();
    let (s, b) = hook(
        app,
        "/hooks/telegram",
        &[("x-telegram-bot-api-secret-token", "wrong".into())],
        body.clone(),
    )
    .await;
    assert_eq!(s, 401, "{b}");
    assert!(b.contains("invalid_signature"));
    let (s, _) = hook(app, "/hooks/telegram", &[], body).await;
    assert_eq!(s, 401);
    let (s, b) = hook(
        app,
        "/hooks/telegram",
        &[("x-telegram-bot-api-secret-token", "tg-secret".into())],
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(b.contains("malformed_webhook"));
    for (path, header, secret) in [
        ("/hooks/line", "x-line-signature", "line-secret"),
        ("/hooks/whatsapp", "x-hub-signature-256", "wa-secret"),
        ("/hooks/messenger", "x-hub-signature-256", "fb-secret"),
        ("/hooks/sms", "x-lapor-signature", "sms-secret"),
    ] {
        let good = br#"{"object":"page"#.to_vec();
        let sig = if header == "x-line-signature" {
            signature::line_sign(secret, &good)
        } else {
            signature::meta_sign(secret, &good)
        };
        let (s, _) = hook(app, path, &[(header, "sha256=00".into())], good.clone()).await;
        assert_eq!(s, 401, "{path}");
        let (s, b) = hook(app, path, &[(header, sig)], good).await;
        assert_eq!(s, 400, "{path}: {b}");
    }
    let (s, _) = hook(
        app,
        "/hooks/sms/twilio",
        &[("x-twilio-signature", "AAAA".into())],
        b"From=%2B62&Body=x".to_vec(),
    )
    .await;
    assert_eq!(s, 401);
    // Nothing of this was processed or answered.
    drain(app).await;
    assert!(rec.take().is_empty());
}

// ---------------------------------------------------------------- WhatsApp

fn wa_body(id: &str, message: Value) -> Vec<u8> {
    let mut m = message;
    m["from"] = json!("6281234567890");
    m["id"] = json!(id);
    m["timestamp"] = json!("1795137206");
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "1708", "phone_number_id": "1122334455667" },
            "contacts": [{ "profile": { "name": "Budi" }, "wa_id": "6281234567890" }],
            "messages": [m]
        }}]}]
    }))
    .unwrap()
}

async fn wa(app: &TestApp, n: &mut u32, message: Value) {
    *n += 1;
    let body = wa_body(&format!("wamid.T{n}"), message);
    let sig = signature::meta_sign("wa-secret", &body);
    let (s, b) = hook(app, "/hooks/whatsapp", &[("x-hub-signature-256", sig)], body).await;
    assert_eq!(s, 200, "{b}");
}

fn wa_button(id: &str) -> Value {
    json!({ "type": "interactive", "interactive": { "type": "button_reply", "button_reply": { "id": id, "title": id } } })
}

fn wa_text(t: &str) -> Value {
    json!({ "type": "text", "text": { "body": t } })
}

async fn whatsapp_end_to_end(app: &TestApp, rec: &Recorder) {
    // Meta's subscription handshake.
    let r = app
        .client
        .get(format!(
            "{}/hooks/whatsapp?hub.mode=subscribe&hub.verify_token=wa-verify&hub.challenge=1158201444",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let r = app
        .client
        .get(format!(
            "{}/hooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let mut n = 0;
    wa(app, &mut n, wa_text("menu")).await;
    drain(app).await;
    let out = rec.take();
    assert_eq!(out[0].method, "POST");
    assert_eq!(out[0].path, "/v21.0/1122334455667/messages");
    assert_eq!(out[0].header("authorization"), Some("Bearer WA-TOKEN"));
    let b = out[0].json();
    assert_eq!(b["messaging_product"], "whatsapp");
    assert_eq!(b["to"], "6281234567890");
    assert_eq!(b["interactive"]["type"], "list", "five menu choices make a list");
    assert_eq!(
        b["interactive"]["action"]["sections"][0]["rows"][0],
        json!({ "id": "report", "title": "Buat laporan" })
    );

    wa(app, &mut n, wa_button("report")).await;
    wa(app, &mut n, wa_button("c:aspirasi")).await;
    wa(app, &mut n, wa_text("Perbanyak tempat sampah")).await;
    wa(
        app,
        &mut n,
        wa_text("Mohon tambah tempat sampah di sepanjang Jl. Braga agar tidak berserakan."),
    )
    .await;
    wa(app, &mut n, wa_text("kota bandung")).await;
    wa(
        app,
        &mut n,
        json!({ "type": "image", "image": { "id": "MEDIA1", "mime_type": "image/jpeg", "sha256": "x" } }),
    )
    .await;
    wa(app, &mut n, wa_button("skip")).await;
    wa(app, &mut n, wa_button("anon:yes")).await;
    wa(app, &mut n, wa_button("send")).await;
    drain(app).await;
    let out = rec.take();
    assert!(
        out.iter().any(|s| s.method == "GET" && s.path == "/v21.0/MEDIA1"),
        "media object fetched"
    );
    assert!(
        out.iter()
            .any(|s| s.path == "/media/1.jpg" && s.header("authorization") == Some("Bearer WA-TOKEN"))
    );
    let id = tracking_id_in(&texts(&out));
    let stored = app
        .db
        .store
        .report(&lapor_domain::ids::TrackingId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.report.anonymous);
    assert_eq!(stored.report.channel.as_str(), "whatsapp");

    staff_answers(app, &id, "Lima tempat sampah baru dipasang minggu ini.").await;
    drain(app).await;
    let notices = rec.take();
    let notice = notices
        .iter()
        .find(|s| s.json()["type"] == "template")
        .expect("a template notice");
    assert_eq!(notice.json()["template"]["name"], "lapor_update");
    assert!(texts(std::slice::from_ref(notice)).contains("tempat sampah"));

    wa(app, &mut n, wa_text("balas")).await;
    wa(app, &mut n, wa_text(&id)).await;
    wa(app, &mut n, wa_text("Terima kasih, sudah saya lihat.")).await;
    let (st, v) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("bandung_admin"),
            json!({ "body": "Sama-sama." }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    wa(app, &mut n, wa_text("nilai")).await;
    wa(app, &mut n, wa_text(&id)).await;
    wa(app, &mut n, json!({ "type": "interactive", "interactive": { "type": "list_reply", "list_reply": { "id": "star:5", "title": "5" } } })).await;
    drain(app).await;
    let said = texts(&rec.take());
    assert!(
        said.contains("Balasan Anda sudah diteruskan") && said.contains("(5/5)"),
        "{said}"
    );
}

// ---------------------------------------------------------------- SMS

async fn sms(app: &TestApp, id: &str, from: &str, text: &str) -> (u16, String) {
    let body = serde_json::to_vec(&json!({ "id": id, "from": from, "to": "1708", "text": text })).unwrap();
    let sig = signature::meta_sign("sms-secret", &body);
    hook(app, "/hooks/sms", &[("x-lapor-signature", sig)], body).await
}

async fn sms_end_to_end(app: &TestApp, rec: &Recorder) {
    let (s, b) = sms(
        app,
        "gw-1",
        "+6281311112222",
        "LAPOR Pungutan liar di loket KTP Kecamatan Coblong, diminta Rp50.000",
    )
    .await;
    assert_eq!(s, 200, "{b}");
    drain(app).await;
    let out = rec.take();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].path, "/sms/send");
    assert_eq!(out[0].header("authorization"), Some("Bearer GW-TOKEN"));
    assert_eq!(out[0].header("idempotency-key"), Some("sms:gw-1:reply"));
    let b = out[0].json();
    assert_eq!(
        (b["from"].as_str(), b["to"].as_str()),
        (Some("1708"), Some("+6281311112222"))
    );
    let id = tracking_id_in(b["text"].as_str().unwrap());

    sms(app, "gw-2", "+6281311112222", &format!("LACAK {id}")).await;
    drain(app).await;
    assert!(texts(&rec.take()).contains(&id));

    staff_answers(app, &id, "Petugas loket telah diperiksa Inspektorat.").await;
    drain(app).await;
    assert!(texts(&rec.take()).contains("Inspektorat"));

    sms(
        app,
        "gw-3",
        "+6281311112222",
        &format!("BALAS {id} Terima kasih atas tindak lanjutnya"),
    )
    .await;
    let (st, v) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("bandung_admin"),
            json!({ "body": "Kasus diteruskan ke Inspektorat." }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    sms(app, "gw-4", "+6281311112222", &format!("NILAI {id} 5")).await;
    // Something that is no form: help, and the message goes to the inbox.
    sms(
        app,
        "gw-5",
        "+6281311112222",
        "tolong bantu jalan depan rumah saya rusak",
    )
    .await;
    drain(app).await;
    let said = texts(&rec.take());
    assert!(said.contains("(5/5)") && said.contains("LAPOR <isi laporan>"), "{said}");
    let inbox = app.db.store.inbox_items("open", 50).await.unwrap();
    assert!(
        inbox
            .iter()
            .any(|i| i.channel == "sms" && i.text.contains("jalan depan rumah"))
    );

    // Twilio's form, signed over the configured URL.
    let params = vec![
        ("MessageSid".to_string(), "SM1".to_string()),
        ("From".to_string(), "+6281399998888".to_string()),
        ("To".to_string(), "1708".to_string()),
        ("Body".to_string(), format!("CEK {id}")),
    ];
    let sig = signature::twilio_sign("12345", "https://lapor.example.go.id/hooks/sms/twilio", &params);
    let body = serde_urlencoded::to_string(&params).unwrap().into_bytes();
    let (s, b) = hook(
        app,
        "/hooks/sms/twilio",
        &[
            ("x-twilio-signature", sig),
            ("content-type", "application/x-www-form-urlencoded".into()),
        ],
        body,
    )
    .await;
    assert_eq!(s, 200);
    assert!(b.contains("<Response>"));
    drain(app).await;
    assert!(texts(&rec.take()).contains(&id));
}

// ---------------------------------------------------------------- X

const X_ACCOUNT: &str = "1455678901234561708";

/// The documented mentions page (three mentions: one `#LAPOR`, two
/// without the tag), plus a reply of our own that mentions us.
fn mentions_page() -> Value {
    let mut page: Value = serde_json::from_str(include_str!("../../channels/tests/fixtures/x/mentions.json")).unwrap();
    page["data"].as_array_mut().unwrap().insert(
        0,
        json!({ "id": "2123590000000000001", "text": "@rinakusuma_bdg Terima kasih, ID Pelacakan: ABCD-EFGH", "author_id": X_ACCOUNT, "created_at": "2026-11-20T01:20:00.000Z" }),
    );
    page
}

async fn x_end_to_end(app: &TestApp, rec: &Recorder) {
    use lapor_server::channels::x_poll::{PollStats, poll_once};
    let mentions = format!("/2/users/{X_ACCOUNT}/mentions");
    rec.canned.lock().unwrap().push((mentions.clone(), mentions_page()));
    let stats = poll_once(&app.state).await.unwrap();
    assert_eq!(
        stats,
        PollStats {
            fetched: 4,
            handled: 3,
            duplicates: 0,
            dropped: 1
        }
    );
    drain(app).await;
    let out = rec.take();
    let get = &out[0];
    assert_eq!(
        (get.method.as_str(), get.header("authorization")),
        ("GET", Some("Bearer X-APP-BEARER"))
    );
    assert!(
        get.path.starts_with(&format!("{mentions}?max_results=100&")),
        "{}",
        get.path
    );
    assert!(get.path.contains("expansions=author_id") && !get.path.contains("since_id"));
    // One public reply, under the #LAPOR tweet, with the ID and no PIN.
    let posts: Vec<&Seen> = out.iter().filter(|s| s.method == "POST").collect();
    assert_eq!(posts.len(), 1, "untagged mentions and our own tweet get no reply");
    assert_eq!(posts[0].path, "/2/tweets");
    assert_eq!(posts[0].header("authorization"), Some("Bearer X-USER-TOKEN"));
    let b = posts[0].json();
    assert_eq!(b["reply"]["in_reply_to_tweet_id"], "2123585880979714050");
    let text = b["text"].as_str().unwrap();
    assert!(text.chars().count() <= 280 && !text.contains("PIN"), "{text}");
    let id = tracking_id_in(text);
    let report = app
        .db
        .store
        .report(&lapor_domain::ids::TrackingId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.report.channel, lapor_domain::report::Channel::Twitter);
    assert!(
        report.report.body.starts_with("Lampu jalan mati"),
        "{}",
        report.report.body
    );
    let inbox = app.db.store.inbox_items("open", 50).await.unwrap();
    let untagged: Vec<_> = inbox.iter().filter(|i| i.channel == "twitter").collect();
    assert_eq!(untagged.len(), 2, "{inbox:?}");
    assert!(untagged.iter().all(|i| i.reason == "untagged"));
    assert!(untagged.iter().any(|i| i.sender_name.as_deref() == Some("@aguspras")));

    // The next poll asks only for newer tweets; X sending the same page
    // again changes nothing.
    rec.canned.lock().unwrap().push((mentions.clone(), mentions_page()));
    let again = poll_once(&app.state).await.unwrap();
    assert_eq!((again.handled, again.duplicates), (0, 3));
    drain(app).await;
    let out = rec.take();
    assert!(out[0].path.contains("since_id=2123585880979714050"), "{}", out[0].path);
    assert!(
        out.iter().all(|s| s.method == "GET"),
        "nothing answered twice: {}",
        texts(&out)
    );
    // Catching up follows X's pagination token.
    assert!(out[1].path.contains("pagination_token="), "{}", out[1].path);

    // Progress goes back under the tweet: the status and a link, never the
    // follow-up's text (X is public).
    staff_answers(app, &id, "Petugas PJU dijadwalkan Kamis, hubungi 0812-3456-7890.").await;
    drain(app).await;
    let notices: Vec<Seen> = rec.take().into_iter().filter(|s| s.path == "/2/tweets").collect();
    assert!(!notices.is_empty());
    for n in &notices {
        let b = n.json();
        assert_eq!(b["reply"]["in_reply_to_tweet_id"], "2123585880979714050");
        let t = b["text"].as_str().unwrap();
        assert!(t.contains(&id) && t.contains("/lacak/") && !t.contains("0812"), "{t}");
    }
    // X down: the poll fails cleanly and the next one catches up.
    rec.fail_once.lock().unwrap().push((mentions.clone(), 503));
    assert!(poll_once(&app.state).await.is_err());
    rec.take();
}

// ---------------------------------------------------------------- e-mail

/// A mail as a citizen's client writes it: multipart, base64 attachments,
/// an RFC 2047 encoded From name.
fn citizen_mail(
    id: &str,
    from: &str,
    subject: &str,
    extra_headers: &str,
    text: &str,
    files: &[(&str, &str, &[u8])],
) -> Vec<u8> {
    use base64::Engine;
    let domain = from.rsplit('@').next().unwrap_or_default();
    let mut m = format!(
        "Authentication-Results: mx.lapor.example.go.id;\r\n spf=pass smtp.mailfrom={domain};\r\n dmarc=pass header.from={domain}\r\n\
         From: =?UTF-8?B?{}?= <{from}>\r\nTo: LAPOR! <lapor@lapor.example.go.id>\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\nDate: Tue, 24 Nov 2026 08:15:00 +0700\r\n{extra_headers}MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
         Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n",
        base64::engine::general_purpose::STANDARD.encode("Budi Santoso")
    );
    for (name, ctype, bytes) in files {
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        m.push_str(&format!(
            "--b1\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n"
        ));
    }
    m.push_str("--b1--\r\n");
    m.into_bytes()
}

/// Hands a mail over SMTP the way the MTA would; the final reply code.
async fn smtp_send(addr: std::net::SocketAddr, from: &str, to: &str, raw: &[u8]) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut s = BufReader::new(s);
    let mut last;
    async fn read_reply(s: &mut BufReader<tokio::net::TcpStream>) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            s.read_line(&mut line).await.unwrap();
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }
    read_reply(&mut s).await;
    for cmd in [
        "EHLO mta.lapor.example.go.id".to_string(),
        format!("MAIL FROM:<{from}>"),
        format!("RCPT TO:<{to}>"),
        "DATA".into(),
    ] {
        s.get_mut().write_all(format!("{cmd}\r\n").as_bytes()).await.unwrap();
        last = read_reply(&mut s).await;
        if !last.starts_with('2') && !last.starts_with('3') {
            return last;
        }
    }
    s.get_mut().write_all(raw).await.unwrap();
    s.get_mut().write_all(b".\r\n").await.unwrap();
    last = read_reply(&mut s).await;
    s.get_mut().write_all(b"QUIT\r\n").await.unwrap();
    last
}

fn header_of<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .find(|l| {
            l.len() > name.len() && l[..name.len()].eq_ignore_ascii_case(name) && l[name.len()..].starts_with(':')
        })
        .map(|l| l[name.len() + 1..].trim())
}

async fn email_end_to_end(app: &TestApp, rec: &Recorder) {
    let smtp = lapor_server::channels::email::listen(&app.state)
        .await
        .unwrap()
        .unwrap();
    let addr = smtp.addr();
    let to = "lapor@lapor.example.go.id";
    let exe: &[u8] = b"MZ\x90\x00 this is not evidence";
    let first = citizen_mail(
        "m1@mail.example.id",
        "budi@mail.example.id",
        "Jalan berlubang di Jl. Dago",
        "",
        "Lubang besar di depan Jl. Dago no. 10 sudah dua minggu, membahayakan pengendara motor.",
        &[
            ("lubang.jpg", "image/jpeg", &common::jpeg()),
            ("foto.jpg", "image/jpeg", exe),
        ],
    );
    let r = smtp_send(addr, "budi@mail.example.id", to, &first).await;
    assert!(r.starts_with("250"), "{r}");
    // The MTA retries (it did not see our 250, say): handled once.
    let r = smtp_send(addr, "budi@mail.example.id", to, &first).await;
    assert!(r.starts_with("250"), "{r}");
    drain(app).await;
    let mails = app.sink.messages();
    let ours: Vec<_> = mails.iter().filter(|m| m.rcpt_to == ["budi@mail.example.id"]).collect();
    assert_eq!(ours.len(), 1, "one answer");
    let raw = String::from_utf8_lossy(&ours[0].raw).to_string();
    assert_eq!(header_of(&raw, "In-Reply-To"), Some("<m1@mail.example.id>"), "{raw}");
    assert_eq!(header_of(&raw, "References"), Some("<m1@mail.example.id>"));
    let subject = ours[0].subject.clone().unwrap();
    assert!(
        subject.starts_with("Re: Jalan berlubang di Jl. Dago [LAPOR "),
        "{subject}"
    );
    let id = subject[subject.len() - 10..subject.len() - 1].to_string();
    assert!(
        raw.contains("PIN") && raw.contains("foto.jpg"),
        "the PIN, and the file left out: {raw}"
    );
    let tid = lapor_domain::ids::TrackingId::parse(&id).unwrap();
    let report = app.db.store.report(&tid).await.unwrap().unwrap().report;
    assert_eq!(report.channel, lapor_domain::report::Channel::Email);
    assert_eq!(report.title, "Jalan berlubang di Jl. Dago");
    assert_eq!(
        app.db.store.attachments(&tid).await.unwrap().len(),
        1,
        "the photo kept, the disguised file not"
    );

    // The institution answers: the notice threads under the first mail.
    staff_answers(app, &id, "Tim UPT Jalan menambal lubang hari Kamis.").await;
    drain(app).await;
    let notices: Vec<_> = app
        .sink
        .messages()
        .into_iter()
        .filter(|m| m.rcpt_to == ["budi@mail.example.id"])
        .skip(1)
        .collect();
    assert!(!notices.is_empty());
    let last = String::from_utf8_lossy(&notices.last().unwrap().raw).to_string();
    assert_eq!(header_of(&last, "In-Reply-To"), Some("<m1@mail.example.id>"));
    assert!(
        notices
            .iter()
            .any(|n| String::from_utf8_lossy(&n.raw).contains("Kamis"))
    );

    // The citizen answers by replying: only what they wrote counts.
    let reply = citizen_mail(
        "m2@mail.example.id",
        "budi@mail.example.id",
        &format!("Re: Jalan berlubang di Jl. Dago [LAPOR {id}]"),
        "In-Reply-To: <x@lapor.test>\r\n",
        "Terima kasih, akan saya pantau.\r\n\r\nPada Sel, 24 Nov 2026, LAPOR! menulis:\r\n> Tim UPT Jalan",
        &[],
    );
    assert!(
        smtp_send(addr, "budi@mail.example.id", to, &reply)
            .await
            .starts_with("250")
    );
    let events = app.db.store.events(&tid).await.unwrap();
    let said = events.iter().rev().find_map(|e| e.body.clone()).unwrap_or_default();
    assert_eq!(said, "Terima kasih, akan saya pantau.");
    drain(app).await;
    // The institution answers again; the citizen rates by mail.
    let (st, v) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("bandung_admin"),
            json!({ "body": "Sudah ditambal dan dicek ulang." }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let rate = citizen_mail(
        "m2b@mail.example.id",
        "budi@mail.example.id",
        &format!("Re: Jalan berlubang di Jl. Dago [LAPOR {id}]"),
        "",
        "NILAI 5\r\n\r\nTerima kasih.",
        &[],
    );
    let seen = app.sink.count();
    assert!(
        smtp_send(addr, "budi@mail.example.id", to, &rate)
            .await
            .starts_with("250")
    );
    drain(app).await;
    assert!(
        app.sink
            .messages()
            .iter()
            .skip(seen)
            .any(|m| String::from_utf8_lossy(&m.raw).contains("(5/5)")),
        "rated by mail"
    );
    let events = app.db.store.events(&tid).await.unwrap();

    // Someone else cannot answer for Budi; an auto-reply gets no answer.
    let other = citizen_mail(
        "m3@x.example.id",
        "eve@x.example.id",
        &format!("Re: [LAPOR {id}]"),
        "",
        "Laporan ini palsu, tutup saja.",
        &[],
    );
    assert!(smtp_send(addr, "eve@x.example.id", to, &other).await.starts_with("250"));
    let auto = citizen_mail(
        "m4@mail.example.id",
        "budi@mail.example.id",
        "Out of office",
        "Auto-Submitted: auto-replied\r\n",
        "Saya sedang cuti sampai 1 Desember.",
        &[],
    );
    assert!(
        smtp_send(addr, "budi@mail.example.id", to, &auto)
            .await
            .starts_with("250")
    );
    let before = app.sink.count();
    drain(app).await;
    let new: Vec<_> = app.sink.messages().into_iter().skip(before).collect();
    let rcpts: Vec<_> = new.iter().map(|m| m.rcpt_to.join(",")).collect();
    assert_eq!(
        rcpts,
        ["eve@x.example.id"],
        "eve hears 'not found'; the auto-reply nothing"
    );
    assert_eq!(new[0].rcpt_to, ["eve@x.example.id"]);
    assert_eq!(
        app.db.store.events(&tid).await.unwrap().len(),
        events.len(),
        "eve's mail changed nothing"
    );

    // A forged sender (no pass from our MTA) is neither answered nor acted
    // on: it waits in the handler inbox.
    let before = app.sink.count();
    let forged = String::from_utf8(citizen_mail(
        "m5@evil.example",
        "budi@mail.example.id",
        &format!("Re: [LAPOR {id}]"),
        "",
        "NILAI 1",
        &[],
    ))
    .unwrap();
    let forged = forged.replacen("dmarc=pass", "dmarc=fail", 1);
    assert!(
        smtp_send(addr, "budi@mail.example.id", to, forged.as_bytes())
            .await
            .starts_with("250")
    );
    drain(app).await;
    assert_eq!(app.sink.count(), before, "no answer to a forged sender");
    assert_eq!(
        app.db.store.events(&tid).await.unwrap().len(),
        events.len(),
        "no rating"
    );
    let inbox = app.db.store.inbox_items("open", 50).await.unwrap();
    assert!(
        inbox.iter().any(|i| i.channel == "email" && i.reason == "unverified"),
        "{inbox:?}"
    );

    // Refusals at the SMTP level.
    let r = smtp_send(addr, "budi@mail.example.id", "someone@else.example", &first).await;
    assert!(r.starts_with("550"), "{r}");
    let r = smtp_send(addr, "x@y.example", to, b"this is not a mail\r\n").await;
    assert!(r.starts_with("554"), "{r}");
    drop(smtp);
    rec.take();
}

// ---------------------------------------------------------------- LINE & Messenger

async fn line_and_messenger(app: &TestApp, rec: &Recorder) {
    // A new friend gets the menu through the reply API; when the reply token
    // is refused, the push API delivers instead.
    let body = serde_json::to_vec(&json!({ "destination": "U0", "events": [{
        "type": "follow", "mode": "active", "timestamp": 1795137206000i64, "replyToken": "rt-1",
        "source": { "type": "user", "userId": "U206d25c2ea6bd87c17655609a1c37cb8" },
        "webhookEventId": "01HLINE1", "deliveryContext": { "isRedelivery": false }
    }]}))
    .unwrap();
    let sig = signature::line_sign("line-secret", &body);
    rec.fail_once
        .lock()
        .unwrap()
        .push(("/v2/bot/message/reply".into(), 400));
    let (s, b) = hook(app, "/hooks/line", &[("x-line-signature", sig)], body).await;
    assert_eq!(s, 200, "{b}");
    drain(app).await;
    let out = rec.take();
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0].path, "/v2/bot/message/reply");
    assert_eq!(out[0].json()["replyToken"], "rt-1");
    assert_eq!(out[1].path, "/v2/bot/message/push");
    assert_eq!(out[1].header("authorization"), Some("Bearer LINE-TOKEN"));
    assert_eq!(out[1].header("x-line-retry-key").map(str::len), Some(36));
    assert_eq!(out[1].json()["to"], "U206d25c2ea6bd87c17655609a1c37cb8");
    assert_eq!(
        out[1].json()["messages"][0]["quickReply"]["items"][0]["action"]["data"],
        "report"
    );

    let body = serde_json::to_vec(
        &json!({ "object": "page", "entry": [{ "id": "PAGE", "time": 1795137206000i64, "messaging": [{
            "sender": { "id": "PSID-77" }, "recipient": { "id": "PAGE" }, "timestamp": 1795137206000i64,
            "message": { "mid": "m_1", "text": "menu" }
        }]}]}),
    )
    .unwrap();
    let sig = signature::meta_sign("fb-secret", &body);
    let (s, _) = hook(app, "/hooks/messenger", &[("x-hub-signature-256", sig)], body).await;
    assert_eq!(s, 200);
    drain(app).await;
    let out = rec.take();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].path, "/v21.0/me/messages");
    assert_eq!(out[0].header("authorization"), Some("Bearer PAGE-TOKEN"));
    let b = out[0].json();
    assert_eq!(b["recipient"]["id"], "PSID-77");
    assert_eq!(b["messaging_type"], "RESPONSE");
    assert_eq!(
        b["message"]["quick_replies"][0],
        json!({ "content_type": "text", "title": "Buat laporan", "payload": "report" })
    );
}

/// A chat account on LINE or Messenger, sending what those platforms send
/// for typed text and for pressed buttons.
enum Chat<'a> {
    Line(&'a TestApp, u32),
    Messenger(&'a TestApp, u32),
}

impl Chat<'_> {
    async fn send(&mut self, text: Option<&str>, button: Option<&str>) {
        match self {
            Chat::Line(app, n) => {
                *n += 1;
                let mut ev = json!({
                    "mode": "active", "timestamp": 1795137206000i64, "replyToken": format!("rt-{n}"),
                    "source": { "type": "user", "userId": "U4af4980629" },
                    "webhookEventId": format!("01HLINEE2E{n}"), "deliveryContext": { "isRedelivery": false }
                });
                match (text, button) {
                    (Some(t), _) => {
                        ev["type"] = json!("message");
                        ev["message"] = json!({ "type": "text", "id": format!("m{n}"), "quoteToken": "q", "text": t });
                    }
                    (_, Some(b)) => {
                        ev["type"] = json!("postback");
                        ev["postback"] = json!({ "data": b });
                    }
                    _ => unreachable!(),
                }
                let body = serde_json::to_vec(&json!({ "destination": "U0", "events": [ev] })).unwrap();
                let sig = signature::line_sign("line-secret", &body);
                let (s, b) = hook(app, "/hooks/line", &[("x-line-signature", sig)], body).await;
                assert_eq!(s, 200, "{b}");
            }
            Chat::Messenger(app, n) => {
                *n += 1;
                let message = match (text, button) {
                    (Some(t), _) => json!({ "message": { "mid": format!("m_e2e_{n}"), "text": t } }),
                    (_, Some(b)) => {
                        json!({ "message": { "mid": format!("m_e2e_{n}"), "text": b, "quick_reply": { "payload": b } } })
                    }
                    _ => unreachable!(),
                };
                let mut m = json!({ "sender": { "id": "PSID-88" }, "recipient": { "id": "PAGE" }, "timestamp": 1795137206000i64 });
                m["message"] = message["message"].clone();
                let body = serde_json::to_vec(&json!({ "object": "page", "entry": [{ "id": "PAGE", "time": 1795137206000i64, "messaging": [m] }] })).unwrap();
                let sig = signature::meta_sign("fb-secret", &body);
                let (s, b) = hook(app, "/hooks/messenger", &[("x-hub-signature-256", sig)], body).await;
                assert_eq!(s, 200, "{b}");
            }
        }
    }
    async fn text(&mut self, t: &str) {
        self.send(Some(t), None).await;
    }
    async fn press(&mut self, b: &str) {
        self.send(None, Some(b)).await;
    }
}

/// submit → track → staff follow-up → the notice on that platform → reply
/// → rate, the same walk as Telegram's, on LINE or Messenger.
async fn chat_end_to_end(app: &TestApp, rec: &Recorder, mut chat: Chat<'_>, notice_path: &str) {
    chat.press("report").await;
    chat.press("c:pengaduan").await;
    chat.text("Puskesmas tutup di jam layanan").await;
    chat.text("Puskesmas Garuda tutup pukul 11 padahal jadwal layanan sampai pukul 14.")
        .await;
    chat.text("Kota Bandung").await;
    chat.press("skip").await;
    chat.press("anon:no").await;
    chat.press("send").await;
    drain(app).await;
    let said = texts(&rec.take());
    let id = tracking_id_in(&said);
    assert!(said.contains("PIN: "), "{said}");
    let tid = lapor_domain::ids::TrackingId::parse(&id).unwrap();
    let report = app.db.store.report(&tid).await.unwrap().unwrap().report;
    assert_eq!(
        report.region_code.as_deref(),
        Some("32.73"),
        "the typed place was matched"
    );

    chat.text(&id).await;
    drain(app).await;
    assert!(texts(&rec.take()).contains(&format!("Laporan {id}")));

    staff_answers(app, &id, "Jam layanan Puskesmas Garuda sudah ditegur Dinas Kesehatan.").await;
    drain(app).await;
    let notices: Vec<Seen> = rec.take().into_iter().filter(|s| s.path == notice_path).collect();
    assert!(
        texts(&notices).contains("ditegur Dinas Kesehatan"),
        "{}",
        texts(&notices)
    );

    chat.press("reply").await;
    chat.text(&id).await;
    chat.text("Terima kasih, hari ini sudah buka sampai pukul 14.").await;
    let (st, v) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("bandung_admin"),
            json!({ "body": "Akan kami pantau setiap minggu." }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    chat.press("rate").await;
    chat.text(&id).await;
    chat.press("star:5").await;
    drain(app).await;
    let said = texts(&rec.take());
    assert!(
        said.contains("Balasan Anda sudah diteruskan") && said.contains("(5/5)"),
        "{said}"
    );
    let k = kinds(app, &id).await;
    assert!(k.iter().any(|x| x.contains("rated")), "{k:?}");
}

async fn line_end_to_end(app: &TestApp, rec: &Recorder) {
    chat_end_to_end(app, rec, Chat::Line(app, 0), "/v2/bot/message/push").await;
}

async fn messenger_end_to_end(app: &TestApp, rec: &Recorder) {
    chat_end_to_end(app, rec, Chat::Messenger(app, 0), "/v21.0/me/messages").await;
}

// ---------------------------------------------------------------- limits & inbox

async fn block_list_limits_and_inbox(app: &TestApp, rec: &Recorder) {
    app.db
        .store
        .add_block(&lapor_store::Block {
            channel: "*".into(),
            sender: "+6289999".into(),
            reason: "spam".into(),
            created_by: None,
            created_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let (s, _) = sms(app, "gw-b1", "+6289999", "LAPOR iklan pinjaman online murah sekali").await;
    assert_eq!(s, 200, "acknowledged so the gateway stops retrying");
    drain(app).await;
    assert!(rec.take().is_empty(), "a blocked sender gets no answer");

    // A chat abandoned midway lands in the handler inbox.
    let mut tg = Tg { app, next: 70_000 };
    tg.press("report").await;
    tg.press("c:pengaduan").await;
    tg.text("Antrean puskesmas sangat panjang").await;
    tg.text("batal").await;
    let inbox = app.db.store.inbox_items("open", 50).await.unwrap();
    assert!(
        inbox
            .iter()
            .any(|i| i.reason == "abandoned" && i.text.contains("Antrean puskesmas")),
        "{inbox:?}"
    );
    drain(app).await;
    rec.take();
    staff_pages(app).await;
}

/// The verifier's pages: the handler inbox (turn a message into a report
/// for its sender) and the block list; nobody else may use them.
async fn staff_pages(app: &TestApp) {
    use common::{hidden, page, signed_in};
    let base = &app.base;
    let item = app
        .db
        .store
        .inbox_items("open", 50)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.text.contains("Antrean puskesmas"))
        .unwrap();
    let admin = signed_in(app, "bandung_admin").await;
    for path in ["/staf/saluran", "/staf/saluran/blokir"] {
        assert_eq!(page(&admin, &format!("{base}{path}")).await.0, 403, "{path}");
    }
    let national = signed_in(app, "national").await;
    let (s, html) = page(&national, &format!("{base}/staf/saluran")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Antrean puskesmas") && html.contains("Percakapan ditinggalkan"),
        "{html}"
    );
    // The institution admin cannot convert even with a valid form.
    let form = |html: &str| vec![("csrf", hidden(html, "csrf")), ("ft", hidden(html, "ft"))];
    let mut f = form(&html);
    f.extend([
        ("classification", "pengaduan".to_string()),
        ("title", "Antrean puskesmas sangat panjang".to_string()),
        (
            "body",
            "Antrean puskesmas sangat panjang setiap pagi, pasien menunggu sampai siang.".to_string(),
        ),
    ]);
    let r = admin
        .post(format!("{base}/staf/saluran/{}/jadikan", item.id))
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = national
        .post(format!("{base}/staf/saluran/{}/jadikan", item.id))
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let tid = to.trim_start_matches("/staf/laporan/").to_string();
    let report = app
        .db
        .store
        .report(&lapor_domain::ids::TrackingId::parse(&tid).unwrap())
        .await
        .unwrap()
        .unwrap()
        .report;
    assert_eq!(report.channel, lapor_domain::report::Channel::Telegram);
    let reporter = report.reporter_id.clone().unwrap();
    assert_eq!(
        app.db
            .store
            .channel_address(&reporter, "telegram")
            .await
            .unwrap()
            .as_deref(),
        Some("5123"),
        "filed for the sender, so answers go back on Telegram"
    );
    let done = app.db.store.inbox_item(item.id).await.unwrap().unwrap();
    assert_eq!(
        (done.state.as_str(), done.tracking_id.as_deref()),
        ("converted", Some(tid.as_str()))
    );
    assert!(
        done.text.contains("Antrean puskesmas"),
        "the message is kept as the source"
    );
    let (_, html) = page(&national, &format!("{base}/staf/saluran")).await;
    assert!(!html.contains("Antrean puskesmas"), "no longer waiting");

    // Block list: add, refuse nonsense, remove.
    let (s, html) = page(&national, &format!("{base}/staf/saluran/blokir")).await;
    assert_eq!(s, 200);
    assert!(html.contains("+6289999"), "the block added earlier is listed");
    let mut f = form(&html);
    f.extend([
        ("channel", "whatsapp".into()),
        ("sender", "6281200001111".into()),
        ("reason", "iklan".into()),
    ]);
    let r = national
        .post(format!("{base}/staf/saluran/blokir"))
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(app.db.store.is_blocked("whatsapp", "6281200001111").await.unwrap());
    let (_, html) = page(&national, &format!("{base}/staf/saluran/blokir")).await;
    let mut f = form(&html);
    f.extend([("channel", "fax".into()), ("sender", "1".into())]);
    let r = national
        .post(format!("{base}/staf/saluran/blokir"))
        .form(&f)
        .send()
        .await
        .unwrap();
    assert!(
        r.text().await.unwrap().contains("role=\"alert\""),
        "an unknown channel is refused"
    );
    let (_, html) = page(&national, &format!("{base}/staf/saluran/blokir")).await;
    let mut f = form(&html);
    f.extend([
        ("op", "hapus".into()),
        ("channel", "whatsapp".into()),
        ("sender", "6281200001111".into()),
    ]);
    let r = national
        .post(format!("{base}/staf/saluran/blokir"))
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(!app.db.store.is_blocked("whatsapp", "6281200001111").await.unwrap());
    let audit = app.db.store.audit_entries(None, 50).await.unwrap();
    for a in ["channel.inbox.converted", "channel.blocked", "channel.unblocked"] {
        assert!(audit.iter().any(|e| e.action == a), "{a} audited");
    }
}

// ---------------------------------------------------------------- limits over HTTP

/// Three messages a minute per sender.
async fn start_strict(db: lapor_store::testing::TestDb) -> (TestApp, Recorder) {
    let (base, rec) = stand_in().await;
    let mut cfg = config(&base);
    cfg.channels.per_sender_per_minute = Some(3);
    (TestApp::start_with(db, cfg).await, rec)
}

async fn rate_limits(app: &TestApp, rec: &Recorder) {
    let from = "+6281355550000";
    for i in 0..5 {
        let (s, b) = sms(app, &format!("rl-{i}"), from, "LACAK ABCD-EFGH").await;
        assert_eq!(s, 200, "always acknowledged, or the gateway retries: {b}");
    }
    // Links galore is spam, whoever sends it.
    let (s, _) = sms(
        app,
        "rl-spam",
        "+6281366660000",
        "PROMO http://a.example http://b.example http://c.example http://d.example",
    )
    .await;
    assert_eq!(s, 200);
    // Another sender is not held back by the first.
    let (s, _) = sms(app, "rl-other", "+6281377770000", "LACAK ABCD-EFGH").await;
    assert_eq!(s, 200);
    drain(app).await;
    let out = rec.take();
    let to = |n: &str| out.iter().filter(|s| s.json()["to"] == n).count();
    assert_eq!(to(from), 4, "three answers and one polite refusal, then silence");
    assert!(texts(&out).contains(lapor_domain::ErrorCode::RateLimited.message(lapor_domain::Lang::Id)));
    assert_eq!(to("+6281366660000"), 0, "spam gets no answer");
    assert_eq!(to("+6281377770000"), 1);
    // Each was recorded once, so a redelivery of a dropped one stays dropped.
    let (s, _) = sms(app, "rl-4", from, "LACAK ABCD-EFGH").await;
    assert_eq!(s, 200);
    drain(app).await;
    assert!(rec.take().is_empty());
}

macro_rules! both {
    ($name:ident) => {
        both!($name, start);
    };
    ($name:ident, $start:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (app, rec) = super::$start(lapor_store::testing::TestDb::sqlite().await).await;
                super::$name(&app, &rec).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(db) = lapor_store::testing::TestDb::postgres().await else {
                    eprintln!("LAPOR_TEST_PG_URL not set: skipped");
                    return;
                };
                let (app, rec) = super::$start(db).await;
                super::$name(&app, &rec).await;
            }
        }
    };
}

both!(telegram_end_to_end);
both!(whatsapp_end_to_end);
both!(sms_end_to_end);
both!(line_and_messenger);
both!(line_end_to_end);
both!(messenger_end_to_end);
both!(refusals);
both!(block_list_limits_and_inbox);
both!(x_end_to_end);
both!(email_end_to_end);
both!(rate_limits, start_strict);
