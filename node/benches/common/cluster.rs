//! Four validators in this process, each with fjall on disk, the real HTTP API and the libp2p
//! network on 127.0.0.1 (the cluster and attack benchmarks).

use std::time::{Duration, Instant};

use libp2p::{Multiaddr, identity};
use lichen_client::Client;
use lichen_contracts::testkit::TestChain;
use lichen_node::net::NetworkOptions;
use lichen_node::service::{DataDir, NodeOptions, RunningNode, start};
use tempfile::TempDir;

pub const VALIDATORS: usize = 4;
/// How long the cluster may take to start.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

#[path = "../../tests/common/ports.rs"]
mod ports;
pub use ports::free_port;

pub struct Cluster {
    pub rt: tokio::runtime::Runtime,
    pub nodes: Vec<RunningNode>,
    pub urls: Vec<String>,
    /// Observers (listed in genesis, following by sync), and their APIs.
    pub observers: Vec<RunningNode>,
    pub observer_urls: Vec<String>,
    _dirs: Vec<TempDir>,
}

impl Cluster {
    /// Four validators of `chain` (whose genesis gets fresh libp2p peer ids), each dialling the
    /// other three on fixed 127.0.0.1 ports.
    pub fn start(chain: &mut TestChain) -> Cluster {
        Self::start_with(chain, 0)
    }

    /// The four validators and `observers` observers, each observer dialling every validator.
    pub fn start_with(chain: &mut TestChain, observers: usize) -> Cluster {
        let observer_keys: Vec<identity::Keypair> = (0..observers)
            .map(|_| identity::Keypair::generate_ed25519())
            .collect();
        chain.genesis.observers = observer_keys
            .iter()
            .enumerate()
            .map(|(i, k)| lichen_contracts::model::Observer {
                name: format!("observer-{i}"),
                peer_id: k.public().to_peer_id().to_bytes(),
            })
            .collect();
        let keypairs: Vec<identity::Keypair> = (0..VALIDATORS)
            .map(|_| identity::Keypair::generate_ed25519())
            .collect();
        for (i, keypair) in keypairs.iter().enumerate() {
            let public = chain.key(&format!("validator-{i}")).public_key();
            let entry = chain
                .genesis
                .validators
                .validators
                .iter_mut()
                .find(|v| v.key == public)
                .expect("validator in genesis");
            entry.peer_id = keypair.public().to_peer_id().to_bytes();
        }
        let ports: Vec<u16> = (0..VALIDATORS).map(|_| free_port()).collect();
        let address = |i: usize| -> Multiaddr {
            format!(
                "/ip4/127.0.0.1/tcp/{}/p2p/{}",
                ports[i],
                keypairs[i].public().to_peer_id()
            )
            .parse()
            .unwrap()
        };
        let rt = lichen_node::service::runtime().unwrap();
        let mut nodes = Vec::new();
        let mut dirs = Vec::new();
        for i in 0..VALIDATORS {
            let dir = tempfile::tempdir().unwrap();
            let key = chain.owned_key(&format!("validator-{i}"));
            let mut options = NodeOptions::new(
                DataDir::Disk(dir.path().to_path_buf()),
                chain.genesis.clone(),
                key,
                "127.0.0.1:0".parse().unwrap(),
            );
            options.network = Some(NetworkOptions {
                keypair: keypairs[i].clone(),
                listen: vec![format!("/ip4/127.0.0.1/tcp/{}", ports[i]).parse().unwrap()],
                peers: (0..VALIDATORS).filter(|&j| j != i).map(address).collect(),
            });
            nodes.push(rt.block_on(start(options)).unwrap());
            dirs.push(dir);
        }
        let mut observer_nodes = Vec::new();
        for keypair in observer_keys {
            let dir = tempfile::tempdir().unwrap();
            let mut options = NodeOptions::observer(
                DataDir::Disk(dir.path().to_path_buf()),
                chain.genesis.clone(),
                "127.0.0.1:0".parse().unwrap(),
            );
            options.network = Some(NetworkOptions {
                keypair,
                listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
                peers: (0..VALIDATORS).map(address).collect(),
            });
            observer_nodes.push(rt.block_on(start(options)).unwrap());
            dirs.push(dir);
        }
        let url = |n: &RunningNode| format!("http://{}", n.http_addr);
        Cluster {
            urls: nodes.iter().map(url).collect(),
            observer_urls: observer_nodes.iter().map(url).collect(),
            rt,
            nodes,
            observers: observer_nodes,
            _dirs: dirs,
        }
    }

    /// Waits until every observer has synced to `height`.
    pub fn wait_observers(&self, height: u64) {
        let deadline = Instant::now() + READY_TIMEOUT;
        while !self
            .observers
            .iter()
            .all(|o| o.chain.tip().is_ok_and(|t| t.height >= height))
        {
            assert!(
                Instant::now() < deadline,
                "observers did not reach height {height} in {READY_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn status(&self, i: usize) -> Option<serde_json::Value> {
        Client::new(&self.urls[i]).get_json("/v1/status").ok()
    }

    /// Waits until every node has committed `height` and sees its three peers.
    pub fn wait_ready(&self, height: u64) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let ready = (0..VALIDATORS).all(|i| {
                self.status(i).is_some_and(|s| {
                    s["height"].as_u64().unwrap_or(0) >= height
                        && s["peers"].as_u64().unwrap_or(0) >= (VALIDATORS - 1) as u64
                })
            });
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "cluster did not reach height {height} in {READY_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(self) {
        for node in self.observers.into_iter().chain(self.nodes) {
            self.rt.block_on(node.stop()).unwrap();
        }
    }
}
