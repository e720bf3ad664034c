//! Indonesian working-day calendar.
//!
//! Deadlines for complaints are counted in working days (hari kerja): Monday
//! to Friday, less national holidays (libur nasional) and, by default, joint
//! leave days (cuti bersama), in the institution's own time zone (WIB, WITA or
//! WIT; Indonesia has no daylight saving time).
//!
//! Holiday data comes from a small CSV file (`date,category,name_id,name_en`)
//! compiled into the binary; see [`Calendar::embedded`]. Outside the years the
//! data covers every Monday to Friday counts as a working day.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::{Bound, RangeInclusive};
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeDelta, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// The holiday file compiled into the binary.
const EMBEDDED_CSV: &str =
    include_str!("../../../data/holidays/indonesia_holidays_2015_2027_python-holidays-0.109.csv");

/// Years of the embedded data whose joint leave (cuti bersama) is not yet
/// fixed by a published SKB decree, so deadlines falling in them may move.
const EMBEDDED_PROVISIONAL_YEARS: [i32; 1] = [2027];

/// The header line every holiday file must start with.
const CSV_HEADER: [&str; 4] = ["date", "category", "name_id", "name_en"];

/// The most working days `add_working_days` will step over; larger values
/// saturate (3660 working days is more than 14 years).
const MAX_WORKING_DAYS: u32 = 3660;

/// Indonesian time zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Zone {
    /// Waktu Indonesia Barat, UTC+7 (Asia/Jakarta).
    Wib,
    /// Waktu Indonesia Tengah, UTC+8 (Asia/Makassar).
    Wita,
    /// Waktu Indonesia Timur, UTC+9 (Asia/Jayapura).
    Wit,
}

impl Zone {
    fn offset_seconds(self) -> i32 {
        match self {
            Zone::Wib => 7 * 3600,
            Zone::Wita => 8 * 3600,
            Zone::Wit => 9 * 3600,
        }
    }

    /// The zone's fixed offset from UTC.
    pub fn offset(self) -> FixedOffset {
        FixedOffset::east_opt(self.offset_seconds()).expect("offsets of +7..+9 hours are valid")
    }

    /// Parses an abbreviation (`WIB`, `WITA`, `WIT`) or an IANA name
    /// (`Asia/Jakarta`, `Asia/Pontianak`, `Asia/Makassar`, `Asia/Jayapura`),
    /// ignoring case and surrounding whitespace.
    pub fn parse(s: &str) -> Option<Zone> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "wib" | "asia/jakarta" | "asia/pontianak" => Some(Zone::Wib),
            "wita" | "asia/makassar" | "asia/ujung_pandang" => Some(Zone::Wita),
            "wit" | "asia/jayapura" => Some(Zone::Wit),
            _ => None,
        }
    }

    /// `"WIB"`, `"WITA"` or `"WIT"` (the same spelling serde uses).
    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Wib => "WIB",
            Zone::Wita => "WITA",
            Zone::Wit => "WIT",
        }
    }

    /// The zone of a province, from its Kemendagri code (`"32"`), or from any
    /// longer region code that starts with it (`"32.73"`). Unknown codes fall
    /// back to WIB.
    pub fn for_province(code: &str) -> Zone {
        let Some(prefix) = code.trim().get(..2) else {
            return Zone::Wib;
        };
        if !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Zone::Wib;
        }
        match prefix.parse::<u8>() {
            Ok(51..=53 | 63..=65 | 71..=76) => Zone::Wita,
            Ok(81 | 82 | 91..=96) => Zone::Wit,
            // 11-21, 31-36, 61, 62 and anything unknown.
            _ => Zone::Wib,
        }
    }
}

/// Why a date is not a working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    /// Libur nasional: always a day off.
    NationalHoliday,
    /// Cuti bersama: a day off unless the calendar's policy counts it as a
    /// working day (see [`Calendar::with_joint_leave_as_working`]).
    JointLeave,
}

/// One holiday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub kind: HolidayKind,
    /// The Indonesian name (`name_id` in the file).
    pub name: String,
}

/// A problem in a holiday file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayFileError {
    /// 1-based line number (the header is line 1).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for HolidayFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for HolidayFileError {}

/// Holidays plus the policy for counting working days.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// At most one holiday per date; a national holiday wins over joint leave
    /// on the same date.
    holidays: BTreeMap<NaiveDate, Holiday>,
    joint_leave_is_working: bool,
    provisional: BTreeSet<i32>,
}

static EMBEDDED: LazyLock<Calendar> = LazyLock::new(|| {
    let mut cal = match Calendar::from_csv(EMBEDDED_CSV) {
        Ok(cal) => cal,
        Err(errors) => panic!("embedded holiday file is invalid: {errors:?}"),
    };
    cal.set_provisional_years(EMBEDDED_PROVISIONAL_YEARS);
    cal
});

impl Calendar {
    /// A calendar with the given holidays, joint leave as days off and no
    /// provisional years. If a date appears more than once, a national
    /// holiday wins over joint leave, otherwise the first entry wins.
    pub fn new(holidays: Vec<Holiday>) -> Calendar {
        let mut map: BTreeMap<NaiveDate, Holiday> = BTreeMap::new();
        for h in holidays {
            match map.get(&h.date) {
                Some(existing)
                    if existing.kind == HolidayKind::NationalHoliday || h.kind == HolidayKind::JointLeave => {}
                _ => {
                    map.insert(h.date, h);
                }
            }
        }
        Calendar {
            holidays: map,
            joint_leave_is_working: false,
            provisional: BTreeSet::new(),
        }
    }

    /// Parses a holiday file: a header `date,category,name_id,name_en`, then
    /// one holiday per line with `date` as `YYYY-MM-DD` and `category`
    /// `libur_nasional` or `cuti_bersama`. Fields may be double-quoted.
    /// Blank lines are ignored. Any bad line rejects the whole file; all
    /// problems are returned with their 1-based line numbers.
    pub fn parse_csv(text: &str) -> Result<Vec<Holiday>, Vec<HolidayFileError>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut errors = Vec::new();
        let mut holidays = Vec::new();
        // (date, is_joint_leave) -> line of first occurrence
        let mut seen: BTreeMap<(NaiveDate, bool), usize> = BTreeMap::new();
        let mut header_seen = false;

        for (idx, raw) in text.lines().enumerate() {
            let line = idx + 1;
            let mut err = |message: String| errors.push(HolidayFileError { line, message });
            if raw.trim().is_empty() {
                continue;
            }
            let fields = match split_csv_line(raw) {
                Ok(fields) => fields,
                Err(message) => {
                    err(message);
                    header_seen = true;
                    continue;
                }
            };
            if !header_seen {
                header_seen = true;
                let is_header = fields.len() == CSV_HEADER.len()
                    && fields
                        .iter()
                        .zip(CSV_HEADER)
                        .all(|(f, h)| f.trim().eq_ignore_ascii_case(h));
                if !is_header {
                    err(format!("expected the header `{}`", CSV_HEADER.join(",")));
                }
                continue;
            }
            if fields.len() != CSV_HEADER.len() {
                err(format!("expected {} columns, found {}", CSV_HEADER.len(), fields.len()));
                continue;
            }
            let date_text = fields[0].trim();
            let date = parse_iso_date(date_text);
            if date.is_none() {
                err(format!("bad date {:?} (expected YYYY-MM-DD)", truncate(date_text)));
            }
            let category = fields[1].trim();
            let kind = match category {
                "libur_nasional" => Some(HolidayKind::NationalHoliday),
                "cuti_bersama" => Some(HolidayKind::JointLeave),
                other => {
                    err(format!(
                        "unknown category {:?} (expected libur_nasional or cuti_bersama)",
                        truncate(other)
                    ));
                    None
                }
            };
            let name = fields[2].trim();
            if name.is_empty() {
                err("empty name_id".to_string());
            }
            let (Some(date), Some(kind)) = (date, kind) else {
                continue;
            };
            let key = (date, kind == HolidayKind::JointLeave);
            if let Some(first) = seen.get(&key) {
                err(format!("duplicate {date} {category} (first on line {first})"));
                continue;
            }
            seen.insert(key, line);
            if !name.is_empty() {
                holidays.push(Holiday {
                    date,
                    kind,
                    name: name.to_string(),
                });
            }
        }

        if !header_seen {
            errors.push(HolidayFileError {
                line: 1,
                message: "empty file".to_string(),
            });
        } else if errors.is_empty() && holidays.is_empty() {
            errors.push(HolidayFileError {
                line: 1,
                message: "no holidays in file".to_string(),
            });
        }
        if errors.is_empty() { Ok(holidays) } else { Err(errors) }
    }

    /// Parses a holiday file (see [`Calendar::parse_csv`]) into a calendar.
    pub fn from_csv(text: &str) -> Result<Calendar, Vec<HolidayFileError>> {
        Calendar::parse_csv(text).map(Calendar::new)
    }

    /// The calendar built from the holiday file compiled into the binary
    /// (2015–2027; 2027 is marked provisional). Parsed once, then cloned.
    pub fn embedded() -> Calendar {
        EMBEDDED.clone()
    }

    /// Policy: whether cuti bersama counts as a working day (default `false`:
    /// joint leave is a day off).
    pub fn with_joint_leave_as_working(mut self, yes: bool) -> Calendar {
        self.joint_leave_is_working = yes;
        self
    }

    /// The joint-leave policy (see [`Calendar::with_joint_leave_as_working`]).
    pub fn joint_leave_is_working(&self) -> bool {
        self.joint_leave_is_working
    }

    /// Replaces the set of years whose joint leave is not final yet.
    pub fn set_provisional_years(&mut self, years: impl IntoIterator<Item = i32>) {
        self.provisional = years.into_iter().collect();
    }

    /// Years whose joint leave is not final yet, ascending.
    pub fn provisional_years(&self) -> Vec<i32> {
        self.provisional.iter().copied().collect()
    }

    /// First to last year present in the holiday data; an empty range
    /// (`1..=0`) for a calendar without holidays.
    pub fn covered_years(&self) -> RangeInclusive<i32> {
        match (self.holidays.first_key_value(), self.holidays.last_key_value()) {
            (Some((first, _)), Some((last, _))) => first.year()..=last.year(),
            _ => RangeInclusive::new(1, 0), // empty
        }
    }

    /// The holiday on `d`, if any, whatever the joint-leave policy.
    pub fn holiday(&self, d: NaiveDate) -> Option<&Holiday> {
        self.holidays.get(&d)
    }

    fn is_day_off(&self, h: &Holiday) -> bool {
        match h.kind {
            HolidayKind::NationalHoliday => true,
            HolidayKind::JointLeave => !self.joint_leave_is_working,
        }
    }

    /// Monday to Friday and not a day off.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        is_weekday(d) && !self.holidays.get(&d).is_some_and(|h| self.is_day_off(h))
    }

    /// The `n`th working day strictly after `d`; for `n == 0`, `d` itself if
    /// it is a working day, else the next working day. `n` saturates at 3660,
    /// and the result at the last date chrono can represent.
    pub fn add_working_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut day = d;
        if n == 0 {
            while !self.is_working_day(day) {
                match day.succ_opt() {
                    Some(next) => day = next,
                    None => return day,
                }
            }
            return day;
        }
        let mut left = n.min(MAX_WORKING_DAYS);
        while left > 0 {
            match day.succ_opt() {
                Some(next) => day = next,
                None => return day,
            }
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days in `(a, b]`: after `a`, up to and including `b`; 0 if
    /// `b <= a`. Runs in time proportional to the holidays in the range, not
    /// to its length.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> u32 {
        if b <= a {
            return 0;
        }
        let weekdays = weekdays_before(b) + i64::from(is_weekday(b)) - weekdays_before(a) - i64::from(is_weekday(a));
        let off = self
            .holidays
            .range((Bound::Excluded(a), Bound::Included(b)))
            .filter(|(d, h)| is_weekday(**d) && self.is_day_off(h))
            .count();
        let off = i64::try_from(off).unwrap_or(i64::MAX);
        u32::try_from(weekdays.saturating_sub(off).max(0)).unwrap_or(u32::MAX)
    }

    /// Deadline of a stage of `n` working days started at `start`: the end
    /// (23:59:59 local) of the `n`th working day after the start's local date
    /// in `zone`, in UTC. A start on a day off counts from the next working
    /// day, since the first counted day is always strictly after the start.
    pub fn due_at(&self, start: DateTime<Utc>, n: u32, zone: Zone) -> DateTime<Utc> {
        end_of_day(self.add_working_days(local_date(start, zone), n), zone)
    }

    /// Shifts `due` by the working days in (local date of `paused_at`, local
    /// date of `resumed_at`]: the new deadline is the end of the day that
    /// many working days after `due`'s local date. A pause that spans no
    /// working day leaves `due` unchanged.
    pub fn extend_for_pause(
        &self,
        due: DateTime<Utc>,
        paused_at: DateTime<Utc>,
        resumed_at: DateTime<Utc>,
        zone: Zone,
    ) -> DateTime<Utc> {
        let spent = self.working_days_between(local_date(paused_at, zone), local_date(resumed_at, zone));
        if spent == 0 {
            return due;
        }
        end_of_day(self.add_working_days(local_date(due, zone), spent), zone)
    }

    /// Working days between the local dates of `from` and `to` in `zone`
    /// (see [`Calendar::working_days_between`]); 0 if `to` is not later.
    pub fn working_days_elapsed(&self, from: DateTime<Utc>, to: DateTime<Utc>, zone: Zone) -> u32 {
        self.working_days_between(local_date(from, zone), local_date(to, zone))
    }

    /// The `n`th working day strictly before `d` (`d` itself for `n == 0`).
    /// Saturates like [`Calendar::add_working_days`].
    pub fn sub_working_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut day = d;
        let mut left = n.min(MAX_WORKING_DAYS);
        while left > 0 {
            match day.pred_opt() {
                Some(prev) => day = prev,
                None => return day,
            }
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// When to remind about a deadline `n` working days ahead: the start
    /// (00:00 local) of the `n`th working day before the deadline's local
    /// date, so staff get a whole working day's notice.
    pub fn reminder_at(&self, due: DateTime<Utc>, n: u32, zone: Zone) -> DateTime<Utc> {
        let day = self.sub_working_days(local_date(due, zone), n);
        end_of_day(day, zone) - TimeDelta::seconds(86_399)
    }

    /// The end of the day `n` working days after the local date of `t`
    /// (the same rule as [`Calendar::due_at`]); used for the escalation
    /// ladder, whose steps are counted from the missed deadline.
    pub fn working_days_after(&self, t: DateTime<Utc>, n: u32, zone: Zone) -> DateTime<Utc> {
        end_of_day(self.add_working_days(local_date(t, zone), n), zone)
    }

    /// The calendar date of `t` in `zone`.
    pub fn local_date(t: DateTime<Utc>, zone: Zone) -> NaiveDate {
        local_date(t, zone)
    }
}

fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Number of Mondays–Fridays strictly before `d`, counted from 0001-01-01
/// (a Monday in the proleptic Gregorian calendar); negative before it. Only
/// differences of this are meaningful.
fn weekdays_before(d: NaiveDate) -> i64 {
    let k = i64::from(d.num_days_from_ce()) - 1;
    5 * k.div_euclid(7) + k.rem_euclid(7).min(5)
}

/// The calendar date of `t` in `zone`.
fn local_date(t: DateTime<Utc>, zone: Zone) -> NaiveDate {
    let utc = t.naive_utc();
    utc.checked_add_signed(TimeDelta::seconds(i64::from(zone.offset_seconds())))
        .map_or(utc.date(), |local| local.date())
}

/// 23:59:59 local time in `zone` on `d`, as a UTC instant (saturating at
/// chrono's limits).
fn end_of_day(d: NaiveDate, zone: Zone) -> DateTime<Utc> {
    let utc: Option<NaiveDateTime> = d
        .and_hms_opt(23, 59, 59)
        .and_then(|local| local.checked_sub_signed(TimeDelta::seconds(i64::from(zone.offset_seconds()))));
    match utc {
        Some(utc) => DateTime::from_naive_utc_and_offset(utc, Utc),
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// Strict `YYYY-MM-DD`.
fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape_ok {
        return None;
    }
    // All ASCII, so these byte ranges are on char boundaries.
    let year = s.get(0..4)?.parse().ok()?;
    let month = s.get(5..7)?.parse().ok()?;
    let day = s.get(8..10)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Keeps error messages short for garbage input.
fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

/// Splits one CSV line into fields. Fields may be wrapped in double quotes,
/// with `""` standing for a quote inside; quoted line breaks are not
/// supported.
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("unterminated quoted field".to_string()),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return Err("unexpected text after a closing quote".to_string()),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => {
                        fields.push(field);
                        break;
                    }
                    Some(c) => field.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(y: i32, m: u32, day: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, h, min, s).unwrap()
    }

    fn cal() -> Calendar {
        Calendar::embedded()
    }

    fn lines_of(errors: &[HolidayFileError]) -> Vec<usize> {
        errors.iter().map(|e| e.line).collect()
    }

    #[test]
    fn embedded_covers_2015_to_2027_and_marks_2027_provisional() {
        let c = cal();
        assert_eq!(c.covered_years(), 2015..=2027);
        assert_eq!(c.provisional_years(), vec![2027]);
        // 304 lines = header + 303 holidays, no date appears twice.
        assert_eq!(c.holidays.len(), 303);
        assert_eq!(
            c.holiday(d(2015, 1, 1)).map(|h| h.name.as_str()),
            Some("Tahun Baru Masehi")
        );
        let h = c.holiday(d(2027, 12, 24)).unwrap();
        assert_eq!(h.kind, HolidayKind::JointLeave);
    }

    #[test]
    fn lebaran_2026() {
        let c = cal();
        // CSV: Wed 18 Mar cuti (Nyepi), Thu 19 Nyepi, Fri 20 cuti (Idul Fitri),
        // Sat 21 + Sun 22 Idul Fitri, Mon 23 + Tue 24 cuti (Idul Fitri).
        // 2026-03-01 is a Sunday, so 17 Mar is a Tuesday and 25 Mar a Wednesday.
        assert_eq!(d(2026, 3, 17).weekday(), Weekday::Tue);
        assert!(c.is_working_day(d(2026, 3, 17)));
        for day in 18..=24 {
            assert!(!c.is_working_day(d(2026, 3, day)), "2026-03-{day}");
        }
        assert_eq!(c.holiday(d(2026, 3, 21)).unwrap().kind, HolidayKind::NationalHoliday);
        assert_eq!(c.holiday(d(2026, 3, 23)).unwrap().kind, HolidayKind::JointLeave);
        // Tue 17 + 1 → Wed 25 (18..24 all off).
        assert_eq!(c.add_working_days(d(2026, 3, 17), 1), d(2026, 3, 25));
        // Mon 16 + 2 → Tue 17 (1), Wed 25 (2).
        assert_eq!(c.add_working_days(d(2026, 3, 16), 2), d(2026, 3, 25));
        // (17, 25] contains only 25.
        assert_eq!(c.working_days_between(d(2026, 3, 17), d(2026, 3, 25)), 1);
        // Filed Tue 17 Mar 10:00 WIB (03:00 UTC), 3 days: Wed 25, Thu 26, Fri 27 →
        // 27 Mar 23:59:59 WIB = 16:59:59 UTC.
        assert_eq!(
            c.due_at(utc(2026, 3, 17, 3, 0, 0), 3, Zone::Wib),
            utc(2026, 3, 27, 16, 59, 59)
        );
    }

    #[test]
    fn lebaran_2026_with_joint_leave_as_working() {
        let c = cal().with_joint_leave_as_working(true);
        // Cuti bersama 18, 20, 23, 24 now count; Nyepi 19 and the weekend do not.
        assert!(c.is_working_day(d(2026, 3, 18)));
        assert!(!c.is_working_day(d(2026, 3, 19)));
        assert_eq!(c.add_working_days(d(2026, 3, 17), 1), d(2026, 3, 18));
        assert_eq!(c.add_working_days(d(2026, 3, 17), 2), d(2026, 3, 20));
        assert_eq!(c.add_working_days(d(2026, 3, 17), 3), d(2026, 3, 23));
        // (17, 25]: 18, 20, 23, 24, 25.
        assert_eq!(c.working_days_between(d(2026, 3, 17), d(2026, 3, 25)), 5);
        // The holiday is still reported.
        assert_eq!(c.holiday(d(2026, 3, 18)).unwrap().kind, HolidayKind::JointLeave);
    }

    #[test]
    fn year_end_2026_into_2027() {
        let c = cal();
        // Dec 2026: Wed 23, Thu 24 cuti (Natal), Fri 25 Natal, Sat 26, Sun 27,
        // Mon 28, Tue 29, Wed 30, Thu 31; Fri 1 Jan 2027 Tahun Baru, Sat 2,
        // Sun 3, Mon 4, Tue 5 Isra Mikraj (2027), Wed 6.
        assert_eq!(d(2026, 12, 23).weekday(), Weekday::Wed);
        assert_eq!(d(2027, 1, 1).weekday(), Weekday::Fri);
        assert_eq!(c.add_working_days(d(2026, 12, 23), 1), d(2026, 12, 28));
        assert_eq!(c.add_working_days(d(2026, 12, 23), 4), d(2026, 12, 31));
        assert_eq!(c.add_working_days(d(2026, 12, 23), 5), d(2027, 1, 4));
        assert_eq!(c.add_working_days(d(2026, 12, 23), 6), d(2027, 1, 6));
        // (23 Dec, 6 Jan]: 28, 29, 30, 31, 4, 6.
        assert_eq!(c.working_days_between(d(2026, 12, 23), d(2027, 1, 6)), 6);
        // n = 0: Thu 24 Dec is off → Mon 28; a working day returns itself.
        assert_eq!(c.add_working_days(d(2026, 12, 24), 0), d(2026, 12, 28));
        assert_eq!(c.add_working_days(d(2026, 12, 23), 0), d(2026, 12, 23));
    }

    #[test]
    fn dates_2025() {
        let c = cal();
        // Around Lebaran 2025: Thu 27 Mar working, Fri 28 cuti (Nyepi), Sat 29
        // Nyepi, Mon 31 + Tue 1 Apr Idul Fitri, Wed 2, Thu 3, Fri 4, Mon 7 cuti.
        // So Thu 27 Mar + 1 → Tue 8 Apr.
        assert_eq!(d(2025, 3, 27).weekday(), Weekday::Thu);
        assert_eq!(c.add_working_days(d(2025, 3, 27), 1), d(2025, 4, 8));
        assert_eq!(c.working_days_between(d(2025, 3, 27), d(2025, 4, 8)), 1);
        // Good Friday 18 Apr, Easter Sunday 20 Apr (a holiday on a weekend).
        assert!(!c.is_working_day(d(2025, 4, 18)));
        assert!(!c.is_working_day(d(2025, 4, 20)));
        assert!(c.is_working_day(d(2025, 4, 17)));
        // Plain weekend.
        assert!(!c.is_working_day(d(2025, 2, 1)));
        assert!(c.holiday(d(2025, 2, 1)).is_none());
        // With cuti bersama as working: (27 Mar, 8 Apr] = 28 Mar, 2, 3, 4, 7, 8 Apr.
        let w = cal().with_joint_leave_as_working(true);
        assert_eq!(w.add_working_days(d(2025, 3, 27), 1), d(2025, 3, 28));
        assert_eq!(w.working_days_between(d(2025, 3, 27), d(2025, 4, 8)), 6);
        // Empty and reversed intervals.
        assert_eq!(c.working_days_between(d(2025, 4, 8), d(2025, 4, 8)), 0);
        assert_eq!(c.working_days_between(d(2025, 4, 8), d(2025, 3, 27)), 0);
    }

    #[test]
    fn friday_evening_wib_is_saturday_in_wit() {
        let c = cal();
        // Fri 24 Jan 2025 22:30 WIB = 15:30 UTC = Sat 25 Jan 00:30 WIT.
        let start = utc(2025, 1, 24, 15, 30, 0);
        assert_eq!(local_date(start, Zone::Wib), d(2025, 1, 24));
        assert_eq!(local_date(start, Zone::Wit), d(2025, 1, 25));
        // After 24 Jan: Mon 27 Isra Mikraj, Tue 28 cuti Imlek, Wed 29 Imlek,
        // then Thu 30 (1), Fri 31 (2), Mon 3 Feb (3), from Friday and Saturday alike.
        // 3 Feb 23:59:59 WIB = 16:59:59 UTC; 23:59:59 WIT = 14:59:59 UTC.
        assert_eq!(c.due_at(start, 3, Zone::Wib), utc(2025, 2, 3, 16, 59, 59));
        assert_eq!(c.due_at(start, 3, Zone::Wit), utc(2025, 2, 3, 14, 59, 59));

        // Thu 23 Jan 22:30 WIB = 15:30 UTC = Fri 24 Jan 00:30 WIT, one day:
        // WIB counts from Thursday → Fri 24; WIT from Friday → Thu 30.
        let start = utc(2025, 1, 23, 15, 30, 0);
        assert_eq!(c.due_at(start, 1, Zone::Wib), utc(2025, 1, 24, 16, 59, 59));
        assert_eq!(c.due_at(start, 1, Zone::Wit), utc(2025, 1, 30, 14, 59, 59));
        // WITA: 23:30 Thursday as in WIB → Fri 24 23:59:59 WITA = 15:59:59 UTC.
        assert_eq!(c.due_at(start, 1, Zone::Wita), utc(2025, 1, 24, 15, 59, 59));

        // Elapsed: from that Thursday evening to Mon 3 Feb 09:00 WIB (02:00 UTC).
        // WIB: (Thu 23, Mon 3 Feb] = Fri 24, Thu 30, Fri 31, Mon 3 = 4.
        // WIT: (Fri 24, Mon 3 Feb] = Thu 30, Fri 31, Mon 3 = 3.
        let now = utc(2025, 2, 3, 2, 0, 0);
        assert_eq!(c.working_days_elapsed(start, now, Zone::Wib), 4);
        assert_eq!(c.working_days_elapsed(start, now, Zone::Wit), 3);
        assert_eq!(c.working_days_elapsed(now, start, Zone::Wib), 0);
    }

    #[test]
    fn saturday_filing_counts_from_monday() {
        // A calendar without holidays: Sat 7 Mar 2026 + 3 → Mon, Tue, Wed 11 Mar.
        let c = Calendar::default();
        assert_eq!(d(2026, 3, 7).weekday(), Weekday::Sat);
        // Sat 7 Mar 12:00 WIB = 05:00 UTC; Wed 11 Mar 23:59:59 WIB = 16:59:59 UTC.
        assert_eq!(
            c.due_at(utc(2026, 3, 7, 5, 0, 0), 3, Zone::Wib),
            utc(2026, 3, 11, 16, 59, 59)
        );
    }

    #[test]
    fn pause_extension_across_a_holiday() {
        let c = cal();
        // May 2025: Mon 12 Waisak, Tue 13 cuti Waisak.
        // Due Fri 9 May 23:59:59 WIB (16:59:59 UTC). Paused Wed 7 May 10:00 WIB
        // (03:00 UTC), resumed Wed 14 May 09:00 WIB (02:00 UTC).
        // Spent: (7, 14] = Thu 8, Fri 9, Wed 14 = 3 (12 and 13 are off).
        // New due: after Fri 9 skip 12, 13 → Wed 14 (1), Thu 15 (2), Fri 16 (3).
        let due = utc(2025, 5, 9, 16, 59, 59);
        let paused = utc(2025, 5, 7, 3, 0, 0);
        let resumed = utc(2025, 5, 14, 2, 0, 0);
        assert_eq!(c.working_days_elapsed(paused, resumed, Zone::Wib), 3);
        assert_eq!(
            c.extend_for_pause(due, paused, resumed, Zone::Wib),
            utc(2025, 5, 16, 16, 59, 59)
        );
        // Paused and resumed the same day: nothing changes.
        assert_eq!(
            c.extend_for_pause(due, paused, utc(2025, 5, 7, 9, 0, 0), Zone::Wib),
            due
        );
        // Paused Fri 9 May, resumed Wed 14 May: (9, 14] = Wed 14 only → Wed 14.
        let paused = utc(2025, 5, 9, 3, 0, 0);
        assert_eq!(
            c.extend_for_pause(due, paused, resumed, Zone::Wib),
            utc(2025, 5, 14, 16, 59, 59)
        );
    }

    #[test]
    fn parse_errors_have_line_numbers() {
        let text = "date,category,name_id,name_en\n\
                    2025-01-01,libur_nasional,Tahun Baru Masehi,New Year's Day\n\
                    2025-02-30,libur_nasional,Bad,Bad\n\
                    2025-03-01,libur_umum,Bad,Bad\n\
                    2025-01-01,libur_nasional,Again,Again\n\
                    2025-03-02,libur_nasional,Too few\n\
                    2025-01-01,cuti_bersama,Same date other kind,Ok\n\
                    \n\
                    \n";
        let errors = Calendar::parse_csv(text).unwrap_err();
        assert_eq!(lines_of(&errors), vec![3, 4, 5, 6], "{errors:?}");
        assert!(errors[0].message.contains("bad date"));
        assert!(errors[1].message.contains("unknown category"));
        assert!(errors[2].message.contains("duplicate") && errors[2].message.contains("line 2"));
        assert!(errors[3].message.contains("columns"));
        assert_eq!(errors[0].to_string(), format!("line 3: {}", errors[0].message));
        assert!(Calendar::from_csv(text).is_err());
    }

    #[test]
    fn parse_rejects_bad_shapes() {
        assert_eq!(lines_of(&Calendar::parse_csv("").unwrap_err()), vec![1]);
        assert_eq!(lines_of(&Calendar::parse_csv("\n\n").unwrap_err()), vec![1]);
        // Header only.
        assert_eq!(
            lines_of(&Calendar::parse_csv("date,category,name_id,name_en\n").unwrap_err()),
            vec![1]
        );
        // Missing header.
        let no_header = "2025-01-01,libur_nasional,A,B\n2025-01-02,libur_nasional,A,B\n";
        assert_eq!(lines_of(&Calendar::parse_csv(no_header).unwrap_err()), vec![1]);
        // Loose date formats and both errors on one line.
        let text = "date,category,name_id,name_en\n2025-1-01,libur_nasional,A,B\n+2025-01-0,x,A,B\n";
        assert_eq!(lines_of(&Calendar::parse_csv(text).unwrap_err()), vec![2, 3, 3]);
        // Unterminated quote.
        let text = "date,category,name_id,name_en\n2025-01-01,libur_nasional,\"A,B\n";
        assert_eq!(lines_of(&Calendar::parse_csv(text).unwrap_err()), vec![2]);
    }

    #[test]
    fn parse_accepts_crlf_bom_and_quotes() {
        let text = "\u{feff}date,category,name_id,name_en\r\n\
                    2025-01-01,libur_nasional,\"Tahun Baru, \"\"Masehi\"\"\",New Year\r\n\
                    2025-01-02,cuti_bersama,Cuti,Leave\r\n";
        let hs = Calendar::parse_csv(text).unwrap();
        assert_eq!(hs.len(), 2);
        assert_eq!(hs[0].name, "Tahun Baru, \"Masehi\"");
        assert_eq!(
            hs[1],
            Holiday {
                date: d(2025, 1, 2),
                kind: HolidayKind::JointLeave,
                name: "Cuti".into()
            }
        );
    }

    #[test]
    fn parse_never_panics_on_garbage() {
        // Tiny xorshift generator: deterministic pseudo-random inputs.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: Vec<char> = "0123456789-,\"\n\r ab_éř\u{feff}lcutinsoreb".chars().collect();
        let base = EMBEDDED_CSV.as_bytes();
        for _ in 0..2000 {
            let len = (next() % 200) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let _ = Calendar::parse_csv(&s);
            // Mutate the real file a little.
            let mut bytes = base[..(next() as usize % base.len())].to_vec();
            if !bytes.is_empty() {
                let i = next() as usize % bytes.len();
                bytes[i] = (next() % 128) as u8;
            }
            let _ = Calendar::parse_csv(&String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn joint_leave_policy() {
        // 2026-05-15 (Fri) is cuti bersama after Kenaikan (Thu 14).
        let off = cal();
        let on = cal().with_joint_leave_as_working(true);
        assert!(!off.is_working_day(d(2026, 5, 15)));
        assert!(on.is_working_day(d(2026, 5, 15)));
        assert!(!on.is_working_day(d(2026, 5, 14)));
        // Wed 13 May + 1: off → Mon 18; on → Fri 15.
        assert_eq!(off.add_working_days(d(2026, 5, 13), 1), d(2026, 5, 18));
        assert_eq!(on.add_working_days(d(2026, 5, 13), 1), d(2026, 5, 15));
        assert!(!on.with_joint_leave_as_working(false).is_working_day(d(2026, 5, 15)));
        // A national holiday wins over joint leave on the same date.
        let both = Calendar::new(vec![
            Holiday {
                date: d(2026, 5, 15),
                kind: HolidayKind::JointLeave,
                name: "J".into(),
            },
            Holiday {
                date: d(2026, 5, 15),
                kind: HolidayKind::NationalHoliday,
                name: "N".into(),
            },
        ])
        .with_joint_leave_as_working(true);
        assert!(!both.is_working_day(d(2026, 5, 15)));
        assert_eq!(both.holiday(d(2026, 5, 15)).unwrap().name, "N");
    }

    #[test]
    fn zones() {
        assert_eq!(Zone::parse("WIB"), Some(Zone::Wib));
        assert_eq!(Zone::parse("wib"), Some(Zone::Wib));
        assert_eq!(Zone::parse("Asia/Jakarta"), Some(Zone::Wib));
        assert_eq!(Zone::parse("WITA"), Some(Zone::Wita));
        assert_eq!(Zone::parse("Asia/Makassar"), Some(Zone::Wita));
        assert_eq!(Zone::parse("wit"), Some(Zone::Wit));
        assert_eq!(Zone::parse("Asia/Jayapura"), Some(Zone::Wit));
        assert_eq!(Zone::parse("UTC"), None);
        assert_eq!(Zone::parse(""), None);
        for z in [Zone::Wib, Zone::Wita, Zone::Wit] {
            assert_eq!(Zone::parse(z.as_str()), Some(z));
            assert_eq!(serde_json::to_string(&z).unwrap(), format!("\"{}\"", z.as_str()));
        }
        assert_eq!(Zone::Wib.offset().local_minus_utc(), 7 * 3600);
        assert_eq!(Zone::Wita.offset().local_minus_utc(), 8 * 3600);
        assert_eq!(Zone::Wit.offset().local_minus_utc(), 9 * 3600);
        assert_eq!(serde_json::from_str::<Zone>("\"WITA\"").unwrap(), Zone::Wita);
    }

    #[test]
    fn zone_for_province() {
        assert_eq!(Zone::for_province("11"), Zone::Wib); // Aceh
        assert_eq!(Zone::for_province("21"), Zone::Wib); // Kepulauan Riau
        assert_eq!(Zone::for_province("31"), Zone::Wib); // DKI Jakarta
        assert_eq!(Zone::for_province("32.73"), Zone::Wib); // Kota Bandung
        assert_eq!(Zone::for_province("61"), Zone::Wib); // Kalimantan Barat
        assert_eq!(Zone::for_province("62"), Zone::Wib); // Kalimantan Tengah
        assert_eq!(Zone::for_province("51"), Zone::Wita); // Bali
        assert_eq!(Zone::for_province("53"), Zone::Wita); // NTT
        assert_eq!(Zone::for_province("63"), Zone::Wita); // Kalimantan Selatan
        assert_eq!(Zone::for_province("65"), Zone::Wita); // Kalimantan Utara
        assert_eq!(Zone::for_province("73.71"), Zone::Wita); // Kota Makassar
        assert_eq!(Zone::for_province("76"), Zone::Wita); // Sulawesi Barat
        assert_eq!(Zone::for_province("81"), Zone::Wit); // Maluku
        assert_eq!(Zone::for_province("82"), Zone::Wit); // Maluku Utara
        assert_eq!(Zone::for_province("91"), Zone::Wit); // Papua
        assert_eq!(Zone::for_province("96"), Zone::Wit); // Papua Barat Daya
        assert_eq!(Zone::for_province("99"), Zone::Wib); // unknown
        assert_eq!(Zone::for_province(""), Zone::Wib);
        assert_eq!(Zone::for_province("7"), Zone::Wib);
        assert_eq!(Zone::for_province("é1"), Zone::Wib);
        assert_eq!(Zone::for_province("+7"), Zone::Wib);
    }

    #[test]
    fn weekday_arithmetic_matches_a_day_by_day_count() {
        assert_eq!(NaiveDate::from_num_days_from_ce_opt(1).unwrap().weekday(), Weekday::Mon);
        let c = cal();
        let brute = |a: NaiveDate, b: NaiveDate| {
            let mut n = 0;
            let mut x = a;
            while x < b {
                x = x.succ_opt().unwrap();
                n += u32::from(c.is_working_day(x));
            }
            n
        };
        let start = d(2014, 12, 20);
        for i in 0..60 {
            let a = start + TimeDelta::days(i * 37);
            for len in [0, 1, 2, 5, 6, 7, 8, 13, 30, 400] {
                let b = a + TimeDelta::days(len);
                assert_eq!(c.working_days_between(a, b), brute(a, b), "{a}..{b}");
                // add_working_days inverts working_days_between on working days.
                let n = brute(a, b);
                if n > 0 && c.is_working_day(b) {
                    assert_eq!(c.add_working_days(a, n), b, "{a} + {n}");
                }
            }
        }
        // Far before the common era.
        let a = NaiveDate::from_ymd_opt(-500, 3, 1).unwrap();
        assert_eq!(
            c.working_days_between(a, a + TimeDelta::days(100)),
            brute(a, a + TimeDelta::days(100))
        );
    }

    #[test]
    fn extremes_do_not_panic() {
        let c = cal();
        assert_eq!(c.add_working_days(NaiveDate::MAX, 5), NaiveDate::MAX);
        let far = c.add_working_days(d(2020, 1, 1), u32::MAX);
        assert_eq!(far, c.add_working_days(d(2020, 1, 1), MAX_WORKING_DAYS));
        assert!(far > d(2033, 1, 1));
        assert!(c.working_days_between(NaiveDate::MIN, NaiveDate::MAX) > 100_000_000);
        let _ = c.due_at(DateTime::<Utc>::MAX_UTC, 10, Zone::Wit);
        let _ = c.due_at(DateTime::<Utc>::MIN_UTC, 10, Zone::Wit);
        let _ = c.extend_for_pause(
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            Zone::Wib,
        );
        let _ = c.working_days_elapsed(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, Zone::Wita);
        assert_eq!(Calendar::default().covered_years().count(), 0);
    }
}
