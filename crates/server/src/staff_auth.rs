//! Staff sign-in: password, then a second factor (TOTP or a recovery code),
//! mandatory for national and institution admins; lockout with back-off;
//! password reset by e-mail. Every outcome is written to the audit log.

use crate::AppState;
use crate::auth::{hash_password, new_token, token_digest, verify_password};
use chrono::{Duration, Utc};
use lapor_domain::institution::Role;
use lapor_domain::totp;
use lapor_domain::{Error, ErrorCode};
use lapor_store::ts::Ts;
use lapor_store::{AuditEntry, NewToken, OutboxMessage, TokenKind, User};

/// Failed attempts (password or second factor) before the account locks.
pub const LOCK_AFTER: i64 = 5;

/// How long the account stays locked after `failures` failed attempts:
/// one minute at the fifth, doubling with each further failure, at most an
/// hour. Nothing before the fifth.
pub fn lock_for(failures: i64) -> Option<Duration> {
    if failures < LOCK_AFTER {
        return None;
    }
    let doublings = (failures - LOCK_AFTER).min(6) as u32;
    Some(Duration::minutes((1i64 << doublings).min(60)))
}

/// Admins who route and answer reports must use a second factor.
pub fn second_factor_required(u: &User) -> bool {
    u.memberships
        .iter()
        .any(|m| matches!(m.role, Role::NationalAdmin | Role::InstitutionAdmin))
}

/// What the password step leads to.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in (no second factor needed or enrolled).
    Done(User),
    /// Password right; a code is owed. The token identifies this half-done
    /// sign-in (kept in a short-lived cookie).
    SecondFactor { user: User, pending: String },
    /// Password right; the user must enrol a second factor first.
    MustEnroll { user: User, pending: String },
}

async fn audit(state: &AppState, user_id: &str, action: &str, detail: Option<String>) -> Result<(), Error> {
    state
        .store
        .write_audit(&AuditEntry {
            at: Utc::now(),
            user_id: Some(user_id.to_string()),
            action: action.to_string(),
            target: user_id.to_string(),
            detail,
        })
        .await
}

/// Refuses a locked or disabled account before anything is checked.
async fn ensure_open(state: &AppState, user_id: &str) -> Result<(), Error> {
    let sec = state
        .store
        .user_security(user_id)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::InvalidCredentials))?;
    if sec.disabled {
        return Err(Error::new(ErrorCode::InvalidCredentials));
    }
    if sec.locked_until.is_some_and(|t| t > Utc::now()) {
        return Err(Error::new(ErrorCode::AccountLocked));
    }
    Ok(())
}

/// Counts a failure and locks the account when it is one too many.
async fn failed(state: &AppState, user_id: &str, what: &str) -> Error {
    let n = match state.store.login_failed(user_id).await {
        Ok(n) => n,
        Err(e) => return e,
    };
    let _ = audit(
        state,
        user_id,
        "staff.login_failed",
        Some(format!("{what}; attempt {n}")),
    )
    .await;
    match lock_for(n) {
        Some(d) => {
            let until = Utc::now() + d;
            if let Err(e) = state.store.lock_until(user_id, Some(Ts::new(until))).await {
                return e;
            }
            let _ = audit(state, user_id, "staff.locked", Some(format!("{} min", d.num_minutes()))).await;
            Error::new(ErrorCode::AccountLocked)
        }
        None if what == "password" => Error::new(ErrorCode::InvalidCredentials),
        None => Error::new(ErrorCode::InvalidSecondFactor),
    }
}

async fn pending_token(state: &AppState, user_id: &str) -> Result<String, Error> {
    crate::accounts::open_token_from(state, user_id, TokenKind::SecondFactor, None).await
}

/// The password step. Unknown accounts cost the same as wrong passwords.
pub async fn sign_in(state: &AppState, login: &str, password: &str) -> Result<SignIn, Error> {
    if password.len() > 1024 {
        return Err(Error::new(ErrorCode::InvalidCredentials));
    }
    let found = state
        .store
        .user_by_login(&crate::accounts::normalize_login(login))
        .await?;
    let Some((user, hash)) = found else {
        let _ = verify_password(password, &state.dummy_hash);
        return Err(Error::new(ErrorCode::InvalidCredentials));
    };
    ensure_open(state, &user.id).await?;
    if !verify_password(password, &hash) {
        return Err(failed(state, &user.id, "password").await);
    }
    let sec = state
        .store
        .user_security(&user.id)
        .await?
        .unwrap_or(lapor_store::UserSecurity {
            totp_secret: None,
            failed_logins: 0,
            locked_until: None,
            disabled: false,
            recovery_codes_left: 0,
        });
    if sec.totp_secret.is_some() {
        let pending = pending_token(state, &user.id).await?;
        return Ok(SignIn::SecondFactor { user, pending });
    }
    if user.is_staff && second_factor_required(&user) {
        let pending = pending_token(state, &user.id).await?;
        return Ok(SignIn::MustEnroll { user, pending });
    }
    state.store.login_succeeded(&user.id).await?;
    audit(state, &user.id, "staff.login", None).await?;
    Ok(SignIn::Done(user))
}

/// The user behind a half-done sign-in, without consuming it.
pub async fn pending_user(state: &AppState, pending: &str) -> Result<User, Error> {
    state
        .store
        .user_by_token(&token_digest(pending), TokenKind::SecondFactor, Ts::now())
        .await?
        .ok_or_else(|| Error::new(ErrorCode::Unauthenticated))
}

/// Digest under which a recovery code is stored.
fn recovery_digest(state: &AppState, user_id: &str, code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    token_digest(&format!("{}:{user_id}:{normal}", hex::encode(&state.pin_key[..8])))
}

/// Checks a TOTP code, or failing that a recovery code, for a user who has
/// a second factor. A code is accepted once; failures count to the lockout.
pub async fn check_second_factor(state: &AppState, user: &User, code: &str) -> Result<(), Error> {
    ensure_open(state, &user.id).await?;
    let sec = state
        .store
        .user_security(&user.id)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::Unauthenticated))?;
    let secret = sec
        .totp_secret
        .as_deref()
        .and_then(totp::base32_decode)
        .ok_or_else(|| Error::new(ErrorCode::InvalidSecondFactor))?;
    let code = code.trim();
    if code.len() > 64 {
        return Err(failed(state, &user.id, "second factor").await);
    }
    // `verify` finds the matching step; the store accepts each step once
    // (the replay check that counts holds across nodes).
    if let Some(step) = totp::verify(&secret, code, Utc::now().timestamp(), None)
        && state.store.claim_totp_step(&user.id, step).await?
    {
        state.store.login_succeeded(&user.id).await?;
        audit(state, &user.id, "staff.login", Some("totp".into())).await?;
        return Ok(());
    }
    if code.len() >= 8
        && state
            .store
            .use_recovery_code(&user.id, &recovery_digest(state, &user.id, code))
            .await?
    {
        state.store.login_succeeded(&user.id).await?;
        audit(state, &user.id, "staff.login", Some("recovery code".into())).await?;
        return Ok(());
    }
    Err(failed(state, &user.id, "second factor").await)
}

/// A fresh TOTP secret (base32).
pub fn new_secret() -> String {
    let mut bytes = [0u8; totp::SECRET_BYTES];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    totp::base32_encode(&bytes)
}

/// Enrols a second factor once the user proved their app shows the right
/// code. Returns the recovery codes, shown once and stored as digests.
pub async fn enroll(state: &AppState, user: &User, secret_b32: &str, code: &str) -> Result<Vec<String>, Error> {
    let secret = totp::base32_decode(secret_b32)
        .filter(|s| s.len() >= 16)
        .ok_or_else(|| Error::validation("secret"))?;
    let Some(step) = totp::verify(&secret, code.trim(), Utc::now().timestamp(), None) else {
        return Err(failed(state, &user.id, "enrolment code").await);
    };
    let mut random = [0u8; 50];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
    let codes = totp::recovery_codes(&random);
    let digests: Vec<String> = codes.iter().map(|c| recovery_digest(state, &user.id, c)).collect();
    state.store.enroll_totp(&user.id, secret_b32, &digests).await?;
    state.store.claim_totp_step(&user.id, step).await?;
    state.store.login_succeeded(&user.id).await?;
    audit(state, &user.id, "staff.2fa_enrolled", None).await?;
    Ok(codes)
}

/// Sends a reset link to the account's e-mail, if there is such an account.
/// The answer is the same either way, so it reveals no accounts.
pub async fn request_reset(state: &AppState, email: &str, base_url: &str) -> Result<(), Error> {
    let email = email.trim().to_lowercase();
    if !crate::service::valid_email(&email) {
        return Err(Error::validation("email"));
    }
    let Some((user, _)) = state.store.user_by_login(&email).await? else {
        return Ok(());
    };
    let token = new_token();
    let now = Utc::now();
    state
        .store
        .create_token(&NewToken {
            token_hash: token_digest(&token),
            user_id: user.id.clone(),
            kind: TokenKind::PasswordReset,
            created_at: Ts::new(now),
            expires_at: Ts::new(now + Duration::hours(1)),
            user_agent: None,
        })
        .await?;
    // The delivery worker sends it; the link is the only copy of the token.
    state
        .store
        .enqueue(&[OutboxMessage {
            topic: "notify.staff.password_reset".into(),
            key: format!("reset:{}", &token_digest(&token)[..24]),
            payload: serde_json::json!({
                "to": { "email": email },
                "user_id": user.id,
                "link": format!("{}/staf/atur-ulang/{token}", base_url.trim_end_matches('/')),
                "expires_at": now + Duration::hours(1),
            }),
        }])
        .await?;
    audit(state, &user.id, "staff.password_reset_requested", None).await
}

/// Sets a new password from a reset link; ends every session of the user.
pub async fn reset_password(state: &AppState, token: &str, password: &str) -> Result<(), Error> {
    if password.chars().count() < crate::accounts::PASSWORD_MIN_CHARS || password.len() > 1024 {
        return Err(Error::validation(
            "password: minimal 10 karakter / at least 10 characters",
        ));
    }
    let user_id = state
        .store
        .take_token(&token_digest(token), TokenKind::PasswordReset, Ts::now())
        .await?
        .ok_or_else(|| Error::new(ErrorCode::ResetLinkInvalid))?;
    state.store.set_password(&user_id, &hash_password(password)?).await?;
    audit(state, &user_id, "staff.password_reset", None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_the_fifth_failure_up_to_an_hour() {
        let minutes: Vec<Option<i64>> = (1..=13).map(|n| lock_for(n).map(|d| d.num_minutes())).collect();
        assert_eq!(
            minutes,
            vec![
                None,
                None,
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(32),
                Some(60),
                Some(60),
                Some(60)
            ]
        );
    }
}
