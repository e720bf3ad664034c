//! The institution tree: national operator → ministry / agency / province →
//! regency / city → unit kerja, and the roles staff hold in it.

use crate::calendar::Zone;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionKind {
    NationalOperator,
    Ministry,
    Agency,
    Province,
    Regency,
    City,
    StateEnterprise,
    Unit,
}

impl InstitutionKind {
    pub const ALL: [InstitutionKind; 8] = [
        InstitutionKind::NationalOperator,
        InstitutionKind::Ministry,
        InstitutionKind::Agency,
        InstitutionKind::Province,
        InstitutionKind::Regency,
        InstitutionKind::City,
        InstitutionKind::StateEnterprise,
        InstitutionKind::Unit,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            InstitutionKind::NationalOperator => "national_operator",
            InstitutionKind::Ministry => "ministry",
            InstitutionKind::Agency => "agency",
            InstitutionKind::Province => "province",
            InstitutionKind::Regency => "regency",
            InstitutionKind::City => "city",
            InstitutionKind::StateEnterprise => "state_enterprise",
            InstitutionKind::Unit => "unit",
        }
    }
    pub fn parse(s: &str) -> Option<InstitutionKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Which kinds may sit directly under a parent of this kind.
    pub fn may_parent(self, child: InstitutionKind) -> bool {
        use InstitutionKind::*;
        match self {
            NationalOperator => !matches!(child, NationalOperator),
            Province => matches!(child, Regency | City | Unit),
            Ministry | Agency | Regency | City | StateEnterprise | Unit => child == Unit,
        }
    }
}

/// Codes of regional governments are derived from Kemendagri region codes so
/// that they are stable across instances (useful when instances federate).
pub fn regional_government_code(region_code: &str, kind: InstitutionKind) -> String {
    match kind {
        InstitutionKind::Province => format!("pemprov-{region_code}"),
        InstitutionKind::City => format!("pemkot-{region_code}"),
        _ => format!("pemkab-{region_code}"),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Institution {
    pub code: String,
    pub name: String,
    pub kind: InstitutionKind,
    pub parent: Option<String>,
    pub region_code: Option<String>,
    pub zone: Zone,
}

/// Validates an institution code: lowercase ASCII letters, digits, '-' and '.'.
pub fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    NationalAdmin,
    InstitutionAdmin,
    UnitAdmin,
    Liaison,
    Supervisor,
    Oversight,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::NationalAdmin,
        Role::InstitutionAdmin,
        Role::UnitAdmin,
        Role::Liaison,
        Role::Supervisor,
        Role::Oversight,
        Role::Auditor,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::NationalAdmin => "national_admin",
            Role::InstitutionAdmin => "institution_admin",
            Role::UnitAdmin => "unit_admin",
            Role::Liaison => "liaison",
            Role::Supervisor => "supervisor",
            Role::Oversight => "oversight",
            Role::Auditor => "auditor",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A user's role in one institution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Membership {
    pub role: Role,
    pub institution: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_roles_roundtrip() {
        for k in InstitutionKind::ALL {
            assert_eq!(InstitutionKind::parse(k.as_str()), Some(k));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn tree_shape_rules() {
        use InstitutionKind::*;
        assert!(NationalOperator.may_parent(Ministry));
        assert!(Province.may_parent(City));
        assert!(!City.may_parent(Province));
        assert!(Ministry.may_parent(Unit));
        assert!(!Unit.may_parent(Ministry));
    }

    #[test]
    fn codes() {
        assert_eq!(regional_government_code("32.73", City), "pemkot-32.73");
        assert_eq!(regional_government_code("32", Province), "pemprov-32");
        assert!(valid_code("pemkot-32.73"));
        assert!(!valid_code("Pemkot 32"));
        assert!(!valid_code(""));
    }
    use InstitutionKind::*;
}
