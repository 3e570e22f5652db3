//! `upload_image` (protocol file §5.23, H26): an agent's image, stored and served like the
//! customers' files but under `img/`; it creates no event. The multipart body is read (and
//! its size bounded) by the HTTP handler; the kind is sniffed here from the bytes. The
//! images count against the server's total of uploaded bytes (`upload_bytes`, G38).

use bytes::Bytes;
use chatio_wire::ErrorObject;
use chatio_wire::agent::UploadImageResponse;

use super::super::Ctx;
use super::super::checks::validation;
use super::AgentCaller;
use crate::store::FileRec;

/// The largest image (H26, H39): 10 MiB.
pub(crate) const MAX_IMAGE_SIZE: u64 = chatio_wire::agent::UploadImage::MAX_FILE_SIZE;

/// Stores `bytes` (a PNG, GIF or JPEG, else `validation`) for `caller`'s license and
/// answers its `url` (under `public_url`) and `path`.
pub(crate) fn upload_image(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    bytes: Bytes,
    public_url: &str,
) -> Result<UploadImageResponse, ErrorObject> {
    let (content_type, ext) = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ("image/png", "png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        ("image/gif", "gif")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        ("image/jpeg", "jpg")
    } else {
        return Err(validation("`image`: not a PNG, GIF or JPEG image"));
    };
    // The server's room for uploaded bytes (G38): agents' images count with customers' files.
    let size = bytes.len() as u64;
    let max = cx.policy.quotas.upload_bytes;
    if cx.policy.upload_bytes.saturating_add(size) > max {
        let msg = "the server holds as many uploaded bytes as it may: try again later";
        return Err(super::super::quota::over("upload_bytes", max, msg));
    }
    // The name in the URL is a capability: from the OS random source.
    let path = format!("{}/{}.{ext}", caller.license, crate::identity::secret::random_hex(32));
    let key = format!("/api/file/chatio/img/{path}");
    // Referred to by nothing until an event names it: it expires if none does (G38).
    cx.store.put_file(&key, FileRec { content_type: content_type.to_owned(), bytes, created: cx.now }, 0)?;
    cx.policy.upload_bytes = cx.policy.upload_bytes.saturating_add(size);
    Ok(UploadImageResponse::new(format!("{public_url}{key}"), path))
}
