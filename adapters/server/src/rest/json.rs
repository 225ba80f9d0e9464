//! NGC-shaped JSON views of domain records, pagination and the success envelope.

use arca_core::model::{ApiKey, Org, RoleGrant, Team, User};
use arca_core::tenancy::Member;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// RFC 3339 with milliseconds, as NGC writes dates.
pub fn date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `requestStatus` of a successful response.
pub fn ok_status() -> Value {
    json!({
        "statusCode": "SUCCESS",
        "requestId": crate::app::current_request_id().unwrap_or_default(),
    })
}

/// Builds `{ <key>: value, "requestStatus": … }`.
pub fn envelope(fields: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in fields {
        m.insert(k.to_string(), v);
    }
    m.insert("requestStatus".into(), ok_status());
    Value::Object(m)
}

/// An org.
pub fn org(o: &Org) -> Value {
    json!({
        "id": o.id,
        "name": o.name,
        "displayName": o.display_name,
        "description": o.description,
        "type": "ENTERPRISE",
        "createdDate": date(o.created_at),
    })
}

/// A team.
pub fn team(t: &Team) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "isDeleted": false,
        "createdDate": date(t.created_at),
    })
}

/// A user with their roles grouped per org and team, as `users/me` and user lists show them.
pub fn user(u: &User, grants: &[RoleGrant], orgs: &[Org]) -> Value {
    let mut roles: Vec<Value> = Vec::new();
    let mut contexts: Vec<(String, Option<String>)> = grants
        .iter()
        .map(|g| (g.org.to_string(), g.team.as_ref().map(|t| t.to_string())))
        .collect();
    contexts.sort();
    contexts.dedup();
    for (org_name, team_name) in contexts {
        let names: Vec<&str> = grants
            .iter()
            .filter(|g| {
                g.org.as_str() == org_name
                    && g.team.as_ref().map(|t| t.as_str()) == team_name.as_deref()
            })
            .map(|g| g.role.as_str())
            .collect();
        let display = orgs
            .iter()
            .find(|o| o.name.as_str() == org_name)
            .map(|o| o.display_name.clone())
            .unwrap_or_else(|| org_name.clone());
        let entry = match team_name {
            None => json!({
                "org": {"name": org_name, "displayName": display},
                "orgRoles": names,
                "teamRoles": [],
            }),
            Some(t) => json!({
                "org": {"name": org_name, "displayName": display},
                "team": {"name": t},
                "orgRoles": [],
                "teamRoles": names,
            }),
        };
        roles.push(entry);
    }
    json!({
        "id": u.id,
        "email": u.email,
        "name": u.display_name,
        "starfleetId": format!("arca-{}", u.id),
        "createdDate": date(u.created_at),
        "isActive": true,
        "roles": roles,
    })
}

/// A member (user plus grants in one org).
pub fn member(m: &Member, orgs: &[Org]) -> Value {
    user(&m.user, &m.grants, orgs)
}

/// An API key record (never the secret).
pub fn key(k: &ApiKey) -> Value {
    let entity = k
        .entity
        .as_ref()
        .map(|e| json!({"entityType": e.entity_type(), "entityValue": e.entity_value()}));
    json!({
        "id": k.id,
        "name": k.name,
        "type": k.kind,
        "orgName": k.org,
        "userId": k.user_id,
        "keyHint": format!("****{}", k.hint),
        "services": k.services,
        "scopes": k.scopes,
        "entity": entity,
        "active": k.active,
        "expiresAt": k.expires_at.map(date),
        "createdDate": date(k.created_at),
        "rotatedDate": k.rotated_at.map(date),
    })
}

/// `page-size` and `page-number` (0-based) query parameters.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Page {
    /// Items per page.
    #[serde(rename = "page-size")]
    pub size: Option<usize>,
    /// Page number, from 0.
    #[serde(rename = "page-number")]
    pub number: Option<usize>,
}

/// Maximum page size.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Cuts `items` to the requested page and returns it with its `paginationInfo`.
pub fn paginate<T>(items: Vec<T>, page: &Page) -> (Vec<T>, Value) {
    let size = page.size.unwrap_or(100).clamp(1, MAX_PAGE_SIZE);
    let number = page.number.unwrap_or(0);
    let total = items.len();
    let pages = total.div_ceil(size).max(1);
    let slice: Vec<T> = items
        .into_iter()
        .skip(number.saturating_mul(size))
        .take(size)
        .collect();
    (
        slice,
        json!({"index": number, "size": size, "totalResults": total, "totalPages": pages}),
    )
}

/// NGC's label lists (`labelsV2`, `labels`) as plain strings: items may be strings, or objects
/// with a `value` or a `values` list; `null` is no labels.
pub fn ngc_labels(v: &Value) -> Value {
    let labels: Vec<Value> = match v {
        Value::Array(items) => items
            .iter()
            .flat_map(|x| match x {
                Value::Object(o) => match (o.get("value"), o.get("values")) {
                    (Some(Value::String(s)), _) => vec![Value::String(s.clone())],
                    (_, Some(Value::Array(vs))) => vs.clone(),
                    _ => vec![],
                },
                other => vec![other.clone()],
            })
            .collect(),
        Value::Null => vec![],
        other => vec![other.clone()],
    };
    Value::Array(labels)
}
