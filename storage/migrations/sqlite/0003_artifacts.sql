-- Artifacts with versions of files: models, resources and Helm charts (R-MOD, R-HELM).
--
-- kind is the ArtifactKind wire name ('MODEL', 'RESOURCE', 'HELM_CHART'); team = '' for an
-- org-level artifact; metadata is JSON (ArtifactMetadata / VersionMetadata), opaque to
-- queries; status is the VersionStatus wire name. Sizes are INTEGER bytes.

CREATE TABLE artifacts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    org            TEXT NOT NULL REFERENCES orgs(name) ON DELETE CASCADE,
    team           TEXT NOT NULL DEFAULT '',
    name           TEXT NOT NULL,
    metadata       TEXT NOT NULL,
    public         INTEGER NOT NULL DEFAULT 0,
    latest_version TEXT,
    created_by     INTEGER,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (kind, org, team, name)
);

-- Version ids are unique across artifacts (NGC's integer version ids) and grow with creation.
CREATE TABLE artifact_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    version     TEXT NOT NULL,
    status      TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    file_count  INTEGER NOT NULL DEFAULT 0,
    total_size  INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (artifact_id, version)
);
-- Versions of an artifact in creation order, also for one org's versions of a kind (a join
-- from the artifacts' (kind, org, ...) key).
CREATE INDEX artifact_versions_by_artifact ON artifact_versions (artifact_id, id);

CREATE TABLE artifact_files (
    version_id INTEGER NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    digest     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (version_id, path)
);

-- The blobs an artifact holds (uploaded for it or referenced by its versions).
CREATE TABLE artifact_blobs (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    digest      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    PRIMARY KEY (artifact_id, digest)
);
