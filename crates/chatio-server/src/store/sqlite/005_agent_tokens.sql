-- Access tokens the server issued to agents by sign-in (agent protocol file H9, H10), so that
-- a restart keeps signed-in agents signed in. Only the SHA-256 of a token is kept; `seq`
-- orders them by issue (the oldest of an agent goes past the per-agent bound).
CREATE TABLE agent_tokens (
    seq INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    license INTEGER NOT NULL,
    agent TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
