//! The status machine. `decide` checks a command against the current state
//! and returns the event to append; `apply` folds an event into the state.
//! Both are pure: the caller supplies the clock, the calendar and whatever it
//! looked up (target institutions, the report to merge into).

use crate::authz::Action;
use crate::calendar::{Calendar, Zone};
use crate::error::Error;
use crate::event::{Actor, Event, EventData, Submission};
use crate::ids::TrackingId;
use crate::institution::InstitutionKind;
use crate::report::{
    ArchiveReason, COMMENT_MAX, Classification, Ombudsman, Report, Stage, Status, Visibility, check_text,
};
use crate::sla::{EscalationStep, SlaPolicy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An institution the caller looked up for a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstitutionTarget {
    pub code: String,
    pub kind: InstitutionKind,
    pub zone: Zone,
    /// Codes from the root down to the parent (excluding the target itself).
    pub ancestors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Disposition {
        to: InstitutionTarget,
        classification: Option<Classification>,
        needs_investigation: Option<bool>,
        category: Option<String>,
        note: Option<String>,
    },
    PutOnHold {
        message: String,
    },
    Resume {
        note: Option<String>,
    },
    Accept {
        note: Option<String>,
    },
    DispositionToUnit {
        unit: InstitutionTarget,
        note: Option<String>,
    },
    Transfer {
        to: InstitutionTarget,
        reason: String,
    },
    FollowUp {
        body: String,
    },
    Reply {
        body: String,
    },
    Rate {
        rating: u8,
        comment: Option<String>,
    },
    Complete {
        note: Option<String>,
    },
    Archive {
        reason: ArchiveReason,
        note: Option<String>,
    },
    Merge {
        into: TrackingId,
        into_status: Status,
    },
    Reopen {
        reason: String,
    },
    /// Correct the title, text, classification or category (None keeps it).
    Edit {
        title: Option<String>,
        body: Option<String>,
        classification: Option<Classification>,
        needs_investigation: Option<bool>,
        category: Option<String>,
    },
    /// Staff may only add protection, never lift what the reporter chose:
    /// `true` sets the flag, `false` leaves it as it is.
    SetPrivacy {
        anonymous: bool,
        confidential: bool,
    },
    /// Mask the personal data detected in the title and body.
    Redact,
    AddNote {
        body: String,
    },
    RequestExtension {
        reason: String,
    },
    /// The caller checked that the user is a liaison of the handling
    /// institution or unit.
    AssignLiaison {
        user_id: String,
    },
    /// Deadline scheduler: remind the responsible staff.
    Remind {
        step: EscalationStep,
    },
    /// Deadline scheduler: the deadline passed; climb the ladder.
    Escalate {
        level: u8,
        step: EscalationStep,
    },
    /// Deadline scheduler: no reply from the reporter within the window.
    AutoComplete,
    /// Deadline scheduler: unresolved too long; offer the Ombudsman.
    OfferOmbudsman,
    /// The reporter accepts the Ombudsman offer.
    EscalateToOmbudsman {
        note: Option<String>,
    },
}

impl Command {
    /// The right (and the status rule) this command needs.
    pub fn action(&self) -> Action {
        match self {
            Command::Disposition { .. } => Action::Disposition,
            Command::PutOnHold { .. } => Action::Hold,
            Command::Resume { .. } => Action::Resume,
            Command::Accept { .. } => Action::Accept,
            Command::DispositionToUnit { .. } => Action::DispositionToUnit,
            Command::Transfer { .. } => Action::Transfer,
            Command::FollowUp { .. } => Action::FollowUp,
            Command::Reply { .. } => Action::Reply,
            Command::Rate { .. } => Action::Rate,
            Command::Complete { .. } => Action::Complete,
            Command::Archive { .. } => Action::Archive,
            Command::Merge { .. } => Action::Merge,
            Command::Reopen { .. } => Action::Reopen,
            Command::Edit { .. } => Action::Edit,
            Command::SetPrivacy { .. } => Action::SetPrivacy,
            Command::Redact => Action::Redact,
            Command::AddNote { .. } => Action::AddNote,
            Command::RequestExtension { .. } => Action::RequestExtension,
            Command::AssignLiaison { .. } => Action::AssignLiaison,
            Command::Remind { .. } | Command::Escalate { .. } | Command::AutoComplete | Command::OfferOmbudsman => {
                Action::RunDeadlines
            }
            Command::EscalateToOmbudsman { .. } => Action::EscalateToOmbudsman,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Command::Disposition { .. } => "disposition",
            Command::PutOnHold { .. } => "hold",
            Command::Resume { .. } => "resume",
            Command::Accept { .. } => "accept",
            Command::DispositionToUnit { .. } => "disposition_unit",
            Command::Transfer { .. } => "transfer",
            Command::FollowUp { .. } => "follow_up",
            Command::Reply { .. } => "reply",
            Command::Rate { .. } => "rate",
            Command::Complete { .. } => "complete",
            Command::Archive { .. } => "archive",
            Command::Merge { .. } => "merge",
            Command::Reopen { .. } => "reopen",
            Command::Edit { .. } => "edit",
            Command::SetPrivacy { .. } => "set_privacy",
            Command::Redact => "redact",
            Command::AddNote { .. } => "add_note",
            Command::RequestExtension { .. } => "request_extension",
            Command::AssignLiaison { .. } => "assign_liaison",
            Command::Remind { .. } => "remind",
            Command::Escalate { .. } => "escalate",
            Command::AutoComplete => "auto_complete",
            Command::OfferOmbudsman => "offer_ombudsman",
            Command::EscalateToOmbudsman { .. } => "escalate_to_ombudsman",
        }
    }
}

/// What `decide` needs besides the report and the command.
pub struct Ctx<'a> {
    pub now: DateTime<Utc>,
    pub actor: Actor,
    pub calendar: &'a Calendar,
    pub policy: &'a SlaPolicy,
}

/// The first event of every report.
pub fn submit(tracking_id: TrackingId, submission: Submission, ctx: &Ctx<'_>) -> Event {
    let due_at = ctx
        .calendar
        .due_at(ctx.now, ctx.policy.verification_days, submission.zone);
    Event {
        tracking_id,
        seq: 1,
        at: ctx.now,
        actor: ctx.actor.clone(),
        from_status: None,
        to_status: Status::Submitted,
        from_institution: None,
        to_institution: None,
        body: None,
        visibility: Visibility::Public,
        data: EventData::Submitted {
            submission: Box::new(submission),
            due_at,
        },
    }
}

fn optional_note(note: &Option<String>) -> Result<Option<String>, Error> {
    match note {
        Some(n) if !n.trim().is_empty() => Ok(Some(check_text("note", n, 1, COMMENT_MAX)?)),
        _ => Ok(None),
    }
}

/// The statuses a report must be in for each lifecycle action. `decide`
/// enforces it; pages use it to offer only what can succeed.
pub fn statuses_for(action: Action) -> &'static [Status] {
    use Status::*;
    const OPEN: &[Status] = &[Submitted, OnHold, Dispositioned, InProgress];
    // Open or awaiting the reporter: what the deadline clocks still watch.
    const UNRESOLVED: &[Status] = &[Submitted, OnHold, Dispositioned, InProgress, Responded];
    const NOT_MERGED: &[Status] = &[
        Submitted,
        OnHold,
        Dispositioned,
        InProgress,
        Responded,
        Completed,
        Archived,
    ];
    const ANY: &[Status] = &[
        Submitted,
        OnHold,
        Dispositioned,
        InProgress,
        Responded,
        Completed,
        Archived,
        Merged,
    ];
    match action {
        Action::Disposition => &[Submitted],
        Action::Hold => &[Submitted, Dispositioned, InProgress],
        Action::Resume => &[OnHold],
        Action::Accept => &[Dispositioned],
        Action::DispositionToUnit | Action::RequestExtension => &[InProgress],
        Action::Transfer => &[Dispositioned, InProgress],
        Action::FollowUp | Action::AssignLiaison => &[InProgress, Responded],
        Action::Reply | Action::Complete => &[Responded],
        Action::Rate => &[Responded, Completed],
        Action::Reopen => &[Completed],
        Action::Archive | Action::Merge | Action::Edit => OPEN,
        Action::SetPrivacy | Action::Redact => NOT_MERGED,
        Action::AddNote => ANY,
        // Each deadline command checks its own stage in `decide`.
        Action::RunDeadlines | Action::EscalateToOmbudsman => UNRESOLVED,
        _ => &[],
    }
}

fn require(report: &Report, cmd: &Command) -> Result<(), Error> {
    if statuses_for(cmd.action()).contains(&report.status) {
        Ok(())
    } else {
        Err(Error::transition(format!("{} from {}", cmd.name(), report.status)))
    }
}

/// Checks `cmd` against `report` and returns the event it causes.
pub fn decide(report: &Report, cmd: &Command, ctx: &Ctx<'_>) -> Result<Event, Error> {
    use Status::*;
    let cal = ctx.calendar;
    let p = ctx.policy;
    let followup_due = |zone: Zone| {
        cal.due_at(
            ctx.now,
            p.followup_days(report.classification, report.needs_investigation),
            zone,
        )
    };
    require(report, cmd)?;
    let mut to_status = report.status;
    let mut to_institution = report.institution.clone();
    let mut visibility = Visibility::Public;
    let (body, data) = match cmd {
        Command::Disposition {
            to,
            classification,
            needs_investigation,
            category,
            note,
        } => {
            // Reports go to an institution; passing them on to its units is
            // the institution's own decision (disposition to unit).
            if matches!(to.kind, InstitutionKind::NationalOperator | InstitutionKind::Unit) {
                return Err(Error::validation(
                    "institution: pilih instansi, bukan operator nasional atau unit kerja / choose an institution, not the national operator or a unit",
                ));
            }
            to_status = Dispositioned;
            to_institution = Some(to.code.clone());
            let classification = classification.unwrap_or(report.classification);
            let needs_investigation = needs_investigation.unwrap_or(report.needs_investigation)
                && classification == Classification::Pengaduan;
            (
                optional_note(note)?,
                EventData::Dispositioned {
                    institution: to.code.clone(),
                    zone: to.zone,
                    classification,
                    needs_investigation,
                    category: category.clone().or_else(|| report.category.clone()),
                    due_at: cal.due_at(ctx.now, p.acceptance_days, to.zone),
                },
            )
        }
        Command::PutOnHold { message } => {
            to_status = OnHold;
            visibility = Visibility::Reporter;
            (
                Some(check_text("message", message, 5, COMMENT_MAX)?),
                EventData::PutOnHold {
                    message: message.trim().to_string(),
                },
            )
        }
        Command::Resume { note } => {
            to_status = report.held_from.unwrap_or(Submitted);
            visibility = Visibility::Reporter;
            let due_at = match (report.due_at, report.held_at) {
                (Some(due), Some(held)) => Some(cal.extend_for_pause(due, held, ctx.now, report.zone)),
                (due, _) => due,
            };
            (optional_note(note)?, EventData::Resumed { due_at })
        }
        Command::Accept { note } => {
            to_status = InProgress;
            (
                optional_note(note)?,
                EventData::Accepted {
                    due_at: followup_due(report.zone),
                },
            )
        }
        Command::DispositionToUnit { unit, note } => {
            let inst = report.institution.as_deref().unwrap_or_default();
            if unit.kind != InstitutionKind::Unit || !unit.ancestors.iter().any(|a| a == inst) {
                return Err(Error::validation(
                    "unit: bukan unit kerja dari instansi ini / not a unit of this institution",
                ));
            }
            visibility = Visibility::Internal;
            (
                optional_note(note)?,
                EventData::DispositionedToUnit {
                    unit: unit.code.clone(),
                },
            )
        }
        Command::Transfer { to, reason } => {
            if Some(&to.code) == report.institution.as_ref() {
                return Err(Error::validation(
                    "institution: laporan sudah berada di instansi ini / the report is already at this institution",
                ));
            }
            if matches!(to.kind, InstitutionKind::NationalOperator | InstitutionKind::Unit) {
                return Err(Error::validation(
                    "institution: pengalihan hanya ke instansi lain / transfer only to another institution",
                ));
            }
            to_status = Dispositioned;
            to_institution = Some(to.code.clone());
            let reason = check_text("reason", reason, 5, COMMENT_MAX)?;
            (
                Some(reason.clone()),
                EventData::Transferred {
                    to: to.code.clone(),
                    zone: to.zone,
                    reason,
                    due_at: cal.due_at(ctx.now, p.acceptance_days, to.zone),
                },
            )
        }
        Command::FollowUp { body } => {
            to_status = Responded;
            (
                Some(check_text("body", body, 5, crate::report::BODY_MAX)?),
                EventData::FollowedUp {
                    due_at: cal.due_at(ctx.now, p.reply_window_days, report.zone),
                },
            )
        }
        Command::Reply { body } => {
            to_status = InProgress;
            (
                Some(check_text("body", body, 1, crate::report::BODY_MAX)?),
                EventData::ReporterReplied {
                    due_at: followup_due(report.zone),
                },
            )
        }
        Command::Rate { rating, comment } => {
            if !(1..=5).contains(rating) {
                return Err(Error::validation("rating: 1-5"));
            }
            if report.rating.is_some() {
                return Err(Error::transition("rate: sudah dinilai / already rated"));
            }
            let completes = report.status == Responded;
            let reopen_due_at = completes.then(|| cal.due_at(ctx.now, p.reopen_window_days, report.zone));
            if completes {
                to_status = Completed;
            }
            (
                optional_note(comment)?,
                EventData::Rated {
                    rating: *rating,
                    completes,
                    reopen_due_at,
                },
            )
        }
        Command::Complete { note } => {
            to_status = Completed;
            (
                optional_note(note)?,
                EventData::Completed {
                    reopen_due_at: cal.due_at(ctx.now, p.reopen_window_days, report.zone),
                },
            )
        }
        Command::Archive { reason, note } => {
            to_status = Archived;
            visibility = Visibility::Reporter;
            (optional_note(note)?, EventData::Archived { reason: *reason })
        }
        Command::Merge { into, into_status } => {
            if into == &report.tracking_id {
                return Err(Error::validation(
                    "into: tidak dapat digabung ke dirinya sendiri / cannot merge into itself",
                ));
            }
            if matches!(into_status, Merged | Archived) {
                return Err(Error::validation(
                    "into: laporan tujuan sudah diarsipkan atau digabung / target is archived or merged",
                ));
            }
            to_status = Merged;
            visibility = Visibility::Reporter;
            (None, EventData::Merged { into: into.clone() })
        }
        Command::Reopen { reason } => {
            if report.reopen_count >= 1 {
                return Err(Error::transition("reopen: hanya sekali / only once"));
            }
            if report.stage == Some(Stage::ReopenWindow) && report.due_at.is_some_and(|d| ctx.now > d) {
                return Err(Error::transition("reopen: batas waktu lewat / window has passed"));
            }
            to_status = InProgress;
            (
                Some(check_text("reason", reason, 5, COMMENT_MAX)?),
                EventData::Reopened {
                    due_at: followup_due(report.zone),
                },
            )
        }
        Command::Edit {
            title,
            body,
            classification,
            needs_investigation,
            category,
        } => {
            let title = match title {
                Some(t) => check_text("title", t, 5, crate::report::TITLE_MAX)?,
                None => report.title.clone(),
            };
            let body = match body {
                Some(b) => check_text("body", b, 10, crate::report::BODY_MAX)?,
                None => report.body.clone(),
            };
            let classification = classification.unwrap_or(report.classification);
            let needs_investigation = needs_investigation.unwrap_or(report.needs_investigation)
                && classification == Classification::Pengaduan;
            let category = category.clone().or_else(|| report.category.clone());
            if title == report.title
                && body == report.body
                && classification == report.classification
                && needs_investigation == report.needs_investigation
                && category == report.category
            {
                return Err(Error::validation("edit: tidak ada yang berubah / nothing changed"));
            }
            visibility = Visibility::Reporter;
            (
                None,
                EventData::Edited {
                    title,
                    body,
                    classification,
                    needs_investigation,
                    category,
                },
            )
        }
        Command::SetPrivacy {
            anonymous,
            confidential,
        } => {
            let anonymous = report.anonymous || *anonymous;
            let confidential = report.confidential || *confidential;
            if anonymous == report.anonymous && confidential == report.confidential {
                return Err(Error::validation("privacy: tidak ada yang berubah / nothing changed"));
            }
            visibility = Visibility::Reporter;
            (
                None,
                EventData::PrivacyChanged {
                    anonymous,
                    confidential,
                },
            )
        }
        Command::Redact => {
            let mut kinds = crate::pii::kinds(&report.title);
            for k in crate::pii::kinds(&report.body) {
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
            if kinds.is_empty() {
                return Err(Error::validation(
                    "redact: tidak ada data pribadi terdeteksi / no personal data detected",
                ));
            }
            visibility = Visibility::Reporter;
            (
                None,
                EventData::Redacted {
                    title: crate::pii::mask(&report.title),
                    body: crate::pii::mask(&report.body),
                    kinds,
                },
            )
        }
        Command::AddNote { body } => {
            visibility = Visibility::Internal;
            (Some(check_text("note", body, 1, COMMENT_MAX)?), EventData::NoteAdded)
        }
        Command::RequestExtension { reason } => {
            if !report.needs_investigation || report.stage != Some(Stage::FollowUp) {
                return Err(Error::transition(
                    "request_extension: hanya untuk laporan berkadar pengawasan / only for investigation cases",
                ));
            }
            if report.extension_count >= 1 {
                return Err(Error::transition("request_extension: hanya sekali / only once"));
            }
            let from = report.due_at.unwrap_or(ctx.now).max(ctx.now);
            visibility = Visibility::Reporter;
            (
                Some(check_text("reason", reason, 10, COMMENT_MAX)?),
                EventData::Extended {
                    due_at: cal.due_at(from, p.extension_days, report.zone),
                },
            )
        }
        Command::Remind { step } => {
            let Some(due_at) = report.due_at.filter(|_| report.status != OnHold) else {
                return Err(Error::transition("remind: no running clock"));
            };
            if report.reminded_due == Some(due_at) {
                return Err(Error::transition("remind: already reminded"));
            }
            visibility = Visibility::Internal;
            (None, EventData::Reminded { due_at, step: *step })
        }
        Command::Escalate { level, step } => {
            if report.due_at.is_none_or(|d| d > ctx.now) || report.status == OnHold {
                return Err(Error::transition("escalate: not overdue"));
            }
            if *level <= report.escalation_level {
                return Err(Error::transition("escalate: already at this level"));
            }
            visibility = Visibility::Internal;
            (
                None,
                EventData::Escalated {
                    level: *level,
                    step: *step,
                },
            )
        }
        Command::AutoComplete => {
            if report.status != Responded || report.due_at.is_none_or(|d| d > ctx.now) {
                return Err(Error::transition("auto_complete: reply window still open"));
            }
            to_status = Completed;
            (
                Some(format!(
                    "Selesai otomatis: pelapor tidak menanggapi dalam {} hari kerja. / Completed automatically: no reply from the reporter within {} working days.",
                    p.reply_window_days, p.reply_window_days
                )),
                EventData::Completed {
                    reopen_due_at: cal.due_at(ctx.now, p.reopen_window_days, report.zone),
                },
            )
        }
        Command::OfferOmbudsman => {
            if report.ombudsman.is_some() {
                return Err(Error::transition("offer_ombudsman: already offered"));
            }
            visibility = Visibility::Reporter;
            (
                Some(format!(
                    "Laporan ini belum selesai setelah {} hari. Anda dapat meminta agar laporan dieskalasi ke Ombudsman RI. / This report is still unresolved after {} days. You may ask for it to be escalated to the Ombudsman.",
                    p.ombudsman_after_calendar_days, p.ombudsman_after_calendar_days
                )),
                EventData::OmbudsmanOffered,
            )
        }
        Command::EscalateToOmbudsman { note } => {
            if report.ombudsman != Some(Ombudsman::Offered) {
                return Err(Error::transition(
                    "escalate_to_ombudsman: belum ditawarkan / not offered for this report",
                ));
            }
            visibility = Visibility::Reporter;
            (optional_note(note)?, EventData::OmbudsmanEscalated)
        }
        Command::AssignLiaison { user_id } => {
            if report.liaison.as_ref() == Some(user_id) {
                return Err(Error::validation("liaison: sudah ditugaskan / already assigned"));
            }
            visibility = Visibility::Internal;
            (
                None,
                EventData::LiaisonAssigned {
                    user_id: user_id.clone(),
                },
            )
        }
    };
    Ok(Event {
        tracking_id: report.tracking_id.clone(),
        seq: report.version + 1,
        at: ctx.now,
        actor: ctx.actor.clone(),
        from_status: Some(report.status),
        to_status,
        from_institution: report.institution.clone(),
        to_institution,
        body,
        visibility,
        data,
    })
}

/// Folds one event into the state. `report` is None only for `Submitted`.
pub fn apply(report: Option<Report>, e: &Event) -> Result<Report, Error> {
    let mut r = match (report, &e.data) {
        (None, EventData::Submitted { submission: s, due_at }) => {
            return Ok(Report {
                tracking_id: e.tracking_id.clone(),
                version: 1,
                status: Status::Submitted,
                classification: s.classification,
                needs_investigation: s.needs_investigation && s.classification == Classification::Pengaduan,
                category: s.category.clone(),
                title: s.title.clone(),
                body: s.body.clone(),
                incident_date: s.incident_date,
                region_code: s.region_code.clone(),
                latitude: s.latitude,
                longitude: s.longitude,
                anonymous: s.anonymous,
                confidential: s.confidential,
                channel: s.channel,
                reporter_id: s.reporter_id.clone(),
                suggested_institution: s.suggested_institution.clone(),
                institution: None,
                unit: None,
                zone: s.zone,
                policy: s.policy.clone(),
                stage: Some(Stage::Verification),
                due_at: Some(*due_at),
                held_from: None,
                held_at: None,
                rating: None,
                rating_comment: None,
                reopen_count: 0,
                transfer_count: 0,
                liaison: None,
                extension_count: 0,
                archive_reason: None,
                merged_into: None,
                submitted_at: e.at,
                updated_at: e.at,
                first_response_at: None,
                completed_at: None,
                reminded_due: None,
                escalation_level: 0,
                ombudsman: None,
            });
        }
        (Some(r), EventData::Submitted { .. }) => {
            return Err(Error::internal(format!("{}: second submitted event", r.tracking_id)));
        }
        (None, _) => return Err(Error::internal("event log does not start with submitted")),
        (Some(r), _) => r,
    };
    if e.seq != r.version + 1 {
        return Err(Error::internal(format!(
            "{}: event {} after version {}",
            r.tracking_id, e.seq, r.version
        )));
    }
    let stage = e.stage();
    let due_before = r.due_at;
    match &e.data {
        EventData::Submitted { .. } => unreachable!("handled above"),
        EventData::Dispositioned {
            institution,
            zone,
            classification,
            needs_investigation,
            category,
            due_at,
        } => {
            r.institution = Some(institution.clone());
            r.zone = *zone;
            r.classification = *classification;
            r.needs_investigation = *needs_investigation;
            r.category = category.clone();
            r.due_at = Some(*due_at);
        }
        EventData::PutOnHold { .. } => {
            r.held_from = Some(r.status);
            r.held_at = Some(e.at);
        }
        EventData::Resumed { due_at } => {
            r.held_from = None;
            r.held_at = None;
            r.due_at = *due_at;
        }
        EventData::Accepted { due_at } | EventData::ReporterReplied { due_at } => r.due_at = Some(*due_at),
        EventData::DispositionedToUnit { unit } => {
            // The new unit names its own liaison.
            r.unit = Some(unit.clone());
            r.liaison = None;
        }
        EventData::Transferred { to, zone, due_at, .. } => {
            r.institution = Some(to.clone());
            r.unit = None;
            r.liaison = None;
            r.zone = *zone;
            r.due_at = Some(*due_at);
            r.transfer_count += 1;
        }
        EventData::FollowedUp { due_at } => {
            r.due_at = Some(*due_at);
            r.first_response_at.get_or_insert(e.at);
        }
        EventData::Rated {
            rating, reopen_due_at, ..
        } => {
            r.rating = Some(*rating);
            r.rating_comment = e.body.clone();
            if let Some(d) = reopen_due_at {
                r.due_at = Some(*d);
                r.completed_at = Some(e.at);
            }
        }
        EventData::Completed { reopen_due_at } => {
            r.due_at = Some(*reopen_due_at);
            r.completed_at = Some(e.at);
        }
        EventData::Archived { reason } => {
            r.archive_reason = Some(*reason);
            r.due_at = None;
            r.held_from = None;
            r.held_at = None;
        }
        EventData::Merged { into } => {
            r.merged_into = Some(into.clone());
            r.due_at = None;
            r.held_from = None;
            r.held_at = None;
        }
        EventData::Reopened { due_at } => {
            r.reopen_count += 1;
            r.rating = None;
            r.rating_comment = None;
            r.completed_at = None;
            r.due_at = Some(*due_at);
        }
        EventData::Edited {
            title,
            body,
            classification,
            needs_investigation,
            category,
        } => {
            r.title = title.clone();
            r.body = body.clone();
            r.classification = *classification;
            r.needs_investigation = *needs_investigation;
            r.category = category.clone();
        }
        EventData::PrivacyChanged {
            anonymous,
            confidential,
        } => {
            r.anonymous = *anonymous;
            r.confidential = *confidential;
        }
        EventData::Redacted { title, body, .. } => {
            r.title = title.clone();
            r.body = body.clone();
        }
        EventData::NoteAdded => {}
        EventData::Extended { due_at } => {
            r.due_at = Some(*due_at);
            r.extension_count += 1;
        }
        EventData::LiaisonAssigned { user_id } => r.liaison = Some(user_id.clone()),
        EventData::Reminded { due_at, .. } => r.reminded_due = Some(*due_at),
        EventData::Escalated { level, .. } => r.escalation_level = *level,
        EventData::OmbudsmanOffered => r.ombudsman = Some(Ombudsman::Offered),
        EventData::OmbudsmanEscalated => r.ombudsman = Some(Ombudsman::Escalated),
    }
    // A new deadline starts its escalation ladder from the bottom.
    if r.due_at != due_before {
        r.escalation_level = 0;
    }
    match &e.data {
        // Pausing keeps the stage; its deadline moves on resume. Corrections,
        // notes and assignments run on the stage's clock as it is.
        EventData::PutOnHold { .. }
        | EventData::Resumed { .. }
        | EventData::DispositionedToUnit { .. }
        | EventData::Edited { .. }
        | EventData::PrivacyChanged { .. }
        | EventData::Redacted { .. }
        | EventData::NoteAdded
        | EventData::Extended { .. }
        | EventData::LiaisonAssigned { .. }
        | EventData::Reminded { .. }
        | EventData::Escalated { .. }
        | EventData::OmbudsmanOffered
        | EventData::OmbudsmanEscalated => {}
        EventData::Rated { completes: false, .. } => {}
        EventData::Archived { .. } | EventData::Merged { .. } => r.stage = None,
        _ => r.stage = stage,
    }
    r.status = e.to_status;
    r.version = e.seq;
    r.updated_at = e.at;
    Ok(r)
}

/// Rebuilds a report from its whole log.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<Option<Report>, Error> {
    let mut r = None;
    for e in events {
        r = Some(apply(r, e)?);
    }
    Ok(r)
}
