-- Files count the events that refer to them, and know when they were stored, so that a
-- file nothing refers to can expire and one whose last event is deleted goes with it.
ALTER TABLE files ADD COLUMN created INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN refs INTEGER NOT NULL DEFAULT 0;

-- Files already stored: from now, and referred to by the events that name them (a `file`
-- event's url, a rich message's images), counted in one pass over those events.
UPDATE files SET created = CAST(strftime('%s', 'now') AS INTEGER);
CREATE TEMP TABLE refs_004 (path TEXT NOT NULL);
INSERT INTO refs_004 (path)
    SELECT substr(u, instr(u, '/api/file/chatio/'))
    FROM (SELECT json_extract(body, '$.url') AS u FROM events WHERE type = 'file')
    WHERE instr(u, '/api/file/chatio/') > 0;
INSERT INTO refs_004 (path)
    SELECT substr(u, instr(u, '/api/file/chatio/'))
    FROM (SELECT json_extract(el.value, '$.image.url') AS u
          FROM events, json_each(events.body, '$.elements') AS el
          WHERE events.type = 'rich_message')
    WHERE instr(u, '/api/file/chatio/') > 0;
CREATE INDEX temp.refs_004_by_path ON refs_004 (path);
UPDATE files SET refs = (SELECT count(*) FROM refs_004 WHERE refs_004.path = files.path);
DROP TABLE refs_004;

CREATE INDEX files_unreferenced ON files (created) WHERE refs = 0;
