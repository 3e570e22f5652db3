//! Errors as the commands print them: Display and the cause chain (never `Debug`), and which
//! SDK events end a session for good.

use chatio_customer_sdk::{DisconnectReason, Error, Operation, SdkEvent, chain};

/// An error and its causes, one `: ` apart (the SDK's [`chain`]).
pub fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    chain(e)
}

/// What a session event means for a program that cannot fix its own settings: `Some(message)`
/// when retrying cannot help (the message says what to change), `None` otherwise.
///
/// Final: a final disconnect (unknown license, banned, unsupported version); a refused token
/// (by the server after a fresh one, by the token endpoint, or the user's `--token`); a
/// transport failure that stays (an HTTP 404, a TLS failure, an unusable URL). Not final:
/// what may heal (a refused connection, an HTTP 5xx, a timeout, a dropped socket).
///
/// `static_token`: the token came from the user (`--token`).
pub fn fatal(e: &SdkEvent, license: u64, static_token: bool) -> Option<String> {
    let unknown_license = || format!("the server does not know license {license} (set --license or CHATIO_LICENSE)");
    let SdkEvent::Error(err) = e else {
        return match e {
            SdkEvent::Disconnected { reason } if reason.is_final() => Some(match reason {
                DisconnectReason::LicenseNotFound => unknown_license(),
                other => format!("the server ended the session: {other}"),
            }),
            _ => None,
        };
    };
    match err {
        Error::Authentication { message, .. } if message.contains("unknown `license_id`") => Some(unknown_license()),
        Error::Authentication { .. } if static_token => {
            Some(format!("the server refused the token: {}; check --token or CHATIO_TOKEN", chain(err)))
        }
        Error::Authentication { source: Some(_), .. } => {
            Some(format!("the token endpoint refused to give a token: {}", chain(err)))
        }
        Error::Authentication { .. } => Some(format!("the server refused a fresh token: {}", chain(err))),
        // Connecting or getting a token: an upload's failure is its command's, not the session's.
        Error::Transport(t)
            if !t.is_transient() && matches!(t.operation(), Operation::Connect | Operation::FetchToken) =>
        {
            Some(format!("{}; check --url or CHATIO_URL (http:// or https://, the server's base URL)", chain(err)))
        }
        Error::Config { .. } => Some(chain(err)),
        _ => None,
    }
}
