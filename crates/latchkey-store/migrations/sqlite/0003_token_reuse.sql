-- Token reuse (opt-in per app): an identical request gets the token the app already holds while
-- at least this percentage of the token's life remains. NULL: every request gets a new token.
ALTER TABLE apps ADD COLUMN token_reuse_percent INTEGER CHECK (token_reuse_percent BETWEEN 1 AND 100);
