//! Web API bodies: wrapped or bare requests (D11), envelope or bare responses.

use chatio_wire::{ErrorType, Request, Response, ResponseData};

#[test]
fn request_bodies_wrapped_or_bare() {
    let wrapped =
        Request::decode_web_body("send_event", br#"{"payload":{"chat_id":"C","event":{"type":"message","text":"x"}}}"#)
            .expect("wrapped");
    let bare = Request::decode_web_body("send_event", br#"{"chat_id":"C","event":{"type":"message","text":"x"}}"#)
        .expect("bare");
    assert_eq!(wrapped, bare);
    assert!(matches!(wrapped, Request::SendEvent(_)));
    let unknown = Request::decode_web_body("zz_new", br#"{"payload":{"a":1}}"#).expect("unknown");
    assert!(matches!(unknown, Request::Unknown { ref action, .. } if action == "zz_new"));
}

#[test]
fn request_body_errors_name_the_field() {
    let e = Request::decode_web_body("close_thread", br#"{"payload":{}}"#).expect_err("missing chat_id");
    assert_eq!(e.action(), Some("close_thread"));
    assert_eq!(e.field(), Some("chat_id"));
    assert!(Request::decode_web_body("close_thread", b"not json").is_err());
}

#[test]
fn responses_envelope_or_bare() {
    let bare = Response::decode_web("send_file", br#"{"url":"http://x/f.png"}"#).expect("bare");
    let env = Response::decode_web(
        "send_file",
        br#"{"action":"send_file","type":"response","success":true,"payload":{"url":"http://x/f.png"}}"#,
    )
    .expect("envelope");
    assert_eq!(bare, env);
    assert!(matches!(bare.result, Ok(ResponseData::SendFile(ref r)) if r.url == "http://x/f.png"));
    let failed = Response::decode_web(
        "send_file",
        br#"{"success":false,"payload":{"error":{"type":"validation","message":"too big"}}}"#,
    )
    .expect("failure");
    let err = failed.result.expect_err("a failure");
    assert_eq!(err.error.kind, ErrorType::Validation);
    assert_eq!(err.action, "send_file");
}

use chatio_wire::{DecodeErrorKind, ErrorObject, SendEvent, SendFileResponse};

/// serde_json's (line, column) of the byte just after the first `needle` in `text`.
fn position_after(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).expect("needle") + needle.len();
    let head = &text[..at];
    let start = head.rfind('\n').map_or(0, |i| i + 1);
    (1 + head.matches('\n').count(), at - start)
}

#[test]
fn a_payload_member_that_is_not_an_object_is_not_the_payload() {
    // `payload` holding a string is an ordinary (unknown) key of a bare body; the body itself
    // then lacks `chat_id`.
    let e = Request::decode_web_body("close_thread", br#"{"payload":"C"}"#).expect_err("no chat_id");
    assert_eq!(e.kind(), DecodeErrorKind::InvalidPayload);
    assert_eq!(e.field(), Some("chat_id"));
    let r = Request::decode_web_body("close_thread", br#"{"chat_id":"C","payload":null}"#).expect("bare");
    assert_eq!(r, Request::CloseThread(chatio_wire::CloseThread::new("C")));
    // A wrapped body may carry other keys; they are ignored.
    let r = Request::decode_web_body(
        "send_event",
        br#"{"license_id":1,"payload":{"chat_id":"C","event":{"type":"message","text":"x"}}}"#,
    )
    .expect("wrapped");
    assert_eq!(r, Request::SendEvent(SendEvent::new("C", chatio_wire::NewEvent::message("x"))));
}

/// Bug: a JSON array body was accepted (serde's derived structs read arrays as tuples), e.g.
/// `[{"chat_id":…}]` as a `send_event` request.
#[test]
fn only_objects_are_bodies() {
    for body in [&br#"[{"chat_id":"C","event":{"type":"message","text":"x"}}]"#[..], b"[]", b"\"x\"", b"null", b"7"] {
        let e = Request::decode_web_body("send_event", body).expect_err("not an object");
        assert_eq!(e.kind(), DecodeErrorKind::NotAnObject, "{}", String::from_utf8_lossy(body));
        let e = Response::decode_web("send_file", body).expect_err("not an object");
        assert_eq!(e.kind(), DecodeErrorKind::NotAnObject, "{}", String::from_utf8_lossy(body));
    }
    assert_eq!(
        Response::decode_web("send_file", b"[null, true]").expect_err("array").kind(),
        DecodeErrorKind::NotAnObject
    );
}

/// Bug: error positions pointed into the frame built around the body, not into the body.
#[test]
fn error_positions_point_into_the_body() {
    let body = "{\n  \"payload\": {\n    \"chat_id\": 5\n  }\n}";
    let e = Request::decode_web_body("close_thread", body.as_bytes()).expect_err("bad chat_id");
    assert_eq!(e.path(), Some("payload.chat_id"));
    assert_eq!(e.position(), Some(position_after(body, "5")));

    let body = r#"{"chat_id":"C","event":{"type":"message","text":false}}"#;
    let e = Request::decode_web_body("send_event", body.as_bytes()).expect_err("bad text");
    assert_eq!(e.path(), Some("payload.event.text"));
    assert_eq!(e.position(), Some(position_after(body, "false")));

    let body = r#"{"payload":{}}"#;
    let e = Request::decode_web_body("send_event", body.as_bytes()).expect_err("missing chat_id");
    assert_eq!(e.field(), Some("chat_id"));
    assert_eq!(e.position(), Some(position_after(body, "{}")));

    let body = r#"{"url": 5}"#;
    let e = Response::decode_web("send_file", body.as_bytes()).expect_err("bad url");
    assert_eq!(e.position(), Some(position_after(body, "5")));

    let body = "  {\"type\":\"response\",\n \"success\":true, \"payload\":{\"url\":[]}}";
    let e = Response::decode_web("send_file", body.as_bytes()).expect_err("bad url");
    assert_eq!(e.path(), Some("payload.url"));
    // serde_json reports an unexpected array where it starts.
    assert_eq!(e.position(), Some(position_after(body, r#""url":"#)));

    // Syntax errors are found in the body itself.
    let e = Response::decode_web("send_file", b"{\"url\":\n}").expect_err("syntax");
    assert_eq!((e.kind(), e.position()), (DecodeErrorKind::Syntax, Some((2, 1))));
}

#[test]
fn response_envelopes_and_bare_payloads() {
    // A bare `{}` is the empty payload of actions without one.
    for action in ["close_thread", "update_chat_scopes", "send_sneak_peek"] {
        let r = Response::decode_web(action, b"{}").expect("bare empty");
        assert_eq!(r.action(), action);
        assert!(r.result.is_ok());
        assert_eq!(r.request_id, None);
    }
    // `type` alone marks an envelope; `success` defaults by the payload.
    let r = Response::decode_web("send_file", br#"{"type":"response","payload":{"url":"u"}}"#).expect("envelope");
    assert_eq!(r, Response::success(None, ResponseData::SendFile(SendFileResponse::new("u"))));
    let r = Response::decode_web(
        "send_file",
        br#"{"type":"response","payload":{"error":{"type":"internal","message":"m"}}}"#,
    )
    .expect("envelope");
    assert_eq!(r, Response::failure(None, "send_file", ErrorObject::new(ErrorType::Internal, "m")));
    // The body's own `action` and `request_id` win.
    let r =
        Response::decode_web("x", br#"{"request_id":"q","action":"send_file","success":true,"payload":{"url":"u"}}"#)
            .expect("envelope");
    assert_eq!(r.action(), "send_file");
    assert_eq!(r.request_id.as_ref().and_then(|i| i.as_str()), Some("q"));
    // Unknown actions keep their payload.
    let r = Response::decode_web("zz_new", br#"{"a":1}"#).expect("unknown");
    assert!(
        matches!(r.result, Ok(ResponseData::Unknown { ref action, payload: Some(ref p) }) if action == "zz_new" && p.get() == r#"{"a":1}"#)
    );
    // An envelope saying `push` is not a response.
    let e = Response::decode_web("send_file", br#"{"type":"push","payload":{}}"#).expect_err("push");
    assert_eq!((e.kind(), e.path(), e.action()), (DecodeErrorKind::InvalidFrame, Some("type"), Some("send_file")));
    // Every failure status carries an error object.
    for ty in ErrorType::KNOWN {
        let body = format!(
            r#"{{"action":"start_chat","type":"response","success":false,"payload":{{"error":{{"type":"{ty}","message":"{}"}}}}}}"#,
            ty.default_message()
        );
        let r = Response::decode_web("start_chat", body.as_bytes()).expect("failure");
        assert_eq!(r.result.expect_err("failure").error, ErrorObject::with_default_message(ty.clone()));
    }
}

#[test]
fn bodies_are_bounded_and_utf8() {
    let big = vec![b' '; chatio_wire::MAX_FRAME_LEN + 1];
    assert_eq!(Request::decode_web_body("send_event", &big).expect_err("big").kind(), DecodeErrorKind::TooLarge);
    assert_eq!(Response::decode_web("send_event", &big).expect_err("big").kind(), DecodeErrorKind::TooLarge);
    assert_eq!(
        Request::decode_web_body("send_event", b"{\"a\":\"\xff\"}").expect_err("utf-8").kind(),
        DecodeErrorKind::NotUtf8
    );
    assert_eq!(
        Response::decode_web("send_event", b"{\"a\":\"\xff\"}").expect_err("utf-8").kind(),
        DecodeErrorKind::NotUtf8
    );
    // An action name needing escapes is carried safely.
    let r = Request::decode_web_body("we\"ird\n", br#"{"a":1}"#).expect("unknown action");
    assert!(matches!(r, Request::Unknown { ref action, .. } if action == "we\"ird\n"));
}
