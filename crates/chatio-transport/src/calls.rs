//! The driver's callers' side, no I/O: commands from a [`DriverHandle`](crate::DriverHandle)
//! run on the session, outcomes handed back, uploads held until the session lets them start
//! and then watched, events published to the bus, the snapshot kept current. The loop
//! ([`crate::driver`]) owns the socket, the timer and the tasks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chatio_core::{AccessToken, Instant, Operation, UploadFailure, UploadRequest};
use chatio_wire::{RequestId, SendFileResponse};
use futures::FutureExt;
use futures::channel::oneshot;
use futures::future::{AbortHandle, AbortRegistration, Abortable};
use url::Url;

use crate::bus::Bus;
use crate::credentials::Credentials;
use crate::handle::{Command, ReplySender};
use crate::session::{DrivenSession, Polled};
use crate::upload_spec::{FileSource, Progress, Upload, UploadError};

/// An upload the session accepted, waiting for its `DriverAction::Upload`.
pub(crate) type HeldUpload = (FileSource, Option<Progress>, oneshot::Receiver<()>);

/// An upload a driver is to send now ([`Calls::start_upload`]).
pub(crate) struct StartedUpload {
    pub(crate) upload: Upload,
    pub(crate) progress: Option<Progress>,
    /// Fires (`Err`) when the caller drops its future; give it to [`watch_upload`].
    pub(crate) abandon: oneshot::Receiver<()>,
    pub(crate) reg: AbortRegistration,
}

/// The callers' side of a driver.
pub(crate) struct Calls<S: DrivenSession> {
    /// Who waits for each request's outcome (with the request's tracing span).
    waiters: HashMap<RequestId, (ReplySender<S::Reply>, tracing::Span)>,
    /// Uploads accepted by the session, not started yet, and uploads under way: a few at a
    /// time, so lists (each map type is another copy of the hash table's code in the browser
    /// build).
    held: Vec<(RequestId, HeldUpload)>,
    running: Vec<(RequestId, AbortHandle)>,
    bus: Bus<S::Event>,
    state: Arc<Mutex<S::Snapshot>>,
    /// The last token, for [`Command::Token`].
    credentials: Option<Credentials>,
}

impl<S: DrivenSession> Calls<S> {
    pub(crate) fn new(bus: Bus<S::Event>, state: Arc<Mutex<S::Snapshot>>) -> Self {
        Self { waiters: HashMap::new(), held: Vec::new(), running: Vec::new(), bus, state, credentials: None }
    }

    /// Runs a handle's command on the session ([`Command::Shutdown`] is the loop's to handle).
    pub(crate) fn command(&mut self, session: &mut S, c: Command<S>, now: Instant) {
        match c {
            Command::Request(f, reply, id_tx) => match f(session, now) {
                Ok(id) => {
                    if let Some(t) = id_tx {
                        let _ = t.send(id.clone());
                    }
                    let span = tracing::debug_span!("chatio.request", request = %id);
                    span.in_scope(|| tracing::trace!("sent"));
                    self.waiters.insert(id, (reply, span));
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            Command::Exec(f) => f(session, now),
            Command::Upload { start, source, progress, id, reply, abandon } => match start(session, now) {
                Ok(rid) => {
                    self.held.push((rid.clone(), (source, progress, abandon)));
                    let span = tracing::debug_span!("chatio.request", request = %rid, action = "send_file");
                    self.waiters.insert(rid.clone(), (reply, span));
                    let _ = id.send(Ok(rid));
                }
                Err(e) => {
                    let _ = id.send(Err(e.clone()));
                    let _ = reply.send(Err(e));
                }
            },
            Command::Token(tx) => {
                let _ = tx.send(self.credentials.clone());
            }
            Command::Shutdown(_) => {}
        }
    }

    /// A token arrived: kept for [`Command::Token`]; what the session takes.
    pub(crate) fn token(&mut self, c: Credentials) -> AccessToken {
        let mut t = AccessToken::new(c.access_token(), c.token_type.clone());
        t.customer_id = c.customer_id.clone();
        t.expires_in = c.expires_in;
        self.credentials = Some(c);
        t
    }

    /// The session lets upload `req` start (to `url`): the upload to send, with what its
    /// caller gave, and the registration that [`cancel_upload`](Self::cancel_upload) and
    /// [`close`](Self::close) abort. `None` when it is no longer held (cancelled).
    pub(crate) fn start_upload(&mut self, req: &UploadRequest, url: &Url) -> Option<StartedUpload> {
        let (source, progress, abandon) = take(&mut self.held, &req.id)?;
        let (handle, reg) = AbortHandle::new_pair();
        self.running.push((req.id.clone(), handle));
        let upload = Upload {
            url: url.clone(),
            access_token: req.access_token.clone(),
            fields: req.fields.clone(),
            file_name: req.name.clone(),
            content_type: req.content_type.clone(),
            source,
            size: req.size,
        };
        Some(StartedUpload { upload, progress, abandon, reg })
    }

    /// The session cancelled upload `id`: stop it, or forget it if it had not started.
    pub(crate) fn cancel_upload(&mut self, id: &RequestId) {
        take(&mut self.held, id);
        if let Some(h) = take(&mut self.running, id) {
            h.abort();
        }
    }

    /// The caller of upload `id` dropped its future: the session cancels it.
    pub(crate) fn abandoned(&mut self, session: &mut S, id: &RequestId, now: Instant) {
        take(&mut self.running, id);
        if session.cancel(id, now) {
            tracing::debug!(request = %id, "upload abandoned by its caller: cancelled");
        }
    }

    /// Upload `id` ended: its outcome to the session.
    pub(crate) fn uploaded(
        &mut self,
        session: &mut S,
        id: &RequestId,
        result: Result<SendFileResponse, UploadError>,
        now: Instant,
    ) {
        take(&mut self.running, id);
        let result = result.map_err(|e| match e {
            UploadError::Server(o) => UploadFailure::Server(o),
            UploadError::Transport(t) => UploadFailure::Transport(t.into_transport(Operation::Upload)),
        });
        session.handle_upload_result(id, result, now);
    }

    /// One output of the session: an outcome to its waiter, or an event to the bus.
    pub(crate) fn output(&mut self, session: &S, out: Polled<S::Event, S::Reply>) {
        match out {
            Polled::Completed { id, result } => {
                if let Some((w, span)) = self.waiters.remove(&id) {
                    span.in_scope(|| match &result {
                        Ok(_) => tracing::debug!("completed"),
                        Err(e) => tracing::debug!(error = %e, "failed"),
                    });
                    let _ = w.send(result);
                }
            }
            Polled::Event(e) => {
                S::trace_event(&e);
                // The snapshot first: a subscriber reacting to `Connected` sees it connected.
                self.publish_state(session);
                self.bus.publish(e);
            }
        }
    }

    /// Publishes the session's state for [`DriverHandle::snapshot`](crate::DriverHandle::snapshot).
    pub(crate) fn publish_state(&self, session: &S) {
        let snap = session.snapshot();
        if let Ok(mut s) = self.state.lock() {
            if *s != snap {
                *s = snap;
            }
        }
    }

    /// The driver ends: running uploads stop, the last state is published, subscribers see
    /// the end of the stream.
    pub(crate) fn close(&mut self, session: &S) {
        for (_, h) in self.running.drain(..) {
            h.abort();
        }
        self.publish_state(session);
        self.bus.close();
    }
}

/// Removes `id`'s entry from a list of uploads.
fn take<T>(list: &mut Vec<(RequestId, T)>, id: &RequestId) -> Option<T> {
    let at = list.iter().position(|(r, _)| r == id)?;
    Some(list.swap_remove(at).1)
}

/// How an upload task ended.
pub(crate) enum UploadEnd {
    /// Its caller dropped the future (the guard was dropped undisarmed).
    Abandoned,
    /// The upload's own outcome.
    Done(Result<SendFileResponse, UploadError>),
}

/// Runs `upload` until it ends or its caller abandons it; `None` when the driver aborted it
/// (through [`Calls::cancel_upload`] or [`Calls::close`]).
pub(crate) async fn watch_upload(
    upload: impl Future<Output = Result<SendFileResponse, UploadError>>,
    reg: AbortRegistration,
    abandon: oneshot::Receiver<()>,
) -> Option<UploadEnd> {
    let run = Abortable::new(upload, reg).fuse();
    let mut run = std::pin::pin!(run);
    let mut abandon = abandon.fuse();
    futures::select_biased! {
        // Dropped guard (`Err(Canceled)`): the caller gave up. Disarmed (`Ok`): it cannot
        // happen before the outcome; wait for the outcome.
        a = abandon => {
            if a.is_err() {
                Some(UploadEnd::Abandoned)
            } else {
                run.await.ok().map(UploadEnd::Done)
            }
        }
        r = run => r.ok().map(UploadEnd::Done),
    }
}
