//! What the target asks of the driver's futures and shared state: `Send` and `Sync` natively
//! (a runtime may move a task between threads), nothing in a browser (everything runs on its
//! one thread). The shared code names these bounds, never a target.

#[cfg(not(target_arch = "wasm32"))]
mod target {
    /// `Send` on native targets: what the driver's tasks may carry between threads (nothing on
    /// wasm32).
    pub trait MaybeSend: Send {}
    impl<T: Send + ?Sized> MaybeSend for T {}

    /// `Sync` on native targets (nothing on wasm32).
    pub trait MaybeSync: Sync {}
    impl<T: Sync + ?Sized> MaybeSync for T {}

    /// A boxed future of the SDK's store (`Send` natively: the driver task may move between
    /// threads; not `Send` on wasm32).
    pub type StoreFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

#[cfg(target_arch = "wasm32")]
mod target {
    /// Nothing on wasm32 (the browser runs the driver on one thread); `Send` natively.
    pub trait MaybeSend {}
    impl<T: ?Sized> MaybeSend for T {}

    /// Nothing on wasm32; `Sync` natively.
    pub trait MaybeSync {}
    impl<T: ?Sized> MaybeSync for T {}

    /// A boxed future of the SDK's store (not `Send`: the browser runs the driver on one thread).
    pub type StoreFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;
}

pub use target::{MaybeSend, MaybeSync, StoreFuture};
