//! Connections: who is connected as whom, delivery of responses and pushes, and the fault
//! injection applied on the way out.

use std::collections::HashMap;
use std::time::Duration;

use chatio_wire::{PushFrame, RequestId, Response, ServerFrame, UserId};
use tokio::sync::mpsc;

use crate::engine::{Delivery, Presence};

/// A connection's id.
pub(crate) type ConnId = u64;

/// What a connection task must write.
#[derive(Debug)]
pub(crate) enum Out {
    /// A text frame.
    Text(String),
    /// A close frame with this code and reason, then end.
    Close(u16, String),
    /// End at once, without a close frame (an abrupt drop).
    Drop,
}

#[derive(Debug)]
struct Conn {
    license: u64,
    customer: Option<UserId>,
    tx: mpsc::UnboundedSender<Out>,
}

/// Faults armed for a customer.
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
    pub(crate) presence: Presence,
    pub(crate) faults: HashMap<(u64, UserId), Faults>,
    /// Responses held back by a delay fault: (delay, connection, frame).
    pub(crate) delayed: Vec<(Duration, mpsc::UnboundedSender<Out>, String)>,
}

impl Hub {
    /// Registers a new (not yet logged-in) connection.
    pub(crate) fn add(&mut self, license: u64, tx: mpsc::UnboundedSender<Out>) -> ConnId {
        self.next_id += 1;
        self.conns.insert(self.next_id, Conn { license, customer: None, tx });
        self.next_id
    }

    /// Forgets a connection.
    pub(crate) fn remove(&mut self, id: ConnId) {
        if let Some(c) = self.conns.remove(&id) {
            if let Some(cust) = c.customer {
                let key = (c.license, cust);
                if let Some(list) = self.by_customer.get_mut(&key) {
                    list.retain(|x| *x != id);
                    if list.is_empty() {
                        self.by_customer.remove(&key);
                        self.presence.remove(&key);
                    }
                }
            }
        }
    }

    /// The customer a connection is logged in as.
    pub(crate) fn customer_of(&self, id: ConnId) -> Option<(u64, UserId)> {
        let c = self.conns.get(&id)?;
        Some((c.license, c.customer.clone()?))
    }

    /// How many logged-in connections a customer has.
    pub(crate) fn count(&self, license: u64, customer: &UserId) -> usize {
        self.by_customer.get(&(license, customer.clone())).map_or(0, Vec::len)
    }

    /// Marks a connection as logged in.
    pub(crate) fn log_in(&mut self, id: ConnId, license: u64, customer: &UserId) {
        if let Some(c) = self.conns.get_mut(&id) {
            if c.customer.as_ref() == Some(customer) {
                return;
            }
            c.customer = Some(customer.clone());
            let key = (license, customer.clone());
            self.by_customer.entry(key.clone()).or_default().push(id);
            self.presence.insert(key);
        }
    }

    /// Sends to one connection.
    pub(crate) fn send(&self, id: ConnId, out: Out) {
        if let Some(c) = self.conns.get(&id) {
            let _ = c.tx.send(out);
        }
    }

    /// Sends to every connection of a customer.
    pub(crate) fn send_customer(&self, license: u64, customer: &UserId, mut make: impl FnMut() -> Out) {
        for id in self.by_customer.get(&(license, customer.clone())).into_iter().flatten() {
            self.send(*id, make());
        }
    }

    /// Every connection, logged in or not.
    pub(crate) fn all(&self) -> Vec<ConnId> {
        self.conns.keys().copied().collect()
    }

    /// Number of connections.
    pub(crate) fn len(&self) -> usize {
        self.conns.len()
    }

    /// Writes a response to the requester, through the customer's faults.
    pub(crate) fn respond(&mut self, id: ConnId, response: Response) {
        let frame = ServerFrame::Response(response).encode();
        let Some(conn) = self.conns.get(&id) else { return };
        if let Some(cust) = &conn.customer {
            if let Some(f) = self.faults.get_mut(&(conn.license, cust.clone())) {
                if f.swallow_next_response {
                    f.swallow_next_response = false;
                    tracing::info!(conn = id, "fault: response swallowed");
                    return;
                }
                if let Some(d) = f.delay_next_response.take() {
                    tracing::info!(conn = id, delay_ms = d.as_millis() as u64, "fault: response delayed");
                    self.delayed.push((d, conn.tx.clone(), frame));
                    return;
                }
            }
        }
        let _ = conn.tx.send(Out::Text(frame));
    }

    /// Delivers pushes: every connection of the customer; the requester's connection gets
    /// its copy with `request_id` (2.4, G5).
    pub(crate) fn deliver(&self, deliveries: Vec<Delivery>, requester: Option<(ConnId, Option<RequestId>)>) {
        for d in deliveries {
            let key = (d.license, d.customer.clone());
            let Some(ids) = self.by_customer.get(&key) else { continue };
            let mut plain: Option<String> = None;
            for id in ids {
                let frame = match &requester {
                    Some((rid, Some(req))) if rid == id && d.caused_by_request => {
                        ServerFrame::Push(PushFrame::new(Some(req.clone()), d.push.clone())).encode()
                    }
                    _ => plain
                        .get_or_insert_with(|| ServerFrame::Push(PushFrame::new(None, d.push.clone())).encode())
                        .clone(),
                };
                self.send(*id, Out::Text(frame));
            }
        }
    }
}
