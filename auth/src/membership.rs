//! Who is a member, who may grant which role, and where (R-TEN-3, R-TEN-4, R-TEN-5).
//!
//! The granter's roles passed in are those effective in the context of the change: the org-level
//! roles for an org-level change; the org-level plus that team's roles for a team-level change.
//! Whether a team-level USER_ADMIN may act on another team, or whether a USER_ADMIN may create
//! teams (org level only), is decided by the caller from that context.

use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::roles::{holds_role, join_roles, Role};

/// At most this many ORG_OWNERs per org at any moment (R-TEN-4).
pub const MAX_ORG_OWNERS: usize = 2;

/// Where a role is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GrantLevel {
    /// On the org: applies to the org and every team in it.
    Org,
    /// On one team.
    Team,
}

impl Role {
    /// Whether this role may be granted at `level`. ORG_OWNER is org level only; every other
    /// role may be granted on the org or on a team.
    pub const fn grantable_at(self, level: GrantLevel) -> bool {
        !matches!((self, level), (Role::OrgOwner, GrantLevel::Team))
    }
}

/// Whether a user holding `roles` (in one org or team) qualifies as a member (R-TEN-5).
///
/// A member holds REGISTRY_READ, REGISTRY_USER and/or USER_ADMIN, directly or through a role
/// that implies one of them; so ORG_OWNER and REGISTRY_ADMIN qualify, USER_READ alone does not.
pub fn qualifies_for_membership(roles: &[Role]) -> bool {
    [Role::RegistryRead, Role::RegistryUser, Role::UserAdmin]
        .iter()
        .any(|needed| holds_role(roles, *needed))
}

/// Whether a user holding `granter` may grant (or remove) `role` (R-TEN-5).
///
/// An ORG_OWNER grants any role. A USER_ADMIN grants only roles it holds, implied roles
/// included (a USER_ADMIN who is also REGISTRY_ADMIN may grant REGISTRY_READ), and never
/// ORG_OWNER. Nobody else grants anything.
pub fn can_grant(granter: &[Role], role: Role) -> bool {
    if granter.contains(&Role::OrgOwner) {
        return true;
    }
    role != Role::OrgOwner && holds_role(granter, Role::UserAdmin) && holds_role(granter, role)
}

/// Checks that a user holding `granter` may give someone exactly the roles `requested`.
///
/// Errors, in this order: [`AuthError::EmptyRoleList`] (R-TEN-3: a member always has a role);
/// [`AuthError::DoesNotQualifyForMembership`] (R-TEN-5); [`AuthError::CannotGrant`] for the
/// first role the granter may not grant.
pub fn check_role_assignment(granter: &[Role], requested: &[Role]) -> Result<(), AuthError> {
    if requested.is_empty() {
        return Err(AuthError::EmptyRoleList);
    }
    if !qualifies_for_membership(requested) {
        return Err(AuthError::DoesNotQualifyForMembership {
            roles: join_roles(requested),
        });
    }
    match requested.iter().find(|r| !can_grant(granter, **r)) {
        Some(role) => Err(AuthError::CannotGrant { role: *role }),
        None => Ok(()),
    }
}

/// [`check_role_assignment`] for a grant at `level`; also rejects org-level-only roles on a team
/// ([`AuthError::NotGrantableAtTeamLevel`], checked first).
pub fn check_role_assignment_at(
    level: GrantLevel,
    granter: &[Role],
    requested: &[Role],
) -> Result<(), AuthError> {
    if let Some(role) = requested.iter().find(|r| !r.grantable_at(level)) {
        return Err(AuthError::NotGrantableAtTeamLevel { role: *role });
    }
    check_role_assignment(granter, requested)
}

/// Checks that one more ORG_OWNER may be added to an org that has `current_owners` (R-TEN-4).
pub fn check_org_owner_limit(current_owners: usize) -> Result<(), AuthError> {
    if current_owners >= MAX_ORG_OWNERS {
        Err(AuthError::TooManyOrgOwners {
            max: MAX_ORG_OWNERS,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::tests::any_role;
    use proptest::prelude::*;
    use Role::*;

    fn any_roles() -> impl Strategy<Value = Vec<Role>> {
        proptest::collection::vec(any_role(), 0..5)
    }

    // R-TEN-5
    #[test]
    fn membership_qualification() {
        assert!(qualifies_for_membership(&[OrgOwner]));
        assert!(qualifies_for_membership(&[RegistryAdmin]));
        assert!(qualifies_for_membership(&[RegistryUser]));
        assert!(qualifies_for_membership(&[RegistryRead]));
        assert!(qualifies_for_membership(&[UserAdmin]));
        assert!(!qualifies_for_membership(&[UserRead]));
        assert!(!qualifies_for_membership(&[]));
        assert!(qualifies_for_membership(&[UserRead, RegistryRead]));
    }

    // R-TEN-5
    #[test]
    fn grants_by_each_kind_of_granter() {
        for r in Role::ALL {
            assert!(can_grant(&[OrgOwner], *r));
            assert!(!can_grant(&[RegistryAdmin], *r));
            assert!(!can_grant(&[UserRead], *r));
            assert!(!can_grant(&[], *r));
        }
        assert!(can_grant(&[UserAdmin], UserAdmin));
        assert!(can_grant(&[UserAdmin], UserRead));
        assert!(!can_grant(&[UserAdmin], RegistryRead));
        assert!(can_grant(&[UserAdmin, RegistryAdmin], RegistryRead));
        assert!(can_grant(&[UserAdmin, RegistryAdmin], RegistryAdmin));
        assert!(!can_grant(&[UserAdmin, RegistryUser], RegistryAdmin));
        assert!(!can_grant(&[UserAdmin, RegistryAdmin], OrgOwner));
    }

    #[test]
    fn role_assignment_errors_are_precise() {
        assert_eq!(
            check_role_assignment(&[OrgOwner], &[]),
            Err(AuthError::EmptyRoleList)
        );
        let err = check_role_assignment(&[OrgOwner], &[UserRead]).unwrap_err();
        assert!(matches!(err, AuthError::DoesNotQualifyForMembership { .. }));
        assert!(err.to_string().contains("USER_READ"), "{err}");
        assert_eq!(
            check_role_assignment(&[UserAdmin], &[UserAdmin, RegistryRead]),
            Err(AuthError::CannotGrant { role: RegistryRead })
        );
        assert_eq!(
            check_role_assignment(&[UserAdmin, RegistryUser], &[RegistryRead]),
            Ok(())
        );
        assert_eq!(check_role_assignment(&[OrgOwner], &[OrgOwner]), Ok(()));
    }

    #[test]
    fn org_owner_is_org_level_only() {
        assert!(OrgOwner.grantable_at(GrantLevel::Org));
        assert!(!OrgOwner.grantable_at(GrantLevel::Team));
        for r in Role::ALL.iter().filter(|r| **r != OrgOwner) {
            assert!(r.grantable_at(GrantLevel::Team));
        }
        assert_eq!(
            check_role_assignment_at(GrantLevel::Team, &[OrgOwner], &[RegistryRead, OrgOwner]),
            Err(AuthError::NotGrantableAtTeamLevel { role: OrgOwner })
        );
        assert_eq!(
            check_role_assignment_at(GrantLevel::Org, &[OrgOwner], &[OrgOwner]),
            Ok(())
        );
    }

    // R-TEN-4
    #[test]
    fn at_most_two_owners() {
        assert_eq!(check_org_owner_limit(0), Ok(()));
        assert_eq!(check_org_owner_limit(1), Ok(()));
        assert_eq!(
            check_org_owner_limit(2),
            Err(AuthError::TooManyOrgOwners { max: 2 })
        );
        assert!(check_org_owner_limit(usize::MAX).is_err());
    }

    proptest! {
        // R-TEN-5
        #[test]
        fn only_owners_grant_owner(granter in any_roles()) {
            if !granter.contains(&OrgOwner) {
                prop_assert!(!can_grant(&granter, OrgOwner));
            }
        }

        // R-TEN-5
        #[test]
        fn user_admin_grants_only_roles_it_holds(
            granter in any_roles().prop_map(|mut g| { g.push(UserAdmin); g }),
            role in any_role(),
        ) {
            if !granter.contains(&OrgOwner) && can_grant(&granter, role) {
                prop_assert!(holds_role(&granter, role), "{:?} granted {}", granter, role);
            }
        }

        #[test]
        fn non_admins_grant_nothing(granter in any_roles(), role in any_role()) {
            if !holds_role(&granter, UserAdmin) {
                prop_assert!(!can_grant(&granter, role));
            }
        }

        #[test]
        fn accepted_assignments_qualify(granter in any_roles(), requested in any_roles()) {
            if check_role_assignment(&granter, &requested).is_ok() {
                prop_assert!(qualifies_for_membership(&requested));
                prop_assert!(requested.iter().all(|r| can_grant(&granter, *r)));
            }
        }
    }
}
