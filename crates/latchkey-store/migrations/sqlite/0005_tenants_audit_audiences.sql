-- Tenants on their own domains, the audit trail, and per-app audiences and custom claims.

-- The hosts a tenant answers on: lower-case, no port. A host belongs to one tenant at most (the
-- primary key), so routing a request by its Host header is never ambiguous. position orders a
-- tenant's domains: the first one gives the tenant's default issuer (https://DOMAIN).
CREATE TABLE tenant_domains (
    domain   TEXT PRIMARY KEY NOT NULL,
    tenant   TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX tenant_domains_by_tenant ON tenant_domains (tenant, position);
-- Domain writes are announced as a change of their tenant, so servers re-route within a poll.
CREATE TRIGGER tenant_domains_inserted AFTER INSERT ON tenant_domains BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('tenant', NEW.tenant, NEW.tenant, unixepoch());
END;
CREATE TRIGGER tenant_domains_deleted AFTER DELETE ON tenant_domains BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('tenant', OLD.tenant, OLD.tenant, unixepoch());
END;

-- Who changed what, when, in which tenant: every admin change (CLI or admin API) and every secret
-- rotation. actor is `cli` or the client_id of the admin app whose token made the request.
-- details is a JSON object of the settings involved; it never holds a secret.
CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    tenant  TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_by_time ON audit_events (at, id);
CREATE INDEX audit_events_by_tenant ON audit_events (tenant, at, id);

-- Audiences an app may name with the RFC 8707 `resource` (or `audience`) parameter,
-- space-separated (an absolute URI has no spaces), and static claims added to its tokens, as a
-- JSON object text (NULL: none).
ALTER TABLE apps ADD COLUMN audiences TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN custom_claims TEXT;
