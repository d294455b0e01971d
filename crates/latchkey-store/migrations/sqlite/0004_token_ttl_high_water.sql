-- The longest token TTL any app of a tenant has ever had. A retiring signing key stays published
-- until every token it signed has expired, and the apps' current TTLs do not bound that: an app
-- may have been given a shorter TTL after it received longer-lived tokens. The triggers keep the
-- mark on every write path; it only ever grows.
ALTER TABLE tenants ADD COLUMN max_token_ttl_seen INTEGER NOT NULL DEFAULT 0;
UPDATE tenants SET max_token_ttl_seen =
    coalesce((SELECT max(token_ttl) FROM apps WHERE apps.tenant = tenants.name), 0);

CREATE TRIGGER apps_ttl_seen_inserted AFTER INSERT ON apps
WHEN NEW.token_ttl > (SELECT max_token_ttl_seen FROM tenants WHERE name = NEW.tenant) BEGIN
    UPDATE tenants SET max_token_ttl_seen = NEW.token_ttl WHERE name = NEW.tenant;
END;
CREATE TRIGGER apps_ttl_seen_updated AFTER UPDATE OF token_ttl ON apps
WHEN NEW.token_ttl > (SELECT max_token_ttl_seen FROM tenants WHERE name = NEW.tenant) BEGIN
    UPDATE tenants SET max_token_ttl_seen = NEW.token_ttl WHERE name = NEW.tenant;
END;
