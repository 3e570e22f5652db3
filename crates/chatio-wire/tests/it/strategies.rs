//! proptest strategies for every wire type, producing canonical values (those that decode
//! back to themselves: no unknown names that are known ones, no unknown event fields named like
//! the common keys, no floats whose text would not round-trip). Property values that are
//! objects with a `value` key are included: the encoders keep them wrapped.

use std::collections::BTreeMap;

use chatio_wire::*;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

pub fn id() -> impl Strategy<Value = String> {
    "[A-Z0-9]{1,10}"
}

pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[a-zA-Z0-9 .,!?]{0,24}", 1 => any::<String>()]
}

pub fn name() -> impl Strategy<Value = String> {
    "[a-z_]{1,8}"
}

pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0u64..(1 << 40)).prop_map(Timestamp::from_secs)
}

pub fn request_id() -> impl Strategy<Value = RequestId> {
    prop_oneof![id().prop_map(RequestId::new), any::<u64>().prop_map(RequestId::from_number)]
}

/// Simple JSON (no floats).
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(name(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

pub fn json_object() -> impl Strategy<Value = Value> {
    btree_map(name(), json_value(), 0..4).prop_map(|m| Value::Object(m.into_iter().collect()))
}

pub fn property_value() -> impl Strategy<Value = PropertyValue> {
    prop_oneof![
        any::<i64>().prop_map(PropertyValue::Int),
        any::<bool>().prop_map(PropertyValue::Bool),
        text().prop_map(PropertyValue::String),
        Just(PropertyValue::Other(Value::Null)),
        vec(any::<i32>(), 0..3).prop_map(|v| PropertyValue::Other(json!(v))),
        btree_map("[a-u]{1,5}", any::<bool>(), 1..3).prop_map(|m| PropertyValue::Other(json!(m))),
        // An object with a `value` key: both property forms must keep it wrapped.
        (any::<i32>(), option::of(text())).prop_map(|(v, unit)| PropertyValue::Other(match unit {
            Some(u) => json!({"value": v, "unit": u}),
            None => json!({"value": v}),
        })),
    ]
}

pub fn properties() -> impl Strategy<Value = Properties> {
    btree_map(name(), btree_map(name(), property_value(), 1..3), 0..3).prop_map(Properties::from)
}

pub fn scopes() -> impl Strategy<Value = Scopes> {
    option::of(vec(0u64..100, 0..4)).prop_map(|g| match g {
        Some(g) => Scopes::groups(g),
        None => Scopes::all(),
    })
}

pub fn user_type() -> impl Strategy<Value = UserType> {
    prop_oneof![Just(UserType::Customer), Just(UserType::Agent), Just(UserType::Other("bot".into()))]
}

pub fn user() -> impl Strategy<Value = User> {
    (
        id(),
        user_type(),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(any::<bool>()),
        option::of(btree_map(name(), text(), 0..3)),
        option::of(timestamp()),
    )
        .prop_map(|(id, kind, name, email, avatar, present, fields, seen)| {
            let mut u = User::new(UserId::new(id), kind);
            u.name = name;
            u.email = email;
            u.avatar = avatar;
            u.present = present;
            u.fields = fields;
            u.last_seen_timestamp = seen;
            u
        })
}

fn form_field() -> impl Strategy<Value = FormField> {
    (
        prop_oneof![Just("text"), Just("email"), Just("radio"), Just("title")],
        option::of(name()),
        option::of(text()),
        option::of(any::<bool>()),
        option::of(text()),
        option::of(vec((text(), name(), any::<bool>()), 0..3)),
    )
        .prop_map(|(ty, n, label, required, value, options)| {
            let mut f = FormField::new(ty, "x", "y");
            f.name = n;
            f.label = label;
            f.required = required;
            f.value = value;
            f.options = options.map(|o| o.into_iter().map(|(l, v, c)| FormOption::new(l, v, c)).collect());
            f
        })
}

fn image() -> impl Strategy<Value = Image> {
    (
        text(),
        option::of(text()),
        option::of(name()),
        option::of(any::<u64>()),
        option::of(any::<u32>()),
        option::of(any::<u32>()),
    )
        .prop_map(|(url, n, ct, size, w, h)| {
            let mut i = Image::new(url);
            i.name = n;
            i.content_type = ct;
            i.size = size;
            i.width = w;
            i.height = h;
            i
        })
}

fn rich_element() -> impl Strategy<Value = RichElement> {
    (option::of(text()), option::of(text()), option::of(image()), vec((text(), name(), vec(id(), 0..2)), 0..3))
        .prop_map(|(title, subtitle, image, buttons)| {
            let mut e = RichElement::default();
            e.title = title;
            e.subtitle = subtitle;
            e.image = image;
            e.buttons = buttons
                .into_iter()
                .map(|(t, p, u)| {
                    let mut b = Button::new(t, p);
                    b.user_ids = u.into_iter().map(UserId::new).collect();
                    b
                })
                .collect();
            e
        })
}

const COMMON: [&str; 8] = ["id", "custom_id", "order", "type", "author_id", "timestamp", "properties", "recipients"];

pub fn event_kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        text().prop_map(|t| EventKind::Message(Message::new(t))),
        (text(), option::of(name())).prop_map(|(t, k)| {
            let mut m = SystemMessage::new(t, "x");
            m.system_message_type = k;
            EventKind::SystemMessage(m)
        }),
        (name(), option::of(text())).prop_map(|(k, t)| EventKind::Annotation(Annotation::new(k, t))),
        vec(form_field(), 0..3).prop_map(|f| EventKind::FilledForm(FilledForm::new(f))),
        (text(), text(), name(), any::<u64>(), option::of(any::<u32>()), option::of(any::<u32>())).prop_map(
            |(n, u, ct, s, w, h)| {
                let mut f = FileAttachment::new(n, u, ct, s);
                f.width = w;
                f.height = h;
                EventKind::File(f)
            }
        ),
        json_value().prop_map(|c| EventKind::Custom(Custom::new(c))),
        (name(), vec(rich_element(), 0..3)).prop_map(|(t, e)| EventKind::RichMessage(RichMessage::new(t, e))),
        ("x[a-z]{1,6}", btree_map(name(), json_value(), 0..3)).prop_map(|(t, f)| {
            let fields: Map<String, Value> = f.into_iter().filter(|(k, _)| !COMMON.contains(&k.as_str())).collect();
            EventKind::Unknown { event_type: t, fields }
        }),
    ]
}

pub fn recipients() -> impl Strategy<Value = Recipients> {
    prop_oneof![Just(Recipients::All), Just(Recipients::Agents), Just(Recipients::Other("owners".into()))]
}

pub fn event() -> impl Strategy<Value = Event> {
    (
        id(),
        option::of(text()),
        any::<u64>(),
        option::of(id()),
        timestamp(),
        option::of(properties()),
        option::of(recipients()),
        event_kind(),
    )
        .prop_map(|(id, custom_id, order, author, ts, props, rec, kind)| {
            let mut e = Event::new(id, order, ts, kind);
            e.custom_id = custom_id;
            e.author_id = author.map(UserId::new);
            e.properties = props;
            e.recipients = rec;
            e
        })
}

pub fn new_event() -> impl Strategy<Value = NewEvent> {
    (option::of(text()), option::of(properties()), event_kind()).prop_map(|(c, p, k)| {
        let mut e = NewEvent::new(k);
        e.custom_id = c;
        e.properties = p;
        e
    })
}

pub fn thread() -> impl Strategy<Value = Thread> {
    (
        id(),
        any::<bool>(),
        any::<u64>(),
        vec(id(), 0..3),
        vec(event(), 0..3),
        option::of(properties()),
        option::of(timestamp()),
    )
        .prop_map(|(id, active, order, users, events, props, ts)| {
            let mut t = Thread::new(id, active, order);
            t.user_ids = users.into_iter().map(UserId::new).collect();
            t.events = events;
            t.properties = props;
            t.timestamp = ts;
            t
        })
}

pub fn chat() -> impl Strategy<Value = Chat> {
    (
        id(),
        vec(user(), 0..3),
        option::of(properties()),
        option::of(scopes()),
        option::of(thread()),
        option::of(vec(thread(), 0..2)),
    )
        .prop_map(|(id, users, props, scopes, thread, threads)| {
            let mut c = Chat::new(id);
            c.users = users;
            c.properties = props;
            c.scopes = scopes;
            c.thread = thread;
            c.threads = threads;
            c
        })
}

pub fn chat_summary() -> impl Strategy<Value = ChatSummary> {
    (
        id(),
        any::<u64>(),
        vec(user(), 0..2),
        option::of(properties()),
        option::of(scopes()),
        option::of(btree_map(name(), (id(), option::of(any::<u64>()), event()), 0..3)),
    )
        .prop_map(|(id, order, users, props, scopes, last)| {
            let mut s = ChatSummary::new(id, order);
            s.users = users;
            s.properties = props;
            s.scopes = scopes;
            s.last_event_per_type = last.map(|m| {
                m.into_iter()
                    .map(|(k, (t, o, e))| {
                        let mut le = LastEvent::new(t, 0, e);
                        le.thread_order = o;
                        (k, le)
                    })
                    .collect::<BTreeMap<_, _>>()
            });
            s
        })
}

pub fn thread_summary() -> impl Strategy<Value = ThreadSummary> {
    (id(), any::<u64>(), option::of(any::<u64>())).prop_map(|(id, o, n)| {
        let mut s = ThreadSummary::new(id, o, 0);
        s.total_events = n;
        s
    })
}

pub fn customer_data() -> impl Strategy<Value = CustomerData> {
    (
        option::of(text()),
        option::of(text()),
        option::of(btree_map(name(), text(), 0..3)),
        option::of((option::of((option::of(text()), option::of(text()), option::of(text()))), option::of(text()))),
    )
        .prop_map(|(n, e, f, m)| {
            let mut c = CustomerData::new();
            c.name = n;
            c.email = e;
            c.fields = f;
            c.monitoring = m.map(|(page, tz)| {
                let mut mon = Monitoring::default();
                mon.page = page.map(|(u, t, r)| {
                    let mut p = Page::default();
                    p.url = u;
                    p.title = t;
                    p.referrer = r;
                    p
                });
                mon.timezone = tz;
                mon
            });
            c
        })
}

pub fn chat_id() -> impl Strategy<Value = ChatId> {
    id().prop_map(ChatId::new)
}

pub fn thread_id() -> impl Strategy<Value = ThreadId> {
    id().prop_map(ThreadId::new)
}

pub fn postback() -> impl Strategy<Value = Postback> {
    (name(), any::<bool>()).prop_map(|(i, t)| Postback::new(i, t))
}

pub fn raw_object() -> impl Strategy<Value = RawJson> {
    json_object().prop_map(|v| RawJson::from_json(&v.to_string()).expect("valid JSON"))
}

pub fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        ("[a-zA-Z0-9 -]{1,20}", option::of(customer_data())).prop_map(|(t, c)| {
            let mut l = Login::new(Token::new(t));
            l.customer = c;
            Request::Login(l)
        }),
        (option::of(any::<u64>()), option::of(any::<u64>())).prop_map(|(o, l)| {
            let mut g = GetChatsSummary::default();
            g.offset = o;
            g.limit = l;
            Request::GetChatsSummary(g)
        }),
        (chat_id(), vec(thread_id(), 0..3)).prop_map(|(c, t)| Request::GetChatThreads(GetChatThreads::new(c, t))),
        (chat_id(), option::of(any::<u64>()), option::of(any::<u64>())).prop_map(|(c, o, l)| {
            let mut g = GetChatThreadsSummary::new(c, 0, 0);
            g.offset = o;
            g.limit = l;
            Request::GetChatThreadsSummary(g)
        }),
        (
            option::of(scopes()),
            option::of(properties()),
            option::of((vec(new_event(), 0..3), option::of(properties())))
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
                Request::StartChat(sc)
            }),
        (chat_id(), new_event()).prop_map(|(c, e)| Request::SendEvent(SendEvent::new(c, e))),
        (chat_id(), option::of(text())).prop_map(|(c, i)| Request::SendFile(SendFile::new(c, i))),
        (chat_id(), thread_id(), id(), postback())
            .prop_map(|(c, t, e, p)| Request::SendRichMessagePostback(SendRichMessagePostback::new(c, t, e, p))),
        (chat_id(), text()).prop_map(|(c, t)| Request::SendSneakPeek(SendSneakPeek::new(c, t))),
        (chat_id(), option::of(thread_id())).prop_map(|(c, t)| {
            let mut ct = CloseThread::new(c);
            ct.thread_id = t;
            Request::CloseThread(ct)
        }),
        (chat_id(), option::of(scopes()), option::of(scopes()))
            .prop_map(|(c, a, r)| Request::UpdateChatScopes(UpdateChatScopes::new(c, a, r))),
        customer_data().prop_map(|c| Request::UpdateCustomer(UpdateCustomer::new(c))),
        (chat_id(), properties()).prop_map(|(c, p)| Request::UpdateChatProperties(UpdateChatProperties::new(c, p))),
        (chat_id(), thread_id(), properties())
            .prop_map(|(c, t, p)| Request::UpdateChatThreadProperties(UpdateChatThreadProperties::new(c, t, p))),
        (chat_id(), option::of(timestamp()))
            .prop_map(|(c, t)| Request::UpdateLastSeenTimestamp(UpdateLastSeenTimestamp::new(c, t))),
        Just(Request::Ping),
        ("zz_[a-z]{1,8}", option::of(raw_object())).prop_map(|(action, payload)| Request::Unknown { action, payload }),
    ]
}

pub fn response_data() -> impl Strategy<Value = ResponseData> {
    prop_oneof![
        (id(), option::of(text())).prop_map(|(c, p)| ResponseData::Login(LoginResponse::new(c, p))),
        (vec(chat_summary(), 0..2), any::<u64>())
            .prop_map(|(s, t)| ResponseData::GetChatsSummary(GetChatsSummaryResponse::new(s, t))),
        chat().prop_map(|c| ResponseData::GetChatThreads(GetChatThreadsResponse::new(c))),
        (vec(thread_summary(), 0..3), any::<u64>())
            .prop_map(|(s, t)| ResponseData::GetChatThreadsSummary(GetChatThreadsSummaryResponse::new(s, t))),
        chat().prop_map(|c| ResponseData::StartChat(StartChatResponse::new(c))),
        (thread_id(), event()).prop_map(|(t, e)| ResponseData::SendEvent(SendEventResponse::new(t, e))),
        text().prop_map(|u| ResponseData::SendFile(SendFileResponse::new(u))),
        Just(ResponseData::SendRichMessagePostback),
        Just(ResponseData::SendSneakPeek),
        Just(ResponseData::CloseThread),
        Just(ResponseData::UpdateChatScopes),
        user().prop_map(|u| ResponseData::UpdateCustomer(UpdateCustomerResponse::new(u))),
        Just(ResponseData::UpdateChatProperties),
        Just(ResponseData::UpdateChatThreadProperties),
        timestamp().prop_map(|t| ResponseData::UpdateLastSeenTimestamp(UpdateLastSeenTimestampResponse::new(t))),
        Just(ResponseData::Ping),
        ("zz_[a-z]{1,8}", option::of(raw_object()))
            .prop_map(|(action, payload)| ResponseData::Unknown { action, payload }),
    ]
}

pub fn error_object() -> impl Strategy<Value = ErrorObject> {
    let kinds: Vec<ErrorType> =
        ErrorType::KNOWN.iter().cloned().chain([ErrorType::Other("slow_down".into())]).collect();
    (proptest::sample::select(kinds), text(), option::of(json_object())).prop_map(|(k, m, d)| {
        let mut e = ErrorObject::new(k, m);
        e.data = d;
        e
    })
}

pub fn reason() -> impl Strategy<Value = DisconnectReason> {
    let r: Vec<DisconnectReason> =
        DisconnectReason::KNOWN.iter().cloned().chain([DisconnectReason::Other("maintenance".into())]).collect();
    proptest::sample::select(r)
}

pub fn push() -> impl Strategy<Value = Push> {
    prop_oneof![
        chat().prop_map(|c| Push::IncomingChatThread(IncomingChatThread::new(c))),
        (chat_id(), vec(user(), 0..2), vec(id(), 0..2)).prop_map(|(c, a, r)| Push::ChatUsersUpdated(
            ChatUsersUpdated::new(c, UpdatedUsers::new(a, r.into_iter().map(UserId::new).collect()))
        )),
        (chat_id(), option::of(thread_id()), event()).prop_map(|(c, t, e)| {
            let mut p = IncomingEvent::new(c, "x", e);
            p.thread_id = t;
            Push::IncomingEvent(p)
        }),
        (id(), chat_id(), thread_id(), id(), postback()).prop_map(|(u, c, t, e, p)| Push::IncomingRichMessagePostback(
            IncomingRichMessagePostback::new(u, c, t, e, p)
        )),
        (id(), json_value()).prop_map(|(a, c)| Push::IncomingMulticast(IncomingMulticast::new(a, c))),
        (chat_id(), id(), timestamp(), any::<bool>()).prop_map(|(c, a, t, on)| Push::IncomingTypingIndicator(
            IncomingTypingIndicator::new(c, TypingIndicator::new(a, t, on))
        )),
        reason().prop_map(|r| Push::CustomerDisconnected(CustomerDisconnected::new(r))),
        (chat_id(), thread_id(), option::of(id())).prop_map(|(c, t, u)| Push::ThreadClosed(ThreadClosed::new(
            c,
            t,
            u.map(UserId::new)
        ))),
        (chat_id(), scopes(), scopes()).prop_map(|(c, a, r)| Push::ChatScopesUpdated(ChatScopesUpdated::new(c, a, r))),
        (chat_id(), user()).prop_map(|(c, u)| Push::CustomerUpdated(CustomerUpdated::new(c, u))),
        (chat_id(), properties()).prop_map(|(c, p)| Push::ChatPropertiesUpdated(ChatPropertiesUpdated::new(c, p))),
        (chat_id(), thread_id(), properties())
            .prop_map(|(c, t, p)| Push::ChatThreadPropertiesUpdated(ChatThreadPropertiesUpdated::new(c, t, p))),
        (id(), chat_id(), timestamp())
            .prop_map(|(u, c, t)| Push::LastSeenTimestampUpdated(LastSeenTimestampUpdated::new(u, c, t))),
        ("zz_[a-z]{1,8}", option::of(raw_object())).prop_map(|(action, payload)| Push::Unknown { action, payload }),
    ]
}

pub fn client_frame() -> impl Strategy<Value = ClientFrame> {
    (option::of(request_id()), request()).prop_map(|(id, r)| ClientFrame::new(id, r))
}

pub fn server_frame() -> impl Strategy<Value = ServerFrame> {
    let failure_action = prop_oneof![Just(String::new()), Just("send_event".to_owned()), "zz_[a-z]{1,6}"];
    prop_oneof![
        (option::of(request_id()), response_data()).prop_map(|(id, d)| ServerFrame::Response(Response::success(id, d))),
        (option::of(request_id()), failure_action, error_object())
            .prop_map(|(id, a, e)| ServerFrame::Response(Response::failure(id, a, e))),
        (option::of(request_id()), push()).prop_map(|(id, p)| ServerFrame::Push(PushFrame::new(id, p))),
    ]
}

pub fn typing_indicator() -> impl Strategy<Value = TypingIndicator> {
    (id(), timestamp(), any::<bool>()).prop_map(|(a, t, on)| TypingIndicator::new(a, t, on))
}

pub fn sneak_peek() -> impl Strategy<Value = SneakPeek> {
    (id(), timestamp(), text()).prop_map(|(a, t, x)| SneakPeek::new(a, t, x))
}

pub fn license_id() -> impl Strategy<Value = LicenseId> {
    any::<u64>().prop_map(LicenseId)
}
