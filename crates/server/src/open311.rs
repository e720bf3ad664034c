//! Open311 GeoReport v2 at `/open311/v2`, in `.json` and `.xml`, so the
//! existing Open311 apps and tools can file and read reports.
//!
//! - a `jurisdiction_id` names an institution: missing is 400, unknown 404;
//! - services are Lapor's categories, with Lapor's own questions as
//!   attributes (classification, privacy, incident date, title);
//! - `POST requests` needs an integration key with the `open311` scope; the
//!   report goes through verification like any other, suggested to the
//!   jurisdiction;
//! - `GET requests`, `requests/{id}` and FixMyStreet's
//!   `servicerequestupdates` show public reports only, masked as on the
//!   public site;
//! - errors are the spec's `[{code, description}]` with that HTTP status.

use crate::AppState;
use crate::integration::access;
use crate::service::{self, Intake, ReporterContact, SubmitReport};
use crate::views::{ReportView, ViewLevel, report_view};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use lapor_domain::ids::TrackingId;
use lapor_domain::institution::Institution;
use lapor_domain::report::{Channel, Classification, Report, Status, Visibility};
use lapor_integration::client::Scope;
use lapor_integration::open311::{
    self as wire, Attribute, AttributeValue, Created, Doc, Format, Request, Service, ServiceDefinition, Update,
};
use lapor_store::ReportFilter;
use lapor_store::ts::Ts;

type Pairs = Vec<(String, String)>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top).post(post_requests))
        .route("/open311/v2/services/{file}", get(definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
}

/// A spec error document with its status.
struct Failure(u16, String);

impl Failure {
    fn new(code: u16, description: impl Into<String>) -> Failure {
        Failure(code, description.into())
    }
    fn from_lapor(e: &lapor_domain::Error) -> Failure {
        // Open311 knows 400, 403 and 404; everything the caller got wrong
        // is a 400 with Lapor's code in the description.
        let status = match e.code.http_status() {
            403 | 401 => 403,
            404 => 404,
            s if s >= 500 => 500,
            _ => 400,
        };
        let detail = e
            .detail
            .as_deref()
            .filter(|_| status < 500)
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        Failure(status, format!("{}{detail}", e.code.as_str()))
    }
    fn render(self, format: Format) -> Response {
        if self.0 >= 500 {
            tracing::error!(description = %self.1, "open311 request failed");
        }
        respond(self.0, &Doc::Errors(&[wire::Error::new(self.0, self.1)]), format)
    }
}

impl From<lapor_domain::Error> for Failure {
    fn from(e: lapor_domain::Error) -> Self {
        Failure::from_lapor(&e)
    }
}

fn respond(status: u16, doc: &Doc<'_>, format: Format) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        wire::render(doc, format),
    )
        .into_response()
}

/// The answer to a path without `.json` or `.xml`.
fn no_format() -> Response {
    Failure::new(404, "use the .json or .xml form").render(Format::Json)
}

fn pairs(raw: Option<&str>) -> Result<Pairs, Failure> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|_| Failure::new(400, "the query string cannot be read"))
}

fn param<'a>(p: &'a Pairs, name: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

async fn jurisdiction(st: &AppState, p: &Pairs) -> Result<Institution, Failure> {
    let Some(code) = param(p, "jurisdiction_id") else {
        return Err(Failure::new(400, "jurisdiction_id is required"));
    };
    st.store
        .institution(code.trim())
        .await?
        .ok_or_else(|| Failure::new(404, format!("jurisdiction_id {code} not found")))
}

async fn top(State(st): State<AppState>, Path(file): Path<String>, RawQuery(q): RawQuery) -> Response {
    let Some((name, format)) = Format::split(&file) else {
        return no_format();
    };
    let res = async {
        let p = pairs(q.as_deref())?;
        match name {
            "discovery" => Ok(discovery(&st, format)),
            "services" => services(&st, &p, format).await,
            "requests" => requests(&st, &p, format).await,
            "servicerequestupdates" => updates(&st, &p, format).await,
            _ => Err(Failure::new(404, format!("no such resource: {name}"))),
        }
    }
    .await;
    res.unwrap_or_else(|f| f.render(format))
}

fn discovery(st: &AppState, format: Format) -> Response {
    let base = format!("{}/open311/v2/", st.config.public_url.trim_end_matches('/'));
    let body = wire::discovery(&base, &st.config.public_url, format);
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

async fn services(st: &AppState, p: &Pairs, format: Format) -> Result<Response, Failure> {
    jurisdiction(st, p).await?;
    let list: Vec<Service> = st
        .store
        .categories()
        .await?
        .into_iter()
        .map(|c| Service {
            description: format!("{} ({})", c.name_id, c.name_en),
            service_name: c.name_id,
            service_code: c.code,
            metadata: true,
            kind: "realtime",
            keywords: String::new(),
            group: String::new(),
        })
        .collect();
    Ok(respond(200, &Doc::Services(&list), format))
}

fn yes_no(code: &str, description: &str, order: u32) -> Attribute {
    Attribute {
        variable: true,
        code: code.into(),
        datatype: "singlevaluelist",
        required: false,
        datatype_description: "true / false (default false)".into(),
        order,
        description: description.into(),
        values: ["true", "false"]
            .into_iter()
            .map(|v| AttributeValue {
                key: v.into(),
                name: if v == "true" { "Ya / Yes" } else { "Tidak / No" }.into(),
            })
            .collect(),
    }
}

/// Lapor's own questions, asked of every service.
fn attributes() -> Vec<Attribute> {
    vec![
        Attribute {
            variable: true,
            code: "classification".into(),
            datatype: "singlevaluelist",
            required: false,
            datatype_description: "default pengaduan".into(),
            order: 1,
            description: "Jenis laporan / Kind of report".into(),
            values: [
                ("pengaduan", "Pengaduan / Complaint"),
                ("aspirasi", "Aspirasi / Suggestion"),
                ("permintaan_informasi", "Permintaan informasi / Information request"),
            ]
            .into_iter()
            .map(|(k, n)| AttributeValue {
                key: k.into(),
                name: n.into(),
            })
            .collect(),
        },
        Attribute {
            variable: true,
            code: "title".into(),
            datatype: "string",
            required: false,
            datatype_description: "5-150 characters; default: the start of the description".into(),
            order: 2,
            description: "Judul laporan / Title".into(),
            values: vec![],
        },
        Attribute {
            variable: true,
            code: "incident_date".into(),
            datatype: "datetime",
            required: false,
            datatype_description: "YYYY-MM-DD or a w3c datetime".into(),
            order: 3,
            description: "Tanggal kejadian / Date of the incident".into(),
            values: vec![],
        },
        yes_no(
            "anonymous",
            "Rahasiakan identitas pelapor / Hide the reporter's identity",
            4,
        ),
        yes_no(
            "confidential",
            "Jangan tampilkan laporan ke publik / Do not publish the report",
            5,
        ),
    ]
}

async fn definition(State(st): State<AppState>, Path(file): Path<String>, RawQuery(q): RawQuery) -> Response {
    let Some((code, format)) = Format::split(&file) else {
        return no_format();
    };
    let res = async {
        let p = pairs(q.as_deref())?;
        jurisdiction(&st, &p).await?;
        if !st.known.category_exists(&st, code).await? {
            return Err(Failure::new(404, format!("service_code {code} not found")));
        }
        let def = ServiceDefinition {
            service_code: code.to_string(),
            attributes: attributes(),
        };
        Ok(respond(200, &Doc::Definition(&def), format))
    }
    .await;
    res.unwrap_or_else(|f| f.render(format))
}

fn flag(v: Option<&str>, name: &str) -> Result<bool, Failure> {
    match v.map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(s) if s == "true" || s == "1" => Ok(true),
        Some(s) if s == "false" || s == "0" => Ok(false),
        Some(_) => Err(Failure::new(400, format!("attribute[{name}] must be true or false"))),
    }
}

fn coordinate(p: &Pairs, name: &str) -> Result<Option<f64>, Failure> {
    param(p, name)
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .map_err(|_| Failure::new(400, format!("{name} must be a number")))
        })
        .transpose()
}

/// The first words of the description, for a request that brings no title.
fn title_from(description: &str) -> String {
    let mut t = String::new();
    for w in description.split_whitespace() {
        if t.chars().count() + w.chars().count() + 1 > 80 {
            break;
        }
        if !t.is_empty() {
            t.push(' ');
        }
        t.push_str(w);
    }
    t
}

async fn post_requests(
    State(st): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some((name, format)) = Format::split(&file) else {
        return no_format();
    };
    if name != "requests" {
        return Failure::new(404, format!("cannot POST {name}")).render(format);
    }
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    let res = async {
        if !form_type {
            return Err(Failure::new(400, "send application/x-www-form-urlencoded"));
        }
        let p: Pairs = serde_urlencoded::from_bytes(&body).map_err(|_| Failure::new(400, "the form cannot be read"))?;
        create(&st, &p, crate::error::lang_of(&headers)).await
    }
    .await;
    match res {
        Ok(created) => respond(200, &Doc::Created(&[created]), format),
        Err(f) => f.render(format),
    }
}

async fn create(st: &AppState, p: &Pairs, lang: lapor_domain::Lang) -> Result<Created, Failure> {
    let place = jurisdiction(st, p).await?;
    let key = param(p, "api_key").ok_or_else(|| Failure::new(403, "api_key is required"))?;
    let client = access::authenticate(st, key, lang)
        .await?
        .filter(|c| c.scopes.contains(&Scope::Open311))
        .ok_or_else(|| Failure::new(403, "api_key is not valid for Open311"))?;
    if !st.integration.allow(&client.client.id) {
        return Err(Failure::new(
            400,
            "rate_limited: too many requests; try again in a minute",
        ));
    }
    let code = param(p, "service_code").ok_or_else(|| Failure::new(400, "service_code is required"))?;
    if !st.known.category_exists(st, code).await? {
        return Err(Failure::new(400, format!("service_code {code} not found")));
    }
    let (lat, long) = (coordinate(p, "lat")?, coordinate(p, "long")?);
    let address = param(p, "address_string");
    let address_id = param(p, "address_id");
    if lat.is_some() != long.is_some() {
        return Err(Failure::new(400, "lat and long go together"));
    }
    if lat.is_none() && address.is_none() && address_id.is_none() {
        return Err(Failure::new(
            400,
            "a location is required: lat and long, address_string or address_id",
        ));
    }
    let description = param(p, "description").ok_or_else(|| Failure::new(400, "description is required"))?;
    let attrs = wire::attributes(p);
    let attr = |name: &str| attrs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let classification = match attr("classification") {
        None => Classification::Pengaduan,
        Some(c) => Classification::parse(c)
            .ok_or_else(|| Failure::new(400, format!("attribute[classification] {c} is not a choice")))?,
    };
    let incident_date = attr("incident_date")
        .map(|d| {
            let d = d.trim();
            NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d")
                .map_err(|_| Failure::new(400, "attribute[incident_date] must be a date"))
        })
        .transpose()?;
    // An address id that is a Kemendagri region code places the report.
    let region_code = match address_id {
        Some(a) if st.known.region_exists(st, a.trim()).await? => Some(a.trim().to_string()),
        _ => None,
    };
    let body = match address {
        Some(a) => format!("{description}\n\nLokasi: {a}"),
        None => description.to_string(),
    };
    let name = [param(p, "first_name"), param(p, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let contact = ReporterContact {
        name: Some(name).filter(|n| !n.is_empty()),
        email: param(p, "email").map(str::to_string),
        phone: param(p, "phone").map(str::to_string),
    };
    let has_contact = contact.name.is_some() || contact.email.is_some() || contact.phone.is_some();
    let req = SubmitReport {
        classification,
        needs_investigation: false,
        category: Some(code.to_string()),
        title: attr("title")
            .map(str::to_string)
            .unwrap_or_else(|| title_from(description)),
        body,
        incident_date,
        region_code,
        latitude: lat,
        longitude: long,
        anonymous: flag(attr("anonymous"), "anonymous")?,
        confidential: flag(attr("confidential"), "confidential")?,
        institution: Some(place.code.clone()),
        reporter: has_contact.then_some(contact),
        channel: Some(Channel::Api),
    };
    // The token is ours to give: a random handle for `tokens/{token}` that,
    // unlike the Tracking ID, says nothing about other reports.
    let token = crate::auth::new_token();
    let intake = Intake::api(Some(format!("o311:{token}")));
    let res = service::submit_report(st, &client.caller, req, intake).await?;
    Ok(Created {
        service_request_id: Some(res.tracking_id),
        token: Some(token),
        service_notice: Some(format!(
            "Laporan diterima dan akan diverifikasi. PIN untuk melacak: {} / Received; it will be verified. PIN to track it: {}",
            res.pin, res.pin
        )),
        account_id: None,
    })
}

fn open_or_closed(s: Status) -> &'static str {
    if s.is_closed() { "closed" } else { "open" }
}

/// Category names by code, read once per response (not once per request
/// listed).
async fn service_names(st: &AppState) -> Result<std::collections::HashMap<String, String>, Failure> {
    Ok(st
        .store
        .categories()
        .await?
        .into_iter()
        .map(|c| (c.code, c.name_id))
        .collect())
}

async fn request_of(
    st: &AppState,
    names: &std::collections::HashMap<String, String>,
    r: &Report,
    notes: Option<String>,
    now: DateTime<Utc>,
) -> Result<Request, Failure> {
    let v: ReportView = report_view(r, ViewLevel::Public, None, now);
    let service_name = r.category.as_ref().and_then(|c| names.get(c).cloned());
    let agency = match &r.institution {
        Some(i) => Some(st.names.institution(st, i).await?),
        None => None,
    };
    let address = match &r.region_code {
        Some(code) => Some(st.names.place(st, Some(code)).await?),
        None => None,
    };
    Ok(Request {
        service_request_id: v.tracking_id,
        status: open_or_closed(r.status),
        status_notes: notes,
        service_name,
        service_code: r.category.clone(),
        description: Some(format!("{}\n\n{}", v.title, v.body)),
        agency_responsible: agency,
        service_notice: None,
        requested_datetime: Some(r.submitted_at),
        updated_datetime: Some(r.updated_at),
        expected_datetime: r.due_at,
        address,
        address_id: r.region_code.clone(),
        zipcode: None,
        lat: v.latitude,
        long: v.longitude,
        media_url: None,
    })
}

/// The public report, if it is in the jurisdiction (its institution or a
/// unit below it).
async fn public_in(st: &AppState, place: &Institution, id: &str) -> Result<Option<Report>, Failure> {
    let Ok(tid) = TrackingId::parse(id) else {
        return Ok(None);
    };
    let Some(stored) = st.store.report(&tid).await? else {
        return Ok(None);
    };
    let r = stored.report;
    if !r.is_public() {
        return Ok(None);
    }
    let Some(inst) = &r.institution else {
        return Ok(None);
    };
    Ok(st
        .store
        .institution_path(inst)
        .await?
        .contains(&place.code)
        .then_some(r))
}

async fn requests(st: &AppState, p: &Pairs, format: Format) -> Result<Response, Failure> {
    let place = jurisdiction(st, p).await?;
    let now = Utc::now();
    let q = wire::request_query(
        param(p, "service_request_id"),
        param(p, "service_code"),
        param(p, "start_date"),
        param(p, "end_date"),
        param(p, "status"),
        now,
    )
    .map_err(|e| Failure(e.code, e.description))?;
    let mut reports = Vec::new();
    if !q.ids.is_empty() {
        for id in &q.ids {
            if let Some(r) = public_in(st, &place, id).await? {
                reports.push(r);
            }
        }
    } else {
        let statuses: Vec<Status> = Status::ALL
            .iter()
            .copied()
            .filter(|s| q.statuses.is_empty() || q.statuses.contains(&open_or_closed(*s)))
            .collect();
        let codes: Vec<Option<String>> = if q.service_codes.is_empty() {
            vec![None]
        } else {
            q.service_codes.iter().cloned().map(Some).collect()
        };
        for category in codes {
            let f = ReportFilter {
                institution_subtree: Some(place.code.clone()),
                public_only: true,
                statuses: statuses.clone(),
                category,
                submitted_from: Some(Ts::new(q.start)),
                submitted_before: Some(Ts::new(q.end)),
                limit: wire::MAX_REQUESTS as i64,
                ..Default::default()
            };
            reports.extend(st.store.list_reports(&f).await?.items);
        }
        reports.sort_by_key(|r| std::cmp::Reverse(r.submitted_at));
        reports.truncate(wire::MAX_REQUESTS);
    }
    let names = service_names(st).await?;
    let mut out = Vec::with_capacity(reports.len());
    for r in &reports {
        out.push(request_of(st, &names, r, None, now).await?);
    }
    Ok(respond(200, &Doc::Requests(&out), format))
}

/// The latest public note on a report, for `status_notes`.
async fn latest_note(st: &AppState, r: &Report) -> Result<Option<String>, Failure> {
    let events = st.store.events(&r.tracking_id).await?;
    Ok(events
        .iter()
        .rev()
        .filter(|e| e.visibility == Visibility::Public)
        .find_map(|e| e.body.as_deref().map(lapor_domain::pii::mask)))
}

async fn one_request(State(st): State<AppState>, Path(file): Path<String>, RawQuery(q): RawQuery) -> Response {
    let Some((id, format)) = Format::split(&file) else {
        return no_format();
    };
    let res = async {
        let p = pairs(q.as_deref())?;
        let place = jurisdiction(&st, &p).await?;
        let r = public_in(&st, &place, id)
            .await?
            .ok_or_else(|| Failure::new(404, format!("service_request_id {id} not found")))?;
        let notes = latest_note(&st, &r).await?;
        let names = service_names(&st).await?;
        let one = request_of(&st, &names, &r, notes, Utc::now()).await?;
        Ok(respond(200, &Doc::Requests(&[one]), format))
    }
    .await;
    res.unwrap_or_else(|f: Failure| f.render(format))
}

async fn token(State(st): State<AppState>, Path(file): Path<String>, RawQuery(q): RawQuery) -> Response {
    let Some((token, format)) = Format::split(&file) else {
        return no_format();
    };
    let res = async {
        let p = pairs(q.as_deref())?;
        jurisdiction(&st, &p).await?;
        if token.is_empty() || token.len() > 100 {
            return Err(Failure::new(404, "token not found"));
        }
        let id = st
            .store
            .report_by_idempotency_key(&format!("o311:{token}"))
            .await?
            .ok_or_else(|| Failure::new(404, "token not found"))?;
        Ok(respond(
            200,
            &Doc::Tokens(&[(token.to_string(), Some(id.to_string()))]),
            format,
        ))
    }
    .await;
    res.unwrap_or_else(|f: Failure| f.render(format))
}

async fn updates(st: &AppState, p: &Pairs, format: Format) -> Result<Response, Failure> {
    let place = jurisdiction(st, p).await?;
    let q = wire::request_query(
        None,
        None,
        param(p, "start_date"),
        param(p, "end_date"),
        None,
        Utc::now(),
    )
    .map_err(|e| Failure(e.code, e.description))?;
    let rows = st
        .store
        .public_updates(&place.code, Ts::new(q.start), Ts::new(q.end), wire::MAX_REQUESTS as i64)
        .await?;
    let list: Vec<Update> = rows
        .iter()
        .map(|(event_id, e)| Update {
            update_id: event_id.to_string(),
            service_request_id: e.tracking_id.to_string(),
            status: open_or_closed(e.to_status),
            updated_datetime: e.at,
            description: e.body.as_deref().map(lapor_domain::pii::mask).unwrap_or_default(),
            media_url: None,
        })
        .collect();
    Ok(respond(200, &Doc::Updates(&list), format))
}
