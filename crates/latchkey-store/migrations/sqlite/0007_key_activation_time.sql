-- When a `next` key starts signing, for a rotation scheduled ahead (`latchkey key rotate --in`):
-- every node that loads the key switches to it at this instant, and the first to get there
-- makes it active in the database (a conditional update, so exactly once). NULL for a key that
-- waits for the automatic rotation schedule; kept once the key is active, as a record.
ALTER TABLE signing_keys ADD COLUMN activate_at INTEGER;
