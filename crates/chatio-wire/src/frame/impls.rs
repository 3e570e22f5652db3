//! The methods and trait impls the frame types of every API share (the customer's in
//! `frame/mod.rs`, the agent's in `agent/frame.rs`), written once as macros: the types differ
//! only in their action and push sets, so their plumbing is the same text over other names.

/// `encode`, `decode`, `decode_bytes` and `decode_with` of a frame type, given its decoders
/// (`fn(&str, &Limits)` and `fn(&[u8], &Limits)`).
macro_rules! codec_methods {
    ($decode:expr, $decode_bytes:expr) => {
        /// The JSON text of the frame.
        pub fn encode(&self) -> String {
            crate::frame::encode(self)
        }

        /// Decodes one frame, within the default [`Limits`](crate::Limits).
        ///
        /// # Errors
        /// A [`DecodeError`](crate::DecodeError) saying what is wrong and where; never panics.
        pub fn decode(input: &str) -> Result<Self, crate::frame::decode::DecodeError> {
            $decode(input, &crate::frame::decode::Limits::default())
        }

        /// Decodes one frame from bytes (checked to be UTF-8), within the default
        /// [`Limits`](crate::Limits).
        ///
        /// # Errors
        /// A [`DecodeError`](crate::DecodeError) saying what is wrong and where; never panics.
        pub fn decode_bytes(input: &[u8]) -> Result<Self, crate::frame::decode::DecodeError> {
            $decode_bytes(input, &crate::frame::decode::Limits::default())
        }

        /// Decodes one frame within the given limits.
        ///
        /// # Errors
        /// A [`DecodeError`](crate::DecodeError) saying what is wrong and where; never panics.
        pub fn decode_with(
            input: &str,
            limits: &crate::frame::decode::Limits,
        ) -> Result<Self, crate::frame::decode::DecodeError> {
            $decode(input, limits)
        }
    };
}
pub(crate) use codec_methods;

/// Everything of an API's server frame types (`ServerFrame`, `Response`, `PushFrame`, defined
/// by hand with their docs) but their definitions: their methods, conversions and serde, and
/// the [`ServerApi`](super::server_serde::ServerApi) that the shared decoder reads them with.
/// The names in scope where it is called are that API's: `ServerFrame`, `Response`,
/// `PushFrame`, `Action`, `PushKind`, `ResponseData`, `Push`, and the payload seeds and
/// serializers `ResponseSeed`, `PushSeed`, `ResponsePayload`, `PushPayload`.
macro_rules! server_frame_impls {
    ($api:ident) => {
        impl ServerFrame {
            crate::frame::impls::codec_methods!(
                crate::frame::decode::decode_server::<$api>,
                crate::frame::decode::decode_server_bytes::<$api>
            );

            /// The frame's request id, if any.
            pub fn request_id(&self) -> Option<&crate::ids::RequestId> {
                match self {
                    Self::Response(r) => r.request_id.as_ref(),
                    Self::Push(p) => p.request_id.as_ref(),
                }
            }

            /// The frame's action (response) or push name.
            pub fn action(&self) -> &str {
                match self {
                    Self::Response(r) => r.action(),
                    Self::Push(p) => p.push.action(),
                }
            }
        }

        impl From<Response> for ServerFrame {
            fn from(r: Response) -> Self {
                Self::Response(r)
            }
        }

        impl From<PushFrame> for ServerFrame {
            fn from(p: PushFrame) -> Self {
                Self::Push(p)
            }
        }

        impl Response {
            /// A successful response.
            pub fn success(request_id: Option<crate::ids::RequestId>, data: ResponseData) -> Self {
                Self { request_id, result: Ok(data) }
            }

            /// A failed response to `action`.
            pub fn failure(
                request_id: Option<crate::ids::RequestId>,
                action: impl Into<String>,
                error: crate::objects::error::ErrorObject,
            ) -> Self {
                Self { request_id, result: Err(crate::frame::Failure::new(action, error)) }
            }

            /// The action answered.
            pub fn action(&self) -> &str {
                match &self.result {
                    Ok(d) => d.action(),
                    Err(f) => &f.action,
                }
            }
        }

        impl PushFrame {
            /// A push frame.
            pub fn new(request_id: Option<crate::ids::RequestId>, push: Push) -> Self {
                Self { request_id, push }
            }
        }

        impl crate::frame::server_serde::ServerApi for $api {
            type Action = Action;
            type PushKind = PushKind;
            type Frame = ServerFrame;

            fn parse_action(name: &str) -> Option<Action> {
                Action::parse(name)
            }
            fn action_name(action: Action) -> &'static str {
                action.as_str()
            }
            fn parse_push(name: &str) -> Option<PushKind> {
                PushKind::parse(name)
            }
            fn push_name(push: PushKind) -> &'static str {
                push.as_str()
            }
            fn decode_success<'de, D: serde::Deserializer<'de>>(
                action: Action,
                d: D,
                slot: &mut Option<ServerFrame>,
            ) -> Result<(), D::Error> {
                serde::de::DeserializeSeed::deserialize(ResponseSeed { action, slot }, d)
            }
            fn decode_push<'de, D: serde::Deserializer<'de>>(
                kind: PushKind,
                d: D,
                slot: &mut Option<ServerFrame>,
            ) -> Result<(), D::Error> {
                serde::de::DeserializeSeed::deserialize(PushSeed { kind, slot }, d)
            }
            fn failure(action: String, error: crate::objects::error::ErrorObject) -> ServerFrame {
                ServerFrame::Response(Response::failure(None, action, error))
            }
            fn unknown_response(action: String, payload: Option<crate::raw::RawJson>) -> ServerFrame {
                ServerFrame::Response(Response::success(None, ResponseData::Unknown { action, payload }))
            }
            fn unknown_push(action: String, payload: Option<crate::raw::RawJson>) -> ServerFrame {
                ServerFrame::Push(PushFrame::new(None, Push::Unknown { action, payload }))
            }
            fn set_request_id(frame: &mut ServerFrame, request_id: Option<crate::ids::RequestId>) {
                match frame {
                    ServerFrame::Response(r) => r.request_id = request_id,
                    ServerFrame::Push(p) => p.request_id = request_id,
                }
            }
        }

        impl serde::Serialize for ServerFrame {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    ServerFrame::Response(r) => {
                        let result = match &r.result {
                            Ok(data) => Ok((!matches!(data, ResponseData::Unknown { payload: None, .. }))
                                .then_some(ResponsePayload(data))),
                            Err(f) => Err(&f.error),
                        };
                        crate::frame::server_serde::serialize_response(s, r.request_id.as_ref(), r.action(), result)
                    }
                    ServerFrame::Push(p) => {
                        let payload =
                            (!matches!(p.push, Push::Unknown { payload: None, .. })).then_some(PushPayload(&p.push));
                        crate::frame::server_serde::serialize_push(s, p.request_id.as_ref(), p.push.action(), payload)
                    }
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for ServerFrame {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::frame::server_serde::deserialize_server_frame::<$api, D>(d)
            }
        }
    };
}
pub(crate) use server_frame_impls;
