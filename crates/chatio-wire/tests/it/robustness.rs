//! Untrusted input never panics the decoder: arbitrary bytes, arbitrary strings, and mutated
//! fixture frames give a value or a typed error.

use std::path::Path;
use std::sync::OnceLock;

use chatio_wire::{ClientFrame, DecodeErrorKind, Limits, Request, Response, ServerFrame};
use proptest::prelude::*;

/// Every fixture frame, compact, read once.
fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/frames");
        let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .expect("fixtures")
            .filter_map(|e| {
                let path = e.ok()?.path();
                (path.extension()? == "json").then_some(path)
            })
            .map(|p| std::fs::read(p).expect("fixture readable"))
            .map(|b| serde_json::from_slice::<serde_json::Value>(&b).expect("json").to_string().into_bytes())
            .collect();
        out.sort();
        out
    })
}

/// Decodes `bytes` every way there is. Each decode gives a value or a typed error (a panic
/// fails the test); a value re-encodes to canonical JSON that decodes to the same value; an
/// error has a message and agrees between the `&str` and `&[u8]` entry points.
fn decode_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    let client = ClientFrame::decode_bytes(bytes);
    let server = ServerFrame::decode_bytes(bytes);
    match &client {
        Ok(f) => prop_assert_eq!(&ClientFrame::decode(&f.encode()), &Ok(f.clone()), "{}", f.encode()),
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    match &server {
        Ok(f) => prop_assert_eq!(&ServerFrame::decode(&f.encode()), &Ok(f.clone()), "{}", f.encode()),
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            prop_assert_eq!(&ClientFrame::decode(s), &client);
            prop_assert_eq!(&ServerFrame::decode(s), &server);
        }
        Err(_) => {
            prop_assert_eq!(client.map_err(|e| e.kind()), Err(DecodeErrorKind::NotUtf8));
            prop_assert_eq!(server.map_err(|e| e.kind()), Err(DecodeErrorKind::NotUtf8));
        }
    }
    if let Ok(r) = Request::decode_web_body("send_event", bytes) {
        let f = ClientFrame::new(None, r);
        prop_assert_eq!(ClientFrame::decode(&f.encode()), Ok(f));
    }
    if let Ok(r) = Response::decode_web("send_event", bytes) {
        let f = ServerFrame::Response(r);
        prop_assert_eq!(ServerFrame::decode(&f.encode()), Ok(f));
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Delete(usize),
    Splice(usize, usize),
    /// `n` opening brackets at a position, closed (or not) right after.
    Nest(usize, usize, bool),
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
        (any::<usize>(), prop_oneof![1usize..200, Just(10_000)], any::<bool>())
            .prop_map(|(i, n, c)| Mutation::Nest(i, n, c)),
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
            Mutation::Nest(i, n, closed) => {
                let at = i % (v.len() + 1);
                let mut nest = vec![b'['; n];
                if closed {
                    nest.extend(std::iter::repeat_n(b']', n));
                }
                v.splice(at..at, nest);
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes)?;
    }

    #[test]
    fn arbitrary_strings(s in ".{0,256}") {
        decode_all(s.as_bytes())?;
    }

    #[test]
    fn mutated_fixtures(i in any::<usize>(), j in any::<usize>(), ms in proptest::collection::vec(mutation(), 1..6)) {
        let c = corpus();
        let base = c[i % c.len()].clone();
        let other = &c[j % c.len()];
        decode_all(&apply(base, &ms, other))?;
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

/// Values the decoder skips or keeps raw are scanned without recursion: deep ones cost no
/// stack, stay within the frame size limit, and an unknown payload survives a round trip.
#[test]
fn skipped_and_raw_values_may_be_deep() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let ping = format!(r#"{{"action":"ping","extra":{deep}}}"#);
    assert_eq!(ClientFrame::decode(&ping).map(|f| f.request), Ok(Request::Ping));
    let unknown = format!(r#"{{"action":"zz_new","type":"push","payload":{{"x":{deep}}}}}"#);
    let f = ServerFrame::decode(&unknown).expect("unknown push kept raw");
    assert_eq!(f.encode(), unknown);
    // A value the decoder reads is limited.
    let custom =
        format!(r#"{{"action":"incoming_multicast","type":"push","payload":{{"author_id":"a","content":{deep}}}}}"#);
    assert_eq!(ServerFrame::decode(&custom).expect_err("too deep").kind(), DecodeErrorKind::TooDeep);
}
