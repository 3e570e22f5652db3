//! `sendFile`: a builder, and an upload handle that can be cancelled.

use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use chatio_core::{Error, FileSpec, Operation};
use chatio_transport::Answer;
use chatio_transport::upload::{FileSource, Progress};
use chatio_wire::ChatId;

use crate::call::{Canceller, State};
use crate::driver::{DriverHandle, file_size};
use futures::FutureExt;
use futures::future::BoxFuture;

/// A file to send: from disk or from memory.
#[derive(Clone, Debug)]
pub struct File {
    name: String,
    content_type: Option<String>,
    source: FileSource,
}

impl File {
    /// A file on disk; its name is the path's file name.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let name = path.file_name().map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
        Self { name, content_type: None, source: FileSource::Path(path) }
    }

    /// Bytes in memory, with a file name.
    pub fn bytes(name: impl Into<String>, bytes: impl Into<bytes::Bytes>) -> Self {
        Self { name: name.into(), content_type: None, source: FileSource::Bytes(bytes.into()) }
    }

    /// Sets the content type (default: guessed from the name's extension).
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }
}

fn guess(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "gif" => "image/gif",
        "jpg" | "jpeg" => "image/jpeg",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// The `send_file` builder: set the custom id and the progress callback, then `.await` it
/// (or [`start`](Self::start) it to be able to cancel).
#[must_use = "an upload does nothing until awaited or started"]
pub struct SendFile {
    driver: DriverHandle,
    chat: ChatId,
    file: File,
    custom_id: Option<String>,
    progress: Option<Progress>,
}

impl std::fmt::Debug for SendFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendFile").field("chat", &self.chat).field("file", &self.file).finish_non_exhaustive()
    }
}

impl SendFile {
    pub(crate) fn new(driver: DriverHandle, chat: ChatId, file: File) -> Self {
        Self { driver, chat, file, custom_id: None, progress: None }
    }

    /// The file event's custom id (one is generated otherwise).
    pub fn custom_id(mut self, custom_id: impl Into<String>) -> Self {
        self.custom_id = Some(custom_id.into());
        self
    }

    /// Called with the fraction sent, in [0, 1], increasing to 1.0.
    pub fn on_progress(mut self, f: impl Fn(f64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Starts the upload; the handle resolves to the file's URL and can be cancelled.
    pub fn start(self) -> Upload {
        let state = Arc::new(State::default());
        let fut = run(self, state.clone()).boxed();
        Upload { fut, state }
    }
}

async fn run(b: SendFile, state: Arc<State>) -> Result<String, Error> {
    // Size checks and local I/O come before any network I/O.
    let size = match &b.file.source {
        FileSource::Bytes(bytes) => bytes.len() as u64,
        FileSource::Path(p) => file_size(p.clone()).await.map_err(|e| e.into_core(Operation::ReadFile))?,
    };
    if size > chatio_wire::limits::MAX_FILE_SIZE {
        return Err(Error::InvalidArgs {
            reason: format!(
                "the file is too big: {size} bytes (at most {} bytes, 10 MiB)",
                chatio_wire::limits::MAX_FILE_SIZE
            ),
        });
    }
    let content_type = b.file.content_type.clone().unwrap_or_else(|| guess(&b.file.name).to_owned());
    let mut spec = FileSpec::new(b.file.name.clone(), size, content_type);
    spec.custom_id = b.custom_id.clone();
    if state.is_cancelled() {
        return Err(Error::Cancelled);
    }
    // Dropping this future (and with it `guard`) before the outcome cancels the upload.
    let (id_rx, reply_rx, guard) = b.driver.upload(b.chat.clone(), spec, b.file.source.clone(), b.progress.clone());
    let id = id_rx.await.unwrap_or(Err(Error::Closed))?;
    state.started(id, &b.driver);
    let url = Answer::<String>::new(reply_rx).await;
    guard.disarm();
    url
}

/// A running upload: resolves to the file's URL; [`cancel`](Self::cancel) stops it (the
/// outcome is then [`Error::Cancelled`]).
///
/// # Cancellation
///
/// Dropping the future before it resolves cancels the upload: the transfer is aborted and
/// no file event is posted (unless the server had already stored it). [`cancel`](Self::cancel)
/// or a [`Canceller`] does the same while the future is kept, which then resolves to
/// [`Error::Cancelled`].
#[must_use = "an upload's outcome is only known by awaiting it"]
pub struct Upload {
    fut: BoxFuture<'static, Result<String, Error>>,
    state: Arc<State>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Upload")
    }
}

impl Upload {
    /// A handle that cancels this upload from elsewhere.
    pub fn canceller(&self) -> Canceller {
        Canceller { state: self.state.clone() }
    }

    /// Cancels the upload.
    pub fn cancel(&self) {
        self.canceller().cancel();
    }
}

impl Future for Upload {
    type Output = Result<String, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.fut.poll_unpin(cx)
    }
}

impl IntoFuture for SendFile {
    type Output = Result<String, Error>;
    type IntoFuture = Upload;

    fn into_future(self) -> Upload {
        self.start()
    }
}
