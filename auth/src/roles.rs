//! The six roles of an org or team (R-TEN-4) and how they imply one another.

use crate::wire::wire_enum;

wire_enum! {
    /// A role granted to a user at org level or team level (R-TEN-4).
    ///
    /// The wire names are NGC's (`ORG_OWNER`, `REGISTRY_ADMIN`, …). Parsing (`FromStr`, serde)
    /// is case-insensitive, reads `-` and spaces as `_` (so the guide's labels such as
    /// "Registry Admin" parse) and also accepts the legacy NGC CLI role names listed in
    /// [`LEGACY_ROLE_NAMES`].
    pub enum Role ("role") {
        /// Owner of the org: every artifact action and every people action. At most
        /// [`crate::MAX_ORG_OWNERS`] per org; org level only.
        OrgOwner = "ORG_OWNER",
        /// Every artifact action including delete; may view users.
        RegistryAdmin = "REGISTRY_ADMIN" | "REGISTRY_WRITE_ADMIN_ROLE",
        /// List, view, download, create, upload and update artifacts (no delete).
        RegistryUser = "REGISTRY_USER" | "REGISTRY_WRITE_USER_ROLE",
        /// List, view and download artifacts.
        RegistryRead = "REGISTRY_READ" | "REGISTRY_READ_ROLE",
        /// Manages users, teams and keys; may only list and view artifacts.
        UserAdmin = "USER_ADMIN" | "REGISTRY_WRITE_TEAM_ADMIN_ROLE",
        /// May view the details of the org or team; not enough for membership on its own.
        UserRead = "USER_READ",
    }
}

/// Legacy NGC CLI role names (guide §2.5.2) and the role each one is read as.
///
/// * `REGISTRY_READ_ROLE` → [`Role::RegistryRead`], `REGISTRY_WRITE_USER_ROLE` →
///   [`Role::RegistryUser`], `REGISTRY_WRITE_ADMIN_ROLE` → [`Role::RegistryAdmin`]: the same
///   artifact rights under their old names.
/// * `REGISTRY_WRITE_TEAM_ADMIN_ROLE` → [`Role::UserAdmin`]. The guide requires this "Team
///   Admin" role for adding users to a team (§2.5.2.3), which is what USER_ADMIN does today, and a
///   team-level USER_ADMIN manages exactly its team (R-TEN-5). Reading it as the narrower
///   user-management role grants no artifact right the old name might not have meant; an admin
///   who wants both grants REGISTRY_ADMIN as well.
///
/// The guide also calls REGISTRY_WRITE_ADMIN_ROLE "Org Admin" and requires it to create teams;
/// in the current role model that is USER_ADMIN's (or ORG_OWNER's) job, so a legacy org admin
/// who must create teams needs USER_ADMIN too. We do not read one legacy name as two roles.
pub const LEGACY_ROLE_NAMES: &[(&str, Role)] = &[
    ("REGISTRY_READ_ROLE", Role::RegistryRead),
    ("REGISTRY_WRITE_USER_ROLE", Role::RegistryUser),
    ("REGISTRY_WRITE_ADMIN_ROLE", Role::RegistryAdmin),
    ("REGISTRY_WRITE_TEAM_ADMIN_ROLE", Role::UserAdmin),
];

/// For each role (in [`Role::ALL`] order), the other roles it implies.
///
/// ORG_OWNER implies every role; REGISTRY_ADMIN implies REGISTRY_USER and REGISTRY_READ;
/// REGISTRY_USER implies REGISTRY_READ; USER_ADMIN implies USER_READ. Every role also implies
/// itself (not listed here).
const IMPLIED: [&[Role]; 6] = [
    // OrgOwner
    &[
        Role::RegistryAdmin,
        Role::RegistryUser,
        Role::RegistryRead,
        Role::UserAdmin,
        Role::UserRead,
    ],
    // RegistryAdmin
    &[Role::RegistryUser, Role::RegistryRead],
    // RegistryUser
    &[Role::RegistryRead],
    // RegistryRead
    &[],
    // UserAdmin
    &[Role::UserRead],
    // UserRead
    &[],
];

impl Role {
    /// The position of this role in [`Role::ALL`]; indexes the per-role const tables.
    pub(crate) const fn index(self) -> usize {
        match self {
            Role::OrgOwner => 0,
            Role::RegistryAdmin => 1,
            Role::RegistryUser => 2,
            Role::RegistryRead => 3,
            Role::UserAdmin => 4,
            Role::UserRead => 5,
        }
    }

    /// The human name shown by the UI and in `/roles` (`displayName`).
    pub const fn display_name(self) -> &'static str {
        match self {
            Role::OrgOwner => "Org Owner",
            Role::RegistryAdmin => "Registry Admin",
            Role::RegistryUser => "Registry User",
            Role::RegistryRead => "Registry Read",
            Role::UserAdmin => "User Admin",
            Role::UserRead => "User Read",
        }
    }

    /// Whether holding `self` means also holding `other`.
    ///
    /// Every role implies itself; ORG_OWNER implies every role; REGISTRY_ADMIN implies
    /// REGISTRY_USER and REGISTRY_READ; REGISTRY_USER implies REGISTRY_READ; USER_ADMIN implies
    /// USER_READ.
    pub fn implies(self, other: Role) -> bool {
        self == other || IMPLIED[self.index()].contains(&other)
    }

    /// The roles `self` implies, itself included, in [`Role::ALL`] order.
    pub fn implied_roles(self) -> impl Iterator<Item = Role> {
        Role::ALL.iter().copied().filter(move |r| self.implies(*r))
    }
}

/// Whether a user with `roles` holds `role`, directly or through a role that implies it.
pub fn holds_role(roles: &[Role], role: Role) -> bool {
    roles.iter().any(|r| r.implies(role))
}

/// Formats roles as comma separated wire names (for messages).
pub(crate) fn join_roles(roles: &[Role]) -> String {
    if roles.is_empty() {
        return "(none)".to_owned();
    }
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::AuthError;
    use proptest::prelude::*;

    /// A proptest strategy for any role.
    pub(crate) fn any_role() -> impl Strategy<Value = Role> {
        proptest::sample::select(Role::ALL)
    }

    #[test]
    fn all_is_in_index_order() {
        assert_eq!(Role::ALL.len(), 6);
        for (i, r) in Role::ALL.iter().enumerate() {
            assert_eq!(r.index(), i, "{r}");
        }
    }

    #[test]
    fn wire_names_round_trip_through_display_fromstr_and_serde() {
        let expected = [
            "ORG_OWNER",
            "REGISTRY_ADMIN",
            "REGISTRY_USER",
            "REGISTRY_READ",
            "USER_ADMIN",
            "USER_READ",
        ];
        for (r, name) in Role::ALL.iter().zip(expected) {
            assert_eq!(r.to_string(), name);
            assert_eq!(name.parse::<Role>().unwrap(), *r);
            let json = serde_json::to_string(r).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), *r);
        }
    }

    #[test]
    fn parsing_is_case_insensitive_and_accepts_guide_labels() {
        assert_eq!("org_owner".parse::<Role>().unwrap(), Role::OrgOwner);
        assert_eq!(
            " Registry Admin ".parse::<Role>().unwrap(),
            Role::RegistryAdmin
        );
        assert_eq!("user-read".parse::<Role>().unwrap(), Role::UserRead);
        for r in Role::ALL {
            assert_eq!(r.display_name().parse::<Role>().unwrap(), *r);
        }
    }

    #[test]
    fn legacy_names_parse_as_documented() {
        for (name, role) in LEGACY_ROLE_NAMES {
            assert_eq!(name.parse::<Role>().unwrap(), *role, "{name}");
            assert_eq!(name.to_lowercase().parse::<Role>().unwrap(), *role);
        }
        assert_eq!(
            "REGISTRY_WRITE_TEAM_ADMIN_ROLE".parse::<Role>().unwrap(),
            Role::UserAdmin
        );
        let json = "\"REGISTRY_WRITE_USER_ROLE\"";
        assert_eq!(
            serde_json::from_str::<Role>(json).unwrap(),
            Role::RegistryUser
        );
    }

    #[test]
    fn unknown_role_lists_valid_names() {
        let err = "SUPERUSER".parse::<Role>().unwrap_err();
        match &err {
            AuthError::UnknownName { what, given, valid } => {
                assert_eq!(*what, "role");
                assert_eq!(given, "SUPERUSER");
                for r in Role::ALL {
                    assert!(valid.contains(r.as_str()), "{valid}");
                }
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert!(err.to_string().contains("ORG_OWNER"));
        assert!(serde_json::from_str::<Role>("\"nope\"").is_err());
    }

    #[test]
    fn implication_matches_r_ten_4() {
        use Role::*;
        let expected: &[(Role, &[Role])] = &[
            (
                OrgOwner,
                &[
                    OrgOwner,
                    RegistryAdmin,
                    RegistryUser,
                    RegistryRead,
                    UserAdmin,
                    UserRead,
                ],
            ),
            (RegistryAdmin, &[RegistryAdmin, RegistryUser, RegistryRead]),
            (RegistryUser, &[RegistryUser, RegistryRead]),
            (RegistryRead, &[RegistryRead]),
            (UserAdmin, &[UserAdmin, UserRead]),
            (UserRead, &[UserRead]),
        ];
        for (role, implied) in expected {
            let got: Vec<Role> = role.implied_roles().collect();
            assert_eq!(&got, implied, "{role}");
        }
    }

    #[test]
    fn holds_role_uses_implication() {
        assert!(holds_role(&[Role::RegistryAdmin], Role::RegistryRead));
        assert!(!holds_role(&[Role::RegistryAdmin], Role::UserRead));
        assert!(!holds_role(&[], Role::UserRead));
    }

    proptest! {
        #[test]
        fn implication_is_transitive(a in any_role(), b in any_role(), c in any_role()) {
            if a.implies(b) && b.implies(c) {
                prop_assert!(a.implies(c));
            }
        }

        #[test]
        fn implication_is_antisymmetric(a in any_role(), b in any_role()) {
            if a.implies(b) && b.implies(a) {
                prop_assert_eq!(a, b);
            }
        }

        #[test]
        fn role_fromstr_never_panics(s in any::<String>()) {
            let _ = s.parse::<Role>();
        }
    }
}
