//! Serving uploaded files so that a browser never runs them in the server's origin: only
//! inert image types are shown inline, everything else is an attachment; `nosniff` keeps
//! browsers from guessing a more dangerous type, and a sandboxing CSP disarms whatever is
//! opened anyway.

use http::{HeaderValue, StatusCode, header};

use crate::net::http::{Resp, respond};
use crate::state::State;

/// Content types shown inline: raster images, which cannot run script (SVG can, so it is
/// an attachment).
const INLINE: &[&str] = &["image/png", "image/gif", "image/jpeg", "image/jpg", "image/webp", "image/bmp"];

/// The policy sent with every file: nothing loads, scripts and forms never run.
const CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

/// Whether a stored content type may be shown inline.
pub(crate) fn inline(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    INLINE.contains(&essence.as_str())
}

/// Serves `GET /api/file/...`.
pub(crate) fn file(state: &State, path: &str) -> Resp {
    let f = match state.file(path) {
        Ok(Some(f)) => f,
        Ok(None) => return respond(StatusCode::NOT_FOUND, "text/plain", "no such file"),
        Err(e) => return respond(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", e.to_string()),
    };
    // A content type that cannot be a header value is served as bytes.
    let ct = if HeaderValue::from_str(&f.content_type).is_ok() {
        f.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    let mut r = respond(StatusCode::OK, ct, f.bytes);
    let h = r.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    let disposition = if inline(ct) { "inline" } else { "attachment" };
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(disposition));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_raster_images_are_inline() {
        for ct in ["image/png", "IMAGE/JPEG", "image/gif; x=1"] {
            assert!(inline(ct), "{ct}");
        }
        for ct in ["text/html", "image/svg+xml", "application/xhtml+xml", "text/plain", "application/pdf", ""] {
            assert!(!inline(ct), "{ct}");
        }
    }
}
