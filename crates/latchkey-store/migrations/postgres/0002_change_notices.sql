-- Every change also wakes the nodes following the log: NOTIFY is delivered when (and only if)
-- the transaction commits, and PostgreSQL folds a transaction's identical notices into one, so
-- a write of many rows wakes each listener once. The log stays the truth; a listener that
-- missed a notice still polls.
CREATE OR REPLACE FUNCTION latchkey_append_change(p_entity TEXT, p_tenant TEXT, p_id TEXT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- The key is latchkey's change-log lock; src/postgres/write.rs takes the same one.
    PERFORM pg_advisory_xact_lock(4120394357286117377);
    INSERT INTO changes (entity, tenant, entity_id, at)
        VALUES (p_entity, p_tenant, p_id, extract(epoch FROM now())::bigint);
    PERFORM pg_notify('latchkey_changes', '');
END $$;
