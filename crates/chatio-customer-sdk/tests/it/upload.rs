//! `send_file`: progress to 1.0, the stored file served back, limits checked before any I/O,
//! cancellation.

use std::sync::{Arc, Mutex};

use chatio_customer_sdk::{Error, EventKind, File, SdkEvent, StartChat};

use crate::support::*;

#[test]
fn upload_with_progress_and_fetch_it_back() {
    run(async {
        let server = quiet_server().await;
        let (sdk, mut events) = connect(&server).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
        let bytes: Vec<u8> = (0..(2 * 1024 * 1024 + 17)).map(|i| (i % 253) as u8).collect();
        let seen = Arc::new(Mutex::new(Vec::<f64>::new()));
        let s2 = seen.clone();
        let url = sdk
            .send_file(&chat.id, File::bytes("data.bin", bytes.clone()))
            .custom_id("file-1")
            .on_progress(move |p| s2.lock().expect("lock").push(p))
            .await
            .expect("upload");
        let progress = seen.lock().expect("lock").clone();
        assert!(progress.len() > 3, "{progress:?}");
        assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {progress:?}");
        assert!(progress.iter().all(|p| (0.0..=1.0).contains(p)));
        assert_eq!(progress.last().copied(), Some(1.0));

        // The file event arrives (a Web API push carries no request id).
        let ev = wait(&mut events, "the file event", |e| match e {
            SdkEvent::NewEvent { event, .. } if matches!(event.kind, EventKind::File(_)) => Some(event.clone()),
            _ => None,
        })
        .await;
        assert_eq!(ev.custom_id.as_deref(), Some("file-1"));
        let EventKind::File(f) = &ev.kind else { unreachable!() };
        assert_eq!(f.url, url);
        assert_eq!(f.size, bytes.len() as u64);

        // The server serves it back, byte for byte.
        let rt = chatio_customer_sdk::runtime::default_runtime().expect("runtime");
        let client =
            chatio_transport::http::HttpClient::new(rt, Default::default(), std::time::Duration::from_secs(10))
                .with_max_response(16 << 20);
        let u = url::Url::parse(&url).expect("url");
        let req =
            http::Request::get(url.as_str()).body(chatio_transport::http::full(bytes::Bytes::new())).expect("req");
        let resp = client.send(&u, req).await.expect("download");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body.as_ref(), bytes.as_slice());
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn files_from_disk_and_their_errors() {
    run(async {
        let server = quiet_server().await;
        let (sdk, _events) = connect(&server).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
        let dir = std::env::temp_dir().join(format!("chatio-sdk-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("hello.txt");
        std::fs::write(&path, b"hello file").expect("write");
        let url = sdk.send_file(&chat.id, File::path(&path)).await.expect("upload from disk");
        assert!(url.ends_with(".txt"), "{url}");

        let e = sdk.send_file(&chat.id, File::path(dir.join("missing.txt"))).await.expect_err("missing file");
        // A missing file is the file system's answer, not bad arguments: a permanent
        // transport failure whose cause is the `io::Error`.
        assert!(matches!(&e, Error::Transport(t) if t.operation() == chatio_customer_sdk::Operation::ReadFile), "{e}");
        assert!(!e.is_transient());
        let io = std::error::Error::source(&e)
            .and_then(std::error::Error::source)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .expect("the io::Error in the chain");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        let big = vec![0u8; 10 * 1024 * 1024 + 1];
        let e = sdk.send_file(&chat.id, File::bytes("big.bin", big)).await.expect_err("too big");
        assert!(matches!(&e, Error::InvalidArgs { reason } if reason.contains("too big")), "{e}");
        let e = sdk
            .send_file(&chatio_customer_sdk::ChatId::new("NOPE"), File::bytes("a.txt", &b"x"[..]))
            .await
            .expect_err("not my chat");
        assert!(matches!(e, Error::Server { kind: chatio_customer_sdk::ErrorType::Authorization, .. }), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn an_upload_can_be_cancelled() {
    run(async {
        let server = quiet_server().await;
        let (sdk, _events) = connect(&server).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
        // Cancel as soon as the first chunk has gone: the outcome is `Cancelled`, and the
        // server never stores the event.
        let canceller: Arc<Mutex<Option<chatio_customer_sdk::Canceller>>> = Arc::default();
        let c2 = canceller.clone();
        let upload = sdk
            .send_file(&chat.id, File::bytes("big.bin", vec![7u8; 8 * 1024 * 1024]))
            .on_progress(move |p| {
                if p > 0.0 && p < 1.0 {
                    if let Some(c) = c2.lock().expect("lock").as_ref() {
                        c.cancel();
                    }
                }
            })
            .start();
        *canceller.lock().expect("lock") = Some(upload.canceller());
        let e = upload.await.expect_err("cancelled");
        assert!(matches!(e, Error::Cancelled), "{e}");
        // A cancel before the start also works.
        let up = sdk.send_file(&chat.id, File::bytes("b.bin", vec![1u8; 10])).start();
        up.cancel();
        assert!(matches!(up.await, Err(Error::Cancelled)));
        let stored = server.chat_events(100, chat.id.as_str());
        assert!(stored.iter().all(|e| !matches!(e.kind, EventKind::File(_))), "no file event was stored");
        sdk.destroy().await;
        server.shutdown().await;
    });
}
