//! Security headers, cookie flags and rate limits over real HTTP (issue 10),
//! on SQLite and (with `LAPOR_TEST_PG_URL`) PostgreSQL.

mod common;

use common::{TestApp, browser, hidden, page};
use lapor_server::ServerConfig;
use lapor_server::throttle::{Limit, RateLimits};
use reqwest::{Method, StatusCode, header};
use serde_json::json;

fn tls() -> ServerConfig {
    ServerConfig {
        public_url: "https://lapor.example.go.id".into(),
        ..ServerConfig::unthrottled()
    }
}

fn tight() -> ServerConfig {
    ServerConfig {
        limits: RateLimits {
            sign_in_per_address: Limit::per_minute(3),
            submit_per_address: Limit::per_minute(4),
            submit_per_account: Limit::per_hour(2),
            client_address_header: None,
        },
        ..ServerConfig::default()
    }
}

fn csp_of(r: &reqwest::Response) -> String {
    r.headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Paths of every kind of answer: a page, a page's error, JSON, an API
/// error, a method refusal, the docs UI, a static asset, a CSV export.
const KINDS: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/tidak-ada"),
    ("GET", "/api/v1/categories"),
    ("GET", "/api/v1/tidak-ada"),
    ("DELETE", "/api/v1/categories"),
    ("GET", "/api/v1/docs/"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/statistik.csv"),
    ("GET", "/healthz"),
    ("GET", "/open311/v2/services.json"),
];

/// One answer of each kind, with what was asked.
async fn every_kind(app: &TestApp) -> Vec<(String, reqwest::Response)> {
    let mut out = Vec::new();
    for (method, path) in KINDS {
        let r = app
            .req(Method::from_bytes(method.as_bytes()).unwrap(), path, None)
            .send()
            .await
            .unwrap();
        out.push((format!("{method} {path}"), r));
    }
    out
}

async fn headers_on_every_answer(app: &TestApp) {
    for (asked, r) in every_kind(app).await {
        let what = format!("{asked} ({})", r.status());
        assert!(r.status().as_u16() < 500, "{what}");
        let csp = csp_of(&r);
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{what}: {csp}"
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(r.headers()["x-frame-options"], "DENY", "{what}");
        // Plain http: no HSTS (a browser would ignore it, and a test
        // instance must not pin itself to https).
        assert!(r.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none(), "{what}");
    }
    // Cookies: HttpOnly and SameSite always; not Secure over plain http,
    // where the browser would drop them.
    let r = app.req(Method::GET, "/", None).send().await.unwrap();
    let cookies: Vec<_> = r.headers().get_all(header::SET_COOKIE).iter().collect();
    assert!(!cookies.is_empty());
    for c in cookies {
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite="), "{c}");
        assert!(!c.contains("Secure"), "{c}");
    }
}
on_both_backends!(headers_on_every_answer);

/// Behind TLS: HSTS on every answer, and every cookie any handler sets is
/// Secure, HttpOnly and SameSite: the browser cookie, the language, the
/// citizen session, the PIN grant.
async fn behind_tls_everything_is_secure(app: &TestApp) {
    for (asked, r) in every_kind(app).await {
        assert_eq!(
            r.headers()[header::STRICT_TRANSPORT_SECURITY],
            lapor_server::security::HSTS,
            "{asked}"
        );
    }
    let b = browser();
    let mut seen = Vec::new();
    let mut keep = |r: &reqwest::Response| {
        for c in r.headers().get_all(header::SET_COOKIE) {
            seen.push(c.to_str().unwrap().to_string());
        }
    };
    let r = b.get(format!("{}/", app.base)).send().await.unwrap();
    keep(&r);
    let r = b.get(format!("{}/bahasa/en?kembali=/", app.base)).send().await.unwrap();
    keep(&r);
    // A citizen registers and signs in (the API sets a session cookie too).
    let (s, v) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "name": "Ani", "email": "ani@contoh.id", "password": "sandi-rahasia-sekali" }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let r = app
        .req(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({ "login": "ani@contoh.id", "password": "sandi-rahasia-sekali" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    keep(&r);
    // The PIN grant of the tracking page.
    let (id, pin) = app.submit(json!({})).await;
    let (_, html) = page(&b, &format!("{}/lacak", app.base)).await;
    let r = b
        .post(format!("{}/lacak", app.base))
        .form(&[("csrf", hidden(&html, "csrf")), ("id", id), ("pin", pin)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    keep(&r);
    let names: Vec<&str> = seen.iter().filter_map(|c| c.split('=').next()).collect();
    for want in ["lapor_b", "lapor_lang", "lapor_session", "lapor_lacak"] {
        assert!(
            names.iter().any(|n| n.starts_with(want)),
            "no {want} cookie in {names:?}"
        );
    }
    for c in &seen {
        let attrs: Vec<String> = c.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
        assert!(attrs.iter().any(|a| a == "secure"), "{c}");
        assert!(attrs.iter().any(|a| a == "httponly"), "{c}");
        assert!(attrs.iter().any(|a| a.starts_with("samesite=")), "{c}");
    }
}
on_both_backends!(behind_tls_everything_is_secure, tls());

/// Sign-in attempts from one address: the API and the web forms share one
/// count; over it, 429 with Retry-After, as JSON for the API and as a page
/// in the caller's language for the forms. Nothing reaches the handler.
async fn sign_in_is_limited_per_address(app: &TestApp) {
    let attempt = || async {
        app.req(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({ "login": "national@lapor.test", "password": "salah-sandi" }))
            .send()
            .await
            .unwrap()
    };
    for _ in 0..3 {
        assert_eq!(attempt().await.status(), StatusCode::UNAUTHORIZED);
    }
    let r = attempt().await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");

    // The web form: a page, in English when the browser asks for it.
    let b = browser();
    let r = b
        .post(format!("{}/masuk", app.base))
        .header(header::ACCEPT_LANGUAGE, "en")
        .form(&[("csrf", "x"), ("login", "a@b.id"), ("password", "salah")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key(header::RETRY_AFTER));
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("Too many requests"), "{html}");

    // Reading pages is not limited.
    assert_eq!(page(&b, &format!("{}/masuk", app.base)).await.0, StatusCode::OK);
}
on_both_backends!(sign_in_is_limited_per_address, tight());

/// Submissions: per address for everyone, and per account for a citizen
/// wherever they file from. A refused submission stores nothing.
async fn submission_is_limited(app: &TestApp) {
    let body = json!({
        "classification": "pengaduan",
        "title": "Lampu jalan mati",
        "body": "Lampu jalan di depan pasar mati sejak seminggu, gelap dan rawan.",
        "region_code": "32.73.01.1001",
        "category": "jalan"
    });
    // A citizen account: two reports an hour, then refused, even though the
    // address still has room.
    let (s, _) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "name": "Budi", "email": "budi@contoh.id", "password": "sandi-rahasia-sekali" }),
        )
        .await;
    assert_eq!(s, 201);
    let (s, v) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "login": "budi@contoh.id", "password": "sandi-rahasia-sekali" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    let as_budi = || {
        app.client
            .post(format!("{}/api/v1/reports", app.base))
            .bearer_auth(&token)
            .json(&body)
    };
    for _ in 0..2 {
        assert_eq!(as_budi().send().await.unwrap().status(), StatusCode::CREATED);
    }
    let before = app.outbox_count().await;
    let r = as_budi().send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key(header::RETRY_AFTER));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
    assert_eq!(app.outbox_count().await, before, "a refused report left rows behind");

    // The address: four submissions a minute in all (Budi's three count),
    // so one anonymous report gets through and the next is refused.
    let (s, _) = app.post("/api/v1/reports", None, body.clone()).await;
    assert_eq!(s, 201);
    let (s, v) = app.post("/api/v1/reports", None, body.clone()).await;
    assert_eq!((s, v["error"]["code"].as_str()), (429, Some("rate_limited")));
    // Open311 and the web form count against the same address.
    let r = app
        .req(Method::POST, "/open311/v2/requests.json", None)
        .form(&[("service_code", "jalan"), ("description", "Jalan rusak parah")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = browser()
        .post(format!("{}/lapor", app.base))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}
on_both_backends!(submission_is_limited, tight());

/// A forwarded address is believed only when configured, and then counted
/// per client: two clients behind the proxy have their own windows.
async fn proxy_header_only_when_configured(app: &TestApp) {
    let attempt = |from: &'static str| async move {
        app.req(Method::POST, "/api/v1/auth/login", None)
            .header("x-forwarded-for", from)
            .json(&json!({ "login": "x@contoh.id", "password": "salah-sandi" }))
            .send()
            .await
            .unwrap()
            .status()
    };
    for _ in 0..3 {
        assert_eq!(attempt("198.51.100.1").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt("198.51.100.1").await, StatusCode::TOO_MANY_REQUESTS);
    // Another client of the proxy is not held up by the first.
    assert_eq!(attempt("198.51.100.2").await, StatusCode::UNAUTHORIZED);
    // A client that forges an earlier entry is still counted by the proxy's
    // own (last) one.
    assert_eq!(
        attempt("203.0.113.50, 198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
on_both_backends!(
    proxy_header_only_when_configured,
    ServerConfig {
        limits: RateLimits {
            client_address_header: Some("x-forwarded-for".into()),
            ..tight().limits
        },
        ..ServerConfig::default()
    }
);
