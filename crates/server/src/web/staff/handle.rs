//! The report handling page: everything about one report and the actions
//! the caller may take on it in its current status, plus the follow-up
//! editor with reply templates and attachments.
//!
//! Every form carries the version the page showed. When someone else acted
//! first, the action is refused and the page shows the new state with a
//! "changed by someone else" notice; nothing is silently overwritten.

use super::{FormToken, Staff};
use crate::AppState;
use crate::service::{self, ActionRequest, Handling};
use crate::suggest::{self, Source, Suggestion};
use crate::web::names::Opt;
use crate::web::public::{Step, steps};
use crate::web::{error_page, message, render, see_other};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use lapor_domain::authz::Action;
use lapor_domain::event::EventData;
use lapor_domain::institution::{InstitutionKind, Role};
use lapor_domain::report::{ArchiveReason, Classification, Status};
use lapor_domain::{Error, ErrorCode};
use lapor_store::{AttachmentMeta, InstitutionQuery, NewAttachment, ReportFilter};

pub struct SuggestionView {
    pub code: String,
    pub name: String,
    pub why: String,
}

pub struct SimilarView {
    pub id: String,
    pub title: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "staff/report.html")]
struct ReportPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    h: Handling,
    offer: Vec<Action>,
    steps: Vec<Step>,
    attachments: Vec<AttachmentMeta>,
    place: String,
    institution: String,
    unit: String,
    liaison: String,
    category: String,
    countdown: String,
    overdue: bool,
    deadline: String,
    original: Option<(String, String)>,
    pii: Vec<&'static str>,
    suggestions: Vec<SuggestionView>,
    institutions: Vec<Opt>,
    categories: Vec<Opt>,
    units: Vec<Opt>,
    liaisons: Vec<Opt>,
    similar: Vec<SimilarView>,
    archive_reasons: Vec<(&'static str, &'static str)>,
    form: String,
    error: Option<String>,
    notice: Option<String>,
}

impl ReportPage<'_> {
    fn may(&self, code: &str) -> bool {
        let a = match code {
            "disposition" => Action::Disposition,
            "hold" => Action::Hold,
            "resume" => Action::Resume,
            "accept" => Action::Accept,
            "unit" => Action::DispositionToUnit,
            "liaison" => Action::AssignLiaison,
            "transfer" => Action::Transfer,
            "follow_up" => Action::FollowUp,
            "extension" => Action::RequestExtension,
            "complete" => Action::Complete,
            "archive" => Action::Archive,
            "merge" => Action::Merge,
            "edit" => Action::Edit,
            "privacy" => Action::SetPrivacy,
            "redact" => Action::Redact,
            "note" => Action::AddNote,
            _ => return false,
        };
        self.offer.contains(&a)
    }
    fn classes(&self) -> Vec<(&'static str, &'static str, bool)> {
        Classification::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str(),
                    self.c.t.classification(k.as_str()),
                    *k == self.h.report.classification,
                )
            })
            .collect()
    }
}

fn why(c: &crate::web::Ctx, s: &Suggestion) -> String {
    match s.source {
        Source::Location => c.tr("sesuai lokasi", "from the location").to_string(),
        Source::Rule(id) => format!("{} #{id}", c.tr("aturan", "rule")),
        Source::History(p) => format!("{} {:.0}%", c.tr("riwayat serupa", "similar history"), p * 100.0),
    }
}

async fn build(
    st: &AppState,
    s: &Staff,
    id: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Result<String, Error> {
    let h = service::for_handling(st, &s.c.caller, id).await?;
    let r = &h.report;
    let offer: Vec<Action> = h
        .allowed
        .iter()
        .copied()
        .filter(|a| lapor_domain::lifecycle::statuses_for(*a).contains(&r.status))
        .collect();
    let zone = r.zone;
    let steps = steps(st, &s.c, h.view.events.as_deref().unwrap_or(&[]), zone).await?;
    let attachments = st.store.attachments(&r.tracking_id).await?;
    let (countdown, overdue) = super::queue::countdown(st, r, Utc::now(), s.c.lang);
    let unit = match &r.unit {
        Some(u) => st.names.institution(st, u).await?,
        None => String::new(),
    };
    let liaison = match &r.liaison {
        Some(u) => st.store.user(u).await?.map(|u| u.name).unwrap_or_default(),
        None => String::new(),
    };
    // The reporter's own words stay visible to the verifier after edits and
    // redaction; institutions only ever see the current text.
    let original = match h.events.first().map(|e| &e.data) {
        Some(EventData::Submitted { submission, .. })
            if s.is_national() && (submission.title != r.title || submission.body != r.body) =>
        {
            Some((submission.title.clone(), submission.body.clone()))
        }
        _ => None,
    };
    let mut pii = Vec::new();
    for k in h.view.pii_detected.clone().unwrap_or_default() {
        pii.push(s.c.t.pii(k));
    }
    let suggestions = if offer.contains(&Action::Disposition) || offer.contains(&Action::Transfer) {
        suggest::for_report(st, r)
            .await?
            .iter()
            .map(|x| SuggestionView {
                code: x.code.clone(),
                name: x.name.clone(),
                why: why(&s.c, x),
            })
            .collect()
    } else {
        vec![]
    };
    let institutions = if offer.contains(&Action::Disposition) || offer.contains(&Action::Transfer) {
        st.names.handling_institutions(st).await?.to_vec()
    } else {
        vec![]
    };
    let mut units = Vec::new();
    let mut liaisons = Vec::new();
    if offer.contains(&Action::DispositionToUnit) || offer.contains(&Action::AssignLiaison) {
        let holder = r.unit.clone().or_else(|| r.institution.clone()).unwrap_or_default();
        for i in st
            .store
            .institutions(&InstitutionQuery {
                parent: Some(holder.clone()),
                kind: Some(InstitutionKind::Unit),
                limit: 200,
                ..Default::default()
            })
            .await?
        {
            units.push(Opt {
                code: i.code,
                name: i.name,
            });
        }
        for u in st.store.staff_users(Some(&holder), 200).await? {
            let is_liaison = u.memberships.iter().any(|m| {
                m.role == Role::Liaison
                    && (Some(&m.institution) == r.unit.as_ref() || Some(&m.institution) == r.institution.as_ref())
            });
            if is_liaison {
                liaisons.push(Opt {
                    code: u.id,
                    name: u.name,
                });
            }
        }
    }
    let similar = if offer.contains(&Action::Merge) {
        let mut terms = lapor_domain::search::query_terms(&r.title);
        terms.truncate(3);
        let mut out = Vec::new();
        if !terms.is_empty() {
            let page = st
                .store
                .list_reports(&ReportFilter {
                    terms,
                    limit: 6,
                    statuses: vec![
                        Status::Submitted,
                        Status::Dispositioned,
                        Status::InProgress,
                        Status::Responded,
                    ],
                    ..Default::default()
                })
                .await?;
            for x in page
                .items
                .into_iter()
                .filter(|x| x.tracking_id != r.tracking_id)
                .take(5)
            {
                out.push(SimilarView {
                    id: x.tracking_id.to_string(),
                    title: x.title,
                    status: s.c.t.status(x.status.as_str()),
                });
            }
        }
        out
    } else {
        vec![]
    };
    let page = ReportPage {
        s,
        c: &s.c,
        offer,
        steps,
        attachments,
        place: st.names.place(st, r.region_code.as_deref()).await?,
        institution: st
            .names
            .handler(st, r.institution.as_deref(), s.c.t.not_assigned)
            .await?,
        unit,
        liaison,
        category: match &r.category {
            Some(k) => st.names.category(st, k, s.c.lang).await?,
            None => String::new(),
        },
        countdown,
        overdue,
        deadline: r
            .due_at
            .map(|d| crate::web::i18n::deadline_words(d, zone, s.c.lang))
            .unwrap_or_default(),
        original,
        pii,
        suggestions,
        institutions,
        categories: st.names.categories(st, s.c.lang).await?,
        units,
        liaisons,
        similar,
        archive_reasons: ArchiveReason::ALL
            .iter()
            .map(|a| (a.as_str(), archive_label(&s.c, *a)))
            .collect(),
        form: FormToken::issue(st, &s.c),
        error,
        notice,
        h,
    };
    page.render().map_err(|e| Error::internal(e.to_string()))
}

fn archive_label(c: &crate::web::Ctx, a: ArchiveReason) -> &'static str {
    match a {
        ArchiveReason::OutOfScope => c.tr("di luar kewenangan LAPOR!", "outside LAPOR!'s scope"),
        ArchiveReason::TooGeneral => c.tr("terlalu umum / kurang jelas", "too general / unclear"),
        ArchiveReason::NotPublicService => c.tr("bukan pelayanan publik", "not a public service"),
        ArchiveReason::Spam => c.tr("spam", "spam"),
        ArchiveReason::Duplicate => c.tr("duplikat", "duplicate"),
    }
}

async fn show(
    st: &AppState,
    s: &Staff,
    id: &str,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    match build(st, s, id, error, notice).await {
        Ok(html) => {
            let mut resp = crate::web::render_html(&s.c, status, html);
            resp.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            resp
        }
        Err(e) => error_page(&s.c, &e),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    ok: String,
}

pub async fn page(
    State(st): State<AppState>,
    s: Staff,
    Path(id): Path<String>,
    q: Result<Query<Done>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let notice = q
        .ok()
        .filter(|Query(d)| !d.ok.is_empty())
        .map(|_| s.c.tr("Tersimpan.", "Saved.").to_string());
    show(&st, &s, &id, StatusCode::OK, None, notice).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    ft: String,
    v: String,
    aksi: String,
    instansi: String,
    klasifikasi: String,
    investigasi: String,
    kategori: String,
    catatan: String,
    pesan: String,
    alasan: String,
    unit: String,
    petugas: String,
    judul: String,
    isi: String,
    anonim: String,
    rahasia: String,
    ke: String,
    /// Typed into the search box beside the suggested institutions; wins
    /// over a suggestion (radio buttons cannot share a name with it).
    instansi_lain: String,
    /// Typed beside the suggested similar reports; wins likewise.
    ke_lain: String,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn request(f: &ActionForm) -> Result<ActionRequest, Error> {
    let class = || -> Result<Option<Classification>, Error> {
        match f.klasifikasi.as_str() {
            "" => Ok(None),
            k => Classification::parse(k)
                .map(Some)
                .ok_or_else(|| Error::validation("klasifikasi")),
        }
    };
    Ok(match f.aksi.as_str() {
        "disposition" => ActionRequest::Disposition {
            institution: opt(&f.instansi_lain).unwrap_or_else(|| f.instansi.trim().to_string()),
            classification: class()?,
            needs_investigation: Some(f.investigasi == "1"),
            category: opt(&f.kategori),
            note: opt(&f.catatan),
        },
        "hold" => ActionRequest::Hold {
            message: f.pesan.clone(),
        },
        "resume" => ActionRequest::Resume { note: opt(&f.catatan) },
        "accept" => ActionRequest::Accept { note: opt(&f.catatan) },
        "unit" => ActionRequest::DispositionUnit {
            unit: f.unit.trim().to_string(),
            note: opt(&f.catatan),
        },
        "liaison" => ActionRequest::AssignLiaison {
            user_id: f.petugas.trim().to_string(),
        },
        "transfer" => ActionRequest::Transfer {
            institution: f.instansi.trim().to_string(),
            reason: f.alasan.clone(),
        },
        "extension" => ActionRequest::RequestExtension {
            reason: f.alasan.clone(),
        },
        "complete" => ActionRequest::Complete { note: opt(&f.catatan) },
        "archive" => ActionRequest::Archive {
            reason: ArchiveReason::parse(&f.alasan).ok_or_else(|| Error::validation("alasan"))?,
            note: opt(&f.catatan),
        },
        "merge" => ActionRequest::Merge {
            into: opt(&f.ke_lain).unwrap_or_else(|| f.ke.trim().to_string()),
        },
        "edit" => ActionRequest::Edit {
            title: opt(&f.judul),
            body: opt(&f.isi),
            classification: class()?,
            needs_investigation: Some(f.investigasi == "1"),
            category: opt(&f.kategori),
        },
        "privacy" => ActionRequest::SetPrivacy {
            anonymous: f.anonim == "1",
            confidential: f.rahasia == "1",
        },
        "redact" => ActionRequest::Redact,
        "note" => ActionRequest::AddNote {
            body: f.catatan.clone(),
        },
        _ => return Err(Error::validation("aksi")),
    })
}

/// Where to go after an action: back to the report, unless the caller may
/// no longer read it there (it moved to another institution).
async fn after(st: &AppState, s: &Staff, id: &str) -> Response {
    match service::for_handling(st, &s.c.caller, id).await {
        Ok(_) => see_other(&s.c, &format!("/staf/laporan/{id}?ok=1")),
        Err(_) => see_other(&s.c, "/staf?ok=1"),
    }
}

/// The answer to a refused action: the page again, with the current state.
async fn refused(st: &AppState, s: &Staff, id: &str, e: Error) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    if matches!(e.code, ErrorCode::NotFound | ErrorCode::CsrfFailed) {
        return error_page(&s.c, &e);
    }
    show(st, s, id, status, Some(message(&s.c, &e)), None).await
}

pub async fn action(
    State(st): State<AppState>,
    s: Staff,
    Path(id): Path<String>,
    form: Result<axum::extract::Form<ActionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::extract::Form(f)) = form else {
        return error_page(&s.c, &Error::validation("formulir tidak terbaca / unreadable form"));
    };
    if let Err(e) = FormToken::check(&st, &s.c, &f.csrf, &f.ft).await {
        return error_page(&s.c, &e);
    }
    let Ok(version) = f.v.parse::<i64>() else {
        return refused(&st, &s, &id, Error::validation("v")).await;
    };
    let req = match request(&f) {
        Ok(r) => r,
        Err(e) => return refused(&st, &s, &id, e).await,
    };
    match service::act(&st, &s.c.caller, &id, None, req, Some(version)).await {
        Ok(_) => after(&st, &s, &id).await,
        Err(e) => refused(&st, &s, &id, e).await,
    }
}

// ------------------------------------------------------------ follow-up

pub struct TemplateView {
    pub id: i64,
    pub name: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "staff/follow_up.html")]
struct FollowUpPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    id: String,
    version: i64,
    title: String,
    /// The report's text as this caller may see it, to answer against.
    report_body: String,
    body: String,
    templates: Vec<TemplateView>,
    form: String,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct TemplatePick {
    #[serde(default)]
    templat: String,
}

/// Reply templates of the handling institution (and unit), filled in for
/// this report. Anonymous reporters' names are never filled in.
async fn templates_for(st: &AppState, s: &Staff, h: &Handling) -> Result<Vec<TemplateView>, Error> {
    let r = &h.report;
    let mut holders: Vec<String> = r.unit.iter().chain(r.institution.iter()).cloned().collect();
    holders.dedup();
    let from_code = r.unit.clone().or_else(|| r.institution.clone()).unwrap_or_default();
    let from = st.names.institution(st, &from_code).await?;
    let reporter_name = if r.anonymous {
        None
    } else if let Some(rid) = &r.reporter_id {
        st.store.reporter(rid).await?.and_then(|x| x.name)
    } else {
        None
    };
    let submitted = crate::web::i18n::short_date(r.submitted_at, r.zone, s.c.lang);
    let today = crate::web::i18n::short_date(Utc::now(), r.zone, s.c.lang);
    let tid = r.tracking_id.to_string();
    let mut pairs = vec![
        ("institution_from", from.as_str()),
        ("tracking_id", tid.as_str()),
        ("title", r.title.as_str()),
        ("submitted_date", submitted.as_str()),
        ("today", today.as_str()),
        ("officer", s.user.name.as_str()),
    ];
    if let Some(n) = &reporter_name {
        pairs.push(("reporter_name", n.as_str()));
    }
    let values = lapor_domain::template::Values::new(&pairs);
    let mut out = Vec::new();
    for code in holders {
        for t in st.store.reply_templates(&code).await? {
            if let Ok(text) = lapor_domain::template::render(&t.body, &values) {
                out.push(TemplateView {
                    id: t.id,
                    name: t.name,
                    text,
                });
            }
        }
    }
    Ok(out)
}

async fn follow_up_page(
    st: &AppState,
    s: &Staff,
    id: &str,
    body: Option<String>,
    pick: &str,
    error: Option<Error>,
) -> Response {
    let h = match service::for_handling(st, &s.c.caller, id).await {
        Ok(h) => h,
        Err(e) => return error_page(&s.c, &e),
    };
    if !h.allowed.contains(&Action::FollowUp)
        || !lapor_domain::lifecycle::statuses_for(Action::FollowUp).contains(&h.report.status)
    {
        return error_page(&s.c, &Error::new(ErrorCode::TransitionNotAllowed));
    }
    let templates = match templates_for(st, s, &h).await {
        Ok(t) => t,
        Err(e) => return error_page(&s.c, &e),
    };
    let picked = templates
        .iter()
        .find(|t| t.id.to_string() == pick)
        .map(|t| t.text.clone());
    let status = error
        .as_ref()
        .and_then(|e| StatusCode::from_u16(e.code.http_status()).ok())
        .unwrap_or(StatusCode::OK);
    let page = FollowUpPage {
        s,
        c: &s.c,
        id: h.report.tracking_id.to_string(),
        version: h.report.version,
        title: h.report.title.clone(),
        report_body: h.view.body.clone(),
        body: body.or(picked).unwrap_or_default(),
        templates,
        form: FormToken::issue(st, &s.c),
        error: error.map(|e| message(&s.c, &e)),
    };
    render(&s.c, status, &page)
}

pub async fn follow_up_form(
    State(st): State<AppState>,
    s: Staff,
    Path(id): Path<String>,
    q: Result<Query<TemplatePick>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let pick = q.map(|Query(q)| q.templat).unwrap_or_default();
    follow_up_page(&st, &s, &id, None, &pick, None).await
}

pub async fn follow_up(State(st): State<AppState>, s: Staff, Path(id): Path<String>, mut mp: Multipart) -> Response {
    let mut fields = std::collections::HashMap::new();
    let mut files = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return error_page(&s.c, &Error::new(ErrorCode::BodyTooLarge)),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "lampiran" {
            let filename = field.file_name().unwrap_or_default().to_string();
            let Ok(bytes) = field.bytes().await else {
                return error_page(&s.c, &Error::new(ErrorCode::BodyTooLarge));
            };
            if bytes.is_empty() {
                continue;
            }
            files.push((filename, bytes));
        } else {
            let Ok(text) = field.text().await else {
                return error_page(&s.c, &Error::new(ErrorCode::InvalidEncoding));
            };
            fields.insert(name, text);
        }
    }
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    if let Err(e) = FormToken::check(&st, &s.c, &get("csrf"), &get("ft")).await {
        return error_page(&s.c, &e);
    }
    let body = get("isi");
    let mut attachments = Vec::new();
    for (name, bytes) in files {
        match lapor_domain::media::clean(&bytes) {
            Ok(cleaned) => {
                use sha2::Digest;
                attachments.push(NewAttachment {
                    id: crate::auth::new_id("a-"),
                    media_type: cleaned.media_type.as_str().to_string(),
                    filename: lapor_domain::media::safe_filename(&name, cleaned.media_type),
                    sha256: hex::encode(sha2::Sha256::digest(&cleaned.bytes)),
                    data: std::sync::Arc::new(cleaned.bytes),
                });
            }
            Err(e) => return follow_up_page(&st, &s, &id, Some(body), "", Some(e)).await,
        }
    }
    let Ok(version) = get("v").parse::<i64>() else {
        return follow_up_page(&st, &s, &id, Some(body), "", Some(Error::validation("v"))).await;
    };
    let note = Some(get("catatan")).filter(|n| !n.trim().is_empty());
    let req = ActionRequest::FollowUp {
        body: body.clone(),
        note,
    };
    match service::act_with_files(&st, &s.c.caller, &id, None, req, Some(version), attachments).await {
        Ok(_) => see_other(&s.c, &format!("/staf/laporan/{id}?ok=1")),
        Err(e) => follow_up_page(&st, &s, &id, Some(body), "", Some(e)).await,
    }
}
