//! The result of checking an implementation against the transcripts: per transcript pass,
//! fail or skipped, and for a failure the differing frame as a minimal diff with paths.
//! [`Report::text`] is for people, [`Report::json`] for machines.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::Error;
use crate::compare::Diff;

/// How a transcript went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every frame matched.
    Pass,
    /// A frame differed (or never came).
    Fail,
    /// Not run: the target cannot take it (the reason says why).
    Skipped,
}

/// A frame that differs from the recording.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    /// The transcript line (1-based) of the recorded frame.
    pub line: usize,
    /// Which frame: `` the `start_chat` response ``, `` the `incoming_event` push ``.
    pub frame: String,
    /// What happened, in one sentence.
    pub message: String,
    /// The differences, path by path (empty when the frame was missing altogether).
    pub diffs: Vec<Diff>,
    /// The recorded frame.
    pub expected: Option<Value>,
    /// What the implementation sent instead, if anything.
    pub got: Option<Value>,
}

/// The result of one transcript.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TranscriptResult {
    /// The transcript's name.
    pub name: String,
    /// Pass, fail or skipped.
    pub status: Status,
    /// Frames compared.
    pub frames_compared: usize,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The differing frames: the first one in server mode; every one in client mode.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
}

impl TranscriptResult {
    /// A skipped transcript.
    pub fn skipped(name: &str, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            status: Status::Skipped,
            frames_compared: 0,
            reason: Some(reason.into()),
            failures: vec![],
        }
    }
}

/// The whole check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// `server` (an implementation's server checked) or `client` (a client checked).
    pub mode: String,
    /// What was checked (a URL).
    pub target: String,
    /// One entry per transcript, in name order.
    pub transcripts: Vec<TranscriptResult>,
}

/// The frame's name for a report: `` the `login` response ``.
pub fn frame_name(v: &Value) -> String {
    let action = v.get("action").and_then(Value::as_str).unwrap_or("?");
    match v.get("type").and_then(Value::as_str) {
        Some(t) => format!("the `{action}` {t}"),
        None => format!("the `{action}` request"),
    }
}

impl Report {
    /// Transcripts with the status.
    pub fn count(&self, s: Status) -> usize {
        self.transcripts.iter().filter(|t| t.status == s).count()
    }

    /// Whether nothing failed (skipped transcripts do not fail the check).
    pub fn passed(&self) -> bool {
        self.count(Status::Fail) == 0
    }

    /// The report as pretty JSON.
    pub fn json(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert(
                "summary".into(),
                serde_json::json!({
                    "passed": self.count(Status::Pass),
                    "failed": self.count(Status::Fail),
                    "skipped": self.count(Status::Skipped),
                }),
            );
        }
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }

    /// The report for people.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = match self.mode.as_str() {
            "client" => writeln!(s, "chatio conformance serve: the client at {}", self.target),
            mode => writeln!(s, "chatio conformance {mode}: {}", self.target),
        };
        let width = self.transcripts.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in &self.transcripts {
            let tag = match t.status {
                Status::Pass => "pass",
                Status::Fail => "FAIL",
                Status::Skipped => "skip",
            };
            let _ = write!(s, "  {tag}  {:width$}", t.name);
            match t.status {
                Status::Pass => {
                    let _ = writeln!(s, "  {} frames", t.frames_compared);
                }
                Status::Skipped => {
                    let _ = writeln!(s, "  {}", t.reason.as_deref().unwrap_or(""));
                }
                Status::Fail => {
                    let n = t.frames_compared;
                    let _ = writeln!(s, "  after {n} matching frame{}", if n == 1 { "" } else { "s" });
                    for f in &t.failures {
                        let _ = writeln!(s, "        line {}: {}: {}", f.line, f.frame, f.message);
                        for d in &f.diffs {
                            let _ = writeln!(s, "          {d}");
                        }
                    }
                }
            }
        }
        let _ = writeln!(
            s,
            "{} passed, {} failed, {} skipped",
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skipped)
        );
        s
    }
}

/// Reads the transcripts of a directory (`*.jsonl`), in name order; `only` keeps one.
///
/// # Errors
/// I/O and format errors, and an `only` that names no transcript.
pub fn load(dir: &std::path::Path, only: Option<&str>) -> Result<Vec<(String, crate::transcript::Transcript)>, Error> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(Error::io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let t = crate::transcript::Transcript::read(&p)?;
        out.push((name, t));
    }
    if out.is_empty() {
        return Err(Error::Transcript(match only {
            Some(o) => format!("no transcript named `{o}` in {}", dir.display()),
            None => format!("no transcripts in {}", dir.display()),
        }));
    }
    Ok(out)
}

macro_rules! recorded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../fixtures/recorded/", $name, ".jsonl")))),*]
    };
}

/// The transcripts of `fixtures/recorded/`, built into the binary.
const RECORDED: &[(&str, &str)] = recorded!(
    "agent_pushes",
    "connect",
    "errors",
    "file_upload",
    "history",
    "methods",
    "outbox",
    "reconnect",
    "token_refresh",
);

/// The recorded transcripts built into the binary (those of `fixtures/recorded/` when it
/// was compiled), in name order; `only` keeps one.
///
/// # Errors
/// An `only` that names no transcript.
pub fn embedded(only: Option<&str>) -> Result<Vec<(String, crate::transcript::Transcript)>, Error> {
    let mut out = Vec::new();
    for (name, text) in RECORDED {
        if only.is_some_and(|o| o != *name) {
            continue;
        }
        let t = crate::transcript::Transcript::parse(text, name)?;
        out.push(((*name).to_owned(), t));
    }
    if out.is_empty() {
        let names: Vec<&str> = RECORDED.iter().map(|(n, _)| *n).collect();
        let (only, names) = (only.unwrap_or_default(), names.join(", "));
        return Err(Error::Transcript(format!("no transcript named `{only}` (there are {names})")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_transcripts_are_those_of_the_fixtures() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/recorded");
        let on_disk = load(&dir, None).expect("fixtures");
        let built_in = embedded(None).expect("built in");
        assert_eq!(on_disk, built_in, "add new transcripts to `RECORDED`");
        assert!(embedded(Some("nope")).unwrap_err().to_string().contains("methods"));
    }
}
