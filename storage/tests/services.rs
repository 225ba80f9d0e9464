//! Core use cases over a real SQLite store with an injectable clock: key limits and lifecycle,
//! membership rules, and that every revocation takes effect on the very next request.

use arca_auth::{EntityFilter, ExpiryChoice, KeyService, Role, ServiceKeyScope};
use arca_core::authz::Principal;
use arca_core::keys::{PersonalKeyRequest, ServiceKeyRequest};
use arca_core::names::{Email, OrgId, TeamName};
use arca_core::ports::{Clock, ManualClock};
use arca_core::service::BootstrapRequest;
use arca_core::{Arca, CoreError};
use arca_storage::memory::MemoryBlobStore;
use arca_storage::sqlite::SqliteMetadataStore;
use arca_storage::system::OsRandom;
use chrono::{Duration, TimeZone, Utc};
use std::sync::Arc;

struct Fixture {
    arca: Arca,
    clock: Arc<ManualClock>,
    owner_key: String,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = SqliteMetadataStore::open(&dir.path().join("arca.db"))
        .await
        .expect("sqlite");
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("time"),
    ));
    let arca = Arca::new(
        Arc::new(meta),
        Arc::new(MemoryBlobStore::new()),
        clock.clone(),
        Arc::new(OsRandom),
    );
    let out = arca
        .bootstrap(BootstrapRequest {
            org: OrgId::new("acme").expect("org"),
            display_name: None,
            owner_email: Email::new("owner@acme.io").expect("email"),
        })
        .await
        .expect("bootstrap");
    Fixture {
        arca,
        clock,
        owner_key: out.secret.expose_secret().to_string(),
        _dir: dir,
    }
}

async fn login(arca: &Arca, key: &str) -> Result<Principal, CoreError> {
    arca.authenticate_bearer(key).await
}

fn personal(name: &str) -> PersonalKeyRequest {
    PersonalKeyRequest {
        name: name.into(),
        expiry: ExpiryChoice::Never,
        services: vec![],
    }
}

async fn count_keys(arca: &Arca) -> usize {
    let mut tx = arca.meta.begin_read().await.expect("tx");
    tx.list_keys(&OrgId::new("acme").expect("org"), None)
        .await
        .expect("list")
        .len()
}

#[tokio::test]
async fn ninth_personal_key_is_refused_and_nothing_changes() {
    let f = fixture().await;
    let p = login(&f.arca, &f.owner_key).await.expect("login");
    // The bootstrap key is the first of eight.
    for i in 1..8 {
        f.arca
            .create_personal_key(&p, personal(&format!("k{i}")))
            .await
            .expect("within the limit");
    }
    let before = count_keys(&f.arca).await;
    let err = f
        .arca
        .create_personal_key(&p, personal("k9"))
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::LimitReached(_)), "{err}");
    assert!(
        err.to_string().contains('8'),
        "message names the limit: {err}"
    );
    assert_eq!(count_keys(&f.arca).await, before);
}

#[tokio::test]
async fn fifty_first_service_key_is_refused() {
    let f = fixture().await;
    let p = login(&f.arca, &f.owner_key).await.expect("login");
    let req = |i: usize| ServiceKeyRequest {
        name: format!("svc{i}"),
        expiry: ExpiryChoice::ThirtyDays,
        scopes: vec![ServiceKeyScope::All],
        entity: EntityFilter::AllEntities,
    };
    for i in 0..50 {
        f.arca
            .create_service_key(&p, req(i))
            .await
            .expect("within the limit");
    }
    let before = count_keys(&f.arca).await;
    let err = f.arca.create_service_key(&p, req(50)).await.unwrap_err();
    assert!(matches!(err, CoreError::LimitReached(_)), "{err}");
    assert_eq!(count_keys(&f.arca).await, before);
}

#[tokio::test]
async fn third_owner_is_refused() {
    let f = fixture().await;
    let p = login(&f.arca, &f.owner_key).await.expect("login");
    let acme = OrgId::new("acme").expect("org");
    f.arca
        .add_member(
            &p,
            &acme,
            None,
            &Email::new("two@acme.io").expect("e"),
            None,
            &[Role::OrgOwner],
        )
        .await
        .expect("second owner");
    let err = f
        .arca
        .add_member(
            &p,
            &acme,
            None,
            &Email::new("three@acme.io").expect("e"),
            None,
            &[Role::OrgOwner],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().to_lowercase().contains("owner"), "{err}");
    let members = f.arca.list_members(&p, &acme, None).await.expect("list");
    assert_eq!(members.len(), 2, "the rejected user was not added");
}

#[tokio::test]
async fn user_admin_cannot_grant_a_role_it_lacks() {
    let f = fixture().await;
    let owner = login(&f.arca, &f.owner_key).await.expect("login");
    let acme = OrgId::new("acme").expect("org");
    let ua_email = Email::new("ua@acme.io").expect("e");
    f.arca
        .add_member(
            &owner,
            &acme,
            None,
            &ua_email,
            None,
            &[Role::UserAdmin, Role::RegistryRead],
        )
        .await
        .expect("user admin");
    let ua = member_login(&f, &ua_email).await;
    let err = f
        .arca
        .add_member(
            &ua,
            &acme,
            None,
            &Email::new("x@acme.io").expect("e"),
            None,
            &[Role::RegistryAdmin],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::Invalid(_) | CoreError::Forbidden(_)),
        "{err}"
    );
    f.arca
        .add_member(
            &ua,
            &acme,
            None,
            &Email::new("y@acme.io").expect("e"),
            None,
            &[Role::RegistryRead],
        )
        .await
        .expect("a role it holds");
    let emails: Vec<String> = f
        .arca
        .list_members(&owner, &acme, None)
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.user.email.to_string())
        .collect();
    assert!(!emails.contains(&"x@acme.io".to_string()));
}

/// A principal for a member, through a personal key created in their name.
async fn member_login(f: &Fixture, email: &Email) -> Principal {
    // A member's first key is made by an operator (the server has no password login); here
    // the record is written straight to the store, then the member logs in with it.
    let mut tx = f.arca.meta.begin().await.expect("tx");
    let user = tx
        .get_user_by_email(email)
        .await
        .expect("get")
        .expect("user");
    let g = arca_auth::KeySecret::generate(arca_auth::KeyKind::Legacy, rand_bytes());
    let key = arca_core::model::ApiKey {
        id: uuid::Uuid::new_v4(),
        kind: arca_auth::KeyKind::Legacy,
        org: OrgId::new("acme").expect("org"),
        user_id: Some(user.id),
        name: "legacy".into(),
        secret_hash: g.hash.as_str().into(),
        hint: g.hint,
        services: KeyService::ALL.to_vec(),
        scopes: vec![],
        entity: None,
        active: true,
        expires_at: None,
        created_at: f.clock.now(),
        rotated_at: None,
        last_used_at: None,
    };
    tx.insert_key(&key).await.expect("insert");
    tx.commit().await.expect("commit");
    login(&f.arca, g.secret.expose_secret())
        .await
        .expect("member login")
}

fn rand_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    use arca_core::ports::RandomSource;
    OsRandom.fill(&mut b);
    b
}

#[tokio::test]
async fn personal_key_cannot_ask_for_a_service_its_user_lacks() {
    let f = fixture().await;
    let owner = login(&f.arca, &f.owner_key).await.expect("login");
    let acme = OrgId::new("acme").expect("org");
    let email = Email::new("reader@acme.io").expect("e");
    f.arca
        .add_member(&owner, &acme, None, &email, None, &[Role::RegistryRead])
        .await
        .expect("member");
    let reader = member_login(&f, &email).await;
    let before = count_keys(&f.arca).await;
    let err = f
        .arca
        .create_personal_key(
            &reader,
            PersonalKeyRequest {
                name: "admin-things".into(),
                expiry: ExpiryChoice::SevenDays,
                services: vec![KeyService::UserManagement],
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("USER_MANAGEMENT"), "{err}");
    assert_eq!(count_keys(&f.arca).await, before);
}

#[tokio::test]
async fn revocations_take_effect_on_the_next_request() {
    let f = fixture().await;
    let owner = login(&f.arca, &f.owner_key).await.expect("login");
    let acme = OrgId::new("acme").expect("org");
    let email = Email::new("dev@acme.io").expect("e");
    f.arca
        .add_member(&owner, &acme, None, &email, None, &[Role::RegistryUser])
        .await
        .expect("member");
    let dev = member_login(&f, &email).await;

    // Deactivation, reactivation.
    let k = f
        .arca
        .create_personal_key(&dev, personal("a"))
        .await
        .expect("key");
    let secret = k.secret.expose_secret().to_string();
    let token = match login(&f.arca, &secret).await.expect("login") {
        Principal::Key(p) => {
            f.arca
                .issue_token(&p, vec![], 3600)
                .await
                .expect("token")
                .token
        }
        Principal::Anonymous => unreachable!(),
    };
    f.arca
        .set_key_active(&dev, k.key.id, false)
        .await
        .expect("deactivate");
    assert!(login(&f.arca, &secret).await.is_err(), "deactivated key");
    assert!(
        login(&f.arca, &token).await.is_err(),
        "token of a deactivated key"
    );
    f.arca
        .set_key_active(&dev, k.key.id, true)
        .await
        .expect("activate");
    assert!(login(&f.arca, &secret).await.is_ok());
    assert!(
        login(&f.arca, &token).await.is_ok(),
        "token lives again with its key"
    );

    // Rotation: the old secret and its tokens die; the new secret works.
    let rotated = f.arca.rotate_key(&dev, k.key.id).await.expect("rotate");
    assert_eq!(rotated.key.id, k.key.id, "same id");
    assert!(login(&f.arca, &secret).await.is_err(), "old secret dead");
    assert!(login(&f.arca, &token).await.is_err(), "old token dead");
    let new_secret = rotated.secret.expose_secret().to_string();
    assert!(login(&f.arca, &new_secret).await.is_ok());

    // Expiry with the injectable clock.
    let short = f
        .arca
        .create_personal_key(
            &dev,
            PersonalKeyRequest {
                name: "short".into(),
                expiry: ExpiryChoice::OneHour,
                services: vec![],
            },
        )
        .await
        .expect("key");
    let short_secret = short.secret.expose_secret().to_string();
    assert!(login(&f.arca, &short_secret).await.is_ok());
    f.clock.advance(Duration::minutes(61));
    let err = login(&f.arca, &short_secret).await.unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");

    // Deletion by an org owner (revocation of a member's key).
    f.arca.delete_key(&owner, k.key.id).await.expect("revoke");
    assert!(login(&f.arca, &new_secret).await.is_err(), "deleted key");

    // Removal from the org kills every key of the user at once.
    let k2 = f
        .arca
        .create_personal_key(&dev, personal("b"))
        .await
        .expect("key");
    let k2_secret = k2.secret.expose_secret().to_string();
    assert!(login(&f.arca, &k2_secret).await.is_ok());
    let uid = match &dev {
        Principal::Key(p) => p.user.as_ref().expect("user").id,
        Principal::Anonymous => unreachable!(),
    };
    f.arca
        .remove_member(&owner, &acme, None, uid)
        .await
        .expect("remove");
    assert!(
        login(&f.arca, &k2_secret).await.is_err(),
        "removed user's key"
    );
}

#[tokio::test]
async fn legacy_key_replaces_the_previous_one() {
    let f = fixture().await;
    let owner = login(&f.arca, &f.owner_key).await.expect("login");
    let first = f.arca.generate_legacy_key(&owner).await.expect("legacy");
    let s1 = first.secret.expose_secret().to_string();
    assert!(login(&f.arca, &s1).await.is_ok());
    let second = f.arca.generate_legacy_key(&owner).await.expect("legacy 2");
    assert!(
        login(&f.arca, &s1).await.is_err(),
        "the old legacy key dies at once"
    );
    assert!(login(&f.arca, second.secret.expose_secret()).await.is_ok());
}

#[tokio::test]
async fn uppercase_team_names_are_rejected() {
    assert!(TeamName::new("Vision").is_err());
    let f = fixture().await;
    let owner = login(&f.arca, &f.owner_key).await.expect("login");
    let acme = OrgId::new("acme").expect("org");
    let teams = f.arca.list_teams(&owner, &acme).await.expect("list");
    assert!(teams.is_empty());
}

#[tokio::test]
async fn secrets_are_stored_only_as_hashes() {
    let f = fixture().await;
    let mut tx = f.arca.meta.begin_read().await.expect("tx");
    let keys = tx
        .list_keys(&OrgId::new("acme").expect("org"), None)
        .await
        .expect("list");
    assert_eq!(keys.len(), 1);
    assert_ne!(keys[0].secret_hash, f.owner_key);
    assert!(!format!("{:?}", keys[0]).contains(&f.owner_key));
}

#[tokio::test]
async fn abandoned_uploads_are_swept() {
    use arca_core::registry::RepoRef;
    let f = fixture().await;
    let owner = login(&f.arca, &f.owner_key).await.expect("login");
    let repo = RepoRef::parse("acme/app").expect("repo");
    let old = f
        .arca
        .start_blob_upload(&owner, &repo, None)
        .await
        .expect("upload");
    f.clock.advance(Duration::hours(23));
    let fresh = f
        .arca
        .start_blob_upload(&owner, &repo, None)
        .await
        .expect("upload");
    f.clock.advance(Duration::hours(2));
    let swept = f
        .arca
        .sweep_stale_uploads(f.clock.now() - Duration::hours(24))
        .await
        .expect("sweep");
    assert_eq!(swept, 1, "only the upload idle for more than a day goes");
    assert!(f.arca.upload_status(&owner, &repo, old.id).await.is_err());
    assert!(f.arca.upload_status(&owner, &repo, fresh.id).await.is_ok());
}

/// Signed part URLs work until their expiry, then answer "expired" (the clock is injected, so
/// the 24-hour lifetime is checked without waiting).
#[tokio::test]
async fn signed_part_urls_expire() {
    use arca_core::artifacts::ArtifactRef;
    use arca_core::model::{ArtifactMetadata, VersionMetadata};
    use arca_core::names::{ArtifactName, VersionId};
    use arca_core::transfer::{FileUploadRequest, UPLOAD_URL_TTL};

    let f = fixture().await;
    let p = login(&f.arca, &f.owner_key).await.expect("login");
    let r = ArtifactRef {
        kind: arca_auth::ArtifactKind::Model,
        org: OrgId::new("acme").expect("org"),
        team: None,
        name: ArtifactName::new("m").expect("name"),
    };
    f.arca
        .create_artifact(&p, &r, ArtifactMetadata::default())
        .await
        .expect("create");
    let v = VersionId::new("1").expect("version");
    f.arca
        .create_version(&p, &r, Some(v.clone()), VersionMetadata::default())
        .await
        .expect("version");
    let body = b"abc";
    let grant = f
        .arca
        .start_file_upload(
            &p,
            &r,
            &FileUploadRequest {
                version: v,
                path: "a.txt".into(),
                size: body.len() as u64,
                digest: arca_oci::Digest::sha256_of(body),
                upload_id: None,
                parts: None,
            },
        )
        .await
        .expect("start");
    let query = grant.urls[0].split_once('?').expect("query").1.to_string();
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .expect("param")
            .to_string()
    };
    let expires: i64 = param("expires").parse().expect("expires");
    let signature = param("signature");
    let send = || {
        f.arca.put_file_part(
            grant.upload_id,
            1,
            expires,
            &signature,
            Some(body.len() as u64),
            arca_core::ports::once_stream(bytes::Bytes::from_static(body)),
        )
    };

    let start = f.clock.now();
    f.clock.set(start + UPLOAD_URL_TTL + Duration::seconds(1));
    match send().await {
        Err(CoreError::Forbidden(m)) => assert!(m.contains("expired"), "{m}"),
        other => panic!("an expired URL must be refused, got {other:?}"),
    }
    f.clock.set(start + UPLOAD_URL_TTL - Duration::seconds(1));
    send().await.expect("the URL works until it expires");
}
