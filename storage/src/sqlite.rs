//! SQLite adapter of the [`MetadataStore`]: the embedded default.
//!
//! One database file in WAL mode with `synchronous = FULL` (a committed transaction survives
//! power loss), foreign keys on, and a busy timeout. Write transactions start with
//! `BEGIN IMMEDIATE`, so writers are serialized by SQLite itself and a read-check-write use case
//! (e.g. "fewer than 8 keys, then insert") cannot race; readers run concurrently in WAL mode.
//! The schema lives in `migrations/sqlite/` and is applied at open.

use crate::sql_common::{
    artifact_row, blob_row, grant_row, i64_of, key_row, manifest_row, map_err, opt_ts, org_row,
    owner_of, parse, parse_opt_ts, parse_ts, part_row, repo_row, tag_row, team_col, team_row,
    to_json, ts, u64_of, upload_row, user_row, version_file_row, version_row, SqlRow,
};
use arca_auth::{ArtifactKind, Role};
use arca_core::model::{
    ApiKey, Artifact, ArtifactVersion, BlobRecord, ManifestRecord, NewArtifact, NewArtifactVersion,
    NewOrg, NewRepository, NewTeam, NewUser, Org, RepoMetadata, Repository, RoleGrant, TagRecord,
    Team, UploadPart, UploadSession, User, VersionFile,
};
use arca_core::names::{Email, OrgId, TeamName};
use arca_core::ports::{MetadataStore, MetadataTx, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

/// A [`MetadataStore`] in one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteMetadataStore {
    pool: SqlitePool,
}

impl SqliteMetadataStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Backend(format!("open {}: {e}", path.display())))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrate {}: {e}", path.display())))?;
        Ok(Self { pool })
    }
}

struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    read_only: bool,
}

#[async_trait]
impl MetadataStore for SqliteMetadataStore {
    async fn begin(&self) -> Result<Box<dyn MetadataTx>, StoreError> {
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| map_err(e, "begin"))?;
        Ok(Box::new(SqliteTx {
            tx,
            read_only: false,
        }))
    }

    async fn begin_read(&self) -> Result<Box<dyn MetadataTx>, StoreError> {
        let tx = self.pool.begin().await.map_err(|e| map_err(e, "begin"))?;
        Ok(Box::new(SqliteTx {
            tx,
            read_only: true,
        }))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| map_err(e, "ping"))
    }
}

impl SqlRow for SqliteRow {
    fn text(&self, col: &str) -> Result<String, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn int(&self, col: &str) -> Result<i64, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        self.try_get(col).map_err(|e| map_err(e, col))
    }
    fn time(&self, col: &str) -> Result<DateTime<Utc>, StoreError> {
        parse_ts(&self.text(col)?)
    }
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        parse_opt_ts(self.opt_text(col)?)
    }
    fn flag(&self, col: &str) -> Result<bool, StoreError> {
        Ok(self.int(col)? != 0)
    }
    fn uuid(&self, col: &str) -> Result<Uuid, StoreError> {
        parse(&self.text(col)?, col)
    }
}

impl SqliteTx {
    fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            Err(StoreError::Backend(
                "write attempted in a read-only transaction".into(),
            ))
        } else {
            Ok(())
        }
    }

    async fn fetch_all<'q, T>(
        &mut self,
        q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
        what: &str,
        f: fn(&SqliteRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = q
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|e| map_err(e, what))?;
        rows.iter().map(f).collect()
    }

    async fn fetch_opt<'q, T>(
        &mut self,
        q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
        what: &str,
        f: fn(&SqliteRow) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let row = q
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(|e| map_err(e, what))?;
        row.as_ref().map(f).transpose()
    }

    async fn exec<'q>(
        &mut self,
        q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
        what: &str,
    ) -> Result<u64, StoreError> {
        self.writable()?;
        q.execute(&mut *self.tx)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| map_err(e, what))
    }

    async fn exec_one<'q>(
        &mut self,
        q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
        what: &str,
    ) -> Result<(), StoreError> {
        match self.exec(q, what).await? {
            0 => Err(StoreError::NotFound(what.to_string())),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl MetadataTx for SqliteTx {
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(|e| map_err(e, "commit"))
    }

    async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.rollback().await.map_err(|e| map_err(e, "rollback"))
    }

    async fn get_setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(|e| map_err(e, "setting"))?;
        row.map(|r| r.text("value")).transpose()
    }

    async fn put_setting_if_absent(
        &mut self,
        key: &str,
        value: &str,
    ) -> Result<String, StoreError> {
        self.exec(
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value),
            "setting",
        )
        .await?;
        self.get_setting(key)
            .await?
            .ok_or_else(|| StoreError::Backend("setting vanished".into()))
    }

    async fn insert_org(&mut self, org: &NewOrg) -> Result<Org, StoreError> {
        let what = format!("org {}", org.name);
        self.exec(
            sqlx::query("INSERT INTO orgs (name, display_name, description, quota, created_at) VALUES (?, ?, ?, ?, ?)")
                .bind(org.name.as_str())
                .bind(&org.display_name)
                .bind(&org.description)
                .bind(to_json(&org.quota)?)
                .bind(ts(org.created_at)),
            &what,
        )
        .await?;
        self.get_org(&org.name)
            .await?
            .ok_or_else(|| StoreError::Backend("inserted org vanished".into()))
    }

    async fn get_org(&mut self, name: &OrgId) -> Result<Option<Org>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM orgs WHERE name = ?").bind(name.as_str()),
            "org",
            org_row,
        )
        .await
    }

    async fn list_orgs(&mut self) -> Result<Vec<Org>, StoreError> {
        self.fetch_all(
            sqlx::query("SELECT * FROM orgs ORDER BY name"),
            "org",
            org_row,
        )
        .await
    }

    async fn update_org(&mut self, org: &Org) -> Result<(), StoreError> {
        let what = format!("org {}", org.name);
        self.exec_one(
            sqlx::query(
                "UPDATE orgs SET display_name = ?, description = ?, quota = ? WHERE name = ?",
            )
            .bind(&org.display_name)
            .bind(&org.description)
            .bind(to_json(&org.quota)?)
            .bind(org.name.as_str()),
            &what,
        )
        .await
    }

    async fn insert_team(&mut self, team: &NewTeam) -> Result<Team, StoreError> {
        if self.get_org(&team.org).await?.is_none() {
            return Err(StoreError::NotFound(format!("org {}", team.org)));
        }
        let what = format!("team {}/{}", team.org, team.name);
        self.exec(
            sqlx::query(
                "INSERT INTO teams (org, name, description, created_at) VALUES (?, ?, ?, ?)",
            )
            .bind(team.org.as_str())
            .bind(team.name.as_str())
            .bind(&team.description)
            .bind(ts(team.created_at)),
            &what,
        )
        .await?;
        self.get_team(&team.org, &team.name)
            .await?
            .ok_or_else(|| StoreError::Backend("inserted team vanished".into()))
    }

    async fn get_team(&mut self, org: &OrgId, name: &TeamName) -> Result<Option<Team>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM teams WHERE org = ? AND name = ?")
                .bind(org.as_str())
                .bind(name.as_str()),
            "team",
            team_row,
        )
        .await
    }

    async fn list_teams(&mut self, org: &OrgId) -> Result<Vec<Team>, StoreError> {
        self.fetch_all(
            sqlx::query("SELECT * FROM teams WHERE org = ? ORDER BY name").bind(org.as_str()),
            "team",
            team_row,
        )
        .await
    }

    async fn update_team(&mut self, team: &Team) -> Result<(), StoreError> {
        let what = format!("team {}/{}", team.org, team.name);
        self.exec_one(
            sqlx::query("UPDATE teams SET description = ? WHERE org = ? AND name = ?")
                .bind(&team.description)
                .bind(team.org.as_str())
                .bind(team.name.as_str()),
            &what,
        )
        .await
    }

    async fn delete_team(&mut self, org: &OrgId, name: &TeamName) -> Result<(), StoreError> {
        let what = format!("team {org}/{name}");
        self.exec_one(
            sqlx::query("DELETE FROM teams WHERE org = ? AND name = ?")
                .bind(org.as_str())
                .bind(name.as_str()),
            &what,
        )
        .await?;
        self.exec(
            sqlx::query("DELETE FROM role_grants WHERE org = ? AND team = ?")
                .bind(org.as_str())
                .bind(name.as_str()),
            "role grants",
        )
        .await?;
        Ok(())
    }

    async fn insert_user(&mut self, user: &NewUser) -> Result<User, StoreError> {
        let what = format!("user {}", user.email);
        self.exec(
            sqlx::query("INSERT INTO users (email, display_name, created_at) VALUES (?, ?, ?)")
                .bind(user.email.as_str())
                .bind(&user.display_name)
                .bind(ts(user.created_at)),
            &what,
        )
        .await?;
        self.get_user_by_email(&user.email)
            .await?
            .ok_or_else(|| StoreError::Backend("inserted user vanished".into()))
    }

    async fn get_user(&mut self, id: i64) -> Result<Option<User>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM users WHERE id = ?").bind(id),
            "user",
            user_row,
        )
        .await
    }

    async fn get_user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM users WHERE email = ?").bind(email.as_str()),
            "user",
            user_row,
        )
        .await
    }

    async fn update_user(&mut self, user: &User) -> Result<(), StoreError> {
        let what = format!("user {}", user.id);
        self.exec_one(
            sqlx::query("UPDATE users SET display_name = ? WHERE id = ?")
                .bind(&user.display_name)
                .bind(user.id),
            &what,
        )
        .await
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
        let team_s = team.map(|t| t.as_str()).unwrap_or("");
        self.exec(
            sqlx::query("DELETE FROM role_grants WHERE user_id = ? AND org = ? AND team = ?")
                .bind(user_id)
                .bind(org.as_str())
                .bind(team_s),
            "role grants",
        )
        .await?;
        for role in roles {
            self.exec(
                sqlx::query("INSERT OR IGNORE INTO role_grants (user_id, org, team, role) VALUES (?, ?, ?, ?)")
                    .bind(user_id)
                    .bind(org.as_str())
                    .bind(team_s)
                    .bind(role.to_string()),
                "role grant",
            )
            .await?;
        }
        Ok(())
    }

    async fn grants_of_user(&mut self, user_id: i64) -> Result<Vec<RoleGrant>, StoreError> {
        let mut v = self
            .fetch_all(
                sqlx::query("SELECT * FROM role_grants WHERE user_id = ?").bind(user_id),
                "role grants",
                grant_row,
            )
            .await?;
        v.sort();
        Ok(v)
    }

    async fn grants_in_org(&mut self, org: &OrgId) -> Result<Vec<RoleGrant>, StoreError> {
        let mut v = self
            .fetch_all(
                sqlx::query("SELECT * FROM role_grants WHERE org = ?").bind(org.as_str()),
                "role grants",
                grant_row,
            )
            .await?;
        v.sort();
        Ok(v)
    }

    async fn remove_user_from_org(&mut self, user_id: i64, org: &OrgId) -> Result<(), StoreError> {
        self.exec(
            sqlx::query("DELETE FROM role_grants WHERE user_id = ? AND org = ?")
                .bind(user_id)
                .bind(org.as_str()),
            "role grants",
        )
        .await
        .map(|_| ())
    }

    async fn insert_key(&mut self, key: &ApiKey) -> Result<(), StoreError> {
        let what = format!("key {}", key.name);
        self.exec(
            sqlx::query(
                "INSERT INTO api_keys (id, kind, org, user_id, owner, name, secret_hash, hint, services, scopes, entity, active, expires_at, created_at, rotated_at, last_used_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(key.id.to_string())
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
            .bind(key.active as i64)
            .bind(opt_ts(key.expires_at))
            .bind(ts(key.created_at))
            .bind(opt_ts(key.rotated_at))
            .bind(opt_ts(key.last_used_at)),
            &what,
        )
        .await
        .map(|_| ())
    }

    async fn get_key(&mut self, id: Uuid) -> Result<Option<ApiKey>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM api_keys WHERE id = ?").bind(id.to_string()),
            "key",
            key_row,
        )
        .await
    }

    async fn find_key_by_hash(&mut self, secret_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM api_keys WHERE secret_hash = ?").bind(secret_hash),
            "key",
            key_row,
        )
        .await
    }

    async fn list_keys(
        &mut self,
        org: &OrgId,
        user_id: Option<Option<i64>>,
    ) -> Result<Vec<ApiKey>, StoreError> {
        let q = match user_id {
            None => sqlx::query("SELECT * FROM api_keys WHERE org = ? ORDER BY created_at, id")
                .bind(org.as_str()),
            Some(u) => sqlx::query(
                "SELECT * FROM api_keys WHERE org = ? AND owner = ? ORDER BY created_at, id",
            )
            .bind(org.as_str())
            .bind(u.map(|u| u.to_string()).unwrap_or_default()),
        };
        self.fetch_all(q, "key", key_row).await
    }

    async fn update_key(&mut self, key: &ApiKey) -> Result<(), StoreError> {
        let what = format!("key {}", key.id);
        self.exec_one(
            sqlx::query(
                "UPDATE api_keys SET secret_hash = ?, hint = ?, active = ?, expires_at = ?, services = ?, scopes = ?, entity = ?, rotated_at = ?, last_used_at = ? WHERE id = ?",
            )
            .bind(&key.secret_hash)
            .bind(&key.hint)
            .bind(key.active as i64)
            .bind(opt_ts(key.expires_at))
            .bind(to_json(&key.services)?)
            .bind(to_json(&key.scopes)?)
            .bind(key.entity.as_ref().map(to_json).transpose()?)
            .bind(opt_ts(key.rotated_at))
            .bind(opt_ts(key.last_used_at))
            .bind(key.id.to_string()),
            &what,
        )
        .await
    }

    async fn delete_key(&mut self, id: Uuid) -> Result<(), StoreError> {
        self.exec_one(
            sqlx::query("DELETE FROM api_keys WHERE id = ?").bind(id.to_string()),
            &format!("key {id}"),
        )
        .await
    }

    async fn delete_keys_of_user(&mut self, user_id: i64, org: &OrgId) -> Result<u64, StoreError> {
        self.exec(
            sqlx::query("DELETE FROM api_keys WHERE user_id = ? AND org = ?")
                .bind(user_id)
                .bind(org.as_str()),
            "keys",
        )
        .await
    }

    async fn insert_blob(&mut self, blob: &BlobRecord) -> Result<BlobRecord, StoreError> {
        self.exec(
            sqlx::query("INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING")
                .bind(&blob.digest)
                .bind(i64_of(blob.size, "size")?)
                .bind(ts(blob.created_at)),
            "blob",
        )
        .await?;
        self.get_blob(&blob.digest)
            .await?
            .ok_or_else(|| StoreError::Backend("inserted blob vanished".into()))
    }

    async fn get_blob(&mut self, digest: &str) -> Result<Option<BlobRecord>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM blobs WHERE digest = ?").bind(digest),
            "blob",
            blob_row,
        )
        .await
    }

    async fn insert_repo(&mut self, repo: &NewRepository) -> Result<Repository, StoreError> {
        if self.get_org(&repo.org).await?.is_none() {
            return Err(StoreError::NotFound(format!("org {}", repo.org)));
        }
        let what = format!("repository {}", repo.name);
        self.exec(
            sqlx::query("INSERT INTO repositories (org, team, name, public, metadata, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?)")
                .bind(repo.org.as_str())
                .bind(team_col(repo.team.as_ref()))
                .bind(repo.name.as_str())
                .bind(to_json(&RepoMetadata::default())?)
                .bind(ts(repo.created_at))
                .bind(ts(repo.created_at)),
            &what,
        )
        .await?;
        self.get_repo(&repo.org, repo.team.as_ref(), repo.name.as_str())
            .await?
            .ok_or_else(|| StoreError::Backend("inserted repository vanished".into()))
    }

    async fn get_repo(
        &mut self,
        org: &OrgId,
        team: Option<&TeamName>,
        name: &str,
    ) -> Result<Option<Repository>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM repositories WHERE org = ? AND team = ? AND name = ?")
                .bind(org.as_str())
                .bind(team_col(team))
                .bind(name),
            "repository",
            repo_row,
        )
        .await
    }

    async fn list_repos(&mut self, org: &OrgId) -> Result<Vec<Repository>, StoreError> {
        let mut v = self
            .fetch_all(
                sqlx::query("SELECT * FROM repositories WHERE org = ?").bind(org.as_str()),
                "repositories",
                repo_row,
            )
            .await?;
        v.sort_by_key(|r| r.path());
        Ok(v)
    }

    async fn update_repo(&mut self, repo: &Repository) -> Result<(), StoreError> {
        self.exec_one(
            sqlx::query(
                "UPDATE repositories SET public = ?, metadata = ?, updated_at = ? WHERE id = ?",
            )
            .bind(repo.public as i64)
            .bind(to_json(&repo.metadata)?)
            .bind(ts(repo.updated_at))
            .bind(repo.id),
            &format!("repository {}", repo.id),
        )
        .await
    }

    async fn delete_repo(&mut self, repo_id: i64) -> Result<(), StoreError> {
        self.exec_one(
            sqlx::query("DELETE FROM repositories WHERE id = ?").bind(repo_id),
            &format!("repository {repo_id}"),
        )
        .await
    }

    async fn link_blob(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError> {
        self.exec(
            sqlx::query(
                "INSERT INTO repo_blobs (repo_id, digest) VALUES (?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(repo_id)
            .bind(digest),
            &format!("repository {repo_id}"),
        )
        .await
        .map(|_| ())
    }

    async fn blob_linked(&mut self, repo_id: i64, digest: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM repo_blobs WHERE repo_id = ? AND digest = ?")
            .bind(repo_id)
            .bind(digest)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(|e| map_err(e, "blob link"))?;
        Ok(row.is_some())
    }

    async fn unlink_blob(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError> {
        self.exec_one(
            sqlx::query("DELETE FROM repo_blobs WHERE repo_id = ? AND digest = ?")
                .bind(repo_id)
                .bind(digest),
            &format!("blob {digest}"),
        )
        .await
    }

    async fn put_manifest(&mut self, m: &ManifestRecord) -> Result<(), StoreError> {
        self.exec(
            sqlx::query(
                "INSERT INTO manifests (repo_id, digest, media_type, size, artifact_type, subject, blobs, children, blob_bytes, annotations, platforms, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo_id, digest) DO NOTHING",
            )
            .bind(m.repo_id)
            .bind(&m.digest)
            .bind(&m.media_type)
            .bind(i64_of(m.size, "size")?)
            .bind(&m.artifact_type)
            .bind(&m.subject)
            .bind(to_json(&m.blobs)?)
            .bind(to_json(&m.children)?)
            .bind(i64_of(m.blob_bytes, "blob bytes")?)
            .bind(&m.annotations)
            .bind(&m.platforms)
            .bind(ts(m.created_at)),
            &format!("repository {}", m.repo_id),
        )
        .await
        .map(|_| ())
    }

    async fn get_manifest(
        &mut self,
        repo_id: i64,
        digest: &str,
    ) -> Result<Option<ManifestRecord>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM manifests WHERE repo_id = ? AND digest = ?")
                .bind(repo_id)
                .bind(digest),
            "manifest",
            manifest_row,
        )
        .await
    }

    async fn list_manifests(&mut self, repo_id: i64) -> Result<Vec<ManifestRecord>, StoreError> {
        self.fetch_all(
            sqlx::query(
                "SELECT * FROM manifests WHERE repo_id = ? ORDER BY created_at DESC, digest",
            )
            .bind(repo_id),
            "manifests",
            manifest_row,
        )
        .await
    }

    async fn delete_manifest(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError> {
        self.exec_one(
            sqlx::query("DELETE FROM manifests WHERE repo_id = ? AND digest = ?")
                .bind(repo_id)
                .bind(digest),
            &format!("manifest {digest}"),
        )
        .await?;
        self.exec(
            sqlx::query("DELETE FROM tags WHERE repo_id = ? AND digest = ?")
                .bind(repo_id)
                .bind(digest),
            "tags",
        )
        .await
        .map(|_| ())
    }

    async fn referrers(
        &mut self,
        repo_id: i64,
        subject: &str,
    ) -> Result<Vec<ManifestRecord>, StoreError> {
        self.fetch_all(
            sqlx::query("SELECT * FROM manifests WHERE repo_id = ? AND subject = ? ORDER BY created_at, digest")
                .bind(repo_id)
                .bind(subject),
            "manifests",
            manifest_row,
        )
        .await
    }

    async fn put_tag(&mut self, tag: &TagRecord) -> Result<(), StoreError> {
        if self.get_manifest(tag.repo_id, &tag.digest).await?.is_none() {
            return Err(StoreError::NotFound(format!("manifest {}", tag.digest)));
        }
        self.exec(
            sqlx::query(
                "INSERT INTO tags (repo_id, name, digest, updated_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
            )
            .bind(tag.repo_id)
            .bind(&tag.name)
            .bind(&tag.digest)
            .bind(ts(tag.updated_at)),
            &format!("tag {}", tag.name),
        )
        .await
        .map(|_| ())
    }

    async fn get_tag(&mut self, repo_id: i64, name: &str) -> Result<Option<TagRecord>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM tags WHERE repo_id = ? AND name = ?")
                .bind(repo_id)
                .bind(name),
            "tag",
            tag_row,
        )
        .await
    }

    async fn list_tags(
        &mut self,
        repo_id: i64,
        last: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<TagRecord>, StoreError> {
        let limit = limit.map_or(-1i64, |l| i64::try_from(l).unwrap_or(i64::MAX));
        self.fetch_all(
            sqlx::query("SELECT * FROM tags WHERE repo_id = ? AND name > ? ORDER BY name LIMIT ?")
                .bind(repo_id)
                .bind(last.unwrap_or(""))
                .bind(limit),
            "tags",
            tag_row,
        )
        .await
    }

    async fn delete_tag(&mut self, repo_id: i64, name: &str) -> Result<(), StoreError> {
        self.exec_one(
            sqlx::query("DELETE FROM tags WHERE repo_id = ? AND name = ?")
                .bind(repo_id)
                .bind(name),
            &format!("tag {name}"),
        )
        .await
    }

    async fn add_usage(
        &mut self,
        org: &OrgId,
        ledger: &str,
        digest: &str,
        size: u64,
    ) -> Result<bool, StoreError> {
        let n = self
            .exec(
                sqlx::query("INSERT INTO usage (org, ledger, digest, size) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
                    .bind(org.as_str())
                    .bind(ledger)
                    .bind(digest)
                    .bind(i64_of(size, "size")?),
                "usage",
            )
            .await?;
        Ok(n > 0)
    }

    async fn usage_holds(
        &mut self,
        org: &OrgId,
        ledger: &str,
        digest: &str,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM usage WHERE org = ? AND ledger = ? AND digest = ?")
            .bind(org.as_str())
            .bind(ledger)
            .bind(digest)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(|e| map_err(e, "usage"))?;
        Ok(row.is_some())
    }

    async fn usage(&mut self, org: &OrgId, ledger: &str) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(size), 0) AS total FROM usage WHERE org = ? AND ledger = ?",
        )
        .bind(org.as_str())
        .bind(ledger)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(|e| map_err(e, "usage"))?;
        let total: i64 = row.try_get("total").map_err(|e| map_err(e, "usage"))?;
        u64_of(total, "usage")
    }

    async fn insert_upload(&mut self, upload: &UploadSession) -> Result<(), StoreError> {
        let what = format!("upload {}", upload.id);
        self.exec(
            sqlx::query(
                "INSERT INTO uploads (id, org, purpose, backend_state, received, expected_size, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(upload.id.to_string())
            .bind(upload.org.as_str())
            .bind(&upload.purpose)
            .bind(&upload.backend_state)
            .bind(i64_of(upload.received, "received")?)
            .bind(upload.expected_size.map(|s| i64_of(s, "expected size")).transpose()?)
            .bind(ts(upload.created_at))
            .bind(ts(upload.updated_at)),
            &what,
        )
        .await
        .map(|_| ())
    }

    async fn get_upload(&mut self, id: Uuid) -> Result<Option<UploadSession>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM uploads WHERE id = ?").bind(id.to_string()),
            "upload",
            upload_row,
        )
        .await
    }

    async fn add_upload_part(
        &mut self,
        id: Uuid,
        part: &UploadPart,
        now: DateTime<Utc>,
    ) -> Result<UploadSession, StoreError> {
        let what = format!("upload {id}");
        if self.get_upload(id).await?.is_none() {
            return Err(StoreError::NotFound(what));
        }
        self.exec(
            sqlx::query("INSERT INTO upload_parts (upload_id, number, byte_offset, size, etag) VALUES (?, ?, ?, ?, ?)")
                .bind(id.to_string())
                .bind(i64::from(part.number))
                .bind(i64_of(part.offset, "offset")?)
                .bind(i64_of(part.size, "size")?)
                .bind(&part.etag),
            &format!("part {} of upload {id}", part.number),
        )
        .await?;
        self.exec_one(
            sqlx::query("UPDATE uploads SET received = received + ?, updated_at = ? WHERE id = ?")
                .bind(i64_of(part.size, "size")?)
                .bind(ts(now))
                .bind(id.to_string()),
            &what,
        )
        .await?;
        self.get_upload(id).await?.ok_or(StoreError::NotFound(what))
    }

    async fn upload_parts(&mut self, id: Uuid) -> Result<Vec<UploadPart>, StoreError> {
        self.fetch_all(
            sqlx::query("SELECT * FROM upload_parts WHERE upload_id = ? ORDER BY number")
                .bind(id.to_string()),
            "upload parts",
            part_row,
        )
        .await
    }

    async fn delete_upload(&mut self, id: Uuid) -> Result<(), StoreError> {
        self.exec_one(
            sqlx::query("DELETE FROM uploads WHERE id = ?").bind(id.to_string()),
            &format!("upload {id}"),
        )
        .await
    }

    async fn stale_uploads(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<Vec<UploadSession>, StoreError> {
        self.fetch_all(
            sqlx::query("SELECT * FROM uploads WHERE updated_at < ? ORDER BY updated_at, id")
                .bind(ts(before)),
            "uploads",
            upload_row,
        )
        .await
    }

    async fn insert_artifact(&mut self, artifact: &NewArtifact) -> Result<Artifact, StoreError> {
        if self.get_org(&artifact.org).await?.is_none() {
            return Err(StoreError::NotFound(format!("org {}", artifact.org)));
        }
        let what = match &artifact.team {
            Some(team) => format!(
                "{} {}/{team}/{}",
                artifact.kind, artifact.org, artifact.name
            ),
            None => format!("{} {}/{}", artifact.kind, artifact.org, artifact.name),
        };
        self.exec(
            sqlx::query(
                "INSERT INTO artifacts (kind, org, team, name, metadata, public, latest_version, created_by, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            )
            .bind(artifact.kind.as_str())
            .bind(artifact.org.as_str())
            .bind(team_col(artifact.team.as_ref()))
            .bind(artifact.name.as_str())
            .bind(to_json(&artifact.metadata)?)
            .bind(artifact.public as i64)
            .bind(artifact.created_by)
            .bind(ts(artifact.created_at))
            .bind(ts(artifact.created_at)),
            &what,
        )
        .await?;
        self.get_artifact(
            artifact.kind,
            &artifact.org,
            artifact.team.as_ref(),
            artifact.name.as_str(),
        )
        .await?
        .ok_or_else(|| StoreError::Backend("inserted artifact vanished".into()))
    }

    async fn get_artifact(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
        team: Option<&TeamName>,
        name: &str,
    ) -> Result<Option<Artifact>, StoreError> {
        self.fetch_opt(
            sqlx::query(
                "SELECT * FROM artifacts WHERE kind = ? AND org = ? AND team = ? AND name = ?",
            )
            .bind(kind.as_str())
            .bind(org.as_str())
            .bind(team_col(team))
            .bind(name),
            "artifact",
            artifact_row,
        )
        .await
    }

    async fn list_artifacts(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
    ) -> Result<Vec<Artifact>, StoreError> {
        // team = '' (org level) sorts first; BINARY collation is byte order.
        self.fetch_all(
            sqlx::query("SELECT * FROM artifacts WHERE kind = ? AND org = ? ORDER BY team, name")
                .bind(kind.as_str())
                .bind(org.as_str()),
            "artifacts",
            artifact_row,
        )
        .await
    }

    async fn update_artifact(&mut self, artifact: &Artifact) -> Result<(), StoreError> {
        self.exec_one(
            sqlx::query(
                "UPDATE artifacts SET metadata = ?, public = ?, latest_version = ?, updated_at = ? WHERE id = ?",
            )
            .bind(to_json(&artifact.metadata)?)
            .bind(artifact.public as i64)
            .bind(artifact.latest_version.as_ref().map(|v| v.as_str()))
            .bind(ts(artifact.updated_at))
            .bind(artifact.id),
            &format!("artifact {}", artifact.id),
        )
        .await
    }

    async fn delete_artifact(&mut self, artifact_id: i64) -> Result<(), StoreError> {
        // Versions, their files and the blob links go with it (ON DELETE CASCADE).
        self.exec_one(
            sqlx::query("DELETE FROM artifacts WHERE id = ?").bind(artifact_id),
            &format!("artifact {artifact_id}"),
        )
        .await
    }

    async fn insert_version(
        &mut self,
        version: &NewArtifactVersion,
    ) -> Result<ArtifactVersion, StoreError> {
        // An unknown artifact violates the foreign key: NotFound.
        let what = format!(
            "version {} of artifact {}",
            version.version, version.artifact_id
        );
        self.exec(
            sqlx::query(
                "INSERT INTO artifact_versions (artifact_id, version, status, metadata, file_count, total_size, created_by, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?)",
            )
            .bind(version.artifact_id)
            .bind(version.version.as_str())
            .bind(version.status.as_str())
            .bind(to_json(&version.metadata)?)
            .bind(version.created_by)
            .bind(ts(version.created_at))
            .bind(ts(version.created_at)),
            &what,
        )
        .await?;
        self.get_version(version.artifact_id, version.version.as_str())
            .await?
            .ok_or_else(|| StoreError::Backend("inserted version vanished".into()))
    }

    async fn get_version(
        &mut self,
        artifact_id: i64,
        version: &str,
    ) -> Result<Option<ArtifactVersion>, StoreError> {
        self.fetch_opt(
            sqlx::query("SELECT * FROM artifact_versions WHERE artifact_id = ? AND version = ?")
                .bind(artifact_id)
                .bind(version),
            "version",
            version_row,
        )
        .await
    }

    async fn list_versions(
        &mut self,
        artifact_id: i64,
    ) -> Result<Vec<ArtifactVersion>, StoreError> {
        self.fetch_all(
            sqlx::query("SELECT * FROM artifact_versions WHERE artifact_id = ? ORDER BY id")
                .bind(artifact_id),
            "versions",
            version_row,
        )
        .await
    }

    async fn list_org_versions(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
    ) -> Result<Vec<ArtifactVersion>, StoreError> {
        self.fetch_all(
            sqlx::query(
                "SELECT v.* FROM artifacts a JOIN artifact_versions v ON v.artifact_id = a.id \
                 WHERE a.kind = ? AND a.org = ? ORDER BY v.artifact_id, v.id",
            )
            .bind(kind.as_str())
            .bind(org.as_str()),
            "versions",
            version_row,
        )
        .await
    }

    async fn update_version(&mut self, version: &ArtifactVersion) -> Result<(), StoreError> {
        self.exec_one(
            sqlx::query(
                "UPDATE artifact_versions SET status = ?, metadata = ?, file_count = ?, total_size = ?, updated_at = ? WHERE id = ?",
            )
            .bind(version.status.as_str())
            .bind(to_json(&version.metadata)?)
            .bind(i64_of(version.file_count, "file count")?)
            .bind(i64_of(version.total_size, "total size")?)
            .bind(ts(version.updated_at))
            .bind(version.id),
            &format!("version {}", version.id),
        )
        .await
    }

    async fn delete_version(&mut self, version_id: i64) -> Result<(), StoreError> {
        // Its files go with it (ON DELETE CASCADE).
        self.exec_one(
            sqlx::query("DELETE FROM artifact_versions WHERE id = ?").bind(version_id),
            &format!("version {version_id}"),
        )
        .await
    }

    async fn put_version_file(
        &mut self,
        version_id: i64,
        file: &VersionFile,
    ) -> Result<(), StoreError> {
        // An unknown version violates the foreign key: NotFound.
        self.exec(
            sqlx::query(
                "INSERT INTO artifact_files (version_id, path, digest, size, created_at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (version_id, path) DO UPDATE SET digest = excluded.digest, size = excluded.size, created_at = excluded.created_at",
            )
            .bind(version_id)
            .bind(&file.path)
            .bind(&file.digest)
            .bind(i64_of(file.size, "size")?)
            .bind(ts(file.created_at)),
            &format!("version {version_id}"),
        )
        .await
        .map(|_| ())
    }

    async fn delete_version_file(
        &mut self,
        version_id: i64,
        path: &str,
    ) -> Result<bool, StoreError> {
        let n = self
            .exec(
                sqlx::query("DELETE FROM artifact_files WHERE version_id = ? AND path = ?")
                    .bind(version_id)
                    .bind(path),
                &format!("file {path}"),
            )
            .await?;
        Ok(n > 0)
    }

    async fn version_files(&mut self, version_id: i64) -> Result<Vec<VersionFile>, StoreError> {
        self.fetch_all(
            sqlx::query("SELECT * FROM artifact_files WHERE version_id = ? ORDER BY path")
                .bind(version_id),
            "files",
            version_file_row,
        )
        .await
    }

    async fn add_artifact_blob(
        &mut self,
        artifact_id: i64,
        digest: &str,
        size: u64,
    ) -> Result<(), StoreError> {
        // An unknown artifact violates the foreign key: NotFound.
        self.exec(
            sqlx::query(
                "INSERT INTO artifact_blobs (artifact_id, digest, size) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(artifact_id)
            .bind(digest)
            .bind(i64_of(size, "size")?),
            &format!("artifact {artifact_id}"),
        )
        .await
        .map(|_| ())
    }

    async fn artifact_blob(
        &mut self,
        artifact_id: i64,
        digest: &str,
    ) -> Result<Option<u64>, StoreError> {
        let size = self
            .fetch_opt(
                sqlx::query("SELECT size FROM artifact_blobs WHERE artifact_id = ? AND digest = ?")
                    .bind(artifact_id)
                    .bind(digest),
                "artifact blob",
                |r| r.int("size"),
            )
            .await?;
        size.map(|s| u64_of(s, "size")).transpose()
    }
}
