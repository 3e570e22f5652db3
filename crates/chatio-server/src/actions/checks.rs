//! The checks of what a customer sends: sizes (G23, from `chatio_wire::limits`), value
//! rules, and the rights on declared properties (G15). Pure: the store is only read.

use chatio_wire as wire;
use chatio_wire::limits::{MAX_CUSTOMER_FIELDS, MAX_ID_LEN, MAX_TEXT_LEN};
use chatio_wire::{ErrorObject, ErrorType, EventKind, NewEvent, Properties, UserId};

use super::Policy;
use crate::config::PropertyAccess;
use crate::store::Store;

/// A `validation` error with this message.
pub(crate) fn validation(msg: impl Into<String>) -> ErrorObject {
    ErrorObject::new(ErrorType::Validation, msg)
}

/// An `authorization` error with this message.
pub(crate) fn authorization(msg: impl Into<String>) -> ErrorObject {
    ErrorObject::new(ErrorType::Authorization, msg)
}

/// A text of at most 16 384 characters.
pub(crate) fn check_text(field: &str, s: &str) -> Result<(), ErrorObject> {
    if s.chars().count() > MAX_TEXT_LEN {
        return Err(validation(format!("`{field}` is longer than {MAX_TEXT_LEN} characters")));
    }
    Ok(())
}

/// A non-empty id of at most 256 bytes.
fn check_id(field: &str, s: &str) -> Result<(), ErrorObject> {
    if s.is_empty() {
        return Err(validation(format!("`{field}` is empty")));
    }
    if s.len() > MAX_ID_LEN {
        return Err(validation(format!("`{field}` is longer than {MAX_ID_LEN} bytes")));
    }
    Ok(())
}

/// Property values a customer may write: int32, bool or string.
pub(crate) fn check_properties(field: &str, p: &Properties) -> Result<(), ErrorObject> {
    for (ns, name, v) in p.iter() {
        if !v.is_scalar() {
            return Err(validation(format!("`{field}.{ns}.{name}` must be an int32, a bool or a string")));
        }
    }
    Ok(())
}

/// A customer's write of properties, against the declared ones (G15).
pub(crate) fn check_rights(policy: &Policy, field: &str, p: &Properties) -> Result<(), ErrorObject> {
    let declared = &policy.declared_properties;
    if declared.is_empty() {
        return Ok(());
    }
    for (ns, name, _) in p.iter() {
        match declared.iter().find(|d| d.namespace == ns && d.name == name) {
            Some(d) if d.access == PropertyAccess::ReadWrite => {}
            Some(_) => return Err(authorization(format!("`{field}.{ns}.{name}` is read-only for customers"))),
            None => return Err(authorization(format!("`{field}.{ns}.{name}` is not a declared property"))),
        }
    }
    Ok(())
}

/// Every property a new event carries, against the declared ones.
pub(crate) fn check_event_rights(policy: &Policy, field: &str, e: &NewEvent) -> Result<(), ErrorObject> {
    e.properties.as_ref().map_or(Ok(()), |p| check_rights(policy, &format!("{field}.properties"), p))
}

/// Customer data: at most 100 fields of 4 096 characters, name and e-mail as texts.
pub(crate) fn check_customer_data(c: &wire::CustomerData) -> Result<(), ErrorObject> {
    if let Some(f) = &c.fields {
        if f.len() > MAX_CUSTOMER_FIELDS {
            return Err(validation("`customer.fields` has more than 100 entries"));
        }
        for (k, v) in f {
            if v.chars().count() > wire::limits::MAX_CUSTOMER_FIELD_LEN {
                return Err(validation(format!("`customer.fields.{k}` is longer than 4096 characters")));
            }
        }
    }
    for (field, v) in [("customer.name", &c.name), ("customer.email", &c.email)] {
        if let Some(v) = v {
            check_text(field, v)?;
        }
    }
    Ok(())
}

/// Checks that merging `data` into what the customer has keeps 100 fields at most (G23).
pub(crate) fn check_merged_fields(
    store: &mut dyn Store,
    license: u64,
    id: &UserId,
    data: &wire::CustomerData,
) -> Result<(), ErrorObject> {
    let Some(new) = &data.fields else { return Ok(()) };
    let customer = store.customer(license, id)?;
    let old = customer.as_ref().map(|c| &c.fields);
    let added = new.keys().filter(|k| old.is_none_or(|o| !o.contains_key(*k))).count();
    if old.map_or(0, |o| o.len()) + added > MAX_CUSTOMER_FIELDS {
        return Err(validation(format!("`customer.fields` would have more than {MAX_CUSTOMER_FIELDS} entries")));
    }
    Ok(())
}

/// Checks a customer-sent event (G21, G22, G23).
pub(crate) fn check_new_event(field: &str, e: &NewEvent) -> Result<(), ErrorObject> {
    if let Some(c) = &e.custom_id {
        check_id(&format!("{field}.custom_id"), c)?;
    }
    if let Some(p) = &e.properties {
        check_properties(&format!("{field}.properties"), p)?;
    }
    match &e.kind {
        EventKind::Message(m) => check_text(&format!("{field}.text"), &m.text),
        EventKind::Annotation(a) => {
            if a.annotation_type.is_empty() {
                return Err(validation(format!("`{field}.annotation_type` is empty")));
            }
            a.text.as_deref().map_or(Ok(()), |t| check_text(&format!("{field}.text"), t))
        }
        EventKind::FilledForm(_) => Ok(()),
        EventKind::Custom(c) => {
            if c.content.is_object() {
                Ok(())
            } else {
                Err(validation(format!("`{field}.content` must be an object")))
            }
        }
        EventKind::RichMessage(r) => {
            if r.template_id.is_empty() {
                return Err(validation(format!("`{field}.template_id` is empty")));
            }
            if r.elements.len() > 10 {
                return Err(validation(format!("`{field}.elements` has more than 10 elements")));
            }
            for (i, el) in r.elements.iter().enumerate() {
                if el.buttons.len() > 10 {
                    return Err(validation(format!("`{field}.elements[{i}].buttons` has more than 10 buttons")));
                }
                if el.image.as_ref().is_some_and(|im| im.url.is_empty()) {
                    return Err(validation(format!("`{field}.elements[{i}].image.url` is required")));
                }
            }
            Ok(())
        }
        EventKind::SystemMessage(_) => Err(validation(format!("`{field}.type`: customers cannot send system_message"))),
        EventKind::File(_) => Err(validation(format!("`{field}.type`: files are sent with send_file"))),
        other => Err(validation(format!("`{field}.type`: unknown event type `{}`", other.event_type()))),
    }
}
