//! One-time form tokens for the workspace. The citizen pages' CSRF token is
//! per browser; staff forms change reports, so each form also carries its
//! own nonce with an expiry, signed together with the browser id. A token
//! that is forged, from another browser, older than two hours, or already
//! used is refused with `csrf_failed`, so a stale or replayed form never
//! acts twice.

use super::super::Ctx;
use crate::AppState;
use chrono::Utc;
use hmac::{Hmac, Mac};
use lapor_domain::{Error, ErrorCode};
use lapor_store::ts::Ts;
use sha2::Sha256;

pub const VALID_SECONDS: i64 = 2 * 60 * 60;

fn mac(key: &[u8], browser: &str, exp: i64, nonce: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("hmac accepts any key length");
    for part in ["staff-form", browser, &exp.to_string(), nonce] {
        m.update(part.as_bytes());
        m.update(&[0]);
    }
    hex::encode(&m.finalize().into_bytes()[..16])
}

pub struct FormToken;

impl FormToken {
    /// A fresh token for one form on a page.
    pub fn issue(st: &AppState, c: &Ctx) -> String {
        let exp = Utc::now().timestamp() + VALID_SECONDS;
        let nonce = crate::auth::new_token();
        let nonce = &nonce[..22.min(nonce.len())];
        format!("{exp}.{nonce}.{}", mac(&st.pin_key, c.browser(), exp, nonce))
    }

    /// Checks the per-browser CSRF token and the one-time token, and uses
    /// the latter up.
    pub async fn check(st: &AppState, c: &Ctx, csrf: &str, token: &str) -> Result<(), Error> {
        c.check_csrf(csrf)?;
        let bad = || Error::new(ErrorCode::CsrfFailed);
        let mut parts = token.splitn(3, '.');
        let (Some(exp), Some(nonce), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let exp: i64 = exp.parse().map_err(|_| bad())?;
        let now = Utc::now().timestamp();
        if exp < now || exp > now + VALID_SECONDS + 60 || nonce.len() > 64 {
            return Err(bad());
        }
        if !super::super::csrf::same(sig, &mac(&st.pin_key, c.browser(), exp, nonce)) {
            return Err(bad());
        }
        let expires = chrono::DateTime::from_timestamp(exp, 0).unwrap_or_else(Utc::now);
        if !st.store.claim_nonce(nonce, Ts::new(expires), Ts::now()).await? {
            return Err(bad());
        }
        Ok(())
    }
}
