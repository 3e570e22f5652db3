//! What the two-process load tools share (`bench server`, `soak --server`): the generator
//! process talks to the server with the raw clients [`ws`] and [`http`] and to its
//! orchestrator through [`generator`]; the [`orchestrator`] builds and starts both processes
//! and samples the server.

pub mod generator;
pub mod http;
pub mod orchestrator;
pub mod ws;
