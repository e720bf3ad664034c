//! Accounts shared by the API and the web pages: logging in, sessions and
//! citizen registration.

use crate::AppState;
use crate::auth::{SESSION_COOKIE, hash_password, new_id, new_token, token_digest};
use crate::service;
use chrono::Utc;
use lapor_domain::Error;
use lapor_store::ts::Ts;
use lapor_store::{NewToken, NewUser, TokenKind, User};

/// Cookie that ends the browser session.
pub const CLEAR_SESSION_COOKIE: &str = "lapor_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";

/// E-mail addresses are matched lower-cased, phone numbers as +62….
pub fn normalize_login(login: &str) -> String {
    let login = login.trim().to_lowercase();
    service::normalize_phone(&login)
        .filter(|_| !login.contains('@'))
        .unwrap_or(login)
}

/// Issues a new bearer token or browser session for a user; returns the
/// secret, of which only a digest is stored.
pub async fn open_token(state: &AppState, user_id: &str, kind: TokenKind) -> Result<String, Error> {
    open_token_from(state, user_id, kind, None).await
}

/// `open_token`, remembering the browser that asked (shown in the list of
/// active sessions).
pub async fn open_token_from(
    state: &AppState,
    user_id: &str,
    kind: TokenKind,
    user_agent: Option<&str>,
) -> Result<String, Error> {
    let now = Utc::now();
    let ttl = match kind {
        TokenKind::Bearer => state.config.token_ttl,
        TokenKind::Session => state.config.session_ttl,
        TokenKind::PasswordReset => chrono::Duration::hours(1),
        TokenKind::SecondFactor => chrono::Duration::minutes(10),
    };
    let token = new_token();
    state
        .store
        .create_token(&NewToken {
            token_hash: token_digest(&token),
            user_id: user_id.to_string(),
            kind,
            created_at: Ts::new(now),
            expires_at: Ts::new(now + ttl),
            user_agent: user_agent.map(|ua| ua.chars().take(200).collect()),
        })
        .await?;
    Ok(token)
}

/// The `Set-Cookie` value carrying a browser session.
pub fn session_cookie(state: &AppState, session: &str) -> String {
    format!(
        "{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        state.config.session_ttl.num_seconds(),
    )
}

pub const PASSWORD_MIN_CHARS: usize = 10;

/// Creates a citizen account from an e-mail address or phone number (at
/// least one) and a password.
pub async fn register_citizen(
    state: &AppState,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
    password: &str,
) -> Result<User, Error> {
    let name = lapor_domain::report::check_text("name", name, 1, 200)?;
    let email = email.map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
    if let Some(m) = &email
        && !service::valid_email(m)
    {
        return Err(Error::validation("email"));
    }
    let phone = match phone.filter(|s| !s.trim().is_empty()) {
        Some(p) => Some(service::normalize_phone(p).ok_or_else(|| Error::validation("phone"))?),
        None => None,
    };
    if email.is_none() && phone.is_none() {
        return Err(Error::validation("email/phone: salah satu wajib / one is required"));
    }
    if password.chars().count() < PASSWORD_MIN_CHARS || password.len() > 1024 {
        return Err(Error::validation(
            "password: minimal 10 karakter / at least 10 characters",
        ));
    }
    state
        .store
        .create_user(&NewUser {
            id: new_id("u-"),
            email,
            phone,
            name,
            password_hash: hash_password(password)?,
            is_staff: false,
            memberships: vec![],
        })
        .await
}
