//! Many requests in flight on one session.

use std::time::Duration;

use chatio_customer_sdk::{NewEvent, StartChat};
use chatio_server::Server;
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::support::*;

/// 200 messages sent with 64 in flight are all answered on the first connection: the
/// server never takes the session for a slow consumer. (Its websocket writer once dropped
/// the frame it dequeued at its 64-frame batch limit; the lost bytes stayed counted as
/// pending, the session was closed with 4002 `write_timeout` later, and the SDK waited that
/// long, reconnected and resent: 182 msg/s instead of ~50 000.) The check is the server's
/// slow-consumer counter, not a duration; the short write timeout only makes a failing run
/// end sooner.
#[test]
fn sixty_four_in_flight_are_answered_without_a_slow_consumer_close() {
    run(async {
        let server = Server::builder()
            .ephemeral()
            .seed(12)
            .agent(false)
            .write_timeout(Duration::from_secs(2))
            .start()
            .await
            .expect("server starts");
        let (sdk, _events) = connect(&server).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat");
        let n = 200;
        within("200 messages with 64 in flight", async {
            let mut inflight = FuturesUnordered::new();
            let (mut next, mut done) = (0, 0);
            while done < n {
                while inflight.len() < 64 && next < n {
                    let (sdk, chat) = (sdk.clone(), chat.id.clone());
                    let i = next;
                    inflight.push(async move { sdk.send_event(&chat, NewEvent::message(format!("m{i}"))).await });
                    next += 1;
                }
                match inflight.next().await {
                    Some(r) => {
                        r.expect("send_event");
                        done += 1;
                    }
                    None => break,
                }
            }
        })
        .await;
        let stats = server.stats();
        assert_eq!(stats.slow_consumers, 0, "a healthy session was closed as a slow consumer: {stats:?}");
        assert_eq!(server.chat_events(100, chat.id.as_str()).len(), n, "each message stored once");
        sdk.destroy().await;
        server.shutdown().await;
    });
}
