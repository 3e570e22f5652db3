//! Agent frames: decode errors say what and where, the agent side's tolerant forms read as
//! the reference form, Web API bodies carry `author_id`, and the customer decoder never takes
//! an agent's frame for one of its own.

use chatio_wire::agent::*;
use chatio_wire::{DecodeErrorKind, ErrorType, NewEvent, Recipients, RequestId, UserId};

fn client(text: &str) -> ClientFrame {
    ClientFrame::decode(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn server(text: &str) -> ServerFrame {
    ServerFrame::decode(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn payload_errors_name_the_action_and_the_field() {
    for (frame, path, words) in [
        (
            r#"{"request_id":"1","action":"ban_customer","payload":{"customer_id":"c","ban":{"days":-1}}}"#,
            "payload.ban.days",
            "invalid value",
        ),
        (
            r#"{"request_id":"1","action":"ban_customer","payload":{"customer_id":"c"}}"#,
            "payload",
            "missing field `ban`",
        ),
        (
            r#"{"request_id":"1","action":"get_archives","payload":{"filters":{"date_from":"2018-02-30"}}}"#,
            "payload.filters.date_from",
            "YYYY-MM-DD",
        ),
        (
            r#"{"request_id":"1","action":"get_filtered_chats","payload":{"filters":{"properties":{"rating":{"score":{"exists":true,"values":[1]}}}}}}"#,
            "payload.filters.properties.rating.score",
            "only one filter type",
        ),
        (
            r#"{"request_id":"1","action":"login","payload":{"token":"Bearer t","push_notifications":{"firebase_token":"x"}}}"#,
            "payload.push_notifications",
            "missing field `platform`",
        ),
        (
            r#"{"request_id":"1","action":"send_typing_indicator","payload":{"chat_id":"C"}}"#,
            "payload",
            "missing field `is_typing`",
        ),
        (
            r#"{"request_id":"1","action":"multicast","payload":{"scopes":{"agents":{"groups":["one"]}},"content":{}}}"#,
            "payload.scopes.agents.groups[0]",
            "group id",
        ),
        (
            r#"{"request_id":"1","action":"add_auto_chat_scopes","payload":{"scopes":{},"rules":{"customer_url":{}}}}"#,
            "payload.rules.customer_url",
            "`values` or `exclude_values`",
        ),
        (
            r#"{"request_id":"1","action":"send_event","payload":{"chat_id":"C","event":{"type":"message","text":"x","recipients":5}}}"#,
            "payload.event.recipients",
            "recipients",
        ),
    ] {
        let e = ClientFrame::decode(frame).expect_err(frame);
        assert_eq!(e.kind(), DecodeErrorKind::InvalidPayload, "{frame}: {e}");
        assert_eq!(e.request_id(), Some(&RequestId::new("1")), "{frame}");
        assert_eq!(e.action(), frame.split('"').nth(7), "{frame}");
        assert_eq!(e.path(), Some(path), "{frame}: {e}");
        assert!(e.to_string().contains(words), "{frame}: {e}");
    }
}

#[test]
fn frame_errors_keep_the_request_id() {
    let e = ClientFrame::decode(r#"{"request_id":"9","action":"ping","author_id":7}"#).expect_err("numeric author");
    assert_eq!(e.kind(), DecodeErrorKind::InvalidFrame, "{e}");
    assert_eq!(e.request_id(), Some(&RequestId::new("9")));
    assert_eq!(e.path(), Some("author_id"));
    let e = ClientFrame::decode(r#"{"request_id":"9","payload":{}}"#).expect_err("no action");
    assert_eq!(e.kind(), DecodeErrorKind::MissingAction);
    let e = ServerFrame::decode(r#"{"action":"agent_updated","type":"push","payload":{"routing_status":"offline"}}"#)
        .expect_err("no agent id");
    assert_eq!((e.kind(), e.path()), (DecodeErrorKind::InvalidPayload, Some("payload")), "{e}");
    assert!(ServerFrame::decode("[1]").is_err_and(|e| e.kind() == DecodeErrorKind::NotAnObject));
    let big = format!(r#"{{"action":"ping","payload":{{"x":"{}"}}}}"#, "a".repeat(chatio_wire::MAX_FRAME_LEN));
    assert_eq!(ClientFrame::decode(&big).map_err(|e| e.kind()), Err(DecodeErrorKind::TooLarge));
}

#[test]
fn removed_and_customer_only_actions_are_unknown() {
    // v0.2's `send_message`, `supervise_chat`, `send_broadcast` and the customer side's
    // `send_sneak_peek` are no agent actions (2.2): a server answers `validation`.
    for action in ["send_message", "supervise_chat", "send_broadcast", "send_sneak_peek", "update_customer"] {
        let f = client(&format!(r#"{{"action":"{action}","payload":{{"chat_id":"C"}}}}"#));
        assert!(matches!(&f.request, Request::Unknown { action: a, payload: Some(_) } if a == action), "{f:?}");
    }
    // ... and the customer decoder does not know the agent-only ones.
    for action in ["join_chat", "ban_customer", "update_agent", "multicast"] {
        let f = chatio_wire::ClientFrame::decode(&format!(r#"{{"action":"{action}","payload":{{}}}}"#)).expect(action);
        assert!(matches!(f.request, chatio_wire::Request::Unknown { .. }), "{action}");
    }
    // The customer decoder ignores `author_id` (it is only an agent-side key), even a bad one.
    let f = chatio_wire::ClientFrame::decode(r#"{"action":"ping","author_id":{"x":1}}"#).expect("ignored");
    assert_eq!(f.request, chatio_wire::Request::Ping);
}

#[test]
fn payloadless_requests() {
    for action in ["ping", "get_auto_chat_scopes_config"] {
        let f = client(&format!(r#"{{"action":"{action}","payload":null}}"#));
        assert_eq!(f.encode(), format!(r#"{{"action":"{action}"}}"#));
    }
    // `upload_image` exists only as a multipart form; as a JSON frame it reads (a server
    // refuses it on the RTM, H3) and writes as `{}`.
    let f = client(r#"{"action":"upload_image","payload":{"image":"x"}}"#);
    assert_eq!(f.request, Request::UploadImage(UploadImage::new()));
    assert_eq!(f.encode(), r#"{"action":"upload_image","payload":{}}"#);
    assert!(!Action::UploadImage.on_rtm() && Action::UploadImage.on_web_api());
    assert!(!Action::Login.on_web_api() && Action::JoinChat.on_web_api() && !Action::GetArchives.on_web_api());
}

#[test]
fn a_bot_acts_through_author_id() {
    let f =
        ClientFrame::new(Some(RequestId::new("1")), Request::CloseThread(CloseThread::new("C"))).with_author("bot1");
    assert_eq!(
        f.encode(),
        r#"{"request_id":"1","action":"close_thread","payload":{"chat_id":"C"},"author_id":"bot1"}"#
    );
    assert_eq!(f.encode_web_body(), r#"{"payload":{"chat_id":"C"},"author_id":"bot1"}"#);
    // Before the action, and with a null payload.
    let g = client(r#"{"author_id":"bot1","request_id":"1","action":"close_thread","payload":{"chat_id":"C"}}"#);
    assert_eq!(g, f);
    let h = client(r#"{"author_id":null,"action":"ping"}"#);
    assert_eq!(h.author_id, None);
}

#[test]
fn web_bodies() {
    let body = br#"{"payload":{"chat_id":"C","agent_ids":["a@x"]},"author_id":"bot1"}"#;
    let f = ClientFrame::decode_web_body("join_chat", body).expect("decodes");
    assert_eq!(f.request, Request::JoinChat(JoinChat::new("C", vec![UserId::new("a@x")])));
    assert_eq!(f.author_id, Some(UserId::new("bot1")));
    assert_eq!(f.request_id, None);
    // A bare body is the payload; a top-level `author_id` still names the bot.
    let bare = ClientFrame::decode_web_body("close_thread", br#"{"chat_id":"C","author_id":"bot1"}"#).expect("bare");
    assert_eq!(bare.request, Request::CloseThread(CloseThread::new("C")));
    assert_eq!(bare.author_id, Some(UserId::new("bot1")));
    // Errors point into the body and name the action.
    let e = ClientFrame::decode_web_body(
        "ban_customer",
        b"{\"payload\":{\"customer_id\":\"c\",\n\"ban\":{\"days\":\"x\"}}}",
    )
    .expect_err("bad days");
    assert_eq!(e.action(), Some("ban_customer"));
    assert_eq!(e.path(), Some("payload.ban.days"));
    assert_eq!(e.position().map(|(line, _)| line), Some(2), "{e}");
    let e = ClientFrame::decode_web_body("close_thread", br#"{"payload":{"chat_id":"C"},"author_id":3}"#)
        .expect_err("numeric author");
    assert_eq!((e.action(), e.path()), (Some("close_thread"), Some("author_id")), "{e}");
    let e = ClientFrame::decode_web_body("close_thread", b"[]").expect_err("array");
    assert_eq!(e.kind(), DecodeErrorKind::NotAnObject);

    // Responses: the envelope or a bare payload.
    let r =
        Response::decode_web("upload_image", br#"{"url":"https://h/api/file/chatio/img/1/a.png","path":"1/a.png"}"#)
            .expect("bare");
    assert_eq!(
        r.result,
        Ok(ResponseData::UploadImage(UploadImageResponse::new("https://h/api/file/chatio/img/1/a.png", "1/a.png")))
    );
    let r = Response::decode_web(
        "join_chat",
        br#"{"type":"response","success":false,"payload":{"error":{"type":"authorization","message":"not yours"}}}"#,
    )
    .expect("envelope");
    assert!(
        matches!(&r.result, Err(f) if f.error.kind == ErrorType::Authorization && f.action == "join_chat"),
        "{r:?}"
    );
    let e = Response::decode_web("join_chat", br#"{"type":"push","payload":{}}"#).expect_err("a push");
    assert_eq!(e.kind(), DecodeErrorKind::InvalidFrame);
}

#[test]
fn whispers_and_typing_carry_recipients() {
    let f = client(
        r#"{"action":"send_event","payload":{"chat_id":"C","event":{"recipients":"agents","type":"message","text":"psst"}}}"#,
    );
    let Request::SendEvent(s) = &f.request else { panic!("{f:?}") };
    assert_eq!(s.event, NewEvent::message("psst").with_recipients(Recipients::Agents));
    // An unknown value is kept and written back.
    let f = client(
        r#"{"action":"send_typing_indicator","payload":{"chat_id":"C","recipients":"owners","is_typing":true}}"#,
    );
    assert_eq!(
        f.encode(),
        r#"{"action":"send_typing_indicator","payload":{"chat_id":"C","recipients":"owners","is_typing":true}}"#
    );
}

#[test]
fn agent_start_chat_shapes_are_the_shared_payload() {
    let reference = client(
        r#"{"action":"start_chat","payload":{"chat":{"properties":{"source":{"type":"facebook"}},"thread":{"events":[{"type":"message","text":"hi"}]}}}}"#,
    );
    let initial = client(
        r#"{"action":"start_chat","payload":{"properties":{"source":{"type":"facebook"}},"initial_events":[{"type":"message","text":"hi"}]}}"#,
    );
    assert_eq!(reference, initial);
    assert_eq!(
        initial.encode(),
        r#"{"action":"start_chat","payload":{"chat":{"properties":{"source":{"type":"facebook"}},"thread":{"events":[{"type":"message","text":"hi"}]}}}}"#
    );
}

#[test]
fn server_tolerance() {
    // A22: the flat form splits by user type.
    let f = server(
        r#"{"action":"chat_users_updated","type":"push","payload":{"chat_id":"C","updated_users":{"added":[{"id":"c","type":"customer"},{"id":"b","type":"bot"}],"removed_ids":["a"]}}}"#,
    );
    let ServerFrame::Push(PushFrame { push: Push::ChatUsersUpdated(u), .. }) = &f else { panic!("{f:?}") };
    assert_eq!(u.updated_users.customers.added.len(), 1);
    assert_eq!(u.updated_users.agents.added[0].id, "b");
    assert_eq!(u.updated_users.agents.removed_ids, [UserId::new("a")]);
    // A repeated `login`'s chat list may be missing altogether.
    let f = server(
        r#"{"action":"login","type":"response","success":true,"payload":{"license":{"id":"1"},"my_profile":{"id":"a","type":"agent"}}}"#,
    );
    let ServerFrame::Response(Response { result: Ok(ResponseData::Login(l)), .. }) = &f else { panic!("{f:?}") };
    assert!(l.chats_summary.is_empty());
    // A28 on the agent side: a customer's V02 `properties` are its `fields`.
    let f = server(
        r#"{"action":"customer_updated","type":"push","payload":{"chat_id":"C","customer":{"id":"c","type":"customer","properties":{"plan":"gold"},"fields":null,"banned":null}}}"#,
    );
    let ServerFrame::Push(PushFrame { push: Push::CustomerUpdated(c), .. }) = &f else { panic!("{f:?}") };
    assert_eq!(c.customer.fields.as_ref().and_then(|f| f.get("plan")).map(String::as_str), Some("gold"));
    assert_eq!(c.customer.banned, None);
}
