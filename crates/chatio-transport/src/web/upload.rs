//! Web API `send_file` with `XMLHttpRequest`: `FormData` body, progress from
//! `upload.onprogress`, cancel with `abort()`.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use chatio_wire::{ErrorObject, Response, ResponseData, SendFile, SendFileResponse};
use futures::channel::oneshot;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Blob, BlobPropertyBag, FormData, ProgressEvent, XmlHttpRequest};

use super::{http_error, js_message};
use crate::error::{BrowserError, Error, excerpt};
use crate::upload_spec::{FileSource, Progress, Upload, UploadError};

/// How the request ended.
enum End {
    Load,
    Error,
    Timeout,
}

/// The request in flight: dropping it (the upload was cancelled) aborts it.
struct InFlight {
    xhr: XmlHttpRequest,
    finished: bool,
    _on_progress: Option<Closure<dyn FnMut(ProgressEvent)>>,
    _on_end: [Closure<dyn FnMut(ProgressEvent)>; 3],
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(up) = self.xhr.upload() {
            up.set_onprogress(None);
        }
        self.xhr.set_onload(None);
        self.xhr.set_onerror(None);
        self.xhr.set_ontimeout(None);
        if !self.finished {
            let _ = self.xhr.abort();
        }
    }
}

/// The error for a file path: a browser page has no file system (`File::bytes` works).
fn no_file_system(path: &std::path::Path) -> Error {
    Error::File {
        path: path.display().to_string(),
        source: io::Error::new(
            io::ErrorKind::Unsupported,
            "a browser page has no file system: send the file's bytes (File::bytes)",
        ),
    }
}

/// A file's size: a browser page has no file system, so a path is always an error.
///
/// # Errors
/// [`Error::File`], always.
pub async fn file_size(path: PathBuf) -> Result<u64, Error> {
    Err(no_file_system(&path))
}

/// The request to `upload` failed before an answer: `why`.
fn connect_error(upload: &Upload, why: String) -> UploadError {
    transport(Error::Connect { url: crate::urls::redact(&upload.url), source: Box::new(BrowserError(why)) })
}

fn transport(e: Error) -> UploadError {
    UploadError::Transport(e)
}

fn http(e: &wasm_bindgen::JsValue) -> UploadError {
    transport(http_error("preparing the upload", e))
}

/// Uploads a file with `send_file` and returns the server's answer.
///
/// The size limit is checked before any I/O. `progress` receives the fraction of the request
/// body sent (`upload.onprogress`), increasing to 1.0. Dropping the future aborts the request.
/// The browser has no file system here: [`FileSource::Path`] fails with [`Error::File`].
///
/// # Errors
/// [`UploadError::Server`] with the server's error object, or [`UploadError::Transport`].
pub async fn send_file(
    upload: Upload,
    progress: Option<Progress>,
    timeout: Duration,
) -> Result<SendFileResponse, UploadError> {
    if upload.size > SendFile::MAX_FILE_SIZE {
        return Err(UploadError::Server(ErrorObject::validation(format!(
            "The file is too big: {} bytes (max size is {} bytes)",
            upload.size,
            SendFile::MAX_FILE_SIZE
        ))));
    }
    let bytes = match &upload.source {
        FileSource::Bytes(b) => b.clone(),
        FileSource::Path(p) => return Err(transport(no_file_system(p))),
    };
    let form = FormData::new().map_err(|e| http(&e))?;
    form.append_with_str(SendFile::FIELD_CHAT_ID, upload.fields.chat_id.as_str()).map_err(|e| http(&e))?;
    if let Some(custom_id) = &upload.fields.custom_id {
        form.append_with_str(SendFile::FIELD_CUSTOM_ID, custom_id).map_err(|e| http(&e))?;
    }
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_ref()));
    let bag = BlobPropertyBag::new();
    bag.set_type(&upload.content_type);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &bag).map_err(|e| http(&e))?;
    form.append_with_blob_and_filename(SendFile::FIELD_FILE, &blob, &upload.file_name).map_err(|e| http(&e))?;

    let xhr = XmlHttpRequest::new().map_err(|e| http(&e))?;
    xhr.open_with_async("POST", upload.url.as_str(), true).map_err(|e| connect_error(&upload, js_message(&e)))?;
    xhr.set_request_header("Authorization", &format!("Bearer {}", upload.access_token)).map_err(|e| http(&e))?;
    xhr.set_timeout(u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX));

    let (tx, rx) = oneshot::channel::<End>();
    let tx = std::rc::Rc::new(std::cell::RefCell::new(Some(tx)));
    let end = |what: fn() -> End| {
        let tx = tx.clone();
        Closure::<dyn FnMut(ProgressEvent)>::new(move |_: ProgressEvent| {
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(what());
            }
        })
    };
    let on_load = end(|| End::Load);
    let on_error = end(|| End::Error);
    let on_timeout = end(|| End::Timeout);
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    xhr.set_ontimeout(Some(on_timeout.as_ref().unchecked_ref()));
    let on_progress = progress.clone().map(|p| {
        let mut last = 0.0f64;
        Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                let f = (e.loaded() / e.total()).clamp(0.0, 1.0);
                if f > last {
                    last = f;
                    p(f);
                }
            }
        })
    });
    if let (Some(cb), Ok(up)) = (&on_progress, xhr.upload()) {
        up.set_onprogress(Some(cb.as_ref().unchecked_ref()));
    }
    let mut flight =
        InFlight { xhr, finished: false, _on_progress: on_progress, _on_end: [on_load, on_error, on_timeout] };
    flight.xhr.send_with_opt_form_data(Some(&form)).map_err(|e| connect_error(&upload, js_message(&e)))?;

    let ended = rx.await.map_err(|_| transport(Error::Cancelled))?;
    flight.finished = true;
    match ended {
        End::Load => {}
        End::Timeout => return Err(transport(Error::Timeout(timeout))),
        End::Error => {
            let why = "the upload request failed (network error, refused or blocked by CORS)";
            return Err(connect_error(&upload, why.to_owned()));
        }
    }
    let status = flight.xhr.status().unwrap_or(0);
    let body = flight.xhr.response_text().ok().flatten().unwrap_or_default();
    match Response::decode_web("send_file", body.as_bytes()) {
        Ok(Response { result: Ok(ResponseData::SendFile(r)), .. }) if (200..300).contains(&status) => {
            if let Some(p) = &progress {
                p(1.0);
            }
            Ok(r)
        }
        Ok(Response { result: Err(f), .. }) => Err(UploadError::Server(f.error)),
        _ => Err(transport(Error::Status { status, body: excerpt(body.as_bytes()) })),
    }
}
