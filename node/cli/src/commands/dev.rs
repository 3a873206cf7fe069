//! `lichen dev`: a ready-to-use development chain in a local folder: a genesis with four
//! validators, a demo council, agencies, licence types and a court, every key, and one
//! `node-N.toml` per validator; then the four validators run in this process, talking real
//! libp2p over 127.0.0.1, each with its own fjall data. Running it again resumes the same chain.
//! `scripts/localnet.sh` runs the same `node-N.toml` files as four separate processes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use libp2p::Multiaddr;
use lichen_contracts::crypto::{SigAlgo, Suite};
use lichen_node::api::ScannerSite;
use lichen_node::net::NetworkOptions;
use lichen_node::service::NodeOptions;

use super::genesis as g;
use super::keys::{self, PasswordSource};
use crate::args::SuiteArg;
use crate::output::out;

#[derive(Args, Debug)]
pub struct DevArgs {
    /// The folder holding the dev chain.
    #[arg(long, default_value = "lichen-dev")]
    dir: PathBuf,
    /// Suite of a new dev chain (an existing one keeps its own).
    #[arg(long, value_enum, default_value = "sm")]
    suite: SuiteArg,
    /// HTTP port of the first validator on 127.0.0.1 (the next free one if taken).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Only write the files (genesis, keys, node-N.toml) and exit.
    #[arg(long)]
    init: bool,
    /// The scanner page every validator serves at `/scanner/` [default:
    /// `verifier-wasm/pkg/site` if `./scripts/build-wasm.sh` has built it here].
    #[arg(long, value_name = "DIR")]
    scanner_dir: Option<PathBuf>,
    /// With nothing to order, an empty block this often (milliseconds): it keeps certified
    /// headers fresh; more often only fills the disk.
    #[arg(long, default_value_t = lichen_node::service::HEARTBEAT_DEFAULT_MS)]
    heartbeat_ms: u64,
}

/// Where `./scripts/build-wasm.sh` puts the scanner page, from the repository's root.
pub const SCANNER_SITE_DIR: &str = "verifier-wasm/pkg/site";

/// `lichen dev`.
pub fn run(a: DevArgs) -> Result<()> {
    let created = ensure_files(&a.dir, a.suite.into())?;
    if created {
        out!("created a new dev chain in {}", a.dir.display());
    } else {
        out!("resuming the dev chain in {}", a.dir.display());
    }
    if a.init {
        return Ok(());
    }
    let mut nodes = options(&a.dir, a.port)?;
    let scanner_dir = a.scanner_dir.clone().or_else(|| {
        let built = PathBuf::from(SCANNER_SITE_DIR);
        built.join("index.html").exists().then_some(built)
    });
    let scanner = scanner_dir.as_deref().map(ScannerSite::load).transpose()?;
    for node in &mut nodes {
        node.scanner = scanner.clone();
        node.heartbeat_ms = a.heartbeat_ms.max(1);
    }
    let actual = nodes
        .first()
        .map(|n| n.genesis.suite())
        .unwrap_or(a.suite.into());
    let has_scanner = scanner.is_some();
    super::node::run_nodes(nodes, |addrs| {
        let urls: Vec<String> = addrs.iter().map(|a| format!("http://{a}")).collect();
        next_steps(&a.dir, &urls, actual, has_scanner)
    })
}

/// The password of the dev chain's key files. Development only: it is printed and documented.
pub const DEV_PASSWORD: &str = "lichen-dev";
/// Validators of a new dev chain: f = 1, so one may crash or lie.
pub const DEV_VALIDATORS: usize = 4;
/// The first validator's peer-to-peer port in the written `node-N.toml` files (then +1 each).
pub const DEV_P2P_PORT_BASE: u16 = 9101;
/// The first validator's HTTP port in the written `node-N.toml` files (then +1 each).
pub const DEV_HTTP_PORT_BASE: u16 = 8080;

/// Demo agencies (id, name) and licence types (code, name, authorised agency).
const AGENCIES: [(&str, &str); 2] = [
    ("market-bureau", "Municipal Market Regulation Bureau"),
    ("health-commission", "Municipal Health Commission"),
];
const LICENCE_TYPES: [(&str, &str, &str); 2] = [
    ("business", "Business licence", "market-bureau"),
    ("food", "Food operation permit", "health-commission"),
];

fn dev_passwords(dir: &Path) -> Result<PasswordSource> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = dir.join("password.txt");
    if !file.exists() {
        std::fs::write(&file, format!("{DEV_PASSWORD}\n"))
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    Ok(PasswordSource { file: Some(file) })
}

fn validator_name(i: usize) -> String {
    format!("validator-{i}")
}

/// `node-N.toml` for validator `i` (1-based) of `peers` (peer ids in validator order).
fn node_config(i: usize, peers: &[String]) -> String {
    let p2p_port = DEV_P2P_PORT_BASE + (i as u16 - 1);
    let http_port = DEV_HTTP_PORT_BASE + (i as u16 - 1);
    let dial: Vec<String> = peers
        .iter()
        .enumerate()
        .filter(|(j, _)| j + 1 != i)
        .map(|(j, peer)| {
            format!(
                "  \"/ip4/127.0.0.1/tcp/{}/p2p/{peer}\",",
                DEV_P2P_PORT_BASE + j as u16
            )
        })
        .collect();
    let name = validator_name(i);
    format!(
        "# Validator {i} of the dev chain (written by `lichen dev`; `lichen node run --config` runs it).\n\
         genesis = \"genesis.json\"\n\
         key = \"keys/{name}.key\"\n\
         data_dir = \"nodes/{name}\"\n\n\
         [http]\n\
         listen = \"127.0.0.1:{http_port}\"\n\n\
         [network]\n\
         key = \"keys/{name}.p2p\"\n\
         listen = [\"/ip4/127.0.0.1/tcp/{p2p_port}\"]\n\
         peers = [\n{}\n]\n",
        dial.join("\n")
    )
}

/// Creates the dev chain's files in `dir` unless they exist. Returns whether it did.
pub fn ensure_files(dir: &Path, suite: Suite) -> Result<bool> {
    let passwords = dev_passwords(dir)?;
    let genesis = dir.join("genesis.json");
    if genesis.exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(dir.join("keys"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let algo = suite.sig_algo();
    let password = passwords.get("the dev keys", false)?;
    let new_key = |name: &str| -> Result<String> {
        let path = dir.join("keys").join(format!("{name}.key"));
        if !path.exists() {
            keys::write_key_file(&path, &keys::generate(algo)?, &password)?;
        }
        Ok(keys::public_path(&path).display().to_string())
    };
    let council = new_key("council-1")?;
    let court = new_key("court-1")?;
    let tmp = dir.join("genesis.json.new");
    g::new(&tmp, "lichen-dev", suite, crate::time::now_ms(), true)?;
    g::add_council(&tmp, &[council], Some(1))?;
    let mut peers = Vec::new();
    for i in 1..=DEV_VALIDATORS {
        let name = validator_name(i);
        let key = new_key(&name)?;
        let p2p = dir.join("keys").join(format!("{name}.p2p"));
        let peer = if p2p.exists() {
            super::p2p::load_key_file(&p2p)?.public().to_peer_id()
        } else {
            super::p2p::new_key_file(&p2p)?
        };
        g::add_validator(&tmp, &name, &key, Some(&peer.to_base58()))?;
        peers.push(peer.to_base58());
    }
    for (id, name) in AGENCIES {
        let key = new_key(id)?;
        g::add_agency(&tmp, id, name, &[key])?;
    }
    for (code, name, agency) in LICENCE_TYPES {
        g::add_licence_type(&tmp, code, name, &[agency.to_string()])?;
    }
    g::add_submitter(&tmp, "court-1", "Internet Court", &[court])?;
    for i in 1..=DEV_VALIDATORS {
        let path = dir.join(format!("node-{i}.toml"));
        std::fs::write(&path, node_config(i, &peers))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    g::load(&tmp)?;
    // The genesis file last: its presence means the folder is complete.
    std::fs::rename(&tmp, &genesis)?;
    Ok(true)
}

/// The first free TCP port on 127.0.0.1 from `from`, skipping `taken`.
fn free_port(from: u16, taken: &[u16]) -> Result<u16> {
    (from..from.saturating_add(200))
        .filter(|p| !taken.contains(p))
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .with_context(|| format!("no free port on 127.0.0.1 from {from}"))
}

/// The dev chain's node options, one per validator, ready to start. The written ports are used
/// if free; otherwise the next free ones (and every validator is told where the others are).
pub fn options(dir: &Path, http_port: u16) -> Result<Vec<NodeOptions>> {
    let passwords = dev_passwords(dir)?;
    let configs: Vec<PathBuf> = (1..=DEV_VALIDATORS)
        .map(|i| dir.join(format!("node-{i}.toml")))
        .collect();
    if let Some(missing) = configs.iter().find(|c| !c.exists()) {
        bail!(
            "{} is missing: {} was made by an older `lichen dev`; remove the folder to start afresh",
            missing.display(),
            dir.display()
        );
    }
    let mut nodes: Vec<NodeOptions> = configs
        .iter()
        .map(|c| super::node::load(c, &passwords, None))
        .collect::<Result<_>>()?;
    let mut taken = Vec::new();
    for (i, node) in nodes.iter_mut().enumerate() {
        let wanted = if i == 0 {
            http_port
        } else {
            node.http_listen
                .port()
                .max(http_port.saturating_add(i as u16))
        };
        let port = free_port(wanted, &taken)?;
        taken.push(port);
        node.http_listen = SocketAddr::from(([127, 0, 0, 1], port));
    }
    let mut p2p_ports = Vec::new();
    for i in 0..nodes.len() {
        let port = free_port(DEV_P2P_PORT_BASE + i as u16, &taken)?;
        taken.push(port);
        p2p_ports.push(port);
    }
    let peer_ids: Vec<_> = nodes
        .iter()
        .map(|n| {
            n.network
                .as_ref()
                .map(|net| net.keypair.public().to_peer_id())
        })
        .collect();
    for (i, node) in nodes.iter_mut().enumerate() {
        let Some(net) = node.network.as_mut() else {
            bail!("node-{}.toml has no [network] section", i + 1);
        };
        let address = |port: u16| -> Result<Multiaddr> {
            format!("/ip4/127.0.0.1/tcp/{port}")
                .parse()
                .context("dev multiaddr")
        };
        *net = NetworkOptions {
            keypair: net.keypair.clone(),
            listen: vec![address(p2p_ports[i])?],
            peers: peer_ids
                .iter()
                .zip(&p2p_ports)
                .enumerate()
                .filter(|(j, _)| *j != i)
                .filter_map(|(_, (peer, port))| {
                    let peer = (*peer)?;
                    address(*port)
                        .ok()
                        .map(|a| a.with_p2p(peer).unwrap_or_else(|a| a))
                })
                .collect(),
        };
    }
    Ok(nodes)
}

/// What to try next, printed once the nodes serve.
pub fn next_steps(dir: &Path, urls: &[String], suite: Suite, has_scanner: bool) -> String {
    let d = dir.display();
    let url = urls.first().map(String::as_str).unwrap_or("");
    let scanner = if has_scanner {
        format!(
            "scanner page: {url}/scanner/ (`lichen presentation export ID --qr ID.png` links to it)"
        )
    } else {
        format!(
            "no scanner page: build it with ./scripts/build-wasm.sh, then {url}/scanner/ serves it"
        )
    };
    let algo = match suite.sig_algo() {
        SigAlgo::Sm2 => "SM2",
        SigAlgo::Ed25519 => "Ed25519",
    };
    let others = urls.get(1..).unwrap_or_default().join(" ");
    format!(
        "dev chain 'lichen-dev': {n} validators on libp2p over 127.0.0.1 ({suite} suite, {algo} keys in {d}/keys, password in {d}/password.txt)\n\
         serving {url}\n\
         (the other validators serve {others})\n\
         {scanner}\n\n\
         try, in another terminal:\n\
         \x20 export LICHEN_NODE={url} LICHEN_PASSWORD={DEV_PASSWORD}\n\
         \x20 echo 'my licence' > licence.pdf\n\
         \x20 lichen issue --key {d}/keys/market-bureau.key --agency market-bureau --type business \\\n\
         \x20     --id LIC-0001 --file licence.pdf --holder-id holder-1\n\
         \x20 lichen query licence LIC-0001\n\
         \x20 lichen presentation export LIC-0001 -o LIC-0001.pres --qr LIC-0001.png\n\
         \x20 lichen verify --presentation LIC-0001.pres --trust {d}/genesis.json --file licence.pdf\n\
         \x20 lichen revoke --key {d}/keys/market-bureau.key --id LIC-0001 --reason 'demo'\n\
         \x20 curl {url}/v1/status\n\n\
         Ctrl-C stops the chain; `lichen dev` again resumes it.",
        n = urls.len(),
        suite = suite.name()
    )
}
