//! What each kind of caller sees of a report. The public view masks personal
//! data and shows anonymous reporters as "Anonim"; the reporter view shows
//! their own words but nothing internal; the staff view shows everything
//! except the reporter's identity, which has its own audited endpoint.

use chrono::{DateTime, NaiveDate, Utc};
use lapor_domain::event::{Actor, Event};
use lapor_domain::pii::{self, PiiKind};
use lapor_domain::report::{Report, Visibility};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ViewLevel {
    Public,
    Reporter,
    Staff,
}

/// A report as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub tracking_id: String,
    /// Pass back as `version` in lifecycle actions (optimistic concurrency).
    pub version: i64,
    pub view: ViewLevel,
    #[schema(example = "dispositioned")]
    pub status: String,
    pub classification: String,
    pub needs_investigation: bool,
    pub category: Option<String>,
    pub title: String,
    pub body: String,
    pub incident_date: Option<NaiveDate>,
    pub region_code: Option<String>,
    /// Public views round coordinates to about 100 m.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub anonymous: bool,
    pub confidential: bool,
    pub channel: String,
    /// "Anonim" for anonymous reports in non-staff views.
    pub reporter_label: Option<String>,
    pub institution: Option<String>,
    /// Only in the staff view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub stage: Option<String>,
    /// Time zone (WIB/WITA/WIT) of the clock that runs the deadline.
    pub zone: String,
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
    pub reopen_count: u32,
    pub transfer_count: u32,
    pub archive_reason: Option<String>,
    pub merged_into: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// `offered` once the report has been unresolved long enough for the
    /// reporter to take it to the Ombudsman; `escalated` once they did.
    /// Not shown to the public.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ombudsman: Option<String>,
    /// Kinds of personal data detected in the text (staff view only), so
    /// verifiers can redact or mark the report confidential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pii_detected: Option<Vec<PiiKind>>,
    /// Events the caller may see, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventView>>,
    /// Files that came with the report and its answers: for the reporter
    /// and staff reading one report, never for the public.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
}

/// A file of a report, cleaned on arrival (metadata stripped, type sniffed).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: String,
    pub filename: String,
    /// The sniffed type, e.g. `image/jpeg`.
    pub media_type: String,
    pub size: i64,
    /// The event it came with (1: the submission).
    pub event_seq: i64,
    /// Where to fetch it, with the same credentials as the report.
    pub url: String,
}

impl From<&lapor_store::AttachmentMeta> for AttachmentView {
    fn from(a: &lapor_store::AttachmentMeta) -> Self {
        AttachmentView {
            id: a.id.clone(),
            filename: a.filename.clone(),
            media_type: lapor_domain::media::MediaType::parse(&a.media_type)
                .map(|m| m.mime().to_string())
                .unwrap_or_else(|| a.media_type.clone()),
            size: a.size,
            event_seq: a.event_seq,
            url: format!("/api/v1/attachments/{}", a.id),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    #[schema(example = "followed_up")]
    pub kind: String,
    /// Who acted, as a role label: reporter, system, or a staff role.
    pub actor: String,
    /// Institution the acting staff member belongs to.
    pub actor_institution: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub from_institution: Option<String>,
    pub to_institution: Option<String>,
    pub body: Option<String>,
    pub visibility: String,
}

fn round3(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 1000.0).round() / 1000.0)
}

fn mask_opt(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|t| pii::mask(t))
}

fn event_view(e: &Event, level: ViewLevel) -> Option<EventView> {
    let visible = match level {
        ViewLevel::Staff => true,
        ViewLevel::Reporter => e.visibility != Visibility::Internal,
        ViewLevel::Public => e.visibility == Visibility::Public,
    };
    if !visible {
        return None;
    }
    let (actor, actor_institution) = match &e.actor {
        Actor::Reporter { .. } => ("reporter".to_string(), None),
        Actor::System => ("system".to_string(), None),
        Actor::Staff { role, institution, .. } => (role.as_str().to_string(), Some(institution.clone())),
    };
    let body = if level == ViewLevel::Public {
        mask_opt(&e.body)
    } else {
        e.body.clone()
    };
    Some(EventView {
        seq: e.seq,
        at: e.at,
        kind: e.data.kind().to_string(),
        actor,
        actor_institution,
        from_status: e.from_status.map(|s| s.as_str().to_string()),
        to_status: e.to_status.as_str().to_string(),
        from_institution: e.from_institution.clone(),
        to_institution: e.to_institution.clone(),
        body,
        visibility: e.visibility.as_str().to_string(),
    })
}

pub fn report_view(r: &Report, level: ViewLevel, events: Option<&[Event]>, now: DateTime<Utc>) -> ReportView {
    let public = level == ViewLevel::Public;
    let text = |s: &str| if public { pii::mask(s) } else { s.to_string() };
    ReportView {
        tracking_id: r.tracking_id.to_string(),
        version: r.version,
        view: level,
        status: r.status.as_str().into(),
        classification: r.classification.as_str().into(),
        needs_investigation: r.needs_investigation,
        category: r.category.clone(),
        title: text(&r.title),
        body: text(&r.body),
        incident_date: r.incident_date,
        region_code: r.region_code.clone(),
        latitude: if public { round3(r.latitude) } else { r.latitude },
        longitude: if public { round3(r.longitude) } else { r.longitude },
        anonymous: r.anonymous,
        confidential: r.confidential,
        channel: r.channel.as_str().into(),
        reporter_label: (r.anonymous && level != ViewLevel::Reporter).then(|| "Anonim".to_string()),
        institution: r.institution.clone(),
        unit: if level == ViewLevel::Staff {
            r.unit.clone()
        } else {
            None
        },
        stage: r.stage.map(|s| s.as_str().into()),
        zone: r.zone.as_str().into(),
        due_at: r.due_at,
        overdue: r.is_overdue(now),
        rating: r.rating,
        rating_comment: r.rating_comment.as_deref().map(text),
        reopen_count: r.reopen_count,
        transfer_count: r.transfer_count,
        archive_reason: r.archive_reason.map(|a| a.as_str().into()),
        merged_into: r.merged_into.as_ref().map(|t| t.to_string()),
        submitted_at: r.submitted_at,
        updated_at: r.updated_at,
        completed_at: r.completed_at,
        ombudsman: r
            .ombudsman
            .filter(|_| level != ViewLevel::Public)
            .map(|o| o.as_str().to_string()),
        pii_detected: (level == ViewLevel::Staff).then(|| {
            let mut k = pii::kinds(&r.title);
            for kind in pii::kinds(&r.body) {
                if !k.contains(&kind) {
                    k.push(kind);
                }
            }
            k
        }),
        events: events.map(|es| es.iter().filter_map(|e| event_view(e, level)).collect()),
        attachments: None,
    }
}
