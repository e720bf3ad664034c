//! Who is calling: bearer tokens for the API, a session cookie for the UI,
//! and argon2 password hashes. Tokens are random and stored only as SHA-256
//! digests, so a database leak does not leak live sessions.

use crate::AppState;
use crate::error::{ApiError, lang_of};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, Method, header, request::Parts};
use base64::Engine;
use lapor_domain::authz::Principal;
use lapor_domain::{Error, ErrorCode, Lang};
use lapor_store::ts::Ts;
use lapor_store::{TokenKind, User};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "lapor_session";

pub fn hash_password(password: &str) -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| Error::internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("argon2: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A fresh random token (256 bits, URL-safe).
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random opaque id for users and reporters.
///
/// Ids start with the time in milliseconds, so new rows land at the end of
/// their index instead of on a random page (each random page is one more
/// page written per commit); 80 random bits follow, so ids stay unguessable.
pub fn new_id(prefix: &str) -> String {
    let mut b = [0u8; 10];
    rand::rng().fill_bytes(&mut b);
    let ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    format!("{prefix}{ms:012x}{}", hex::encode(b))
}

/// The authenticated caller of a request (or the public).
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub user: Option<User>,
    pub lang: Lang,
}

impl Caller {
    /// Someone not signed in.
    pub fn public(lang: Lang) -> Caller {
        Caller {
            principal: Principal::Public,
            user: None,
            lang,
        }
    }
    /// The system itself: for steps no person takes (a pushed report is
    /// already verified upstream; notes from another system).
    pub fn system(lang: Lang) -> Caller {
        Caller {
            principal: Principal::System,
            user: None,
            lang,
        }
    }
    pub fn is_staff(&self) -> bool {
        matches!(self.principal, Principal::Staff { .. })
    }
    pub fn err(&self, e: Error) -> ApiError {
        ApiError::new(e, self.lang)
    }
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';').find_map(|kv| {
                let (k, val) = kv.trim().split_once('=')?;
                (k == name).then_some(val)
            })
        })
}

/// The bearer token and the session cookie a request carries, if any.
pub fn request_tokens(headers: &HeaderMap) -> (Option<&str>, Option<&str>) {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    (bearer, cookie_value(headers, SESSION_COOKIE))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        let (bearer, cookie) = request_tokens(&parts.headers);
        let bearer = bearer.map(|t| (t.to_string(), TokenKind::Bearer));
        let cookie = cookie.map(|t| (t.to_string(), TokenKind::Session));
        let Some((token, kind)) = bearer.or(cookie) else {
            return Ok(Caller {
                principal: Principal::Public,
                user: None,
                lang,
            });
        };
        if kind == TokenKind::Session && !matches!(parts.method, Method::GET | Method::HEAD) {
            // Cookie-authenticated writes must come from our own origin
            // (the cookie is also SameSite=Strict).
            let host = parts
                .headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let origin_ok = parts
                .headers
                .get(header::ORIGIN)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|o| o.split("://").nth(1) == Some(host));
            if !origin_ok {
                return Err(ApiError::new(Error::with(ErrorCode::Forbidden, "origin"), lang));
            }
        }
        caller_for_token(state, &token, kind, lang)
            .await
            .map_err(|e| ApiError::new(e, lang))?
            .ok_or_else(|| ApiError::new(Error::new(ErrorCode::Unauthenticated), lang))
    }
}

/// The caller a bearer token or session stands for; `None` when the token
/// is unknown or expired.
pub async fn caller_for_token(
    state: &AppState,
    token: &str,
    kind: TokenKind,
    lang: Lang,
) -> Result<Option<Caller>, Error> {
    let Some(user) = state.store.user_by_token(&token_digest(token), kind, Ts::now()).await? else {
        return Ok(None);
    };
    let principal = if user.is_staff {
        Principal::Staff {
            user_id: user.id.clone(),
            memberships: user.memberships.clone(),
        }
    } else {
        let reporter_id = state
            .store
            .reporter_for_user(&user.id)
            .await?
            .unwrap_or_else(|| format!("r-{}", user.id));
        Principal::Reporter { reporter_id }
    };
    Ok(Some(Caller {
        principal,
        user: Some(user),
        lang,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        let h = hash_password("rahasia-123").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("rahasia-123", &h));
        assert!(!verify_password("rahasia-124", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn ids_sort_by_creation_time_and_differ() {
        let a = new_id("r-");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("r-");
        assert!(a < b, "{a} < {b}");
        assert_eq!(a.len(), 2 + 12 + 20);
        assert_ne!(new_id("r-"), new_id("r-"));
    }

    #[test]
    fn tokens_are_random_and_digested() {
        let a = new_token();
        assert_ne!(a, new_token());
        assert_eq!(token_digest(&a).len(), 64);
        assert_ne!(token_digest(&a), a);
    }
}
