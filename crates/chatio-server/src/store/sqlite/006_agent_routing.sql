-- The agents' routing state (agent protocol file H21, H30, H33), so that a restart keeps it:
-- each agent's status and whether it was logged in or in its grace period (and since when),
-- and each license's queue of chats waiting for an agent, in queue order (`seq`). Rows are
-- bounded by the configured agents and by the chats with an active thread.
CREATE TABLE agent_presence (
    license INTEGER NOT NULL,
    agent TEXT NOT NULL,
    accepting INTEGER NOT NULL,
    online INTEGER NOT NULL,
    gone_since INTEGER,
    PRIMARY KEY (license, agent)
);
CREATE TABLE agent_queue (
    seq INTEGER PRIMARY KEY,
    license INTEGER NOT NULL,
    chat TEXT NOT NULL,
    UNIQUE (license, chat)
);
