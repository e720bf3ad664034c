//! `/lacak`: a reporter follows a report with its Tracking ID and PIN (or
//! from their account), answers a follow-up, rates, and may reopen once.
//!
//! A correct PIN earns a signed cookie for that one report, so the PIN is
//! typed once and never travels in a URL.

use super::public::{Step, steps};
use super::{Ctx, error_page, render, see_other};
use crate::AppState;
use crate::auth::{Caller, cookie_value};
use crate::service::{self, ActionRequest};
use crate::views::{ReportView, ViewLevel};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use hmac::{Hmac, Mac};
use lapor_domain::authz::Principal;
use lapor_domain::calendar::Zone;
use lapor_domain::ids::TrackingId;
use lapor_domain::{Error, ErrorCode};
use sha2::Sha256;

pub const GRANT_COOKIE: &str = "lapor_lacak";
const GRANT_HOURS: i64 = 12;

fn grant_mac(key: &[u8], id: &str, exp: i64, pin_hash: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac accepts any key length");
    for part in ["track", id, &exp.to_string(), pin_hash] {
        mac.update(part.as_bytes());
        mac.update(&[0]);
    }
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Whether the request holds a live grant for this report. The grant binds
/// the stored PIN digest, so a changed PIN voids old grants.
async fn has_grant(st: &AppState, headers: &HeaderMap, id: &TrackingId) -> Result<bool, Error> {
    let Some(v) = cookie_value(headers, GRANT_COOKIE) else {
        return Ok(false);
    };
    let mut parts = v.split('~');
    let (Some(gid), Some(exp), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(false);
    };
    let Ok(exp) = exp.parse::<i64>() else {
        return Ok(false);
    };
    if gid != id.as_str() || exp < Utc::now().timestamp() {
        return Ok(false);
    }
    let Some(stored) = st.store.report(id).await? else {
        return Ok(false);
    };
    Ok(super::csrf::same(
        mac,
        &grant_mac(&st.pin_key, gid, exp, &stored.pin_hash),
    ))
}

/// Who is looking at a report on the track page: a PIN holder, or the
/// signed-in caller (its reporter, or staff).
async fn track_caller(st: &AppState, c: &Ctx, headers: &HeaderMap, id: &str) -> Result<Caller, Error> {
    let tid = TrackingId::parse(id).map_err(|_| Error::not_found())?;
    if has_grant(st, headers, &tid).await? {
        return Ok(Caller {
            principal: Principal::PinHolder { tracking_id: tid },
            user: c.caller.user.clone(),
            lang: c.lang,
        });
    }
    Ok(c.caller.clone())
}

#[derive(Template)]
#[template(path = "track_login.html")]
struct LoginPage<'a> {
    c: &'a Ctx,
    id: String,
    error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct IdQuery {
    #[serde(default)]
    id: String,
}

pub async fn login_form(c: Ctx, q: Result<Query<IdQuery>, axum::extract::rejection::QueryRejection>) -> Response {
    let id = q.map(|Query(q)| q.id).unwrap_or_default();
    render(&c, StatusCode::OK, &LoginPage { c: &c, id, error: None })
}

#[derive(serde::Deserialize)]
pub struct TrackForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    pin: String,
}

pub async fn login(
    State(st): State<AppState>,
    c: Ctx,
    form: Result<Form<TrackForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return error_page(&c, &Error::new(ErrorCode::CsrfFailed));
    };
    if let Err(e) = c.check_csrf(&form.csrf) {
        return error_page(&c, &e);
    }
    let public = Caller::public(c.lang);
    let pin = form.pin.trim().to_string();
    // The same path as the API: wrong PINs and unknown IDs look alike and
    // count towards the per-report guessing limit.
    match service::get_report(&st, &public, form.id.trim(), Some(&pin)).await {
        Ok(view) => {
            let Ok(tid) = TrackingId::parse(&view.tracking_id) else {
                return error_page(&c, &Error::not_found());
            };
            let stored = match st.store.report(&tid).await {
                Ok(Some(s)) => s,
                Ok(None) => return error_page(&c, &Error::not_found()),
                Err(e) => return error_page(&c, &e),
            };
            let exp = Utc::now().timestamp() + GRANT_HOURS * 3600;
            let mac = grant_mac(&st.pin_key, tid.as_str(), exp, &stored.pin_hash);
            let mut resp = see_other(&c, &format!("/lacak/{tid}"));
            let cookie = format!(
                "{GRANT_COOKIE}={tid}~{exp}~{mac}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
                GRANT_HOURS * 3600,
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) if e.code == ErrorCode::NotFound => render(
            &c,
            StatusCode::UNPROCESSABLE_ENTITY,
            &LoginPage {
                c: &c,
                id: form.id.trim().to_string(),
                error: Some(c.t.track_failed.to_string()),
            },
        ),
        Err(e) => {
            let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            render(
                &c,
                status,
                &LoginPage {
                    c: &c,
                    id: form.id.trim().to_string(),
                    error: Some(e.code.message(c.lang).to_string()),
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage<'a> {
    c: &'a Ctx,
    r: ReportView,
    steps: Vec<Step>,
    deadline: Option<String>,
    stage: &'static str,
    institution: String,
    /// The view's own list: empty for a public reader, so file names
    /// (which may name people) are not shown to them.
    attachments: Vec<crate::views::AttachmentView>,
    can_reply: bool,
    can_rate: bool,
    can_reopen: bool,
    /// The Ombudsman offer is open and the reporter may accept it.
    can_escalate: bool,
    done: bool,
    error: Option<String>,
}

impl TrackPage<'_> {
    /// "512 B", "37 KB", "2,4 MB" ("2.4 MB" in English).
    fn size_label(&self, bytes: &i64) -> String {
        let b = *bytes;
        if b < 1024 {
            format!("{b} B")
        } else if b < 1024 * 1024 {
            format!("{} KB", (b + 1023) / 1024)
        } else {
            let mb = format!("{:.1} MB", b as f64 / (1024.0 * 1024.0));
            match self.c.lang {
                lapor_domain::Lang::Id => mb.replace('.', ","),
                lapor_domain::Lang::En => mb,
            }
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    ok: String,
}

pub async fn page(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let done = q.is_ok_and(|Query(q)| q.ok == "1");
    track_page(&st, &c, &headers, &id, done, None, StatusCode::OK).await
}

async fn track_page(
    st: &AppState,
    c: &Ctx,
    headers: &HeaderMap,
    id: &str,
    done: bool,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = match track_caller(st, c, headers, id).await {
        Ok(caller) => caller,
        Err(e) => return error_page(c, &e),
    };
    let r = match service::get_report(st, &caller, id, None).await {
        // Someone who may only see the public view belongs on /lacak.
        Ok(r) if r.view == ViewLevel::Public => {
            return see_other(c, &format!("/lacak?id={}", super::enc(id)));
        }
        Ok(r) => r,
        Err(e) if e.code == ErrorCode::NotFound => {
            return see_other(c, &format!("/lacak?id={}", super::enc(id)));
        }
        Err(e) => return error_page(c, &e),
    };
    match build(st, c, r, done, error).await {
        Ok(p) => render(c, status, &p),
        Err(e) => error_page(c, &e),
    }
}

async fn build<'a>(
    st: &AppState,
    c: &'a Ctx,
    mut r: ReportView,
    done: bool,
    error: Option<String>,
) -> Result<TrackPage<'a>, Error> {
    let zone = Zone::parse(&r.zone).unwrap_or(Zone::Wib);
    let steps = steps(st, c, r.events.as_deref().unwrap_or(&[]), zone).await?;
    let attachments = r.attachments.take().unwrap_or_default();
    let institution = st.names.handler(st, r.institution.as_deref(), c.t.not_assigned).await?;
    let deadline = r.due_at.map(|d| super::i18n::deadline_words(d, zone, c.lang));
    let stage = r.stage.as_deref().map(|s| c.t.stage(s)).unwrap_or("");
    let followed_up = r
        .events
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .any(|e| e.kind == "followed_up");
    let status = r.status.as_str();
    Ok(TrackPage {
        can_reply: status == "responded",
        can_rate: followed_up && r.rating.is_none() && matches!(status, "responded" | "completed"),
        can_reopen: status == "completed" && r.reopen_count == 0,
        can_escalate: r.ombudsman.as_deref() == Some("offered")
            && !matches!(status, "completed" | "archived" | "merged"),
        c,
        r,
        steps,
        deadline,
        stage,
        institution,
        attachments,
        done,
        error,
    })
}

#[derive(serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    isi: String,
    #[serde(default)]
    nilai: String,
    #[serde(default)]
    komentar: String,
}

async fn run(
    st: AppState,
    c: Ctx,
    headers: HeaderMap,
    id: String,
    form: Result<Form<ActionForm>, axum::extract::rejection::FormRejection>,
    make: impl FnOnce(&ActionForm) -> Result<ActionRequest, Error>,
) -> Response {
    let Ok(Form(form)) = form else {
        return error_page(&c, &Error::with(ErrorCode::ValidationFailed, "form"));
    };
    if let Err(e) = c.check_csrf(&form.csrf) {
        return error_page(&c, &e);
    }
    let caller = match track_caller(&st, &c, &headers, &id).await {
        Ok(caller) => caller,
        Err(e) => return error_page(&c, &e),
    };
    let result = match make(&form) {
        Ok(req) => service::act(&st, &caller, &id, None, req, None).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => see_other(&c, &format!("/lacak/{}?ok=1", super::enc(&id))),
        Err(e) if matches!(e.code, ErrorCode::NotFound | ErrorCode::Internal) => error_page(&c, &e),
        Err(e) => {
            let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = super::message(&c, &e);
            track_page(&st, &c, &headers, &id, false, Some(msg), status).await
        }
    }
}

pub async fn reply(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    run(st, c, headers, id, form, |f| {
        Ok(ActionRequest::Reply { body: f.isi.clone() })
    })
    .await
}

pub async fn rate(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    run(st, c, headers, id, form, |f| {
        let rating = f
            .nilai
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|n| (1..=5).contains(n))
            .ok_or_else(|| Error::validation("nilai: 1–5"))?;
        Ok(ActionRequest::Rate {
            rating,
            comment: Some(f.komentar.trim().to_string()).filter(|s| !s.is_empty()),
        })
    })
    .await
}

pub async fn reopen(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    run(st, c, headers, id, form, |f| {
        Ok(ActionRequest::Reopen { reason: f.isi.clone() })
    })
    .await
}

/// The reporter accepts the offer to take the report to the Ombudsman.
pub async fn ombudsman(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    run(st, c, headers, id, form, |f| {
        Ok(ActionRequest::EscalateToOmbudsman {
            note: Some(f.isi.clone()).filter(|n| !n.trim().is_empty()),
        })
    })
    .await
}

/// An attachment, for those who may read the report beyond its public view
/// (the reporter and staff). Served as a download with its sniffed type.
pub async fn attachment(State(st): State<AppState>, c: Ctx, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (meta, data) = match st.store.attachment(&id).await {
        Ok(Some(a)) => a,
        Ok(None) => return error_page(&c, &Error::not_found()),
        Err(e) => return error_page(&c, &e),
    };
    let caller = match track_caller(&st, &c, &headers, &meta.tracking_id).await {
        Ok(caller) => caller,
        Err(e) => return error_page(&c, &e),
    };
    if let Err(e) = service::may_read_files(&st, &caller, &meta.tracking_id, None).await {
        return error_page(&c, &e);
    }
    download(&meta, data)
}

/// A report's file as a download: its sniffed type, its name, and a
/// sandbox so that nothing in it can run as this site.
pub(crate) fn download(meta: &lapor_store::AttachmentMeta, data: Vec<u8>) -> Response {
    let mime = lapor_domain::media::MediaType::parse(&meta.media_type)
        .map(|m| m.mime())
        .unwrap_or("application/octet-stream");
    let mut resp = (StatusCode::OK, data).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{}", super::enc(&meta.filename))) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    resp
}
