//! `upload_image` (Web API, native platforms): one multipart part, `payload.image`, sent with
//! the session's token to `<server>/agent/v0.5/action/upload_image` (protocol file, 5.23).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chatio_core::{Error, Operation};
use chatio_transport::Endpoint;
use chatio_transport::http::{HttpClient, full};
use chatio_transport::net::TlsConfig;
use chatio_transport::runtime::Runtime;
use chatio_transport::token::TokenProvider;
use chatio_wire::agent::{Response, ResponseData, UploadImage, UploadImageResponse};
use url::Url;

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
    /// An image on disk; its name is the path's file name.
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

    fn guessed_type(&self) -> String {
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

    async fn read(&self) -> Result<Bytes, Error> {
        match &self.source {
            Source::Bytes(b) => Ok(b.clone()),
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
                })
            }
        }
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

/// An uploaded image: where it is.
pub type UploadedImage = UploadImageResponse;

/// What `upload_image` needs besides the token: an HTTP client and the action's URL.
#[derive(Clone)]
pub(crate) struct Images {
    http: HttpClient,
    url: Url,
    tokens: Arc<dyn TokenProvider>,
}

impl std::fmt::Debug for Images {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Images").field("url", &self.url.as_str()).finish_non_exhaustive()
    }
}

fn quoted(value: &str) -> String {
    value.chars().filter(|c| *c != '\r' && *c != '\n').map(|c| if c == '"' { '\'' } else { c }).collect()
}

impl Images {
    pub(crate) fn new(
        rt: Arc<dyn Runtime>,
        tls: TlsConfig,
        server: &Url,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<Self, Error> {
        let url = chatio_transport::ws::web_api_url_at(server, Endpoint::new("agent/v0.5", None), "upload_image")
            .map_err(|e| e.into_core(Operation::Upload))?;
        Ok(Self { http: HttpClient::new(rt, tls, Duration::from_secs(60)), url, tokens })
    }

    /// Uploads with the session's token (or the provider's, before the first login).
    pub(crate) async fn upload(
        &self,
        session_token: Option<chatio_transport::token::Credentials>,
        image: &ImageFile,
    ) -> Result<UploadedImage, Error> {
        let bytes = image.read().await?;
        let credentials = match session_token {
            Some(c) => c,
            None => self.tokens.token(false).await.map_err(|e| e.into_core(Operation::FetchToken))?,
        };
        let token = credentials.access_token();
        check_size(bytes.len() as u64)?;
        let boundary: String = {
            let mut rng = fastrand::Rng::new();
            (0..32).map(|_| rng.alphanumeric()).collect()
        };
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            UploadImage::FIELD_IMAGE,
            quoted(&image.name),
            quoted(&image.guessed_type()),
        )
        .into_bytes();
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let http_error = |e: http::Error| {
            chatio_transport::Error::Http { context: "building the upload request".into(), source: Box::new(e) }
                .into_core(Operation::Upload)
        };
        let req = http::Request::post(self.url.as_str())
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .header(http::header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(full(body))
            .map_err(http_error)?;
        let resp = self.http.send(&self.url, req).await.map_err(|e| e.into_core(Operation::Upload))?;
        match Response::decode_web("upload_image", &resp.body) {
            Ok(Response { result: Ok(ResponseData::UploadImage(r)), .. }) if resp.status.is_success() => Ok(r),
            Ok(Response { result: Err(f), .. }) => Err(Error::from_server(f.error)),
            _ => Err(chatio_transport::Error::Status {
                status: resp.status.as_u16(),
                body: String::from_utf8_lossy(resp.body.get(..512).unwrap_or(&resp.body)).into_owned(),
            }
            .into_core(Operation::Upload)),
        }
    }
}
