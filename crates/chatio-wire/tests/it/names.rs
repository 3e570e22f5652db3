//! The actions and pushes the crate knows are exactly those of the protocol file.

use std::collections::BTreeSet;

/// The text from the line after `start` to `end`.
pub(crate) fn section<'a>(doc: &'a str, start: &str, end: &str) -> &'a str {
    let from = doc.find(start).unwrap_or_else(|| panic!("no `{start}` in the protocol file"));
    let from = from + doc[from..].find('\n').unwrap_or(0);
    let rest = &doc[from..];
    let to = rest.find(end).unwrap_or(rest.len());
    &rest[..to]
}

/// The first backticked word of every table row of a section.
pub(crate) fn table_names(section: &str) -> BTreeSet<String> {
    section.lines().filter(|l| l.starts_with("| `")).filter_map(|l| l.split('`').nth(1)).map(str::to_owned).collect()
}

fn protocol() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/protocol/customer-api-v0.5.md");
    std::fs::read_to_string(path).expect("docs/protocol/customer-api-v0.5.md")
}

#[test]
fn actions_match_the_protocol_file() {
    let doc = protocol();
    let documented = table_names(section(&doc, "### 1.3 Actions available per transport", "\n### "));
    let known: BTreeSet<String> = chatio_wire::Action::ALL.iter().map(|a| a.as_str().to_owned()).collect();
    assert_eq!(known, documented);
    assert_eq!(known.len(), 16);
}

#[test]
fn pushes_match_the_protocol_file() {
    let doc = protocol();
    let documented = table_names(section(&doc, "## 5. Pushes", "Examples (JSON lines"));
    let known: BTreeSet<String> = chatio_wire::PushKind::ALL.iter().map(|p| p.as_str().to_owned()).collect();
    assert_eq!(known, documented);
    assert_eq!(known.len(), 13);
}

#[test]
fn error_types_and_reasons_match_the_protocol_file() {
    let doc = protocol();
    let errors = table_names(section(&doc, "| `type` | Default message | Meaning |", "### 2.6"));
    let known: BTreeSet<String> = chatio_wire::ErrorType::KNOWN.iter().map(|e| e.as_str().to_owned()).collect();
    assert_eq!(known, errors);
    let reasons = table_names(section(&doc, "| `reason` | Meaning |", "```json"));
    let known: BTreeSet<String> = chatio_wire::DisconnectReason::KNOWN.iter().map(|r| r.as_str().to_owned()).collect();
    assert_eq!(known, reasons);
}
