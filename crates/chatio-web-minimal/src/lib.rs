//! The smallest page that uses the SDK in a browser: connect, start a chat, send a message.
//! `cargo xtask bench wasm` builds it in release, runs wasm-bindgen and wasm-opt, reports the
//! gzipped size, and times page load → `Connected` in headless Chromium (the page writes
//! `connected <ms since navigation start>` then `sent` to `document.title`). The server is
//! the page's `?server=` parameter. Nothing on native targets.

#[cfg(target_arch = "wasm32")]
mod page {
    use chatio_customer_sdk::{Config, CustomerSdk, SdkEvent, StartChat};
    use futures::StreamExt;
    use wasm_bindgen::prelude::wasm_bindgen;

    fn title(text: &str) {
        if let Some(d) = web_sys::window().and_then(|w| w.document()) {
            d.set_title(text);
        }
    }

    async fn run() -> Result<(), String> {
        let window = web_sys::window().ok_or("no window")?;
        let search = window.location().search().map_err(|_| "no location")?;
        let server = search.strip_prefix("?server=").ok_or("the page needs ?server=URL")?.to_owned();
        let sdk = CustomerSdk::init(Config::new(100, "web-minimal").server(server)).map_err(|e| e.to_string())?;
        let mut events = sdk.events();
        while let Some(e) = events.next().await {
            if let SdkEvent::Connected { .. } = e {
                break;
            }
        }
        let ms = window.performance().map_or(0.0, |p| p.now());
        title(&format!("connected {ms:.1}"));
        let chat = sdk.start_chat(StartChat::new()).await.map_err(|e| e.to_string())?;
        sdk.send_message(&chat.id, "hello from the browser").await.map_err(|e| e.to_string())?;
        title(&format!("sent {ms:.1}"));
        Ok(())
    }

    /// Runs when the module is instantiated.
    #[wasm_bindgen(start)]
    pub fn start() {
        wasm_bindgen_futures::spawn_local(async {
            if let Err(e) = run().await {
                title(&format!("error {e}"));
            }
        });
    }
}
