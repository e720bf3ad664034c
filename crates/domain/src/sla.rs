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
