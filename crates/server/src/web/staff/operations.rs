//! Running the deadlines and deliveries: each staff member's inbox, and for
//! the national admins the delivery queue (depths, dead letters, replay),
//! the notification templates and the working-day calendar in use.
//!
//! Who may call what: the inbox, every staff member for their own
//! notifications; everything else, national admins only.

use super::{FormToken, Staff};
use crate::AppState;
use crate::notify::templates;
use crate::web::{error_page, message, render, see_other};
use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Duration, Utc};
use lapor_domain::Error;
use lapor_domain::calendar::Zone;
use lapor_store::ts::Ts;
use lapor_store::{DeadLetter, QueueDepth, StaffNotification};

type FormResult<T> = Result<Form<T>, axum::extract::rejection::FormRejection>;

fn when(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&Zone::Wib.offset())
        .format("%Y-%m-%d %H:%M WIB")
        .to_string()
}

// ---------------------------------------------------------------- inbox

#[derive(Template)]
#[template(path = "staff/inbox.html")]
struct InboxPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    items: Vec<(StaffNotification, String)>,
    unread: usize,
    form: String,
}

pub async fn inbox(State(st): State<AppState>, s: Staff) -> Response {
    let items = match st.store.staff_notifications(&s.user.id, 100).await {
        Ok(v) => v,
        Err(e) => return error_page(&s.c, &e),
    };
    let unread = items.iter().filter(|n| !n.read).count();
    let page = InboxPage {
        s: &s,
        c: &s.c,
        items: items.into_iter().map(|n| (n.clone(), when(n.at))).collect(),
        unread,
        form: FormToken::issue(&st, &s.c),
    };
    render(&s.c, StatusCode::OK, &page)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ReadForm {
    csrf: String,
    ft: String,
    /// One notification, or all when empty.
    id: String,
}

impl super::Posted for ReadForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

pub async fn inbox_read(State(st): State<AppState>, s: Staff, form: FormResult<ReadForm>) -> Response {
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let id = match f.id.trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => return error_page(&s.c, &Error::validation("id")),
        },
    };
    // Scoped to the caller: another user's notification id changes nothing.
    match st.store.mark_staff_notifications_read(&s.user.id, id, Ts::now()).await {
        Ok(_) => see_other(&s.c, "/staf/kotak-masuk"),
        Err(e) => error_page(&s.c, &e),
    }
}

// ----------------------------------------------------------- deliveries

#[derive(Template)]
#[template(path = "staff/deliveries.html")]
struct DeliveriesPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    depths: Vec<(QueueDepth, String)>,
    dead: Vec<(DeadLetter, String)>,
    notice: Option<String>,
    form: String,
}

async fn deliveries_page(st: &AppState, s: &Staff, notice: Option<String>) -> Response {
    if !s.is_national() {
        return error_page(&s.c, &Error::forbidden());
    }
    let now = Utc::now();
    let loaded = async { Ok::<_, Error>((st.store.queue_depths().await?, st.store.dead_letters(100).await?)) }.await;
    let (depths, dead) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(&s.c, &e),
    };
    let age = |t: Option<chrono::DateTime<Utc>>| {
        t.map_or("—".to_string(), |t| {
            let m = (now - t).num_minutes().max(0);
            if m < 120 {
                format!("{m} min")
            } else {
                format!("{} h", m / 60)
            }
        })
    };
    let page = DeliveriesPage {
        s,
        c: &s.c,
        depths: depths.into_iter().map(|d| (d.clone(), age(d.oldest))).collect(),
        // Payloads may hold personal data; the page shows where and why, not what.
        dead: dead
            .into_iter()
            .map(|d| (d.clone(), when(d.last_attempt_at.unwrap_or(d.created_at))))
            .collect(),
        notice,
        form: FormToken::issue(st, &s.c),
    };
    render(&s.c, StatusCode::OK, &page)
}

pub async fn deliveries(State(st): State<AppState>, s: Staff) -> Response {
    deliveries_page(&st, &s, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ReplayForm {
    csrf: String,
    ft: String,
    /// A job id, or "semua" for every dead letter.
    id: String,
}

impl super::Posted for ReplayForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

pub async fn replay(State(st): State<AppState>, s: Staff, form: FormResult<ReplayForm>) -> Response {
    if !s.is_national() {
        return error_page(&s.c, &Error::forbidden());
    }
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let ids = match f.id.as_str() {
        "semua" => None,
        v => match v.parse::<i64>() {
            Ok(id) => Some(vec![id]),
            Err(_) => return error_page(&s.c, &Error::validation("id")),
        },
    };
    let res = async {
        let n = st.store.replay_jobs(ids.as_deref(), Ts::now()).await?;
        super::admin::record(&st, &s, "outbox.replayed", "outbox", Some(format!("{} ({n})", f.id))).await?;
        Ok::<_, Error>(n)
    }
    .await;
    match res {
        Ok(n) => {
            let notice = s.c.tr("pesan dikirim ulang", "messages queued again");
            deliveries_page(&st, &s, Some(format!("{n} {notice}"))).await
        }
        Err(e) => error_page(&s.c, &e),
    }
}

// -------------------------------------------------- notification templates

struct TemplateRow {
    name: &'static str,
    lang: &'static str,
    subject: String,
    body: String,
    edited: Option<String>,
    variables: String,
}

#[derive(Template)]
#[template(path = "staff/notify_templates.html")]
struct NotifyTemplatesPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    rows: Vec<TemplateRow>,
    error: Option<(String, String, String)>,
    form: String,
}

async fn notify_templates_page(
    st: &AppState,
    s: &Staff,
    error: Option<(String, String, Error)>,
    draft: Option<(String, String)>,
) -> Response {
    if !s.is_national() {
        return error_page(&s.c, &Error::forbidden());
    }
    let stored = match st.store.notification_templates().await {
        Ok(v) => v,
        Err(e) => return error_page(&s.c, &e),
    };
    let mut rows = Vec::new();
    for name in templates::names() {
        for lang in ["id", "en"] {
            let Some((subject, body)) = templates::default_of(name, lang) else {
                continue;
            };
            let mine = stored.iter().find(|t| t.name == name && t.lang == lang);
            let failed_here = error.as_ref().is_some_and(|(n, l, _)| n == name && l == lang);
            let (subject, body) = match (&draft, failed_here, mine) {
                // Show what the admin typed next to the error, not the old text.
                (Some((ds, db)), true, _) => (ds.clone(), db.clone()),
                (_, _, Some(t)) => (t.subject.clone(), t.body.clone()),
                _ => (subject.to_string(), body.to_string()),
            };
            let variables = templates::sample(name)
                .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>().join(", ")))
                .unwrap_or_default();
            rows.push(TemplateRow {
                name,
                lang,
                subject,
                body,
                edited: mine.map(|t| when(t.updated_at)),
                variables,
            });
        }
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = NotifyTemplatesPage {
        s,
        c: &s.c,
        rows,
        error: error.map(|(n, l, e)| (n, l, message(&s.c, &e))),
        form: FormToken::issue(st, &s.c),
    };
    render(&s.c, status, &page)
}

pub async fn notify_templates(State(st): State<AppState>, s: Staff) -> Response {
    notify_templates_page(&st, &s, None, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NotifyTemplateForm {
    csrf: String,
    ft: String,
    aksi: String,
    nama: String,
    bahasa: String,
    subjek: String,
    isi: String,
}

impl super::Posted for NotifyTemplateForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

pub async fn notify_templates_post(
    State(st): State<AppState>,
    s: Staff,
    form: FormResult<NotifyTemplateForm>,
) -> Response {
    if !s.is_national() {
        return error_page(&s.c, &Error::forbidden());
    }
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let target = format!("{}/{}", f.nama, f.bahasa);
    let res = match f.aksi.as_str() {
        "simpan" => {
            let saved = st
                .templates
                .save(st.store.as_ref(), &f.nama, &f.bahasa, &f.subjek, &f.isi, &s.user.id)
                .await;
            match saved {
                Ok(()) => super::admin::record(&st, &s, "notification_template.saved", &target, None).await,
                Err(e) => Err(e),
            }
        }
        "pulihkan" => match st.store.delete_notification_template(&f.nama, &f.bahasa).await {
            Ok(_) => {
                st.templates.invalidate();
                super::admin::record(&st, &s, "notification_template.restored", &target, None).await
            }
            Err(e) => Err(e),
        },
        _ => Err(Error::validation("aksi")),
    };
    match res {
        Ok(()) => see_other(&s.c, "/staf/templat-notifikasi"),
        Err(e) => notify_templates_page(&st, &s, Some((f.nama, f.bahasa, e)), Some((f.subjek, f.isi))).await,
    }
}

// ------------------------------------------------------------- calendar

#[derive(Template)]
#[template(path = "staff/calendar.html")]
struct CalendarPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    source: String,
    first: i32,
    last: i32,
    provisional: Vec<i32>,
    joint_leave_is_working: bool,
    upcoming: Vec<(String, String, bool)>,
    /// Problems of an uploaded file, by line; the calendar in use stays.
    errors: Vec<String>,
    form: String,
}

pub async fn calendar(State(st): State<AppState>, s: Staff) -> Response {
    calendar_page(&st, &s, Vec::new()).await
}

async fn calendar_page(st: &AppState, s: &Staff, errors: Vec<String>) -> Response {
    if !s.is_national() {
        return error_page(&s.c, &Error::forbidden());
    }
    let cal = st.calendar.get();
    let source = match st.calendar.file_id() {
        Some(id) => match st.store.latest_holiday_file().await {
            Ok(Some(f)) if f.id == id => format!("#{id} {} ({})", f.source, when(f.imported_at)),
            Ok(_) => format!("#{id}"),
            Err(e) => return error_page(&s.c, &e),
        },
        None => {
            s.c.tr("bawaan (python-holidays 0.109)", "built in (python-holidays 0.109)")
                .to_string()
        }
    };
    let today = Utc::now().with_timezone(&Zone::Wib.offset()).date_naive();
    let lang = s.c.lang;
    let mut upcoming = Vec::new();
    let mut d = today;
    while d <= today + Duration::days(120) {
        if let Some(h) = cal.holiday(d) {
            let joint = h.kind == lapor_domain::calendar::HolidayKind::JointLeave;
            upcoming.push((crate::web::i18n::long_date(d, lang), h.name.clone(), joint));
        }
        d += Duration::days(1);
    }
    let years = cal.covered_years();
    let page = CalendarPage {
        s,
        c: &s.c,
        source,
        first: *years.start(),
        last: *years.end(),
        provisional: cal
            .provisional_years()
            .into_iter()
            .filter(|y| *y >= today.year())
            .collect(),
        joint_leave_is_working: cal.joint_leave_is_working(),
        upcoming,
        form: FormToken::issue(st, &s.c),
        errors,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(&s.c, status, &page)
}

/// Largest holiday file accepted (13 years of holidays are about 15 KB).
pub const HOLIDAY_FILE_MAX: usize = 1024 * 1024;

/// A new holiday file, uploaded: checked whole, stored, and in use at once
/// here (other processes switch on their next scheduler pass).
pub async fn calendar_upload(State(st): State<AppState>, s: Staff, mut mp: axum::extract::Multipart) -> Response {
    if !s.is_national() {
        return error_page(&s.c, &Error::forbidden());
    }
    let mut fields = std::collections::HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return error_page(&s.c, &Error::new(lapor_domain::ErrorCode::BodyTooLarge)),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "berkas" {
            let filename = field.file_name().unwrap_or("holidays.csv").to_string();
            match field.bytes().await {
                Ok(b) => file = Some((filename, b.to_vec())),
                Err(_) => return error_page(&s.c, &Error::new(lapor_domain::ErrorCode::BodyTooLarge)),
            }
        } else if let Ok(text) = field.text().await {
            fields.insert(name, text);
        }
    }
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    if let Err(e) = FormToken::check(&st, &s.c, &get("csrf"), &get("ft")).await {
        return error_page(&s.c, &e);
    }
    let Some((filename, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return calendar_page(
            &st,
            &s,
            vec![s.c.tr("Pilih berkas CSV.", "Choose a CSV file.").to_string()],
        )
        .await;
    };
    // A text file, sniffed: not the extension, the bytes.
    let Ok(text) = String::from_utf8(bytes) else {
        return calendar_page(
            &st,
            &s,
            vec![
                s.c.tr("Berkas bukan teks UTF-8.", "The file is not UTF-8 text.")
                    .to_string(),
            ],
        )
        .await;
    };
    let provisional = match crate::holidays::parse_years(&get("sementara")) {
        Ok(p) => p,
        Err(e) => return calendar_page(&st, &s, vec![message(&s.c, &e)]).await,
    };
    let source = format!("{filename} (web, {})", s.user.id);
    match crate::holidays::import(st.store.as_ref(), &source, &text, provisional).await {
        Ok(done) => {
            if let Err(e) = st.calendar.refresh(st.store.as_ref()).await {
                return error_page(&s.c, &e);
            }
            match super::admin::record(
                &st,
                &s,
                "calendar.imported",
                &format!("holiday_file:{}", done.id),
                Some(done.to_string()),
            )
            .await
            {
                Ok(()) => see_other(&s.c, "/staf/kalender"),
                Err(e) => error_page(&s.c, &e),
            }
        }
        Err(crate::holidays::HolidayImportError::Invalid(errors)) => {
            let line = s.c.tr("baris", "line");
            let lines = errors
                .iter()
                .map(|e| format!("{line} {}: {}", e.line, e.message))
                .collect();
            calendar_page(&st, &s, lines).await
        }
        Err(crate::holidays::HolidayImportError::Store(e)) => error_page(&s.c, &e),
    }
}
