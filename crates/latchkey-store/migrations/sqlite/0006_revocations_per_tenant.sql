-- A revocation belongs to the tenant it was made in: the same jti revoked in two tenants is two
-- revocations. Keyed by jti alone, a revocation made in one tenant (by an operator or admin of
-- that tenant naming another tenant's jti) would revoke the other tenant's token, or, stored
-- first, swallow that tenant's own later revocation of it.
CREATE TABLE revoked_tokens_by_tenant (
    tenant     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    client_id  TEXT,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, jti)
);
INSERT INTO revoked_tokens_by_tenant (tenant, jti, client_id, expires_at, revoked_at)
    SELECT tenant, jti, client_id, expires_at, revoked_at FROM revoked_tokens;
DROP TABLE revoked_tokens;
ALTER TABLE revoked_tokens_by_tenant RENAME TO revoked_tokens;
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
CREATE INDEX revoked_tokens_by_jti ON revoked_tokens (jti);
CREATE TRIGGER revoked_tokens_inserted AFTER INSERT ON revoked_tokens BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('revocation', NEW.tenant, NEW.jti, unixepoch());
END;
