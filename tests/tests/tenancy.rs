//! Tenancy end-to-end tests over HTTP against a real `arca-server` process (R-TEN-1..8,
//! R-KEY-1..8):
//!
//! 1. the capability matrix of guide §2.4.1 for every role, at org level and at team level,
//!    with the expectations written out below as a literal copy of the guide's table;
//! 2. limits (8 personal keys, 50 service keys, 2 owners, lowercase team names, what a
//!    USER_ADMIN may grant, which services a personal key may have), each rejected with a clear
//!    error and no state change;
//! 3. revocation on the very next request (removal from the org, deactivation, rotation,
//!    deletion, legacy key regeneration), for keys and for tokens issued for them;
//! 4. cross-org isolation (a second org bootstrapped into the same data dir);
//! 5. no secret in the logs: every key secret and token issued during a run, collected from the
//!    responses, is searched for in every log line of every server process.
//!
//! Every scenario talks to the server with plain `reqwest`, `Authorization: Bearer <key>` (or
//! Basic `$oauthtoken:<key>` for `/token`), and checks the NGC error shape
//! `{"requestStatus":{"statusCode","statusDescription"}}` of every refusal.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use arca_tests::{bootstrap, Server};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The org the harness bootstraps on first start; its owner is `admin@localhost`.
const ORG: &str = "demo";
/// Bound of every single HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

// =============================================================================================
// The expectations: guide §2.4.1, copied by hand (NOT derived from arca-auth).
// =============================================================================================

/// The role columns of the guide's table, in the guide's order.
const COLUMNS: [&str; 5] = [
    "REGISTRY_ADMIN", // Registry Admin
    "REGISTRY_USER",  // Registry User
    "USER_ADMIN",     // User Admin
    "REGISTRY_READ",  // Registry Read
    "USER_READ",      // User Read
];

/// Guide §2.4.1 "NGC Registry User Roles", row by row: `#` = allowed, `X` = not allowed, for
/// the columns [`COLUMNS`]. ORG_OWNER has no column; it is allowed everything (SPEC R-TEN-6).
///
/// ```text
/// Capability                                                                Registry Admin  Registry User  User Admin  Registry Read  User Read
/// Add teams                                                                 X               X              #           X              X
/// Add new users to orgs or teams                                            X               X              #           X              X
/// View users                                                                #               X              #           X              X
/// Delete images                                                             #               X              X           X              X
/// View/Edit all image information via UI and CLI                            #               #              X           X              X
/// View all artifacts namely containers, model, resources                    #               #              #           #              X
/// Download all artifacts namely containers, model, resources                #               #              X           #              X
/// Create and push/upload all artifacts namely containers, model, resources  #               #              X           X              X
/// ```
const GUIDE_TABLE: [(&str, [&str; 5]); 8] = [
    (ADD_TEAMS, ["X", "X", "#", "X", "X"]),
    (ADD_USERS, ["X", "X", "#", "X", "X"]),
    (VIEW_USERS, ["#", "X", "#", "X", "X"]),
    (DELETE_IMAGES, ["#", "X", "X", "X", "X"]),
    (EDIT_IMAGE_INFO, ["#", "#", "X", "X", "X"]),
    (VIEW_ARTIFACTS, ["#", "#", "#", "#", "X"]),
    (DOWNLOAD_ARTIFACTS, ["#", "#", "X", "#", "X"]),
    (UPLOAD_ARTIFACTS, ["#", "#", "X", "X", "X"]),
];

const ADD_TEAMS: &str = "Add teams";
const ADD_USERS: &str = "Add new users to orgs or teams";
const VIEW_USERS: &str = "View users";
const DELETE_IMAGES: &str = "Delete images";
const EDIT_IMAGE_INFO: &str = "View/Edit all image information via UI and CLI";
const VIEW_ARTIFACTS: &str = "View all artifacts namely containers, model, resources";
const DOWNLOAD_ARTIFACTS: &str = "Download all artifacts namely containers, model, resources";
const UPLOAD_ARTIFACTS: &str =
    "Create and push/upload all artifacts namely containers, model, resources";

/// The six roles.
const ROLES: [&str; 6] = [
    "ORG_OWNER",
    "REGISTRY_ADMIN",
    "REGISTRY_USER",
    "USER_ADMIN",
    "REGISTRY_READ",
    "USER_READ",
];

/// Images only.
const IMAGE_KINDS: &[&str] = &["CONTAINER"];
/// "All artifacts": the guide names containers, models and resources; SPEC R-TEN-6 applies the
/// same table to every kind (Helm charts and collections too).
const ALL_KINDS: &[&str] = &["CONTAINER", "MODEL", "RESOURCE", "HELM_CHART", "COLLECTION"];

/// How a row of the table is exercised over HTTP.
#[derive(Debug, Clone, Copy)]
enum Probe {
    /// `POST /v2/org/{org}/teams` (an org-level action, SPEC R-TEN-2).
    AddTeam,
    /// `POST …/users` of the context.
    AddUser,
    /// `GET …/users` of the context.
    ViewUsers,
    /// `GET …/permissions` of the context: these actions on these kinds.
    Artifact {
        kinds: &'static [&'static str],
        actions: &'static [&'static str],
    },
}

/// The endpoint (and for artifacts, the actions of the permissions answer) each row stands for.
fn probe_of(row: &str) -> Probe {
    match row {
        ADD_TEAMS => Probe::AddTeam,
        ADD_USERS => Probe::AddUser,
        VIEW_USERS => Probe::ViewUsers,
        DELETE_IMAGES => Probe::Artifact {
            kinds: IMAGE_KINDS,
            actions: &["DELETE"],
        },
        EDIT_IMAGE_INFO => Probe::Artifact {
            kinds: IMAGE_KINDS,
            actions: &["UPDATE"],
        },
        VIEW_ARTIFACTS => Probe::Artifact {
            kinds: ALL_KINDS,
            actions: &["LIST", "VIEW"],
        },
        DOWNLOAD_ARTIFACTS => Probe::Artifact {
            kinds: ALL_KINDS,
            actions: &["DOWNLOAD"],
        },
        UPLOAD_ARTIFACTS => Probe::Artifact {
            kinds: ALL_KINDS,
            actions: &["CREATE", "UPLOAD"],
        },
        other => panic!("no probe for the row {other:?}"),
    }
}

/// The people action of the permissions answer that must agree with a people row.
fn people_action_of(row: &str) -> Option<&'static str> {
    match row {
        ADD_TEAMS => Some("CREATE_TEAMS"),
        ADD_USERS => Some("ADD_USERS"),
        VIEW_USERS => Some("VIEW_USERS"),
        _ => None,
    }
}

/// Whether the guide's table allows `row` to someone holding `roles` (the union of their
/// columns; ORG_OWNER everything).
fn guide_allows(row: &str, roles: &[&str]) -> bool {
    if roles.contains(&"ORG_OWNER") {
        return true;
    }
    let (_, marks) = GUIDE_TABLE
        .iter()
        .find(|(r, _)| *r == row)
        .unwrap_or_else(|| panic!("no row {row:?} in the guide table"));
    roles.iter().any(|role| {
        let col = COLUMNS
            .iter()
            .position(|c| c == role)
            .unwrap_or_else(|| panic!("no column for {role}"));
        match marks[col] {
            "#" => true,
            "X" => false,
            other => panic!("bad mark {other:?} in row {row:?}"),
        }
    })
}

// =============================================================================================
// HTTP helpers
// =============================================================================================

/// Every secret (API key, token) the server handed out during a test, collected from the
/// responses: none of them may appear in the server's logs.
type Secrets = Arc<Mutex<BTreeSet<String>>>;

#[derive(Debug, Clone, Copy)]
enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str),
}

/// A REST client of one server process, recording every secret it sees in an answer.
struct Api {
    base: String,
    http: reqwest::Client,
    secrets: Secrets,
}

/// One answer.
struct Reply {
    what: String,
    status: StatusCode,
    text: String,
    json: Value,
}

impl Reply {
    fn describe(&self) -> String {
        format!("{} -> {} {}", self.what, self.status.as_u16(), self.text)
    }

    /// The JSON body of a 200 answer.
    fn ok(&self) -> Result<&Value> {
        ensure!(
            self.status == StatusCode::OK,
            "expected 200: {}",
            self.describe()
        );
        Ok(&self.json)
    }

    /// Checks that this is a refusal with `status` in NGC's error shape; returns the
    /// description.
    fn refused(&self, status: u16) -> Result<String> {
        ensure!(
            self.status.as_u16() == status,
            "expected {status}: {}",
            self.describe()
        );
        let rs = &self.json["requestStatus"];
        let code = rs["statusCode"].as_str().unwrap_or_default();
        let desc = rs["statusDescription"].as_str().unwrap_or_default();
        ensure!(
            !code.is_empty() && code != "SUCCESS" && !desc.trim().is_empty(),
            "a {status} must carry requestStatus.statusCode and a statusDescription: {}",
            self.describe()
        );
        Ok(desc.to_string())
    }
}

/// Collects the values of secret-bearing fields anywhere in `v`.
fn collect_secrets(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if matches!(k.as_str(), "apiKey" | "api_key" | "token" | "access_token") {
                    if let Some(s) = v.as_str() {
                        out.insert(s.to_string());
                    }
                }
                collect_secrets(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}

impl Api {
    fn new(server: &Server, secrets: &Secrets) -> Api {
        Api {
            base: server.base_url(),
            http: server.http().clone(),
            secrets: secrets.clone(),
        }
    }

    fn record(&self, secret: &str) {
        self.secrets
            .lock()
            .expect("secrets lock")
            .insert(secret.to_string());
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> Result<Reply> {
        let what = match &body {
            Some(b) => format!("{method} {path} {b}"),
            None => format!("{method} {path}"),
        };
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(REQUEST_TIMEOUT);
        req = match auth {
            Auth::None => req,
            Auth::Bearer(k) => req.bearer_auth(k),
            Auth::Basic(k) => req.basic_auth("$oauthtoken", Some(k)),
        };
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.with_context(|| what.clone())?;
        let status = res.status();
        let text = res.text().await.with_context(|| what.clone())?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        let mut found = BTreeSet::new();
        collect_secrets(&json, &mut found);
        self.secrets.lock().expect("secrets lock").extend(found);
        Ok(Reply {
            what,
            status,
            text,
            json,
        })
    }

    async fn get(&self, path: &str, key: &str) -> Result<Reply> {
        self.call(Method::GET, path, Auth::Bearer(key), None).await
    }

    async fn post(&self, path: &str, key: &str, body: Value) -> Result<Reply> {
        self.call(Method::POST, path, Auth::Bearer(key), Some(body))
            .await
    }

    async fn patch(&self, path: &str, key: &str, body: Option<Value>) -> Result<Reply> {
        self.call(Method::PATCH, path, Auth::Bearer(key), body)
            .await
    }

    async fn delete(&self, path: &str, key: &str) -> Result<Reply> {
        self.call(Method::DELETE, path, Auth::Bearer(key), None)
            .await
    }

    /// A token from `GET /token` (Basic `$oauthtoken:<key>`).
    async fn token(&self, key: &str) -> Result<String> {
        let r = self
            .call(
                Method::GET,
                &format!("/token?service=arca&scope=group/ngc:{ORG}"),
                Auth::Basic(key),
                None,
            )
            .await?;
        let token = r.ok()?["token"]
            .as_str()
            .with_context(|| format!("no token in {}", r.describe()))?
            .to_string();
        Ok(token)
    }

    /// Emails of the members of the org (`team` None) or a team, as the owner sees them.
    async fn member_emails(&self, owner: &str, team: Option<&str>) -> Result<BTreeSet<String>> {
        let path = match team {
            None => format!("/v2/org/{ORG}/users?page-size=1000"),
            Some(t) => format!("/v2/org/{ORG}/team/{t}/users?page-size=1000"),
        };
        let r = self.get(&path, owner).await?;
        let users = r.ok()?["users"]
            .as_array()
            .with_context(|| format!("no users in {}", r.describe()))?;
        Ok(users
            .iter()
            .filter_map(|u| u["email"].as_str().map(str::to_string))
            .collect())
    }

    /// The member's org-level (`team` None) or team-level roles, as the owner sees them.
    async fn roles_of(&self, owner: &str, email: &str, team: Option<&str>) -> Result<Vec<String>> {
        let r = self
            .get(&format!("/v2/org/{ORG}/users?page-size=1000"), owner)
            .await?;
        let users = r.ok()?["users"].as_array().cloned().unwrap_or_default();
        let Some(user) = users.iter().find(|u| u["email"] == email) else {
            return Ok(Vec::new());
        };
        let mut roles = Vec::new();
        for entry in user["roles"].as_array().cloned().unwrap_or_default() {
            if entry["org"]["name"] != ORG {
                continue;
            }
            let (field, matches) = match team {
                None => (
                    "orgRoles",
                    !matches!(entry.get("team"), Some(t) if !t.is_null()),
                ),
                Some(t) => ("teamRoles", entry["team"]["name"] == t),
            };
            if matches {
                for r in entry[field].as_array().cloned().unwrap_or_default() {
                    if let Some(s) = r.as_str() {
                        roles.push(s.to_string());
                    }
                }
            }
        }
        roles.sort();
        Ok(roles)
    }

    /// Emails of the org's ORG_OWNERs, as the owner sees them.
    async fn org_owners(&self, owner: &str) -> Result<BTreeSet<String>> {
        let r = self
            .get(&format!("/v2/org/{ORG}/users?page-size=1000"), owner)
            .await?;
        let users = r.ok()?["users"].as_array().cloned().unwrap_or_default();
        let mut emails = BTreeSet::new();
        for u in users {
            let is_owner = u["roles"].as_array().is_some_and(|rs| {
                rs.iter().any(|e| {
                    e["org"]["name"] == ORG
                        && e["orgRoles"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|x| x == "ORG_OWNER"))
                })
            });
            if is_owner {
                emails.insert(u["email"].as_str().unwrap_or_default().to_string());
            }
        }
        Ok(emails)
    }

    /// Names of the orgs `key` sees (`GET /v2/orgs`).
    async fn org_names(&self, key: &str) -> Result<Vec<String>> {
        let r = self.get("/v2/orgs", key).await?;
        Ok(r.ok()?["organizations"]
            .as_array()
            .with_context(|| r.describe())?
            .iter()
            .filter_map(|o| o["name"].as_str().map(str::to_string))
            .collect())
    }

    /// Names of the org's teams as `key` sees them.
    async fn team_names(&self, key: &str) -> Result<BTreeSet<String>> {
        let r = self
            .get(&format!("/v2/org/{ORG}/teams?page-size=1000"), key)
            .await?;
        let teams = r.ok()?["teams"]
            .as_array()
            .with_context(|| format!("no teams in {}", r.describe()))?;
        Ok(teams
            .iter()
            .filter_map(|t| t["name"].as_str().map(str::to_string))
            .collect())
    }

    /// The caller's keys (`type` = mine, service or all) as (id, name, type).
    async fn keys(&self, key: &str, which: &str) -> Result<Vec<(String, String, String)>> {
        let r = self.get(&format!("/v3/keys?type={which}"), key).await?;
        let keys = r.ok()?["keys"]
            .as_array()
            .with_context(|| format!("no keys in {}", r.describe()))?;
        Ok(keys
            .iter()
            .map(|k| {
                let s = |f: &str| k[f].as_str().unwrap_or_default().to_string();
                (s("id"), s("name"), s("type"))
            })
            .collect())
    }
}

/// A user added to the org or a team, with their first personal key.
#[derive(Debug, Clone)]
struct Added {
    user_id: i64,
    key: String,
    key_id: String,
}

/// Reads the answer of `POST …/users` for a user's first membership.
fn added(r: &Reply) -> Result<Added> {
    let body = r.ok()?;
    let user_id = body["user"]["id"]
        .as_i64()
        .with_context(|| format!("no numeric user.id in {}", r.describe()))?;
    let key = body["apiKey"]
        .as_str()
        .with_context(|| format!("no apiKey for a new member in {}", r.describe()))?
        .to_string();
    ensure!(key.starts_with("arca_pk_"), "{}", r.describe());
    let key_id = body["key"]["id"]
        .as_str()
        .with_context(|| format!("no key.id in {}", r.describe()))?
        .to_string();
    Ok(Added {
        user_id,
        key,
        key_id,
    })
}

/// A created key: (id, secret).
fn created_key(r: &Reply) -> Result<(String, String)> {
    let body = r.ok()?;
    let id = body["key"]["id"]
        .as_str()
        .with_context(|| format!("no key.id in {}", r.describe()))?;
    let secret = body["apiKey"]
        .as_str()
        .with_context(|| format!("no apiKey in {}", r.describe()))?;
    Ok((id.to_string(), secret.to_string()))
}

/// Where a request is made: the org itself or one of its teams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Org,
    Team(&'static str),
}

impl Ctx {
    /// `/v2/org/{org}` or `/v2/org/{org}/team/{team}`.
    fn base(self) -> String {
        match self {
            Ctx::Org => format!("/v2/org/{ORG}"),
            Ctx::Team(t) => format!("/v2/org/{ORG}/team/{t}"),
        }
    }

    fn label(self) -> String {
        match self {
            Ctx::Org => "org".into(),
            Ctx::Team(t) => format!("team {t}"),
        }
    }
}

async fn add_user(api: &Api, by: &str, ctx: Ctx, email: &str, roles: &[&str]) -> Result<Reply> {
    api.post(
        &format!("{}/users", ctx.base()),
        by,
        json!({"email": email, "name": email, "roleTypes": roles}),
    )
    .await
}

async fn create_team(api: &Api, by: &str, name: &str) -> Result<Reply> {
    api.post(
        &format!("/v2/org/{ORG}/teams"),
        by,
        json!({"name": name, "description": format!("team {name}")}),
    )
    .await
}

// =============================================================================================
// 1. Capability matrix (guide §2.4.1; R-TEN-2, R-TEN-4, R-TEN-5, R-TEN-6, R-TEN-7)
// =============================================================================================

/// A member under test: their roles at their level (org, or team `vision`) and their key.
#[derive(Debug, Clone)]
struct Persona {
    label: String,
    email: String,
    roles: Vec<&'static str>,
    level: Ctx,
    key: String,
}

/// What a probe saw (or is expected to see).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// The request succeeded / the permissions answer lists every action of the row.
    Allowed,
    /// The permissions answer (200) lists none of the row's actions.
    Absent,
    /// The request was refused with this status (in NGC's error shape).
    Refused(u16),
    /// Anything else (some actions of a row listed, a bad error shape, an odd status).
    Other(String),
}

/// The expected outcome of `row` for `p` in `ctx`, from [`GUIDE_TABLE`] and the SPEC:
/// * "Add teams" is an org-level action (R-TEN-2: only org owners and org-level user admins):
///   the guide's `#` for User Admin holds at org level only; a team-level member, even a
///   USER_ADMIN, holds no org role: a member of the org, it sees the org and gets 403;
/// * a team-level member sees the org (it is a member) but holds no role there: the org's
///   people endpoints refuse with 403 and the org's permissions list no artifact action;
///   another team is invisible (R-TEN-7): 404;
/// * otherwise a visible refusal is 403 on a people endpoint, and an absent action on the
///   permissions answer.
fn expected(row: &str, p: &Persona, ctx: Ctx) -> Outcome {
    let artifact = matches!(probe_of(row), Probe::Artifact { .. });
    if row == ADD_TEAMS {
        return match p.level {
            Ctx::Org if guide_allows(row, &p.roles) => Outcome::Allowed,
            _ => Outcome::Refused(403),
        };
    }
    if p.level != Ctx::Org && ctx == Ctx::Org {
        return if artifact {
            Outcome::Absent
        } else {
            Outcome::Refused(403)
        };
    }
    let visible = p.level == Ctx::Org || ctx == p.level;
    if !visible {
        Outcome::Refused(404)
    } else if guide_allows(row, &p.roles) {
        Outcome::Allowed
    } else if artifact {
        Outcome::Absent
    } else {
        Outcome::Refused(403)
    }
}

/// Everything a matrix run created or was refused, to check the state afterwards.
#[derive(Default)]
struct Ledger {
    n: usize,
    teams_created: BTreeSet<String>,
    teams_refused: BTreeSet<String>,
    users_added: BTreeMap<String, Ctx>,
    users_refused: BTreeSet<String>,
}

/// The roles a persona asks for when adding a user: its own roles (so an allowed USER_ADMIN
/// grants only roles it holds, R-TEN-5); an owner grants REGISTRY_READ.
fn roles_to_grant(p: &Persona) -> Vec<&'static str> {
    if p.roles.contains(&"ORG_OWNER") {
        vec!["REGISTRY_READ"]
    } else {
        p.roles.clone()
    }
}

fn outcome_of_refusal(r: &Reply) -> Outcome {
    let status = r.status.as_u16();
    match status {
        200 => Outcome::Allowed,
        _ => match r.refused(status) {
            Ok(_) => Outcome::Refused(status),
            Err(e) => Outcome::Other(format!("{e:#}")),
        },
    }
}

/// Runs the probe of `row` for `p` in `ctx`; `perms` is the permissions answer of the context.
async fn probe(
    api: &Api,
    p: &Persona,
    ctx: Ctx,
    row: &str,
    perms: &Reply,
    ledger: &mut Ledger,
) -> Result<Outcome> {
    ledger.n += 1;
    let n = ledger.n;
    Ok(match probe_of(row) {
        Probe::AddTeam => {
            let name = format!("made-{n}");
            let r = create_team(api, &p.key, &name).await?;
            if r.status == StatusCode::OK {
                ledger.teams_created.insert(name);
            } else {
                ledger.teams_refused.insert(name);
            }
            outcome_of_refusal(&r)
        }
        Probe::AddUser => {
            let email = format!("added-{n}@matrix.test");
            let r = add_user(api, &p.key, ctx, &email, &roles_to_grant(p)).await?;
            if r.status == StatusCode::OK {
                ledger.users_added.insert(email, ctx);
            } else {
                ledger.users_refused.insert(email);
            }
            outcome_of_refusal(&r)
        }
        Probe::ViewUsers => {
            let r = api
                .get(&format!("{}/users?page-size=1000", ctx.base()), &p.key)
                .await?;
            let outcome = outcome_of_refusal(&r);
            if outcome == Outcome::Allowed && ctx == p.level {
                // A member sees themself in the list of their own org or team.
                let listed = r.json["users"]
                    .as_array()
                    .is_some_and(|us| us.iter().any(|u| u["email"] == p.email.as_str()));
                if !listed {
                    return Ok(Outcome::Other(format!(
                        "the caller is not in its own user list: {}",
                        r.describe()
                    )));
                }
            }
            outcome
        }
        Probe::Artifact { kinds, actions } => {
            if perms.status != StatusCode::OK {
                return Ok(outcome_of_refusal(perms));
            }
            let mut have = 0;
            let mut total = 0;
            for kind in kinds {
                let listed = &perms.json["permissions"]["artifacts"][*kind];
                for action in actions {
                    total += 1;
                    if listed
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == *action))
                    {
                        have += 1;
                    }
                }
            }
            if have == total {
                Outcome::Allowed
            } else if have == 0 {
                Outcome::Absent
            } else {
                Outcome::Other(format!(
                    "{have} of the {total} actions {actions:?} on {kinds:?}: {}",
                    perms.describe()
                ))
            }
        }
    })
}

/// Sets up org `demo` (teams `vision` and `audio`, a member per role at org level and at team
/// level) and walks every row of the guide's table for every persona in every context; returns
/// the list of mismatches (empty: all good).
async fn scenario_matrix(api: &Api, owner: &str) -> Result<Vec<String>> {
    let mut failures = Vec::new();
    let teams_before = api.team_names(owner).await?;
    let users_before = api.member_emails(owner, None).await?;
    for t in ["vision", "audio"] {
        create_team(api, owner, t).await?.ok()?;
    }

    // R-TEN-5: USER_READ alone does not make a member, at org or team level; R-TEN-4:
    // ORG_OWNER is an org-level role. Nothing is created.
    for (ctx, roles) in [
        (Ctx::Org, vec!["USER_READ"]),
        (Ctx::Team("vision"), vec!["USER_READ"]),
        (Ctx::Team("vision"), vec!["ORG_OWNER"]),
    ] {
        let email = format!(
            "only-{}-{}@matrix.test",
            roles[0].to_lowercase(),
            ctx.label()
        )
        .replace(' ', "-");
        let r = add_user(api, owner, ctx, &email, &roles).await?;
        r.refused(400)?;
        let members = api.member_emails(owner, None).await?;
        ensure!(
            !members.contains(&email),
            "{email} became a member after a refused add: {members:?}"
        );
    }

    // The personas. USER_READ cannot be held alone (R-TEN-5 above), so its member also holds
    // REGISTRY_READ, the least role that qualifies: the expectation is the union of the two
    // columns, i.e. USER_READ must add nothing to REGISTRY_READ (in particular not "View users").
    let mut personas = vec![Persona {
        label: "org ORG_OWNER (bootstrap owner)".into(),
        email: "admin@localhost".into(),
        roles: vec!["ORG_OWNER"],
        level: Ctx::Org,
        key: owner.to_string(),
    }];
    for level in [Ctx::Org, Ctx::Team("vision")] {
        for role in ROLES.iter().copied().filter(|r| *r != "ORG_OWNER") {
            let roles = if role == "USER_READ" {
                vec!["USER_READ", "REGISTRY_READ"]
            } else {
                vec![role]
            };
            let slug = format!("{}-{}", level.label(), role).to_lowercase();
            let email = format!("{}@matrix.test", slug.replace([' ', '_'], "-"));
            let r = add_user(api, owner, level, &email, &roles).await?;
            let a = added(&r)?;
            personas.push(Persona {
                label: format!("{} {}", level.label(), roles.join("+")),
                email,
                roles,
                level,
                key: a.key,
            });
        }
    }
    ensure!(personas.len() == 11, "{personas:?}");

    let mut ledger = Ledger::default();
    for p in &personas {
        let contexts: &[Ctx] = match p.level {
            Ctx::Org => &[Ctx::Org, Ctx::Team("vision"), Ctx::Team("audio")],
            Ctx::Team(_) => &[Ctx::Team("vision"), Ctx::Team("audio"), Ctx::Org],
        };
        for ctx in contexts.iter().copied() {
            let perms = api
                .get(&format!("{}/permissions", ctx.base()), &p.key)
                .await?;
            for (row, _) in GUIDE_TABLE {
                // "Add teams" is one org-level request, made once per persona.
                if row == ADD_TEAMS && ctx != p.level {
                    continue;
                }
                let want = expected(row, p, ctx);
                let got = probe(api, p, ctx, row, &perms, &mut ledger).await?;
                if got != want {
                    failures.push(format!(
                        "[{}] in {}: {row:?}: expected {want:?}, got {got:?}",
                        p.label,
                        ctx.label()
                    ));
                }
            }
            if perms.status == StatusCode::OK {
                failures.extend(check_permissions_answer(p, ctx, &perms));
            }
        }
        failures.extend(check_team_visibility(api, p).await?);
    }

    // No refused request changed anything; every allowed one did exactly what it said.
    let teams_after = api.team_names(owner).await?;
    let mut teams_want = teams_before.clone();
    teams_want.extend(["vision".to_string(), "audio".to_string()]);
    teams_want.extend(ledger.teams_created.iter().cloned());
    if teams_after != teams_want {
        failures.push(format!(
            "teams after the matrix: {teams_after:?}, expected {teams_want:?}"
        ));
    }
    let users_after = api.member_emails(owner, None).await?;
    for p in &personas {
        if !users_after.contains(&p.email) {
            failures.push(format!("persona {} missing from the org", p.email));
        }
    }
    for (email, ctx) in &ledger.users_added {
        if !users_after.contains(email) {
            failures.push(format!("{email} was added but is not an org member"));
        }
        if let Ctx::Team(t) = ctx {
            if !api.member_emails(owner, Some(t)).await?.contains(email) {
                failures.push(format!("{email} was added to team {t} but is not in it"));
            }
        }
    }
    for email in &ledger.users_refused {
        if users_after.contains(email) {
            failures.push(format!("{email} was refused but became a member"));
        }
    }
    let expected_count = users_before.len() + personas.len() - 1 + ledger.users_added.len();
    if users_after.len() != expected_count {
        failures.push(format!(
            "{} org members after the matrix, expected {expected_count}: {users_after:?}",
            users_after.len()
        ));
    }
    Ok(failures)
}

/// The permissions answer of a visible context also agrees, action by action, with the rows:
/// the CONTAINER actions are exactly those of the allowed rows (the rows cover all seven), and
/// the people actions of the people rows are listed exactly when the row is allowed.
fn check_permissions_answer(p: &Persona, ctx: Ctx, perms: &Reply) -> Vec<String> {
    let mut failures = Vec::new();
    let mut want: BTreeSet<&str> = BTreeSet::new();
    for (row, _) in GUIDE_TABLE {
        if let Probe::Artifact { kinds, actions } = probe_of(row) {
            if kinds.contains(&"CONTAINER") && expected(row, p, ctx) == Outcome::Allowed {
                want.extend(actions.iter().copied());
            }
        }
    }
    let have: BTreeSet<&str> = perms.json["permissions"]["artifacts"]["CONTAINER"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if have != want {
        failures.push(format!(
            "[{}] in {}: CONTAINER actions {have:?}, expected exactly {want:?}",
            p.label,
            ctx.label()
        ));
    }
    let people: BTreeSet<&str> = perms.json["permissions"]["people"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (row, _) in GUIDE_TABLE {
        let Some(action) = people_action_of(row) else {
            continue;
        };
        // "Add teams" is about the org: in any context, listed iff the persona may create teams.
        let allowed = if row == ADD_TEAMS {
            expected(row, p, Ctx::Org) == Outcome::Allowed
        } else {
            expected(row, p, ctx) == Outcome::Allowed
        };
        if people.contains(action) != allowed {
            failures.push(format!(
                "[{}] in {}: permissions.people {} {action} but {row:?} is {}: {}",
                p.label,
                ctx.label(),
                if people.contains(action) {
                    "lists"
                } else {
                    "lacks"
                },
                if allowed { "allowed" } else { "not allowed" },
                perms.describe()
            ));
        }
    }
    failures
}

/// R-TEN-7: a team-level member sees its own team only: the team list shows `vision` alone and
/// `audio` does not exist for it; an org-level member sees both.
async fn check_team_visibility(api: &Api, p: &Persona) -> Result<Vec<String>> {
    let mut failures = Vec::new();
    let want: BTreeSet<String> = match p.level {
        Ctx::Org => return Ok(failures),
        Ctx::Team(t) => [t.to_string()].into(),
    };
    let seen = api.team_names(&p.key).await?;
    if seen != want {
        failures.push(format!(
            "[{}] GET /v2/org/{ORG}/teams lists {seen:?}, expected only {want:?}",
            p.label
        ));
    }
    let r = api
        .get(&format!("/v2/org/{ORG}/teams/audio"), &p.key)
        .await?;
    if let Err(e) = r.refused(404) {
        failures.push(format!("[{}] the other team: {e:#}", p.label));
    }
    let r = api
        .get(&format!("/v2/org/{ORG}/teams/vision"), &p.key)
        .await?;
    if let Err(e) = r.ok() {
        failures.push(format!("[{}] its own team: {e:#}", p.label));
    }
    Ok(failures)
}

// =============================================================================================
// 2. Limits (R-KEY-1, R-KEY-2, R-TEN-2, R-TEN-4, R-TEN-5)
// =============================================================================================

async fn scenario_limits(api: &Api, owner: &str) -> Result<()> {
    // R-KEY-1: 8 personal keys per user and org; the bootstrap key counts.
    let personal = |keys: &[(String, String, String)]| {
        keys.iter().filter(|(_, _, t)| t == "PERSONAL_KEY").count()
    };
    let before = personal(&api.keys(owner, "mine").await?);
    ensure!(
        (1..=8).contains(&before),
        "the owner has {before} personal keys"
    );
    for i in before..8 {
        let r = api
            .post(
                "/v3/keys/personal",
                owner,
                json!({"name": format!("limit-{i}"), "expiry": "1h"}),
            )
            .await?;
        created_key(&r)?;
    }
    let mine = api.keys(owner, "mine").await?;
    ensure!(personal(&mine) == 8, "expected 8 personal keys: {mine:?}");
    let r = api
        .post(
            "/v3/keys/personal",
            owner,
            json!({"name": "the-ninth", "expiry": "1h"}),
        )
        .await?;
    let desc = r.refused(409)?;
    ensure!(
        desc.contains('8'),
        "the 9th personal key's error must name the limit 8: {}",
        r.describe()
    );
    let after = api.keys(owner, "mine").await?;
    ensure!(
        after == mine,
        "a refused 9th key changed the key list: {mine:?} -> {after:?}"
    );

    // R-KEY-2: 50 service keys per org.
    let before = api.keys(owner, "service").await?.len();
    ensure!(before <= 50, "{before} service keys");
    for i in before..50 {
        let r = api
            .post(
                "/v3/keys/service",
                owner,
                json!({
                    "name": format!("svc-{i}"),
                    "expiry": "1h",
                    "scopes": ["GET_CONTAINER", "LIST_CONTAINERS"],
                }),
            )
            .await?;
        let (_, secret) = created_key(&r)?;
        ensure!(secret.starts_with("arca_sk_"), "{}", r.describe());
    }
    let services = api.keys(owner, "service").await?;
    ensure!(services.len() == 50, "expected 50 service keys");
    let r = api
        .post(
            "/v3/keys/service",
            owner,
            json!({"name": "svc-51st", "expiry": "1h", "scopes": ["GET_CONTAINER"]}),
        )
        .await?;
    let desc = r.refused(409)?;
    ensure!(
        desc.contains("50"),
        "the 51st service key's error must name the limit 50: {}",
        r.describe()
    );
    let after = api.keys(owner, "service").await?;
    ensure!(
        after == services,
        "a refused 51st service key changed the list"
    );

    // R-TEN-4: at most two ORG_OWNERs, by adding a new user or by adding the role.
    let mut n = api.org_owners(owner).await?.len();
    ensure!((1..=2).contains(&n), "{n} owners");
    while n < 2 {
        let email = format!("owner-{n}@limits.test");
        add_user(api, owner, Ctx::Org, &email, &["ORG_OWNER"])
            .await?
            .ok()?;
        n += 1;
    }
    let owners_before = api.org_owners(owner).await?;
    ensure!(owners_before.len() == 2, "{owners_before:?}");
    let members_before = api.member_emails(owner, None).await?;
    let r = add_user(
        api,
        owner,
        Ctx::Org,
        "third-owner@limits.test",
        &["ORG_OWNER"],
    )
    .await?;
    let desc = r.refused(409)?;
    ensure!(
        desc.contains('2') && desc.to_lowercase().contains("owner"),
        "the 3rd owner's error must say at most 2 owners: {}",
        r.describe()
    );
    ensure!(
        api.member_emails(owner, None).await? == members_before,
        "a refused 3rd owner changed the members"
    );
    let plain = add_user(
        api,
        owner,
        Ctx::Org,
        "would-be-owner@limits.test",
        &["REGISTRY_READ"],
    )
    .await?;
    let plain = added(&plain)?;
    let r = api
        .patch(
            &format!(
                "/v3/orgs/{ORG}/users/{}/add-role?roles=ORG_OWNER",
                plain.user_id
            ),
            owner,
            None,
        )
        .await?;
    let desc = r.refused(409)?;
    ensure!(desc.to_lowercase().contains("owner"), "{}", r.describe());
    ensure!(
        api.org_owners(owner).await? == owners_before,
        "owners changed"
    );
    ensure!(
        api.roles_of(owner, "would-be-owner@limits.test", None)
            .await?
            == ["REGISTRY_READ"],
        "a refused add-role changed the member's roles"
    );

    // R-TEN-2: team names are lowercase.
    let teams_before = api.team_names(owner).await?;
    for name in ["Vision", "AUDIO", "mixedCase"] {
        let r = create_team(api, owner, name).await?;
        let desc = r.refused(400)?;
        ensure!(
            desc.to_lowercase().contains("lowercase"),
            "the error for team name {name:?} must say lowercase: {}",
            r.describe()
        );
    }
    ensure!(
        api.team_names(owner).await? == teams_before,
        "a refused team name changed the teams"
    );

    // R-TEN-5: a USER_ADMIN grants only roles it holds.
    let ua = added(
        &add_user(
            api,
            owner,
            Ctx::Org,
            "user-admin@limits.test",
            &["USER_ADMIN"],
        )
        .await?,
    )?;
    let members_before = api.member_emails(owner, None).await?;
    for role in ["REGISTRY_ADMIN", "REGISTRY_READ", "ORG_OWNER"] {
        let email = format!(
            "granted-{}@limits.test",
            role.to_lowercase().replace('_', "-")
        );
        let r = add_user(api, &ua.key, Ctx::Org, &email, &[role]).await?;
        let status = r.status.as_u16();
        ensure!(
            status == 403 || status == 400,
            "a USER_ADMIN granting {role}: expected 403 or 400: {}",
            r.describe()
        );
        let desc = r.refused(status)?;
        ensure!(
            desc.contains(role),
            "the error must name {role}: {}",
            r.describe()
        );
    }
    ensure!(
        api.member_emails(owner, None).await? == members_before,
        "a refused grant changed the members"
    );
    // …nor by adding a role to an existing member.
    let r = api
        .patch(
            &format!(
                "/v3/orgs/{ORG}/users/{}/add-role?roles=REGISTRY_ADMIN",
                plain.user_id
            ),
            &ua.key,
            None,
        )
        .await?;
    let status = r.status.as_u16();
    ensure!(status == 403 || status == 400, "{}", r.describe());
    r.refused(status)?;
    ensure!(
        api.roles_of(owner, "would-be-owner@limits.test", None)
            .await?
            == ["REGISTRY_READ"],
        "a refused add-role by a USER_ADMIN changed the member's roles"
    );
    // What it holds, it may grant.
    add_user(
        api,
        &ua.key,
        Ctx::Org,
        "granted-user-admin@limits.test",
        &["USER_ADMIN"],
    )
    .await?
    .ok()?;

    // R-KEY-1: a personal key only for services the user has a role for.
    let reader = added(
        &add_user(
            api,
            owner,
            Ctx::Org,
            "reader@limits.test",
            &["REGISTRY_READ"],
        )
        .await?,
    )?;
    let keys_before = api.keys(&reader.key, "mine").await?;
    ensure!(keys_before.len() == 1, "{keys_before:?}");
    for services in [
        json!(["USER_MANAGEMENT"]),
        json!(["PRIVATE_REGISTRY", "USER_MANAGEMENT"]),
    ] {
        let r = api
            .post(
                "/v3/keys/personal",
                &reader.key,
                json!({"name": "wants-users", "expiry": "1h", "services": services}),
            )
            .await?;
        let desc = r.refused(400)?;
        ensure!(
            desc.contains("USER_MANAGEMENT"),
            "the error must name the service: {}",
            r.describe()
        );
    }
    ensure!(
        api.keys(&reader.key, "mine").await? == keys_before,
        "a refused personal key changed the reader's keys"
    );
    // The service it has is fine.
    let r = api
        .post(
            "/v3/keys/personal",
            &reader.key,
            json!({"name": "registry", "expiry": "1h", "services": ["PRIVATE_REGISTRY"]}),
        )
        .await?;
    created_key(&r)?;
    Ok(())
}

// =============================================================================================
// 3. Revocation on the very next request (R-TEN-8, R-KEY-3, R-KEY-4, R-KEY-7)
// =============================================================================================

/// `credential` (a key or token) answers `want` on `GET /v2/users/me`.
async fn expect_me(api: &Api, credential: &str, want: u16, what: &str) -> Result<()> {
    let r = api.get("/v2/users/me", credential).await?;
    ensure!(
        r.status.as_u16() == want,
        "{what}: expected {want} on the next request: {}",
        r.describe()
    );
    if want != 200 {
        r.refused(want)?;
    }
    Ok(())
}

async fn scenario_revocation(api: &Api, owner: &str) -> Result<()> {
    // R-TEN-8: removal from the org kills every key of the user in the org, and tokens issued
    // for them, on the next request.
    let m = added(
        &add_user(
            api,
            owner,
            Ctx::Org,
            "leaver@revoke.test",
            &["REGISTRY_USER"],
        )
        .await?,
    )?;
    expect_me(api, &m.key, 200, "a fresh member's key").await?;
    let token = api.token(&m.key).await?;
    expect_me(api, &token, 200, "a token of a fresh member's key").await?;
    let (_, second) = created_key(
        &api.post(
            "/v3/keys/personal",
            &m.key,
            json!({"name": "second", "expiry": "7d"}),
        )
        .await?,
    )?;
    let (_, legacy) = created_key(&api.post("/v3/keys/legacy", &m.key, json!({})).await?)?;
    ensure!(legacy.starts_with("arca_lk_"), "legacy key {legacy:.8}…");
    expect_me(api, &second, 200, "the member's second key").await?;
    expect_me(api, &legacy, 200, "the member's legacy key").await?;
    api.delete(&format!("/v3/orgs/{ORG}/users/{}", m.user_id), owner)
        .await?
        .ok()?;
    for (credential, what) in [
        (&m.key, "the removed member's first key"),
        (&token, "a token issued before the removal"),
        (&second, "the removed member's second key"),
        (&legacy, "the removed member's legacy key"),
    ] {
        expect_me(api, credential, 401, what).await?;
    }
    let r = api
        .call(Method::GET, "/token", Auth::Basic(&m.key), None)
        .await?;
    r.refused(401)?;
    // No credential at all is the same 401, in the same shape.
    api.call(Method::GET, "/v2/users/me", Auth::None, None)
        .await?
        .refused(401)?;
    // Coming back gives a new key; the old ones stay dead.
    let back = added(
        &add_user(
            api,
            owner,
            Ctx::Org,
            "leaver@revoke.test",
            &["REGISTRY_USER"],
        )
        .await?,
    )?;
    expect_me(api, &back.key, 200, "the returning member's new key").await?;
    for (credential, what) in [
        (&m.key, "a key of before the removal, after the return"),
        (
            &second,
            "a second key of before the removal, after the return",
        ),
        (
            &legacy,
            "a legacy key of before the removal, after the return",
        ),
        (&token, "a token of before the removal, after the return"),
    ] {
        expect_me(api, credential, 401, what).await?;
    }

    // R-KEY-4, R-KEY-7: deactivation and reactivation.
    let u = added(
        &add_user(
            api,
            owner,
            Ctx::Org,
            "keeper@revoke.test",
            &["REGISTRY_READ"],
        )
        .await?,
    )?;
    let (spare_id, spare) = created_key(
        &api.post(
            "/v3/keys/personal",
            &u.key,
            json!({"name": "spare", "expiry": "7d"}),
        )
        .await?,
    )?;
    let token = api.token(&u.key).await?;
    expect_me(api, &u.key, 200, "a key before deactivation").await?;
    let path = format!("/v3/keys/{}", u.key_id);
    let r = api
        .patch(&path, &spare, Some(json!({"active": false})))
        .await?;
    ensure!(r.ok()?["key"]["active"] == false, "{}", r.describe());
    expect_me(api, &u.key, 401, "a deactivated key").await?;
    expect_me(api, &token, 401, "a token of a deactivated key").await?;
    expect_me(api, &spare, 200, "another key of the same user").await?;
    let r = api
        .patch(&path, &spare, Some(json!({"active": true})))
        .await?;
    ensure!(r.ok()?["key"]["active"] == true, "{}", r.describe());
    expect_me(api, &u.key, 200, "a reactivated key").await?;
    // The owner may deactivate a member's key (R-KEY-4).
    api.patch(&path, owner, Some(json!({"active": false})))
        .await?
        .ok()?;
    expect_me(api, &u.key, 401, "a key deactivated by the org owner").await?;
    api.patch(&path, &spare, Some(json!({"active": true})))
        .await?
        .ok()?;
    expect_me(api, &u.key, 200, "a key reactivated by its user").await?;

    // Rotation: new secret, same id; the old secret and its tokens are dead at once.
    let token = api.token(&u.key).await?;
    let r = api
        .post(&format!("/v3/keys/{}/rotate", u.key_id), &spare, json!({}))
        .await?;
    let (rotated_id, rotated) = created_key(&r)?;
    ensure!(
        rotated_id == u.key_id,
        "rotation changed the id: {}",
        r.describe()
    );
    ensure!(rotated != u.key, "rotation kept the secret");
    expect_me(api, &u.key, 401, "the secret before rotation").await?;
    expect_me(api, &token, 401, "a token issued before rotation").await?;
    expect_me(api, &rotated, 200, "the rotated secret").await?;

    // Deletion.
    api.delete(&path, &spare).await?.ok()?;
    expect_me(api, &rotated, 401, "a deleted key").await?;
    expect_me(api, &spare, 200, "the user's other key").await?;
    let ids: Vec<String> = api
        .keys(&spare, "mine")
        .await?
        .into_iter()
        .map(|k| k.0)
        .collect();
    ensure!(
        ids == [spare_id.clone()],
        "after deletion the user has {ids:?}"
    );
    // The owner may delete a member's key (R-KEY-4).
    let (_, third) = created_key(
        &api.post(
            "/v3/keys/personal",
            &spare,
            json!({"name": "third", "expiry": "1h"}),
        )
        .await?,
    )?;
    let third_id = api
        .keys(&spare, "mine")
        .await?
        .into_iter()
        .find(|k| k.1 == "third")
        .context("the key 'third'")?
        .0;
    api.delete(&format!("/v3/keys/{third_id}"), owner)
        .await?
        .ok()?;
    expect_me(api, &third, 401, "a key deleted by the org owner").await?;

    // R-KEY-3: one legacy key; generating another kills the first at once.
    let (first_id, first) = created_key(&api.post("/v3/keys/legacy", &spare, json!({})).await?)?;
    expect_me(api, &first, 200, "a legacy key").await?;
    let token = api.token(&first).await?;
    let (second_id, second) = created_key(&api.post("/v3/keys/legacy", &spare, json!({})).await?)?;
    ensure!(first != second, "a new legacy key has the old secret");
    expect_me(api, &first, 401, "the first legacy key after regeneration").await?;
    expect_me(api, &token, 401, "a token of the first legacy key").await?;
    expect_me(api, &second, 200, "the new legacy key").await?;
    let legacy: Vec<String> = api
        .keys(&spare, "mine")
        .await?
        .into_iter()
        .filter(|k| k.2 == "LEGACY_KEY")
        .map(|k| k.0)
        .collect();
    ensure!(
        legacy == [second_id.clone()],
        "legacy keys {legacy:?}, expected only {second_id} (first was {first_id})"
    );

    // Service keys too (R-KEY-4): deactivate, reactivate, rotate, delete.
    let (sid, skey) = created_key(
        &api.post(
            "/v3/keys/service",
            owner,
            json!({"name": "revocable", "expiry": "1h", "scopes": ["GET_CONTAINER"]}),
        )
        .await?,
    )?;
    let org_path = format!("/v2/orgs/{ORG}");
    ensure!(
        api.get(&org_path, &skey).await?.status.as_u16() == 200,
        "a fresh service key"
    );
    let spath = format!("/v3/keys/{sid}");
    api.patch(&spath, owner, Some(json!({"active": false})))
        .await?
        .ok()?;
    ensure!(
        api.get(&org_path, &skey).await?.status.as_u16() == 401,
        "a deactivated service key"
    );
    api.patch(&spath, owner, Some(json!({"active": true})))
        .await?
        .ok()?;
    ensure!(
        api.get(&org_path, &skey).await?.status.as_u16() == 200,
        "a reactivated service key"
    );
    let (_, srot) = created_key(
        &api.post(&format!("{spath}/rotate"), owner, json!({}))
            .await?,
    )?;
    ensure!(
        api.get(&org_path, &skey).await?.status.as_u16() == 401,
        "a rotated-away service key"
    );
    ensure!(
        api.get(&org_path, &srot).await?.status.as_u16() == 200,
        "a rotated service key"
    );
    api.delete(&spath, owner).await?.ok()?;
    ensure!(
        api.get(&org_path, &srot).await?.status.as_u16() == 401,
        "a deleted service key"
    );
    Ok(())
}

// =============================================================================================
// 4. Cross-org isolation (R-TEN-1, R-TEN-7)
// =============================================================================================

/// Stops the server, bootstraps org `other` into its data dir, restarts it and checks that
/// neither org sees the other. Returns the new [`Api`] (the port may change).
async fn scenario_isolation(server: &mut Server, secrets: &Secrets) -> Result<Api> {
    let owner = server.key().to_string();
    let api = Api::new(server, secrets);
    let teams = api.team_names(&owner).await?;
    if !teams.contains("private") {
        create_team(&api, &owner, "private").await?.ok()?;
    }
    add_user(
        &api,
        &owner,
        Ctx::Team("private"),
        "insider@isolation.test",
        &["REGISTRY_USER"],
    )
    .await?
    .ok()?;
    let demo_key_id = api
        .keys(&owner, "mine")
        .await?
        .into_iter()
        .find(|k| k.1 == "bootstrap")
        .context("the owner's bootstrap key")?
        .0;

    let status = server.sigterm().await?;
    ensure!(status.success(), "stop: {status}\n{}", server.describe());
    let out = bootstrap(server.data_dir(), "other", "o@other.io")?;
    ensure!(out.success(), "bootstrap other:\n{}", out.describe());
    let printed: Value = serde_json::from_str(out.stdout_text().trim())
        .with_context(|| format!("bootstrap --json output:\n{}", out.describe()))?;
    let other = printed["api_key"]
        .as_str()
        .with_context(|| format!("no api_key in {printed}"))?
        .to_string();
    api.record(&other);
    ensure!(printed["org"] == "other", "{printed}");
    server.restart().await?;
    let api = Api::new(server, secrets);

    // Both keys work, each in its own org.
    ensure!(
        api.org_names(&other).await? == ["other"],
        "GET /v2/orgs for other's owner"
    );
    ensure!(
        api.org_names(&owner).await? == [ORG],
        "GET /v2/orgs for demo's owner"
    );
    api.get("/v2/orgs/other", &other).await?.ok()?;

    // Everything of demo is 404 for other's owner, and nothing changes.
    let hidden_gets = [
        format!("/v2/orgs/{ORG}"),
        format!("/v2/org/{ORG}/teams"),
        format!("/v2/org/{ORG}/teams/private"),
        format!("/v2/org/{ORG}/users"),
        format!("/v2/org/{ORG}/users/admin@localhost"),
        format!("/v2/org/{ORG}/team/private/users"),
        format!("/v2/org/{ORG}/permissions"),
        format!("/v2/org/{ORG}/team/private/permissions"),
        format!("/v3/orgs/{ORG}/users/admin@localhost"),
    ];
    for path in &hidden_gets {
        api.get(path, &other)
            .await?
            .refused(404)
            .with_context(|| format!("other's owner, GET {path}"))?;
    }
    create_team(&api, &other, "intruders")
        .await?
        .refused(404)
        .context("other's owner creating a team in demo")?;
    add_user(&api, &other, Ctx::Org, "mole@other.io", &["REGISTRY_READ"])
        .await?
        .refused(404)
        .context("other's owner adding a user to demo")?;
    add_user(
        &api,
        &other,
        Ctx::Team("private"),
        "mole@other.io",
        &["REGISTRY_READ"],
    )
    .await?
    .refused(404)
    .context("other's owner adding a user to demo/private")?;
    api.delete(&format!("/v3/orgs/{ORG}/users/admin@localhost"), &other)
        .await?
        .refused(404)
        .context("other's owner removing demo's owner")?;
    api.patch(
        &format!("/v3/keys/{demo_key_id}"),
        &other,
        Some(json!({"active": false})),
    )
    .await?
    .refused(404)
    .context("other's owner deactivating demo's owner's key")?;
    api.delete(&format!("/v3/keys/{demo_key_id}"), &other)
        .await?
        .refused(404)
        .context("other's owner deleting demo's owner's key")?;
    ensure!(
        !api.team_names(&owner).await?.contains("intruders"),
        "a team was created in demo by other's owner"
    );
    let members = api.member_emails(&owner, None).await?;
    ensure!(
        !members.contains("mole@other.io") && !members.contains("o@other.io"),
        "demo's members include other's people: {members:?}"
    );
    api.get("/v2/users/me", &owner).await?.ok()?;

    // And the other way round.
    for path in [
        "/v2/orgs/other".to_string(),
        "/v2/org/other/teams".to_string(),
        "/v2/org/other/users".to_string(),
        "/v2/org/other/permissions".to_string(),
    ] {
        api.get(&path, &owner)
            .await?
            .refused(404)
            .with_context(|| format!("demo's owner, GET {path}"))?;
    }
    Ok(api)
}

// =============================================================================================
// 5. No secret in the logs (R-KEY-5, R-KEY-8)
// =============================================================================================

/// The key prefixes of R-KEY-5 (personal, service, legacy).
const KEY_PREFIXES: [&str; 3] = ["arca_pk_", "arca_sk_", "arca_lk_"];

/// Every place in `text` that leaks something: one of `secrets`, or a key prefix followed by
/// secret characters.
fn leaks(text: &str, secrets: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    let line_of = |pos: usize| {
        let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        text[start..end].to_string()
    };
    for secret in secrets {
        // Tokens are `v1.<claims>.<signature>`: the signature alone is the secret part.
        let mut needles = vec![secret.as_str()];
        if let Some((_, sig)) = secret.rsplit_once('.') {
            if sig.len() >= 16 {
                needles.push(sig);
            }
        }
        for needle in needles {
            if let Some(pos) = text.find(needle) {
                found.push(format!(
                    "a secret ({}…) in: {}",
                    &secret[..secret.len().min(10)],
                    line_of(pos)
                ));
            }
        }
    }
    for prefix in KEY_PREFIXES {
        let mut from = 0;
        while let Some(i) = text[from..].find(prefix) {
            let pos = from + i;
            let after = &text[pos + prefix.len()..];
            if after
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                found.push(format!("a key-looking {prefix}… in: {}", line_of(pos)));
            }
            from = pos + prefix.len();
        }
    }
    found
}

/// Checks the standard error of every process `server` ran against every secret collected.
fn assert_no_secret_in_logs(server: &Server, secrets: &Secrets) -> Result<()> {
    let secrets = secrets.lock().expect("secrets lock").clone();
    ensure!(
        !secrets.is_empty(),
        "no secret was collected: nothing to look for"
    );
    let mut found = Vec::new();
    for (i, run) in server.runs().iter().enumerate() {
        let raw = run.stderr();
        let log = run.log();
        ensure!(
            log.contains("request served"),
            "run {i} logged no request: the check would be vacuous\n{log}"
        );
        for (what, text) in [("raw stderr", &raw), ("log", &log)] {
            for leak in leaks(text, &secrets) {
                found.push(format!("run {i} {what}: {leak}"));
            }
        }
    }
    ensure!(
        found.is_empty(),
        "{} leak(s) in the server's logs ({} secrets looked for):\n{}",
        found.len(),
        secrets.len(),
        found.join("\n")
    );
    Ok(())
}

fn new_secrets(server: &Server) -> Secrets {
    let secrets: Secrets = Arc::default();
    secrets
        .lock()
        .expect("secrets lock")
        .insert(server.key().to_string());
    secrets
}

fn report(failures: Vec<String>) -> Result<()> {
    if failures.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} mismatch(es) with guide §2.4.1 / SPEC R-TEN:\n{}",
            failures.len(),
            failures.join("\n")
        )
    }
}

// =============================================================================================
// The tests
// =============================================================================================

/// R-TEN-2, R-TEN-4, R-TEN-5, R-TEN-6, R-TEN-7: every row of guide §2.4.1 for every role, at
/// org level (in the org and in both teams) and at team level (in its team; 404 elsewhere).
#[tokio::test]
async fn capability_matrix_follows_guide_2_4_1() -> Result<()> {
    let server = Server::start().await?;
    let secrets = new_secrets(&server);
    let api = Api::new(&server, &secrets);
    let failures = scenario_matrix(&api, server.key()).await?;
    report(failures)?;
    assert_no_secret_in_logs(&server, &secrets)
}

/// R-KEY-1, R-KEY-2, R-TEN-2, R-TEN-4, R-TEN-5: each limit is enforced with a clear error and
/// no state change.
#[tokio::test]
async fn limits_are_enforced_without_state_change() -> Result<()> {
    let server = Server::start().await?;
    let secrets = new_secrets(&server);
    let api = Api::new(&server, &secrets);
    scenario_limits(&api, server.key()).await?;
    assert_no_secret_in_logs(&server, &secrets)
}

/// R-TEN-8, R-KEY-3, R-KEY-4, R-KEY-7: removal, deactivation, rotation, deletion and legacy
/// regeneration take effect on the very next request, for keys and their tokens.
#[tokio::test]
async fn revocation_takes_effect_on_the_next_request() -> Result<()> {
    let server = Server::start().await?;
    let secrets = new_secrets(&server);
    let api = Api::new(&server, &secrets);
    scenario_revocation(&api, server.key()).await?;
    assert_no_secret_in_logs(&server, &secrets)
}

/// R-TEN-1, R-TEN-7: a second org bootstrapped into the same data dir sees nothing of `demo`,
/// and the other way round.
#[tokio::test]
async fn orgs_are_isolated() -> Result<()> {
    let mut server = Server::start().await?;
    let secrets = new_secrets(&server);
    scenario_isolation(&mut server, &secrets).await?;
    assert_no_secret_in_logs(&server, &secrets)
}

/// R-KEY-5, R-KEY-8: after everything above in one server (debug logging, two processes on
/// one data dir), no key secret or token issued during the run appears in its logs.
#[tokio::test]
async fn no_secret_in_logs_after_a_full_run() -> Result<()> {
    let mut server = Server::builder().env("ARCA_LOG", "debug").start().await?;
    let secrets = new_secrets(&server);
    let owner = server.key().to_string();
    {
        let api = Api::new(&server, &secrets);
        report(scenario_matrix(&api, &owner).await?)?;
        scenario_revocation(&api, &owner).await?;
        scenario_limits(&api, &owner).await?;
    }
    let api = scenario_isolation(&mut server, &secrets).await?;
    // One more authenticated round after the restart, so the second run logs requests too.
    let _ = api.token(&owner).await?;
    let n = secrets.lock().expect("secrets lock").len();
    ensure!(
        n >= 80,
        "only {n} secrets collected: the run did not do what it should"
    );
    assert_no_secret_in_logs(&server, &secrets)
}

/// The log scanner itself finds what it must (so a clean log means something).
#[test]
fn the_leak_scanner_finds_secrets_and_key_prefixes() {
    let secret = "arca_pk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ_abcd".to_string();
    let token = "v1.eyJrZXkiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc".to_string();
    let secrets: BTreeSet<String> = [secret.clone(), token.clone()].into();
    assert!(leaks("INFO request served status=200\n", &secrets).is_empty());
    assert!(leaks("the prefix arca_pk_ marks personal keys\n", &secrets).is_empty());
    assert_eq!(leaks(&format!("x {secret} y\n"), &secrets).len(), 2);
    assert_eq!(leaks(&format!("auth=Bearer {token}\n"), &secrets).len(), 2);
    let sig = token.rsplit_once('.').unwrap().1;
    assert_eq!(leaks(&format!("sig={sig}\n"), &secrets).len(), 1);
    for prefix in KEY_PREFIXES {
        assert_eq!(leaks(&format!("k={prefix}Zz9\n"), &secrets).len(), 1);
    }
}
