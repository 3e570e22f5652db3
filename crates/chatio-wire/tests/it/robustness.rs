//! Untrusted input never panics the decoder: arbitrary bytes, arbitrary strings, and mutated
//! fixture frames give a value or a typed error.

use std::path::Path;

use chatio_wire::{ClientFrame, Limits, ServerFrame};
use proptest::prelude::*;

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/frames");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("fixtures")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .map(|b| serde_json::from_slice::<serde_json::Value>(&b).expect("json").to_string().into_bytes())
        .collect();
    out.sort();
    out
}

fn decode_all(bytes: &[u8]) {
    let _ = ClientFrame::decode_bytes(bytes);
    let _ = ServerFrame::decode_bytes(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        let _ = ClientFrame::decode(s);
        let _ = ServerFrame::decode(s);
        let _ = chatio_wire::Request::decode_web_body("send_event", bytes);
        let _ = chatio_wire::Response::decode_web("send_event", bytes);
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Delete(usize),
    Splice(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop_oneof![Just(b'{'), Just(b'}'), Just(b'"'), Just(b','), Just(b':'), Just(b'['), any::<u8>()]
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Splice(a, b)),
    ]
}

fn apply(mut v: Vec<u8>, ms: &[Mutation], other: &[u8]) -> Vec<u8> {
    for m in ms {
        let len = v.len().max(1);
        match *m {
            Mutation::Flip(i, b) => {
                if let Some(x) = v.get_mut(i % len) {
                    *x ^= b;
                }
            }
            Mutation::Truncate(i) => v.truncate(i % len),
            Mutation::Insert(i, b) => v.insert(i % (v.len() + 1), b),
            Mutation::Delete(i) => {
                if !v.is_empty() {
                    v.remove(i % v.len());
                }
            }
            Mutation::Splice(a, b) => {
                let at = a % (v.len() + 1);
                let from = b % (other.len().max(1));
                v.splice(at..at, other.get(from..).unwrap_or_default().iter().copied());
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn arbitrary_strings(s in ".{0,256}") {
        decode_all(s.as_bytes());
    }

    #[test]
    fn mutated_fixtures(i in any::<usize>(), j in any::<usize>(), ms in proptest::collection::vec(mutation(), 1..6)) {
        let c = corpus();
        let base = c[i % c.len()].clone();
        let other = c[j % c.len()].clone();
        decode_all(&apply(base, &ms, &other));
    }
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    for depth in [200usize, 10_000, 100_000] {
        let s = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        let e = ServerFrame::decode(&s).expect_err("too deep");
        assert_eq!(e.kind(), chatio_wire::DecodeErrorKind::TooDeep, "{e}");
        // A deep array is refused as what it is: not an object.
        let s = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(ClientFrame::decode(&s).expect_err("array").kind(), chatio_wire::DecodeErrorKind::NotAnObject);
        let payload = format!(
            r#"{{"action":"incoming_multicast","type":"push","payload":{{"author_id":"a","content":{}{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let e = ServerFrame::decode_with(&payload, &Limits::with_max_frame_len(usize::MAX)).expect_err("too deep");
        assert_eq!(e.kind(), chatio_wire::DecodeErrorKind::TooDeep, "{e}");
    }
}

#[test]
fn nesting_within_the_limit_decodes() {
    let s = format!(
        r#"{{"action":"incoming_multicast","type":"push","payload":{{"author_id":"a","content":{}1{}}}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    assert!(ServerFrame::decode(&s).is_ok());
}
