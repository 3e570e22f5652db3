//! Routing (protocol file §8.2, H30–H33, H37): which agent gets a chat, and the queue of
//! chats nobody could take. Pure: the caller builds a [`Pool`] from the agents' state and
//! the chats' memberships, asks for a choice, and applies it (joins the agent, pushes).
//!
//! **Choice.** Candidates are agents that are logged in (bots: configured, not `offline`),
//! `accepting_chats`, allowed by the chat's scopes (empty scopes: everybody; else a shared
//! group) and under their `max_chats_count` (chats with an active thread they are in).
//! Among them: the best group priority for that chat (`first` > `normal` > `last`), then
//! the fewest active chats, then the longest since their last assignment, then the id, so
//! a choice is deterministic.
//!
//! **Queue.** A chat nobody can take waits in its license's FIFO queue; when an agent
//! becomes available (login, `accepting_chats`, a freed slot) the queue is drained in
//! order, each chat to the best candidate at that moment, until no chat can be placed.
//! A queued chat that can be placed by nobody does not hold up the ones behind it (its
//! scopes may name a group no free agent is in).

use std::collections::{BTreeSet, VecDeque};

/// An agent's routing status (H21, A30).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum RoutingStatus {
    /// Takes new chats.
    #[default]
    AcceptingChats,
    /// Logged in, takes no new chats.
    NotAcceptingChats,
    /// Not logged in (after the grace period, H33), or a bot configured `offline`.
    Offline,
}

/// An agent's priority in one of its groups (CFG); `First` wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum Priority {
    #[cfg_attr(not(test), expect(dead_code, reason = "group priorities come with the agents' configuration file"))]
    First,
    #[default]
    Normal,
    #[cfg_attr(not(test), expect(dead_code, reason = "group priorities come with the agents' configuration file"))]
    Last,
}

/// One agent as routing sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) id: String,
    /// Whether routing may give it a chat now: logged in (or a bot) and `accepting_chats`.
    pub(crate) available: bool,
    /// Its groups and its priority in each (everybody is in group 0 unless configured).
    pub(crate) groups: Vec<(u64, Priority)>,
    /// Chats with an active thread it is a member of.
    pub(crate) active_chats: usize,
    /// Its `max_chats_count`.
    pub(crate) max_chats: usize,
    /// When it was last given a chat (a server-wide sequence; 0: never).
    pub(crate) last_assigned: u64,
}

impl Candidate {
    /// Its priority for a chat with these scope groups, `None` if the scopes exclude it.
    fn priority_for(&self, chat_groups: &BTreeSet<u64>) -> Option<Priority> {
        self.groups.iter().filter(|(g, _)| chat_groups.is_empty() || chat_groups.contains(g)).map(|(_, p)| *p).min()
    }

    fn has_room(&self) -> bool {
        self.available && self.active_chats < self.max_chats
    }
}

/// The agents of one license at one moment.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pool {
    pub(crate) agents: Vec<Candidate>,
}

impl Pool {
    /// The best candidate for a chat with these scope groups, not counting `exclude` (the
    /// chat's current members).
    pub(crate) fn choose(&self, chat_groups: &BTreeSet<u64>, exclude: &[String]) -> Option<&str> {
        self.agents
            .iter()
            .filter(|a| a.has_room() && !exclude.contains(&a.id))
            .filter_map(|a| a.priority_for(chat_groups).map(|p| (p, a)))
            .min_by(|(pa, a), (pb, b)| {
                pa.cmp(pb)
                    .then(a.active_chats.cmp(&b.active_chats))
                    .then(a.last_assigned.cmp(&b.last_assigned))
                    .then(a.id.cmp(&b.id))
            })
            .map(|(_, a)| a.id.as_str())
    }

    /// Records that `agent` was given a chat (at sequence `seq`).
    pub(crate) fn assigned(&mut self, agent: &str, seq: u64) {
        if let Some(a) = self.agents.iter_mut().find(|a| a.id == agent) {
            a.active_chats += 1;
            a.last_assigned = seq;
        }
    }

    /// Whether any agent could take some chat now (the router is dormant otherwise, H37).
    pub(crate) fn anyone_available(&self) -> bool {
        self.agents.iter().any(Candidate::has_room)
    }
}

/// The chats of one license waiting for an agent, oldest first. It keeps a log of what
/// joined and left it, which the store's writer takes ([`take_changes`](Self::take_changes)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Queue<C> {
    waiting: VecDeque<C>,
    /// What changed since the last `take_changes`, in order.
    changes: Vec<QueueChange<C>>,
}

/// A change of a [`Queue`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum QueueChange<C> {
    /// The chat was added at the end.
    Queued(C),
    /// The chat left the queue (placed, taken, closed, gone).
    Left(C),
}

impl<C: PartialEq + Clone> Queue<C> {
    /// The queue put back after a restart: these chats, in this order, no changes.
    pub(crate) fn restored(chats: impl IntoIterator<Item = C>) -> Self {
        Self { waiting: chats.into_iter().collect(), changes: Vec::new() }
    }

    /// Adds a chat at the end (no-op if it already waits).
    pub(crate) fn push(&mut self, chat: C) {
        if !self.waiting.contains(&chat) {
            self.waiting.push_back(chat.clone());
            self.changes.push(QueueChange::Queued(chat));
        }
    }

    /// Removes a chat (taken with `join_chat`, closed, gone); returns whether it waited.
    pub(crate) fn remove(&mut self, chat: &C) -> bool {
        let before = self.waiting.len();
        self.waiting.retain(|c| c != chat);
        let removed = before != self.waiting.len();
        if removed {
            self.changes.push(QueueChange::Left(chat.clone()));
        }
        removed
    }

    /// What changed since the last call, in order.
    pub(crate) fn take_changes(&mut self) -> Vec<QueueChange<C>> {
        std::mem::take(&mut self.changes)
    }

    /// Whether a chat waits.
    pub(crate) fn contains(&self, chat: &C) -> bool {
        self.waiting.contains(chat)
    }

    /// The waiting chats, oldest first.
    pub(crate) fn waiting(&self) -> impl Iterator<Item = &C> {
        self.waiting.iter()
    }

    /// The waiting chats, oldest first.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &C> {
        self.waiting.iter()
    }

    /// Number of waiting chats.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Places as many waiting chats as the pool can take, oldest first. `groups_of` gives a
    /// chat's scope groups and current members (`None`: the chat no longer needs routing,
    /// it leaves the queue). `next_seq` numbers the assignments. Returns (chat, agent) in
    /// the order they were made; the pool is updated as it goes.
    pub(crate) fn drain(
        &mut self,
        pool: &mut Pool,
        mut groups_of: impl FnMut(&C) -> Option<(BTreeSet<u64>, Vec<String>)>,
        mut next_seq: impl FnMut() -> u64,
    ) -> Vec<(C, String)> {
        let mut placed = Vec::new();
        let mut keep = VecDeque::with_capacity(self.waiting.len());
        while let Some(chat) = self.waiting.pop_front() {
            if !pool.anyone_available() {
                keep.push_back(chat);
                continue;
            }
            let Some((groups, members)) = groups_of(&chat) else {
                self.changes.push(QueueChange::Left(chat));
                continue;
            };
            match pool.choose(&groups, &members).map(str::to_owned) {
                Some(agent) => {
                    pool.assigned(&agent, next_seq());
                    self.changes.push(QueueChange::Left(chat.clone()));
                    placed.push((chat, agent));
                }
                None => keep.push_back(chat),
            }
        }
        self.waiting = keep;
        placed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn agent(id: &str, active: usize, max: usize) -> Candidate {
        Candidate {
            id: id.into(),
            available: true,
            groups: vec![(0, Priority::Normal)],
            active_chats: active,
            max_chats: max,
            last_assigned: 0,
        }
    }

    fn none() -> BTreeSet<u64> {
        BTreeSet::new()
    }

    #[test]
    fn the_least_busy_available_agent_under_its_limit_wins() {
        let mut busy = agent("a@x", 2, 6);
        busy.last_assigned = 1;
        let full = agent("b@x", 2, 2);
        let away = Candidate { available: false, ..agent("c@x", 0, 6) };
        let idle = agent("d@x", 1, 6);
        let pool = Pool { agents: vec![busy, full, away, idle] };
        assert_eq!(pool.choose(&none(), &[]), Some("d@x"));
        assert_eq!(pool.choose(&none(), &["d@x".into()]), Some("a@x"), "members are not chosen again");
    }

    #[test]
    fn ties_go_to_the_longest_waiting_then_the_id() {
        let mut a = agent("a@x", 1, 6);
        a.last_assigned = 5;
        let mut b = agent("b@x", 1, 6);
        b.last_assigned = 3;
        let c = agent("c@x", 1, 6);
        let mut pool = Pool { agents: vec![a, b, c] };
        assert_eq!(pool.choose(&none(), &[]), Some("c@x"), "never assigned");
        pool.assigned("c@x", 6);
        assert_eq!(pool.choose(&none(), &[]), Some("b@x"));
        let tie = Pool { agents: vec![agent("z@x", 0, 1), agent("y@x", 0, 1)] };
        assert_eq!(tie.choose(&none(), &[]), Some("y@x"));
    }

    #[test]
    fn scopes_and_group_priority_decide_before_load() {
        let mut first = agent("first@x", 5, 6);
        first.groups = vec![(0, Priority::Last), (2, Priority::First)];
        let other = agent("other@x", 0, 6);
        let pool = Pool { agents: vec![first, other] };
        assert_eq!(pool.choose(&[2].into(), &[]), Some("first@x"), "only it is in group 2");
        assert_eq!(pool.choose(&none(), &[]), Some("first@x"), "first in group 2 beats normal in 0");
        assert_eq!(pool.choose(&[0].into(), &[]), Some("other@x"), "in group 0 it is last");
        assert_eq!(pool.choose(&[7].into(), &[]), None, "nobody in group 7");
    }

    #[test]
    fn the_queue_is_drained_in_order_and_skips_what_nobody_can_take() {
        let mut q = Queue::default();
        for c in ["c1", "c2", "c3", "c4"] {
            q.push(c.to_owned());
        }
        q.push("c1".to_owned());
        assert_eq!(q.len(), 4, "no duplicates");
        let log = |q: &mut Queue<String>| {
            q.take_changes()
                .into_iter()
                .map(|c| match c {
                    QueueChange::Queued(c) => format!("+{c}"),
                    QueueChange::Left(c) => format!("-{c}"),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(log(&mut q), ["+c1", "+c2", "+c3", "+c4"], "what the store is told");
        let mut pool = Pool { agents: vec![agent("a@x", 0, 2)] };
        let mut seq = 0;
        let placed = q.drain(
            &mut pool,
            |c| match c.as_str() {
                "c1" => Some(([9].into(), vec![])), // nobody in group 9
                "c3" => None,                       // closed meanwhile
                _ => Some((none(), vec![])),
            },
            || {
                seq += 1;
                seq
            },
        );
        assert_eq!(placed, vec![("c2".to_owned(), "a@x".to_owned()), ("c4".to_owned(), "a@x".to_owned())]);
        assert_eq!(q.iter().cloned().collect::<Vec<_>>(), vec!["c1".to_owned()]);
        assert!(!pool.anyone_available(), "a@x is full");
        assert_eq!(log(&mut q), ["-c2", "-c3", "-c4"], "placed or gone: each leaves, in order");
        assert!(q.remove(&"c1".to_owned()));
        assert!(!q.remove(&"c1".to_owned()));
        assert_eq!(q.len(), 0);
        assert_eq!(log(&mut q), ["-c1"]);
    }

    proptest! {
        /// However chats and agents come, draining never puts an agent over its limit, never
        /// gives a chat twice, never skips a placeable chat for a later one with the same
        /// scopes, and places chats in queue order.
        #[test]
        fn draining_respects_limits_and_order(
            agents in prop::collection::vec((0usize..4, 1usize..4, any::<bool>(), 0u64..3), 0..5),
            chats in prop::collection::vec(0u64..3, 0..12),
        ) {
            let mut pool = Pool {
                agents: agents.iter().enumerate().map(|(i, (active, max, available, group))| Candidate {
                    id: format!("a{i}"),
                    available: *available,
                    groups: vec![(*group, Priority::Normal)],
                    active_chats: *active,
                    max_chats: *max,
                    last_assigned: 0,
                }).collect(),
            };
            let before = pool.clone();
            let mut q = Queue::default();
            for i in 0..chats.len() {
                q.push(i);
            }
            let mut seq = 0;
            let placed = q.drain(&mut pool, |c| Some(([chats[*c]].into(), vec![])), || { seq += 1; seq });
            for a in &pool.agents {
                let b = before.agents.iter().find(|b| b.id == a.id).map_or(0, |b| b.active_chats);
                let given = placed.iter().filter(|(_, id)| *id == a.id).count();
                prop_assert_eq!(a.active_chats, b + given);
                prop_assert!(given == 0 || a.active_chats <= a.max_chats);
            }
            let order: Vec<usize> = placed.iter().map(|(c, _)| *c).collect();
            prop_assert!(order.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(placed.len() + q.len(), chats.len());
            // A chat left waiting has no candidate in the final pool (else it would have
            // been placed: capacity only shrinks while draining).
            for c in q.iter() {
                prop_assert!(pool.choose(&[chats[*c]].into(), &[]).is_none());
            }
        }
    }
}
