//! Events: the append-only record of everything that happened to a report.
//! The current state of a report is a fold of its events (see
//! `lifecycle::apply`).

use crate::calendar::Zone;
use crate::ids::TrackingId;
use crate::institution::Role;
use crate::pii::PiiKind;
use crate::report::{ArchiveReason, Channel, Classification, Stage, Status, Visibility};
use crate::sla::EscalationStep;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A reporter, by account or by Tracking ID + PIN (no account id then).
    Reporter { reporter_id: Option<String> },
    /// A staff member acting in a role.
    Staff {
        user_id: String,
        role: Role,
        institution: String,
    },
    /// The system itself (deadlines, auto-completion).
    System,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Reporter { .. } => "reporter",
            Actor::Staff { .. } => "staff",
            Actor::System => "system",
        }
    }
    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::Reporter { reporter_id } => reporter_id.as_deref(),
            Actor::Staff { user_id, .. } => Some(user_id),
            Actor::System => None,
        }
    }
}

/// What a new report says, as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub classification: Classification,
    /// For `pengaduan`: the reporter says it needs investigation.
    #[serde(default)]
    pub needs_investigation: bool,
    pub category: Option<String>,
    pub title: String,
    pub body: String,
    pub incident_date: Option<NaiveDate>,
    pub region_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub anonymous: bool,
    pub confidential: bool,
    pub channel: Channel,
    pub reporter_id: Option<String>,
    pub suggested_institution: Option<String>,
    pub policy: String,
    pub zone: Zone,
}

/// The payload of each kind of event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventData {
    Submitted {
        submission: Box<Submission>,
        due_at: DateTime<Utc>,
    },
    Dispositioned {
        institution: String,
        zone: Zone,
        classification: Classification,
        needs_investigation: bool,
        category: Option<String>,
        due_at: DateTime<Utc>,
    },
    PutOnHold {
        message: String,
    },
    Resumed {
        due_at: Option<DateTime<Utc>>,
    },
    Accepted {
        due_at: DateTime<Utc>,
    },
    DispositionedToUnit {
        unit: String,
    },
    Transferred {
        to: String,
        zone: Zone,
        reason: String,
        due_at: DateTime<Utc>,
    },
    FollowedUp {
        due_at: DateTime<Utc>,
    },
    ReporterReplied {
        due_at: DateTime<Utc>,
    },
    Rated {
        rating: u8,
        completes: bool,
        reopen_due_at: Option<DateTime<Utc>>,
    },
    Completed {
        reopen_due_at: DateTime<Utc>,
    },
    Archived {
        reason: ArchiveReason,
    },
    Merged {
        into: TrackingId,
    },
    Reopened {
        due_at: DateTime<Utc>,
    },
    /// A verifier corrected the report. The fields hold the new values; the
    /// reporter's original words stay in the `Submitted` event.
    Edited {
        title: String,
        body: String,
        classification: Classification,
        needs_investigation: bool,
        category: Option<String>,
    },
    PrivacyChanged {
        anonymous: bool,
        confidential: bool,
    },
    /// Personal data masked in the title and body (the new text).
    Redacted {
        title: String,
        body: String,
        kinds: Vec<PiiKind>,
    },
    /// An internal note; the text is the event body.
    NoteAdded,
    /// The follow-up deadline moved; the reason is the event body.
    Extended {
        due_at: DateTime<Utc>,
    },
    LiaisonAssigned {
        user_id: String,
    },
    /// The responsible staff were reminded of the deadline `due_at`.
    Reminded {
        due_at: DateTime<Utc>,
        step: EscalationStep,
    },
    /// The missed deadline was escalated to this level of the ladder.
    Escalated {
        level: u8,
        step: EscalationStep,
    },
    OmbudsmanOffered,
    /// With the reporter's consent; the oversight queue shows it.
    OmbudsmanEscalated,
}

impl EventData {
    pub fn kind(&self) -> &'static str {
        match self {
            EventData::Submitted { .. } => "submitted",
            EventData::Dispositioned { .. } => "dispositioned",
            EventData::PutOnHold { .. } => "put_on_hold",
            EventData::Resumed { .. } => "resumed",
            EventData::Accepted { .. } => "accepted",
            EventData::DispositionedToUnit { .. } => "dispositioned_to_unit",
            EventData::Transferred { .. } => "transferred",
            EventData::FollowedUp { .. } => "followed_up",
            EventData::ReporterReplied { .. } => "reporter_replied",
            EventData::Rated { .. } => "rated",
            EventData::Completed { .. } => "completed",
            EventData::Archived { .. } => "archived",
            EventData::Merged { .. } => "merged",
            EventData::Reopened { .. } => "reopened",
            EventData::Edited { .. } => "edited",
            EventData::PrivacyChanged { .. } => "privacy_changed",
            EventData::Redacted { .. } => "redacted",
            EventData::NoteAdded => "note_added",
            EventData::Extended { .. } => "extended",
            EventData::LiaisonAssigned { .. } => "liaison_assigned",
            EventData::Reminded { .. } => "reminded",
            EventData::Escalated { .. } => "escalated",
            EventData::OmbudsmanOffered => "ombudsman_offered",
            EventData::OmbudsmanEscalated => "ombudsman_escalated",
        }
    }
}

/// One append-only event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub tracking_id: TrackingId,
    /// 1-based position in the report's log; equals the report version after it.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub from_institution: Option<String>,
    pub to_institution: Option<String>,
    /// Free text that goes with the event (follow-up, reply, reason, note).
    pub body: Option<String>,
    pub visibility: Visibility,
    pub data: EventData,
}

impl Event {
    /// The stage clock that this event started, if any.
    pub fn stage(&self) -> Option<Stage> {
        match &self.data {
            EventData::Submitted { .. } => Some(Stage::Verification),
            EventData::Dispositioned { .. } | EventData::Transferred { .. } => Some(Stage::Acceptance),
            EventData::Accepted { .. } | EventData::ReporterReplied { .. } | EventData::Reopened { .. } => {
                Some(Stage::FollowUp)
            }
            EventData::FollowedUp { .. } => Some(Stage::ReporterReply),
            EventData::Completed { .. } => Some(Stage::ReopenWindow),
            EventData::Rated { completes: true, .. } => Some(Stage::ReopenWindow),
            _ => None,
        }
    }
}
