//! The stylesheet and script, embedded in the binary and served with a
//! content hash in the URL so browsers may cache them for a year.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    name: &'static str,
    mime: &'static str,
    body: &'static str,
    hash: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        (
            "lapor.css",
            "text/css; charset=utf-8",
            include_str!("../../assets/lapor.css"),
        ),
        (
            "lapor.js",
            "text/javascript; charset=utf-8",
            include_str!("../../assets/lapor.js"),
        ),
    ]
    .into_iter()
    .map(|(name, mime, body)| Asset {
        name,
        mime,
        body,
        hash: hex::encode(&Sha256::digest(body.as_bytes())[..6]),
    })
    .collect()
});

/// The versioned URL of an asset.
pub fn url(name: &str) -> String {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => format!("/aset/{}?v={}", a.name, a.hash),
        None => format!("/aset/{name}"),
    }
}

pub async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => {
            let mut resp = (StatusCode::OK, a.body).into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.mime));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            resp
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
