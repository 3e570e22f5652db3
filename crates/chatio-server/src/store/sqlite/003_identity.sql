-- Refresh-token families (G11) and remembered browsers (G36), so that a restart keeps
-- signed-in customers signed in. Secrets are kept as their SHA-256 only.

-- One row per family; the oldest families of a customer past the per-customer bound go.
CREATE TABLE refresh_families (
    id INTEGER PRIMARY KEY,
    license INTEGER NOT NULL,
    customer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX refresh_families_by_customer ON refresh_families (license, customer, id);
CREATE INDEX refresh_families_by_expiry ON refresh_families (expires_at);

-- A family's digests: the current secret (the highest `seq`) and the last rotated ones,
-- kept to recognise a reuse.
CREATE TABLE refresh_digests (
    hash BLOB PRIMARY KEY,
    family INTEGER NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX refresh_digests_by_family ON refresh_digests (family, seq);

-- The accounts page's cookie secrets; `id` orders a customer's browsers, oldest first.
CREATE TABLE browsers (
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    license INTEGER NOT NULL,
    customer TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX browsers_by_customer ON browsers (license, customer, id);
CREATE INDEX browsers_by_expiry ON browsers (expires_at);
