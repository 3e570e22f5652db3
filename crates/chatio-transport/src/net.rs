//! Opening a byte stream to a URL: TCP through the runtime, then TLS for `https`/`wss`.

use std::sync::Arc;

use url::Url;

use crate::error::Error;
use crate::runtime::{BoxIo, Runtime};

/// TLS settings for `wss://` and `https://`.
#[derive(Clone, Default)]
pub struct TlsConfig {
    #[cfg(feature = "tls")]
    client: Option<Arc<futures_rustls::rustls::ClientConfig>>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig")
    }
}

impl TlsConfig {
    /// The default: rustls with the webpki (Mozilla) roots.
    pub fn webpki() -> Self {
        Self::default()
    }

    /// A custom rustls client configuration (e.g. extra roots for a test server).
    #[cfg(feature = "tls")]
    pub fn with_rustls(config: Arc<futures_rustls::rustls::ClientConfig>) -> Self {
        Self { client: Some(config) }
    }

    #[cfg(feature = "tls")]
    fn client(&self) -> Result<Arc<futures_rustls::rustls::ClientConfig>, Error> {
        use futures_rustls::rustls;
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls { host: "the client configuration".into(), source: Box::new(e) })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

/// Whether the scheme needs TLS.
pub(crate) fn is_secure(url: &Url) -> bool {
    matches!(url.scheme(), "https" | "wss")
}

/// Host and port of an `http`, `https`, `ws` or `wss` URL.
pub(crate) fn host_port(url: &Url) -> Result<(String, u16), Error> {
    let host = url.host_str().ok_or_else(|| Error::InvalidUrl(format!("`{url}` has no host")))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| Error::InvalidUrl(format!("`{url}` has no port and an unknown scheme")))?;
    // IPv6 literals come bracketed from the URL; the resolver wants them bare.
    Ok((host.trim_start_matches('[').trim_end_matches(']').to_owned(), port))
}

/// Opens TCP (and TLS if the scheme says so) to the URL's host.
pub(crate) async fn connect(rt: &Arc<dyn Runtime>, tls: &TlsConfig, url: &Url) -> Result<BoxIo, Error> {
    match url.scheme() {
        "http" | "https" | "ws" | "wss" => {}
        other => return Err(Error::InvalidUrl(format!("unsupported scheme `{other}` in `{url}`"))),
    }
    let (host, port) = host_port(url)?;
    let tcp = rt.connect_tcp(&host, port).await.map_err(|e| Error::Connect { url: redact(url), source: e })?;
    if !is_secure(url) {
        return Ok(tcp);
    }
    tls_wrap(tls, &host, tcp).await
}

#[cfg(feature = "tls")]
async fn tls_wrap(tls: &TlsConfig, host: &str, tcp: BoxIo) -> Result<BoxIo, Error> {
    let connector = futures_rustls::TlsConnector::from(tls.client()?);
    let name = rustls_pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| Error::InvalidUrl(format!("`{host}` is not a valid TLS server name: {e}")))?;
    let stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e: std::io::Error| Error::Tls { host: host.to_owned(), source: Box::new(e) })?;
    Ok(Box::new(stream))
}

#[cfg(not(feature = "tls"))]
async fn tls_wrap(_tls: &TlsConfig, host: &str, _tcp: BoxIo) -> Result<BoxIo, Error> {
    Err(Error::InvalidUrl(format!("`{host}` needs TLS but the `tls` feature of chatio-transport is disabled")))
}

/// The URL without credentials, for logs and errors.
pub(crate) fn redact(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}
