-- The Agent API lists a license's chats (every customer's) by activity.
CREATE INDEX chats_by_license_activity ON chats (license, activity_seq);
