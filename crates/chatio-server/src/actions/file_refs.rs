//! Which stored files an event refers to, and what deleting events does to them (G38): a
//! file goes with the last event that refers to it; a file no event refers to expires
//! (`ServerConfig::unreferenced_files_after`). Pure: the store in, counts out.

use chatio_wire::{Event, EventKind, UserId};

use crate::store::{self, Store};

/// Where stored files' URL paths start.
const FILES: &str = "/api/file/chatio/";

/// The stored-file paths (`/api/file/chatio/{att,img}/<license>/…`) an event of `license`
/// names: a `file` event's URL, a rich message's images. URLs elsewhere are not counted.
pub(crate) fn keys(license: u64, kind: &EventKind) -> Vec<String> {
    let urls: Vec<&str> = match kind {
        EventKind::File(f) => vec![f.url.as_str()],
        EventKind::RichMessage(r) => {
            r.elements.iter().filter_map(|e| e.image.as_ref()).map(|i| i.url.as_str()).collect()
        }
        _ => Vec::new(),
    };
    let own = [format!("{FILES}att/{license}/"), format!("{FILES}img/{license}/")];
    let mut keys: Vec<String> = urls
        .into_iter()
        .filter_map(|u| u.find(FILES).map(|at| &u[at..]))
        .filter(|k| own.iter().any(|p| k.starts_with(p.as_str())))
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Counts a new event's references to stored files.
pub(crate) fn refer(store: &mut dyn Store, license: u64, event: &Event) -> store::Result<()> {
    for key in keys(license, &event.kind) {
        store.refer_file(&key, 1)?;
    }
    Ok(())
}

/// What deleting events freed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Freed {
    /// Files deleted.
    pub(crate) files: u64,
    /// Their bytes.
    pub(crate) bytes: u64,
    /// Of them, customers' uploads (`att/`), by uploader: (customer, files, bytes).
    pub(crate) uploads: Vec<(UserId, u64, u64)>,
}

/// Takes deleted events' references off their files, deleting the files no event refers
/// to any more; returns what went.
pub(crate) fn release(store: &mut dyn Store, license: u64, events: &[Event]) -> store::Result<Freed> {
    let mut freed = Freed::default();
    let att = format!("{FILES}att/");
    for ev in events {
        for key in keys(license, &ev.kind) {
            if store.refer_file(&key, -1)? != Some(0) {
                continue;
            }
            let bytes = store.delete_file(&key)?;
            freed.files += 1;
            freed.bytes = freed.bytes.saturating_add(bytes);
            if let (true, Some(author)) = (key.starts_with(&att), ev.author_id.as_ref()) {
                match freed.uploads.iter_mut().find(|(c, _, _)| c == author) {
                    Some(u) => {
                        u.1 += 1;
                        u.2 = u.2.saturating_add(bytes);
                    }
                    None => freed.uploads.push((author.clone(), 1, bytes)),
                }
            }
        }
    }
    Ok(freed)
}

/// Deletes up to `limit` files no event has referred to since before `before` (Unix
/// seconds); returns their bytes.
pub(crate) fn expire(store: &mut dyn Store, before: u64, limit: usize) -> store::Result<(usize, u64)> {
    let paths = store.unreferenced_files(before, limit)?;
    let mut bytes = 0u64;
    for path in &paths {
        bytes = bytes.saturating_add(store.delete_file(path)?);
    }
    Ok((paths.len(), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatio_wire::{FileAttachment, Image, RichElement, RichMessage};

    #[test]
    fn only_this_licenses_stored_files_are_keys() {
        let file = |url: &str| EventKind::File(FileAttachment::new("a.png", url, "image/png", 4));
        assert_eq!(keys(100, &file("http://h:1/api/file/chatio/att/100/ab.png")), ["/api/file/chatio/att/100/ab.png"]);
        assert_eq!(keys(100, &file("http://h:1/api/file/chatio/img/100/ab.png")), ["/api/file/chatio/img/100/ab.png"]);
        assert!(keys(100, &file("http://h:1/api/file/chatio/img/101/ab.png")).is_empty(), "another license's");
        assert!(keys(100, &file("https://elsewhere.test/x.png")).is_empty());
        let image = |url: &str| Image::new(url);
        let mut a = RichElement::default();
        a.image = Some(image("http://h/api/file/chatio/img/100/a.png"));
        let mut b = RichElement::default();
        b.image = Some(image("http://h/api/file/chatio/img/100/a.png"));
        let rich = EventKind::RichMessage(RichMessage::new("cards", vec![a, b, RichElement::default()]));
        assert_eq!(keys(100, &rich), ["/api/file/chatio/img/100/a.png"], "once per event");
    }
}
