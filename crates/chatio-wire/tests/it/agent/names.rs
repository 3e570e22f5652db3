//! The agent actions, pushes, error types and disconnect reasons the crate knows are exactly
//! those of the agent protocol file.

use std::collections::BTreeSet;

use chatio_wire::ErrorType;
use chatio_wire::agent::{Action, AgentDisconnectReason, PushKind};

use crate::names::{section, table_names};

fn protocol() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/protocol/agent-api-v0.5.md");
    std::fs::read_to_string(path).expect("docs/protocol/agent-api-v0.5.md")
}

#[test]
fn actions_match_the_protocol_file() {
    let doc = protocol();
    // Section 5 has one heading per method, `### 5.N `name` (…)`; two share a heading.
    let methods = section(&doc, "## 5. Methods", "\n## 6.");
    let mut documented: BTreeSet<String> = methods
        .lines()
        .filter(|l| l.starts_with("### 5."))
        .flat_map(|l| {
            l.split('(').next().unwrap_or_default().split('`').skip(1).step_by(2).map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    documented.insert("ping".to_owned());
    let known: BTreeSet<String> = Action::ALL.iter().map(|a| a.as_str().to_owned()).collect();
    assert_eq!(known, documented);
    assert_eq!(known.len(), 24);
}

#[test]
fn pushes_match_the_protocol_file() {
    let doc = protocol();
    let documented = table_names(section(&doc, "| Push | Payload | Sent when |", "\n\n"));
    let known: BTreeSet<String> = PushKind::ALL.iter().map(|p| p.as_str().to_owned()).collect();
    assert_eq!(known, documented);
    assert_eq!(known.len(), 16);
}

#[test]
fn error_types_and_reasons_match_the_protocol_file() {
    let doc = protocol();
    let table = section(&doc, "| `type` | Default message | Note (AREF) |", "\n\n");
    let errors = table_names(table);
    let known: BTreeSet<String> = ErrorType::KNOWN.iter().map(|e| e.as_str().to_owned()).collect();
    assert!(errors.is_subset(&known), "{errors:?}");
    assert_eq!(errors.len(), 7);
    // The agent side's default messages are the customer side's.
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let kind = ErrorType::parse(cells[1].trim_matches('`'));
        assert_eq!(kind.default_message(), cells[2], "{row}");
    }
    let reasons = table_names(section(&doc, "| `reason` | Meaning |", "\n\n"));
    let known: BTreeSet<String> = AgentDisconnectReason::KNOWN.iter().map(|r| r.as_str().to_owned()).collect();
    assert_eq!(known, reasons);
}
