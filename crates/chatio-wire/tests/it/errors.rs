//! Decode errors say what is wrong and where.

use chatio_wire::{ClientFrame, DecodeErrorKind, Limits, RequestId, ServerFrame};

#[test]
fn too_large_frames_are_refused_before_parsing() {
    let big = format!(r#"{{"action":"ping","pad":"{}"}}"#, "x".repeat(100));
    let e = ClientFrame::decode_with(&big, &Limits::with_max_frame_len(64)).expect_err("too large");
    assert_eq!(e.kind(), DecodeErrorKind::TooLarge);
    assert!(e.to_string().contains("exceeds the 64-byte limit"), "{e}");
    let just_over = "x".repeat(chatio_wire::MAX_FRAME_LEN + 1);
    assert_eq!(ServerFrame::decode(&just_over).expect_err("too large").kind(), DecodeErrorKind::TooLarge);
}

#[test]
fn bytes_must_be_utf8() {
    let e = ClientFrame::decode_bytes(b"{\"action\":\"p\xffng\"}").expect_err("not utf-8");
    assert_eq!(e.kind(), DecodeErrorKind::NotUtf8);
    assert!(e.to_string().contains("offset 12"), "{e}");
}

#[test]
fn syntax_errors_have_a_position() {
    let e = ClientFrame::decode(r#"{"action": "ping",}"#).expect_err("syntax");
    assert_eq!(e.kind(), DecodeErrorKind::Syntax);
    assert_eq!(e.position(), Some((1, 19)));
    assert_eq!(ServerFrame::decode("").expect_err("empty").kind(), DecodeErrorKind::Syntax);
}

#[test]
fn non_objects_are_named() {
    for s in ["[1,2]", "42", "\"ping\"", "null"] {
        let e = ClientFrame::decode(s).expect_err("not an object");
        assert_eq!(e.kind(), DecodeErrorKind::NotAnObject, "{s}: {e}");
        assert_eq!(e.request_id(), None);
    }
}

#[test]
fn a_missing_action_keeps_the_request_id() {
    let e = ClientFrame::decode(r#"{"request_id":"r1","payload":{}}"#).expect_err("no action");
    assert_eq!(e.kind(), DecodeErrorKind::MissingAction);
    assert_eq!(e.request_id(), Some(&RequestId::new("r1")));
    assert_eq!(e.to_string(), "frame has no `action` (line 1, column 32)");
}

#[test]
fn payload_errors_name_the_action_and_the_field() {
    let e = ClientFrame::decode(
        r#"{"request_id":7,"action":"send_event","payload":{"chat_id":"C","event":{"type":"message","text":5}}}"#,
    )
    .expect_err("bad text");
    assert_eq!(e.kind(), DecodeErrorKind::InvalidPayload);
    assert_eq!(e.action(), Some("send_event"));
    assert_eq!(e.path(), Some("payload.event.text"));
    assert_eq!(e.field(), Some("text"));
    assert_eq!(e.request_id(), Some(&RequestId::from_number(7)));
    assert!(
        e.to_string().starts_with("invalid `send_event` frame at `payload.event.text`: invalid type: integer `5`"),
        "{e}"
    );

    let e = ClientFrame::decode(r#"{"action":"send_event","payload":{"chat_id":"C"}}"#).expect_err("missing event");
    assert_eq!(e.field(), Some("event"));
    assert!(e.to_string().contains("missing field `event`"), "{e}");

    let e = ClientFrame::decode(r#"{"action":"send_event","payload":{"chat_id":"C","event":{"type":"message"}}}"#)
        .expect_err("missing text");
    assert_eq!(e.field(), Some("text"));

    let e = ServerFrame::decode(r#"{"action":"get_chats_summary","type":"response","success":true,"payload":{"chats_summary":[],"total_chats":-1}}"#)
        .expect_err("negative total");
    assert_eq!(e.path(), Some("payload.total_chats"));
}

#[test]
fn frame_field_errors() {
    let e = ServerFrame::decode(r#"{"action":"close_thread","type":"event","success":true}"#).expect_err("bad type");
    assert_eq!(e.kind(), DecodeErrorKind::InvalidFrame);
    assert_eq!(e.path(), Some("type"));
    let e =
        ServerFrame::decode(r#"{"action":"close_thread","type":"response","success":"yes"}"#).expect_err("bad success");
    assert_eq!(e.path(), Some("success"));
    let e = ServerFrame::decode(r#"{"action":"zz_unknown","payload":{}}"#).expect_err("cannot tell");
    assert!(e.to_string().contains("missing field `type`"), "{e}");
}
