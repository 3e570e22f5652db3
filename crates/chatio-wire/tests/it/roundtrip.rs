//! decode(encode(x)) == x for every type.

use chatio_wire::*;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::strategies::*;

pub(crate) fn round<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) -> Result<(), TestCaseError> {
    let text = serde_json::to_string(v).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
    prop_assert_eq!(&back, v, "{}", text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn client_frames(f in client_frame()) {
        let text = f.encode();
        let back = ClientFrame::decode(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(back, f, "{}", text);
    }

    #[test]
    fn server_frames(f in server_frame()) {
        let text = f.encode();
        let back = ServerFrame::decode(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(back, f, "{}", text);
    }

    #[test]
    fn server_frames_as_bytes(f in server_frame()) {
        let text = f.encode();
        let back = ServerFrame::decode_bytes(text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, f);
    }

    #[test]
    fn objects(e in event(), n in new_event(), t in thread(), c in chat(), s in chat_summary(), ts in thread_summary(), u in user()) {
        round(&e)?;
        round(&n)?;
        round(&t)?;
        round(&c)?;
        round(&s)?;
        round(&ts)?;
        round(&u)?;
    }

    #[test]
    fn small_types(p in properties(), sc in scopes(), cd in customer_data(), err in error_object(), r in reason(), id in request_id(), tm in timestamp(), ti in typing_indicator(), sp in sneak_peek(), li in license_id()) {
        round(&ti)?;
        round(&sp)?;
        round(&li)?;
        round(&p)?;
        round(&sc)?;
        round(&cd)?;
        round(&err)?;
        round(&r)?;
        round(&id)?;
        round(&tm)?;
    }
}

#[test]
fn unknown_types_survive_a_round_trip() {
    let raw = r#"{"request_id":"x","action":"zz_new","type":"push","payload":{"a":[1,{"b":null}],"c":"d"}}"#;
    let f = ServerFrame::decode(raw).expect("decodes");
    assert_eq!(f.encode(), raw);
    let raw = r#"{"action":"zz_new_action","payload":{"x": 1}}"#;
    assert_eq!(ClientFrame::decode(raw).expect("decodes").encode(), raw);
}
