//! Conformance test functions for [`MetadataStore`] adapters.

use arca_auth::{KeyKind, KeyService, Role};
use arca_core::model::{ApiKey, BlobRecord, NewOrg, NewTeam, NewUser, UploadPart, UploadSession};
use arca_core::names::{Email, OrgId, TeamName};
use arca_core::ports::{MetadataStore, StoreError};
use arca_core::quota::QuotaLimits;
use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;
use uuid::Uuid;

pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
        .single()
        .unwrap_or_default()
}

pub(super) fn org_id(s: &str) -> OrgId {
    OrgId::new(s).expect("valid org id in the suite")
}

pub(super) fn team_name(s: &str) -> TeamName {
    TeamName::new(s).expect("valid team name in the suite")
}

pub(super) fn new_org(name: &str) -> NewOrg {
    NewOrg {
        name: org_id(name),
        display_name: format!("{name} display"),
        description: String::new(),
        quota: QuotaLimits::default(),
        created_at: t0(),
    }
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Email::new(email).expect("valid email in the suite"),
        display_name: email.to_string(),
        created_at: t0(),
    }
}

/// An API key record for tests.
pub fn sample_key(org: &str, user_id: Option<i64>, name: &str, hash: &str) -> ApiKey {
    ApiKey {
        id: Uuid::new_v4(),
        kind: if user_id.is_some() {
            KeyKind::Personal
        } else {
            KeyKind::Service
        },
        org: org_id(org),
        user_id,
        name: name.to_string(),
        secret_hash: hash.to_string(),
        hint: "abcd".into(),
        services: vec![KeyService::PrivateRegistry],
        scopes: vec![],
        entity: None,
        active: true,
        expires_at: None,
        created_at: t0(),
        rotated_at: None,
        last_used_at: None,
    }
}

/// Runs every metadata-store test function, each against a fresh store from `make`.
pub async fn run_metadata_suite<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn MetadataStore>>,
{
    settings(make().await.as_ref()).await;
    orgs(make().await.as_ref()).await;
    teams(make().await.as_ref()).await;
    users(make().await.as_ref()).await;
    role_grants(make().await.as_ref()).await;
    keys(make().await.as_ref()).await;
    rollback_discards_everything(make().await.as_ref()).await;
    dropped_transaction_discards_everything(make().await.as_ref()).await;
    read_transaction_rejects_writes(make().await.as_ref()).await;
    blob_records(make().await.as_ref()).await;
    upload_sessions(make().await.as_ref()).await;
    concurrent_writers_are_serialized(make().await).await;
    super::run_registry_suite(&make).await;
    super::run_artifact_suite(&make).await;
}

/// Settings: insert-if-absent keeps the first value.
pub async fn settings(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.get_setting("k").await.expect("get"), None);
    assert_eq!(
        tx.put_setting_if_absent("k", "v1").await.expect("put"),
        "v1"
    );
    assert_eq!(
        tx.put_setting_if_absent("k", "v2").await.expect("put"),
        "v1"
    );
    tx.commit().await.expect("commit");
    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tx.get_setting("k").await.expect("get").as_deref(),
        Some("v1")
    );
}

/// Orgs: unique names, ordered listing, updates of mutable fields only.
pub async fn orgs(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let b = tx.insert_org(&new_org("beta")).await.expect("insert beta");
    let a = tx
        .insert_org(&new_org("alpha"))
        .await
        .expect("insert alpha");
    assert_ne!(a.id, b.id, "org ids must be distinct");
    assert_eq!(a.created_at, t0(), "created_at must round-trip");
    assert!(
        matches!(
            tx.insert_org(&new_org("alpha")).await,
            Err(StoreError::AlreadyExists(_))
        ),
        "duplicate org name must be AlreadyExists"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    let names: Vec<String> = tx
        .list_orgs()
        .await
        .expect("list")
        .into_iter()
        .map(|o| o.name.to_string())
        .collect();
    assert_eq!(names, ["alpha", "beta"], "orgs listed by name");
    let mut changed = a.clone();
    changed.display_name = "Alpha Inc".into();
    changed.quota.max_layer_bytes = 42;
    tx.update_org(&changed).await.expect("update");
    let got = tx.get_org(&a.name).await.expect("get").expect("present");
    assert_eq!(got, changed, "update must persist display name and quota");
    let mut ghost = changed.clone();
    ghost.name = org_id("ghost");
    assert!(matches!(
        tx.update_org(&ghost).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(tx.get_org(&org_id("ghost")).await.expect("get").is_none());
    tx.commit().await.expect("commit");
}

/// Teams: need their org, unique per org, deletion removes their grants.
pub async fn teams(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    tx.insert_org(&new_org("acme")).await.expect("org");
    tx.insert_org(&new_org("other")).await.expect("org");
    let team = |org: &str, name: &str| NewTeam {
        org: org_id(org),
        name: team_name(name),
        description: "d".into(),
        created_at: t0(),
    };
    assert!(
        matches!(
            tx.insert_team(&team("nope", "x")).await,
            Err(StoreError::NotFound(_))
        ),
        "a team needs an existing org"
    );
    let vision = tx.insert_team(&team("acme", "vision")).await.expect("team");
    tx.insert_team(&team("acme", "audio")).await.expect("team");
    tx.insert_team(&team("other", "vision"))
        .await
        .expect("same team name in another org");
    assert!(matches!(
        tx.insert_team(&team("acme", "vision")).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let names: Vec<String> = tx
        .list_teams(&org_id("acme"))
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(names, ["audio", "vision"]);
    let mut changed = vision.clone();
    changed.description = "new".into();
    tx.update_team(&changed).await.expect("update");
    assert_eq!(
        tx.get_team(&org_id("acme"), &team_name("vision"))
            .await
            .expect("get")
            .expect("present")
            .description,
        "new"
    );
    let user = tx.insert_user(&new_user("u@x.io")).await.expect("user");
    tx.set_roles(
        user.id,
        &org_id("acme"),
        Some(&team_name("vision")),
        &[Role::RegistryRead],
    )
    .await
    .expect("grant");
    tx.delete_team(&org_id("acme"), &team_name("vision"))
        .await
        .expect("delete");
    assert!(tx
        .get_team(&org_id("acme"), &team_name("vision"))
        .await
        .expect("get")
        .is_none());
    assert!(
        tx.grants_of_user(user.id).await.expect("grants").is_empty(),
        "deleting a team must delete its grants"
    );
    assert!(matches!(
        tx.delete_team(&org_id("acme"), &team_name("vision")).await,
        Err(StoreError::NotFound(_))
    ));
    tx.commit().await.expect("commit");
}

/// Users: unique email, lookup by id and email.
pub async fn users(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let u = tx.insert_user(&new_user("a@x.io")).await.expect("user");
    assert!(matches!(
        tx.insert_user(&new_user("a@x.io")).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(tx.get_user(u.id).await.expect("get"), Some(u.clone()));
    assert_eq!(
        tx.get_user_by_email(&u.email).await.expect("get"),
        Some(u.clone())
    );
    let mut renamed = u.clone();
    renamed.display_name = "Ann".into();
    tx.update_user(&renamed).await.expect("update");
    assert_eq!(tx.get_user(u.id).await.expect("get"), Some(renamed));
    assert!(tx.get_user(u.id + 1000).await.expect("get").is_none());
    tx.commit().await.expect("commit");
}

/// Role grants: replace per context, empty removes, removal from an org removes team grants.
pub async fn role_grants(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    tx.insert_org(&new_org("acme")).await.expect("org");
    tx.insert_org(&new_org("zeta")).await.expect("org");
    tx.insert_team(&NewTeam {
        org: org_id("acme"),
        name: team_name("vision"),
        description: String::new(),
        created_at: t0(),
    })
    .await
    .expect("team");
    let u = tx.insert_user(&new_user("u@x.io")).await.expect("user");
    let acme = org_id("acme");
    let vision = team_name("vision");
    tx.set_roles(u.id, &acme, None, &[Role::RegistryUser, Role::UserRead])
        .await
        .expect("org roles");
    tx.set_roles(u.id, &acme, Some(&vision), &[Role::RegistryAdmin])
        .await
        .expect("team roles");
    tx.set_roles(u.id, &org_id("zeta"), None, &[Role::RegistryRead])
        .await
        .expect("other org");
    assert!(
        matches!(
            tx.set_roles(u.id, &acme, Some(&team_name("nope")), &[Role::RegistryRead])
                .await,
            Err(StoreError::NotFound(_))
        ),
        "granting in a missing team must be NotFound"
    );
    assert!(matches!(
        tx.set_roles(u.id + 999, &acme, None, &[Role::RegistryRead])
            .await,
        Err(StoreError::NotFound(_))
    ));
    let grants = tx.grants_of_user(u.id).await.expect("grants");
    assert_eq!(grants.len(), 4, "{grants:?}");
    tx.set_roles(u.id, &acme, None, &[Role::RegistryRead])
        .await
        .expect("replace");
    let in_acme = tx.grants_in_org(&acme).await.expect("grants");
    let org_level: Vec<Role> = in_acme
        .iter()
        .filter(|g| g.team.is_none())
        .map(|g| g.role)
        .collect();
    assert_eq!(org_level, [Role::RegistryRead], "set_roles must replace");
    assert_eq!(
        in_acme.iter().filter(|g| g.team.is_some()).count(),
        1,
        "team grant untouched by an org-level replace"
    );
    tx.remove_user_from_org(u.id, &acme).await.expect("remove");
    let left = tx.grants_of_user(u.id).await.expect("grants");
    assert_eq!(left.len(), 1, "only the other org's grant stays: {left:?}");
    assert_eq!(left[0].org, org_id("zeta"));
    tx.set_roles(u.id, &org_id("zeta"), None, &[])
        .await
        .expect("empty removes");
    assert!(tx.grants_of_user(u.id).await.expect("grants").is_empty());
    tx.commit().await.expect("commit");
}

/// API keys: hash lookup, uniqueness of hashes and names per owner, filters, update, delete.
pub async fn keys(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    tx.insert_org(&new_org("acme")).await.expect("org");
    tx.insert_org(&new_org("zeta")).await.expect("org");
    let u1 = tx.insert_user(&new_user("a@x.io")).await.expect("user").id;
    let u2 = tx.insert_user(&new_user("b@x.io")).await.expect("user").id;
    let k1 = sample_key("acme", Some(u1), "ci", "h1");
    tx.insert_key(&k1).await.expect("k1");
    tx.insert_key(&sample_key("acme", Some(u2), "ci", "h2"))
        .await
        .expect("same name, other user");
    tx.insert_key(&sample_key("zeta", Some(u1), "ci", "h3"))
        .await
        .expect("same name, other org");
    tx.insert_key(&sample_key("acme", None, "ci", "h4"))
        .await
        .expect("service key with same name as a personal one");
    assert!(
        matches!(
            tx.insert_key(&sample_key("acme", Some(u1), "ci", "h5"))
                .await,
            Err(StoreError::AlreadyExists(_))
        ),
        "duplicate personal key name for the same user and org"
    );
    assert!(
        matches!(
            tx.insert_key(&sample_key("acme", None, "ci", "h6")).await,
            Err(StoreError::AlreadyExists(_))
        ),
        "duplicate service key name in the org"
    );
    assert!(
        matches!(
            tx.insert_key(&sample_key("acme", Some(u1), "other", "h1"))
                .await,
            Err(StoreError::AlreadyExists(_))
        ),
        "duplicate secret hash"
    );
    assert_eq!(
        tx.find_key_by_hash("h1").await.expect("find"),
        Some(k1.clone())
    );
    assert!(tx.find_key_by_hash("nope").await.expect("find").is_none());
    let acme = org_id("acme");
    assert_eq!(tx.list_keys(&acme, None).await.expect("list").len(), 3);
    assert_eq!(
        tx.list_keys(&acme, Some(Some(u1)))
            .await
            .expect("list")
            .len(),
        1
    );
    let service = tx.list_keys(&acme, Some(None)).await.expect("list");
    assert_eq!(service.len(), 1);
    assert!(service[0].user_id.is_none());

    let mut rotated = k1.clone();
    rotated.secret_hash = "h1b".into();
    rotated.active = false;
    rotated.rotated_at = Some(t0());
    rotated.expires_at = Some(t0());
    tx.update_key(&rotated).await.expect("update");
    assert!(
        tx.find_key_by_hash("h1").await.expect("find").is_none(),
        "old hash dead"
    );
    assert_eq!(tx.get_key(k1.id).await.expect("get"), Some(rotated.clone()));
    tx.delete_key(k1.id).await.expect("delete");
    assert!(matches!(
        tx.delete_key(k1.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        tx.update_key(&rotated).await,
        Err(StoreError::NotFound(_))
    ));
    tx.insert_key(&sample_key("acme", Some(u2), "two", "h7"))
        .await
        .expect("k");
    assert_eq!(tx.delete_keys_of_user(u2, &acme).await.expect("delete"), 2);
    assert_eq!(
        tx.list_keys(&org_id("zeta"), None)
            .await
            .expect("list")
            .len(),
        1,
        "other org's keys stay"
    );
    tx.commit().await.expect("commit");
}

/// An explicit rollback discards every write of the transaction, whatever its kind.
pub async fn rollback_discards_everything(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    tx.insert_org(&new_org("acme")).await.expect("org");
    let u = tx.insert_user(&new_user("a@x.io")).await.expect("user");
    tx.set_roles(u.id, &org_id("acme"), None, &[Role::OrgOwner])
        .await
        .expect("grant");
    tx.insert_key(&sample_key("acme", Some(u.id), "k", "h"))
        .await
        .expect("key");
    tx.rollback().await.expect("rollback");
    let mut tx = store.begin_read().await.expect("begin");
    assert!(
        tx.list_orgs().await.expect("list").is_empty(),
        "rolled-back org visible"
    );
    assert!(
        tx.find_key_by_hash("h").await.expect("find").is_none(),
        "rolled-back key visible"
    );
    assert!(tx.get_user_by_email(&u.email).await.expect("get").is_none());
}

/// Dropping a transaction without commit is a rollback.
pub async fn dropped_transaction_discards_everything(store: &dyn MetadataStore) {
    {
        let mut tx = store.begin().await.expect("begin");
        tx.insert_org(&new_org("acme")).await.expect("org");
        drop(tx);
    }
    let mut tx = store.begin().await.expect("begin after drop");
    assert!(tx.get_org(&org_id("acme")).await.expect("get").is_none());
    tx.insert_org(&new_org("acme"))
        .await
        .expect("the name is free again");
    tx.commit().await.expect("commit");
}

/// A read transaction refuses writes and sees committed data.
pub async fn read_transaction_rejects_writes(store: &dyn MetadataStore) {
    let mut tx = store.begin_read().await.expect("begin");
    assert!(
        tx.insert_org(&new_org("acme")).await.is_err(),
        "write through a read-only transaction must fail"
    );
    drop(tx);
    let mut tx = store.begin_read().await.expect("begin");
    assert!(tx.get_org(&org_id("acme")).await.expect("get").is_none());
}

/// Blob records: insert is idempotent and keeps the first record.
pub async fn blob_records(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let rec = BlobRecord {
        digest: "sha256:aa".into(),
        size: 5_000_000_000,
        created_at: t0(),
    };
    assert_eq!(tx.insert_blob(&rec).await.expect("insert"), rec);
    let mut again = rec.clone();
    again.created_at = t0() + chrono::Duration::seconds(5);
    assert_eq!(
        tx.insert_blob(&again).await.expect("insert"),
        rec,
        "first record kept"
    );
    assert_eq!(tx.get_blob("sha256:aa").await.expect("get"), Some(rec));
    assert!(tx.get_blob("sha256:bb").await.expect("get").is_none());
    tx.commit().await.expect("commit");
}

/// Upload sessions and parts: durable bookkeeping, duplicate parts refused, cascade on delete.
pub async fn upload_sessions(store: &dyn MetadataStore) {
    let id = Uuid::new_v4();
    let session = UploadSession {
        id,
        org: org_id("acme"),
        purpose: "oci:acme/repo".into(),
        backend_state: "state-1".into(),
        received: 0,
        expected_size: Some(10),
        created_at: t0(),
        updated_at: t0(),
    };
    let mut tx = store.begin().await.expect("begin");
    tx.insert_upload(&session).await.expect("insert");
    assert!(matches!(
        tx.insert_upload(&session).await,
        Err(StoreError::AlreadyExists(_))
    ));
    tx.commit().await.expect("commit");

    let later = t0() + chrono::Duration::minutes(5);
    let part = |n: u32, offset: u64, size: u64| UploadPart {
        number: n,
        offset,
        size,
        etag: format!("e{n}"),
    };
    let mut tx = store.begin().await.expect("begin");
    tx.add_upload_part(id, &part(2, 4, 6), later)
        .await
        .expect("part 2");
    let s = tx
        .add_upload_part(id, &part(1, 0, 4), later)
        .await
        .expect("part 1");
    assert_eq!(s.received, 10);
    assert_eq!(s.updated_at, later);
    assert!(matches!(
        tx.add_upload_part(id, &part(1, 0, 4), later).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        tx.add_upload_part(Uuid::new_v4(), &part(1, 0, 4), later)
            .await,
        Err(StoreError::NotFound(_))
    ));
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    let parts = tx.upload_parts(id).await.expect("parts");
    assert_eq!(
        parts,
        vec![part(1, 0, 4), part(2, 4, 6)],
        "parts ordered by number"
    );
    let got = tx.get_upload(id).await.expect("get").expect("present");
    assert_eq!(got.received, 10);
    assert_eq!(got.backend_state, "state-1");
    let stale = tx
        .stale_uploads(later + chrono::Duration::seconds(1))
        .await
        .expect("stale");
    assert_eq!(stale.len(), 1);
    assert!(tx.stale_uploads(later).await.expect("stale").is_empty());
    drop(tx);

    let mut tx = store.begin().await.expect("begin");
    tx.delete_upload(id).await.expect("delete");
    assert!(
        tx.upload_parts(id).await.expect("parts").is_empty(),
        "parts cascade"
    );
    assert!(matches!(
        tx.delete_upload(id).await,
        Err(StoreError::NotFound(_))
    ));
    tx.commit().await.expect("commit");
}

/// Concurrent read-check-write transactions never overshoot a limit: 24 tasks each insert a
/// key only if the user has fewer than 8; exactly 8 must exist afterwards (R-KEY-1 at the
/// storage level). Adapters that report `Conflict` are retried here, as services do.
pub async fn concurrent_writers_are_serialized(store: Arc<dyn MetadataStore>) {
    let mut tx = store.begin().await.expect("begin");
    tx.insert_org(&new_org("acme")).await.expect("org");
    let uid = tx.insert_user(&new_user("a@x.io")).await.expect("user").id;
    tx.commit().await.expect("commit");
    let acme = org_id("acme");
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = store.clone();
        let acme = acme.clone();
        tasks.push(tokio::spawn(async move {
            for _attempt in 0..50 {
                let result: Result<bool, StoreError> = async {
                    let mut tx = store.begin().await?;
                    let n = tx.list_keys(&acme, Some(Some(uid))).await?.len();
                    if n >= 8 {
                        return Ok(false);
                    }
                    tokio::task::yield_now().await;
                    tx.insert_key(&sample_key(
                        "acme",
                        Some(uid),
                        &format!("k{i}"),
                        &format!("h{i}"),
                    ))
                    .await?;
                    tx.commit().await?;
                    Ok(true)
                }
                .await;
                match result {
                    Err(StoreError::Conflict(_)) => continue,
                    other => return other.expect("transaction failed"),
                }
            }
            panic!("transaction kept conflicting");
        }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.expect("task panicked") {
            created += 1;
        }
    }
    let mut tx = store.begin_read().await.expect("begin");
    let n = tx
        .list_keys(&acme, Some(Some(uid)))
        .await
        .expect("list")
        .len();
    assert_eq!(created, 8, "exactly 8 inserts may succeed");
    assert_eq!(n, 8, "exactly 8 keys must exist");
}
