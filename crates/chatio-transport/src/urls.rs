//! Where a session connects: the RTM websocket `<base>/<api>/rtm/ws[?license_id=N]` and the
//! Web API `<base>/<api>/action/<name>[?license_id=N]` for an [`Endpoint`], and URLs as error
//! messages show them ([`redact`]). Public as `ws`, with the platform's websocket.

use chatio_wire::LicenseId;
use url::{Position, Url};

use crate::error::{Error, UrlError};
use crate::session::Endpoint;

/// The RTM websocket URL of the Customer API for a server base URL
/// (`http(s)://host[:port][/prefix]` or `ws(s)://…`) and a license.
///
/// # Errors
/// [`Error::InvalidUrl`] when the base has an unusable scheme.
pub fn rtm_url(base: &Url, license: LicenseId) -> Result<Url, Error> {
    rtm_url_at(base, Endpoint::customer(license))
}

/// The Customer API's Web API URL of an action for a server base URL and a license.
///
/// # Errors
/// [`Error::InvalidUrl`] when the base has an unusable scheme.
pub fn web_api_url(base: &Url, license: LicenseId, action: &str) -> Result<Url, Error> {
    web_api_url_at(base, Endpoint::customer(license), action)
}

/// The RTM websocket URL of `endpoint` under a server base URL.
///
/// # Errors
/// [`Error::InvalidUrl`] when the base has an unusable scheme.
pub fn rtm_url_at(base: &Url, endpoint: Endpoint) -> Result<Url, Error> {
    at(base, endpoint, ["ws", "wss"], "rtm/ws")
}

/// The Web API URL of `action` at `endpoint` under a server base URL.
///
/// # Errors
/// [`Error::InvalidUrl`] when the base has an unusable scheme.
pub fn web_api_url_at(base: &Url, endpoint: Endpoint, action: &str) -> Result<Url, Error> {
    at(base, endpoint, ["http", "https"], &format!("action/{action}"))
}

/// `<base>/<api>/<path>[?license_id=N]` with the plain or secure scheme of `schemes` as the
/// base's is plain or secure.
fn at(base: &Url, endpoint: Endpoint, [plain, secure]: [&str; 2], path: &str) -> Result<Url, Error> {
    let invalid = |source| Error::InvalidUrl { url: redact(base), source };
    let scheme = match base.scheme() {
        "http" | "ws" => plain,
        "https" | "wss" => secure,
        other => return Err(invalid(UrlError::UnsupportedScheme(other.to_owned()))),
    };
    let mut url = base.clone();
    url.set_scheme(scheme).map_err(|()| invalid(UrlError::CannotBeABase))?;
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}/{}/{path}", endpoint.api));
    url.set_query(endpoint.license.map(|l| format!("license_id={l}")).as_deref());
    Ok(url)
}

/// The URL without credentials, for logs and errors.
pub fn redact(url: &Url) -> String {
    // Slices of the serialization around `user:password@` (a copy with its credentials set
    // to nothing would be the same text, for 1 KiB more of the browser build).
    format!("{}{}", &url[..Position::BeforeUsername], &url[Position::BeforeHost..])
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
        let agent = Endpoint::new("agent/v0.5", None);
        let base = Url::parse("https://api.example.com").unwrap();
        assert_eq!(rtm_url_at(&base, agent).unwrap().as_str(), "wss://api.example.com/agent/v0.5/rtm/ws");
        assert_eq!(
            web_api_url_at(&base, agent, "upload_image").unwrap().as_str(),
            "https://api.example.com/agent/v0.5/action/upload_image"
        );
    }

    #[test]
    fn redact_drops_credentials_only() {
        for (url, shown) in [
            (
                "wss://user:secret@chat.test:8443/customer/v0.5/rtm/ws?license_id=1",
                "wss://chat.test:8443/customer/v0.5/rtm/ws?license_id=1",
            ),
            ("http://user@[::1]/x", "http://[::1]/x"),
            ("https://:secret@chat.test/", "https://chat.test/"),
            ("http://chat.test/a?b=c#d", "http://chat.test/a?b=c#d"),
        ] {
            assert_eq!(redact(&Url::parse(url).unwrap()), shown);
        }
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
