//! The agents' routing state across a restart on the same data directory (issue 22, H33):
//! an agent's status and chats, the queue of waiting chats in its order, and a grace period
//! that was running — over real sockets, the first with the server binary killed by SIGKILL.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::agent_api::agent;
use crate::client::{Client, LICENSE, WAIT, builder};
use crate::kill::{ServerProc, new_token};

const JANE: &str = "jane@example.com";
const JANE_TOKEN: &str = "jane-restart-token-0123456789";
const JOHN: &str = "john@example.com";
const JOHN_TOKEN: &str = "john-restart-token-0123456789";

/// An agent logged in on the binary at `addr` (with `reconnect`); the login payload.
async fn agent_at(addr: std::net::SocketAddr, token: &str, reconnect: bool) -> (Client, Value) {
    let mut a = Client::connect(&format!("ws://{addr}/agent/v0.5/rtm/ws")).await;
    let p = a.ok("login", json!({"token": format!("Bearer {token}"), "reconnect": reconnect})).await;
    (a, p)
}

/// A new customer logged in on the binary at `addr`.
async fn customer_at(addr: std::net::SocketAddr) -> Client {
    let token = new_token(addr).await;
    let mut c = Client::connect(&format!("ws://{addr}/customer/v0.5/rtm/ws?license_id={LICENSE}")).await;
    c.ok("login", json!({"token": format!("Bearer {token}")})).await;
    c
}

/// The chat an agent was added to by a `chat_users_updated` push, if this frame is one.
fn joined(v: &Value, agent: &str) -> Option<String> {
    let added = v["payload"]["updated_users"]["agents"]["added"].as_array()?;
    (v["action"] == "chat_users_updated" && added.iter().any(|u| u["id"] == agent))
        .then(|| v["payload"]["chat_id"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn after_a_sigkill_the_agent_finds_its_status_its_chats_and_the_queue_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--agent-token", &format!("{JANE}={JANE_TOKEN}")];
    let server = ServerProc::start_with(dir.path(), 0, &args).await;
    let (mut jane, _) = agent_at(server.addr, JANE_TOKEN, false).await;
    let mut c = customer_at(server.addr).await;
    let (routed, _) = c.start_chat("first").await;
    jane.frame(|v| joined(v, JANE).as_deref() == Some(routed.as_str())).await;
    jane.ok("update_agent", json!({"routing_status": "not_accepting_chats"})).await;
    // Nobody accepts chats: two chats wait, in this order (answered = stored).
    let (second, _) = c.start_chat("second").await;
    let (third, _) = c.start_chat("third").await;
    let port = server.addr.port();
    server.kill().await;
    drop((jane, c));

    let server = ServerProc::start_with(dir.path(), port, &args).await;
    let (mut jane, p) = agent_at(server.addr, JANE_TOKEN, true).await;
    assert_eq!(
        p["my_profile"]["routing_status"], "not_accepting_chats",
        "a reconnect inside the grace period keeps the status it had before the kill (H21): {p}"
    );
    let summary = |id: &str| p["chats_summary"].as_array().unwrap().iter().find(|s| s["id"] == id).cloned();
    let users =
        |id: &str| summary(id).map(|s| s["users"].as_array().unwrap().iter().map(|u| u["id"].clone()).collect());
    let users: Option<Vec<Value>> = users(&routed);
    assert!(users.is_some_and(|u| u.contains(&json!(JANE))), "Jane is still in the chat routed to her: {p}");
    // Accepting again: the queue, as it was, comes to her oldest first.
    jane.ok("update_agent", json!({"routing_status": "accepting_chats"})).await;
    let mut got = Vec::new();
    while got.len() < 2 {
        let v = tokio::time::timeout(WAIT, jane.frame(|v| joined(v, JANE).is_some()))
            .await
            .unwrap_or_else(|_| panic!("the queued chats were not routed after the restart (got {got:?})"));
        got.extend(joined(&v, JANE));
    }
    assert_eq!(got, [second, third], "the queue kept its order across the kill");
    server.kill().await;
}

#[tokio::test]
async fn a_grace_period_running_at_a_restart_goes_on_and_ends_with_the_chat_routed_again() {
    const GRACE: Duration = Duration::from_secs(3);
    let dir = tempfile::tempdir().unwrap();
    let on = || {
        builder()
            .agent(false)
            .data_dir(dir.path())
            .agent_grace(GRACE)
            .agent_token(LICENSE, JANE, JANE_TOKEN)
            .agent_token(LICENSE, JOHN, JOHN_TOKEN)
            .start()
    };
    let server = on().await.expect("server starts");
    let (jane, _) = agent(&server, JANE_TOKEN).await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hello").await;
    // Jane's only connection closes: her grace period starts, then the server stops.
    jane.close().await;
    let gone = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(c);
    server.shutdown().await;

    let server = on().await.expect("server starts again");
    let (mut john, p) = agent(&server, JOHN_TOKEN).await;
    let summary = p["chats_summary"].as_array().unwrap().iter().find(|s| s["id"] == chat.as_str()).cloned();
    let users: Vec<Value> =
        summary.map(|s| s["users"].as_array().unwrap().iter().map(|u| u["id"].clone()).collect()).unwrap_or_default();
    assert!(
        users.contains(&json!(JANE)) && !users.contains(&json!(JOHN)),
        "the chat stays Jane's while her grace period runs: {p}"
    );
    let v = tokio::time::timeout(WAIT, john.frame(|v| joined(v, JOHN).as_deref() == Some(chat.as_str())))
        .await
        .expect("Jane's grace period ended after the restart and her chat went to John");
    assert!(
        gone.elapsed() >= GRACE - Duration::from_secs(1),
        "not before the grace period (whole seconds) is over: {:?}, {v}",
        gone.elapsed()
    );
    let p = john.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": []})).await;
    let users: Vec<Value> = p["chat"]["users"].as_array().unwrap().iter().map(|u| u["id"].clone()).collect();
    assert!(!users.contains(&json!(JANE)), "Jane is out of the chat: {p}");
}
