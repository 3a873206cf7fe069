//! `lichen node run --config node.toml`, and running nodes in this process until Ctrl-C or
//! SIGTERM (also for `lichen dev`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use libp2p::Multiaddr;
use lichen_node::api::{
    ApiLimits, BODY_BYTES_MAX_DEFAULT, CONCURRENCY_MAX_DEFAULT, CONNECTIONS_MAX_DEFAULT,
    ScannerSite,
};
use lichen_node::chain::{STATE_VERSIONS_KEPT_DEFAULT, STORAGE_CACHE_BYTES_DEFAULT};
use lichen_node::mempool::{self, MEMPOOL_BYTES_MAX_DEFAULT, MEMPOOL_TXS_MAX_DEFAULT};
use lichen_node::net::NetworkOptions;
use lichen_node::service::{DataDir, HEARTBEAT_DEFAULT_MS, NodeOptions};
use serde::Deserialize;

use super::keys::{PasswordSource, load_secret_key};
use crate::output::out;

#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// Run a node from node.toml (genesis and key required; defaults for the rest).
    Run {
        /// The node config file (TOML; paths in it are relative to its folder).
        #[arg(long, default_value = "node.toml")]
        config: PathBuf,
        /// Override the HTTP listen address.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Start a new node's data from a running chain's latest certified checkpoint instead of
    /// replaying every block: the state and the last blocks are read from another node's API
    /// and checked against the genesis in node.toml (the source is not trusted). The data
    /// directory must be empty; `lichen node run` then fetches the blocks after the checkpoint.
    Sync {
        /// The node config file (TOML; paths in it are relative to its folder): its genesis and
        /// its data directory are used.
        #[arg(long, default_value = "node.toml")]
        config: PathBuf,
        /// The HTTP API of a node of the chain, e.g. http://10.0.0.5:8080.
        #[arg(long)]
        from: String,
    },
    /// Back up a running node: every certified block up to its height now, read from its API
    /// into a new folder (blocks.bin and backup.json), consistent at that height.
    Backup {
        #[command(flatten)]
        node: crate::args::NodeArg,
        /// The folder to write (new, or empty).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into the (empty) data directory of node.toml: every block executed
    /// again, every certificate checked against the genesis's validators (the backup is not
    /// trusted); `lichen node run` then catches up from its peers.
    Restore {
        /// The node config file (TOML): its genesis and its data directory are used.
        #[arg(long, default_value = "node.toml")]
        config: PathBuf,
        /// The backup folder (`lichen node backup --to`).
        #[arg(long)]
        from: PathBuf,
    },
}

/// `lichen node ...`.
pub fn run(command: NodeCommand, pw: &PasswordSource) -> Result<()> {
    let (config, listen) = match command {
        NodeCommand::Run { config, listen } => (config, listen),
        NodeCommand::Sync { config, from } => return sync(&config, &from),
        NodeCommand::Backup { node, to } => return super::backup::backup(&node.client(), &to),
        NodeCommand::Restore { config, from } => {
            let (config, base) = read_config(&config)?;
            let genesis = super::genesis::load(&relative_to(base, &config.genesis))?;
            let data_dir = relative_to(base, &config.data_dir);
            return super::backup::restore(&data_dir, genesis, config.state.cache_mb << 20, &from);
        }
    };
    let options = load(&config, pw, listen)?;
    let chain_id = options.genesis.config.chain_id.clone();
    run_nodes(vec![options], |addrs| {
        let addr = addrs
            .first()
            .copied()
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)));
        format!("lichen node for chain '{chain_id}' serving http://{addr}")
    })
}

/// `node.toml` parsed, and the directory its paths are relative to.
fn read_config(config_path: &Path) -> Result<(NodeConfig, &Path)> {
    let text = std::fs::read_to_string(config_path)
        .with_context(|| format!("cannot read the node config {}", config_path.display()))?;
    let config: NodeConfig = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid node config", config_path.display()))?;
    Ok((config, config_path.parent().unwrap_or(Path::new("."))))
}

/// `lichen node sync`: the data directory of `config_path` from `from`'s latest checkpoint.
fn sync(config_path: &Path, from: &str) -> Result<()> {
    let (config, base) = read_config(config_path)?;
    let genesis = super::genesis::load(&relative_to(base, &config.genesis))?;
    let data_dir = relative_to(base, &config.data_dir);
    let client = lichen_client::Client::new(from);
    // Asked first, so that an unreachable source is said as such (and exits as such).
    client
        .status()
        .with_context(|| format!("state sync from {from} cannot start; nothing was kept"))?;
    let mut source = lichen_node::state_sync::ApiPaths(|path: &str, limit| {
        client
            .get_bytes_up_to(path, limit)
            .map_err(|e| e.to_string())
    });
    let started = std::time::Instant::now();
    let mut last_print = std::time::Instant::now();
    let mut progress = |p: &lichen_node::state_sync::Progress| {
        if last_print.elapsed().as_secs() >= 2 || p.chunks_done == p.chunks {
            last_print = std::time::Instant::now();
            eprintln!(
                "state at height {}: {} of {} chunks, {} entries, {} MiB read",
                p.checkpoint,
                p.chunks_done,
                p.chunks,
                p.leaves,
                p.bytes >> 20
            );
        }
    };
    let report = lichen_node::state_sync::sync_data_dir(
        &data_dir,
        &genesis,
        config.state.cache_mb << 20,
        &mut source,
        &mut progress,
    )
    .with_context(|| format!("state sync from {from} failed; nothing was kept"))?;
    out!(
        "synced {} to checkpoint {} ({}) in {:.1} s: {} state entries in {} chunks, {} blocks, {} MiB read; `lichen node run` goes on from there",
        data_dir.display(),
        report.tip.height,
        report.tip.hash,
        started.elapsed().as_secs_f64(),
        report.leaves,
        report.chunks,
        report.blocks,
        report.bytes >> 20
    );
    Ok(())
}

/// `node.toml`. Paths are relative to the file's directory. Only `genesis` is required; without
/// `key` the node is an observer; without `[network]` it runs alone (a one-validator chain).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub genesis: PathBuf,
    /// The consensus key (a validator's); absent for an observer.
    pub key: Option<PathBuf>,
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub mempool: MempoolConfig,
    #[serde(default)]
    pub state: StateConfig,
    #[serde(default)]
    pub consensus: ConsensusConfig,
    pub network: Option<NetworkConfig>,
}

/// `[consensus]`: the validator's pacing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusConfig {
    /// With nothing to order, an empty block this often (every validator of a chain should use
    /// the same value).
    pub heartbeat_ms: u64,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        ConsensusConfig {
            heartbeat_ms: HEARTBEAT_DEFAULT_MS,
        }
    }
}

/// `[network]`: the libp2p identity, where to listen and whom to dial.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The network key file (`lichen p2p-key new FILE`).
    pub key: PathBuf,
    /// Multiaddrs to listen on, e.g. "/ip4/0.0.0.0/tcp/9101".
    pub listen: Vec<String>,
    /// Peers to dial, each "/ip4/HOST/tcp/PORT/p2p/PEER_ID".
    #[serde(default)]
    pub peers: Vec<String>,
}

fn multiaddrs(field: &str, list: &[String], need_peer: bool) -> Result<Vec<Multiaddr>> {
    list.iter()
        .map(|s| {
            let addr: Multiaddr = s
                .parse()
                .with_context(|| format!("network.{field}: {s:?} is not a multiaddr"))?;
            if need_peer && lichen_node::net::peers::peer_of(&addr).is_none() {
                bail!("network.{field}: {s:?} does not end in /p2p/<peer id>");
            }
            Ok(addr)
        })
        .collect()
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    pub body_bytes_max: usize,
    pub concurrency_max: usize,
    /// Open connections at most; more are closed at once.
    pub connections_max: usize,
    /// The scanner page to serve at `/scanner/` (`verifier-wasm/pkg/site`, built by
    /// `scripts/build-wasm.sh`); none by default.
    pub scanner_dir: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_bytes_max: BODY_BYTES_MAX_DEFAULT,
            concurrency_max: CONCURRENCY_MAX_DEFAULT,
            connections_max: CONNECTIONS_MAX_DEFAULT,
            scanner_dir: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolConfig {
    pub txs_max: usize,
    pub bytes_max: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig {
            txs_max: MEMPOOL_TXS_MAX_DEFAULT,
            bytes_max: MEMPOOL_BYTES_MAX_DEFAULT,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// State versions kept for proofs at recent heights.
    pub versions_kept: u64,
    /// The on-disk store's block cache, in MiB.
    pub cache_mb: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            versions_kept: STATE_VERSIONS_KEPT_DEFAULT,
            cache_mb: STORAGE_CACHE_BYTES_DEFAULT >> 20,
        }
    }
}

fn relative_to(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Reads `node.toml` and everything it names into node options.
pub fn load(
    config_path: &Path,
    passwords: &PasswordSource,
    listen: Option<SocketAddr>,
) -> Result<NodeOptions> {
    let (config, base) = read_config(config_path)?;
    let genesis = super::genesis::load(&relative_to(base, &config.genesis))?;
    let key = config
        .key
        .as_ref()
        .map(|k| load_secret_key(&relative_to(base, k), passwords))
        .transpose()?;
    let network = match &config.network {
        None => None,
        Some(n) => {
            if n.listen.is_empty() {
                bail!("network.listen is empty: a node on a network must listen somewhere");
            }
            Some(NetworkOptions {
                keypair: super::p2p::load_key_file(&relative_to(base, &n.key))?,
                listen: multiaddrs("listen", &n.listen, false)?,
                peers: multiaddrs("peers", &n.peers, true)?,
            })
        }
    };
    let data_dir = relative_to(base, &config.data_dir);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let mut options = NodeOptions::observer(
        DataDir::Disk(data_dir),
        genesis,
        listen.unwrap_or(config.http.listen),
    );
    options.key = key;
    options.network = network;
    options.api = ApiLimits {
        body_bytes_max: config.http.body_bytes_max,
        concurrency_max: config.http.concurrency_max.max(1),
        connections_max: config.http.connections_max.max(1),
    };
    options.scanner = config
        .http
        .scanner_dir
        .as_ref()
        .map(|dir| ScannerSite::load(&relative_to(base, dir)))
        .transpose()?;
    options.mempool = mempool::Limits {
        txs_max: config.mempool.txs_max.max(1),
        bytes_max: config.mempool.bytes_max.max(1),
    };
    options.state_versions_kept = config.state.versions_kept;
    options.storage_cache_bytes = config.state.cache_mb.max(1).saturating_mul(1 << 20);
    options.heartbeat_ms = config.consensus.heartbeat_ms.max(1);
    Ok(options)
}

/// Starts the nodes in one process, prints the banner, and runs until Ctrl-C or SIGTERM, then
/// stops every node cleanly.
pub fn run_nodes(
    options: Vec<lichen_node::service::NodeOptions>,
    banner: impl FnOnce(&[SocketAddr]) -> String,
) -> Result<()> {
    let rt = lichen_node::service::runtime().context("cannot start the async runtime")?;
    rt.block_on(async move {
        let mut nodes = Vec::new();
        for o in options {
            nodes.push(lichen_node::service::start(o).await?);
        }
        let addrs: Vec<SocketAddr> = nodes.iter().map(|n| n.http_addr).collect();
        out!("{}", banner(&addrs));
        let stopped = {
            let any_stopped =
                futures::future::select_all(nodes.iter_mut().map(|n| Box::pin(n.wait())));
            tokio::select! {
                (result, _, _) = any_stopped => Some(result),
                _ = shutdown_signal() => None,
            }
        };
        if let Some(result) = stopped {
            result?;
            bail!("a node stopped unexpectedly");
        }
        eprintln!("stopping...");
        for node in nodes {
            node.stop().await?;
        }
        eprintln!("stopped cleanly");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
