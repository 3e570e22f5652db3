-- The first schema of the SQLite store. Records are JSON in `data`; the columns beside it
-- are what the queries select and sort by, each with the index its query needs.

CREATE TABLE ids (
    k INTEGER PRIMARY KEY CHECK (k = 0),
    rng INTEGER NOT NULL,
    activity INTEGER NOT NULL,
    created INTEGER NOT NULL
);

CREATE TABLE customers (
    license INTEGER NOT NULL,
    id TEXT NOT NULL,
    banned INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (license, id)
) WITHOUT ROWID;

-- Tokens by the SHA-256 of their secret: reading the database does not reveal them.
CREATE TABLE tokens (
    hash BLOB PRIMARY KEY,
    license INTEGER NOT NULL,
    customer TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_by_customer ON tokens (license, customer);
CREATE INDEX tokens_by_expiry ON tokens (expires_at);

CREATE TABLE agents (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL
);

-- `created` is the chat's position in its customer's list; `activity_seq` orders
-- get_chats_summary.
CREATE TABLE chats (
    license INTEGER NOT NULL,
    id TEXT NOT NULL,
    customer TEXT NOT NULL,
    created INTEGER NOT NULL,
    activity_seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (license, id)
) WITHOUT ROWID;
CREATE INDEX chats_by_creation ON chats (license, customer, created);
CREATE INDEX chats_by_activity ON chats (license, customer, activity_seq);

-- Only a chat's last thread can be active, so `active` finds the idle chats.
CREATE TABLE threads (
    license INTEGER NOT NULL,
    chat TEXT NOT NULL,
    id TEXT NOT NULL,
    ord INTEGER NOT NULL,
    active INTEGER NOT NULL,
    last_activity INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (license, chat, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX threads_by_order ON threads (license, chat, ord);
CREATE INDEX threads_idle ON threads (active, last_activity);

-- Events in chat order; `body` is the event object in the reference form.
CREATE TABLE events (
    license INTEGER NOT NULL,
    chat TEXT NOT NULL,
    ord INTEGER NOT NULL,
    thread TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    agents_only INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (license, chat, ord)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_by_thread ON events (license, chat, thread, ord);
CREATE UNIQUE INDEX events_by_id ON events (license, chat, thread, id);
CREATE INDEX events_by_type ON events (license, chat, type, ord) WHERE agents_only = 0;

-- Files live in the data directory's `files/`; the row names the file there.
CREATE TABLE files (
    path TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    disk TEXT NOT NULL
) WITHOUT ROWID;
