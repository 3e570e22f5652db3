//! proptest strategies for the agent wire types, producing canonical values (those that
//! decode back to themselves). The shared objects come from `crate::strategies`, with the
//! agent-view fields filled in here.

use chatio_wire::agent::*;
use chatio_wire::{
    Chat, ErrorObject, LicenseId, NewEvent, NewThread, PropertyValue, SneakPeek, Token, TypingIndicator, User, UserId,
};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

use crate::strategies::{
    chat_id, error_object, event, id, json_object, json_value, name, new_event, postback, properties, raw_object,
    recipients, request_id, scopes, text, thread, thread_id, timestamp, user,
};

fn user_id() -> impl Strategy<Value = UserId> {
    id().prop_map(UserId::new)
}

fn routing_status() -> impl Strategy<Value = RoutingStatus> {
    let all: Vec<RoutingStatus> =
        RoutingStatus::KNOWN.iter().cloned().chain([RoutingStatus::Other("away".into())]).collect();
    proptest::sample::select(all)
}

fn monitoring() -> BoxedStrategy<CustomerMonitoring> {
    (
        option::of((option::of(timestamp()), vec((timestamp(), text(), option::of(text())), 0..3))),
        option::of((option::of(any::<u64>()), option::of(any::<u64>()), option::of(timestamp()))),
        option::of(text()),
        option::of(text()),
        option::of((option::of(text()), option::of(text()))),
    )
        .prop_map(|(visit, stats, referrer, ip, geo)| {
            let mut m = CustomerMonitoring::default();
            m.current_visit = visit.map(|(start, pages)| {
                let mut v = CurrentVisit::default();
                v.start = start;
                v.pages = pages.into_iter().map(|(t, u, title)| VisitedPage::new(t, u, title)).collect();
                v
            });
            m.stats = stats.map(|(visits, views, last)| {
                let mut s = VisitStats::default();
                s.visits = visits;
                s.page_views = views;
                s.last_visit = last;
                s
            });
            m.referrer = referrer;
            m.user_agent = ip.clone();
            m.ip = ip;
            m.geolocation = geo.map(|(country, city)| {
                let mut g = Geolocation::default();
                g.country = country;
                g.city = city;
                g
            });
            m
        })
        .boxed()
}

/// A user with the agent-view fields.
pub fn agent_user() -> BoxedStrategy<User> {
    (
        user(),
        option::of(monitoring()),
        option::of(any::<bool>()),
        option::of(routing_status()),
        option::of(prop_oneof![Just(Permission::Administrator), Just(Permission::Normal)]),
    )
        .prop_map(|(mut u, m, banned, status, permission)| {
            u.monitoring = m.map(Box::new);
            u.banned = banned;
            u.routing_status = status;
            u.permission = permission;
            u
        })
        .boxed()
}

fn agent_new_event() -> impl Strategy<Value = NewEvent> {
    (new_event(), option::of(recipients())).prop_map(|(mut e, r)| {
        e.recipients = r;
        e
    })
}

fn agent_chat() -> BoxedStrategy<Chat> {
    (
        id(),
        vec(agent_user(), 0..3),
        option::of(properties()),
        option::of(scopes()),
        option::of(thread()),
        option::of(vec(thread(), 0..2)),
        option::of(vec((thread_id(), any::<u64>()), 0..3)),
    )
        .prop_map(|(id, users, props, scopes, thread, threads, summary)| {
            let mut c = Chat::new(id);
            c.users = users;
            c.properties = props;
            c.scopes = scopes;
            c.thread = thread;
            c.threads = threads;
            c.threads_summary = summary.map(|s| s.into_iter().map(|(t, o)| ThreadRef::new(t, o)).collect());
            c
        })
        .boxed()
}

fn last_event() -> impl Strategy<Value = chatio_wire::LastEvent> {
    (thread_id(), any::<u64>(), event()).prop_map(|(t, o, e)| chatio_wire::LastEvent::new(t, o, e))
}

fn chat_summary() -> BoxedStrategy<ChatSummary> {
    (
        chat_id(),
        vec(agent_user(), 0..2),
        option::of(btree_map(name(), last_event(), 0..3)),
        option::of((
            thread_id(),
            option::of(timestamp()),
            vec(user_id(), 0..2),
            any::<u64>(),
            option::of(properties()),
            option::of(any::<bool>()),
        )),
        option::of(properties()),
        option::of(scopes()),
    )
        .prop_map(|(id, users, last, thread, props, scopes)| {
            let mut s = ChatSummary::new(id);
            s.users = users;
            s.last_event_per_type = last;
            s.last_thread_summary = thread.map(|(t, ts, u, o, p, a)| {
                let mut l = LastThreadSummary::new(t, o);
                l.timestamp = ts;
                l.user_ids = u;
                l.properties = p;
                l.active = a;
                l
            });
            s.properties = props;
            s.scopes = scopes;
            s
        })
        .boxed()
}

/// Filter values: the property types of the Configuration API (int, bool, string).
fn filter_value() -> impl Strategy<Value = PropertyValue> {
    prop_oneof![
        any::<i32>().prop_map(|i| PropertyValue::Int(i.into())),
        any::<bool>().prop_map(PropertyValue::Bool),
        text().prop_map(PropertyValue::String),
    ]
}

fn property_filter() -> impl Strategy<Value = PropertyFilter> {
    prop_oneof![
        any::<bool>().prop_map(PropertyFilter::Exists),
        vec(filter_value(), 0..3).prop_map(PropertyFilter::Values),
        vec(filter_value(), 0..3).prop_map(PropertyFilter::ExcludeValues),
    ]
}

fn property_filters() -> impl Strategy<Value = PropertyFilters> {
    vec((name(), name(), property_filter()), 0..3)
        .prop_map(|fs| fs.into_iter().fold(PropertyFilters::new(), |acc, (ns, n, f)| acc.with(ns, n, f)))
}

fn date() -> impl Strategy<Value = Date> {
    (1970u16..=9999, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).expect("valid date"))
}

fn url_filter() -> impl Strategy<Value = UrlFilter> {
    let matches = || vec((text(), any::<bool>()).prop_map(|(v, e)| UrlMatch::new(v, e)), 0..3);
    prop_oneof![matches().prop_map(UrlFilter::Values), matches().prop_map(UrlFilter::ExcludeValues)]
}

fn rules() -> impl Strategy<Value = AutoChatScopesRules> {
    (option::of(property_filters()), option::of(url_filter()), btree_map("x[a-z]{1,5}", json_value(), 0..2)).prop_map(
        |(p, u, other)| {
            let mut r = AutoChatScopesRules::default();
            r.chat_properties = p;
            r.customer_url = u;
            r.other = other;
            r
        },
    )
}

fn license() -> impl Strategy<Value = License> {
    (any::<u64>(), option::of(name()), option::of(timestamp()), option::of(timestamp()), option::of(any::<bool>()))
        .prop_map(|(id, plan, exp, created, trial)| {
            let mut l = License::new(LicenseId(id));
            l.plan = plan;
            l.expiration_timestamp = exp;
            l.creation_timestamp = created;
            l.in_trial = trial;
            l
        })
}

fn platform() -> impl Strategy<Value = Platform> {
    prop_oneof![Just(Platform::Ios), Just(Platform::Android), Just(Platform::Other("web".into()))]
}

fn multicast_scopes() -> impl Strategy<Value = MulticastScopes> {
    (
        option::of((option::of(any::<bool>()), option::of(vec(user_id(), 0..2)), option::of(vec(0u64..50, 0..3)))),
        option::of(option::of(vec(user_id(), 0..2))),
    )
        .prop_map(|(agents, customers)| {
            let mut s = MulticastScopes::default();
            s.agents = agents.map(|(all, ids, groups)| {
                let mut a = MulticastAgents::default();
                a.all = all;
                a.ids = ids;
                a.groups = groups;
                a
            });
            s.customers = customers.map(|ids| {
                let mut c = MulticastCustomers::default();
                c.ids = ids;
                c
            });
            s
        })
}

fn start_chat() -> impl Strategy<Value = StartChat> {
    (
        option::of(scopes()),
        option::of(properties()),
        option::of((vec(agent_new_event(), 0..3), option::of(properties()))),
    )
        .prop_map(|(s, p, t)| {
            let mut sc = StartChat::new();
            sc.chat.scopes = s;
            sc.chat.properties = p;
            sc.chat.thread = t.map(|(events, props)| {
                let mut nt = NewThread::default();
                nt.events = events;
                nt.properties = props;
                nt
            });
            sc
        })
}

pub fn request() -> BoxedStrategy<Request> {
    // Two groups: `prop_oneof!` takes at most a few dozen arms comfortably.
    let reads = prop_oneof![
        (
            "[a-zA-Z0-9 -]{1,20}",
            option::of(any::<bool>()),
            option::of((platform(), option::of(text()))),
            option::of((option::of(text()), option::of(text())))
        )
            .prop_map(|(t, r, p, a)| {
                let mut l = Login::new(Token::new(t));
                l.reconnect = r;
                l.push_notifications = p.map(|(p, f)| PushNotifications::new(p, f));
                l.application = a.map(|(n, v)| {
                    let mut app = Application::default();
                    app.name = n;
                    app.version = v;
                    app
                });
                Request::Login(l)
            }),
        (
            option::of((
                option::of(text()),
                option::of(date()),
                option::of(date()),
                option::of(vec(user_id(), 0..2)),
                option::of(vec(0u64..9, 0..2)),
                option::of(property_filters())
            )),
            option::of((option::of(any::<u64>()), option::of(any::<u64>())))
        )
            .prop_map(|(f, p)| {
                let mut g = GetArchives::default();
                g.filters = f.map(|(q, from, to, agents, teams, props)| {
                    let mut a = ArchiveFilters::default();
                    a.query = q;
                    a.date_from = from;
                    a.date_to = to;
                    a.agent_ids = agents;
                    a.team_ids = teams;
                    a.properties = props;
                    a
                });
                g.pagination = p.map(|(page, limit)| {
                    let mut pg = Pagination::default();
                    pg.page = page;
                    pg.limit = limit;
                    pg
                });
                Request::GetArchives(g)
            }),
        option::of((option::of(any::<bool>()), option::of(property_filters()))).prop_map(|f| {
            Request::GetFilteredChats(match f {
                Some((a, p)) => {
                    let mut c = ChatFilters::default();
                    c.include_active = a;
                    c.properties = p;
                    GetFilteredChats::filtered(c)
                }
                None => GetFilteredChats::new(),
            })
        }),
        (chat_id(), vec(thread_id(), 0..3)).prop_map(|(c, t)| Request::GetChatThreads(GetChatThreads::new(c, t))),
        start_chat().prop_map(Request::StartChat),
        (chat_id(), option::of(vec(user_id(), 0..3))).prop_map(|(c, a)| {
            let mut j = JoinChat::new(c, vec![]);
            j.agent_ids = a;
            Request::JoinChat(j)
        }),
        (chat_id(), option::of(vec(user_id(), 0..3)), option::of(vec(user_id(), 0..2))).prop_map(|(c, a, cu)| {
            let mut r = RemoveFromChat::me(c);
            r.agent_ids = a;
            r.customer_ids = cu;
            Request::RemoveFromChat(r)
        }),
        (chat_id(), agent_new_event()).prop_map(|(c, e)| Request::SendEvent(SendEvent::new(c, e))),
        (chat_id(), thread_id(), id(), postback())
            .prop_map(|(c, t, e, p)| Request::SendRichMessagePostback(SendRichMessagePostback::new(c, t, e, p))),
        (multicast_scopes(), json_value()).prop_map(|(s, c)| Request::Multicast(Multicast::new(s, c))),
        (chat_id(), option::of(recipients()), any::<bool>()).prop_map(|(c, r, t)| {
            let mut s = SendTypingIndicator::new(c, t);
            s.recipients = r;
            Request::SendTypingIndicator(s)
        }),
        (user_id(), any::<u32>()).prop_map(|(c, d)| Request::BanCustomer(BanCustomer::new(c, d))),
    ];
    let writes = prop_oneof![
        (chat_id(), option::of(thread_id())).prop_map(|(c, t)| {
            let mut ct = CloseThread::new(c);
            ct.thread_id = t;
            Request::CloseThread(ct)
        }),
        (chat_id(), option::of(scopes()), option::of(scopes()))
            .prop_map(|(c, a, r)| Request::UpdateChatScopes(UpdateChatScopes::new(c, a, r))),
        (option::of(user_id()), option::of(routing_status())).prop_map(|(a, s)| {
            let mut u = UpdateAgent::default();
            u.agent_id = a;
            u.routing_status = s;
            Request::UpdateAgent(u)
        }),
        (text(), platform(), any::<bool>())
            .prop_map(|(t, p, e)| Request::ChangePushNotifications(ChangePushNotifications::new(t, p, e))),
        (chat_id(), properties()).prop_map(|(c, p)| Request::UpdateChatProperties(UpdateChatProperties::new(c, p))),
        (chat_id(), thread_id(), properties())
            .prop_map(|(c, t, p)| Request::UpdateChatThreadProperties(UpdateChatThreadProperties::new(c, t, p))),
        (chat_id(), option::of(timestamp()))
            .prop_map(|(c, t)| Request::UpdateLastSeenTimestamp(UpdateLastSeenTimestamp::new(c, t))),
        (scopes(), rules(), option::of(text())).prop_map(|(s, r, d)| {
            let mut a = AddAutoChatScopes::new(s, r);
            a.description = d;
            Request::AddAutoChatScopes(a)
        }),
        id().prop_map(|i| Request::RemoveAutoChatScopes(RemoveAutoChatScopes::new(i))),
        Just(Request::GetAutoChatScopesConfig),
        Just(Request::UploadImage(UploadImage::new())),
        Just(Request::Ping),
        ("zz_[a-z]{1,8}", option::of(raw_object())).prop_map(|(action, payload)| Request::Unknown { action, payload }),
    ];
    prop_oneof![reads.boxed(), writes.boxed()].boxed()
}

pub fn response_data() -> BoxedStrategy<ResponseData> {
    let with_payload = prop_oneof![
        (license(), agent_user(), vec(chat_summary(), 0..2))
            .prop_map(|(l, p, s)| ResponseData::Login(LoginResponse::new(l, p, s))),
        (vec(agent_chat(), 0..2), any::<u64>(), any::<u64>()).prop_map(|(c, p, t)| {
            let chats = c.into_iter().map(ArchivedThread::new).collect();
            ResponseData::GetArchives(GetArchivesResponse::new(chats, ArchivesPage::new(p, t)))
        }),
        vec(chat_summary(), 0..3).prop_map(|s| ResponseData::GetFilteredChats(GetFilteredChatsResponse::new(s))),
        agent_chat().prop_map(|c| ResponseData::GetChatThreads(GetChatThreadsResponse::new(c))),
        agent_chat().prop_map(|c| ResponseData::StartChat(StartChatResponse::new(c))),
        (thread_id(), event()).prop_map(|(t, e)| ResponseData::SendEvent(SendEventResponse::new(t, e))),
        timestamp().prop_map(|t| ResponseData::UpdateLastSeenTimestamp(UpdateLastSeenTimestampResponse::new(t))),
        id().prop_map(|i| ResponseData::AddAutoChatScopes(AddAutoChatScopesResponse::new(i))),
        vec((id(), option::of(text()), scopes(), rules()), 0..2).prop_map(|cs| {
            let configs = cs
                .into_iter()
                .map(|(i, d, s, r)| {
                    let mut c = AutoChatScopesConfig::new(i, s, r);
                    c.description = d;
                    c
                })
                .collect();
            ResponseData::GetAutoChatScopesConfig(GetAutoChatScopesConfigResponse::new(configs))
        }),
        (text(), text()).prop_map(|(u, p)| ResponseData::UploadImage(UploadImageResponse::new(u, p))),
        ("zz_[a-z]{1,8}", option::of(raw_object()))
            .prop_map(|(action, payload)| ResponseData::Unknown { action, payload }),
    ];
    let empty: Vec<ResponseData> = Action::ALL.iter().filter_map(|a| ResponseData::empty(*a)).collect();
    prop_oneof![with_payload.boxed(), proptest::sample::select(empty).boxed()].boxed()
}

fn typing_indicator() -> impl Strategy<Value = TypingIndicator> {
    (id(), option::of(recipients()), timestamp(), any::<bool>()).prop_map(|(a, r, t, on)| {
        let mut ti = TypingIndicator::new(a, t, on);
        ti.recipients = r;
        ti
    })
}

fn sneak_peek() -> impl Strategy<Value = SneakPeek> {
    (id(), option::of(recipients()), timestamp(), text()).prop_map(|(a, r, t, x)| {
        let mut s = SneakPeek::new(a, t, x);
        s.recipients = r;
        s
    })
}

fn reason() -> impl Strategy<Value = AgentDisconnectReason> {
    let r: Vec<AgentDisconnectReason> = AgentDisconnectReason::KNOWN
        .iter()
        .cloned()
        .chain([AgentDisconnectReason::Other("maintenance".into())])
        .collect();
    proptest::sample::select(r)
}

pub fn push() -> BoxedStrategy<Push> {
    let chats = prop_oneof![
        agent_chat().prop_map(|c| Push::IncomingChatThread(IncomingChatThread::new(c))),
        (chat_id(), vec(agent_user(), 0..2), vec(user_id(), 0..2), vec(agent_user(), 0..2), vec(user_id(), 0..2))
            .prop_map(|(c, ca, cr, aa, ar)| {
                let mut u = UpdatedUsers::default();
                u.customers = UsersChange::new(ca, cr);
                u.agents = UsersChange::new(aa, ar);
                Push::ChatUsersUpdated(ChatUsersUpdated::new(c, u))
            }),
        (chat_id(), option::of(thread_id()), event()).prop_map(|(c, t, e)| {
            let mut p = IncomingEvent::new(c, "x", e);
            p.thread_id = t;
            Push::IncomingEvent(p)
        }),
        (user_id(), chat_id(), thread_id(), id(), postback()).prop_map(|(u, c, t, e, p)| {
            Push::IncomingRichMessagePostback(IncomingRichMessagePostback::new(u, c, t, e, p))
        }),
        (user_id(), json_object()).prop_map(|(a, c)| Push::IncomingMulticast(IncomingMulticast::new(a, c))),
        (chat_id(), typing_indicator())
            .prop_map(|(c, t)| Push::IncomingTypingIndicator(IncomingTypingIndicator::new(c, t))),
        (chat_id(), sneak_peek()).prop_map(|(c, s)| Push::IncomingSneakPeek(IncomingSneakPeek::new(c, s))),
        (user_id(), any::<u32>()).prop_map(|(c, d)| Push::CustomerBanned(CustomerBanned::new(c, Ban::days(d)))),
    ];
    let changes = prop_oneof![
        (chat_id(), thread_id(), option::of(user_id()))
            .prop_map(|(c, t, u)| Push::ThreadClosed(ThreadClosed::new(c, t, u))),
        (chat_id(), scopes(), scopes()).prop_map(|(c, a, r)| Push::ChatScopesUpdated(ChatScopesUpdated::new(c, a, r))),
        (chat_id(), agent_user()).prop_map(|(c, u)| Push::CustomerUpdated(CustomerUpdated::new(c, u))),
        (user_id(), option::of(routing_status())).prop_map(|(a, s)| {
            let mut p = AgentUpdated::new(a, RoutingStatus::Offline);
            p.routing_status = s;
            Push::AgentUpdated(p)
        }),
        reason().prop_map(|r| Push::AgentDisconnected(AgentDisconnected::new(r))),
        (chat_id(), properties()).prop_map(|(c, p)| Push::ChatPropertiesUpdated(ChatPropertiesUpdated::new(c, p))),
        (chat_id(), thread_id(), properties())
            .prop_map(|(c, t, p)| Push::ChatThreadPropertiesUpdated(ChatThreadPropertiesUpdated::new(c, t, p))),
        (user_id(), chat_id(), timestamp())
            .prop_map(|(u, c, t)| Push::LastSeenTimestampUpdated(LastSeenTimestampUpdated::new(u, c, t))),
        ("zz_[a-z]{1,8}", option::of(raw_object())).prop_map(|(action, payload)| Push::Unknown { action, payload }),
    ];
    prop_oneof![chats.boxed(), changes.boxed()].boxed()
}

pub fn client_frame() -> impl Strategy<Value = ClientFrame> {
    (option::of(request_id()), option::of(user_id()), request()).prop_map(|(id, a, r)| {
        let mut f = ClientFrame::new(id, r);
        f.author_id = a;
        f
    })
}

pub fn server_frame() -> impl Strategy<Value = ServerFrame> {
    let failure_action = prop_oneof![Just(String::new()), Just("join_chat".to_owned()), "zz_[a-z]{1,6}"];
    prop_oneof![
        (option::of(request_id()), response_data()).prop_map(|(id, d)| ServerFrame::Response(Response::success(id, d))),
        (
            option::of(request_id()),
            failure_action,
            error_object().prop_map(|mut e: ErrorObject| {
                e.data = None;
                e
            })
        )
            .prop_map(|(id, a, e)| ServerFrame::Response(Response::failure(id, a, e))),
        (option::of(request_id()), push()).prop_map(|(id, p)| ServerFrame::Push(PushFrame::new(id, p))),
    ]
}

/// Every small agent object, for plain serde round trips.
#[allow(clippy::type_complexity)]
pub fn objects()
-> impl Strategy<Value = (User, ChatSummary, PropertyFilters, AutoChatScopesRules, License, MulticastScopes, Date)> {
    (agent_user(), chat_summary(), property_filters(), rules(), license(), multicast_scopes(), date())
}
