//! Every role × every action, against one report seen from each position in
//! the tree. The expected table is written out by hand: a change to the rules
//! must change this table too.
//!
//! The tree: lapor → pemprov-32 → pemkot-32.73 → pemkot-32.73-dishub (unit),
//! and an unrelated kemenkes. The report is assigned to pemkot-32.73 and is
//! with the unit pemkot-32.73-dishub.

use lapor_domain::authz::{Action, Principal, ReportScope, Target, authorize};
use lapor_domain::ids::TrackingId;
use lapor_domain::institution::{Membership, Role};

fn path(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

fn staff(role: Role, inst: &str) -> Principal {
    Principal::Staff {
        user_id: "u".into(),
        memberships: vec![Membership {
            role,
            institution: inst.into(),
        }],
    }
}

const A: [Action; 35] = Action::ALL;

/// One row per (principal, where): the actions allowed, by letter code, on a
/// non-anonymous, public report. Codes (in `Action::ALL` order):
/// P ReadPublic, R ReadAsReporter, I ReadInternal, D ReadReporterIdentity,
/// S Submit, B SubmitOnBehalf, V Disposition, H Hold, U Resume, A Accept,
/// N DispositionToUnit, T Transfer, F FollowUp, Y Reply, G Rate, C Complete,
/// X Archive, M Merge, O Reopen, L ListReports, Q ManageInstitutions,
/// W ManageUsers, Z ReadAudit, K ImportReferenceData, e Edit, p SetPrivacy,
/// r Redact, n AddNote, x RequestExtension, l AssignLiaison, d RunDeadlines,
/// o EscalateToOmbudsman, h HandleChannelInbox, g ManageIntegration,
/// s ReadDashboard.
const CODES: &str = "PRIDSBVHUANTFYGCXMOLQWZKeprnxldohgs";

fn allowed_set(p: &Principal, scope: &ReportScope<'_>) -> String {
    let t = Target::Report(scope.clone());
    A.iter()
        .zip(CODES.chars())
        .filter(|(a, _)| authorize(p, **a, &t))
        .map(|(_, c)| c)
        .collect()
}

#[test]
fn every_role_against_every_report_action() {
    let tid = TrackingId::from_random(7);
    let inst = path(&["lapor", "pemprov-32", "pemkot-32.73"]);
    let unit = path(&["lapor", "pemprov-32", "pemkot-32.73", "pemkot-32.73-dishub"]);
    let scope = ReportScope {
        tracking_id: &tid,
        reporter_id: Some("rep-1"),
        anonymous: false,
        is_public: true,
        institution_path: &inst,
        unit_path: &unit,
    };
    let anon_private = ReportScope {
        anonymous: true,
        is_public: false,
        ..scope.clone()
    };
    #[rustfmt::skip]
    let table: Vec<(&str, Principal, &str, &str)> = vec![
        // (who, principal, allowed on public named report, allowed on anonymous confidential report)
        ("public", Principal::Public, "PS", "S"),
        ("owner (account)", Principal::Reporter { reporter_id: "rep-1".into() }, "PRDSUYGCOo", "RDSUYGCOo"),
        ("other citizen", Principal::Reporter { reporter_id: "rep-2".into() }, "PS", "S"),
        ("PIN holder", Principal::PinHolder { tracking_id: tid.clone() }, "PRDSUYGCOo", "RDSUYGCOo"),
        ("PIN of another report", Principal::PinHolder { tracking_id: TrackingId::from_random(8) }, "PS", "S"),
        ("national admin", staff(Role::NationalAdmin, "lapor"), "PIDSBVHUTCXMOeprn", "IDSBVHUTCXMOeprn"),
        ("institution admin, assigned", staff(Role::InstitutionAdmin, "pemkot-32.73"), "PIDSBHUANTFCprnxl", "ISBHUANTFCprnxl"),
        ("institution admin, province above", staff(Role::InstitutionAdmin, "pemprov-32"), "PISB", "ISB"),
        ("institution admin, unrelated", staff(Role::InstitutionAdmin, "kemenkes"), "PSB", "SB"),
        ("unit admin, handling unit", staff(Role::UnitAdmin, "pemkot-32.73-dishub"), "PIDSBNFnxl", "ISBNFnxl"),
        ("unit admin, unrelated", staff(Role::UnitAdmin, "kemenkes"), "PSB", "SB"),
        ("liaison, assigned", staff(Role::Liaison, "pemkot-32.73"), "PIDSFn", "ISFn"),
        ("liaison, handling unit", staff(Role::Liaison, "pemkot-32.73-dishub"), "PIDSFn", "ISFn"),
        ("liaison, unrelated", staff(Role::Liaison, "kemenkes"), "PS", "S"),
        ("supervisor, province above", staff(Role::Supervisor, "pemprov-32"), "PIS", "IS"),
        ("supervisor, assigned", staff(Role::Supervisor, "pemkot-32.73"), "PIS", "IS"),
        ("supervisor, unrelated", staff(Role::Supervisor, "kemenkes"), "PS", "S"),
        ("oversight", staff(Role::Oversight, "lapor"), "PIS", "IS"),
        ("auditor", staff(Role::Auditor, "lapor"), "PIS", "IS"),
        ("system", Principal::System, CODES, CODES),
    ];
    let mut failures = Vec::new();
    for (who, p, named, anon) in &table {
        let got = allowed_set(p, &scope);
        if &got != named {
            failures.push(format!("{who} on named public report: expected {named}, got {got}"));
        }
        let got = allowed_set(p, &anon_private);
        if &got != anon {
            failures.push(format!(
                "{who} on anonymous confidential report: expected {anon}, got {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn no_institution_side_role_ever_reads_an_anonymous_identity() {
    let tid = TrackingId::from_random(9);
    let inst = path(&["lapor", "pemprov-32", "pemkot-32.73"]);
    let unit = path(&["lapor", "pemprov-32", "pemkot-32.73", "pemkot-32.73-dishub"]);
    let scope = ReportScope {
        tracking_id: &tid,
        reporter_id: Some("rep-1"),
        anonymous: true,
        is_public: true,
        institution_path: &inst,
        unit_path: &unit,
    };
    let t = Target::Report(scope);
    for role in Role::ALL {
        for at in ["lapor", "pemprov-32", "pemkot-32.73", "pemkot-32.73-dishub", "kemenkes"] {
            let allowed = authorize(&staff(role, at), Action::ReadReporterIdentity, &t);
            assert_eq!(allowed, role == Role::NationalAdmin, "{role:?} at {at}");
        }
    }
}

#[test]
fn institution_and_system_targets() {
    let bandung = path(&["lapor", "pemprov-32", "pemkot-32.73"]);
    let t = Target::Institution(&bandung);
    let codes = "LQWZGS";
    let acts = [
        Action::ListReports,
        Action::ManageInstitutions,
        Action::ManageUsers,
        Action::ReadAudit,
        Action::ManageIntegration,
        Action::ReadDashboard,
    ];
    let set = |p: &Principal, t: &Target<'_>| -> String {
        acts.iter()
            .zip(codes.chars())
            .filter(|(a, _)| authorize(p, **a, t))
            .map(|(_, c)| c)
            .collect()
    };
    #[rustfmt::skip]
    let rows: Vec<(Principal, &str, &str)> = vec![
        (staff(Role::NationalAdmin, "lapor"), "LQWZGS", "LQWZGS"),
        (staff(Role::InstitutionAdmin, "pemkot-32.73"), "LQWGS", ""),
        (staff(Role::InstitutionAdmin, "pemprov-32"), "LQWGS", ""),
        (staff(Role::InstitutionAdmin, "kemenkes"), "", ""),
        (staff(Role::InstitutionAdmin, "pemkot-32.71"), "", ""),
        (staff(Role::UnitAdmin, "pemkot-32.73"), "LS", ""),
        (staff(Role::Liaison, "pemkot-32.73"), "LS", ""),
        (staff(Role::Supervisor, "pemprov-32"), "LS", ""),
        (staff(Role::Supervisor, "kemenkes"), "", ""),
        (staff(Role::Oversight, "lapor"), "LS", "LS"),
        (staff(Role::Auditor, "lapor"), "LZS", "LZS"),
        (Principal::Public, "", ""),
        (Principal::Reporter { reporter_id: "r".into() }, "", ""),
    ];
    for (p, on_inst, on_system) in rows {
        assert_eq!(set(&p, &t), on_inst, "{p:?} on institution");
        assert_eq!(set(&p, &Target::System), on_system, "{p:?} on system");
    }
    // Only the national admin loads reference data and works the channels'
    // handler inbox and block list; no citizen or PIN ever does.
    for action in [Action::ImportReferenceData, Action::HandleChannelInbox] {
        for role in Role::ALL {
            assert_eq!(
                authorize(&staff(role, "lapor"), action, &Target::System),
                role == Role::NationalAdmin,
                "{role:?} {action:?}"
            );
        }
        for p in [
            Principal::Public,
            Principal::Reporter {
                reporter_id: "r".into(),
            },
        ] {
            assert!(!authorize(&p, action, &Target::System));
        }
    }
}
