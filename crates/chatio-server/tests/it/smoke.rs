use chatio_server::Server;
use serde_json::json;

use crate::client::Client;

#[tokio::test]
async fn a_conversation() {
    let server = Server::builder().ephemeral().seed(1).start().await.unwrap();
    let (mut c, _token, _customer) = Client::customer(&server).await;
    let s = c.request("get_chats_summary", json!({})).await;
    println!("{s}");
    let (chat, _thread) = c.start_chat("hello").await;
    let r = c.request("send_event", json!({"chat_id": chat, "event": {"type":"message","text":"/rich"}})).await;
    println!("{r}");
    for _ in 0..12 {
        let v = c.recv().await;
        println!("{v}");
    }
    server.shutdown().await;
}
