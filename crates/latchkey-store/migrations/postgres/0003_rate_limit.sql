-- Per-app token quotas. rate_limit is the limit as written (`600/min`: a whole number, a slash,
-- one of s, min, h, d), kept as text so every backend and the export store it alike; NULL: no
-- limit. rate_limit_monitor: the limit only counts and logs, refusing nothing.
ALTER TABLE apps ADD COLUMN rate_limit TEXT;
ALTER TABLE apps ADD COLUMN rate_limit_monitor BOOLEAN NOT NULL DEFAULT false;
