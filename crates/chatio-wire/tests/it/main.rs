//! chatio-wire's integration tests: fixtures and snapshots, round trips, robustness against
//! arbitrary input, the protocol's name lists, decode errors, Web API bodies; for the customer
//! side here, for the agent side in `agent/`.

mod agent;
mod errors;
mod fixtures;
mod names;
mod robustness;
mod roundtrip;
mod strategies;
mod tolerance;
mod web;
