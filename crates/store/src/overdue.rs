//! "Overdue now" as tallies (decision 0024). A report counts as overdue
//! from the instant its running deadline passes until it leaves the
//! counted state, and nothing is written at that instant. So instead of
//! counting the overdue reports at every read (at 10,000,000 reports about
//! 1.7 million of them, 300 ms and more), the store keeps how many counted
//! reports each holder has *due on each day and in each month*, changed in
//! the transaction that changes a report. A read at `now` sums the months
//! before this one, the days of this month before today, and counts live
//! only the reports due today before `now`.
//!
//! Tallies by classification, category or channel are kept by month only:
//! a read filtered by one of them counts this month's due reports live.
//! With two or more label filters the whole count is live.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use lapor_domain::report::Report;
use std::collections::BTreeMap;

/// The statuses whose deadlines run.
const OPEN_STATUSES: [&str; 3] = ["submitted", "dispositioned", "in_progress"];
/// Stages whose deadline is the reporter's, or the reopening window's: no
/// institution is late in them.
const RESTING_STAGES: [&str; 2] = ["reporter_reply", "reopen_window"];

/// The holder a report's lateness is charged to, as SQL: the unit, else the
/// institution, else "" (not yet verified). Indexes are written with it.
pub const HOLDER_SQL: &str = "COALESCE(unit, institution, '')";

/// The reports `Tracked::of` counts, as SQL over `reports`.
pub fn counted_sql() -> String {
    let list = |v: &[&str]| v.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(",");
    format!(
        "status IN ({}) AND due_at IS NOT NULL AND (stage IS NULL OR stage NOT IN ({}))",
        list(&OPEN_STATUSES),
        list(&RESTING_STAGES)
    )
}

/// The label columns kept by month, each also the `dim` of its tallies.
pub const LABELS: [&str; 3] = ["classification", "category", "channel"];

/// A counted report: what its tallies are keyed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub holder: String,
    pub due_at: DateTime<Utc>,
    /// In `LABELS` order; a report without a category has no category tally.
    pub labels: [Option<String>; 3],
}

/// A report's stored columns that decide whether and where it is counted.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    pub status: &'a str,
    pub stage: Option<&'a str>,
    pub due_at: Option<DateTime<Utc>>,
    pub unit: Option<&'a str>,
    pub institution: Option<&'a str>,
    pub classification: &'a str,
    pub category: Option<&'a str>,
    pub channel: &'a str,
}

impl Columns<'_> {
    /// Whether the report is counted, and under which keys: exactly
    /// `counted_sql` and `HOLDER_SQL`.
    pub fn tracked(&self) -> Option<Tracked> {
        let due_at = self.due_at?;
        if !OPEN_STATUSES.contains(&self.status) || self.stage.is_some_and(|s| RESTING_STAGES.contains(&s)) {
            return None;
        }
        Some(Tracked {
            holder: self.unit.or(self.institution).unwrap_or("").to_string(),
            due_at,
            labels: [
                Some(self.classification.to_string()),
                self.category.map(str::to_string),
                Some(self.channel.to_string()),
            ],
        })
    }
}

impl Tracked {
    pub fn of(r: &Report) -> Option<Tracked> {
        Columns {
            status: r.status.as_str(),
            stage: r.stage.map(|s| s.as_str()),
            due_at: r.due_at,
            unit: r.unit.as_deref(),
            institution: r.institution.as_deref(),
            classification: r.classification.as_str(),
            category: r.category.as_deref(),
            channel: r.channel.as_str(),
        }
        .tracked()
    }
}

/// Day and month tallies: `due` is a day number (days since 1970-01-01,
/// UTC), of the due day or of the first day of the due month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Span {
    Day,
    Month,
}

impl Span {
    pub fn as_str(self) -> &'static str {
        match self {
            Span::Day => "D",
            Span::Month => "M",
        }
    }
}

/// One tally row's key. `dim` is "" (every report) or one of `LABELS`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TallyKey {
    pub dim: &'static str,
    pub label: String,
    pub span: Span,
    pub due: i64,
    pub holder: String,
}

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 (UTC) of an instant.
pub fn day_number(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis().div_euclid(DAY_MS)
}

/// The day number of the first day of the instant's month (UTC).
pub fn month_number(t: DateTime<Utc>) -> i64 {
    let first = NaiveDate::from_ymd_opt(t.year(), t.month(), 1).expect("the first of a month");
    first
        .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch"))
        .num_days()
}

/// The first instant of a day number.
pub fn day_start(day: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(day * DAY_MS).single().expect("a day in range")
}

/// Adds a counted report's keys with `sign` (+1 when it starts being
/// counted, -1 when it stops) to `deltas`.
pub fn add(deltas: &mut BTreeMap<TallyKey, i64>, t: &Tracked, sign: i64) {
    let (day, month) = (day_number(t.due_at), month_number(t.due_at));
    let key = |dim: &'static str, label: &str, span: Span, due: i64| TallyKey {
        dim,
        label: label.to_string(),
        span,
        due,
        holder: t.holder.clone(),
    };
    *deltas.entry(key("", "", Span::Day, day)).or_default() += sign;
    *deltas.entry(key("", "", Span::Month, month)).or_default() += sign;
    for (dim, label) in LABELS.iter().zip(&t.labels) {
        if let Some(label) = label {
            *deltas.entry(key(dim, label, Span::Month, month)).or_default() += sign;
        }
    }
}

/// What a change from `before` to `after` does to the tallies: nothing when
/// both are counted under the same keys. Zero entries are dropped.
pub fn change(before: Option<&Tracked>, after: Option<&Tracked>) -> BTreeMap<TallyKey, i64> {
    let mut deltas = BTreeMap::new();
    if before == after {
        return deltas;
    }
    if let Some(b) = before {
        add(&mut deltas, b, -1);
    }
    if let Some(a) = after {
        add(&mut deltas, a, 1);
    }
    deltas.retain(|_, n| *n != 0);
    deltas
}

/// How a read at `now` splits "due before now": which tallies it sums and
/// from when it counts live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// `dim` and `label` of the tallies read; None: count everything live.
    pub tallies: Option<(&'static str, String)>,
    /// Month tallies due before this day number.
    pub months_before: i64,
    /// Day tallies due in `[months_before, days_before)`; None: no day
    /// tallies (a label filter).
    pub days_before: Option<i64>,
    /// Count live the reports due in `[live_from, now)`; None: all of them.
    pub live_from: Option<DateTime<Utc>>,
}

/// The split for the label filters given (`(dim, label)` pairs).
pub fn split(now: DateTime<Utc>, labels: &[(&'static str, String)]) -> Split {
    let (today, month) = (day_number(now), month_number(now));
    match labels {
        [] => Split {
            tallies: Some(("", String::new())),
            months_before: month,
            days_before: Some(today),
            live_from: Some(day_start(today)),
        },
        [one] => Split {
            tallies: Some(one.clone()),
            months_before: month,
            days_before: None,
            live_from: Some(day_start(month)),
        },
        _ => Split {
            tallies: None,
            months_before: month,
            days_before: None,
            live_from: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cols(status: &str, stage: Option<&'static str>, due: &str) -> Columns<'static> {
        Columns {
            status: Box::leak(status.to_string().into_boxed_str()),
            stage,
            due_at: Some(at(due)),
            unit: None,
            institution: Some("pemkot-32.73"),
            classification: "complaint",
            category: Some("jalan"),
            channel: "web",
        }
    }

    #[test]
    fn counted_state_matches_the_sql_predicate() {
        let due = "2026-11-03T10:00:00Z";
        assert!(cols("submitted", None, due).tracked().is_some());
        assert!(
            cols("in_progress", Some("institution_response"), due)
                .tracked()
                .is_some()
        );
        assert!(cols("in_progress", Some("reporter_reply"), due).tracked().is_none());
        assert!(cols("dispositioned", Some("reopen_window"), due).tracked().is_none());
        assert!(cols("completed", None, due).tracked().is_none());
        assert!(cols("on_hold", None, due).tracked().is_none());
        let no_due = Columns {
            due_at: None,
            ..cols("submitted", None, due)
        };
        assert!(no_due.tracked().is_none());
        let sql = counted_sql();
        for s in OPEN_STATUSES.iter().chain(&RESTING_STAGES) {
            assert!(sql.contains(&format!("'{s}'")), "{sql}");
        }
    }

    #[test]
    fn holder_is_the_unit_then_the_institution_then_nobody() {
        let base = cols("submitted", None, "2026-11-03T10:00:00Z");
        let unit = Columns {
            unit: Some("pemkot-32.73-dishub"),
            ..base
        };
        assert_eq!(unit.tracked().unwrap().holder, "pemkot-32.73-dishub");
        assert_eq!(base.tracked().unwrap().holder, "pemkot-32.73");
        let nobody = Columns {
            institution: None,
            ..base
        };
        assert_eq!(nobody.tracked().unwrap().holder, "");
    }

    #[test]
    fn day_and_month_numbers_are_utc() {
        assert_eq!(day_number(at("1970-01-01T23:59:59.999Z")), 0);
        assert_eq!(day_number(at("1970-01-02T00:00:00Z")), 1);
        // 2026-12-04 is day 20,791; its month began on day 20,788.
        assert_eq!(day_number(at("2026-12-04T12:00:00Z")), 20_791);
        assert_eq!(month_number(at("2026-12-04T12:00:00Z")), 20_788);
        // 07:00 in Jakarta on the 1st is still the 30th in UTC.
        assert_eq!(
            month_number(at("2026-12-01T06:59:00+07:00")),
            month_number(at("2026-11-15T00:00:00Z"))
        );
        assert_eq!(day_start(20_791), at("2026-12-04T00:00:00Z"));
    }

    #[test]
    fn a_change_moves_every_key_or_none() {
        let a = cols("submitted", None, "2026-11-03T10:00:00Z").tracked().unwrap();
        // Counted from nothing: a day, a month, and three label months.
        let born = change(None, Some(&a));
        assert_eq!(born.len(), 5);
        assert!(born.values().all(|n| *n == 1));
        assert!(change(Some(&a), Some(&a)).is_empty());
        // Another day of the same month: the month tallies stay.
        let b = Tracked {
            due_at: at("2026-11-20T10:00:00Z"),
            ..a.clone()
        };
        let moved = change(Some(&a), Some(&b));
        assert_eq!(moved.len(), 2, "{moved:?}");
        assert!(moved.keys().all(|k| k.span == Span::Day));
        // No category: no category tally.
        let bare = Tracked {
            labels: [Some("complaint".into()), None, Some("web".into())],
            ..a.clone()
        };
        assert_eq!(change(None, Some(&bare)).len(), 4);
        // Stops being counted: everything back.
        let gone = change(Some(&a), None);
        assert!(gone.values().all(|n| *n == -1) && gone.len() == 5);
    }

    #[test]
    fn a_split_covers_every_instant_before_now_once() {
        let now = at("2026-12-04T12:00:00Z");
        let s = split(now, &[]);
        assert_eq!(s.months_before, 20_788);
        assert_eq!(s.days_before, Some(20_791));
        assert_eq!(s.live_from, Some(at("2026-12-04T00:00:00Z")));
        let one = split(now, &[("category", "jalan".into())]);
        assert_eq!(one.days_before, None);
        assert_eq!(one.live_from, Some(at("2026-12-01T00:00:00Z")));
        let two = split(now, &[("category", "jalan".into()), ("channel", "web".into())]);
        assert_eq!((two.tallies, two.live_from), (None, None));
    }
}
