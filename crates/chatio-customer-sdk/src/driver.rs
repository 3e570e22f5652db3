//! The driver behind the facade: the transport's, on the native platform (async-std, smol,
//! tokio) or, with the `web` feature on `wasm32`, the browser's: one handle type either way.

pub(crate) use chatio_transport::DriverHandle;
pub(crate) use chatio_transport::upload::file_size;
