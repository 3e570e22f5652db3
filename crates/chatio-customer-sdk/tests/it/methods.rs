//! Every method of the SDK: its success path and its error path.

use chatio_customer_sdk::{
    ChatId, CustomerData, Error, ErrorType, EventKind, NewEvent, Pagination, Postback, Properties, PropertyValue,
    Rating, Scopes, StartChat, SystemMessage, ThreadId,
};

use crate::support::*;

#[test]
fn start_chat_and_send_events() {
    run(async {
        let server = quiet_server().await;
        let (sdk, _events) = connect(&server).await;
        let chat = sdk
            .start_chat(StartChat::with_events(vec![NewEvent::message("first").with_custom_id("c-1")]))
            .await
            .expect("start_chat");
        assert_eq!(chat.threads.len(), 1);
        let first = &chat.threads[0];
        assert!(first.active);
        assert_eq!(first.events[0].custom_id.as_deref(), Some("c-1"));

        let sent = sdk.send_message(&chat.id, "hello").await.expect("send_message");
        assert_eq!(sent.text(), Some("hello"));
        assert_eq!(sent.thread.as_ref(), Some(&first.id));
        assert!(sent.custom_id.is_some(), "the SDK gives every event a custom id");

        let custom = sdk
            .send_event(
                &chat.id,
                NewEvent::new(EventKind::Custom(chatio_customer_sdk::Custom::new(serde_json::json!({"k": 1})))),
            )
            .await
            .expect("send_event");
        assert!(matches!(custom.kind, EventKind::Custom(_)));

        // Error paths: refused before sending, and refused by the server.
        let e = sdk
            .send_event(&chat.id, NewEvent::new(EventKind::SystemMessage(SystemMessage::new("x", "y"))))
            .await
            .expect_err("system messages are not for customers");
        assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");
        let e = sdk.send_message(&ChatId::new("NOSUCHCHAT"), "hi").await.expect_err("not my chat");
        assert!(matches!(e, Error::Server { kind: ErrorType::Authorization, .. }), "{e}");
        let e = sdk
            .start_chat(StartChat::with_events(vec![NewEvent::new(EventKind::SystemMessage(SystemMessage::new(
                "x", "y",
            )))]))
            .await
            .expect_err("no system messages");
        assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");
        let e = sdk.send_message(&ChatId::new(""), "hi").await.expect_err("empty chat id");
        assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");

        // What the server stored.
        let stored = server.chat_events(100, chat.id.as_str());
        assert_eq!(stored.len(), 3);
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn close_thread_properties_scopes_and_rating() {
    run(async {
        let server = quiet_server().await;
        let (sdk, _events) = connect(&server).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat");
        let thread = chat.threads[0].id.clone();

        sdk.update_chat_properties(&chat.id, Properties::new().with("ns", "flag", true)).await.expect("chat props");
        let e = sdk
            .update_chat_properties(
                &chat.id,
                Properties::new().with("ns", "x", PropertyValue::Other(serde_json::json!([1]))),
            )
            .await
            .expect_err("arrays are not property values");
        assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");

        sdk.update_chat_thread_properties(&chat.id, &thread, Properties::new().with("ns", "n", 3))
            .await
            .expect("thread props");
        let e = sdk
            .update_chat_thread_properties(&chat.id, &ThreadId::new("NOSUCH"), Properties::new().with("ns", "n", 3))
            .await
            .expect_err("unknown thread");
        assert!(matches!(e, Error::Server { kind: ErrorType::Validation, .. }), "{e}");

        sdk.update_chat_scopes(&chat.id, Some(Scopes::groups([1, 2])), Some(Scopes::groups([2])))
            .await
            .expect("scopes");
        let e = sdk.update_chat_scopes(&chat.id, None, None).await.expect_err("nothing to do");
        assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");

        sdk.send_rating(&chat.id, Rating::Good, Some("nice")).await.expect("rating");
        let summary = sdk.chats_summary(Pagination::default()).await.expect("summary");
        let props = &summary.chats_summary[0].properties;
        assert_eq!(props.get("rating", "score"), Some(&PropertyValue::Int(1)));
        assert_eq!(props.get("rating", "comment"), Some(&PropertyValue::String("nice".into())));
        assert_eq!(props.get("ns", "flag"), Some(&PropertyValue::Bool(true)));
        assert_eq!(summary.chats_summary[0].scopes, Scopes::groups([1]));

        sdk.close_thread(&chat.id).await.expect("close_thread");
        let e = sdk.close_thread(&chat.id).await.expect_err("no active thread any more");
        assert!(matches!(e, Error::Server { kind: ErrorType::Validation, .. }), "{e}");

        sdk.set_sneak_peek(&chat.id, "typing...").expect("sneak peek accepted");
        let e = sdk.set_sneak_peek(&chat.id, &"x".repeat(20_000)).expect_err("too long");
        assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn customer_last_seen_and_summaries() {
    run(async {
        let server = quiet_server().await;
        let (sdk, _events) = connect(&server).await;
        let me =
            sdk.update_customer(CustomerData::new().name("Ada").field("plan", "pro")).await.expect("update_customer");
        assert_eq!(me.name.as_deref(), Some("Ada"));
        assert_eq!(me.fields.get("plan").map(String::as_str), Some("pro"));
        let mut too_many = CustomerData::new();
        for i in 0..101 {
            too_many = too_many.field(format!("k{i}"), "v");
        }
        let e = sdk.update_customer(too_many).await.expect_err("too many fields");
        assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");

        let a = sdk.start_chat(StartChat::new()).await.expect("chat a");
        let b = sdk.start_chat(StartChat::new()).await.expect("chat b");
        let seen = sdk.update_last_seen_timestamp(&a.id, None).await.expect("last seen");
        assert!(seen <= std::time::SystemTime::now() + std::time::Duration::from_secs(1));
        let e = sdk
            .update_last_seen_timestamp(&a.id, Some(std::time::UNIX_EPOCH - std::time::Duration::from_secs(5)))
            .await
            .expect_err("before 1970");
        assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");

        let page = sdk.chats_summary(Pagination::new(0, 25)).await.expect("summary");
        assert_eq!(page.total_chats, 2);
        let ids: Vec<_> = page.chats_summary.iter().map(|c| c.id.clone()).collect();
        assert!(ids.contains(&a.id) && ids.contains(&b.id));
        let one = sdk.chats_summary(Pagination::new(1, 1)).await.expect("second page");
        assert_eq!(one.chats_summary.len(), 1);
        let e = sdk.chats_summary(Pagination::new(0, 26)).await.expect_err("limit 26");
        assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");

        let threads = sdk.chat_threads_summary(&a.id, Pagination::default()).await.expect("threads summary");
        assert_eq!(threads.total_threads, 1);
        let e = sdk.chat_threads_summary(&a.id, Pagination::new(0, 101)).await.expect_err("limit 101");
        assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");
        let t = sdk.chat_threads(&a.id, &[threads.threads_summary[0].id.clone()]).await.expect("threads");
        assert_eq!(t.len(), 1);

        // Another customer cannot read this chat.
        let (other, _e2) = connect(&server).await;
        let e = other.chat_threads(&a.id, &[]).await.expect_err("not theirs");
        assert!(matches!(e, Error::Server { kind: ErrorType::Authorization, .. }), "{e}");
        other.destroy().await;
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn rich_message_postbacks() {
    run(async {
        let server = server().await;
        let (sdk, mut events) = connect(&server).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat");
        sdk.send_message(&chat.id, "/rich").await.expect("ask for a rich message");
        let rich = wait(&mut events, "a rich message", |e| match e {
            chatio_customer_sdk::SdkEvent::NewEvent { event, .. }
                if matches!(event.kind, EventKind::RichMessage(_)) =>
            {
                Some(event.clone())
            }
            _ => None,
        })
        .await;
        let EventKind::RichMessage(r) = &rich.kind else { unreachable!() };
        let button = r.buttons().next().expect("a button").postback_id.clone();
        let thread = rich.thread.clone().expect("thread");
        sdk.send_rich_message_postback(&chat.id, &thread, &rich.id, Postback::new(button.clone(), true))
            .await
            .expect("postback");
        let e = sdk
            .send_rich_message_postback(&chat.id, &thread, &rich.id, Postback::new("no_such_button", true))
            .await
            .expect_err("unknown postback id");
        assert!(matches!(e, Error::Server { kind: ErrorType::Validation, .. }), "{e}");
        // The server recorded the toggle.
        let stored = server.chat_events(100, chat.id.as_str());
        let me = sdk.customer_id().expect("customer id");
        let toggled = stored.iter().any(|ev| match &ev.kind {
            EventKind::RichMessage(r) => r.buttons().any(|b| b.postback_id == button && b.user_ids.contains(&me)),
            _ => false,
        });
        assert!(toggled);
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn calls_after_destroy_fail_with_closed() {
    run(async {
        let server = quiet_server().await;
        let (sdk, _events) = connect(&server).await;
        sdk.destroy().await;
        let e = sdk.start_chat(StartChat::new()).await.expect_err("destroyed");
        assert!(matches!(e, Error::Closed), "{e}");
        server.shutdown().await;
    });
}

#[test]
fn init_refuses_bad_urls() {
    run(async {
        let e = chatio_customer_sdk::CustomerSdk::init(chatio_customer_sdk::Config::new(1, "x").server("not a url"))
            .expect_err("bad URL");
        assert!(matches!(e, Error::Config { .. }), "{e}");
        assert_eq!(e.kind(), chatio_customer_sdk::ErrorKind::Usage);
        let parse = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<url::ParseError>());
        assert!(parse.is_some(), "the URL parser's error is the source: {e:?}");
    });
}
