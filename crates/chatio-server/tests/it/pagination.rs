//! Pagination boundaries: `get_chats_summary` (4.2, D4) and `get_chat_threads_summary`
//! (4.4, D3), whose offset counts from the newest thread.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::client::{Client, quiet_server};

fn ids(page: &Value, key: &str) -> Vec<String> {
    page[key].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn chats_summary_pages_newest_activity_first() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let mut created = Vec::new();
    for i in 0..27 {
        created.push(c.start_chat(&format!("chat {i}")).await.0);
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    let page = |offset: Option<u64>, limit: Option<u64>| {
        let mut p = json!({});
        if let Some(o) = offset {
            p["offset"] = json!(o);
        }
        if let Some(l) = limit {
            p["limit"] = json!(l);
        }
        p
    };
    // Defaults: offset 0, limit 10.
    let p = c.ok("get_chats_summary", page(None, None)).await;
    assert_eq!(p["total_chats"], 27);
    assert_eq!(ids(&p, "chats_summary"), newest_first[..10]);
    // The limit is clamped to 25.
    let p = c.ok("get_chats_summary", page(Some(0), Some(100))).await;
    assert_eq!(ids(&p, "chats_summary"), newest_first[..25]);
    // The last partial page, the exact end, beyond the end.
    let p = c.ok("get_chats_summary", page(Some(25), Some(25))).await;
    assert_eq!(ids(&p, "chats_summary"), newest_first[25..]);
    for offset in [27, 1000] {
        let p = c.ok("get_chats_summary", page(Some(offset), Some(5))).await;
        assert_eq!(p["chats_summary"], json!([]));
        assert_eq!(p["total_chats"], 27);
    }
    // Pages of one cover everything exactly once.
    let mut seen = Vec::new();
    for offset in 0..27 {
        seen.extend(ids(&c.ok("get_chats_summary", page(Some(offset), Some(1))).await, "chats_summary"));
    }
    assert_eq!(seen, newest_first);
    // Activity moves a chat to the front.
    let oldest = created[0].clone();
    c.say(&oldest, "I'm back").await;
    let p = c.ok("get_chats_summary", page(None, Some(2))).await;
    assert_eq!(ids(&p, "chats_summary"), [oldest, newest_first[0].clone()]);
    // Only the customer's own chats are counted.
    let mut other = Client::customer(&server).await;
    let p = other.ok("get_chats_summary", json!({})).await;
    assert_eq!((p["total_chats"].as_u64(), p["chats_summary"].clone()), (Some(0), json!([])));
}

#[tokio::test]
async fn threads_summary_pages_count_from_the_newest_thread() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, first) = c.start_chat("thread 1").await;
    let mut threads = vec![first];
    for i in 2..=7 {
        c.ok("close_thread", json!({"chat_id": chat})).await;
        threads.push(c.say(&chat, &format!("thread {i}")).await["thread_id"].as_str().unwrap().to_owned());
    }
    c.say(&chat, "a second event in thread 7").await;
    let summary = |offset: u64, limit: u64| json!({"chat_id": chat, "offset": offset, "limit": limit});
    // Offset 0 is the most recent page; within a page, ascending by order.
    let p = c.ok("get_chat_threads_summary", summary(0, 3)).await;
    assert_eq!(p["total_threads"], 7);
    assert_eq!(ids(&p, "threads_summary"), threads[4..7]);
    let items = p["threads_summary"].as_array().unwrap();
    assert_eq!(items.iter().map(|t| t["order"].as_u64().unwrap()).collect::<Vec<_>>(), [5, 6, 7]);
    assert_eq!(items.iter().map(|t| t["total_events"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 1, 2]);
    // D2: both names, the JS SDK 0.9.1 reads only `events_count`.
    assert_eq!(items.iter().map(|t| t["events_count"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 1, 2]);
    let p = c.ok("get_chat_threads_summary", summary(3, 3)).await;
    assert_eq!(ids(&p, "threads_summary"), threads[1..4]);
    let p = c.ok("get_chat_threads_summary", summary(6, 3)).await;
    assert_eq!(ids(&p, "threads_summary"), threads[..1]);
    for offset in [7, 50] {
        let p = c.ok("get_chat_threads_summary", summary(offset, 3)).await;
        assert_eq!((p["threads_summary"].clone(), p["total_threads"].as_u64()), (json!([]), Some(7)));
    }
    // Default limit 25: everything.
    let p = c.ok("get_chat_threads_summary", json!({"chat_id": chat})).await;
    assert_eq!(ids(&p, "threads_summary"), threads);
    let e = c.fails("get_chat_threads_summary", summary(0, 0), "validation").await;
    assert!(e["message"].as_str().unwrap().contains("limit"), "{e}");
    c.fails("get_chat_threads_summary", json!({"chat_id": "NOSUCHCHAT"}), "authorization").await;
}

#[tokio::test]
async fn threads_summary_limit_is_clamped_to_100() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("1").await;
    // 101 threads, pipelined: close, then write (opens the next thread).
    for i in 2..=101 {
        c.send_request("close_thread", json!({"chat_id": chat})).await;
        c.send_request("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": i.to_string()}}))
            .await;
    }
    let p = c.ok("get_chat_threads_summary", json!({"chat_id": chat, "limit": 1000})).await;
    assert_eq!(p["total_threads"], 101);
    let orders: Vec<u64> =
        p["threads_summary"].as_array().unwrap().iter().map(|t| t["order"].as_u64().unwrap()).collect();
    assert_eq!(orders, (2..=101).collect::<Vec<_>>());
    let p = c.ok("get_chat_threads_summary", json!({"chat_id": chat, "offset": 100, "limit": 1000})).await;
    let orders: Vec<u64> =
        p["threads_summary"].as_array().unwrap().iter().map(|t| t["order"].as_u64().unwrap()).collect();
    assert_eq!(orders, [1]);
    let unique: HashSet<String> = server.chat_events(100, &chat).iter().map(|e| e.id.to_string()).collect();
    assert_eq!(unique.len(), 101, "one event per thread, ids never reused");
}
