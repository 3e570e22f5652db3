//! The protocol's size limits (G23) and value rules, defined once: the SDK checks them
//! before sending (chatio-core, chatio-transport, chatio-customer-sdk) and the reference
//! server enforces them (chatio-server).

/// Largest frame, in bytes: 1 MiB. A server refuses a larger inbound frame before parsing
/// it (the decoder's default limit) and replaces a larger answer by a `validation` error;
/// the SDK reads server frames up to its own, larger, `max_frame_len`.
pub const MAX_FRAME_LEN: usize = 1 << 20;

/// Longest text (message text, sneak peek, file names...), in characters: 16 384.
pub const MAX_TEXT_LEN: usize = 16_384;

/// Longest id or custom id, in bytes: 256.
pub const MAX_ID_LEN: usize = 256;

/// Most customer `fields` sent with a login or `update_customer`: 100.
pub const MAX_CUSTOMER_FIELDS: usize = 100;

/// Longest customer field value, in characters: 4 096.
pub const MAX_CUSTOMER_FIELD_LEN: usize = 4_096;

/// Largest file `send_file` accepts, in bytes: 10 MiB (the JS SDK's own check).
pub const MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Most chat summaries in one Agent API answer (`login`, `get_filtered_chats`): 100
/// (agent protocol file H39; the reference gives no paging for them).
pub const MAX_AGENT_CHAT_SUMMARIES: usize = 100;

/// Whether `text` is longer than `max` characters (bytes first: a text of at most `max`
/// bytes is never too long, and that is the common case).
pub fn too_many_chars(text: &str, max: usize) -> bool {
    text.len() > max && text.chars().count() > max
}

/// Whether a property value may be written: an int32, a bool or a string
/// ([`PropertyValue::is_scalar`](crate::PropertyValue::is_scalar)).
pub fn is_writable_property(value: &crate::objects::properties::PropertyValue) -> bool {
    value.is_scalar()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_not_bytes() {
        assert!(!too_many_chars(&"é".repeat(MAX_TEXT_LEN), MAX_TEXT_LEN));
        assert!(too_many_chars(&"a".repeat(MAX_TEXT_LEN + 1), MAX_TEXT_LEN));
        assert!(is_writable_property(&crate::PropertyValue::Bool(true)));
        assert!(!is_writable_property(&crate::PropertyValue::Other(serde_json::json!([1]))));
        assert_eq!(crate::SendFile::MAX_FILE_SIZE, MAX_FILE_SIZE);
    }
}
