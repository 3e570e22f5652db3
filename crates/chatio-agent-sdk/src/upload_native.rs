//! `upload_image` on native platforms: the multipart body written here, POSTed on the
//! transport's HTTP client.

use std::sync::Arc;
use std::time::Duration;

use chatio_core::{Error, Operation};
use chatio_transport::Endpoint;
use chatio_transport::http::{HttpClient, full};
use chatio_transport::net::TlsConfig;
use chatio_transport::runtime::Runtime;
use chatio_transport::token::TokenProvider;
use chatio_wire::agent::UploadImage;
use url::Url;

use crate::upload::{ImageFile, UploadedImage, answer, bytes_and_token};

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
        let (bytes, credentials) = bytes_and_token(image, session_token, &*self.tokens).await?;
        let token = credentials.access_token();
        let boundary: String = {
            let mut rng = fastrand::Rng::new();
            (0..32).map(|_| rng.alphanumeric()).collect()
        };
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            UploadImage::FIELD_IMAGE,
            quoted(image.name()),
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
        answer(resp.status.as_u16(), &resp.body)
    }
}
