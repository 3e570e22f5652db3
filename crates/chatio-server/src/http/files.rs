//! Serving uploaded files.

use http::StatusCode;

use super::{Resp, respond};
use crate::state::Shared;

/// Serves `GET /api/file/...`.
pub(crate) fn file(shared: &Shared, path: &str) -> Resp {
    let inner = shared.lock();
    match inner.store.files.get(path) {
        Some(f) => respond(StatusCode::OK, &f.content_type, f.bytes.clone()),
        None => respond(StatusCode::NOT_FOUND, "text/plain", "no such file"),
    }
}
