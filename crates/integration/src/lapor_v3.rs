//! The national SP4N-LAPOR! v3 API on the wire, as far as its published
//! field list and public integrator code show it: the complaint a regency
//! sends upward, the forward ("not our authority") request, the follow-up
//! logs it reads back, and the institution list.
//!
//! What is inferred rather than documented is marked so here and in
//! docs/integration.md: the response envelopes (`results.data`,
//! `results.docs`, the paging fields) and the numeric codes of channel,
//! classification and category, which each deployment configures.
//!
//! Anonymity goes upward too: the content of an anonymous report names no
//! one, and no identity field is ever sent for it.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Dates in follow-up logs: `d-m-Y H:i:s`, Jakarta time (inferred: the
/// logs carry no zone).
pub const LOG_DATE_FORMAT: &str = "%d-%m-%Y %H:%M:%S";

/// `POST /complaints/complaint`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewComplaint {
    pub title: String,
    pub content: String,
    /// The channel code the national system gives this integration.
    pub channel: i64,
    /// `Y-m-d`.
    pub date_of_incident: Option<String>,
    pub classification_id: i64,
    pub category_id: i64,
    pub location_id: i64,
    /// The institution the complaint goes to (ours, upstream).
    pub disposition_id: i64,
    pub is_anonymous: bool,
    pub is_secret: bool,
    /// The ids `POST /complaints/complaint/file` returned, as a JSON array
    /// in a string (as integrators send it).
    pub attachments: String,
}

/// `POST /complaints/process/{id}/reject` with `not_authority`: forward to
/// the institution whose id is the `reason`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forward {
    pub is_request: i64,
    /// The target institution's id.
    pub reason: i64,
    pub reason_description: String,
    pub not_authority: i64,
}

impl Forward {
    pub fn to(institution_id: i64, why: &str) -> Forward {
        Forward {
            is_request: 1,
            reason: institution_id,
            reason_description: why.to_string(),
            not_authority: 1,
        }
    }
}

/// What Lapor knows of a report that goes upward.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing<'a> {
    pub tracking_id: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub incident_date: Option<NaiveDate>,
    pub place: Option<&'a str>,
    pub anonymous: bool,
    pub confidential: bool,
    /// The reporter's name, when they gave one; never sent when anonymous.
    pub reporter_name: Option<&'a str>,
}

/// The codes a deployment configures for its integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Codes {
    pub channel: i64,
    pub classification_id: i64,
    pub category_id: i64,
    pub location_id: i64,
    pub disposition_id: i64,
}

/// The complaint for a report, with the ids of its uploaded files.
pub fn complaint(r: &Outgoing<'_>, codes: &Codes, file_ids: &[i64]) -> NewComplaint {
    let mut content = format!("Nomor pelacakan Lapor: {}\n\n{}", r.tracking_id, r.body);
    if let Some(p) = r.place {
        content.push_str(&format!("\n\nLokasi: {p}"));
    }
    if !r.anonymous
        && let Some(name) = r.reporter_name.filter(|n| !n.trim().is_empty())
    {
        content.push_str(&format!("\n\nPelapor: {}", name.trim()));
    }
    NewComplaint {
        title: r.title.to_string(),
        content,
        channel: codes.channel,
        date_of_incident: r.incident_date.map(|d| d.format("%Y-%m-%d").to_string()),
        classification_id: codes.classification_id,
        category_id: codes.category_id,
        location_id: codes.location_id,
        disposition_id: codes.disposition_id,
        is_anonymous: r.anonymous,
        is_secret: r.confidential,
        attachments: serde_json::to_string(file_ids).unwrap_or_else(|_| "[]".into()),
    }
}

/// A status as the logs name it (`data.status_old` / `data.status_new`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LogStatus {
    #[serde(default)]
    pub name: String,
}

/// The `data` of a log entry (a JSON object, sent as a string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LogData {
    #[serde(default)]
    pub status_old: Option<LogStatus>,
    #[serde(default)]
    pub status_new: Option<LogStatus>,
}

/// One entry of `GET /complaints/{id}/followups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpLog {
    pub id: i64,
    #[serde(default)]
    pub content: Option<String>,
    /// `d-m-Y H:i:s`.
    pub created_at: String,
    #[serde(default)]
    pub institution_from_id: Option<i64>,
    #[serde(default)]
    pub institution_from_name: Option<String>,
    #[serde(default)]
    pub institution_to_name: Option<String>,
    /// JSON text of [`LogData`].
    #[serde(default)]
    pub data: Option<String>,
}

impl FollowUpLog {
    pub fn at(&self) -> Option<DateTime<Utc>> {
        log_time(&self.created_at)
    }

    pub fn statuses(&self) -> (Option<String>, Option<String>) {
        let d: LogData = self
            .data
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        (
            d.status_old.map(|s| s.name).filter(|s| !s.is_empty()),
            d.status_new.map(|s| s.name).filter(|s| !s.is_empty()),
        )
    }

    /// How the entry reads as a note on the report in Lapor.
    pub fn note(&self) -> String {
        let who = self.institution_from_name.as_deref().unwrap_or("SP4N-LAPOR!");
        let when = self.at().map_or(self.created_at.clone(), |t| {
            t.with_timezone(
                &chrono::FixedOffset::east_opt(7 * 3600)
                    .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset")),
            )
            .format("%Y-%m-%d %H:%M WIB")
            .to_string()
        });
        let mut s = format!("[SP4N-LAPOR! {when}] {who}");
        if let Some(c) = self.content.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            s.push_str(": ");
            s.push_str(c);
        }
        if let (old, Some(new)) = self.statuses() {
            s.push_str(&format!(" (status: {} → {new})", old.unwrap_or_else(|| "-".into())));
        }
        s
    }
}

/// Parses `d-m-Y H:i:s` as Jakarta time.
pub fn log_time(s: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), LOG_DATE_FORMAT).ok()?;
    let wib = chrono::FixedOffset::east_opt(7 * 3600)?;
    wib.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc))
}

/// Writes an instant as the logs do.
pub fn format_log_time(t: DateTime<Utc>) -> String {
    let wib = chrono::FixedOffset::east_opt(7 * 3600)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset"));
    t.with_timezone(&wib).format(LOG_DATE_FORMAT).to_string()
}

/// One page of a list (inferred envelope: `results.data` with the page
/// numbers beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    #[serde(default = "one")]
    pub current_page: i64,
    #[serde(default = "one")]
    pub last_page: i64,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub results: T,
}

/// `GET /masters/institutions/external`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalInstitution {
    pub id: i64,
    pub name: String,
}

/// The answer to a file upload: `results.docs[].id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Docs {
    pub docs: Vec<Doc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    pub id: i64,
}

/// The answer to a new complaint (inferred: `complaint_id` at the top).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    pub complaint_id: i64,
}

/// Folds an institution name for matching across systems: case, spaces and
/// the usual prefixes do not matter.
pub fn name_key(name: &str) -> String {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !matches!(*w, "pemerintah" | "pemkot" | "pemkab" | "pemprov"))
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(anonymous: bool) -> Outgoing<'static> {
        Outgoing {
            tracking_id: "7KQ4-M2XJ",
            title: "Jalan rusak",
            body: "Jalan berlubang di depan pasar.",
            incident_date: NaiveDate::from_ymd_opt(2026, 11, 20),
            place: Some("Sukasari, Kota Bandung"),
            anonymous,
            confidential: false,
            reporter_name: Some("Siti Rahmawati"),
        }
    }

    fn codes() -> Codes {
        Codes {
            channel: 13,
            classification_id: 6,
            category_id: 436,
            location_id: 34,
            disposition_id: 151345,
        }
    }

    #[test]
    fn anonymous_reports_name_no_one_upward() {
        let c = complaint(&outgoing(true), &codes(), &[5, 6]);
        assert!(!c.content.contains("Siti"), "{}", c.content);
        assert!(c.is_anonymous);
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("Siti"));
        let named = complaint(&outgoing(false), &codes(), &[]);
        assert!(named.content.contains("Pelapor: Siti Rahmawati"));
        assert_eq!(named.attachments, "[]");
        assert_eq!(c.attachments, "[5,6]");
        assert_eq!(c.date_of_incident.as_deref(), Some("2026-11-20"));
        assert!(c.content.starts_with("Nomor pelacakan Lapor: 7KQ4-M2XJ"));
    }

    #[test]
    fn log_dates_are_jakarta_time() {
        let t = log_time("24-11-2026 09:30:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-24T02:30:00+00:00");
        assert_eq!(format_log_time(t), "24-11-2026 09:30:00");
        for bad in ["2026-11-24 09:30:00", "32-11-2026 09:30:00", "", "24-11-2026"] {
            assert_eq!(log_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn logs_become_notes_with_their_status_change() {
        let log = FollowUpLog {
            id: 9,
            content: Some("Laporan diteruskan ke Dinas PU".into()),
            created_at: "24-11-2026 09:30:00".into(),
            institution_from_id: Some(1),
            institution_from_name: Some("Kementerian PANRB".into()),
            institution_to_name: None,
            data: Some(r#"{"status_old":{"name":"Diproses"},"status_new":{"name":"Selesai"}}"#.into()),
        };
        assert_eq!(log.statuses(), (Some("Diproses".into()), Some("Selesai".into())));
        assert_eq!(
            log.note(),
            "[SP4N-LAPOR! 2026-11-24 09:30 WIB] Kementerian PANRB: Laporan diteruskan ke Dinas PU (status: Diproses → Selesai)"
        );
        let bare = FollowUpLog {
            data: Some("not json".into()),
            content: None,
            institution_from_name: None,
            ..log
        };
        assert_eq!(bare.statuses(), (None, None));
        assert_eq!(bare.note(), "[SP4N-LAPOR! 2026-11-24 09:30 WIB] SP4N-LAPOR!");
    }

    #[test]
    fn institution_names_match_across_systems() {
        assert_eq!(name_key("Pemerintah Kota Bandung"), name_key("KOTA  BANDUNG"));
        assert_eq!(name_key("Pemkab Garut"), "garut");
        assert_ne!(name_key("Kota Bandung"), name_key("Kabupaten Bandung"));
    }

    #[test]
    fn forward_is_a_reject_with_not_authority() {
        let f = Forward::to(777, "Bukan wewenang kami");
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"is_request": 1, "reason": 777, "reason_description": "Bukan wewenang kami", "not_authority": 1})
        );
    }
}
