//! Due dates for every SLA stage length across the 2025–2027 holidays (Lebaran
//! and its joint leave, Christmas into New Year), both joint-leave policies
//! and all three zones, checked against an oracle that shares nothing with
//! `lapor_domain::calendar`:
//!
//! - the holiday CSV is read here with a plain comma split (the file has no
//!   quotes, which `csv_rows` checks), not through `Calendar::parse_csv`;
//! - dates are day numbers (days since 1970-01-01) from our own civil-calendar
//!   arithmetic, and instants are Unix seconds with the zones' offsets
//!   written out by hand;
//! - the working dates of the whole range are enumerated once into a sorted
//!   Vec, and a deadline is a binary search plus an index, instead of
//!   stepping day by day like `add_working_days`.
//!
//! A hand-written table of literal cases, each derived in a comment from the
//! CSV rows (which `hand_table_rests_on_these_csv_rows` pins), keeps the
//! oracle itself honest.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use lapor_domain::calendar::{Calendar, Zone};
use lapor_domain::report::{Classification, Stage};
use lapor_domain::sla::SlaPolicy;

const CSV: &str = include_str!("../../../data/holidays/indonesia_holidays_2015_2027_python-holidays-0.109.csv");
const CUTI_BERSAMA_JSON: &str = include_str!("../../../data/holidays/cuti-bersama.json");
const LIBUR_NASIONAL_JSON: &str = include_str!("../../../data/holidays/libur-nasional.json");

/// Days since 1970-01-01.
type Day = i64;

const DAY_SECS: i64 = 86_400;

/// The zones with their offsets written out here, not taken from `Zone`.
const ZONES: [(Zone, i64, &str); 3] = [
    (Zone::Wib, 7 * 3600, "WIB"),
    (Zone::Wita, 8 * 3600, "WITA"),
    (Zone::Wit, 9 * 3600, "WIT"),
];

/// The oracle's range. It runs to mid-2028 because a 60-working-day clock
/// started at the end of 2027 ends in late March 2028.
const FIRST: Day = days_from_civil(2024, 12, 1);
const LAST: Day = days_from_civil(2028, 6, 30);

/// Day number of a proleptic Gregorian date (H. Hinnant's algorithm: count
/// from 0000-03-01 so that the leap day is the last day of a "year").
const fn days_from_civil(y: i64, m: i64, d: i64) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of `days_from_civil`.
fn civil_from_days(z: Day) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// 0 = Monday … 6 = Sunday; 1970-01-01 was a Thursday.
fn weekday_index(day: Day) -> i64 {
    (day + 3).rem_euclid(7)
}

fn is_weekend(day: Day) -> bool {
    weekday_index(day) >= 5
}

/// Strict `YYYY-MM-DD`; panics on anything else, including 2025-02-30.
fn parse_day(s: &str) -> Day {
    let parts: Vec<&str> = s.split('-').collect();
    let shape_ok = parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(len, p)| p.len() == *len && p.bytes().all(|b| b.is_ascii_digit()));
    assert!(shape_ok, "bad date {s:?}");
    let [y, m, d] = [0, 1, 2].map(|i| parts[i].parse::<i64>().expect("digits"));
    let day = days_from_civil(y, m, d);
    assert_eq!(civil_from_days(day), (y, m, d), "no such date {s:?}");
    day
}

fn fmt_day(day: Day) -> String {
    let (y, m, d) = civil_from_days(day);
    let wd = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][weekday_index(day) as usize];
    format!("{wd} {y:04}-{m:02}-{d:02}")
}

fn local_day(ts: i64, offset: i64) -> Day {
    (ts + offset).div_euclid(DAY_SECS)
}

/// 23:59:59 local on `day`, in Unix seconds.
fn end_of_local_day(day: Day, offset: i64) -> i64 {
    day * DAY_SECS + DAY_SECS - 1 - offset
}

fn instant(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).expect("in range")
}

fn rfc3339(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect(s).with_timezone(&Utc)
}

fn offset_of(zone: Zone) -> i64 {
    ZONES.iter().find(|(z, _, _)| *z == zone).expect("listed").1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    National,
    Joint,
}

#[derive(Debug)]
struct Row {
    day: Day,
    category: Category,
}

/// The holiday file's rows. The file has no quoted fields, so splitting on
/// commas is the whole grammar; anything that would need more fails here.
fn csv_rows() -> Vec<Row> {
    let mut lines = CSV.lines(); // also strips the file's CRLF endings
    assert_eq!(lines.next(), Some("date,category,name_id,name_en"));
    let mut seen = BTreeSet::new();
    let rows: Vec<Row> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            assert!(
                !line.contains('"'),
                "quoted field, a plain split is not enough: {line:?}"
            );
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 4, "{line:?}");
            assert!(f.iter().all(|x| !x.trim().is_empty()), "{line:?}");
            let category = match f[1] {
                "libur_nasional" => Category::National,
                "cuti_bersama" => Category::Joint,
                other => panic!("unknown category {other:?}"),
            };
            let day = parse_day(f[0]);
            assert!(seen.insert(day), "date listed twice: {line:?}");
            Row { day, category }
        })
        .collect();
    // Nothing after 2027: the oracle's 2028 is plain Monday–Friday, which is
    // what the calendar does outside the years its data covers.
    let last = rows.iter().map(|r| r.day).max().expect("rows");
    assert_eq!(civil_from_days(last).0, 2027);
    rows
}

/// Holidays in `[from, to]` as `(date, category)`, for pinning hand cases.
fn holidays_in(rows: &[Row], from: &str, to: &str) -> Vec<(String, Category)> {
    let (a, b) = (parse_day(from), parse_day(to));
    let mut v: Vec<(Day, Category)> = rows
        .iter()
        .filter(|r| (a..=b).contains(&r.day))
        .map(|r| (r.day, r.category))
        .collect();
    v.sort_by_key(|x| x.0);
    v.into_iter().map(|(d, c)| (fmt_day(d), c)).collect()
}

/// The independent answer: every working date of FIRST..=LAST, in order.
struct Oracle {
    working: Vec<Day>,
}

impl Oracle {
    fn new(rows: &[Row], joint_leave_working: bool) -> Oracle {
        let off: BTreeSet<Day> = rows
            .iter()
            .filter(|r| r.category == Category::National || !joint_leave_working)
            .map(|r| r.day)
            .collect();
        let working = (FIRST..=LAST).filter(|d| !is_weekend(*d) && !off.contains(d)).collect();
        Oracle { working }
    }

    /// Index of the first working date strictly after `day`.
    fn after(&self, day: Day) -> usize {
        assert!((FIRST..=LAST).contains(&day), "{} outside the oracle", fmt_day(day));
        self.working.partition_point(|w| *w <= day)
    }

    /// The `n`th (n ≥ 1) working date strictly after `day`.
    fn nth_after(&self, day: Day, n: u32) -> Day {
        assert!(n >= 1);
        let i = self.after(day) + n as usize - 1;
        *self.working.get(i).expect("past the end of the oracle's range")
    }

    /// Deadline (Unix seconds) of an `n`-day clock started at `start`.
    fn due(&self, start: i64, n: u32, offset: i64) -> i64 {
        end_of_local_day(self.nth_after(local_day(start, offset), n), offset)
    }

    /// `due` moved by the working days in (paused date, resumed date].
    fn extend(&self, due: i64, paused: i64, resumed: i64, offset: i64) -> i64 {
        let (p, r) = (local_day(paused, offset), local_day(resumed, offset));
        let spent = if r <= p { 0 } else { self.after(r) - self.after(p) };
        if spent == 0 {
            return due;
        }
        end_of_local_day(self.nth_after(local_day(due, offset), spent as u32), offset)
    }
}

/// Every clock length the default policy can start: 3, 5, 10, 14 and 60.
fn stage_lengths() -> Vec<u32> {
    let p = SlaPolicy::default();
    let mut set = BTreeSet::new();
    for &stage in Stage::ALL {
        for &class in Classification::ALL {
            for investigation in [false, true] {
                set.insert(p.stage_days(stage, class, investigation));
            }
        }
    }
    let v: Vec<u32> = set.into_iter().collect();
    assert_eq!(v, [3, 5, 10, 14, 60]);
    v
}

fn calendar(joint_leave_working: bool) -> Calendar {
    Calendar::embedded().with_joint_leave_as_working(joint_leave_working)
}

fn policy_name(joint_leave_working: bool) -> &'static str {
    if joint_leave_working {
        "joint leave working"
    } else {
        "joint leave off"
    }
}

#[test]
fn day_arithmetic_is_sound() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(fmt_day(0), "Thu 1970-01-01");
    // Weekdays as printed in the decrees (SKB 2025, SKB 2026).
    assert_eq!(fmt_day(parse_day("2025-04-07")), "Mon 2025-04-07");
    assert_eq!(fmt_day(parse_day("2025-12-25")), "Thu 2025-12-25");
    assert_eq!(fmt_day(parse_day("2026-03-20")), "Fri 2026-03-20");
    assert_eq!(fmt_day(parse_day("2028-02-29")), "Tue 2028-02-29");
    // And chrono's weekday agrees on every day of the range.
    for day in FIRST..=LAST {
        let (y, m, d) = civil_from_days(day);
        assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
        let date = NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32).expect("valid");
        assert_eq!(i64::from(date.weekday().num_days_from_monday()), weekday_index(day));
    }
}

#[test]
fn working_days_agree_day_by_day() {
    let rows = csv_rows();
    for joint in [false, true] {
        let oracle = Oracle::new(&rows, joint);
        let working: BTreeSet<Day> = oracle.working.iter().copied().collect();
        let cal = calendar(joint);
        for day in FIRST..=LAST {
            let (y, m, d) = civil_from_days(day);
            let date = NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32).expect("valid");
            assert_eq!(
                cal.is_working_day(date),
                working.contains(&day),
                "{} ({})",
                fmt_day(day),
                policy_name(joint)
            );
        }
        // 2028 has no data: every Monday–Friday counts.
        assert!(working.contains(&parse_day("2028-01-03")));
        assert_eq!(date_weekday(parse_day("2028-01-03")), Weekday::Mon);
    }
}

fn date_weekday(day: Day) -> Weekday {
    let (y, m, d) = civil_from_days(day);
    NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
        .expect("valid")
        .weekday()
}

#[test]
fn sweep_every_start_day_zone_stage_and_policy() {
    let rows = csv_rows();
    let lengths = stage_lengths();
    let (first, last) = (parse_day("2024-12-15"), parse_day("2027-12-31"));
    let times = [(0, 30), (12, 0), (23, 30)];
    let mut cases = 0usize;
    let mut wrong = 0usize;
    let mut shown = Vec::new();
    for joint in [false, true] {
        let oracle = Oracle::new(&rows, joint);
        let cal = calendar(joint);
        for day in first..=last {
            // The start is a local time in one zone, judged in every zone, so
            // 23:30 WIB (= 01:30 WIT next day) and 00:30 WIT (= 22:30 WIB the
            // day before) cross a date line.
            for (_, start_offset, start_zone) in ZONES {
                for (h, m) in times {
                    let start = day * DAY_SECS + h * 3600 + m * 60 - start_offset;
                    let start_utc = instant(start);
                    for (zone, offset, zone_name) in ZONES {
                        for &n in &lengths {
                            cases += 1;
                            let want = oracle.due(start, n, offset);
                            let got = cal.due_at(start_utc, n, zone).timestamp();
                            if got != want {
                                wrong += 1;
                                if shown.len() < 20 {
                                    shown.push(format!(
                                        "{} {h:02}:{m:02} {start_zone}, {n} wd in {zone_name}, {}: got {}, want {} ({})",
                                        fmt_day(day),
                                        policy_name(joint),
                                        instant(got),
                                        instant(want),
                                        fmt_day(local_day(want, offset)),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(wrong == 0, "{wrong} of {cases} wrong:\n{}", shown.join("\n"));
    // 1112 days × 3 times × 3 start zones × 3 zones × 5 lengths × 2 policies.
    assert_eq!(cases, 300_240);
}

/// `(from, to, the holidays in [from, to])`.
type Window = (&'static str, &'static str, &'static [(&'static str, Category)]);

/// The holidays each hand case below is derived from, as the CSV has them.
#[test]
fn hand_table_rests_on_these_csv_rows() {
    use Category::{Joint as J, National as N};
    let rows = csv_rows();
    let windows: [Window; 7] = [
        // Nyepi and Lebaran 2025 (Idul Fitri 1446 H on Mon 31 Mar–Tue 1 Apr),
        // then Good Friday and Easter.
        (
            "2025-03-27",
            "2025-04-25",
            &[
                ("Fri 2025-03-28", J),
                ("Sat 2025-03-29", N),
                ("Mon 2025-03-31", N),
                ("Tue 2025-04-01", N),
                ("Wed 2025-04-02", J),
                ("Thu 2025-04-03", J),
                ("Fri 2025-04-04", J),
                ("Mon 2025-04-07", J),
                ("Fri 2025-04-18", N),
                ("Sun 2025-04-20", N),
            ],
        ),
        // Independence Day 2025 and the joint leave added in August 2025.
        (
            "2025-08-14",
            "2025-08-22",
            &[("Sun 2025-08-17", N), ("Mon 2025-08-18", J)],
        ),
        // Christmas 2025 into January 2026.
        (
            "2025-12-18",
            "2026-01-20",
            &[
                ("Thu 2025-12-25", N),
                ("Fri 2025-12-26", J),
                ("Thu 2026-01-01", N),
                ("Fri 2026-01-16", N),
            ],
        ),
        // Nyepi and Lebaran 2026 (Idul Fitri 1447 H on Sat 21–Sun 22 Mar),
        // then Good Friday and Easter.
        (
            "2026-03-13",
            "2026-04-10",
            &[
                ("Wed 2026-03-18", J),
                ("Thu 2026-03-19", N),
                ("Fri 2026-03-20", J),
                ("Sat 2026-03-21", N),
                ("Sun 2026-03-22", N),
                ("Mon 2026-03-23", J),
                ("Tue 2026-03-24", J),
                ("Fri 2026-04-03", N),
                ("Sun 2026-04-05", N),
            ],
        ),
        // Christmas 2026 into January 2027 (Isra Mikraj on Tue 5 Jan).
        (
            "2026-12-21",
            "2027-01-15",
            &[
                ("Thu 2026-12-24", J),
                ("Fri 2026-12-25", N),
                ("Fri 2027-01-01", N),
                ("Tue 2027-01-05", N),
            ],
        ),
        // Nyepi and Lebaran 2027 (provisional; Idul Fitri Wed 10–Thu 11 Mar).
        (
            "2027-03-04",
            "2027-03-22",
            &[
                ("Mon 2027-03-08", N),
                ("Tue 2027-03-09", J),
                ("Wed 2027-03-10", N),
                ("Thu 2027-03-11", N),
                ("Fri 2027-03-12", J),
                ("Mon 2027-03-15", J),
            ],
        ),
        // The data ends with 2027: nothing from New Year's Eve 2027 on.
        ("2027-12-31", "2028-06-30", &[]),
    ];
    for (from, to, want) in windows {
        let want: Vec<(String, Category)> = want.iter().map(|(d, c)| (d.to_string(), *c)).collect();
        assert_eq!(holidays_in(&rows, from, to), want, "{from}..{to}");
    }
}

/// `(start, zone, working days, joint leave working, due)`, all literal.
/// Derivations use the rows pinned in `hand_table_rests_on_these_csv_rows`;
/// "wdN" marks the Nth counted working day, "cb" joint leave.
const HAND_CASES: &[(&str, Zone, u32, bool, &str)] = &[
    // Filed Fri 20 Mar 2026, the Friday before Lebaran (itself cb), 3 wd:
    // Sat 21/Sun 22 Idul Fitri, Mon 23 cb, Tue 24 cb, Wed 25 wd1, Thu 26 wd2,
    // Fri 27 wd3.
    (
        "2026-03-20T10:00:00+07:00",
        Zone::Wib,
        3,
        false,
        "2026-03-27T23:59:59+07:00",
    ),
    // Same with cb working: Mon 23 wd1, Tue 24 wd2, Wed 25 wd3.
    (
        "2026-03-20T10:00:00+07:00",
        Zone::Wib,
        3,
        true,
        "2026-03-25T23:59:59+07:00",
    ),
    // Filed Tue 17 Mar 2026, 3 wd: Wed 18 cb (Nyepi), Thu 19 Nyepi, Fri 20 cb,
    // weekend, Mon 23 and Tue 24 cb, so Wed 25 wd1 … Fri 27 wd3: ten calendar
    // days for a three-day clock.
    (
        "2026-03-17T09:00:00+07:00",
        Zone::Wib,
        3,
        false,
        "2026-03-27T23:59:59+07:00",
    ),
    // cb working: Wed 18 wd1, Fri 20 wd2, Mon 23 wd3.
    (
        "2026-03-17T09:00:00+07:00",
        Zone::Wib,
        3,
        true,
        "2026-03-23T23:59:59+07:00",
    ),
    // Complaint (14 wd) filed Tue 22 Dec 2026: Wed 23 wd1, Thu 24 cb, Fri 25
    // Christmas, Mon 28–Thu 31 wd2–5, Fri 1 Jan New Year, Mon 4 wd6, Tue 5
    // Isra Mikraj, Wed 6–Fri 8 wd7–9, Mon 11–Fri 15 wd10–14.
    (
        "2026-12-22T10:00:00+07:00",
        Zone::Wib,
        14,
        false,
        "2027-01-15T23:59:59+07:00",
    ),
    (
        "2026-12-22T10:00:00+08:00",
        Zone::Wita,
        14,
        false,
        "2027-01-15T23:59:59+08:00",
    ),
    // cb working: Thu 24 Dec is wd2, so everything moves a day earlier.
    (
        "2026-12-22T10:00:00+07:00",
        Zone::Wib,
        14,
        true,
        "2027-01-14T23:59:59+07:00",
    ),
    // Complaint filed Mon 22 Dec 2025: Tue 23 wd1, Wed 24 wd2, Thu 25
    // Christmas, Fri 26 cb, Mon 29–Wed 31 wd3–5, Thu 1 Jan New Year, Fri 2 wd6,
    // Mon 5–Fri 9 wd7–11, Mon 12–Wed 14 wd12–14.
    (
        "2025-12-22T08:00:00+07:00",
        Zone::Wib,
        14,
        false,
        "2026-01-14T23:59:59+07:00",
    ),
    // cb working: Fri 26 Dec is wd3, a day earlier.
    (
        "2025-12-22T08:00:00+07:00",
        Zone::Wib,
        14,
        true,
        "2026-01-13T23:59:59+07:00",
    ),
    // Filed Sat 29 Mar 2025 (Nyepi, on a Saturday), 3 wd: Mon 31 and Tue 1
    // Idul Fitri, Wed 2–Fri 4 cb, Mon 7 cb, Tue 8 wd1, Wed 9 wd2, Thu 10 wd3.
    (
        "2025-03-29T09:00:00+09:00",
        Zone::Wit,
        3,
        false,
        "2025-04-10T23:59:59+09:00",
    ),
    // cb working: Wed 2 wd1, Thu 3 wd2, Fri 4 wd3.
    (
        "2025-03-29T09:00:00+09:00",
        Zone::Wit,
        3,
        true,
        "2025-04-04T23:59:59+09:00",
    ),
    // Filed Sat 10 Jan 2026, 5 wd: Mon 12–Thu 15 wd1–4, Fri 16 Isra Mikraj,
    // Mon 19 wd5.
    (
        "2026-01-10T11:00:00+07:00",
        Zone::Wib,
        5,
        false,
        "2026-01-19T23:59:59+07:00",
    ),
    // Fri 13 Mar 2026 23:30 WIB is already Sat 14 Mar 01:30 in WIT. Counting
    // from Friday or Saturday is the same here, 3 wd: Mon 16 wd1, Tue 17 wd2,
    // Wed 18–Tue 24 Nyepi/Lebaran (cb and holidays), Wed 25 wd3; only the
    // UTC instant of "end of Wed 25" differs by zone.
    (
        "2026-03-13T23:30:00+07:00",
        Zone::Wib,
        3,
        false,
        "2026-03-25T23:59:59+07:00",
    ),
    (
        "2026-03-13T23:30:00+07:00",
        Zone::Wita,
        3,
        false,
        "2026-03-25T23:59:59+08:00",
    ),
    (
        "2026-03-13T23:30:00+07:00",
        Zone::Wit,
        3,
        false,
        "2026-03-25T23:59:59+09:00",
    ),
    // cb working: Mon 16, Tue 17, Wed 18.
    (
        "2026-03-13T23:30:00+07:00",
        Zone::Wit,
        3,
        true,
        "2026-03-18T23:59:59+09:00",
    ),
    // Thu 18 Dec 2025 23:30 WIB is Fri 19 Dec 01:30 WIT, and there the date
    // matters. WIB, 3 wd: Fri 19, Mon 22, Tue 23. WIT: Mon 22, Tue 23, Wed 24.
    (
        "2025-12-18T23:30:00+07:00",
        Zone::Wib,
        3,
        false,
        "2025-12-23T23:59:59+07:00",
    ),
    (
        "2025-12-18T23:30:00+07:00",
        Zone::Wit,
        3,
        false,
        "2025-12-24T23:59:59+09:00",
    ),
    // 5 wd, past Thu 25 Christmas and Fri 26 cb. WIB: 19, 22, 23, 24, Mon 29.
    // WIT: 22, 23, 24, Mon 29, Tue 30; with cb working WIT: 22, 23, 24, 26, 29.
    (
        "2025-12-18T23:30:00+07:00",
        Zone::Wib,
        5,
        false,
        "2025-12-29T23:59:59+07:00",
    ),
    (
        "2025-12-18T23:30:00+07:00",
        Zone::Wit,
        5,
        false,
        "2025-12-30T23:59:59+09:00",
    ),
    (
        "2025-12-18T23:30:00+07:00",
        Zone::Wit,
        5,
        true,
        "2025-12-29T23:59:59+09:00",
    ),
    // Filed Fri 15 Aug 2025, 3 wd: Mon 18 cb (added by the August 2025
    // decree), Tue 19 wd1, Wed 20 wd2, Thu 21 wd3; cb working: 18, 19, 20.
    (
        "2025-08-15T14:00:00+08:00",
        Zone::Wita,
        3,
        false,
        "2025-08-21T23:59:59+08:00",
    ),
    (
        "2025-08-15T14:00:00+08:00",
        Zone::Wita,
        3,
        true,
        "2025-08-20T23:59:59+08:00",
    ),
    // Reply window (10 wd) from Fri 28 Mar 2025: nothing counts until Tue 8
    // Apr (see the 29 Mar case), Tue 8–Fri 11 wd1–4, Mon 14–Thu 17 wd5–8,
    // Fri 18 Good Friday, Mon 21 wd9, Tue 22 wd10.
    (
        "2025-03-28T10:00:00+07:00",
        Zone::Wib,
        10,
        false,
        "2025-04-22T23:59:59+07:00",
    ),
    // cb working: Wed 2–Fri 4 wd1–3, Mon 7–Fri 11 wd4–8, Mon 14 wd9, Tue 15 wd10.
    (
        "2025-03-28T10:00:00+07:00",
        Zone::Wib,
        10,
        true,
        "2025-04-15T23:59:59+07:00",
    ),
    // Lebaran 2027 (provisional data), filed Fri 5 Mar 2027, 5 wd: Mon 8
    // Nyepi, Tue 9 cb, Wed 10/Thu 11 Idul Fitri, Fri 12 cb, Mon 15 cb, then
    // Tue 16–Fri 19 wd1–4, Mon 22 wd5.
    (
        "2027-03-05T10:00:00+09:00",
        Zone::Wit,
        5,
        false,
        "2027-03-22T23:59:59+09:00",
    ),
    // cb working: Tue 9 wd1, Fri 12 wd2, Mon 15 wd3, Tue 16 wd4, Wed 17 wd5.
    (
        "2027-03-05T10:00:00+09:00",
        Zone::Wit,
        5,
        true,
        "2027-03-17T23:59:59+09:00",
    ),
    // Investigation (60 wd) filed Fri 31 Dec 2027: 2028 has no data, so all
    // weekdays count. Jan 2028 has 21 (Mon 3 … Mon 31), Feb 21 (leap year,
    // Tue 1 … Tue 29), so 42 by Feb 29; Wed 1 Mar–Fri 24 Mar is 18 more.
    (
        "2027-12-31T12:00:00+07:00",
        Zone::Wib,
        60,
        false,
        "2028-03-24T23:59:59+07:00",
    ),
    (
        "2027-12-31T12:00:00+07:00",
        Zone::Wib,
        60,
        true,
        "2028-03-24T23:59:59+07:00",
    ),
];

#[test]
fn hand_table() {
    let rows = csv_rows();
    let oracles = [Oracle::new(&rows, false), Oracle::new(&rows, true)];
    for &(start, zone, n, joint, due) in HAND_CASES {
        let (start_utc, want) = (rfc3339(start), rfc3339(due));
        let got = calendar(joint).due_at(start_utc, n, zone);
        let case = format!("{start} +{n} wd in {zone:?}, {}", policy_name(joint));
        assert_eq!(got, want, "calendar: {case}");
        // The oracle must reproduce the hand derivation too.
        let oracle = &oracles[usize::from(joint)];
        let independent = oracle.due(start_utc.timestamp(), n, offset_of(zone));
        assert_eq!(instant(independent), want, "oracle: {case}");
    }
}

/// `(due, paused, resumed, zone, joint leave working, new due)`.
const PAUSE_CASES: &[(&str, &str, &str, Zone, bool, &str)] = &[
    // Due Fri 27 Mar 2026; paused Mon 16, resumed Wed 25. Working days in
    // (16, 25]: Tue 17 and Wed 25 (18–24 are Nyepi/Lebaran), so 2 more after
    // Fri 27: Mon 30, Tue 31.
    (
        "2026-03-27T23:59:59+07:00",
        "2026-03-16T10:00:00+07:00",
        "2026-03-25T09:00:00+07:00",
        Zone::Wib,
        false,
        "2026-03-31T23:59:59+07:00",
    ),
    // cb working: (16, 25] holds 17, 18, 20, 23, 24, 25 = 6 after Fri 27:
    // Mon 30, Tue 31, Wed 1, Thu 2, (Fri 3 Good Friday), Mon 6, Tue 7 Apr.
    (
        "2026-03-27T23:59:59+07:00",
        "2026-03-16T10:00:00+07:00",
        "2026-03-25T09:00:00+07:00",
        Zone::Wib,
        true,
        "2026-04-07T23:59:59+07:00",
    ),
    // Paused Fri 20 (cb), resumed Tue 24 (cb): (20, 24] has no working day,
    // so the deadline does not move.
    (
        "2026-03-27T23:59:59+07:00",
        "2026-03-20T08:00:00+07:00",
        "2026-03-24T15:00:00+07:00",
        Zone::Wib,
        false,
        "2026-03-27T23:59:59+07:00",
    ),
    // cb working: Mon 23 and Tue 24 count, so Mon 30, Tue 31.
    (
        "2026-03-27T23:59:59+07:00",
        "2026-03-20T08:00:00+07:00",
        "2026-03-24T15:00:00+07:00",
        Zone::Wib,
        true,
        "2026-03-31T23:59:59+07:00",
    ),
    // Paused Thu 19 (Nyepi), resumed Mon 30: (19, 30] = Wed 25, Thu 26, Fri
    // 27, Mon 30 = 4 after Thu 2 Apr: (Fri 3 Good Friday) Mon 6, Tue 7, Wed
    // 8, Thu 9.
    (
        "2026-04-02T23:59:59+07:00",
        "2026-03-19T11:00:00+07:00",
        "2026-03-30T09:00:00+07:00",
        Zone::Wib,
        false,
        "2026-04-09T23:59:59+07:00",
    ),
    // Paused Mon 16 Mar 23:30 WIB = Tue 17 01:30 WIT. In WIB (16, 25] holds
    // Tue 17 and Wed 25 → Tue 31; in WIT (17, 25] only Wed 25 → Mon 30.
    (
        "2026-03-27T23:59:59+07:00",
        "2026-03-16T23:30:00+07:00",
        "2026-03-25T08:00:00+07:00",
        Zone::Wib,
        false,
        "2026-03-31T23:59:59+07:00",
    ),
    (
        "2026-03-27T23:59:59+09:00",
        "2026-03-16T23:30:00+07:00",
        "2026-03-25T08:00:00+09:00",
        Zone::Wit,
        false,
        "2026-03-30T23:59:59+09:00",
    ),
];

#[test]
fn pause_over_lebaran_hand_cases() {
    let rows = csv_rows();
    let oracles = [Oracle::new(&rows, false), Oracle::new(&rows, true)];
    for &(due, paused, resumed, zone, joint, want) in PAUSE_CASES {
        let (due, paused, resumed, want) = (rfc3339(due), rfc3339(paused), rfc3339(resumed), rfc3339(want));
        let case = format!(
            "due {due}, paused {paused}..{resumed} in {zone:?}, {}",
            policy_name(joint)
        );
        let got = calendar(joint).extend_for_pause(due, paused, resumed, zone);
        assert_eq!(got, want, "calendar: {case}");
        let oracle = &oracles[usize::from(joint)];
        let independent = oracle.extend(
            due.timestamp(),
            paused.timestamp(),
            resumed.timestamp(),
            offset_of(zone),
        );
        assert_eq!(instant(independent), want, "oracle: {case}");
    }
}

/// Pauses of 0–12 days starting on every day around each Lebaran and
/// Christmas, against the oracle.
#[test]
fn pause_sweep_around_lebaran_and_christmas() {
    let rows = csv_rows();
    let windows = [
        ("2025-03-20", "2025-04-15"),
        ("2025-12-15", "2026-01-10"),
        ("2026-03-10", "2026-04-10"),
        ("2026-12-15", "2027-01-10"),
        ("2027-03-01", "2027-03-25"),
        ("2027-12-15", "2028-01-10"),
    ];
    let mut cases = 0usize;
    for joint in [false, true] {
        let oracle = Oracle::new(&rows, joint);
        let cal = calendar(joint);
        for (from, to) in windows {
            for day in parse_day(from)..=parse_day(to) {
                for (_, start_offset, _) in ZONES {
                    for (ph, rh) in [(0, 0), (0, 23), (23, 0), (23, 23)] {
                        let paused = day * DAY_SECS + ph * 3600 + 1800 - start_offset;
                        for len in 0..=12 {
                            let resumed = (day + len) * DAY_SECS + rh * 3600 + 1800 - start_offset;
                            for (zone, offset, zone_name) in ZONES {
                                // Any deadline will do; take a complaint's.
                                let due = oracle.due(paused, 14, offset);
                                let want = oracle.extend(due, paused, resumed, offset);
                                let got = cal.extend_for_pause(instant(due), instant(paused), instant(resumed), zone);
                                assert_eq!(
                                    got,
                                    instant(want),
                                    "due {}, paused {}..{} in {zone_name}, {}",
                                    instant(due),
                                    instant(paused),
                                    instant(resumed),
                                    policy_name(joint)
                                );
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    // 165 days × 3 start zones × 4 time pairs × 13 lengths × 3 zones × 2 policies.
    assert_eq!(cases, 154_440);
}

/// `years.<year>.holidays[].date` of a hapilibur file, checking `count`.
fn hapilibur_dates(text: &str) -> BTreeMap<i64, BTreeSet<Day>> {
    let json: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    let years = json["years"].as_object().expect("years object");
    years
        .iter()
        .map(|(year, entry)| {
            let year: i64 = year.parse().expect("numeric year");
            let holidays = entry["holidays"].as_array().expect("holidays array");
            let dates: BTreeSet<Day> = holidays
                .iter()
                .map(|h| parse_day(h["date"].as_str().expect("date string")))
                .collect();
            assert_eq!(entry["count"].as_u64(), Some(holidays.len() as u64), "{year} count");
            assert_eq!(dates.len(), holidays.len(), "{year} has a date twice");
            assert!(dates.iter().all(|d| civil_from_days(*d).0 == year), "{year}");
            (year, dates)
        })
        .collect()
}

fn csv_dates(rows: &[Row], year: i64, category: Category) -> BTreeSet<Day> {
    rows.iter()
        .filter(|r| r.category == category && civil_from_days(r.day).0 == year)
        .map(|r| r.day)
        .collect()
}

fn fmt_set(s: &BTreeSet<Day>) -> Vec<String> {
    s.iter().map(|d| fmt_day(*d)).collect()
}

/// The CSV the code uses must agree with hapilibur's decree transcription
/// for every year hapilibur has (today only 2026, SKB 1497/2/5 of 2025).
#[test]
fn csv_agrees_with_hapilibur() {
    let rows = csv_rows();
    for (text, category) in [
        (CUTI_BERSAMA_JSON, Category::Joint),
        (LIBUR_NASIONAL_JSON, Category::National),
    ] {
        let years = hapilibur_dates(text);
        assert!(years.contains_key(&2026), "{category:?}: hapilibur lost 2026");
        for (year, want) in years {
            let have = csv_dates(&rows, year, category);
            assert_eq!(fmt_set(&have), fmt_set(&want), "{category:?} {year}: CSV vs hapilibur");
        }
    }
}

/// hapilibur has no 2025, so 2025 is checked against the decree itself,
/// transcribed by hand: SKB Menag/Menaker/MenPAN-RB No. 1017, 2 and 2 of 2024
/// (17 holidays, 10 joint leave days), amended on 7 Aug 2025 to add joint
/// leave on Mon 18 Aug 2025 for the 80th Independence Day.
#[test]
fn csv_2025_agrees_with_the_2025_decree() {
    let rows = csv_rows();
    let joint = [
        "2025-01-28", // Imlek
        "2025-03-28", // Nyepi
        "2025-04-02", // Idul Fitri
        "2025-04-03",
        "2025-04-04",
        "2025-04-07",
        "2025-05-13", // Waisak
        "2025-05-30", // Kenaikan
        "2025-06-09", // Idul Adha
        "2025-08-18", // amendment of August 2025
        "2025-12-26", // Natal
    ];
    let national = [
        "2025-01-01",
        "2025-01-27",
        "2025-01-29",
        "2025-03-29",
        "2025-03-31",
        "2025-04-01",
        "2025-04-18",
        "2025-04-20",
        "2025-05-01",
        "2025-05-12",
        "2025-05-29",
        "2025-06-01",
        "2025-06-06",
        "2025-06-27",
        "2025-08-17",
        "2025-09-05",
        "2025-12-25",
    ];
    for (category, list) in [(Category::Joint, &joint[..]), (Category::National, &national[..])] {
        let want: BTreeSet<Day> = list.iter().map(|d| parse_day(d)).collect();
        assert_eq!(
            fmt_set(&csv_dates(&rows, 2025, category)),
            fmt_set(&want),
            "{category:?} 2025"
        );
    }
}
