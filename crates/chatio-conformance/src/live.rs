//! A live RTM connection to a server under test, as [`crate::replay_server`] and
//! [`crate::check_server`] drive it: frames read as JSON with a time limit, frames read ahead
//! while a sync `ping` of our own is answered, and whether the server was told to drop it;
//! and the recorded uploads sent again to its Web API.

use std::collections::VecDeque;
use std::time::Duration;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::Message;
use futures::StreamExt;
use futures::io::{AsyncRead, AsyncWrite};
use serde_json::{Value, json};

use crate::Error;

/// One websocket to the server under test.
pub(crate) struct Live<S> {
    pub(crate) ws: WebSocketStream<S>,
    /// Frames read ahead while waiting for a sync ping's answer.
    ahead: VecDeque<Value>,
    /// Sync pings sent so far (their request ids are `<prefix>-<n>`).
    sync: u64,
    sync_prefix: &'static str,
    /// How long a read may wait.
    timeout: Duration,
    /// The server was told to drop it.
    pub(crate) dropped: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Live<S> {
    pub(crate) fn new(ws: WebSocketStream<S>, timeout: Duration, sync_prefix: &'static str) -> Self {
        Self { ws, ahead: VecDeque::new(), sync: 0, sync_prefix, timeout, dropped: false }
    }

    /// The next text frame as JSON; `None` when the connection ended.
    async fn read(&mut self) -> Result<Option<Value>, Error> {
        loop {
            let msg = async_std::future::timeout(self.timeout, self.ws.next())
                .await
                .map_err(|_| Error::Timeout { waiting_for: "a frame".into(), after: self.timeout })?;
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return serde_json::from_str(t.as_str()).map(Some).map_err(Error::NotJson);
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(None),
                Some(Ok(_)) => {}
            }
        }
    }

    /// The next frame from the server, read ahead or not.
    pub(crate) async fn next_frame(&mut self) -> Result<Option<Value>, Error> {
        match self.ahead.pop_front() {
            Some(v) => Ok(Some(v)),
            None => self.read().await,
        }
    }

    /// Waits until the server has answered everything sent so far (a `ping` of our own, whose
    /// answer is not handed out; what came before it is kept for [`next_frame`](Self::next_frame)).
    pub(crate) async fn sync(&mut self) -> Result<(), Error> {
        self.sync += 1;
        let id = format!("{}-{}", self.sync_prefix, self.sync);
        self.ws.send(Message::text(json!({"request_id": id, "action": "ping"}).to_string())).await?;
        loop {
            match self.read().await? {
                Some(v) if v.get("request_id").and_then(Value::as_str) == Some(&id) => return Ok(()),
                Some(v) => self.ahead.push_back(v),
                None => return Ok(()),
            }
        }
    }
}

/// A recorded upload sent again: `size` bytes of [`crate::upload_bytes`] named `name`, to
/// the Web API's `send_file` of `base` (the upload steps of both checks).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn upload(
    client: &chatio_transport::http::HttpClient,
    base: &url::Url,
    license: u64,
    token: &str,
    chat: &str,
    custom_id: Option<String>,
    name: &str,
    size: u64,
) -> Result<(), Error> {
    let url = chatio_transport::ws::web_api_url(base, chatio_wire::LicenseId(license), "send_file")?;
    let upload = chatio_transport::upload::Upload {
        url,
        access_token: token.to_owned(),
        fields: chatio_wire::SendFile::new(chat, custom_id),
        file_name: name.to_owned(),
        content_type: "application/octet-stream".into(),
        source: chatio_transport::upload::FileSource::Bytes(crate::upload_bytes(size as usize).into()),
        size,
    };
    chatio_transport::upload::send_file(client, upload, None).await?;
    Ok(())
}
