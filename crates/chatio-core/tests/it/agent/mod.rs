//! The agent session (`chatio_core::agent`, the `agent` feature): hand-made transcripts
//! replayed, a simulated world with a model agent server, and properties over random
//! interleavings.

mod props;
mod render;
mod scenarios;
mod server;
mod sim;
mod transcripts;
