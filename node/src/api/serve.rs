//! The HTTP server loop: hyper's HTTP/1 connections, accepted under a cap and timed, instead of
//! `axum::serve`, which runs hyper without a timer (so no header timeout) and accepts without
//! bound.
//!
//! Against slow clients (slowloris): a connection must send its request head within
//! [`HEADER_READ_TIMEOUT_MS`] (also the most an idle keep-alive connection is kept); a request's
//! body is read, within [`BODY_READ_TIMEOUT_MS`], before the request takes one of the API's
//! request slots (`api::limit_concurrency`), so slow senders hold connections, which are capped
//! ([`ApiLimits::connections_max`]) and timed, but never the slots that answer everyone else;
//! `/health` takes no slot at all.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// How long a connection may take to send a request's head (and stay idle between requests).
pub const HEADER_READ_TIMEOUT_MS: u64 = 5_000;
/// How long a request's body may take to arrive, from the end of its head.
pub const BODY_READ_TIMEOUT_MS: u64 = 10_000;
/// How long open connections get to finish their requests when the node stops.
pub const SHUTDOWN_GRACE_MS: u64 = 5_000;
/// Pause after a failed `accept` (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE_MS: u64 = 50;

/// Serves `app` on `listener` until `stop` turns true, with at most `connections_max` open
/// connections (a connection beyond them is closed at once), then lets open ones finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    connections_max: usize,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(connections_max.max(1)));
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::debug!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(ACCEPT_ERROR_PAUSE_MS)).await;
                    continue;
                }
            },
            // (The guard `wait_for` returns is not `Send`: drop it inside.)
            _ = async { drop(stop.wait_for(|stop| *stop).await) } => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::debug!("connection refused: at the connection cap");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_millis(HEADER_READ_TIMEOUT_MS));
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::trace!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(
        Duration::from_millis(SHUTDOWN_GRACE_MS),
        graceful.shutdown(),
    )
    .await;
    Ok(())
}
