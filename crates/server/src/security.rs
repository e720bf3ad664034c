//! Headers every answer carries, whatever produced it (a page, the API, an
//! error, the API docs), and the cookie flags that depend on TLS.
//!
//! Pages set their own Content-Security-Policy (it names the map's tile
//! host); everything else gets a strict default here. Behind TLS (a public
//! URL starting with https) every answer carries HSTS and every cookie is
//! marked `Secure`, so no cookie set by any handler can be sent in clear.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// For answers that set no policy of their own: the API's JSON, errors,
/// exports, and the Swagger UI (its scripts and styles are files of its
/// own; its icons are data: URLs).
pub const DEFAULT_CSP: &str = "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Two years, subdomains included: what the browsers' preload lists ask for.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

pub async fn headers(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DEFAULT_CSP));
    }
    if st.config.behind_tls() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if st.config.secure_cookies || st.config.behind_tls() {
        secure_cookies(h);
    }
    resp
}

/// Marks every `Set-Cookie` of an answer `Secure`.
pub fn secure_cookies(h: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    h.remove(header::SET_COOKIE);
    for c in cookies {
        let secured = match c.to_str() {
            Ok(s) if !has_secure(s) => HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(c),
            _ => c,
        };
        h.append(header::SET_COOKIE, secured);
    }
}

fn has_secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .skip(1)
        .any(|attr| attr.trim().eq_ignore_ascii_case("secure"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cookie_is_secured_once() {
        let mut h = HeaderMap::new();
        h.append(header::SET_COOKIE, HeaderValue::from_static("a=1; Path=/; HttpOnly"));
        h.append(header::SET_COOKIE, HeaderValue::from_static("b=2; Path=/; Secure"));
        // A value that merely contains the word is not the attribute.
        h.append(header::SET_COOKIE, HeaderValue::from_static("secure=3; Path=/"));
        secure_cookies(&mut h);
        let got: Vec<&str> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(
            got,
            [
                "a=1; Path=/; HttpOnly; Secure",
                "b=2; Path=/; Secure",
                "secure=3; Path=/; Secure"
            ]
        );
    }
}
