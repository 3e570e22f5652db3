//! Sneak-peek throttling: at most one `send_sneak_peek` per chat per interval (2 s), the
//! first text at once, the last text of the interval when it ends (a leading and trailing
//! throttle). Unlike the JS SDK (6.8), each chat has its own throttle, so a pending peek of
//! one chat is never replaced by another chat's.

use std::collections::BTreeMap;
use std::time::Duration;

use web_time::Instant;

use chatio_wire::ChatId;

#[derive(Clone, Debug, Default)]
struct Peek {
    last_sent: Option<Instant>,
    pending: Option<String>,
}

/// Per-chat sneak-peek throttles.
#[derive(Clone, Debug)]
pub(crate) struct SneakPeeks {
    interval: Duration,
    chats: BTreeMap<ChatId, Peek>,
    /// How many chats have a kept text: none (the common case) makes
    /// [`next_deadline`](Self::next_deadline) O(1).
    kept: usize,
}

impl SneakPeeks {
    pub(crate) fn new(interval: Duration) -> Self {
        Self { interval, chats: BTreeMap::new(), kept: 0 }
    }

    /// The customer typed `text` in `chat`: returns the text to send now, if the throttle
    /// allows; otherwise it is kept (replacing any older one) for [`due`](Self::due).
    pub(crate) fn set(&mut self, chat: &ChatId, text: &str, now: Instant) -> Option<String> {
        let interval = self.interval;
        let peek = self.chats.entry(chat.clone()).or_default();
        match peek.last_sent {
            Some(last) if now < last + interval => {
                if peek.pending.replace(text.to_owned()).is_none() {
                    self.kept += 1;
                }
                None
            }
            _ => {
                peek.last_sent = Some(now);
                if peek.pending.take().is_some() {
                    self.kept -= 1;
                }
                Some(text.to_owned())
            }
        }
    }

    /// The kept texts whose interval has ended, to send now.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<(ChatId, String)> {
        let interval = self.interval;
        let mut out = Vec::new();
        for (chat, p) in &mut self.chats {
            if p.last_sent.is_none_or(|l| l + interval <= now) {
                if let Some(text) = p.pending.take() {
                    self.kept -= 1;
                    p.last_sent = Some(now);
                    out.push((chat.clone(), text));
                }
            }
        }
        out
    }

    /// When the next kept text is due.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if self.kept == 0 {
            return None;
        }
        self.chats.values().filter(|p| p.pending.is_some()).filter_map(|p| p.last_sent.map(|l| l + self.interval)).min()
    }

    /// Forgets the kept text of `chat` (its thread closed).
    pub(crate) fn drop_pending(&mut self, chat: &ChatId) {
        if let Some(p) = self.chats.get_mut(chat) {
            if p.pending.take().is_some() {
                self.kept -= 1;
            }
        }
    }

    /// Forgets every kept text (the connection dropped).
    pub(crate) fn clear(&mut self) {
        self.chats.retain(|_, p| p.last_sent.is_some());
        for p in self.chats.values_mut() {
            p.pending = None;
        }
        self.kept = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn leading_then_trailing_with_the_last_text() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let chat = ChatId::new("A");
        let mut s = SneakPeeks::new(Duration::from_secs(2));
        assert_eq!(s.set(&chat, "h", t0).as_deref(), Some("h"));
        assert_eq!(s.next_deadline(), None);
        assert_eq!(s.set(&chat, "he", ms(500)), None);
        assert_eq!(s.set(&chat, "hel", ms(1500)), None);
        assert_eq!(s.next_deadline(), Some(ms(2000)));
        assert!(s.due(ms(1999)).is_empty());
        assert_eq!(s.due(ms(2000)), vec![(chat.clone(), "hel".to_owned())]);
        assert_eq!(s.next_deadline(), None);
        // The trailing send starts a new interval.
        assert_eq!(s.set(&chat, "hell", ms(3000)), None);
        assert_eq!(s.next_deadline(), Some(ms(4000)));
        // The driver is late with the timer: a new text past the interval goes at once and
        // supersedes the kept one.
        assert_eq!(s.set(&chat, "hello", ms(6000)).as_deref(), Some("hello"));
        assert!(s.due(ms(6000)).is_empty());
        assert_eq!(s.next_deadline(), None);
    }

    #[test]
    fn chats_have_their_own_throttle() {
        let t0 = Instant::now();
        let (a, b) = (ChatId::new("A"), ChatId::new("B"));
        let mut s = SneakPeeks::new(Duration::from_secs(2));
        assert!(s.set(&a, "a1", t0).is_some());
        assert!(s.set(&b, "b1", t0).is_some());
        assert!(s.set(&a, "a2", t0).is_none());
        assert!(s.set(&b, "b2", t0).is_none());
        s.drop_pending(&a);
        assert_eq!(s.due(t0 + Duration::from_secs(2)), vec![(b, "b2".to_owned())]);
        s.set(&a, "a3", t0 + Duration::from_secs(3));
        s.clear();
        assert_eq!(s.next_deadline(), None);
    }
}
