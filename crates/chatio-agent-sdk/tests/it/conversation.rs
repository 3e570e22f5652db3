//! A customer (our customer SDK) and an agent (this SDK) in one chat: every served method
//! and push, both directions.

use chatio_agent_sdk::{AgentEvent, NewEvent, Properties, Recipients, RoutingStatus, StartChat};
use chatio_customer_sdk::SdkEvent;

use crate::support::*;

#[test]
fn a_routed_chat_both_directions() {
    run(async {
        let server = server().await;
        let (jane, mut jev) = agent(&server, JANE_TOKEN).await;
        assert_eq!(jane.my_id().map(|id| id.as_str().to_owned()).as_deref(), Some(JANE));
        assert_eq!(jane.routing_status(), Some(RoutingStatus::AcceptingChats));
        let (cust, mut cev) = customer(&server).await;
        let me = cust.customer_id().expect("customer id");

        // The customer starts a chat: the router gives it to Jane, the only agent accepting.
        let chat = cust.start_chat(StartChat::new().with_event(NewEvent::message("Hello, anyone?"))).await.unwrap();
        let incoming = on_agent(&mut jev, "the incoming chat", |e| match e {
            AgentEvent::IncomingChat(c) if c.id == chat.id => Some(c.clone()),
            _ => None,
        })
        .await;
        let first = incoming.threads.first().expect("the new thread");
        assert!(first.events.iter().any(|e| e.text() == Some("Hello, anyone?")), "{first:?}");
        on_customer(&mut cev, "Jane joins", |e| match e {
            SdkEvent::UserJoinedChat { chat: c, user } if *c == chat.id && user.as_str() == JANE => Some(()),
            _ => None,
        })
        .await;
        let jane_id = jane.my_id().expect("logged in");
        until_chats(&jane, &mut jev, "the chat among Jane's", |chats| {
            chats.iter().any(|c| c.id == chat.id && c.is_active() && c.has_user(&jane_id) && !c.is_waiting())
        })
        .await;
        let mine = jane.my_chats().await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].customer().map(|u| &u.id), Some(&me));
        assert!(jane.waiting_chats().await.unwrap().is_empty());

        // Agent → customer.
        let sent = jane.send_message(&chat.id, "Hi, I am Jane. How can I help?").await.unwrap();
        assert_eq!(sent.author.as_ref().map(|a| a.as_str()), Some(JANE));
        assert_eq!(customer_reads(&mut cev).await, "Hi, I am Jane. How can I help?");

        // Customer → agent, and the unread count.
        cust.send_message(&chat.id, "My order did not arrive").await.unwrap();
        let got = on_agent(&mut jev, "the customer's message", |e| match e {
            AgentEvent::NewEvent(ev) if ev.chat == chat.id && ev.author.as_ref() == Some(&me) => Some(ev.clone()),
            _ => None,
        })
        .await;
        assert_eq!(got.text(), Some("My order did not arrive"));
        assert!(jane.chat(&chat.id).await.unwrap().expect("known chat").unread >= 1);
        let seen = jane.update_last_seen_timestamp(&chat.id, None).await.unwrap();
        assert!(seen > std::time::UNIX_EPOCH);
        assert_eq!(jane.chat(&chat.id).await.unwrap().expect("known chat").unread, 0);
        on_customer(&mut cev, "Jane's last seen", |e| match e {
            SdkEvent::LastSeenTimestampUpdated { user, .. } if user.as_str() == JANE => Some(()),
            _ => None,
        })
        .await;

        // A whisper never reaches the customer: the next message they read is the one after.
        let note = jane.send_whisper(&chat.id, "internal: check the courier").await.unwrap();
        assert_eq!(note.recipients, Some(Recipients::Agents));
        jane.send_message(&chat.id, "Let me check the courier.").await.unwrap();
        assert_eq!(customer_reads(&mut cev).await, "Let me check the courier.");

        // Typing, both ways (the customer's as a sneak peek).
        jane.send_typing_indicator(&chat.id, true, false).await.unwrap();
        on_customer(&mut cev, "Jane typing", |e| match e {
            SdkEvent::UserIsTyping { user, .. } if user.as_str() == JANE => Some(()),
            _ => None,
        })
        .await;
        jane.send_typing_indicator(&chat.id, false, false).await.unwrap();
        on_customer(&mut cev, "Jane stopped typing", |e| match e {
            SdkEvent::UserStoppedTyping { user, .. } if user.as_str() == JANE => Some(()),
            _ => None,
        })
        .await;
        cust.set_sneak_peek(&chat.id, "It was order 12").unwrap();
        let peek = on_agent(&mut jev, "the sneak peek", |e| match e {
            AgentEvent::SneakPeek { chat: c, user, text, .. } if *c == chat.id && *user == me => Some(text.clone()),
            _ => None,
        })
        .await;
        assert_eq!(peek, "It was order 12");

        // Properties of the chat and of its thread reach the customer.
        let props = Properties::new().with("support", "ticket", "T-1");
        jane.update_chat_properties(&chat.id, props.clone()).await.unwrap();
        on_customer(&mut cev, "chat properties", |e| match e {
            SdkEvent::ChatPropertiesUpdated { properties, .. } if *properties == props => Some(()),
            _ => None,
        })
        .await;
        let thread = first.id.clone();
        let tprops = Properties::new().with("support", "priority", 2);
        jane.update_chat_thread_properties(&chat.id, &thread, tprops.clone()).await.unwrap();
        on_customer(&mut cev, "thread properties", |e| match e {
            SdkEvent::ChatThreadPropertiesUpdated { properties, .. } if *properties == tprops => Some(()),
            _ => None,
        })
        .await;

        // History as the agent sees it: the whisper is there.
        let threads = jane.chat_threads(&chat.id, std::slice::from_ref(&thread)).await.unwrap();
        let texts: Vec<&str> = threads.chat.threads.iter().flat_map(|t| &t.events).filter_map(|e| e.text()).collect();
        assert!(texts.contains(&"internal: check the courier"), "{texts:?}");
        assert!(texts.contains(&"My order did not arrive"), "{texts:?}");
        assert_eq!(threads.threads_summary.len(), 1);
        let listed = jane.get_filtered_chats(None).await.unwrap();
        assert!(listed.iter().any(|c| c.id == chat.id), "{listed:?}");

        // Jane closes the thread: the customer hears it; Jane's state has it closed (her own
        // copy of the push is the command's outcome, not an event).
        jane.close_thread(&chat.id).await.unwrap();
        on_customer(&mut cev, "the customer's thread closed", |e| match e {
            SdkEvent::ThreadClosed { chat: c, user, .. }
                if *c == chat.id && user.as_ref().is_some_and(|u| u.as_str() == JANE) =>
            {
                Some(())
            }
            _ => None,
        })
        .await;
        until_chats(&jane, &mut jev, "the thread closed in Jane's state", |chats| {
            chats.iter().any(|c| c.id == chat.id && !c.is_active())
        })
        .await;
        assert!(jane.my_chats().await.unwrap().is_empty());

        jane.destroy().await;
        cust.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn an_agent_starts_a_chat_of_its_own() {
    run(async {
        let server = server().await;
        let (jane, _events) = agent(&server, JANE_TOKEN).await;
        let chat = jane.start_chat(StartChat::new().with_event(NewEvent::message("note to self"))).await.unwrap();
        assert!(chat.users.iter().any(|u| u.id.as_str() == JANE));
        let texts: Vec<_> = chat.threads.iter().flat_map(|t| &t.events).filter_map(|e| e.text()).collect();
        assert_eq!(texts, ["note to self"]);
        jane.destroy().await;
        server.shutdown().await;
    });
}
