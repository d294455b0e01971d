-- latchkey's schema on PostgreSQL: the same tables and meaning as the SQLite schema as its
-- migrations leave it (see migrations/sqlite/ for why each column exists), in PostgreSQL's types.
-- Times are unix seconds (BIGINT). Lists of scopes, grant types and audiences are
-- space-separated text, as on SQLite, so both backends share one decoding (src/columns.rs).

CREATE TABLE tenants (
    name               TEXT PRIMARY KEY,
    issuer             TEXT,
    token_profile      TEXT NOT NULL DEFAULT 'seed' CHECK (token_profile IN ('seed', 'rfc9068')),
    publish_scopes     BOOLEAN NOT NULL DEFAULT TRUE,
    -- The longest token TTL any app of the tenant has ever had (kept by a trigger; only grows).
    max_token_ttl_seen BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
INSERT INTO tenants (name, issuer, created_at, updated_at)
    VALUES ('default', NULL, extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint);

CREATE TABLE tenant_domains (
    domain   TEXT PRIMARY KEY,
    tenant   TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    position BIGINT NOT NULL
);
CREATE INDEX tenant_domains_by_tenant ON tenant_domains (tenant, position);

CREATE TABLE apps (
    client_id             TEXT PRIMARY KEY,
    tenant                TEXT NOT NULL REFERENCES tenants (name),
    name                  TEXT NOT NULL,
    app_type              TEXT NOT NULL CHECK (app_type IN ('m2m', 'web', 'spa', 'native')),
    enabled               BOOLEAN NOT NULL DEFAULT TRUE,
    scopes                TEXT NOT NULL DEFAULT '',
    default_scopes        TEXT NOT NULL DEFAULT '',
    grant_types           TEXT NOT NULL DEFAULT '',
    token_ttl             BIGINT NOT NULL,
    can_introspect        BOOLEAN NOT NULL DEFAULT FALSE,
    tokens_revoked_before BIGINT,
    token_reuse_percent   BIGINT CHECK (token_reuse_percent BETWEEN 1 AND 100),
    audiences             TEXT NOT NULL DEFAULT '',
    custom_claims         TEXT,
    revision              BIGINT NOT NULL DEFAULT 1,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX apps_by_tenant ON apps (tenant, name, client_id);

CREATE TABLE app_secrets (
    id          BIGSERIAL PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    secret_hash BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT
);
CREATE INDEX app_secrets_by_client ON app_secrets (client_id, id);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    -- Insertion order, for listing keys created in the same second.
    position      BIGSERIAL,
    tenant        TEXT NOT NULL REFERENCES tenants (name),
    alg           TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('next', 'active', 'retiring', 'retired')),
    private_key   BYTEA NOT NULL,
    master_key_id TEXT,
    created_at    BIGINT NOT NULL,
    activated_at  BIGINT,
    activate_at   BIGINT,
    retire_at     BIGINT,
    retired_at    BIGINT
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (tenant) WHERE status = 'active';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (tenant) WHERE status = 'next';

CREATE TABLE revoked_tokens (
    tenant     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    client_id  TEXT,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, jti)
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
CREATE INDEX revoked_tokens_by_jti ON revoked_tokens (jti);

CREATE TABLE audit_events (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    tenant  TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_by_time ON audit_events (at, id);
CREATE INDEX audit_events_by_tenant ON audit_events (tenant, at, id);

-- The change log servers follow. A plain sequence hands out numbers in the order transactions
-- draw them, not the order they commit, so every appending transaction first takes one
-- transaction-level advisory lock (held to its commit or rollback): numbers are then drawn in
-- commit order, which is the ordering contract of the `Store` trait. latchkey's own writes
-- take the same lock as their first statement (so that the lock is never awaited while
-- holding row locks); the trigger takes it again for any other writer.
CREATE TABLE changes (
    seq       BIGSERIAL PRIMARY KEY,
    entity    TEXT NOT NULL CHECK (entity IN ('app', 'key', 'tenant', 'revocation')),
    tenant    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX changes_by_time ON changes (at);

CREATE FUNCTION latchkey_append_change(p_entity TEXT, p_tenant TEXT, p_id TEXT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- The key is latchkey's change-log lock; src/postgres/write.rs takes the same one.
    PERFORM pg_advisory_xact_lock(4120394357286117377);
    INSERT INTO changes (entity, tenant, entity_id, at)
        VALUES (p_entity, p_tenant, p_id, extract(epoch FROM now())::bigint);
END $$;

CREATE FUNCTION apps_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM latchkey_append_change('app', OLD.tenant, OLD.client_id);
        RETURN OLD;
    END IF;
    PERFORM latchkey_append_change('app', NEW.tenant, NEW.client_id);
    IF NEW.token_ttl > (SELECT max_token_ttl_seen FROM tenants WHERE name = NEW.tenant) THEN
        UPDATE tenants SET max_token_ttl_seen = NEW.token_ttl WHERE name = NEW.tenant;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER apps_changed AFTER INSERT OR UPDATE OR DELETE ON apps
    FOR EACH ROW EXECUTE FUNCTION apps_changed();

CREATE FUNCTION app_secrets_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    id TEXT := CASE WHEN TG_OP = 'DELETE' THEN OLD.client_id ELSE NEW.client_id END;
BEGIN
    -- A secret deleted with its app finds no app: the app's own change announces it.
    PERFORM latchkey_append_change('app', a.tenant, a.client_id) FROM apps a WHERE a.client_id = id;
    RETURN NULL;
END $$;
CREATE TRIGGER app_secrets_changed AFTER INSERT OR UPDATE OR DELETE ON app_secrets
    FOR EACH ROW EXECUTE FUNCTION app_secrets_changed();

CREATE FUNCTION signing_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM latchkey_append_change('key', OLD.tenant, OLD.kid);
    ELSE
        PERFORM latchkey_append_change('key', NEW.tenant, NEW.kid);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION signing_keys_changed();

-- A tenant's own rows and its domains are both announced as a change of the tenant.
CREATE FUNCTION tenant_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    name TEXT;
BEGIN
    IF TG_TABLE_NAME = 'tenants' THEN
        name := CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END;
    ELSE
        name := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant ELSE NEW.tenant END;
    END IF;
    PERFORM latchkey_append_change('tenant', name, name);
    RETURN NULL;
END $$;
-- max_token_ttl_seen is bookkeeping, not a setting: its updates are not announced.
CREATE TRIGGER tenants_changed AFTER INSERT OR DELETE OR UPDATE OF name, issuer, token_profile, publish_scopes, created_at, updated_at ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenant_changed();
CREATE TRIGGER tenant_domains_changed AFTER INSERT OR UPDATE OR DELETE ON tenant_domains
    FOR EACH ROW EXECUTE FUNCTION tenant_changed();

CREATE FUNCTION revoked_tokens_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM latchkey_append_change('revocation', NEW.tenant, NEW.jti);
    RETURN NULL;
END $$;
CREATE TRIGGER revoked_tokens_inserted AFTER INSERT ON revoked_tokens
    FOR EACH ROW EXECUTE FUNCTION revoked_tokens_inserted();
