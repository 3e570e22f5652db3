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

    /// What a restart needs of it: (`accepting_chats` while logged in, logged in or in its
    /// grace period, since when it is gone).
    pub(crate) fn stored(&self) -> (bool, bool, Option<u64>) {
        (self.status != RoutingStatus::NotAcceptingChats, self.online, self.gone_since)
    }

    /// The presence put back after a restart at `now`, from [`stored`](Self::stored): no
    /// connection survived it, so an agent that was logged in is in its grace period —
    /// since `gone_since` when it was already running, else from `now` (its connections
    /// closed with the old process).
    pub(crate) fn restored(accepting: bool, online: bool, gone_since: Option<u64>, now: u64) -> Self {
        let status = if accepting { RoutingStatus::AcceptingChats } else { RoutingStatus::NotAcceptingChats };
        Self { connections: 0, status, online, gone_since: online.then(|| gone_since.unwrap_or(now)) }
    }

    /// When its grace period started, while it runs.
    pub(crate) fn gone_since(&self) -> Option<u64> {
        self.gone_since
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

    #[test]
    fn a_restart_keeps_the_status_and_resumes_or_starts_the_grace_period() {
        let mut p = Presence::default();
        p.login(false);
        p.set_status(NotAcceptingChats);
        // Connected at the restart: its grace period starts when the server starts again.
        let (accepting, online, gone) = p.stored();
        let mut back = Presence::restored(accepting, online, gone, 500);
        assert_eq!((back.visible(), back.connections(), back.gone_since()), (NotAcceptingChats, 0, Some(500)));
        assert!(!back.grace_over(529, 30) && back.grace_over(530, 30));
        assert_eq!(back.login(true), Change::None, "a reconnect inside the grace period changes nothing");
        // In its grace period at the restart: it goes on from when it started.
        p.connection_closed(100);
        let (accepting, online, gone) = p.stored();
        let back = Presence::restored(accepting, online, gone, 500);
        assert_eq!(back.gone_since(), Some(100));
        assert!(back.grace_over(500, 30));
        // Offline at the restart: offline, no grace period.
        p.go_offline();
        let (accepting, online, gone) = p.stored();
        let back = Presence::restored(accepting, online, gone, 500);
        assert_eq!((back.visible(), back.gone_since()), (Offline, None));
    }
}
