//! One crawler for access control (issue 10). It signs in as every kind of
//! caller — the public, a citizen, a PIN holder, each staff role, and the
//! connected systems of two institutions — follows every link of the web
//! pages they can reach, and calls every operation of the served OpenAPI
//! document plus the Open311, push and channel routes outside it. Every
//! answer is searched for marker strings planted in the data:
//!
//! - an anonymous reporter's identity must reach no institution-side caller
//!   (only the reporter and the national admins, whose look is audited);
//! - a confidential report must reach neither the public nor other
//!   institutions;
//! - an internal note must reach no reporter and no other institution;
//! - one institution's staff must not read another's confidential reports,
//!   notes or staff list.
//!
//! Positive controls check that the markers are where they belong, so a
//! crawl that reached nothing fails too.

mod common;

use common::{TestApp, act, browser, hidden, page, signed_in, signed_in_as};
use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

const ANON_NAME: &str = "Sulastri Penandaanonim";
const ANON_EMAIL: &str = "penanda.anonim@contoh.id";
/// Given as 0812…; stored as +62812…: the digits after the prefix match
/// both forms.
const ANON_PHONE: &str = "0812-9876-5432";
const ANON_PHONE_DIGITS: &str = "81298765432";
const CONF_BDG: &str = "Kwitansiganda";
const CONF_KMK: &str = "Obatkedaluwarsa";
const NOTE_BDG: &str = "Catatanbandungsaja";
const NOTE_KMK: &str = "Catatankemenkessaja";
const PUBLIC_TITLE: &str = "Trotoarambles";
const KMK_STAFF: &str = "kemenkes_admin@lapor.test";

/// Who calls, and how they are recognised.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Who {
    Public,
    Citizen,
    Pin,
    Staff(&'static str),
    /// A connected system's key, by institution code.
    System(&'static str),
}

impl Who {
    fn name(self) -> String {
        match self {
            Who::Public => "public".into(),
            Who::Citizen => "citizen".into(),
            Who::Pin => "PIN holder".into(),
            Who::Staff(s) => s.into(),
            Who::System(i) => format!("system of {i}"),
        }
    }
    fn bandung_side(self) -> bool {
        matches!(
            self,
            Who::Staff("bandung_admin" | "dishub_admin" | "bandung_liaison" | "jabar_supervisor")
                | Who::System("pemkot-32.73")
        )
    }
    fn kemenkes_side(self) -> bool {
        matches!(self, Who::Staff("kemenkes_admin") | Who::System("kemenkes"))
    }
    fn reporter_side(self) -> bool {
        matches!(self, Who::Public | Who::Citizen | Who::Pin)
    }
}

/// The markers `who` must never receive, with the rule each one stands for.
fn forbidden(who: Who) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if !matches!(who, Who::Staff("national") | Who::Citizen) {
        for m in [ANON_NAME, ANON_EMAIL, ANON_PHONE_DIGITS] {
            out.push((m, "an anonymous reporter's identity"));
        }
    }
    if matches!(who, Who::Public | Who::Citizen) || who.kemenkes_side() {
        out.push((CONF_BDG, "a confidential report of Bandung"));
    }
    if who.reporter_side() || who.bandung_side() {
        out.push((CONF_KMK, "a confidential report of Kemenkes"));
        out.push((NOTE_KMK, "an internal note of Kemenkes"));
        out.push((KMK_STAFF, "Kemenkes's staff list"));
    }
    if who.reporter_side() || who.kemenkes_side() {
        out.push((NOTE_BDG, "an internal note of Bandung"));
    }
    out
}

/// One caller's clients: the API (with its credentials) and, where it has
/// one, a browser.
struct Caller {
    who: Who,
    headers: Vec<(&'static str, String)>,
    web: Option<Client>,
    /// Everything it received: (what was asked, body).
    seen: Vec<(String, String)>,
    api_calls: usize,
    pages: BTreeSet<String>,
}

impl Caller {
    fn new(who: Who, headers: Vec<(&'static str, String)>, web: Option<Client>) -> Caller {
        Caller {
            who,
            headers,
            web,
            seen: Vec::new(),
            api_calls: 0,
            pages: BTreeSet::new(),
        }
    }

    async fn call(&mut self, app: &TestApp, method: Method, path: &str, body: Option<&Value>) {
        let mut r = app.client.request(method.clone(), format!("{}{path}", app.base));
        for (k, v) in &self.headers {
            r = r.header(*k, v);
        }
        if let Some(b) = body {
            r = r.json(b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        assert!(status < 500, "{} {method} {path}: {status} {text}", self.who.name());
        self.api_calls += 1;
        self.seen.push((format!("{method} {path} ({status})"), text));
    }

    /// Breadth-first over the links of every page reached from `seeds`.
    async fn crawl(&mut self, app: &TestApp, seeds: &[String]) {
        let Some(web) = self.web.clone() else { return };
        let mut queue: VecDeque<String> = seeds.iter().cloned().collect();
        let mut visited = HashSet::new();
        while let Some(path) = queue.pop_front() {
            if visited.len() >= 300 || !visited.insert(path.clone()) {
                continue;
            }
            let resp = web.get(format!("{}{path}", app.base)).send().await.unwrap();
            let status = resp.status();
            let location = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_string);
            let html = resp.text().await.unwrap_or_default();
            assert!(status.as_u16() < 500, "{} GET {path}: {status}", self.who.name());
            if status.is_success() {
                self.pages.insert(path.split('?').next().unwrap_or("").to_string());
            }
            if let Some(l) = location.filter(|l| l.starts_with('/')) {
                queue.push_back(l);
            }
            for part in html.split("href=\"").skip(1) {
                let link = part.split('"').next().unwrap_or("").replace("&amp;", "&");
                let link = link.split('#').next().unwrap_or("").to_string();
                // Same-origin pages only; the language switch and the static
                // assets show no data.
                if link.starts_with('/')
                    && !link.starts_with("//")
                    && !link.starts_with("/bahasa/")
                    && !link.starts_with("/aset/")
                {
                    queue.push_back(link);
                }
            }
            self.seen.push((format!("page {path} ({status})"), html));
        }
    }

    fn leaks(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (marker, rule) in forbidden(self.who) {
            for (what, body) in &self.seen {
                if body.contains(marker) {
                    out.push(format!("{} received {rule} ({marker:?}) from {what}", self.who.name()));
                }
            }
        }
        out
    }

    fn received(&self, marker: &str) -> bool {
        self.seen.iter().any(|(_, b)| b.contains(marker))
    }
}

/// The reports the crawl looks for: (anonymous, Bandung confidential,
/// Kemenkes confidential, public), with the PIN of the Bandung confidential
/// one and the citizen's user id and token.
struct Planted {
    ids: Vec<String>,
    pin_report: String,
    pin: String,
    citizen_id: String,
    citizen_token: String,
}

async fn ok(app: &TestApp, path: &str, who: &str, body: Value) {
    let (s, v) = app.post(path, Some(who), body).await;
    assert_eq!(s, 200, "{who} {path}: {v}");
}

/// Dispositions a report to `institution`, has its admin accept it, write an
/// internal note and answer.
async fn handle(app: &TestApp, id: &str, institution: &str, admin: &str, note: &str) {
    let p = |a: &str| format!("/api/v1/reports/{id}/{a}");
    ok(
        app,
        &p("disposition"),
        "national",
        json!({ "institution": institution }),
    )
    .await;
    ok(app, &p("accept"), admin, json!({})).await;
    let (s, html) = act(
        app,
        &signed_in(app, admin).await,
        id,
        &[("aksi", "note"), ("catatan", note)],
    )
    .await;
    assert!(s.is_redirection(), "note: {s} {html}");
    ok(
        app,
        &p("follow-up"),
        admin,
        json!({ "body": "Petugas sudah memeriksa lokasi dan akan memperbaikinya minggu ini." }),
    )
    .await;
}

async fn plant(app: &TestApp) -> Planted {
    // A citizen with an account files an anonymous report.
    let (s, v) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "name": ANON_NAME, "email": ANON_EMAIL, "phone": ANON_PHONE, "password": "kata-sandi-sulastri" }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "login": ANON_EMAIL, "password": "kata-sandi-sulastri" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let citizen_token = v["token"].as_str().unwrap().to_string();
    let (_, me) = app.call_with(Method::GET, "/api/v1/me", &citizen_token, None).await;
    let citizen_id = me["id"].as_str().expect("user id").to_string();
    let (_, r) = app
        .call_with(
            Method::POST,
            "/api/v1/reports",
            &citizen_token,
            Some(json!({
                "classification": "pengaduan",
                "title": "Pungutan di kantor kelurahan",
                "body": "Petugas kelurahan meminta uang tambahan untuk surat pengantar tanpa kuitansi.",
                "region_code": "32.73.01.1001",
                "anonymous": true,
                "reporter": { "name": ANON_NAME, "email": ANON_EMAIL, "phone": ANON_PHONE }
            })),
        )
        .await;
    let anon = r["tracking_id"].as_str().expect("anonymous report").to_string();
    handle(app, &anon, "pemkot-32.73", "bandung_admin", NOTE_BDG).await;

    // Without an account: a confidential report for Bandung, whose PIN the
    // PIN holder keeps, one for Kemenkes, and a public one.
    let (conf_bdg, pin) = app
        .submit(json!({ "confidential": true, "title": format!("{CONF_BDG} retribusi parkir pasar") }))
        .await;
    handle(app, &conf_bdg, "pemkot-32.73", "bandung_admin", NOTE_BDG).await;
    let (conf_kmk, _) = app
        .submit(json!({ "confidential": true, "title": format!("{CONF_KMK} di puskesmas"), "category": null }))
        .await;
    handle(app, &conf_kmk, "kemenkes", "kemenkes_admin", NOTE_KMK).await;
    let (public, _) = app
        .submit(json!({ "title": format!("{PUBLIC_TITLE} di depan stasiun") }))
        .await;
    handle(app, &public, "pemkot-32.73", "bandung_admin", NOTE_BDG).await;
    Planted {
        ids: vec![anon, conf_bdg.clone(), conf_kmk, public],
        pin_report: conf_bdg,
        pin,
        citizen_id,
        citizen_token,
    }
}

/// A browser holding the tracking grant of one report, as after the
/// `/lacak` form.
async fn pin_browser(app: &TestApp, id: &str, pin: &str) -> Client {
    let b = browser();
    let (s, html) = page(&b, &format!("{}/lacak", app.base)).await;
    assert_eq!(s, 200);
    let r = b
        .post(format!("{}/lacak", app.base))
        .form(&[("csrf", hidden(&html, "csrf").as_str()), ("id", id), ("pin", pin)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "PIN sign-in: {}", r.status());
    b
}

/// Every (method, path) of the served OpenAPI document, with each path
/// parameter filled in every way the crawl knows, and the query variants
/// that ask for other institutions' data or for the markers.
fn operations(doc: &Value, p: &Planted) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let mut paths = vec![path.clone()];
            for param in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
                let values: Vec<String> = match param {
                    "id" if path.contains("/reports/") => p.ids.clone(),
                    "code" if path.contains("/regions/") => vec!["32.73".into()],
                    "code" => vec!["pemkot-32.73".into(), "kemenkes".into()],
                    _ => vec!["1".into()],
                };
                paths = paths
                    .iter()
                    .flat_map(|x| values.iter().map(move |v| x.replace(&format!("{{{param}}}"), v)))
                    .collect();
            }
            let queries: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|q| q["in"] == "query")
                .filter_map(|q| q["name"].as_str())
                .flat_map(|name| match name {
                    "institution" => vec!["institution=kemenkes".to_string(), "institution=pemkot-32.73".into()],
                    "q" => [CONF_BDG, CONF_KMK, NOTE_BDG, NOTE_KMK, "Sulastri"]
                        .iter()
                        .map(|m| format!("q={m}"))
                        .collect(),
                    _ => vec![],
                })
                .collect();
            for path in paths {
                out.push((method.clone(), path.clone()));
                if method == Method::GET {
                    for q in &queries {
                        out.push((method.clone(), format!("{path}?{q}")));
                    }
                }
            }
        }
    }
    out
}

/// Routes outside the OpenAPI document that answer callers: Open311 and the
/// channel webhooks (signed by the platforms: unsigned calls must be refused
/// without saying anything).
fn outside_routes(p: &Planted) -> Vec<(Method, String)> {
    let mut out = vec![
        (Method::GET, "/open311/v2/services.json".to_string()),
        (Method::GET, "/open311/v2/requests.json".to_string()),
        (Method::GET, "/open311/v2/requests.json?status=open".to_string()),
        (Method::GET, "/open311/v2/discovery.json".to_string()),
        (Method::POST, "/hooks/telegram".to_string()),
        (Method::POST, "/hooks/line".to_string()),
        (Method::POST, "/hooks/sms".to_string()),
        (Method::POST, "/hooks/sms/twilio".to_string()),
        (Method::GET, "/hooks/whatsapp".to_string()),
        (Method::GET, "/hooks/messenger".to_string()),
        (Method::GET, "/statistik.json".to_string()),
        (Method::GET, "/statistik.csv".to_string()),
    ];
    for id in &p.ids {
        out.push((Method::GET, format!("/open311/v2/requests/{id}.json")));
    }
    out
}

async fn access_crawl(app: &TestApp) {
    let planted = plant(app).await;
    let (s, doc) = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(s, 200);
    let mut ops = operations(&doc, &planted);
    ops.extend(outside_routes(&planted));
    // Signing out and rotating keys would end the caller's own crawl.
    ops.retain(|(_, p)| !p.ends_with("/auth/logout") && !p.ends_with("/keys/rotate"));

    let mut callers = vec![
        Caller::new(Who::Public, vec![], Some(browser())),
        Caller::new(
            Who::Citizen,
            vec![("authorization", format!("Bearer {}", planted.citizen_token))],
            Some(signed_in_as(app, &planted.citizen_id).await),
        ),
        Caller::new(
            Who::Pin,
            vec![("x-lapor-pin", planted.pin.clone())],
            Some(pin_browser(app, &planted.pin_report, &planted.pin).await),
        ),
    ];
    for (name, _, _) in common::USERS {
        callers.push(Caller::new(
            Who::Staff(name),
            vec![("authorization", format!("Bearer {}", app.tokens[name]))],
            Some(signed_in(app, name).await),
        ));
    }
    for institution in ["pemkot-32.73", "kemenkes"] {
        lapor_server::integration::clients::set_mode(app.db.store.as_ref(), institution, "connected", None)
            .await
            .unwrap();
        let key = common::api_client(app, institution, "reports:read reports:write webhooks")
            .await
            .1;
        callers.push(Caller::new(
            Who::System(institution),
            vec![("authorization", format!("Bearer {key}"))],
            None,
        ));
    }

    let mut seeds: Vec<String> = [
        "/",
        "/laporan",
        "/statistik",
        "/lacak",
        "/akun",
        "/staf",
        "/staf/dasbor",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for id in &planted.ids {
        seeds.push(format!("/laporan/{id}"));
        seeds.push(format!("/lacak/{id}"));
        seeds.push(format!("/staf/laporan/{id}"));
    }
    // Every caller reads the planted state first; the writes (with an empty
    // body) come after all reads, since some succeed (`complete` needs no
    // field) and would change what later callers read.
    let empty = json!({});
    for c in &mut callers {
        c.crawl(app, &seeds).await;
        for (method, path) in ops.iter().filter(|(m, _)| *m == Method::GET) {
            c.call(app, method.clone(), path, None).await;
        }
    }
    for c in &mut callers {
        for (method, path) in ops.iter().filter(|(m, _)| *m != Method::GET) {
            let body = (*method != Method::DELETE).then_some(&empty);
            c.call(app, method.clone(), path, body).await;
        }
    }
    let mut leaks = Vec::new();
    let mut summary = BTreeMap::new();
    for c in &callers {
        leaks.extend(c.leaks());
        summary.insert(c.who, (c.pages.len(), c.api_calls));
    }
    for (who, (pages, calls)) in &summary {
        eprintln!(
            "crawl: {:<18} {pages:>4} pages, {calls:>5} API and route calls",
            who.name()
        );
    }
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));

    // The markers are where they belong: the crawl saw the data it guards,
    // and every caller's credentials worked (a caller whose key silently
    // failed would pass every "never received" check above).
    let by = |w: Who| callers.iter().find(|c| c.who == w).unwrap();
    let anon_reporter = format!("GET /api/v1/reports/{}/reporter (200)", planted.ids[0]);
    for marker in [ANON_NAME, ANON_EMAIL, ANON_PHONE_DIGITS] {
        assert!(
            by(Who::Staff("national"))
                .seen
                .iter()
                .any(|(what, body)| *what == anon_reporter && body.contains(marker)),
            "the national admin did not get the anonymous reporter's {marker:?} from {anon_reporter}"
        );
    }
    let mut expected = vec![
        (Who::Staff("bandung_admin"), NOTE_BDG),
        (Who::Staff("bandung_admin"), CONF_BDG),
        (Who::Staff("kemenkes_admin"), NOTE_KMK),
        (Who::Staff("kemenkes_admin"), CONF_KMK),
        (Who::System("pemkot-32.73"), CONF_BDG),
        (Who::System("kemenkes"), CONF_KMK),
        (Who::Pin, CONF_BDG),
        (Who::Citizen, ANON_EMAIL),
        (Who::Public, PUBLIC_TITLE),
        (Who::Staff("national"), KMK_STAFF),
    ];
    let own: Vec<(&str, String)> = common::USERS
        .iter()
        .map(|(name, _, _)| (*name, format!("{name}@lapor.test")))
        .collect();
    for (name, email) in &own {
        expected.push((Who::Staff(name), email.as_str()));
    }
    for (who, marker) in expected {
        assert!(by(who).received(marker), "{} never received {marker:?}", who.name());
    }
    // Each browser reached its own part of the site.
    for (who, path) in [
        (Who::Public, format!("/laporan/{}", planted.ids[3])),
        (Who::Pin, format!("/lacak/{}", planted.pin_report)),
        (Who::Citizen, "/akun".to_string()),
        (Who::Staff("bandung_admin"), format!("/staf/laporan/{}", planted.ids[0])),
        (
            Who::Staff("kemenkes_admin"),
            format!("/staf/laporan/{}", planted.ids[2]),
        ),
    ] {
        assert!(by(who).pages.contains(&path), "{} did not reach {path}", who.name());
    }
}
on_both_backends!(access_crawl);
