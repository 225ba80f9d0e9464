//! Org quotas and usage (R-QUO-1, R-QUO-2): the operator's actions that change an org's limits
//! and read its usage, and the members' read-only view of that usage.
//!
//! [`Arca::set_org_quota`] and [`Arca::org_usage`] are **operator actions**: they take no
//! [`Principal`] and decide nothing, because they are meant for the server operator's command
//! line (`arca-server org set-quota|show`), which runs with direct access to the stores — the
//! same trust as `arca-server bootstrap`. Never route them from the network API; members read
//! usage through [`Arca::view_org_usage`], which is authorized like the org's details.
//!
//! Both read and write the metadata store only: the limits live on the org row, the usage in
//! the per-org ledgers where every blob counts once (`images`: image layers, configs and
//! manifests; `models`: model and resource files).

use crate::authz::{decide, Action, Principal, Target};
use crate::error::CoreError;
use crate::model::Org;
use crate::names::OrgId;
use crate::quota::QuotaLimits;
use crate::registry::IMAGES_LEDGER;
use crate::service::retry_conflicts;
use crate::tenancy::require;
use crate::Arca;
use arca_auth::PeopleAction;
use serde::Serialize;

/// The usage ledger of models and resources (they share one limit, guide chapter 7).
pub const MODELS_LEDGER: &str = "models";

/// A partial change of an org's limits: `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaPatch {
    /// New single-layer limit in bytes.
    pub max_layer_bytes: Option<u64>,
    /// New total of the org's images in bytes.
    pub max_image_bytes: Option<u64>,
    /// New total of the org's models and resources in bytes.
    pub max_model_resource_bytes: Option<u64>,
}

impl QuotaPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == QuotaPatch::default()
    }

    /// `limits` with the patched values.
    pub fn apply(&self, limits: QuotaLimits) -> QuotaLimits {
        QuotaLimits {
            max_layer_bytes: self.max_layer_bytes.unwrap_or(limits.max_layer_bytes),
            max_image_bytes: self.max_image_bytes.unwrap_or(limits.max_image_bytes),
            max_model_resource_bytes: self
                .max_model_resource_bytes
                .unwrap_or(limits.max_model_resource_bytes),
        }
    }
}

/// One ledger: bytes counted and the limit they count against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LedgerUsage {
    /// Bytes counted (each distinct blob once).
    pub used: u64,
    /// The limit in bytes.
    pub limit: u64,
}

impl LedgerUsage {
    /// Bytes left before the limit (0 when at or over it, e.g. after the limit was lowered).
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

/// An org's usage against its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgUsage {
    /// Container images: layers, configs and manifests.
    pub images: LedgerUsage,
    /// Models and resources.
    pub models_and_resources: LedgerUsage,
    /// The single-layer limit (not a ledger: checked per upload).
    pub max_layer_bytes: u64,
}

async fn usage_of(arca: &Arca, org: &OrgId) -> Result<(Org, OrgUsage), CoreError> {
    let mut tx = arca.meta.begin_read().await?;
    let o = tx
        .get_org(org)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("org {org}")))?;
    let images = tx.usage(org, IMAGES_LEDGER).await?;
    let models = tx.usage(org, MODELS_LEDGER).await?;
    let usage = OrgUsage {
        images: LedgerUsage {
            used: images,
            limit: o.quota.max_image_bytes,
        },
        models_and_resources: LedgerUsage {
            used: models,
            limit: o.quota.max_model_resource_bytes,
        },
        max_layer_bytes: o.quota.max_layer_bytes,
    };
    Ok((o, usage))
}

impl Arca {
    /// Changes an org's limits (R-QUO-1) and returns the org as stored.
    ///
    /// An **operator action** for the server's command line (`arca-server org set-quota`): no
    /// principal, no authorization. A limit below the current usage is accepted; it refuses
    /// further uploads until usage falls below it. `NotFound` if the org does not exist.
    pub async fn set_org_quota(&self, org: &OrgId, patch: &QuotaPatch) -> Result<Org, CoreError> {
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            let mut o = tx
                .get_org(org)
                .await?
                .ok_or_else(|| CoreError::NotFound(format!("org {org}")))?;
            o.quota = patch.apply(o.quota);
            tx.update_org(&o).await?;
            tx.commit().await?;
            Ok(o)
        })
        .await
    }

    /// An org with its usage per ledger (R-QUO-2), read in one snapshot.
    ///
    /// An **operator action** for the server's command line (`arca-server org show`): no
    /// principal, no authorization; members use [`Arca::view_org_usage`].
    pub async fn org_usage(&self, org: &OrgId) -> Result<(Org, OrgUsage), CoreError> {
        usage_of(self, org).await
    }

    /// An org's usage, for a caller who may view the org's details (every member of the org,
    /// team-only members included, and the org's service keys); others get `NotFound`.
    pub async fn view_org_usage(&self, p: &Principal, org: &OrgId) -> Result<OrgUsage, CoreError> {
        require(
            decide(
                p,
                Action::People(PeopleAction::ViewOrgDetails),
                &Target::Org(org),
            ),
            || format!("org {org}"),
        )?;
        Ok(usage_of(self, org).await?.1)
    }
}

/// The bytes a team's artifacts reference (R-QUO-2, "usage visible per team"): each distinct
/// blob once within the team. A blob shared with other teams or the org level counts in each
/// of them; the org's ledgers (which count it once) are what the quota checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamUsage {
    /// Container images of the team's repositories (manifests, configs, layers; Helm charts
    /// are stored as images too).
    pub images: u64,
    /// Files of the team's models and resources.
    pub models_and_resources: u64,
}

impl Arca {
    /// A team's usage, for a caller who may view the team (its members, the org's members
    /// with org-level roles, the org's service keys); others get `NotFound`. Computed from the
    /// metadata store: the team's repositories' manifests and blobs, and its models' and
    /// resources' version files.
    pub async fn view_team_usage(
        &self,
        p: &Principal,
        org: &OrgId,
        team: &crate::names::TeamName,
    ) -> Result<TeamUsage, CoreError> {
        require(
            decide(
                p,
                Action::People(PeopleAction::ViewOrgDetails),
                &Target::Team(org, team),
            ),
            || format!("team {org}/{team}"),
        )?;
        let mut tx = self.meta.begin_read().await?;
        if tx.get_team(org, team).await?.is_none() {
            return Err(CoreError::NotFound(format!("team {org}/{team}")));
        }
        let mut images: std::collections::HashMap<String, u64> = Default::default();
        for repo in tx.list_repos(org).await? {
            if repo.team.as_ref() != Some(team) {
                continue;
            }
            for m in tx.list_manifests(repo.id).await? {
                images.insert(m.digest.clone(), m.size);
                for b in &m.blobs {
                    if !images.contains_key(b) {
                        let size = tx.get_blob(b).await?.map(|r| r.size).unwrap_or(0);
                        images.insert(b.clone(), size);
                    }
                }
            }
        }
        let mut files: std::collections::HashMap<String, u64> = Default::default();
        for kind in [
            arca_auth::ArtifactKind::Model,
            arca_auth::ArtifactKind::Resource,
        ] {
            let ids: std::collections::HashSet<i64> = tx
                .list_artifacts(kind, org)
                .await?
                .into_iter()
                .filter(|a| a.team.as_ref() == Some(team))
                .map(|a| a.id)
                .collect();
            if ids.is_empty() {
                continue;
            }
            for v in tx.list_org_versions(kind, org).await? {
                if ids.contains(&v.artifact_id) {
                    for f in tx.version_files(v.id).await? {
                        files.insert(f.digest, f.size);
                    }
                }
            }
        }
        Ok(TeamUsage {
            images: images.values().sum(),
            models_and_resources: files.values().sum(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_keeps_what_it_does_not_name() {
        let base = QuotaLimits::default();
        assert!(QuotaPatch::default().is_empty());
        assert_eq!(QuotaPatch::default().apply(base), base);
        let p = QuotaPatch {
            max_image_bytes: Some(5),
            ..QuotaPatch::default()
        };
        assert!(!p.is_empty());
        let l = p.apply(base);
        assert_eq!(l.max_image_bytes, 5);
        assert_eq!(l.max_layer_bytes, base.max_layer_bytes);
        assert_eq!(l.max_model_resource_bytes, base.max_model_resource_bytes);
    }

    #[test]
    fn usage_serializes_in_the_rest_shape() {
        let u = OrgUsage {
            images: LedgerUsage { used: 3, limit: 10 },
            models_and_resources: LedgerUsage { used: 0, limit: 7 },
            max_layer_bytes: 4,
        };
        assert_eq!(
            serde_json::to_value(u).unwrap(),
            serde_json::json!({
                "images": {"used": 3, "limit": 10},
                "modelsAndResources": {"used": 0, "limit": 7},
                "maxLayerBytes": 4,
            })
        );
        assert_eq!(u.images.remaining(), 7);
        assert_eq!(LedgerUsage { used: 9, limit: 2 }.remaining(), 0);
    }
}
