//! Tolerant input: key order never matters, `null` reads like an absent key, both spellings of
//! a renamed key may appear together, and the flat property form reads back what it wrote.
//! Each test here pins a bug found while writing the suite.

use std::path::Path;
use std::sync::OnceLock;

use chatio_wire::*;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Every fixture frame: (is a client frame, parsed JSON).
fn fixtures() -> &'static [(bool, Value)] {
    static ALL: OnceLock<Vec<(bool, Value)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/frames");
        let mut out: Vec<(String, bool, Value)> = std::fs::read_dir(dir)
            .expect("fixtures")
            .filter_map(|e| {
                let path = e.ok()?.path();
                let name = path.file_name()?.to_str()?.to_owned();
                name.ends_with(".json").then_some((name, path))
            })
            .map(|(name, path)| {
                let client = name.starts_with("request.") || name.starts_with("tolerant.client.");
                let v = serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
                (name, client, v)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.into_iter().map(|(_, c, v)| (c, v)).collect()
    })
}

/// A small deterministic generator for shuffling.
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Writes `v` as JSON with the keys of every object in a shuffled order.
pub(crate) fn shuffled(v: &Value, rng: &mut XorShift, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            for i in (1..entries.len()).rev() {
                let j = usize::try_from(rng.next() % (i as u64 + 1)).expect("small");
                entries.swap(i, j);
            }
            out.push('{');
            for (n, (k, v)) in entries.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push(':');
                shuffled(v, rng, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (n, v) in a.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                shuffled(v, rng, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

pub(crate) trait Encode {
    fn encode(&self) -> String;
}

impl Encode for ClientFrame {
    fn encode(&self) -> String {
        ClientFrame::encode(self)
    }
}

impl Encode for ServerFrame {
    fn encode(&self) -> String {
        ServerFrame::encode(self)
    }
}

pub(crate) fn meaning<T: Encode>(r: Result<T, DecodeError>) -> Result<Value, DecodeErrorKind> {
    r.map(|f| serde_json::from_str(&f.encode()).expect("canonical JSON")).map_err(|e| e.kind())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// Any order of the keys, at every level, decodes to the value of the sorted order.
    #[test]
    fn key_order_never_matters(i in any::<usize>(), seed in 1u64..) {
        let all = fixtures();
        let (client, v) = &all[i % all.len()];
        let sorted = v.to_string();
        let mut text = String::new();
        shuffled(v, &mut XorShift(seed), &mut text);
        // Raw JSON (unknown payloads) is kept verbatim, key order included: compare the
        // canonical encodings as JSON values.
        if *client {
            prop_assert_eq!(meaning(ClientFrame::decode(&text)), meaning(ClientFrame::decode(&sorted)), "{}", text);
        } else {
            prop_assert_eq!(meaning(ServerFrame::decode(&text)), meaning(ServerFrame::decode(&sorted)), "{}", text);
        }
    }
}

/// Bug: a response whose payload came before `type` was read as a push when its action was a
/// push name (and a push as a failed response when `success: false` came first).
#[test]
fn the_frame_type_does_not_depend_on_key_order() {
    let event =
        r#"{"chat_id":"C","thread_id":"T","event":{"id":"E","order":1,"type":"message","timestamp":1,"text":"x"}}"#;
    let type_first = format!(r#"{{"action":"incoming_event","type":"response","success":true,"payload":{event}}}"#);
    let type_last = format!(r#"{{"action":"incoming_event","payload":{event},"type":"response","success":true}}"#);
    let a = ServerFrame::decode(&type_first).expect("decodes");
    assert!(matches!(&a, ServerFrame::Response(r) if matches!(&r.result, Ok(ResponseData::Unknown { .. }))), "{a:?}");
    assert_eq!(ServerFrame::decode(&type_last), Ok(a));

    let error = r#"{"error":{"type":"validation","message":"m"}}"#;
    let type_first = format!(r#"{{"action":"send_event","type":"push","success":false,"payload":{error}}}"#);
    let type_last = format!(r#"{{"action":"send_event","success":false,"payload":{error},"type":"push"}}"#);
    let a = ServerFrame::decode(&type_first).expect("decodes");
    assert!(matches!(&a, ServerFrame::Push(p) if matches!(p.push, Push::Unknown { .. })), "{a:?}");
    assert_eq!(ServerFrame::decode(&type_last), Ok(a));
}

/// Bug: `null` for a key that has a default failed the whole frame, although the protocol file
/// (section 0) says readers treat `null` like an absent key.
#[test]
fn null_reads_like_an_absent_key() {
    let f = ServerFrame::decode(
        r#"{"action":"get_chat_threads","type":"response","success":true,"payload":{"chat":{"id":"C","users":null,
            "properties":{"ns":null,"rating":{"score":{"value":1}}},
            "threads":[{"id":"T","active":true,"order":1,"user_ids":null,"events":[
                {"id":"E","order":1,"type":"rich_message","timestamp":1,"template_id":"t","elements":[{"title":"a","buttons":null},
                    {"buttons":[{"text":null,"postback_id":null,"user_ids":null}]}]},
                {"id":"F","order":2,"type":"filled_form","timestamp":1,"fields":[{"type":"radio","options":[{"label":"l","value":"v","checked":null}]}]}
            ]}]}}}"#,
    )
    .expect("decodes");
    let ServerFrame::Response(Response { result: Ok(ResponseData::GetChatThreads(r)), .. }) = f else {
        panic!("{f:?}")
    };
    let chat = r.chat;
    assert!(chat.users.is_empty());
    assert_eq!(chat.properties, Some(Properties::new().with("rating", "score", 1)));
    let thread = &chat.threads.as_ref().expect("threads")[0];
    assert!(thread.user_ids.is_empty());
    let EventKind::RichMessage(rich) = &thread.events[0].kind else { panic!("{:?}", thread.events[0]) };
    assert!(rich.elements[0].buttons.is_empty());
    assert_eq!(rich.elements[1].buttons, vec![Button::new("", "")]);
    let EventKind::FilledForm(form) = &thread.events[1].kind else { panic!("{:?}", thread.events[1]) };
    assert_eq!(form.fields[0].options, Some(vec![FormOption::new("l", "v", false)]));

    let typing = ServerFrame::decode(
        r#"{"action":"incoming_typing_indicator","type":"push","payload":{"chat_id":"C","typing_indicator":{"author_id":"a","timestamp":1,"is_typing":null}}}"#,
    )
    .expect("decodes");
    assert!(
        matches!(typing, ServerFrame::Push(PushFrame { push: Push::IncomingTypingIndicator(ref t), .. }) if t.typing_indicator.is_typing)
    );

    let failure = ServerFrame::decode(
        r#"{"action":"send_event","type":"response","success":false,"payload":{"error":{"type":"internal","message":null,"data":null}}}"#,
    )
    .expect("decodes");
    let expected = Response::failure(None, "send_event", ErrorObject::new(ErrorType::Internal, ""));
    assert_eq!(failure, ServerFrame::Response(expected));

    for (push, expected) in [
        (
            r#"{"chat_id":"C","scopes_added":null,"scopes_removed":{"groups":[1]}}"#,
            Push::ChatScopesUpdated(ChatScopesUpdated::new("C", Scopes::all(), Scopes::groups([1]))),
        ),
        (
            r#"{"chat_id":"C","updated_users":{"added":null,"removed_ids":["x"]}}"#,
            Push::ChatUsersUpdated(ChatUsersUpdated::new("C", UpdatedUsers::new(vec![], vec![UserId::new("x")]))),
        ),
        (
            r#"{"chat_id":"C","updated_users":{"agents":{"added":null,"removed_ids":null},"customers":null}}"#,
            Push::ChatUsersUpdated(ChatUsersUpdated::new("C", UpdatedUsers::default())),
        ),
    ] {
        let frame = format!(r#"{{"action":"{}","type":"push","payload":{push}}}"#, expected.action());
        assert_eq!(ServerFrame::decode(&frame), Ok(ServerFrame::Push(PushFrame::new(None, expected))), "{frame}");
    }

    let summary = ServerFrame::decode(
        r#"{"action":"get_chats_summary","type":"response","success":true,"payload":{"chats_summary":[{"id":"C","order":1,"users":null,
            "last_event_per_type":{"message":null,"file":{"thread_id":"T","event":{"id":"E","order":1,"type":"message","timestamp":1,"text":"x"}}}}],"total_chats":1}}"#,
    )
    .expect("decodes");
    let ServerFrame::Response(Response { result: Ok(ResponseData::GetChatsSummary(s)), .. }) = summary else {
        panic!("{summary:?}")
    };
    let last = s.chats_summary[0].last_event_per_type.as_ref().expect("map");
    assert_eq!(last.keys().collect::<Vec<_>>(), ["file"]);

    let v03 = ServerFrame::decode(
        r#"{"action":"get_chats_summary","type":"response","success":true,"payload":{"chats_summary":[{"id":"C","order":1,
            "last_event_per_type":{"thread_id":"T","events":{"message":null,"custom":{"id":"E","order":1,"type":"custom","timestamp":1,"content":{}}}}}],"total_chats":1}}"#,
    )
    .expect("decodes");
    let ServerFrame::Response(Response { result: Ok(ResponseData::GetChatsSummary(s)), .. }) = v03 else {
        panic!("{v03:?}")
    };
    let last = s.chats_summary[0].last_event_per_type.as_ref().expect("map");
    assert_eq!(last.keys().collect::<Vec<_>>(), ["custom"]);

    for (request, expected) in [
        (
            r#"{"action":"get_chat_threads","payload":{"chat_id":"C","thread_ids":null}}"#,
            Request::GetChatThreads(GetChatThreads::new("C", vec![])),
        ),
        (
            r#"{"action":"start_chat","payload":{"chat":{"thread":{"events":null}}}}"#,
            Request::StartChat(StartChat::with_events(vec![])),
        ),
    ] {
        assert_eq!(ClientFrame::decode(request).map(|f| f.request), Ok(expected), "{request}");
    }
}

/// Bug: a thread summary carrying both `total_events` and the JS SDK's `events_count` (D2), or
/// customer data carrying both `fields` and the V02 `properties` (D28), failed with
/// "duplicate field"; non-flat `properties` failed a `login`.
#[test]
fn both_spellings_of_a_renamed_key() {
    let f = ServerFrame::decode(
        r#"{"action":"get_chat_threads_summary","type":"response","success":true,"payload":{"threads_summary":[
            {"id":"A","order":1,"events_count":9,"total_events":2},{"id":"B","order":2,"events_count":3},{"id":"C","order":3,"total_events":null,"events_count":4}],"total_threads":3}}"#,
    )
    .expect("decodes");
    let expected = GetChatThreadsSummaryResponse::new(
        vec![ThreadSummary::new("A", 1, 2), ThreadSummary::new("B", 2, 3), ThreadSummary::new("C", 3, 4)],
        3,
    );
    assert_eq!(f, ServerFrame::Response(Response::success(None, ResponseData::GetChatThreadsSummary(expected))));

    let customer = |json: &str| -> CustomerData {
        let frame = format!(r#"{{"action":"update_customer","payload":{{"customer":{json}}}}}"#);
        match ClientFrame::decode(&frame).unwrap_or_else(|e| panic!("{frame}: {e}")).request {
            Request::UpdateCustomer(u) => u.customer,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(customer(r#"{"fields":{"a":"1"},"properties":{"a":"2","b":"3"}}"#), CustomerData::new().field("a", "1"));
    assert_eq!(
        customer(r#"{"properties":{"a":"2","n":3,"t":true,"z":null}}"#),
        CustomerData::new().field("a", "2").field("n", "3").field("t", "true")
    );
    assert_eq!(customer(r#"{"fields":null,"properties":{"a":"2"}}"#), CustomerData::new().field("a", "2"));
    assert_eq!(
        customer(r#"{"name":"N","properties":{"rating":{"score":{"value":1}}}}"#),
        CustomerData::new().name("N")
    );
    // The canonical form names `fields` only.
    let f =
        ClientFrame::decode(r#"{"action":"login","payload":{"token":"Bearer t","customer":{"properties":{"a":"b"}}}}"#)
            .expect("decodes");
    assert_eq!(f.encode(), r#"{"action":"login","payload":{"token":"Bearer t","customer":{"fields":{"a":"b"}}}}"#);

    let user = ServerFrame::decode(
        r#"{"action":"customer_updated","type":"push","payload":{"chat_id":"C","customer":{"id":"u","type":"customer","properties":{"n":1,"s":"x"}}}}"#,
    )
    .expect("decodes");
    let mut expected = User::customer("u");
    expected.fields = Some([("n".to_owned(), "1".to_owned()), ("s".to_owned(), "x".to_owned())].into());
    assert_eq!(
        user,
        ServerFrame::Push(PushFrame::new(None, Push::CustomerUpdated(CustomerUpdated::new("C", expected))))
    );
}

/// Bug: in the flat (request) form, a property whose value is an object with a `value` key was
/// written bare and read back unwrapped: `{"value":{"value":1}}` became `1` after a round trip.
#[test]
fn flat_properties_read_back_what_they_wrote() {
    let tricky = PropertyValue::Other(json!({"value": 1, "unit": "s"}));
    let props =
        Properties::new().with("ns", "obj", tricky.clone()).with("ns", "plain", PropertyValue::Other(json!({"a": 1})));
    let frame = ClientFrame::new(None, Request::UpdateChatProperties(UpdateChatProperties::new("C", props.clone())));
    let text = frame.encode();
    assert_eq!(
        text,
        r#"{"action":"update_chat_properties","payload":{"chat_id":"C","properties":{"ns":{"obj":{"value":{"unit":"s","value":1}},"plain":{"a":1}}}}}"#
    );
    assert_eq!(ClientFrame::decode(&text), Ok(frame));
    // The same value arriving wrapped decodes to the same typed value.
    let wrapped = r#"{"action":"update_chat_properties","payload":{"chat_id":"C","properties":{"ns":{"obj":{"value":{"value":1,"unit":"s"}},"plain":{"a":1}}}}}"#;
    assert_eq!(
        ClientFrame::decode(wrapped).map(|f| f.request),
        Ok(Request::UpdateChatProperties(UpdateChatProperties::new("C", props)))
    );
}
