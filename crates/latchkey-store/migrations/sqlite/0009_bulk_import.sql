-- A whole deployment imported at once (`latchkey db copy`): a million apps must not append two
-- million change rows, one per app and one per secret, that no server needs. An import holds a
-- row in bulk_import for the length of its transaction (SQLite has one writer, so no other
-- write ever sees it), the app and secret triggers stay silent meanwhile, and the import
-- announces each tenant once instead. Every other write finds the table empty and appends as
-- before.
CREATE TABLE bulk_import (
    started_at INTEGER NOT NULL
);

DROP TRIGGER apps_inserted;
CREATE TRIGGER apps_inserted AFTER INSERT ON apps
WHEN NOT EXISTS (SELECT 1 FROM bulk_import) BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at) VALUES ('app', NEW.tenant, NEW.client_id, unixepoch());
END;

DROP TRIGGER app_secrets_inserted;
CREATE TRIGGER app_secrets_inserted AFTER INSERT ON app_secrets
WHEN NOT EXISTS (SELECT 1 FROM bulk_import) BEGIN
    INSERT INTO changes (entity, tenant, entity_id, at)
    SELECT 'app', tenant, client_id, unixepoch() FROM apps WHERE client_id = NEW.client_id;
END;

-- The import sets each tenant's mark once, from its apps' longest TTL.
DROP TRIGGER apps_ttl_seen_inserted;
CREATE TRIGGER apps_ttl_seen_inserted AFTER INSERT ON apps
WHEN NEW.token_ttl > (SELECT max_token_ttl_seen FROM tenants WHERE name = NEW.tenant)
    AND NOT EXISTS (SELECT 1 FROM bulk_import) BEGIN
    UPDATE tenants SET max_token_ttl_seen = NEW.token_ttl WHERE name = NEW.tenant;
END;
