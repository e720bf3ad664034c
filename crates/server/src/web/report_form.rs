//! The report form (`/lapor`) and the small fragments that enhance it:
//! region options, institution suggestions, similar reports, the personal
//! data preview and point-to-regency lookup.
//!
//! Without JavaScript the same needs are met by the form itself: the
//! "load region choices" and "check for personal data" buttons send the
//! form back and it is re-rendered with everything the user typed.

use super::names::Opt;
use super::public::{Card, cards};
use super::{Ctx, error_page, render};
use crate::AppState;
use crate::service::{self, Intake, ReporterContact, SubmitReport};
use crate::uploads::{self, Upload, clean_uploads};
use crate::views::ViewLevel;
use askama::Template;
use axum::Json;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use lapor_domain::calendar::Zone;
use lapor_domain::geo::GeoIndex;
use lapor_domain::institution::InstitutionKind;
use lapor_domain::media::{MAX_FILE_BYTES, MAX_FILES};
use lapor_domain::pii::{self, PiiKind};
use lapor_domain::report::{Channel, Classification, Status};
use lapor_domain::{Error, ErrorCode};
use lapor_store::{InstitutionQuery, RegionQuery, ReportFilter};
use std::sync::LazyLock;

/// Regency and city boundaries, parsed on first use.
static GEO: LazyLock<Option<GeoIndex>> =
    LazyLock::new(
        || match GeoIndex::from_geojson(include_str!("../../../../data/geo/kabkota.geojson")) {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::error!(error = %e, "regency boundaries failed to load");
                None
            }
        },
    );

pub fn geo() -> Option<&'static GeoIndex> {
    GEO.as_ref()
}

/// Everything the form holds, as typed (so nothing is lost on a re-render).
#[derive(Debug, Clone, Default)]
pub struct FormData {
    pub klasifikasi: String,
    pub judul: String,
    pub isi: String,
    pub tanggal: String,
    pub provinsi: String,
    pub kabkota: String,
    pub kecamatan: String,
    pub desa: String,
    pub lat: String,
    pub lon: String,
    pub kategori: String,
    pub instansi: String,
    pub anonim: bool,
    pub rahasia: bool,
    pub nama: String,
    pub email: String,
    pub telepon: String,
    pub form_id: String,
    csrf: String,
    action: String,
}

impl FormData {
    fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "klasifikasi" => &mut self.klasifikasi,
            "judul" => &mut self.judul,
            "isi" => &mut self.isi,
            "tanggal" => &mut self.tanggal,
            "provinsi" => &mut self.provinsi,
            "kabkota" => &mut self.kabkota,
            "kecamatan" => &mut self.kecamatan,
            "desa" => &mut self.desa,
            "lat" => &mut self.lat,
            "lon" => &mut self.lon,
            "kategori" => &mut self.kategori,
            "instansi" => &mut self.instansi,
            "nama" => &mut self.nama,
            "email" => &mut self.email,
            "telepon" => &mut self.telepon,
            "form_id" => &mut self.form_id,
            "csrf" => &mut self.csrf,
            "action" => &mut self.action,
            "anonim" => {
                self.anonim = true;
                return;
            }
            "rahasia" => {
                self.rahasia = true;
                return;
            }
            _ => return,
        };
        *slot = value;
    }

    /// The most specific region chosen; lower levels only count when they
    /// sit under the chosen higher level.
    fn region_code(&self) -> Option<String> {
        let chain = [&self.provinsi, &self.kabkota, &self.kecamatan, &self.desa];
        let mut best: Option<&String> = None;
        for code in chain {
            if code.is_empty() {
                break;
            }
            if let Some(parent) = best
                && !code.starts_with(&format!("{parent}."))
            {
                break;
            }
            best = Some(code);
        }
        best.cloned()
    }

    fn is_checked(&self, cls: &str) -> bool {
        self.klasifikasi == cls || (self.klasifikasi.is_empty() && cls == "pengaduan")
    }
}

pub struct Choices {
    pub provinces: Vec<Opt>,
    pub regencies: Vec<Opt>,
    pub districts: Vec<Opt>,
    pub villages: Vec<Opt>,
    pub categories: Vec<Opt>,
    pub institutions: Vec<Opt>,
    pub suggested: Option<Opt>,
}

async fn children(st: &AppState, parent: &str) -> Result<Vec<Opt>, Error> {
    if parent.is_empty() {
        return Ok(vec![]);
    }
    super::names::region_options(
        st,
        RegionQuery {
            parent: Some(parent.to_string()),
            limit: 1000,
            ..Default::default()
        },
    )
    .await
}

/// The regional government that would usually handle a report from this
/// region: the regency/city government, else the province's.
pub async fn suggest_institution(st: &AppState, region: &str) -> Result<Option<Opt>, Error> {
    let mut levels = Vec::new();
    if region.len() >= 5 {
        levels.push((
            region[..5].to_string(),
            [InstitutionKind::Regency, InstitutionKind::City],
        ));
    }
    if region.len() >= 2 {
        levels.push((
            region[..2].to_string(),
            [InstitutionKind::Province, InstitutionKind::Province],
        ));
    }
    for (code, kinds) in levels {
        let found = st
            .store
            .institutions(&InstitutionQuery {
                region_code: Some(code),
                limit: 50,
                ..Default::default()
            })
            .await?;
        if let Some(i) = found.into_iter().find(|i| kinds.contains(&i.kind)) {
            return Ok(Some(Opt {
                code: i.code,
                name: i.name,
            }));
        }
    }
    Ok(None)
}

async fn choices(st: &AppState, c: &Ctx, f: &FormData) -> Result<Choices, Error> {
    let suggested = match f.region_code() {
        Some(r) => suggest_institution(st, &r).await?,
        None => None,
    };
    Ok(Choices {
        provinces: st.names.provinces(st).await?,
        regencies: children(st, &f.provinsi).await?,
        districts: children(st, &f.kabkota).await?,
        villages: children(st, &f.kecamatan).await?,
        categories: st.names.categories(st, c.lang).await?,
        institutions: st.names.handling_institutions(st).await?,
        suggested,
    })
}

#[derive(Template)]
#[template(path = "report_form.html")]
struct FormPage<'a> {
    c: &'a Ctx,
    f: &'a FormData,
    ch: Choices,
    errors: Vec<String>,
    /// Shown after "check for personal data" (or with errors).
    pii: Option<Vec<&'static str>>,
    similar: Vec<Card>,
    files_dropped: bool,
    max_mb: usize,
    max_files: usize,
    tile_attribution: String,
}

impl FormPage<'_> {
    fn checked(&self, cls: &str) -> bool {
        self.f.is_checked(cls)
    }
}

fn pii_labels(c: &Ctx, text: &str) -> Vec<&'static str> {
    let kinds: Vec<PiiKind> = pii::kinds(text);
    kinds.into_iter().map(|k| c.t.pii(k)).collect()
}

pub async fn form(State(st): State<AppState>, c: Ctx) -> Response {
    let f = FormData {
        form_id: crate::auth::new_token(),
        ..Default::default()
    };
    show_form(&st, &c, &f, StatusCode::OK, vec![], None, false).await
}

async fn show_form(
    st: &AppState,
    c: &Ctx,
    f: &FormData,
    status: StatusCode,
    errors: Vec<String>,
    pii: Option<Vec<&'static str>>,
    files_dropped: bool,
) -> Response {
    let ch = match choices(st, c, f).await {
        Ok(ch) => ch,
        Err(e) => return error_page(c, &e),
    };
    let similar = if pii.is_some() {
        similar_cards(st, c, &f.judul).await.unwrap_or_default()
    } else {
        vec![]
    };
    render(
        c,
        status,
        &FormPage {
            c,
            f,
            ch,
            errors,
            pii,
            similar,
            files_dropped,
            max_mb: MAX_FILE_BYTES / (1024 * 1024),
            max_files: MAX_FILES,
            tile_attribution: st.config.tile_attribution.clone().unwrap_or_default(),
        },
    )
}

/// Reads the multipart form into the form's fields and its files.
async fn read_form(mp: Multipart) -> (FormData, Vec<Upload>, Vec<Error>) {
    let parts = uploads::read_multipart(mp, "lampiran").await;
    let mut f = FormData::default();
    for (name, value) in parts.text {
        f.set(&name, value);
    }
    (f, parts.uploads, parts.errors)
}

fn status_of(errors: &[Error]) -> StatusCode {
    errors
        .first()
        .and_then(|e| StatusCode::from_u16(e.code.http_status()).ok())
        .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
}

fn parse_coord(s: &str, field: &str) -> Result<Option<f64>, Error> {
    let s = s.trim().replace(',', ".");
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| Error::validation(field.to_string()))
}

/// The form as a domain submission; errors name the field at fault.
fn to_submission(f: &FormData, errors: &mut Vec<Error>) -> Option<SubmitReport> {
    let classification = match Classification::parse(&f.klasifikasi) {
        Some(c) => Some(c),
        None => {
            errors.push(Error::validation("klasifikasi"));
            None
        }
    };
    let incident_date = match f.tanggal.trim() {
        "" => None,
        d => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(Error::validation("tanggal"));
                None
            }
        },
    };
    let lat = parse_coord(&f.lat, "lat").map_err(|e| errors.push(e)).ok().flatten();
    let lon = parse_coord(&f.lon, "lon").map_err(|e| errors.push(e)).ok().flatten();
    if lat.is_some() != lon.is_some() {
        errors.push(Error::validation("lat/lon"));
    }
    let mut region_code = f.region_code();
    // A map point without a chosen region: the regency is found from it.
    if let (None, Some(la), Some(lo)) = (&region_code, lat, lon)
        && let Some(g) = geo()
    {
        region_code = g.locate(lo, la).map(|p| p.code.clone());
    }
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let contact =
        (nonempty(&f.nama).is_some() || nonempty(&f.email).is_some() || nonempty(&f.telepon).is_some()).then(|| {
            ReporterContact {
                name: nonempty(&f.nama),
                email: nonempty(&f.email),
                phone: nonempty(&f.telepon),
            }
        });
    Some(SubmitReport {
        classification: classification?,
        needs_investigation: false,
        category: nonempty(&f.kategori),
        title: f.judul.clone(),
        body: f.isi.clone(),
        incident_date,
        region_code,
        latitude: lat,
        longitude: lon,
        anonymous: f.anonim,
        confidential: f.rahasia,
        institution: nonempty(&f.instansi),
        reporter: contact,
        channel: None,
    })
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage<'a> {
    c: &'a Ctx,
    /// The device may drop its draft of this form once it sees this page.
    form_id: String,
    tracking_id: String,
    pin: String,
    verify_by: Option<String>,
    contact_given: bool,
}

/// A refused submission as JSON: the first error's code and message, and
/// every message (the form can have several things to fix at once).
fn json_refusal(c: &Ctx, errors: &[Error]) -> Response {
    let first = errors.first().cloned().unwrap_or_else(|| Error::validation("form"));
    let body = serde_json::json!({
        "error": { "code": first.code.as_str(), "message": super::message(c, &first) },
        "errors": errors.iter().map(|e| super::message(c, e)).collect::<Vec<_>>(),
    });
    let status = if errors.iter().any(|e| e.code == ErrorCode::CsrfFailed) {
        StatusCode::FORBIDDEN
    } else {
        status_of(errors)
    };
    let mut resp = (status, axum::Json(body)).into_response();
    super::finish_plain(c, resp.headers_mut());
    resp
}

/// Anyone (see `routes`). Answers with the receipt page, or with JSON when
/// the request asks for it: that is how the offline queue sends a report
/// (`assets/lapor-antrian.js`), keeping the form's idempotency key.
pub async fn submit(State(st): State<AppState>, c: Ctx, headers: HeaderMap, mp: Multipart) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let (mut f, uploads, mut errors) = read_form(mp).await;
    if let Err(e) = c.check_csrf(&f.csrf) {
        return if wants_json {
            json_refusal(&c, &[e])
        } else {
            error_page(&c, &e)
        };
    }
    if f.form_id.is_empty() || f.form_id.len() > 64 {
        f.form_id = crate::auth::new_token();
    }
    let had_files = !uploads.is_empty();
    match f.action.as_str() {
        // Re-renders only: nothing is stored.
        "wilayah" => return show_form(&st, &c, &f, StatusCode::OK, vec![], None, had_files).await,
        "periksa" => {
            let pii = pii_labels(&c, &format!("{}\n{}", f.judul, f.isi));
            return show_form(&st, &c, &f, StatusCode::OK, vec![], Some(pii), had_files).await;
        }
        _ => {}
    }
    let attachments = clean_uploads(uploads, &mut errors);
    let req = to_submission(&f, &mut errors);
    let Some(req) = req.filter(|_| errors.is_empty()) else {
        if wants_json {
            return json_refusal(&c, &errors);
        }
        let status = status_of(&errors);
        let msgs = errors.iter().map(|e| super::message(&c, e)).collect();
        return show_form(&st, &c, &f, status, msgs, None, had_files).await;
    };
    let contact_given = req
        .reporter
        .as_ref()
        .is_some_and(|r| r.email.is_some() || r.phone.is_some())
        || c.user().is_some();
    let intake = Intake {
        // The form's id makes a double click or a refresh file one report.
        idempotency_key: Some(format!("web:{}", f.form_id)),
        attachments,
        via: Channel::Web,
        for_reporter: None,
    };
    match service::submit_report(&st, &c.caller, req, intake).await {
        Ok(res) => {
            let zone = Zone::parse(&res.report.zone).unwrap_or(Zone::Wib);
            let verify_by = res
                .report
                .due_at
                .filter(|_| res.report.status == Status::Submitted.as_str())
                .map(|d| super::i18n::deadline_words(d, zone, c.lang));
            if wants_json {
                let body = serde_json::json!({
                    "tracking_id": res.tracking_id,
                    "pin": res.pin,
                    "duplicate": res.duplicate,
                    "verify_by": verify_by,
                    "track_url": format!("/lacak/{}", res.tracking_id),
                });
                let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
                super::finish_plain(&c, resp.headers_mut());
                return resp;
            }
            render(
                &c,
                StatusCode::OK,
                &ReceiptPage {
                    c: &c,
                    form_id: f.form_id.clone(),
                    tracking_id: res.tracking_id,
                    pin: res.pin,
                    verify_by,
                    contact_given,
                },
            )
        }
        Err(e) if wants_json => {
            if e.code == ErrorCode::Internal || e.code == ErrorCode::Unavailable {
                tracing::error!(error = %e, "queued report failed");
                let mut resp = crate::error::error_response(&e, c.lang);
                super::finish_plain(&c, resp.headers_mut());
                return resp;
            }
            json_refusal(&c, &[e])
        }
        Err(e) if e.code == ErrorCode::Internal || e.code == ErrorCode::Unavailable => error_page(&c, &e),
        Err(e) => {
            let status = status_of(std::slice::from_ref(&e));
            show_form(&st, &c, &f, status, vec![super::message(&c, &e)], None, had_files).await
        }
    }
}

// ------------------------------------------------------------- fragments

#[derive(serde::Deserialize)]
pub struct ParentQuery {
    #[serde(default)]
    induk: String,
}

#[derive(Template)]
#[template(path = "options.html")]
struct Options<'a> {
    c: &'a Ctx,
    opts: Vec<Opt>,
    suggested: Option<Opt>,
}

pub async fn region_options(State(st): State<AppState>, c: Ctx, Query(q): Query<ParentQuery>) -> Response {
    if !q.induk.is_empty() && lapor_store::Region::level_of(&q.induk).is_none_or(|l| l >= 4) {
        return error_page(&c, &Error::with(ErrorCode::InvalidQuery, "induk"));
    }
    match children(&st, &q.induk).await {
        Ok(opts) => render(
            &c,
            StatusCode::OK,
            &Options {
                c: &c,
                opts,
                suggested: None,
            },
        ),
        Err(e) => error_page(&c, &e),
    }
}

#[derive(serde::Deserialize)]
pub struct RegionQueryParam {
    #[serde(default)]
    wilayah: String,
}

pub async fn institution_options(State(st): State<AppState>, c: Ctx, Query(q): Query<RegionQueryParam>) -> Response {
    let suggested = match suggest_institution(&st, q.wilayah.trim()).await {
        Ok(s) => s,
        Err(e) => return error_page(&c, &e),
    };
    match st.names.handling_institutions(&st).await {
        Ok(opts) => render(&c, StatusCode::OK, &Options { c: &c, opts, suggested }),
        Err(e) => error_page(&c, &e),
    }
}

/// Public reports whose words match the title being typed.
async fn similar_cards(st: &AppState, c: &Ctx, title: &str) -> Result<Vec<Card>, Error> {
    let mut terms = lapor_domain::search::query_terms(title);
    if terms.is_empty() {
        return Ok(vec![]);
    }
    terms.truncate(4);
    // All the words first; then fewer, so a long title still finds its kin.
    while !terms.is_empty() {
        let page = st
            .store
            .list_reports(&ReportFilter {
                public_only: true,
                terms: terms.clone(),
                limit: 5,
                ..Default::default()
            })
            .await?;
        if !page.items.is_empty() {
            return cards(st, c, &page.items, ViewLevel::Public).await;
        }
        if terms.len() == 1 {
            break;
        }
        terms.pop();
    }
    Ok(vec![])
}

#[derive(serde::Deserialize)]
pub struct TextQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "similar.html")]
struct Similar<'a> {
    c: &'a Ctx,
    similar: Vec<Card>,
}

pub async fn similar(State(st): State<AppState>, c: Ctx, Query(q): Query<TextQuery>) -> Response {
    if q.q.len() > 400 {
        return error_page(&c, &Error::with(ErrorCode::InvalidQuery, "q"));
    }
    match similar_cards(&st, &c, &q.q).await {
        Ok(similar) => render(&c, StatusCode::OK, &Similar { c: &c, similar }),
        Err(e) => error_page(&c, &e),
    }
}

#[derive(serde::Deserialize)]
pub struct PiiForm {
    #[serde(default)]
    teks: String,
}

#[derive(Template)]
#[template(path = "pii.html")]
struct PiiFragment<'a> {
    c: &'a Ctx,
    pii: Option<Vec<&'static str>>,
}

/// Which kinds of personal data the text holds (nothing is stored).
pub async fn pii_preview(
    c: Ctx,
    form: Result<axum::extract::Form<PiiForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let text = form.map(|axum::extract::Form(f)| f.teks).unwrap_or_default();
    if text.len() > 64 * 1024 {
        return error_page(&c, &Error::new(ErrorCode::BodyTooLarge));
    }
    let pii = Some(pii_labels(&c, &text));
    render(&c, StatusCode::OK, &PiiFragment { c: &c, pii })
}

#[derive(serde::Deserialize)]
pub struct PointQuery {
    lat: f64,
    lon: f64,
}

#[derive(serde::Serialize)]
struct Located {
    regency_code: String,
    regency_name: String,
    province_code: String,
}

/// The regency or city containing a point, by point-in-polygon.
pub async fn locate(c: Ctx, q: Result<Query<PointQuery>, axum::extract::rejection::QueryRejection>) -> Response {
    let Ok(Query(q)) = q else {
        return crate::error::error_response(&Error::with(ErrorCode::InvalidQuery, "lat/lon"), c.lang);
    };
    match geo().and_then(|g| g.locate(q.lon, q.lat)) {
        Some(p) => Json(Located {
            province_code: p.code.get(..2).unwrap_or("").to_string(),
            regency_code: p.code.clone(),
            regency_name: p.name.clone(),
        })
        .into_response(),
        None => crate::error::error_response(&Error::not_found(), c.lang),
    }
}
