-- Container registry: repositories, blob links, manifests, tags, and per-org usage ledgers.

CREATE TABLE repositories (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org        TEXT NOT NULL REFERENCES orgs(name) ON DELETE CASCADE,
    team       TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    public     INTEGER NOT NULL DEFAULT 0,
    metadata   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org, team, name)
);

CREATE TABLE repo_blobs (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest  TEXT NOT NULL,
    PRIMARY KEY (repo_id, digest)
);

CREATE TABLE manifests (
    repo_id       INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest        TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    size          INTEGER NOT NULL,
    artifact_type TEXT,
    subject       TEXT,
    blobs         TEXT NOT NULL,
    children      TEXT NOT NULL,
    blob_bytes    INTEGER NOT NULL,
    annotations   TEXT NOT NULL,
    platforms     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (repo_id, digest)
);
CREATE INDEX manifests_by_subject ON manifests (repo_id, subject);

CREATE TABLE tags (
    repo_id    INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    digest     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (repo_id, name)
);

CREATE TABLE usage (
    org    TEXT NOT NULL,
    ledger TEXT NOT NULL,
    digest TEXT NOT NULL,
    size   INTEGER NOT NULL,
    PRIMARY KEY (org, ledger, digest)
);
