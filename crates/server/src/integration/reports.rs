//! Reports through the integration API: a connected system pushes what it
//! received locally, pulls what was dispositioned to it, answers, changes
//! status and transfers, and reads the changes feed.
//!
//! Every write can carry the system's own id (`external_id`): a resend is
//! answered with what the first one did, never applied twice.

use super::access::Client;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Query};
use crate::service::{self, ActionRequest, Intake, SubmitReport};
use crate::views::{ReportView, ViewLevel, report_view};
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use lapor_domain::report::{Channel, Classification, Status};
use lapor_domain::{Error, ErrorCode};
use lapor_integration::client::Scope;
use lapor_integration::feed::{Change, Cursor};
use lapor_store::filter::Cursor as PageCursor;
use lapor_store::{FeedPosition, MODE_CONNECTED, NewAttachment, ReportFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<T, ApiError>;

fn check_external_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || id.len() > 100 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::validation("external_id: 1-100 visible ASCII characters"));
    }
    Ok(())
}

async fn require_connected(st: &AppState, client: &Client) -> ApiResult<()> {
    let mode = st
        .store
        .integration_mode(client.institution())
        .await
        .map_err(|e| client.err(e))?;
    if mode.as_deref() == Some(MODE_CONNECTED) {
        Ok(())
    } else {
        Err(client.err(Error::new(ErrorCode::NotConnected)))
    }
}

/// A report the connected system received itself.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushReport {
    /// Your system's id for the report. Pushing the same id again returns
    /// the report filed the first time.
    #[schema(example = "SIMPEL-2026-000123")]
    pub external_id: String,
    pub classification: Classification,
    #[serde(default)]
    pub needs_investigation: bool,
    pub category: Option<String>,
    pub title: String,
    pub body: String,
    pub incident_date: Option<NaiveDate>,
    pub region_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[serde(default)]
    pub anonymous: bool,
    #[serde(default)]
    pub confidential: bool,
    /// How the reporter reached your system (default `federation`).
    pub channel: Option<Channel>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushResult {
    pub tracking_id: String,
    pub external_id: String,
    /// True when this external_id was pushed before.
    pub duplicate: bool,
    pub report: ReportView,
}

/// Push a report your system received, so the centre sees it. It is filed
/// with your institution and accepted at once; the reporter stays with your
/// system (no identity is sent or kept). JSON, or `multipart/form-data` with
/// the JSON as a `report` part and up to five `file` parts (photos, PDF,
/// video; sniffed, cleaned of metadata). Clients with `reports:write` of a
/// connected institution.
#[utoipa::path(post, path = "/api/v1/integration/reports", tag = "integration", request_body = PushReport,
    security(("bearer" = [])),
    responses((status = 201, body = PushResult), (status = 200, description = "Pushed before: the same report", body = PushResult),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn push(State(st): State<AppState>, client: Client, req: Request) -> ApiResult<Response> {
    client.require(Scope::ReportsWrite)?;
    let (p, files) = if is_multipart(&req) {
        let mp = Multipart::from_request(req, &st)
            .await
            .map_err(|_| client.err(Error::new(ErrorCode::MalformedBody)))?;
        read_push(mp).await.map_err(|e| client.err(e))?
    } else {
        let Json(p) = Json::<PushReport>::from_request(req, &st).await?;
        (p, Vec::new())
    };
    require_connected(&st, &client).await?;
    check_external_id(&p.external_id).map_err(|e| client.err(e))?;
    let institution = client.institution().to_string();
    let req = SubmitReport {
        classification: p.classification,
        needs_investigation: p.needs_investigation,
        category: p.category,
        title: p.title,
        body: p.body,
        incident_date: p.incident_date,
        region_code: p.region_code,
        latitude: p.latitude,
        longitude: p.longitude,
        anonymous: p.anonymous,
        confidential: p.confidential,
        institution: Some(institution.clone()),
        reporter: None,
        channel: Some(p.channel.unwrap_or(Channel::Federation)),
    };
    let intake = Intake {
        idempotency_key: Some(format!("ext:{institution}:{}", p.external_id)),
        attachments: files,
        via: Channel::Federation,
        for_reporter: None,
    };
    let res = service::submit_report(&st, &client.caller, req, intake)
        .await
        .map_err(|e| client.err(e))?;
    // Bring it to the institution. Each step looks at the status first, so
    // a resend after a crash between steps finishes the job.
    let id = res.tracking_id.clone();
    let tid = lapor_domain::ids::TrackingId::parse(&id).map_err(|e| client.err(e))?;
    for _ in 0..3 {
        let report = st
            .store
            .report(&tid)
            .await
            .map_err(|e| client.err(e))?
            .map(|s| s.report);
        let step = match report
            .as_ref()
            .map(|r| (r.status, r.institution.as_deref() == Some(institution.as_str())))
        {
            Some((Status::Submitted, _)) => Some((
                Caller::system(client.caller.lang),
                ActionRequest::Disposition {
                    institution: institution.clone(),
                    classification: None,
                    needs_investigation: None,
                    category: None,
                    note: None,
                },
            )),
            Some((Status::Dispositioned, true)) => Some((client.caller.clone(), ActionRequest::Accept { note: None })),
            _ => None,
        };
        let Some((who, action)) = step else {
            break;
        };
        match service::act(&st, &who, &id, None, action, None).await {
            Ok(_) => {}
            Err(e) if matches!(e.code, ErrorCode::StaleVersion | ErrorCode::TransitionNotAllowed) => {}
            Err(e) => return Err(client.err(e)),
        }
    }
    let report = service::get_report(&st, &client.caller, &id, None)
        .await
        .map_err(|e| client.err(e))?;
    let status = if res.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        axum::Json(PushResult {
            tracking_id: id,
            external_id: p.external_id,
            duplicate: res.duplicate,
            report,
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PullParams {
    /// Comma-separated statuses (default: all).
    pub status: Option<String>,
    pub cursor: Option<String>,
    /// 1–100, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PulledReports {
    pub items: Vec<ReportView>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

/// The reports your institution holds (assigned to it or its units),
/// newest first. Clients with `reports:read`.
#[utoipa::path(get, path = "/api/v1/integration/reports", tag = "integration", params(PullParams), security(("bearer" = [])),
    responses((status = 200, body = PulledReports), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn pull(
    State(st): State<AppState>,
    client: Client,
    Query(p): Query<PullParams>,
) -> ApiResult<axum::Json<PulledReports>> {
    client.require(Scope::ReportsRead)?;
    let e = |err: Error| client.err(err);
    let mut f = ReportFilter {
        limit: p.limit.unwrap_or(50),
        institution_subtree: Some(client.institution().to_string()),
        ..Default::default()
    };
    if !(1..=100).contains(&f.limit) {
        return Err(e(Error::with(ErrorCode::InvalidQuery, "limit: 1-100")));
    }
    for part in p
        .status
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|x| !x.trim().is_empty())
    {
        f.statuses.push(
            Status::parse(part.trim())
                .ok_or_else(|| e(Error::with(ErrorCode::InvalidQuery, format!("status: {part}"))))?,
        );
    }
    if let Some(c) = &p.cursor {
        f.cursor = Some(PageCursor::decode(c).map_err(e)?);
    }
    let page = st.store.list_reports(&f).await.map_err(e)?;
    let now = Utc::now();
    Ok(axum::Json(PulledReports {
        items: page
            .items
            .iter()
            .map(|r| report_view(r, ViewLevel::Staff, None, now))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One report your institution holds, with its history. Reports it does
/// not hold are 404. Clients with `reports:read`.
#[utoipa::path(get, path = "/api/v1/integration/reports/{id}", tag = "integration",
    params(("id" = String, Path, description = "Tracking ID")), security(("bearer" = [])),
    responses((status = 200, body = ReportView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(st): State<AppState>,
    client: Client,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ReportView>> {
    client.require(Scope::ReportsRead)?;
    service::held_by(&st, &id, client.institution())
        .await
        .map_err(|e| client.err(e))?;
    service::get_report(&st, &client.caller, &id, None)
        .await
        .map(axum::Json)
        .map_err(|e| client.err(e))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionResult {
    /// True when this external_id was applied before; nothing changed now.
    pub duplicate: bool,
    pub report: ReportView,
}

/// Runs one action on a report the client's institution holds, under the
/// client's id for it.
async fn act(
    st: &AppState,
    client: &Client,
    id: &str,
    req: ActionRequest,
    external_id: Option<&str>,
    version: Option<i64>,
    files: Vec<NewAttachment>,
) -> ApiResult<axum::Json<ActionResult>> {
    client.require(Scope::ReportsWrite)?;
    let report = service::held_by(st, id, client.institution())
        .await
        .map_err(|e| client.err(e))?;
    let key = match external_id {
        Some(x) => {
            check_external_id(x).map_err(|e| client.err(e))?;
            Some(format!("act:{}:{}:{x}", client.institution(), report.tracking_id))
        }
        None => None,
    };
    match service::act_keyed(st, &client.caller, id, None, req, version, files, key).await {
        Ok(report) => Ok(axum::Json(ActionResult {
            duplicate: false,
            report,
        })),
        Err(e) if e.code == ErrorCode::Conflict && e.detail.as_deref() == Some(lapor_store::DUPLICATE_ACTION) => {
            let report = service::get_report(st, &client.caller, id, None)
                .await
                .map_err(|e| client.err(e))?;
            Ok(axum::Json(ActionResult {
                duplicate: true,
                report,
            }))
        }
        Err(e) => Err(client.err(e)),
    }
}

/// A follow-up as JSON (without files).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// The answer to the reporter.
    pub body: String,
    /// Your system's id for this follow-up.
    pub external_id: Option<String>,
    pub version: Option<i64>,
}

/// Answer the reporter (tindak lanjut). JSON, or `multipart/form-data`
/// with the fields `body`, `external_id`, `version` and up to five `file`
/// parts (photos, PDF, video; sniffed, cleaned of metadata). Clients with
/// `reports:write`.
#[utoipa::path(post, path = "/api/v1/integration/reports/{id}/follow-ups", tag = "integration",
    params(("id" = String, Path, description = "Tracking ID")), request_body = FollowUp, security(("bearer" = [])),
    responses((status = 200, body = ActionResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn follow_up(
    State(st): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<axum::Json<ActionResult>> {
    let (f, files) = if is_multipart(&req) {
        let mp = Multipart::from_request(req, &st)
            .await
            .map_err(|_| client.err(Error::new(ErrorCode::MalformedBody)))?;
        read_multipart(mp).await.map_err(|e| client.err(e))?
    } else {
        let Json(f) = Json::<FollowUp>::from_request(req, &st).await?;
        (f, Vec::new())
    };
    let req = ActionRequest::FollowUp {
        body: f.body,
        note: None,
    };
    act(&st, &client, &id, req, f.external_id.as_deref(), f.version, files).await
}

fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// One file part, sniffed and cleaned like a citizen's upload.
async fn file_part(field: axum::extract::multipart::Field<'_>, files: &mut Vec<NewAttachment>) -> Result<(), Error> {
    if files.len() >= lapor_domain::media::MAX_FILES {
        return Err(Error::new(ErrorCode::TooManyFiles));
    }
    let filename = field.file_name().unwrap_or("lampiran").to_string();
    let bytes = field.bytes().await.map_err(|_| Error::new(ErrorCode::FileTooLarge))?;
    files.push(crate::channels::deliver::attachment_from(&bytes, &filename)?);
    Ok(())
}

/// A push as multipart: the report as JSON in `report`, files in `file`.
async fn read_push(mut mp: Multipart) -> Result<(PushReport, Vec<NewAttachment>), Error> {
    let mut report = None;
    let mut files = Vec::new();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|_| Error::new(ErrorCode::MalformedBody))?
    {
        match field.name().unwrap_or("") {
            "report" => {
                let text = field.text().await.map_err(|_| Error::new(ErrorCode::InvalidEncoding))?;
                let parsed = serde_json::from_str::<PushReport>(&text)
                    .map_err(|e| Error::with(ErrorCode::InvalidJson, e.to_string()))?;
                report = Some(parsed);
            }
            "file" | "files" | "files[]" => file_part(field, &mut files).await?,
            other => return Err(Error::validation(format!("unknown field {other}"))),
        }
    }
    Ok((
        report.ok_or_else(|| Error::validation("report: the JSON part is required"))?,
        files,
    ))
}

async fn read_multipart(mut mp: Multipart) -> Result<(FollowUp, Vec<NewAttachment>), Error> {
    let bad = || Error::new(ErrorCode::MalformedBody);
    let mut body = None;
    let mut external_id = None;
    let mut version = None;
    let mut files = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "body" | "external_id" | "version" => {
                let text = field.text().await.map_err(|_| Error::new(ErrorCode::InvalidEncoding))?;
                match name.as_str() {
                    "body" => body = Some(text),
                    "external_id" => external_id = Some(text),
                    _ => version = Some(text.trim().parse::<i64>().map_err(|_| Error::validation("version"))?),
                }
            }
            "file" | "files" | "files[]" => file_part(field, &mut files).await?,
            other => return Err(Error::validation(format!("unknown field {other}"))),
        }
    }
    let body = body.ok_or_else(|| Error::validation("body"))?;
    Ok((
        FollowUp {
            body,
            external_id,
            version,
        },
        files,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `in_progress` (accept, or resume after a hold), `on_hold` (ask the
    /// reporter for more; `message` required) or `completed`.
    #[schema(example = "in_progress")]
    pub status: String,
    pub message: Option<String>,
    /// Your system's id for this change.
    pub external_id: Option<String>,
    pub version: Option<i64>,
}

/// Change a report's status the way your system did. Clients with
/// `reports:write`.
#[utoipa::path(post, path = "/api/v1/integration/reports/{id}/status", tag = "integration",
    params(("id" = String, Path, description = "Tracking ID")), request_body = StatusChange, security(("bearer" = [])),
    responses((status = 200, body = ActionResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Json(c): Json<StatusChange>,
) -> ApiResult<axum::Json<ActionResult>> {
    client.require(Scope::ReportsWrite)?;
    let current = service::held_by(&st, &id, client.institution())
        .await
        .map_err(|e| client.err(e))?;
    let req = match c.status.as_str() {
        "in_progress" if current.status == Status::OnHold => ActionRequest::Resume { note: c.message },
        "in_progress" => ActionRequest::Accept { note: c.message },
        "on_hold" => ActionRequest::Hold {
            message: c
                .message
                .ok_or_else(|| client.err(Error::validation("message: required for on_hold")))?,
        },
        "completed" => ActionRequest::Complete { note: c.message },
        _ => return Err(client.err(Error::validation("status: in_progress, on_hold or completed"))),
    };
    act(&st, &client, &id, req, c.external_id.as_deref(), c.version, Vec::new()).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The competent institution's code.
    pub institution: String,
    /// Why it is not your institution's authority (bukan wewenang).
    pub reason: String,
    pub external_id: Option<String>,
    pub version: Option<i64>,
}

/// Not our authority: send the report on to another institution. Clients
/// with `reports:write`.
#[utoipa::path(post, path = "/api/v1/integration/reports/{id}/transfer", tag = "integration",
    params(("id" = String, Path, description = "Tracking ID")), request_body = TransferRequest, security(("bearer" = [])),
    responses((status = 200, body = ActionResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn transfer(
    State(st): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Json(t): Json<TransferRequest>,
) -> ApiResult<axum::Json<ActionResult>> {
    let req = ActionRequest::Transfer {
        institution: t.institution,
        reason: t.reason,
    };
    act(&st, &client, &id, req, t.external_id.as_deref(), t.version, Vec::new()).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangesParams {
    /// `next_cursor` of the previous page; absent to start at the beginning.
    pub cursor: Option<String>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesPage {
    /// Oldest first. Each change is also sent to webhooks, with the same
    /// `event_id`.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Change>,
    /// Pass back as `cursor`; present even when there is nothing new.
    pub next_cursor: String,
    /// More changes are waiting: ask again at once.
    pub has_more: bool,
}

/// The changes feed: every event on reports your institution holds or that
/// a transfer moves to or from it, in commit order, for systems that poll
/// instead of receiving webhooks. Clients with `reports:read` of a
/// connected institution.
#[utoipa::path(get, path = "/api/v1/integration/changes", tag = "integration", params(ChangesParams), security(("bearer" = [])),
    responses((status = 200, body = ChangesPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn changes(
    State(st): State<AppState>,
    client: Client,
    Query(p): Query<ChangesParams>,
) -> ApiResult<axum::Json<ChangesPage>> {
    client.require(Scope::ReportsRead)?;
    require_connected(&st, &client).await?;
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(client.err(Error::with(ErrorCode::InvalidQuery, "limit: 1-1000")));
    }
    let after = match &p.cursor {
        Some(c) => Cursor::decode(c).ok_or_else(|| client.err(Error::new(ErrorCode::InvalidCursor)))?,
        None => Cursor::START,
    };
    let rows = st
        .store
        .changes(
            client.institution(),
            FeedPosition {
                tx: after.tx,
                id: after.id,
            },
            limit + 1,
        )
        .await
        .map_err(|e| client.err(e))?;
    let has_more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let last = rows.last().map(|r| Cursor {
        tx: r.position.tx,
        id: r.position.id,
    });
    Ok(axum::Json(ChangesPage {
        items: rows.iter().map(|r| Change::from_event(r.event_id, &r.event)).collect(),
        next_cursor: last.unwrap_or(after).encode(),
        has_more,
    }))
}
