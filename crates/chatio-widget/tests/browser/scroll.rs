//! Pictures that load after their row: a visitor reading at the end of the list stays at
//! the end; a visitor who scrolled up to read is not moved. The pictures come from a site of
//! the test's own that answers each one only when the test releases it, so "late" is a
//! moment the test chooses, not a race.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use chatio_agent_sdk::{EventKind, Image, NewEvent, RichElement, RichMessage};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use crate::support::*;

/// Tall pictures (`/N.svg`, 300×900), each answered once `release(N)` was called.
struct LatePictures {
    base: String,
    released: watch::Sender<u32>,
    asked: Arc<Mutex<BTreeSet<u32>>>,
}

impl LatePictures {
    async fn start() -> LatePictures {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let (released, _) = watch::channel(0u32);
        let asked = Arc::new(Mutex::new(BTreeSet::new()));
        let (tx, seen) = (released.clone(), asked.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let mut rx = tx.subscribe();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&got);
                    let n: u32 = head
                        .split_whitespace()
                        .nth(1)
                        .and_then(|p| p.trim_start_matches('/').strip_suffix(".svg"))
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    seen.lock().unwrap().insert(n);
                    if rx.wait_for(|r| *r >= n).await.is_err() {
                        return;
                    }
                    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" height=\"900\">\
                               <rect width=\"300\" height=\"900\" fill=\"#7a9cc6\"/></svg>";
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: image/svg+xml\r\ncontent-length: {}\r\n\
                         cache-control: no-store\r\nconnection: close\r\n\r\n{svg}",
                        svg.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                });
            }
        });
        LatePictures { base, released, asked }
    }

    fn url(&self, n: u32) -> String {
        format!("{}/{n}.svg", self.base)
    }

    fn release(&self, n: u32) {
        self.released.send_modify(|r| *r = (*r).max(n));
    }

    async fn until_asked(&self, n: u32) {
        let deadline = std::time::Instant::now() + WAIT;
        while !self.asked.lock().unwrap().contains(&n) {
            assert!(std::time::Instant::now() < deadline, "the browser never asked for picture {n}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// A card with picture `url`.
fn card_with(url: String, title: &str) -> NewEvent {
    let mut element = RichElement::new(title, Vec::new());
    element.image = Some(Image::new(url));
    NewEvent::new(EventKind::RichMessage(RichMessage::new("cards", vec![element])))
}

/// The list's scroll position, its distance from the end, and the height of the picture
/// of the card titled `title`, and whether that picture has loaded.
fn layout(title: &str) -> String {
    format!(
        "(() => {{ const m = document.getElementById('messages'); \
           const card = Array.from(document.querySelectorAll('.card')).find(c => c.textContent.includes({t})); \
           const img = card && card.querySelector('img'); \
           return {{ top: m.scrollTop, gap: m.scrollHeight - m.scrollTop - m.clientHeight, \
                    img: img ? Math.round(img.getBoundingClientRect().height) : null, \
                    loaded: !!img && img.complete && img.naturalWidth > 0 }}; }})()",
        t = json!(title)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn late_pictures_keep_the_end_in_view_and_leave_a_reader_where_they_are() {
    let Some(env) = env("the late pictures test") else { return };
    let server = server_with_agent(&env).await;
    let (jane, mut jev) = agent(&server).await;
    let pictures = LatePictures::start().await;
    let (_driver, c) = browser(&env, Screen::Desktop(440, 700)).await;
    c.goto(&format!("{}/widget/?new", server.http_url())).await.unwrap();
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected").await;
    say(&c, "Show me the plans").await;
    let chat = incoming_chat(&mut jev).await;
    // Enough rows that the list scrolls.
    for i in 1..=14 {
        jane.send_message(&chat, format!("Line {i} of the agent's long answer, so that the list scrolls."))
            .await
            .unwrap();
    }
    until(&c, &has_text(".row.other", "Line 14 of"), "the long answer").await;
    until(
        &c,
        "(m => m.scrollHeight > m.clientHeight + 200)(document.getElementById('messages'))",
        "a list that scrolls",
    )
    .await;

    // The widget reserves each picture's box (CSS); a picture whose box is not reserved
    // (a page's own style could do that) is kept in hand by re-sticking the list.
    check_late_pictures(&c, &jane, &chat, &pictures, 1, true).await;
    c.execute(
        // Through the CSSOM: the page's CSP refuses an inline <style>.
        "const s = document.styleSheets[0]; s.insertRule('.card-image { aspect-ratio: auto !important; height: auto !important; }', s.cssRules.length);",
        vec![],
    )
    .await
    .unwrap();
    check_late_pictures(&c, &jane, &chat, &pictures, 3, false).await;

    // Back at the end, the next message keeps it there.
    c.execute("const m = document.getElementById('messages'); m.scrollTop = m.scrollHeight;", vec![]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    jane.send_message(&chat, "Which one do you like?").await.unwrap();
    until(&c, &has_text(".row.other", "Which one do you like?"), "the question").await;
    until(&c, &format!("{}.gap < 2", layout("The second plan")), "the list at its end again").await;

    c.close().await.unwrap();
    jane.destroy().await;
    server.shutdown().await;
}

/// Two cards with late pictures `n` and `n + 1`: the first while the list is at its end
/// (it stays there), the second while the visitor has scrolled up (nothing moves). With
/// `reserved`, the pictures' boxes do not change when they load; without, they grow.
async fn check_late_pictures(
    c: &fantoccini::Client,
    jane: &chatio_agent_sdk::AgentSdk,
    chat: &chatio_agent_sdk::ChatId,
    pictures: &LatePictures,
    n: u32,
    reserved: bool,
) {
    let (first, second) = (format!("Plan {n}"), format!("Plan {}", n + 1));
    c.execute("const m = document.getElementById('messages'); m.scrollTop = m.scrollHeight;", vec![]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // the scroll event
    jane.send_event(chat, card_with(pictures.url(n), &first)).await.unwrap();
    until(c, &has_text(".card-title", &first), "the first card").await;
    pictures.until_asked(n).await;
    until(c, &format!("{}.gap < 2", layout(&first)), "the list at its end with the card").await;
    let before = js(c, &layout(&first)).await;
    assert_eq!(before["loaded"], json!(false), "the picture is late: {before}");
    pictures.release(n);
    until(c, &format!("{}.loaded", layout(&first)), "the first picture loaded").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // anything the load caused
    let after = js(c, &layout(&first)).await;
    eprintln!("reserved {reserved}: at the end, before and after the picture: {before} → {after}");
    if reserved {
        assert_eq!(after["img"], before["img"], "the picture's box changed when it loaded: {before} → {after}");
    } else {
        assert!(after["img"].as_f64() > before["img"].as_f64(), "the box was reserved after all: {before} → {after}");
    }
    assert!(after["gap"].as_f64().unwrap() < 2.0, "the list left its end when the picture loaded: {after}");

    // Scrolled up to read: a card arrives (its picture starts loading at once, as cards'
    // pictures do), then the picture loads. Neither moves what the visitor reads.
    c.execute("const m = document.getElementById('messages'); m.scrollTop = Math.round(m.scrollHeight / 3);", vec![])
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // the scroll event
    let reading = js(c, &layout(&first)).await;
    assert!(reading["gap"].as_f64().unwrap() > 200.0, "scrolled up: {reading}");
    jane.send_event(chat, card_with(pictures.url(n + 1), &second)).await.unwrap();
    until(c, &has_text(".card-title", &second), "the second card").await;
    pictures.until_asked(n + 1).await;
    let arrived = js(c, &layout(&second)).await;
    assert_eq!(arrived["top"], reading["top"], "a new card moved the reader: {reading} → {arrived}");
    pictures.release(n + 1);
    until(c, &format!("{}.loaded", layout(&second)), "the second picture loaded").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // anything the load caused
    let loaded = js(c, &layout(&second)).await;
    eprintln!("reserved {reserved}: scrolled up, the card and its picture: {reading} → {arrived} → {loaded}");
    assert_eq!(loaded["top"], reading["top"], "the late picture moved the reader: {reading} → {loaded}");
    assert!(loaded["gap"].as_f64().unwrap() > 200.0, "the late picture took the reader to the end: {loaded}");
    if reserved {
        assert_eq!(loaded["img"], arrived["img"], "the picture's box changed when it loaded: {arrived} → {loaded}");
    }
    shot(c, &format!("late-pictures-{n}")).await;
}
