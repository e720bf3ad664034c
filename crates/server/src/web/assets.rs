//! The stylesheet, scripts and icons, embedded in the binary and served
//! with a content hash in the URL so browsers may cache them for a year.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    name: &'static str,
    mime: &'static str,
    body: &'static [u8],
    hash: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    const JS: &str = "text/javascript; charset=utf-8";
    [
        (
            "lapor.css",
            "text/css; charset=utf-8",
            include_bytes!("../../assets/lapor.css").as_slice(),
        ),
        ("lapor.js", JS, include_bytes!("../../assets/lapor.js").as_slice()),
        (
            "lapor-antrian.js",
            JS,
            include_bytes!("../../assets/lapor-antrian.js").as_slice(),
        ),
        (
            "ikon-192.png",
            "image/png",
            include_bytes!("../../assets/ikon-192.png").as_slice(),
        ),
        (
            "ikon-512.png",
            "image/png",
            include_bytes!("../../assets/ikon-512.png").as_slice(),
        ),
        (
            "ikon-maskable-512.png",
            "image/png",
            include_bytes!("../../assets/ikon-maskable-512.png").as_slice(),
        ),
    ]
    .into_iter()
    .map(|(name, mime, body)| Asset {
        name,
        mime,
        body,
        hash: hex::encode(&Sha256::digest(body)[..6]),
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

/// Every asset's versioned URL: what the service worker keeps offline.
pub fn all_urls() -> Vec<String> {
    ASSETS.iter().map(|a| url(a.name)).collect()
}

/// One hash over every asset: a new build gets a new service worker.
pub fn version() -> String {
    let mut h = Sha256::new();
    for a in ASSETS.iter() {
        h.update(a.hash.as_bytes());
    }
    h.update(SERVICE_WORKER.as_bytes());
    hex::encode(&h.finalize()[..6])
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

const SERVICE_WORKER: &str = include_str!("../../assets/sw.js");

/// The service worker with this build's version and asset list filled in.
/// Served from the root so that its scope is the whole site.
static WORKER: LazyLock<String> = LazyLock::new(|| {
    let shell = serde_json::to_string(&all_urls()).unwrap_or_else(|_| "[]".into());
    SERVICE_WORKER
        .replace("\"__VERSION__\"", &format!("\"{}\"", version()))
        .replace("[/*__ASSETS__*/]", &shell)
});

pub async fn service_worker() -> Response {
    // Browsers check for a new worker on every navigation; never stale.
    revalidated(WORKER.clone(), "text/javascript; charset=utf-8")
}

/// A generated file the browser must check again before each use (the
/// service worker, the manifests): small, and changed by each build.
pub fn revalidated(body: String, mime: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_names_this_builds_assets() {
        assert!(!WORKER.contains("__VERSION__") && !WORKER.contains("__ASSETS__"));
        for u in all_urls() {
            assert!(WORKER.contains(&u), "{u} is kept offline");
        }
        assert!(WORKER.contains(&version()));
    }
}
