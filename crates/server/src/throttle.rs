//! Rate limits on signing in and on filing reports (issue 10): per client
//! address on every sign-in and submission route, and per citizen account
//! on submissions. Failed sign-ins are limited per account apart from this,
//! by the lockout of `staff_auth`.
//!
//! Counts are kept in memory on each node, in fixed windows. Behind a load
//! balancer that spreads one client over N nodes the effective limit is up
//! to N times the configured one; docs/operations.md says how to size it.
//!
//! Indonesian mobile carriers put many subscribers behind one address
//! (carrier-grade NAT), so the per-address limits are set for bursts that
//! no single person makes, not for one person's pace.

use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use lapor_domain::{Error, ErrorCode};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One limit: at most `max` hits per `window`. `max == 0` turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    pub const OFF: Limit = Limit {
        max: 0,
        window: Duration::from_secs(60),
    };
    pub fn per_minute(max: u32) -> Limit {
        Limit {
            max,
            window: Duration::from_secs(60),
        }
    }
    pub fn per_hour(max: u32) -> Limit {
        Limit {
            max,
            window: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Sign-in, registration, PIN and token requests from one address.
    pub sign_in_per_address: Limit,
    /// Reports filed from one address (web form, API, Open311).
    pub submit_per_address: Limit,
    /// Reports filed by one signed-in citizen, whatever their address.
    pub submit_per_account: Limit,
    /// The header a trusted reverse proxy puts the client's address in
    /// (`x-forwarded-for`: its last entry; `x-real-ip`). None: the TCP
    /// peer's address. Set it only behind a proxy that overwrites it, or
    /// any client can pick the address it is counted under.
    pub client_address_header: Option<String>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            sign_in_per_address: Limit::per_minute(20),
            submit_per_address: Limit::per_minute(30),
            submit_per_account: Limit::per_hour(20),
            client_address_header: None,
        }
    }
}

impl RateLimits {
    /// No limits at all (load tests, which send everything from one address).
    pub fn off() -> RateLimits {
        RateLimits {
            sign_in_per_address: Limit::OFF,
            submit_per_address: Limit::OFF,
            submit_per_account: Limit::OFF,
            client_address_header: None,
        }
    }
}

/// Hits per key in fixed windows, forgotten when their window has passed.
#[derive(Default)]
pub struct Throttle {
    windows: Mutex<HashMap<String, (u32, Instant)>>,
}

/// Keys tracked before expired windows are swept.
const SWEEP_AT: usize = 100_000;

impl Throttle {
    /// Counts a hit on `key`. Over the limit: how long until the window
    /// ends, for `Retry-After`.
    pub fn hit(&self, key: &str, limit: Limit, now: Instant) -> Result<(), Duration> {
        if limit.max == 0 {
            return Ok(());
        }
        // A poisoned lock only means another request panicked mid-count.
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, (_, start)| now.duration_since(*start) < limit.window.max(Duration::from_secs(3600)));
        }
        let w = map.entry(key.to_string()).or_insert((0, now));
        if now.duration_since(w.1) >= limit.window {
            *w = (0, now);
        }
        if w.0 >= limit.max {
            return Err(limit.window.saturating_sub(now.duration_since(w.1)));
        }
        w.0 += 1;
        Ok(())
    }
}

/// Counts a citizen's submission against their account.
pub fn account_submission(state: &AppState, reporter_id: &str) -> Result<(), Error> {
    let limit = state.config.limits.submit_per_account;
    state
        .throttle
        .hit(&format!("submit:account:{reporter_id}"), limit, Instant::now())
        .map_err(|wait| limited("account", wait))
}

fn limited(scope: &str, wait: Duration) -> Error {
    Error::with(
        ErrorCode::RateLimited,
        format!("{scope}; retry_after={}", wait.as_secs().max(1)),
    )
}

/// Which limit a request falls under, by method and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SignIn,
    Submit,
}

pub fn kind_of(method: &Method, path: &str) -> Option<Kind> {
    if method != Method::POST {
        return None;
    }
    match path {
        "/api/v1/auth/login"
        | "/api/v1/auth/register"
        | "/api/v1/oauth/token"
        | "/masuk"
        | "/daftar"
        | "/lacak"
        | "/staf/masuk"
        | "/staf/verifikasi"
        | "/staf/lupa-sandi" => Some(Kind::SignIn),
        "/api/v1/reports" | "/lapor" => Some(Kind::Submit),
        p if p.starts_with("/staf/atur-ulang/") => Some(Kind::SignIn),
        p if p.starts_with("/open311/v2/requests") => Some(Kind::Submit),
        _ => None,
    }
}

/// The client's address: from the configured proxy header, else the peer.
pub fn client_address(headers: &HeaderMap, peer: Option<SocketAddr>, header_name: Option<&str>) -> Option<IpAddr> {
    if let Some(name) = header_name {
        let v = headers.get(name).and_then(|v| v.to_str().ok())?;
        // The proxy appends the address it saw; earlier entries came from
        // the client and prove nothing.
        return v.rsplit(',').next().and_then(|s| s.trim().parse().ok());
    }
    peer.map(|p| p.ip())
}

/// Middleware: refuses a sign-in or submission over its address's limit
/// with 429 and `Retry-After`, before the handler reads the body.
pub async fn limit_requests(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let Some(kind) = kind_of(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let limits = &st.config.limits;
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let Some(ip) = client_address(req.headers(), peer, limits.client_address_header.as_deref()) else {
        // A request with no address (in-process callers; a proxy header
        // missing) is not counted per address: the account limits still hold.
        return next.run(req).await;
    };
    let (limit, name) = match kind {
        Kind::SignIn => (limits.sign_in_per_address, "sign_in"),
        Kind::Submit => (limits.submit_per_address, "submit"),
    };
    match st.throttle.hit(&format!("{name}:ip:{ip}"), limit, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            tracing::warn!(%ip, kind = name, "rate limited");
            refusal(&st, req, &limited("address", wait)).await
        }
    }
}

/// A 429 in the form the caller reads: a page for the web forms, JSON for
/// the API. Either way it says when to try again.
async fn refusal(st: &AppState, req: Request, e: &Error) -> Response {
    let path = req.uri().path().to_string();
    let (mut parts, _) = req.into_parts();
    if path.starts_with("/api/") || path.starts_with("/open311/") {
        crate::error::error_response(e, crate::error::lang_of(&parts.headers))
    } else {
        crate::web::error_page_for(&mut parts, st, e).await
    }
}

/// Adds `Retry-After` to the answer of a rate-limit error.
pub fn mark_retry(resp: &mut Response, e: &Error) {
    if let Some(secs) = retry_after(e)
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

/// The seconds a rate-limit error says to wait.
pub fn retry_after(e: &Error) -> Option<u64> {
    if e.code != ErrorCode::RateLimited {
        return None;
    }
    e.detail.as_deref()?.split("retry_after=").nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_and_reset() {
        let t = Throttle::default();
        let l = Limit {
            max: 3,
            window: Duration::from_secs(10),
        };
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(t.hit("k", l, t0).is_ok());
        }
        let wait = t.hit("k", l, t0 + Duration::from_secs(4)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(6));
        // Another key has its own window.
        assert!(t.hit("other", l, t0).is_ok());
        // The window ends: counting starts again.
        assert!(t.hit("k", l, t0 + Duration::from_secs(10)).is_ok());
        // Off means off.
        for _ in 0..100 {
            assert!(t.hit("k", Limit::OFF, t0).is_ok());
        }
    }

    #[test]
    fn kinds_by_route() {
        assert_eq!(kind_of(&Method::POST, "/masuk"), Some(Kind::SignIn));
        assert_eq!(kind_of(&Method::POST, "/staf/atur-ulang/abc"), Some(Kind::SignIn));
        assert_eq!(kind_of(&Method::POST, "/lapor"), Some(Kind::Submit));
        assert_eq!(kind_of(&Method::POST, "/open311/v2/requests.json"), Some(Kind::Submit));
        assert_eq!(kind_of(&Method::GET, "/masuk"), None);
        assert_eq!(kind_of(&Method::POST, "/lacak/ABC/nilai"), None);
    }

    #[test]
    fn address_from_peer_or_trusted_header() {
        let peer: SocketAddr = "10.0.0.7:5555".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4, 203.0.113.9"));
        // Without a configured header the claim is ignored.
        assert_eq!(client_address(&h, Some(peer), None), Some(peer.ip()));
        // With one, the proxy's own (last) entry counts, not the client's.
        assert_eq!(
            client_address(&h, Some(peer), Some("x-forwarded-for")),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(client_address(&HeaderMap::new(), Some(peer), Some("x-real-ip")), None);
    }

    #[test]
    fn retry_after_is_read_back() {
        assert_eq!(retry_after(&limited("address", Duration::from_millis(200))), Some(1));
        assert_eq!(retry_after(&limited("account", Duration::from_secs(61))), Some(61));
        assert_eq!(retry_after(&Error::new(ErrorCode::NotFound)), None);
    }
}
