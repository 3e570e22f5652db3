//! The JS SDK, to the letter: the items of the parity table that differ from a plain call.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chatio_customer_sdk::{
    NewEvent, Pagination, Properties, PropertyValue, Scopes, SdkEvent, StartChat, Tap, TapEvent, TokenSource,
};
use futures::StreamExt;

use crate::support::*;

/// Keeps the frames written.
#[derive(Default)]
struct Frames(Mutex<Vec<String>>);

impl Tap for Frames {
    fn event(&self, _at: Instant, event: TapEvent<'_>) {
        if let TapEvent::Sent(f) = event {
            self.0.lock().expect("lock").push(f.to_owned());
        }
    }
}

impl Frames {
    fn of(&self, action: &str) -> Vec<serde_json::Value> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|f| serde_json::from_str::<serde_json::Value>(f).ok())
            .filter(|v| v["action"] == action)
            .collect()
    }
}

#[test]
fn start_chat_with_scope_properties_and_events_in_both_shapes() {
    run(async {
        let server = quiet_server().await;
        for legacy in [false, true] {
            let frames = Arc::new(Frames::default());
            let (sdk, _events) = connect_with(config(&server).tap(frames.clone()).legacy_start_chat(legacy)).await;
            let start = StartChat::new()
                .with_scopes(Scopes::groups([1]))
                .with_properties(Properties::new().with("source", "page", "pricing"))
                .with_event(NewEvent::message("hello").with_custom_id("first-1"));
            let chat = sdk.start_chat(start).await.expect("start_chat");
            let sent = frames.of("start_chat");
            let payload = &sent[0]["payload"];
            if legacy {
                assert_eq!(payload["routing_scope"], serde_json::json!({"type": "group", "ids": [1]}), "{payload}");
                assert_eq!(payload["events"][0]["custom_id"], "first-1");
            } else {
                assert_eq!(payload["chat"]["scopes"]["groups"], serde_json::json!([1]), "{payload}");
            }
            // The server understood either shape.
            let summary = sdk.chats_summary(Pagination::default()).await.expect("summary");
            let c = summary.chats_summary.iter().find(|c| c.id == chat.id).expect("the chat");
            assert_eq!(c.properties.get("source", "page"), Some(&PropertyValue::String("pricing".into())));
            assert_eq!(c.scopes, Scopes::groups([1]));
            let first = &chat.threads[0].events[0];
            assert_eq!(first.custom_id.as_deref(), Some("first-1"));
            sdk.destroy().await;
        }
        server.shutdown().await;
    });
}

#[test]
fn send_message_with_a_custom_id() {
    run(async {
        let server = quiet_server().await;
        let (sdk, _events) = connect(&server).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
        let sent = sdk.send_message_with_custom_id(&chat.id, "hi", "mine-1").await.expect("send");
        assert_eq!(sent.custom_id.as_deref(), Some("mine-1"));
        assert_eq!(sent.text(), Some("hi"));
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn auth_invalidate_makes_the_next_token_a_new_one() {
    run(async {
        let server = quiet_server().await;
        let sdk = chatio_customer_sdk::CustomerSdk::init(config(&server).token(TokenSource::Accounts)).expect("init");
        let a = sdk.auth().token().await.expect("token");
        let cached = sdk.auth().token().await.expect("token");
        assert_eq!(a.access_token(), cached.access_token(), "cached until invalidated");
        sdk.auth().invalidate();
        let b = sdk.auth().token().await.expect("token");
        assert_ne!(a.access_token(), b.access_token(), "a new token after invalidate");
        assert_eq!(a.customer_id, b.customer_id, "for the same customer");
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn disconnect_emits_connection_lost() {
    run(async {
        let server = quiet_server().await;
        let (sdk, mut events) = connect(&server).await;
        sdk.disconnect().await;
        wait(&mut events, "connection_lost", |e| matches!(e, SdkEvent::ConnectionLost).then_some(())).await;
        assert!(!sdk.is_connected());
        sdk.connect().await;
        wait(&mut events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(()))
            .await;
        assert!(sdk.is_connected());
        sdk.destroy().await;
        let rest: Vec<SdkEvent> = within("the end of the stream", events.collect()).await;
        assert!(!rest.iter().any(|e| matches!(e, SdkEvent::ConnectionLost)), "destroy emits none: {rest:?}");
        server.shutdown().await;
    });
}
