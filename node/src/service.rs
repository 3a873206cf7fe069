//! Starting and stopping a whole node: storage, chain, runtime, network and HTTP server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use lichen_contracts::crypto::{SecretKey, SigAlgo};
use lichen_contracts::genesis::Genesis;
use lichen_storage::MemoryKv;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::{self, ApiLimits, ScannerSite};
use crate::chain::{Chain, STATE_VERSIONS_KEPT_DEFAULT, STORAGE_CACHE_BYTES_DEFAULT};
use crate::error::NodeError;
use crate::mempool::{self, Mempool};
use crate::net::{self, NetworkHandle, NetworkOptions, Role};
use crate::runtime::{Admission, Driver, Finality, NoPeers, Outbox, Status};

/// How often an idle chain makes an empty block by default, in milliseconds: often enough that
/// a presentation exported at any moment carries a status certified within the minute, rare
/// enough that an idle validator writes ~60 small blocks an hour.
pub const HEARTBEAT_DEFAULT_MS: u64 = 60_000;

/// Threads for blocking work (API requests' storage reads and signature checks, sync answers,
/// relayed batches, and the drivers' `block_in_place` hand-offs) per core, and at least this
/// many. Tokio's default is 512: under a load of eight submitting clients a node grew to ~30
/// such threads, each with the allocator's pages of its own, and the 10^7 scale run held
/// 1.1-1.9 GB resident for ~0.5 GB of live heap (heaptrack) at ~520-600 licences/s; with eight
/// threads the same run held 0.7-1.0 GB at ~1,040 licences/s (BENCHMARKS.md, "Thirty threads").
/// Requests beyond them wait in tokio's queue, itself bounded by the API's request slots.
pub const BLOCKING_THREADS_PER_CORE: usize = 4;
pub const BLOCKING_THREADS_MIN: usize = 8;

/// The tokio runtime nodes run in (the `lichen` command, the benchmarks): multi-threaded, one
/// worker per core, blocking threads capped by [`BLOCKING_THREADS_PER_CORE`].
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads((cores * BLOCKING_THREADS_PER_CORE).max(BLOCKING_THREADS_MIN))
        .enable_all()
        .build()
}

/// Where the node keeps its data.
#[derive(Clone, Debug)]
pub enum DataDir {
    /// fjall in this directory.
    Disk(PathBuf),
    /// Nothing survives the process (tests).
    Memory,
}

/// Everything a node needs to run.
#[derive(Debug)]
pub struct NodeOptions {
    pub data: DataDir,
    pub genesis: Genesis,
    /// The consensus key; `None` runs an observer (follows by sync, never votes).
    pub key: Option<SecretKey>,
    /// The peer-to-peer network; `None` runs alone (a one-validator chain needs no peers).
    pub network: Option<NetworkOptions>,
    pub http_listen: SocketAddr,
    pub api: ApiLimits,
    /// The scanner page to serve at `/scanner/` (the node adds its `genesis.json` to it).
    pub scanner: Option<ScannerSite>,
    pub mempool: mempool::Limits,
    pub state_versions_kept: u64,
    /// The on-disk store's block cache, in bytes.
    pub storage_cache_bytes: u64,
    /// With nothing to order, a validator proposes an empty block this often (and does not
    /// change views for want of one before). Every validator of a chain should use the same.
    pub heartbeat_ms: u64,
}

impl NodeOptions {
    /// A validator (if `key` is in the validator set), with defaults for everything but the
    /// genesis, the key and where to listen.
    pub fn new(data: DataDir, genesis: Genesis, key: SecretKey, http_listen: SocketAddr) -> Self {
        NodeOptions {
            key: Some(key),
            ..Self::observer(data, genesis, http_listen)
        }
    }

    /// An observer: no consensus key.
    pub fn observer(data: DataDir, genesis: Genesis, http_listen: SocketAddr) -> Self {
        NodeOptions {
            data,
            genesis,
            key: None,
            network: None,
            http_listen,
            api: ApiLimits::default(),
            scanner: None,
            mempool: mempool::Limits::default(),
            state_versions_kept: STATE_VERSIONS_KEPT_DEFAULT,
            storage_cache_bytes: STORAGE_CACHE_BYTES_DEFAULT,
            heartbeat_ms: HEARTBEAT_DEFAULT_MS,
        }
    }
}

/// A running node.
#[derive(Debug)]
pub struct RunningNode {
    pub http_addr: SocketAddr,
    /// The committed chain and its queries.
    pub chain: Arc<Chain>,
    /// Where transactions enter (what the API submits to).
    pub admission: Arc<Admission>,
    /// What the node reports about itself.
    pub status: Arc<Status>,
    /// The network task, with the peer id and the addresses it listens on.
    pub network: Option<NetworkHandle>,
    /// Told when the node stops, so that commit streams end instead of holding the server.
    finality: Arc<Finality>,
    shutdown: watch::Sender<bool>,
    runtime: JoinHandle<Result<(), NodeError>>,
    server: JoinHandle<std::io::Result<()>>,
    /// Filling the filter of committed ids from the stored blocks, after opening.
    warming: JoinHandle<()>,
}

/// Opens the data, starts consensus and serves the API. Must run inside a multi-threaded tokio
/// runtime (execution and storage run in `block_in_place`).
///
/// The pieces are made in dependency order, each handed what it needs: chain; status and
/// finality; the network's queues; admission (with the forwarding queue's sender); the driver
/// (with the network's outbox); the network (with the other ends); the HTTP API.
pub async fn start(options: NodeOptions) -> Result<RunningNode, NodeError> {
    let scanner = options.scanner.map(|mut site| {
        let genesis = lichen_views::genesis_to_json_string(&options.genesis);
        site.insert("genesis.json", genesis);
        Arc::new(site)
    });
    let chain = Arc::new(match &options.data {
        DataDir::Disk(dir) => Chain::open_dir(
            dir,
            options.genesis,
            options.state_versions_kept,
            options.storage_cache_bytes,
        )?,
        DataDir::Memory => Chain::open(
            Arc::new(MemoryKv::new()),
            options.genesis,
            options.state_versions_kept,
        )?,
    });
    let suite = chain.suite();
    let role = if options.key.is_some() {
        Role::Validator
    } else {
        Role::Observer
    };
    let peer_id = options
        .network
        .as_ref()
        .map(|n| n.keypair.public().to_peer_id().to_string());
    let status = Arc::new(Status::new(role.name(), peer_id));
    let finality = Arc::new(Finality::default());
    // On a network, transactions admitted from clients are queued for the network to forward
    // to the validators.
    let (forward, forwarded) = options
        .network
        .is_some()
        .then(|| mpsc::channel(net::FORWARD_QUEUE_MAX))
        .unzip();
    let admission = Arc::new(Admission::new(
        chain.clone(),
        Mempool::new(options.mempool),
        finality.clone(),
        forward,
    ));
    // An observer's core runs with a throwaway key that no validator set lists: it checks
    // certificates and commits, and never has a vote to cast.
    let key = match options.key {
        Some(key) => key,
        None => throwaway_key(suite.sig_algo())?,
    };
    let driver = |key: SecretKey, outbox: Box<dyn Outbox>| {
        Driver::new(
            chain.clone(),
            admission.clone(),
            finality.clone(),
            status.clone(),
            key,
            outbox,
            std::time::Duration::from_millis(options.heartbeat_ms.max(1)),
        )
    };
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (driver, network) = match (options.network, forwarded) {
        (Some(network), Some(forwarded)) => {
            let (outbox, commands) = net::command_channel(role);
            let (driver, inputs) = driver(key, Box::new(outbox))?;
            let links = net::Links {
                chain: chain.clone(),
                admission: admission.clone(),
                status: status.clone(),
                commands,
                inputs,
                forwarded,
            };
            let handle = net::start(links, network, role, shutdown_rx.clone()).await?;
            (driver, Some(handle))
        }
        _ => (driver(key, Box::new(NoPeers))?.0, None),
    };
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
    let runtime = {
        let (status, stopping) = (status.clone(), shutdown_rx.clone());
        let driving = tokio::spawn(driver.run(shutdown_rx.clone()));
        // Watched, so that a consensus task that failed (say, it could not persist a vote) is
        // reported by `/health` instead of leaving a node that answers but never votes.
        tokio::spawn(async move {
            let ended = driving.await;
            if !*stopping.borrow() {
                let reason = match &ended {
                    Ok(Ok(())) => "the consensus task ended".to_string(),
                    Ok(Err(e)) => format!("the consensus task failed: {e}"),
                    Err(e) => format!("the consensus task failed: {e}"),
                };
                status.set_stopped("consensus", reason);
            }
            ended.unwrap_or_else(|e| {
                Err(NodeError::Internal {
                    reason: format!("the consensus task failed: {e}"),
                })
            })
        })
    };
    let handles = api::Handles {
        chain: chain.clone(),
        admission: admission.clone(),
        finality: finality.clone(),
        status: status.clone(),
        tip_age_max_ms: options
            .heartbeat_ms
            .saturating_add(chain.params().view_timeout_base_ms.saturating_mul(2)),
    };
    let app = api::router(handles, options.api, scanner);
    // The filter of committed ids starts empty; filled from the stored replay window off the
    // request path (until then, admission and execution ask the transaction index).
    let warming = {
        let (chain, stopping) = (chain.clone(), shutdown_rx.clone());
        tokio::task::spawn_blocking(move || match chain.warm_recent_ids(|| *stopping.borrow()) {
            Ok(w) => tracing::info!(
                blocks = w.blocks,
                txs = w.txs,
                covered_above = ?w.covered_above,
                took_ms = w.took.as_millis() as u64,
                "committed-id filter warmed"
            ),
            Err(e) => tracing::warn!("committed-id filter not warmed: {e}"),
        })
    };
    let server = tokio::spawn(api::serve(
        listener,
        app,
        options.api.connections_max,
        shutdown_rx,
    ));
    tracing::info!(%http_addr, role = role.name(), "node started");
    Ok(RunningNode {
        http_addr,
        chain,
        admission,
        status,
        network,
        finality,
        shutdown,
        runtime,
        server,
        warming,
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
        self.finality.stop_streams();
        let _ = self.shutdown.send(true);
        let runtime = self.runtime.await.map_err(|e| NodeError::Internal {
            reason: format!("runtime task failed: {e}"),
        })?;
        let _ = self.server.await;
        // It holds the store: done (it stops at the next block) before the store is flushed.
        let _ = self.warming.await;
        if let Some(network) = self.network {
            network.join().await;
        }
        self.chain.flush()?;
        runtime
    }
}

/// A fresh key of `algo` from the OS's randomness.
fn throwaway_key(algo: SigAlgo) -> Result<SecretKey, NodeError> {
    loop {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| NodeError::Internal {
            reason: format!("no randomness for a key: {e}"),
        })?;
        // An SM2 scalar must lie in [1, n-2]: an out-of-range draw (~2^-32) is redrawn.
        if let Ok(key) = SecretKey::from_bytes(algo, &seed) {
            return Ok(key);
        }
    }
}
