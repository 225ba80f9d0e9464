//! Tenancy use cases: orgs, teams, users and their roles (R-TEN-1..8).

use crate::authz::{decide, Action, Decision, KeyPrincipal, Principal, Target};
use crate::error::CoreError;
use crate::model::{NewTeam, NewUser, Org, RoleGrant, Team, User};
use crate::names::{Email, OrgId, TeamName};
use crate::ports::MetadataTx;
use crate::Arca;
use arca_auth::{check_org_owner_limit, check_role_assignment_at, GrantLevel, PeopleAction, Role};

/// Turns a decision into a result; `what` names the target for a 404.
pub fn require(decision: Decision, what: impl FnOnce() -> String) -> Result<(), CoreError> {
    match decision {
        Decision::Allowed => Ok(()),
        Decision::Unauthenticated => Err(CoreError::Unauthenticated(
            "authentication required: present an API key".into(),
        )),
        Decision::Hidden => Err(CoreError::NotFound(what())),
        Decision::Denied(reason) => Err(CoreError::Forbidden(reason)),
    }
}

fn key_principal(p: &Principal) -> Result<&KeyPrincipal, CoreError> {
    match p {
        Principal::Key(k) => Ok(k),
        Principal::Anonymous => Err(CoreError::Unauthenticated(
            "authentication required: present an API key".into(),
        )),
    }
}

/// The result of adding a member: the member, and for a user who had no key in the org yet, a
/// first personal key (valid 7 days) for the admin to hand over — Arca has no password login.
#[derive(Debug)]
pub struct AddedMember {
    /// The member.
    pub member: Member,
    /// The user's first key in the org, if one was made.
    pub initial_key: Option<crate::keys::CreatedKey>,
}

/// What a caller may do in one org or team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    /// Allowed artifact actions per kind (on the collection: list, create, …).
    pub artifacts: Vec<(arca_auth::ArtifactKind, Vec<arca_auth::ArtifactAction>)>,
    /// Allowed people actions.
    pub people: Vec<PeopleAction>,
}

/// A user with their grants in one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user.
    pub user: User,
    /// Their grants in the org (org and team level).
    pub grants: Vec<RoleGrant>,
}

/// `org O` or `team O/T`, for messages.
fn context_name(org: &OrgId, team: Option<&TeamName>) -> String {
    team.map_or(format!("org {org}"), |t| format!("team {org}/{t}"))
}

/// Where a grant in this context lives.
fn grant_level(team: Option<&TeamName>) -> GrantLevel {
    if team.is_some() {
        GrantLevel::Team
    } else {
        GrantLevel::Org
    }
}

fn people_target<'a>(org: &'a OrgId, team: Option<&'a TeamName>) -> Target<'a> {
    match team {
        Some(t) => Target::Team(org, t),
        None => Target::Org(org),
    }
}

async fn org_or_404(tx: &mut dyn MetadataTx, org: &OrgId) -> Result<Org, CoreError> {
    tx.get_org(org)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("org {org}")))
}

async fn team_or_404(
    tx: &mut dyn MetadataTx,
    org: &OrgId,
    team: &TeamName,
) -> Result<Team, CoreError> {
    tx.get_team(org, team)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("team {org}/{team}")))
}

impl Arca {
    /// The orgs the caller can see: a key works in exactly one org.
    pub async fn list_orgs(&self, p: &Principal) -> Result<Vec<Org>, CoreError> {
        let k = key_principal(p)?;
        let mut tx = self.meta.begin_read().await?;
        Ok(tx.get_org(&k.key.org).await?.into_iter().collect())
    }

    /// One org's details.
    pub async fn get_org(&self, p: &Principal, org: &OrgId) -> Result<Org, CoreError> {
        require(
            decide(
                p,
                Action::People(PeopleAction::ViewOrgDetails),
                &Target::Org(org),
            ),
            || format!("org {org}"),
        )?;
        let mut tx = self.meta.begin_read().await?;
        org_or_404(tx.as_mut(), org).await
    }

    /// Teams of an org the caller can see: all of them for org-level members and service keys,
    /// only their own teams for team-only members (R-TEN-7).
    pub async fn list_teams(&self, p: &Principal, org: &OrgId) -> Result<Vec<Team>, CoreError> {
        let action = Action::People(PeopleAction::ViewOrgDetails);
        let mut tx = self.meta.begin_read().await?;
        let teams = tx.list_teams(org).await?;
        let visible: Vec<Team> = teams
            .into_iter()
            .filter(|t| decide(p, action, &Target::Team(org, &t.name)).is_allowed())
            .collect();
        if visible.is_empty() {
            // Distinguish "no teams" from "no access to the org".
            let d = decide(p, action, &Target::Org(org));
            if !matches!(d, Decision::Allowed) && !matches!(d, Decision::Denied(_)) {
                require(d, || format!("org {org}"))?;
            }
        }
        Ok(visible)
    }

    /// One team.
    pub async fn get_team(
        &self,
        p: &Principal,
        org: &OrgId,
        team: &TeamName,
    ) -> Result<Team, CoreError> {
        require(
            decide(
                p,
                Action::People(PeopleAction::ViewOrgDetails),
                &Target::Team(org, team),
            ),
            || format!("team {org}/{team}"),
        )?;
        let mut tx = self.meta.begin_read().await?;
        team_or_404(tx.as_mut(), org, team).await
    }

    /// Creates a team (org owners and org-level user admins only, R-TEN-2).
    pub async fn create_team(
        &self,
        p: &Principal,
        org: &OrgId,
        name: TeamName,
        description: String,
    ) -> Result<Team, CoreError> {
        crate::service::retry_conflicts(|| {
            self.create_team_once(p, org, name.clone(), description.clone())
        })
        .await
    }

    async fn create_team_once(
        &self,
        p: &Principal,
        org: &OrgId,
        name: TeamName,
        description: String,
    ) -> Result<Team, CoreError> {
        require(
            decide(
                p,
                Action::People(PeopleAction::CreateTeams),
                &Target::Org(org),
            ),
            || format!("org {org}"),
        )?;
        let mut tx = self.meta.begin().await?;
        org_or_404(tx.as_mut(), org).await?;
        if tx.get_team(org, &name).await?.is_some() {
            return Err(CoreError::AlreadyExists(format!("team {org}/{name}")));
        }
        let team = tx
            .insert_team(&NewTeam {
                org: org.clone(),
                name,
                description,
                created_at: self.clock.now(),
            })
            .await?;
        tx.commit().await?;
        Ok(team)
    }

    /// Changes a team's description (org-level or that team's user admins).
    pub async fn update_team(
        &self,
        p: &Principal,
        org: &OrgId,
        name: &TeamName,
        description: String,
    ) -> Result<Team, CoreError> {
        require(
            decide(
                p,
                Action::People(PeopleAction::UpdateTeams),
                &Target::Team(org, name),
            ),
            || format!("team {org}/{name}"),
        )?;
        let mut tx = self.meta.begin().await?;
        let mut team = team_or_404(tx.as_mut(), org, name).await?;
        team.description = description;
        tx.update_team(&team).await?;
        tx.commit().await?;
        Ok(team)
    }

    /// Deletes a team and every grant in it (org owners and org-level user admins only).
    pub async fn delete_team(
        &self,
        p: &Principal,
        org: &OrgId,
        name: &TeamName,
    ) -> Result<(), CoreError> {
        require(
            decide(
                p,
                Action::People(PeopleAction::DeleteTeams),
                &Target::Org(org),
            ),
            || format!("org {org}"),
        )?;
        let mut tx = self.meta.begin().await?;
        team_or_404(tx.as_mut(), org, name).await?;
        let repos = tx
            .list_repos(org)
            .await?
            .into_iter()
            .filter(|r| r.team.as_ref() == Some(name))
            .count();
        if repos > 0 {
            return Err(CoreError::Invalid(format!(
                "team {org}/{name} still holds {repos} container repositories; remove them first"
            )));
        }
        tx.delete_team(org, name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Members of an org (every user with a grant in it) or of a team.
    pub async fn list_members(
        &self,
        p: &Principal,
        org: &OrgId,
        team: Option<&TeamName>,
    ) -> Result<Vec<Member>, CoreError> {
        require(
            decide(
                p,
                Action::People(PeopleAction::ViewUsers),
                &people_target(org, team),
            ),
            || context_name(org, team),
        )?;
        let mut tx = self.meta.begin_read().await?;
        if let Some(t) = team {
            team_or_404(tx.as_mut(), org, t).await?;
        }
        let grants = tx.grants_in_org(org).await?;
        let mut ids: Vec<i64> = grants
            .iter()
            .filter(|g| team.is_none() || g.team.as_ref() == team)
            .map(|g| g.user_id)
            .collect();
        ids.sort();
        ids.dedup();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(user) = tx.get_user(id).await? {
                let mine = grants.iter().filter(|g| g.user_id == id).cloned().collect();
                out.push(Member { user, grants: mine });
            }
        }
        out.sort_by(|a, b| a.user.email.cmp(&b.user.email));
        Ok(out)
    }

    /// One member of an org, looked up by numeric id or email.
    pub async fn get_member(
        &self,
        p: &Principal,
        org: &OrgId,
        team: Option<&TeamName>,
        who: &str,
    ) -> Result<Member, CoreError> {
        let members = self.list_members(p, org, team).await?;
        members
            .into_iter()
            .find(|m| m.user.id.to_string() == who || m.user.email.as_str() == who.to_lowercase())
            .ok_or_else(|| CoreError::NotFound(format!("user {who}")))
    }

    /// Adds a user (created if unknown) to an org or team with `roles` (R-TEN-3..5).
    pub async fn add_member(
        &self,
        p: &Principal,
        org: &OrgId,
        team: Option<&TeamName>,
        email: &Email,
        display_name: Option<String>,
        roles: &[Role],
    ) -> Result<AddedMember, CoreError> {
        crate::service::retry_conflicts(|| {
            self.add_member_once(p, org, team, email, display_name.clone(), roles)
        })
        .await
    }

    async fn add_member_once(
        &self,
        p: &Principal,
        org: &OrgId,
        team: Option<&TeamName>,
        email: &Email,
        display_name: Option<String>,
        roles: &[Role],
    ) -> Result<AddedMember, CoreError> {
        let k = key_principal(p)?;
        let target = people_target(org, team);
        let what = || context_name(org, team);
        require(
            decide(p, Action::People(PeopleAction::AddUsers), &target),
            what,
        )?;
        let level = grant_level(team);
        check_role_assignment_at(level, &k.roles_in(team), roles)?;
        let mut tx = self.meta.begin().await?;
        org_or_404(tx.as_mut(), org).await?;
        if let Some(t) = team {
            team_or_404(tx.as_mut(), org, t).await?;
        }
        let user = match tx.get_user_by_email(email).await? {
            Some(u) => u,
            None => {
                tx.insert_user(&NewUser {
                    email: email.clone(),
                    display_name: display_name.unwrap_or_else(|| email.to_string()),
                    created_at: self.clock.now(),
                })
                .await?
            }
        };
        let existing = tx.grants_of_user(user.id).await?;
        if existing
            .iter()
            .any(|g| &g.org == org && g.team.as_ref() == team)
        {
            return Err(CoreError::AlreadyExists(format!(
                "{email} in {}; change their roles instead",
                what()
            )));
        }
        self.check_owner_limit(tx.as_mut(), org, user.id, team, roles)
            .await?;
        tx.set_roles(user.id, org, team, roles).await?;
        let grants: Vec<RoleGrant> = tx
            .grants_of_user(user.id)
            .await?
            .into_iter()
            .filter(|g| &g.org == org)
            .collect();
        let has_key = !tx.list_keys(org, Some(Some(user.id))).await?.is_empty();
        let initial_key = if has_key {
            None
        } else {
            let created = self.initial_key(org, &user, &grants)?;
            tx.insert_key(&created.key).await?;
            Some(created)
        };
        tx.commit().await?;
        Ok(AddedMember {
            member: Member { user, grants },
            initial_key,
        })
    }

    async fn check_owner_limit(
        &self,
        tx: &mut dyn MetadataTx,
        org: &OrgId,
        user_id: i64,
        team: Option<&TeamName>,
        roles: &[Role],
    ) -> Result<(), CoreError> {
        if team.is_none() && roles.contains(&Role::OrgOwner) {
            let owners = tx
                .grants_in_org(org)
                .await?
                .iter()
                .filter(|g| g.team.is_none() && g.role == Role::OrgOwner && g.user_id != user_id)
                .count();
            check_org_owner_limit(owners)?;
        }
        Ok(())
    }

    /// Replaces a member's roles in an org or team. The caller must be allowed to grant every
    /// role added or removed (R-TEN-5); the org keeps at least one owner.
    pub async fn update_member_roles(
        &self,
        p: &Principal,
        org: &OrgId,
        team: Option<&TeamName>,
        user_id: i64,
        roles: &[Role],
    ) -> Result<Member, CoreError> {
        crate::service::retry_conflicts(|| {
            self.update_member_roles_once(p, org, team, user_id, roles)
        })
        .await
    }

    async fn update_member_roles_once(
        &self,
        p: &Principal,
        org: &OrgId,
        team: Option<&TeamName>,
        user_id: i64,
        roles: &[Role],
    ) -> Result<Member, CoreError> {
        let k = key_principal(p)?;
        let target = people_target(org, team);
        let what = || context_name(org, team);
        require(
            decide(p, Action::People(PeopleAction::UpdateUserRoles), &target),
            what,
        )?;
        let level = grant_level(team);
        let granter = k.roles_in(team);
        let mut tx = self.meta.begin().await?;
        let user = tx
            .get_user(user_id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("user {user_id}")))?;
        let current: Vec<Role> = tx
            .grants_of_user(user_id)
            .await?
            .into_iter()
            .filter(|g| &g.org == org && g.team.as_ref() == team)
            .map(|g| g.role)
            .collect();
        if current.is_empty() {
            return Err(CoreError::NotFound(format!("user {user_id} in {}", what())));
        }
        // The new set must be a valid membership; every role added or removed must be one the
        // caller may grant (removing is granting in reverse). Unchanged roles are not re-granted.
        let added: Vec<Role> = roles
            .iter()
            .copied()
            .filter(|r| !current.contains(r))
            .collect();
        let removed: Vec<Role> = current
            .iter()
            .copied()
            .filter(|r| !roles.contains(r))
            .collect();
        check_role_assignment_at(level, &[Role::OrgOwner], roles)?;
        if let Some(r) = added
            .iter()
            .chain(removed.iter())
            .find(|r| !arca_auth::can_grant(&granter, **r))
        {
            return Err(CoreError::Forbidden(format!(
                "you may not grant or remove the role {r}"
            )));
        }
        self.check_owner_limit(tx.as_mut(), org, user_id, team, roles)
            .await?;
        if team.is_none() && current.contains(&Role::OrgOwner) && !roles.contains(&Role::OrgOwner) {
            self.ensure_other_owner(tx.as_mut(), org, user_id).await?;
        }
        tx.set_roles(user_id, org, team, roles).await?;
        let grants = tx
            .grants_of_user(user_id)
            .await?
            .into_iter()
            .filter(|g| &g.org == org)
            .collect();
        tx.commit().await?;
        Ok(Member { user, grants })
    }

    async fn ensure_other_owner(
        &self,
        tx: &mut dyn MetadataTx,
        org: &OrgId,
        user_id: i64,
    ) -> Result<(), CoreError> {
        let others = tx
            .grants_in_org(org)
            .await?
            .iter()
            .filter(|g| g.team.is_none() && g.role == Role::OrgOwner && g.user_id != user_id)
            .count();
        if others == 0 {
            return Err(CoreError::Invalid(format!(
                "org {org} must keep at least one ORG_OWNER"
            )));
        }
        Ok(())
    }

    /// Removes a member from a team, or from the org with all its teams. When the user is left
    /// with no role in the org, every key of theirs in the org is deleted at once (R-TEN-8).
    pub async fn remove_member(
        &self,
        p: &Principal,
        org: &OrgId,
        team: Option<&TeamName>,
        user_id: i64,
    ) -> Result<(), CoreError> {
        crate::service::retry_conflicts(|| self.remove_member_once(p, org, team, user_id)).await
    }

    async fn remove_member_once(
        &self,
        p: &Principal,
        org: &OrgId,
        team: Option<&TeamName>,
        user_id: i64,
    ) -> Result<(), CoreError> {
        let k = key_principal(p)?;
        let target = people_target(org, team);
        let what = || context_name(org, team);
        require(
            decide(p, Action::People(PeopleAction::RemoveUsers), &target),
            what,
        )?;
        let granter = k.roles_in(team);
        let mut tx = self.meta.begin().await?;
        let grants = tx.grants_of_user(user_id).await?;
        let here: Vec<Role> = grants
            .iter()
            .filter(|g| &g.org == org && (team.is_none() || g.team.as_ref() == team))
            .map(|g| g.role)
            .collect();
        if here.is_empty() {
            return Err(CoreError::NotFound(format!("user {user_id} in {}", what())));
        }
        if let Some(r) = here.iter().find(|r| !arca_auth::can_grant(&granter, **r)) {
            return Err(CoreError::Forbidden(format!(
                "you may not remove a member holding {r}"
            )));
        }
        match team {
            Some(t) => tx.set_roles(user_id, org, Some(t), &[]).await?,
            None => {
                if here.contains(&Role::OrgOwner) {
                    self.ensure_other_owner(tx.as_mut(), org, user_id).await?;
                }
                tx.remove_user_from_org(user_id, org).await?;
            }
        }
        let left = tx
            .grants_of_user(user_id)
            .await?
            .iter()
            .any(|g| &g.org == org);
        if !left {
            tx.delete_keys_of_user(user_id, org).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Looks up any user by numeric id or email, for callers who may add users or view users
    /// in the org or team (to add an existing user elsewhere, or change their roles). Returns
    /// the user with their current roles in exactly that context (empty if not a member).
    pub async fn find_user(
        &self,
        p: &Principal,
        org: &OrgId,
        team: Option<&TeamName>,
        who: &str,
    ) -> Result<(User, Vec<Role>), CoreError> {
        let target = people_target(org, team);
        let what = || context_name(org, team);
        let add = decide(p, Action::People(PeopleAction::AddUsers), &target);
        if !add.is_allowed() {
            require(
                decide(p, Action::People(PeopleAction::ViewUsers), &target),
                what,
            )?;
        }
        let mut tx = self.meta.begin_read().await?;
        let user = match who.parse::<i64>() {
            Ok(id) => tx.get_user(id).await?,
            Err(_) => match Email::normalize(who) {
                Ok(e) => tx.get_user_by_email(&e).await?,
                Err(_) => None,
            },
        }
        .ok_or_else(|| CoreError::NotFound(format!("user {who}")))?;
        let roles = tx
            .grants_of_user(user.id)
            .await?
            .into_iter()
            .filter(|g| &g.org == org && g.team.as_ref() == team)
            .map(|g| g.role)
            .collect();
        Ok((user, roles))
    }

    /// What the caller may do in an org or team: the artifact actions per artifact kind and
    /// the people actions, each decided by [`decide`] (for user interfaces and scripts that
    /// want to know before trying, like Harbor's permission endpoint).
    pub async fn permissions(
        &self,
        p: &Principal,
        org: &OrgId,
        team: Option<&TeamName>,
    ) -> Result<Permissions, CoreError> {
        let target = people_target(org, team);
        let view = decide(p, Action::People(PeopleAction::ViewOrgDetails), &target);
        require(view, || context_name(org, team))?;
        {
            let mut tx = self.meta.begin_read().await?;
            org_or_404(tx.as_mut(), org).await?;
            if let Some(t) = team {
                team_or_404(tx.as_mut(), org, t).await?;
            }
        }
        let artifacts = arca_auth::ArtifactKind::ALL
            .iter()
            .map(|kind| {
                let t = Target::Artifact {
                    kind: *kind,
                    org,
                    team,
                    name: None,
                };
                let allowed = arca_auth::ArtifactAction::ALL
                    .iter()
                    .copied()
                    .filter(|a| decide(p, Action::Artifact(*a), &t).is_allowed())
                    .collect();
                (*kind, allowed)
            })
            .collect();
        let people = PeopleAction::ALL
            .iter()
            .copied()
            .filter(|a| decide(p, Action::People(*a), &target).is_allowed())
            .collect();
        Ok(Permissions { artifacts, people })
    }

    /// The caller's own user with all their grants in every org.
    pub async fn me(&self, p: &Principal) -> Result<Member, CoreError> {
        let k = key_principal(p)?;
        let user = k.user.clone().ok_or_else(|| {
            CoreError::Invalid("a service key has no user; use a personal key".into())
        })?;
        let mut tx = self.meta.begin_read().await?;
        let grants = tx.grants_of_user(user.id).await?;
        Ok(Member { user, grants })
    }
}
