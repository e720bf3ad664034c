//! The installable apps: the citizens' (scope `/`) and the institution
//! workspace (scope `/staf/`), both kept alive offline by one service
//! worker at the root (`assets/sw.js`). See decision 0020.

use super::{Ctx, render};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Both apps' brand colour: the header's red, so the status bar matches.
pub const THEME: &str = "#a31f17";

fn icons() -> Value {
    json!([
        { "src": super::assets::url("ikon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any" },
        { "src": super::assets::url("ikon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any" },
        { "src": super::assets::url("ikon-maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable" },
    ])
}

/// A manifest is fetched without cookies, so it is always in Indonesian,
/// the first language; the pages themselves follow the user's choice.
fn manifest_response(m: Value) -> Response {
    super::assets::revalidated(m.to_string(), "application/manifest+json")
}

/// Anyone: the citizens' app.
pub async fn citizen_manifest() -> Response {
    manifest_response(json!({
        "id": "/",
        "name": "LAPOR! — Layanan Aspirasi dan Pengaduan Online Rakyat",
        "short_name": "LAPOR!",
        "description": "Sampaikan pengaduan, aspirasi, dan permintaan informasi kepada instansi pemerintah, lalu pantau tindak lanjutnya.",
        "lang": "id",
        "dir": "ltr",
        "start_url": "/lapor?sumber=aplikasi",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "categories": ["government", "utilities"],
        "icons": icons(),
        "shortcuts": [
            { "name": "Buat laporan", "url": "/lapor", "icons": [{ "src": super::assets::url("ikon-192.png"), "sizes": "192x192" }] },
            { "name": "Laporan saya", "url": "/akun" },
            { "name": "Lacak laporan", "url": "/lacak" },
        ],
    }))
}

/// Anyone (the pages behind it need a staff session): the workspace app.
pub async fn staff_manifest() -> Response {
    manifest_response(json!({
        "id": "/staf/",
        "name": "LAPOR! Pengelola — Ruang kerja instansi",
        "short_name": "LAPOR! Pengelola",
        "description": "Tangani laporan masyarakat untuk instansi Anda: antrean, disposisi, dan tindak lanjut.",
        "lang": "id",
        "dir": "ltr",
        "start_url": "/staf?sumber=aplikasi",
        "scope": "/staf",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "categories": ["government", "productivity"],
        "icons": icons(),
    }))
}

#[derive(Template)]
#[template(path = "offline.html")]
struct OfflinePage<'a> {
    c: &'a Ctx,
}

/// Anyone: what the service worker shows for a page it has not kept.
/// Kept in the app shell, so it never names a user.
pub async fn offline(c: Ctx) -> Response {
    render(&c, StatusCode::OK, &OfflinePage { c: &c })
}

/// Anyone: this browser's CSRF token, for reports queued offline and sent
/// later from a page that may have been cached under an older token. The
/// token is bound to the browser's own cookie, and CORS keeps other sites
/// from reading it.
pub async fn csrf_token(c: Ctx) -> Response {
    let mut resp = (StatusCode::OK, c.csrf.clone()).into_response();
    super::finish_plain(&c, resp.headers_mut());
    resp
}
