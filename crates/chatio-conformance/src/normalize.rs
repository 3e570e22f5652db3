//! Normalisation of volatile values, so that re-recording gives the same transcript and a
//! replay can compare frames exactly.
//!
//! * every `timestamp` and `last_seen_timestamp` becomes [`TIME`]; so does a chat summary's
//!   `order` (it is the last activity time), a customer's `monitoring` times (a visit's and
//!   a page's `start`, `last_visit`: the server's clock, which a seed does not fix) and a
//!   login response's `static_config_path` host;
//! * the server's base URL (`http://127.0.0.1:PORT`) becomes [`SERVER`] in every string;
//! * the `login` token becomes `Bearer <redacted>`.
//!
//! Ids are not touched: the reference server and the SDK are seeded, so they repeat.

use serde_json::Value;

/// The time every timestamp becomes.
pub const TIME: u64 = 1_700_000_000;
/// The base URL every server address becomes.
pub const SERVER: &str = "http://server";
/// The token every login carries after normalisation.
pub const TOKEN: &str = "Bearer <redacted>";

/// Normalises a frame in place. `server` is the real base URL to replace.
pub fn frame(v: &mut Value, server: &str) {
    walk(v, server, false);
    if v.get("action").and_then(Value::as_str) == Some("login") && v.get("type").is_none() {
        if let Some(t) = v.pointer_mut("/payload/token") {
            *t = Value::String(TOKEN.into());
        }
    }
}

fn walk(v: &mut Value, server: &str, in_summaries: bool) {
    match v {
        Value::String(s) if !server.is_empty() && s.contains(server) => *s = s.replace(server, SERVER),
        Value::Array(a) => {
            for x in a {
                walk(x, server, in_summaries);
            }
        }
        Value::Object(m) => {
            let summary = in_summaries && m.contains_key("last_event_per_type");
            for (k, x) in m.iter_mut() {
                match k.as_str() {
                    "timestamp" | "last_seen_timestamp" if x.is_number() => *x = Value::from(TIME),
                    "order" if summary && x.is_number() => *x = Value::from(TIME),
                    "chats_summary" => walk(x, server, true),
                    "monitoring" => {
                        monitoring_times(x);
                        walk(x, server, false);
                    }
                    _ => walk(x, server, false),
                }
            }
        }
        _ => {}
    }
}

/// Every `start` and `last_visit` under a customer's `monitoring` becomes [`TIME`].
fn monitoring_times(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(monitoring_times),
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match k.as_str() {
                    "start" | "last_visit" if x.is_number() => *x = Value::from(TIME),
                    _ => monitoring_times(x),
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_urls_tokens() {
        let mut v: Value = serde_json::from_str(
            r#"{"action":"login","payload":{"token":"Bearer dev-x"},"x":{"timestamp":5,"url":"http://127.0.0.1:9/a","chats_summary":[{"order":9,"last_event_per_type":{}}]}}"#,
        )
        .unwrap();
        frame(&mut v, "http://127.0.0.1:9");
        assert_eq!(
            v.to_string(),
            r#"{"action":"login","payload":{"token":"Bearer <redacted>"},"x":{"chats_summary":[{"last_event_per_type":{},"order":1700000000}],"timestamp":1700000000,"url":"http://server/a"}}"#
        );
    }

    #[test]
    fn monitoring_times_but_not_its_counts() {
        let mut v: Value = serde_json::from_str(
            r#"{"users":[{"monitoring":{"current_visit":{"start":5,"pages":[{"start":6,"url":"u"}]},"stats":{"visits":2,"page_views":3,"last_visit":4}}}],"start":7}"#,
        )
        .unwrap();
        frame(&mut v, "");
        assert_eq!(
            v.to_string(),
            r#"{"start":7,"users":[{"monitoring":{"current_visit":{"pages":[{"start":1700000000,"url":"u"}],"start":1700000000},"stats":{"last_visit":1700000000,"page_views":3,"visits":2}}}]}"#
        );
    }
}
