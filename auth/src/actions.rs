//! What decisions are made about: artifact kinds, artifact actions and people actions (R-TEN-6).

use crate::wire::wire_enum;

wire_enum! {
    /// A kind of artifact kept in the registry.
    ///
    /// Parsing also accepts `IMAGE` (container), `HELM` and `CHART` (Helm chart) and `RECIPE`
    /// (NGC's internal name for resources).
    pub enum ArtifactKind ("artifact kind") {
        /// A container image repository (OCI).
        Container = "CONTAINER" | "IMAGE",
        /// A model with versions of files.
        Model = "MODEL",
        /// A resource (formerly "model script") with versions of files.
        Resource = "RESOURCE" | "RECIPE",
        /// A Helm chart.
        HelmChart = "HELM_CHART" | "HELM" | "CHART",
        /// A collection grouping artifacts of any kind (R-COL-1).
        Collection = "COLLECTION",
    }
}

wire_enum! {
    /// An action on an artifact; the same words as the service-key scopes of guide §2.3.2.2.
    ///
    /// The caller decides which action a request needs; typically: catalog, listings and
    /// searches are [`List`](ArtifactAction::List); info and metadata are
    /// [`View`](ArtifactAction::View); pulls and file downloads are
    /// [`Download`](ArtifactAction::Download); creating a record is
    /// [`Create`](ArtifactAction::Create); pushing content is
    /// [`Upload`](ArtifactAction::Upload); editing metadata is
    /// [`Update`](ArtifactAction::Update); removal is [`Delete`](ArtifactAction::Delete).
    pub enum ArtifactAction ("artifact action") {
        /// List artifacts, versions or tags.
        List = "LIST",
        /// View an artifact's information and metadata.
        View = "VIEW" | "GET",
        /// Download (pull) content.
        Download = "DOWNLOAD" | "PULL",
        /// Create an artifact record.
        Create = "CREATE",
        /// Upload (push) content.
        Upload = "UPLOAD" | "PUSH",
        /// Edit an artifact's metadata.
        Update = "UPDATE",
        /// Delete an artifact, version or tag.
        Delete = "DELETE",
    }
}

wire_enum! {
    /// An action on the people side of an org: users, teams, roles and keys.
    pub enum PeopleAction ("people action") {
        /// View the details of the org or team.
        ViewOrgDetails = "VIEW_ORG_DETAILS",
        /// List and view users and their roles.
        ViewUsers = "VIEW_USERS",
        /// Add (invite) users to the org or a team.
        AddUsers = "ADD_USERS",
        /// Remove users from the org or a team.
        RemoveUsers = "REMOVE_USERS",
        /// Grant and remove roles (subject to [`crate::can_grant`]).
        UpdateUserRoles = "UPDATE_USER_ROLES",
        /// Create teams (org-level holders only; the caller decides by context).
        CreateTeams = "CREATE_TEAMS",
        /// Edit a team's description.
        UpdateTeams = "UPDATE_TEAMS",
        /// Delete teams (org-level holders only; the caller decides by context).
        DeleteTeams = "DELETE_TEAMS",
        /// Create, rotate, deactivate and delete the org's service keys (org-level holders only,
        /// R-KEY-2; the caller decides by context).
        ManageServiceKeys = "MANAGE_SERVICE_KEYS",
        /// Revoke, deactivate or delete any member's keys (R-KEY-4).
        RevokeMemberKeys = "REVOKE_MEMBER_KEYS",
    }
}

impl ArtifactAction {
    /// Whether the action only reads (list, view, download).
    pub const fn is_read_only(self) -> bool {
        matches!(
            self,
            ArtifactAction::List | ArtifactAction::View | ArtifactAction::Download
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A proptest strategy for any artifact kind.
    pub(crate) fn any_kind() -> impl Strategy<Value = ArtifactKind> {
        proptest::sample::select(ArtifactKind::ALL)
    }

    /// A proptest strategy for any artifact action.
    pub(crate) fn any_artifact_action() -> impl Strategy<Value = ArtifactAction> {
        proptest::sample::select(ArtifactAction::ALL)
    }

    /// A proptest strategy for any people action.
    pub(crate) fn any_people_action() -> impl Strategy<Value = PeopleAction> {
        proptest::sample::select(PeopleAction::ALL)
    }

    #[test]
    fn kinds_use_ngc_wire_names() {
        let names: Vec<String> = ArtifactKind::ALL.iter().map(|k| k.to_string()).collect();
        assert_eq!(
            names,
            ["CONTAINER", "MODEL", "RESOURCE", "HELM_CHART", "COLLECTION"]
        );
        assert_eq!(
            serde_json::to_string(&ArtifactKind::HelmChart).unwrap(),
            "\"HELM_CHART\""
        );
        assert_eq!(
            "helm-chart".parse::<ArtifactKind>().unwrap(),
            ArtifactKind::HelmChart
        );
        assert_eq!(
            "recipe".parse::<ArtifactKind>().unwrap(),
            ArtifactKind::Resource
        );
        assert!("dataset".parse::<ArtifactKind>().is_err());
    }

    #[test]
    fn actions_round_trip() {
        for a in ArtifactAction::ALL {
            assert_eq!(a.as_str().parse::<ArtifactAction>().unwrap(), *a);
            let json = serde_json::to_string(a).unwrap();
            assert_eq!(serde_json::from_str::<ArtifactAction>(&json).unwrap(), *a);
        }
        for a in PeopleAction::ALL {
            assert_eq!(a.as_str().parse::<PeopleAction>().unwrap(), *a);
        }
        assert_eq!(ArtifactAction::ALL.len(), 7);
        assert_eq!(PeopleAction::ALL.len(), 10);
    }

    #[test]
    fn read_only_actions() {
        let ro: Vec<ArtifactAction> = ArtifactAction::ALL
            .iter()
            .copied()
            .filter(|a| a.is_read_only())
            .collect();
        assert_eq!(
            ro,
            [
                ArtifactAction::List,
                ArtifactAction::View,
                ArtifactAction::Download
            ]
        );
    }
}
