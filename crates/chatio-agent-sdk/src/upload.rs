//! `upload_image` (Web API, protocol file 5.23): what both platforms share — the image to
//! send, the size check before any I/O, the answer read the same way. One multipart part,
//! `payload.image`, sent with the session's token to
//! `<server>/agent/v0.5/action/upload_image`: natively on the transport's HTTP client
//! (`upload_native.rs`), in a browser with `fetch` (`upload_web.rs`).

use std::path::PathBuf;

use bytes::Bytes;
use chatio_core::{Error, Operation};
use chatio_transport::token::{Credentials, TokenProvider};
use chatio_wire::agent::{Response, ResponseData, UploadImage, UploadImageResponse};

/// An image to upload: from disk or from memory.
#[derive(Clone, Debug)]
pub struct ImageFile {
    name: String,
    content_type: Option<String>,
    source: Source,
}

#[derive(Clone)]
enum Source {
    Path(PathBuf),
    Bytes(Bytes),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Path(p) => write!(f, "Path({})", p.display()),
            Source::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

impl ImageFile {
    /// An image on disk; its name is the path's file name. (A browser page has no file
    /// system: there, uploading it fails with [`Error::InvalidArgs`]; use [`bytes`](Self::bytes).)
    pub fn path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let name = path.file_name().map_or_else(|| "image".to_owned(), |n| n.to_string_lossy().into_owned());
        Self { name, content_type: None, source: Source::Path(path) }
    }

    /// Bytes in memory, with a file name.
    pub fn bytes(name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self { name: name.into(), content_type: None, source: Source::Bytes(bytes.into()) }
    }

    /// Sets the content type (default: from the name's extension; the server looks at the
    /// bytes anyway).
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn guessed_type(&self) -> String {
        if let Some(t) = &self.content_type {
            return t.clone();
        }
        let ext = self.name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        match ext.as_str() {
            "png" => "image/png",
            "gif" => "image/gif",
            "jpg" | "jpeg" => "image/jpeg",
            _ => "application/octet-stream",
        }
        .to_owned()
    }

    /// The bytes to send, at most 10 MiB (else [`Error::InvalidArgs`], nothing sent).
    pub(crate) async fn read(&self) -> Result<Bytes, Error> {
        let bytes = match &self.source {
            Source::Bytes(b) => b.clone(),
            #[cfg(all(feature = "web", target_arch = "wasm32"))]
            Source::Path(p) => {
                return Err(Error::InvalidArgs {
                    reason: format!(
                        "a browser page has no file system: send the bytes of {} (ImageFile::bytes)",
                        p.display()
                    ),
                });
            }
            #[cfg(not(all(feature = "web", target_arch = "wasm32")))]
            Source::Path(p) => {
                let size = chatio_transport::upload::file_size(p.clone())
                    .await
                    .map_err(|e| e.into_core(Operation::ReadFile))?;
                check_size(size)?;
                let path = p.clone();
                let read = blocking::unblock(move || std::fs::read(&path)).await;
                read.map(Bytes::from).map_err(|source| {
                    chatio_transport::Error::File { path: p.display().to_string(), source }
                        .into_core(Operation::ReadFile)
                })?
            }
        };
        check_size(bytes.len() as u64)?;
        Ok(bytes)
    }
}

fn check_size(size: u64) -> Result<(), Error> {
    if size > UploadImage::MAX_FILE_SIZE {
        return Err(Error::InvalidArgs {
            reason: format!("the image is too big: {size} bytes (at most {} bytes)", UploadImage::MAX_FILE_SIZE),
        });
    }
    Ok(())
}

/// What an upload sends: the image's bytes (checked against the limit) and the token, the
/// session's or, before the first login, the provider's.
pub(crate) async fn bytes_and_token(
    image: &ImageFile,
    session_token: Option<Credentials>,
    tokens: &dyn TokenProvider,
) -> Result<(Bytes, Credentials), Error> {
    let bytes = image.read().await?;
    let credentials = match session_token {
        Some(c) => c,
        None => tokens.token(false).await.map_err(|e| e.into_core(Operation::FetchToken))?,
    };
    Ok((bytes, credentials))
}

/// An uploaded image: where it is.
pub type UploadedImage = UploadImageResponse;

/// The server's answer to `upload_image` (`status`, `body`): where the image is, the
/// server's error, or the status and an excerpt of the body when it is no Agent API answer.
pub(crate) fn answer(status: u16, body: &[u8]) -> Result<UploadedImage, Error> {
    match Response::decode_web("upload_image", body) {
        Ok(Response { result: Ok(ResponseData::UploadImage(r)), .. }) if (200..300).contains(&status) => Ok(r),
        Ok(Response { result: Err(f), .. }) => Err(Error::from_server(f.error)),
        _ => Err(chatio_transport::Error::Status {
            status,
            body: String::from_utf8_lossy(body.get(..512).unwrap_or(body)).into_owned(),
        }
        .into_core(Operation::Upload)),
    }
}
