//! `GET /widget/...`: the chat widget's static assets (index.html, css, js glue, wasm) from
//! [`ServerConfig::widget_dir`](crate::ServerConfig::widget_dir).

use std::path::{Path, PathBuf};

use http::{StatusCode, header};

use crate::net::http::{Resp, respond};

/// What to say when the assets are not there.
pub(crate) const NOT_BUILT: &str =
    "The chat widget is not built: run `cargo xtask widget` (it writes target/widget/), then reload.\n";

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

/// Serves one asset. `/widget` (no slash) redirects to `/widget/` so that the page's
/// relative URLs resolve.
pub(crate) fn serve(dir: Option<&Path>, full_path: &str, rest: &[&str]) -> Resp {
    if full_path == "/widget" {
        let mut r = respond(StatusCode::MOVED_PERMANENTLY, "text/plain", "/widget/\n");
        r.headers_mut().insert(header::LOCATION, header::HeaderValue::from_static("/widget/"));
        return r;
    }
    let Some(dir) = dir else {
        return respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "The chat widget is not served: start the server with --widget.\n",
        );
    };
    if !dir.join("index.html").is_file() {
        return respond(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", NOT_BUILT);
    }
    let Some(path) = resolve(dir, rest) else {
        return respond(StatusCode::NOT_FOUND, "text/plain", "not found");
    };
    match std::fs::read(&path) {
        Ok(bytes) if path.is_file() => {
            let mut r = respond(StatusCode::OK, content_type(&path), bytes);
            r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-cache"));
            r
        }
        _ => respond(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
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
}
