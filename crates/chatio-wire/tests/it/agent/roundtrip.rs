//! decode(encode(x)) == x for every agent frame and object.

use super::strategies::{client_frame, objects, server_frame};
use crate::roundtrip::round;
use chatio_wire::RawJson;
use chatio_wire::agent::{ClientFrame, Request, ServerFrame};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn client_frames(f in client_frame()) {
        let text = f.encode();
        let back = ClientFrame::decode(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(&back, &f, "{}", text);
        let bytes = ClientFrame::decode_bytes(text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(bytes, f);
    }

    #[test]
    fn server_frames(f in server_frame()) {
        let text = f.encode();
        let back = ServerFrame::decode(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(&back, &f, "{}", text);
        let bytes = ServerFrame::decode_bytes(text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(bytes, f);
    }

    /// A Web API body (`{"payload", "author_id"}`) decodes to the frame without its request id.
    #[test]
    fn web_bodies(f in client_frame()) {
        let body = f.encode_web_body();
        let back = ClientFrame::decode_web_body(f.request.action(), body.as_bytes())
            .map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        let mut expected = f;
        expected.request_id = None;
        // A Web API body always has a payload: an unknown action's absent one reads as `{}`.
        if let Request::Unknown { payload: payload @ None, .. } = &mut expected.request {
            *payload = Some(RawJson::from_json("{}").expect("JSON"));
        }
        prop_assert_eq!(back, expected, "{}", body);
    }

    #[test]
    fn objects_round_trip((user, summary, filters, rules, license, multicast, date) in objects()) {
        round(&user)?;
        round(&summary)?;
        round(&filters)?;
        round(&rules)?;
        round(&license)?;
        round(&multicast)?;
        round(&date)?;
    }
}
