//! `chatio conformance serve`: the recorded server side played to our own SDK (driven
//! through each transcript's scenario, with another seed than the recording so that the
//! request ids differ and are rewritten), and to a client that writes a wrong frame.

use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use chatio_conformance::report::{Status, TranscriptResult, embedded};
use chatio_conformance::serve::{Options, Player};
use futures::StreamExt;
use serde_json::{Value, json};

fn options() -> Options {
    Options { port: 0, timeout: Duration::from_secs(10) }
}

#[test]
fn our_sdk_passes_every_transcript() {
    for (name, t) in embedded(None).expect("transcripts") {
        let r: TranscriptResult = async_std::task::block_on(async {
            let mut player = Player::bind(&options()).await.expect("bind");
            let url = player.url().to_owned();
            let client = async_std::task::spawn({
                let name = name.clone();
                async move { chatio_conformance::record::drive(&name, &url, 6).await }
            });
            let r = player.play(&name, &t).await;
            eprintln!("{name}: {r:?}");
            let script = async_std::future::timeout(Duration::from_secs(30), client).await;
            script
                .unwrap_or_else(|_| panic!("{name}: the SDK's script hangs"))
                .unwrap_or_else(|e| panic!("{name}: the SDK's script failed: {e}"));
            r
        });
        assert_eq!(r.status, Status::Pass, "{name}: {r:#?}");
        assert!(r.frames_compared > 0, "{name}");
    }
}

#[test]
fn a_client_writing_a_wrong_frame_fails_at_that_frame() {
    let (_, t) = embedded(Some("connect")).expect("connect").remove(0);
    let r = async_std::task::block_on(async {
        let mut player = Player::bind(&options()).await.expect("bind");
        let ws_url = format!("{}/customer/v0.5/rtm/ws?license_id=100", player.url().replace("http", "ws"));
        let addr = player.url().trim_start_matches("http://").to_owned();
        let client = async_std::task::spawn(async move {
            let tcp = async_std::net::TcpStream::connect(addr).await.expect("tcp");
            let (mut ws, _) = async_tungstenite::client_async(ws_url, tcp).await.expect("websocket");
            let send = |v: Value| Message::text(v.to_string());
            ws.send(send(json!({"request_id": "a1", "action": "login", "payload": {"token": "Bearer x", "customer": {"fields": {}}}})))
                .await
                .expect("send");
            let login = ws.next().await.expect("login response").expect("frame");
            // The player rewrote the recorded request id to ours.
            assert!(login.to_text().expect("text").contains("\"request_id\":\"a1\""), "{login}");
            // The recording has `get_chats_summary` with an empty payload.
            ws.send(send(json!({"request_id": "a2", "action": "get_chats_summary", "payload": {"limit": 5}})))
                .await
                .expect("send");
            let _ = ws.next().await;
            let _ = ws.close(None).await;
        });
        let r = player.play("connect", &t).await;
        client.await;
        r
    });
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    let f = &r.failures[0];
    assert_eq!((f.line, f.frame.as_str()), (6, "the `get_chats_summary` request"), "{r:#?}");
    assert_eq!(f.diffs.len(), 1, "{r:#?}");
    assert_eq!(f.diffs[0].to_string(), "payload.limit: unexpected (got 5)");
}
