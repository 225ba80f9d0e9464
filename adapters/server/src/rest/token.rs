//! The token service (`GET /token`) and key introspection (`POST /v3/keys/get-caller-info`).
//!
//! `/token` has the shape of the Docker registry token service and of NGC's auth service:
//! Basic `$oauthtoken:<key>`, `service=…`, repeated `scope=…`; it answers
//! `{"token","access_token","expires_in","issued_at"}` (R-KEY-6).

use super::caller::{parse_authorization, principal_of, Credential};
use super::json;
use crate::app::AppState;
use crate::errors::ApiError;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use arca_core::authn::{TokenAccess, TOKEN_TTL_SECS};
use arca_core::authz::Principal;
use serde_json::json;

/// Parses a `scope` value: `repository:<name>:<actions>` or NGC's `group/ngc:<org>[/<team>]`.
fn parse_scope(scope: &str) -> Option<TokenAccess> {
    if let Some(rest) = scope.strip_prefix("repository:") {
        let (name, actions) = rest.rsplit_once(':')?;
        return Some(TokenAccess {
            kind: "repository".into(),
            name: name.to_string(),
            actions: actions
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect(),
        });
    }
    if let Some(rest) = scope.strip_prefix("group/") {
        return Some(TokenAccess {
            kind: "group".into(),
            name: rest.to_string(),
            actions: Vec::new(),
        });
    }
    None
}

/// GET /token
pub async fn token(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let cred = parse_authorization(&req)?;
    let access: Vec<TokenAccess> = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(key, _)| key == "scope")
        .flat_map(|(_, v)| v.split(' ').filter_map(parse_scope).collect::<Vec<_>>())
        .collect();
    let issued = match cred {
        // No credential: an anonymous token, good only for what anonymous callers may do
        // (pulling public repositories), as Docker clients expect.
        None => {
            if access.is_empty() || access.iter().any(|a| a.kind != "repository") {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    "send Basic credentials: username $oauthtoken, password your API key",
                ));
            }
            state
                .arca
                .issue_anonymous_token(access, TOKEN_TTL_SECS)
                .await?
        }
        Some(cred) => {
            let Principal::Key(k) = principal_of(&state, Some(cred)).await? else {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    "invalid credentials",
                ));
            };
            state.arca.issue_token(&k, access, TOKEN_TTL_SECS).await?
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "token": issued.token,
            "access_token": issued.token,
            "expires_in": issued.expires_in,
            "issued_at": json::date(issued.issued_at),
        })))
}

/// POST /v3/keys/get-caller-info (form `credentials=<key>`)
pub async fn caller_info(
    state: web::Data<AppState>,
    form: web::Form<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let Some(key) = form.get("credentials") else {
        return Err(ApiError::bad_request(
            "the form field 'credentials' is required",
        ));
    };
    let p = principal_of(&state, Some(Credential::Basic(key.clone()))).await?;
    let Principal::Key(k) = p else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "invalid API key",
        ));
    };
    let kind = match k.key.kind {
        arca_auth::KeyKind::Service => "SERVICE_KEY",
        _ => "PERSONAL_KEY",
    };
    let orgs = state
        .arca
        .list_orgs(&Principal::Key(k.clone()))
        .await
        .unwrap_or_default();
    let user = k.user.as_ref().map(|u| json::user(u, &k.grants, &orgs));
    Ok(HttpResponse::Ok().json(json::envelope(vec![
        ("type", json!(kind)),
        ("orgName", json!(k.key.org)),
        ("keyId", json!(k.key.id)),
        ("userId", json!(k.user.as_ref().map(|u| u.id))),
        ("user", user.unwrap_or(serde_json::Value::Null)),
    ])))
}
