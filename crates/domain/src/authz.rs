//! Who may do what: one pure function of (principal, action, target).
//!
//! Staff rights come from memberships (a role in an institution) and depend
//! on where the institution sits relative to the report: the institution the
//! report is assigned to, a unit below it, or an ancestor of it.

use crate::ids::TrackingId;
use crate::institution::{Membership, Role};
use serde::Serialize;

/// Whoever is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Public,
    /// A citizen with an account.
    Reporter {
        reporter_id: String,
    },
    /// Someone who proved knowledge of a report's Tracking ID and PIN.
    PinHolder {
        tracking_id: TrackingId,
    },
    Staff {
        user_id: String,
        memberships: Vec<Membership>,
    },
    /// Background jobs (deadlines, auto-completion).
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ReadPublic,
    ReadAsReporter,
    ReadInternal,
    ReadReporterIdentity,
    Submit,
    SubmitOnBehalf,
    Disposition,
    Hold,
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
    ListReports,
    ManageInstitutions,
    ManageUsers,
    ReadAudit,
    ImportReferenceData,
    Edit,
    SetPrivacy,
    Redact,
    AddNote,
    RequestExtension,
    AssignLiaison,
    /// The deadline scheduler's own commands; only the system runs them.
    RunDeadlines,
    /// The reporter accepts the offer to take the report to the Ombudsman.
    EscalateToOmbudsman,
    /// Work the chat and social channels' handler inbox (turn messages into
    /// reports, dismiss them) and edit the channels' block list.
    HandleChannelInbox,
    /// Integration of a connected system: its API clients and keys, webhook
    /// subscriptions, the delivery log and replay; on the system, also an
    /// institution's integration mode.
    ManageIntegration,
    /// The monitoring dashboards, rankings and exports: of an institution's
    /// subtree, or on the system, national and across institutions.
    ReadDashboard,
}

impl Action {
    pub const ALL: [Action; 35] = [
        Action::ReadPublic,
        Action::ReadAsReporter,
        Action::ReadInternal,
        Action::ReadReporterIdentity,
        Action::Submit,
        Action::SubmitOnBehalf,
        Action::Disposition,
        Action::Hold,
        Action::Resume,
        Action::Accept,
        Action::DispositionToUnit,
        Action::Transfer,
        Action::FollowUp,
        Action::Reply,
        Action::Rate,
        Action::Complete,
        Action::Archive,
        Action::Merge,
        Action::Reopen,
        Action::ListReports,
        Action::ManageInstitutions,
        Action::ManageUsers,
        Action::ReadAudit,
        Action::ImportReferenceData,
        Action::Edit,
        Action::SetPrivacy,
        Action::Redact,
        Action::AddNote,
        Action::RequestExtension,
        Action::AssignLiaison,
        Action::RunDeadlines,
        Action::EscalateToOmbudsman,
        Action::HandleChannelInbox,
        Action::ManageIntegration,
        Action::ReadDashboard,
    ];
}

/// The facts about a report that rights depend on.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportScope<'a> {
    pub tracking_id: &'a TrackingId,
    pub reporter_id: Option<&'a str>,
    pub anonymous: bool,
    pub is_public: bool,
    /// Institution codes from the root down to the assigned institution
    /// (inclusive); empty while the report is not yet dispositioned.
    pub institution_path: &'a [String],
    /// Codes from the root down to the assigned unit (inclusive); empty when
    /// the report is not with a unit.
    pub unit_path: &'a [String],
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target<'a> {
    Report(ReportScope<'a>),
    /// An institution, by its path from the root (inclusive).
    Institution(&'a [String]),
    /// The system as a whole (reference data, the national queue).
    System,
}

/// How a membership relates to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    /// The membership's institution is the one the report is assigned to.
    Assigned,
    /// It is the unit handling the report, or a unit above that unit.
    HandlingUnit,
    /// It is an ancestor of the assigned institution.
    Above,
    Unrelated,
}

fn relation(m: &Membership, s: &ReportScope<'_>) -> Relation {
    if s.institution_path.last() == Some(&m.institution) {
        Relation::Assigned
    } else if s.unit_path.contains(&m.institution) && !s.institution_path.contains(&m.institution) {
        Relation::HandlingUnit
    } else if s.institution_path.contains(&m.institution) {
        Relation::Above
    } else {
        Relation::Unrelated
    }
}

fn staff_may_on_report(m: &Membership, action: Action, s: &ReportScope<'_>) -> bool {
    use Action::*;
    use Relation::*;
    let rel = relation(m, s);
    match m.role {
        Role::NationalAdmin => matches!(
            action,
            ReadInternal
                | ReadReporterIdentity
                | SubmitOnBehalf
                | Disposition
                | Hold
                | Resume
                | Transfer
                | Complete
                | Archive
                | Merge
                | Reopen
                | Edit
                | SetPrivacy
                | Redact
                | AddNote
        ),
        // Institutions may add privacy (never lift it) but not rewrite the
        // reporter's words; that is the verifier's job.
        Role::InstitutionAdmin => match action {
            ReadInternal => rel != Unrelated,
            ReadReporterIdentity => !s.anonymous && rel == Assigned,
            SubmitOnBehalf => true,
            Accept | DispositionToUnit | Transfer | Hold | Resume | Complete | FollowUp | SetPrivacy | Redact
            | AddNote | RequestExtension | AssignLiaison => rel == Assigned,
            _ => false,
        },
        Role::UnitAdmin => match action {
            ReadInternal | DispositionToUnit | FollowUp | AddNote | RequestExtension | AssignLiaison => {
                rel == HandlingUnit
            }
            ReadReporterIdentity => !s.anonymous && rel == HandlingUnit,
            SubmitOnBehalf => true,
            _ => false,
        },
        Role::Liaison => match action {
            ReadInternal | FollowUp | AddNote => matches!(rel, Assigned | HandlingUnit),
            ReadReporterIdentity => !s.anonymous && matches!(rel, Assigned | HandlingUnit),
            _ => false,
        },
        Role::Supervisor => match action {
            ReadInternal => matches!(rel, Assigned | Above),
            _ => false,
        },
        Role::Oversight | Role::Auditor => action == ReadInternal,
    }
}

fn staff_may_on_institution(m: &Membership, action: Action, path: &[String]) -> bool {
    use Action::*;
    let within = path.contains(&m.institution);
    match m.role {
        Role::NationalAdmin => matches!(
            action,
            ListReports | ManageInstitutions | ManageUsers | ReadAudit | ManageIntegration | ReadDashboard
        ),
        Role::InstitutionAdmin => {
            matches!(
                action,
                ListReports | ManageUsers | ManageInstitutions | ManageIntegration | ReadDashboard
            ) && within
        }
        Role::UnitAdmin | Role::Liaison | Role::Supervisor => matches!(action, ListReports | ReadDashboard) && within,
        Role::Oversight => matches!(action, ListReports | ReadDashboard),
        Role::Auditor => matches!(action, ListReports | ReadAudit | ReadDashboard),
    }
}

fn staff_may_on_system(m: &Membership, action: Action) -> bool {
    use Action::*;
    match m.role {
        Role::NationalAdmin => matches!(
            action,
            ListReports
                | ManageInstitutions
                | ManageUsers
                | ReadAudit
                | ImportReferenceData
                | SubmitOnBehalf
                | HandleChannelInbox
                | ManageIntegration
                | ReadDashboard
        ),
        Role::Oversight => matches!(action, ListReports | ReadDashboard),
        Role::Auditor => matches!(action, ListReports | ReadAudit | ReadDashboard),
        Role::InstitutionAdmin | Role::UnitAdmin => action == SubmitOnBehalf,
        _ => false,
    }
}

/// The reporter's own rights over their report.
fn owner_may(action: Action) -> bool {
    use Action::*;
    matches!(
        action,
        ReadAsReporter | ReadReporterIdentity | Resume | Reply | Rate | Complete | Reopen | EscalateToOmbudsman
    )
}

/// The single authorization rule of Lapor.
pub fn authorize(principal: &Principal, action: Action, target: &Target<'_>) -> bool {
    if principal == &Principal::System {
        return true;
    }
    if action == Action::Submit {
        // Anyone may file a report, with or without an account.
        return true;
    }
    match target {
        Target::Report(s) => {
            // The public view exists exactly when the report is public,
            // whoever asks; every other read needs a right of its own.
            if action == Action::ReadPublic {
                return s.is_public;
            }
            match principal {
                Principal::Public | Principal::System => false,
                Principal::Reporter { reporter_id } => s.reporter_id == Some(reporter_id.as_str()) && owner_may(action),
                Principal::PinHolder { tracking_id } => tracking_id == s.tracking_id && owner_may(action),
                Principal::Staff { memberships, .. } => memberships.iter().any(|m| staff_may_on_report(m, action, s)),
            }
        }
        Target::Institution(path) => match principal {
            Principal::Staff { memberships, .. } => {
                memberships.iter().any(|m| staff_may_on_institution(m, action, path))
            }
            _ => false,
        },
        Target::System => match principal {
            Principal::Staff { memberships, .. } => memberships.iter().any(|m| staff_may_on_system(m, action)),
            _ => false,
        },
    }
}

/// Reading an anonymous reporter's identity is allowed only to the national
/// admin, and every such read must be written to the audit log.
pub fn identity_read_is_audited(principal: &Principal, s: &ReportScope<'_>) -> bool {
    s.anonymous && matches!(principal, Principal::Staff { .. })
}
