//! Decoding untrusted bytes never panics: client frames, server frames, Web API bodies, of the
//! customer and the agent API; and whatever decodes re-encodes to something that decodes to the
//! same value.
#![no_main]

use chatio_wire::{ClientFrame, Request, Response, ServerFrame, agent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = ClientFrame::decode_bytes(data) {
        let again = ClientFrame::decode(&f.encode()).expect("canonical client frames decode");
        assert_eq!(again.request.action(), f.request.action());
    }
    if let Ok(f) = ServerFrame::decode_bytes(data) {
        let again = ServerFrame::decode(&f.encode()).expect("canonical server frames decode");
        assert_eq!(again.action(), f.action());
    }
    let _ = Request::decode_web_body("send_event", data);
    let _ = Response::decode_web("send_file", data);
    if let Ok(f) = agent::ClientFrame::decode_bytes(data) {
        let again = agent::ClientFrame::decode(&f.encode()).expect("canonical agent client frames decode");
        assert_eq!(again, f);
    }
    if let Ok(f) = agent::ServerFrame::decode_bytes(data) {
        let again = agent::ServerFrame::decode(&f.encode()).expect("canonical agent server frames decode");
        assert_eq!(again.action(), f.action());
    }
    let _ = agent::ClientFrame::decode_web_body("join_chat", data);
    let _ = agent::Response::decode_web("upload_image", data);
});
