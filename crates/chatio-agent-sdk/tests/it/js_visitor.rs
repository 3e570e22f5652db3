//! Cross-client: the real `@livechat/chat.io-customer-sdk` 0.9.1 as the visitor (in Node,
//! `tests/js/visitor.js`, on the server's JS harness), answered by an agent on this SDK. The
//! package and `ws` are installed with npm into `target/js-sdk/` (the same place and way as
//! the server's JS SDK tests). Ignored in a plain `cargo test`; run with `--include-ignored`,
//! it is skipped with a message when node or npm is missing or the
//! install fails, unless `CHATIO_JS_REQUIRED=1` (`cargo xtask ci`), which makes it a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chatio_agent_sdk::{AgentEvent, EventKind};

use crate::support::*;

const SDK: &str = "@livechat/chat.io-customer-sdk@0.9.1";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ok(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() { Ok(()) } else { Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr))) }
}

/// `target/js-sdk/` with the package and `ws` installed.
fn js_sdk() -> Result<PathBuf, String> {
    for tool in ["node", "npm"] {
        ok(Command::new(tool).arg("--version").stdout(Stdio::null()))
            .map_err(|_| format!("{tool} is not installed"))?;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from);
    let dir = target.join("js-sdk");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if !dir.join("package/dist/chat.io-customer-sdk.js").exists() {
        ok(Command::new("npm").args(["pack", SDK, "--silent"]).current_dir(&dir))?;
        ok(Command::new("tar").args(["xzf", "livechat-chat.io-customer-sdk-0.9.1.tgz"]).current_dir(&dir))?;
    }
    if !dir.join("node_modules/ws/package.json").exists() {
        std::fs::write(dir.join("package.json"), r#"{"name":"chatio-js-sdk-tests","version":"1.0.0","private":true}"#)
            .map_err(|e| e.to_string())?;
        ok(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--silent", "ws@8"]).current_dir(&dir))?;
    }
    Ok(dir)
}

/// The Node process, killed on drop (its output printed when the test failed).
struct Node {
    child: std::process::Child,
    log: PathBuf,
}

impl Node {
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("the JS visitor's output:\n{}", self.output());
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

#[test]
#[ignore = "needs Node and npm (installs the JS SDK 0.9.1): cargo test -p chatio-agent-sdk --test it js_visitor -- --include-ignored"]
fn the_js_sdk_visitor_is_answered_by_our_agent() {
    let dir = match js_sdk() {
        Ok(d) => d,
        Err(why) => {
            let required = std::env::var("CHATIO_JS_REQUIRED").is_ok_and(|v| v == "1");
            assert!(!required, "CHATIO_JS_REQUIRED=1 but {why}");
            return eprintln!("SKIPPED the JS SDK visitor test: {why}");
        }
    };
    run(async move {
        let server = server().await;
        let (jane, mut events) = agent(&server, JANE_TOKEN).await;
        let origin = server.http_url().trim_end_matches('/').to_owned();
        let log = std::env::temp_dir().join(format!("chatio-agent-js-visitor-{}.log", std::process::id()));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new("node")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/visitor.js"))
            .arg(dir.join("package"))
            .arg(&origin)
            .arg(dir.join("node_modules/ws"))
            .arg(workspace().join("crates/chatio-server/tests/js"))
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("node starts");
        let mut node = Node { child, log };

        // The router gives Jane the visitor's chat; its first message arrives live.
        let chat = on_agent(&mut events, "the JS visitor's chat", |e| match e {
            AgentEvent::IncomingChat(c) => Some(c.id.clone()),
            _ => None,
        })
        .await;
        let hello = on_agent(&mut events, "the JS visitor's first message", |e| match e {
            AgentEvent::NewEvent(ev) if ev.chat == chat => match &ev.kind {
                EventKind::Message(m) => Some(m.text.clone()),
                _ => None, // the router's "Chat assigned to …"
            },
            _ => None,
        })
        .await;
        assert_eq!(hello, "Hello from the JS SDK");
        let me = jane.my_id().expect("logged in");
        let visitor = jane.chat(&chat).await.unwrap().and_then(|c| c.customer().and_then(|u| u.name.clone()));
        assert_eq!(visitor.as_deref(), Some("Jo from Node"), "the JS SDK's update_customer reached the agent");

        jane.send_message(&chat, "Hi Jo, Jane here. How can I help?").await.unwrap();
        let question = on_agent(&mut events, "the JS visitor's answer", |e| match e {
            AgentEvent::NewEvent(ev) if ev.chat == chat && ev.author.as_ref() != Some(&me) => match &ev.kind {
                EventKind::Message(m) => Some(m.text.clone()),
                _ => None,
            },
            _ => None,
        })
        .await;
        assert_eq!(question, "Where is my parcel?");
        jane.send_message(&chat, "It left the warehouse today.").await.unwrap();
        jane.close_thread(&chat).await.unwrap();

        let status = within("the JS visitor to finish", async {
            loop {
                if let Some(status) = node.child.try_wait().expect("node's status") {
                    return status;
                }
                let rt = chatio_agent_sdk::runtime::default_runtime().expect("a runtime");
                rt.sleep_until(rt.now() + std::time::Duration::from_millis(100)).await;
            }
        })
        .await;
        let out = node.output();
        eprintln!("{out}");
        assert!(status.success(), "the JS visitor failed ({status}):\n{out}");
        assert_eq!(out.lines().filter(|l| l.starts_with("ok - ")).count(), 5, "{out}");
        jane.destroy().await;
        server.shutdown().await;
    });
}
