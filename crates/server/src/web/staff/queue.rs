//! The queues: the national verification queue (oldest first, with each
//! report's working-day countdown), institution inboxes, and read-only
//! subtree views for supervisors and oversight. Bulk actions apply one
//! action to a selection, each report checked on its own.

use super::{FormToken, Staff};
use crate::AppState;
use crate::service::{self, ActionRequest};
use crate::web::{error_page, render, see_other};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use lapor_domain::institution::Role;
use lapor_domain::report::{ArchiveReason, Report, Status};
use lapor_domain::{Error, ErrorCode};
use lapor_store::ReportFilter;
use lapor_store::filter::Cursor;
use lapor_store::ts::Ts;

/// Which queue a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Verification,
    Inbox,
    Supervision,
    /// Reports the reporter took to the Ombudsman (oversight's intake).
    Ombudsman,
}

impl View {
    fn parse(s: &str) -> Option<View> {
        match s {
            "verifikasi" => Some(View::Verification),
            "masuk" => Some(View::Inbox),
            "pengawasan" => Some(View::Supervision),
            "ombudsman" => Some(View::Ombudsman),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            View::Verification => "verifikasi",
            View::Inbox => "masuk",
            View::Supervision => "pengawasan",
            View::Ombudsman => "ombudsman",
        }
    }
}

/// The views this member may open, the default first.
pub fn views_for(s: &Staff) -> Vec<View> {
    let mut v = Vec::new();
    if s.has(Role::Oversight) {
        v.push(View::Ombudsman);
    }
    if s.is_national() {
        v.push(View::Verification);
    }
    if !s
        .institutions(&[Role::InstitutionAdmin, Role::UnitAdmin, Role::Liaison])
        .is_empty()
    {
        v.push(View::Inbox);
    }
    if s.has(Role::Supervisor) || s.has(Role::Oversight) || s.has(Role::Auditor) || s.is_national() {
        v.push(View::Supervision);
    }
    if s.is_national() || s.has(Role::Auditor) {
        v.push(View::Ombudsman);
    }
    v
}

#[derive(serde::Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    lihat: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    kategori: String,
    #[serde(default)]
    wilayah: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    terlambat: String,
    #[serde(default)]
    saya: String,
    #[serde(default)]
    lanjut: String,
    #[serde(default)]
    ok: String,
    #[serde(default)]
    gagal: String,
}

pub struct Row {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub anonymous: bool,
    pub confidential: bool,
    pub status: &'static str,
    pub category: String,
    pub place: String,
    pub institution: String,
    pub received: String,
    /// "2 hari kerja lagi" / "terlambat 3 hari kerja".
    pub countdown: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "staff/queue.html")]
struct QueuePage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    view: View,
    views: Vec<View>,
    q: QueueQuery,
    rows: Vec<Row>,
    total: i64,
    next_href: Option<String>,
    bulk: bool,
    categories: Vec<crate::web::names::Opt>,
    form: String,
    flash: Option<String>,
    flash_error: Option<String>,
    /// For national admins: holiday years whose joint leave is provisional.
    calendar_warning: Option<String>,
}

/// Working days left (or overdue) in words.
pub fn countdown(st: &AppState, r: &Report, now: DateTime<Utc>, lang: lapor_domain::Lang) -> (String, bool) {
    let Some(due) = r.due_at else {
        return (String::new(), false);
    };
    if r.status == Status::OnHold {
        return (
            match lang {
                lapor_domain::Lang::Id => "dijeda".into(),
                lapor_domain::Lang::En => "paused".into(),
            },
            false,
        );
    }
    let overdue = r.is_overdue(now);
    let n = if due >= now {
        st.calendar.get().working_days_elapsed(now, due, r.zone)
    } else {
        st.calendar.get().working_days_elapsed(due, now, r.zone)
    };
    let words = match (lang, due >= now) {
        (lapor_domain::Lang::Id, true) if n == 0 => "hari ini".to_string(),
        (lapor_domain::Lang::En, true) if n == 0 => "due today".to_string(),
        (lapor_domain::Lang::Id, true) => format!("{n} hari kerja lagi"),
        (lapor_domain::Lang::En, true) => format!("{n} working days left"),
        (lapor_domain::Lang::Id, false) => format!("terlambat {} hari kerja", n.max(1)),
        (lapor_domain::Lang::En, false) => format!("{} working days overdue", n.max(1)),
    };
    (words, overdue)
}

fn filter_for(s: &Staff, view: View, q: &QueueQuery) -> Result<ReportFilter, Error> {
    let mut f = ReportFilter {
        limit: 50,
        oldest_first: true,
        ..Default::default()
    };
    f.statuses = match (view, Status::parse(&q.status)) {
        (_, Some(st)) => vec![st],
        (View::Verification, None) => vec![Status::Submitted, Status::OnHold],
        (View::Inbox, None) => vec![Status::Dispositioned, Status::InProgress, Status::Responded],
        (View::Supervision, None) => vec![
            Status::Submitted,
            Status::OnHold,
            Status::Dispositioned,
            Status::InProgress,
            Status::Responded,
        ],
        // Every status: the Ombudsman follows a case to its end.
        (View::Ombudsman, None) => Vec::new(),
    };
    match view {
        View::Verification => {}
        View::Inbox => {
            f.scope = Some(s.institutions(&[Role::InstitutionAdmin, Role::UnitAdmin, Role::Liaison]));
            if q.saya == "1" {
                f.liaison = Some(s.user.id.clone());
            }
        }
        View::Supervision => {
            // Oversight, auditors and the national admin see everything;
            // supervisors their subtrees.
            if !(s.has(Role::Oversight) || s.has(Role::Auditor) || s.is_national()) {
                f.scope = Some(s.institutions(&[Role::Supervisor]));
            }
        }
        View::Ombudsman => f.ombudsman = Some(lapor_domain::report::Ombudsman::Escalated),
    }
    if !q.kategori.is_empty() {
        f.category = Some(q.kategori.clone());
    }
    if !q.wilayah.is_empty() {
        if lapor_store::Region::level_of(&q.wilayah).is_none() {
            return Err(Error::with(ErrorCode::InvalidQuery, "wilayah"));
        }
        f.region = Some(q.wilayah.clone());
    }
    if q.terlambat == "1" {
        f.overdue_at = Some(Ts::now());
    }
    f.terms = lapor_domain::search::query_terms(&q.q);
    if !q.lanjut.is_empty() {
        f.cursor = Some(Cursor::decode(&q.lanjut)?);
    }
    Ok(f)
}

/// "Joint leave for 2027 is provisional" while the decree is not out.
fn calendar_warning(st: &AppState, lang: lapor_domain::Lang) -> Option<String> {
    use chrono::Datelike;
    let this_year = Utc::now().year();
    let years: Vec<String> = st
        .calendar
        .get()
        .provisional_years()
        .into_iter()
        .filter(|y| *y >= this_year)
        .map(|y| y.to_string())
        .collect();
    if years.is_empty() {
        return None;
    }
    Some(match lang {
        lapor_domain::Lang::Id => format!(
            "Cuti bersama {} masih sementara: batas waktu pada tahun itu dapat bergeser.",
            years.join(", ")
        ),
        lapor_domain::Lang::En => format!(
            "Joint leave for {} is provisional: deadlines in that year may move.",
            years.join(", ")
        ),
    })
}

pub async fn page(
    State(st): State<AppState>,
    s: Staff,
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return error_page(&s.c, &Error::new(ErrorCode::InvalidQuery));
    };
    match build(&st, &s, q).await {
        Ok(resp) => resp,
        Err(e) => error_page(&s.c, &e),
    }
}

async fn build(st: &AppState, s: &Staff, q: QueueQuery) -> Result<Response, Error> {
    let views = views_for(s);
    let Some(default) = views.first().copied() else {
        return Err(Error::forbidden());
    };
    let view = match View::parse(&q.lihat) {
        Some(v) if views.contains(&v) => v,
        Some(_) => return Err(Error::forbidden()),
        None => default,
    };
    let f = filter_for(s, view, &q)?;
    let (page, total) = tokio::try_join!(st.store.list_reports(&f), st.store.count_reports(&f, 10_000))?;
    let now = Utc::now();
    let mut rows = Vec::with_capacity(page.items.len());
    for r in &page.items {
        let (countdown, overdue) = countdown(st, r, now, s.c.lang);
        rows.push(Row {
            id: r.tracking_id.to_string(),
            version: r.version,
            title: r.title.clone(),
            anonymous: r.anonymous,
            confidential: r.confidential,
            status: s.c.t.status(r.status.as_str()),
            category: match &r.category {
                Some(k) => st.names.category(st, k, s.c.lang).await?,
                None => String::new(),
            },
            place: st.names.place(st, r.region_code.as_deref()).await?,
            institution: match &r.institution {
                Some(i) => st.names.institution(st, i).await?,
                None => String::new(),
            },
            received: crate::web::i18n::short_date(r.submitted_at, r.zone, s.c.lang),
            countdown,
            overdue,
        });
    }
    let flash = (!q.ok.is_empty()).then(|| match s.c.lang {
        lapor_domain::Lang::Id => format!("{} laporan diproses.", q.ok),
        lapor_domain::Lang::En => format!("{} reports processed.", q.ok),
    });
    let flash_error = (!q.gagal.is_empty()).then(|| match s.c.lang {
        lapor_domain::Lang::Id => format!("Tidak diproses (diubah orang lain atau tidak diizinkan): {}", q.gagal),
        lapor_domain::Lang::En => format!("Not processed (changed by someone else or not allowed): {}", q.gagal),
    });
    let page = QueuePage {
        s,
        c: &s.c,
        view,
        views,
        rows,
        total,
        next_href: page.next_cursor.map(|n| {
            use crate::web::enc;
            format!(
                "/staf?lihat={}&status={}&kategori={}&wilayah={}&q={}&terlambat={}&saya={}&lanjut={}",
                view.as_str(),
                enc(&q.status),
                enc(&q.kategori),
                enc(&q.wilayah),
                enc(&q.q),
                enc(&q.terlambat),
                enc(&q.saya),
                enc(&n)
            )
        }),
        bulk: view == View::Verification,
        categories: st.names.categories(st, s.c.lang).await?,
        form: FormToken::issue(st, &s.c),
        flash,
        flash_error,
        calendar_warning: s.is_national().then(|| calendar_warning(st, s.c.lang)).flatten(),
        q,
    };
    Ok(render(&s.c, StatusCode::OK, &page))
}

/// One action on many reports. Each selected report carries the version
/// the admin saw (`ID:version`); a report changed since is skipped and
/// named, never overwritten.
pub async fn bulk(State(st): State<AppState>, s: Staff, body: Bytes) -> Response {
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return error_page(&s.c, &Error::new(ErrorCode::CsrfFailed));
    };
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if let Err(e) = FormToken::check(&st, &s.c, field("csrf"), field("ft")).await {
        return error_page(&s.c, &e);
    }
    let selected: Vec<(&str, Option<i64>)> = pairs
        .iter()
        .filter(|(n, _)| n == "pilih")
        .map(|(_, v)| match v.split_once(':') {
            Some((id, ver)) => (id, ver.parse().ok()),
            None => (v.as_str(), None),
        })
        .take(200)
        .collect();
    if selected.is_empty() {
        return error_page(
            &s.c,
            &Error::validation("pilih: tidak ada laporan dipilih / nothing selected"),
        );
    }
    let make = || -> Result<ActionRequest, Error> {
        Ok(match field("aksi") {
            "disposisi" => ActionRequest::Disposition {
                institution: field("instansi").trim().to_string(),
                classification: None,
                needs_investigation: None,
                category: None,
                note: None,
            },
            "tunda" => ActionRequest::Hold {
                message: field("pesan").to_string(),
            },
            "arsip" => ActionRequest::Archive {
                reason: ArchiveReason::parse(field("alasan")).ok_or_else(|| Error::validation("alasan"))?,
                note: None,
            },
            _ => return Err(Error::validation("aksi")),
        })
    };
    let mut ok = 0;
    let mut failed = Vec::new();
    for (id, version) in selected {
        let req = match make() {
            Ok(r) => r,
            Err(e) => return error_page(&s.c, &e),
        };
        let version = match version {
            Some(v) => v,
            None => {
                failed.push(id.to_string());
                continue;
            }
        };
        match service::act(&st, &s.c.caller, id, None, req, Some(version)).await {
            Ok(_) => ok += 1,
            // A bad value is the same for every report: say so at once.
            Err(e) if matches!(e.code, ErrorCode::ValidationFailed | ErrorCode::UnknownInstitution) && ok == 0 => {
                return error_page(&s.c, &e);
            }
            Err(_) => failed.push(id.to_string()),
        }
    }
    let back = format!(
        "/staf?lihat=verifikasi&ok={ok}{}",
        if failed.is_empty() {
            String::new()
        } else {
            format!("&gagal={}", crate::web::enc(&failed.join(", ")))
        }
    );
    see_other(&s.c, &back)
}
