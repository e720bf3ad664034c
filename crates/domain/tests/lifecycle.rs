//! The report lifecycle (DESIGN §3), tested from outside the crate:
//!
//! `submitted` → (`on_hold` ⇄) → `dispositioned` → `in_progress` →
//! `responded` → `completed`; `archived` / `merged` from `submitted`,
//! `on_hold`, `dispositioned` and `in_progress`; a transfer keeps
//! `dispositioned` but changes the institution; a reporter's reply moves
//! `responded` back to `in_progress`; `completed` may be reopened once within
//! 10 working days.
//!
//! Every expected value here (the transition tables, every deadline) is
//! written out by hand, never computed with the code under test. Deadlines use
//! the real embedded holiday calendar
//! (`data/holidays/indonesia_holidays_2015_2027_python-holidays-0.109.csv`)
//! and the default PermenPANRB 62/2018 policy.
//!
//! The institution tree used throughout:
//!
//! ```text
//! lapor (national operator, WIB)
//! ├── pemprov-32 (province, WIB)
//! │   └── pemkot-32.73 (city of Bandung, WIB)
//! │       └── pemkot-32.73-dishub (unit)
//! │           └── pemkot-32.73-dishub-lalin (unit under the unit)
//! ├── kemenkes (ministry, WIB)
//! │   └── kemenkes-itjen (unit)
//! ├── bpjs-kesehatan (state enterprise, WIB)
//! ├── pemprov-73 (province of South Sulawesi, WITA)
//! └── pemprov-94 (province of Papua, WIT)
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Duration, TimeZone, Utc};
use lapor_domain::calendar::{Calendar, Zone};
use lapor_domain::event::{Actor, Event, EventData, Submission};
use lapor_domain::ids::TrackingId;
use lapor_domain::institution::{InstitutionKind, Role};
use lapor_domain::lifecycle::{Command, Ctx, InstitutionTarget, apply, decide, replay, submit};
use lapor_domain::report::{ArchiveReason, Channel, Classification, Report, Stage, Status, Visibility};
use lapor_domain::sla::SlaPolicy;
use lapor_domain::{Error, ErrorCode};

// ---------------------------------------------------------------------------
// Institutions
// ---------------------------------------------------------------------------

const OPERATOR: &str = "lapor";
const JABAR: &str = "pemprov-32";
const BANDUNG: &str = "pemkot-32.73";
const DISHUB: &str = "pemkot-32.73-dishub";
const LALIN: &str = "pemkot-32.73-dishub-lalin";
const KEMENKES: &str = "kemenkes";
const ITJEN: &str = "kemenkes-itjen";
const BPJS: &str = "bpjs-kesehatan";
const SULSEL: &str = "pemprov-73";
const PAPUA: &str = "pemprov-94";

/// Institutions a report may be dispositioned or transferred to.
const HANDLERS: [&str; 5] = [BANDUNG, KEMENKES, BPJS, SULSEL, PAPUA];

/// What the adapters would look up for `code` in the tree above.
fn target(code: &str) -> InstitutionTarget {
    use InstitutionKind::*;
    let (kind, zone, ancestors): (InstitutionKind, Zone, &[&str]) = match code {
        OPERATOR => (NationalOperator, Zone::Wib, &[]),
        JABAR => (Province, Zone::Wib, &[OPERATOR]),
        BANDUNG => (City, Zone::Wib, &[OPERATOR, JABAR]),
        DISHUB => (Unit, Zone::Wib, &[OPERATOR, JABAR, BANDUNG]),
        LALIN => (Unit, Zone::Wib, &[OPERATOR, JABAR, BANDUNG, DISHUB]),
        KEMENKES => (Ministry, Zone::Wib, &[OPERATOR]),
        ITJEN => (Unit, Zone::Wib, &[OPERATOR, KEMENKES]),
        BPJS => (StateEnterprise, Zone::Wib, &[OPERATOR]),
        SULSEL => (Province, Zone::Wita, &[OPERATOR]),
        PAPUA => (Province, Zone::Wit, &[OPERATOR]),
        other => panic!("unknown institution {other}"),
    };
    InstitutionTarget {
        code: code.to_string(),
        kind,
        zone,
        ancestors: ancestors.iter().map(|s| s.to_string()).collect(),
    }
}

/// A unit kerja directly under `inst`.
fn unit_of(inst: &str) -> InstitutionTarget {
    let parent = target(inst);
    let mut ancestors = parent.ancestors.clone();
    ancestors.push(inst.to_string());
    InstitutionTarget {
        code: format!("{inst}-unit"),
        kind: InstitutionKind::Unit,
        zone: parent.zone,
        ancestors,
    }
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

/// A local wall-clock time in `zone`, as UTC.
fn local(zone: Zone, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    zone.offset()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid local time")
        .with_timezone(&Utc)
}

fn wib(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    local(Zone::Wib, y, m, d, h, min)
}

/// 23:59:59 local time in `zone` on the given date, as UTC.
fn end_of(zone: Zone, y: i32, m: u32, d: u32) -> DateTime<Utc> {
    zone.offset()
        .with_ymd_and_hms(y, m, d, 23, 59, 59)
        .single()
        .expect("valid local time")
        .with_timezone(&Utc)
}

fn eod_wib(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    end_of(Zone::Wib, y, m, d)
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid UTC time")
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

/// The kinds of command, in the column order of the tables below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum K {
    Disposition,
    PutOnHold,
    Resume,
    Accept,
    DispositionToUnit,
    Transfer,
    FollowUp,
    Reply,
    Rate,
    Complete,
    Archive,
    Merge,
    Reopen,
    /// Workspace corrections and housekeeping (section 9); they change no
    /// status, so the status tables leave them out.
    Edit,
    SetPrivacy,
    Redact,
    AddNote,
    RequestExtension,
    AssignLiaison,
    /// The deadline scheduler's commands and the Ombudsman consent; their
    /// own tests are in `deadlines.rs`.
    Deadline,
}

const KINDS: [K; 13] = [
    K::Disposition,
    K::PutOnHold,
    K::Resume,
    K::Accept,
    K::DispositionToUnit,
    K::Transfer,
    K::FollowUp,
    K::Reply,
    K::Rate,
    K::Complete,
    K::Archive,
    K::Merge,
    K::Reopen,
];

/// Column letters of the tables, in `KINDS` order.
const LETTERS: [&str; 13] = ["D", "H", "R", "A", "U", "T", "F", "Y", "S", "C", "X", "M", "O"];

fn kind_of(cmd: &Command) -> K {
    match cmd {
        Command::Disposition { .. } => K::Disposition,
        Command::PutOnHold { .. } => K::PutOnHold,
        Command::Resume { .. } => K::Resume,
        Command::Accept { .. } => K::Accept,
        Command::DispositionToUnit { .. } => K::DispositionToUnit,
        Command::Transfer { .. } => K::Transfer,
        Command::FollowUp { .. } => K::FollowUp,
        Command::Reply { .. } => K::Reply,
        Command::Rate { .. } => K::Rate,
        Command::Complete { .. } => K::Complete,
        Command::Archive { .. } => K::Archive,
        Command::Merge { .. } => K::Merge,
        Command::Reopen { .. } => K::Reopen,
        Command::Edit { .. } => K::Edit,
        Command::SetPrivacy { .. } => K::SetPrivacy,
        Command::Redact => K::Redact,
        Command::AddNote { .. } => K::AddNote,
        Command::RequestExtension { .. } => K::RequestExtension,
        Command::AssignLiaison { .. } => K::AssignLiaison,
        Command::Remind { .. }
        | Command::Escalate { .. }
        | Command::AutoComplete
        | Command::OfferOmbudsman
        | Command::EscalateToOmbudsman { .. } => K::Deadline,
    }
}

fn disposition(to: &str) -> Command {
    Command::Disposition {
        to: target(to),
        classification: None,
        needs_investigation: None,
        category: None,
        note: None,
    }
}

fn disposition_as(to: &str, classification: Classification, needs_investigation: bool) -> Command {
    Command::Disposition {
        to: target(to),
        classification: Some(classification),
        needs_investigation: Some(needs_investigation),
        category: Some("kesehatan".into()),
        note: Some("Mohon ditindaklanjuti.".into()),
    }
}

fn hold() -> Command {
    Command::PutOnHold {
        message: "Mohon lengkapi lokasi kejadian.".into(),
    }
}

fn resume() -> Command {
    Command::Resume {
        note: Some("Pelapor sudah melengkapi.".into()),
    }
}

fn accept() -> Command {
    Command::Accept { note: None }
}

fn to_unit(unit: InstitutionTarget) -> Command {
    Command::DispositionToUnit {
        unit,
        note: Some("Harap ditangani.".into()),
    }
}

fn transfer(to: &str) -> Command {
    transfer_with(target(to), "Bukan kewenangan kami.")
}

fn transfer_with(to: InstitutionTarget, reason: &str) -> Command {
    Command::Transfer {
        to,
        reason: reason.into(),
    }
}

fn follow_up(body: &str) -> Command {
    Command::FollowUp { body: body.into() }
}

fn answer() -> Command {
    follow_up("Jalan sudah ditambal oleh Dinas PU pada hari Senin.")
}

fn reply(body: &str) -> Command {
    Command::Reply { body: body.into() }
}

fn rate(rating: u8) -> Command {
    Command::Rate {
        rating,
        comment: Some("Cepat ditangani, terima kasih.".into()),
    }
}

fn complete() -> Command {
    Command::Complete { note: None }
}

fn archive() -> Command {
    Command::Archive {
        reason: ArchiveReason::TooGeneral,
        note: Some("Laporan terlalu umum.".into()),
    }
}

fn merge(into: TrackingId, into_status: Status) -> Command {
    Command::Merge { into, into_status }
}

fn reopen(reason: &str) -> Command {
    Command::Reopen { reason: reason.into() }
}

/// Another report to merge into.
fn other_id() -> TrackingId {
    TrackingId::from_random(0x2A_5A5A_5A5A)
}

/// A command of kind `k` that is valid in every respect except, possibly,
/// the report's status.
fn valid_command(k: K, r: &Report) -> Command {
    let inst = r.institution.as_deref().unwrap_or(BANDUNG);
    match k {
        K::Disposition => disposition(BANDUNG),
        K::PutOnHold => hold(),
        K::Resume => resume(),
        K::Accept => accept(),
        K::DispositionToUnit => to_unit(unit_of(inst)),
        K::Transfer => transfer(if inst == KEMENKES { BPJS } else { KEMENKES }),
        K::FollowUp => answer(),
        K::Reply => reply("Belum selesai, masih berlubang."),
        K::Rate => rate(4),
        K::Complete => complete(),
        K::Archive => archive(),
        K::Merge => merge(other_id(), Status::InProgress),
        K::Reopen => reopen("Lubangnya muncul lagi setelah hujan."),
        K::Edit | K::SetPrivacy | K::Redact | K::AddNote | K::RequestExtension | K::AssignLiaison | K::Deadline => {
            unreachable!("section 9 kinds are not in the status tables")
        }
    }
}

/// The status a permitted command of kind `k` leads to (by hand, from DESIGN §3).
fn expected_to(k: K, r: &Report) -> Status {
    match k {
        K::Disposition | K::Transfer => Status::Dispositioned,
        K::PutOnHold => Status::OnHold,
        K::Resume => r.held_from.expect("on hold has held_from"),
        K::Accept | K::Reply | K::Reopen => Status::InProgress,
        K::DispositionToUnit => Status::InProgress,
        K::FollowUp => Status::Responded,
        K::Rate | K::Complete => Status::Completed,
        K::Archive => Status::Archived,
        K::Merge => Status::Merged,
        K::Edit | K::SetPrivacy | K::Redact | K::AddNote | K::RequestExtension | K::AssignLiaison | K::Deadline => {
            unreachable!("section 9 kinds are not in the status tables")
        }
    }
}

fn actor_for(k: K) -> Actor {
    match k {
        K::Reply | K::Rate | K::Reopen => Actor::Reporter {
            reporter_id: Some("rep-1".into()),
        },
        K::Complete => Actor::System,
        K::Disposition | K::Archive | K::Merge => Actor::Staff {
            user_id: "u-national".into(),
            role: Role::NationalAdmin,
            institution: OPERATOR.into(),
        },
        _ => Actor::Staff {
            user_id: "u-inst".into(),
            role: Role::InstitutionAdmin,
            institution: BANDUNG.into(),
        },
    }
}

// ---------------------------------------------------------------------------
// A report and its log
// ---------------------------------------------------------------------------

fn submission(classification: Classification, zone: Zone) -> Submission {
    Submission {
        classification,
        needs_investigation: false,
        category: Some("jalan".into()),
        title: "Jalan berlubang di Jl. Soekarno-Hatta".into(),
        body: "Ada lubang besar di depan pasar yang membahayakan pengendara motor.".into(),
        incident_date: None,
        region_code: Some("32.73".into()),
        latitude: Some(-6.94),
        longitude: Some(107.63),
        anonymous: false,
        confidential: false,
        channel: Channel::Web,
        reporter_id: Some("rep-1".into()),
        suggested_institution: None,
        policy: SlaPolicy::default().name,
        zone,
    }
}

/// One report driven through real commands, keeping its event log.
struct Sim {
    cal: Calendar,
    policy: SlaPolicy,
    report: Report,
    events: Vec<Event>,
    now: DateTime<Utc>,
}

impl Sim {
    fn new(classification: Classification, zone: Zone, now: DateTime<Utc>) -> Sim {
        Sim::with_id(TrackingId::from_random(0x1234_5678), classification, zone, now)
    }

    fn with_id(id: TrackingId, classification: Classification, zone: Zone, now: DateTime<Utc>) -> Sim {
        let cal = Calendar::embedded();
        let policy = SlaPolicy::default();
        let ctx = Ctx {
            now,
            actor: Actor::Reporter {
                reporter_id: Some("rep-1".into()),
            },
            calendar: &cal,
            policy: &policy,
        };
        let first = submit(id, submission(classification, zone), &ctx);
        let report = apply(None, &first).expect("submitted applies");
        Sim {
            cal,
            policy,
            report,
            events: vec![first],
            now,
        }
    }

    fn at(&mut self, now: DateTime<Utc>) -> &mut Sim {
        self.now = now;
        self
    }

    fn later(&mut self, d: Duration) -> &mut Sim {
        self.now += d;
        self
    }

    /// Decides without changing anything.
    fn decide(&self, cmd: &Command) -> Result<Event, Error> {
        let ctx = Ctx {
            now: self.now,
            actor: actor_for(kind_of(cmd)),
            calendar: &self.cal,
            policy: &self.policy,
        };
        decide(&self.report, cmd, &ctx)
    }

    fn err(&self, cmd: &Command) -> ErrorCode {
        match self.decide(cmd) {
            Ok(e) => panic!(
                "{} from {} was accepted ({}), expected an error",
                cmd.name(),
                self.report.status,
                e.data.kind()
            ),
            Err(e) => e.code,
        }
    }

    fn try_run(&mut self, cmd: &Command) -> Result<Event, Error> {
        let e = self.decide(cmd)?;
        self.report = apply(Some(self.report.clone()), &e)?;
        self.events.push(e.clone());
        Ok(e)
    }

    fn run(&mut self, cmd: Command) -> Event {
        let status = self.report.status;
        self.try_run(&cmd)
            .unwrap_or_else(|e| panic!("{} from {status} failed: {e}", cmd.name()))
    }
}

// ===========================================================================
// 1. Every status × every command
// ===========================================================================

/// One row per way of reaching a status (by real commands from a new WIB
/// complaint). Columns, in `KINDS` order:
///
/// D Disposition, H PutOnHold, R Resume, A Accept, U DispositionToUnit,
/// T Transfer, F FollowUp, Y Reply, S Rate, C Complete, X Archive, M Merge,
/// O Reopen.
///
/// A letter: allowed; `-`: `TransitionNotAllowed`.
#[rustfmt::skip]
const SCENARIOS: &[(&str, &str, &[K])] = {
    use K::*;
    &[
        //  D H R A U T F Y S C X M O
        ("D H - - - - - - - - X M -", "submitted",                    &[]),
        ("- - R - - - - - - - X M -", "on_hold from submitted",       &[PutOnHold]),
        ("- - R - - - - - - - X M -", "on_hold from dispositioned",   &[Disposition, PutOnHold]),
        ("- - R - - - - - - - X M -", "on_hold from in_progress",     &[Disposition, Accept, PutOnHold]),
        ("D H - - - - - - - - X M -", "submitted, resumed",           &[PutOnHold, Resume]),
        ("- H - A - T - - - - X M -", "dispositioned",                &[Disposition]),
        ("- H - A - T - - - - X M -", "dispositioned, resumed",       &[Disposition, PutOnHold, Resume]),
        ("- H - A - T - - - - X M -", "dispositioned after transfer", &[Disposition, Transfer]),
        ("- H - A - T - - - - X M -", "dispositioned, transferred from in_progress",
            &[Disposition, Accept, DispositionToUnit, Transfer]),
        ("- H - - U T F - - - X M -", "in_progress",                  &[Disposition, Accept]),
        ("- H - - U T F - - - X M -", "in_progress, resumed",         &[Disposition, Accept, PutOnHold, Resume]),
        ("- H - - U T F - - - X M -", "in_progress with a unit",      &[Disposition, Accept, DispositionToUnit]),
        ("- H - - U T F - - - X M -", "in_progress after reply",      &[Disposition, Accept, FollowUp, Reply]),
        ("- H - - U T F - - - X M -", "in_progress after reopen",     &[Disposition, Accept, FollowUp, Rate, Reopen]),
        ("- - - - - - F Y S C - - -", "responded",                    &[Disposition, Accept, FollowUp]),
        ("- - - - - - F Y S C - - -", "responded twice",              &[Disposition, Accept, FollowUp, FollowUp]),
        // Rated by the reporter: a second rating is refused; reopen is allowed.
        ("- - - - - - - - - - - - O", "completed by rating",          &[Disposition, Accept, FollowUp, Rate]),
        // Completed without a rating: the reporter may still rate it late.
        ("- - - - - - - - S - - - O", "completed, unrated",           &[Disposition, Accept, FollowUp, Complete]),
        ("- - - - - - - - - - - - O", "completed, then rated",        &[Disposition, Accept, FollowUp, Complete, Rate]),
        // Already reopened once: no second reopen.
        ("- - - - - - - - S - - - -", "completed again after reopen",
            &[Disposition, Accept, FollowUp, Rate, Reopen, FollowUp, Complete]),
        ("- - - - - - - - - - - - -", "archived from submitted",      &[Archive]),
        ("- - - - - - - - - - - - -", "archived from on_hold",        &[PutOnHold, Archive]),
        ("- - - - - - - - - - - - -", "archived from dispositioned",  &[Disposition, Archive]),
        ("- - - - - - - - - - - - -", "archived from in_progress",    &[Disposition, Accept, Archive]),
        ("- - - - - - - - - - - - -", "merged from submitted",        &[Merge]),
        ("- - - - - - - - - - - - -", "merged from on_hold",          &[Disposition, PutOnHold, Merge]),
        ("- - - - - - - - - - - - -", "merged from in_progress",      &[Disposition, Accept, Merge]),
    ]
};

/// The status each scenario must end in (checked so a wrong setup cannot
/// silently test the wrong row).
fn scenario_status(name: &str) -> Status {
    let head = name.split([' ', ',']).next().unwrap_or_default();
    Status::parse(head).unwrap_or_else(|| panic!("scenario name {name:?} must start with a status"))
}

fn parse_row(row: &str) -> [bool; 13] {
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells.len(), 13, "row {row:?} must have 13 cells");
    let mut out = [false; 13];
    for (i, cell) in cells.iter().enumerate() {
        match *cell {
            "-" => {}
            c if c == LETTERS[i] => out[i] = true,
            c => panic!("row {row:?}: cell {i} is {c:?}, expected {:?} or '-'", LETTERS[i]),
        }
    }
    out
}

fn drive(path: &[K]) -> Sim {
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    for k in path {
        let cmd = valid_command(*k, &sim.report);
        sim.later(Duration::hours(1)).run(cmd);
    }
    sim
}

#[test]
fn every_status_against_every_command() {
    let mut failures = Vec::new();
    let mut covered = std::collections::HashSet::new();
    for (row, name, path) in SCENARIOS {
        let mut sim = drive(path);
        assert_eq!(sim.report.status, scenario_status(name), "setup of {name:?}");
        covered.insert(sim.report.status);
        sim.later(Duration::hours(1));
        let expected = parse_row(row);
        for (i, k) in KINDS.iter().enumerate() {
            let cmd = valid_command(*k, &sim.report);
            match (expected[i], sim.decide(&cmd)) {
                (true, Ok(e)) => {
                    let to = expected_to(*k, &sim.report);
                    if e.to_status != to {
                        failures.push(format!("{name}: {} went to {}, expected {to}", cmd.name(), e.to_status));
                    }
                    if let Err(err) = apply(Some(sim.report.clone()), &e) {
                        failures.push(format!("{name}: {} decided but did not apply: {err}", cmd.name()));
                    }
                }
                (true, Err(err)) => failures.push(format!("{name}: {} should be allowed, got {err}", cmd.name())),
                (false, Ok(e)) => failures.push(format!(
                    "{name}: {} should be refused, went to {}",
                    cmd.name(),
                    e.to_status
                )),
                (false, Err(err)) if err.code == ErrorCode::TransitionNotAllowed => {}
                (false, Err(err)) => failures.push(format!(
                    "{name}: {} refused with {err}, expected transition_not_allowed",
                    cmd.name()
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(covered.len(), Status::ALL.len(), "every status has a row");
}

// ===========================================================================
// 2. Deadlines with the real calendar
// ===========================================================================
//
// Holidays used below, from the embedded CSV (2026; `LN` = libur nasional,
// `CB` = cuti bersama, both days off by default):
//   2026-03-18 Wed CB Nyepi        2026-03-19 Thu LN Nyepi
//   2026-03-20 Fri CB Idul Fitri   2026-03-21 Sat LN Idul Fitri
//   2026-03-22 Sun LN Idul Fitri 2 2026-03-23 Mon CB Idul Fitri
//   2026-03-24 Tue CB Idul Fitri   2026-04-03 Fri LN Good Friday
//   2026-06-16 Tue LN Islamic New Year (no other holiday June 2 – August 16)
//   2026-08-17 Mon LN Independence 2026-08-25 Tue LN Maulid
//   2026-12-24 Thu CB Christmas    2026-12-25 Fri LN Christmas
//   2027-01-01 Fri LN New Year     2027-01-05 Tue LN Isra Mikraj
// Weekdays: 2026-03-16, 2026-06-08, 2026-06-15, 2026-06-29 and 2026-12-21
// are Mondays; 2027-01-04 is a Monday.

#[test]
fn the_hand_counted_holidays_are_in_the_embedded_calendar() {
    let cal = Calendar::embedded();
    let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    for off in [
        d(2026, 3, 18),
        d(2026, 3, 19),
        d(2026, 3, 20),
        d(2026, 3, 23),
        d(2026, 3, 24),
        d(2026, 4, 3),
        d(2026, 6, 16),
        d(2026, 8, 17),
        d(2026, 8, 25),
        d(2026, 12, 24),
        d(2026, 12, 25),
        d(2027, 1, 1),
        d(2027, 1, 5),
    ] {
        assert!(!cal.is_working_day(off), "{off} should be a day off");
    }
    for on in [
        d(2026, 3, 17),
        d(2026, 3, 25),
        d(2026, 6, 15),
        d(2026, 12, 31),
        d(2027, 1, 4),
    ] {
        assert!(cal.is_working_day(on), "{on} should be a working day");
    }
}

#[test]
fn verification_is_due_three_working_days_after_submission() {
    // Thursday 2026-06-11 18:30 UTC is Friday 2026-06-12 01:30 WIB: the local
    // date counts. Working days after Fri 12 June: Mon 15 (1), Tue 16 is
    // Islamic New Year, Wed 17 (2), Thu 18 (3) → Thu 18 June 23:59:59 WIB.
    let sim = Sim::new(Classification::Pengaduan, Zone::Wib, utc(2026, 6, 11, 18, 30));
    assert_eq!(sim.report.status, Status::Submitted);
    assert_eq!(sim.report.stage, Some(Stage::Verification));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 18)));
    assert_eq!(
        sim.report.due_at,
        Some(utc(2026, 6, 18, 16, 59) + Duration::seconds(59))
    );
    match &sim.events[0].data {
        EventData::Submitted { due_at, .. } => assert_eq!(*due_at, eod_wib(2026, 6, 18)),
        other => panic!("first event is {}", other.kind()),
    }

    // Submitted on Saturday 13 June: counting starts after it, so the same
    // three days (15, 17, 18) give the same deadline.
    let sat = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 13, 11, 0));
    assert_eq!(sat.report.due_at, Some(eod_wib(2026, 6, 18)));

    // Thursday 2026-06-11 16:30 UTC is still Thursday 23:30 WIB: Fri 12 (1),
    // Mon 15 (2), Wed 17 (3) → Wed 17 June.
    let thu = Sim::new(Classification::Pengaduan, Zone::Wib, utc(2026, 6, 11, 16, 30));
    assert_eq!(thu.report.due_at, Some(eod_wib(2026, 6, 17)));
}

#[test]
fn acceptance_is_due_three_working_days_after_disposition() {
    // Disposition on Mon 15 June 09:00 WIB: Tue 16 is a holiday, so Wed 17
    // (1), Thu 18 (2), Fri 19 (3) → Fri 19 June 23:59:59 WIB.
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 12, 9, 0));
    let e = sim.at(wib(2026, 6, 15, 9, 0)).run(disposition(BANDUNG));
    assert_eq!(sim.report.status, Status::Dispositioned);
    assert_eq!(sim.report.stage, Some(Stage::Acceptance));
    assert_eq!(sim.report.institution.as_deref(), Some(BANDUNG));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 19)));
    assert!(matches!(e.data, EventData::Dispositioned { due_at, .. } if due_at == eod_wib(2026, 6, 19)));

    // The clock moves to the institution's zone. Tue 16 June 16:30 UTC is
    // 23:30 WIB but already Wed 17 June 01:30 WIT in Papua: Thu 18 (1),
    // Fri 19 (2), Mon 22 (3) → Mon 22 June 23:59:59 WIT = 14:59:59 UTC.
    // (Counted in WIB it would have been Fri 19 June.)
    let mut papua = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 15, 9, 0));
    papua.at(utc(2026, 6, 16, 16, 30)).run(disposition(PAPUA));
    assert_eq!(papua.report.zone, Zone::Wit);
    assert_eq!(papua.report.due_at, Some(end_of(Zone::Wit, 2026, 6, 22)));
    assert_eq!(
        papua.report.due_at,
        Some(utc(2026, 6, 22, 14, 59) + Duration::seconds(59))
    );
}

/// A report accepted on Wed 17 June 2026 10:00 WIB, classified at disposition.
fn accepted_on_17_june(submitted_as: Classification, disposition_cmd: Command) -> Sim {
    let mut sim = Sim::new(submitted_as, Zone::Wib, wib(2026, 6, 12, 9, 0));
    sim.at(wib(2026, 6, 15, 9, 0)).run(disposition_cmd);
    sim.at(wib(2026, 6, 17, 10, 0)).run(accept());
    assert_eq!(sim.report.status, Status::InProgress);
    assert_eq!(sim.report.stage, Some(Stage::FollowUp));
    sim
}

#[test]
fn follow_up_deadline_depends_on_the_classification() {
    // Working days after Wed 17 June 2026 (no holiday until 17 August):
    // June 18, 19, 22–26, 29, 30 (9); July 1, 2, 3 (12), 6, 7 (14) ...
    //
    // pengaduan, 14 working days → Tue 7 July.
    let sim = accepted_on_17_june(Classification::Pengaduan, disposition(BANDUNG));
    assert!(!sim.report.needs_investigation);
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 7, 7)));

    // aspirasi and permintaan_informasi, 5 working days: 18, 19, 22, 23, 24
    // → Wed 24 June.
    let sim = accepted_on_17_june(Classification::Aspirasi, disposition(BANDUNG));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 24)));
    let sim = accepted_on_17_june(Classification::PermintaanInformasi, disposition(BANDUNG));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 24)));

    // Reclassified at disposition: submitted as aspirasi, dispositioned as
    // permintaan_informasi → 5 days; as pengaduan → 14 days.
    let sim = accepted_on_17_june(
        Classification::Aspirasi,
        disposition_as(BANDUNG, Classification::PermintaanInformasi, false),
    );
    assert_eq!(sim.report.classification, Classification::PermintaanInformasi);
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 24)));
    let sim = accepted_on_17_june(
        Classification::Aspirasi,
        disposition_as(BANDUNG, Classification::Pengaduan, false),
    );
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 7, 7)));

    // pengaduan needing investigation, 60 working days:
    //   June 18–30: 9; July: 23 weekdays, no holiday → 32;
    //   August: 21 weekdays less 17 Aug and 25 Aug = 19 → 51;
    //   September: Tue 1 – Fri 4 → 55, Mon 7 – Fri 11 → 60 → Fri 11 September.
    let sim = accepted_on_17_june(
        Classification::Pengaduan,
        disposition_as(BANDUNG, Classification::Pengaduan, true),
    );
    assert!(sim.report.needs_investigation);
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 9, 11)));

    // Investigation only applies to complaints: aspirasi stays at 5 days.
    let sim = accepted_on_17_june(
        Classification::Pengaduan,
        disposition_as(BANDUNG, Classification::Aspirasi, true),
    );
    assert!(!sim.report.needs_investigation);
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 24)));
}

#[test]
fn reply_window_and_the_clock_after_a_reply() {
    let mut sim = accepted_on_17_june(Classification::Pengaduan, disposition(BANDUNG));
    // Follow-up on Mon 29 June 10:00 WIB; reply window 10 working days:
    // Tue 30 (1), July 1, 2, 3 (4), 6–10 (9), Mon 13 (10) → Mon 13 July.
    let e = sim.at(wib(2026, 6, 29, 10, 0)).run(answer());
    assert_eq!(sim.report.status, Status::Responded);
    assert_eq!(sim.report.stage, Some(Stage::ReporterReply));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 7, 13)));
    assert_eq!(sim.report.first_response_at, Some(wib(2026, 6, 29, 10, 0)));
    assert!(matches!(e.data, EventData::FollowedUp { due_at } if due_at == eod_wib(2026, 7, 13)));

    // The reporter replies on Tue 30 June 10:00: back to in_progress with a
    // new 14-day follow-up clock: July 1, 2, 3 (3), 6–10 (8), 13–17 (13),
    // Mon 20 (14) → Mon 20 July.
    sim.at(wib(2026, 6, 30, 10, 0))
        .run(reply("Belum, lubang di sisi timur belum ditambal."));
    assert_eq!(sim.report.status, Status::InProgress);
    assert_eq!(sim.report.stage, Some(Stage::FollowUp));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 7, 20)));

    // A second follow-up keeps the first response time.
    sim.at(wib(2026, 7, 2, 10, 0)).run(answer());
    assert_eq!(sim.report.first_response_at, Some(wib(2026, 6, 29, 10, 0)));
}

#[test]
fn deadlines_across_lebaran_2026() {
    // Submitted Wed 11 March 2026 10:00 WIB: Thu 12 (1), Fri 13 (2), Mon 16
    // (3) → verification due Mon 16 March.
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 3, 11, 10, 0));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 3, 16)));

    // Dispositioned Thu 12 March: Fri 13 (1), Mon 16 (2), Tue 17 (3) →
    // acceptance due Tue 17 March.
    sim.at(wib(2026, 3, 12, 10, 0)).run(disposition(BANDUNG));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 3, 17)));

    // Accepted Fri 13 March: Mon 16 (1), Tue 17 (2), then Wed 18 – Tue 24
    // are all off (cuti bersama Nyepi, Nyepi, cuti Idul Fitri, Idul Fitri on
    // the weekend, cuti Idul Fitri ×2), Wed 25 (3), Thu 26 (4), Fri 27 (5),
    // Mon 30 (6), Tue 31 (7), Wed 1 April (8), Thu 2 (9), Fri 3 is Good
    // Friday, Mon 6 (10), 7 (11), 8 (12), 9 (13), Fri 10 April (14).
    sim.at(wib(2026, 3, 13, 10, 0)).run(accept());
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 4, 10)));

    // Submitted Mon 16 March: Tue 17 (1), Wed 25 (2), Thu 26 (3) →
    // verification due Thu 26 March.
    let sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 3, 16, 10, 0));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 3, 26)));

    // Submitted during the holiday itself (Sat 21 March, Idul Fitri): Wed 25
    // (1), Thu 26 (2), Fri 27 (3).
    let sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 3, 21, 8, 0));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 3, 27)));
}

#[test]
fn deadlines_across_the_2026_2027_year_end() {
    // Submitted Wed 23 Dec 2026: Thu 24 (cuti bersama) and Fri 25 (Christmas)
    // are off; Mon 28 (1), Tue 29 (2), Wed 30 (3) → Wed 30 December.
    let sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 12, 23, 10, 0));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 12, 30)));

    // Submitted Thu 31 Dec 2026: Fri 1 Jan off, Mon 4 (1), Tue 5 off (Isra
    // Mikraj), Wed 6 (2), Thu 7 (3) → Thu 7 January 2027.
    let sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 12, 31, 10, 0));
    assert_eq!(sim.report.due_at, Some(eod_wib(2027, 1, 7)));

    // Accepted Mon 21 Dec 2026 (pengaduan, 14 days): Tue 22 (1), Wed 23 (2),
    // Mon 28 (3), 29 (4), 30 (5), Thu 31 (6), Mon 4 Jan (7), Wed 6 (8),
    // Thu 7 (9), Fri 8 (10), Mon 11 (11), 12 (12), 13 (13), Thu 14 (14).
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 12, 17, 10, 0));
    sim.at(wib(2026, 12, 18, 10, 0)).run(disposition(BANDUNG));
    sim.at(wib(2026, 12, 21, 10, 0)).run(accept());
    assert_eq!(sim.report.due_at, Some(eod_wib(2027, 1, 14)));

    // Follow-up Wed 23 Dec 2026, reply window 10 days: Mon 28 (1), 29 (2),
    // 30 (3), Thu 31 (4), Mon 4 Jan (5), Wed 6 (6), Thu 7 (7), Fri 8 (8),
    // Mon 11 (9), Tue 12 (10) → Tue 12 January 2027.
    sim.at(wib(2026, 12, 23, 10, 0)).run(answer());
    assert_eq!(sim.report.due_at, Some(eod_wib(2027, 1, 12)));
}

// ===========================================================================
// 3. On hold pauses the clock
// ===========================================================================

#[test]
fn hold_from_submitted_moves_the_deadline_by_the_working_days_held() {
    // Submitted Mon 8 June 2026 09:00 WIB: due Thu 11 June (9, 10, 11).
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 11)));

    let e = sim.at(wib(2026, 6, 9, 10, 0)).run(hold());
    assert_eq!(e.from_status, Some(Status::Submitted));
    assert_eq!(sim.report.status, Status::OnHold);
    assert_eq!(sim.report.held_from, Some(Status::Submitted));
    assert_eq!(sim.report.held_at, Some(wib(2026, 6, 9, 10, 0)));
    // Nothing moves while on hold; the stage is kept.
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 11)));
    assert_eq!(sim.report.stage, Some(Stage::Verification));
    assert!(
        !sim.report.is_overdue(wib(2026, 6, 12, 10, 0)),
        "on hold is never overdue"
    );

    // Resumed Mon 15 June: held over Wed 10, Thu 11, Fri 12, Mon 15 = 4
    // working days. Due Thu 11 + 4 working days: Fri 12 (1), Mon 15 (2),
    // Tue 16 is a holiday, Wed 17 (3), Thu 18 (4) → Thu 18 June.
    let e = sim.at(wib(2026, 6, 15, 10, 0)).run(resume());
    assert_eq!(e.to_status, Status::Submitted);
    assert!(matches!(e.data, EventData::Resumed { due_at: Some(d) } if d == eod_wib(2026, 6, 18)));
    assert_eq!(sim.report.status, Status::Submitted);
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 18)));
    assert_eq!(sim.report.held_from, None);
    assert_eq!(sim.report.held_at, None);
    assert_eq!(sim.report.stage, Some(Stage::Verification));
}

#[test]
fn hold_from_dispositioned_resumed_the_same_day_keeps_the_deadline() {
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    // Dispositioned Mon 8 June 11:00: due Thu 11 June.
    sim.at(wib(2026, 6, 8, 11, 0)).run(disposition(BANDUNG));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 11)));
    sim.at(wib(2026, 6, 9, 9, 0)).run(hold());
    assert_eq!(sim.report.held_from, Some(Status::Dispositioned));
    // Same local day: no working day passed.
    sim.at(wib(2026, 6, 9, 17, 0)).run(resume());
    assert_eq!(sim.report.status, Status::Dispositioned);
    assert_eq!(sim.report.stage, Some(Stage::Acceptance));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 11)));
    assert_eq!(sim.report.institution.as_deref(), Some(BANDUNG));

    // Held Friday 12 June, resumed Sunday 14 June: the weekend has no working
    // day, so the deadline stays.
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 11, 9, 0));
    sim.at(wib(2026, 6, 11, 10, 0)).run(disposition(BANDUNG));
    // Due: Fri 12 (1), Mon 15 (2), Wed 17 (3).
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 17)));
    sim.at(wib(2026, 6, 12, 15, 0)).run(hold());
    sim.at(wib(2026, 6, 14, 20, 0)).run(resume());
    assert_eq!(sim.report.status, Status::Dispositioned);
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 6, 17)));
}

#[test]
fn hold_from_in_progress_across_lebaran_costs_only_working_days() {
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 3, 11, 10, 0));
    sim.at(wib(2026, 3, 12, 10, 0)).run(disposition(BANDUNG));
    sim.at(wib(2026, 3, 13, 10, 0)).run(accept());
    // As above: due Fri 10 April 2026.
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 4, 10)));
    sim.at(wib(2026, 3, 17, 10, 0)).run(to_unit(target(DISHUB)));

    // Held Tue 17 March, resumed Wed 25 March: (17, 25] holds only one
    // working day, Wed 25 (18–24 are Nyepi, Idul Fitri and cuti bersama).
    // Fri 10 April + 1 working day → Mon 13 April.
    sim.at(wib(2026, 3, 17, 11, 0)).run(hold());
    assert_eq!(sim.report.held_from, Some(Status::InProgress));
    sim.at(wib(2026, 3, 25, 9, 0)).run(resume());
    assert_eq!(sim.report.status, Status::InProgress);
    assert_eq!(sim.report.stage, Some(Stage::FollowUp));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 4, 13)));
    // The unit is kept across the pause.
    assert_eq!(sim.report.unit.as_deref(), Some(DISHUB));

    // A second pause of exactly 3 working days (Thu 26, Fri 27, Mon 30):
    // Mon 13 April + 3 → Thu 16 April.
    sim.at(wib(2026, 3, 25, 15, 0)).run(hold());
    sim.at(wib(2026, 3, 30, 8, 0)).run(resume());
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 4, 16)));
}

// ===========================================================================
// 4. Validation errors
// ===========================================================================

fn in_progress_at_bandung() -> Sim {
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    sim.later(Duration::hours(1)).run(disposition(BANDUNG));
    sim.later(Duration::hours(1)).run(accept());
    sim.later(Duration::hours(1));
    sim
}

#[test]
fn follow_up_body_must_have_at_least_five_characters() {
    let sim = in_progress_at_bandung();
    for body in ["", "     ", "abcd", "  abcd  ", "\n\t\n"] {
        assert_eq!(sim.err(&follow_up(body)), ErrorCode::ValidationFailed, "body {body:?}");
    }
    // Control characters are refused too.
    assert_eq!(sim.err(&follow_up("Sudah\u{0}diperbaiki")), ErrorCode::ValidationFailed);
    // Five characters is enough; the stored body is trimmed.
    let e = sim.decide(&follow_up("  abcde  ")).expect("five characters");
    assert_eq!(e.body.as_deref(), Some("abcde"));
}

#[test]
fn transfer_checks_reason_and_target() {
    let sim = in_progress_at_bandung();
    for reason in ["", "abc", "  abcd  "] {
        let cmd = transfer_with(target(KEMENKES), reason);
        assert_eq!(sim.err(&cmd), ErrorCode::ValidationFailed, "reason {reason:?}");
    }
    // To the institution it is already at.
    assert_eq!(sim.err(&transfer(BANDUNG)), ErrorCode::ValidationFailed);
    // To a unit, its own or another institution's.
    assert_eq!(sim.err(&transfer(DISHUB)), ErrorCode::ValidationFailed);
    assert_eq!(sim.err(&transfer(ITJEN)), ErrorCode::ValidationFailed);
    // To the national operator.
    assert_eq!(sim.err(&transfer(OPERATOR)), ErrorCode::ValidationFailed);
    // Any other institution is fine, including the province above it.
    for to in [JABAR, KEMENKES, BPJS, SULSEL, PAPUA] {
        assert!(sim.decide(&transfer(to)).is_ok(), "transfer to {to}");
    }

    // From dispositioned too.
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    sim.later(Duration::hours(1)).run(disposition(KEMENKES));
    assert_eq!(sim.err(&transfer(KEMENKES)), ErrorCode::ValidationFailed);
    assert_eq!(sim.err(&transfer(OPERATOR)), ErrorCode::ValidationFailed);
    assert_eq!(sim.err(&transfer(ITJEN)), ErrorCode::ValidationFailed);
}

#[test]
fn disposition_to_the_national_operator_is_refused() {
    let sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    assert_eq!(sim.err(&disposition(OPERATOR)), ErrorCode::ValidationFailed);
    for to in HANDLERS {
        assert!(sim.decide(&disposition(to)).is_ok(), "disposition to {to}");
    }
}

/// DESIGN §1: the national admin forwards a report "to the competent
/// institution: a ministry, an agency, a province, a regency or city, a state
/// enterprise"; the institution then passes it to a unit. `Transfer` refuses
/// a unit as target, but `Disposition` does not: the report ends up with a
/// unit as its `institution` (and `unit` = None). In authz the parent
/// institution's admin is then only "above" it (may not accept), and the
/// unit's own `unit_admin` is "assigned" rather than "handling unit" (may not
/// even read it internally or follow up).
#[test]
fn disposition_to_a_unit_is_refused() {
    let sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    for unit in [DISHUB, ITJEN] {
        let got = sim.decide(&disposition(unit)).map(|e| e.to_institution);
        assert_eq!(
            got.map_err(|e| e.code),
            Err(ErrorCode::ValidationFailed),
            "disposition to unit {unit}"
        );
    }
}

#[test]
fn rating_must_be_one_to_five() {
    let mut sim = in_progress_at_bandung();
    sim.run(answer());
    for bad in [0u8, 6, 7, 255] {
        assert_eq!(sim.err(&rate(bad)), ErrorCode::ValidationFailed, "rating {bad}");
    }
    for good in 1u8..=5 {
        assert!(sim.decide(&rate(good)).is_ok(), "rating {good}");
    }
    // Out of range is a validation error even on a completed, unrated report.
    let mut done = in_progress_at_bandung();
    done.run(answer());
    done.later(Duration::hours(1)).run(complete());
    assert_eq!(done.err(&rate(0)), ErrorCode::ValidationFailed);
    assert_eq!(done.err(&rate(6)), ErrorCode::ValidationFailed);
}

#[test]
fn merge_checks_the_target() {
    let sim = in_progress_at_bandung();
    let me = sim.report.tracking_id.clone();
    assert_eq!(sim.err(&merge(me, Status::InProgress)), ErrorCode::ValidationFailed);
    // The self check does not depend on the status the caller looked up.
    let me = sim.report.tracking_id.clone();
    assert_eq!(sim.err(&merge(me, Status::Submitted)), ErrorCode::ValidationFailed);
    for dead in [Status::Archived, Status::Merged] {
        assert_eq!(
            sim.err(&merge(other_id(), dead)),
            ErrorCode::ValidationFailed,
            "into {dead}"
        );
    }
    for live in [
        Status::Submitted,
        Status::OnHold,
        Status::Dispositioned,
        Status::InProgress,
        Status::Responded,
        Status::Completed,
    ] {
        let e = sim
            .decide(&merge(other_id(), live))
            .unwrap_or_else(|e| panic!("into {live}: {e}"));
        assert!(matches!(&e.data, EventData::Merged { into } if *into == other_id()));
    }
}

#[test]
fn disposition_to_unit_needs_a_unit_of_this_institution() {
    let sim = in_progress_at_bandung();
    // A unit of another institution.
    assert_eq!(sim.err(&to_unit(target(ITJEN))), ErrorCode::ValidationFailed);
    assert_eq!(sim.err(&to_unit(unit_of(KEMENKES))), ErrorCode::ValidationFailed);
    // Not a unit at all, even if below the institution in the tree.
    let mut city = target(BANDUNG);
    city.code = "pemkot-32.73-fake".into();
    city.ancestors.push(BANDUNG.into());
    assert_eq!(sim.err(&to_unit(city)), ErrorCode::ValidationFailed);
    // The institution itself and its parent are not units.
    assert_eq!(sim.err(&to_unit(target(BANDUNG))), ErrorCode::ValidationFailed);
    assert_eq!(sim.err(&to_unit(target(JABAR))), ErrorCode::ValidationFailed);
    // Its own units, direct or nested, are fine.
    for unit in [DISHUB, LALIN] {
        let mut s = in_progress_at_bandung();
        let e = s.run(to_unit(target(unit)));
        assert!(matches!(&e.data, EventData::DispositionedToUnit { unit: u } if u == unit));
        assert_eq!(s.report.unit.as_deref(), Some(unit));
        assert_eq!(s.report.status, Status::InProgress);
    }
}

#[test]
fn other_free_text_is_checked() {
    let sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    let short_hold = Command::PutOnHold { message: "abc".into() };
    assert_eq!(sim.err(&short_hold), ErrorCode::ValidationFailed);

    let mut sim = in_progress_at_bandung();
    sim.run(answer());
    assert_eq!(sim.err(&reply("   ")), ErrorCode::ValidationFailed);
    assert!(sim.decide(&reply("?")).is_ok(), "one character is a reply");

    sim.later(Duration::hours(1)).run(rate(2));
    assert_eq!(sim.err(&reopen("no")), ErrorCode::ValidationFailed);
}

// ===========================================================================
// 5. Rating, completion and reopening
// ===========================================================================

/// A complaint responded to on Tue 30 June 2026 10:00 WIB.
fn responded_on_30_june() -> Sim {
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 22, 9, 0));
    sim.at(wib(2026, 6, 23, 9, 0)).run(disposition(BANDUNG));
    sim.at(wib(2026, 6, 24, 9, 0)).run(accept());
    sim.at(wib(2026, 6, 30, 10, 0)).run(answer());
    assert_eq!(sim.report.status, Status::Responded);
    sim
}

#[test]
fn rating_completes_and_opens_the_reopen_window_once() {
    let mut sim = responded_on_30_june();
    // Rated Wed 1 July 10:00 WIB; reopen window 10 working days: Thu 2 (1),
    // Fri 3 (2), 6–10 (7), 13 (8), 14 (9), Wed 15 (10) → Wed 15 July.
    let e = sim.at(wib(2026, 7, 1, 10, 0)).run(rate(5));
    assert_eq!(e.to_status, Status::Completed);
    assert!(matches!(
        e.data,
        EventData::Rated { rating: 5, completes: true, reopen_due_at: Some(d) } if d == eod_wib(2026, 7, 15)
    ));
    assert_eq!(sim.report.status, Status::Completed);
    assert_eq!(sim.report.stage, Some(Stage::ReopenWindow));
    assert_eq!(sim.report.rating, Some(5));
    assert_eq!(
        sim.report.rating_comment.as_deref(),
        Some("Cepat ditangani, terima kasih.")
    );
    assert_eq!(sim.report.completed_at, Some(wib(2026, 7, 1, 10, 0)));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 7, 15)));
    assert!(
        !sim.report.is_overdue(eod_wib(2026, 7, 20)),
        "the reopen window is never overdue"
    );

    // Rating twice fails.
    sim.at(wib(2026, 7, 2, 10, 0));
    assert_eq!(sim.err(&rate(1)), ErrorCode::TransitionNotAllowed);

    // Reopened Tue 14 July, inside the window: back to in_progress with a new
    // 14-day follow-up clock: Wed 15 (1), 16, 17 (3), 20–24 (8), 27–31 (13),
    // Mon 3 August (14).
    let e = sim
        .at(wib(2026, 7, 14, 10, 0))
        .run(reopen("Lubangnya muncul lagi setelah hujan."));
    assert_eq!(e.from_status, Some(Status::Completed));
    assert_eq!(sim.report.status, Status::InProgress);
    assert_eq!(sim.report.stage, Some(Stage::FollowUp));
    assert_eq!(sim.report.reopen_count, 1);
    assert_eq!(sim.report.rating, None);
    assert_eq!(sim.report.rating_comment, None);
    assert_eq!(sim.report.completed_at, None);
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 8, 3)));

    // Second round: answer, rate (allowed again: the old rating was
    // cleared), then a second reopen is refused even inside the window.
    sim.at(wib(2026, 7, 16, 10, 0)).run(answer());
    sim.at(wib(2026, 7, 16, 12, 0)).run(rate(4));
    assert_eq!(sim.report.status, Status::Completed);
    assert_eq!(sim.report.rating, Some(4));
    sim.at(wib(2026, 7, 17, 10, 0));
    assert_eq!(
        sim.err(&reopen("Masih belum beres juga.")),
        ErrorCode::TransitionNotAllowed
    );
}

#[test]
fn reopen_after_the_window_is_refused() {
    let mut sim = responded_on_30_june();
    // Completed (the reply window ran out) on Wed 1 July 10:00: window until
    // Wed 15 July 23:59:59 WIB.
    let e = sim.at(wib(2026, 7, 1, 10, 0)).run(complete());
    assert!(matches!(e.data, EventData::Completed { reopen_due_at } if reopen_due_at == eod_wib(2026, 7, 15)));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 7, 15)));
    let due = sim.report.due_at.unwrap();

    let why = reopen("Lubangnya muncul lagi setelah hujan.");
    sim.at(due + Duration::seconds(1));
    assert_eq!(sim.err(&why), ErrorCode::TransitionNotAllowed);
    sim.at(due + Duration::days(30));
    assert_eq!(sim.err(&why), ErrorCode::TransitionNotAllowed);
    // The last second of the window still counts.
    sim.at(due);
    assert!(sim.decide(&why).is_ok());
}

#[test]
fn a_late_rating_does_not_restart_the_reopen_window() {
    let mut sim = responded_on_30_june();
    sim.at(wib(2026, 7, 1, 10, 0)).run(complete());
    assert_eq!(sim.report.rating, None);
    // Rated on Fri 10 July: stays completed, window still ends 15 July.
    let e = sim.at(wib(2026, 7, 10, 10, 0)).run(rate(2));
    assert_eq!(e.from_status, Some(Status::Completed));
    assert_eq!(e.to_status, Status::Completed);
    assert!(matches!(
        e.data,
        EventData::Rated {
            rating: 2,
            completes: false,
            reopen_due_at: None
        }
    ));
    assert_eq!(sim.report.rating, Some(2));
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 7, 15)));
    assert_eq!(sim.report.stage, Some(Stage::ReopenWindow));
    assert_eq!(sim.report.completed_at, Some(wib(2026, 7, 1, 10, 0)));
    assert_eq!(sim.err(&rate(3)), ErrorCode::TransitionNotAllowed);
    // Reopening after the window it opened on 1 July fails.
    sim.at(eod_wib(2026, 7, 16));
    assert_eq!(
        sim.err(&reopen("Masih rusak sampai sekarang.")),
        ErrorCode::TransitionNotAllowed
    );
}

// ===========================================================================
// 6. Event sourcing
// ===========================================================================

/// A long path through almost every kind of event.
fn eventful() -> Sim {
    let mut sim = Sim::new(Classification::Aspirasi, Zone::Wib, wib(2026, 3, 10, 9, 0));
    let step = Duration::hours(5);
    sim.later(step).run(hold());
    sim.later(Duration::days(2)).run(resume());
    sim.later(step)
        .run(disposition_as(BANDUNG, Classification::Pengaduan, false));
    sim.later(step).run(accept());
    sim.later(step).run(to_unit(target(DISHUB)));
    sim.later(step).run(transfer(PAPUA));
    sim.later(step).run(accept());
    sim.later(step).run(hold());
    sim.later(Duration::days(10)).run(resume());
    sim.later(step).run(answer());
    sim.later(step).run(reply("Belum selesai."));
    sim.later(step).run(answer());
    sim.later(step).run(rate(3));
    sim.later(step).run(reopen("Ternyata belum diperbaiki."));
    sim.later(step).run(answer());
    sim.later(step).run(complete());
    sim.later(step).run(rate(5));
    sim
}

#[test]
fn replay_equals_the_incremental_state() {
    let sim = eventful();
    assert_eq!(sim.events.len(), 18);
    assert_eq!(replay(&sim.events).unwrap(), Some(sim.report.clone()));
    for (i, e) in sim.events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "seq of event {i}");
        assert_eq!(e.tracking_id, sim.report.tracking_id);
    }
    assert_eq!(sim.report.version, 18);
    // Every prefix replays to the version of its length.
    for n in 1..=sim.events.len() {
        let r = replay(&sim.events[..n]).unwrap().unwrap();
        assert_eq!(r.version, n as i64);
        assert_eq!(r.status, sim.events[n - 1].to_status);
    }
    assert_eq!(replay(&sim.events[..0]).unwrap(), None);

    // What the log says about the transfer.
    let t = sim
        .events
        .iter()
        .find(|e| matches!(e.data, EventData::Transferred { .. }))
        .unwrap();
    assert_eq!(t.from_institution.as_deref(), Some(BANDUNG));
    assert_eq!(t.to_institution.as_deref(), Some(PAPUA));
    assert_eq!(t.from_status, Some(Status::InProgress));
    assert_eq!(t.to_status, Status::Dispositioned);
    assert_eq!(sim.report.institution.as_deref(), Some(PAPUA));
    assert_eq!(sim.report.zone, Zone::Wit);
    assert_eq!(sim.report.unit, None, "a transfer drops the unit");
    assert_eq!(sim.report.transfer_count, 1);
    assert_eq!(sim.report.reopen_count, 1);
    assert_eq!(sim.report.status, Status::Completed);
    assert_eq!(sim.report.rating, Some(5));
}

#[test]
fn transfer_from_dispositioned_keeps_the_status_and_changes_the_institution() {
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    sim.at(wib(2026, 6, 8, 10, 0)).run(disposition(BANDUNG));
    // Transferred Wed 10 June 10:00 WIB to South Sulawesi (WITA, 11:00
    // local): acceptance restarts: Thu 11 (1), Fri 12 (2), Mon 15 (3) →
    // Mon 15 June 23:59:59 WITA.
    let e = sim.at(wib(2026, 6, 10, 10, 0)).run(transfer(SULSEL));
    assert_eq!(e.from_status, Some(Status::Dispositioned));
    assert_eq!(e.to_status, Status::Dispositioned);
    assert_eq!(e.body.as_deref(), Some("Bukan kewenangan kami."));
    assert_eq!(sim.report.institution.as_deref(), Some(SULSEL));
    assert_eq!(sim.report.zone, Zone::Wita);
    assert_eq!(sim.report.stage, Some(Stage::Acceptance));
    assert_eq!(sim.report.due_at, Some(end_of(Zone::Wita, 2026, 6, 15)));
    assert_eq!(sim.report.transfer_count, 1);
    // And on: a second transfer, back to where it started, is allowed.
    sim.later(Duration::hours(1)).run(transfer(BANDUNG));
    assert_eq!(sim.report.transfer_count, 2);
    assert_eq!(sim.report.institution.as_deref(), Some(BANDUNG));
}

#[test]
fn apply_refuses_a_broken_log() {
    let sim = eventful();
    let events = &sim.events;
    let at = |n: usize| replay(&events[..n]).unwrap().unwrap();

    // Out of order: event 5 after version 3, and event 4 twice.
    let r3 = at(3);
    let err = apply(Some(r3.clone()), &events[4]).unwrap_err();
    assert_eq!(err.code, ErrorCode::Internal);
    let r4 = at(4);
    assert_eq!(apply(Some(r4), &events[3]).unwrap_err().code, ErrorCode::Internal);
    // A gap anywhere makes the whole replay fail.
    let mut gap: Vec<Event> = events.clone();
    gap.remove(7);
    assert_eq!(replay(&gap).unwrap_err().code, ErrorCode::Internal);
    // Swapped events.
    let mut swapped = events.clone();
    swapped.swap(5, 6);
    assert!(replay(&swapped).is_err());
    // A hand-edited seq.
    let mut e = events[3].clone();
    e.seq = 99;
    assert_eq!(apply(Some(r3.clone()), &e).unwrap_err().code, ErrorCode::Internal);
    e.seq = 0;
    assert_eq!(apply(Some(r3), &e).unwrap_err().code, ErrorCode::Internal);

    // A second submitted event, at the end or with the right seq.
    let last = sim.report.clone();
    assert_eq!(
        apply(Some(last.clone()), &events[0]).unwrap_err().code,
        ErrorCode::Internal
    );
    let mut resubmit = events[0].clone();
    resubmit.seq = last.version + 1;
    assert_eq!(apply(Some(last), &resubmit).unwrap_err().code, ErrorCode::Internal);
    let mut doubled = vec![events[0].clone(), events[0].clone()];
    assert!(replay(&doubled).is_err());
    doubled[1].seq = 2;
    assert!(replay(&doubled).is_err());

    // A log that does not start with submitted.
    assert_eq!(apply(None, &events[1]).unwrap_err().code, ErrorCode::Internal);
    assert!(replay(&events[1..]).is_err());
}

// ===========================================================================
// 7. Random command sequences
// ===========================================================================

/// xorshift64: tiny and deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// The transition rules by status, written by hand from DESIGN §3 (same
/// columns as `SCENARIOS`). Lower case marks a conditional cell:
/// `s` — only if the report has no rating yet;
/// `o` — only if never reopened and `now` is within the reopen window.
const BY_STATUS: [(&str, Status); 8] = [
    // D H R A U T F Y S C X M O
    ("D H - - - - - - - - X M -", Status::Submitted),
    ("- - R - - - - - - - X M -", Status::OnHold),
    ("- H - A - T - - - - X M -", Status::Dispositioned),
    ("- H - - U T F - - - X M -", Status::InProgress),
    ("- - - - - - F Y S C - - -", Status::Responded),
    ("- - - - - - - - s - - - o", Status::Completed),
    ("- - - - - - - - - - - - -", Status::Archived),
    ("- - - - - - - - - - - - -", Status::Merged),
];

fn cell(status: Status, k: K) -> char {
    let row = BY_STATUS
        .iter()
        .find(|(_, s)| *s == status)
        .map(|(row, _)| *row)
        .expect("every status has a row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    let i = KINDS.iter().position(|x| *x == k).unwrap();
    let c = cells[i];
    assert!(
        c == "-" || c.eq_ignore_ascii_case(LETTERS[i]),
        "BY_STATUS {status} cell {i} is {c:?}"
    );
    c.chars().next().unwrap()
}

/// Whether a valid command of kind `k` is allowed on `r` at `now`.
fn permitted(r: &Report, k: K, now: DateTime<Utc>) -> bool {
    match cell(r.status, k) {
        '-' => false,
        's' => r.rating.is_none(),
        'o' => r.reopen_count == 0 && r.due_at.is_none_or(|d| now <= d),
        _ => true,
    }
}

fn random_kind(rng: &mut Rng, r: &Report) -> K {
    // Archive and merge end a run, so they are rare (~3% of steps).
    if rng.chance(3) {
        return rng.pick(&[K::Archive, K::Merge]);
    }
    let live: Vec<K> = KINDS
        .iter()
        .copied()
        .filter(|k| !matches!(k, K::Archive | K::Merge))
        .collect();
    if rng.chance(70) {
        let options: Vec<K> = live.iter().copied().filter(|k| cell(r.status, *k) != '-').collect();
        if !options.is_empty() {
            return rng.pick(&options);
        }
    }
    rng.pick(&live)
}

const GOOD_TEXT: [&str; 4] = [
    "Sudah ditangani oleh petugas.",
    "  Mohon dicek kembali  ",
    "Jalan\nsudah\tdiperbaiki",
    "Terima kasih ✓ ꦗꦭꦤ꧀ sudah beres",
];
const BAD_TEXT: [&str; 5] = ["", "    ", "abcd", " ab\n ", "bad\u{7}text here"];

/// A random command of kind `k` for `r`, and whether it is valid apart from
/// the report's status.
fn random_command(rng: &mut Rng, k: K, r: &Report, other: &TrackingId) -> (Command, bool) {
    let bad = rng.chance(15);
    let text = |rng: &mut Rng| (if bad { rng.pick(&BAD_TEXT) } else { rng.pick(&GOOD_TEXT) }).to_string();
    let note = |rng: &mut Rng| match rng.below(3) {
        0 => None,
        1 => Some("   ".to_string()),
        _ => Some(rng.pick(&GOOD_TEXT).to_string()),
    };
    let inst = r.institution.clone().unwrap_or_else(|| BANDUNG.to_string());
    match k {
        K::Disposition => {
            let to = if bad { OPERATOR } else { rng.pick(&HANDLERS) };
            let classification = match rng.below(4) {
                0 => None,
                n => Some(Classification::ALL[n as usize - 1]),
            };
            let needs_investigation = [None, Some(false), Some(true)][rng.below(3) as usize];
            let cmd = Command::Disposition {
                to: target(to),
                classification,
                needs_investigation,
                category: None,
                note: note(rng),
            };
            (cmd, !bad)
        }
        K::PutOnHold => (Command::PutOnHold { message: text(rng) }, !bad),
        K::Resume => (Command::Resume { note: note(rng) }, true),
        K::Accept => (Command::Accept { note: note(rng) }, true),
        K::DispositionToUnit => {
            let unit = if bad {
                match rng.below(3) {
                    0 => target(ITJEN),
                    1 => unit_of(if inst == BPJS { KEMENKES } else { BPJS }),
                    _ => target(JABAR),
                }
            } else {
                unit_of(&inst)
            };
            // A unit of KEMENKES is valid when the report is at KEMENKES.
            let valid = unit.kind == InstitutionKind::Unit && unit.ancestors.contains(&inst);
            (Command::DispositionToUnit { unit, note: note(rng) }, valid)
        }
        K::Transfer => {
            let others: Vec<&str> = HANDLERS.iter().copied().filter(|h| *h != inst).collect();
            if bad {
                let to = match rng.below(4) {
                    0 => target(&inst),
                    1 => target(DISHUB),
                    2 => target(OPERATOR),
                    _ => target(rng.pick(&others)),
                };
                // The last choice is bad only through its reason.
                let reason = if rng.chance(50) { "abc" } else { "    " };
                (transfer_with(to, reason), false)
            } else {
                (transfer_with(target(rng.pick(&others)), "Bukan kewenangan kami."), true)
            }
        }
        K::FollowUp => (follow_up(&text(rng)), !bad),
        K::Reply => {
            let body = if bad {
                "   "
            } else {
                rng.pick(&["?", "ok", "Belum selesai."])
            };
            (reply(body), !bad)
        }
        K::Rate => {
            let rating = if bad {
                rng.pick(&[0u8, 6, 9, 255])
            } else {
                1 + rng.below(5) as u8
            };
            (
                Command::Rate {
                    rating,
                    comment: note(rng),
                },
                !bad,
            )
        }
        K::Complete => (Command::Complete { note: note(rng) }, true),
        K::Archive => (
            Command::Archive {
                reason: rng.pick(ArchiveReason::ALL),
                note: note(rng),
            },
            true,
        ),
        K::Merge => {
            if bad {
                if rng.chance(50) {
                    (merge(r.tracking_id.clone(), Status::InProgress), false)
                } else {
                    let dead = rng.pick(&[Status::Archived, Status::Merged]);
                    (merge(other.clone(), dead), false)
                }
            } else {
                let live = rng.pick(&Status::ALL[..6]);
                (merge(other.clone(), live), true)
            }
        }
        K::Edit | K::SetPrivacy | K::Redact | K::AddNote | K::RequestExtension | K::AssignLiaison | K::Deadline => {
            unreachable!("section 9 kinds are not in the status tables")
        }
        K::Reopen => (reopen(&text(rng)), !bad),
    }
}

#[derive(Default, Debug)]
struct Stats {
    reached: std::collections::BTreeMap<&'static str, u32>,
    accepted: u32,
    refused_transition: u32,
    refused_validation: u32,
    reopened: u32,
    reopen_too_late: u32,
    transfers: u32,
}

#[test]
fn random_command_sequences_keep_the_invariants() {
    let mut stats = Stats::default();
    // 2015-01-01 .. mid-2027, inside and around the holiday data.
    let start = utc(2015, 1, 1, 0, 0);
    for run in 0..2000u64 {
        let seed = 0x9E37_79B9_7F4A_7C15u64 ^ (run + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut rng = Rng::new(seed);
        let zone = rng.pick(&[Zone::Wib, Zone::Wita, Zone::Wit]);
        let class = rng.pick(Classification::ALL);
        let t0 = start + Duration::minutes(rng.below(60 * 24 * (365 * 12 + 180)) as i64);
        let id = TrackingId::from_random(rng.next());
        let mut other = TrackingId::from_random(rng.next());
        if other == id {
            other = TrackingId::from_random(!rng.next());
        }
        let mut sim = Sim::with_id(id, class, zone, t0);
        let steps = 1 + rng.below(25);
        let mut history: Vec<String> = Vec::new();
        let mut reopens = 0;
        for step in 0..steps {
            let prev = sim.report.clone();
            let k = random_kind(&mut rng, &prev);
            let (cmd, valid) = random_command(&mut rng, k, &prev, &other);
            let dt = match rng.below(100) {
                0..70 => Duration::minutes(rng.below(8 * 60) as i64),
                70..95 => Duration::hours(24 + rng.below(4 * 24) as i64),
                _ => Duration::days(10 + rng.below(20) as i64),
            };
            sim.later(dt);
            let now = sim.now;
            let allowed = permitted(&prev, k, now);
            let c = cell(prev.status, k);
            history.push(format!("{}{}", cmd.name(), if valid { "" } else { "!" }));
            let here = || {
                format!(
                    "seed {seed:#x} run {run} step {step} from {}: {}",
                    prev.status,
                    history.join(" ")
                )
            };

            let ctx = Ctx {
                now,
                actor: actor_for(k),
                calendar: &sim.cal,
                policy: &sim.policy,
            };
            let decided = catch_unwind(AssertUnwindSafe(|| decide(&prev, &cmd, &ctx)))
                .unwrap_or_else(|_| panic!("{}: decide panicked", here()));
            match decided {
                Ok(e) => {
                    stats.accepted += 1;
                    assert!(
                        allowed && valid,
                        "{}: accepted (allowed {allowed}, valid {valid})",
                        here()
                    );
                    assert!(!matches!(prev.status, Status::Archived | Status::Merged), "{}", here());
                    assert_eq!(e.from_status, Some(prev.status), "{}", here());
                    assert_eq!(e.to_status, expected_to(k, &prev), "{}", here());
                    assert_eq!(e.seq, prev.version + 1, "{}", here());
                    assert_eq!(e.at, now, "{}", here());
                    assert_eq!(e.tracking_id, prev.tracking_id, "{}", here());
                    assert_eq!(e.from_institution, prev.institution, "{}", here());
                    if k == K::Reopen {
                        reopens += 1;
                        stats.reopened += 1;
                        assert!(prev.due_at.is_some_and(|d| now <= d), "{}: reopened late", here());
                    }
                    if k == K::Transfer {
                        stats.transfers += 1;
                    }
                    let next = catch_unwind(AssertUnwindSafe(|| apply(Some(prev.clone()), &e)))
                        .unwrap_or_else(|_| panic!("{}: apply panicked", here()))
                        .unwrap_or_else(|err| panic!("{}: apply failed: {err}", here()));
                    if k == K::Resume
                        && let (Some(before), Some(after)) = (prev.due_at, next.due_at)
                    {
                        assert!(after >= before, "{}: resume moved the deadline earlier", here());
                    }
                    if matches!(k, K::PutOnHold | K::Resume | K::DispositionToUnit) {
                        assert_eq!(next.stage, prev.stage, "{}: stage changed", here());
                    }
                    sim.report = next;
                    sim.events.push(e);
                }
                Err(err) => {
                    match err.code {
                        ErrorCode::TransitionNotAllowed => stats.refused_transition += 1,
                        ErrorCode::ValidationFailed => stats.refused_validation += 1,
                        other => panic!("{}: unexpected error {other:?}: {err}", here()),
                    }
                    if k == K::Reopen && c == 'o' && valid && prev.reopen_count == 0 {
                        stats.reopen_too_late += 1;
                    }
                    if c == '-' {
                        assert_eq!(err.code, ErrorCode::TransitionNotAllowed, "{}: {err}", here());
                    } else if allowed && valid {
                        panic!("{}: a permitted valid command was refused: {err}", here());
                    } else if allowed {
                        assert_eq!(err.code, ErrorCode::ValidationFailed, "{}: {err}", here());
                    } else if valid {
                        assert_eq!(err.code, ErrorCode::TransitionNotAllowed, "{}: {err}", here());
                    }
                }
            }

            // The state after every step.
            let r = &sim.report;
            let n = sim.events.len() as i64;
            assert_eq!(r.version, n, "{}: version", here());
            for (i, e) in sim.events.iter().enumerate() {
                assert_eq!(e.seq, i as i64 + 1, "{}: seq", here());
            }
            let replayed = replay(&sim.events).unwrap_or_else(|err| panic!("{}: replay failed: {err}", here()));
            assert_eq!(replayed.as_ref(), Some(r), "{}: replay differs", here());
            assert!(reopens <= 1 && r.reopen_count <= 1, "{}: reopened twice", here());
            let reopen_events = sim
                .events
                .iter()
                .filter(|e| matches!(e.data, EventData::Reopened { .. }))
                .count();
            assert_eq!(reopen_events, r.reopen_count as usize, "{}", here());
            let transfers = sim
                .events
                .iter()
                .filter(|e| matches!(e.data, EventData::Transferred { .. }))
                .count();
            assert_eq!(transfers, r.transfer_count as usize, "{}", here());
            match r.status {
                Status::Submitted | Status::Dispositioned | Status::InProgress | Status::Responded => {
                    assert!(r.due_at.is_some(), "{}: no deadline in {}", here(), r.status);
                    assert!(r.stage.is_some(), "{}: no stage in {}", here(), r.status);
                    assert_eq!(r.held_from, None, "{}", here());
                }
                Status::OnHold => {
                    assert!(r.due_at.is_some(), "{}: no deadline on hold", here());
                    assert!(r.held_from.is_some() && r.held_at.is_some(), "{}", here());
                }
                Status::Completed => {
                    assert_eq!(r.stage, Some(Stage::ReopenWindow), "{}", here());
                    assert!(r.due_at.is_some() && r.completed_at.is_some(), "{}", here());
                }
                Status::Archived | Status::Merged => {
                    assert_eq!(r.due_at, None, "{}", here());
                    assert_eq!(r.stage, None, "{}", here());
                }
            }
            assert_eq!(
                r.institution.is_some(),
                has_institution(&sim.events),
                "{}: institution",
                here()
            );
            assert_eq!(
                r.status == Status::Archived,
                r.archive_reason.is_some(),
                "{}: archive reason",
                here()
            );
            assert_eq!(
                r.status == Status::Merged,
                r.merged_into.is_some(),
                "{}: merged_into",
                here()
            );
        }

        let status = sim.report.status;
        *stats.reached.entry(status.as_str()).or_default() += 1;
        // Nothing more happens to an archived or merged report.
        if matches!(status, Status::Archived | Status::Merged) {
            sim.later(Duration::hours(1));
            for k in KINDS {
                let cmd = valid_command(k, &sim.report);
                assert_eq!(
                    sim.decide(&cmd).map(|e| e.to_status).map_err(|e| e.code),
                    Err(ErrorCode::TransitionNotAllowed),
                    "seed {seed:#x}: {} on a {status} report",
                    cmd.name()
                );
            }
        }
    }

    // The walk must actually reach the interesting places.
    eprintln!("{stats:?}");
    for s in Status::ALL {
        let n = stats.reached.get(s.as_str()).copied().unwrap_or(0);
        assert!(n >= 50, "only {n} runs ended in {s}: {stats:?}");
    }
    assert!(stats.reopened >= 100, "{stats:?}");
    assert!(stats.reopen_too_late >= 20, "{stats:?}");
    assert!(stats.transfers >= 500, "{stats:?}");
    assert!(stats.refused_validation >= 500, "{stats:?}");
    assert!(stats.refused_transition >= 1000, "{stats:?}");
}

/// Whether the log has put the report at an institution (there is no way
/// back to none).
fn has_institution(events: &[Event]) -> bool {
    events.iter().any(|e| e.to_institution.is_some())
}

// ===========================================================================
// 8. Visibility
// ===========================================================================

#[test]
fn event_visibility() {
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    let step = Duration::hours(2);
    let mut seen = Vec::new();
    let mut go = |sim: &mut Sim, cmd: Command| {
        let e = sim.later(step).run(cmd);
        seen.push((e.data.kind(), e.visibility));
    };
    go(&mut sim, hold());
    go(&mut sim, resume());
    go(&mut sim, disposition(BANDUNG));
    go(&mut sim, accept());
    go(&mut sim, to_unit(target(DISHUB)));
    go(&mut sim, transfer(KEMENKES));
    go(&mut sim, accept());
    go(&mut sim, hold());
    go(&mut sim, resume());
    go(&mut sim, answer());

    let mut archived = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    go(&mut archived, archive());
    let mut merged = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    go(&mut merged, disposition(BANDUNG));
    go(&mut merged, merge(other_id(), Status::Submitted));

    use Visibility::*;
    let expected = [
        ("put_on_hold", Reporter),
        ("resumed", Reporter),
        ("dispositioned", Public),
        ("accepted", Public),
        ("dispositioned_to_unit", Internal),
        ("transferred", Public),
        ("accepted", Public),
        ("put_on_hold", Reporter),
        ("resumed", Reporter),
        ("followed_up", Public),
        ("archived", Reporter),
        ("dispositioned", Public),
        ("merged", Reporter),
    ];
    assert_eq!(seen, expected);
    assert_eq!(sim.events[0].visibility, Public, "the submission itself");
}

/// What the reporter said at submission survives a replay of the log.
#[test]
fn investigation_flag_from_submission_is_in_the_event() {
    let mut sub = submission(Classification::Pengaduan, Zone::Wib);
    sub.needs_investigation = true;
    let cal = Calendar::embedded();
    let policy = SlaPolicy::default();
    let ctx = Ctx {
        now: wib(2026, 6, 8, 9, 0),
        actor: Actor::System,
        calendar: &cal,
        policy: &policy,
    };
    let e = submit(TrackingId::from_random(5), sub.clone(), &ctx);
    let r = replay([&e]).unwrap().unwrap();
    assert!(r.needs_investigation);
    sub.classification = Classification::Aspirasi;
    let e = submit(TrackingId::from_random(6), sub, &ctx);
    assert!(
        !replay([&e]).unwrap().unwrap().needs_investigation,
        "only complaints are investigated"
    );
}

// ===========================================================================
// 9. Workspace corrections: edit, privacy, redaction, notes, extension,
//    liaison. None of them changes the status or the stage.
// ===========================================================================

#[test]
fn edit_keeps_the_original_in_the_log_and_the_clock_running() {
    let mut sim = Sim::new(Classification::Aspirasi, Zone::Wib, wib(2026, 6, 8, 9, 0));
    let due = sim.report.due_at;
    let e = sim.run(Command::Edit {
        title: Some("Jalan berlubang di depan Pasar Kosambi".into()),
        body: None,
        classification: Some(Classification::Pengaduan),
        needs_investigation: Some(true),
        category: Some("infrastruktur".into()),
    });
    assert_eq!(e.data.kind(), "edited");
    assert_eq!(e.visibility, Visibility::Reporter);
    let r = &sim.report;
    assert_eq!(r.title, "Jalan berlubang di depan Pasar Kosambi");
    assert_eq!(r.classification, Classification::Pengaduan);
    assert!(r.needs_investigation);
    assert_eq!(r.category.as_deref(), Some("infrastruktur"));
    assert_eq!(
        (r.status, r.stage, r.due_at),
        (Status::Submitted, Some(Stage::Verification), due)
    );
    // The reporter's words are still in the first event.
    match &sim.events[0].data {
        EventData::Submitted { submission, .. } => {
            assert_eq!(submission.title, "Jalan berlubang di Jl. Soekarno-Hatta")
        }
        other => panic!("first event is {other:?}"),
    }
    // Nothing to change, bad text, or a closed report: refused.
    let same = Command::Edit {
        title: Some("Jalan berlubang di depan Pasar Kosambi".into()),
        body: None,
        classification: None,
        needs_investigation: None,
        category: None,
    };
    assert_eq!(sim.err(&same), ErrorCode::ValidationFailed);
    let short = Command::Edit {
        title: Some("abc".into()),
        body: None,
        classification: None,
        needs_investigation: None,
        category: None,
    };
    assert_eq!(sim.err(&short), ErrorCode::ValidationFailed);
    sim.run(archive());
    let late = Command::Edit {
        title: Some("Judul yang lain sama sekali".into()),
        body: None,
        classification: None,
        needs_investigation: None,
        category: None,
    };
    assert_eq!(sim.err(&late), ErrorCode::TransitionNotAllowed);
    // The fold of the log gives the same state.
    assert_eq!(replay(&sim.events).unwrap().unwrap(), sim.report);
}

#[test]
fn privacy_is_only_ever_added() {
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    sim.run(Command::SetPrivacy {
        anonymous: true,
        confidential: false,
    });
    assert!(sim.report.anonymous && !sim.report.confidential);
    // false never lifts a flag; asking for nothing new is refused.
    assert_eq!(
        sim.err(&Command::SetPrivacy {
            anonymous: false,
            confidential: false
        }),
        ErrorCode::ValidationFailed
    );
    sim.run(Command::SetPrivacy {
        anonymous: false,
        confidential: true,
    });
    assert!(sim.report.anonymous && sim.report.confidential);
    assert_eq!(sim.report.status, Status::Submitted);
}

#[test]
fn redaction_masks_the_text_and_needs_something_to_mask() {
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    assert_eq!(sim.err(&Command::Redact), ErrorCode::ValidationFailed);
    sim.run(Command::Edit {
        title: None,
        body: Some("Hubungi saya di 081234567890 atau budi@example.com, NIK 3273010101900001.".into()),
        classification: None,
        needs_investigation: None,
        category: None,
    });
    let e = sim.run(Command::Redact);
    let body = &sim.report.body;
    assert!(!body.contains("081234567890") && !body.contains("budi@example.com") && !body.contains("3273010101900001"));
    assert!(body.contains("[nomor telepon disamarkan]"), "{body}");
    match e.data {
        EventData::Redacted { kinds, .. } => assert_eq!(kinds.len(), 3, "{kinds:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.err(&Command::Redact), ErrorCode::ValidationFailed, "nothing left");
}

#[test]
fn notes_are_internal_and_change_nothing_else() {
    let mut sim = Sim::new(Classification::Pengaduan, Zone::Wib, wib(2026, 6, 8, 9, 0));
    let before = sim.report.clone();
    let e = sim.run(Command::AddNote {
        body: "Sudah ditelepon, pelapor minta ditangani cepat.".into(),
    });
    assert_eq!(e.visibility, Visibility::Internal);
    assert_eq!(
        e.body.as_deref(),
        Some("Sudah ditelepon, pelapor minta ditangani cepat.")
    );
    assert_eq!(sim.report.version, before.version + 1);
    assert_eq!(
        (sim.report.status, sim.report.stage, sim.report.due_at),
        (before.status, before.stage, before.due_at)
    );
    assert_eq!(
        sim.err(&Command::AddNote { body: "  ".into() }),
        ErrorCode::ValidationFailed
    );
}

#[test]
fn one_extension_for_investigations_only() {
    // Investigation accepted Wed 17 June, due Fri 11 September (section 3).
    // 30 more working days from then: Sep 14–18 (5), 21–25 (10),
    // 28–30 (13), Oct 1–2 (15), 5–9 (20), 12–16 (25), 19–23 (30) → Fri 23 Oct.
    let mut sim = accepted_on_17_june(
        Classification::Pengaduan,
        disposition_as(BANDUNG, Classification::Pengaduan, true),
    );
    let reason = Command::RequestExtension {
        reason: "Menunggu hasil audit lapangan oleh inspektorat.".into(),
    };
    assert_eq!(
        sim.err(&Command::RequestExtension {
            reason: "singkat".into()
        }),
        ErrorCode::ValidationFailed
    );
    let e = sim.at(wib(2026, 9, 1, 10, 0)).run(reason.clone());
    assert_eq!(e.visibility, Visibility::Reporter);
    assert_eq!(sim.report.due_at, Some(eod_wib(2026, 10, 23)));
    assert_eq!(sim.report.stage, Some(Stage::FollowUp));
    assert_eq!(sim.err(&reason), ErrorCode::TransitionNotAllowed, "only once");

    // An ordinary complaint gets none.
    let mut plain = accepted_on_17_june(Classification::Pengaduan, disposition(BANDUNG));
    assert_eq!(
        plain.at(wib(2026, 7, 1, 9, 0)).err(&reason),
        ErrorCode::TransitionNotAllowed
    );
}

#[test]
fn liaison_is_named_and_cleared_when_the_report_moves() {
    let mut sim = accepted_on_17_june(Classification::Pengaduan, disposition(BANDUNG));
    let e = sim.run(Command::AssignLiaison { user_id: "u-lo".into() });
    assert_eq!(e.visibility, Visibility::Internal);
    assert_eq!(sim.report.liaison.as_deref(), Some("u-lo"));
    assert_eq!(
        sim.err(&Command::AssignLiaison { user_id: "u-lo".into() }),
        ErrorCode::ValidationFailed
    );
    sim.run(to_unit(target(DISHUB)));
    assert_eq!(sim.report.liaison, None, "the unit names its own");
    sim.run(Command::AssignLiaison {
        user_id: "u-lo2".into(),
    });
    sim.run(transfer(KEMENKES));
    assert_eq!(sim.report.liaison, None);
    assert_eq!(
        sim.err(&Command::AssignLiaison {
            user_id: "u-lo3".into()
        }),
        ErrorCode::TransitionNotAllowed,
        "not before it is accepted"
    );
    assert_eq!(replay(&sim.events).unwrap().unwrap(), sim.report);
}
