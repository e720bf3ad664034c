//! A real Lapor server on a loopback port, over a fresh database, with one
//! logged-in user per role.

#![allow(dead_code)]

use lapor_domain::calendar::Calendar;
use lapor_domain::institution::{Membership, Role};
use lapor_server::auth::new_token;
use lapor_server::auth::token_digest;
use lapor_server::{AppState, ServerConfig};
use lapor_store::testing::TestDb;
use lapor_store::ts::Ts;
use lapor_store::{NewToken, NewUser, Store, TokenKind};
use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    pub client: Client,
    /// Bearer token per login name (see `USERS`).
    pub tokens: HashMap<&'static str, String>,
    /// The server's state, for driving the workers and the scheduler.
    pub state: AppState,
    /// A real SMTP server the e-mail channel sends to.
    pub sink: lapor_mailsink::MailSink,
}

/// (name, role, institution)
pub const USERS: &[(&str, Role, &str)] = &[
    ("national", Role::NationalAdmin, "lapor"),
    ("bandung_admin", Role::InstitutionAdmin, "pemkot-32.73"),
    ("dishub_admin", Role::UnitAdmin, "pemkot-32.73-dishub"),
    ("bandung_liaison", Role::Liaison, "pemkot-32.73"),
    ("jabar_supervisor", Role::Supervisor, "pemprov-32"),
    ("ombudsman", Role::Oversight, "lapor"),
    ("auditor", Role::Auditor, "lapor"),
    ("kemenkes_admin", Role::InstitutionAdmin, "kemenkes"),
];

pub async fn seed(store: &Arc<dyn Store>) -> HashMap<&'static str, String> {
    lapor_store::testing::seed_reference(store.as_ref()).await;
    let mut tokens = HashMap::new();
    for (name, role, institution) in USERS {
        store
            .create_user(&NewUser {
                id: format!("u-{name}"),
                email: Some(format!("{name}@lapor.test")),
                phone: None,
                name: name.to_string(),
                // Tokens are minted directly below; logins are tested on their own.
                password_hash: "unused".into(),
                is_staff: true,
                memberships: vec![Membership {
                    role: *role,
                    institution: institution.to_string(),
                }],
            })
            .await
            .unwrap();
        let token = format!("token-{name}");
        store
            .create_token(&NewToken {
                token_hash: token_digest(&token),
                user_id: format!("u-{name}"),
                kind: TokenKind::Bearer,
                created_at: Ts::now(),
                expires_at: Ts::new(chrono::Utc::now() + chrono::Duration::hours(1)),
                user_agent: None,
            })
            .await
            .unwrap();
        tokens.insert(*name, token);
    }
    tokens
}

impl TestApp {
    /// Without rate limits: every test client is 127.0.0.1. The limits are
    /// tested on their own (hardening.rs).
    pub async fn start(db: TestDb) -> TestApp {
        TestApp::start_with(db, ServerConfig::unthrottled()).await
    }

    pub async fn start_with(db: TestDb, config: ServerConfig) -> TestApp {
        let tokens = seed(&db.store).await;
        let mut state = AppState::new(db.store.clone(), Calendar::embedded(), vec![], config)
            .await
            .unwrap();
        let sink = lapor_mailsink::MailSink::start(
            "127.0.0.1:0",
            lapor_mailsink::SinkOptions {
                reject_domains: vec!["invalid".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let email = lapor_server::notify::email::EmailChannel::new(
            &format!("smtp://{}", sink.addr()),
            "Lapor <no-reply@lapor.test>",
            4,
        )
        .unwrap();
        state.channels = Arc::new(lapor_server::notify::Channels::default().with(Arc::new(email)));
        let served = state.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            lapor_server::serve(listener, lapor_server::router(served))
                .await
                .unwrap();
        });
        TestApp {
            base: format!("http://{addr}"),
            db,
            client: Client::new(),
            tokens,
            state,
            sink,
        }
    }

    pub fn req(&self, method: Method, path: &str, who: Option<&str>) -> RequestBuilder {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if let Some(w) = who {
            r = r.bearer_auth(&self.tokens[w]);
        }
        r
    }

    pub async fn post(&self, path: &str, who: Option<&str>, body: Value) -> (u16, Value) {
        read(self.req(Method::POST, path, who).json(&body).send().await.unwrap()).await
    }

    /// A call with any bearer token (a citizen's, an integration key), with
    /// an optional JSON body.
    pub async fn call_with(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        read(r.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, who: Option<&str>) -> (u16, Value) {
        read(self.req(Method::GET, path, who).send().await.unwrap()).await
    }

    /// Files an anonymous-caller report; returns (tracking_id, pin).
    pub async fn submit(&self, extra: Value) -> (String, String) {
        let mut body = json!({
            "classification": "pengaduan",
            "title": "Jalan berlubang di Jl. Setiabudi",
            "body": "Lubang besar di depan sekolah membahayakan pengendara motor setiap pagi.",
            "region_code": "32.73.01.1001",
            "category": "jalan"
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let (status, v) = self.post("/api/v1/reports", None, body).await;
        assert_eq!(status, 201, "{v}");
        (
            v["tracking_id"].as_str().unwrap().to_string(),
            v["pin"].as_str().unwrap().to_string(),
        )
    }

    pub async fn event_count(&self, id: &str) -> usize {
        let tid = lapor_domain::ids::TrackingId::parse(id).unwrap();
        self.db.store.events(&tid).await.unwrap().len()
    }

    pub async fn outbox_count(&self) -> i64 {
        self.db.store.outbox_count().await.unwrap()
    }
}

pub async fn read(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Runs `f` against SQLite, and against PostgreSQL when `LAPOR_TEST_PG_URL` is set.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        $crate::on_both_backends!($name, lapor_server::ServerConfig::unthrottled());
    };
    // With a server configuration, written where the macro is used.
    ($name:ident, $config:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let app = TestApp::start_with(lapor_store::testing::TestDb::sqlite().await, $config).await;
                super::$name(&app).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(db) = lapor_store::testing::TestDb::postgres().await else {
                    eprintln!("LAPOR_TEST_PG_URL not set: skipped");
                    return;
                };
                let app = TestApp::start_with(db, $config).await;
                super::$name(&app).await;
            }
        }
    };
}

pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// A browser already signed in as `who` (a session minted in the store, as
/// after a completed sign-in; the sign-in itself is tested separately).
pub async fn signed_in(app: &TestApp, who: &str) -> Client {
    signed_in_as(app, &format!("u-{who}")).await
}

/// A browser with a session for any user id, staff or citizen.
pub async fn signed_in_as(app: &TestApp, user_id: &str) -> Client {
    let token = new_token();
    app.db
        .store
        .create_token(&NewToken {
            token_hash: token_digest(&token),
            user_id: user_id.to_string(),
            kind: TokenKind::Session,
            created_at: Ts::now(),
            expires_at: Ts::new(chrono::Utc::now() + chrono::Duration::hours(1)),
            user_agent: Some("test".into()),
        })
        .await
        .unwrap();
    let jar = Arc::new(Jar::default());
    jar.add_cookie_str(&format!("lapor_session={token}; Path=/"), &app.base.parse().unwrap());
    Client::builder()
        .cookie_provider(jar)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Posts one action form of the staff report page, as the page's own form
/// would (CSRF, form token and version read off the page); returns status
/// and body.
pub async fn act(app: &TestApp, b: &Client, id: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let (s, html) = page(b, &format!("{}/staf/laporan/{id}", app.base)).await;
    assert_eq!(s, 200, "{html}");
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), hidden(&html, "csrf")),
        ("ft".into(), hidden(&html, "ft")),
        ("v".into(), hidden(&html, "v")),
    ];
    form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let r = b
        .post(format!("{}/staf/laporan/{id}/aksi", app.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// An integration API client of `institution` with `scopes`; returns
/// (client id, key).
pub async fn api_client(app: &TestApp, institution: &str, scopes: &str) -> (String, String) {
    let scopes = lapor_integration::client::parse_scopes(scopes).unwrap();
    let c = lapor_server::integration::clients::create(
        app.db.store.as_ref(),
        institution,
        "SIMPEL",
        &scopes,
        Some("u-national"),
    )
    .await
    .unwrap();
    (c.client.id, c.key)
}

pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} in page:\n{html}"))
        + needle.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub async fn page(b: &Client, url: &str) -> (StatusCode, String) {
    let r = b.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// A minimal JPEG the media cleaner accepts.
pub fn jpeg() -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    j.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
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
