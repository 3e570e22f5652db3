//! A small HTTP/1.1 client on hyper, over the runtime's streams: one connection per call
//! (the SDK makes few HTTP calls: token fetches and uploads).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures::io::{AsyncRead, AsyncWrite};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::rt::ReadBufCursor;
use url::Url;

use super::net::{self, TlsConfig};
use crate::error::{Error, UrlError};
use crate::runtime::{BoxIo, Runtime};
use crate::urls::redact;

/// A request body: in memory or streamed.
pub type Body = UnsyncBoxBody<Bytes, io::Error>;

/// A body held in memory.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// Largest response body read by default (token and upload responses are small).
const MAX_RESPONSE: usize = 1 << 20;

/// Adapts a futures-io stream to hyper's I/O traits.
pub(crate) struct HyperIo(pub(crate) BoxIo);

impl hyper::rt::Read for HyperIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, mut buf: ReadBufCursor<'_>) -> Poll<io::Result<()>> {
        // Safe copy through a stack buffer: the crate forbids unsafe code.
        let mut tmp = [0u8; 8192];
        let want = buf.remaining().min(tmp.len());
        let Some(dst) = tmp.get_mut(..want) else { return Poll::Ready(Ok(())) };
        let n = ready!(Pin::new(&mut self.0).poll_read(cx, dst))?;
        if let Some(read) = tmp.get(..n) {
            buf.put_slice(read);
        }
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for HyperIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

/// An HTTP client bound to a runtime and TLS settings.
#[derive(Clone, Debug)]
pub struct HttpClient {
    rt: Arc<dyn Runtime>,
    tls: TlsConfig,
    timeout: Duration,
    max_response: usize,
}

/// A response: status, headers and the whole body.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: http::StatusCode,
    /// Headers.
    pub headers: http::HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl HttpClient {
    /// A client; every call fails with [`Error::Timeout`] after `timeout`.
    pub fn new(rt: Arc<dyn Runtime>, tls: TlsConfig, timeout: Duration) -> Self {
        Self { rt, tls, timeout, max_response: MAX_RESPONSE }
    }

    /// Reads response bodies up to `max` bytes (1 MiB by default); longer ones are an error.
    #[must_use]
    pub fn with_max_response(mut self, max: usize) -> Self {
        self.max_response = max;
        self
    }

    /// The runtime the client runs on.
    pub fn runtime(&self) -> &Arc<dyn Runtime> {
        &self.rt
    }

    /// Sends `req` to `url` (the URL gives scheme, host and port; the request's path and
    /// query are taken from it too) and reads the whole response.
    ///
    /// # Errors
    /// Connection, TLS, protocol and timeout errors; the status is not checked.
    pub async fn send(&self, url: &Url, mut req: http::Request<Body>) -> Result<HttpResponse, Error> {
        let deadline = self.rt.now() + self.timeout;
        let call = async {
            let io = net::connect(&self.rt, &self.tls, url).await?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(HyperIo(io))
                .await
                .map_err(|e| Error::Http { context: format!("handshake with {}", redact(url)), source: Box::new(e) })?;
            self.rt.spawn(Box::pin(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "http connection ended with an error");
                }
            }));
            let path = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            *req.uri_mut() = path
                .parse()
                .map_err(|e| Error::InvalidUrl { url: redact(url), source: UrlError::Parse(Box::new(e)) })?;
            let host = match url.port() {
                Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
                None => url.host_str().unwrap_or_default().to_owned(),
            };
            if let Ok(v) = http::HeaderValue::from_str(&host) {
                req.headers_mut().insert(http::header::HOST, v);
            }
            let resp = sender
                .send_request(req)
                .await
                .map_err(|e| Error::Http { context: format!("request to {}", redact(url)), source: Box::new(e) })?;
            let (parts, body) = resp.into_parts();
            let max = self.max_response;
            let body = Limited::new(body, max).collect().await.map_err(|e| {
                let context = if e.downcast_ref::<LengthLimitError>().is_some() {
                    format!("response body over {max} bytes")
                } else {
                    "reading the response body".to_owned()
                };
                Error::Http { context, source: e }
            })?;
            Ok(HttpResponse { status: parts.status, headers: parts.headers, body: body.to_bytes() })
        };
        let timeout = self.rt.sleep_until(deadline);
        futures::pin_mut!(call);
        match futures::future::select(call, timeout).await {
            futures::future::Either::Left((r, _)) => r,
            futures::future::Either::Right(((), _)) => Err(Error::Timeout(self.timeout)),
        }
    }
}
