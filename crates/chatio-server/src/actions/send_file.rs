//! `send_file` (2.6): a file uploaded over the Web API becomes a `file` event of the chat.
//! The multipart body is read and checked by the HTTP handler; the file is stored here.

use bytes::Bytes;
use chatio_wire::{ChatId, ErrorObject, EventKind, FileAttachment, NewEvent};

use super::events::{add_customer_event, deliver_new_event};
use super::{Caller, Ctx, Effects, Trigger, quota};
use crate::files;
use crate::store::FileRec;

/// A file as uploaded: the chat, its optional `custom_id`, the part's file name and
/// declared content type, and the bytes (within the size limit).
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) chat: ChatId,
    pub(crate) custom_id: Option<String>,
    pub(crate) name: String,
    pub(crate) declared_type: Option<String>,
    pub(crate) bytes: Bytes,
}

/// Stores the file and its event (in the active thread, or a new one), and returns the
/// file's URL under `public_url` with the pushes and triggers. Nothing is stored when the
/// event is refused.
pub(crate) fn send_file(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    upload: Upload,
    public_url: &str,
) -> Result<(String, Effects), ErrorObject> {
    let Upload { chat, custom_id, name, declared_type, bytes } = upload;
    // The quotas before anything is stored (G38): the name, then the chat's, the
    // customer's and the server's room for the file.
    quota::check_file_name(&cx.policy.quotas, &name)?;
    let size = bytes.len() as u64;
    let mut customer = cx.store.customer(caller.license, &caller.customer)?.unwrap_or_default();
    let own = cx.own_chat(caller, &chat)?;
    quota::check_upload(&cx.policy.quotas, &own, &customer, cx.policy.upload_bytes, size)?;
    let content_type = files::content_type(declared_type.as_deref(), &bytes);
    let dims = files::image_size(&bytes);
    // The file's name in its URL is a capability: from the OS random source.
    let key = format!(
        "/api/file/chatio/att/{}/{}.{}",
        caller.license,
        crate::identity::secret::random_hex(32),
        files::extension(&name, &content_type)
    );
    let url = format!("{public_url}{key}");
    let mut attachment = FileAttachment::new(name, url.clone(), content_type.clone(), size);
    if let Some((w, h)) = dims {
        attachment.width = Some(w);
        attachment.height = Some(h);
    }
    let mut event = NewEvent::new(EventKind::File(attachment));
    event.custom_id = custom_id;
    let mut added = add_customer_event(cx, caller, &chat, event)?;
    // Referred to by its event from the start (G38).
    cx.store.put_file(&key, FileRec { content_type, bytes, created: cx.now }, 1)?;
    added.chat.held.files += 1;
    cx.store.put_chat(caller.license, added.chat.clone())?;
    customer.uploads.files += 1;
    customer.uploads.bytes = customer.uploads.bytes.saturating_add(size);
    cx.store.put_customer(caller.license, &caller.customer, customer)?;
    cx.policy.upload_bytes = cx.policy.upload_bytes.saturating_add(size);
    let mut fx = Effects::default();
    deliver_new_event(cx.store, cx.presence, caller.license, &added, false, &mut fx)?;
    if added.opened {
        fx.triggers.push(Trigger::NeedsAgent { chat });
    }
    super::agent::mirror(cx, &mut fx)?;
    super::agent::route_triggers(cx, caller.license, &mut fx)?;
    Ok((url, fx))
}
