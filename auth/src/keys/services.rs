//! The services a personal key may be limited to, and what a personal key allows (R-KEY-1).
//!
//! A personal key's effective permissions are the intersection of its services and its owner's
//! *current* roles, evaluated on every request: a role change takes effect on the next request.

use crate::actions::{ArtifactAction, PeopleAction};
use crate::capability::{any_allows_artifact, any_allows_people};
use crate::error::AuthError;
use crate::roles::Role;
use crate::wire::wire_enum;

wire_enum! {
    /// A service a personal key may be limited to (guide §2.3.1, "Services Included").
    ///
    /// Legacy keys are not limited: the caller evaluates them with every service
    /// ([`KeyService::ALL`]). Service keys are limited by scopes instead
    /// ([`crate::ServiceKeyScope`]).
    pub enum KeyService ("key service") {
        /// The private registry: every artifact action, within the owner's roles.
        PrivateRegistry = "PRIVATE_REGISTRY" | "REGISTRY",
        /// Users, teams, roles and keys: every people action, within the owner's roles.
        UserManagement = "USER_MANAGEMENT",
    }
}

impl KeyService {
    /// The human name shown in the key dialog.
    pub const fn display_name(self) -> &'static str {
        match self {
            KeyService::PrivateRegistry => "Private Registry",
            KeyService::UserManagement => "User Management",
        }
    }
}

/// The services a user holding `roles` may put on a personal key (R-KEY-1).
///
/// * PRIVATE_REGISTRY when some role allows some artifact action.
/// * USER_MANAGEMENT when some role allows a people action other than
///   [`PeopleAction::ViewOrgDetails`]: every member may view the org's details, and that alone is
///   not worth a service (see [`personal_key_allows_people`]). So ORG_OWNER, REGISTRY_ADMIN
///   (view users) and USER_ADMIN get it; REGISTRY_USER, REGISTRY_READ and USER_READ do not.
pub fn services_available_to(roles: &[Role]) -> Vec<KeyService> {
    let registry = ArtifactAction::ALL
        .iter()
        .any(|a| any_allows_artifact(roles, *a));
    let users = PeopleAction::ALL
        .iter()
        .filter(|p| **p != PeopleAction::ViewOrgDetails)
        .any(|p| any_allows_people(roles, *p));
    let mut services = Vec::with_capacity(2);
    if registry {
        services.push(KeyService::PrivateRegistry);
    }
    if users {
        services.push(KeyService::UserManagement);
    }
    services
}

/// Checks the services requested for a new or updated personal key against the owner's roles.
///
/// Errors: [`AuthError::NoKeyService`] when none is requested;
/// [`AuthError::ServiceNotAvailable`] for the first service the owner has no role for.
pub fn check_key_services(requested: &[KeyService], roles: &[Role]) -> Result<(), AuthError> {
    if requested.is_empty() {
        return Err(AuthError::NoKeyService);
    }
    let available = services_available_to(roles);
    match requested.iter().find(|s| !available.contains(s)) {
        Some(service) => Err(AuthError::ServiceNotAvailable { service: *service }),
        None => Ok(()),
    }
}

/// Whether a personal key with `services`, owned by a user whose current roles in the context
/// are `roles`, allows `action` on artifacts.
pub fn personal_key_allows_artifact(
    services: &[KeyService],
    roles: &[Role],
    action: ArtifactAction,
) -> bool {
    services.contains(&KeyService::PrivateRegistry) && any_allows_artifact(roles, action)
}

/// Whether a personal key with `services`, owned by a user whose current roles in the context
/// are `roles`, allows `action` on people, teams and keys.
///
/// [`PeopleAction::ViewOrgDetails`] needs no particular service (any key with at least one
/// service): every client reads the org it works in (`ngc config set` lists orgs and teams).
/// Every other people action needs USER_MANAGEMENT.
pub fn personal_key_allows_people(
    services: &[KeyService],
    roles: &[Role],
    action: PeopleAction,
) -> bool {
    let service_ok = if action == PeopleAction::ViewOrgDetails {
        !services.is_empty()
    } else {
        services.contains(&KeyService::UserManagement)
    };
    service_ok && any_allows_people(roles, action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::tests::{any_artifact_action, any_people_action};
    use crate::roles::tests::any_role;
    use proptest::prelude::*;
    use KeyService::*;
    use Role::*;

    #[test]
    fn services_per_role() {
        let expected: &[(Role, &[KeyService])] = &[
            (OrgOwner, &[PrivateRegistry, UserManagement]),
            (RegistryAdmin, &[PrivateRegistry, UserManagement]),
            (RegistryUser, &[PrivateRegistry]),
            (RegistryRead, &[PrivateRegistry]),
            (UserAdmin, &[PrivateRegistry, UserManagement]),
            (UserRead, &[]),
        ];
        for (role, services) in expected {
            assert_eq!(services_available_to(&[*role]), *services, "{role}");
        }
        assert_eq!(services_available_to(&[]), []);
        assert_eq!(
            "private-registry".parse::<KeyService>().unwrap(),
            PrivateRegistry
        );
        assert_eq!(UserManagement.display_name(), "User Management");
    }

    // R-KEY-1
    #[test]
    fn requested_services_are_checked() {
        assert_eq!(
            check_key_services(&[], &[OrgOwner]),
            Err(AuthError::NoKeyService)
        );
        assert_eq!(
            check_key_services(&[PrivateRegistry, UserManagement], &[RegistryUser]),
            Err(AuthError::ServiceNotAvailable {
                service: UserManagement
            })
        );
        assert_eq!(
            check_key_services(&[PrivateRegistry], &[RegistryUser]),
            Ok(())
        );
    }

    // R-KEY-1: intersection of services and current roles.
    #[test]
    fn personal_key_is_the_intersection() {
        assert!(personal_key_allows_artifact(
            &[PrivateRegistry],
            &[RegistryUser],
            ArtifactAction::Upload
        ));
        assert!(!personal_key_allows_artifact(
            &[UserManagement],
            &[RegistryUser],
            ArtifactAction::List
        ));
        // After a role change to REGISTRY_READ the same key no longer uploads.
        assert!(!personal_key_allows_artifact(
            &[PrivateRegistry],
            &[RegistryRead],
            ArtifactAction::Upload
        ));
        assert!(personal_key_allows_people(
            &[PrivateRegistry],
            &[RegistryRead],
            PeopleAction::ViewOrgDetails
        ));
        assert!(!personal_key_allows_people(
            &[PrivateRegistry],
            &[UserAdmin],
            PeopleAction::AddUsers
        ));
        assert!(personal_key_allows_people(
            &[UserManagement],
            &[UserAdmin],
            PeopleAction::AddUsers
        ));
        assert!(!personal_key_allows_people(
            &[],
            &[OrgOwner],
            PeopleAction::ViewOrgDetails
        ));
    }

    proptest! {
        #[test]
        fn a_key_never_exceeds_its_owner(
            roles in proptest::collection::vec(any_role(), 0..4),
            a in any_artifact_action(),
            p in any_people_action(),
        ) {
            if personal_key_allows_artifact(KeyService::ALL, &roles, a) {
                prop_assert!(any_allows_artifact(&roles, a));
            }
            if personal_key_allows_people(KeyService::ALL, &roles, p) {
                prop_assert!(any_allows_people(&roles, p));
            }
        }

        #[test]
        fn available_services_are_accepted(roles in proptest::collection::vec(any_role(), 0..4)) {
            let available = services_available_to(&roles);
            if available.is_empty() {
                prop_assert!(check_key_services(KeyService::ALL, &roles).is_err());
            } else {
                prop_assert_eq!(check_key_services(&available, &roles), Ok(()));
            }
        }
    }
}
