//! The kill-9 soak of the SDK (`cargo xtask soak --sdk-kill`): a client process — this test
//! binary run again as `kill_soak::soak_client`, our SDK on an SQLite store, the default
//! identity (a new customer, then resumed by the refresh token it keeps) — sends messages
//! into one chat, a few in flight, and is killed with SIGKILL at a random moment, then started
//! again on the same store; N cycles, against the `chatio-server` binary on a data directory.
//! A message counts as accepted when the client printed it *after* `send_message` returned.
//! At the end a last client drains the outbox, the server is killed too, and its data
//! directory is opened again: the chat must hold every accepted message exactly once, and
//! every message in the order it was sent (none twice); the client must have stayed the same
//! customer throughout — also when a kill landed between the server's rotation of its
//! refresh token and the client keeping the new one (G39; the server's tokens live 2 s and
//! its refresh answers come 200 ms late, so some kills do; it logs each, the soak counts them).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chatio_customer_sdk::{ChatId, Config, CustomerSdk, SdkEvent, StartChat};
use chatio_server::Server;
use futures::StreamExt;

use crate::child::ChildProcess;
use crate::store::{temp_store, texts};
use crate::support::{WAIT, run, wait};

const TEST: &str = "kill_soak::soak_client";

/// The soak's parameters: `CHATIO_SDK_KILL_CYCLES` (20), `CHATIO_SDK_KILL_WINDOW` (messages
/// in flight, 4), `CHATIO_SDK_KILL_MAX_MS` (a kill comes 0 to this many ms after the client's
/// start, 1 500), `CHATIO_SERVER_BIN` (required: the server binary).
#[test]
#[ignore = "a soak with the server binary: cargo xtask soak --sdk-kill [--cycles N]"]
fn sdk_kill_soak() {
    let num = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (cycles, window, max_ms) =
        (num("CHATIO_SDK_KILL_CYCLES", 20), num("CHATIO_SDK_KILL_WINDOW", 4), num("CHATIO_SDK_KILL_MAX_MS", 1_500));
    let bin = std::env::var("CHATIO_SERVER_BIN").expect("CHATIO_SERVER_BIN: the chatio-server binary to run");
    let seed =
        num("CHATIO_SDK_KILL_SEED", std::time::SystemTime::UNIX_EPOCH.elapsed().map_or(1, |d| d.as_nanos() as u64));
    let store = temp_store("kill-soak");
    let dir = store.parent().expect("dir").to_owned();
    let data = dir.join("server");
    let mut server = ServerProc::start(&bin, &data);
    let url = server.url();
    let mut rng = Rng(seed | 1);
    let mut log = Log::default();

    // The first client makes the chat (and the customer), unkilled.
    let mut first = Client::start(&url, &store, None, 0, window);
    let chat = first.until(&mut log, |l| l.strip_prefix("chat ").map(ChatId::new));
    first.child.kill9();
    first.drain(&mut log);
    for cycle in 0..cycles {
        let mut c = Client::start(&url, &store, Some(&chat), log.next, window);
        let at = Instant::now() + Duration::from_millis(rng.below(max_ms + 1));
        c.pump(&mut log, at);
        c.child.kill9();
        c.drain(&mut log);
        log.cycles = cycle + 1;
        log.kills += 1;
    }
    // The last client delivers what the store still holds, then ends.
    let mut last = Client::start(&url, &store, Some(&chat), log.next, 0);
    last.until(&mut log, |l| (l == "drained").then_some(()));
    assert!(last.child.wait().success(), "the last client ends cleanly");
    last.drain(&mut log);
    server.kill();
    // The server logs each rotation whose answer a killed client lost (G39).
    let log_text = std::fs::read_to_string(data.with_extension("log")).expect("the server's log");
    let lost_rotations = log_text.lines().filter(|l| l.contains("its client: the secret it used last")).count();

    // What the server kept, read from its data directory by the library.
    let stored: Vec<String> = run_get(move || async move {
        let s = Server::builder().ephemeral().agent(false).data_dir(&data).start().await.expect("the server reopens");
        let t = texts(&s, &chat);
        s.shutdown().await;
        t
    });
    let seqs: Vec<u64> =
        stored.iter().map(|t| t.strip_prefix("m-").and_then(|n| n.parse().ok()).expect("m-N")).collect();
    let duplicated = seqs.len() - seqs.iter().collect::<BTreeSet<_>>().len();
    let lost: Vec<u64> = log.accepted.iter().filter(|n| !seqs.contains(n)).copied().collect();
    let in_order = seqs.windows(2).all(|w| w[0] < w[1]);
    println!(
        "sdk kill soak (seed {seed}): {} cycles ({} kills while sending), window {window}: {} messages accepted, {} stored \
         ({} of them unanswered before a kill), lost {}, duplicated {duplicated}, in order: {in_order}; \
         one customer throughout: {} ({lost_rotations} refresh answers lost by a kill, recovered)",
        log.cycles,
        log.kills,
        log.accepted.len(),
        seqs.len(),
        seqs.len().saturating_sub(log.accepted.len()),
        lost.len(),
        log.customers.len() == 1,
    );
    assert!(lost.is_empty(), "accepted but not stored: {lost:?}");
    assert_eq!(duplicated, 0, "stored twice: {:?}", seqs.windows(2).filter(|w| w[0] == w[1]).collect::<Vec<_>>());
    assert!(in_order, "out of order: {:?}", seqs.windows(2).filter(|w| w[0] >= w[1]).collect::<Vec<_>>());
    assert_eq!(log.customers.len(), 1, "the client stayed one customer: {:?}", log.customers);
    assert!(log.accepted.len() as u64 >= log.cycles / 2, "the clients got messages through: {}", log.accepted.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs an async block on the test runtime and returns its value.
fn run_get<T: Send + 'static, F: std::future::Future<Output = T> + Send + 'static>(f: impl FnOnce() -> F) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let fut = f();
    run(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().expect("the block ran")
}

/// What the clients printed, over every cycle.
#[derive(Default)]
struct Log {
    /// Returned `Ok` from `send_message`.
    accepted: BTreeSet<u64>,
    /// The next sequence number a client may use (above every one handed to `send_message`).
    next: u64,
    customers: BTreeSet<String>,
    cycles: u64,
    kills: u64,
}

impl Log {
    fn line(&mut self, l: &str) {
        let num = |s: &str| s.parse::<u64>().unwrap_or_else(|_| panic!("a number: {l}"));
        if let Some(n) = l.strip_prefix("send ") {
            self.next = self.next.max(num(n) + 1);
        } else if let Some(n) = l.strip_prefix("ok ") {
            self.accepted.insert(num(n));
        } else if let Some(c) = l.strip_prefix("customer ") {
            self.customers.insert(c.to_owned());
        } else if l.starts_with("error ") {
            panic!("the client failed: {l}");
        }
    }
}

struct Client {
    child: ChildProcess,
}

impl Client {
    fn start(url: &str, store: &Path, chat: Option<&ChatId>, next: u64, window: u64) -> Self {
        let mut env = vec![
            ("CHATIO_SOAK_URL", url.to_owned()),
            ("CHATIO_SOAK_STORE", store.to_str().expect("a UTF-8 temp path").to_owned()),
            ("CHATIO_SOAK_NEXT", next.to_string()),
            ("CHATIO_SOAK_WINDOW", window.to_string()),
        ];
        if let Some(c) = chat {
            env.push(("CHATIO_SOAK_CHAT", c.as_str().to_owned()));
        }
        Self { child: ChildProcess::start(TEST, &env) }
    }

    /// Reads lines until `f` matches one (generous: CI shares two loaded cores).
    fn until<T>(&mut self, log: &mut Log, mut f: impl FnMut(&str) -> Option<T>) -> T {
        loop {
            let l = self.child.lines.recv_timeout(WAIT * 4).expect("the client said nothing in time");
            log.line(&l);
            if let Some(t) = f(&l) {
                return t;
            }
        }
    }

    /// Reads lines until `at`.
    fn pump(&mut self, log: &mut Log, at: Instant) {
        while let Some(left) = at.checked_duration_since(Instant::now()) {
            match self.child.lines.recv_timeout(left) {
                Ok(l) => log.line(&l),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("the client ended by itself"),
            }
        }
    }

    /// After its end: the lines it wrote before (the pipe keeps them).
    fn drain(&mut self, log: &mut Log) {
        while let Ok(l) = self.child.lines.recv_timeout(WAIT) {
            log.line(&l);
        }
    }
}

/// The server binary on a data directory.
struct ServerProc {
    child: std::process::Child,
    port: u16,
}

impl ServerProc {
    fn start(bin: &str, data: &Path) -> Self {
        let log = std::fs::File::create(data.with_extension("log")).expect("the server's log");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(bin)
            // Access tokens of 2 s: the client refreshes every second (at half the lifetime),
            // and each refresh is answered 200 ms after its rotation was stored, so kills often
            // land between the server's rotation and the client keeping the new secret (G39).
            .args(["--listen", &format!("127.0.0.1:{port}"), "--no-agent", "--token-lifetime", "2"])
            .args(["--conformance-fault", "slow-refresh", "--data"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start chatio-server");
        let deadline = Instant::now() + WAIT * 4;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the server did not listen in time");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// xorshift64: the kill moments, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The client (run only as the soak's child process): sends `m-N` from `CHATIO_SOAK_NEXT`
/// on, `CHATIO_SOAK_WINDOW` in flight, printing `send N` before each call and `ok N` after
/// it returned; with a window of 0 it waits for its outbox to drain and ends.
#[test]
#[ignore = "the child process of sdk_kill_soak"]
fn soak_client() {
    let Ok(store) = std::env::var("CHATIO_SOAK_STORE") else { return };
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k}"));
    let url = var("CHATIO_SOAK_URL");
    let next: u64 = var("CHATIO_SOAK_NEXT").parse().expect("next");
    let window: usize = var("CHATIO_SOAK_WINDOW").parse().expect("window");
    let chat = std::env::var("CHATIO_SOAK_CHAT").ok().map(ChatId::new);
    run(async move {
        let rt = chatio_customer_sdk::runtime::default_runtime().expect("runtime");
        let cfg = Config::new(100, "sdk-kill-soak").server(url).store_path(store);
        let sdk = CustomerSdk::init(cfg).expect("init");
        let mut events = sdk.events();
        wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
        println!("child: customer {}", sdk.customer_id().expect("logged in"));
        let chat = match chat {
            Some(c) => c,
            None => {
                let c = sdk.start_chat(StartChat::new()).await.expect("start_chat").id;
                println!("child: chat {c}");
                c
            }
        };
        if window == 0 {
            while sdk.outbox_len() > 0 {
                rt.sleep_until(rt.now() + Duration::from_millis(10)).await;
            }
            println!("child: drained");
            sdk.destroy().await;
            return;
        }
        let report = |(n, r): (u64, Result<chatio_customer_sdk::Event, chatio_customer_sdk::Error>)| match r {
            Ok(_) => println!("child: ok {n}"),
            Err(e) => println!("child: error {n} {e}"),
        };
        let mut flight = futures::stream::FuturesUnordered::new();
        let mut seq = next;
        loop {
            while flight.len() < window {
                println!("child: send {seq}");
                let n = seq;
                let (sdk, chat) = (&sdk, &chat);
                let mut call = Box::pin(async move { (n, sdk.send_message(chat, format!("m-{n}")).await) });
                // Polled once here, so the calls reach the session in the order of their numbers.
                match futures::poll!(call.as_mut()) {
                    std::task::Poll::Ready(done) => report(done),
                    std::task::Poll::Pending => flight.push(call),
                }
                seq += 1;
                rt.sleep_until(rt.now() + Duration::from_millis(5)).await;
            }
            if let Some(done) = flight.next().await {
                report(done);
            }
        }
    });
}
