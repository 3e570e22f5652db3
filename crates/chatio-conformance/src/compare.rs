//! Comparing a frame another implementation sent with the recorded one: ids are mapped as
//! they come, key order does not matter, times only need the right unit.
//!
//! * **Ids.** The recorded ids (every string under a key `id`, `…_id` or `…_ids` in a server
//!   frame, a token's customer, every `url`: files) are paired with the ids the
//!   implementation uses the first time they meet: the first chat id it sends pairs with the
//!   first recorded one, and so on. After that a recorded id must always meet its partner,
//!   and two recorded ids cannot share one. The pairing is kept in an [`IdMap`], which also
//!   rewrites the recorded client frames before they are sent.
//! * **Times.** Every recorded time is [`normalize::TIME`](crate::normalize::TIME); the
//!   value sent in its place must be a time in seconds (from 2001 to 5138), so that a
//!   server sending milliseconds is caught: `expected seconds, got milliseconds`.
//! * **Everything else** must be equal; objects compare regardless of key order.
//!
//! A difference is reported as a [`Diff`]: a path (`payload.chat.thread.events[0].timestamp`)
//! and what is wrong there.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::normalize::TIME;
use crate::transcript::{Line, Transcript};

/// One difference between a recorded frame and the frame an implementation sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// Where: `payload.chat.thread.events[0].timestamp` (empty for the whole frame).
    pub path: String,
    /// What: `expected seconds, got milliseconds`.
    pub what: String,
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { f.write_str(&self.what) } else { write!(f, "{}: {}", self.path, self.what) }
    }
}

/// The pairing of recorded ids with an implementation's ids.
#[derive(Clone, Debug, Default)]
pub struct IdMap {
    /// Strings of the transcript that are ids.
    known: HashSet<String>,
    /// Recorded id → the implementation's.
    to_actual: HashMap<String, String>,
    /// The implementation's id → recorded.
    to_recorded: HashMap<String, String>,
}

fn is_id_key(k: &str) -> bool {
    (k == "id" || k.ends_with("_id") || k.ends_with("_ids")) && k != "request_id" && k != "custom_id"
}

fn collect(v: &Value, under_id: bool, out: &mut HashSet<String>) {
    match v {
        Value::String(s) if under_id => {
            out.insert(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| collect(x, under_id, out)),
        Value::Object(m) => {
            for (k, x) in m {
                collect(x, is_id_key(k) || k == "url", out);
            }
        }
        _ => {}
    }
}

impl IdMap {
    /// The ids of a transcript: those in server frames and token lines.
    pub fn of(t: &Transcript) -> Self {
        let mut known = HashSet::new();
        for l in &t.lines {
            match l {
                Line::In { frame, .. } => collect(frame, false, &mut known),
                Line::Token { customer_id: Some(c), .. } => {
                    known.insert(c.clone());
                }
                _ => {}
            }
        }
        Self { known, ..Self::default() }
    }

    /// The ids a client chooses in a transcript: every `request_id` and `custom_id` of its
    /// frames (the SDK draws custom ids when the caller gives none).
    pub fn of_client(t: &Transcript) -> Self {
        fn chosen(v: &Value, out: &mut HashSet<String>) {
            match v {
                Value::Array(a) => a.iter().for_each(|x| chosen(x, out)),
                Value::Object(m) => {
                    for (k, x) in m {
                        match (k.as_str(), x) {
                            ("request_id" | "custom_id", Value::String(s)) => {
                                out.insert(s.clone());
                            }
                            _ => chosen(x, out),
                        }
                    }
                }
                _ => {}
            }
        }
        let mut known = HashSet::new();
        for l in &t.lines {
            if let Line::Out { frame, .. } = l {
                chosen(frame, &mut known);
            }
        }
        Self { known, ..Self::default() }
    }

    /// The file URLs of a transcript's server frames (every string under a `url` key): the
    /// reference server names uploaded files with unseeded random names, so even a seeded
    /// replay pairs them.
    pub fn of_urls(t: &Transcript) -> Self {
        fn urls(v: &Value, out: &mut HashSet<String>) {
            match v {
                Value::Array(a) => a.iter().for_each(|x| urls(x, out)),
                Value::Object(m) => {
                    for (k, x) in m {
                        match (k.as_str(), x) {
                            ("url", Value::String(s)) => {
                                out.insert(s.clone());
                            }
                            _ => urls(x, out),
                        }
                    }
                }
                _ => {}
            }
        }
        let mut known = HashSet::new();
        for l in &t.lines {
            if let Line::In { frame, .. } = l {
                urls(frame, &mut known);
            }
        }
        Self { known, ..Self::default() }
    }

    /// A map pairing these recorded strings (e.g. the request ids of the client frames).
    pub fn with_known(known: impl IntoIterator<Item = String>) -> Self {
        Self { known: known.into_iter().collect(), ..Self::default() }
    }

    /// Whether `s` is a recorded id.
    pub fn is_id(&self, s: &str) -> bool {
        self.known.contains(s)
    }

    /// Pairs a recorded id with the implementation's, unless either is paired already.
    ///
    /// # Errors
    /// An [`IdConflict`]: what the existing pairing says instead.
    pub fn pair(&mut self, recorded: &str, actual: &str) -> Result<(), IdConflict> {
        let conflict = |paired: Paired| IdConflict { recorded: recorded.to_owned(), actual: actual.to_owned(), paired };
        match (self.to_actual.get(recorded), self.to_recorded.get(actual)) {
            (Some(a), _) if a == actual => Ok(()),
            (Some(a), _) => Err(conflict(Paired::RecordedWith(a.clone()))),
            (None, Some(r)) => Err(conflict(Paired::ActualWith(r.clone()))),
            (None, None) => {
                self.to_actual.insert(recorded.to_owned(), actual.to_owned());
                self.to_recorded.insert(actual.to_owned(), recorded.to_owned());
                Ok(())
            }
        }
    }

    /// The implementation's id for a recorded one, once paired.
    pub fn actual(&self, recorded: &str) -> Option<&str> {
        self.to_actual.get(recorded).map(String::as_str)
    }

    /// The recorded id for one of the implementation's, once paired.
    pub fn recorded(&self, actual: &str) -> Option<&str> {
        self.to_recorded.get(actual).map(String::as_str)
    }

    /// A recorded frame with every paired id replaced by the implementation's.
    pub fn to_actual(&self, v: &Value) -> Value {
        self.rewrite(v, &self.to_actual)
    }

    /// A frame of the implementation with every paired id replaced by the recorded one.
    pub fn to_recorded(&self, v: &Value) -> Value {
        self.rewrite(v, &self.to_recorded)
    }

    fn rewrite(&self, v: &Value, map: &HashMap<String, String>) -> Value {
        match v {
            Value::String(s) => Value::String(map.get(s).cloned().unwrap_or_else(|| s.clone())),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.rewrite(x, map)).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), self.rewrite(x, map))).collect()),
            other => other.clone(),
        }
    }
}

/// The unit of a number standing for a time.
fn time_unit(v: &Value) -> Option<&'static str> {
    let n = v.as_f64()?;
    Some(match n {
        n if (1e9..1e11).contains(&n) => "seconds",
        n if (1e12..1e14).contains(&n) => "milliseconds",
        n if (1e15..1e17).contains(&n) => "microseconds",
        _ => return None,
    })
}

fn describe(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 { format!("{}…", s.chars().take(80).collect::<String>()) } else { s }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// Compares a recorded frame with the one an implementation sent, pairing ids in `ids`.
/// Returns every difference, in path order (empty when they match).
pub fn frames(expected: &Value, actual: &Value, ids: &mut IdMap) -> Vec<Diff> {
    let mut out = Vec::new();
    walk(expected, actual, "", ids, &mut out);
    out
}

fn walk(e: &Value, a: &Value, path: &str, ids: &mut IdMap, out: &mut Vec<Diff>) {
    let diff = |what: String| Diff { path: path.to_owned(), what };
    match (e, a) {
        (Value::Number(n), _) if n.as_u64() == Some(TIME) => match (time_unit(a), a) {
            (Some("seconds"), _) => {}
            (Some(unit), _) => out.push(diff(format!("expected seconds, got {unit} ({a})"))),
            (None, Value::Number(_)) => out.push(diff(format!("expected a time in seconds, got {a}"))),
            (None, _) => out.push(diff(format!("expected a time in seconds, got {}", describe(a)))),
        },
        (Value::String(es), Value::String(as_)) if ids.is_id(es) => {
            if let Err(what) = ids.pair(es, as_) {
                out.push(diff(what.to_string()));
            }
        }
        (Value::Object(em), Value::Object(am)) => {
            let mut keys: Vec<&String> = em.keys().chain(am.keys().filter(|k| !em.contains_key(*k))).collect();
            keys.sort();
            for k in keys {
                let p = join(path, k);
                match (em.get(k), am.get(k)) {
                    (Some(x), Some(y)) => walk(x, y, &p, ids, out),
                    (Some(x), None) => out.push(Diff { path: p, what: format!("missing (expected {})", describe(x)) }),
                    (None, Some(y)) => out.push(Diff { path: p, what: format!("unexpected (got {})", describe(y)) }),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(ea), Value::Array(aa)) => {
            for (i, (x, y)) in ea.iter().zip(aa).enumerate() {
                walk(x, y, &format!("{path}[{i}]"), ids, out);
            }
            if ea.len() != aa.len() {
                out.push(diff(format!("expected {} items, got {}", ea.len(), aa.len())));
            }
        }
        _ if e == a => {}
        _ if std::mem::discriminant(e) != std::mem::discriminant(a) => {
            out.push(diff(format!("expected {} ({}), got {} ({})", kind(e), describe(e), kind(a), describe(a))));
        }
        _ => out.push(diff(format!("expected {}, got {}", describe(e), describe(a)))),
    }
}

/// A recorded id and an implementation's id that cannot be paired: one of them already
/// stands for another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdConflict {
    /// The recorded id.
    pub recorded: String,
    /// The implementation's id.
    pub actual: String,
    /// The pairing that exists already.
    pub paired: Paired,
}

/// Which side of an [`IdConflict`] is paired already, and with what.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Paired {
    /// The recorded id stands for this implementation's id.
    RecordedWith(String),
    /// The implementation's id stands for this recorded id.
    ActualWith(String),
}

impl std::fmt::Display for IdConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (recorded, actual) = (&self.recorded, &self.actual);
        match &self.paired {
            Paired::RecordedWith(a) => write!(f, "expected {a:?} (recorded as {recorded:?}), got {actual:?}"),
            Paired::ActualWith(r) => write!(
                f,
                "expected a new id (recorded as {recorded:?}), got {actual:?}, which already stands for {r:?}"
            ),
        }
    }
}

impl std::error::Error for IdConflict {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(known: &[&str]) -> IdMap {
        IdMap { known: known.iter().map(|s| s.to_string()).collect(), ..IdMap::default() }
    }

    #[test]
    fn ids_pair_as_they_come_and_must_stay_paired() {
        let mut m = ids(&["C1", "C2"]);
        assert!(frames(&json!({"chat_id": "C1"}), &json!({"chat_id": "X"}), &mut m).is_empty());
        assert!(frames(&json!({"id": "C1"}), &json!({"id": "X"}), &mut m).is_empty());
        let d = frames(&json!({"a": {"chat_id": "C1"}}), &json!({"a": {"chat_id": "Y"}}), &mut m);
        assert_eq!(d[0].to_string(), r#"a.chat_id: expected "X" (recorded as "C1"), got "Y""#);
        let d = frames(&json!({"chat_id": "C2"}), &json!({"chat_id": "X"}), &mut m);
        assert!(d[0].what.contains("already stands for \"C1\""), "{}", d[0]);
        assert_eq!(m.to_actual(&json!({"p": ["C1", "other"]})), json!({"p": ["X", "other"]}));
    }

    #[test]
    fn times_need_seconds() {
        let mut m = IdMap::default();
        let e = json!({"payload": {"chat": {"thread": {"events": [{"timestamp": TIME}]}}}});
        let ok = json!({"payload": {"chat": {"thread": {"events": [{"timestamp": 1_764_600_000}]}}}});
        let ms = json!({"payload": {"chat": {"thread": {"events": [{"timestamp": 1_764_600_000_123u64}]}}}});
        assert!(frames(&e, &ok, &mut m).is_empty());
        let d = frames(&e, &ms, &mut m);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "payload.chat.thread.events[0].timestamp");
        assert!(d[0].what.starts_with("expected seconds, got milliseconds"), "{}", d[0]);
    }

    #[test]
    fn key_order_is_free_and_differences_have_paths() {
        let mut m = IdMap::default();
        let e: Value = serde_json::from_str(r#"{"a":1,"b":[1,2],"c":"x"}"#).unwrap();
        let a: Value = serde_json::from_str(r#"{"c":"x","b":[1,2],"a":1}"#).unwrap();
        assert!(frames(&e, &a, &mut m).is_empty());
        let a = json!({"a": "1", "b": [1], "d": true});
        let d: Vec<String> = frames(&e, &a, &mut m).iter().map(ToString::to_string).collect();
        assert_eq!(
            d,
            [
                r#"a: expected a number (1), got a string ("1")"#,
                "b: expected 2 items, got 1",
                r#"c: missing (expected "x")"#,
                "d: unexpected (got true)"
            ]
        );
    }
}
