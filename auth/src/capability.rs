//! Which role may do what: the decision data of SPEC R-TEN-6 and the guide's §2.4.1 table.
//!
//! [`ROLE_CAPABILITIES`] is the decision data, defined once, as const data. The server decides
//! every request from it (through `core`), never from role names. [`CAPABILITY_TABLE`] is the
//! guide §2.4.1 table itself, kept as data so that a test can check the two agree.

use serde::Serialize;

use crate::actions::{ArtifactAction, PeopleAction};
use crate::roles::Role;

/// What one role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RoleCapabilities {
    /// The role.
    pub role: Role,
    /// The artifact actions it allows, on every artifact kind it can see.
    pub artifact_actions: &'static [ArtifactAction],
    /// The people actions it allows (in its org or team, as the caller decides by context).
    pub people_actions: &'static [PeopleAction],
}

use ArtifactAction as A;
use PeopleAction as P;

const ALL_ARTIFACT_ACTIONS: &[ArtifactAction] = &[
    A::List,
    A::View,
    A::Download,
    A::Create,
    A::Upload,
    A::Update,
    A::Delete,
];

const ALL_PEOPLE_ACTIONS: &[PeopleAction] = &[
    P::ViewOrgDetails,
    P::ViewUsers,
    P::AddUsers,
    P::RemoveUsers,
    P::UpdateUserRoles,
    P::CreateTeams,
    P::UpdateTeams,
    P::DeleteTeams,
    P::ManageServiceKeys,
    P::RevokeMemberKeys,
];

/// The decision data (SPEC R-TEN-6), one entry per role in [`Role::ALL`] order.
///
/// | role | artifact actions | people actions |
/// |---|---|---|
/// | ORG_OWNER | all | all |
/// | REGISTRY_ADMIN | all, including delete | view org details, view users |
/// | REGISTRY_USER | list, view, download, create, upload, update | view org details |
/// | REGISTRY_READ | list, view, download | view org details |
/// | USER_ADMIN | list, view | all |
/// | USER_READ | — | view org details |
///
/// USER_ADMIN's team creation and deletion are org-level only and its role grants are limited to
/// roles it holds ([`crate::can_grant`]); the caller applies both by context.
pub const ROLE_CAPABILITIES: [RoleCapabilities; 6] = [
    RoleCapabilities {
        role: Role::OrgOwner,
        artifact_actions: ALL_ARTIFACT_ACTIONS,
        people_actions: ALL_PEOPLE_ACTIONS,
    },
    RoleCapabilities {
        role: Role::RegistryAdmin,
        artifact_actions: ALL_ARTIFACT_ACTIONS,
        people_actions: &[P::ViewOrgDetails, P::ViewUsers],
    },
    RoleCapabilities {
        role: Role::RegistryUser,
        artifact_actions: &[
            A::List,
            A::View,
            A::Download,
            A::Create,
            A::Upload,
            A::Update,
        ],
        people_actions: &[P::ViewOrgDetails],
    },
    RoleCapabilities {
        role: Role::RegistryRead,
        artifact_actions: &[A::List, A::View, A::Download],
        people_actions: &[P::ViewOrgDetails],
    },
    RoleCapabilities {
        role: Role::UserAdmin,
        artifact_actions: &[A::List, A::View],
        people_actions: ALL_PEOPLE_ACTIONS,
    },
    RoleCapabilities {
        role: Role::UserRead,
        artifact_actions: &[],
        people_actions: &[P::ViewOrgDetails],
    },
];

impl Role {
    /// This role's entry in [`ROLE_CAPABILITIES`].
    pub fn capabilities(self) -> &'static RoleCapabilities {
        &ROLE_CAPABILITIES[self.index()]
    }

    /// The artifact actions this role allows.
    pub fn artifact_actions(self) -> &'static [ArtifactAction] {
        self.capabilities().artifact_actions
    }

    /// Whether this role allows `action` on artifacts.
    pub fn allows_artifact(self, action: ArtifactAction) -> bool {
        self.artifact_actions().contains(&action)
    }

    /// The people actions this role allows.
    pub fn people_actions(self) -> &'static [PeopleAction] {
        self.capabilities().people_actions
    }

    /// Whether this role allows `action` on people, teams and keys.
    pub fn allows_people(self, action: PeopleAction) -> bool {
        self.people_actions().contains(&action)
    }
}

/// Whether any of `roles` allows `action` on artifacts.
pub fn any_allows_artifact(roles: &[Role], action: ArtifactAction) -> bool {
    roles.iter().any(|r| r.allows_artifact(action))
}

/// Whether any of `roles` allows `action` on people, teams and keys.
pub fn any_allows_people(roles: &[Role], action: PeopleAction) -> bool {
    roles.iter().any(|r| r.allows_people(action))
}

/// The union of the artifact actions of `roles`, in [`ArtifactAction::ALL`] order.
pub fn allowed_artifact_actions(roles: &[Role]) -> Vec<ArtifactAction> {
    ArtifactAction::ALL
        .iter()
        .copied()
        .filter(|a| any_allows_artifact(roles, *a))
        .collect()
}

/// The union of the people actions of `roles`, in [`PeopleAction::ALL`] order.
pub fn allowed_people_actions(roles: &[Role]) -> Vec<PeopleAction> {
    PeopleAction::ALL
        .iter()
        .copied()
        .filter(|a| any_allows_people(roles, *a))
        .collect()
}

/// One row of the guide's §2.4.1 capability table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CapabilityRow {
    /// The capability exactly as the guide words it.
    pub capability: &'static str,
    /// The roles marked as allowed (`#`) in the guide, plus ORG_OWNER, which the guide's table
    /// has no column for and which is allowed everything.
    pub allowed: &'static [Role],
    /// The artifact actions this row stands for.
    pub artifact_actions: &'static [ArtifactAction],
    /// The people actions this row stands for.
    pub people_actions: &'static [PeopleAction],
}

/// The roles that are columns of the guide's §2.4.1 table, in the guide's column order.
pub const CAPABILITY_TABLE_COLUMNS: [Role; 5] = [
    Role::RegistryAdmin,
    Role::RegistryUser,
    Role::UserAdmin,
    Role::RegistryRead,
    Role::UserRead,
];

/// The guide's §2.4.1 capability table, row by row.
///
/// Reading of the rows: "Add teams" is creating teams; "View/Edit all image information" is
/// editing metadata ([`ArtifactAction::Update`]): viewing is the row "View all artifacts", and
/// the row's `X` for Registry Read and User Admin, who may view, only makes sense for the edit
/// part; "View all artifacts" covers listing and viewing; "Create and push/upload" covers
/// creating and uploading.
pub const CAPABILITY_TABLE: &[CapabilityRow] = &[
    CapabilityRow {
        capability: "Add teams",
        allowed: &[Role::OrgOwner, Role::UserAdmin],
        artifact_actions: &[],
        people_actions: &[P::CreateTeams],
    },
    CapabilityRow {
        capability: "Add new users to orgs or teams",
        allowed: &[Role::OrgOwner, Role::UserAdmin],
        artifact_actions: &[],
        people_actions: &[P::AddUsers],
    },
    CapabilityRow {
        capability: "View users",
        allowed: &[Role::OrgOwner, Role::RegistryAdmin, Role::UserAdmin],
        artifact_actions: &[],
        people_actions: &[P::ViewUsers],
    },
    CapabilityRow {
        capability: "Delete images",
        allowed: &[Role::OrgOwner, Role::RegistryAdmin],
        artifact_actions: &[A::Delete],
        people_actions: &[],
    },
    CapabilityRow {
        capability: "View/Edit all image information via UI and CLI",
        allowed: &[Role::OrgOwner, Role::RegistryAdmin, Role::RegistryUser],
        artifact_actions: &[A::Update],
        people_actions: &[],
    },
    CapabilityRow {
        capability: "View all artifacts namely containers, model, resources",
        allowed: &[
            Role::OrgOwner,
            Role::RegistryAdmin,
            Role::RegistryUser,
            Role::UserAdmin,
            Role::RegistryRead,
        ],
        artifact_actions: &[A::List, A::View],
        people_actions: &[],
    },
    CapabilityRow {
        capability: "Download all artifacts namely containers, model, resources",
        allowed: &[
            Role::OrgOwner,
            Role::RegistryAdmin,
            Role::RegistryUser,
            Role::RegistryRead,
        ],
        artifact_actions: &[A::Download],
        people_actions: &[],
    },
    CapabilityRow {
        capability: "Create and push/upload all artifacts namely containers, model, resources",
        allowed: &[Role::OrgOwner, Role::RegistryAdmin, Role::RegistryUser],
        artifact_actions: &[A::Create, A::Upload],
        people_actions: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::tests::{any_artifact_action, any_people_action};
    use crate::roles::tests::any_role;
    use proptest::prelude::*;

    /// Guide §2.4.1, copied verbatim (tab separated; `#` = allowed, `X` = not allowed).
    const GUIDE_TABLE: &str = r"
Capability	Registry Admin	Registry User	User Admin	Registry Read	User Read
Add teams	X	X	#	X	X
Add new users to orgs or teams	X	X	#	X	X
View users	#	X	#	X	X
Delete images	#	X	X	X	X
View/Edit all image information via UI and CLI	#	#	X	X	X
View all artifacts namely containers, model, resources	#	#	#	#	X
Download all artifacts namely containers, model, resources	#	#	X	#	X
Create and push/upload all artifacts namely containers, model, resources	#	#	X	X	X
";

    /// The guide's column header for a role, written out here independently of the crate.
    fn column_role(header: &str) -> Role {
        match header {
            "Registry Admin" => Role::RegistryAdmin,
            "Registry User" => Role::RegistryUser,
            "User Admin" => Role::UserAdmin,
            "Registry Read" => Role::RegistryRead,
            "User Read" => Role::UserRead,
            other => panic!("unexpected column {other:?}"),
        }
    }

    /// Which actions each guide row stands for, written out here independently of the crate.
    fn row_actions(capability: &str) -> (Vec<ArtifactAction>, Vec<PeopleAction>) {
        match capability {
            "Add teams" => (vec![], vec![P::CreateTeams]),
            "Add new users to orgs or teams" => (vec![], vec![P::AddUsers]),
            "View users" => (vec![], vec![P::ViewUsers]),
            "Delete images" => (vec![A::Delete], vec![]),
            "View/Edit all image information via UI and CLI" => (vec![A::Update], vec![]),
            "View all artifacts namely containers, model, resources" => {
                (vec![A::List, A::View], vec![])
            }
            "Download all artifacts namely containers, model, resources" => {
                (vec![A::Download], vec![])
            }
            "Create and push/upload all artifacts namely containers, model, resources" => {
                (vec![A::Create, A::Upload], vec![])
            }
            other => panic!("unexpected capability {other:?}"),
        }
    }

    /// The guide table parsed: (capability, [(role, allowed)]).
    fn parsed_guide() -> Vec<(String, Vec<(Role, bool)>)> {
        let mut lines = GUIDE_TABLE.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
        assert_eq!(header[0], "Capability");
        let columns: Vec<Role> = header[1..].iter().map(|h| column_role(h)).collect();
        assert_eq!(columns.len(), 5);
        lines
            .map(|line| {
                let cells: Vec<&str> = line.split('\t').collect();
                assert_eq!(cells.len(), 6, "{line:?}");
                let marks = columns
                    .iter()
                    .zip(&cells[1..])
                    .map(|(role, mark)| match *mark {
                        "#" => (*role, true),
                        "X" => (*role, false),
                        other => panic!("unexpected mark {other:?}"),
                    })
                    .collect();
                (cells[0].to_owned(), marks)
            })
            .collect()
    }

    #[test]
    fn capabilities_are_in_role_order() {
        for (i, caps) in ROLE_CAPABILITIES.iter().enumerate() {
            assert_eq!(caps.role, Role::ALL[i]);
            assert_eq!(caps.role.capabilities().role, caps.role);
        }
    }

    // R-TEN-6: the table constant is the guide's table.
    #[test]
    fn capability_table_is_the_guide_table() {
        let guide = parsed_guide();
        assert_eq!(guide.len(), 8);
        assert_eq!(CAPABILITY_TABLE.len(), guide.len());
        for (row, (capability, marks)) in CAPABILITY_TABLE.iter().zip(&guide) {
            assert_eq!(row.capability, capability);
            let cols: Vec<Role> = marks.iter().map(|(r, _)| *r).collect();
            assert_eq!(cols, CAPABILITY_TABLE_COLUMNS);
            let mut expected: Vec<Role> = marks
                .iter()
                .filter(|(_, allowed)| *allowed)
                .map(|(r, _)| *r)
                .collect();
            expected.push(Role::OrgOwner);
            expected.sort();
            let mut got = row.allowed.to_vec();
            got.sort();
            assert_eq!(got, expected, "{capability}");
            let (artifact, people) = row_actions(capability);
            assert_eq!(row.artifact_actions, artifact.as_slice(), "{capability}");
            assert_eq!(row.people_actions, people.as_slice(), "{capability}");
        }
    }

    // R-TEN-6: the decision data agrees with every cell of the guide's table.
    #[test]
    fn decision_data_agrees_with_every_guide_cell() {
        for (capability, marks) in parsed_guide() {
            let (artifact, people) = row_actions(&capability);
            let with_owner = marks.iter().copied().chain([(Role::OrgOwner, true)]);
            for (role, allowed) in with_owner {
                for a in &artifact {
                    assert_eq!(
                        role.allows_artifact(*a),
                        allowed,
                        "{role} / {a} (row {capability:?})"
                    );
                }
                for p in &people {
                    assert_eq!(
                        role.allows_people(*p),
                        allowed,
                        "{role} / {p} (row {capability:?})"
                    );
                }
            }
        }
    }

    // R-TEN-6: the decision data is the SPEC table, written out independently.
    #[test]
    fn decision_data_matches_spec_table() {
        let expected: &[(Role, &str, &str)] = &[
            (
                Role::OrgOwner,
                "LIST VIEW DOWNLOAD CREATE UPLOAD UPDATE DELETE",
                "VIEW_ORG_DETAILS VIEW_USERS ADD_USERS REMOVE_USERS UPDATE_USER_ROLES \
                 CREATE_TEAMS UPDATE_TEAMS DELETE_TEAMS MANAGE_SERVICE_KEYS REVOKE_MEMBER_KEYS",
            ),
            (
                Role::RegistryAdmin,
                "LIST VIEW DOWNLOAD CREATE UPLOAD UPDATE DELETE",
                "VIEW_ORG_DETAILS VIEW_USERS",
            ),
            (
                Role::RegistryUser,
                "LIST VIEW DOWNLOAD CREATE UPLOAD UPDATE",
                "VIEW_ORG_DETAILS",
            ),
            (Role::RegistryRead, "LIST VIEW DOWNLOAD", "VIEW_ORG_DETAILS"),
            (
                Role::UserAdmin,
                "LIST VIEW",
                "VIEW_ORG_DETAILS VIEW_USERS ADD_USERS REMOVE_USERS UPDATE_USER_ROLES \
                 CREATE_TEAMS UPDATE_TEAMS DELETE_TEAMS MANAGE_SERVICE_KEYS REVOKE_MEMBER_KEYS",
            ),
            (Role::UserRead, "", "VIEW_ORG_DETAILS"),
        ];
        for (role, artifact, people) in expected {
            let got: Vec<&str> = role.artifact_actions().iter().map(|a| a.as_str()).collect();
            let want: Vec<&str> = artifact.split_whitespace().collect();
            assert_eq!(got, want, "{role}");
            let got: Vec<&str> = role.people_actions().iter().map(|a| a.as_str()).collect();
            let want: Vec<&str> = people.split_whitespace().collect();
            assert_eq!(got, want, "{role}");
        }
    }

    #[test]
    fn unions_over_role_sets() {
        assert!(any_allows_artifact(
            &[Role::UserRead, Role::RegistryUser],
            A::Upload
        ));
        assert!(!any_allows_artifact(&[Role::UserAdmin], A::Download));
        assert!(!any_allows_artifact(&[], A::List));
        assert!(any_allows_people(&[Role::RegistryAdmin], P::ViewUsers));
        assert!(!any_allows_people(&[Role::RegistryAdmin], P::AddUsers));
        assert_eq!(
            allowed_artifact_actions(&[Role::UserAdmin, Role::RegistryRead]),
            [A::List, A::View, A::Download]
        );
        assert_eq!(
            allowed_people_actions(&[Role::RegistryRead, Role::UserRead]),
            [P::ViewOrgDetails]
        );
    }

    proptest! {
        // R-TEN-6
        #[test]
        fn registry_read_never_writes(action in any_artifact_action()) {
            let writes = matches!(action, A::Create | A::Upload | A::Update | A::Delete);
            prop_assert_eq!(Role::RegistryRead.allows_artifact(action), !writes);
        }

        #[test]
        fn org_owner_is_a_superset_of_every_role(
            role in any_role(),
            a in any_artifact_action(),
            p in any_people_action(),
        ) {
            if role.allows_artifact(a) {
                prop_assert!(Role::OrgOwner.allows_artifact(a));
            }
            if role.allows_people(p) {
                prop_assert!(Role::OrgOwner.allows_people(p));
            }
        }

        #[test]
        fn implied_roles_allow_no_more(
            r1 in any_role(),
            r2 in any_role(),
            a in any_artifact_action(),
            p in any_people_action(),
        ) {
            if r1.implies(r2) {
                prop_assert!(
                    !r2.allows_artifact(a) || r1.allows_artifact(a),
                    "{} {} {}", r1, r2, a
                );
                prop_assert!(!r2.allows_people(p) || r1.allows_people(p), "{} {} {}", r1, r2, p);
            }
        }

        #[test]
        fn union_helpers_agree_with_single_roles(
            roles in proptest::collection::vec(any_role(), 0..4),
            a in any_artifact_action(),
        ) {
            let single = roles.iter().any(|r| r.allows_artifact(a));
            prop_assert_eq!(any_allows_artifact(&roles, a), single);
            prop_assert_eq!(allowed_artifact_actions(&roles).contains(&a), single);
        }
    }
}
