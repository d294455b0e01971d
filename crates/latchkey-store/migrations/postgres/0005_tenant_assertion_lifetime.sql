-- max_assertion_lifetime: the longest lifetime, in seconds, the tenant accepts of a
-- private_key_jwt client assertion. NULL (every existing tenant) means the default, which is
-- also the ceiling: one hour, as long as the replay cache remembers a jti. The CHECK keeps a
-- value above that ceiling, or one that refuses everything, out of the table.
ALTER TABLE tenants ADD COLUMN max_assertion_lifetime INTEGER
    CHECK (max_assertion_lifetime BETWEEN 1 AND 3600);

-- The trigger names the columns whose updates are announced; the new one is a setting, so it
-- joins them (max_token_ttl_seen, bookkeeping, still does not).
DROP TRIGGER tenants_changed ON tenants;
CREATE TRIGGER tenants_changed AFTER INSERT OR DELETE OR UPDATE OF name, issuer, token_profile, publish_scopes, max_assertion_lifetime, created_at, updated_at ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenant_changed();
