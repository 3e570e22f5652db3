//! When the page says the agent is typing (`send_typing_indicator`): pure rules, the time
//! given in milliseconds by the caller (no clock here), tested on native.
//!
//! One `true` when the agent starts writing in a chat (not one per keystroke), one `false`
//! when they stop: the reply sent or the box emptied, another chat opened, the session ended,
//! or [`IDLE_MS`] without a keystroke. A visitor never sees a typing indicator left on.

use chatio_agent_sdk::ChatId;

/// How long after the last keystroke the agent counts as no longer typing, in milliseconds.
pub const IDLE_MS: f64 = 5_000.0;

/// A typing indicator to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    /// The chat it is about.
    pub chat: ChatId,
    /// `true`: started typing; `false`: stopped.
    pub is_typing: bool,
}

/// Whether (and where) the visitor was last told the agent is typing.
#[derive(Debug, Default)]
pub struct Typing {
    /// The chat told `true` and not yet `false`.
    on: Option<ChatId>,
    /// The last keystroke, in the caller's milliseconds.
    last_input: f64,
}

impl Typing {
    /// The reply box of `chat` changed at `now`; `has_text`: it is not blank. What to send,
    /// in order (a `false` for another chat first).
    pub fn input(&mut self, chat: &ChatId, has_text: bool, now: f64) -> Vec<Signal> {
        let mut out = Vec::new();
        if self.on.as_ref().is_some_and(|c| c != chat || !has_text) {
            out.extend(self.stop());
        }
        if has_text {
            self.last_input = now;
            if self.on.is_none() {
                self.on = Some(chat.clone());
                out.push(Signal { chat: chat.clone(), is_typing: true });
            }
        }
        out
    }

    /// The agent stopped (sent the reply, left the chat, signed out): the `false` to send, if
    /// the visitor was told `true`.
    pub fn stop(&mut self) -> Option<Signal> {
        self.on.take().map(|chat| Signal { chat, is_typing: false })
    }

    /// Checked from time to time: the `false` to send once the agent has been idle for
    /// [`IDLE_MS`].
    pub fn tick(&mut self, now: f64) -> Option<Signal> {
        if now - self.last_input >= IDLE_MS { self.stop() } else { None }
    }

    /// Whether the visitor was told the agent is typing (so the caller keeps checking).
    pub fn is_on(&self) -> bool {
        self.on.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(chat: &str, is_typing: bool) -> Signal {
        Signal { chat: ChatId::new(chat), is_typing }
    }

    #[test]
    fn one_start_for_many_keystrokes_then_one_stop_when_idle() {
        let (a, mut t) = (ChatId::new("a"), Typing::default());
        assert_eq!(t.input(&a, true, 0.0), vec![sig("a", true)]);
        for ms in 1..50 {
            assert_eq!(t.input(&a, true, f64::from(ms) * 100.0), vec![], "no second start while typing");
        }
        assert_eq!(t.tick(4_900.0 + IDLE_MS - 1.0), None, "still typing: the last key was recent");
        assert_eq!(t.tick(4_900.0 + IDLE_MS), Some(sig("a", false)));
        assert!(!t.is_on());
        assert_eq!(t.tick(1e9), None, "one stop only");
        assert_eq!(t.input(&a, true, 1e9), vec![sig("a", true)], "typing again starts again");
    }

    #[test]
    fn an_emptied_box_a_sent_reply_or_another_chat_stops_it() {
        let (a, b, mut t) = (ChatId::new("a"), ChatId::new("b"), Typing::default());
        assert_eq!(t.input(&a, false, 0.0), vec![], "a blank box is not typing");
        t.input(&a, true, 0.0);
        assert_eq!(t.input(&a, false, 1.0), vec![sig("a", false)]);
        t.input(&a, true, 2.0);
        assert_eq!(t.input(&b, true, 3.0), vec![sig("a", false), sig("b", true)]);
        assert_eq!(t.stop(), Some(sig("b", false)));
        assert_eq!(t.stop(), None);
    }
}
