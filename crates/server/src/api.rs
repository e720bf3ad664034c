//! `/api/v1`: JSON over HTTP. Every route states who may call it in its doc
//! comment; the rules themselves live in `lapor_domain::authz`.

use crate::AppState;
use crate::accounts;
use crate::auth::{Caller, request_tokens, token_digest};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Query};
use crate::service::{self, ActionRequest, SubmitReport, SubmitResult};
use crate::views::{ReportView, ViewLevel, report_view};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use lapor_domain::authz::{Action, Principal, Target, authorize};
use lapor_domain::institution::{Institution, InstitutionKind};
use lapor_domain::report::{ArchiveReason, Classification, Status};
use lapor_domain::{Error, ErrorCode};
use lapor_store::filter::Cursor;
use lapor_store::ts::Ts;
use lapor_store::{Category, InstitutionQuery, Region, RegionQuery, ReportFilter, TokenKind, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `max_upload` bounds a report filed with its files (multipart).
pub fn routes(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/register", post(register))
        .route("/me", get(me))
        .route(
            "/reports",
            post(create_report)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload))
                .get(list_reports),
        )
        .route("/reports/{id}", get(get_report))
        .route("/attachments/{id}", get(get_attachment))
        .route("/reports/{id}/reporter", get(get_reporter))
        .route("/reports/{id}/disposition", post(disposition))
        .route("/reports/{id}/hold", post(hold))
        .route("/reports/{id}/resume", post(resume))
        .route("/reports/{id}/accept", post(accept))
        .route("/reports/{id}/disposition-unit", post(disposition_unit))
        .route("/reports/{id}/transfer", post(transfer))
        .route("/reports/{id}/follow-up", post(follow_up))
        .route("/reports/{id}/reply", post(reply))
        .route("/reports/{id}/rate", post(rate))
        .route("/reports/{id}/ombudsman", post(ombudsman))
        .route("/reports/{id}/complete", post(complete))
        .route("/reports/{id}/archive", post(archive))
        .route("/reports/{id}/merge", post(merge))
        .route("/reports/{id}/reopen", post(reopen))
        .route("/institutions", get(list_institutions))
        .route("/institutions/{code}", get(get_institution))
        .route("/regions", get(list_regions))
        .route("/regions/{code}", get(get_region))
        .route("/categories", get(list_categories))
}

type ApiResult<T> = Result<T, ApiError>;

fn pin_header(h: &HeaderMap) -> Option<&str> {
    h.get("x-lapor-pin").and_then(|v| v.to_str().ok())
}

// ---------------------------------------------------------------- accounts

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// E-mail address or phone number.
    #[schema(example = "admin.nasional@lapor.demo")]
    pub login: String,
    pub password: String,
    /// Six-digit code from the authenticator app, or a recovery code. Required
    /// for accounts with a second factor (all national and institution admins).
    pub otp: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub user: User,
}

/// Log in (staff or citizen). Anyone may call. Sets the session cookie for
/// the web UI and returns a bearer token for the API.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn login(State(st): State<AppState>, caller: Caller, Json(req): Json<LoginRequest>) -> ApiResult<Response> {
    use crate::staff_auth::{SignIn, check_second_factor, sign_in};
    let user = match sign_in(&st, &req.login, &req.password)
        .await
        .map_err(|e| caller.err(e))?
    {
        SignIn::Done(user) => user,
        SignIn::SecondFactor { user, pending } => {
            let _ = st.store.delete_token(&crate::auth::token_digest(&pending)).await;
            let Some(otp) = req.otp.as_deref() else {
                return Err(caller.err(Error::with(ErrorCode::InvalidSecondFactor, "otp")));
            };
            check_second_factor(&st, &user, otp).await.map_err(|e| caller.err(e))?;
            user
        }
        SignIn::MustEnroll { pending, .. } => {
            let _ = st.store.delete_token(&crate::auth::token_digest(&pending)).await;
            return Err(caller.err(Error::with(
                ErrorCode::InvalidSecondFactor,
                "aktifkan verifikasi dua langkah di /staf/masuk dahulu / enrol a second factor at /staf/masuk first",
            )));
        }
    };
    let now = Utc::now();
    let expires_at = now + st.config.token_ttl;
    let bearer = accounts::open_token(&st, &user.id, TokenKind::Bearer)
        .await
        .map_err(|e| caller.err(e))?;
    let session = accounts::open_token(&st, &user.id, TokenKind::Session)
        .await
        .map_err(|e| caller.err(e))?;
    let mut resp = axum::Json(LoginResponse {
        token: bearer,
        expires_at,
        user,
    })
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&accounts::session_cookie(&st, &session)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// Log out: revokes the token or session used for this request. Any
/// authenticated caller.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(st): State<AppState>, caller: Caller, headers: HeaderMap) -> ApiResult<Response> {
    if caller.user.is_none() {
        return Err(caller.err(Error::new(ErrorCode::Unauthenticated)));
    }
    let (bearer, cookie) = request_tokens(&headers);
    for tok in bearer.into_iter().chain(cookie) {
        st.store
            .delete_token(&token_digest(tok))
            .await
            .map_err(|e| caller.err(e))?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(accounts::CLEAR_SESSION_COOKIE),
    );
    Ok(resp)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// At least 10 characters.
    pub password: String,
}

/// Create a citizen account (optional: reports can be filed without one).
/// Anyone may call.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register(State(st): State<AppState>, caller: Caller, Json(req): Json<RegisterRequest>) -> ApiResult<Response> {
    let user = accounts::register_citizen(
        &st,
        &req.name,
        req.email.as_deref(),
        req.phone.as_deref(),
        &req.password,
    )
    .await
    .map_err(|e| caller.err(e))?;
    Ok((StatusCode::CREATED, axum::Json(user)).into_response())
}

/// The logged-in user with their memberships. Any authenticated caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Object), (status = 401, body = ErrorBody)))]
async fn me(caller: Caller) -> ApiResult<axum::Json<User>> {
    caller
        .user
        .clone()
        .map(axum::Json)
        .ok_or_else(|| caller.err(Error::new(ErrorCode::Unauthenticated)))
}

// ----------------------------------------------------------------- reports

/// File a report. Anyone may call: without an account (answer carries the
/// Tracking ID and PIN), as a citizen, or as staff entering a report on a
/// citizen's behalf. An `Idempotency-Key` header makes retries safe.
///
/// With files, send `multipart/form-data`: a part `report` holding the same
/// JSON, and up to 5 parts `attachments` (JPEG, PNG, WebP, GIF, PDF, MP4 or
/// WebM, 10 MiB each; the type is sniffed from the bytes, and photo
/// metadata such as GPS is removed).
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports",
    request_body(content(
        (SubmitReport = "application/json"),
        (SubmitWithFiles = "multipart/form-data"),
    )),
    params(("Idempotency-Key" = Option<String>, Header, description = "Unguessable client key; a retry with the same key returns the same report and PIN")),
    responses((status = 201, body = SubmitResult), (status = 200, description = "Repeated Idempotency-Key", body = SubmitResult),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_report(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> ApiResult<Response> {
    let key = headers.get("idempotency-key").map(|v| v.to_str().map(str::to_string));
    let key = match key {
        Some(Ok(k)) => Some(k),
        Some(Err(_)) => return Err(caller.err(Error::validation("Idempotency-Key"))),
        None => None,
    };
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let (req, attachments) = if multipart {
        read_report_with_files(&st, request).await.map_err(|e| caller.err(e))?
    } else {
        use axum::extract::FromRequest;
        let Json(req) = Json::<SubmitReport>::from_request(request, &st).await?;
        (req, Vec::new())
    };
    let intake = service::Intake {
        attachments,
        ..service::Intake::api(key)
    };
    let res = service::submit_report(&st, &caller, req, intake)
        .await
        .map_err(|e| caller.err(e))?;
    let status = if res.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(res)).into_response())
}

/// The multipart form of a report with its files.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request body in the OpenAPI document only
struct SubmitWithFiles {
    /// The report, as the JSON body would be.
    report: SubmitReport,
    /// Up to 5 files.
    #[schema(value_type = Vec<String>, format = Binary)]
    attachments: Vec<Vec<u8>>,
}

async fn read_report_with_files(
    st: &AppState,
    request: axum::extract::Request,
) -> Result<(SubmitReport, Vec<lapor_store::NewAttachment>), Error> {
    use axum::extract::FromRequest;
    let mp = axum::extract::Multipart::from_request(request, st)
        .await
        .map_err(|e| Error::with(ErrorCode::ValidationFailed, e.body_text()))?;
    let parts = crate::uploads::read_multipart(mp, "attachments").await;
    if let Some(e) = parts.errors.into_iter().next() {
        return Err(e);
    }
    let json = parts
        .text
        .iter()
        .find(|(name, _)| name == "report")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| Error::validation("report: the part holding the report's JSON is missing"))?;
    let req: SubmitReport = serde_json::from_str(json).map_err(|e| {
        if e.is_data() {
            Error::validation(format!("report: {e}"))
        } else {
            Error::with(ErrorCode::InvalidJson, format!("report: {e}"))
        }
    })?;
    let mut errors = Vec::new();
    let files = crate::uploads::clean_uploads(parts.uploads, &mut errors);
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok((req, files)),
    }
}

/// One file of a report, for whoever reads the report beyond its public
/// view: the reporter (account, or `X-Lapor-Pin`) and the staff it concerns.
/// Anything else is 404. Served as a download with its sniffed type.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "reports",
    params(("id" = String, Path, description = "Attachment id, from the report's `attachments`"), ("X-Lapor-Pin" = Option<String>, Header, description = "Report PIN")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn get_attachment(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (meta, data) = service::read_attachment(&st, &caller, &id, pin_header(&headers))
        .await
        .map_err(|e| caller.err(e))?;
    Ok(crate::web::track::download(&meta, data))
}

/// Read a report. The public sees published reports with personal data
/// masked; the reporter (account, or `X-Lapor-Pin`) sees their own; staff
/// see what their role covers. Anything else, including a wrong PIN, is 404.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = String, Path, description = "Tracking ID"), ("X-Lapor-Pin" = Option<String>, Header, description = "Report PIN")),
    responses((status = 200, body = ReportView), (status = 404, body = ErrorBody), (status = 429, description = "Too many wrong PINs for this Tracking ID", body = ErrorBody)))]
async fn get_report(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<ReportView>> {
    service::get_report(&st, &caller, &id, pin_header(&headers))
        .await
        .map(axum::Json)
        .map_err(|e| caller.err(e))
}

/// The reporter's identity. The reporter themself; the national admin (each
/// read of an anonymous reporter is audited); the handling institution's
/// staff only when the report is not anonymous.
#[utoipa::path(get, path = "/api/v1/reports/{id}/reporter", tag = "reports",
    params(("id" = String, Path, description = "Tracking ID"), ("X-Lapor-Pin" = Option<String>, Header, description = "Report PIN")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, description = "Too many wrong PINs for this Tracking ID", body = ErrorBody)))]
async fn get_reporter(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let r = service::get_reporter(&st, &caller, &id, pin_header(&headers))
        .await
        .map_err(|e| caller.err(e))?;
    Ok(axum::Json(serde_json::json!({ "reporter": r })).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Comma-separated statuses.
    pub status: Option<String>,
    /// Institution code; includes everything below it.
    pub institution: Option<String>,
    pub classification: Option<Classification>,
    pub category: Option<String>,
    /// Region code; includes every region below it.
    pub region: Option<String>,
    /// Submitted on or after this date (YYYY-MM-DD, UTC).
    pub from: Option<NaiveDate>,
    /// Submitted before this date (YYYY-MM-DD, UTC).
    pub to: Option<NaiveDate>,
    /// Only reports past their running deadline.
    pub overdue: Option<bool>,
    /// Only the caller's own reports (citizen accounts).
    pub mine: Option<bool>,
    /// Full-text search in title and body, Indonesian-stemmed; every word
    /// must match ("perbaikan jalan" finds "jalan rusak diperbaiki").
    #[param(example = "perbaikan jalan")]
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportList {
    pub items: Vec<ReportView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// List reports. The public and citizens see published reports (citizens
/// also their own with `mine=true`); staff see the reports within their
/// institutions' subtrees; national admin, oversight and auditors see all.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(ListParams),
    responses((status = 200, body = ReportList), (status = 400, body = ErrorBody)))]
async fn list_reports(
    State(st): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<axum::Json<ReportList>> {
    let e = |err: Error| caller.err(err);
    let mut f = ReportFilter {
        limit: p.limit.unwrap_or(20),
        ..Default::default()
    };
    if !(1..=100).contains(&f.limit) {
        return Err(e(Error::with(ErrorCode::InvalidQuery, "limit: 1-100")));
    }
    if let Some(q) = &p.q {
        if q.len() > 200 {
            return Err(e(Error::with(ErrorCode::InvalidQuery, "q: at most 200 bytes")));
        }
        f.terms = lapor_domain::search::query_terms(q);
    }
    if let Some(s) = &p.status {
        for part in s.split(',').filter(|x| !x.is_empty()) {
            f.statuses.push(
                Status::parse(part.trim())
                    .ok_or_else(|| e(Error::with(ErrorCode::InvalidQuery, format!("status: {part}"))))?,
            );
        }
    }
    if let Some(code) = &p.institution {
        if st.store.institution(code).await.map_err(e)?.is_none() {
            return Err(e(Error::with(ErrorCode::UnknownInstitution, code.clone())));
        }
        f.institution_subtree = Some(code.clone());
    }
    if let Some(r) = &p.region {
        if st.store.region(r).await.map_err(e)?.is_none() {
            return Err(e(Error::with(ErrorCode::UnknownRegion, r.clone())));
        }
        f.region = Some(r.clone());
    }
    f.classification = p.classification;
    f.category = p.category.clone();
    let day = |d: NaiveDate| Ts::new(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    f.submitted_from = p.from.map(day);
    f.submitted_before = p.to.map(day);
    if let (Some(a), Some(b)) = (p.from, p.to)
        && b < a
    {
        return Err(e(Error::with(ErrorCode::InvalidQuery, "to < from")));
    }
    if p.overdue == Some(true) {
        f.overdue_at = Some(Ts::now());
    }
    if let Some(c) = &p.cursor {
        f.cursor = Some(Cursor::decode(c).map_err(e)?);
    }
    let level = match &caller.principal {
        Principal::Staff { memberships, .. } => {
            if !authorize(&caller.principal, Action::ListReports, &Target::System) {
                f.scope = Some(memberships.iter().map(|m| m.institution.clone()).collect());
            }
            ViewLevel::Staff
        }
        Principal::Reporter { reporter_id } if p.mine == Some(true) => {
            f.reporter_id = Some(reporter_id.clone());
            ViewLevel::Reporter
        }
        _ => {
            if p.mine == Some(true) {
                return Err(e(Error::new(ErrorCode::Unauthenticated)));
            }
            f.public_only = true;
            ViewLevel::Public
        }
    };
    let page = st.store.list_reports(&f).await.map_err(e)?;
    let now = Utc::now();
    Ok(axum::Json(ReportList {
        items: page.items.iter().map(|r| report_view(r, level, None, now)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Generates one documented POST endpoint per lifecycle action.
macro_rules! action_endpoint {
    ($fn:ident, $path:literal, $body:ident { $($field:ident : $ty:ty),* $(,)? }, $who:literal, |$b:ident| $req:expr) => {
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $body {
            $(pub $field: $ty,)*
            /// The report version the caller last saw; a mismatch is 409 `stale_version`.
            pub version: Option<i64>,
        }

        #[doc = $who]
        #[utoipa::path(post, path = $path, tag = "lifecycle", request_body = $body,
            params(("id" = String, Path, description = "Tracking ID"), ("X-Lapor-Pin" = Option<String>, Header, description = "Report PIN (reporter actions)")),
            responses((status = 200, body = ReportView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, description = "Too many wrong PINs for this Tracking ID", body = ErrorBody),
                (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
        async fn $fn(State(st): State<AppState>, caller: Caller, Path(id): Path<String>, headers: HeaderMap, Json($b): Json<$body>) -> ApiResult<axum::Json<ReportView>> {
            let version = $b.version;
            let req = $req;
            service::act(&st, &caller, &id, pin_header(&headers), req, version).await.map(axum::Json).map_err(|e| caller.err(e))
        }
    };
}

action_endpoint!(disposition, "/api/v1/reports/{id}/disposition",
    DispositionBody { institution: String, classification: Option<Classification>, needs_investigation: Option<bool>, category: Option<String>, note: Option<String> },
    "Verify and forward to the competent institution (3 working days from submission). National admin.",
    |b| ActionRequest::Disposition { institution: b.institution, classification: b.classification, needs_investigation: b.needs_investigation, category: b.category, note: b.note });
action_endpoint!(
    hold,
    "/api/v1/reports/{id}/hold",
    HoldBody { message: String },
    "Put on hold until the reporter completes the report; the clock pauses. National admin; the assigned institution's admin.",
    |b| ActionRequest::Hold { message: b.message }
);
action_endpoint!(resume, "/api/v1/reports/{id}/resume", ResumeBody { note: Option<String> },
    "Resume after the reporter completed the report; the deadline moves by the time on hold. The reporter; national admin; the assigned institution's admin.",
    |b| ActionRequest::Resume { note: b.note });
action_endpoint!(accept, "/api/v1/reports/{id}/accept", AcceptBody { note: Option<String> },
    "Accept a dispositioned report; the follow-up clock starts. The assigned institution's admin.",
    |b| ActionRequest::Accept { note: b.note });
action_endpoint!(disposition_unit, "/api/v1/reports/{id}/disposition-unit", DispositionUnitBody { unit: String, note: Option<String> },
    "Pass the report to a unit of the institution. The assigned institution's admin; the handling unit's admin (to a sub-unit).",
    |b| ActionRequest::DispositionUnit { unit: b.unit, note: b.note });
action_endpoint!(
    transfer,
    "/api/v1/reports/{id}/transfer",
    TransferBody {
        institution: String,
        reason: String
    },
    "Not our authority (bukan wewenang): send to another institution with a reason. The assigned institution's admin; national admin.",
    |b| ActionRequest::Transfer {
        institution: b.institution,
        reason: b.reason
    }
);
action_endpoint!(
    follow_up,
    "/api/v1/reports/{id}/follow-up",
    FollowUpBody { body: String },
    "Answer the reporter (tindak lanjut). The assigned institution's admin or liaison; the handling unit's admin or liaison.",
    |b| ActionRequest::FollowUp {
        body: b.body,
        note: None
    }
);
action_endpoint!(
    reply,
    "/api/v1/reports/{id}/reply",
    ReplyBody { body: String },
    "The reporter answers a follow-up. The reporter (account or PIN).",
    |b| ActionRequest::Reply { body: b.body }
);
action_endpoint!(
    ombudsman,
    "/api/v1/reports/{id}/ombudsman",
    OmbudsmanBody { note: Option<String> },
    "Consent to escalating an unresolved report to the Ombudsman, once Lapor offered it (60 days unresolved). The reporter (account or PIN).",
    |b| ActionRequest::EscalateToOmbudsman { note: b.note }
);
action_endpoint!(rate, "/api/v1/reports/{id}/rate", RateBody { rating: u8, comment: Option<String> },
    "Rate the answer 1-5; rating a responded report completes it. The reporter (account or PIN).",
    |b| ActionRequest::Rate { rating: b.rating, comment: b.comment });
action_endpoint!(complete, "/api/v1/reports/{id}/complete", CompleteBody { note: Option<String> },
    "Mark a responded report complete. The reporter; the assigned institution's admin; national admin.",
    |b| ActionRequest::Complete { note: b.note });
action_endpoint!(archive, "/api/v1/reports/{id}/archive", ArchiveBody { reason: ArchiveReason, note: Option<String> },
    "Archive a report that cannot be processed, with a reason code. National admin.",
    |b| ActionRequest::Archive { reason: b.reason, note: b.note });
action_endpoint!(
    merge,
    "/api/v1/reports/{id}/merge",
    MergeBody { into: String },
    "Merge a duplicate into another report. National admin.",
    |b| ActionRequest::Merge { into: b.into }
);
action_endpoint!(
    reopen,
    "/api/v1/reports/{id}/reopen",
    ReopenBody { reason: String },
    "Reopen a completed report, once, within 10 working days. The reporter; national admin.",
    |b| ActionRequest::Reopen { reason: b.reason }
);

// ------------------------------------------------------- reference data

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InstitutionParams {
    /// Direct children of this code; empty for the roots.
    pub parent: Option<String>,
    pub kind: Option<String>,
    /// Part of the name or code.
    pub q: Option<String>,
    pub region: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionView {
    pub code: String,
    pub name: String,
    #[schema(example = "city")]
    pub kind: String,
    pub parent: Option<String>,
    pub region_code: Option<String>,
    #[schema(example = "WIB")]
    pub zone: String,
}

impl From<Institution> for InstitutionView {
    fn from(i: Institution) -> Self {
        InstitutionView {
            code: i.code,
            name: i.name,
            kind: i.kind.as_str().into(),
            parent: i.parent,
            region_code: i.region_code,
            zone: i.zone.as_str().into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionDetail {
    #[serde(flatten)]
    pub institution: InstitutionView,
    /// Codes from the national operator down to this institution.
    pub path: Vec<String>,
    pub children: Vec<InstitutionView>,
}

/// Browse and search the institution tree. Anyone may call.
#[utoipa::path(get, path = "/api/v1/institutions", tag = "reference", params(InstitutionParams),
    responses((status = 200, body = Vec<InstitutionView>), (status = 400, body = ErrorBody)))]
async fn list_institutions(
    State(st): State<AppState>,
    caller: Caller,
    Query(p): Query<InstitutionParams>,
) -> ApiResult<axum::Json<Vec<InstitutionView>>> {
    let kind = match &p.kind {
        Some(k) => Some(
            InstitutionKind::parse(k)
                .ok_or_else(|| caller.err(Error::with(ErrorCode::InvalidQuery, format!("kind: {k}"))))?,
        ),
        None => None,
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(caller.err(Error::with(ErrorCode::InvalidQuery, "limit: 1-1000")));
    }
    let q = InstitutionQuery {
        parent: p.parent,
        kind,
        name_contains: p.q,
        region_code: p.region,
        limit,
    };
    let rows = st.store.institutions(&q).await.map_err(|e| caller.err(e))?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// One institution with its path and children. Anyone may call.
#[utoipa::path(get, path = "/api/v1/institutions/{code}", tag = "reference", params(("code" = String, Path)),
    responses((status = 200, body = InstitutionDetail), (status = 404, body = ErrorBody)))]
async fn get_institution(
    State(st): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<axum::Json<InstitutionDetail>> {
    let e = |err: Error| caller.err(err);
    let inst = st
        .store
        .institution(&code)
        .await
        .map_err(e)?
        .ok_or_else(|| e(Error::not_found()))?;
    let path = st.store.institution_path(&code).await.map_err(e)?;
    let children = st
        .store
        .institutions(&InstitutionQuery {
            parent: Some(code),
            limit: 1000,
            ..Default::default()
        })
        .await
        .map_err(e)?;
    Ok(axum::Json(InstitutionDetail {
        institution: inst.into(),
        path,
        children: children.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RegionParams {
    /// Direct children of this region code.
    pub parent: Option<String>,
    /// 1 province, 2 regency/city, 3 district, 4 village.
    pub level: Option<i64>,
    /// Part of the name.
    pub q: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionView {
    #[schema(example = "32.73")]
    pub code: String,
    pub level: i64,
    pub parent_code: Option<String>,
    pub name: String,
    pub postal_code: Option<String>,
}

impl From<Region> for RegionView {
    fn from(r: Region) -> Self {
        RegionView {
            code: r.code,
            level: r.level,
            parent_code: r.parent_code,
            name: r.name,
            postal_code: r.postal_code,
        }
    }
}

/// Browse regions (province → regency/city → district → village). Anyone.
#[utoipa::path(get, path = "/api/v1/regions", tag = "reference", params(RegionParams),
    responses((status = 200, body = Vec<RegionView>), (status = 400, body = ErrorBody)))]
async fn list_regions(
    State(st): State<AppState>,
    caller: Caller,
    Query(p): Query<RegionParams>,
) -> ApiResult<axum::Json<Vec<RegionView>>> {
    if p.level.is_some_and(|l| !(1..=4).contains(&l)) {
        return Err(caller.err(Error::with(ErrorCode::InvalidQuery, "level: 1-4")));
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(caller.err(Error::with(ErrorCode::InvalidQuery, "limit: 1-1000")));
    }
    let parent_or_roots = match (&p.parent, p.level, &p.q) {
        (None, None, None) => (None, Some(1)),
        _ => (p.parent.clone(), p.level),
    };
    let rows = st
        .store
        .regions(&RegionQuery {
            parent: parent_or_roots.0,
            level: parent_or_roots.1,
            name_contains: p.q,
            limit,
        })
        .await
        .map_err(|e| caller.err(e))?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// One region. Anyone may call.
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "reference", params(("code" = String, Path)),
    responses((status = 200, body = RegionView), (status = 404, body = ErrorBody)))]
async fn get_region(
    State(st): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<axum::Json<RegionView>> {
    let r = st
        .store
        .region(&code)
        .await
        .map_err(|e| caller.err(e))?
        .ok_or_else(|| caller.err(Error::not_found()))?;
    Ok(axum::Json(r.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub code: String,
    pub name_id: String,
    pub name_en: String,
}

/// Report categories configured for this deployment. Anyone may call.
#[utoipa::path(get, path = "/api/v1/categories", tag = "reference", responses((status = 200, body = Vec<CategoryView>)))]
async fn list_categories(State(st): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Vec<CategoryView>>> {
    let rows: Vec<Category> = st.store.categories().await.map_err(|e| caller.err(e))?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|c| CategoryView {
                code: c.code,
                name_id: c.name_id,
                name_en: c.name_en,
            })
            .collect(),
    ))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Lapor API", description = "SP4N-LAPOR! complaint handling: submit, track and process public-service reports.", version = "1"),
    paths(login, logout, register, me, create_report, get_report, get_attachment, get_reporter, list_reports,
        disposition, hold, resume, accept, disposition_unit, transfer, follow_up, reply, rate, ombudsman, complete, archive, merge, reopen,
        list_institutions, get_institution, list_regions, get_region, list_categories,
        crate::push::key, crate::push::subscribe, crate::push::list, crate::push::revoke),
    components(schemas(ErrorBody, ReportView, SubmitResult)),
    tags((name = "reports", description = "Filing and reading reports"), (name = "lifecycle", description = "One endpoint per lifecycle action"),
        (name = "reference", description = "Institutions, regions, categories"), (name = "auth", description = "Accounts and sessions"),
        (name = "push", description = "Web Push notifications for signed-in accounts")),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
