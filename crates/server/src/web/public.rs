//! The public side: the home page, the list and search of public reports,
//! a report's public page, and "dukung" (support).

use super::names::Opt;
use super::{Ctx, error_page, render, see_other};
use crate::AppState;
use crate::service;
use crate::views::{EventView, ReportView, ViewLevel, report_view};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use lapor_domain::calendar::Zone;
use lapor_domain::ids::TrackingId;
use lapor_domain::report::{Report, Status};
use lapor_domain::{Error, ErrorCode};
use lapor_store::filter::Cursor;
use lapor_store::ts::Ts;
use lapor_store::{PublicStats, ReportFilter};

pub const PAGE_SIZE: i64 = 20;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    c: &'a Ctx,
    stats: PublicStats,
}

pub async fn home(State(st): State<AppState>, c: Ctx) -> Response {
    match st.names.public_stats(&st).await {
        Ok(stats) => render(&c, StatusCode::OK, &HomePage { c: &c, stats }),
        Err(e) => error_page(&c, &e),
    }
}

/// A report in a list.
pub struct Card {
    pub id: String,
    pub title: String,
    pub excerpt: String,
    pub status: String,
    pub status_label: &'static str,
    pub date: String,
    pub place: String,
    pub institution: String,
    pub reporter: Option<String>,
    pub supports: i64,
}

/// Turns reports into cards as `level` may see them (masked for the public).
pub async fn cards(st: &AppState, c: &Ctx, reports: &[Report], level: ViewLevel) -> Result<Vec<Card>, Error> {
    let ids: Vec<TrackingId> = reports.iter().map(|r| r.tracking_id.clone()).collect();
    let counts = st.store.support_counts(&ids).await?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(reports.len());
    for r in reports {
        let v = report_view(r, level, None, now);
        let place = st.names.place(st, r.region_code.as_deref()).await?;
        let institution = st.names.handler(st, r.institution.as_deref(), c.t.not_assigned).await?;
        let excerpt: String = v.body.chars().take(180).collect();
        out.push(Card {
            excerpt: if excerpt.len() < v.body.len() {
                format!("{excerpt}…")
            } else {
                excerpt
            },
            status_label: c.t.status(&v.status),
            date: super::i18n::short_date(r.submitted_at, r.zone, c.lang),
            supports: counts.get(v.tracking_id.as_str()).copied().unwrap_or(0),
            id: v.tracking_id,
            title: v.title,
            status: v.status,
            place,
            institution,
            reporter: v.reporter_label,
        });
    }
    Ok(out)
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    wilayah: String,
    #[serde(default)]
    instansi: String,
    #[serde(default)]
    kategori: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    dari: String,
    #[serde(default)]
    sampai: String,
    #[serde(default)]
    setelah: String,
}

#[derive(Template)]
#[template(path = "public_list.html")]
struct ListPage<'a> {
    c: &'a Ctx,
    f: &'a ListQuery,
    cards: Vec<Card>,
    next: Option<String>,
    provinces: Vec<Opt>,
    institutions: Vec<Opt>,
    categories: Vec<Opt>,
    statuses: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

fn parse_day(s: &str, field: &str) -> Result<Option<NaiveDate>, Error> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| Error::with(ErrorCode::InvalidQuery, field.to_string()))
}

/// Start of a calendar day in Jakarta time (the national operator's zone).
fn day_start(d: NaiveDate) -> Ts {
    let local = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    Ts(local.and_utc() - chrono::Duration::seconds(i64::from(Zone::Wib.offset().local_minus_utc())))
}

impl ListQuery {
    fn filter(&self) -> Result<ReportFilter, Error> {
        let status = match self.status.as_str() {
            "" => vec![],
            "open" => vec![Status::Dispositioned, Status::InProgress, Status::Responded],
            s => vec![Status::parse(s).ok_or_else(|| Error::with(ErrorCode::InvalidQuery, "status"))?],
        };
        let from = parse_day(&self.dari, "dari")?;
        let to = parse_day(&self.sampai, "sampai")?;
        let cursor = match self.setelah.as_str() {
            "" => None,
            s => Some(Cursor::decode(s)?),
        };
        if self.q.len() > 200 {
            return Err(Error::with(ErrorCode::InvalidQuery, "q"));
        }
        let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        Ok(ReportFilter {
            public_only: true,
            terms: lapor_domain::search::query_terms(&self.q),
            statuses: status,
            region: nonempty(&self.wilayah),
            institution_subtree: nonempty(&self.instansi),
            category: nonempty(&self.kategori),
            submitted_from: from.map(day_start),
            submitted_before: to.and_then(|d| d.succ_opt()).map(day_start),
            cursor,
            limit: PAGE_SIZE,
            ..Default::default()
        })
    }

    /// This query's URL with the next page's cursor.
    fn next_url(&self, cursor: &str) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("wilayah", &self.wilayah),
            ("instansi", &self.instansi),
            ("kategori", &self.kategori),
            ("status", &self.status),
            ("dari", &self.dari),
            ("sampai", &self.sampai),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", super::enc(v)));
            }
        }
        parts.push(format!("setelah={}", super::enc(cursor)));
        format!("/laporan?{}", parts.join("&"))
    }
}

pub async fn list(
    State(st): State<AppState>,
    c: Ctx,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let (cards, next, error) = match q.filter() {
        Ok(f) => {
            let page = match st.store.list_reports(&f).await {
                Ok(p) => p,
                Err(e) => return error_page(&c, &e),
            };
            match cards(&st, &c, &page.items, ViewLevel::Public).await {
                Ok(cs) => (cs, page.next_cursor.map(|n| q.next_url(&n)), None),
                Err(e) => return error_page(&c, &e),
            }
        }
        Err(e) => (vec![], None, Some(e.code.message(c.lang).to_string())),
    };
    let (provinces, institutions, categories) = match (
        st.names.provinces(&st).await,
        st.names.handling_institutions(&st).await,
        st.names.categories(&st, c.lang).await,
    ) {
        (Ok(p), Ok(i), Ok(k)) => (p, i, k),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return error_page(&c, &e),
    };
    let statuses = ["dispositioned", "in_progress", "responded", "completed", "archived"]
        .into_iter()
        .map(|s| (s, c.t.status(s)))
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        &c,
        status,
        &ListPage {
            c: &c,
            f: &q,
            cards,
            next,
            provinces,
            institutions,
            categories,
            statuses,
            error,
        },
    )
}

/// A timeline entry in words.
pub struct Step {
    pub label: &'static str,
    pub when: String,
    pub who: String,
    pub body: Option<String>,
}

pub async fn steps(st: &AppState, c: &Ctx, events: &[EventView], zone: Zone) -> Result<Vec<Step>, Error> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let who = match (&e.to_institution, e.kind.as_str()) {
            (Some(code), "dispositioned" | "transferred" | "dispositioned_to_unit") => {
                st.names.institution(st, code).await?
            }
            _ => match &e.actor_institution {
                Some(code) if e.actor != "reporter" => st.names.institution(st, code).await?,
                _ => String::new(),
            },
        };
        out.push(Step {
            label: c.t.event(&e.kind),
            when: super::i18n::short_date(e.at, zone, c.lang),
            who,
            body: e.body.clone(),
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "public_detail.html")]
struct DetailPage<'a> {
    c: &'a Ctx,
    r: ReportView,
    steps: Vec<Step>,
    place: String,
    institution: String,
    category: String,
    supports: i64,
    supported: bool,
    is_owner: bool,
}

pub async fn detail(State(st): State<AppState>, c: Ctx, Path(id): Path<String>) -> Response {
    match detail_page(&st, &c, &id).await {
        Ok(r) => r,
        Err(e) => error_page(&c, &e),
    }
}

async fn detail_page(st: &AppState, c: &Ctx, id: &str) -> Result<Response, Error> {
    // The public page shows the public view to everyone, staff included;
    // the reporter's own view lives on the track page.
    let public = crate::auth::Caller::public(c.lang);
    let r = service::get_report(st, &public, id, None).await?;
    let tid = TrackingId::parse(&r.tracking_id)?;
    let zone = Zone::parse(&r.zone).unwrap_or(Zone::Wib);
    let steps = steps(st, c, r.events.as_deref().unwrap_or(&[]), zone).await?;
    let place = st.names.place(st, r.region_code.as_deref()).await?;
    let institution = st.names.handler(st, r.institution.as_deref(), c.t.not_assigned).await?;
    let category = match &r.category {
        Some(code) => st.names.category(st, code, c.lang).await?,
        None => String::new(),
    };
    let supports = st
        .store
        .support_counts(std::slice::from_ref(&tid))
        .await?
        .get(tid.as_str())
        .copied()
        .unwrap_or(0);
    let supported = st.store.has_supported(&tid, &c.supporter_key()).await?;
    let is_owner = match &c.caller.principal {
        lapor_domain::authz::Principal::Reporter { reporter_id } => st
            .store
            .report(&tid)
            .await?
            .is_some_and(|s| s.report.reporter_id.as_deref() == Some(reporter_id)),
        _ => false,
    };
    Ok(render(
        c,
        StatusCode::OK,
        &DetailPage {
            c,
            r,
            steps,
            place,
            institution,
            category,
            supports,
            supported,
            is_owner,
        },
    ))
}

#[derive(serde::Deserialize)]
pub struct SupportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kembali: String,
}

pub async fn support(
    State(st): State<AppState>,
    c: Ctx,
    Path(id): Path<String>,
    form: Result<axum::extract::Form<SupportForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::extract::Form(form)) = form else {
        return error_page(&c, &Error::new(ErrorCode::CsrfFailed));
    };
    if let Err(e) = c.check_csrf(&form.csrf) {
        return error_page(&c, &e);
    }
    let public = crate::auth::Caller::public(c.lang);
    // Only reports the public may see can be supported.
    let r = match service::get_report(&st, &public, &id, None).await {
        Ok(r) => r,
        Err(e) => return error_page(&c, &e),
    };
    let tid = match TrackingId::parse(&r.tracking_id) {
        Ok(t) => t,
        Err(e) => return error_page(&c, &e),
    };
    if let Err(e) = st.store.add_support(&tid, &c.supporter_key()).await {
        return error_page(&c, &e);
    }
    let back = if form.kembali.starts_with('/') && !form.kembali.starts_with("//") {
        form.kembali
    } else {
        format!("/laporan/{tid}")
    };
    see_other(&c, &back)
}
