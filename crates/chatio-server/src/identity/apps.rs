//! The registered apps (protocol file G11, G36, G37): per license, which `client_id`s exist,
//! their exact redirect URIs (and so the origins allowed to receive tokens by
//! `postMessage` and to read the token endpoint's and the Web API's answers), the origins
//! allowed to embed the widget, and the secret of a server-side app.
//!
//! Apps come from a JSON file (`--apps FILE`) and command-line flags (`--app`,
//! `--embed-origin`); the server lists them at startup. **Without any registered app**
//! the server accepts any `client_id`, but only redirect URIs, token origins and embed
//! origins on its own origin or a loopback origin (`http://localhost:*`,
//! `http://127.0.0.1:*`, `http://[::1]:*`, and the same over https): the demo, the widget, the official JS SDK and
//! the example clients work with no setup, and `http://localhost.evil.test/` is refused.
//!
//! Every comparison is exact on parsed URLs: scheme, host and port for origins (OAuth 2.0
//! Security BCP), plus the path for redirect URIs; never a string prefix.
//!
//! The Agent API's OAuth (issue 23) checks its `client_id`/`redirect_uri` through the same
//! [`Apps`] ([`Apps::check_redirect`], [`Apps::token_origin`]).

use std::fmt;

use serde::Deserialize;
use url::Url;

use super::secret::Digest;

/// One registered app.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisteredApp {
    /// The license it belongs to.
    pub license: u64,
    /// Its `client_id`.
    pub client_id: String,
    /// Its redirect URIs, parsed (compared on scheme, host, port and path).
    pub redirect_uris: Vec<Url>,
    /// Origins (`scheme://host[:port]`) allowed to embed the chat widget for this license.
    pub embed_origins: Vec<String>,
    /// The SHA-256 digest of its client secret: set for a server-side app, which may name
    /// the `customer_id` a token is for (G11).
    pub secret: Option<Digest>,
}

impl fmt::Debug for RegisteredApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredApp")
            .field("license", &self.license)
            .field("client_id", &self.client_id)
            .field("redirect_uris", &self.redirect_uris.iter().map(Url::as_str).collect::<Vec<_>>())
            .field("embed_origins", &self.embed_origins)
            .field("server_side", &self.secret.is_some())
            .finish()
    }
}

impl RegisteredApp {
    /// A public (browser) app of `license` with these redirect URIs.
    ///
    /// # Errors
    /// A message naming a redirect URI that is not an absolute `http(s)` URL with a host.
    pub fn new(license: u64, client_id: impl Into<String>, redirect_uris: &[&str]) -> Result<Self, String> {
        let client_id = client_id.into();
        if client_id.is_empty() {
            return Err("an app needs a non-empty `client_id`".into());
        }
        let redirect_uris = redirect_uris.iter().map(|u| parse_redirect(u)).collect::<Result<_, _>>()?;
        Ok(Self { license, client_id, redirect_uris, embed_origins: Vec::new(), secret: None })
    }

    /// Makes it a server-side app authenticated by this secret (kept as its digest).
    pub fn with_secret(mut self, secret: &str) -> Self {
        self.secret = Some(Digest::of(secret));
        self
    }

    /// Adds an origin allowed to embed the widget.
    ///
    /// # Errors
    /// A message when `origin` is not `scheme://host[:port]`.
    pub fn with_embed_origin(mut self, origin: &str) -> Result<Self, String> {
        self.embed_origins.push(parse_origin(origin)?);
        Ok(self)
    }

    /// Parses the `--app` flag: `LICENSE:CLIENT_ID=REDIRECT_URI[,REDIRECT_URI…]`.
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse_flag(text: &str) -> Result<Self, String> {
        let usage = || format!("`{text}`: expected LICENSE:CLIENT_ID=REDIRECT_URI[,REDIRECT_URI…]");
        let (license, rest) = text.split_once(':').ok_or_else(usage)?;
        let license = license.parse::<u64>().map_err(|_| usage())?;
        let (client_id, uris) = rest.split_once('=').ok_or_else(usage)?;
        let uris: Vec<&str> = uris.split(',').filter(|u| !u.is_empty()).collect();
        if uris.is_empty() {
            return Err(usage());
        }
        Self::new(license, client_id, &uris).map_err(|e| format!("`{text}`: {e}"))
    }

    /// The origins of its redirect URIs.
    fn redirect_origins(&self) -> impl Iterator<Item = String> + '_ {
        self.redirect_uris.iter().map(|u| u.origin().ascii_serialization())
    }
}

/// Parses the `--embed-origin` flag: `LICENSE:ORIGIN`.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_embed_flag(text: &str) -> Result<(u64, String), String> {
    let usage = || format!("`{text}`: expected LICENSE:ORIGIN, e.g. 100:https://shop.example");
    let (license, origin) = text.split_once(':').ok_or_else(usage)?;
    let license = license.parse::<u64>().map_err(|_| usage())?;
    Ok((license, parse_origin(origin).map_err(|e| format!("`{text}`: {e}"))?))
}

fn parse_redirect(uri: &str) -> Result<Url, String> {
    let url = Url::parse(uri).map_err(|e| format!("redirect URI `{uri}`: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("redirect URI `{uri}`: not an absolute http(s) URL"));
    }
    Ok(url)
}

/// `scheme://host[:port]` of an `http(s)` URL that is only an origin.
fn parse_origin(origin: &str) -> Result<String, String> {
    let url = Url::parse(origin).map_err(|e| format!("origin `{origin}`: {e}"))?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
        return Err(format!("origin `{origin}`: expected scheme://host[:port]"));
    }
    Ok(url.origin().ascii_serialization())
}

/// The serialized origin of an absolute `http(s)` URI, or `None`.
pub(crate) fn origin_of(uri: &str) -> Option<String> {
    let url = Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Whether an origin is on this machine: `http` (or `https`) on `localhost`, `127.0.0.1` or
/// `[::1]`, any port (compared on the parsed host, never as a prefix).
fn is_loopback(origin: &str) -> bool {
    let Ok(url) = Url::parse(origin) else { return false };
    matches!(url.scheme(), "http" | "https")
        && match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
            Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
            None => false,
        }
}

/// The apps file (`--apps FILE`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppsFile {
    apps: Vec<AppEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppEntry {
    license: u64,
    client_id: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    embed_origins: Vec<String>,
    #[serde(default)]
    client_secret_sha256: Option<String>,
}

/// Reads the apps file: `{"apps": [{"license", "client_id", "redirect_uris",
/// "embed_origins", "client_secret_sha256"}]}`.
///
/// # Errors
/// A message naming the file and what is wrong in it.
pub fn read_apps_file(path: &std::path::Path) -> Result<Vec<RegisteredApp>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_apps(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the apps file's text.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_apps(text: &str) -> Result<Vec<RegisteredApp>, String> {
    let file: AppsFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    file.apps
        .into_iter()
        .map(|e| {
            let uris: Vec<&str> = e.redirect_uris.iter().map(String::as_str).collect();
            let mut app = RegisteredApp::new(e.license, e.client_id, &uris)?;
            for o in &e.embed_origins {
                app = app.with_embed_origin(o)?;
            }
            if let Some(hex) = e.client_secret_sha256 {
                let d = Digest::from_hex(&hex).ok_or_else(|| {
                    format!("app `{}`: `client_secret_sha256` is not 64 hex characters", app.client_id)
                })?;
                app.secret = Some(d);
            }
            Ok(app)
        })
        .collect()
}

/// Why an app's request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppRefusal {
    /// The `client_id` is not registered for the license.
    UnknownClient,
    /// The `redirect_uri` is not one of the app's (or, without registered apps, not on an
    /// allowed origin).
    RedirectUri,
    /// The origin a token would be posted to is not the origin of one of the app's
    /// redirect URIs.
    TargetOrigin,
}

impl AppRefusal {
    /// A sentence for the client.
    pub fn message(self) -> &'static str {
        match self {
            Self::UnknownClient => "unknown `client_id`",
            Self::RedirectUri => "`redirect_uri` is not registered for this app",
            Self::TargetOrigin => "the token's target origin is not the origin of a registered redirect URI",
        }
    }
}

/// The registry (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct Apps {
    apps: Vec<RegisteredApp>,
    /// Embed origins per license: the apps' and the `--embed-origin` flags'.
    embeds: Vec<(u64, String)>,
    /// The server's own origin(s) (its public URL), allowed without registration.
    own: Vec<String>,
}

impl Apps {
    /// The registry of `apps`, plus embed origins per license (`--embed-origin`);
    /// `own_origin` is the server's public origin.
    pub fn new(apps: Vec<RegisteredApp>, embed_origins: &[(u64, String)], own_origin: Option<&str>) -> Self {
        let mut embeds: Vec<(u64, String)> =
            apps.iter().flat_map(|a| a.embed_origins.iter().map(|o| (a.license, o.clone()))).collect();
        embeds.extend(embed_origins.iter().cloned());
        Self { apps, embeds, own: own_origin.and_then(origin_of).into_iter().collect() }
    }

    /// Whether apps are registered (else the loopback-and-own-origin defaults apply).
    pub fn registered(&self) -> bool {
        !self.apps.is_empty()
    }

    fn default_allows(&self, origin: &str) -> bool {
        self.own.iter().any(|o| o == origin) || is_loopback(origin)
    }

    fn find(&self, license: u64, client_id: &str) -> Option<&RegisteredApp> {
        self.apps.iter().find(|a| a.license == license && a.client_id == client_id)
    }

    /// Checks a `client_id` of `license`.
    ///
    /// # Errors
    /// [`AppRefusal::UnknownClient`] when apps are registered and this is not one of them.
    pub fn check_client(&self, license: u64, client_id: &str) -> Result<(), AppRefusal> {
        if !self.registered() || self.find(license, client_id).is_some() {
            Ok(())
        } else {
            Err(AppRefusal::UnknownClient)
        }
    }

    /// Checks a `redirect_uri` for an app: one of its registered URIs (scheme, host, port
    /// and path equal; query and fragment ignored), or without registered apps, any URI on
    /// the server's own origin or a loopback origin.
    ///
    /// # Errors
    /// [`AppRefusal::UnknownClient`] or [`AppRefusal::RedirectUri`].
    pub fn check_redirect(&self, license: u64, client_id: &str, redirect_uri: &str) -> Result<(), AppRefusal> {
        let Ok(given) = Url::parse(redirect_uri) else { return Err(AppRefusal::RedirectUri) };
        if !self.registered() {
            return match origin_of(redirect_uri) {
                Some(o) if self.default_allows(&o) => Ok(()),
                _ => Err(AppRefusal::RedirectUri),
            };
        }
        let app = self.find(license, client_id).ok_or(AppRefusal::UnknownClient)?;
        let same = |u: &Url| {
            u.scheme() == given.scheme()
                && u.host() == given.host()
                && u.port_or_known_default() == given.port_or_known_default()
                && u.path() == given.path()
        };
        if app.redirect_uris.iter().any(same) { Ok(()) } else { Err(AppRefusal::RedirectUri) }
    }

    /// The origin a token for this app may be posted to, from the URI the request names
    /// (`post_message_uri`, else `redirect_uri`): it must be the origin of one of the app's
    /// registered redirect URIs (or, without registered apps, the server's own origin or a
    /// loopback origin).
    ///
    /// # Errors
    /// [`AppRefusal::UnknownClient`] or [`AppRefusal::TargetOrigin`].
    pub fn token_origin(&self, license: u64, client_id: &str, target_uri: &str) -> Result<String, AppRefusal> {
        let origin = origin_of(target_uri).ok_or(AppRefusal::TargetOrigin)?;
        let allowed = if self.registered() {
            let app = self.find(license, client_id).ok_or(AppRefusal::UnknownClient)?;
            app.redirect_origins().any(|o| o == origin)
        } else {
            self.default_allows(&origin)
        };
        if allowed { Ok(origin) } else { Err(AppRefusal::TargetOrigin) }
    }

    /// Whether `secret` authenticates the server-side app `client_id` of `license`
    /// (compared in constant time against the registered digest).
    pub fn authenticates(&self, license: u64, client_id: &str, secret: &str) -> bool {
        self.find(license, client_id).and_then(|a| a.secret).is_some_and(|d| d.matches(secret))
    }

    /// Whether a browser page on `origin` may read the answers of the token endpoint and
    /// the Web API (CORS, G37): the origin of a registered redirect URI or embed origin of
    /// any license, or without registered apps the own and loopback origins.
    pub fn cors_allows(&self, origin: &str) -> bool {
        if self.embeds.iter().any(|(_, o)| o == origin) {
            return true;
        }
        if !self.registered() {
            return self.default_allows(origin);
        }
        self.apps.iter().any(|a| a.redirect_origins().any(|o| o == origin))
    }

    /// Whether a page on `origin` may embed the widget of `license`: one of the license's
    /// embed origins when it has any, else the server's own and loopback origins.
    pub fn embed_allows(&self, license: u64, origin: &str) -> bool {
        let mut mine = self.embeds.iter().filter(|(l, _)| *l == license).peekable();
        if mine.peek().is_none() {
            return self.default_allows(origin);
        }
        mine.any(|(_, o)| o == origin)
    }

    /// The embed origins of `license` (empty: the own and loopback defaults apply).
    pub fn embed_origins(&self, license: u64) -> Vec<&str> {
        self.embeds.iter().filter(|(l, _)| *l == license).map(|(_, o)| o.as_str()).collect()
    }

    /// One line per app (and the defaults when none is registered), for the startup log.
    pub fn describe(&self) -> Vec<String> {
        let own = if self.own.is_empty() { String::new() } else { format!("{} and ", self.own.join(", ")) };
        let mut lines: Vec<String> =
            self.embeds.iter().map(|(l, o)| format!("embed origin: license {l} {o}")).collect();
        if !self.registered() {
            lines.insert(
                0,
                format!(
                    "apps: none registered: any client_id; redirect URIs and token origins on {own}loopback (http://localhost:*, http://127.0.0.1:*, http://[::1]:*)"
                ),
            );
            return lines;
        }
        let mut apps: Vec<String> = self
            .apps
            .iter()
            .map(|a| {
                let uris: Vec<&str> = a.redirect_uris.iter().map(Url::as_str).collect();
                format!(
                    "app: license {} client_id {}{}; redirect URIs [{}]; embed origins [{}]",
                    a.license,
                    a.client_id,
                    if a.secret.is_some() { " (server-side)" } else { "" },
                    uris.join(", "),
                    a.embed_origins.join(", ")
                )
            })
            .collect();
        apps.append(&mut lines);
        apps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered() -> Apps {
        let shop = RegisteredApp::new(100, "shop", &["https://good.com/chat/", "http://localhost:3000/cb"])
            .unwrap()
            .with_embed_origin("https://good.com")
            .unwrap();
        let backend = RegisteredApp::new(100, "backend", &[]).unwrap().with_secret("s3cret");
        Apps::new(vec![shop, backend], &[], Some("https://chat.example"))
    }

    #[test]
    fn defaults_allow_own_and_loopback_origins_compared_as_origins() {
        let apps = Apps::new(Vec::new(), &[], Some("https://chat.example:8443/"));
        for ok in
            ["http://localhost:5173/page", "http://127.0.0.1:9/", "http://[::1]:80/x", "https://chat.example:8443/w/"]
        {
            assert_eq!(apps.check_redirect(100, "any", ok), Ok(()), "{ok}");
            assert!(apps.token_origin(100, "any", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://localhost.evil.test/",
            "http://127.0.0.1.evil.test/",
            "http://evil.test/?http://localhost/",
            "http://localhost@evil.test/",
            "https://chat.example/",
            "https://chat.example:8443.evil.test/",
            "data:text/html,x",
            "nonsense",
        ] {
            assert!(apps.check_redirect(100, "any", bad).is_err(), "{bad}");
            assert!(apps.token_origin(100, "any", bad).is_err(), "{bad}");
        }
        assert!(apps.cors_allows("http://127.0.0.1:4000"));
        assert!(!apps.cors_allows("null"));
        assert!(!apps.cors_allows("http://localhost.evil.test"));
        assert!(apps.check_client(100, "whatever").is_ok());
        assert!(apps.embed_allows(100, "http://localhost:8000") && !apps.embed_allows(100, "https://evil.test"));
        let flagged = Apps::new(Vec::new(), &[(100, "https://shop.example".into())], None);
        assert!(flagged.embed_allows(100, "https://shop.example") && !flagged.embed_allows(100, "http://localhost:1"));
        assert!(flagged.embed_allows(101, "http://localhost:1"), "another license keeps the defaults");
        assert!(flagged.cors_allows("https://shop.example"));
    }

    #[test]
    fn registered_apps_match_exactly_never_by_prefix() {
        let apps = registered();
        assert_eq!(apps.check_client(100, "nope"), Err(AppRefusal::UnknownClient));
        assert_eq!(apps.check_client(101, "shop"), Err(AppRefusal::UnknownClient));
        assert_eq!(apps.check_redirect(100, "shop", "https://good.com/chat/?page=2"), Ok(()));
        assert_eq!(apps.check_redirect(100, "shop", "https://good.com:443/chat/"), Ok(()));
        for bad in [
            "https://good.com.evil.com/chat/",
            "https://good.com/chat/evil",
            "https://good.com/chat",
            "http://good.com/chat/",
            "https://good.com:8443/chat/",
            "http://localhost:3001/cb",
            "http://127.0.0.1:9/",
        ] {
            assert_eq!(apps.check_redirect(100, "shop", bad), Err(AppRefusal::RedirectUri), "{bad}");
        }
        assert_eq!(apps.token_origin(100, "shop", "https://good.com/other/page"), Ok("https://good.com".into()));
        assert_eq!(apps.token_origin(100, "shop", "https://good.com.evil.com/"), Err(AppRefusal::TargetOrigin));
        assert_eq!(apps.token_origin(100, "shop", "http://127.0.0.1:9/"), Err(AppRefusal::TargetOrigin));
        assert!(apps.cors_allows("https://good.com") && apps.cors_allows("http://localhost:3000"));
        assert!(!apps.cors_allows("https://good.com.evil.com") && !apps.cors_allows("http://127.0.0.1:3000"));
        assert!(apps.embed_allows(100, "https://good.com") && !apps.embed_allows(101, "https://good.com"));
    }

    #[test]
    fn server_side_apps_authenticate_by_secret() {
        let apps = registered();
        assert!(apps.authenticates(100, "backend", "s3cret"));
        assert!(!apps.authenticates(100, "backend", "s3cre"));
        assert!(!apps.authenticates(100, "shop", "s3cret"), "a public app has no secret");
        assert!(!apps.authenticates(101, "backend", "s3cret"));
        assert!(!format!("{apps:?}").contains("s3cret"));
    }

    #[test]
    fn flags_and_file_parse() {
        let a = RegisteredApp::parse_flag("100:shop=https://a.example/cb,http://localhost:3000/").unwrap();
        assert_eq!((a.license, a.client_id.as_str(), a.redirect_uris.len()), (100, "shop", 2));
        for bad in
            ["shop=https://a/", "x:shop=https://a/", "100:shop", "100:shop=", "100:=https://a/", "100:s=ftp://a/"]
        {
            assert!(RegisteredApp::parse_flag(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_embed_flag("7:https://shop.example").unwrap(), (7, "https://shop.example".into()));
        assert!(parse_embed_flag("7:https://shop.example/path").is_err());
        let digest = Digest::of("k").to_hex();
        let apps = parse_apps(&format!(
            r#"{{"apps":[{{"license":100,"client_id":"b","client_secret_sha256":"{digest}"}},
                {{"license":100,"client_id":"w","redirect_uris":["https://w.example/"],"embed_origins":["https://w.example"]}}]}}"#
        ))
        .unwrap();
        assert!(Apps::new(apps.clone(), &[], None).authenticates(100, "b", "k"));
        assert_eq!(apps[1].embed_origins, ["https://w.example"]);
        assert!(parse_apps(r#"{"apps":[{"license":1,"client_id":"x","redirect_uri":"typo"}]}"#).is_err());
        assert!(parse_apps(r#"{"apps":[{"license":1,"client_id":"x","client_secret_sha256":"12"}]}"#).is_err());
    }
}
