//! A report (laporan) and the values it is made of.

use crate::calendar::Zone;
use crate::error::Error;
use crate::ids::TrackingId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $( $variant:ident => $s:literal ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $( $variant, )* }
        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $s, )* }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $( $s => Some($name::$variant), )* _ => None }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum! {
    /// Klasifikasi: what kind of submission this is.
    Classification {
        Pengaduan => "pengaduan",
        Aspirasi => "aspirasi",
        PermintaanInformasi => "permintaan_informasi",
    }
}

str_enum! {
    /// Where a report is in its lifecycle (DESIGN §3).
    Status {
        Submitted => "submitted",
        OnHold => "on_hold",
        Dispositioned => "dispositioned",
        InProgress => "in_progress",
        Responded => "responded",
        Completed => "completed",
        Archived => "archived",
        Merged => "merged",
    }
}

impl Status {
    /// No further work happens on a report in these states (a completed
    /// report may still be reopened once).
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Completed | Status::Archived | Status::Merged)
    }
}

str_enum! {
    /// Which clock is running.
    Stage {
        Verification => "verification",
        Acceptance => "acceptance",
        FollowUp => "follow_up",
        ReporterReply => "reporter_reply",
        ReopenWindow => "reopen_window",
    }
}

str_enum! {
    /// Where a report stands with the Ombudsman: offered to the reporter
    /// once it has been unresolved too long, then escalated with consent.
    Ombudsman {
        Offered => "offered",
        Escalated => "escalated",
    }
}

str_enum! {
    /// Why a report was archived (arsip).
    ArchiveReason {
        OutOfScope => "out_of_scope",
        TooGeneral => "too_general",
        NotPublicService => "not_public_service",
        Spam => "spam",
        Duplicate => "duplicate",
    }
}

str_enum! {
    /// Who may see an event.
    Visibility {
        Public => "public",
        Reporter => "reporter",
        Internal => "internal",
    }
}

str_enum! {
    /// The channel a report came in through.
    Channel {
        Web => "web",
        Api => "api",
        Mobile => "mobile",
        Sms => "sms",
        Twitter => "twitter",
        Telegram => "telegram",
        Line => "line",
        Messenger => "messenger",
        Whatsapp => "whatsapp",
        Email => "email",
        Staff => "staff",
        Federation => "federation",
    }
}

/// The current state of a report: a projection of its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub tracking_id: TrackingId,
    /// Number of events applied; used for optimistic concurrency.
    pub version: i64,
    pub status: Status,
    pub classification: Classification,
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
    /// Opaque id of the reporter identity, stored apart from the report.
    pub reporter_id: Option<String>,
    /// Institution the reporter suggested, if any.
    pub suggested_institution: Option<String>,
    /// Institution responsible now (None until dispositioned).
    pub institution: Option<String>,
    /// Unit inside the institution handling it, if dispositioned to one.
    pub unit: Option<String>,
    /// Time zone the deadlines are counted in (the responsible institution's).
    pub zone: Zone,
    pub policy: String,
    pub stage: Option<Stage>,
    pub due_at: Option<DateTime<Utc>>,
    pub held_from: Option<Status>,
    pub held_at: Option<DateTime<Utc>>,
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
    pub reopen_count: u32,
    pub transfer_count: u32,
    /// The liaison officer (user id) the handling institution or unit named.
    #[serde(default)]
    pub liaison: Option<String>,
    /// Follow-up extensions granted (investigation cases get one).
    #[serde(default)]
    pub extension_count: u32,
    pub archive_reason: Option<ArchiveReason>,
    pub merged_into: Option<TrackingId>,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The deadline a reminder was last sent for (none sent for the
    /// current one when it differs from `due_at`).
    #[serde(default)]
    pub reminded_due: Option<DateTime<Utc>>,
    /// Overdue escalation steps taken on the current deadline (reset when
    /// the deadline changes).
    #[serde(default)]
    pub escalation_level: u8,
    #[serde(default)]
    pub ombudsman: Option<Ombudsman>,
}

impl Report {
    /// Whether the public may see this report at all: never when
    /// confidential, and only once verified (so unreviewed spam or abuse is
    /// never published) and not archived as spam.
    pub fn is_public(&self) -> bool {
        !self.confidential
            && self.institution.is_some()
            && self.status != Status::Merged
            && self.archive_reason != Some(ArchiveReason::Spam)
    }

    /// Whether the deadline of the running stage has passed.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        matches!(self.due_at, Some(d) if d < now)
            && !matches!(self.stage, Some(Stage::ReporterReply | Stage::ReopenWindow))
            && !self.status.is_closed()
            && self.status != Status::OnHold
    }
}

pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 10_000;
pub const COMMENT_MAX: usize = 5_000;

/// Checks a free-text field: trimmed length within bounds and no control
/// characters other than newlines and tabs.
pub fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<String, Error> {
    let v = value.trim();
    let n = v.chars().count();
    if n < min {
        return Err(Error::validation(format!(
            "{field}: minimal {min} karakter / at least {min} characters"
        )));
    }
    if n > max {
        return Err(Error::validation(format!(
            "{field}: maksimal {max} karakter / at most {max} characters"
        )));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(Error::validation(format!(
            "{field}: karakter kontrol tidak diizinkan / control characters are not allowed"
        )));
    }
    Ok(v.to_string())
}

/// Checks a coordinate pair lies within Indonesia's bounding box (with margin).
pub fn check_location(lat: Option<f64>, lon: Option<f64>) -> Result<(), Error> {
    match (lat, lon) {
        (None, None) => Ok(()),
        (Some(la), Some(lo)) if (-11.5..=6.5).contains(&la) && (94.0..=141.5).contains(&lo) => Ok(()),
        (Some(_), Some(_)) => Err(Error::validation(
            "location: di luar wilayah Indonesia / outside Indonesia",
        )),
        _ => Err(Error::validation(
            "location: latitude dan longitude harus diisi bersama / latitude and longitude go together",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_roundtrip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        for c in Classification::ALL {
            assert_eq!(Classification::parse(c.as_str()), Some(*c));
        }
        for a in ArchiveReason::ALL {
            assert_eq!(ArchiveReason::parse(a.as_str()), Some(*a));
        }
        assert_eq!(Status::parse("done"), None);
    }

    #[test]
    fn text_checks() {
        assert_eq!(check_text("title", "  Jalan rusak  ", 5, 20).unwrap(), "Jalan rusak");
        assert!(check_text("title", "abc", 5, 10).is_err());
        assert!(check_text("title", "abcdefghijk", 1, 10).is_err());
        assert!(check_text("title", "ab\u{0}cd", 1, 10).is_err());
        assert!(check_text("body", "baris\nkedua", 1, 100).is_ok());
        // Length is counted in characters, not bytes.
        assert!(check_text("title", "ꦗꦭꦤ꧀", 1, 4).is_ok());
    }

    #[test]
    fn location_checks() {
        assert!(check_location(Some(-6.1754), Some(106.8272)).is_ok());
        assert!(check_location(None, None).is_ok());
        assert!(check_location(Some(48.85), Some(2.35)).is_err());
        assert!(check_location(Some(-6.1), None).is_err());
    }
}
