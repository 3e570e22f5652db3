//! The RTM websocket: `<base>/customer/v0.5/rtm/ws?license_id=N` over the runtime's TCP
//! (and rustls for `wss://`).

#[cfg(not(target_arch = "wasm32"))]
use std::sync::Arc;

#[cfg(not(target_arch = "wasm32"))]
use async_tungstenite::WebSocketStream;
#[cfg(not(target_arch = "wasm32"))]
use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use chatio_wire::LicenseId;
use url::Url;

use crate::error::Error;
#[cfg(not(target_arch = "wasm32"))]
use crate::net::{self, TlsConfig};
#[cfg(not(target_arch = "wasm32"))]
use crate::runtime::{BoxIo, Runtime};

/// An open RTM websocket.
#[cfg(not(target_arch = "wasm32"))]
pub type RtmSocket = WebSocketStream<BoxIo>;

/// The RTM websocket URL for a server base URL (`http(s)://host[:port][/prefix]` or
/// `ws(s)://…`) and a license.
///
/// # Errors
/// [`Error::InvalidUrl`] when the base has an unusable scheme.
pub fn rtm_url(base: &Url, license: LicenseId) -> Result<Url, Error> {
    let mut url = base.clone();
    let scheme = match base.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => return Err(Error::InvalidUrl(format!("unsupported scheme `{other}` in `{base}`"))),
    };
    url.set_scheme(scheme).map_err(|()| Error::InvalidUrl(format!("cannot use `{scheme}` with `{base}`")))?;
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}/customer/v0.5/rtm/ws"));
    url.set_query(Some(&format!("license_id={license}")));
    Ok(url)
}

/// The Web API URL of an action for a server base URL and a license.
///
/// # Errors
/// [`Error::InvalidUrl`] when the base has an unusable scheme.
pub fn web_api_url(base: &Url, license: LicenseId, action: &str) -> Result<Url, Error> {
    let mut url = base.clone();
    let scheme = match base.scheme() {
        "http" | "ws" => "http",
        "https" | "wss" => "https",
        other => return Err(Error::InvalidUrl(format!("unsupported scheme `{other}` in `{base}`"))),
    };
    url.set_scheme(scheme).map_err(|()| Error::InvalidUrl(format!("cannot use `{scheme}` with `{base}`")))?;
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}/customer/v0.5/action/{action}"));
    url.set_query(Some(&format!("license_id={license}")));
    Ok(url)
}

/// The websocket's read buffer, allocated per connection and grown in chunks of this size.
#[cfg(not(target_arch = "wasm32"))]
pub const READ_BUFFER: usize = 4 * 1024;

#[cfg(not(target_arch = "wasm32"))]
/// Opens the websocket. Messages from the server longer than `max_frame_len` bytes fail the
/// stream (the session's [`Config::max_frame_len`](chatio_core::Config::max_frame_len)).
///
/// # Errors
/// Connection, TLS and handshake failures (an HTTP status other than 101 included).
pub async fn connect(
    rt: &Arc<dyn Runtime>,
    tls: &TlsConfig,
    url: &Url,
    max_frame_len: usize,
) -> Result<RtmSocket, Error> {
    let io = net::connect(rt, tls, url).await?;
    let mut config = WebSocketConfig::default();
    // tungstenite allocates its whole read buffer up front (128 KiB by default): that was
    // nearly all of an idle session's memory. Small chunks cost a few more reads for a large
    // frame, which are rare (history answers), and nothing for the usual ones.
    config.read_buffer_size = READ_BUFFER;
    config.max_message_size = Some(max_frame_len);
    config.max_frame_size = Some(max_frame_len);
    let (socket, _response) = async_tungstenite::client_async_with_config(url.as_str(), io, Some(config))
        .await
        .map_err(|e| Error::WebSocket { context: format!("handshake with {}", net::redact(url)), source: e })?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_from_a_base() {
        let base = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            rtm_url(&base, LicenseId(100)).unwrap().as_str(),
            "ws://127.0.0.1:8080/customer/v0.5/rtm/ws?license_id=100"
        );
        let base = Url::parse("https://api.example.com/prefix/").unwrap();
        assert_eq!(
            web_api_url(&base, LicenseId(7), "send_file").unwrap().as_str(),
            "https://api.example.com/prefix/customer/v0.5/action/send_file?license_id=7"
        );
        assert!(rtm_url(&Url::parse("ftp://x").unwrap(), LicenseId(1)).is_err());
    }

    /// The workspace pins `idna_adapter` 1.0.0 (no Unicode tables; issue 12, size; see
    /// docs/ARCHITECTURE.md): ASCII and Punycode hosts must still parse and keep their form.
    #[test]
    fn ascii_and_punycode_hosts_work_without_unicode_tables() {
        for (base, host) in [
            ("https://API.Example.com:8443/", "api.example.com"),
            ("https://xn--bcher-kva.example/", "xn--bcher-kva.example"),
            ("wss://chat.xn--80ak6aa92e.com", "chat.xn--80ak6aa92e.com"),
            ("http://[::1]:80", "[::1]"),
        ] {
            let url = rtm_url(&Url::parse(base).unwrap(), LicenseId(3)).unwrap();
            assert_eq!(url.host_str(), Some(host), "{base}");
        }
        // A Unicode host is an error with the stub (Punycode with ICU4X): never a panic.
        match Url::parse("https://bücher.example/") {
            Ok(u) => assert_eq!(u.host_str(), Some("xn--bcher-kva.example")),
            Err(e) => assert_eq!(e, url::ParseError::IdnaError),
        }
    }
}
