//! The driver behind the facade: the native one (async-std, smol, tokio) or, with the `web`
//! feature on `wasm32`, the browser's. Both handles have the same methods.

#[cfg(not(all(feature = "web", target_arch = "wasm32")))]
pub(crate) use chatio_transport::DriverHandle;
#[cfg(not(all(feature = "web", target_arch = "wasm32")))]
pub(crate) use chatio_transport::upload::file_size;
#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub(crate) use chatio_transport::web::DriverHandle;

/// A browser page has no file system: `File::path` cannot be read there.
#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub(crate) async fn file_size(path: std::path::PathBuf) -> Result<u64, chatio_transport::Error> {
    Err(chatio_transport::Error::File {
        path: path.display().to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "a browser page has no file system: send the file's bytes (File::bytes)",
        ),
    })
}
