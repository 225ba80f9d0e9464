//! Orgs, teams, users and keys as [`Table`]s and [`Record`]s. Column names double as JSON keys.

use arca_client::{ApiKey, Org, Team, User};
use serde_json::Value;

use crate::output::{Record, Table};

fn text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, Value::from)
}

fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    Value::Array(items.into_iter().map(Value::from).collect())
}

/// `org list`.
pub fn orgs_table(orgs: &[Org]) -> Table {
    let mut table = Table::new(["name", "display_name", "description", "type", "created"]);
    for org in orgs {
        table.push_row([
            Value::from(org.name.as_str()),
            text(org.display_name.as_deref()),
            text(org.description.as_deref()),
            text(org.org_type.as_deref()),
            text(org.created_date.as_deref()),
        ]);
    }
    table
}

/// `org info`.
pub fn org_record(org: &Org) -> Record {
    Record::new()
        .field("id", text(org.id.as_deref()))
        .field("name", org.name.as_str())
        .field("display_name", text(org.display_name.as_deref()))
        .field("description", text(org.description.as_deref()))
        .field("type", text(org.org_type.as_deref()))
        .field("created", text(org.created_date.as_deref()))
}

/// `org list-teams`, `team list`.
pub fn teams_table(teams: &[Team]) -> Table {
    let mut table = Table::new(["id", "name", "description", "created"]);
    for team in teams {
        table.push_row([
            text(team.id.as_deref()),
            Value::from(team.name.as_str()),
            text(team.description.as_deref()),
            text(team.created_date.as_deref()),
        ]);
    }
    table
}

/// `team info`, `org add-team`, `team update`.
pub fn team_record(team: &Team) -> Record {
    Record::new()
        .field("id", text(team.id.as_deref()))
        .field("name", team.name.as_str())
        .field("description", text(team.description.as_deref()))
        .field("deleted", team.is_deleted)
        .field("created", text(team.created_date.as_deref()))
}

/// Team-level roles in `org` as `team: ROLE`, one entry per role.
fn team_role_pairs(user: &User, org: &str) -> Vec<String> {
    user.roles
        .iter()
        .filter(|a| a.org.name == org)
        .filter_map(|a| a.team_name().map(|t| (t, a.team_roles.as_slice())))
        .flat_map(|(team, roles)| roles.iter().map(move |r| format!("{team}: {r}")))
        .collect()
}

/// `org list-users` (team = None) and `team list-users`.
pub fn users_table(users: &[User], org: &str, team: Option<&str>) -> Table {
    match team {
        None => {
            let mut table =
                Table::new(["id", "name", "email", "org_roles", "team_roles", "created"]);
            for u in users {
                let pairs = team_role_pairs(u, org);
                table.push_row([
                    Value::from(u.id.as_str()),
                    text(u.name.as_deref()),
                    Value::from(u.email.as_str()),
                    list(u.org_roles(org)),
                    list(pairs.iter().map(String::as_str)),
                    text(u.created_date.as_deref()),
                ]);
            }
            table
        }
        Some(team) => {
            let mut table =
                Table::new(["id", "name", "email", "team_roles", "org_roles", "created"]);
            for u in users {
                table.push_row([
                    Value::from(u.id.as_str()),
                    text(u.name.as_deref()),
                    Value::from(u.email.as_str()),
                    list(u.team_roles(org, team)),
                    list(u.org_roles(org)),
                    text(u.created_date.as_deref()),
                ]);
            }
            table
        }
    }
}

/// `user info`, `user who` and the answer of role changes: roles as `org: ROLE` and
/// `org/team: ROLE`, one entry per role.
pub fn user_record(user: &User) -> Record {
    let roles: Vec<String> = user
        .roles
        .iter()
        .flat_map(|a| {
            let context = a.context();
            a.roles()
                .iter()
                .map(move |r| format!("{context}: {r}"))
                .collect::<Vec<_>>()
        })
        .collect();
    Record::new()
        .field("id", user.id.as_str())
        .field("name", text(user.name.as_deref()))
        .field("email", user.email.as_str())
        .field("created", text(user.created_date.as_deref()))
        .field("roles", list(roles.iter().map(String::as_str)))
}

fn entity_text(key: &ApiKey) -> Value {
    match &key.entity {
        None => Value::Null,
        Some(e) => match &e.entity_value {
            Some(v) => Value::from(format!("{} {v}", e.entity_type)),
            None => Value::from(e.entity_type.as_str()),
        },
    }
}

/// `key list`.
pub fn keys_table(keys: &[ApiKey]) -> Table {
    let mut table = Table::new([
        "id", "name", "type", "org", "hint", "services", "scopes", "entity", "active", "expires",
        "created",
    ]);
    for k in keys {
        table.push_row([
            Value::from(k.id.as_str()),
            Value::from(k.name.as_str()),
            Value::from(k.kind.as_str()),
            text(k.org_name.as_deref()),
            text(k.key_hint.as_deref()),
            list(k.services.iter().map(String::as_str)),
            list(k.scopes.iter().map(String::as_str)),
            entity_text(k),
            Value::from(k.active),
            Value::from(k.expires_at.as_deref().unwrap_or("never")),
            text(k.created_date.as_deref()),
        ]);
    }
    table
}

/// One key (never its secret).
pub fn key_record(k: &ApiKey) -> Record {
    Record::new()
        .field("id", k.id.as_str())
        .field("name", k.name.as_str())
        .field("type", k.kind.as_str())
        .field("org", text(k.org_name.as_deref()))
        .field("user_id", text(k.user_id.as_deref()))
        .field("hint", text(k.key_hint.as_deref()))
        .field("services", list(k.services.iter().map(String::as_str)))
        .field("scopes", list(k.scopes.iter().map(String::as_str)))
        .field("entity", entity_text(k))
        .field("active", k.active)
        .field("expires", k.expires_at.as_deref().unwrap_or("never"))
        .field("created", text(k.created_date.as_deref()))
        .field("rotated", text(k.rotated_date.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Format, Output};
    use serde_json::json;

    fn user() -> User {
        serde_json::from_value(json!({
            "id": 7, "email": "j@example.com", "name": "John Smith",
            "createdDate": "2025-01-01T00:00:00.000Z",
            "roles": [
                {"org": {"name": "acme"}, "orgRoles": ["REGISTRY_READ"], "teamRoles": []},
                {"org": {"name": "acme"}, "team": {"name": "vision"}, "orgRoles": [],
                 "teamRoles": ["REGISTRY_USER", "USER_ADMIN"]}
            ]
        }))
        .unwrap()
    }

    fn json_of(table: &Table) -> Value {
        serde_json::from_str(&Output::new(Format::Json).render_table(table).unwrap()).unwrap()
    }

    #[test]
    fn org_users_show_org_and_team_roles() {
        let rows = json_of(&users_table(&[user()], "acme", None));
        assert_eq!(
            rows,
            json!([{"id": "7", "name": "John Smith", "email": "j@example.com",
                    "org_roles": ["REGISTRY_READ"],
                    "team_roles": ["vision: REGISTRY_USER", "vision: USER_ADMIN"],
                    "created": "2025-01-01T00:00:00.000Z"}])
        );
        let csv = Output::new(Format::Csv)
            .render_table(&users_table(&[user()], "acme", None))
            .unwrap();
        assert!(
            csv.contains("REGISTRY_READ,\"vision: REGISTRY_USER, vision: USER_ADMIN\""),
            "{csv}"
        );
    }

    #[test]
    fn team_users_show_that_teams_roles_first() {
        let rows = json_of(&users_table(&[user()], "acme", Some("vision")));
        assert_eq!(
            rows[0]["team_roles"],
            json!(["REGISTRY_USER", "USER_ADMIN"])
        );
        assert_eq!(rows[0]["org_roles"], json!(["REGISTRY_READ"]));
        let rows = json_of(&users_table(&[user()], "acme", Some("nlp")));
        assert_eq!(rows[0]["team_roles"], json!([]));
    }

    #[test]
    fn user_record_lists_roles_per_context() {
        let text = Output::new(Format::Json)
            .render_record(&user_record(&user()))
            .unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value["roles"],
            json!([
                "acme: REGISTRY_READ",
                "acme/vision: REGISTRY_USER",
                "acme/vision: USER_ADMIN"
            ])
        );
        let ascii = Output::new(Format::Ascii)
            .render_record(&user_record(&user()))
            .unwrap();
        assert!(
            ascii.contains("acme: REGISTRY_READ, acme/vision: REGISTRY_USER"),
            "{ascii}"
        );
    }

    #[test]
    fn keys_show_entity_and_expiry() {
        let key: ApiKey = serde_json::from_value(json!({
            "id": "k1", "name": "pull", "type": "SERVICE_KEY", "orgName": "acme",
            "scopes": ["DOWNLOAD_CONTAINER"], "services": ["PRIVATE_REGISTRY"],
            "entity": {"entityType": "SPECIFIC_CONTAINER", "entityValue": "acme/web"},
            "active": true, "expiresAt": null
        }))
        .unwrap();
        let rows = json_of(&keys_table(std::slice::from_ref(&key)));
        assert_eq!(rows[0]["entity"], "SPECIFIC_CONTAINER acme/web");
        assert_eq!(rows[0]["expires"], "never");
        assert_eq!(rows[0]["active"], true);
        assert_eq!(rows[0]["scopes"], json!(["DOWNLOAD_CONTAINER"]));
        let record = Output::new(Format::Json)
            .render_record(&key_record(&key))
            .unwrap();
        assert!(!record.contains("api_key"), "{record}");
    }

    #[test]
    fn orgs_and_teams() {
        let org: Org =
            serde_json::from_value(json!({"id": 1, "name": "acme", "displayName": "Acme"}))
                .unwrap();
        let rows = json_of(&orgs_table(std::slice::from_ref(&org)));
        assert_eq!(rows[0]["name"], "acme");
        assert_eq!(rows[0]["description"], Value::Null);
        let team: Team =
            serde_json::from_value(json!({"id": 363, "name": "team-a", "description": "Team A"}))
                .unwrap();
        let text = Output::new(Format::Json)
            .render_record(&team_record(&team))
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"id": "363", "name": "team-a", "description": "Team A", "deleted": false,
                   "created": null})
        );
    }
}
