//! What a native app does, end to end over real HTTP: account, a report
//! with a photo and an idempotency key (sent twice), tracking, the file,
//! a reply and a rating, and the anonymous path with a PIN.
//!
//! The exchanges are the examples of `docs/mobile-api.md`. Each one sits
//! there between `<!-- example: name -->` and `<!-- /example -->`. This test
//! checks that every example's status line and JSON fields match this run,
//! so the document cannot drift from the API. `LAPOR_BLESS=1` rewrites the
//! examples from the run (SQLite).

mod common;

use common::TestApp;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/mobile-api.md");

/// One exchange as the document shows it.
struct Example {
    request: String,
    status: u16,
    response: Value,
    /// Response headers worth showing (a file download).
    headers: Vec<(String, String)>,
}

#[derive(Default)]
struct Transcript {
    examples: BTreeMap<&'static str, Example>,
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

impl Transcript {
    fn add(&mut self, name: &'static str, request: String, status: u16, response: Value) {
        self.examples.insert(
            name,
            Example {
                request,
                status,
                response,
                headers: vec![],
            },
        );
    }

    fn render(e: &Example) -> String {
        let mut out = format!(
            "```http\n{}\n```\n\n```http\nHTTP/1.1 {} {}\n",
            e.request.trim_end(),
            e.status,
            reason(e.status)
        );
        for (k, v) in &e.headers {
            out.push_str(&format!("{k}: {v}\n"));
        }
        if !e.response.is_null() {
            out.push('\n');
            out.push_str(&serde_json::to_string_pretty(&e.response).unwrap());
            out.push('\n');
        }
        out.push_str("```\n");
        out
    }

    /// Every example in the document matches this run's status and fields;
    /// with `bless`, the document takes this run's examples instead.
    fn check_document(&self, bless: bool) {
        let mut doc = std::fs::read_to_string(DOC).expect("docs/mobile-api.md exists");
        for (name, e) in &self.examples {
            let open = format!("<!-- example: {name} -->\n");
            let close = "<!-- /example -->";
            let start = doc
                .find(&open)
                .unwrap_or_else(|| panic!("docs/mobile-api.md has no example {name}"))
                + open.len();
            let end = start + doc[start..].find(close).expect("example closed");
            let rendered = Self::render(e);
            if bless {
                doc.replace_range(start..end, &rendered);
                continue;
            }
            let shown = &doc[start..end];
            let status_line = format!("HTTP/1.1 {} ", e.status);
            assert!(
                shown.contains(&status_line),
                "{name}: the document shows another status than {}",
                e.status
            );
            let first_request_line = route_of(e.request.lines().next().unwrap());
            let documented_line = route_of(shown.lines().nth(1).unwrap_or(""));
            assert_eq!(
                documented_line, first_request_line,
                "{name}: the document shows another request"
            );
            if let Some(json_at) = shown
                .rfind("HTTP/1.1")
                .and_then(|h| shown[h..].find('{').map(|j| h + j))
                && let Some(json_end) = shown.rfind("}\n```")
            {
                let documented: Value = serde_json::from_str(&shown[json_at..=json_end]).expect("example JSON parses");
                assert_eq!(
                    fields(&documented),
                    fields(&e.response),
                    "{name}: the document's response has other fields than the API's (LAPOR_BLESS=1 rewrites it)"
                );
            }
        }
        if bless {
            std::fs::write(DOC, doc).unwrap();
        }
    }
}

/// A request line with its ids (Tracking ID, attachment) as `{id}`: they
/// differ from run to run.
fn route_of(line: &str) -> String {
    let mut after_collection = false;
    line.split('/')
        .map(|seg| {
            let out = if after_collection {
                "{id}".to_string()
            } else {
                seg.to_string()
            };
            after_collection = seg == "reports" || seg == "attachments" || seg == "subscriptions";
            out
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The dotted paths of every object key, arrays looked into at their first item.
fn fields(v: &Value) -> Vec<String> {
    fn walk(v: &Value, prefix: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = format!("{prefix}{k}");
                    out.push(p.clone());
                    walk(x, &format!("{p}."), out);
                }
            }
            Value::Array(a) => {
                if let Some(first) = a.first() {
                    walk(first, &format!("{prefix}[]."), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out.sort();
    out
}

fn json_request(method: &str, path: &str, auth: Option<&str>, extra: &[(&str, &str)], body: Option<&Value>) -> String {
    let mut s = format!("{method} {path}\n");
    if let Some(a) = auth {
        s.push_str(&format!("{a}\n"));
    }
    for (k, v) in extra {
        s.push_str(&format!("{k}: {v}\n"));
    }
    if let Some(b) = body {
        s.push_str("Content-Type: application/json\n\n");
        s.push_str(&serde_json::to_string_pretty(b).unwrap());
    }
    s
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    pin: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut r = app.req(method, path, None);
    if let Some(t) = bearer {
        r = r.bearer_auth(t);
    }
    if let Some(p) = pin {
        r = r.header("x-lapor-pin", p);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    common::read(r.send().await.unwrap()).await
}

fn report_form(report: &Value, photo: Vec<u8>, name: &str) -> Form {
    Form::new()
        .part(
            "report",
            Part::text(report.to_string()).mime_str("application/json").unwrap(),
        )
        .part(
            "attachments",
            Part::bytes(photo)
                .file_name(name.to_string())
                .mime_str("image/jpeg")
                .unwrap(),
        )
}

fn multipart_request(auth: &str, key: &str, report: &Value, name: &str, size: usize) -> String {
    format!(
        "POST /api/v1/reports\n{auth}\nIdempotency-Key: {key}\nContent-Type: multipart/form-data; boundary=lapor\n\n\
         --lapor\nContent-Disposition: form-data; name=\"report\"\nContent-Type: application/json\n\n{}\n\
         --lapor\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{name}\"\nContent-Type: image/jpeg\n\n\
         <{size} bytes of JPEG>\n--lapor--",
        serde_json::to_string_pretty(report).unwrap()
    )
}

async fn walkthrough(app: &TestApp) -> Transcript {
    let mut t = Transcript::default();
    const BEARER: &str = "Authorization: Bearer <token>";

    // ---- account
    let reg = json!({ "name": "Rina Wulandari", "email": "rina@contoh.id", "password": "kata-sandi-rina-2026" });
    let (s, v) = send(app, Method::POST, "/api/v1/auth/register", None, None, Some(&reg)).await;
    assert_eq!(s, 201, "{v}");
    t.add(
        "register",
        json_request("POST", "/api/v1/auth/register", None, &[], Some(&reg)),
        s,
        v,
    );
    let login = json!({ "login": "rina@contoh.id", "password": "kata-sandi-rina-2026" });
    let (s, mut v) = send(app, Method::POST, "/api/v1/auth/login", None, None, Some(&login)).await;
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    v["token"] = json!("<token>");
    t.add(
        "login",
        json_request("POST", "/api/v1/auth/login", None, &[], Some(&login)),
        s,
        v,
    );

    // ---- a report with a photo, sent twice with one key
    let report = json!({
        "classification": "pengaduan",
        "title": "Lampu penerangan jalan mati di Jalan Cihampelas",
        "body": "Tiga lampu penerangan jalan di depan nomor 120 mati sejak seminggu, jalan gelap dan rawan pada malam hari.",
        "category": "jalan",
        "latitude": -6.8936,
        "longitude": 107.6043
    });
    let key = "5b3f0c9e-8d2a-4c31-9f57-2e1d6a7b8c90";
    let photo = common::jpeg();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let resp = app
            .req(Method::POST, "/api/v1/reports", None)
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .multipart(report_form(&report, photo.clone(), "lampu-mati.jpg"))
            .send()
            .await
            .unwrap();
        answers.push(common::read(resp).await);
    }
    let (s1, first) = answers.remove(0);
    let (s2, again) = answers.remove(0);
    assert_eq!((s1, s2), (201, 200), "{first} {again}");
    let id = first["tracking_id"].as_str().unwrap().to_string();
    assert_eq!(
        again["tracking_id"],
        id.as_str(),
        "a resend with the same key is the same report"
    );
    assert_eq!(again["pin"], first["pin"]);
    assert_eq!(again["duplicate"], true);
    let request = multipart_request(BEARER, key, &report, "lampu-mati.jpg", photo.len());
    t.add("submit", request.clone(), s1, first);
    t.add("submit-again", request, s2, again);

    // ---- tracking: my reports, one report with its file
    let (s, v) = send(app, Method::GET, "/api/v1/reports?mine=true", Some(&token), None, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    t.add(
        "mine",
        json_request("GET", "/api/v1/reports?mine=true", Some(BEARER), &[], None),
        s,
        v,
    );
    let path = format!("/api/v1/reports/{id}");
    let (s, v) = send(app, Method::GET, &path, Some(&token), None, None).await;
    assert_eq!((s, v["view"].as_str()), (200, Some("reporter")), "{v}");
    let files = v["attachments"].as_array().unwrap().clone();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["media_type"], "image/jpeg");
    t.add("report", json_request("GET", &path, Some(BEARER), &[], None), s, v);
    let file_url = files[0]["url"].as_str().unwrap().to_string();
    let resp = app
        .req(Method::GET, &file_url, None)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let headers: Vec<(String, String)> = ["content-type", "content-disposition", "content-length"]
        .iter()
        .filter_map(|h| {
            resp.headers()
                .get(*h)
                .map(|v| (h.to_string(), v.to_str().unwrap_or("").to_string()))
        })
        .collect();
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0xff, 0xd8], "a JPEG comes back");
    t.examples.insert(
        "attachment",
        Example {
            request: json_request("GET", &file_url, Some(BEARER), &[], None),
            status: 200,
            response: Value::Null,
            headers,
        },
    );
    // Nobody else reads the file.
    let (s, _) = send(app, Method::GET, &file_url, None, None, None).await;
    assert_eq!(s, 404);
    let (s, _) = send(
        app,
        Method::GET,
        &file_url,
        Some(&app.tokens["kemenkes_admin"]),
        None,
        None,
    )
    .await;
    assert_eq!(s, 404);

    // ---- the institution answers; the reporter replies, then rates
    for (who, action, body) in [
        ("national", "disposition", json!({ "institution": "pemkot-32.73" })),
        ("bandung_admin", "accept", json!({})),
        (
            "bandung_admin",
            "follow-up",
            json!({ "body": "Petugas sudah mengganti lampu yang mati pada 24 November." }),
        ),
    ] {
        let (s, v) = app.post(&format!("{path}/{action}"), Some(who), body).await;
        assert_eq!(s, 200, "{action}: {v}");
    }
    let reply = json!({ "body": "Dua lampu sudah menyala, satu masih mati di depan nomor 124." });
    let (s, v) = send(
        app,
        Method::POST,
        &format!("{path}/reply"),
        Some(&token),
        None,
        Some(&reply),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("in_progress")), "{v}");
    t.add(
        "reply",
        json_request("POST", &format!("{path}/reply"), Some(BEARER), &[], Some(&reply)),
        s,
        v,
    );
    let (s, v) = app
        .post(
            &format!("{path}/follow-up"),
            Some("bandung_admin"),
            json!({ "body": "Lampu ketiga sudah diganti." }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let rate = json!({ "rating": 4, "comment": "Cepat ditangani, terima kasih." });
    let (s, v) = send(
        app,
        Method::POST,
        &format!("{path}/rate"),
        Some(&token),
        None,
        Some(&rate),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("completed")), "{v}");
    t.add(
        "rate",
        json_request("POST", &format!("{path}/rate"), Some(BEARER), &[], Some(&rate)),
        s,
        v,
    );

    // ---- without an account: the PIN is the key to the report
    let anon = json!({ "classification": "aspirasi", "title": "Tambah halte di Jalan Dago atas", "body": "Warga harus berjalan jauh ke halte terdekat; mohon ditambah halte di dekat Terminal Dago.", "anonymous": true });
    let (s, v) = send(app, Method::POST, "/api/v1/reports", None, None, Some(&anon)).await;
    assert_eq!(s, 201, "{v}");
    let anon_id = v["tracking_id"].as_str().unwrap().to_string();
    let pin = v["pin"].as_str().unwrap().to_string();
    let anon_path = format!("/api/v1/reports/{anon_id}");
    let (s, v) = send(app, Method::GET, &anon_path, None, Some(&pin), None).await;
    assert_eq!((s, v["view"].as_str()), (200, Some("reporter")), "{v}");
    t.add(
        "track-pin",
        json_request("GET", &anon_path, None, &[("X-Lapor-Pin", &pin)], None),
        s,
        v,
    );
    let (s, v) = send(app, Method::GET, &anon_path, None, Some("000000"), None).await;
    assert_eq!(s, 404, "a wrong PIN is a missing report: {v}");

    // ---- a file the API will not take: sniffed, not trusted by its name
    let bad = Form::new()
        .part(
            "report",
            Part::text(report.to_string()).mime_str("application/json").unwrap(),
        )
        .part(
            "attachments",
            Part::bytes(b"MZ\x90\x00 not a photo".to_vec())
                .file_name("foto.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let (s, v) = common::read(
        app.req(Method::POST, "/api/v1/reports", None)
            .bearer_auth(&token)
            .multipart(bad)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 415, "{v}");
    assert_eq!(v["error"]["code"], "unsupported_file_type");
    t.add(
        "bad-file",
        "POST /api/v1/reports\nAuthorization: Bearer <token>\nContent-Type: multipart/form-data; boundary=lapor\n\n\
         --lapor\nContent-Disposition: form-data; name=\"report\"\n…\n\
         --lapor\nContent-Disposition: form-data; name=\"attachments\"; filename=\"foto.jpg\"\nContent-Type: image/jpeg\n\n\
         MZ… (a Windows program named .jpg)\n--lapor--"
            .into(),
        s,
        v,
    );
    // ---- notifications: register this install for Web Push
    let (s, v) = send(app, Method::GET, "/api/v1/push/key", None, None, None).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["public_key"].as_str().map(str::len),
        Some(87),
        "a P-256 point, base64url"
    );
    t.add(
        "push-key",
        json_request("GET", "/api/v1/push/key", None, &[], None),
        s,
        v,
    );
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let device = web_push_native::p256::SecretKey::random(&mut web_push_native::p256::elliptic_curve::rand_core::OsRng);
    let sub = json!({
        "endpoint": "https://fcm.googleapis.com/fcm/send/cXk3bFp0TjRhQmM6QVBBOTFi",
        "keys": { "p256dh": b64.encode(device.public_key().to_sec1_bytes()), "auth": b64.encode([0x5au8; 16]) }
    });
    let (s, v) = send(
        app,
        Method::POST,
        "/api/v1/push/subscriptions",
        Some(&token),
        None,
        Some(&sub),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let sub_id = v["id"].as_str().unwrap().to_string();
    t.add(
        "push-subscribe",
        json_request("POST", "/api/v1/push/subscriptions", Some(BEARER), &[], Some(&sub)),
        s,
        v,
    );
    let revoke = format!("/api/v1/push/subscriptions/{sub_id}");
    let (s, _) = send(app, Method::DELETE, &revoke, Some(&token), None, None).await;
    assert_eq!(s, 204);
    t.add(
        "push-revoke",
        json_request("DELETE", &revoke, Some(BEARER), &[], None),
        s,
        Value::Null,
    );

    // Nothing half-written: still one report of Rina's.
    let (_, v) = send(app, Method::GET, "/api/v1/reports?mine=true", Some(&token), None, None).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    t
}

#[tokio::test]
async fn sqlite() {
    let app = TestApp::start(lapor_store::testing::TestDb::sqlite().await).await;
    let t = walkthrough(&app).await;
    t.check_document(std::env::var("LAPOR_BLESS").is_ok_and(|v| v == "1"));
}

#[tokio::test]
async fn postgres() {
    let Some(db) = lapor_store::testing::TestDb::postgres().await else {
        eprintln!("LAPOR_TEST_PG_URL not set: skipped");
        return;
    };
    let app = TestApp::start(db).await;
    walkthrough(&app).await.check_document(false);
}
