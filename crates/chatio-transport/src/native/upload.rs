//! Web API `send_file` over hyper: a multipart body streamed from a file or from memory, with
//! progress (protocol file, 4.7).

use std::io;
use std::path::PathBuf;

use bytes::Bytes;
use chatio_wire::{ErrorObject, Response, ResponseData, SendFile, SendFileResponse};
use futures::io::AsyncReadExt;
use futures::{StreamExt, stream};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use super::http::{Body, HttpClient};
use crate::error::{Error, excerpt};
use crate::upload_spec::{FileSource, Progress, Upload, UploadError};

/// Reads the size of a file on disk (local I/O only).
///
/// # Errors
/// [`Error::File`] when the file is missing or unreadable.
pub async fn file_size(path: PathBuf) -> Result<u64, Error> {
    let p = path.clone();
    blocking::unblock(move || std::fs::metadata(&p))
        .await
        .and_then(|m| if m.is_file() { Ok(m.len()) } else { Err(io::Error::other("not a regular file")) })
        .map_err(|source| Error::File { path: path.display().to_string(), source })
}

fn boundary() -> String {
    let mut rng = fastrand::Rng::new();
    (0..32).map(|_| rng.alphanumeric()).collect()
}

/// Makes a value safe inside a quoted multipart header parameter.
fn quoted(value: &str) -> String {
    value.chars().filter(|c| *c != '\r' && *c != '\n').map(|c| if c == '"' { '\'' } else { c }).collect()
}

fn text_part(boundary: &str, name: &str, value: &str) -> String {
    format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
}

const CHUNK: usize = 64 * 1024;

/// Streams the file in chunks, exactly `size` bytes.
fn file_chunks(source: FileSource, size: u64) -> stream::BoxStream<'static, Result<Bytes, io::Error>> {
    match source {
        FileSource::Bytes(b) => {
            let chunks: Vec<Result<Bytes, io::Error>> =
                (0..b.len()).step_by(CHUNK).map(|i| Ok(b.slice(i..(i + CHUNK).min(b.len())))).collect();
            stream::iter(chunks).boxed()
        }
        FileSource::Path(path) => {
            let state = (None::<blocking::Unblock<std::fs::File>>, path, 0u64);
            stream::try_unfold(state, move |(file, path, sent)| async move {
                if sent >= size {
                    return Ok(None);
                }
                let mut file = match file {
                    Some(f) => f,
                    None => {
                        let p = path.clone();
                        blocking::Unblock::new(blocking::unblock(move || std::fs::File::open(p)).await?)
                    }
                };
                let want = usize::try_from(size - sent).unwrap_or(CHUNK).min(CHUNK);
                let mut buf = vec![0u8; want];
                let mut filled = 0;
                while filled < want {
                    let n = file.read(buf.get_mut(filled..).unwrap_or_default()).await?;
                    if n == 0 {
                        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank during the upload"));
                    }
                    filled += n;
                }
                Ok(Some((Bytes::from(buf), (Some(file), path, sent + want as u64))))
            })
            .boxed()
        }
    }
}

/// Uploads a file with `send_file` and returns the server's answer.
///
/// The size limit is checked before any I/O. `progress` receives the fraction of the body
/// handed to the connection, increasing to 1.0. Dropping the future cancels the upload.
///
/// # Errors
/// [`UploadError::Server`] with the server's error object, or [`UploadError::Transport`].
pub async fn send_file(
    client: &HttpClient,
    upload: Upload,
    progress: Option<Progress>,
) -> Result<SendFileResponse, UploadError> {
    if upload.size > chatio_wire::limits::MAX_FILE_SIZE {
        return Err(UploadError::Server(ErrorObject::validation(format!(
            "The file is too big: {} bytes (max size is {} bytes)",
            upload.size,
            chatio_wire::limits::MAX_FILE_SIZE
        ))));
    }
    let b = boundary();
    let mut head = text_part(&b, SendFile::FIELD_CHAT_ID, upload.fields.chat_id.as_str());
    if let Some(custom_id) = &upload.fields.custom_id {
        head.push_str(&text_part(&b, SendFile::FIELD_CUSTOM_ID, custom_id));
    }
    head.push_str(&format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
        SendFile::FIELD_FILE,
        quoted(&upload.file_name),
        quoted(&upload.content_type),
    ));
    let tail = format!("\r\n--{b}--\r\n");
    let total = head.len() as u64 + upload.size + tail.len() as u64;

    let mut sent = 0u64;
    let report = progress.clone();
    let body_stream = stream::once(async move { Ok(Bytes::from(head)) })
        .chain(file_chunks(upload.source.clone(), upload.size))
        .chain(stream::once(async move { Ok(Bytes::from(tail)) }))
        .map(move |chunk: Result<Bytes, io::Error>| {
            if let (Ok(c), Some(p)) = (&chunk, &report) {
                sent += c.len() as u64;
                p((sent as f64 / total as f64).min(1.0));
            }
            chunk.map(Frame::data)
        });
    let body: Body = BodyExt::boxed_unsync(StreamBody::new(body_stream));

    let req = http::Request::post(upload.url.as_str())
        .header(http::header::AUTHORIZATION, format!("Bearer {}", upload.access_token))
        .header(http::header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
        .header(http::header::CONTENT_LENGTH, total)
        .body(body)
        .map_err(|e| {
            UploadError::Transport(Error::Http { context: "building the upload request".into(), source: Box::new(e) })
        })?;
    let resp = client.send(&upload.url, req).await.map_err(UploadError::Transport)?;
    match Response::decode_web("send_file", &resp.body) {
        Ok(Response { result: Ok(ResponseData::SendFile(r)), .. }) if resp.status.is_success() => {
            if let Some(p) = &progress {
                p(1.0);
            }
            Ok(r)
        }
        Ok(Response { result: Err(f), .. }) => Err(UploadError::Server(f.error)),
        _ => Err(UploadError::Transport(Error::Status { status: resp.status.as_u16(), body: excerpt(&resp.body) })),
    }
}
