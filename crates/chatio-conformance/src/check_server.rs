//! `chatio conformance server URL`: the recorded client side of every transcript, replayed
//! against a running v0.5 server over real sockets.
//!
//! For each transcript: tokens come from the server's token endpoint; each `out` frame is
//! sent (ids rewritten to the server's, the login carrying the real token); each `in` frame
//! is compared with what the server sends, after [`compare`]: ids paired
//! as they come, key order free, times in seconds. Faults are injected through the reference
//! server's `/admin/` routes when the target serves them ([`ServerTarget::admin`]); otherwise
//! transcripts with faults are skipped, saying which faults. Transcripts recorded with the
//! scripted agent in the other state than the target's are skipped too.
//!
//! The first differing frame ends a transcript: it is reported with its line, its name and
//! the diff. When the frame the server sent is the one recorded *after* the expected one,
//! the expected frame is reported as missing.

use std::sync::Arc;
use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use chatio_transport::http::{HttpClient, full};
use chatio_transport::net::TlsConfig;
use chatio_transport::runtime::Runtime;
use chatio_transport::token::{AccountsIdentity, AccountsToken, TokenProvider};
use chatio_wire::LicenseId;
use serde_json::Value;
use url::Url;

use crate::Error;
use crate::compare::{self, IdMap};
use crate::live::{self, Live};
use crate::report::{Failure, Report, Status, TranscriptResult, frame_name};
use crate::transcript::{Line, Transcript};

/// The server being checked.
#[derive(Clone, Debug)]
pub struct ServerTarget {
    /// Its base URL (`http://host:port`); the RTM websocket and the Web API are under it.
    pub url: Url,
    /// The license to use.
    pub license: u64,
    /// The base URL of the token endpoint (`<base>/customer/`); the server's by default.
    pub token_endpoint: Option<Url>,
    /// Whether the server serves the reference server's `/admin/` fault routes: without
    /// them, transcripts with faults are skipped.
    pub admin: bool,
    /// The secret the `/admin/` routes require (the reference server's `--admin-secret`).
    pub admin_secret: Option<String>,
    /// Whether the server runs the reference server's scripted agent ("Chatio Bot"):
    /// transcripts recorded in the other state are skipped.
    pub agent: bool,
    /// How long to wait for each frame.
    pub timeout: Duration,
}

impl ServerTarget {
    /// A target with the defaults: license 100, the server's own token endpoint, no admin
    /// routes, the scripted agent on, 5 s per frame.
    pub fn new(url: Url) -> Self {
        Self {
            url,
            license: 100,
            token_endpoint: None,
            admin: false,
            admin_secret: None,
            agent: true,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Why a transcript cannot run against the target, if it cannot.
pub fn skip_reason(target: &ServerTarget, t: &Transcript) -> Option<String> {
    let (_, _, _, _, agent) = t.header()?;
    if agent != target.agent {
        return Some(if agent {
            "recorded with the reference server's scripted agent (Chatio Bot); the target has none \
             (check a reference server started without --no-agent)"
                .into()
        } else {
            "recorded without the scripted agent; the target runs one (check a server started with \
             --no-agent, and pass --no-agent)"
                .into()
        });
    }
    let mut faults: Vec<&str> = t
        .lines
        .iter()
        .filter_map(|l| match l {
            Line::Fault { fault, .. } => Some(fault.as_str()),
            _ => None,
        })
        .collect();
    faults.dedup();
    if !faults.is_empty() && !target.admin {
        return Some(format!(
            "needs the fault{} `{}` injected at recorded points, which needs the reference server's \
             /admin/ routes (start it with --admin and pass --admin)",
            if faults.len() > 1 { "s" } else { "" },
            faults.join("`, `")
        ));
    }
    None
}

/// Checks the server against every transcript.
pub async fn check(target: &ServerTarget, transcripts: &[(String, Transcript)]) -> Report {
    let mut results = Vec::new();
    for (name, t) in transcripts {
        let r = match skip_reason(target, t) {
            Some(reason) => TranscriptResult::skipped(name, reason),
            None => check_one(target, name, t).await,
        };
        results.push(r);
    }
    Report { mode: "server".into(), target: target.url.to_string(), transcripts: results }
}

struct Run<'a> {
    target: &'a ServerTarget,
    rt: Arc<dyn Runtime>,
    http: HttpClient,
    ids: IdMap,
    token: String,
    customer: Option<String>,
    /// The token endpoint's provider: a new customer first, the same one (by its refresh
    /// token, G11) for every fresh token after.
    accounts: Option<AccountsToken>,
    /// The license in URLs the server writes, and the recorded one.
    license_paths: (String, String),
}

fn fail(line: usize, frame: String, message: impl std::fmt::Display) -> Failure {
    Failure { line, frame, message: message.to_string(), diffs: vec![], expected: None, got: None }
}

/// A failure's message for an error: the error and its causes.
fn says(e: Error) -> String {
    e.chain().to_string()
}

async fn check_one(target: &ServerTarget, name: &str, t: &Transcript) -> TranscriptResult {
    let mut compared = 0;
    let failure = run(target, t, &mut compared).await.err();
    TranscriptResult {
        name: name.into(),
        status: if failure.is_some() { Status::Fail } else { Status::Pass },
        frames_compared: compared,
        reason: None,
        failures: failure.into_iter().collect(),
    }
}

impl Run<'_> {
    /// The server's frame with its base URL (and license, when it differs) in the recorded
    /// form.
    fn normalize(&self, v: &mut Value) {
        let base = self.target.url.as_str().trim_end_matches('/');
        let (ours, recorded) = &self.license_paths;
        match v {
            Value::String(s) => {
                if s.contains(base) {
                    *s = s.replace(base, crate::normalize::SERVER);
                }
                if ours != recorded && s.contains(ours.as_str()) {
                    *s = s.replace(ours.as_str(), recorded);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.normalize(x)),
            Value::Object(m) => m.values_mut().for_each(|x| self.normalize(x)),
            _ => {}
        }
    }

    async fn token(&mut self, fresh: bool) -> Result<String, Error> {
        let base = self.target.token_endpoint.clone().unwrap_or_else(|| self.target.url.clone());
        if !fresh || self.accounts.is_none() {
            self.accounts = Some(AccountsToken::new(
                self.http.clone(),
                &base,
                "chatio-conformance",
                "http://localhost/chatio-conformance",
                Some(self.target.license),
                AccountsIdentity::New,
            )?);
        }
        let p = self.accounts.as_ref().ok_or_else(|| Error::Script("no token provider".into()))?;
        let c = p.token(true).await?;
        let id = c.customer_id.as_ref().map(|c| c.as_str().to_owned());
        if let Some(id) = id {
            self.customer = Some(id);
        }
        Ok(c.access_token().to_owned())
    }

    async fn admin(&self, op: &str) -> Result<(), Error> {
        let customer = self.customer.clone().unwrap_or_default();
        let mut url = self.target.url.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}/admin/{op}"));
        url.query_pairs_mut()
            .append_pair("customer_id", &customer)
            .append_pair("license_id", &self.target.license.to_string());
        let what = format!("/admin/{op}");
        let mut req = http::Request::post(url.as_str());
        if let Some(secret) = &self.target.admin_secret {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {secret}"));
        }
        let req = req.body(full(Vec::new())).map_err(|e| Error::Script(format!("{what}: {e}")))?;
        let resp = self.http.send(&url, req).await?;
        if !resp.status.is_success() {
            return Err(Error::Status { what, status: resp.status });
        }
        Ok(())
    }
}

async fn run(target: &ServerTarget, t: &Transcript, compared: &mut usize) -> Result<(), Failure> {
    let (_, rec_license, ..) = t.header().ok_or_else(|| fail(1, "the header".into(), "no session header"))?;
    let rt = chatio_transport::runtime::default_runtime()
        .map_err(|e| fail(1, "-".into(), says(chatio_transport::Error::from(e).into())))?;
    let http = HttpClient::new(rt.clone(), tls(), target.timeout);
    let mut run = Run {
        target,
        rt,
        http,
        ids: IdMap::of(t),
        token: String::new(),
        customer: None,
        accounts: None,
        license_paths: (format!("/licence/{}/", target.license), format!("/licence/{rec_license}/")),
    };
    let mut conn: Option<Live<_>> = None;
    for (n, line) in t.lines.iter().enumerate().skip(1) {
        let at = n + 1;
        match line {
            Line::Session { .. } => {}
            Line::Token { fresh, customer_id, .. } => {
                if run.customer.is_none() || *fresh {
                    run.token = run.token(*fresh).await.map_err(|e| fail(at, "the token".into(), says(e)))?;
                    if let (Some(rec), Some(ours)) = (customer_id, &run.customer) {
                        run.ids.pair(rec, ours).map_err(|e| fail(at, "the token's customer".into(), e))?;
                    }
                }
            }
            Line::Connected { .. } => {
                let url = chatio_transport::ws::rtm_url(&target.url, LicenseId(target.license))
                    .map_err(|e| fail(at, "the websocket".into(), says(e.into())))?;
                let ws = chatio_transport::ws::connect(&run.rt, &tls(), &url, 16 << 20)
                    .await
                    .map_err(|e| fail(at, "the websocket".into(), format!("cannot connect: {}", says(e.into()))))?;
                conn = Some(Live::new(ws, target.timeout, "conformance-sync"));
            }
            Line::Out { frame, .. } => {
                let c = conn.as_mut().ok_or_else(|| fail(at, frame_name(frame), "a frame but no connection"))?;
                if c.dropped {
                    // Written to a connection the server had been told to drop: lost when
                    // recording (the client resends it later), so not sent.
                    continue;
                }
                let mut f = run.ids.to_actual(frame);
                if f.get("action").and_then(Value::as_str) == Some("login") {
                    f["payload"]["token"] = Value::String(format!("Bearer {}", run.token));
                }
                let _ = c.ws.send(Message::text(f.to_string())).await;
            }
            Line::In { frame, .. } => {
                let c = conn.as_mut().ok_or_else(|| fail(at, frame_name(frame), "a frame but no connection"))?;
                let got = match c.next_frame().await {
                    Ok(Some(v)) => v,
                    Ok(None) => return Err(fail(at, frame_name(frame), "the server closed the connection instead")),
                    Err(e) => return Err(fail(at, frame_name(frame), format!("never came: {}", says(e)))),
                };
                let mut norm = got.clone();
                run.normalize(&mut norm);
                let before = run.ids.clone();
                let diffs = compare::frames(frame, &norm, &mut run.ids);
                if diffs.is_empty() {
                    *compared += 1;
                    continue;
                }
                // Was the expected frame skipped? Then what came is the next recorded one.
                if let Some(Line::In { frame: next, .. }) = t.lines.get(n + 1) {
                    let mut ids = before;
                    if compare::frames(next, &norm, &mut ids).is_empty() {
                        return Err(Failure {
                            line: at,
                            frame: frame_name(frame),
                            message: format!(
                                "missing: the server sent the next recorded frame (line {}) instead",
                                at + 1
                            ),
                            diffs: vec![],
                            expected: Some(frame.clone()),
                            got: Some(got),
                        });
                    }
                }
                return Err(Failure {
                    line: at,
                    frame: frame_name(frame),
                    message: format!("differs in {} place{}", diffs.len(), if diffs.len() == 1 { "" } else { "s" }),
                    diffs,
                    expected: Some(frame.clone()),
                    got: Some(got),
                });
            }
            Line::Fault { fault, .. } => {
                if let Some(c) = conn.as_mut() {
                    c.sync().await.map_err(|e| fail(at, "a sync ping".into(), says(e)))?;
                }
                let op = match fault.as_str() {
                    "drop_connections" => "drop",
                    "expire_tokens" => "expire_tokens",
                    "swallow_next_response" => "swallow_next_response",
                    "ban" => "ban",
                    other => return Err(fail(at, "a fault".into(), format!("unknown fault `{other}`"))),
                };
                run.admin(op).await.map_err(|e| fail(at, format!("the fault `{fault}`"), says(e)))?;
                if op == "drop" {
                    if let Some(c) = conn.as_mut() {
                        c.dropped = true;
                    }
                }
            }
            Line::Upload { chat_id, custom_id, name, size, .. } => {
                if let Some(c) = conn.as_mut() {
                    c.sync().await.map_err(|e| fail(at, "a sync ping".into(), says(e)))?;
                }
                let chat = run.ids.actual(chat_id).unwrap_or(chat_id).to_owned();
                live::upload(&run.http, &target.url, target.license, &run.token, &chat, custom_id.clone(), name, *size)
                    .await
                    .map_err(|e| fail(at, "the Web API `send_file`".into(), format!("failed: {}", says(e))))?;
            }
            Line::Disconnected { code, .. } => {
                if let Some(mut c) = conn.take() {
                    if *code == Some(1000) {
                        let _ = c.ws.close(None).await;
                    }
                }
            }
        }
    }
    Ok(())
}

fn tls() -> TlsConfig {
    TlsConfig::webpki()
}
