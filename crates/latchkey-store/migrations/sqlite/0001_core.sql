-- The core schema: tenants, apps and their secrets, signing keys, and the change log that lets
-- running servers follow writes made by other processes (the CLI, other nodes).
-- Times are unix seconds. Lists of scopes and grant types are space-separated text: neither an
-- RFC 6749 scope token nor a grant type name can contain a space.

-- Every app and key belongs to a tenant. `default` always exists; a NULL issuer means "the
-- --issuer of `latchkey serve`".
CREATE TABLE tenants (
    name       TEXT PRIMARY KEY NOT NULL,
    issuer     TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO tenants (name, issuer, created_at, updated_at) VALUES ('default', NULL, unixepoch(), unixepoch());

CREATE TABLE apps (
    client_id      TEXT PRIMARY KEY NOT NULL,
    tenant         TEXT NOT NULL REFERENCES tenants (name),
    name           TEXT NOT NULL,
    app_type       TEXT NOT NULL CHECK (app_type IN ('m2m', 'web', 'spa', 'native')),
    enabled        INTEGER NOT NULL DEFAULT 1,
    scopes         TEXT NOT NULL DEFAULT '',
    default_scopes TEXT NOT NULL DEFAULT '',
    grant_types    TEXT NOT NULL DEFAULT '',
    token_ttl      INTEGER NOT NULL,
    -- Bumped by every update; writers compare it to refuse lost updates.
    revision       INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX apps_by_tenant ON apps (tenant, name);

-- Only hashes are stored (SHA-256 of a 256-bit random secret; see ARCHITECTURE.md). More than one
-- row per app exists only during a rotation grace period, the old one with an expires_at.
CREATE TABLE app_secrets (
    id          INTEGER PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
);
CREATE INDEX app_secrets_by_client ON app_secrets (client_id);

CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY NOT NULL,
    tenant       TEXT NOT NULL REFERENCES tenants (name),
    alg          TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('next', 'active', 'retiring', 'retired')),
    private_key  BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    activated_at INTEGER,
    retired_at   INTEGER
);
-- A tenant signs with exactly one key at a time; this also makes "create the first key" safe when
-- two servers start at once.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (tenant) WHERE status = 'active';

-- Every write to the tables above appends a row here (by the triggers below, so no write path can
-- forget). Servers poll for rows after the last seq they applied and reload only what changed.
-- AUTOINCREMENT keeps seq strictly increasing even after old rows are purged.
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    entity    TEXT NOT NULL CHECK (entity IN ('app', 'key', 'tenant', 'revocation')),
    tenant    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX changes_by_time ON changes (at);

CREATE TRIGGER apps_inserted AFTER INSERT ON apps BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('app', NEW.tenant, NEW.client_id, unixepoch());
END;
CREATE TRIGGER apps_updated AFTER UPDATE ON apps BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('app', NEW.tenant, NEW.client_id, unixepoch());
END;
CREATE TRIGGER apps_deleted AFTER DELETE ON apps BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('app', OLD.tenant, OLD.client_id, unixepoch());
END;
CREATE TRIGGER app_secrets_inserted AFTER INSERT ON app_secrets BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at)
    SELECT 'app', tenant, client_id, unixepoch() FROM apps WHERE client_id = NEW.client_id;
END;
CREATE TRIGGER app_secrets_updated AFTER UPDATE ON app_secrets BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at)
    SELECT 'app', tenant, client_id, unixepoch() FROM apps WHERE client_id = NEW.client_id;
END;
CREATE TRIGGER app_secrets_deleted AFTER DELETE ON app_secrets BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at)
    SELECT 'app', tenant, client_id, unixepoch() FROM apps WHERE client_id = OLD.client_id;
END;
CREATE TRIGGER signing_keys_inserted AFTER INSERT ON signing_keys BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('key', NEW.tenant, NEW.kid, unixepoch());
END;
CREATE TRIGGER signing_keys_updated AFTER UPDATE ON signing_keys BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('key', NEW.tenant, NEW.kid, unixepoch());
END;
CREATE TRIGGER signing_keys_deleted AFTER DELETE ON signing_keys BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('key', OLD.tenant, OLD.kid, unixepoch());
END;
CREATE TRIGGER tenants_inserted AFTER INSERT ON tenants BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('tenant', NEW.name, NEW.name, unixepoch());
END;
CREATE TRIGGER tenants_updated AFTER UPDATE ON tenants BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('tenant', NEW.name, NEW.name, unixepoch());
END;
CREATE TRIGGER tenants_deleted AFTER DELETE ON tenants BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('tenant', OLD.name, OLD.name, unixepoch());
END;
