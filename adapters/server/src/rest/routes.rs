//! The route table: every route the server serves, with its access class.
//!
//! Routes are mounted only from [`ROUTES`], so the table is complete by construction; a test
//! sends an unauthenticated request to every [`Access::Authenticated`] route and expects 401,
//! and pins the list of [`Access::Public`] routes, so a new route cannot silently skip the
//! authorization layer.

use super::{charts, keys, models, orgs, repos, search, token, users};
use crate::{app, helm, oci, transfer};
use actix_web::web;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health, metrics, the token service, the role vocabulary.
    Public,
    /// A valid credential is required (the handler takes `Caller`) and core authorizes the
    /// action.
    Authenticated,
    /// The registry (`/v2/`): an anonymous caller reaches core, which lets it pull public
    /// repositories only and answers 401 with a token challenge otherwise.
    Registry,
    /// The Helm repositories and the ChartMuseum API: an anonymous caller reaches core, which
    /// shows it public charts only and answers 401 with a Basic challenge otherwise; errors are
    /// ChartMuseum's `{"error":"…"}`.
    HelmRepo,
    /// A signed transfer URL: the HMAC signature and expiry in its query are the credential
    /// (ngcsdk sends no other); without a valid signature the answer is 403.
    Signed,
}

/// One route.
pub struct RouteSpec {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// actix path pattern.
    pub path: &'static str,
    /// Access class.
    pub access: Access,
    /// Registers the route.
    pub mount: fn(&mut web::ServiceConfig),
}

macro_rules! routes {
    ($( $method:ident $path:literal $access:ident => $handler:path ),* $(,)?) => {
        /// Every route of the server.
        pub const ROUTES: &[RouteSpec] = &[
            $( RouteSpec {
                method: stringify!($method),
                path: $path,
                access: Access::$access,
                mount: |cfg| { cfg.route($path, web::$method().to($handler)); },
            } ),*
        ];
    };
}

routes! {
    get "/healthz" Public => app::healthz,
    get "/readyz" Public => app::readyz,
    get "/metrics" Public => app::metrics,
    get "/token" Public => token::token,
    get "/roles" Public => users::roles,
    get "/v2/roles" Public => users::roles,
    post "/v3/keys/get-caller-info" Public => token::caller_info,

    get "/v2/orgs" Authenticated => orgs::list_orgs,
    get "/v2/orgs/{org}" Authenticated => orgs::get_org,
    get "/v2/org/{org}/teams" Authenticated => orgs::list_teams,
    post "/v2/org/{org}/teams" Authenticated => orgs::create_team,
    get "/v2/org/{org}/teams/{team}" Authenticated => orgs::get_team,
    patch "/v2/org/{org}/teams/{team}" Authenticated => orgs::update_team,
    delete "/v2/org/{org}/teams/{team}" Authenticated => orgs::delete_team,
    get "/v2/org/{org}/permissions" Authenticated => orgs::org_permissions,
    get "/v2/org/{org}/usage" Authenticated => orgs::org_usage,
    get "/v2/org/{org}/team/{team}/permissions" Authenticated => orgs::team_permissions,
    get "/v2/org/{org}/team/{team}/usage" Authenticated => orgs::team_usage,

    get "/v2/users/me" Authenticated => users::me,
    get "/v2/org/{org}/users" Authenticated => users::list_org_users,
    post "/v2/org/{org}/users" Authenticated => users::add_org_user,
    get "/v2/org/{org}/users/{who}" Authenticated => users::get_org_user,
    delete "/v2/org/{org}/users/{who}" Authenticated => users::remove_org_user,
    patch "/v2/org/{org}/users/{who}/update-role" Authenticated => users::replace_org_roles,
    get "/v2/org/{org}/team/{team}/users" Authenticated => users::list_team_users,
    post "/v2/org/{org}/team/{team}/users" Authenticated => users::add_team_user,
    get "/v2/org/{org}/team/{team}/users/{who}" Authenticated => users::get_team_user,
    delete "/v2/org/{org}/team/{team}/users/{who}" Authenticated => users::remove_team_user,
    patch "/v2/org/{org}/team/{team}/users/{who}/update-role" Authenticated => users::replace_team_roles,
    get "/v3/orgs/{org}/users/{who}" Authenticated => users::get_org_user,
    delete "/v3/orgs/{org}/users/{who}" Authenticated => users::remove_org_user,
    patch "/v3/orgs/{org}/users/{who}/add-role" Authenticated => users::add_org_roles,
    delete "/v3/orgs/{org}/users/{who}/remove-role" Authenticated => users::remove_org_roles,
    get "/v3/orgs/{org}/teams/{team}/users/{who}" Authenticated => users::get_team_user,
    delete "/v3/orgs/{org}/teams/{team}/users/{who}" Authenticated => users::remove_team_user,
    patch "/v3/orgs/{org}/teams/{team}/users/{who}/add-role" Authenticated => users::add_team_roles,
    delete "/v3/orgs/{org}/teams/{team}/users/{who}/remove-role" Authenticated => users::remove_team_roles,
    post "/v3/orgs/{org}/invitations" Authenticated => users::invite,

    get "/v3/keys" Authenticated => keys::list,
    post "/v3/keys/personal" Authenticated => keys::create_personal,
    post "/v3/keys/service" Authenticated => keys::create_service,
    post "/v3/keys/legacy" Authenticated => keys::generate_legacy,
    patch "/v3/keys/{id}" Authenticated => keys::patch,
    post "/v3/keys/{id}/rotate" Authenticated => keys::rotate,
    delete "/v3/keys/{id}" Authenticated => keys::delete,

    get "/v2/org/{org}/repos" Authenticated => repos::list_repos,
    post "/v2/org/{org}/repos" Authenticated => repos::create_repo,
    get "/v2/org/{org}/repos/{name}" Authenticated => repos::get_repo,
    patch "/v2/org/{org}/repos/{name}" Authenticated => repos::patch_repo,
    delete "/v2/org/{org}/repos/{name}" Authenticated => repos::delete_repo,
    get "/v2/org/{org}/repos/{name}/images" Authenticated => repos::list_images,
    get "/v2/org/{org}/repos/{name}/images/{tag}" Authenticated => repos::get_image,
    delete "/v2/org/{org}/repos/{name}/images/{tag}" Authenticated => repos::delete_image,
    get "/v2/org/{org}/repos/{name}/tags/{tag}" Authenticated => repos::get_image,
    get "/v2/org/{org}/team/{team}/repos" Authenticated => repos::list_team_repos,
    post "/v2/org/{org}/team/{team}/repos" Authenticated => repos::create_team_repo,
    get "/v2/org/{org}/team/{team}/repos/{name}" Authenticated => repos::get_team_repo,
    patch "/v2/org/{org}/team/{team}/repos/{name}" Authenticated => repos::patch_team_repo,
    delete "/v2/org/{org}/team/{team}/repos/{name}" Authenticated => repos::delete_team_repo,
    get "/v2/org/{org}/team/{team}/repos/{name}/images" Authenticated => repos::list_team_images,
    get "/v2/org/{org}/team/{team}/repos/{name}/images/{tag}" Authenticated => repos::get_team_image,
    delete "/v2/org/{org}/team/{team}/repos/{name}/images/{tag}" Authenticated => repos::delete_team_image,
    get "/v2/org/{org}/team/{team}/repos/{name}/tags/{tag}" Authenticated => repos::get_team_image,

    get "/v2/search/labelsets" Authenticated => search::labelsets,
    get "/v2/search/catalog/resources/{type}" Authenticated => search::catalog,
    get "/v2/search/subscriber/catalog/resources/{type}" Authenticated => search::catalog,
    get "/v2/search/org/{org}/resources/{type}" Authenticated => search::org,
    get "/v2/search/org/{org}/team/{team}/resources/{type}" Authenticated => search::org,

    get "/v2/org/{org}/{kind:models|resources}" Authenticated => models::list,
    post "/v2/org/{org}/{kind:models|resources}" Authenticated => models::create,
    get "/v2/org/{org}/{kind:models|resources}/{name}" Authenticated => models::get,
    patch "/v2/org/{org}/{kind:models|resources}/{name}" Authenticated => models::patch,
    delete "/v2/org/{org}/{kind:models|resources}/{name}" Authenticated => models::delete,
    post "/v2/org/{org}/{kind:models|resources}/{name}/files" Authenticated => models::files_known,
    get "/v2/org/{org}/{kind:models|resources}/{name}/versions" Authenticated => models::list_versions,
    post "/v2/org/{org}/{kind:models|resources}/{name}/versions" Authenticated => models::create_version,
    get "/v2/org/{org}/{kind:models|resources}/{name}/versions/{version}" Authenticated => models::get_version,
    patch "/v2/org/{org}/{kind:models|resources}/{name}/versions/{version}" Authenticated => models::patch_version,
    delete "/v2/org/{org}/{kind:models|resources}/{name}/versions/{version}" Authenticated => models::delete_version,
    get "/v2/org/{org}/{kind:models|resources}/{name}/versions/{version}/files" Authenticated => models::version_files,
    get "/v2/org/{org}/{kind:models|resources}/{name}/{version}/files" Authenticated => models::download_urls,
    post "/v2/org/{org}/files/multipart" Authenticated => models::multipart_start,
    put "/v2/org/{org}/files/multipart" Authenticated => models::multipart_complete,
    post "/v2/org/{org}/files/commit" Authenticated => models::commit,
    get "/v2/org/{org}/team/{team}/{kind:models|resources}" Authenticated => models::list,
    post "/v2/org/{org}/team/{team}/{kind:models|resources}" Authenticated => models::create,
    get "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}" Authenticated => models::get,
    patch "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}" Authenticated => models::patch,
    delete "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}" Authenticated => models::delete,
    post "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}/files" Authenticated => models::files_known,
    get "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}/versions" Authenticated => models::list_versions,
    post "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}/versions" Authenticated => models::create_version,
    get "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}/versions/{version}" Authenticated => models::get_version,
    patch "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}/versions/{version}" Authenticated => models::patch_version,
    delete "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}/versions/{version}" Authenticated => models::delete_version,
    get "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}/versions/{version}/files" Authenticated => models::version_files,
    get "/v2/org/{org}/team/{team}/{kind:models|resources}/{name}/{version}/files" Authenticated => models::download_urls,
    post "/v2/org/{org}/team/{team}/files/multipart" Authenticated => models::multipart_start,
    put "/v2/org/{org}/team/{team}/files/multipart" Authenticated => models::multipart_complete,
    post "/v2/org/{org}/team/{team}/files/commit" Authenticated => models::commit,

    put "/transfer/parts/{upload}/{part}" Signed => transfer::put_part,
    get "/transfer/files/{hex}" Signed => transfer::get_file,
    head "/transfer/files/{hex}" Signed => transfer::get_file,

    get "/v2/" Registry => oci::version,
    head "/v2/" Registry => oci::version,
    get "/v2" Registry => oci::version,
    get "/v2/_catalog" Registry => oci::catalog,
    post "/v2/{name:.+}/blobs/uploads/" Registry => oci::start_upload,
    post "/v2/{name:.+}/blobs/uploads" Registry => oci::start_upload,
    get "/v2/{name:.+}/blobs/uploads/{id}" Registry => oci::upload_status,
    patch "/v2/{name:.+}/blobs/uploads/{id}" Registry => oci::patch_upload,
    put "/v2/{name:.+}/blobs/uploads/{id}" Registry => oci::finish_upload,
    delete "/v2/{name:.+}/blobs/uploads/{id}" Registry => oci::cancel_upload,
    get "/v2/{name:.+}/blobs/{digest}" Registry => oci::get_blob,
    head "/v2/{name:.+}/blobs/{digest}" Registry => oci::get_blob,
    delete "/v2/{name:.+}/blobs/{digest}" Registry => oci::delete_blob,
    get "/v2/{name:.+}/manifests/{reference}" Registry => oci::get_manifest,
    head "/v2/{name:.+}/manifests/{reference}" Registry => oci::get_manifest,
    put "/v2/{name:.+}/manifests/{reference}" Registry => oci::put_manifest,
    delete "/v2/{name:.+}/manifests/{reference}" Registry => oci::delete_manifest,
    get "/v2/{name:.+}/tags/list" Registry => oci::list_tags,
    get "/v2/{name:.+}/referrers/{digest}" Registry => oci::referrers,

    // Helm chart records (NGC REST).
    get "/v2/org/{org}/helm-charts" Authenticated => charts::list,
    post "/v2/org/{org}/helm-charts" Authenticated => charts::create,
    get "/v2/org/{org}/helm-charts/{name}" Authenticated => charts::get,
    patch "/v2/org/{org}/helm-charts/{name}" Authenticated => charts::patch,
    delete "/v2/org/{org}/helm-charts/{name}" Authenticated => charts::delete,
    get "/v2/org/{org}/helm-charts/{name}/versions" Authenticated => charts::list_versions,
    get "/v2/org/{org}/helm-charts/{name}/versions/{version}" Authenticated => charts::get_version,
    delete "/v2/org/{org}/helm-charts/{name}/versions/{version}" Authenticated => charts::delete_version,
    get "/v2/org/{org}/helm-charts/{name}/versions/{version}/files" Authenticated => charts::version_files,
    get "/v2/org/{org}/team/{team}/helm-charts" Authenticated => charts::list,
    post "/v2/org/{org}/team/{team}/helm-charts" Authenticated => charts::create,
    get "/v2/org/{org}/team/{team}/helm-charts/{name}" Authenticated => charts::get,
    patch "/v2/org/{org}/team/{team}/helm-charts/{name}" Authenticated => charts::patch,
    delete "/v2/org/{org}/team/{team}/helm-charts/{name}" Authenticated => charts::delete,
    get "/v2/org/{org}/team/{team}/helm-charts/{name}/versions" Authenticated => charts::list_versions,
    get "/v2/org/{org}/team/{team}/helm-charts/{name}/versions/{version}" Authenticated => charts::get_version,
    delete "/v2/org/{org}/team/{team}/helm-charts/{name}/versions/{version}" Authenticated => charts::delete_version,
    get "/v2/org/{org}/team/{team}/helm-charts/{name}/versions/{version}/files" Authenticated => charts::version_files,

    // Helm: ChartMuseum API first (org-level before team-level: `charts` is a reserved team
    // name), then the repositories (`/{org}[/{team}]/…`; org ids colliding with the routes
    // above are reserved).
    post "/api/{org}/charts" HelmRepo => helm::org_upload,
    get "/api/{org}/charts" HelmRepo => helm::org_charts,
    get "/api/{org}/charts/{name}" HelmRepo => helm::org_chart,
    get "/api/{org}/charts/{name}/{version}" HelmRepo => helm::org_chart_version,
    delete "/api/{org}/charts/{name}/{version}" HelmRepo => helm::org_delete,
    post "/api/{org}/{team}/charts" HelmRepo => helm::team_upload,
    get "/api/{org}/{team}/charts" HelmRepo => helm::team_charts,
    get "/api/{org}/{team}/charts/{name}" HelmRepo => helm::team_chart,
    get "/api/{org}/{team}/charts/{name}/{version}" HelmRepo => helm::team_chart_version,
    delete "/api/{org}/{team}/charts/{name}/{version}" HelmRepo => helm::team_delete,
    get "/{org}/index.yaml" HelmRepo => helm::org_index,
    get "/{org}/charts/{file}" HelmRepo => helm::org_download,
    get "/{org}/{team}/index.yaml" HelmRepo => helm::team_index,
    get "/{org}/{team}/charts/{file}" HelmRepo => helm::team_download,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{configure, AppState};
    use crate::metrics::Metrics;
    use actix_web::http::{Method, StatusCode};
    use actix_web::{test as atest, App};
    use arca_core::Arca;
    use arca_storage::memory::{MemoryBlobStore, MemoryMetadataStore};
    use arca_storage::system::{OsRandom, SystemClock};
    use std::sync::Arc;

    fn state() -> AppState {
        AppState {
            arca: Arca::new(
                Arc::new(MemoryMetadataStore::new()),
                Arc::new(MemoryBlobStore::new()),
                Arc::new(SystemClock),
                Arc::new(OsRandom),
            ),
            metrics: Metrics::new().expect("metrics"),
            config: crate::config::ServeConfig::default(),
        }
    }

    fn concrete(path: &str) -> String {
        path.replace("{name:.+}", "demo/app")
            .replace("{reference}", "latest")
            .replace(
                "{digest}",
                "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            )
            .replace("{org}", "demo")
            .replace("{name}", "app")
            .replace("{tag}", "v1")
            .replace("{team}", "vision")
            .replace("{who}", "1")
            .replace("{id}", "6f1c2a4e-8a7b-4c3d-9e2f-1a2b3c4d5e6f")
            .replace("{kind:models|resources}", "models")
            .replace("{version}", "1.0")
            .replace("{type}", "MODEL")
            .replace("{upload}", "6f1c2a4e-8a7b-4c3d-9e2f-1a2b3c4d5e6f")
            .replace("{part}", "1")
            .replace(
                "{hex}",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            )
            .replace("{file}", "app-0.1.0.tgz")
            .replace("{version}", "0.1.0")
    }

    #[test]
    fn public_routes_are_exactly_these() {
        let public: Vec<String> = ROUTES
            .iter()
            .filter(|r| r.access == Access::Public)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert_eq!(
            public,
            [
                "get /healthz",
                "get /readyz",
                "get /metrics",
                "get /token",
                "get /roles",
                "get /v2/roles",
                "post /v3/keys/get-caller-info",
            ],
            "adding a public route is a security decision: update this list deliberately"
        );
    }

    /// `/{org}[/{team}]/index.yaml` and `/{org}[/{team}]/charts/…` share the top level with
    /// every other route: an org or team named like a route's first segment (or `charts`)
    /// would be shadowed, so those names are reserved.
    #[test]
    fn top_level_route_segments_are_reserved_names() {
        for r in ROUTES {
            let first = r
                .path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default();
            if first.is_empty() || first.starts_with('{') {
                continue;
            }
            assert!(
                arca_core::names::RESERVED_NAMES.contains(&first),
                "{} {}: org and team names must not be {first:?}; add it to RESERVED_NAMES",
                r.method,
                r.path
            );
        }
        for word in ["charts", "index.yaml", "api"] {
            assert!(arca_core::names::OrgId::new(word).is_err(), "{word}");
            assert!(arca_core::names::TeamName::new(word).is_err(), "{word}");
        }
    }

    #[test]
    fn routes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(
                seen.insert((r.method, r.path)),
                "duplicate route {} {}",
                r.method,
                r.path
            );
        }
    }

    async fn call_all(auth: Option<&str>) {
        let app = atest::init_service(
            App::new()
                .app_data(actix_web::web::Data::new(state()))
                .configure(configure),
        )
        .await;
        for r in ROUTES
            .iter()
            .filter(|r| !matches!(r.access, Access::Public | Access::Signed))
        {
            let method = Method::from_bytes(r.method.to_uppercase().as_bytes()).expect("method");
            let mut req = atest::TestRequest::default()
                .method(method)
                .uri(&concrete(r.path))
                .insert_header(("content-type", "application/json"))
                .set_payload("{}");
            if let Some(a) = auth {
                req = req.insert_header(("authorization", a));
            }
            let resp = atest::call_service(&app, req.to_request()).await;
            assert_eq!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{} {} must demand valid credentials (auth: {auth:?})",
                r.method,
                r.path
            );
            let registry = r.access == Access::Registry;
            let helm = r.access == Access::HelmRepo;
            if helm {
                let challenge = resp
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                assert!(
                    challenge.starts_with("Basic realm="),
                    "{} {} must send a Basic challenge, got {challenge:?}",
                    r.method,
                    r.path
                );
                let body: serde_json::Value = atest::read_body_json(resp).await;
                assert!(body["error"].is_string(), "{} {body}", r.path);
                continue;
            }
            if registry {
                let challenge = resp
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                assert!(
                    challenge.starts_with("Bearer realm=") && challenge.contains("/token"),
                    "{} {} must send a token challenge, got {challenge:?}",
                    r.method,
                    r.path
                );
            }
            if r.method == "head" {
                continue;
            }
            let body: serde_json::Value = atest::read_body_json(resp).await;
            let code = if registry {
                &body["errors"][0]["code"]
            } else {
                &body["requestStatus"]["statusCode"]
            };
            assert_eq!(code, "UNAUTHORIZED", "{} {body}", r.path);
        }
    }

    #[actix_web::test]
    async fn signed_routes_reject_missing_and_forged_signatures() {
        let app = atest::init_service(
            App::new()
                .app_data(actix_web::web::Data::new(state()))
                .configure(configure),
        )
        .await;
        let signed: Vec<&RouteSpec> = ROUTES
            .iter()
            .filter(|r| r.access == Access::Signed)
            .collect();
        assert!(!signed.is_empty());
        for r in signed {
            let method = Method::from_bytes(r.method.to_uppercase().as_bytes()).expect("method");
            let far = chrono::Utc::now().timestamp() + 3600;
            for query in [
                String::new(),
                format!("?expires={far}&signature=00"),
                format!("?expires={far}&signature={}", "ab".repeat(32)),
            ] {
                let req = atest::TestRequest::default()
                    .method(method.clone())
                    .uri(&format!("{}{query}", concrete(r.path)))
                    .set_payload("x");
                let resp = atest::call_service(&app, req.to_request()).await;
                assert_eq!(
                    resp.status(),
                    StatusCode::FORBIDDEN,
                    "{} {}{query} must demand a valid signature",
                    r.method,
                    r.path
                );
            }
        }
    }

    #[actix_web::test]
    async fn every_authenticated_route_rejects_anonymous_callers() {
        call_all(None).await;
    }

    #[actix_web::test]
    async fn every_authenticated_route_rejects_bad_credentials() {
        call_all(Some("Bearer arca_pk_not-a-real-key")).await;
        call_all(Some("Bearer v1.forged.token")).await;
        // base64("$oauthtoken:nope")
        call_all(Some("Basic JG9hdXRodG9rZW46bm9wZQ==")).await;
        // base64("someone:nope"): wrong username
        call_all(Some("Basic c29tZW9uZTpub3Bl")).await;
    }
}
