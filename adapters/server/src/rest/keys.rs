//! `/v3/keys`: personal, service and legacy API keys and their lifecycle (R-KEY-1..5).
//!
//! The secret appears exactly once, in the `apiKey` field of the creation or rotation answer.

use super::caller::Caller;
use super::json::{self, envelope};
use crate::app::AppState;
use crate::errors::ApiError;
use actix_web::{web, HttpResponse};
use arca_auth::{EntityFilter, EntityType, ExpiryChoice, KeyService, ServiceKeyScope};
use arca_core::keys::{CreatedKey, KeyListing, PersonalKeyRequest, ServiceKeyRequest};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

fn created(c: &CreatedKey) -> HttpResponse {
    HttpResponse::Ok().json(envelope(vec![
        ("key", json::key(&c.key)),
        (
            "apiKey",
            Value::String(c.secret.expose_secret().to_string()),
        ),
    ]))
}

fn key_id(s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| ApiError::not_found(format!("key {s} not found")))
}

fn parse_expiry(s: Option<&str>) -> Result<ExpiryChoice, ApiError> {
    match s {
        None => Ok(ExpiryChoice::default()),
        Some(s) => s
            .parse()
            .map_err(|e: arca_auth::AuthError| ApiError::bad_request(e.to_string())),
    }
}

/// Query of `GET /v3/keys`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// GET /v3/keys?type=mine|service|all
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let which = match query
        .kind
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("mine") | Some("personal") => KeyListing::Mine,
        Some("service") => KeyListing::Service,
        Some("all") => KeyListing::All,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown key listing '{other}'; use mine, service or all"
            )))
        }
    };
    let keys = state.arca.list_keys(&caller.0, which).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![(
        "keys",
        Value::Array(keys.iter().map(json::key).collect()),
    )])))
}

/// Body of `POST /v3/keys/personal`.
#[derive(Debug, Deserialize)]
pub struct PersonalBody {
    name: String,
    expiry: Option<String>,
    #[serde(default)]
    services: Vec<String>,
}

/// POST /v3/keys/personal
pub async fn create_personal(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<PersonalBody>,
) -> Result<HttpResponse, ApiError> {
    let services = body
        .services
        .iter()
        .map(|s| {
            s.parse::<KeyService>()
                .map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let c = state
        .arca
        .create_personal_key(
            &caller.0,
            PersonalKeyRequest {
                name: body.name.clone(),
                expiry: parse_expiry(body.expiry.as_deref())?,
                services,
            },
        )
        .await?;
    Ok(created(&c))
}

/// Body of `POST /v3/keys/service`.
#[derive(Debug, Deserialize)]
pub struct ServiceBody {
    name: String,
    expiry: Option<String>,
    scopes: Vec<String>,
    #[serde(rename = "entityType")]
    entity_type: Option<String>,
    #[serde(rename = "entityValue")]
    entity_value: Option<String>,
}

/// POST /v3/keys/service
pub async fn create_service(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<ServiceBody>,
) -> Result<HttpResponse, ApiError> {
    let scopes = body
        .scopes
        .iter()
        .map(|s| {
            s.parse::<ServiceKeyScope>()
                .map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let entity_type = match body.entity_type.as_deref() {
        None => EntityType::AllEntities,
        Some(t) => t
            .parse()
            .map_err(|e: arca_auth::AuthError| ApiError::bad_request(e.to_string()))?,
    };
    let entity = EntityFilter::new(entity_type, body.entity_value.clone())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let c = state
        .arca
        .create_service_key(
            &caller.0,
            ServiceKeyRequest {
                name: body.name.clone(),
                expiry: parse_expiry(body.expiry.as_deref())?,
                scopes,
                entity,
            },
        )
        .await?;
    Ok(created(&c))
}

/// POST /v3/keys/legacy — a new legacy key; the previous one dies at once.
pub async fn generate_legacy(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let c = state.arca.generate_legacy_key(&caller.0).await?;
    Ok(created(&c))
}

/// Body of `PATCH /v3/keys/{id}`.
#[derive(Debug, Deserialize)]
pub struct PatchBody {
    active: Option<bool>,
}

/// PATCH /v3/keys/{id} `{"active": true|false}`
pub async fn patch(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<PatchBody>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    let active = body
        .active
        .ok_or_else(|| ApiError::bad_request("the field 'active' is required"))?;
    let key = state.arca.set_key_active(&caller.0, id, active).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("key", json::key(&key))])))
}

/// POST /v3/keys/{id}/rotate
pub async fn rotate(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    let c = state.arca.rotate_key(&caller.0, id).await?;
    Ok(created(&c))
}

/// DELETE /v3/keys/{id}
pub async fn delete(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    state.arca.delete_key(&caller.0, id).await?;
    Ok(HttpResponse::Ok().json(json!({"requestStatus": json::ok_status()})))
}
