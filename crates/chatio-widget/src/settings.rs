//! Where the chat window's settings come from, as plain data (tested on native).
//!
//! The **server** is the page's own configuration: the `<meta name="chatio-server">` of
//! `index.html` (empty: the origin the page is served from; `cargo xtask widget --server`
//! sets it for a copy on another static host). It is never read from the query string or
//! the fragment, which anyone can put in a link: a link cannot send the visitor's identity
//! to another server. The identity the page remembers is stored under a key that names
//! the server and the license, so it only ever goes back to the server that issued it.
//!
//! From the URL: `license=N` (default 100), `history=N` (events per history page, default
//! 50), `new` (start as a new customer), and in the fragment `embed=ORIGIN`, the origin of
//! the page the loader embedded this window in (its `postMessage` partner).

/// The chat window's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The license.
    pub license: u64,
    /// Events per history page.
    pub history: u64,
    /// The chat server's base URL (the page's own configuration, else its origin).
    pub server: String,
    /// Start as a new customer instead of the remembered one.
    pub fresh: bool,
    /// The origin of the host page that embedded this window, when embedded by the loader.
    pub embed_origin: Option<String>,
}

impl Settings {
    /// The settings of a page at `origin` with this query string and fragment (each with or
    /// without its leading `?` / `#`) and the content of its `chatio-server` meta tag.
    pub fn parse(origin: &str, query: &str, fragment: &str, meta_server: Option<&str>) -> Self {
        let query = pairs(query.trim_start_matches('?'));
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let number = |k: &str, default: u64| get(k).and_then(|v| v.parse().ok()).unwrap_or(default);
        let server = meta_server
            .map(str::trim)
            .filter(|s| s.starts_with("https://") || s.starts_with("http://"))
            .unwrap_or(origin)
            .trim_end_matches('/')
            .to_owned();
        let fragment = pairs(fragment.trim_start_matches('#'));
        let embed_origin = fragment.iter().find(|(n, _)| n == "embed").map(|(_, v)| v.clone()).filter(|o| is_origin(o));
        Self {
            license: number("license", 100),
            history: number("history", 50).clamp(1, 500),
            server,
            fresh: get("new").is_some(),
            embed_origin,
        }
    }

    /// The `localStorage` key prefix for what this page remembers of the customer: per
    /// server and license.
    pub fn storage_prefix(&self) -> String {
        format!("chatio-widget.{}.{}", self.server, self.license)
    }
}

/// `scheme://host[:port]` with an http(s) scheme and nothing after it.
fn is_origin(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains(['/', '?', '#', '@', ' ']))
}

/// `a=1&b=x%20y&c` as decoded pairs.
fn pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decoding (and `+` as a space); invalid escapes are kept as they are.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_numbers() {
        let s = Settings::parse("http://127.0.0.1:8080", "", "", Some(""));
        assert_eq!(
            s,
            Settings {
                license: 100,
                history: 50,
                server: "http://127.0.0.1:8080".into(),
                fresh: false,
                embed_origin: None
            }
        );
        let s = Settings::parse("http://a", "?license=7&history=1&new", "", None);
        assert_eq!((s.license, s.history, s.fresh), (7, 1, true));
        assert_eq!(Settings::parse("http://a", "license=x&history=0", "", None).history, 1);
    }

    #[test]
    fn the_server_comes_from_the_page_never_from_a_link() {
        let s = Settings::parse("https://chat.example", "?server=https://evil.example&license=1", "#server=x", None);
        assert_eq!(s.server, "https://chat.example");
        let s = Settings::parse("https://cdn.example", "", "", Some(" https://chat.example/ "));
        assert_eq!(s.server, "https://chat.example");
        // Not a URL: the page's own origin.
        assert_eq!(Settings::parse("https://cdn.example", "", "", Some("javascript:x")).server, "https://cdn.example");
        // The remembered identity is per server and license.
        assert_eq!(s.storage_prefix(), "chatio-widget.https://chat.example.100");
    }

    #[test]
    fn the_embedding_origin_is_an_origin_or_nothing() {
        let s = Settings::parse("http://a", "", "#embed=http%3A%2F%2Flocalhost%3A5000", None);
        assert_eq!(s.embed_origin.as_deref(), Some("http://localhost:5000"));
        for bad in ["#embed=javascript%3Aalert(1)", "#embed=http%3A%2F%2Fa%2Fpath", "#embed=", "#embed=%ZZ", "#embed=*"]
        {
            assert_eq!(Settings::parse("http://a", "", bad, None).embed_origin, None, "{bad}");
        }
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%e2%9c%93+ok"), "✓ ok");
    }
}
