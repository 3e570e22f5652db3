//! Opening a byte stream to a URL: TCP through the runtime, then TLS for `https`/`wss`.

use std::sync::Arc;

use url::Url;

#[cfg(feature = "tls")]
use crate::error::BoxError;
use crate::error::{Error, UrlError};
use crate::runtime::{BoxIo, Runtime};
use crate::urls::redact;

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
    /// The default: rustls with the webpki (Mozilla) roots, on the application's process-wide
    /// crypto provider if it installed one, else aws-lc-rs.
    pub fn webpki() -> Self {
        Self::default()
    }

    /// A custom rustls client configuration (e.g. extra roots for a test server).
    #[cfg(feature = "tls")]
    pub fn with_rustls(config: Arc<futures_rustls::rustls::ClientConfig>) -> Self {
        Self { client: Some(config) }
    }

    /// Trusts these CA certificates (PEM, one or more) in addition to the webpki roots:
    /// for a server with a private CA. For client certificates or other rustls settings, use
    /// [`with_rustls`](Self::with_rustls).
    ///
    /// # Errors
    /// [`Error::Tls`] when the PEM holds no certificate or one rustls refuses.
    #[cfg(feature = "tls")]
    pub fn with_extra_roots_pem(pem: &[u8]) -> Result<Self, Error> {
        use futures_rustls::rustls;
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let bad = |source: BoxError| Error::Tls { host: "the extra root certificates".into(), source };
        let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| bad(Box::new(e)))?;
            roots.add(cert).map_err(|e| bad(Box::new(e)))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("no certificate in the PEM".into()));
        }
        let config = rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(Box::new(e)))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self::with_rustls(Arc::new(config)))
    }

    #[cfg(feature = "tls")]
    fn client(&self) -> Result<Arc<futures_rustls::rustls::ClientConfig>, Error> {
        use futures_rustls::rustls;
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let config = rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls { host: "the client configuration".into(), source: Box::new(e) })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

/// The cryptography under TLS: the process-wide provider if the application installed one
/// (`rustls::crypto::CryptoProvider::install_default`, e.g. for FIPS or *ring*), else rustls's
/// aws-lc-rs provider (post-quantum key exchange preferred). Never the deprecated *ring*
/// `default_provider` (rustls 0.23.48 deprecated it: no post-quantum algorithms).
#[cfg(feature = "tls")]
fn crypto_provider() -> Arc<futures_rustls::rustls::crypto::CryptoProvider> {
    use futures_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs};
    CryptoProvider::get_default().cloned().unwrap_or_else(|| Arc::new(aws_lc_rs::default_provider()))
}

/// Whether the scheme needs TLS.
pub(crate) fn is_secure(url: &Url) -> bool {
    matches!(url.scheme(), "https" | "wss")
}

/// Host and port of an `http`, `https`, `ws` or `wss` URL.
pub(crate) fn host_port(url: &Url) -> Result<(String, u16), Error> {
    let invalid = |source| Error::InvalidUrl { url: redact(url), source };
    let host = url.host_str().ok_or_else(|| invalid(UrlError::NoHost))?;
    let port = url.port_or_known_default().ok_or_else(|| invalid(UrlError::NoPort))?;
    // IPv6 literals come bracketed from the URL; the resolver wants them bare.
    Ok((host.trim_start_matches('[').trim_end_matches(']').to_owned(), port))
}

/// Opens TCP (and TLS if the scheme says so) to the URL's host.
pub(crate) async fn connect(rt: &Arc<dyn Runtime>, tls: &TlsConfig, url: &Url) -> Result<BoxIo, Error> {
    match url.scheme() {
        "http" | "https" | "ws" | "wss" => {}
        other => {
            return Err(Error::InvalidUrl { url: redact(url), source: UrlError::UnsupportedScheme(other.to_owned()) });
        }
    }
    let (host, port) = host_port(url)?;
    let tcp =
        rt.connect_tcp(&host, port).await.map_err(|e| Error::Connect { url: redact(url), source: Box::new(e) })?;
    if !is_secure(url) {
        return Ok(tcp);
    }
    tls_wrap(tls, &host, tcp).await
}

#[cfg(feature = "tls")]
async fn tls_wrap(tls: &TlsConfig, host: &str, tcp: BoxIo) -> Result<BoxIo, Error> {
    let connector = futures_rustls::TlsConnector::from(tls.client()?);
    let name = rustls_pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| Error::InvalidUrl { url: host.to_owned(), source: UrlError::Parse(Box::new(e)) })?;
    let stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e: std::io::Error| Error::Tls { host: host.to_owned(), source: Box::new(e) })?;
    Ok(Box::new(stream))
}

#[cfg(not(feature = "tls"))]
async fn tls_wrap(_tls: &TlsConfig, host: &str, _tcp: BoxIo) -> Result<BoxIo, Error> {
    Err(Error::InvalidUrl { url: host.to_owned(), source: UrlError::TlsDisabled })
}

#[cfg(all(test, feature = "tls"))]
mod tests {
    use super::*;
    use futures_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs};

    /// The configurations use the provider the application installed (here: aws-lc-rs with
    /// one cipher suite), and build without one (aws-lc-rs).
    #[test]
    fn tls_uses_the_installed_crypto_provider_or_aws_lc_rs() {
        let default = TlsConfig::default().client().expect("a configuration without an installed provider");
        assert!(!default.crypto_provider().cipher_suites.is_empty());
        let mut only_one = aws_lc_rs::default_provider();
        only_one.cipher_suites.truncate(1);
        let suite = only_one.cipher_suites[0].suite();
        let _ = only_one.install_default();
        let installed = CryptoProvider::get_default().expect("installed");
        let config = TlsConfig::default().client().expect("a configuration");
        assert!(Arc::ptr_eq(config.crypto_provider(), installed));
        assert_eq!(config.crypto_provider().cipher_suites.iter().map(|s| s.suite()).collect::<Vec<_>>(), [suite]);
        let pem = b"-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
        assert!(TlsConfig::with_extra_roots_pem(pem).is_err(), "a bad certificate is an error, not a panic");
    }
}
