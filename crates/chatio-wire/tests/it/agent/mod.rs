//! The Agent API side (`agent` feature): every fixture frame decoded and snapshotted, the names
//! against the agent protocol file, round trips of every type, decode errors and tolerant
//! forms, Web API bodies.

mod decode;
mod fixtures;
mod names;
mod roundtrip;
mod strategies;
