//! The queue: an agent not accepting chats, a chat waiting, taken, given back, routed to the
//! next agent who logs in.

use chatio_agent_sdk::{AgentEvent, NewEvent, RoutingStatus, StartChat};
use chatio_customer_sdk::SdkEvent;

use crate::support::*;

#[test]
fn a_waiting_chat_is_taken_given_back_and_routed_to_the_next_agent() {
    run(async {
        let server = server().await;
        let (jane, mut jev) = agent(&server, JANE_TOKEN).await;
        jane.set_routing_status(RoutingStatus::NotAcceptingChats).await.unwrap();
        // Every agent of the license hears it, Jane too (her login's `accepting_chats` came
        // first).
        on_agent(&mut jev, "Jane's own status", |e| match e {
            AgentEvent::AgentUpdated { agent, routing_status: Some(RoutingStatus::NotAcceptingChats) }
                if agent.as_str() == JANE =>
            {
                Some(())
            }
            _ => None,
        })
        .await;
        assert_eq!(jane.routing_status(), Some(RoutingStatus::NotAcceptingChats));

        let (cust, mut cev) = customer(&server).await;
        let chat = cust.start_chat(StartChat::new().with_event(NewEvent::message("Is anyone there?"))).await.unwrap();
        on_agent(&mut jev, "the queued chat", |e| match e {
            AgentEvent::IncomingChat(c) if c.id == chat.id => Some(()),
            _ => None,
        })
        .await;
        let waiting = jane.waiting_chats().await.unwrap();
        assert_eq!(waiting.iter().map(|c| &c.id).collect::<Vec<_>>(), [&chat.id]);
        assert!(jane.my_chats().await.unwrap().is_empty());

        // Jane takes it: the queue's property follows (H48).
        jane.take_chat(&chat.id).await.unwrap();
        on_customer(&mut cev, "Jane joins", |e| match e {
            SdkEvent::UserJoinedChat { user, .. } if user.as_str() == JANE => Some(()),
            _ => None,
        })
        .await;
        let jane_id = jane.my_id().expect("logged in");
        until_chats(&jane, &mut jev, "the chat taken", |chats| {
            chats.iter().any(|c| c.id == chat.id && c.has_user(&jane_id) && !c.is_waiting())
        })
        .await;
        assert!(jane.waiting_chats().await.unwrap().is_empty());
        assert_eq!(jane.my_chats().await.unwrap().len(), 1);

        // And gives it back to the queue.
        jane.leave_chat(&chat.id).await.unwrap();
        on_customer(&mut cev, "Jane leaves", |e| match e {
            SdkEvent::UserLeftChat { user, .. } if user.as_str() == JANE => Some(()),
            _ => None,
        })
        .await;
        until_chats(&jane, &mut jev, "the chat back in the queue", |chats| {
            chats.iter().any(|c| c.id == chat.id && c.is_waiting() && !c.has_user(&jane_id))
        })
        .await;
        assert!(jane.my_chats().await.unwrap().is_empty());

        // John logs in, accepting chats: the router gives him the waiting chat; the customer
        // talks to John, and Jane's queue is empty again.
        let (john, mut johns) = agent(&server, JOHN_TOKEN).await;
        let john_id = john.my_id().expect("logged in");
        until_chats(&john, &mut johns, "the chat given to John", |chats| {
            chats.iter().any(|c| c.id == chat.id && c.has_user(&john_id) && !c.is_waiting())
        })
        .await;
        john.send_message(&chat.id, "John here.").await.unwrap();
        assert_eq!(customer_reads(&mut cev).await, "John here.");
        until_chats(&jane, &mut jev, "the chat out of Jane's queue", |chats| {
            chats.iter().any(|c| c.id == chat.id && c.has_user(&john_id) && !c.is_waiting())
        })
        .await;
        assert!(jane.waiting_chats().await.unwrap().is_empty());

        john.destroy().await;
        jane.destroy().await;
        cust.destroy().await;
        server.shutdown().await;
    });
}
