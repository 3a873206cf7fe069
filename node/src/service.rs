//! Starting and stopping a whole node: storage, chain, runtime and HTTP server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use lichen_contracts::crypto::SecretKey;
use lichen_contracts::genesis::Genesis;
use lichen_storage::{KvStore, MemoryKv, SledKv};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{self, ApiLimits};
use crate::chain::{Chain, STATE_VERSIONS_KEPT_DEFAULT};
use crate::error::NodeError;
use crate::mempool::{self, Mempool};
use crate::runtime::{NoPeers, Runtime, Shared};

/// Where the node keeps its data.
#[derive(Clone, Debug)]
pub enum DataDir {
    /// sled in this directory.
    Disk(PathBuf),
    /// Nothing survives the process (tests).
    Memory,
}

/// Everything a node needs to run.
#[derive(Debug)]
pub struct NodeOptions {
    pub data: DataDir,
    pub genesis: Genesis,
    pub key: SecretKey,
    pub http_listen: SocketAddr,
    pub api: ApiLimits,
    pub mempool: mempool::Limits,
    pub state_versions_kept: u64,
}

impl NodeOptions {
    /// Defaults for everything but the genesis, the key and where to listen.
    pub fn new(data: DataDir, genesis: Genesis, key: SecretKey, http_listen: SocketAddr) -> Self {
        NodeOptions {
            data,
            genesis,
            key,
            http_listen,
            api: ApiLimits::default(),
            mempool: mempool::Limits::default(),
            state_versions_kept: STATE_VERSIONS_KEPT_DEFAULT,
        }
    }
}

/// A running node.
#[derive(Debug)]
pub struct RunningNode {
    pub http_addr: SocketAddr,
    pub shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    runtime: JoinHandle<Result<(), NodeError>>,
    server: JoinHandle<std::io::Result<()>>,
}

/// Opens the data, starts consensus and serves the API. Must run inside a multi-threaded tokio
/// runtime (execution and storage run in `block_in_place`).
pub async fn start(options: NodeOptions) -> Result<RunningNode, NodeError> {
    let kv: Arc<dyn KvStore> = match &options.data {
        DataDir::Disk(dir) => Arc::new(SledKv::open(dir)?),
        DataDir::Memory => Arc::new(MemoryKv::new()),
    };
    let chain = Arc::new(Chain::open(
        kv,
        options.genesis,
        options.state_versions_kept,
    )?);
    let shared = Arc::new(Shared::new(chain, Mempool::new(options.mempool)));
    let (runtime, _inputs) = Runtime::new(shared.clone(), options.key, Box::new(NoPeers))?;
    let listener = tokio::net::TcpListener::bind(options.http_listen)
        .await
        .map_err(|e| NodeError::Bind {
            addr: options.http_listen.to_string(),
            reason: e.to_string(),
        })?;
    let http_addr = listener.local_addr().map_err(|e| NodeError::Bind {
        addr: options.http_listen.to_string(),
        reason: e.to_string(),
    })?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let runtime = tokio::spawn(runtime.run(shutdown_rx.clone()));
    let app = api::router(shared.clone(), options.api);
    let mut server_stop = shutdown_rx;
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stop| *stop).await;
            })
            .await
    });
    tracing::info!(%http_addr, "node started");
    Ok(RunningNode {
        http_addr,
        shared,
        shutdown,
        runtime,
        server,
    })
}

impl RunningNode {
    /// Waits until the runtime stops by itself (an error: a healthy runtime runs until stopped).
    pub async fn wait(&mut self) -> Result<(), NodeError> {
        match (&mut self.runtime).await {
            Ok(result) => result,
            Err(e) => Err(NodeError::Internal {
                reason: format!("runtime task failed: {e}"),
            }),
        }
    }

    /// Stops serving and consensus, and flushes storage.
    pub async fn stop(self) -> Result<(), NodeError> {
        let _ = self.shutdown.send(true);
        let runtime = self.runtime.await.map_err(|e| NodeError::Internal {
            reason: format!("runtime task failed: {e}"),
        })?;
        let _ = self.server.await;
        self.shared.chain.store().kv().flush()?;
        runtime
    }
}
