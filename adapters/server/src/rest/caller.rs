//! Who is calling: credentials from the `Authorization` header, verified by core.
//!
//! `Bearer <key or token>` and `Basic base64("$oauthtoken:<key>")` are accepted (R-KEY-6).
//! [`Caller`] requires a valid credential and answers 401 otherwise, before any other part of the
//! request is looked at.

use crate::app::AppState;
use crate::errors::ApiError;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use arca_core::authz::Principal;
use arca_core::CoreError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures::future::LocalBoxFuture;

/// The username Docker-style clients send with an API key as password.
pub const OAUTH_USERNAME: &str = "$oauthtoken";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

fn unauthorized(msg: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", msg)
}

/// A credential as presented.
pub enum Credential {
    /// `Bearer` value: an API key or a token.
    Bearer(String),
    /// `Basic` password (an API key), with the username checked.
    Basic(String),
}

/// Parses the `Authorization` header; `Ok(None)` when absent.
pub fn parse_authorization(req: &HttpRequest) -> Result<Option<Credential>, ApiError> {
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("malformed Authorization header"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Ok(Some(Credential::Bearer(rest.to_string())));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(rest)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| unauthorized("malformed Basic credentials"))?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| unauthorized("malformed Basic credentials"))?;
        if user != OAUTH_USERNAME {
            return Err(unauthorized(
                "use the username $oauthtoken with an API key as the password",
            ));
        }
        return Ok(Some(Credential::Basic(password.to_string())));
    }
    Err(unauthorized(
        "unsupported Authorization scheme; use Bearer or Basic",
    ))
}

/// Authenticates the request's credential, if any.
pub async fn principal_of(
    state: &AppState,
    cred: Option<Credential>,
) -> Result<Principal, ApiError> {
    let result = match cred {
        None => return Ok(Principal::Anonymous),
        Some(Credential::Bearer(v)) => state.arca.authenticate_bearer(&v).await,
        Some(Credential::Basic(key)) => state
            .arca
            .authenticate_key(&key)
            .await
            .map(|k| Principal::Key(Box::new(k))),
    };
    result.map_err(|e| match e {
        CoreError::Unauthenticated(m) => unauthorized(&m),
        other => ApiError::from(other),
    })
}

fn extract(
    req: &HttpRequest,
    required: bool,
) -> LocalBoxFuture<'static, Result<Principal, ApiError>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let cred = parse_authorization(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "no state")
        })?;
        let cred = cred?;
        if required && cred.is_none() {
            return Err(unauthorized(
                "authentication required: send 'Authorization: Bearer <API key>'",
            ));
        }
        principal_of(&state, cred).await
    })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = extract(req, true);
        Box::pin(async move { fut.await.map(Caller) })
    }
}
