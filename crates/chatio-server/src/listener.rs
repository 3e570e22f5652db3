//! The accept loop: binds, accepts, enforces the global and per-address connection caps,
//! hands each accepted socket to the HTTP layer, and serves the restart and shutdown
//! controls.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::error::Error;
use crate::http::router::{self, Router};
use crate::net::timed_stream::TimedStream;
use crate::state::{Control, State};

/// How long the start of the server and a restart wait for the scripted bot's connections,
/// at most.
pub(crate) const BOT_READY_WAIT: Duration = Duration::from_secs(5);

/// How long a clean shutdown waits for connections to finish their close handshake.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What a client over a cap gets before its socket is closed.
const OVER_CAP: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 24\r\nconnection: close\r\n\r\ntoo many connections\r\n\r\n";

/// Binds the listening socket.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr).await.map_err(|source| Error::Bind { addr, source })
}

/// Open TCP connections, in total and per client address.
#[derive(Debug, Default)]
pub(crate) struct Open {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// Counts one accepted connection until dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_address.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.per_address.remove(&self.ip);
            }
        }
    }
}

/// Takes a slot for a connection from `ip`, or `None` when a cap is reached.
fn admit(open: &Arc<Mutex<Open>>, ip: IpAddr, max_total: usize, max_per_address: usize) -> Option<Slot> {
    let mut o = open.lock().unwrap_or_else(|e| e.into_inner());
    let mine = o.per_address.get(&ip).copied().unwrap_or(0);
    if o.total >= max_total || mine >= max_per_address {
        return None;
    }
    o.total += 1;
    *o.per_address.entry(ip).or_default() += 1;
    Some(Slot { open: open.clone(), ip })
}

/// Refuses a connection over a cap: a best-effort 503, then the socket is closed.
fn refuse(stream: &TcpStream) {
    let _ = stream.try_write(OVER_CAP);
}

/// Runs the accept loop until the server stops, then closes every session.
pub(crate) async fn run(
    state: &Arc<State>,
    router: Arc<Router>,
    listener: TcpListener,
    addr: SocketAddr,
    mut control_rx: mpsc::UnboundedReceiver<Control>,
    mut stop: watch::Receiver<bool>,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let max_total = state.config.max_connections.max(1);
    let max_per_address = state.config.max_connections_per_address.max(1);
    let mut sweep = tokio::time::interval(Duration::from_secs(1));
    let mut listener = Some(listener);
    let mut last_accept_warning: Option<tokio::time::Instant> = None;
    while let Some(l) = &listener {
        tokio::select! {
            accepted = l.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Some(slot) = admit(&open, peer.ip(), max_total, max_per_address) else {
                        state.counters.refused_connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tracing::debug!(%peer, "connection cap reached: refused");
                        refuse(&stream);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let router = router.clone();
                    let write_timeout = state.config.write_timeout;
                    tokio::spawn(async move {
                        let io = TimedStream::new(stream, write_timeout);
                        router::serve_connection(router, TokioIo::new(io), peer).await;
                        drop(slot);
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving, and
                    // say so at most once a second.
                    let now = tokio::time::Instant::now();
                    if last_accept_warning.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1)) {
                        tracing::warn!(error = %e, "accept failed");
                        last_accept_warning = Some(now);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(Control::Restart(reply)) = control_rx.recv() => {
                listener = None;
                state.drop_all_sessions();
                match bind(addr).await {
                    Ok(l) => {
                        listener = Some(l);
                        tracing::info!(%addr, "restarted with state kept");
                        // Answered once the scripted bot is back (it reconnects by itself).
                        let state = state.clone();
                        let before = state.bot_logins();
                        tokio::spawn(async move {
                            state.bot_ready(before, BOT_READY_WAIT).await;
                            let _ = reply.send(Ok(()));
                        });
                    }
                    Err(e) => {
                        tracing::error!(%addr, error = %e, "cannot listen again after a restart");
                        let _ = reply.send(Err(e));
                    }
                }
            },
            _ = sweep.tick() => state.sweep(),
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
    drop(listener);
    state.close_all_sessions(CLOSE_GRACE).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_address_and_in_total_and_free_on_drop() {
        let open = Arc::new(Mutex::new(Open::default()));
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let a1 = admit(&open, a, 3, 2).expect("first");
        let _a2 = admit(&open, a, 3, 2).expect("second");
        assert!(admit(&open, a, 3, 2).is_none(), "per-address cap");
        let _b1 = admit(&open, b, 3, 2).expect("other address");
        assert!(admit(&open, b, 3, 2).is_none(), "global cap");
        drop(a1);
        assert!(admit(&open, a, 3, 2).is_some(), "freed on drop");
    }
}
