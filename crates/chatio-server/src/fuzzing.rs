//! A socket-free harness over the server's request handling, for the fuzzer
//! (`fuzz/fuzz_targets/server_requests.rs`) and regression tests of what it finds. Not part of
//! the supported API.

use chatio_wire::{ClientFrame, ErrorObject, ErrorType, Request, Response, ResponseData, ServerFrame, UserId};

use crate::actions::{self, Caller, Presence, bot};
use crate::config::{DeclaredProperty, PropertyAccess};
use crate::store::{Policy, Store, TokenRecord};

const LICENSE: u64 = 100;
const URL: &str = "http://fuzz.invalid";

/// One customer's connection, without the connection: frames in, responses out, agent on.
#[derive(Debug)]
pub struct Harness {
    store: Store,
    presence: Presence,
    customer: Option<UserId>,
    now: u64,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A fresh store with license 100 and the token [`Harness::TOKEN`] for customer `c`.
    pub fn new() -> Self {
        let mut store = Store::new(1, &[LICENSE], &[], URL);
        store.tokens.insert(
            Self::TOKEN.into(),
            TokenRecord { license: LICENSE, customer: UserId::new("c"), expires_at: u64::MAX },
        );
        Self { store, presence: Presence::default(), customer: None, now: 1_700_000_000 }
    }

    /// Like [`Harness::new`], with the optional rules on: at most 3 chats per customer (G4),
    /// `ui.bold` writable and `routing.priority` read-only for customers (G15).
    pub fn with_policy() -> Self {
        let mut h = Self::new();
        h.store.policy = Policy {
            max_chats_per_customer: Some(3),
            declared_properties: vec![
                DeclaredProperty::new("ui", "bold", PropertyAccess::ReadWrite),
                DeclaredProperty::new("routing", "priority", PropertyAccess::ReadOnly),
            ],
            ..Policy::default()
        };
        h
    }

    /// The valid token.
    pub const TOKEN: &'static str = "fuzz-token";

    /// Handles one websocket frame as a connection would, with the agent's reactions; returns
    /// the encoded response.
    pub fn frame(&mut self, bytes: &[u8]) -> String {
        self.now += 1;
        let frame = match ClientFrame::decode_bytes(bytes) {
            Ok(f) => f,
            Err(e) => {
                let err = ErrorObject::validation(e.to_string());
                return ServerFrame::Response(Response::failure(e.request_id().cloned(), "", err)).encode();
            }
        };
        let id = frame.request_id.clone();
        let action = frame.request.action().to_owned();
        let result = match frame.request {
            Request::Login(l) => actions::login(&mut self.store, LICENSE, &l, self.now, URL).map(|(c, r, _)| {
                self.presence.insert((LICENSE, c.clone()));
                self.customer = Some(c);
                ResponseData::Login(r)
            }),
            other => self.request(other),
        };
        let response = match result {
            Ok(d) => Response::success(id, d),
            Err(e) => Response::failure(id, action, e),
        };
        ServerFrame::Response(response).encode()
    }

    /// Handles one Web API call (JSON body).
    pub fn web(&mut self, action: &str, body: &[u8]) -> String {
        self.now += 1;
        let result =
            Request::decode_web_body(action, body).map_err(|e| ErrorObject::validation(e.to_string())).and_then(|r| {
                if self.customer.is_none() {
                    Err(ErrorObject::with_default_message(ErrorType::Authentication))
                } else {
                    self.request(r)
                }
            });
        match result {
            Ok(d) => ServerFrame::Response(Response::success(None, d)).encode(),
            Err(e) => ServerFrame::Response(Response::failure(None, action, e)).encode(),
        }
    }

    fn request(&mut self, r: Request) -> Result<ResponseData, ErrorObject> {
        let Some(customer) = self.customer.clone() else {
            return Err(ErrorObject::new(ErrorType::Authentication, "login required"));
        };
        let caller = Caller { license: LICENSE, customer };
        let (result, fx) = actions::handle(&mut self.store, &self.presence, &caller, r, self.now);
        for d in fx.deliveries {
            let _ = ServerFrame::Push(chatio_wire::PushFrame::new(None, d.push)).encode();
        }
        for t in fx.triggers {
            let (chat, steps) = bot::plan(&self.store, LICENSE, &t);
            for s in steps {
                let fx = bot::apply(&mut self.store, LICENSE, &chat, &s, self.now, URL);
                for d in fx.deliveries {
                    let _ = ServerFrame::Push(chatio_wire::PushFrame::new(None, d.push)).encode();
                }
            }
        }
        result
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
