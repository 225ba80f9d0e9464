-- Arca metadata schema (SQLite). Timestamps are RFC 3339 text in UTC; sizes are INTEGER bytes.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    description  TEXT NOT NULL,
    quota        TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org         TEXT NOT NULL REFERENCES orgs(name) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (org, name)
);

CREATE TABLE users (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    email        TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- team = '' for an org-level grant.
CREATE TABLE role_grants (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org     TEXT NOT NULL REFERENCES orgs(name) ON DELETE CASCADE,
    team    TEXT NOT NULL DEFAULT '',
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, org, team, role)
);
CREATE INDEX role_grants_by_org ON role_grants (org, team);

-- owner = the user id as text for personal and legacy keys, '' for service keys; names are
-- unique per (org, owner).
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    org          TEXT NOT NULL REFERENCES orgs(name) ON DELETE CASCADE,
    user_id      INTEGER REFERENCES users(id) ON DELETE CASCADE,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    services     TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    entity       TEXT,
    active       INTEGER NOT NULL,
    expires_at   TEXT,
    created_at   TEXT NOT NULL,
    rotated_at   TEXT,
    last_used_at TEXT,
    UNIQUE (org, owner, name)
);
CREATE INDEX api_keys_by_org ON api_keys (org, owner);

CREATE TABLE blobs (
    digest     TEXT PRIMARY KEY NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE uploads (
    id            TEXT PRIMARY KEY NOT NULL,
    org           TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    backend_state TEXT NOT NULL,
    received      INTEGER NOT NULL,
    expected_size INTEGER,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX uploads_by_updated ON uploads (updated_at);

CREATE TABLE upload_parts (
    upload_id   TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    byte_offset INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    etag        TEXT NOT NULL,
    PRIMARY KEY (upload_id, number)
);
