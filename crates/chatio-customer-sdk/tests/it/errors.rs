//! The error model over real sockets: kinds, transience and `source()` chains.

use std::error::Error as _;
use std::io::{Read, Write};
use std::net::TcpListener;

use chatio_customer_sdk::{Config, CustomerSdk, Error, ErrorKind, Operation, SdkEvent, StartChat, TokenSource, chain};

use crate::support::{config, quiet_server, run, wait};

/// The error's chain as a list of links.
fn links(e: &Error) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut next = e.source();
    while let Some(s) = next {
        out.push(s.to_string());
        next = s.source();
    }
    out
}

/// A port where nothing listens.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A token endpoint that answers every request with `500 Internal Server Error`, on a
/// thread; it stops after `n` requests.
fn failing_token_endpoint(n: usize) -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in l.incoming().take(n) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = "{\"oops\":true}";
            let _ = write!(
                s,
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_refused_connection_is_a_transient_transport_error_down_to_the_io_error() {
    run(async {
        let url = format!("http://127.0.0.1:{}", closed_port());
        let cfg = Config::new(100, "errors")
            .server(url)
            .token(TokenSource::Static(chatio_customer_sdk::Credentials::bearer("t")));
        let sdk = CustomerSdk::init(cfg).expect("init");
        let mut events = sdk.events();
        let e = wait(&mut events, "a connect failure", |e| match e {
            SdkEvent::Error(e @ Error::Transport(_)) => Some(e.clone()),
            _ => None,
        })
        .await;
        assert_eq!(e.kind(), ErrorKind::Transport);
        assert!(e.is_transient(), "a refused connection may work later");
        assert_eq!(e.as_transport().map(|t| t.operation()), Some(Operation::Connect));
        // Error → chatio_transport::Error::Connect → io::Error(ConnectionRefused).
        let transport = e.source().and_then(|s| s.downcast_ref::<chatio_transport::Error>()).expect("transport error");
        assert!(matches!(transport, chatio_transport::Error::Connect { .. }), "{transport:?}");
        let io = transport.source().and_then(|s| s.downcast_ref::<std::io::Error>()).expect("io error");
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
        assert!(links(&e).len() >= 3, "{:?}", links(&e));
        assert!(chain(&e).starts_with("connecting failed: cannot connect to ws://127.0.0.1:"), "{}", chain(&e));
        sdk.destroy().await;
    });
}

#[test]
fn a_bad_token_is_a_permanent_refusal() {
    run(async {
        let server = quiet_server().await;
        let sdk = CustomerSdk::init(
            config(&server).token(TokenSource::Static(chatio_customer_sdk::Credentials::bearer("not-a-token"))),
        )
        .expect("init");
        let mut events = sdk.events();
        let e = wait(&mut events, "an authentication error", |e| match e {
            SdkEvent::Error(e @ Error::Authentication { .. }) => Some(e.clone()),
            _ => None,
        })
        .await;
        assert_eq!(e.kind(), ErrorKind::Refused);
        assert!(!e.is_transient());
        // A command waiting for the login fails with the same refusal.
        let r = sdk.start_chat(StartChat::new()).await.expect_err("never logged in");
        assert_eq!(r.kind(), ErrorKind::Refused, "{r}");
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn an_http_500_from_the_token_endpoint_is_transient_not_authentication() {
    run(async {
        let server = quiet_server().await;
        let accounts = failing_token_endpoint(4);
        let sdk = CustomerSdk::init(config(&server).accounts(accounts)).expect("init");
        // `auth.getToken()` tells the same story as the session's events.
        let e = sdk.auth().token().await.expect_err("the endpoint fails");
        assert_eq!(e.kind(), ErrorKind::Transport, "{e:?}");
        assert!(e.is_transient(), "a 5xx may work later: {e:?}");
        assert_eq!(e.as_transport().map(|t| t.operation()), Some(Operation::FetchToken));
        let status = e.source().and_then(|s| s.downcast_ref::<chatio_transport::Error>());
        assert!(matches!(status, Some(chatio_transport::Error::Status { status: 500, .. })), "{status:?}");
        let mut events = sdk.events();
        let reported = wait(&mut events, "the session's token error", |e| match e {
            SdkEvent::Error(e) => Some(e.clone()),
            _ => None,
        })
        .await;
        assert!(
            matches!(&reported, Error::Transport(t) if t.operation() == Operation::FetchToken && t.is_transient()),
            "{reported:?}"
        );
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn a_token_refused_by_the_endpoint_is_authentication_with_its_cause() {
    run(async {
        // The reference server's token endpoint refuses client ids that are not registered.
        let app = chatio_server::RegisteredApp::new(100, "someone-else", &["https://else.example/"]).expect("app");
        let server =
            chatio_server::Server::builder().ephemeral().agent(false).register_app(app).start().await.expect("server");
        let sdk = CustomerSdk::init(config(&server)).expect("init");
        let e = sdk.auth().token().await.expect_err("refused");
        assert!(matches!(e, Error::Authentication { source: Some(_), .. }), "{e:?}");
        assert!(!e.is_transient());
        let refused = e.source().and_then(|s| s.downcast_ref::<chatio_transport::Error>());
        assert!(matches!(refused, Some(chatio_transport::Error::TokenRefused { .. })), "{refused:?}");
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn a_malformed_frame_keeps_the_decode_error_and_an_excerpt() {
    run(async {
        let server = quiet_server().await;
        let (token, customer) = server.create_token(100, None).expect("token");
        let sdk = CustomerSdk::init(
            config(&server).token(TokenSource::Static(chatio_customer_sdk::Credentials::bearer(token))),
        )
        .expect("init");
        let mut events = sdk.events();
        wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
        server.send_malformed_frame(100, customer.as_str());
        let e = wait(&mut events, "a protocol error", |e| match e {
            SdkEvent::Error(e @ Error::Protocol(_)) => Some(e.clone()),
            _ => None,
        })
        .await;
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(!e.is_transient());
        let p = e.as_protocol().expect("protocol");
        let decode = p.decode_error().expect("the decode error");
        assert_eq!(decode.kind(), chatio_wire::DecodeErrorKind::Syntax);
        assert!(p.excerpt().is_some_and(|x| x.contains("incoming_event")), "{:?}", p.excerpt());
        let src = e.source().and_then(|s| s.downcast_ref::<chatio_wire::DecodeError>());
        assert_eq!(src, Some(decode));
        sdk.destroy().await;
        server.shutdown().await;
    });
}
