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
