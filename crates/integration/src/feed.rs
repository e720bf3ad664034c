//! What an integrated system sees of a report's history: one change per
//! event, in the same shape on the changes feed and in webhook bodies, and
//! the feed's opaque cursor.
//!
//! A change never names a person: reporters appear only as "reporter" and
//! staff only by role and institution, so an anonymous reporter cannot be
//! singled out downstream, and the receiving system learns nothing the
//! institution's own staff could not read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use lapor_domain::event::{Actor, Event};
use serde::{Deserialize, Serialize};

/// Who caused a change, without naming them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeActor {
    /// `reporter`, `staff` or `system`.
    pub kind: String,
    /// For staff: the role they acted in.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub role: Option<String>,
    /// For staff: the institution they acted for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub institution: Option<String>,
}

/// One event of a report, as integrations receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Unique across the instance; the webhook id is derived from it.
    pub event_id: i64,
    pub tracking_id: String,
    /// Position in the report's history (1 is the submission).
    pub seq: i64,
    /// The event kind (`submitted`, `dispositioned`, `followed_up`, …).
    pub kind: String,
    pub at: DateTime<Utc>,
    pub actor: ChangeActor,
    pub status_from: Option<String>,
    pub status_to: String,
    pub institution_from: Option<String>,
    pub institution_to: Option<String>,
    /// `public`, `reporter` or `internal`.
    pub visibility: String,
    /// The text that came with the event (a follow-up, a reply, a reason).
    pub body: Option<String>,
}

impl Change {
    pub fn from_event(event_id: i64, e: &Event) -> Change {
        let actor = match &e.actor {
            Actor::Reporter { .. } => ChangeActor {
                kind: "reporter".into(),
                role: None,
                institution: None,
            },
            Actor::Staff { role, institution, .. } => ChangeActor {
                kind: "staff".into(),
                role: Some(role.as_str().into()),
                institution: Some(institution.clone()),
            },
            Actor::System => ChangeActor {
                kind: "system".into(),
                role: None,
                institution: None,
            },
        };
        Change {
            event_id,
            tracking_id: e.tracking_id.to_string(),
            seq: e.seq,
            kind: e.data.kind().into(),
            at: e.at,
            actor,
            status_from: e.from_status.map(|s| s.as_str().into()),
            status_to: e.to_status.as_str().into(),
            institution_from: e.from_institution.clone(),
            institution_to: e.to_institution.clone(),
            visibility: e.visibility.as_str().into(),
            body: e.body.clone(),
        }
    }

    /// The Standard Webhooks event type: `report.<kind>`.
    pub fn webhook_type(&self) -> String {
        format!("report.{}", self.kind)
    }
}

/// Where a reader of the changes feed stands: past the change with this
/// position. Opaque to clients; the fields are the backend's commit-order
/// key (a transaction id on PostgreSQL, 0 on SQLite) and the row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cursor {
    pub tx: u64,
    pub id: i64,
}

impl Cursor {
    pub const START: Cursor = Cursor { tx: 0, id: 0 };

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("c1.{}.{}", self.tx, self.id))
    }

    /// None for anything we did not hand out.
    pub fn decode(s: &str) -> Option<Cursor> {
        if s.is_empty() || s.len() > 64 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(s).ok()?;
        let text = std::str::from_utf8(&raw).ok()?;
        let mut parts = text.split('.');
        if parts.next()? != "c1" {
            return None;
        }
        let tx = parts.next()?.parse().ok()?;
        let id: i64 = parts.next()?.parse().ok()?;
        if parts.next().is_some() || id < 0 {
            return None;
        }
        Some(Cursor { tx, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::event::EventData;
    use lapor_domain::ids::TrackingId;
    use lapor_domain::institution::Role;
    use lapor_domain::report::{Status, Visibility};

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        for c in [
            Cursor::START,
            Cursor { tx: 7, id: 9 },
            Cursor {
                tx: u64::MAX,
                id: i64::MAX,
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        assert!(Cursor { tx: 1, id: 0 } > Cursor { tx: 0, id: 99 });
        for bad in [
            "",
            "abc",
            "YzEuMQ",
            "!!!!",
            &URL_SAFE_NO_PAD.encode("c2.1.2"),
            &URL_SAFE_NO_PAD.encode("c1.1.-2"),
            &URL_SAFE_NO_PAD.encode("c1.1.2.3"),
            &"A".repeat(100),
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    fn event(actor: Actor) -> Event {
        Event {
            tracking_id: TrackingId::from_random(12345),
            seq: 4,
            at: Utc::now(),
            actor,
            from_status: Some(Status::Dispositioned),
            to_status: Status::InProgress,
            from_institution: None,
            to_institution: Some("pemkab-3273".into()),
            body: Some("Sudah kami tangani".into()),
            visibility: Visibility::Public,
            data: EventData::FollowedUp { due_at: Utc::now() },
        }
    }

    #[test]
    fn changes_name_no_person() {
        let c = Change::from_event(
            11,
            &event(Actor::Reporter {
                reporter_id: Some("r-secret".into()),
            }),
        );
        let json = serde_json::to_string(&c).unwrap_or_default();
        assert!(!json.contains("r-secret"), "{json}");
        assert_eq!(c.actor.kind, "reporter");
        let c = Change::from_event(
            12,
            &event(Actor::Staff {
                user_id: "u-officer".into(),
                role: Role::InstitutionAdmin,
                institution: "pemkab-3273".into(),
            }),
        );
        let json = serde_json::to_string(&c).unwrap_or_default();
        assert!(!json.contains("u-officer"), "{json}");
        assert_eq!(c.actor.institution.as_deref(), Some("pemkab-3273"));
        assert_eq!(c.webhook_type(), "report.followed_up");
        assert_eq!(c.status_to, "in_progress");
    }
}
