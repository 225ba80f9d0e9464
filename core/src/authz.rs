//! Authorization: the one place where Arca decides whether a caller may do something.
//!
//! Every handler describes the request as an [`Action`] on a [`Target`] and calls [`decide`];
//! no handler checks a role itself. The role data is defined once in `arca-auth`; here it is
//! combined with the caller's *current* grants (loaded on every request) and the key's services,
//! scopes and entity filter.
//!
//! Visibility (R-TEN-7): a caller who may not even *see* the target gets [`Decision::Hidden`]
//! (answered as 404, so nothing leaks across orgs or teams); a caller who may see it but not do
//! the action gets [`Decision::Denied`] (403).

use crate::model::{ApiKey, RoleGrant, User};
use crate::names::{OrgId, TeamName};
use arca_auth::{
    any_allows_artifact, any_allows_people, personal_key_allows_artifact,
    personal_key_allows_people, service_key_allows, ArtifactAction, ArtifactKind, EntityFilter,
    KeyKind, KeyService, PeopleAction, Role,
};

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Principal {
    /// No credential.
    Anonymous,
    /// A caller authenticated by an API key (directly or through a token issued for it).
    Key(Box<KeyPrincipal>),
}

/// A key and, for personal and legacy keys, its user with the user's current grants in the
/// key's org.
#[derive(Debug, Clone)]
pub struct KeyPrincipal {
    /// The key.
    pub key: ApiKey,
    /// The key's user (personal and legacy keys).
    pub user: Option<User>,
    /// The user's grants in the key's org, org level and team level.
    pub grants: Vec<RoleGrant>,
    /// For a registry token: the repositories and actions it was issued for. `None` for a key
    /// presented directly or a token without registry scopes (full rights of the key).
    pub token_access: Option<Vec<crate::authn::TokenAccess>>,
}

impl KeyPrincipal {
    /// Roles effective for `team` (`None`: the org itself): org-level roles always count;
    /// team-level roles count only in their team.
    pub fn roles_in(&self, team: Option<&TeamName>) -> Vec<Role> {
        let mut roles: Vec<Role> = self
            .grants
            .iter()
            .filter(|g| g.team.is_none() || (team.is_some() && g.team.as_ref() == team))
            .map(|g| g.role)
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// Org-level roles only.
    pub fn org_roles(&self) -> Vec<Role> {
        self.roles_in(None)
    }

    /// Whether the user holds any role in `team` itself (not counting org-level roles).
    pub fn is_team_member(&self, team: &TeamName) -> bool {
        self.grants.iter().any(|g| g.team.as_ref() == Some(team))
    }

    fn services(&self) -> &[KeyService] {
        match self.key.kind {
            KeyKind::Legacy => KeyService::ALL,
            _ => &self.key.services,
        }
    }
}

/// What is being acted on.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// An org as a whole (its details, users, teams, service keys).
    Org(&'a OrgId),
    /// A team.
    Team(&'a OrgId, &'a TeamName),
    /// Artifacts of one kind at org level (`team` None) or in a team; `name` None means the
    /// collection (listing, creating).
    Artifact {
        /// Kind of artifact.
        kind: ArtifactKind,
        /// Owning org.
        org: &'a OrgId,
        /// Owning team.
        team: Option<&'a TeamName>,
        /// The artifact's name, or None for the collection.
        name: Option<&'a str>,
    },
}

impl Target<'_> {
    fn org(&self) -> &OrgId {
        match self {
            Target::Org(o) | Target::Team(o, _) => o,
            Target::Artifact { org, .. } => org,
        }
    }

    fn team(&self) -> Option<&TeamName> {
        match self {
            Target::Org(_) => None,
            Target::Team(_, t) => Some(t),
            Target::Artifact { team, .. } => *team,
        }
    }

    /// The full entity path (`org/[team/]name`) for entity filters.
    fn entity_path(&self) -> Option<String> {
        match self {
            Target::Artifact {
                org,
                team,
                name: Some(n),
                ..
            } => Some(match team {
                Some(t) => format!("{org}/{t}/{n}"),
                None => format!("{org}/{n}"),
            }),
            _ => None,
        }
    }
}

/// What the caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An artifact action.
    Artifact(ArtifactAction),
    /// A people-and-teams action.
    People(PeopleAction),
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allowed,
    /// No credential, or one that does not work here: 401.
    Unauthenticated,
    /// The caller may not see the target at all: answer as if it did not exist (404).
    Hidden,
    /// The caller sees the target but may not do this: 403, with the reason.
    Denied(String),
}

impl Decision {
    /// Whether the action is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed)
    }
}

fn key_allows(p: &KeyPrincipal, roles: &[Role], action: Action, target: &Target<'_>) -> bool {
    match (p.key.kind, action) {
        (KeyKind::Service, Action::Artifact(a)) => {
            let Target::Artifact { kind, .. } = target else {
                return false;
            };
            let entity = target.entity_path();
            let filter = p.key.entity.clone().unwrap_or(EntityFilter::AllEntities);
            service_key_allows(&p.key.scopes, &filter, *kind, a, entity.as_deref())
        }
        // Service keys are org-owned machines: they see their org's details, nothing of people.
        (KeyKind::Service, Action::People(a)) => a == PeopleAction::ViewOrgDetails,
        (_, Action::Artifact(a)) => personal_key_allows_artifact(p.services(), roles, a),
        (_, Action::People(a)) => personal_key_allows_people(p.services(), roles, a),
    }
}

/// Whether the caller may at least see the target (its existence).
fn can_see(p: &KeyPrincipal, roles: &[Role], target: &Target<'_>) -> bool {
    match target {
        Target::Org(_) => p.key.kind == KeyKind::Service || !roles.is_empty(),
        Target::Team(_, team) => {
            p.key.kind == KeyKind::Service || !p.org_roles().is_empty() || p.is_team_member(team)
        }
        Target::Artifact { .. } => {
            let view = Action::Artifact(ArtifactAction::View);
            let list = Action::Artifact(ArtifactAction::List);
            key_allows(p, roles, view, target) || key_allows(p, roles, list, target)
        }
    }
}

/// People actions that exist only at org level (R-TEN-2: only org owners and org-level user
/// admins create or delete teams; service keys belong to the org): asked about a team, they
/// are decided on the team's org.
const ORG_LEVEL_ONLY: &[PeopleAction] = &[
    PeopleAction::CreateTeams,
    PeopleAction::DeleteTeams,
    PeopleAction::ManageServiceKeys,
    PeopleAction::RevokeMemberKeys,
];

/// Marker at the start of the reason of a denial caused by a registry token's scope, so that
/// the registry can answer with a fresh token challenge (`error="insufficient_scope"`).
pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";

/// Whether a registry token's access list covers `action` on `target` (Docker token
/// semantics: `pull`, `push`, `delete` or `*` per repository; `registry:catalog:*` for
/// listing). A token scoped to registry access never reaches anything else.
fn token_allows(access: &[crate::authn::TokenAccess], action: Action, target: &Target<'_>) -> bool {
    let (
        Target::Artifact {
            kind: ArtifactKind::Container,
            ..
        },
        Action::Artifact(a),
    ) = (target, action)
    else {
        return false;
    };
    let Some(path) = target.entity_path() else {
        return a == ArtifactAction::List;
    };
    let needed = match a {
        ArtifactAction::Download | ArtifactAction::View | ArtifactAction::List => "pull",
        ArtifactAction::Upload | ArtifactAction::Create | ArtifactAction::Update => "push",
        ArtifactAction::Delete => "delete",
    };
    access.iter().any(|e| {
        (e.kind == "repository"
            && e.name == path
            && e.actions.iter().any(|x| x == needed || x == "*"))
            || (a == ArtifactAction::List && e.kind == "registry" && e.name == "catalog")
    })
}

/// Decides whether `principal` may do `action` on `target`.
pub fn decide(principal: &Principal, action: Action, target: &Target<'_>) -> Decision {
    let decision = decide_for_key(principal, action, target);
    match (principal, &decision) {
        (Principal::Key(p), Decision::Allowed) => match &p.token_access {
            Some(access) if !token_allows(access, action, target) => Decision::Denied(format!(
                "{INSUFFICIENT_SCOPE}: the token was not issued for this; request one with the \
                 needed scope"
            )),
            _ => decision,
        },
        _ => decision,
    }
}

fn decide_for_key(principal: &Principal, action: Action, target: &Target<'_>) -> Decision {
    if let (Target::Team(org, _), Action::People(a)) = (target, action) {
        if ORG_LEVEL_ONLY.contains(&a) {
            return decide_for_key(principal, action, &Target::Org(org));
        }
    }
    let p = match principal {
        Principal::Anonymous => return Decision::Unauthenticated,
        Principal::Key(p) => p,
    };
    if &p.key.org != target.org() {
        // A key works in its own org only; other orgs do not exist for it.
        return Decision::Hidden;
    }
    let roles = match (p.key.kind, target, action) {
        (KeyKind::Service, _, _) => Vec::new(),
        // Every member of the org, team members included, may see the org's details.
        (_, Target::Org(_), Action::People(PeopleAction::ViewOrgDetails)) => {
            let mut all: Vec<Role> = p.grants.iter().map(|g| g.role).collect();
            all.sort();
            all.dedup();
            all
        }
        _ => p.roles_in(target.team()),
    };
    if p.key.kind != KeyKind::Service {
        let sees = match (target, action) {
            // Any member of the org sees the org itself (then its roles decide: 403, not 404).
            (Target::Org(_), _) => !p.grants.is_empty(),
            (_, Action::People(_)) | (Target::Team(..), _) => {
                !roles.is_empty() || target.team().is_some_and(|t| p.is_team_member(t))
            }
            (Target::Artifact { .. }, Action::Artifact(_)) => {
                any_allows_artifact(&roles, ArtifactAction::View)
                    || any_allows_artifact(&roles, ArtifactAction::List)
            }
        };
        if !sees {
            return Decision::Hidden;
        }
        let role_ok = match action {
            Action::Artifact(a) => any_allows_artifact(&roles, a),
            Action::People(a) => any_allows_people(&roles, a),
        };
        if !role_ok {
            return Decision::Denied(format!(
                "your roles here ({}) do not allow {}",
                if roles.is_empty() {
                    "none".to_string()
                } else {
                    roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                describe(action)
            ));
        }
    } else if !can_see(p, &roles, target) {
        return Decision::Hidden;
    }
    if key_allows(p, &roles, action, target) {
        Decision::Allowed
    } else {
        Decision::Denied(format!("this API key does not allow {}", describe(action)))
    }
}

fn describe(action: Action) -> String {
    match action {
        Action::Artifact(a) => format!("the artifact action {a}"),
        Action::People(a) => format!("the action {a}"),
    }
}

/// Whether a team-level target is visible for listing to the principal (used to filter lists
/// so they never leak names the caller cannot see).
pub fn visible(principal: &Principal, action: Action, target: &Target<'_>) -> bool {
    !matches!(
        decide(principal, action, target),
        Decision::Hidden | Decision::Unauthenticated
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ApiKey;
    use chrono::Utc;
    use uuid::Uuid;

    fn org(s: &str) -> OrgId {
        OrgId::new(s).unwrap()
    }
    fn team(s: &str) -> TeamName {
        TeamName::new(s).unwrap()
    }

    fn key(kind: KeyKind, services: Vec<KeyService>) -> ApiKey {
        ApiKey {
            id: Uuid::nil(),
            kind,
            org: org("acme"),
            user_id: (kind != KeyKind::Service).then_some(7),
            name: "k".into(),
            secret_hash: "h".into(),
            hint: "x".into(),
            services,
            scopes: vec![],
            entity: None,
            active: true,
            expires_at: None,
            created_at: Utc::now(),
            rotated_at: None,
            last_used_at: None,
        }
    }

    fn user_with(grants: &[(Option<&str>, Role)]) -> Principal {
        Principal::Key(Box::new(KeyPrincipal {
            key: key(KeyKind::Personal, KeyService::ALL.to_vec()),
            user: None,
            token_access: None,
            grants: grants
                .iter()
                .map(|(t, r)| RoleGrant {
                    user_id: 7,
                    org: org("acme"),
                    team: t.map(team),
                    role: *r,
                })
                .collect(),
        }))
    }

    fn container<'a>(o: &'a OrgId, t: Option<&'a TeamName>, name: &'a str) -> Target<'a> {
        Target::Artifact {
            kind: ArtifactKind::Container,
            org: o,
            team: t,
            name: Some(name),
        }
    }

    const PULL: Action = Action::Artifact(ArtifactAction::Download);
    const PUSH: Action = Action::Artifact(ArtifactAction::Upload);

    #[test]
    fn anonymous_must_authenticate() {
        let o = org("acme");
        assert_eq!(
            decide(&Principal::Anonymous, PULL, &container(&o, None, "r")),
            Decision::Unauthenticated
        );
    }

    #[test]
    fn other_orgs_do_not_exist() {
        let p = user_with(&[(None, Role::OrgOwner)]);
        let other = org("zeta");
        assert_eq!(
            decide(&p, PULL, &container(&other, None, "r")),
            Decision::Hidden
        );
        assert_eq!(
            decide(
                &p,
                Action::People(PeopleAction::ViewUsers),
                &Target::Org(&other)
            ),
            Decision::Hidden
        );
    }

    #[test]
    fn team_artifacts_are_invisible_to_other_teams() {
        let o = org("acme");
        let (vision, audio) = (team("vision"), team("audio"));
        let p = user_with(&[(Some("audio"), Role::RegistryAdmin)]);
        assert_eq!(
            decide(&p, PULL, &container(&o, Some(&vision), "r")),
            Decision::Hidden
        );
        assert!(decide(&p, PUSH, &container(&o, Some(&audio), "r")).is_allowed());
        // Team-level roles give nothing at org level.
        assert_eq!(
            decide(&p, PULL, &container(&o, None, "r")),
            Decision::Hidden
        );
    }

    #[test]
    fn org_level_roles_see_every_team() {
        let o = org("acme");
        let vision = team("vision");
        let p = user_with(&[(None, Role::RegistryRead)]);
        let t = container(&o, Some(&vision), "r");
        assert!(decide(&p, PULL, &t).is_allowed());
        assert!(matches!(decide(&p, PUSH, &t), Decision::Denied(_)));
    }

    #[test]
    fn user_admin_views_but_does_not_download() {
        let o = org("acme");
        let p = user_with(&[(None, Role::UserAdmin)]);
        let t = container(&o, None, "r");
        assert!(decide(&p, Action::Artifact(ArtifactAction::View), &t).is_allowed());
        assert!(matches!(decide(&p, PULL, &t), Decision::Denied(_)));
        assert!(decide(&p, Action::People(PeopleAction::AddUsers), &Target::Org(&o)).is_allowed());
    }

    #[test]
    fn personal_key_services_limit_the_roles() {
        let o = org("acme");
        let mut p = match user_with(&[(None, Role::OrgOwner)]) {
            Principal::Key(k) => k,
            Principal::Anonymous => unreachable!(),
        };
        p.key.services = vec![KeyService::UserManagement];
        let p = Principal::Key(p);
        assert!(matches!(
            decide(&p, PULL, &container(&o, None, "r")),
            Decision::Denied(_)
        ));
        assert!(decide(&p, Action::People(PeopleAction::AddUsers), &Target::Org(&o)).is_allowed());
    }

    #[test]
    fn service_key_scopes_and_entity() {
        use arca_auth::ServiceKeyScope as S;
        let o = org("acme");
        let mut k = key(KeyKind::Service, vec![KeyService::PrivateRegistry]);
        k.scopes = vec![S::GetContainer, S::ListContainers, S::DownloadContainer];
        k.entity = Some(EntityFilter::SpecificContainer("acme/base".into()));
        let p = Principal::Key(Box::new(KeyPrincipal {
            key: k,
            user: None,
            grants: vec![],
            token_access: None,
        }));
        assert!(decide(&p, PULL, &container(&o, None, "base")).is_allowed());
        assert!(matches!(
            decide(&p, PUSH, &container(&o, None, "base")),
            Decision::Denied(_)
        ));
        assert_eq!(
            decide(&p, PULL, &container(&o, None, "other")),
            Decision::Hidden
        );
        assert!(matches!(
            decide(
                &p,
                Action::People(PeopleAction::ViewUsers),
                &Target::Org(&o)
            ),
            Decision::Denied(_)
        ));
    }
}
