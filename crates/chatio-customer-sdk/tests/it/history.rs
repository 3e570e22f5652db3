//! History paging across several threads, with `next()` and as a `Stream`.

use chatio_customer_sdk::{Config, CustomerSdk, SdkEvent, StartChat};
use futures::{FutureExt, StreamExt};

use crate::support::*;

/// A chat with `threads` threads of `per_thread` customer messages each.
async fn chat_with_threads(sdk: &CustomerSdk, threads: usize, per_thread: usize) -> chatio_customer_sdk::ChatId {
    let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat");
    for t in 0..threads {
        for m in 0..per_thread {
            sdk.send_message(&chat.id, &format!("t{t} m{m}")).await.expect("send");
        }
        sdk.close_thread(&chat.id).await.expect("close");
    }
    chat.id
}

#[test]
fn pages_go_back_thread_by_thread_to_the_first() {
    run(async {
        let server = quiet_server().await;
        let (sdk, mut events) = connect_with(config(&server).history_page_events(5)).await;
        let chat = chat_with_threads(&sdk, 4, 3).await;
        let mut history = sdk.chat_history(&chat).await.expect("history");
        let mut pages = Vec::new();
        loop {
            let page = history.next_page().await.expect("page");
            let texts: Vec<String> = page.events.iter().filter_map(|e| e.text().map(str::to_owned)).collect();
            pages.push(texts);
            if page.done {
                break;
            }
        }
        // 5 events a page, whole threads of 3: two threads per page, newest first.
        assert_eq!(pages.len(), 2, "{pages:?}");
        assert_eq!(pages[0], ["t2 m0", "t2 m1", "t2 m2", "t3 m0", "t3 m1", "t3 m2"]);
        assert_eq!(pages[1], ["t0 m0", "t0 m1", "t0 m2", "t1 m0", "t1 m1", "t1 m2"]);
        assert!(history.is_done());
        let after = history.next_page().await.expect("after the end");
        assert!(after.done && after.events.is_empty());
        // Each loaded thread was announced.
        let mut summaries = 0;
        while summaries < 4 {
            wait(&mut events, "thread_summary", |e| {
                matches!(e, SdkEvent::ThreadSummary(t) if t.chat == chat).then_some(())
            })
            .await;
            summaries += 1;
        }
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn history_as_a_stream_with_many_threads() {
    run(async {
        let server = quiet_server().await;
        let (sdk, _events) = connect_with(Config::new(100, "h").server(server.http_url()).history_page_events(1)).await;
        // 30 threads: more than one batch of 25 summaries.
        let chat = chat_with_threads(&sdk, 30, 1).await;
        let history = sdk.chat_history(&chat).await.expect("history");
        let batches: Vec<Vec<chatio_customer_sdk::Event>> =
            history.map(|b| b.expect("batch")).collect::<Vec<_>>().await;
        assert_eq!(batches.len(), 30);
        let texts: Vec<String> = batches.iter().rev().flatten().filter_map(|e| e.text().map(str::to_owned)).collect();
        let expected: Vec<String> = (0..30).map(|t| format!("t{t} m0")).collect();
        assert_eq!(texts, expected);
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn a_chat_without_events_is_done_at_once() {
    run(async {
        let server = quiet_server().await;
        let (sdk, _events) = connect(&server).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
        let mut h = sdk.chat_history(&chat.id).await.expect("history");
        let page = h.next_page().await.expect("page");
        assert!(page.done);
        assert!(page.events.is_empty());
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn dropping_next_page_mid_load_loses_no_page() {
    run(async {
        let server = quiet_server().await;
        let (sdk, _events) = connect_with(config(&server).history_page_events(5)).await;
        let chat = chat_with_threads(&sdk, 4, 3).await;
        let mut history = sdk.chat_history(&chat).await.expect("history");
        // Start loading the first page, then give up on the future (as a `select!` or a
        // timeout would): the request is out, its page must not be lost.
        assert!(history.next_page().now_or_never().is_none(), "a page needs a round trip");
        let texts = |p: &chatio_customer_sdk::HistoryPage| -> Vec<String> {
            p.events.iter().filter_map(|e| e.text().map(str::to_owned)).collect()
        };
        let first = within("the first page", history.next_page()).await.expect("page");
        assert_eq!(texts(&first), ["t2 m0", "t2 m1", "t2 m2", "t3 m0", "t3 m1", "t3 m2"]);
        let second = within("the second page", history.next_page()).await.expect("page");
        assert_eq!(texts(&second), ["t0 m0", "t0 m1", "t0 m2", "t1 m0", "t1 m1", "t1 m2"]);
        assert!(second.done);
        sdk.destroy().await;
        server.shutdown().await;
    });
}
