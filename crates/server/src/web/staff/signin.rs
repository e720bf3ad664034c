//! Staff sign-in pages: password, second factor (or enrolment of one, with
//! recovery codes shown once), forgotten password, and the list of active
//! sessions with revoke.

use super::{FormToken, Staff, safe_back};
use crate::AppState;
use crate::accounts;
use crate::auth::{SESSION_COOKIE, cookie_value, token_digest};
use crate::staff_auth::{self, SignIn};
use crate::web::{Ctx, error_page, render, see_other};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use lapor_domain::totp;
use lapor_domain::{Error, ErrorCode};
use lapor_store::ts::Ts;
use lapor_store::{SessionInfo, TokenKind};

/// Holds a half-done sign-in (password checked, code owed) for ten minutes.
const PENDING_COOKIE: &str = "lapor_2fa";

#[derive(Template)]
#[template(path = "staff/signin.html")]
struct SignInPage<'a> {
    c: &'a Ctx,
    /// "login", "code", "enroll", "codes", "forgot", "forgot_sent", "reset".
    mode: &'a str,
    login: String,
    back: String,
    error: Option<String>,
    secret: String,
    secret_mac: String,
    otpauth: String,
    qr_svg: String,
    codes: Vec<String>,
    token: String,
}

impl<'a> SignInPage<'a> {
    fn new(c: &'a Ctx, mode: &'a str) -> Self {
        SignInPage {
            c,
            mode,
            login: String::new(),
            back: "/staf".into(),
            error: None,
            secret: String::new(),
            secret_mac: String::new(),
            otpauth: String::new(),
            qr_svg: String::new(),
            codes: vec![],
            token: String::new(),
        }
    }
}

fn status_of(e: &Error) -> StatusCode {
    StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
}

fn with_cookie(mut resp: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn pending_cookie(token: &str, max_age: i64) -> String {
    format!("{PENDING_COOKIE}={token}; Path=/staf; HttpOnly; SameSite=Strict; Max-Age={max_age}")
}

/// Opens the browser session and ends the half-done sign-in.
async fn finish(st: &AppState, c: &Ctx, headers: &HeaderMap, user_id: &str, to: &str) -> Response {
    if let Some(p) = cookie_value(headers, PENDING_COOKIE) {
        let _ = st.store.delete_token(&token_digest(p)).await;
    }
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    match accounts::open_token_from(st, user_id, TokenKind::Session, ua).await {
        Ok(session) => {
            let resp = see_other(c, to);
            let resp = with_cookie(resp, &accounts::session_cookie(st, &session));
            with_cookie(resp, &pending_cookie("", 0))
        }
        Err(e) => error_page(c, &e),
    }
}

/// Where a correct password leads: signed in, or on to the second factor.
pub async fn after_password(st: &AppState, c: &Ctx, headers: &HeaderMap, next: SignIn, back: &str) -> Response {
    match next {
        SignIn::Done(user) => finish(st, c, headers, &user.id, back).await,
        SignIn::SecondFactor { pending, .. } => with_cookie(
            see_other(c, &format!("/staf/verifikasi?kembali={}", crate::web::enc(back))),
            &pending_cookie(&pending, 600),
        ),
        SignIn::MustEnroll { pending, .. } => {
            with_cookie(see_other(c, "/staf/verifikasi/daftar"), &pending_cookie(&pending, 600))
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct BackQuery {
    kembali: Option<String>,
}

pub async fn login_form(c: Ctx, q: Result<Query<BackQuery>, axum::extract::rejection::QueryRejection>) -> Response {
    let mut p = SignInPage::new(&c, "login");
    p.back = safe_back(q.ok().and_then(|Query(q)| q.kembali).as_deref());
    render(&c, StatusCode::OK, &p)
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    kembali: String,
}

pub async fn login(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = match super::accept(&st, &c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let back = safe_back(Some(&f.kembali));
    match staff_auth::sign_in(&st, &f.login, &f.password).await {
        Ok(next) => after_password(&st, &c, &headers, next, &back).await,
        Err(e) => {
            let mut p = SignInPage::new(&c, "login");
            p.login = f.login;
            p.back = back;
            p.error = Some(e.code.message(c.lang).to_string());
            render(&c, status_of(&e), &p)
        }
    }
}

async fn pending(st: &AppState, headers: &HeaderMap) -> Result<lapor_store::User, Error> {
    let token = cookie_value(headers, PENDING_COOKIE).ok_or_else(|| Error::new(ErrorCode::Unauthenticated))?;
    staff_auth::pending_user(st, token).await
}

pub async fn code_form(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    q: Result<Query<BackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if pending(&st, &headers).await.is_err() {
        return see_other(&c, "/staf/masuk");
    }
    let mut p = SignInPage::new(&c, "code");
    p.back = safe_back(q.ok().and_then(|Query(q)| q.kembali).as_deref());
    render(&c, StatusCode::OK, &p)
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kode: String,
    #[serde(default)]
    kembali: String,
}

pub async fn code(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    form: Result<Form<CodeForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = match super::accept(&st, &c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let user = match pending(&st, &headers).await {
        Ok(u) => u,
        Err(_) => return see_other(&c, "/staf/masuk"),
    };
    match staff_auth::check_second_factor(&st, &user, &f.kode).await {
        Ok(()) => finish(&st, &c, &headers, &user.id, &safe_back(Some(&f.kembali))).await,
        Err(e) => {
            let mut p = SignInPage::new(&c, "code");
            p.back = safe_back(Some(&f.kembali));
            p.error = Some(e.code.message(c.lang).to_string());
            render(&c, status_of(&e), &p)
        }
    }
}

/// Binds an enrolment secret to the half-done sign-in, so the form cannot
/// be fed a secret of someone else's choosing.
fn secret_mac(st: &AppState, pending: &str, secret: &str) -> String {
    crate::web::csrf::token(&st.pin_key, &format!("totp-enrol:{}:{secret}", token_digest(pending)))
}

/// A QR code of the `otpauth://` URI as inline SVG, for the phone's app.
fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

async fn enroll_page(st: &AppState, c: &Ctx, headers: &HeaderMap, error: Option<Error>) -> Response {
    let Some(token) = cookie_value(headers, PENDING_COOKIE) else {
        return see_other(c, "/staf/masuk");
    };
    let Ok(user) = staff_auth::pending_user(st, token).await else {
        return see_other(c, "/staf/masuk");
    };
    let secret = staff_auth::new_secret();
    let account = user.email.clone().unwrap_or_else(|| user.id.clone());
    let raw = totp::base32_decode(&secret).unwrap_or_default();
    let otpauth = totp::otpauth_uri("LAPOR!", &account, &raw);
    let mut p = SignInPage::new(c, "enroll");
    p.secret_mac = secret_mac(st, token, &secret);
    p.qr_svg = qr_svg(&otpauth);
    p.otpauth = otpauth;
    p.secret = secret;
    let status = error.as_ref().map(status_of).unwrap_or(StatusCode::OK);
    p.error = error.map(|e| e.code.message(c.lang).to_string());
    render(c, status, &p)
}

pub async fn enroll_form(State(st): State<AppState>, c: Ctx, headers: HeaderMap) -> Response {
    enroll_page(&st, &c, &headers, None).await
}

#[derive(serde::Deserialize)]
pub struct EnrollForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    mac: String,
    #[serde(default)]
    kode: String,
}

pub async fn enroll(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    form: Result<Form<EnrollForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = match super::accept(&st, &c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(token) = cookie_value(&headers, PENDING_COOKIE) else {
        return see_other(&c, "/staf/masuk");
    };
    let Ok(user) = staff_auth::pending_user(&st, token).await else {
        return see_other(&c, "/staf/masuk");
    };
    if !crate::web::csrf::same(&f.mac, &secret_mac(&st, token, &f.secret)) {
        return error_page(&c, &Error::new(ErrorCode::CsrfFailed));
    }
    match staff_auth::enroll(&st, &user, &f.secret, &f.kode).await {
        Ok(codes) => {
            // Signed in now; the codes are shown this once.
            let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
            let _ = st.store.delete_token(&token_digest(token)).await;
            let session = match accounts::open_token_from(&st, &user.id, TokenKind::Session, ua).await {
                Ok(s) => s,
                Err(e) => return error_page(&c, &e),
            };
            let mut p = SignInPage::new(&c, "codes");
            p.codes = codes;
            let resp = render(&c, StatusCode::OK, &p);
            let resp = with_cookie(resp, &accounts::session_cookie(&st, &session));
            with_cookie(resp, &pending_cookie("", 0))
        }
        Err(e) => enroll_page(&st, &c, &headers, Some(e)).await,
    }
}

pub async fn forgot_form(c: Ctx) -> Response {
    render(&c, StatusCode::OK, &SignInPage::new(&c, "forgot"))
}

#[derive(serde::Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

pub async fn forgot(
    State(st): State<AppState>,
    c: Ctx,
    form: Result<Form<ForgotForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = match super::accept(&st, &c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    match staff_auth::request_reset(&st, &f.email, &st.config.public_url).await {
        Ok(()) => render(&c, StatusCode::OK, &SignInPage::new(&c, "forgot_sent")),
        Err(e) => {
            let mut p = SignInPage::new(&c, "forgot");
            p.login = f.email;
            p.error = Some(crate::web::message(&c, &e));
            render(&c, status_of(&e), &p)
        }
    }
}

pub async fn reset_form(c: Ctx, Path(token): Path<String>) -> Response {
    let mut p = SignInPage::new(&c, "reset");
    p.token = token;
    render(&c, StatusCode::OK, &p)
}

#[derive(serde::Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

pub async fn reset(
    State(st): State<AppState>,
    c: Ctx,
    Path(token): Path<String>,
    form: Result<Form<ResetForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = match super::accept(&st, &c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    match staff_auth::reset_password(&st, &token, &f.password).await {
        Ok(()) => see_other(&c, "/staf/masuk"),
        Err(e) => {
            let mut p = SignInPage::new(&c, "reset");
            p.token = token;
            p.error = Some(crate::web::message(&c, &e));
            render(&c, status_of(&e), &p)
        }
    }
}

#[derive(Template)]
#[template(path = "staff/sessions.html")]
struct SessionsPage<'a> {
    s: &'a Staff,
    c: &'a Ctx,
    sessions: Vec<(SessionInfo, bool, String)>,
    codes_left: i64,
    has_totp: bool,
    form: String,
}

pub async fn sessions(State(st): State<AppState>, s: Staff, headers: HeaderMap) -> Response {
    let current = cookie_value(&headers, SESSION_COOKIE).map(token_digest);
    let list = match st.store.sessions(&s.user.id, Ts::now()).await {
        Ok(l) => l,
        Err(e) => return error_page(&s.c, &e),
    };
    let sec = st.store.user_security(&s.user.id).await.ok().flatten();
    let sessions = list
        .into_iter()
        .map(|x| {
            let here = current.as_deref() == Some(x.token_hash.as_str());
            let when = crate::web::i18n::short_date(x.created_at, lapor_domain::calendar::Zone::Wib, s.c.lang);
            (x, here, when)
        })
        .collect();
    let page = SessionsPage {
        s: &s,
        c: &s.c,
        sessions,
        codes_left: sec.as_ref().map(|x| x.recovery_codes_left).unwrap_or(0),
        has_totp: sec.as_ref().is_some_and(|x| x.totp_secret.is_some()),
        form: FormToken::issue(&st, &s.c),
    };
    render(&s.c, StatusCode::OK, &page)
}

#[derive(serde::Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ft: String,
    #[serde(default)]
    sesi: String,
}

pub async fn revoke(
    State(st): State<AppState>,
    s: Staff,
    form: Result<Form<RevokeForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    match st.store.revoke_session(&s.user.id, &f.sesi).await {
        Ok(true) => {
            let _ = st
                .store
                .write_audit(&lapor_store::AuditEntry {
                    at: chrono::Utc::now(),
                    user_id: Some(s.user.id.clone()),
                    action: "staff.session_revoked".into(),
                    target: s.user.id.clone(),
                    detail: Some(f.sesi.chars().take(12).collect()),
                })
                .await;
            see_other(&s.c, "/staf/sesi")
        }
        Ok(false) => error_page(&s.c, &Error::not_found()),
        Err(e) => error_page(&s.c, &e),
    }
}

pub async fn logout(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    form: Result<Form<CodeForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if let Err(r) = super::accept(&st, &c, form).await {
        return r;
    }
    if let Some(tok) = cookie_value(&headers, SESSION_COOKIE) {
        let _ = st.store.delete_token(&token_digest(tok)).await;
    }
    crate::web::signed_out(with_cookie(
        see_other(&c, "/staf/masuk"),
        accounts::CLEAR_SESSION_COOKIE,
    ))
}

impl super::Posted for RevokeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

impl super::Posted for LoginForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl super::Posted for CodeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl super::Posted for EnrollForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl super::Posted for ForgotForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl super::Posted for ResetForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}
