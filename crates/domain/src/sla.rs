//! Deadline policy as data. The defaults follow PermenPANRB 62/2018 and the
//! published LAPOR! flow; a deployment may load another rule set (for example
//! PermenPANRB 5/2025) and each report keeps the rule set it was filed under.

use crate::calendar::Calendar;
use crate::institution::Role;
use crate::report::{Classification, Ombudsman, Report, Stage, Status};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// Name stored on each report, e.g. `permenpanrb-62-2018`.
    pub name: String,
    pub verification_days: u32,
    pub acceptance_days: u32,
    pub followup_aspirasi_days: u32,
    pub followup_information_days: u32,
    pub followup_complaint_days: u32,
    pub followup_investigation_days: u32,
    pub reply_window_days: u32,
    pub reopen_window_days: u32,
    /// Calendar days unresolved after which the Ombudsman may take over.
    pub ombudsman_after_calendar_days: u32,
    /// Working days one extension adds to an investigation's follow-up. The
    /// 2018 rule sets no figure, so it is policy data like the rest.
    #[serde(default = "default_extension_days")]
    pub extension_days: u32,
    /// Working days before a deadline that the responsible staff are
    /// reminded (0: no reminders).
    #[serde(default = "default_remind_before_days")]
    pub remind_before_days: u32,
    /// Working days between two steps up the escalation ladder once a
    /// deadline is missed.
    #[serde(default = "default_escalation_step_days")]
    pub escalation_step_days: u32,
}

fn default_extension_days() -> u32 {
    30
}

fn default_remind_before_days() -> u32 {
    1
}

fn default_escalation_step_days() -> u32 {
    2
}

impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy {
            name: "permenpanrb-62-2018".into(),
            verification_days: 3,
            acceptance_days: 3,
            followup_aspirasi_days: 5,
            followup_information_days: 5,
            followup_complaint_days: 14,
            followup_investigation_days: 60,
            reply_window_days: 10,
            reopen_window_days: 10,
            ombudsman_after_calendar_days: 60,
            extension_days: default_extension_days(),
            remind_before_days: default_remind_before_days(),
            escalation_step_days: default_escalation_step_days(),
        }
    }
}

impl SlaPolicy {
    /// Working days allowed for the follow-up of a report of this class.
    pub fn followup_days(&self, class: Classification, needs_investigation: bool) -> u32 {
        match class {
            Classification::Aspirasi => self.followup_aspirasi_days,
            Classification::PermintaanInformasi => self.followup_information_days,
            Classification::Pengaduan if needs_investigation => self.followup_investigation_days,
            Classification::Pengaduan => self.followup_complaint_days,
        }
    }

    /// Working days allowed for a stage (None for stages without a clock).
    pub fn stage_days(&self, stage: Stage, class: Classification, investigation: bool) -> u32 {
        match stage {
            Stage::Verification => self.verification_days,
            Stage::Acceptance => self.acceptance_days,
            Stage::FollowUp => self.followup_days(class, investigation),
            Stage::ReporterReply => self.reply_window_days,
            Stage::ReopenWindow => self.reopen_window_days,
        }
    }
}

/// Who an overdue report is escalated to, one step per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationStep {
    /// The liaison officer handling the report (or, with none named, the
    /// liaisons and unit admins of the handling unit or institution).
    Liaison,
    /// The admins of the institution the report is assigned to.
    InstitutionAdmin,
    /// The institution above: a province for its regencies, a ministry for
    /// its units (its supervisors, else its admins).
    Supervisor,
    NationalAdmin,
}

impl EscalationStep {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationStep::Liaison => "liaison",
            EscalationStep::InstitutionAdmin => "institution_admin",
            EscalationStep::Supervisor => "supervisor",
            EscalationStep::NationalAdmin => "national_admin",
        }
    }

    /// The roles that answer for this step.
    pub fn roles(self) -> &'static [Role] {
        match self {
            EscalationStep::Liaison => &[Role::Liaison, Role::UnitAdmin],
            EscalationStep::InstitutionAdmin => &[Role::InstitutionAdmin],
            EscalationStep::Supervisor => &[Role::Supervisor, Role::InstitutionAdmin],
            EscalationStep::NationalAdmin => &[Role::NationalAdmin],
        }
    }
}

/// The escalation ladder of a stage: who hears about it when it is
/// overdue, in order. Verification is the national admins' own queue, so
/// it has one step; stages without a staff clock have none.
pub fn ladder(stage: Stage) -> &'static [EscalationStep] {
    use EscalationStep::*;
    match stage {
        Stage::Verification => &[NationalAdmin],
        Stage::Acceptance => &[InstitutionAdmin, Supervisor, NationalAdmin],
        Stage::FollowUp => &[Liaison, InstitutionAdmin, Supervisor, NationalAdmin],
        Stage::ReporterReply | Stage::ReopenWindow => &[],
    }
}

/// Who is reminded before the deadline of a stage. Verification has no
/// per-report reminder: the national queue counts down every report.
pub fn reminded(stage: Stage) -> Option<EscalationStep> {
    match stage {
        Stage::Acceptance => Some(EscalationStep::InstitutionAdmin),
        Stage::FollowUp => Some(EscalationStep::Liaison),
        _ => None,
    }
}

/// Something the deadline scheduler must do to a report now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Remind the responsible staff of the deadline.
    Remind { step: EscalationStep },
    /// The deadline passed: climb to this level (1-based) of the ladder.
    Escalate { level: u8, step: EscalationStep },
    /// The reporter did not answer the follow-up in time.
    AutoComplete,
    /// Unresolved too long: offer escalation to the Ombudsman.
    OfferOmbudsman,
}

/// The moments at which a report's clocks need attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timers {
    pub remind_at: Option<DateTime<Utc>>,
    /// When the next escalation level is reached, and that level.
    pub escalate_at: Option<(DateTime<Utc>, u8)>,
    pub auto_complete_at: Option<DateTime<Utc>>,
    pub ombudsman_at: Option<DateTime<Utc>>,
}

impl Timers {
    /// The earliest of them: when the scheduler should look again.
    pub fn next(&self) -> Option<DateTime<Utc>> {
        [
            self.remind_at,
            self.escalate_at.map(|(t, _)| t),
            self.auto_complete_at,
            self.ombudsman_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

fn clock_runs(r: &Report) -> bool {
    matches!(
        r.status,
        Status::Submitted | Status::Dispositioned | Status::InProgress | Status::Responded
    )
}

/// When escalation level `level` (1-based) of the current deadline is
/// reached: at the deadline, then one step period later each.
fn level_at(r: &Report, due: DateTime<Utc>, level: u8, p: &SlaPolicy, cal: &Calendar) -> DateTime<Utc> {
    if level <= 1 {
        due
    } else {
        cal.working_days_after(due, u32::from(level - 1) * p.escalation_step_days.max(1), r.zone)
    }
}

/// The timers of a report as it stands. A paused (`on_hold`) or closed
/// report has no stage timers; the Ombudsman offer counts calendar days
/// from submission whatever the stage, until the report is resolved.
pub fn timers(r: &Report, p: &SlaPolicy, cal: &Calendar) -> Timers {
    let mut t = Timers::default();
    let open = !r.status.is_closed();
    if open && r.ombudsman.is_none() {
        t.ombudsman_at = Some(r.submitted_at + TimeDelta::days(i64::from(p.ombudsman_after_calendar_days)));
    }
    let (Some(stage), Some(due)) = (r.stage, r.due_at) else {
        return t;
    };
    if !clock_runs(r) {
        return t;
    }
    if stage == Stage::ReporterReply {
        t.auto_complete_at = Some(due);
        return t;
    }
    // Once escalation started, a reminder has nothing left to say.
    if p.remind_before_days > 0 && reminded(stage).is_some() && r.reminded_due != Some(due) && r.escalation_level == 0 {
        let at = cal.reminder_at(due, p.remind_before_days, r.zone);
        // A deadline already missed is escalated, not reminded of.
        if at < due {
            t.remind_at = Some(at);
        }
    }
    let steps = ladder(stage);
    let next_level = r.escalation_level.saturating_add(1);
    if usize::from(next_level) <= steps.len() {
        t.escalate_at = Some((level_at(r, due, next_level, p, cal), next_level));
    }
    t
}

/// What is due at `now`, in the order it should happen. Escalation jumps
/// straight to the highest level already reached (after downtime, say), so
/// one pass never sends a backlog of stale steps.
pub fn due(r: &Report, p: &SlaPolicy, cal: &Calendar, now: DateTime<Utc>) -> Vec<Due> {
    let t = timers(r, p, cal);
    let mut out = Vec::new();
    if let (Some(stage), Some(due)) = (r.stage, r.due_at) {
        if t.remind_at.is_some_and(|at| at <= now)
            && now <= due
            && let Some(step) = reminded(stage)
        {
            out.push(Due::Remind { step });
        }
        if let Some((at, first)) = t.escalate_at
            && at <= now
        {
            let steps = ladder(stage);
            let mut level = first;
            while usize::from(level) < steps.len() && level_at(r, due, level + 1, p, cal) <= now {
                level += 1;
            }
            out.push(Due::Escalate {
                level,
                step: steps[usize::from(level) - 1],
            });
        }
    }
    if t.auto_complete_at.is_some_and(|at| at <= now) {
        out.push(Due::AutoComplete);
    }
    if t.ombudsman_at.is_some_and(|at| at <= now) && !out.contains(&Due::AutoComplete) {
        out.push(Due::OfferOmbudsman);
    }
    out
}

/// Whether the Ombudsman offer is open for the reporter to accept.
pub fn ombudsman_open(r: &Report) -> bool {
    r.ombudsman == Some(Ombudsman::Offered) && !r.status.is_closed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Zone;
    use crate::event::{Actor, Submission};
    use crate::ids::TrackingId;
    use crate::lifecycle::{Ctx, apply, submit};
    use crate::report::Channel;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        // Local WIB time, as UTC.
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap() - TimeDelta::hours(7)
    }

    /// A complaint filed at `filed`, then put at `stage` with deadline `due`.
    fn report(filed: DateTime<Utc>, status: Status, stage: Stage, due: DateTime<Utc>) -> Report {
        let cal = Calendar::embedded();
        let p = SlaPolicy::default();
        let sub = Submission {
            classification: Classification::Pengaduan,
            needs_investigation: false,
            category: None,
            title: "Jalan berlubang di depan sekolah".into(),
            body: "Lubang besar membahayakan pengendara setiap pagi.".into(),
            incident_date: None,
            region_code: None,
            latitude: None,
            longitude: None,
            anonymous: false,
            confidential: false,
            channel: Channel::Web,
            reporter_id: None,
            suggested_institution: None,
            policy: p.name.clone(),
            zone: Zone::Wib,
        };
        let ctx = Ctx {
            now: filed,
            actor: Actor::System,
            calendar: &cal,
            policy: &p,
        };
        let mut r = apply(None, &submit(TrackingId::from_random(3), sub, &ctx)).unwrap();
        r.status = status;
        r.stage = Some(stage);
        r.due_at = Some(due);
        r
    }

    #[test]
    fn follow_up_timers_remind_then_climb_the_ladder() {
        let cal = Calendar::embedded();
        let p = SlaPolicy::default();
        // Due Friday 27 Nov 2026, 23:59:59 WIB.
        let deadline = cal.due_at(at(2026, 11, 26, 10), 1, Zone::Wib);
        let r = report(at(2026, 11, 2, 9), Status::InProgress, Stage::FollowUp, deadline);
        let t = timers(&r, &p, &cal);
        // One working day before: 00:00 WIB on Thursday 26 Nov.
        assert_eq!(t.remind_at, Some(at(2026, 11, 26, 0)));
        assert_eq!(t.escalate_at, Some((deadline, 1)));
        assert_eq!(t.next(), t.remind_at);
        assert!(super::due(&r, &p, &cal, at(2026, 11, 25, 23)).is_empty());
        assert_eq!(
            super::due(&r, &p, &cal, at(2026, 11, 26, 8)),
            vec![Due::Remind {
                step: EscalationStep::Liaison
            }]
        );
        // Level 2 two working days after the deadline (Tue 1 Dec), level 3
        // two more (Thu 3 Dec), level 4 on Mon 7 Dec.
        let mut r = r;
        r.reminded_due = Some(deadline);
        let after = |days| cal.working_days_after(deadline, days, Zone::Wib);
        assert_eq!(after(2), at(2026, 12, 1, 23) + TimeDelta::seconds(3599));
        for (level, when, step) in [
            (1, deadline + TimeDelta::seconds(1), EscalationStep::Liaison),
            (2, after(2), EscalationStep::InstitutionAdmin),
            (3, after(4), EscalationStep::Supervisor),
            (4, after(6), EscalationStep::NationalAdmin),
        ] {
            assert_eq!(timers(&r, &p, &cal).escalate_at.map(|x| x.1), Some(level));
            assert_eq!(
                super::due(&r, &p, &cal, when),
                vec![Due::Escalate { level, step }],
                "level {level}"
            );
            r.escalation_level = level;
        }
        assert_eq!(timers(&r, &p, &cal).escalate_at, None, "the top of the ladder");
        // The Ombudsman timer is still there: 60 days after filing.
        assert_eq!(timers(&r, &p, &cal).next(), Some(r.submitted_at + TimeDelta::days(60)));
    }

    #[test]
    fn after_downtime_escalation_jumps_to_the_level_due() {
        let cal = Calendar::embedded();
        let p = SlaPolicy::default();
        let deadline = cal.due_at(at(2026, 11, 26, 10), 1, Zone::Wib);
        let r = report(at(2026, 11, 20, 9), Status::Dispositioned, Stage::Acceptance, deadline);
        let late = cal.working_days_after(deadline, 5, Zone::Wib);
        // Acceptance has three steps; five working days late is step 3.
        assert_eq!(
            super::due(&r, &p, &cal, late),
            vec![Due::Escalate {
                level: 3,
                step: EscalationStep::NationalAdmin
            }]
        );
    }

    #[test]
    fn paused_closed_and_reply_window_reports() {
        let cal = Calendar::embedded();
        let p = SlaPolicy::default();
        let deadline = cal.due_at(at(2026, 11, 26, 10), 1, Zone::Wib);
        let filed = at(2026, 11, 20, 9);
        let held = report(filed, Status::OnHold, Stage::FollowUp, deadline);
        let t = timers(&held, &p, &cal);
        assert_eq!((t.remind_at, t.escalate_at), (None, None), "on hold: the clock stops");
        assert_eq!(t.ombudsman_at, Some(filed + TimeDelta::days(60)));

        let done = report(filed, Status::Completed, Stage::ReopenWindow, deadline);
        assert_eq!(timers(&done, &p, &cal), Timers::default(), "closed: nothing to do");

        let replying = report(filed, Status::Responded, Stage::ReporterReply, deadline);
        let t = timers(&replying, &p, &cal);
        assert_eq!(t.auto_complete_at, Some(deadline));
        assert_eq!(
            (t.remind_at, t.escalate_at),
            (None, None),
            "the reporter is not escalated"
        );
        assert_eq!(
            super::due(&replying, &p, &cal, deadline + TimeDelta::seconds(1)),
            vec![Due::AutoComplete]
        );
        // Completing wins over an Ombudsman offer deadline at the same moment.
        let both = filed + TimeDelta::days(61);
        assert_eq!(super::due(&replying, &p, &cal, both), vec![Due::AutoComplete]);

        let verifying = report(filed, Status::Submitted, Stage::Verification, deadline);
        let t = timers(&verifying, &p, &cal);
        assert_eq!(t.remind_at, None, "the national queue is the reminder");
        assert_eq!(
            super::due(&verifying, &p, &cal, deadline + TimeDelta::seconds(1)),
            vec![Due::Escalate {
                level: 1,
                step: EscalationStep::NationalAdmin
            }]
        );
    }

    #[test]
    fn missed_reminders_give_way_to_escalation_and_offers_happen_once() {
        let cal = Calendar::embedded();
        let p = SlaPolicy::default();
        let deadline = cal.due_at(at(2026, 11, 26, 10), 1, Zone::Wib);
        let filed = at(2026, 9, 1, 9);
        let mut r = report(filed, Status::InProgress, Stage::FollowUp, deadline);
        // Woken only after the deadline: no stale reminder, straight to
        // escalation, and the Ombudsman offer that is also deadline.
        let now = deadline + TimeDelta::hours(1);
        assert_eq!(
            super::due(&r, &p, &cal, now),
            vec![
                Due::Escalate {
                    level: 1,
                    step: EscalationStep::Liaison
                },
                Due::OfferOmbudsman
            ]
        );
        r.escalation_level = 1;
        r.ombudsman = Some(Ombudsman::Offered);
        let t = timers(&r, &p, &cal);
        assert_eq!(t.remind_at, None);
        assert_eq!(t.ombudsman_at, None);
        assert!(ombudsman_open(&r));
        // No reminders at all when the policy says so.
        let quiet = SlaPolicy {
            remind_before_days: 0,
            ..SlaPolicy::default()
        };
        r.escalation_level = 0;
        assert_eq!(timers(&r, &quiet, &cal).remind_at, None);
    }

    #[test]
    fn defaults_match_permenpanrb_62_2018() {
        let p = SlaPolicy::default();
        assert_eq!(p.followup_days(Classification::Aspirasi, false), 5);
        assert_eq!(p.followup_days(Classification::PermintaanInformasi, false), 5);
        assert_eq!(p.followup_days(Classification::Pengaduan, false), 14);
        assert_eq!(p.followup_days(Classification::Pengaduan, true), 60);
        // Investigation only applies to complaints.
        assert_eq!(p.followup_days(Classification::Aspirasi, true), 5);
        assert_eq!(p.stage_days(Stage::Verification, Classification::Aspirasi, false), 3);
        assert_eq!(p.stage_days(Stage::ReporterReply, Classification::Aspirasi, false), 10);
    }

    #[test]
    fn policy_is_data() {
        let json = serde_json::to_string(&SlaPolicy::default()).unwrap();
        let mut p: SlaPolicy = serde_json::from_str(&json).unwrap();
        p.name = "permenpanrb-5-2025".into();
        p.followup_complaint_days = 10;
        assert_eq!(p.followup_days(Classification::Pengaduan, false), 10);
    }
}
