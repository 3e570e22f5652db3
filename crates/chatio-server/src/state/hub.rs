//! Connections: who is connected as whom, delivery of responses and pushes, and the fault
//! injection applied on the way out.
//!
//! The hub lives under the server's one lock together with the store (`State` holds both),
//! so the frames caused by a request are queued in one order: the response first, then its
//! pushes (G8), then the agent's reactions. Every response and push a client gets is queued
//! here; each connection's writer drains its own queue.
//!
//! **Group commit.** While the store holds writes not yet committed (a store that groups
//! the commits of concurrent requests, `Store::groups_commits`), the hub holds every frame
//! instead of queueing it ([`Hub::hold`]); once the store has committed, [`Hub::release`]
//! queues them all in their order, so nothing is answered before it is stored. Should the
//! commit fail, [`Hub::discard_held`] drops them and tells each of their connections to go
//! (`customer_disconnected` `internal_error` and 4000, or 1011 for an agent): its client
//! reconnects and resends what was not confirmed.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_tungstenite::tungstenite::Utf8Bytes;
use chatio_wire::{DisconnectReason, Push, PushFrame, RequestId, Response, ServerFrame, UserId};

use crate::actions::agent::AgentCaller;
use crate::actions::{AgentDelivery, AgentTarget, Delivery, EventJson, Presence};
use crate::sendq::{CLOSE_DISCONNECTED, Out, SendQueue, disconnected_frame, reason_text};

/// A connection's id.
pub(crate) type ConnId = u64;

#[derive(Debug)]
struct Conn {
    license: u64,
    customer: Option<UserId>,
    /// The agent an Agent API connection logged in as.
    agent: Option<AgentCaller>,
    tx: Arc<SendQueue>,
}

/// Faults armed for a customer, consumed by its next response.
#[derive(Debug, Default, Clone)]
pub(crate) struct Faults {
    pub(crate) delay_next_response: Option<Duration>,
    pub(crate) swallow_next_response: bool,
}

/// The registry of connections.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    next_id: ConnId,
    conns: HashMap<ConnId, Conn>,
    by_customer: HashMap<(u64, UserId), Vec<ConnId>>,
    /// Logged-in Agent API connections per (license, agent).
    by_agent: HashMap<(u64, String), Vec<ConnId>>,
    pub(crate) presence: Presence,
    pub(crate) faults: HashMap<(u64, UserId), Faults>,
    /// Frames held until the store commits (see the module documentation).
    held: RefCell<Option<Held>>,
    /// The scripted bot's agent id (its connections' pushes are counted).
    pub(crate) bot_id: Option<String>,
    /// Per license: pushes queued to the bot's connection, and how many of them it said it
    /// handled (its idle pings); equal when it has caught up.
    pub(crate) bot_pushes: HashMap<u64, (u64, u64)>,
}

/// Frames held for a commit.
#[derive(Debug)]
struct Held {
    /// The store's failed-commit count when holding began: a commit that fails in between
    /// lost the writes these frames answer.
    failed_commits: u64,
    frames: Vec<(ConnId, Arc<SendQueue>, Out)>,
}

impl Hub {
    /// Registers a new (not yet logged-in) connection.
    pub(crate) fn add(&mut self, license: u64, tx: Arc<SendQueue>) -> ConnId {
        self.next_id += 1;
        self.conns.insert(self.next_id, Conn { license, customer: None, agent: None, tx });
        self.next_id
    }

    /// Forgets a connection; returns the agent it was logged in as, if any.
    pub(crate) fn remove(&mut self, id: ConnId) -> Option<AgentCaller> {
        let c = self.conns.remove(&id)?;
        if let Some(agent) = c.agent {
            let key = (agent.license, agent.agent.clone());
            if let Some(list) = self.by_agent.get_mut(&key) {
                list.retain(|x| *x != id);
                if list.is_empty() {
                    self.by_agent.remove(&key);
                }
            }
            return Some(agent);
        }
        let cust = c.customer?;
        let key = (c.license, cust);
        if let Some(list) = self.by_customer.get_mut(&key) {
            list.retain(|x| *x != id);
            if list.is_empty() {
                self.by_customer.remove(&key);
                self.presence.remove(&key);
            }
        }
        None
    }

    /// Whether a connection is the scripted bot's.
    fn is_bot(&self, id: ConnId) -> bool {
        let agent = self.conns.get(&id).and_then(|c| c.agent.as_ref());
        agent.is_some_and(|a| self.bot_id.as_deref() == Some(a.agent.as_str()))
    }

    /// How many logged-in connections an agent has.
    pub(crate) fn agent_count(&self, license: u64, agent: &str) -> usize {
        self.by_agent.get(&(license, agent.to_owned())).map_or(0, Vec::len)
    }

    /// Marks an Agent API connection as logged in as `caller`'s agent.
    pub(crate) fn log_in_agent(&mut self, id: ConnId, caller: AgentCaller) {
        let Some(c) = self.conns.get_mut(&id) else { return };
        let key = (caller.license, caller.agent.clone());
        c.license = caller.license;
        let first = c.agent.is_none();
        c.agent = Some(caller);
        if first {
            self.by_agent.entry(key).or_default().push(id);
        }
    }

    /// Delivers agent pushes to the connections of the agents they target; the requester's
    /// connection gets its copy with `request_id`.
    pub(crate) fn deliver_agents(
        &mut self,
        deliveries: Vec<AgentDelivery>,
        requester: Option<(ConnId, Option<&RequestId>)>,
    ) {
        use chatio_wire::agent::{PushFrame as AgentPushFrame, ServerFrame as AgentServerFrame};
        for d in deliveries {
            let mut plain: Option<Utf8Bytes> = None;
            let targets: Vec<ConnId> = match &d.to {
                AgentTarget::License => self
                    .by_agent
                    .iter()
                    .filter(|((l, _), _)| *l == d.license)
                    .flat_map(|(_, ids)| ids.iter().copied())
                    .collect(),
                AgentTarget::Agents(ids) => self
                    .by_agent
                    .iter()
                    .filter(|((l, a), _)| *l == d.license && ids.contains(a))
                    .flat_map(|(_, ids)| ids.iter().copied())
                    .collect(),
                AgentTarget::Chat(audience) => self
                    .by_agent
                    .iter()
                    .filter(|((l, _), _)| *l == d.license)
                    .flat_map(|(_, ids)| ids.iter().copied())
                    .filter(|id| {
                        self.conns
                            .get(id)
                            .and_then(|c| c.agent.as_ref())
                            .is_some_and(|a| audience.admits(&a.agent, &a.groups, a.scopes))
                    })
                    .collect(),
            };
            for id in targets {
                if self.is_bot(id) {
                    self.bot_pushes.entry(d.license).or_default().0 += 1;
                }
                let frame = match requester {
                    Some((rid, Some(req))) if rid == id && d.caused_by_request => Utf8Bytes::from(
                        AgentServerFrame::Push(AgentPushFrame::new(Some(req.clone()), d.push.clone())).encode(),
                    ),
                    _ => plain
                        .get_or_insert_with(|| {
                            Utf8Bytes::from(AgentServerFrame::Push(AgentPushFrame::new(None, d.push.clone())).encode())
                        })
                        .clone(),
                };
                self.send(id, Out::Text(frame));
            }
        }
    }

    /// Writes an agent response to its connection.
    pub(crate) fn respond_agent(&self, id: ConnId, response: chatio_wire::agent::Response) {
        let text = crate::actions::encode_agent_response(response);
        self.send(id, Out::Text(Utf8Bytes::from(text)));
    }

    /// The customer a connection is logged in as.
    pub(crate) fn customer_of(&self, id: ConnId) -> Option<&UserId> {
        self.conns.get(&id)?.customer.as_ref()
    }

    /// How many logged-in connections a customer has.
    pub(crate) fn count(&self, license: u64, customer: &UserId) -> usize {
        self.by_customer.get(&(license, customer.clone())).map_or(0, Vec::len)
    }

    /// Marks a connection as logged in as `customer`.
    pub(crate) fn log_in(&mut self, id: ConnId, license: u64, customer: &UserId) {
        let Some(c) = self.conns.get_mut(&id) else { return };
        if c.customer.as_ref() == Some(customer) {
            return;
        }
        c.customer = Some(customer.clone());
        let key = (license, customer.clone());
        self.by_customer.entry(key.clone()).or_default().push(id);
        self.presence.insert(key);
    }

    /// Queues for one connection.
    pub(crate) fn send(&self, id: ConnId, out: Out) {
        if let Some(c) = self.conns.get(&id) {
            self.put(id, &c.tx, out);
        }
    }

    /// Queues a frame, or holds it while a commit is pending.
    fn put(&self, id: ConnId, tx: &Arc<SendQueue>, out: Out) {
        match self.held.borrow_mut().as_mut() {
            Some(held) => held.frames.push((id, tx.clone(), out)),
            None => tx.send(out),
        }
    }

    /// Holds every frame from now until [`release`](Self::release) or
    /// [`discard_held`](Self::discard_held): the store has writes not yet committed, and
    /// `failed_commits` failed commits so far.
    pub(crate) fn hold(&self, failed_commits: u64) {
        self.held.borrow_mut().get_or_insert_with(|| Held { failed_commits, frames: Vec::new() });
    }

    /// How many frames are held (`None`: not holding), and the failed-commit count when
    /// holding began.
    pub(crate) fn held(&self) -> Option<(usize, u64)> {
        self.held.borrow().as_ref().map(|h| (h.frames.len(), h.failed_commits))
    }

    /// The store committed: queues every held frame, in order, and stops holding.
    pub(crate) fn release(&self) {
        let held = self.held.borrow_mut().take();
        for (_, tx, out) in held.into_iter().flat_map(|h| h.frames) {
            tx.send(out);
        }
    }

    /// The writes the held frames answer were not stored: drops the frames and tells each
    /// of their connections to go (its client reconnects and resends what was not
    /// confirmed). Returns how many connections were told.
    pub(crate) fn discard_held(&self) -> usize {
        let held = self.held.borrow_mut().take();
        let mut told: Vec<ConnId> = Vec::new();
        for (id, _, _) in held.into_iter().flat_map(|h| h.frames) {
            if told.contains(&id) {
                continue;
            }
            told.push(id);
            let Some(c) = self.conns.get(&id) else { continue };
            if c.agent.is_some() {
                c.tx.send(Out::Close(1011, Cow::Borrowed("internal_error")));
            } else {
                c.tx.send(Out::Text(disconnected_frame(DisconnectReason::InternalError)));
                c.tx.send(Out::Close(CLOSE_DISCONNECTED, Cow::Borrowed("internal_error")));
            }
        }
        told.len()
    }

    /// Sends `customer_disconnected` and a 4000 close to one connection.
    pub(crate) fn disconnect(&self, id: ConnId, reason: &DisconnectReason) {
        self.send(id, Out::Text(disconnected_frame(reason.clone())));
        self.send(id, Out::Close(CLOSE_DISCONNECTED, Cow::Borrowed(reason_text(reason))));
    }

    /// Sends `customer_disconnected` and a 4000 close to every connection of a customer.
    pub(crate) fn disconnect_customer(&self, license: u64, customer: &UserId, reason: &DisconnectReason) {
        let frame = disconnected_frame(reason.clone());
        self.send_customer(license, customer, || Out::Text(frame.clone()));
        self.send_customer(license, customer, || Out::Close(CLOSE_DISCONNECTED, Cow::Borrowed(reason_text(reason))));
    }

    /// Queues for every logged-in connection of a customer.
    pub(crate) fn send_customer(&self, license: u64, customer: &UserId, mut make: impl FnMut() -> Out) {
        for id in self.by_customer.get(&(license, customer.clone())).into_iter().flatten() {
            self.send(*id, make());
        }
    }

    /// Queues for every connection, logged in or not.
    pub(crate) fn send_all(&self, mut make: impl FnMut() -> Out) {
        for (id, c) in &self.conns {
            self.put(*id, &c.tx, make());
        }
    }

    /// Number of connections (logged in or not).
    pub(crate) fn len(&self) -> usize {
        self.conns.len()
    }

    /// Writes a response to the requester, through the customer's armed faults.
    pub(crate) fn respond(&mut self, id: ConnId, response: Response) {
        self.respond_with(id, response, None);
    }

    /// [`respond`](Self::respond) for a response that carries an event whose JSON
    /// `event_json` has already encoded (`send_event`).
    pub(crate) fn respond_with(&mut self, id: ConnId, response: Response, event_json: Option<&EventJson>) {
        let Some(conn) = self.conns.get(&id) else { return };
        let text = match event_json.and_then(|e| e.response(&response)) {
            Some(text) => text,
            None => crate::actions::encode_response(response).0,
        };
        let frame = Utf8Bytes::from(text);
        // Faults are rare (tests arm them): no key is built for the lookup while none is.
        if let Some(cust) = conn.customer.as_ref().filter(|_| !self.faults.is_empty()) {
            if let Some(f) = self.faults.get_mut(&(conn.license, cust.clone())) {
                if f.swallow_next_response {
                    f.swallow_next_response = false;
                    tracing::info!(conn = id, "fault: response swallowed");
                    return;
                }
                if let Some(d) = f.delay_next_response.take() {
                    tracing::info!(conn = id, delay_ms = d.as_millis() as u64, "fault: response delayed");
                    // Responses are written from the server's runtime; outside of it (unit
                    // tests) the delay cannot be honoured and the frame goes out at once.
                    if let Ok(rt) = tokio::runtime::Handle::try_current() {
                        let tx = conn.tx.clone();
                        rt.spawn(async move {
                            tokio::time::sleep(d).await;
                            tx.send(Out::Text(frame));
                        });
                        return;
                    }
                }
            }
        }
        self.put(id, &conn.tx, Out::Text(frame));
    }

    /// Delivers pushes to every logged-in connection of the customer; the requester's
    /// connection gets its copy with `request_id` (2.4, G5). Each frame is encoded once per
    /// form and shared between connections.
    pub(crate) fn deliver(&self, deliveries: Vec<Delivery>, requester: Option<(ConnId, Option<&RequestId>)>) {
        for Delivery { license, customer, push, caused_by_request, event_json } in deliveries {
            let Some(ids) = self.by_customer.get(&(license, customer)) else { continue };
            // One frame, encoded with or without the request id: the push is never copied,
            // and an event encoded already is copied as bytes.
            let mut frame = ServerFrame::Push(PushFrame::new(None, push));
            let encode = |frame: &ServerFrame, request_id: Option<&RequestId>| {
                let spliced = match (frame, &event_json) {
                    (ServerFrame::Push(PushFrame { push: Push::IncomingEvent(p), .. }), Some(json)) => {
                        json.push(request_id, p)
                    }
                    _ => None,
                };
                Utf8Bytes::from(spliced.unwrap_or_else(|| frame.encode()))
            };
            let mut plain: Option<Utf8Bytes> = None;
            for id in ids {
                let text = match requester {
                    Some((rid, Some(req))) if rid == *id && caused_by_request => {
                        if let ServerFrame::Push(p) = &mut frame {
                            p.request_id = Some(req.clone());
                        }
                        let text = encode(&frame, Some(req));
                        if let ServerFrame::Push(p) = &mut frame {
                            p.request_id = None;
                        }
                        text
                    }
                    _ => plain.get_or_insert_with(|| encode(&frame, None)).clone(),
                };
                self.send(*id, Out::Text(text));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatio_wire::{Push, ResponseData, ThreadClosed};

    fn text(out: Option<Out>) -> String {
        match out {
            Some(Out::Text(t)) => t.as_str().to_owned(),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    #[test]
    fn requester_copy_carries_the_request_id_and_faults_apply_once() {
        let mut hub = Hub::default();
        let counters = Arc::new(crate::counters::Counters::default());
        let (tx1, mut rx1) = SendQueue::new(1 << 20, counters.clone());
        let (tx2, mut rx2) = SendQueue::new(1 << 20, counters);
        let c = UserId::new("c1");
        let a = hub.add(100, tx1);
        let b = hub.add(100, tx2);
        hub.log_in(a, 100, &c);
        hub.log_in(b, 100, &c);
        assert_eq!(hub.count(100, &c), 2);
        let push = Push::ThreadClosed(ThreadClosed::new("C", "T", None));
        let rid = RequestId::new("r1");
        hub.deliver(
            vec![Delivery { license: 100, customer: c.clone(), push, caused_by_request: true, event_json: None }],
            Some((a, Some(&rid))),
        );
        assert!(text(rx1.try_recv().ok()).contains(r#""request_id":"r1""#));
        assert!(!text(rx2.try_recv().ok()).contains("request_id"));

        hub.faults.entry((100, c.clone())).or_default().swallow_next_response = true;
        hub.respond(a, Response::success(None, ResponseData::Ping));
        assert!(rx1.try_recv().is_err(), "swallowed");
        hub.respond(a, Response::success(None, ResponseData::Ping));
        assert!(text(rx1.try_recv().ok()).contains(r#""action":"ping""#));

        hub.remove(a);
        hub.remove(b);
        assert_eq!(hub.count(100, &c), 0);
        assert!(hub.presence.is_empty());
        assert_eq!(hub.len(), 0);
    }
}
