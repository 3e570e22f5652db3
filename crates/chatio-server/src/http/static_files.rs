//! `GET /widget/...`: the chat widget's files from
//! [`ServerConfig::widget_dir`](crate::ServerConfig::widget_dir), served like production
//! assets (the folder `cargo xtask widget` builds):
//!
//! * **Encoding**: each file's pre-compressed `.br` / `.gz` sibling when the request's
//!   `Accept-Encoding` takes it (brotli first), with `Vary: Accept-Encoding`.
//! * **Caching**: content-hashed names (`name.<12 hex>.ext`) are `max-age=31536000,
//!   immutable`; the page and the loader (fixed names) are `no-cache` with a strong ETag, and
//!   `If-None-Match` is answered `304`.
//! * **Who may embed**: `index.html?license=N` carries `Content-Security-Policy:
//!   frame-ancestors` with the license's embed origins, and `embed.json?license=N` tells
//!   the loader the same list, so a page elsewhere gets no chat window. Without configured
//!   origins: the server's own origin and loopback origins (a local run needs no setup).
//! * Every answer is `nosniff`; `Timing-Allow-Origin: *` lets a host page measure what the
//!   widget costs it; `embed.json` is readable cross-origin (public, no credentials).
//!
//! `GET /agent/...` serves the agent page, the folder's `agent/` (built with the widget),
//! the same way; it holds an agent's token, so no site may frame it (`frame-ancestors
//! 'none'`), it sends no referrer, and `/widget/agent/` does not serve it.

use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::net::http::{Resp, query, respond};
use crate::state::State;

/// What to say when the assets are not there.
pub(crate) const NOT_BUILT: &str =
    "The chat widget is not built: run `cargo xtask widget` (it writes target/widget/), then reload.\n";

/// The embed origins used when none are configured for a license: the server's own origin
/// and any port of the loopback hosts (CSP source expressions; the loader reads them too).
pub const DEFAULT_EMBED_ORIGINS: &[&str] = &["self", "http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];

/// The content type of an asset, from its extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The file for the segments after `/widget/`, or `None` for a path that leaves the
/// directory (`..`, hidden names, backslashes).
pub(crate) fn resolve(dir: &Path, rest: &[&str]) -> Option<PathBuf> {
    let mut path = dir.to_path_buf();
    let rest: Vec<&str> = rest.iter().copied().filter(|s| !s.is_empty()).collect();
    if rest.is_empty() {
        path.push("index.html");
        return Some(path);
    }
    for seg in rest {
        if seg.starts_with('.') || seg.contains('\\') || seg.contains('\0') {
            return None;
        }
        path.push(seg);
    }
    Some(path)
}

/// Whether a file name carries its content hash (`chatio_widget.0123456789ab.js`): such a
/// file never changes under its name.
fn is_hashed(name: &str) -> bool {
    let mut parts = name.rsplitn(3, '.');
    let (_ext, hash, stem) = (parts.next(), parts.next(), parts.next());
    stem.is_some_and(|s| !s.is_empty())
        && hash.is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// The encodings a request accepts among ours, best first (`q=0` refuses one).
fn accepted(headers: &HeaderMap) -> Vec<(&'static str, &'static str)> {
    let value = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let takes = |name: &str| {
        value.split(',').any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    [("br", "br"), ("gzip", "gz")].into_iter().filter(|(name, _)| takes(name)).collect()
}

/// A strong ETag of one representation: FNV-1a of its bytes and the encoding.
fn etag(bytes: &[u8], encoding: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes.iter().chain(encoding.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

fn if_none_match(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == tag || t == "*")
}

/// The license a request names (`?license=N`), else the server's first.
fn license_of(state: &State, q: &std::collections::HashMap<String, String>) -> Option<u64> {
    match q.get("license") {
        Some(l) => l.parse::<u64>().ok().filter(|l| state.config.licenses.contains(l)),
        None => state.config.licenses.first().copied(),
    }
}

/// The origins that may embed `license`'s widget, as CSP source expressions.
pub(crate) fn embed_origins(state: &State, license: u64) -> Vec<String> {
    match state.config.embed_origins.get(&license) {
        Some(list) => list.clone(),
        None => DEFAULT_EMBED_ORIGINS.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// `frame-ancestors` and a strict policy for the page: scripts, styles and the wasm only
/// from here; images also from http(s) (agents' files and cards), connections to here.
fn page_policy(origins: &[String]) -> String {
    let ancestors: Vec<String> =
        origins.iter().map(|o| if o == "self" { "'self'".to_owned() } else { o.clone() }).collect();
    let ancestors = if ancestors.is_empty() { "'none'".to_owned() } else { ancestors.join(" ") };
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' http: https: data: blob:; \
         connect-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}"
    )
}

fn set(r: &mut Resp, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// Serves one request under `/widget`. `/widget` (no slash) redirects to `/widget/` so that
/// the page's relative URLs resolve.
pub(crate) fn serve<B>(state: &State, req: &hyper::Request<B>, full_path: &str, rest: &[&str]) -> Resp {
    if full_path == "/widget" {
        let mut r = respond(StatusCode::MOVED_PERMANENTLY, "text/plain", "/widget/\n");
        r.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/widget/"));
        return r;
    }
    let Some(dir) = state.config.widget_dir.as_deref() else {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "The chat widget is not served: start the server with --widget.\n",
        );
    };
    if !dir.join("index.html").is_file() {
        return respond(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", NOT_BUILT);
    }
    if rest.first() == Some(&AGENT_DIR) {
        return respond(StatusCode::NOT_FOUND, "text/plain", "not found");
    }
    let q = query(req);
    let mut r = match rest.iter().rev().find(|s| !s.is_empty()).copied() {
        Some("embed.json") if rest.len() == 1 => embed_json(state, &q),
        _ => file(dir, req.headers(), rest, |name| {
            (name == "index.html")
                .then(|| page_policy(&license_of(state, &q).map(|l| embed_origins(state, l)).unwrap_or_default()))
        }),
    };
    set(&mut r, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(&mut r, header::HeaderName::from_static("timing-allow-origin"), "*");
    r
}

/// The agent page's folder inside the widget's.
const AGENT_DIR: &str = "agent";

/// Serves one request under `/agent` (the Agent API's own paths are routed before): the
/// agent page. `/agent` redirects to `/agent/`.
pub(crate) fn serve_agent<B>(state: &State, req: &hyper::Request<B>, full_path: &str, rest: &[&str]) -> Resp {
    if full_path == "/agent" {
        let mut r = respond(StatusCode::MOVED_PERMANENTLY, "text/plain", "/agent/\n");
        r.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/agent/"));
        return r;
    }
    let Some(dir) = state.config.widget_dir.as_deref() else {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "The agent page is not served: start the server with --widget.\n",
        );
    };
    let dir = dir.join(AGENT_DIR);
    if !dir.join("index.html").is_file() {
        return respond(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", NOT_BUILT);
    }
    // No embed origins: the page may not be framed at all.
    let mut r = file(&dir, req.headers(), rest, |name| (name == "index.html").then(|| page_policy(&[])));
    set(&mut r, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(&mut r, header::REFERRER_POLICY, "no-referrer");
    r
}

/// `embed.json?license=N`: the loader's copy of who may embed the license's widget.
fn embed_json(state: &State, q: &std::collections::HashMap<String, String>) -> Resp {
    let Some(license) = license_of(state, q) else {
        return respond(StatusCode::NOT_FOUND, "application/json", r#"{"error":"no such license"}"#);
    };
    let body = serde_json::json!({ "license": license, "origins": embed_origins(state, license) }).to_string();
    let mut r = respond(StatusCode::OK, "application/json", body);
    set(&mut r, header::CACHE_CONTROL, "no-cache");
    // Public and without credentials: any page may read it (the router keeps this answer).
    set(&mut r, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    r
}

/// A file of the folder, in the best encoding the request takes, with its caching headers.
fn file(dir: &Path, headers: &HeaderMap, rest: &[&str], policy: impl Fn(&str) -> Option<String>) -> Resp {
    let Some(path) = resolve(dir, rest) else {
        return respond(StatusCode::NOT_FOUND, "text/plain", "not found");
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
    // Only the files themselves are addressable, never their compressed siblings by name
    // (they would be served with the wrong type).
    if name.ends_with(".gz") || name.ends_with(".br") || !path.is_file() {
        return respond(StatusCode::NOT_FOUND, "text/plain", "not found");
    }
    let mut chosen = None;
    for (coding, ext) in accepted(headers) {
        let mut p = path.clone().into_os_string();
        p.push(".");
        p.push(ext);
        if let Ok(bytes) = std::fs::read(PathBuf::from(p)) {
            chosen = Some((bytes, coding));
            break;
        }
    }
    let (bytes, coding) = match chosen {
        Some(c) => c,
        None => match std::fs::read(&path) {
            Ok(b) => (b, "identity"),
            Err(_) => return respond(StatusCode::NOT_FOUND, "text/plain", "not found"),
        },
    };
    let tag = etag(&bytes, coding);
    let cache = if is_hashed(&name) { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut r = if if_none_match(headers, &tag) {
        let mut r = respond(StatusCode::NOT_MODIFIED, content_type(&path), Vec::new());
        r.headers_mut().remove(header::CONTENT_TYPE);
        r
    } else {
        let mut r = respond(StatusCode::OK, content_type(&path), bytes);
        if coding != "identity" {
            set(&mut r, header::CONTENT_ENCODING, coding);
        }
        r
    };
    set(&mut r, header::ETAG, &tag);
    set(&mut r, header::CACHE_CONTROL, cache);
    set(&mut r, header::VARY, "Accept-Encoding");
    if let Some(p) = policy(&name) {
        set(&mut r, header::CONTENT_SECURITY_POLICY, &p);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_directory() {
        let dir = Path::new("/srv/w");
        assert_eq!(resolve(dir, &[]), Some(PathBuf::from("/srv/w/index.html")));
        assert_eq!(resolve(dir, &[""]), Some(PathBuf::from("/srv/w/index.html")));
        assert_eq!(resolve(dir, &["chatio_widget_bg.wasm"]), Some(PathBuf::from("/srv/w/chatio_widget_bg.wasm")));
        assert_eq!(resolve(dir, &["..", "secret"]), None);
        assert_eq!(resolve(dir, &[".git", "config"]), None);
        assert_eq!(resolve(dir, &["a\\..\\b"]), None);
        assert_eq!(content_type(Path::new("x.wasm")), "application/wasm");
    }

    #[test]
    fn hashed_names_and_encodings() {
        assert!(is_hashed("chatio_widget_bg.0123456789ab.wasm"));
        assert!(!is_hashed("loader.js"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed(".0123456789ab.js"));
        assert!(!is_hashed("a.0123456789AB.js"));
        let mut h = HeaderMap::new();
        assert!(accepted(&h).is_empty());
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, deflate, br;q=1.0"));
        assert_eq!(accepted(&h), vec![("br", "br"), ("gzip", "gz")]);
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("br;q=0, gzip"));
        assert_eq!(accepted(&h), vec![("gzip", "gz")]);
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("x-gzip"));
        assert!(accepted(&h).is_empty());
        let tag = etag(b"x", "gzip");
        assert_ne!(tag, etag(b"x", "br"));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&format!("\"other\", W/{tag}")).unwrap());
        assert!(if_none_match(&h, &tag));
        assert!(!if_none_match(&h, &etag(b"y", "gzip")));
    }

    #[test]
    fn the_page_policy_names_the_embedders() {
        let p = page_policy(&["self".into(), "https://shop.example".into()]);
        assert!(p.ends_with("frame-ancestors 'self' https://shop.example"), "{p}");
        assert!(page_policy(&[]).ends_with("frame-ancestors 'none'"));
    }
}
