"""Fills a latchkey SQLite database (already created and migrated by latchkey) with N bench apps:
client ids bench-<i>, secrets secret-<i> (stored as SHA-256, as latchkey stores them), scope
`bench`. Writing rows directly is what makes 1,000,000 apps take seconds instead of hours; the
change log rows the triggers add are dropped, as a server starting afterwards loads everything."""
import hashlib
import sqlite3
import sys
import time

path, count = sys.argv[1], int(sys.argv[2])
reuse = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] != "0" else None
now = int(time.time())
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=OFF")
with db:
    db.executemany(
        "INSERT INTO apps (client_id, tenant, name, app_type, enabled, scopes, default_scopes, grant_types,"
        " token_ttl, can_introspect, token_reuse_percent, revision, created_at, updated_at)"
        " VALUES (?, 'default', ?, 'm2m', 1, 'bench', '', 'client_credentials', 300, 0, ?, 1, ?, ?)",
        ((f"bench-{i}", f"bench {i}", reuse, now, now) for i in range(count)),
    )
    db.executemany(
        "INSERT INTO app_secrets (client_id, secret_hash, created_at, expires_at) VALUES (?, ?, ?, NULL)",
        ((f"bench-{i}", hashlib.sha256(f"secret-{i}".encode()).digest(), now) for i in range(count)),
    )
    db.execute("DELETE FROM changes")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
