//! An agent's presence and routing status over its connections (protocol file H21, H33):
//! logged in while it has a logged-in connection, and for a grace period after the last
//! one closed; then offline, and routing takes its active chats back. Pure: the time comes
//! in as Unix seconds.

use super::routing::RoutingStatus;

/// The presence of one agent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Presence {
    /// Logged-in RTM connections.
    connections: usize,
    /// The status while logged in (kept through the grace period, restored by a
    /// `reconnect: true` login).
    status: RoutingStatus,
    /// Whether it counts as logged in (connections, or inside the grace period).
    online: bool,
    /// When its last connection closed, while the grace period runs.
    gone_since: Option<u64>,
}

/// What a change did to the status others see (`agent_updated`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing others see.
    None,
    /// The status changed to this (push `agent_updated`; routing may run).
    Status(RoutingStatus),
}

impl Presence {
    /// A connection logged in. `reconnect` keeps the last status (H21); otherwise the
    /// status becomes `accepting_chats`.
    pub(crate) fn login(&mut self, reconnect: bool) -> Change {
        self.connections += 1;
        self.gone_since = None;
        let before = self.visible();
        if !(reconnect && self.online) {
            self.status = if reconnect && self.status != RoutingStatus::Offline {
                self.status
            } else {
                RoutingStatus::AcceptingChats
            };
        }
        self.online = true;
        self.changed(before)
    }

    /// A logged-in connection closed at `now`; the last one starts the grace period.
    pub(crate) fn connection_closed(&mut self, now: u64) {
        self.connections = self.connections.saturating_sub(1);
        if self.connections == 0 && self.online {
            self.gone_since = Some(now);
        }
    }

    /// Whether the grace period is over at `now`: the agent goes offline (call
    /// [`go_offline`](Self::go_offline), then take its chats back).
    pub(crate) fn grace_over(&self, now: u64, grace: u64) -> bool {
        self.gone_since.is_some_and(|since| now >= since.saturating_add(grace))
    }

    /// The agent goes offline (grace over, logged out remotely, deleted).
    pub(crate) fn go_offline(&mut self) -> Change {
        let before = self.visible();
        self.online = false;
        self.gone_since = None;
        self.changed(before)
    }

    /// `update_agent` set the status (only `accepting_chats` / `not_accepting_chats`).
    pub(crate) fn set_status(&mut self, status: RoutingStatus) -> Change {
        let before = self.visible();
        self.status = status;
        self.changed(before)
    }

    /// The status others see: `offline` when not logged in.
    pub(crate) fn visible(&self) -> RoutingStatus {
        if self.online { self.status } else { RoutingStatus::Offline }
    }

    /// Whether routing may give it chats now.
    pub(crate) fn accepting(&self) -> bool {
        self.visible() == RoutingStatus::AcceptingChats
    }

    /// Logged-in connections.
    pub(crate) fn connections(&self) -> usize {
        self.connections
    }

    fn changed(&self, before: RoutingStatus) -> Change {
        let now = self.visible();
        if now == before { Change::None } else { Change::Status(now) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RoutingStatus::*;

    #[test]
    fn login_status_grace_and_reconnect() {
        let mut p = Presence::default();
        assert_eq!(p.visible(), Offline);
        assert_eq!(p.login(false), Change::Status(AcceptingChats));
        assert_eq!(p.set_status(NotAcceptingChats), Change::Status(NotAcceptingChats));
        assert_eq!(p.login(false), Change::Status(AcceptingChats), "a plain login resets the status");
        p.set_status(NotAcceptingChats);
        p.connection_closed(100);
        assert_eq!(p.connections(), 1);
        p.connection_closed(100);
        assert!(!p.grace_over(129, 30));
        // Back inside the grace period with `reconnect: true`: silently the same status.
        assert_eq!(p.login(true), Change::None);
        assert_eq!(p.visible(), NotAcceptingChats);
        p.connection_closed(200);
        assert!(p.grace_over(230, 30));
        assert_eq!(p.go_offline(), Change::Status(Offline));
        assert!(!p.accepting());
        // After going offline, a reconnect gets the last status it had (H21).
        assert_eq!(p.login(true), Change::Status(NotAcceptingChats));
        p.connection_closed(300);
        p.go_offline();
        assert_eq!(p.login(false), Change::Status(AcceptingChats));
    }
}
