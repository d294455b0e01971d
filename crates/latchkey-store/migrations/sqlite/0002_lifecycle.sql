-- Token lifecycle: introspection permission, revocation, key rotation and keys sealed by a
-- master key.

-- An app may introspect other apps' tokens only with this permission (it can always introspect
-- its own). tokens_revoked_before: every token of the app issued at or before this second is
-- revoked (`latchkey token revoke --app`).
ALTER TABLE apps ADD COLUMN can_introspect INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN tokens_revoked_before INTEGER;

-- Revoked token ids, kept until the token would have expired anyway (expires_at), then purged:
-- the list never holds more than the tokens still alive.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    tenant     TEXT NOT NULL,
    client_id  TEXT,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
CREATE TRIGGER revoked_tokens_inserted AFTER INSERT ON revoked_tokens BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('revocation', NEW.tenant, NEW.jti, unixepoch());
END;

-- private_key is now AES-256-GCM ciphertext sealed by the master key named here (NULL only for
-- keys written before this migration, which the server seals on start). retire_at: when a
-- retiring key leaves the JWKS (every token it signed has expired by then).
ALTER TABLE signing_keys ADD COLUMN master_key_id TEXT;
ALTER TABLE signing_keys ADD COLUMN retire_at INTEGER;
-- At most one key waits to become active per tenant, so concurrent nodes cannot both add one.
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (tenant) WHERE status = 'next';
