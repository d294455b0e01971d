-- Apps without shared secrets. jwks: the app's public keys for private_key_jwt, a JWK Set as
-- compact JSON; jwks_uri: where the app publishes them instead (never both). federation: the
-- external issuers whose tokens are the app's identity, a JSON array of rules. NULL: none.
ALTER TABLE apps ADD COLUMN jwks TEXT;
ALTER TABLE apps ADD COLUMN jwks_uri TEXT;
ALTER TABLE apps ADD COLUMN federation TEXT;
