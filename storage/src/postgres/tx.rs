//! The [`MetadataTx`] methods of the PostgreSQL adapter: one SQL statement per write, each run
//! through [`PgTx::write`] (inside a savepoint).

use super::{opt_ts, ts, PgTx};
use crate::sql_common::{
    artifact_row, blob_row, grant_row, i64_of, key_row, manifest_row, map_err, org_row, owner_of,
    owner_of_user, part_row, repo_row, tag_row, team_col, team_row, to_json, u64_of, upload_row,
    user_row, version_file_row, version_row, SqlRow,
};
use arca_auth::{ArtifactKind, Role};
use arca_core::model::{
    ApiKey, Artifact, ArtifactVersion, BlobRecord, ManifestRecord, NewArtifact, NewArtifactVersion,
    NewOrg, NewRepository, NewTeam, NewUser, Org, RepoMetadata, Repository, RoleGrant, TagRecord,
    Team, UploadPart, UploadSession, User, VersionFile,
};
use arca_core::names::{Email, OrgId, TeamName};
use arca_core::ports::{MetadataTx, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[async_trait]
impl MetadataTx for PgTx {
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(|e| map_err(e, "commit"))
    }

    async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.rollback().await.map_err(|e| map_err(e, "rollback"))
    }

    async fn get_setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        let q = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key);
        self.fetch_opt(q, "setting", |r| r.text("value")).await
    }

    async fn put_setting_if_absent(
        &mut self,
        key: &str,
        value: &str,
    ) -> Result<String, StoreError> {
        let q = sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        );
        self.exec(q.bind(key).bind(value), "setting").await?;
        self.get_setting(key)
            .await?
            .ok_or_else(|| StoreError::Backend("setting vanished".into()))
    }

    async fn insert_org(&mut self, org: &NewOrg) -> Result<Org, StoreError> {
        let q = sqlx::query(
            "INSERT INTO orgs (name, display_name, description, quota, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING *",
        )
        .bind(org.name.as_str())
        .bind(&org.display_name)
        .bind(&org.description)
        .bind(to_json(&org.quota)?)
        .bind(ts(org.created_at));
        self.write_returning(q, &format!("org {}", org.name), org_row)
            .await
    }

    async fn get_org(&mut self, name: &OrgId) -> Result<Option<Org>, StoreError> {
        let q = sqlx::query("SELECT * FROM orgs WHERE name = $1").bind(name.as_str());
        self.fetch_opt(q, "org", org_row).await
    }

    async fn list_orgs(&mut self) -> Result<Vec<Org>, StoreError> {
        let q = sqlx::query("SELECT * FROM orgs ORDER BY name");
        self.fetch_all(q, "org", org_row).await
    }

    async fn update_org(&mut self, org: &Org) -> Result<(), StoreError> {
        let q = sqlx::query(
            "UPDATE orgs SET display_name = $1, description = $2, quota = $3 WHERE name = $4",
        )
        .bind(&org.display_name)
        .bind(&org.description)
        .bind(to_json(&org.quota)?)
        .bind(org.name.as_str());
        self.exec_one(q, &format!("org {}", org.name)).await
    }

    async fn insert_team(&mut self, team: &NewTeam) -> Result<Team, StoreError> {
        if self.get_org(&team.org).await?.is_none() {
            return Err(StoreError::NotFound(format!("org {}", team.org)));
        }
        let q = sqlx::query(
            "INSERT INTO teams (org, name, description, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING *",
        )
        .bind(team.org.as_str())
        .bind(team.name.as_str())
        .bind(&team.description)
        .bind(ts(team.created_at));
        let what = format!("team {}/{}", team.org, team.name);
        self.write_returning(q, &what, team_row).await
    }

    async fn get_team(&mut self, org: &OrgId, name: &TeamName) -> Result<Option<Team>, StoreError> {
        let q = sqlx::query("SELECT * FROM teams WHERE org = $1 AND name = $2")
            .bind(org.as_str())
            .bind(name.as_str());
        self.fetch_opt(q, "team", team_row).await
    }

    async fn list_teams(&mut self, org: &OrgId) -> Result<Vec<Team>, StoreError> {
        let q = sqlx::query("SELECT * FROM teams WHERE org = $1 ORDER BY name").bind(org.as_str());
        self.fetch_all(q, "team", team_row).await
    }

    async fn update_team(&mut self, team: &Team) -> Result<(), StoreError> {
        let q = sqlx::query("UPDATE teams SET description = $1 WHERE org = $2 AND name = $3")
            .bind(&team.description)
            .bind(team.org.as_str())
            .bind(team.name.as_str());
        self.exec_one(q, &format!("team {}/{}", team.org, team.name))
            .await
    }

    async fn delete_team(&mut self, org: &OrgId, name: &TeamName) -> Result<(), StoreError> {
        // One statement: the team and its grants go together or not at all.
        let q = sqlx::query(
            "WITH grants AS (DELETE FROM role_grants WHERE org = $1 AND team = $2) \
             DELETE FROM teams WHERE org = $1 AND name = $2",
        )
        .bind(org.as_str())
        .bind(name.as_str());
        self.exec_one(q, &format!("team {org}/{name}")).await
    }

    async fn insert_user(&mut self, user: &NewUser) -> Result<User, StoreError> {
        let q = sqlx::query(
            "INSERT INTO users (email, display_name, created_at) VALUES ($1, $2, $3) RETURNING *",
        )
        .bind(user.email.as_str())
        .bind(&user.display_name)
        .bind(ts(user.created_at));
        self.write_returning(q, &format!("user {}", user.email), user_row)
            .await
    }

    async fn get_user(&mut self, id: i64) -> Result<Option<User>, StoreError> {
        let q = sqlx::query("SELECT * FROM users WHERE id = $1").bind(id);
        self.fetch_opt(q, "user", user_row).await
    }

    async fn get_user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        let q = sqlx::query("SELECT * FROM users WHERE email = $1").bind(email.as_str());
        self.fetch_opt(q, "user", user_row).await
    }

    async fn update_user(&mut self, user: &User) -> Result<(), StoreError> {
        let q = sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
            .bind(&user.display_name)
            .bind(user.id);
        self.exec_one(q, &format!("user {}", user.id)).await
    }

    async fn set_roles(
        &mut self,
        user_id: i64,
        org: &OrgId,
        team: Option<&TeamName>,
        roles: &[Role],
    ) -> Result<(), StoreError> {
        self.writable()?;
        if self.get_user(user_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        if self.get_org(org).await?.is_none() {
            return Err(StoreError::NotFound(format!("org {org}")));
        }
        if let Some(t) = team {
            if self.get_team(org, t).await?.is_none() {
                return Err(StoreError::NotFound(format!("team {org}/{t}")));
            }
        }
        // One statement: drop the grants not in `roles`, add the missing ones.
        let roles: Vec<String> = roles.iter().map(Role::to_string).collect();
        let q = sqlx::query(
            "WITH dropped AS (DELETE FROM role_grants \
                 WHERE user_id = $1 AND org = $2 AND team = $3 AND NOT (role = ANY($4))) \
             INSERT INTO role_grants (user_id, org, team, role) \
                 SELECT $1, $2, $3, r FROM UNNEST($4::text[]) AS r ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(org.as_str())
        .bind(team.map(|t| t.as_str()).unwrap_or(""))
        .bind(roles);
        self.exec(q, "role grants").await.map(|_| ())
    }

    async fn grants_of_user(&mut self, user_id: i64) -> Result<Vec<RoleGrant>, StoreError> {
        let q = sqlx::query("SELECT * FROM role_grants WHERE user_id = $1").bind(user_id);
        let mut v = self.fetch_all(q, "role grants", grant_row).await?;
        v.sort();
        Ok(v)
    }

    async fn grants_in_org(&mut self, org: &OrgId) -> Result<Vec<RoleGrant>, StoreError> {
        let q = sqlx::query("SELECT * FROM role_grants WHERE org = $1").bind(org.as_str());
        let mut v = self.fetch_all(q, "role grants", grant_row).await?;
        v.sort();
        Ok(v)
    }

    async fn remove_user_from_org(&mut self, user_id: i64, org: &OrgId) -> Result<(), StoreError> {
        let q = sqlx::query("DELETE FROM role_grants WHERE user_id = $1 AND org = $2")
            .bind(user_id)
            .bind(org.as_str());
        self.exec(q, "role grants").await.map(|_| ())
    }

    async fn insert_key(&mut self, key: &ApiKey) -> Result<(), StoreError> {
        let q = sqlx::query(
            "INSERT INTO api_keys (id, kind, org, user_id, owner, name, secret_hash, hint, \
             services, scopes, entity, active, expires_at, created_at, rotated_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(key.id)
        .bind(to_json(&key.kind)?)
        .bind(key.org.as_str())
        .bind(key.user_id)
        .bind(owner_of(key))
        .bind(&key.name)
        .bind(&key.secret_hash)
        .bind(&key.hint)
        .bind(to_json(&key.services)?)
        .bind(to_json(&key.scopes)?)
        .bind(key.entity.as_ref().map(to_json).transpose()?)
        .bind(key.active)
        .bind(opt_ts(key.expires_at))
        .bind(ts(key.created_at))
        .bind(opt_ts(key.rotated_at))
        .bind(opt_ts(key.last_used_at));
        self.exec(q, &format!("key {}", key.name)).await.map(|_| ())
    }

    async fn get_key(&mut self, id: Uuid) -> Result<Option<ApiKey>, StoreError> {
        let q = sqlx::query("SELECT * FROM api_keys WHERE id = $1").bind(id);
        self.fetch_opt(q, "key", key_row).await
    }

    async fn find_key_by_hash(&mut self, secret_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let q = sqlx::query("SELECT * FROM api_keys WHERE secret_hash = $1").bind(secret_hash);
        self.fetch_opt(q, "key", key_row).await
    }

    async fn list_keys(
        &mut self,
        org: &OrgId,
        user_id: Option<Option<i64>>,
    ) -> Result<Vec<ApiKey>, StoreError> {
        let q = match user_id {
            None => sqlx::query("SELECT * FROM api_keys WHERE org = $1 ORDER BY created_at, id")
                .bind(org.as_str()),
            Some(u) => sqlx::query(
                "SELECT * FROM api_keys WHERE org = $1 AND owner = $2 ORDER BY created_at, id",
            )
            .bind(org.as_str())
            .bind(owner_of_user(u)),
        };
        self.fetch_all(q, "key", key_row).await
    }

    async fn update_key(&mut self, key: &ApiKey) -> Result<(), StoreError> {
        let q = sqlx::query(
            "UPDATE api_keys SET secret_hash = $1, hint = $2, active = $3, expires_at = $4, \
             services = $5, scopes = $6, entity = $7, rotated_at = $8, last_used_at = $9 \
             WHERE id = $10",
        )
        .bind(&key.secret_hash)
        .bind(&key.hint)
        .bind(key.active)
        .bind(opt_ts(key.expires_at))
        .bind(to_json(&key.services)?)
        .bind(to_json(&key.scopes)?)
        .bind(key.entity.as_ref().map(to_json).transpose()?)
        .bind(opt_ts(key.rotated_at))
        .bind(opt_ts(key.last_used_at))
        .bind(key.id);
        self.exec_one(q, &format!("key {}", key.id)).await
    }

    async fn delete_key(&mut self, id: Uuid) -> Result<(), StoreError> {
        let q = sqlx::query("DELETE FROM api_keys WHERE id = $1").bind(id);
        self.exec_one(q, &format!("key {id}")).await
    }

    async fn delete_keys_of_user(&mut self, user_id: i64, org: &OrgId) -> Result<u64, StoreError> {
        let q = sqlx::query("DELETE FROM api_keys WHERE user_id = $1 AND org = $2")
            .bind(user_id)
            .bind(org.as_str());
        self.exec(q, "keys").await
    }

    async fn insert_blob(&mut self, blob: &BlobRecord) -> Result<BlobRecord, StoreError> {
        let q = sqlx::query(
            "INSERT INTO blobs (digest, size, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&blob.digest)
        .bind(i64_of(blob.size, "size")?)
        .bind(ts(blob.created_at));
        self.exec(q, "blob").await?;
        self.get_blob(&blob.digest)
            .await?
            .ok_or_else(|| StoreError::Backend("inserted blob vanished".into()))
    }

    async fn get_blob(&mut self, digest: &str) -> Result<Option<BlobRecord>, StoreError> {
        let q = sqlx::query("SELECT * FROM blobs WHERE digest = $1").bind(digest);
        self.fetch_opt(q, "blob", blob_row).await
    }

    async fn insert_repo(&mut self, repo: &NewRepository) -> Result<Repository, StoreError> {
        if self.get_org(&repo.org).await?.is_none() {
            return Err(StoreError::NotFound(format!("org {}", repo.org)));
        }
        let q = sqlx::query(
            "INSERT INTO repositories (org, team, name, public, metadata, created_at, updated_at) \
             VALUES ($1, $2, $3, FALSE, $4, $5, $5) RETURNING *",
        )
        .bind(repo.org.as_str())
        .bind(team_col(repo.team.as_ref()))
        .bind(repo.name.as_str())
        .bind(to_json(&RepoMetadata::default())?)
        .bind(ts(repo.created_at));
        let what = match &repo.team {
            Some(team) => format!("repository {}/{team}/{}", repo.org, repo.name),
            None => format!("repository {}/{}", repo.org, repo.name),
        };
        self.write_returning(q, &what, repo_row).await
    }

    async fn get_repo(
        &mut self,
        org: &OrgId,
        team: Option<&TeamName>,
        name: &str,
    ) -> Result<Option<Repository>, StoreError> {
        let q =
            sqlx::query("SELECT * FROM repositories WHERE org = $1 AND team = $2 AND name = $3")
                .bind(org.as_str())
                .bind(team_col(team))
                .bind(name);
        self.fetch_opt(q, "repository", repo_row).await
    }

    async fn list_repos(&mut self, org: &OrgId) -> Result<Vec<Repository>, StoreError> {
        // Path order (`org/name`, `org/team/name`) in bytes: within one org, the order of
        // `name` or `team/name`, which is not the order of (team, name).
        let q = sqlx::query(
            "SELECT * FROM repositories WHERE org = $1 \
             ORDER BY (CASE WHEN team = '' THEN name ELSE team || '/' || name END) COLLATE \"C\"",
        )
        .bind(org.as_str());
        self.fetch_all(q, "repositories", repo_row).await
    }

    async fn update_repo(&mut self, repo: &Repository) -> Result<(), StoreError> {
        let q = sqlx::query(
            "UPDATE repositories SET public = $1, metadata = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(repo.public)
        .bind(to_json(&repo.metadata)?)
        .bind(ts(repo.updated_at))
        .bind(repo.id);
        self.exec_one(q, &format!("repository {}", repo.id)).await
    }

    async fn delete_repo(&mut self, repo_id: i64) -> Result<(), StoreError> {
        // Manifests, tags and blob links go with it (ON DELETE CASCADE), in this one statement.
        let q = sqlx::query("DELETE FROM repositories WHERE id = $1").bind(repo_id);
        self.exec_one(q, &format!("repository {repo_id}")).await
    }

    async fn link_blob(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError> {
        // An unknown repository violates the foreign key: NotFound.
        let q = sqlx::query(
            "INSERT INTO repo_blobs (repo_id, digest) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(repo_id)
        .bind(digest);
        self.exec(q, &format!("repository {repo_id}"))
            .await
            .map(|_| ())
    }

    async fn blob_linked(&mut self, repo_id: i64, digest: &str) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM repo_blobs WHERE repo_id = $1 AND digest = $2) AS linked",
        )
        .bind(repo_id)
        .bind(digest);
        Ok(self
            .fetch_opt(q, "blob link", |r| r.flag("linked"))
            .await?
            .unwrap_or(false))
    }

    async fn unlink_blob(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError> {
        let q = sqlx::query("DELETE FROM repo_blobs WHERE repo_id = $1 AND digest = $2")
            .bind(repo_id)
            .bind(digest);
        self.exec_one(q, &format!("blob {digest}")).await
    }

    async fn put_manifest(&mut self, manifest: &ManifestRecord) -> Result<(), StoreError> {
        // An existing record is kept; an unknown repository violates the foreign key: NotFound.
        let q = sqlx::query(
            "INSERT INTO manifests (repo_id, digest, media_type, size, artifact_type, subject, \
             blobs, children, blob_bytes, annotations, platforms, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (repo_id, digest) DO NOTHING",
        )
        .bind(manifest.repo_id)
        .bind(&manifest.digest)
        .bind(&manifest.media_type)
        .bind(i64_of(manifest.size, "size")?)
        .bind(&manifest.artifact_type)
        .bind(&manifest.subject)
        .bind(to_json(&manifest.blobs)?)
        .bind(to_json(&manifest.children)?)
        .bind(i64_of(manifest.blob_bytes, "blob bytes")?)
        .bind(&manifest.annotations)
        .bind(&manifest.platforms)
        .bind(ts(manifest.created_at));
        self.exec(q, &format!("repository {}", manifest.repo_id))
            .await
            .map(|_| ())
    }

    async fn get_manifest(
        &mut self,
        repo_id: i64,
        digest: &str,
    ) -> Result<Option<ManifestRecord>, StoreError> {
        let q = sqlx::query("SELECT * FROM manifests WHERE repo_id = $1 AND digest = $2")
            .bind(repo_id)
            .bind(digest);
        self.fetch_opt(q, "manifest", manifest_row).await
    }

    async fn list_manifests(&mut self, repo_id: i64) -> Result<Vec<ManifestRecord>, StoreError> {
        let q = sqlx::query(
            "SELECT * FROM manifests WHERE repo_id = $1 ORDER BY created_at DESC, digest",
        )
        .bind(repo_id);
        self.fetch_all(q, "manifests", manifest_row).await
    }

    async fn delete_manifest(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError> {
        // One statement: the manifest and its tags go together or not at all (no manifest, no
        // row affected: NotFound, and the savepoint undoes the tag deletion).
        let q = sqlx::query(
            "WITH t AS (DELETE FROM tags WHERE repo_id = $1 AND digest = $2) \
             DELETE FROM manifests WHERE repo_id = $1 AND digest = $2",
        )
        .bind(repo_id)
        .bind(digest);
        self.exec_one(q, &format!("manifest {digest}")).await
    }

    async fn referrers(
        &mut self,
        repo_id: i64,
        subject: &str,
    ) -> Result<Vec<ManifestRecord>, StoreError> {
        let q = sqlx::query(
            "SELECT * FROM manifests WHERE repo_id = $1 AND subject = $2 \
             ORDER BY created_at, digest",
        )
        .bind(repo_id)
        .bind(subject);
        self.fetch_all(q, "manifests", manifest_row).await
    }

    async fn put_tag(&mut self, tag: &TagRecord) -> Result<(), StoreError> {
        // One statement: inserts or moves the tag only if the manifest is in the repository;
        // otherwise no row is affected: NotFound.
        let q = sqlx::query(
            "INSERT INTO tags (repo_id, name, digest, updated_at) \
             SELECT $1, $2, $3, $4 WHERE EXISTS \
                 (SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $3) \
             ON CONFLICT (repo_id, name) \
                 DO UPDATE SET digest = EXCLUDED.digest, updated_at = EXCLUDED.updated_at",
        )
        .bind(tag.repo_id)
        .bind(&tag.name)
        .bind(&tag.digest)
        .bind(ts(tag.updated_at));
        self.exec_one(q, &format!("manifest {}", tag.digest)).await
    }

    async fn get_tag(&mut self, repo_id: i64, name: &str) -> Result<Option<TagRecord>, StoreError> {
        let q = sqlx::query("SELECT * FROM tags WHERE repo_id = $1 AND name = $2")
            .bind(repo_id)
            .bind(name);
        self.fetch_opt(q, "tag", tag_row).await
    }

    async fn list_tags(
        &mut self,
        repo_id: i64,
        last: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<TagRecord>, StoreError> {
        // `name` is COLLATE "C": byte order. A NULL `last` or `limit` is no bound.
        let limit = limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let q = sqlx::query(
            "SELECT * FROM tags WHERE repo_id = $1 AND ($2::TEXT IS NULL OR name > $2) \
             ORDER BY name LIMIT $3",
        )
        .bind(repo_id)
        .bind(last)
        .bind(limit);
        self.fetch_all(q, "tags", tag_row).await
    }

    async fn delete_tag(&mut self, repo_id: i64, name: &str) -> Result<(), StoreError> {
        let q = sqlx::query("DELETE FROM tags WHERE repo_id = $1 AND name = $2")
            .bind(repo_id)
            .bind(name);
        self.exec_one(q, &format!("tag {name}")).await
    }

    async fn add_usage(
        &mut self,
        org: &OrgId,
        ledger: &str,
        digest: &str,
        size: u64,
    ) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "INSERT INTO usage (org, ledger, digest, size) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org, ledger, digest) DO NOTHING",
        )
        .bind(org.as_str())
        .bind(ledger)
        .bind(digest)
        .bind(i64_of(size, "size")?);
        Ok(self.exec(q, "usage").await? > 0)
    }

    async fn usage_holds(
        &mut self,
        org: &OrgId,
        ledger: &str,
        digest: &str,
    ) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "SELECT 1::BIGINT AS one FROM usage WHERE org = $1 AND ledger = $2 AND digest = $3",
        )
        .bind(org.as_str())
        .bind(ledger)
        .bind(digest);
        Ok(self
            .fetch_opt(q, "usage", |r| r.int("one"))
            .await?
            .is_some())
    }

    async fn usage(&mut self, org: &OrgId, ledger: &str) -> Result<u64, StoreError> {
        // SUM of BIGINT is NUMERIC; capped so that the cast cannot fail (a failed read would
        // abort the transaction).
        let q = sqlx::query(
            "SELECT LEAST(COALESCE(SUM(size), 0), 9223372036854775807)::BIGINT AS total \
             FROM usage WHERE org = $1 AND ledger = $2",
        )
        .bind(org.as_str())
        .bind(ledger);
        let total = self
            .fetch_opt(q, "usage", |r| r.int("total"))
            .await?
            .unwrap_or(0);
        u64_of(total, "usage")
    }

    async fn insert_upload(&mut self, upload: &UploadSession) -> Result<(), StoreError> {
        let q = sqlx::query(
            "INSERT INTO uploads (id, org, purpose, backend_state, received, expected_size, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(upload.id)
        .bind(upload.org.as_str())
        .bind(&upload.purpose)
        .bind(&upload.backend_state)
        .bind(i64_of(upload.received, "received")?)
        .bind(
            upload
                .expected_size
                .map(|s| i64_of(s, "expected size"))
                .transpose()?,
        )
        .bind(ts(upload.created_at))
        .bind(ts(upload.updated_at));
        self.exec(q, &format!("upload {}", upload.id))
            .await
            .map(|_| ())
    }

    async fn get_upload(&mut self, id: Uuid) -> Result<Option<UploadSession>, StoreError> {
        let q = sqlx::query("SELECT * FROM uploads WHERE id = $1").bind(id);
        self.fetch_opt(q, "upload", upload_row).await
    }

    async fn add_upload_part(
        &mut self,
        id: Uuid,
        part: &UploadPart,
        now: DateTime<Utc>,
    ) -> Result<UploadSession, StoreError> {
        self.writable()?;
        if self.get_upload(id).await?.is_none() {
            return Err(StoreError::NotFound(format!("upload {id}")));
        }
        // One statement: the part and the session's counters change together or not at all.
        let q = sqlx::query(
            "WITH part AS (INSERT INTO upload_parts (upload_id, number, byte_offset, size, etag) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING size) \
             UPDATE uploads SET received = received + (SELECT size FROM part), updated_at = $6 \
                 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(i64::from(part.number))
        .bind(i64_of(part.offset, "offset")?)
        .bind(i64_of(part.size, "size")?)
        .bind(&part.etag)
        .bind(ts(now));
        let what = format!("part {} of upload {id}", part.number);
        self.write_returning(q, &what, upload_row).await
    }

    async fn upload_parts(&mut self, id: Uuid) -> Result<Vec<UploadPart>, StoreError> {
        let q =
            sqlx::query("SELECT * FROM upload_parts WHERE upload_id = $1 ORDER BY number").bind(id);
        self.fetch_all(q, "upload parts", part_row).await
    }

    async fn delete_upload(&mut self, id: Uuid) -> Result<(), StoreError> {
        let q = sqlx::query("DELETE FROM uploads WHERE id = $1").bind(id);
        self.exec_one(q, &format!("upload {id}")).await
    }

    async fn stale_uploads(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<Vec<UploadSession>, StoreError> {
        let q = sqlx::query("SELECT * FROM uploads WHERE updated_at < $1 ORDER BY updated_at, id")
            .bind(ts(before));
        self.fetch_all(q, "uploads", upload_row).await
    }

    async fn insert_artifact(&mut self, artifact: &NewArtifact) -> Result<Artifact, StoreError> {
        if self.get_org(&artifact.org).await?.is_none() {
            return Err(StoreError::NotFound(format!("org {}", artifact.org)));
        }
        let q = sqlx::query(
            "INSERT INTO artifacts (kind, org, team, name, metadata, public, latest_version, \
             created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $8) RETURNING *",
        )
        .bind(artifact.kind.as_str())
        .bind(artifact.org.as_str())
        .bind(team_col(artifact.team.as_ref()))
        .bind(artifact.name.as_str())
        .bind(to_json(&artifact.metadata)?)
        .bind(artifact.public)
        .bind(artifact.created_by)
        .bind(ts(artifact.created_at));
        let what = match &artifact.team {
            Some(team) => format!(
                "{} {}/{team}/{}",
                artifact.kind, artifact.org, artifact.name
            ),
            None => format!("{} {}/{}", artifact.kind, artifact.org, artifact.name),
        };
        self.write_returning(q, &what, artifact_row).await
    }

    async fn get_artifact(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
        team: Option<&TeamName>,
        name: &str,
    ) -> Result<Option<Artifact>, StoreError> {
        let q = sqlx::query(
            "SELECT * FROM artifacts WHERE kind = $1 AND org = $2 AND team = $3 AND name = $4",
        )
        .bind(kind.as_str())
        .bind(org.as_str())
        .bind(team_col(team))
        .bind(name);
        self.fetch_opt(q, "artifact", artifact_row).await
    }

    async fn list_artifacts(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
    ) -> Result<Vec<Artifact>, StoreError> {
        // `team` and `name` are COLLATE "C" (byte order); team = '' (org level) sorts first.
        let q =
            sqlx::query("SELECT * FROM artifacts WHERE kind = $1 AND org = $2 ORDER BY team, name")
                .bind(kind.as_str())
                .bind(org.as_str());
        self.fetch_all(q, "artifacts", artifact_row).await
    }

    async fn update_artifact(&mut self, artifact: &Artifact) -> Result<(), StoreError> {
        let q = sqlx::query(
            "UPDATE artifacts SET metadata = $1, public = $2, latest_version = $3, \
             updated_at = $4 WHERE id = $5",
        )
        .bind(to_json(&artifact.metadata)?)
        .bind(artifact.public)
        .bind(artifact.latest_version.as_ref().map(|v| v.as_str()))
        .bind(ts(artifact.updated_at))
        .bind(artifact.id);
        self.exec_one(q, &format!("artifact {}", artifact.id)).await
    }

    async fn delete_artifact(&mut self, artifact_id: i64) -> Result<(), StoreError> {
        // Versions, their files and the blob links go with it (ON DELETE CASCADE), in this one
        // statement.
        let q = sqlx::query("DELETE FROM artifacts WHERE id = $1").bind(artifact_id);
        self.exec_one(q, &format!("artifact {artifact_id}")).await
    }

    async fn insert_version(
        &mut self,
        version: &NewArtifactVersion,
    ) -> Result<ArtifactVersion, StoreError> {
        // An unknown artifact violates the foreign key: NotFound.
        let q = sqlx::query(
            "INSERT INTO artifact_versions (artifact_id, version, status, metadata, file_count, \
             total_size, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 0, 0, $5, $6, $6) RETURNING *",
        )
        .bind(version.artifact_id)
        .bind(version.version.as_str())
        .bind(version.status.as_str())
        .bind(to_json(&version.metadata)?)
        .bind(version.created_by)
        .bind(ts(version.created_at));
        let what = format!(
            "version {} of artifact {}",
            version.version, version.artifact_id
        );
        self.write_returning(q, &what, version_row).await
    }

    async fn get_version(
        &mut self,
        artifact_id: i64,
        version: &str,
    ) -> Result<Option<ArtifactVersion>, StoreError> {
        let q =
            sqlx::query("SELECT * FROM artifact_versions WHERE artifact_id = $1 AND version = $2")
                .bind(artifact_id)
                .bind(version);
        self.fetch_opt(q, "version", version_row).await
    }

    async fn list_versions(
        &mut self,
        artifact_id: i64,
    ) -> Result<Vec<ArtifactVersion>, StoreError> {
        let q = sqlx::query("SELECT * FROM artifact_versions WHERE artifact_id = $1 ORDER BY id")
            .bind(artifact_id);
        self.fetch_all(q, "versions", version_row).await
    }

    async fn list_org_versions(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
    ) -> Result<Vec<ArtifactVersion>, StoreError> {
        let q = sqlx::query(
            "SELECT v.* FROM artifacts a JOIN artifact_versions v ON v.artifact_id = a.id \
             WHERE a.kind = $1 AND a.org = $2 ORDER BY v.artifact_id, v.id",
        )
        .bind(kind.as_str())
        .bind(org.as_str());
        self.fetch_all(q, "versions", version_row).await
    }

    async fn update_version(&mut self, version: &ArtifactVersion) -> Result<(), StoreError> {
        let q = sqlx::query(
            "UPDATE artifact_versions SET status = $1, metadata = $2, file_count = $3, \
             total_size = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(version.status.as_str())
        .bind(to_json(&version.metadata)?)
        .bind(i64_of(version.file_count, "file count")?)
        .bind(i64_of(version.total_size, "total size")?)
        .bind(ts(version.updated_at))
        .bind(version.id);
        self.exec_one(q, &format!("version {}", version.id)).await
    }

    async fn delete_version(&mut self, version_id: i64) -> Result<(), StoreError> {
        // Its files go with it (ON DELETE CASCADE), in this one statement.
        let q = sqlx::query("DELETE FROM artifact_versions WHERE id = $1").bind(version_id);
        self.exec_one(q, &format!("version {version_id}")).await
    }

    async fn put_version_file(
        &mut self,
        version_id: i64,
        file: &VersionFile,
    ) -> Result<(), StoreError> {
        // An unknown version violates the foreign key: NotFound.
        let q = sqlx::query(
            "INSERT INTO artifact_files (version_id, path, digest, size, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (version_id, path) DO UPDATE SET digest = EXCLUDED.digest, \
                 size = EXCLUDED.size, created_at = EXCLUDED.created_at",
        )
        .bind(version_id)
        .bind(&file.path)
        .bind(&file.digest)
        .bind(i64_of(file.size, "size")?)
        .bind(ts(file.created_at));
        self.exec(q, &format!("version {version_id}"))
            .await
            .map(|_| ())
    }

    async fn delete_version_file(
        &mut self,
        version_id: i64,
        path: &str,
    ) -> Result<bool, StoreError> {
        let q = sqlx::query("DELETE FROM artifact_files WHERE version_id = $1 AND path = $2")
            .bind(version_id)
            .bind(path);
        Ok(self.exec(q, &format!("file {path}")).await? > 0)
    }

    async fn version_files(&mut self, version_id: i64) -> Result<Vec<VersionFile>, StoreError> {
        // `path` is COLLATE "C": byte order.
        let q = sqlx::query("SELECT * FROM artifact_files WHERE version_id = $1 ORDER BY path")
            .bind(version_id);
        self.fetch_all(q, "files", version_file_row).await
    }

    async fn add_artifact_blob(
        &mut self,
        artifact_id: i64,
        digest: &str,
        size: u64,
    ) -> Result<(), StoreError> {
        // An unknown artifact violates the foreign key: NotFound.
        let q = sqlx::query(
            "INSERT INTO artifact_blobs (artifact_id, digest, size) VALUES ($1, $2, $3) \
             ON CONFLICT (artifact_id, digest) DO NOTHING",
        )
        .bind(artifact_id)
        .bind(digest)
        .bind(i64_of(size, "size")?);
        self.exec(q, &format!("artifact {artifact_id}"))
            .await
            .map(|_| ())
    }

    async fn artifact_blob(
        &mut self,
        artifact_id: i64,
        digest: &str,
    ) -> Result<Option<u64>, StoreError> {
        let q =
            sqlx::query("SELECT size FROM artifact_blobs WHERE artifact_id = $1 AND digest = $2")
                .bind(artifact_id)
                .bind(digest);
        self.fetch_opt(q, "artifact blob", |r| r.int("size"))
            .await?
            .map(|s| u64_of(s, "size"))
            .transpose()
    }
}
