//! Citizen accounts on the web: register, log in and out, "my reports",
//! notification preferences and a download of all my data (UU PDP).

use super::public::{Card, cards};
use super::{Ctx, error_page, render, see_other};
use crate::AppState;
use crate::accounts;
use crate::auth::{SESSION_COOKIE, cookie_value, token_digest};
use crate::views::{ViewLevel, report_view};
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lapor_domain::authz::Principal;
use lapor_domain::{Error, ErrorCode};
use lapor_store::{ReportFilter, TokenKind};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    c: &'a Ctx,
    login: String,
    error: Option<String>,
}

pub async fn login_form(c: Ctx) -> Response {
    render(
        &c,
        StatusCode::OK,
        &LoginPage {
            c: &c,
            login: String::new(),
            error: None,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

fn with_session(st: &AppState, c: &Ctx, session: &str, to: &str) -> Response {
    let mut resp = see_other(c, to);
    if let Ok(v) = HeaderValue::from_str(&accounts::session_cookie(st, session)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn login(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return error_page(&c, &Error::new(ErrorCode::CsrfFailed));
    };
    if let Err(e) = c.check_csrf(&form.csrf) {
        return error_page(&c, &e);
    }
    // Staff who sign in here go through the same second-factor steps as
    // on /staf/masuk; nobody skips them by choosing the citizen form.
    let user = match crate::staff_auth::sign_in(&st, &form.login, &form.password).await {
        Ok(crate::staff_auth::SignIn::Done(u)) => u,
        Ok(other) => return super::staff::after_password(&st, &c, &headers, other, "/staf").await,
        Err(e) => {
            let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
            return render(
                &c,
                status,
                &LoginPage {
                    c: &c,
                    login: form.login,
                    error: Some(e.code.message(c.lang).to_string()),
                },
            );
        }
    };
    let to = if user.is_staff { "/staf" } else { "/akun" };
    match accounts::open_token(&st, &user.id, TokenKind::Session).await {
        Ok(session) => with_session(&st, &c, &session, to),
        Err(e) => error_page(&c, &e),
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage<'a> {
    c: &'a Ctx,
    name: String,
    email: String,
    phone: String,
    error: Option<String>,
}

pub async fn register_form(c: Ctx) -> Response {
    render(
        &c,
        StatusCode::OK,
        &RegisterPage {
            c: &c,
            name: String::new(),
            email: String::new(),
            phone: String::new(),
            error: None,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    nama: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    telepon: String,
    #[serde(default)]
    password: String,
}

pub async fn register(
    State(st): State<AppState>,
    c: Ctx,
    form: Result<Form<RegisterForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return error_page(&c, &Error::new(ErrorCode::CsrfFailed));
    };
    if let Err(e) = c.check_csrf(&form.csrf) {
        return error_page(&c, &e);
    }
    let created = accounts::register_citizen(
        &st,
        &form.nama,
        Some(form.email.as_str()),
        Some(form.telepon.as_str()),
        &form.password,
    )
    .await;
    let user = match created {
        Ok(u) => u,
        Err(e) => {
            let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let msg = super::message(&c, &e);
            return render(
                &c,
                status,
                &RegisterPage {
                    c: &c,
                    name: form.nama,
                    email: form.email,
                    phone: form.telepon,
                    error: Some(msg),
                },
            );
        }
    };
    match accounts::open_token(&st, &user.id, TokenKind::Session).await {
        Ok(session) => with_session(&st, &c, &session, "/akun"),
        Err(e) => error_page(&c, &e),
    }
}

#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    form: Result<Form<CsrfOnly>, axum::extract::rejection::FormRejection>,
) -> Response {
    let sent = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if let Err(e) = c.check_csrf(&sent) {
        return error_page(&c, &e);
    }
    if let Some(tok) = cookie_value(&headers, SESSION_COOKIE)
        && let Err(e) = st.store.delete_token(&token_digest(tok)).await
    {
        return error_page(&c, &e);
    }
    let mut resp = see_other(&c, "/");
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(accounts::CLEAR_SESSION_COOKIE),
    );
    super::signed_out(resp)
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    c: &'a Ctx,
    name: String,
    login: String,
    notify_email: bool,
    notify_sms: bool,
    cards: Vec<Card>,
    saved: bool,
}

/// The signed-in citizen's reporter id and account; `None` sends the
/// caller to the login page.
fn citizen(c: &Ctx) -> Option<(String, &lapor_store::User)> {
    match (&c.caller.principal, c.user()) {
        (Principal::Reporter { reporter_id }, Some(u)) => Some((reporter_id.clone(), u)),
        _ => None,
    }
}

#[derive(serde::Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    tersimpan: String,
}

pub async fn page(
    State(st): State<AppState>,
    c: Ctx,
    q: Result<axum::extract::Query<SavedQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some((reporter_id, user)) = citizen(&c) else {
        return see_other(&c, "/masuk");
    };
    let mine = match st
        .store
        .list_reports(&ReportFilter {
            reporter_id: Some(reporter_id),
            limit: 100,
            ..Default::default()
        })
        .await
    {
        Ok(p) => p.items,
        Err(e) => return error_page(&c, &e),
    };
    let cards = match cards(&st, &c, &mine, ViewLevel::Reporter).await {
        Ok(k) => k,
        Err(e) => return error_page(&c, &e),
    };
    render(
        &c,
        StatusCode::OK,
        &AccountPage {
            c: &c,
            name: user.name.clone(),
            login: user.email.clone().or_else(|| user.phone.clone()).unwrap_or_default(),
            notify_email: user.notify_email,
            notify_sms: user.notify_sms,
            cards,
            saved: q.is_ok_and(|axum::extract::Query(q)| q.tersimpan == "1"),
        },
    )
}

#[derive(serde::Deserialize)]
pub struct PrefsForm {
    #[serde(default)]
    csrf: String,
    email: Option<String>,
    sms: Option<String>,
}

pub async fn prefs(
    State(st): State<AppState>,
    c: Ctx,
    form: Result<Form<PrefsForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return error_page(&c, &Error::new(ErrorCode::CsrfFailed));
    };
    if let Err(e) = c.check_csrf(&form.csrf) {
        return error_page(&c, &e);
    }
    let Some(user_id) = citizen(&c).map(|(_, u)| u.id.clone()) else {
        return see_other(&c, "/masuk");
    };
    match st
        .store
        .set_notification_prefs(&user_id, form.email.is_some(), form.sms.is_some())
        .await
    {
        Ok(()) => see_other(&c, "/akun?tersimpan=1"),
        Err(e) => error_page(&c, &e),
    }
}

/// Everything held about the signed-in citizen, as one JSON document: the
/// account, each report they filed with its events and attachment list.
pub async fn download(State(st): State<AppState>, c: Ctx) -> Response {
    let Some((reporter_id, user)) = citizen(&c) else {
        return see_other(&c, "/masuk");
    };
    match export(&st, &reporter_id, user).await {
        Ok(doc) => {
            let mut resp = axum::Json(doc).into_response();
            resp.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"data-saya-lapor.json\""),
            );
            resp
        }
        Err(e) => error_page(&c, &e),
    }
}

async fn export(st: &AppState, reporter_id: &str, user: &lapor_store::User) -> Result<serde_json::Value, Error> {
    let now = Utc::now();
    let identity = st.store.reporter(reporter_id).await?;
    let mut reports = Vec::new();
    let mut filter = ReportFilter {
        reporter_id: Some(reporter_id.to_string()),
        limit: 500,
        ..Default::default()
    };
    loop {
        let page = st.store.list_reports(&filter).await?;
        for r in &page.items {
            let events = st.store.events(&r.tracking_id).await?;
            let attachments = st.store.attachments(&r.tracking_id).await?;
            reports.push(serde_json::json!({
                "report": report_view(r, ViewLevel::Reporter, Some(&events), now),
                "attachments": attachments,
            }));
        }
        match page.next_cursor {
            Some(c) => filter.cursor = Some(lapor_store::filter::Cursor::decode(&c)?),
            None => break,
        }
    }
    Ok(serde_json::json!({
        "generated_at": now,
        "account": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "phone": user.phone,
            "notify_email": user.notify_email,
            "notify_sms": user.notify_sms,
        },
        "reporter_identity": identity,
        "reports": reports,
    }))
}
