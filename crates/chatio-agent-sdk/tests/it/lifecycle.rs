//! The session's life: a refused token, a lost connection and the re-login, arguments
//! refused before anything is sent, the server's typed refusals, the end.

use chatio_agent_sdk::{AgentEvent, AgentSdk, AgentStatus, AgentToken, ChatId, Config, Error, Platform, RoutingStatus};

use crate::support::*;

#[test]
fn a_refused_token_is_an_authentication_error() {
    run(async {
        let server = server().await;
        let config = Config::new(server.http_url(), AgentToken::bearer("not-a-token-of-this-server"));
        let sdk = AgentSdk::init(config).expect("init");
        let mut events = sdk.events();
        let err = on_agent(&mut events, "the login error", |e| match e {
            AgentEvent::Error(err) => Some(err.clone()),
            _ => None,
        })
        .await;
        assert!(matches!(err, Error::Authentication { .. } | Error::Server { .. }), "{err:?}");
        assert_ne!(sdk.status(), AgentStatus::Connected);
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn a_lost_connection_logs_in_again_and_keeps_the_routing_status() {
    run(async {
        let server = server().await;
        let (jane, mut events) = agent(&server, JANE_TOKEN).await;
        jane.set_routing_status(RoutingStatus::NotAcceptingChats).await.unwrap();
        server.drop_all_connections();
        on_agent(&mut events, "connection lost", |e| matches!(e, AgentEvent::ConnectionLost).then_some(())).await;
        let me = on_agent(&mut events, "restored", |e| match e {
            AgentEvent::ConnectionRestored { me, .. } => Some(me.clone()),
            _ => None,
        })
        .await;
        assert_eq!(me.routing_status, Some(RoutingStatus::NotAcceptingChats), "login with reconnect: true");
        assert!(jane.is_connected());
        jane.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn bad_arguments_and_refusals_are_typed() {
    run(async {
        let server = server().await;
        let (jane, _events) = agent(&server, JANE_TOKEN).await;
        let empty = ChatId::from("");
        assert!(matches!(jane.send_message(&empty, "x").await, Err(Error::InvalidArgs { .. })));
        assert!(matches!(jane.set_routing_status(RoutingStatus::Offline).await, Err(Error::InvalidArgs { .. })));
        assert!(matches!(jane.archives(None, 0, 10).await, Err(Error::InvalidArgs { .. })));
        // A chat Jane may not see: refused without telling whether it exists.
        let err = jane.chat_threads(&ChatId::from("NOSUCHCHAT"), &[]).await.unwrap_err();
        assert!(matches!(err, Error::Server { .. }), "{err:?}");
        // The session is still usable.
        jane.change_push_notifications("firebase-token-1", Platform::Ios, true).await.unwrap();
        jane.destroy().await;
        assert!(matches!(jane.send_message(&ChatId::from("X"), "x").await, Err(Error::Closed)));
        server.shutdown().await;
    });
}
