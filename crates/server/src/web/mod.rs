//! The citizen web app: server-rendered pages in Bahasa Indonesia (English
//! on request), which work without JavaScript; `lapor.js` only enhances
//! them (suggestions while typing, cascading selects, the map picker).
//!
//! Every page gets a `Ctx`: language, strings, the signed-in user, and the
//! CSRF token bound to the browser's id cookie. Every POST checks that token.

mod account;
mod assets;
mod csrf;
pub mod i18n;
pub mod names;
mod public;
mod pwa;
pub(crate) mod report_form;
pub(crate) mod staff;
mod statistics;
pub(crate) mod track;

pub use report_form::{geo as report_form_geo, suggest_institution};

use crate::AppState;
use crate::auth::{Caller, SESSION_COOKIE, caller_for_token, cookie_value};
use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use i18n::Msg;
use lapor_domain::authz::Principal;
use lapor_domain::{Error, ErrorCode, Lang};
use lapor_store::{TokenKind, User};

pub const LANG_COOKIE: &str = "lapor_lang";
pub const BROWSER_COOKIE: &str = "lapor_b";

/// The pages, each with who may call it. Reading and acting on a report is
/// decided by `lapor_domain::authz::authorize` inside the service calls, the
/// same rules as the API; every POST also needs this browser's CSRF token.
/// `max_upload` bounds the report form's body (its files).
pub fn routes(max_upload: usize) -> Router<AppState> {
    Router::new()
        // Anyone.
        .route("/", get(public::home))
        // Anyone may file a report: anonymously, signed in as a citizen, or
        // as staff on a citizen's behalf.
        .route(
            "/lapor",
            get(report_form::form)
                .post(report_form::submit)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        // Anyone: public reference data and public reports only.
        .route("/fragmen/wilayah", get(report_form::region_options))
        .route("/fragmen/instansi", get(report_form::institution_options))
        .route("/fragmen/mirip", get(report_form::similar))
        .route("/fragmen/pii", post(report_form::pii_preview))
        .route("/fragmen/lokasi", get(report_form::locate))
        // Anyone may try a PIN (throttled per report); the track page and its
        // actions need a PIN grant, the reporter's account, or staff rights.
        .route("/lacak", get(track::login_form).post(track::login))
        .route("/lacak/{id}", get(track::page))
        .route("/lacak/{id}/tanggapi", post(track::reply))
        .route("/lacak/{id}/nilai", post(track::rate))
        .route("/lacak/{id}/buka-kembali", post(track::reopen))
        .route("/lacak/{id}/ombudsman", post(track::ombudsman))
        // Those who may read the report beyond its public view.
        .route("/lampiran/{id}", get(track::attachment))
        // Anyone; always the public view, confidential reports absent.
        // Anyone: aggregate statistics and their open data.
        .route("/statistik", get(statistics::page))
        .route("/statistik.csv", get(statistics::csv))
        .route("/statistik.json", get(statistics::json))
        .route("/statistik.xlsx", get(statistics::xlsx))
        .route("/laporan", get(public::list))
        .route("/laporan/{id}", get(public::detail))
        .route("/laporan/{id}/dukung", post(public::support))
        // Anyone.
        .route("/masuk", get(account::login_form).post(account::login))
        .route("/daftar", get(account::register_form).post(account::register))
        .route("/keluar", post(account::logout))
        // The signed-in citizen (others are sent to /masuk).
        .route("/akun", get(account::page))
        .route("/akun/pemberitahuan", post(account::prefs))
        .route("/akun/data.json", get(account::download))
        // Anyone.
        .route("/bahasa/{lang}", get(switch_lang))
        .route("/aset/{name}", get(assets::serve))
        // Anyone: the installable apps and their service worker.
        .route("/sw.js", get(assets::service_worker))
        .route("/manifest.webmanifest", get(pwa::citizen_manifest))
        .route("/staf/manifest.webmanifest", get(pwa::staff_manifest))
        .route("/luring", get(pwa::offline))
        .route("/fragmen/csrf", get(pwa::csrf_token))
        .merge(staff::routes(max_upload))
}

/// Everything a page needs to know about the request.
pub struct Ctx {
    pub lang: Lang,
    pub t: &'static Msg,
    pub caller: Caller,
    pub csrf: String,
    /// Path and query of this page, for the language switch to return to.
    pub here: String,
    /// Set when this request had no browser id; the response sets it.
    new_browser_id: Option<String>,
    browser_id: String,
    /// An opaque tag of the signed-in account, sent with every page so the
    /// service worker can drop one user's cached pages when another signs in.
    account_tag: Option<String>,
    pub css: String,
    pub js: String,
    pub tiles: Option<String>,
}

impl Ctx {
    /// The browser's id cookie (one-time form tokens are bound to it).
    pub fn browser(&self) -> &str {
        &self.browser_id
    }
    /// A workspace string in the page's language. Both languages are given
    /// at the call site, so neither can be missing.
    pub fn tr<'s>(&self, id: &'s str, en: &'s str) -> &'s str {
        match self.lang {
            Lang::Id => id,
            Lang::En => en,
        }
    }
    pub fn user(&self) -> Option<&User> {
        self.caller.user.as_ref()
    }
    pub fn is_citizen(&self) -> bool {
        matches!(self.caller.principal, Principal::Reporter { .. })
    }
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Id => "en",
            Lang::En => "id",
        }
    }
    /// The language switch link, returning to this page.
    pub fn lang_href(&self) -> String {
        format!("/bahasa/{}?kembali={}", self.other_lang(), enc(&self.here))
    }
    /// An embedded asset's versioned URL.
    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }
    /// When this page was made, for the "as of" line of a copy read offline.
    pub fn made_at(&self) -> String {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
    /// One support per account, else per browser.
    pub fn supporter_key(&self) -> String {
        match self.user() {
            Some(u) => format!("u:{}", u.id),
            None => format!("b:{}", &crate::auth::token_digest(&self.browser_id)[..32]),
        }
    }
    /// Refuses a POST whose CSRF token does not belong to this browser.
    pub fn check_csrf(&self, sent: &str) -> Result<(), Error> {
        if self.new_browser_id.is_some() || !csrf::same(sent, &self.csrf) {
            return Err(Error::new(ErrorCode::CsrfFailed));
        }
        Ok(())
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let lang = match cookie_value(headers, LANG_COOKIE) {
            Some("en") => Lang::En,
            Some("id") => Lang::Id,
            _ => crate::error::lang_of(headers),
        };
        let caller = match cookie_value(headers, SESSION_COOKIE) {
            Some(tok) => caller_for_token(state, tok, TokenKind::Session, lang)
                .await
                .map_err(|e| plain_error(&e, lang))?,
            None => None,
        }
        .unwrap_or(Caller {
            principal: Principal::Public,
            user: None,
            lang,
        });
        let existing = cookie_value(headers, BROWSER_COOKIE).filter(|b| csrf::valid_browser_id(b));
        let (browser_id, new_browser_id) = match existing {
            Some(b) => (b.to_string(), None),
            None => {
                let b = crate::auth::new_token();
                (b.clone(), Some(b))
            }
        };
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        Ok(Ctx {
            lang,
            t: i18n::msg(lang),
            csrf: csrf::token(&state.pin_key, &browser_id),
            account_tag: caller.user.as_ref().map(|u| csrf::keyed(&state.pin_key, "akun", &u.id)),
            caller,
            here,
            new_browser_id,
            browser_id,
            css: assets::url("lapor.css"),
            js: assets::url("lapor.js"),
            tiles: state.config.tile_url.clone(),
        })
    }
}

/// Renders a page with the headers every HTML answer carries.
pub fn render<T: Template>(ctx: &Ctx, status: StatusCode, tpl: &T) -> Response {
    match tpl.render() {
        Ok(html) => render_html(ctx, status, html),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            plain_error(&Error::internal("template"), ctx.lang)
        }
    }
}

/// A page already rendered to HTML, with the headers every page carries.
pub fn render_html(ctx: &Ctx, status: StatusCode, html: String) -> Response {
    let mut resp = (status, html).into_response();
    finish(ctx, resp.headers_mut());
    resp
}

/// A redirect after a POST (see-other), carrying the page headers.
pub fn see_other(ctx: &Ctx, to: &str) -> Response {
    let mut resp = Redirect::to(to).into_response();
    finish(ctx, resp.headers_mut());
    resp
}

fn finish(ctx: &Ctx, h: &mut HeaderMap) {
    finish_plain(ctx, h);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Cookie, Accept-Language"));
    let img = match ctx.tiles.as_deref().and_then(tile_origin) {
        Some(o) => format!("'self' data: {o}"),
        None => "'self' data:".into(),
    };
    let csp = format!(
        "default-src 'self'; img-src {img}; media-src 'self'; script-src 'self'; style-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// What every answer to a browser carries, whatever its type: the new
/// browser cookie, and which account the answer was made for.
pub(super) fn finish_plain(ctx: &Ctx, h: &mut HeaderMap) {
    if let Some(b) = &ctx.new_browser_id
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{BROWSER_COOKIE}={b}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000"
        ))
    {
        h.append(header::SET_COOKIE, v);
    }
    if let Some(tag) = &ctx.account_tag
        && let Ok(v) = HeaderValue::from_str(tag)
    {
        h.insert(ACCOUNT_HEADER, v);
    }
}

/// The header naming the account a page was made for (`Ctx::account_tag`).
pub const ACCOUNT_HEADER: &str = "x-lapor-akun";

/// Marks a sign-out answer: the browser forgets what it cached over HTTP.
/// The service worker's caches are cleared by the page before it signs out,
/// and by the worker when the next page names no account or another one.
pub fn signed_out(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert("clear-site-data", HeaderValue::from_static("\"cache\""));
    resp
}

/// `https://tile.example.org` from a tile URL template.
fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    (!host.is_empty() && !host.contains('{')).then(|| format!("{scheme}://{host}"))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    c: &'a Ctx,
    title: &'a str,
    message: String,
}

/// An error as a page in the user's language, with the stable code shown
/// so support staff can recognise it.
pub fn error_page(ctx: &Ctx, e: &Error) -> Response {
    if e.code == ErrorCode::Internal {
        tracing::error!(error = %e, "internal error on a page");
    }
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let title = if e.code == ErrorCode::NotFound {
        ctx.t.not_found_title
    } else {
        ctx.t.error_title
    };
    let mut resp = render(
        ctx,
        status,
        &ErrorPage {
            c: ctx,
            title,
            message: page_message(ctx, e),
        },
    );
    crate::throttle::mark_retry(&mut resp, e);
    resp
}

/// An error page for a request no handler has taken yet (a middleware's
/// refusal), in the caller's language and with their session.
pub async fn error_page_for(parts: &mut Parts, st: &AppState, e: &Error) -> Response {
    match Ctx::from_request_parts(parts, st).await {
        Ok(ctx) => error_page(&ctx, e),
        Err(resp) => resp,
    }
}

/// An error page's message: the code's, and the detail where it tells the
/// user what to fix in their own input (never internal details).
fn page_message(c: &Ctx, e: &Error) -> String {
    match e.code {
        ErrorCode::InvalidQuery
        | ErrorCode::ValidationFailed
        | ErrorCode::UnknownCategory
        | ErrorCode::UnknownInstitution
        | ErrorCode::UnknownRegion => message(c, e),
        _ => e.code.message(c.lang).to_string(),
    }
}

/// The half of a bilingual detail ("indonesia / english") in the page's
/// language; details in one language are shown as they are.
fn in_lang(detail: &str, lang: Lang) -> &str {
    match detail.split_once(" / ") {
        Some((id, en)) if !id.contains(" / ") && !en.contains(" / ") => match lang {
            Lang::Id => id,
            Lang::En => en,
        },
        _ => detail,
    }
}

/// An error's message for a form, in the page's language, with the field or
/// value at fault when the error names one (never for internal errors).
pub fn message(c: &Ctx, e: &Error) -> String {
    let base = e.code.message(c.lang);
    match &e.detail {
        Some(d) if e.code != ErrorCode::Internal => format!("{base} ({})", in_lang(d, c.lang)),
        _ => base.to_string(),
    }
}

/// Used before a `Ctx` exists (e.g. the session lookup failed).
fn plain_error(e: &Error, lang: Lang) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{} ({})", e.code.message(lang), e.code.as_str()),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct BackTo {
    kembali: Option<String>,
}

/// Language toggle: remembers the choice in a cookie and returns to the
/// page (only ever to a local path).
async fn switch_lang(
    axum::extract::Path(lang): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<BackTo>,
) -> Response {
    let lang = if lang == "en" { "en" } else { "id" };
    let back = q
        .kembali
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let mut resp = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={lang}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000"
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// Percent-encodes a value for a query string.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
