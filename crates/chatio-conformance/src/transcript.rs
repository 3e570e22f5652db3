//! The transcript format: JSON lines, one per thing that happened on the wire.
//!
//! ```text
//! {"kind":"session","name":"methods","license":100,"server_seed":7,"client_seed":5,"agent":true}
//! {"kind":"token","t":0,"fresh":false,"customer_id":"9b1c…"}
//! {"kind":"connected","t":0}
//! {"kind":"out","t":0,"frame":{"request_id":"…","action":"login","payload":{…}}}
//! {"kind":"in","t":0,"frame":{"request_id":"…","action":"login","type":"response",…}}
//! {"kind":"fault","t":300,"fault":"drop_connections","customer_id":"9b1c…"}
//! {"kind":"disconnected","t":300,"code":null,"reason":"failed"}
//! ```
//!
//! `t` is milliseconds since the session started, rounded down to 100 ms. Frames are
//! normalised (see [`crate::normalize`]): times, server addresses and tokens are replaced by
//! stable values; ids are the seeded server's and client's own.

use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;

/// One line of a transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Line {
    /// The header: how to reproduce the session.
    Session {
        /// The session's name (its file name without `.jsonl`).
        name: String,
        /// The license used.
        license: u64,
        /// The reference server's id seed.
        server_seed: u64,
        /// The SDK's seed.
        client_seed: u64,
        /// Whether the scripted agent was on (always with no delay).
        agent: bool,
    },
    /// The client got a token (from the token endpoint).
    Token {
        /// Milliseconds since the start.
        t: u64,
        /// Asked fresh after an authentication error.
        fresh: bool,
        /// The customer it is for.
        customer_id: Option<String>,
    },
    /// The websocket opened.
    Connected {
        /// Milliseconds since the start.
        t: u64,
    },
    /// A frame from client to server.
    Out {
        /// Milliseconds since the start.
        t: u64,
        /// The frame.
        frame: Value,
    },
    /// A frame from server to client.
    In {
        /// Milliseconds since the start.
        t: u64,
        /// The frame.
        frame: Value,
    },
    /// A fault the recorder injected into the server.
    Fault {
        /// Milliseconds since the start.
        t: u64,
        /// `drop_connections`, `expire_tokens`, `swallow_next_response`, `ban`.
        fault: String,
        /// The customer it targets.
        customer_id: String,
    },
    /// The client uploaded a file through the Web API (`send_file`); its bytes are
    /// `i % 256` for `i` in `0..size`.
    Upload {
        /// Milliseconds since the start.
        t: u64,
        /// The chat.
        chat_id: String,
        /// The event's custom id.
        custom_id: Option<String>,
        /// The file name.
        name: String,
        /// The size in bytes.
        size: u64,
    },
    /// The websocket closed.
    Disconnected {
        /// Milliseconds since the start.
        t: u64,
        /// The close code, if the close was clean.
        code: Option<u16>,
        /// The close reason (`failed` for a broken connection).
        reason: String,
    },
}

impl Line {
    /// The time of the line (0 for the header).
    pub fn t(&self) -> u64 {
        match self {
            Line::Session { .. } => 0,
            Line::Token { t, .. }
            | Line::Connected { t }
            | Line::Out { t, .. }
            | Line::In { t, .. }
            | Line::Fault { t, .. }
            | Line::Upload { t, .. }
            | Line::Disconnected { t, .. } => *t,
        }
    }
}

/// A whole transcript.
#[derive(Clone, Debug, PartialEq)]
pub struct Transcript {
    /// Its lines, the header first.
    pub lines: Vec<Line>,
}

impl Transcript {
    /// The header's fields: (name, license, server seed, client seed, agent).
    pub fn header(&self) -> Option<(&str, u64, u64, u64, bool)> {
        match self.lines.first()? {
            Line::Session { name, license, server_seed, client_seed, agent } => {
                Some((name, *license, *server_seed, *client_seed, *agent))
            }
            _ => None,
        }
    }

    /// Reads a `.jsonl` transcript.
    ///
    /// # Errors
    /// [`Error::Io`] and, for a line that is not a transcript line, [`Error::Format`] (with
    /// the line number).
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses a transcript from its text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`Error::Format`] for a line that is not a transcript line (with the line number).
    pub fn parse(text: &str, origin: &str) -> Result<Self, Error> {
        let mut lines = Vec::new();
        for (n, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let line = serde_json::from_str(l)
                .map_err(|source| Error::Format { at: format!("{origin}:{}", n + 1), source })?;
            lines.push(line);
        }
        Ok(Self { lines })
    }

    /// Writes it as JSON lines.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let write = || -> io::Result<()> {
            let mut f = io::BufWriter::new(std::fs::File::create(path)?);
            for l in &self.lines {
                serde_json::to_writer(&mut f, l)?;
                f.write_all(b"\n")?;
            }
            f.flush()
        };
        write().map_err(Error::io(path))
    }
}
