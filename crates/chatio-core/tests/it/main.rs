//! Integration tests of chatio-core: transcript replay (`fixtures/sessions`), behaviour
//! scenarios on a simulated server and clock, and properties over random interleavings.

mod health;
mod props;
mod render;
mod scenarios;
mod server;
mod sim;
mod transcripts;
