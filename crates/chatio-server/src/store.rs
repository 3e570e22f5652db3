//! The in-memory data: licenses, customers, tokens, chats, threads, events, files.
//!
//! Everything the protocol stores lives here; `actions/` implements the actions on top.
//! Wire objects are built from this data on demand, always in the reference form.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chatio_wire as wire;
use chatio_wire::{ChatId, Event, Properties, ThreadId, Timestamp, UserId};

/// Id generation per G1, from a seeded generator; secrets (tokens, the names of uploaded
/// files, which are capabilities) from the operating system's random source, so that a
/// known `--seed` never makes them guessable (and issuing one does not shift ids).
#[derive(Debug)]
pub(crate) struct Ids {
    rng: fastrand::Rng,
}

/// `n` bytes from the operating system's random source. Should it ever fail (no
/// `getrandom(2)`, no `/dev/urandom`), an unseeded generator fills in and the failure is
/// logged: the server keeps working, tokens are then only as good as that generator.
fn os_random(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    if let Err(e) = getrandom::fill(&mut buf) {
        tracing::error!(error = %e, "the OS random source failed: secrets come from a weaker generator");
        let mut rng = fastrand::Rng::new();
        rng.fill(&mut buf);
    }
    buf
}

impl Ids {
    pub(crate) fn new(seed: u64) -> Self {
        Self { rng: fastrand::Rng::with_seed(seed) }
    }

    /// `n` lower-case hex characters from the OS random source (file-URL capabilities).
    pub(crate) fn secret_hex(n: usize) -> String {
        os_random(n.div_ceil(2))
            .iter()
            .flat_map(|b| [b >> 4, b & 0x0f])
            .take(n)
            .map(|d| char::from(b"0123456789abcdef"[usize::from(d)]))
            .collect()
    }

    /// 10 characters of `[0-9A-Z]` (chat and thread ids).
    pub(crate) fn short(&mut self) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        (0..10).map(|_| char::from(A[self.rng.usize(..A.len())])).collect()
    }

    /// A lower-case UUID v4 (customer ids).
    pub(crate) fn uuid(&mut self) -> String {
        let a = self.rng.u64(..);
        let b = self.rng.u64(..);
        let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        let a = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }

    /// `n` lower-case hex characters.
    pub(crate) fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b"0123456789abcdef"[self.rng.usize(..16)])).collect()
    }

    /// An opaque token secret: 22 characters of `[0-9a-zA-Z]` (131 bits) from the OS
    /// random source.
    pub(crate) fn token() -> String {
        const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        // Rejection sampling keeps every character equally likely (62 does not divide 256).
        let mut body = String::with_capacity(22);
        while body.len() < 22 {
            for b in os_random(32) {
                if usize::from(b) < 4 * A.len() && body.len() < 22 {
                    body.push(char::from(A[usize::from(b) % A.len()]));
                }
            }
        }
        format!("dev-{body}")
    }
}

/// A customer of a license.
#[derive(Clone, Debug, Default)]
pub(crate) struct Customer {
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) fields: BTreeMap<String, String>,
    pub(crate) monitoring: Option<wire::Monitoring>,
    pub(crate) banned: bool,
}

/// An issued customer token.
#[derive(Clone, Debug)]
pub(crate) struct TokenRecord {
    pub(crate) license: u64,
    pub(crate) customer: UserId,
    /// Unix seconds after which the token is refused.
    pub(crate) expires_at: u64,
}

/// An agent (the scripted bot, or others configured).
#[derive(Clone, Debug)]
pub(crate) struct Agent {
    pub(crate) id: UserId,
    pub(crate) name: String,
    pub(crate) avatar: String,
}

/// A thread.
#[derive(Clone, Debug)]
pub(crate) struct ThreadRec {
    pub(crate) id: ThreadId,
    pub(crate) active: bool,
    pub(crate) order: u64,
    pub(crate) user_ids: Vec<UserId>,
    pub(crate) events: Vec<Event>,
    pub(crate) properties: Properties,
    /// Last event or creation, Unix seconds (for archiving).
    pub(crate) last_activity: u64,
}

impl ThreadRec {
    pub(crate) fn add_user(&mut self, id: &UserId) {
        if !self.user_ids.contains(id) {
            self.user_ids.push(id.clone());
        }
    }

    pub(crate) fn to_wire(&self) -> wire::Thread {
        let mut t = wire::Thread::new(self.id.clone(), self.active, self.order);
        t.user_ids = self.user_ids.clone();
        t.events = self.events.clone();
        t.properties = Some(self.properties.clone());
        t
    }
}

/// A chat.
#[derive(Clone, Debug)]
pub(crate) struct ChatRec {
    pub(crate) id: ChatId,
    /// The customer who started it.
    pub(crate) customer: UserId,
    /// Agents currently in the chat, in joining order.
    pub(crate) agents: Vec<UserId>,
    pub(crate) properties: Properties,
    pub(crate) scopes: BTreeSet<u64>,
    pub(crate) threads: Vec<ThreadRec>,
    /// Order of the next event, across threads (G2).
    pub(crate) next_event_order: u64,
    /// Unix seconds of the last activity (the summary `order`, G2).
    pub(crate) last_activity: u64,
    /// Position of the last activity among all chats (newer is larger): pages of
    /// `get_chats_summary` are sorted by it, since seconds tie.
    pub(crate) activity_seq: u64,
    /// Last-seen time per user (G19).
    pub(crate) last_seen: HashMap<UserId, Timestamp>,
}

/// The next value of the server-wide activity sequence.
pub(crate) fn next_activity() -> u64 {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl ChatRec {
    /// Records activity at `now` (Unix seconds).
    pub(crate) fn touch(&mut self, now: u64) {
        self.last_activity = now;
        self.activity_seq = next_activity();
    }

    pub(crate) fn active_thread(&self) -> Option<&ThreadRec> {
        self.threads.last().filter(|t| t.active)
    }

    pub(crate) fn active_thread_mut(&mut self) -> Option<&mut ThreadRec> {
        self.threads.last_mut().filter(|t| t.active)
    }

    pub(crate) fn thread_mut(&mut self, id: &ThreadId) -> Option<&mut ThreadRec> {
        self.threads.iter_mut().find(|t| &t.id == id)
    }

    pub(crate) fn scopes_wire(&self) -> wire::Scopes {
        if self.scopes.is_empty() { wire::Scopes::all() } else { wire::Scopes::groups(self.scopes.iter().copied()) }
    }
}

/// A stored file.
#[derive(Clone, Debug)]
pub(crate) struct FileRec {
    pub(crate) content_type: String,
    pub(crate) bytes: bytes::Bytes,
}

/// One license's data.
#[derive(Debug, Default)]
pub(crate) struct License {
    pub(crate) customers: HashMap<UserId, Customer>,
    pub(crate) chats: HashMap<ChatId, ChatRec>,
    /// Chat ids per customer, in creation order.
    pub(crate) chats_of: HashMap<UserId, Vec<ChatId>>,
    pub(crate) expired: bool,
}

/// All data.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) ids: Ids,
    pub(crate) licenses: BTreeMap<u64, License>,
    pub(crate) tokens: HashMap<String, TokenRecord>,
    pub(crate) agents: Vec<Agent>,
    /// Files by URL path (`/api/file/chatio/att/<license>/<hex>.<ext>`).
    pub(crate) files: HashMap<String, FileRec>,
    /// The configured rules the actions enforce.
    pub(crate) policy: Policy,
}

/// The configured rules the actions enforce (G4, G15).
#[derive(Clone, Debug, Default)]
pub(crate) struct Policy {
    /// Chats one customer may start (`None`: unlimited).
    pub(crate) max_chats_per_customer: Option<usize>,
    /// Properties customers may write (empty: any).
    pub(crate) declared_properties: Vec<crate::config::DeclaredProperty>,
    /// A deliberate fault for conformance tests (see [`crate::config::ConformanceFault`]).
    pub(crate) conformance_fault: Option<crate::config::ConformanceFault>,
    /// Whether [`crate::config::ConformanceFault::DropPush`] has dropped its push.
    pub(crate) push_dropped: bool,
}

impl Store {
    pub(crate) fn new(seed: u64, licenses: &[u64], expired: &[u64], public_url: &str) -> Self {
        let mut ids = Ids::new(seed);
        let bot = Agent {
            id: UserId::new(ids.hex(32)),
            name: "Chatio Bot".into(),
            avatar: format!("{public_url}/static/bot.png"),
        };
        let licenses =
            licenses.iter().map(|l| (*l, License { expired: expired.contains(l), ..License::default() })).collect();
        Self {
            ids,
            licenses,
            tokens: HashMap::new(),
            agents: vec![bot],
            files: HashMap::new(),
            policy: Policy::default(),
        }
    }

    pub(crate) fn bot(&self) -> Option<&Agent> {
        self.agents.first()
    }

    pub(crate) fn agent(&self, id: &UserId) -> Option<&Agent> {
        self.agents.iter().find(|a| &a.id == id)
    }

    /// The customer object as customers see it.
    pub(crate) fn customer_user(&self, license: u64, id: &UserId, chat: Option<&ChatRec>, present: bool) -> wire::User {
        let mut u = wire::User::customer(id.clone());
        if let Some(c) = self.licenses.get(&license).and_then(|l| l.customers.get(id)) {
            u.name = c.name.clone();
            u.email = c.email.clone();
            u.fields = Some(c.fields.clone());
        } else {
            u.fields = Some(BTreeMap::new());
        }
        u.present = Some(present);
        u.last_seen_timestamp = chat.and_then(|c| c.last_seen.get(id).copied());
        u
    }

    pub(crate) fn agent_user(&self, id: &UserId, chat: Option<&ChatRec>) -> wire::User {
        let mut u = wire::User::agent(id.clone());
        if let Some(a) = self.agent(id) {
            u.name = Some(a.name.clone());
            u.avatar = Some(a.avatar.clone());
        }
        u.present = Some(chat.is_none_or(|c| c.agents.contains(id)));
        u.last_seen_timestamp = chat.and_then(|c| c.last_seen.get(id).copied());
        u
    }

    /// The chat's users: the customer, then its agents.
    pub(crate) fn chat_users(&self, license: u64, chat: &ChatRec, customer_present: bool) -> Vec<wire::User> {
        let mut users = vec![self.customer_user(license, &chat.customer, Some(chat), customer_present)];
        users.extend(chat.agents.iter().map(|a| self.agent_user(a, Some(chat))));
        users
    }

    /// The chat object with its last thread (`start_chat`, `incoming_chat_thread`).
    pub(crate) fn chat_with_thread(&self, license: u64, chat: &ChatRec, present: bool) -> wire::Chat {
        let mut c = wire::Chat::new(chat.id.clone());
        c.users = self.chat_users(license, chat, present);
        c.properties = Some(chat.properties.clone());
        c.scopes = Some(chat.scopes_wire());
        c.thread = chat.threads.last().map(ThreadRec::to_wire);
        c
    }

    /// A chat summary (`get_chats_summary` item).
    pub(crate) fn chat_summary(&self, license: u64, chat: &ChatRec, present: bool) -> wire::ChatSummary {
        let mut s = wire::ChatSummary::new(chat.id.clone(), chat.last_activity);
        s.users = self.chat_users(license, chat, present);
        s.properties = Some(chat.properties.clone());
        s.scopes = Some(chat.scopes_wire());
        let mut last: BTreeMap<String, wire::LastEvent> = BTreeMap::new();
        for t in &chat.threads {
            for e in &t.events {
                if e.recipients == Some(wire::Recipients::Agents) {
                    continue;
                }
                let ty = e.event_type().to_owned();
                let newer = last.get(&ty).is_none_or(|l| e.order > l.event.order);
                if newer {
                    last.insert(ty, wire::LastEvent::new(t.id.clone(), t.order, e.clone()));
                }
            }
        }
        s.last_event_per_type = Some(last);
        s
    }
}
