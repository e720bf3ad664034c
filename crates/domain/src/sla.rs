//! Deadline policy as data. The defaults follow PermenPANRB 62/2018 and the
//! published LAPOR! flow; a deployment may load another rule set (for example
//! PermenPANRB 5/2025) and each report keeps the rule set it was filed under.

use crate::report::{Classification, Stage};
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
}

fn default_extension_days() -> u32 {
    30
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
