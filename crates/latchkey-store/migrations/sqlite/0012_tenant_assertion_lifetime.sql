-- max_assertion_lifetime: the longest lifetime, in seconds, the tenant accepts of a
-- private_key_jwt client assertion. NULL (every existing tenant) means the default, which is
-- also the ceiling: one hour, as long as the replay cache remembers a jti. The CHECK keeps a
-- value above that ceiling, or one that refuses everything, out of the table.
ALTER TABLE tenants ADD COLUMN max_assertion_lifetime INTEGER
    CHECK (max_assertion_lifetime BETWEEN 1 AND 3600);
