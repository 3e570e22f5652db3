//! chatio-wire's integration tests: fixtures and snapshots, round trips, robustness against
//! arbitrary input, the protocol's name lists, decode errors, Web API bodies; for the customer
//! side here, for the agent side in `agent/` (built with the crate's `agent` feature: the
//! workspace turns it on through a dev-dependency on the crate itself; a packaged copy, which
//! has no such dev-dependency, runs them with `cargo test --features agent`).
//!
//! The fixture frames are read from `tests/fixtures/` (links to the workspace's `fixtures/frames`
//! and `fixtures/agent-frames`, which `cargo package` copies into the package).

#[cfg(feature = "agent")]
mod agent;
mod errors;
mod fixtures;
mod names;
mod robustness;
mod roundtrip;
mod strategies;
mod tolerance;
mod web;
