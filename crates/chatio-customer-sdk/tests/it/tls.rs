//! `https://` and `wss://`: the SDK through a TLS terminator (rustls, a self-signed
//! certificate trusted by the test's client configuration) in front of the reference server.

use std::sync::Arc;

use async_std::net::{TcpListener, TcpStream};
use chatio_customer_sdk::{SdkEvent, StartChat};
use futures::{AsyncReadExt, StreamExt};
use futures_rustls::rustls;

use crate::support::*;

/// Accepts TLS on a free port and forwards the bytes to `backend`.
async fn tls_terminator(backend: std::net::SocketAddr) -> (u16, Arc<rustls::ClientConfig>) {
    let (port, client, _pem) = tls_terminator_pem(backend).await;
    (port, client)
}

/// [`tls_terminator`], also giving its certificate as PEM.
async fn tls_terminator_pem(backend: std::net::SocketAddr) -> (u16, Arc<rustls::ClientConfig>, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
    let pem = cert.cert.pem();
    let der = cert.cert.der().clone();
    let key = rustls_pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).expect("key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .expect("server config");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).expect("root");
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let acceptor = futures_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    async_std::task::spawn(async move {
        while let Some(Ok(tcp)) = listener.incoming().next().await {
            let acceptor = acceptor.clone();
            async_std::task::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let Ok(plain) = TcpStream::connect(backend).await else { return };
                let (tr, tw) = tls.split();
                let (pr, pw) = plain.split();
                let _ =
                    futures::future::join(futures::io::copy(tr, &mut { pw }), futures::io::copy(pr, &mut { tw })).await;
            });
        }
    });
    (port, Arc::new(client), pem)
}

#[test]
fn a_private_ca_through_config_only() {
    run(async {
        let server = quiet_server().await;
        let (port, _client, pem) = tls_terminator_pem(server.addr()).await;
        // Only the facade's types: no chatio-transport or rustls in the user's code.
        let tls = chatio_customer_sdk::TlsConfig::with_extra_roots_pem(pem.as_bytes()).expect("PEM");
        let cfg = config(&server).server(format!("https://localhost:{port}")).tls(tls);
        let (sdk, _events) = connect_with(cfg).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat over wss");
        assert!(!chat.id.as_str().is_empty());
        let e = chatio_customer_sdk::TlsConfig::with_extra_roots_pem(b"not a certificate").expect_err("no PEM");
        assert!(e.to_string().contains("TLS"), "{e}");
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn a_session_over_wss_and_an_upload_over_https() {
    run(async {
        let server = quiet_server().await;
        let (port, client) = tls_terminator(server.addr()).await;
        let mut config = config(&server).server(format!("https://localhost:{port}"));
        config.tls = chatio_transport::net::TlsConfig::with_rustls(client);
        let (sdk, _events) = connect_with(config).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat over wss");
        sdk.send_message(&chat.id, "over TLS").await.expect("send over wss");
        let url = sdk
            .send_file(&chat.id, chatio_customer_sdk::File::bytes("t.txt", &b"tls"[..]))
            .await
            .expect("upload over https");
        assert!(url.contains("/api/file/"), "{url}");
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn an_untrusted_certificate_is_refused() {
    run(async {
        let server = quiet_server().await;
        let (port, _trusting) = tls_terminator(server.addr()).await;
        // The default configuration trusts the webpki roots only.
        let sdk = chatio_customer_sdk::CustomerSdk::init(config(&server).server(format!("https://localhost:{port}")))
            .expect("init");
        let mut events = sdk.events();
        let e = wait(&mut events, "a refusal", |e| match e {
            SdkEvent::Error(err) => Some(err.clone()),
            _ => None,
        })
        .await;
        // Whichever comes first (the token over https, the socket over wss), it is a TLS
        // failure that retrying will not fix, and the chain names the certificate.
        assert_eq!(e.kind(), chatio_customer_sdk::ErrorKind::Transport, "{e:?}");
        assert!(!e.is_transient(), "an untrusted certificate stays untrusted: {e:?}");
        let text = chatio_customer_sdk::chain(&e);
        assert!(text.contains("TLS") && text.contains("certificate"), "{text}");
        sdk.destroy().await;
        server.shutdown().await;
    });
}
