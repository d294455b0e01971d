-- Per-tenant settings of what the tenant publishes about itself and how its tokens look.
--
-- token_profile: the shape of the tenant's access tokens. 'seed' (the default, so every existing
-- tenant keeps the seed document's tokens byte for byte) or 'rfc9068' (RFC 9068 JWT access
-- tokens: typ at+jwt, a client_id claim, scope as a space-separated string). The CHECK keeps a
-- value no server knows out of the table, so a snapshot load never meets one.
ALTER TABLE tenants ADD COLUMN token_profile TEXT NOT NULL DEFAULT 'seed'
    CHECK (token_profile IN ('seed', 'rfc9068'));
-- publish_scopes: whether the discovery document lists scopes_supported (1, the default) or
-- leaves it out (0), for tenants whose scope names are not for everyone to read.
ALTER TABLE tenants ADD COLUMN publish_scopes INTEGER NOT NULL DEFAULT 1
    CHECK (publish_scopes IN (0, 1));
