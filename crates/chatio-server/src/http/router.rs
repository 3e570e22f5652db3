//! Routing: one hyper HTTP/1.1 connection per accepted socket, each request to its handler.
//! The [`Router`] owns what its routes need: the state, and the socket.io service.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::{Method, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;

use super::{accounts, admin, agent_sign_in, files, static_files, token, web_api};
use crate::net::http::{Resp, json_resp, respond};
use crate::net::timed_stream::TimedStream;
use crate::state::State;
use crate::transport;

/// The routes of one server and what they need.
#[derive(Debug)]
pub(crate) struct Router {
    state: Arc<State>,
    /// The socket.io transport's Engine.IO service.
    sio: transport::sio::Service,
}

impl Router {
    /// The router of a server with this state.
    pub(crate) fn new(state: Arc<State>) -> Self {
        let sio = transport::sio::service(state.clone());
        Self { state, sio }
    }
}

/// Serves HTTP/1.1 on one accepted connection (upgrades included).
pub(crate) async fn serve_connection(router: Arc<Router>, io: TokioIo<TimedStream>, peer: SocketAddr) {
    let body_timeout = router.state.config.body_timeout;
    let svc = hyper::service::service_fn(move |req| {
        let router = router.clone();
        async move {
            let cors = Cors::of(&router.state, &req);
            if req.method() == Method::OPTIONS {
                return Ok::<_, Infallible>(preflight(&req, cors));
            }
            let mut resp = route_in_time(&router, req, peer.ip()).await;
            allow_origin(&mut resp, cors);
            Ok::<_, Infallible>(resp)
        }
    });
    // The timer makes hyper's header read timeout effective: a client that never finishes
    // its request head (or sends none on a kept-alive connection) does not hold the
    // connection forever. Writes time out in `TimedStream`.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(body_timeout)
        .max_buf_size(64 * 1024)
        .serve_connection(io, svc)
        .with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!(%peer, error = %e, "http connection ended with an error");
    }
}

/// What CORS allows a request (G37). The Web API and the token endpoint authenticate by
/// bearer token, so a page on an allowed origin (a registered app's, or without any, the
/// own and loopback origins) may read their answers, never with credentials. socket.io's
/// polls are sent `withCredentials` by the JS SDK, so they get `Allow-Credentials` (for
/// allowed origins only; the server reads no cookie on them: the session authenticates by
/// its `login` frame). Everything else (the accounts page, files, admin, widget) sends no
/// CORS headers at all.
#[derive(Clone, Debug)]
enum Cors {
    None,
    Read(header::HeaderValue),
    ReadWithCredentials(header::HeaderValue),
}

impl Cors {
    fn of(state: &State, req: &hyper::Request<Incoming>) -> Self {
        let Some(origin) = req.headers().get(header::ORIGIN) else { return Self::None };
        let Ok(text) = origin.to_str() else { return Self::None };
        let path = req.uri().path();
        let bearer = path.trim_end_matches('/') == "/customer" && req.method() != Method::GET
            || path.starts_with("/customer/") && path.contains("/action/");
        let sio = path.starts_with(transport::sio::PATH);
        if !(bearer || sio) || !state.apps.cors_allows(text) {
            return Self::None;
        }
        if sio { Self::ReadWithCredentials(origin.clone()) } else { Self::Read(origin.clone()) }
    }
}

fn allow_origin(resp: &mut Resp, cors: Cors) {
    let h = resp.headers_mut();
    if h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        return; // the handler decided (public files: `*`, no credentials)
    }
    match cors {
        Cors::None => return,
        Cors::Read(origin) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        Cors::ReadWithCredentials(origin) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, header::HeaderValue::from_static("true"));
        }
    }
    h.append(header::VARY, header::HeaderValue::from_static("Origin"));
}

/// The answer to a CORS preflight (`sendFile`'s upload carries `Authorization`): the
/// allowed methods and headers for an allowed origin, nothing for another.
fn preflight(req: &hyper::Request<Incoming>, cors: Cors) -> Resp {
    let mut r = respond(StatusCode::NO_CONTENT, "text/plain", bytes::Bytes::new());
    if matches!(cors, Cors::None) {
        return r;
    }
    allow_origin(&mut r, cors);
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, header::HeaderValue::from_static("GET, POST, OPTIONS"));
    if let Some(asked) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    h.insert(header::ACCESS_CONTROL_MAX_AGE, header::HeaderValue::from_static("600"));
    r
}

/// Routes one request, giving it `body_timeout` to arrive and be handled: a body that
/// trickles in slower gets 408 and the connection is closed. socket.io requests are the
/// exception: a long-poll legitimately waits up to a heartbeat interval for data, so
/// `transport::sio` bounds only the time its body takes to arrive.
async fn route_in_time(router: &Router, req: hyper::Request<Incoming>, peer: IpAddr) -> Resp {
    if req.uri().path().starts_with(transport::sio::PATH) {
        return route(router, req, peer).await;
    }
    let limit = router.state.config.body_timeout;
    match tokio::time::timeout(limit, route(router, req, peer)).await {
        Ok(r) => r,
        Err(_) => {
            router.state.counters.body_timeouts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::debug!("request body too slow: 408, closing");
            let mut r = respond(StatusCode::REQUEST_TIMEOUT, "text/plain", "the request body did not arrive in time");
            r.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
            r
        }
    }
}

/// Routes one request.
async fn route(router: &Router, req: hyper::Request<Incoming>, peer: IpAddr) -> Resp {
    let state = &router.state;
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (req.method().clone(), segments.as_slice()) {
        (Method::GET, ["customer", version, "rtm", "ws"]) => {
            transport::ws::upgrade(state.clone(), req, Some((*version).to_owned()))
        }
        (Method::GET, ["customer", "rtm", "ws"]) => transport::ws::upgrade(state.clone(), req, None),
        (_, ["customer", "v0.5", "rtm", "sio"]) => transport::sio::serve(&router.sio, req, peer).await,
        (_, ["customer", _, "rtm", "sio"]) | (_, ["customer", "rtm", "sio"]) => {
            respond(StatusCode::NOT_FOUND, "text/plain", "socket.io is served at /customer/v0.5/rtm/sio only")
        }
        (Method::POST, ["customer", version, "action", action]) => {
            let (v, a) = ((*version).to_owned(), (*action).to_owned());
            web_api::web_api(state, req, Some(v), a).await
        }
        (Method::POST, ["customer", "action", action]) => {
            let a = (*action).to_owned();
            web_api::web_api(state, req, None, a).await
        }
        (Method::GET, ["agent", version, "rtm", "ws"]) => {
            transport::ws::upgrade_agent(state.clone(), req, Some((*version).to_owned()))
        }
        (Method::GET, ["agent", "rtm", "ws"]) => transport::ws::upgrade_agent(state.clone(), req, None),
        (Method::POST, ["agent", version, "action", action]) => {
            let (v, a) = ((*version).to_owned(), (*action).to_owned());
            web_api::agent_web_api(state, req, Some(v), a).await
        }
        (Method::POST, ["agent", "action", action]) => {
            let a = (*action).to_owned();
            web_api::agent_web_api(state, req, None, a).await
        }
        (Method::GET, ["agent", "sign-in"]) => agent_sign_in::page(),
        (Method::GET, ["agent", "sign-in.js"]) => agent_sign_in::script(),
        (Method::POST, ["agent", "sign-in"]) => agent_sign_in::exchange(state, req, peer).await,
        (Method::POST, ["agent", "sign-out"]) => agent_sign_in::sign_out(state, &req),
        (Method::POST, ["customer"]) => token::token_endpoint(state, req, peer).await,
        (Method::GET, ["customer"]) => accounts::page(state, &req, peer),
        (Method::GET, ["api", "file", ..]) => files::file(state, &path),
        (Method::GET, ["static", "bot.png"]) => respond(StatusCode::OK, "image/png", crate::files::sample_png(48, 48)),
        (Method::GET, ["licence", license, "config.json"]) => {
            let known = license.parse::<u64>().ok().is_some_and(|l| state.config.licenses.contains(&l));
            if known {
                json_resp(StatusCode::OK, &json!({}))
            } else {
                respond(StatusCode::NOT_FOUND, "text/plain", "no such license")
            }
        }
        (_, ["admin", op]) if state.config.admin => {
            let op = (*op).to_owned();
            admin::admin(state, req, &op).await
        }
        (Method::GET, ["widget", rest @ ..]) => static_files::serve(state, &req, &path, rest),
        (Method::GET, ["agent", rest @ ..]) => static_files::serve_agent(state, &req, &path, rest),
        (Method::GET, [""]) => respond(
            StatusCode::OK,
            "text/plain",
            "chatio reference server: chat.io Customer API v0.5 at /customer/v0.5/rtm/ws and /customer/v0.5/action/<action>, Agent API v0.5 at /agent/v0.5/rtm/ws and /agent/v0.5/action/<action>\n",
        ),
        _ => respond(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}
