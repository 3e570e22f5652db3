//! A socket-free harness over the server's request handling, for the fuzzer
//! (`fuzz/fuzz_targets/server_requests.rs`) and regression tests of what it finds. Not part of
//! the supported API.
//!
//! It drives the same path as a connection, minus the socket: an RTM session
//! (`crate::session`) whose frames pass the request gate, run in the state and queue their
//! response and pushes; Web API calls pass the same gate with a bearer token.

use std::sync::Arc;

use chatio_wire::{ClientFrame, ErrorObject, Response, ServerFrame, UserId};
use tokio::sync::{mpsc, watch};

use crate::actions::encode_response;
use crate::config::{DeclaredProperty, PropertyAccess, ServerConfig};
use crate::gate::{self, Api, Credential};
use crate::sendq::Out;
use crate::session::{self, Outbound, Session};
use crate::state::State;

const LICENSE: u64 = 100;
const URL: &str = "http://fuzz.invalid";

/// One customer's connection, without the connection: frames in, responses out, agent on.
#[derive(Debug)]
pub struct Harness {
    state: Arc<State>,
    session: Session,
    out: Outbound,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A fresh server state with license 100 and the token [`Harness::TOKEN`] for customer
    /// `c`, and one session on it, not logged in.
    pub fn new() -> Self {
        Self::with_config(ServerConfig::default())
    }

    /// Like [`Harness::new`], with the optional rules on: at most 3 chats per customer (G4),
    /// `ui.bold` writable and `routing.priority` read-only for customers (G15).
    pub fn with_policy() -> Self {
        Self::with_config(ServerConfig {
            max_chats_per_customer: Some(3),
            declared_properties: vec![
                DeclaredProperty::new("ui", "bold", PropertyAccess::ReadWrite),
                DeclaredProperty::new("routing", "priority", PropertyAccess::ReadOnly),
            ],
            ..ServerConfig::default()
        })
    }

    fn with_config(mut config: ServerConfig) -> Self {
        config.licenses = vec![LICENSE];
        config.agent = true;
        config.agent_delay = std::time::Duration::ZERO;
        // Everything a call queues is drained before the next one.
        config.max_queued_bytes = 64 << 20;
        let (_, shutdown) = watch::channel(false);
        let (control, _) = mpsc::unbounded_channel();
        // ok: the memory store never fails.
        #[allow(clippy::expect_used)]
        let state = Arc::new(State::new(config, URL.to_owned(), 1, shutdown, control).expect("a memory store"));
        #[allow(clippy::expect_used)]
        state.install_token(Self::TOKEN, LICENSE, UserId::new("c")).expect("a memory store");
        let (session, out) = session::open(&state, LICENSE);
        Self { state, session, out }
    }

    /// The valid token.
    pub const TOKEN: &'static str = "fuzz-token";

    /// Handles one websocket frame as a connection would, with the agent's reactions; returns
    /// the encoded response.
    pub fn frame(&mut self, bytes: &[u8]) -> String {
        let Ok(text) = std::str::from_utf8(bytes) else {
            // The transports close on invalid UTF-8 (1007); answer as the decoder would.
            let e = ClientFrame::decode_bytes(bytes).err().map(|e| e.to_string()).unwrap_or_default();
            return ServerFrame::Response(Response::failure(None, "", ErrorObject::validation(e))).encode();
        };
        self.session.text(text);
        self.drain().unwrap_or_default()
    }

    /// Handles one Web API call (JSON body) with the bearer token [`Harness::TOKEN`].
    pub fn web(&mut self, action: &str, body: &[u8]) -> String {
        let admitted = gate::admit(&self.state, Api::Web, LICENSE, action, Credential::Bearer(Some(Self::TOKEN)));
        let result = admitted.and_then(|caller| gate::web_request(action, body).map(|request| (caller, request)));
        let response = match result {
            Ok((caller, request)) => match self.state.act_web(&caller, request) {
                Ok(data) => Response::success(None, data),
                Err(e) => Response::failure(None, action, e),
            },
            Err(refusal) => Response::failure(None, action, refusal.into_error()),
        };
        let _ = self.drain();
        encode_response(response).0
    }

    /// Drains what the session was sent (the response first, then pushes, G8), encoding
    /// nothing again; returns the first frame.
    fn drain(&mut self) -> Option<String> {
        let mut first = None;
        while let Some(out) = self.out.try_next() {
            if let Out::Text(t) = out {
                self.out.flushed(t.len());
                first.get_or_insert_with(|| t.as_str().to_owned());
            }
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_without_sockets() {
        let mut h = Harness::new();
        let r = h.frame(br#"{"request_id":"1","action":"get_chats_summary"}"#);
        assert!(r.contains("login required"), "{r}");
        let r = h.frame(
            format!(r#"{{"request_id":"2","action":"login","payload":{{"token":"Bearer {}"}}}}"#, Harness::TOKEN)
                .as_bytes(),
        );
        assert!(r.contains(r#""success":true"#), "{r}");
        let r = h.frame(br#"{"request_id":"3","action":"start_chat","payload":{"chat":{"thread":{"events":[{"type":"message","text":"/rich"}]}}}}"#);
        assert!(r.contains(r#""success":true"#), "{r}");
        assert!(h.frame(b"not json").contains("validation"));
        assert!(h.web("close_thread", br#"{"chat_id":"nope"}"#).contains("authorization"));
    }

    #[test]
    fn the_policy_harness_enforces_the_rules() {
        let mut h = Harness::with_policy();
        let login =
            format!(r#"{{"request_id":"l","action":"login","payload":{{"token":"Bearer {}"}}}}"#, Harness::TOKEN);
        assert!(h.frame(login.as_bytes()).contains(r#""success":true"#));
        let r = h.frame(
            br#"{"request_id":"1","action":"start_chat","payload":{"chat":{"properties":{"routing":{"priority":1}}}}}"#,
        );
        assert!(r.contains("read-only"), "{r}");
        for i in 0..3 {
            let r = h.frame(format!(r#"{{"request_id":"{i}","action":"start_chat","payload":{{"chat":{{"properties":{{"ui":{{"bold":true}}}}}}}}}}"#).as_bytes());
            assert!(r.contains(r#""success":true"#), "{r}");
        }
        let r = h.frame(br#"{"request_id":"4","action":"start_chat","payload":{}}"#);
        assert!(r.contains("too many chats"), "{r}");
    }
}
