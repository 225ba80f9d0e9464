//! The role × service → access-level vocabulary of guide §2.5.2.5, reported by `/roles`.
//!
//! NGC clients (ngcsdk) build their command list from `GET /roles`: each role lists, per
//! service, the access levels it has. This vocabulary is coarser than the decision data of
//! [`crate::ROLE_CAPABILITIES`] (it gives USER_ADMIN WRITE on CONTAINER, for instance); it is
//! only reported, never used to decide (SPEC R-TEN-6).

use serde::Serialize;

use crate::actions::ArtifactKind;
use crate::roles::Role;
use crate::wire::wire_enum;

wire_enum! {
    /// A service of the `/roles` vocabulary.
    ///
    /// The guide spells MODELSCRIPT as "MODELSRIPT"; both parse, and `RESOURCE` parses as
    /// MODELSCRIPT too (resources were called "model scripts"). `COLLECTION` is not in the guide
    /// table but NGC clients recognise it as a registry service; Arca reports it.
    pub enum Service ("service") {
        /// Base Command workloads (not served by Arca; kept for the guide table).
        Ace = "ACE",
        /// Container images.
        Container = "CONTAINER",
        /// Datasets (not served by Arca; kept for the guide table).
        Dataset = "DATASET",
        /// Helm charts.
        Helm = "HELM" | "HELM_CHART",
        /// Jobs (not served by Arca; kept for the guide table).
        Job = "JOB",
        /// Models.
        Model = "MODEL",
        /// Resources (NGC's historical name "model script").
        ModelScript = "MODELSCRIPT" | "MODELSRIPT" | "RESOURCE",
        /// The org itself.
        Org = "ORG",
        /// Teams.
        Team = "TEAM",
        /// Users.
        User = "USER",
        /// Workspaces (not served by Arca; kept for the guide table).
        Workspace = "WORKSPACE",
        /// Fleet Command / EGX (not served by Arca; kept for the guide table).
        Egx = "EGX",
        /// Collections (Arca extension of the guide table, see [`role_service_access`]).
        Collection = "COLLECTION",
    }
}

wire_enum! {
    /// An access level of the `/roles` vocabulary.
    pub enum AccessLevel ("access level") {
        /// Read access.
        Read = "READ",
        /// Write access.
        Write = "WRITE",
        /// Administrative access.
        Admin = "ADMIN",
    }
}

impl Service {
    /// The artifact kind this service is about, if it is a registry service.
    pub const fn artifact_kind(self) -> Option<ArtifactKind> {
        match self {
            Service::Container => Some(ArtifactKind::Container),
            Service::Model => Some(ArtifactKind::Model),
            Service::ModelScript => Some(ArtifactKind::Resource),
            Service::Helm => Some(ArtifactKind::HelmChart),
            Service::Collection => Some(ArtifactKind::Collection),
            _ => None,
        }
    }

    /// The service that stands for an artifact kind.
    pub const fn for_kind(kind: ArtifactKind) -> Service {
        match kind {
            ArtifactKind::Container => Service::Container,
            ArtifactKind::Model => Service::Model,
            ArtifactKind::Resource => Service::ModelScript,
            ArtifactKind::HelmChart => Service::Helm,
            ArtifactKind::Collection => Service::Collection,
        }
    }
}

/// One row of the guide's §2.5.2.5 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServiceAccessRow {
    /// The role name as the guide writes it; includes roles Arca does not have (ADMIN, USER,
    /// EGX_ADMIN, EGX_READ, EGX_USER).
    pub role: &'static str,
    /// The service.
    pub service: Service,
    /// The access levels, in the guide's order.
    pub levels: &'static [AccessLevel],
}

use AccessLevel::{Admin, Read, Write};

const R: &[AccessLevel] = &[Read];
const RW: &[AccessLevel] = &[Read, Write];
const RAW: &[AccessLevel] = &[Read, Admin, Write];

const fn row(
    role: &'static str,
    service: Service,
    levels: &'static [AccessLevel],
) -> ServiceAccessRow {
    ServiceAccessRow {
        role,
        service,
        levels,
    }
}

/// Every row of the guide's §2.5.2.5 table, in the guide's order (MODELSRIPT read as
/// [`Service::ModelScript`]).
pub const SERVICE_ACCESS_TABLE: &[ServiceAccessRow] = &[
    row("ADMIN", Service::Ace, RAW),
    row("ADMIN", Service::Container, RAW),
    row("ADMIN", Service::Dataset, RAW),
    row("ADMIN", Service::Helm, RAW),
    row("ADMIN", Service::Job, RAW),
    row("ADMIN", Service::Model, RAW),
    row("ADMIN", Service::ModelScript, RAW),
    row("ADMIN", Service::Org, RAW),
    row("ADMIN", Service::Team, RAW),
    row("ADMIN", Service::User, RAW),
    row("ADMIN", Service::Workspace, RAW),
    row("EGX_ADMIN", Service::Egx, RAW),
    row("EGX_ADMIN", Service::Org, RAW),
    row("EGX_ADMIN", Service::Team, RAW),
    row("EGX_ADMIN", Service::User, RAW),
    row("EGX_READ", Service::Egx, R),
    row("EGX_READ", Service::Org, R),
    row("EGX_READ", Service::Team, R),
    row("EGX_USER", Service::Egx, RW),
    row("EGX_USER", Service::Org, RW),
    row("EGX_USER", Service::Team, RW),
    row("REGISTRY_READ", Service::Container, R),
    row("REGISTRY_READ", Service::Helm, R),
    row("REGISTRY_READ", Service::Model, R),
    row("REGISTRY_READ", Service::ModelScript, R),
    row("REGISTRY_READ", Service::Org, R),
    row("REGISTRY_READ", Service::Team, R),
    row("REGISTRY_ADMIN", Service::Container, RAW),
    row("REGISTRY_ADMIN", Service::Helm, RAW),
    row("REGISTRY_ADMIN", Service::Model, RAW),
    row("REGISTRY_ADMIN", Service::ModelScript, RAW),
    row("REGISTRY_ADMIN", Service::Org, RAW),
    row("REGISTRY_ADMIN", Service::Team, RAW),
    row("REGISTRY_ADMIN", Service::User, RAW),
    row("REGISTRY_USER", Service::Container, RW),
    row("REGISTRY_USER", Service::Helm, RW),
    row("REGISTRY_USER", Service::Model, RW),
    row("REGISTRY_USER", Service::ModelScript, RW),
    row("REGISTRY_USER", Service::Org, RW),
    row("REGISTRY_USER", Service::Team, RW),
    row("USER_ADMIN", Service::Container, RAW),
    row("USER_ADMIN", Service::Helm, RAW),
    row("USER_ADMIN", Service::Model, RAW),
    row("USER_ADMIN", Service::ModelScript, RAW),
    row("USER_ADMIN", Service::Org, RAW),
    row("USER_ADMIN", Service::Team, RAW),
    row("USER_ADMIN", Service::User, RAW),
    row("USER", Service::Ace, RW),
    row("USER", Service::Container, RW),
    row("USER", Service::Dataset, RW),
    row("USER", Service::Helm, RW),
    row("USER", Service::Job, RW),
    row("USER", Service::Model, RW),
    row("USER", Service::ModelScript, RW),
    row("USER", Service::Org, RW),
    row("USER", Service::Team, RW),
    row("USER", Service::Workspace, RW),
];

/// Rows Arca adds for a role of ours that the guide table does not list: USER_READ ("view org
/// or team details", R-TEN-6) reads ORG and TEAM.
pub const ARCA_SERVICE_ACCESS_EXTENSIONS: &[ServiceAccessRow] = &[
    row("USER_READ", Service::Org, R),
    row("USER_READ", Service::Team, R),
];

/// The access levels `role` has on `service` in the `/roles` vocabulary (empty: none).
///
/// * REGISTRY_ADMIN, REGISTRY_USER, REGISTRY_READ and USER_ADMIN: the guide's rows
///   ([`SERVICE_ACCESS_TABLE`]).
/// * USER_READ, which the guide table omits: [`ARCA_SERVICE_ACCESS_EXTENSIONS`].
/// * ORG_OWNER, which the guide table omits: READ, ADMIN and WRITE on every service on which any
///   other of the six roles has some level (so not on ACE, DATASET, JOB, WORKSPACE or EGX, which
///   only the guide's non-Arca roles have and Arca does not serve).
/// * COLLECTION, which the guide table omits: the same levels as CONTAINER.
pub fn role_service_access(role: Role, service: Service) -> &'static [AccessLevel] {
    if role == Role::OrgOwner {
        let someone_has_it = Role::ALL
            .iter()
            .filter(|r| **r != Role::OrgOwner)
            .any(|r| !role_service_access(*r, service).is_empty());
        return if someone_has_it { RAW } else { &[] };
    }
    let service = match service {
        Service::Collection => Service::Container,
        other => other,
    };
    SERVICE_ACCESS_TABLE
        .iter()
        .chain(ARCA_SERVICE_ACCESS_EXTENSIONS)
        .find(|row| row.role == role.as_str() && row.service == service)
        .map_or(&[], |row| row.levels)
}

/// One service and its access levels, as in `allowedActions` of `/roles`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServiceAccess {
    /// The service.
    pub service: Service,
    /// The access levels (NGC calls them `actions`).
    #[serde(rename = "actions")]
    pub levels: &'static [AccessLevel],
}

/// One role of the `/roles` vocabulary.
///
/// Serializes in NGC's shape: `{"name","displayName","allowedActions":[{"service","actions"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleVocabulary {
    /// The role.
    #[serde(skip)]
    pub role: Role,
    /// The role's wire name.
    pub name: &'static str,
    /// The role's human name.
    pub display_name: &'static str,
    /// The services it has some level on, in [`Service::ALL`] order.
    pub allowed_actions: Vec<ServiceAccess>,
}

/// The `/roles` vocabulary: for each of the six roles (in [`Role::ALL`] order), the services it
/// has some access level on.
pub fn roles_vocabulary() -> Vec<RoleVocabulary> {
    Role::ALL
        .iter()
        .map(|role| RoleVocabulary {
            role: *role,
            name: role.as_str(),
            display_name: role.display_name(),
            allowed_actions: Service::ALL
                .iter()
                .map(|service| ServiceAccess {
                    service: *service,
                    levels: role_service_access(*role, *service),
                })
                .filter(|access| !access.levels.is_empty())
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Guide §2.5.2.5, copied verbatim (tab separated, including the repeated header).
    const GUIDE_TABLE: &str = r"
Role	Service	Access Levels
ADMIN	ACE	READ, ADMIN, WRITE
ADMIN	CONTAINER	READ, ADMIN, WRITE
ADMIN	DATASET	READ, ADMIN, WRITE
ADMIN	HELM	READ, ADMIN, WRITE
ADMIN	JOB	READ, ADMIN, WRITE
ADMIN	MODEL	READ, ADMIN, WRITE
ADMIN	MODELSRIPT	READ, ADMIN, WRITE
ADMIN	ORG	READ, ADMIN, WRITE
ADMIN	TEAM	READ, ADMIN, WRITE
ADMIN	USER	READ, ADMIN, WRITE
ADMIN	WORKSPACE	READ, ADMIN, WRITE
EGX_ADMIN	EGX	READ, ADMIN, WRITE
EGX_ADMIN	ORG	READ, ADMIN, WRITE
EGX_ADMIN	TEAM	READ, ADMIN, WRITE
EGX_ADMIN	USER	READ, ADMIN, WRITE
EGX_READ	EGX	READ
EGX_READ	ORG	READ
EGX_READ	TEAM	READ
EGX_USER	EGX	READ, WRITE
EGX_USER	ORG	READ, WRITE
EGX_USER	TEAM	READ, WRITE
REGISTRY_READ	CONTAINER	READ
REGISTRY_READ	HELM	READ
REGISTRY_READ	MODEL	READ
REGISTRY_READ	MODELSRIPT	READ
REGISTRY_READ	ORG	READ
REGISTRY_READ	TEAM	READ
REGISTRY_ADMIN	CONTAINER	READ, ADMIN, WRITE
REGISTRY_ADMIN	HELM	READ, ADMIN, WRITE
REGISTRY_ADMIN	MODEL	READ, ADMIN, WRITE
REGISTRY_ADMIN	MODELSRIPT	READ, ADMIN, WRITE
REGISTRY_ADMIN	ORG	READ, ADMIN, WRITE
REGISTRY_ADMIN	TEAM	READ, ADMIN, WRITE
REGISTRY_ADMIN	USER	READ, ADMIN, WRITE
REGISTRY_USER	CONTAINER	READ, WRITE
REGISTRY_USER	HELM	READ, WRITE
REGISTRY_USER	MODEL	READ, WRITE
REGISTRY_USER	MODELSRIPT	READ, WRITE

Role	Service	Access Levels
REGISTRY_USER	ORG	READ, WRITE
REGISTRY_USER	TEAM	READ, WRITE
USER_ADMIN	CONTAINER	READ, ADMIN, WRITE
USER_ADMIN	HELM	READ, ADMIN, WRITE
USER_ADMIN	MODEL	READ, ADMIN, WRITE
USER_ADMIN	MODELSRIPT	READ, ADMIN, WRITE
USER_ADMIN	ORG	READ, ADMIN, WRITE
USER_ADMIN	TEAM	READ, ADMIN, WRITE
USER_ADMIN	USER	READ, ADMIN, WRITE
USER	ACE	READ, WRITE
USER	CONTAINER	READ, WRITE
USER	DATASET	READ, WRITE
USER	HELM	READ, WRITE
USER	JOB	READ, WRITE
USER	MODEL	READ, WRITE
USER	MODELSRIPT	READ, WRITE
USER	ORG	READ, WRITE
USER	TEAM	READ, WRITE
USER	WORKSPACE	READ, WRITE
";

    /// The guide's service names, mapped here independently of the crate's parser.
    fn guide_service(name: &str) -> Service {
        match name {
            "ACE" => Service::Ace,
            "CONTAINER" => Service::Container,
            "DATASET" => Service::Dataset,
            "HELM" => Service::Helm,
            "JOB" => Service::Job,
            "MODEL" => Service::Model,
            "MODELSRIPT" => Service::ModelScript,
            "ORG" => Service::Org,
            "TEAM" => Service::Team,
            "USER" => Service::User,
            "WORKSPACE" => Service::Workspace,
            "EGX" => Service::Egx,
            other => panic!("unexpected service {other:?}"),
        }
    }

    fn guide_level(name: &str) -> AccessLevel {
        match name {
            "READ" => Read,
            "WRITE" => Write,
            "ADMIN" => Admin,
            other => panic!("unexpected level {other:?}"),
        }
    }

    /// The guide table parsed: (role, service, levels).
    fn parsed_guide() -> Vec<(String, Service, Vec<AccessLevel>)> {
        GUIDE_TABLE
            .lines()
            .filter(|l| !l.trim().is_empty() && *l != "Role\tService\tAccess Levels")
            .map(|line| {
                let cells: Vec<&str> = line.split('\t').collect();
                assert_eq!(cells.len(), 3, "{line:?}");
                let levels = cells[2].split(", ").map(guide_level).collect();
                (cells[0].to_owned(), guide_service(cells[1]), levels)
            })
            .collect()
    }

    #[test]
    fn levels_and_services_parse() {
        assert_eq!(
            "modelsript".parse::<Service>().unwrap(),
            Service::ModelScript
        );
        assert_eq!(
            "MODELSCRIPT".parse::<Service>().unwrap(),
            Service::ModelScript
        );
        assert_eq!(Service::ModelScript.to_string(), "MODELSCRIPT");
        assert_eq!("admin".parse::<AccessLevel>().unwrap(), Admin);
        assert!("EXECUTE".parse::<AccessLevel>().is_err());
        for kind in ArtifactKind::ALL {
            assert_eq!(Service::for_kind(*kind).artifact_kind(), Some(*kind));
        }
        assert_eq!(Service::Org.artifact_kind(), None);
    }

    // R-TEN-6: every row of the guide table is present, and nothing else.
    #[test]
    fn service_access_table_is_the_guide_table() {
        let guide = parsed_guide();
        assert_eq!(guide.len(), 57);
        assert_eq!(SERVICE_ACCESS_TABLE.len(), guide.len());
        for (role, service, levels) in &guide {
            let row = SERVICE_ACCESS_TABLE
                .iter()
                .find(|r| r.role == role && r.service == *service)
                .unwrap_or_else(|| panic!("missing row {role} {service}"));
            assert_eq!(row.levels, levels.as_slice(), "{role} {service}");
        }
        let keys: BTreeSet<(&str, Service)> = SERVICE_ACCESS_TABLE
            .iter()
            .map(|r| (r.role, r.service))
            .collect();
        assert_eq!(keys.len(), SERVICE_ACCESS_TABLE.len(), "duplicate rows");
    }

    #[test]
    fn our_guide_roles_report_exactly_the_guide_rows() {
        let guide = parsed_guide();
        for role in [
            Role::RegistryAdmin,
            Role::RegistryUser,
            Role::RegistryRead,
            Role::UserAdmin,
        ] {
            for service in Service::ALL.iter().filter(|s| **s != Service::Collection) {
                let expected: &[AccessLevel] = guide
                    .iter()
                    .find(|(r, s, _)| r == role.as_str() && s == service)
                    .map_or(&[], |(_, _, levels)| levels.as_slice());
                assert_eq!(
                    role_service_access(role, *service),
                    expected,
                    "{role} {service}"
                );
            }
        }
    }

    #[test]
    fn arca_extensions_are_as_documented() {
        for role in Role::ALL {
            assert_eq!(
                role_service_access(*role, Service::Collection),
                role_service_access(*role, Service::Container),
                "{role}"
            );
        }
        let user_read: Vec<Service> = Service::ALL
            .iter()
            .copied()
            .filter(|s| !role_service_access(Role::UserRead, *s).is_empty())
            .collect();
        assert_eq!(user_read, [Service::Org, Service::Team]);
        assert_eq!(role_service_access(Role::UserRead, Service::Org), [Read]);

        let owner: Vec<Service> = Service::ALL
            .iter()
            .copied()
            .filter(|s| !role_service_access(Role::OrgOwner, *s).is_empty())
            .collect();
        assert_eq!(
            owner,
            [
                Service::Container,
                Service::Helm,
                Service::Model,
                Service::ModelScript,
                Service::Org,
                Service::Team,
                Service::User,
                Service::Collection,
            ]
        );
        for s in owner {
            let levels: BTreeSet<AccessLevel> = role_service_access(Role::OrgOwner, s)
                .iter()
                .copied()
                .collect();
            assert_eq!(levels, BTreeSet::from([Read, Write, Admin]));
        }
    }

    #[test]
    fn vocabulary_has_every_role_and_serializes_in_ngc_shape() {
        let vocab = roles_vocabulary();
        let names: Vec<&str> = vocab.iter().map(|v| v.name).collect();
        assert_eq!(
            names,
            [
                "ORG_OWNER",
                "REGISTRY_ADMIN",
                "REGISTRY_USER",
                "REGISTRY_READ",
                "USER_ADMIN",
                "USER_READ"
            ]
        );
        let read = &vocab[3];
        assert_eq!(read.role, Role::RegistryRead);
        let services: Vec<Service> = read.allowed_actions.iter().map(|a| a.service).collect();
        assert_eq!(
            services,
            [
                Service::Container,
                Service::Helm,
                Service::Model,
                Service::ModelScript,
                Service::Org,
                Service::Team,
                Service::Collection,
            ]
        );
        let json = serde_json::to_value(read).unwrap();
        assert_eq!(json["name"], "REGISTRY_READ");
        assert_eq!(json["displayName"], "Registry Read");
        assert_eq!(json["allowedActions"][0]["service"], "CONTAINER");
        assert_eq!(json["allowedActions"][0]["actions"][0], "READ");
        assert!(json.get("role").is_none());
    }
}
