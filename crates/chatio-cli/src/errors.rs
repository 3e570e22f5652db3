//! Errors as the commands print them: Display and the cause chain (never `Debug`), and which
//! SDK events end a session for good.

use chatio_customer_sdk::{DisconnectReason, Error, SdkEvent};

/// An error and its causes, one `: ` apart (a cause already in the message is not repeated).
pub fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// What a session event means for a program that cannot fix its own settings: `Some(message)`
/// when retrying cannot help (the message says what to change), `None` otherwise.
///
/// `static_token`: the token came from the user (`--token`), so refusing it is final.
pub fn fatal(e: &SdkEvent, license: u64, static_token: bool) -> Option<String> {
    match e {
        SdkEvent::Disconnected { reason } if reason.is_final() => Some(match reason {
            DisconnectReason::LicenseNotFound => {
                format!("the server does not know license {license} (set --license or CHATIO_LICENSE)")
            }
            other => format!("the server ended the session: {other}"),
        }),
        SdkEvent::Error(Error::Authentication { message, .. }) if static_token => {
            Some(format!("the server refused the token ({message}); check --token or CHATIO_TOKEN"))
        }
        SdkEvent::Error(Error::Authentication { message, .. }) if message.contains("unknown `license_id`") => {
            Some(format!("the server does not know license {license} (set --license or CHATIO_LICENSE)"))
        }
        _ => None,
    }
}
