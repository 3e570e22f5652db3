//! The behaviour every store must have, one function per case over a fresh store. The
//! [`suite!`] macro turns the list into one test per case for an implementation:
//! `suite!(memory, || (Box::new(MemoryStore::new(1)), Box::new(())));` (the second value
//! lives as long as the store: a temporary directory, say). Each implementation's module
//! also lists its cases in `ALL`, for tests that run every case (the SQLite query plans).

use std::collections::BTreeSet;

use chatio_wire::{ChatId, Event, EventKind, Message, Properties, Recipients, ThreadId, Timestamp, UserId};

use super::{Agent, ChatRec, Customer, FileRec, MemoryStore, SqliteStore, Store, ThreadRec, TokenRecord};

/// One test per case, each on a store from `$make`.
macro_rules! suite {
    ($name:ident, $make:expr) => {
        pub(super) mod $name {
            use super::*;
            suite!(@cases $make;
                customers_are_kept_per_license,
                tokens_expire_and_are_purged,
                tokens_per_customer_are_capped_and_not_kept_in_clear,
                refresh_tokens_rotate_and_a_reuse_revokes_the_family,
                a_lost_rotation_answer_is_recovered_until_the_successor_is_used,
                remembered_browsers_name_their_customer,
                identity_is_bounded_per_customer,
                purging_customers_keeps_whoever_can_still_be_reached,
                agents_keep_their_order,
                issued_agent_tokens_keep_their_issue_order_as_digests,
                the_agents_presence_and_queues_are_kept_in_order,
                files_are_kept_by_path,
                files_count_their_references_and_the_unreferenced_expire,
                chats_list_in_creation_and_activity_order,
            an_agents_load_counts_its_chats_with_an_active_thread,
                threads_and_events_keep_their_order,
                the_last_event_of_each_type_leaves_agents_only_events_out,
                idle_chats_are_those_whose_last_thread_is_active_and_quiet,
                sweeps_go_through_many_customers_and_idle_chats_a_batch_at_a_time,
                old_closed_threads_are_purged_but_each_chats_last_stays,
                writes_to_what_does_not_exist_fail,
                the_same_seed_draws_the_same_ids,
                a_request_kept_and_committed_stays,
            );
        }
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        /// Every case of the suite.
        #[allow(dead_code)]
        pub(crate) const ALL: &[(&str, fn(&mut dyn Store))] = &[$((stringify!($case), super::$case)),+];
        $(
            #[test]
            fn $case() {
                let make: fn() -> (Box<dyn Store>, Box<dyn std::any::Any>) = $make;
                let (mut store, _keep) = make();
                super::$case(&mut *store);
            }
        )+
    };
}

suite!(memory, || (Box::new(MemoryStore::new(1)), Box::new(())));
suite!(sqlite, || {
    let dir = tempfile::tempdir().unwrap();
    (Box::new(SqliteStore::open(dir.path(), 1).unwrap()), Box::new(dir))
});

fn user(id: &str) -> UserId {
    UserId::new(id)
}

fn chat(id: &str, customer: &str, seq: u64) -> ChatRec {
    ChatRec {
        id: ChatId::new(id),
        customer: user(customer),
        agents: Vec::new(),
        properties: Properties::new(),
        scopes: BTreeSet::new(),
        next_event_order: 1,
        last_activity: 100,
        activity_seq: seq,
        last_seen: Default::default(),
        held: Default::default(),
    }
}

fn thread(id: &str, order: u64, active: bool, last_activity: u64) -> ThreadRec {
    ThreadRec {
        id: ThreadId::new(id),
        active,
        order,
        user_ids: vec![user("c")],
        properties: Properties::new(),
        last_activity,
        events: 0,
    }
}

fn message(id: &str, order: u64, text: &str) -> Event {
    Event::new(id, order, Timestamp::from_secs(100), EventKind::Message(Message::new(text)))
}

fn customers_are_kept_per_license(s: &mut dyn Store) {
    assert_eq!(s.customer(100, &user("a")).unwrap(), None);
    let a = Customer { name: Some("Ann".into()), ..Customer::default() };
    s.put_customer(100, &user("a"), a.clone()).unwrap();
    assert_eq!(s.customer(100, &user("a")).unwrap(), Some(a));
    assert_eq!(s.customer(101, &user("a")).unwrap(), None, "licenses are apart");
    let banned = Customer { banned: true, ..Customer::default() };
    s.put_customer(100, &user("a"), banned.clone()).unwrap();
    s.put_customer(101, &user("a"), Customer::default()).unwrap();
    assert_eq!(s.customer(100, &user("a")).unwrap(), Some(banned), "replaced");
    assert_eq!(s.customer_count().unwrap(), 2);
}

fn tokens_expire_and_are_purged(s: &mut dyn Store) {
    let t = |customer: &str, expires_at| TokenRecord { license: 100, customer: user(customer), expires_at };
    s.put_token("s1", t("a", 1_000), 32).unwrap();
    s.put_token("s2", t("a", 2_000), 32).unwrap();
    s.put_token("s3", t("b", 2_000), 32).unwrap();
    assert_eq!(s.token("s1").unwrap(), Some(t("a", 1_000)));
    assert_eq!(s.token("nope").unwrap(), None);
    s.expire_tokens(100, &user("a"), 1_500).unwrap();
    assert_eq!(s.token("s1").unwrap(), Some(t("a", 1_000)), "never extended");
    assert_eq!(s.token("s2").unwrap(), Some(t("a", 1_500)));
    assert_eq!(s.token("s3").unwrap(), Some(t("b", 2_000)), "another customer's kept");
    assert_eq!(s.purge_tokens(1_500).unwrap(), 2, "expired at 1 500 or earlier");
    assert_eq!(s.token_count().unwrap(), 1);
    assert_eq!(s.token("s3").unwrap(), Some(t("b", 2_000)));
}

fn tokens_per_customer_are_capped_and_not_kept_in_clear(s: &mut dyn Store) {
    let t = || TokenRecord { license: 100, customer: user("a"), expires_at: 1_000 };
    for secret in ["first-secret", "second", "third"] {
        s.put_token(secret, t(), 2).unwrap();
    }
    assert_eq!(s.token("first-secret").unwrap(), None, "the oldest went");
    assert_eq!(s.token_count().unwrap(), 2);
    assert!(!format!("{s:?}").contains("first-secret") && !format!("{s:?}").contains("third"));
}

fn refresh_tokens_rotate_and_a_reuse_revokes_the_family(s: &mut dyn Store) {
    let first = s.start_family(100, &user("a"), "web", 0, 100).unwrap();
    assert!(!format!("{s:?}").contains(&first), "kept as a digest");
    let (license, who, second) = s.rotate_refresh(&first, "web", 1, 100).unwrap().unwrap();
    assert_eq!((license, who), (100, user("a")));
    let (_, _, next) = s.rotate_refresh(&second, "web", 2, 100).unwrap().unwrap();
    assert!(s.rotate_refresh(&first, "web", 2, 100).unwrap().is_err(), "reused");
    assert!(s.rotate_refresh(&next, "web", 3, 100).unwrap().is_err(), "its family is revoked");
    let other = s.start_family(100, &user("b"), "web", 0, 100).unwrap();
    s.revoke_identity(100, &user("b")).unwrap();
    assert!(s.rotate_refresh(&other, "web", 1, 100).unwrap().is_err(), "a ban revokes it");
    let expiring = s.start_family(100, &user("c"), "web", 0, 100).unwrap();
    assert_eq!(s.purge_identity(100).unwrap(), 1);
    assert!(s.rotate_refresh(&expiring, "web", 100, 100).unwrap().is_err());
    assert_eq!(s.identity_counts().unwrap(), (0, 0));
}

/// G39: a rotation whose answer was lost is recovered by the secret used last, while its
/// successor was never used; once the successor is used, or when an unused successor that
/// was revoked shows up, the family is revoked.
fn a_lost_rotation_answer_is_recovered_until_the_successor_is_used(s: &mut dyn Store) {
    use crate::identity::refresh::{RefreshRefusal, USED_KEPT};
    let first = s.start_family(100, &user("a"), "web", 0, 100).unwrap();
    let (_, _, lost) = s.rotate_refresh(&first, "web", 1, 100).unwrap().unwrap();
    let (_, who, lost_again) = s.rotate_refresh(&first, "web", 2, 100).unwrap().unwrap();
    assert_eq!(who, user("a"), "the same customer");
    let (_, _, second) = s.rotate_refresh(&first, "web", 3, 100).unwrap().unwrap();
    assert!(second != lost && second != lost_again);
    assert_eq!(s.rotate_refresh(&first, "app", 3, 100).unwrap().unwrap_err(), RefreshRefusal::OtherClient);
    let (_, _, third) = s.rotate_refresh(&second, "web", 4, 100).unwrap().unwrap();
    assert_eq!(s.rotate_refresh(&first, "web", 5, 100).unwrap().unwrap_err(), RefreshRefusal::Reused);
    assert_eq!(s.rotate_refresh(&third, "web", 6, 100).unwrap().unwrap_err(), RefreshRefusal::Unknown);
    assert_eq!(s.identity_counts().unwrap().0, 0, "revoked");
    // A revoked unused successor presented later revokes the family, also after many more
    // lost answers (the last USED_KEPT revoked ones are known).
    let first = s.start_family(100, &user("b"), "web", 0, 100).unwrap();
    let mut unused = vec![s.rotate_refresh(&first, "web", 1, 100).unwrap().unwrap().2];
    for i in 0..=USED_KEPT as u64 {
        unused.push(s.rotate_refresh(&first, "web", 2 + i, 100).unwrap().unwrap().2);
    }
    let current = unused.pop().unwrap();
    let (_, _, next) = s.rotate_refresh(&current, "web", 20, 100).unwrap().unwrap();
    assert_eq!(
        s.rotate_refresh(&unused[0], "web", 21, 100).unwrap().unwrap_err(),
        RefreshRefusal::Unknown,
        "forgotten"
    );
    assert_eq!(s.rotate_refresh(&unused[1], "web", 21, 100).unwrap().unwrap_err(), RefreshRefusal::Reused);
    assert_eq!(s.rotate_refresh(&next, "web", 22, 100).unwrap().unwrap_err(), RefreshRefusal::Unknown);
}

fn remembered_browsers_name_their_customer(s: &mut dyn Store) {
    let secret = s.remember_browser(100, &user("a"), 0, 100).unwrap();
    assert_eq!(s.remembered(100, &secret, 1).unwrap(), Some(user("a")));
    assert_eq!(s.remembered(101, &secret, 1).unwrap(), None, "another license");
    assert_eq!(s.remembered(100, "a", 1).unwrap(), None, "an id is not a secret");
    assert_eq!(s.remembered(100, &secret, 100).unwrap(), None, "expired");
    s.put_customer(100, &user("a"), Customer::default()).unwrap();
    s.remember_browser(100, &user("a"), 50, 100).unwrap();
    assert_eq!(s.purge_customers(None, 10, &mut |_, _| false).unwrap(), (0, None), "a remembered customer is kept");
    assert_eq!(s.identity_counts().unwrap(), (0, 2));
}

fn identity_is_bounded_per_customer(s: &mut dyn Store) {
    use crate::identity::{refresh::FAMILIES_PER_CUSTOMER, refresh::USED_KEPT, remember::BROWSERS_PER_CUSTOMER};
    let first = s.start_family(100, &user("a"), "web", 0, 100).unwrap();
    for _ in 0..FAMILIES_PER_CUSTOMER {
        s.start_family(100, &user("a"), "web", 0, 100).unwrap();
    }
    assert_eq!(s.identity_counts().unwrap().0, FAMILIES_PER_CUSTOMER, "the oldest family went");
    assert!(s.rotate_refresh(&first, "web", 1, 100).unwrap().is_err());
    // The last USED_KEPT rotated secrets are still known: a reuse of one revokes the family.
    let start = s.start_family(100, &user("b"), "web", 0, 100).unwrap();
    let mut used = vec![start];
    for i in 0..(USED_KEPT + 3) as u64 {
        let (_, _, next) = s.rotate_refresh(used.last().unwrap(), "web", i, 100).unwrap().unwrap();
        used.push(next);
    }
    let current = used.pop().unwrap();
    let other_client = s.rotate_refresh(&current, "app", 50, 100).unwrap();
    assert!(other_client.is_err(), "bound to its client id, and the family lives on");
    assert!(s.rotate_refresh(&used[0], "web", 50, 100).unwrap().is_err(), "forgotten: unknown");
    assert!(s.rotate_refresh(&current, "web", 50, 100).unwrap().is_ok(), "a forgotten one revokes nothing");
    // Known now: `current` and the USED_KEPT - 1 before it; the oldest of them is reused.
    let oldest_known = &used[used.len() + 1 - USED_KEPT];
    let reuse = s.rotate_refresh(oldest_known, "web", 51, 100).unwrap();
    assert_eq!(reuse.unwrap_err(), crate::identity::refresh::RefreshRefusal::Reused);
    assert_eq!(s.identity_counts().unwrap().0, FAMILIES_PER_CUSTOMER, "b's family is revoked");
    let browsers: Vec<String> =
        (0..=BROWSERS_PER_CUSTOMER).map(|_| s.remember_browser(100, &user("c"), 0, 100).unwrap()).collect();
    assert_eq!(s.identity_counts().unwrap().1, BROWSERS_PER_CUSTOMER);
    assert_eq!(s.remembered(100, &browsers[0], 1).unwrap(), None, "the oldest is forgotten");
    assert_eq!(s.remembered(100, &browsers[1], 1).unwrap(), Some(user("c")));
}

fn purging_customers_keeps_whoever_can_still_be_reached(s: &mut dyn Store) {
    for id in ["token", "chat", "banned", "connected", "gone"] {
        let banned = id == "banned";
        s.put_customer(100, &user(id), Customer { banned, ..Customer::default() }).unwrap();
    }
    s.put_token("s", TokenRecord { license: 100, customer: user("token"), expires_at: 10 }, 32).unwrap();
    s.put_chat(100, chat("C1", "chat", 1)).unwrap();
    let gone = s.purge_customers(None, 10, &mut |license, id| license == 100 && id.as_str() == "connected").unwrap();
    assert_eq!(gone, (1, None), "all examined: the next pass starts over");
    assert_eq!(s.customer(100, &user("gone")).unwrap(), None);
    for id in ["token", "chat", "banned", "connected"] {
        assert!(s.customer(100, &user(id)).unwrap().is_some(), "{id} kept");
    }
}

fn agents_keep_their_order(s: &mut dyn Store) {
    let a = |id: &str, name: &str| Agent { id: user(id), name: name.into(), avatar: String::new() };
    s.put_agent(a("b", "Bot")).unwrap();
    s.put_agent(a("x", "Xena")).unwrap();
    s.put_agent(a("b", "Bot 2")).unwrap();
    assert_eq!(s.agents().unwrap(), vec![a("b", "Bot 2"), a("x", "Xena")]);
    assert_eq!(s.agent(&user("x")).unwrap(), Some(a("x", "Xena")));
    assert_eq!(s.agent(&user("y")).unwrap(), None);
}

fn issued_agent_tokens_keep_their_issue_order_as_digests(s: &mut dyn Store) {
    use crate::identity::secret::Digest;
    let t = |secret: &str, agent: &str, expires_at: u64| super::IssuedAgentToken {
        hash: Digest::of(secret),
        license: 100,
        agent: agent.into(),
        expires_at,
    };
    assert_eq!(s.issued_agent_tokens().unwrap(), vec![]);
    s.put_issued_agent_token(t("agt-one", "ann@example.com", 10)).unwrap();
    s.put_issued_agent_token(t("agt-two", "bob@example.com", 5)).unwrap();
    s.put_issued_agent_token(t("agt-three", "ann@example.com", 20)).unwrap();
    let order =
        |s: &mut dyn Store| s.issued_agent_tokens().unwrap().into_iter().map(|t| t.expires_at).collect::<Vec<_>>();
    assert_eq!(order(s), vec![10, 5, 20], "oldest issued first, whatever the expiry");
    s.delete_issued_agent_tokens(&[Digest::of("agt-one"), Digest::of("never-issued")]).unwrap();
    assert_eq!(
        s.issued_agent_tokens().unwrap(),
        vec![t("agt-two", "bob@example.com", 5), t("agt-three", "ann@example.com", 20)]
    );
    assert!(!format!("{:?}", s.issued_agent_tokens().unwrap()).contains("agt-"), "digests only");
}

fn the_agents_presence_and_queues_are_kept_in_order(s: &mut dyn Store) {
    use super::StoredPresence;
    let p = |license: u64, agent: &str, accepting: bool, online: bool, gone_since: Option<u64>| StoredPresence {
        license,
        agent: agent.into(),
        accepting,
        online,
        gone_since,
    };
    assert_eq!(s.agent_presences().unwrap(), vec![]);
    s.put_agent_presence(p(200, "ann@example.com", true, true, None)).unwrap();
    s.put_agent_presence(p(100, "bob@example.com", false, true, Some(5))).unwrap();
    s.put_agent_presence(p(100, "ann@example.com", true, true, None)).unwrap();
    // A later write replaces the agent's presence on that license only.
    s.put_agent_presence(p(100, "ann@example.com", false, false, None)).unwrap();
    assert_eq!(
        s.agent_presences().unwrap(),
        vec![
            p(100, "ann@example.com", false, false, None),
            p(100, "bob@example.com", false, true, Some(5)),
            p(200, "ann@example.com", true, true, None),
        ]
    );
    assert_eq!(s.queued_chats().unwrap(), vec![]);
    let c = ChatId::new;
    s.queue_chat(100, &c("ONE")).unwrap();
    s.queue_chat(200, &c("ONE")).unwrap();
    s.queue_chat(100, &c("TWO")).unwrap();
    s.queue_chat(100, &c("ONE")).unwrap();
    assert_eq!(s.queued_chats().unwrap(), vec![(100, c("ONE")), (200, c("ONE")), (100, c("TWO"))], "queued once");
    s.unqueue_chat(100, &c("ONE")).unwrap();
    s.unqueue_chat(100, &c("NEVER")).unwrap();
    // Queued again, it goes to the end.
    s.queue_chat(100, &c("ONE")).unwrap();
    assert_eq!(s.queued_chats().unwrap(), vec![(200, c("ONE")), (100, c("TWO")), (100, c("ONE"))]);
}

fn files_are_kept_by_path(s: &mut dyn Store) {
    let f = FileRec { content_type: "image/png".into(), bytes: bytes::Bytes::from_static(b"\x89PNG"), created: 7 };
    s.put_file("/api/file/x.png", f.clone(), 1).unwrap();
    assert_eq!(s.file("/api/file/x.png").unwrap(), Some(f));
    assert_eq!(s.file("/api/file/y.png").unwrap(), None);
}

fn files_count_their_references_and_the_unreferenced_expire(s: &mut dyn Store) {
    let f =
        |created| FileRec { content_type: "image/png".into(), bytes: bytes::Bytes::from_static(b"\x89PNG"), created };
    s.put_file("/old-unreferenced", f(10), 0).unwrap();
    s.put_file("/older-unreferenced", f(5), 0).unwrap();
    s.put_file("/new-unreferenced", f(30), 0).unwrap();
    s.put_file("/old-referenced", f(10), 1).unwrap();
    assert_eq!(s.unreferenced_files(20, 10).unwrap(), ["/older-unreferenced", "/old-unreferenced"], "oldest first");
    assert_eq!(s.unreferenced_files(20, 1).unwrap(), ["/older-unreferenced"], "bounded");
    assert_eq!(s.refer_file("/old-unreferenced", 1).unwrap(), Some(1));
    assert_eq!(s.refer_file("/old-unreferenced", 1).unwrap(), Some(2));
    assert_eq!(s.refer_file("/nope", 1).unwrap(), None);
    assert_eq!(s.unreferenced_files(20, 10).unwrap(), ["/older-unreferenced"]);
    assert_eq!(s.refer_file("/old-referenced", -1).unwrap(), Some(0));
    assert_eq!(s.refer_file("/old-referenced", -1).unwrap(), Some(0), "never below 0");
    assert_eq!(s.unreferenced_files(20, 10).unwrap(), ["/older-unreferenced", "/old-referenced"]);
    assert_eq!(s.delete_file("/older-unreferenced").unwrap(), 4, "its size");
    assert_eq!(s.delete_file("/older-unreferenced").unwrap(), 0, "gone");
    assert_eq!(s.file("/older-unreferenced").unwrap(), None);
    assert_eq!(s.file_bytes().unwrap(), 12);
}

fn chats_list_in_creation_and_activity_order(s: &mut dyn Store) {
    s.put_chat(100, chat("C1", "a", 3)).unwrap();
    s.put_chat(100, chat("C2", "a", 1)).unwrap();
    s.put_chat(100, chat("C3", "a", 2)).unwrap();
    s.put_chat(100, chat("C4", "b", 4)).unwrap();
    s.put_chat(101, chat("C5", "a", 5)).unwrap();
    let mut c2 = chat("C2", "a", 6);
    c2.properties = Properties::new().with("x", "y", 1);
    s.put_chat(100, c2.clone()).unwrap();
    assert_eq!(s.chat(100, &ChatId::new("C2")).unwrap(), Some(c2), "replaced");
    assert_eq!(s.chat(101, &ChatId::new("C2")).unwrap(), None, "licenses are apart");
    let ids = |v: Vec<ChatId>| v.iter().map(|c| c.as_str().to_owned()).collect::<Vec<_>>();
    assert_eq!(ids(s.chats_of(100, &user("a")).unwrap()), ["C1", "C2", "C3"], "creation order");
    assert_eq!(s.chat_count(100, &user("a")).unwrap(), 3);
    assert_eq!(s.chat_count(100, &user("z")).unwrap(), 0);
    let (page, total) = s.recent_chats(100, &user("a"), 0, 2).unwrap();
    assert_eq!(total, 3);
    assert_eq!(page.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["C2", "C1"], "most recently active first");
    let (page, _) = s.recent_chats(100, &user("a"), 2, 2).unwrap();
    assert_eq!(page.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["C3"]);
    let all = s.license_chats(100, 0, 3).unwrap();
    assert_eq!(all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["C2", "C4", "C1"], "every customer's");
    let rest = s.license_chats(100, 3, 10).unwrap();
    assert_eq!(rest.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["C3"]);
}

fn an_agents_load_counts_its_chats_with_an_active_thread(s: &mut dyn Store) {
    let jane = user("jane@x");
    for (id, active) in [("C1", true), ("C2", false), ("C3", true)] {
        let mut c = chat(id, "a", 1);
        c.agents = vec![jane.clone()];
        s.put_chat(100, c).unwrap();
        s.put_thread(100, &ChatId::new(id), thread(&format!("T{id}"), 1, active, 100)).unwrap();
    }
    s.put_chat(100, chat("C4", "a", 2)).unwrap();
    s.put_thread(100, &ChatId::new("C4"), thread("T4", 1, true, 100)).unwrap();
    assert_eq!(s.agent_load(100, &jane).unwrap(), 2);
    assert_eq!(s.agent_load(101, &jane).unwrap(), 0);
    assert_eq!(s.agent_load(100, &user("john@x")).unwrap(), 0);
}

fn threads_and_events_keep_their_order(s: &mut dyn Store) {
    let c = ChatId::new("C");
    s.put_chat(100, chat("C", "a", 1)).unwrap();
    assert_eq!(s.last_thread(100, &c).unwrap(), None);
    s.put_thread(100, &c, thread("T1", 1, false, 100)).unwrap();
    s.put_thread(100, &c, thread("T2", 2, true, 100)).unwrap();
    let (t1, t2) = (ThreadId::new("T1"), ThreadId::new("T2"));
    s.add_event(100, &c, &t1, &message("T1_1", 1, "a")).unwrap();
    s.add_event(100, &c, &t2, &message("T2_1", 2, "b")).unwrap();
    s.add_event(100, &c, &t2, &message("T2_2", 3, "c")).unwrap();
    let mut t2rec = thread("T2", 2, true, 200);
    t2rec.events = 2;
    s.put_thread(100, &c, t2rec.clone()).unwrap();
    assert_eq!(s.threads(100, &c).unwrap().iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["T1", "T2"]);
    assert_eq!(s.last_thread(100, &c).unwrap(), Some(t2rec.clone()));
    assert_eq!(s.thread(100, &c, &t2).unwrap(), Some(t2rec));
    assert_eq!(s.thread(100, &c, &ThreadId::new("T9")).unwrap(), None);
    let texts = |v: Vec<Event>| v.iter().map(|e| e.id.as_str().to_owned()).collect::<Vec<_>>();
    assert_eq!(texts(s.events(100, &c, &t2).unwrap()), ["T2_1", "T2_2"]);
    let edited = message("T2_1", 2, "b, edited");
    s.put_event(100, &c, &t2, edited.clone()).unwrap();
    assert_eq!(s.event(100, &c, &t2, &edited.id).unwrap(), Some(edited));
    assert_eq!(texts(s.events(100, &c, &t2).unwrap()), ["T2_1", "T2_2"], "replaced in place");
    assert_eq!(s.events(100, &ChatId::new("nope"), &t2).unwrap(), Vec::<Event>::new());
}

fn the_last_event_of_each_type_leaves_agents_only_events_out(s: &mut dyn Store) {
    let c = ChatId::new("C");
    s.put_chat(100, chat("C", "a", 1)).unwrap();
    s.put_thread(100, &c, thread("T1", 1, false, 100)).unwrap();
    s.put_thread(100, &c, thread("T2", 2, true, 100)).unwrap();
    let (t1, t2) = (ThreadId::new("T1"), ThreadId::new("T2"));
    s.add_event(100, &c, &t1, &message("T1_1", 1, "old")).unwrap();
    let mut note = Event::new(
        "T1_2",
        2,
        Timestamp::from_secs(100),
        EventKind::Annotation(chatio_wire::Annotation::new("note", None)),
    );
    note.author_id = Some(user("a"));
    s.add_event(100, &c, &t1, &note).unwrap();
    s.add_event(100, &c, &t2, &message("T2_1", 3, "new")).unwrap();
    let mut hidden = message("T2_2", 4, "agents only");
    hidden.recipients = Some(Recipients::Agents);
    s.add_event(100, &c, &t2, &hidden).unwrap();
    let mut last = s.last_events(100, &c).unwrap();
    last.sort_by(|a, b| a.event.event_type().cmp(b.event.event_type()));
    let got: Vec<(&str, &str, u64)> =
        last.iter().map(|l| (l.event.event_type(), l.event.id.as_str(), l.thread_order)).collect();
    assert_eq!(got, [("annotation", "T1_2", 1), ("message", "T2_1", 2)]);
}

fn idle_chats_are_those_whose_last_thread_is_active_and_quiet(s: &mut dyn Store) {
    for (id, active, last) in [("quiet", true, 100), ("busy", true, 500), ("closed", false, 100)] {
        let c = ChatId::new(id);
        s.put_chat(100, chat(id, "a", 1)).unwrap();
        s.put_thread(100, &c, thread("T", 1, active, last)).unwrap();
    }
    s.put_chat(100, chat("empty", "a", 1)).unwrap();
    assert_eq!(s.idle_chats(100, 10).unwrap(), vec![(100, ChatId::new("quiet"))]);
}

fn sweeps_go_through_many_customers_and_idle_chats_a_batch_at_a_time(s: &mut dyn Store) {
    // 250 unreachable customers on two licenses, and every third one with a chat (kept).
    for i in 0..250u64 {
        let (license, id) = (100 + i % 2, format!("c{i:03}"));
        s.put_customer(license, &user(&id), Customer::default()).unwrap();
        if i % 3 == 0 {
            s.put_chat(license, chat(&format!("chat{i}"), &id, i)).unwrap();
            s.put_thread(license, &ChatId::new(format!("chat{i}")), thread("T", 1, true, 1_000 - i)).unwrap();
        }
    }
    let mut cursor = None;
    let mut passes = Vec::new();
    loop {
        let (gone, next) = s.purge_customers(cursor.as_ref(), 64, &mut |_, _| false).unwrap();
        passes.push(gone);
        assert!(passes.len() < 10, "the passes end: {passes:?}");
        match next {
            Some(at) => {
                assert!(cursor.as_ref().is_none_or(|c| *c < at), "forward: {cursor:?} then {at:?}");
                cursor = Some(at);
            }
            None => break,
        }
    }
    // 64 examined per pass: 4 passes, the last one short.
    assert_eq!(passes.len(), 4, "{passes:?}");
    assert_eq!(passes.iter().sum::<usize>(), 250 - 84);
    assert_eq!(s.customer_count().unwrap(), 84, "those with a chat stay");
    assert_eq!(s.purge_customers(None, 64, &mut |_, _| false).unwrap().0, 0, "starting over finds nothing");
    // Idle chats: the longest idle first, a batch at a time.
    let idle = s.idle_chats(1_000, 5).unwrap();
    let want: Vec<(u64, ChatId)> =
        [249u64, 246, 243, 240, 237].iter().map(|i| (100 + i % 2, ChatId::new(format!("chat{i}")))).collect();
    assert_eq!(idle, want);
    assert_eq!(s.idle_chats(1_000, 1_000).unwrap().len(), 84);
}

fn old_closed_threads_are_purged_but_each_chats_last_stays(s: &mut dyn Store) {
    let c = ChatId::new("C");
    s.put_chat(100, chat("C", "a", 1)).unwrap();
    for (id, order, active, last) in
        [("T1", 1, false, 10), ("T2", 2, false, 20), ("T3", 3, false, 90), ("T4", 4, false, 5)]
    {
        s.put_thread(100, &c, thread(id, order, active, last)).unwrap();
        s.add_event(100, &c, &ThreadId::new(id), &message(&format!("{id}_1"), order, "x")).unwrap();
    }
    let alone = ChatId::new("alone");
    s.put_chat(100, chat("alone", "a", 2)).unwrap();
    s.put_thread(100, &alone, thread("A1", 1, false, 1)).unwrap();
    assert_eq!(s.old_threads(50, 1).unwrap().len(), 1, "at most the limit");
    let mut old = s.old_threads(50, 10).unwrap();
    old.sort();
    let t = |id: &str| (100, c.clone(), ThreadId::new(id));
    assert_eq!(old, [t("T1"), t("T2")], "closed, old, not the chat's last");
    for (license, chat, thread) in &old {
        s.delete_thread(*license, chat, thread).unwrap();
    }
    assert_eq!(s.old_threads(50, 10).unwrap(), []);
    let left: Vec<String> = s.threads(100, &c).unwrap().iter().map(|t| t.id.as_str().to_owned()).collect();
    assert_eq!(left, ["T3", "T4"], "the recent one and the last one stay");
    assert!(s.events(100, &c, &ThreadId::new("T1")).unwrap().is_empty(), "its events went with it");
    assert_eq!(s.events(100, &c, &ThreadId::new("T4")).unwrap().len(), 1);
    assert_eq!(s.threads(100, &alone).unwrap().len(), 1, "a chat's only thread stays");
}

fn writes_to_what_does_not_exist_fail(s: &mut dyn Store) {
    let (c, t) = (ChatId::new("C"), ThreadId::new("T"));
    assert!(s.put_thread(100, &c, thread("T", 1, true, 1)).is_err());
    assert!(s.add_event(100, &c, &t, &message("T_1", 1, "x")).is_err());
    s.put_chat(100, chat("C", "a", 1)).unwrap();
    assert!(s.add_event(100, &c, &t, &message("T_1", 1, "x")).is_err());
    s.put_thread(100, &c, thread("T", 1, true, 1)).unwrap();
    assert!(s.put_event(100, &c, &t, message("T_1", 1, "x")).is_err(), "no such event yet");
}

fn the_same_seed_draws_the_same_ids(s: &mut dyn Store) {
    let mut other = MemoryStore::new(1);
    let a = (s.ids().short(), s.ids().uuid(), s.ids().hex(32));
    let b = (other.ids().short(), other.ids().uuid(), other.ids().hex(32));
    assert_eq!(a, b);
    let first = s.ids().next_activity();
    assert!(s.ids().next_activity() > first);
}

fn a_request_kept_and_committed_stays(s: &mut dyn Store) {
    s.begin().unwrap();
    s.put_customer(100, &user("a"), Customer::default()).unwrap();
    s.end(true).unwrap();
    s.commit().unwrap();
    assert!(s.customer(100, &user("a")).unwrap().is_some());
}
