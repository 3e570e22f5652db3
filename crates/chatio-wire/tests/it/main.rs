use chatio_wire::*;
#[test]
fn scratch() {
    for f in [
        r#"{"request_id":"k3","action":"send_event","payload":{"chat_id":"OU0V0P0OWT","event":{"type":"message","text":"hi"}}}"#,
        r#"{"payload":{"chat_id":"OU0V0P0OWT","event":{"type":"message","text":"hi"}},"id":5,"action":"send_event"}"#,
        r#"{"action":"ping"}"#,
        r#"{"action":"get_chats_summary"}"#,
        r#"{"action":"frobnicate","payload":{"a": 1}}"#,
        r#"{"request_id":"k3","action":"send_event","payload":{"chat_id":"OU0V0P0OWT","event":{"type":"message","text":5}}}"#,
        r#"{"request_id":"k3","action":"send_event","payload":{"chat_id":"OU0V0P0OWT"}}"#,
        r#"{"request_id":"k3","payload":{}}"#,
        r#"[1,2]"#,
        r#"{"request_id":"k3","#,
        r#"{"request_id":{},"action":"ping"}"#,
    ] {
        println!(
            "{f}\n  => {:?}",
            ClientFrame::decode(f).map(|f| f.encode()).map_err(|e| (
                e.to_string(),
                e.kind(),
                e.field().map(str::to_owned),
                e.request_id().cloned()
            ))
        );
    }
    for f in [
        r#"{"request_id":"k3j2l1x9q","action":"send_event","type":"response","success":true,"payload":{"thread_id":"OU0V0U3IMN","event":{"id":"OU0V0U3IMN_3","order":3,"type":"message","author_id":"b7","timestamp":1520000000,"text":"hi"}}}"#,
        r#"{"request_id":"k3j2l1x9q","action":"send_event","type":"response","success":false,"payload":{"error":{"type":"validation","message":"Wrong format of request"}}}"#,
        r#"{"payload":{"error":{"type":"validation","message":"Wrong"}},"action":"send_event","type":"response"}"#,
        r#"{"action":"close_thread","type":"response","success":true}"#,
        r#"{"action":"incoming_typing_indicator","type":"push","payload":{"chat_id":"OU0V0P0OWT","typing_indicator":{"author_id":"75a9","timestamp":1520000000}}}"#,
        r#"{"action":"chat_users_updated","type":"push","payload":{"chat_id":"C","updated_users":{"agents":{"added":[{"id":"a","type":"agent"}],"removed_ids":[]},"customers":{"added":[],"removed_ids":["x"]}}}}"#,
        r#"{"action":"brand_new_push","type":"push","payload":{"x":[1, 2]}}"#,
        r#"{"action":"","type":"response","success":false,"payload":{"error":{"type":"validation","message":"bad"}}}"#,
        r#"{"action":"customer_disconnected","type":"push","payload":{"reason":"something_new"}}"#,
        r#"{"action":"incoming_event","type":"push","payload":{"chat_id":"C","event":{"id":"E","order":1,"timestamp":1,"type":"file","name":"a"}}}"#,
    ] {
        println!("{f}\n  => {:?}", ServerFrame::decode(f).map(|f| f.encode()).map_err(|e| e.to_string()));
    }
    println!(
        "{:?}",
        Request::decode_web_body("send_event", br#"{"payload":{"chat_id":"C","event":{"type":"message","text":"x"}}}"#)
    );
    println!(
        "{:?}",
        Request::decode_web_body("send_event", br#"{"chat_id":"C","event":{"type":"message"}}"#)
            .map_err(|e| e.to_string())
    );
    println!("{:?}", Response::decode_web("send_file", br#"{"url":"http://x"}"#));
    println!(
        "{:?}",
        Response::decode_web(
            "send_file",
            br#"{"action":"send_file","type":"response","success":true,"payload":{"url":"http://x"}}"#
        )
    );
    println!(
        "{:?}",
        Response::decode_web(
            "send_file",
            br#"{"success":false,"payload":{"error":{"type":"validation","message":"too big"}}}"#
        )
    );
}
