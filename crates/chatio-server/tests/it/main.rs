//! Integration tests of the reference server, over real loopback sockets with a small raw
//! websocket client (no SDK): one module per area.

mod actions;
mod agent;
mod agent_api;
mod agent_restart;
mod client;
mod cors;
mod cross_origin;
mod fanout;
mod faults;
mod file_expiry;
mod hostile;
mod identity;
mod js_sdk;
mod kill;
mod lifecycle;
mod login;
mod pagination;
mod policy;
mod quotas;
mod robustness;
mod sio;
mod storage;
mod web;
