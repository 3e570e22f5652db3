//! Every event of the seed (and the pushes the JS SDK dropped), observed from a real server.

use chatio_customer_sdk::{CustomerData, EventKind, Postback, SdkEvent, StartChat, TokenSource};
use futures::{FutureExt, StreamExt};

use crate::support::*;

#[test]
fn the_agent_triggers_every_push() {
    run(async {
        let server = server().await;
        let sdk = chatio_customer_sdk::CustomerSdk::init(config(&server)).expect("init");
        let mut events = sdk.events();
        let id = wait(&mut events, "customer_id", |e| match e {
            SdkEvent::CustomerId(id) => Some(id.clone()),
            _ => None,
        })
        .await;
        wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
        assert_eq!(sdk.customer_id().as_ref(), Some(&id));

        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat");
        wait(&mut events, "thread_summary", |e| {
            matches!(e, SdkEvent::ThreadSummary(t) if t.chat == chat.id).then_some(())
        })
        .await;
        let agent = wait(&mut events, "user_data of the agent", |e| match e {
            SdkEvent::UserData(u) if u.is_agent() => Some(u.id.clone()),
            _ => None,
        })
        .await;
        wait(&mut events, "user_joined_chat", |e| {
            matches!(e, SdkEvent::UserJoinedChat { user, .. } if *user == agent).then_some(())
        })
        .await;
        agent_says(&mut events, "Chatio Bot").await;

        sdk.send_message(&chat.id, "hello").await.expect("send");
        wait(&mut events, "user_is_typing", |e| {
            matches!(e, SdkEvent::UserIsTyping { user, .. } if *user == agent).then_some(())
        })
        .await;
        // Typing on, the answer, typing off.
        agent_says(&mut events, "You said: hello").await;
        wait(&mut events, "user_stopped_typing", |e| matches!(e, SdkEvent::UserStoppedTyping { .. }).then_some(()))
            .await;

        let kinds = [
            ("/rich", "rich_message"),
            ("/file", "file"),
            ("/form", "filled_form"),
            ("/annotation", "annotation"),
            ("/custom", "custom"),
            ("/system", "system_message"),
        ];
        for (cmd, ty) in kinds {
            sdk.send_message(&chat.id, cmd).await.expect("send command");
            wait(&mut events, ty, |e| match e {
                SdkEvent::NewEvent { event, .. } if event.kind.event_type() == ty => Some(()),
                _ => None,
            })
            .await;
        }

        sdk.send_message(&chat.id, "/props").await.expect("props");
        wait(&mut events, "chat_properties_updated", |e| {
            matches!(e, SdkEvent::ChatPropertiesUpdated { .. }).then_some(())
        })
        .await;
        wait(&mut events, "chat_thread_properties_updated", |e| {
            matches!(e, SdkEvent::ChatThreadPropertiesUpdated { .. }).then_some(())
        })
        .await;
        sdk.send_message(&chat.id, "/seen").await.expect("seen");
        wait(&mut events, "last_seen_timestamp_updated", |e| {
            matches!(e, SdkEvent::LastSeenTimestampUpdated { user, .. } if *user == agent).then_some(())
        })
        .await;
        sdk.send_message(&chat.id, "/multicast").await.expect("multicast");
        wait(&mut events, "incoming_multicast", |e| matches!(e, SdkEvent::Multicast { .. }).then_some(())).await;
        sdk.send_message(&chat.id, "/scopes").await.expect("scopes");
        wait(&mut events, "chat_scopes_updated", |e| matches!(e, SdkEvent::ChatScopesUpdated { .. }).then_some(()))
            .await;
        sdk.send_message(&chat.id, "/leave").await.expect("leave");
        wait(&mut events, "user_left_chat", |e| {
            matches!(e, SdkEvent::UserLeftChat { user, .. } if *user == agent).then_some(())
        })
        .await;
        sdk.send_message(&chat.id, "/close").await.expect("close");
        wait(&mut events, "thread_closed", |e| {
            matches!(e, SdkEvent::ThreadClosed { user: Some(u), .. } if *u == agent).then_some(())
        })
        .await;
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn a_second_connection_sees_what_the_first_does() {
    run(async {
        let server = quiet_server().await;
        let (token, customer) = server.create_token(100, None).expect("token");
        let creds = chatio_customer_sdk::Credentials::bearer(token);
        let (a, _ea) = connect_with(config(&server).token(TokenSource::Static(creds.clone()))).await;
        let (b, mut eb) = connect_with(config(&server).token(TokenSource::Static(creds))).await;
        assert_eq!(a.customer_id().map(|c| c.to_string()), Some(customer.to_string()));

        let chat = a.start_chat(StartChat::new()).await.expect("start_chat");
        // Pushes from the other connection are ordinary events there.
        wait(&mut eb, "the chat on the other connection", |e| {
            matches!(e, SdkEvent::ThreadSummary(t) if t.chat == chat.id).then_some(())
        })
        .await;
        let sent = a.send_message(&chat.id, "from a").await.expect("send");
        let seen = wait(&mut eb, "new_event", |e| match e {
            SdkEvent::NewEvent { event, .. } => Some(event.clone()),
            _ => None,
        })
        .await;
        assert_eq!(seen.id, sent.id);

        a.update_customer(CustomerData::new().name("Ada")).await.expect("update_customer");
        let c = wait(&mut eb, "customer_updated", |e| match e {
            SdkEvent::CustomerUpdated { customer, .. } => Some(customer.clone()),
            _ => None,
        })
        .await;
        assert_eq!(c.name.as_deref(), Some("Ada"));

        a.update_chat_properties(&chat.id, chatio_customer_sdk::Properties::new().with("x", "y", 1))
            .await
            .expect("props");
        wait(&mut eb, "chat_properties_updated", |e| matches!(e, SdkEvent::ChatPropertiesUpdated { .. }).then_some(()))
            .await;
        a.update_last_seen_timestamp(&chat.id, None).await.expect("seen");
        wait(&mut eb, "last_seen_timestamp_updated", |e| {
            matches!(e, SdkEvent::LastSeenTimestampUpdated { .. }).then_some(())
        })
        .await;
        a.close_thread(&chat.id).await.expect("close");
        wait(&mut eb, "thread_closed", |e| matches!(e, SdkEvent::ThreadClosed { .. }).then_some(())).await;
        a.destroy().await;
        b.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn postbacks_reach_the_other_connection() {
    run(async {
        let server = server().await;
        let (token, _) = server.create_token(100, None).expect("token");
        let creds = chatio_customer_sdk::Credentials::bearer(token);
        let (a, mut ea) = connect_with(config(&server).token(TokenSource::Static(creds.clone()))).await;
        let (b, mut eb) = connect_with(config(&server).token(TokenSource::Static(creds))).await;
        let chat = a.start_chat(StartChat::new()).await.expect("start_chat");
        a.send_message(&chat.id, "/rich").await.expect("rich");
        let rich = wait(&mut ea, "rich", |e| match e {
            SdkEvent::NewEvent { event, .. } if matches!(event.kind, EventKind::RichMessage(_)) => Some(event.clone()),
            _ => None,
        })
        .await;
        let EventKind::RichMessage(r) = &rich.kind else { unreachable!() };
        let pid = r.buttons().next().expect("button").postback_id.clone();
        a.send_rich_message_postback(
            &chat.id,
            rich.thread.as_ref().expect("thread"),
            &rich.id,
            Postback::new(pid.clone(), true),
        )
        .await
        .expect("postback");
        let got = wait(&mut eb, "incoming_rich_message_postback", |e| match e {
            SdkEvent::RichMessagePostback { postback, .. } => Some(postback.id.clone()),
            _ => None,
        })
        .await;
        assert_eq!(got, pid);
        a.destroy().await;
        b.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn any_number_of_subscribers_and_dropping_unsubscribes() {
    run(async {
        let server = quiet_server().await;
        let sdk = chatio_customer_sdk::CustomerSdk::init(config(&server)).expect("init");
        let mut one = sdk.events();
        let two = sdk.events();
        let mut three = sdk.events();
        drop(two);
        for s in [&mut one, &mut three] {
            wait(s, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
        }
        sdk.destroy().await;
        // After destroy the streams end.
        within("the stream to end", async { while one.next().await.is_some() {} }).await;
        server.shutdown().await;
    });
}

#[test]
fn the_first_subscriber_gets_what_happened_before_it_later_ones_do_not() {
    run(async {
        let server = quiet_server().await;
        let sdk = chatio_customer_sdk::CustomerSdk::init(config(&server)).expect("init");
        // Subscribe only once the session is logged in: `Connected` is in the past.
        within("the login", async {
            let rt = chatio_customer_sdk::runtime::default_runtime().expect("a runtime");
            while !sdk.is_connected() {
                rt.sleep_until(rt.now() + std::time::Duration::from_millis(2)).await;
            }
        })
        .await;
        let mut first = sdk.events();
        let mut second = sdk.events();
        let early: Vec<SdkEvent> = within("the backlog", first.by_ref().take(2).collect()).await;
        let early: Vec<&str> = early.iter().map(SdkEvent::name).collect();
        assert_eq!(early, ["customer_id", "connected"]);
        // From now on both get everything, and the second nothing from before.
        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat");
        for (events, which) in [(&mut first, "first"), (&mut second, "second")] {
            let mut before = Vec::new();
            within("the thread summary", async {
                while let Some(e) = events.next().await {
                    if matches!(&e, SdkEvent::ThreadSummary(t) if t.chat == chat.id) {
                        return;
                    }
                    before.push(e.name());
                }
            })
            .await;
            assert!(!before.contains(&"connected") && !before.contains(&"customer_id"), "{which}: {before:?}");
        }
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn a_stalled_subscriber_stays_within_its_bound_and_reads_lagged() {
    run(async {
        let server = quiet_server().await;
        let (token, _customer) = server.create_token(100, None).expect("token");
        let creds = chatio_customer_sdk::Credentials::bearer(token);
        const BOUND: usize = 8;
        let (a, _ea) =
            connect_with(config(&server).token(TokenSource::Static(creds.clone())).event_buffer(BOUND)).await;
        let (b, _eb) = connect_with(config(&server).token(TokenSource::Static(creds))).await;
        let chat = b.start_chat(StartChat::new()).await.expect("start_chat");
        // `stalled` is never polled while the traffic flows; `live` reads everything.
        let mut stalled = a.events();
        let mut live = a.events().named(&["new_event"]);
        const SENT: usize = 30;
        for i in 0..SENT {
            b.send_message(&chat.id, format!("m{i}")).await.expect("send");
            // `live` keeps up: it reads each event as it comes.
            match within("the live subscriber's event", live.next()).await {
                Some(SdkEvent::NewEvent { .. }) => {}
                Some(SdkEvent::Lagged { missed }) => panic!("the live subscriber lagged by {missed}"),
                other => panic!("only new_event passes the filter: {other:?}"),
            }
        }
        let published = stalled.backlog();
        assert!(published as usize >= SENT, "{published}");
        // The stalled subscriber first learns what it missed, then reads at most BOUND events.
        let first = stalled.next().now_or_never().flatten();
        let missed = match first {
            Some(SdkEvent::Lagged { missed }) => missed,
            other => panic!("expected Lagged first, got {other:?}"),
        };
        let mut kept = 0u64;
        while let Some(Some(e)) = stalled.next().now_or_never() {
            assert!(!matches!(e, SdkEvent::Lagged { .. }), "one marker per gap");
            kept += 1;
        }
        assert!(kept as usize <= BOUND, "kept {kept} > {BOUND}");
        assert_eq!(missed + kept, published, "every published event is either read or counted as missed");
        a.destroy().await;
        b.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn subscribe_by_name_and_once() {
    run(async {
        let server = quiet_server().await;
        let (token, _customer) = server.create_token(100, None).expect("token");
        let creds = chatio_customer_sdk::Credentials::bearer(token);
        let (a, _ea) = connect_with(config(&server).token(TokenSource::Static(creds.clone()))).await;
        let (b, _eb) = connect_with(config(&server).token(TokenSource::Static(creds))).await;
        let chat = b.start_chat(StartChat::new()).await.expect("start_chat");
        let once = a.once("new_event");
        futures::pin_mut!(once);
        assert!(once.as_mut().now_or_never().is_none(), "nothing yet");
        let mut typed = a.events().filter(|e| matches!(e, SdkEvent::NewEvent { .. }));
        b.send_message(&chat.id, "hello").await.expect("send");
        let e = within("once", once).await.expect("an event");
        assert!(matches!(&e, SdkEvent::NewEvent { event, .. } if event.text() == Some("hello")), "{e:?}");
        let t = within("typed", typed.next()).await.expect("an event");
        assert_eq!(t.name(), "new_event");
        a.destroy().await;
        b.destroy().await;
        server.shutdown().await;
    });
}
