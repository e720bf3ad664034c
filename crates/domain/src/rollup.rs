//! What each event adds to the dashboards' rollups (decision 0016,
//! docs/indicators.md): one pure function of the report's earlier events
//! and the event. The store adds its result in the event's transaction; a
//! rebuild replays every report through it; the two must agree.

use crate::calendar::{Calendar, Zone};
use crate::event::{Actor, Event, EventData};
use crate::report::{Channel, Classification};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

/// The cell of the rollups an event counts in. The institution is the most
/// specific holder (a unit when one handles the report); views sum the
/// subtree. An empty institution is the national intake (not yet assigned).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cell {
    pub institution: String,
    /// The event's date in WIB.
    pub day: NaiveDate,
    pub classification: Classification,
    pub category: Option<String>,
    pub channel: Channel,
}

impl Cell {
    fn key(&self) -> (&str, NaiveDate, &str, Option<&str>, &str) {
        (
            &self.institution,
            self.day,
            self.classification.as_str(),
            self.category.as_deref(),
            self.channel.as_str(),
        )
    }
}

impl Ord for Cell {
    fn cmp(&self, o: &Cell) -> std::cmp::Ordering {
        self.key().cmp(&o.key())
    }
}

impl PartialOrd for Cell {
    fn partial_cmp(&self, o: &Cell) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// The counters of a cell (docs/indicators.md numbers in brackets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Submissions (1, national).
    pub submitted: i64,
    /// First dispositions or archivings that settled verification (2).
    pub verified: i64,
    pub verified_on_time: i64,
    /// Dispositions and transfers to the institution (1).
    pub received: i64,
    /// Passed on to the institution's own units (3).
    pub dispositioned_to_unit: i64,
    /// First follow-up since the report was received (4).
    pub followed_up: i64,
    pub followed_up_on_time: i64,
    /// Completed, by the reporter's rating or the reply window (5).
    pub completed: i64,
    /// Ratings 1..=5 (8).
    pub ratings: [i64; 5],
    pub reopened: i64,
    /// Transfers away (10).
    pub transferred_out: i64,
    pub ombudsman_offered: i64,
    pub ombudsman_escalated: i64,
    /// Working days from receipt to the first follow-up (6), by day.
    pub first_response_days: BTreeMap<u32, i64>,
    /// Working days from receipt to completion (6), by day.
    pub completion_days: BTreeMap<u32, i64>,
}

impl Counters {
    pub fn is_zero(&self) -> bool {
        self == &Counters::default()
    }

    /// Adds another cell's counters (or takes them away, with `sign` -1).
    pub fn merge(&mut self, o: &Counters, sign: i64) {
        self.submitted += sign * o.submitted;
        self.verified += sign * o.verified;
        self.verified_on_time += sign * o.verified_on_time;
        self.received += sign * o.received;
        self.dispositioned_to_unit += sign * o.dispositioned_to_unit;
        self.followed_up += sign * o.followed_up;
        self.followed_up_on_time += sign * o.followed_up_on_time;
        self.completed += sign * o.completed;
        for (a, b) in self.ratings.iter_mut().zip(o.ratings) {
            *a += sign * b;
        }
        self.reopened += sign * o.reopened;
        self.transferred_out += sign * o.transferred_out;
        self.ombudsman_offered += sign * o.ombudsman_offered;
        self.ombudsman_escalated += sign * o.ombudsman_escalated;
        for (map, other) in [
            (&mut self.first_response_days, &o.first_response_days),
            (&mut self.completion_days, &o.completion_days),
        ] {
            for (d, n) in other {
                let e = map.entry(*d).or_insert(0);
                *e += sign * n;
                if *e == 0 {
                    map.remove(d);
                }
            }
        }
    }
}

/// The WIB date of an instant: the national calendar the periods use.
pub fn wib_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Zone::Wib.offset()).date_naive()
}

/// What a report's history says at a point: its current labels, who holds
/// it, when it was last received, and the deadline running.
#[derive(Debug, Clone)]
struct Seen {
    classification: Classification,
    category: Option<String>,
    channel: Channel,
    institution: Option<String>,
    unit: Option<String>,
    verification_due: Option<DateTime<Utc>>,
    verified: bool,
    received: Option<(DateTime<Utc>, Zone)>,
    answered_since_receipt: bool,
    due: Option<DateTime<Utc>>,
}

impl Seen {
    fn holder(&self) -> String {
        self.unit
            .clone()
            .or_else(|| self.institution.clone())
            .unwrap_or_default()
    }

    fn cell(&self, institution: String, at: DateTime<Utc>) -> Cell {
        Cell {
            institution,
            day: wib_day(at),
            classification: self.classification,
            category: self.category.clone(),
            channel: self.channel,
        }
    }

    fn of(history: &[Event]) -> Option<Seen> {
        let mut seen: Option<Seen> = None;
        for e in history {
            seen = Some(match seen {
                None => match &e.data {
                    EventData::Submitted { submission, due_at } => Seen {
                        classification: submission.classification,
                        category: submission.category.clone(),
                        channel: submission.channel,
                        institution: None,
                        unit: None,
                        verification_due: Some(*due_at),
                        verified: false,
                        received: None,
                        answered_since_receipt: false,
                        due: Some(*due_at),
                    },
                    // A history must start with its submission.
                    _ => return None,
                },
                Some(s) => s.after(e),
            });
        }
        seen
    }

    /// The state after `e`.
    fn after(mut self, e: &Event) -> Seen {
        match &e.data {
            EventData::Dispositioned {
                institution,
                zone,
                classification,
                category,
                due_at,
                ..
            } => {
                self.institution = Some(institution.clone());
                self.unit = None;
                self.classification = *classification;
                self.category = category.clone();
                self.verified = true;
                self.received = Some((e.at, *zone));
                self.answered_since_receipt = false;
                self.due = Some(*due_at);
            }
            EventData::Transferred { to, zone, due_at, .. } => {
                self.institution = Some(to.clone());
                self.unit = None;
                self.received = Some((e.at, *zone));
                self.answered_since_receipt = false;
                self.due = Some(*due_at);
            }
            EventData::DispositionedToUnit { unit } => self.unit = Some(unit.clone()),
            EventData::Archived { .. } => self.verified = true,
            EventData::Edited {
                classification,
                category,
                ..
            } => {
                self.classification = *classification;
                self.category = category.clone();
            }
            EventData::FollowedUp { due_at } => {
                self.answered_since_receipt = true;
                self.due = Some(*due_at);
            }
            EventData::Accepted { due_at }
            | EventData::ReporterReplied { due_at }
            | EventData::Reopened { due_at }
            | EventData::Extended { due_at } => self.due = Some(*due_at),
            EventData::Resumed { due_at: Some(d) } => self.due = Some(*d),
            _ => {}
        }
        self
    }
}

/// The cells `event` adds to, given the report's events before it (oldest
/// first). Empty for events no indicator counts.
pub fn contribution(history: &[Event], event: &Event, cal: &Calendar) -> Vec<(Cell, Counters)> {
    let mut out: Vec<(Cell, Counters)> = Vec::new();
    let mut add = |cell: Cell, f: &dyn Fn(&mut Counters)| match out.iter_mut().find(|(c, _)| *c == cell) {
        Some((_, counters)) => f(counters),
        None => {
            let mut counters = Counters::default();
            f(&mut counters);
            out.push((cell, counters));
        }
    };
    let Some(before) = Seen::of(history) else {
        return submitted(event).into_iter().collect();
    };
    let after = before.clone().after(event);
    let at = event.at;
    let days_since_receipt = |s: &Seen| s.received.map(|(from, zone)| cal.working_days_elapsed(from, at, zone));
    // Verification is settled by the first disposition or archiving; it
    // counts for whoever settled it (the national operator's cell when a
    // verifier did, the national intake for the system).
    if !before.verified && after.verified {
        let who = match &event.actor {
            Actor::Staff { institution, .. } => institution.clone(),
            _ => String::new(),
        };
        let on_time = before.verification_due.is_none_or(|d| at <= d);
        add(before.cell(who, at), &|c| {
            c.verified += 1;
            if on_time {
                c.verified_on_time += 1;
            }
        });
    }
    match &event.data {
        EventData::Dispositioned { institution, .. } => {
            add(after.cell(institution.clone(), at), &|c| c.received += 1);
        }
        EventData::Transferred { to, .. } => {
            add(before.cell(before.holder(), at), &|c| c.transferred_out += 1);
            add(after.cell(to.clone(), at), &|c| c.received += 1);
        }
        EventData::DispositionedToUnit { .. } => {
            add(before.cell(before.holder(), at), &|c| c.dispositioned_to_unit += 1);
        }
        EventData::FollowedUp { .. } if !before.answered_since_receipt && before.received.is_some() => {
            let on_time = before.due.is_none_or(|d| at <= d);
            let days = days_since_receipt(&before);
            add(before.cell(before.holder(), at), &|c| {
                c.followed_up += 1;
                if on_time {
                    c.followed_up_on_time += 1;
                }
                if let Some(d) = days {
                    *c.first_response_days.entry(d).or_insert(0) += 1;
                }
            });
        }
        EventData::Rated { rating, completes, .. } => {
            let r = usize::from(*rating).clamp(1, 5) - 1;
            let days = days_since_receipt(&before);
            let completes = *completes;
            add(before.cell(before.holder(), at), &|c| {
                c.ratings[r] += 1;
                if completes {
                    c.completed += 1;
                    if let Some(d) = days {
                        *c.completion_days.entry(d).or_insert(0) += 1;
                    }
                }
            });
        }
        EventData::Completed { .. } => {
            let days = days_since_receipt(&before);
            add(before.cell(before.holder(), at), &|c| {
                c.completed += 1;
                if let Some(d) = days {
                    *c.completion_days.entry(d).or_insert(0) += 1;
                }
            });
        }
        EventData::Reopened { .. } => add(before.cell(before.holder(), at), &|c| c.reopened += 1),
        EventData::OmbudsmanOffered => add(before.cell(before.holder(), at), &|c| c.ombudsman_offered += 1),
        EventData::OmbudsmanEscalated => add(before.cell(before.holder(), at), &|c| c.ombudsman_escalated += 1),
        _ => {}
    }
    out.retain(|(_, c)| !c.is_zero());
    out
}

/// A submission's contribution, counted for the national intake: the one
/// contribution that needs no history and no calendar (the intake path).
pub fn submitted(event: &Event) -> Option<(Cell, Counters)> {
    let EventData::Submitted { submission, .. } = &event.data else {
        return None;
    };
    let cell = Cell {
        institution: String::new(),
        day: wib_day(event.at),
        classification: submission.classification,
        category: submission.category.clone(),
        channel: submission.channel,
    };
    Some((
        cell,
        Counters {
            submitted: 1,
            ..Counters::default()
        },
    ))
}

/// The contributions of `new` events appended to `history` (both oldest
/// first): what a change adds to the rollups.
pub fn contributions(history: &[Event], new: &[Event], cal: &Calendar) -> Vec<(Cell, Counters)> {
    let mut all: Vec<Event> = history.to_vec();
    let mut out = Vec::new();
    for e in new {
        out.extend(contribution(&all, e, cal));
        all.push(e.clone());
    }
    out
}

/// Every cell of one report's whole history: the recomputation a rebuild
/// does, and what the maintained rollups must equal.
pub fn replay(events: &[Event], cal: &Calendar) -> BTreeMap<Cell, Counters> {
    let mut cells: BTreeMap<Cell, Counters> = BTreeMap::new();
    for i in 0..events.len() {
        for (cell, c) in contribution(&events[..i], &events[i], cal) {
            cells.entry(cell).or_default().merge(&c, 1);
        }
    }
    cells.retain(|_, c| !c.is_zero());
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Submission;
    use crate::ids::TrackingId;
    use crate::institution::{InstitutionKind, Role};
    use crate::lifecycle::{Command, Ctx, InstitutionTarget, apply, decide, submit};
    use crate::report::Report;
    use crate::sla::SlaPolicy;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        // Monday 2 November 2026, 09:00 WIB.
        Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap()
    }

    fn target(code: &str, kind: InstitutionKind) -> InstitutionTarget {
        InstitutionTarget {
            code: code.into(),
            kind,
            zone: Zone::Wib,
            ancestors: vec!["lapor".into()],
        }
    }

    fn staff(role: Role, institution: &str) -> Actor {
        Actor::Staff {
            user_id: "u".into(),
            role,
            institution: institution.into(),
        }
    }

    /// Runs commands (actor, hours after t0) through the lifecycle, keeping
    /// the ones it accepts; returns the events.
    fn story(seed: u64, steps: &[(Actor, i64, Command)]) -> Vec<Event> {
        let cal = Calendar::embedded();
        let policy = SlaPolicy::default();
        let ctx = |actor: Actor, now| Ctx {
            now,
            actor,
            calendar: &cal,
            policy: &policy,
        };
        let sub = Submission {
            classification: Classification::Pengaduan,
            needs_investigation: false,
            category: Some("jalan".into()),
            title: "Jalan berlubang di depan pasar".into(),
            body: "Lubang besar di jalur kiri membahayakan pengendara motor.".into(),
            incident_date: None,
            region_code: None,
            latitude: None,
            longitude: None,
            anonymous: false,
            confidential: false,
            channel: Channel::Web,
            reporter_id: Some("r-1".into()),
            suggested_institution: None,
            policy: policy.name.clone(),
            zone: Zone::Wib,
        };
        let first = submit(
            TrackingId::from_random(seed),
            sub,
            &ctx(Actor::Reporter { reporter_id: None }, t0()),
        );
        let mut report: Report = apply(None, &first).unwrap();
        let mut events = vec![first];
        for (actor, hours, cmd) in steps {
            if let Ok(e) = decide(&report, cmd, &ctx(actor.clone(), t0() + Duration::hours(*hours))) {
                report = apply(Some(report), &e).unwrap();
                events.push(e);
            }
        }
        events
    }

    fn total(cells: &BTreeMap<Cell, Counters>, institution: &str) -> Counters {
        let mut sum = Counters::default();
        for (c, n) in cells {
            if c.institution == institution {
                sum.merge(n, 1);
            }
        }
        sum
    }

    #[test]
    fn a_report_answered_on_time_counts_where_it_should() {
        let national = staff(Role::NationalAdmin, "lapor");
        let city = staff(Role::InstitutionAdmin, "pemkot-32.73");
        let events = story(
            1,
            &[
                (
                    national.clone(),
                    3,
                    Command::Disposition {
                        to: target("pemkot-32.73", InstitutionKind::City),
                        classification: None,
                        needs_investigation: None,
                        category: None,
                        note: None,
                    },
                ),
                (city.clone(), 5, Command::Accept { note: None }),
                (
                    city.clone(),
                    26,
                    Command::FollowUp {
                        body: "Sudah kami perbaiki kemarin sore.".into(),
                    },
                ),
                (
                    city.clone(),
                    28,
                    Command::FollowUp {
                        body: "Foto perbaikan kami lampirkan juga.".into(),
                    },
                ),
                (
                    Actor::Reporter {
                        reporter_id: Some("r-1".into()),
                    },
                    30,
                    Command::Rate {
                        rating: 4,
                        comment: None,
                    },
                ),
            ],
        );
        assert_eq!(events.len(), 6, "every step was accepted");
        let cal = Calendar::embedded();
        let cells = replay(&events, &cal);
        let intake = total(&cells, "");
        assert_eq!(intake.submitted, 1);
        let op = total(&cells, "lapor");
        assert_eq!((op.verified, op.verified_on_time), (1, 1));
        let c = total(&cells, "pemkot-32.73");
        assert_eq!(
            (c.received, c.followed_up, c.followed_up_on_time),
            (1, 1, 1),
            "the second follow-up is not a first one"
        );
        assert_eq!(
            c.first_response_days,
            BTreeMap::from([(1, 1)]),
            "answered the next working day"
        );
        assert_eq!((c.completed, c.ratings), (1, [0, 0, 0, 1, 0]));
        assert_eq!(c.completion_days, BTreeMap::from([(1, 1)]));
        // Each cell is dated by its event in WIB and labelled by the report.
        assert!(
            cells
                .keys()
                .all(|k| k.classification == Classification::Pengaduan && k.category.as_deref() == Some("jalan"))
        );
        assert!(
            cells
                .keys()
                .any(|k| k.institution == "pemkot-32.73" && k.day == NaiveDate::from_ymd_opt(2026, 11, 3).unwrap())
        );
    }

    #[test]
    fn late_verification_and_a_transfer_count_for_both_sides() {
        let national = staff(Role::NationalAdmin, "lapor");
        let city = staff(Role::InstitutionAdmin, "pemkot-32.73");
        let ministry = staff(Role::InstitutionAdmin, "kemenkes");
        let events = story(
            2,
            &[
                // A week later: past the three working days.
                (
                    national.clone(),
                    24 * 7,
                    Command::Disposition {
                        to: target("pemkot-32.73", InstitutionKind::City),
                        classification: None,
                        needs_investigation: None,
                        category: None,
                        note: None,
                    },
                ),
                (
                    city.clone(),
                    24 * 7 + 2,
                    Command::Transfer {
                        to: target("kemenkes", InstitutionKind::Ministry),
                        reason: "Rumah sakit vertikal.".into(),
                    },
                ),
                (ministry.clone(), 24 * 8, Command::Accept { note: None }),
                (
                    ministry.clone(),
                    24 * 9,
                    Command::FollowUp {
                        body: "Kami tangani di RS vertikal.".into(),
                    },
                ),
            ],
        );
        assert_eq!(events.len(), 5, "every step was accepted");
        let cells = replay(&events, &Calendar::embedded());
        let op = total(&cells, "lapor");
        assert_eq!((op.verified, op.verified_on_time), (1, 0), "verified late");
        let c = total(&cells, "pemkot-32.73");
        assert_eq!((c.received, c.transferred_out, c.followed_up), (1, 1, 0));
        let m = total(&cells, "kemenkes");
        assert_eq!((m.received, m.followed_up, m.followed_up_on_time), (1, 1, 1));
        // The ministry's clock starts at its receipt, not at submission.
        assert_eq!(m.first_response_days.keys().copied().collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn random_histories_keep_the_counts_consistent() {
        let national = staff(Role::NationalAdmin, "lapor");
        let city = staff(Role::InstitutionAdmin, "pemkot-32.73");
        let reporter = Actor::Reporter {
            reporter_id: Some("r-1".into()),
        };
        let cal = Calendar::embedded();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut seen_kinds = std::collections::BTreeSet::new();
        for seed in 0..300u64 {
            let mut steps = Vec::new();
            for k in 0..12 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let hours = k * (1 + (x % 60) as i64);
                let cmd = match x % 9 {
                    0 => (
                        national.clone(),
                        Command::Disposition {
                            to: target("pemkot-32.73", InstitutionKind::City),
                            classification: None,
                            needs_investigation: None,
                            category: None,
                            note: None,
                        },
                    ),
                    1 => (city.clone(), Command::Accept { note: None }),
                    2 | 3 => (
                        city.clone(),
                        Command::FollowUp {
                            body: "Tindak lanjut dari instansi.".into(),
                        },
                    ),
                    4 => (
                        reporter.clone(),
                        Command::Rate {
                            rating: 1 + (x % 5) as u8,
                            comment: None,
                        },
                    ),
                    5 => (
                        city.clone(),
                        Command::Transfer {
                            to: target("kemenkes", InstitutionKind::Ministry),
                            reason: "Bukan wewenang.".into(),
                        },
                    ),
                    6 => (
                        reporter.clone(),
                        Command::Reopen {
                            reason: "Belum selesai.".into(),
                        },
                    ),
                    7 => (
                        staff(Role::InstitutionAdmin, "kemenkes"),
                        Command::FollowUp {
                            body: "Tindak lanjut kementerian.".into(),
                        },
                    ),
                    _ => (city.clone(), Command::Complete { note: None }),
                };
                steps.push((cmd.0, hours, cmd.1));
            }
            let events = story(seed, &steps);
            let cells = replay(&events, &cal);
            let mut all = Counters::default();
            for c in cells.values() {
                all.merge(c, 1);
            }
            let count = |k: &str| events.iter().filter(|e| e.data.kind() == k).count() as i64;
            assert_eq!(all.submitted, 1);
            assert!(all.verified <= 1 && all.verified_on_time <= all.verified);
            assert_eq!(
                all.received,
                count("dispositioned") + count("transferred"),
                "seed {seed}"
            );
            assert_eq!(all.transferred_out, count("transferred"));
            assert!(all.followed_up <= all.received && all.followed_up <= count("followed_up"));
            assert!(all.followed_up_on_time <= all.followed_up);
            assert_eq!(all.first_response_days.values().sum::<i64>(), all.followed_up);
            assert_eq!(all.ratings.iter().sum::<i64>(), count("rated"));
            assert_eq!(all.reopened, count("reopened"));
            let completing = events
                .iter()
                .filter(|e| {
                    matches!(
                        e.data,
                        EventData::Completed { .. } | EventData::Rated { completes: true, .. }
                    )
                })
                .count() as i64;
            assert_eq!(all.completed, completing);
            // The maintained sum (event by event) equals the replay.
            let mut maintained: BTreeMap<Cell, Counters> = BTreeMap::new();
            for i in 0..events.len() {
                for (cell, c) in contribution(&events[..i], &events[i], &cal) {
                    maintained.entry(cell).or_default().merge(&c, 1);
                }
            }
            maintained.retain(|_, c| !c.is_zero());
            assert_eq!(maintained, cells);
            seen_kinds.extend(events.iter().map(|e| e.data.kind()));
        }
        // The random walks reach every kind the counters care about.
        for k in [
            "dispositioned",
            "accepted",
            "followed_up",
            "rated",
            "transferred",
            "reopened",
            "completed",
        ] {
            assert!(seen_kinds.contains(k), "no {k} in any history: {seen_kinds:?}");
        }
    }
}
