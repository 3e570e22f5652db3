//! The answer limit (G23): an answer larger than a frame may be
//! ([`MAX_FRAME_LEN`](chatio_wire::limits::MAX_FRAME_LEN)) is replaced by a `validation`
//! error, on the RTM and the Web API alike.

use chatio_wire::limits::MAX_FRAME_LEN;
use chatio_wire::{RequestId, Response, ServerFrame};

use super::checks::validation;

/// The response that replaces an answer larger than [`MAX_FRAME_LEN`]: `validation`, same
/// request id and action.
fn too_large(request_id: Option<RequestId>, action: &str) -> Response {
    Response::failure(
        request_id,
        action,
        validation("the answer would be larger than 1 MiB (G23): ask for less (fewer `thread_ids`, a smaller `limit`)"),
    )
}

/// Encodes a response, replacing one larger than [`MAX_FRAME_LEN`] by a `validation` error.
/// Returns the frame and whether it was replaced.
pub(crate) fn encode_response(response: Response) -> (String, bool) {
    let request_id = response.request_id.clone();
    let action = response.action().to_owned();
    let text = ServerFrame::Response(response).encode();
    if text.len() <= MAX_FRAME_LEN {
        return (text, false);
    }
    (ServerFrame::Response(too_large(request_id, &action)).encode(), true)
}

/// [`encode_response`] for the Agent API.
pub(crate) fn encode_agent_response(response: chatio_wire::agent::Response) -> String {
    use chatio_wire::agent::{Response as AgentResponse, ServerFrame as AgentFrame};
    let request_id = response.request_id.clone();
    let action = response.action().to_owned();
    let text = AgentFrame::Response(response).encode();
    if text.len() <= MAX_FRAME_LEN {
        return text;
    }
    let e = validation("the answer would be larger than 1 MiB (G23): ask for less");
    AgentFrame::Response(AgentResponse::failure(request_id, action, e)).encode()
}
