//! `lichen`: the command line for every role — keys, genesis, running a node, issuing and
//! revoking licences, anchoring evidence, queries, exports, offline verification, governance.

mod cli;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, SigAlgo, Suite};
use lichen_contracts::model::{EntityStatus, LicenceDraft, holder_commitment};
use lichen_contracts::presentation::{Document, Policy, verify_bytes};
use lichen_contracts::tx::Payload;
use lichen_node::client::Client;
use lichen_node::json;
use serde_json::json;

use cli::keys::{self, PasswordSource};
use cli::ops;
use cli::out;

#[derive(Parser, Debug)]
#[command(
    name = "lichen",
    version,
    about = "Lichen: electronic licences and evidence on a permissioned chain"
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Read key-file passwords from this file (else $LICHEN_PASSWORD, else a prompt).
    #[arg(long, global = true, value_name = "FILE")]
    password_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Make a new key, sealed with a password (SM4 + HMAC-SM3), and its .pub file.
    Keygen {
        #[arg(long, value_enum, default_value = "sm2")]
        algo: Algo,
        /// Where to write the key file.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Key file operations.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Build a genesis file.
    Genesis {
        #[command(subcommand)]
        command: GenesisCommand,
    },
    /// Start (or resume) a four-validator development chain in a local folder, with demo keys
    /// and entities.
    Dev {
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
    },
    /// Network identities (libp2p keys) of nodes.
    P2pKey {
        #[command(subcommand)]
        command: P2pKeyCommand,
    },
    /// Run a node.
    Node {
        #[command(subcommand)]
        command: NodeCommand,
    },
    /// Issue a licence (signed with the agency's key).
    Issue(IssueArgs),
    /// Suspend a licence.
    Suspend(StatusArgs),
    /// Reinstate a suspended licence.
    Reinstate(StatusArgs),
    /// Revoke a licence (final).
    Revoke(StatusArgs),
    /// Replace a licence with a new one (final for the old one).
    Supersede(SupersedeArgs),
    /// Anchor document hashes and fetch receipts.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Read from a node.
    Query {
        #[command(subcommand)]
        command: QueryCommand,
    },
    /// Export presentations.
    Presentation {
        #[command(subcommand)]
        command: PresentationCommand,
    },
    /// Verify a presentation or evidence receipt offline, against a trust anchor only.
    Verify(VerifyArgs),
    /// Council operations: propose, collect approvals, submit.
    Gov {
        #[command(subcommand)]
        command: GovCommand,
    },
    /// The node's status.
    Status(NodeArg),
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Algo {
    Sm2,
    Ed25519,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum SuiteArg {
    Sm,
    Intl,
}

impl From<SuiteArg> for Suite {
    fn from(s: SuiteArg) -> Self {
        match s {
            SuiteArg::Sm => Suite::Sm,
            SuiteArg::Intl => Suite::Intl,
        }
    }
}

#[derive(Args, Debug)]
struct NodeArg {
    /// The node's HTTP API.
    #[arg(long, env = "LICHEN_NODE", default_value = "http://127.0.0.1:8080")]
    node: String,
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Open a key file and print its public key.
    Show { file: PathBuf },
}

#[derive(Subcommand, Debug)]
enum GenesisCommand {
    /// Start a genesis file.
    New {
        #[arg(short, long, default_value = "genesis.json")]
        out: PathBuf,
        #[arg(long)]
        chain_id: String,
        #[arg(long, value_enum, default_value = "sm")]
        suite: SuiteArg,
        /// Genesis time (default: now).
        #[arg(long)]
        time: Option<String>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Add council members (public keys or .pub files) and optionally set the threshold.
    AddCouncil {
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
        #[arg(long)]
        threshold: Option<u16>,
    },
    AddValidator {
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        #[arg(long)]
        name: String,
        /// Public key or .pub file.
        #[arg(long)]
        key: String,
        /// The validator's network peer id: a libp2p peer id (base58) or hex (default: its
        /// name's bytes).
        #[arg(long)]
        peer_id: Option<String>,
    },
    /// Add an observer: a non-voting node the validators' network admits by its peer id.
    AddObserver {
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        #[arg(long)]
        name: String,
        /// The observer's network peer id: a libp2p peer id (base58) or hex.
        #[arg(long)]
        peer_id: String,
    },
    AddAgency {
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
    },
    AddLicenceType {
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// Agencies authorised to issue it.
        #[arg(long = "agency", required = true)]
        agencies: Vec<String>,
    },
    AddSubmitter {
        #[arg(short, long, default_value = "genesis.json")]
        genesis: PathBuf,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
    },
    /// Check the genesis and print it.
    Show {
        #[arg(default_value = "genesis.json")]
        genesis: PathBuf,
    },
    /// Check the genesis and print its hash and trust-anchor fingerprint.
    Hash {
        #[arg(default_value = "genesis.json")]
        genesis: PathBuf,
    },
    /// Write the genesis trust anchor (binary) for offline verifiers.
    Anchor {
        #[arg(default_value = "genesis.json")]
        genesis: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum P2pKeyCommand {
    /// Make a new network key file and print its peer id (for genesis or `gov add-observer`).
    New { file: PathBuf },
    /// Print the peer id of a network key file.
    Show { file: PathBuf },
}

#[derive(Subcommand, Debug)]
enum NodeCommand {
    /// Run a node from node.toml (genesis and key required; defaults for the rest).
    Run {
        #[arg(long, default_value = "node.toml")]
        config: PathBuf,
        /// Override the HTTP listen address.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
}

#[derive(Args, Debug)]
struct SignerArgs {
    #[command(flatten)]
    node: NodeArg,
    /// The signing key file.
    #[arg(long)]
    key: PathBuf,
}

#[derive(Args, Debug)]
struct DraftArgs {
    /// Licence id (GB/T 36904 style ids are checked).
    #[arg(long)]
    id: String,
    /// Licence type code.
    #[arg(long = "type")]
    licence_type: String,
    /// Issuing agency id.
    #[arg(long)]
    agency: String,
    /// The licence file: hashed here, never sent.
    #[arg(long, conflicts_with = "document_hash")]
    file: Option<PathBuf>,
    /// The licence file's hash, if the file is not at hand.
    #[arg(long)]
    document_hash: Option<String>,
    /// The holder's identifier: only a salted commitment goes on chain.
    #[arg(long)]
    holder_id: String,
    /// The commitment salt, 64 hex digits (default: random, printed once; give it to the holder).
    #[arg(long)]
    holder_salt: Option<String>,
    /// Start of validity (default: now).
    #[arg(long)]
    valid_from: Option<String>,
    /// End of validity (default: none).
    #[arg(long)]
    valid_until: Option<String>,
}

#[derive(Args, Debug)]
struct IssueArgs {
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    draft: DraftArgs,
}

#[derive(Args, Debug)]
struct StatusArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// Licence id.
    #[arg(long)]
    id: String,
    #[arg(long)]
    reason: String,
}

#[derive(Args, Debug)]
struct SupersedeArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// The licence being replaced.
    #[arg(long)]
    old_id: String,
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    draft: DraftArgs,
}

#[derive(Subcommand, Debug)]
enum EvidenceCommand {
    /// Hash FILE locally and anchor the hash (the file never leaves this machine).
    Anchor {
        file: PathBuf,
        #[command(flatten)]
        signer: SignerArgs,
        /// Submitter id (a court, a notary).
        #[arg(long)]
        submitter: String,
        /// A label stored with the hash (no personal data).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Fetch the evidence receipt for HASH (or for FILE with --file) into a file and/or a QR
    /// code image of its bytes (`--qr out.png` or `out.svg`).
    #[command(group(ArgGroup::new("dest").args(["out", "qr"]).required(true).multiple(true)))]
    Receipt {
        hash: Option<String>,
        #[arg(long)]
        file: Option<PathBuf>,
        #[command(flatten)]
        node: NodeArg,
        /// Where to write the receipt (binary).
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Also (or instead) write the receipt as a QR code image: PNG or SVG by the file
        /// name's extension.
        #[arg(long, value_name = "FILE")]
        qr: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum QueryCommand {
    Licence {
        id: String,
        #[command(flatten)]
        node: NodeArg,
    },
    Tx {
        id: String,
        #[command(flatten)]
        node: NodeArg,
    },
    Block {
        height: u64,
        #[command(flatten)]
        node: NodeArg,
    },
    Evidence {
        hash: String,
        #[command(flatten)]
        node: NodeArg,
    },
}

#[derive(Subcommand, Debug)]
enum PresentationCommand {
    /// Fetch the presentation of licence ID into a file (verify it with `lichen verify`) and/or
    /// a QR code image of its bytes (`--qr out.png` or `out.svg`).
    #[command(group(ArgGroup::new("dest").args(["out", "qr"]).required(true).multiple(true)))]
    Export {
        id: String,
        /// Where to write the presentation (binary).
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Also (or instead) write the presentation as a QR code image: PNG or SVG by the file
        /// name's extension.
        #[arg(long, value_name = "FILE")]
        qr: Option<PathBuf>,
        #[command(flatten)]
        node: NodeArg,
    },
}

#[derive(Args, Debug)]
struct VerifyArgs {
    /// The presentation or evidence receipt file.
    #[arg(long)]
    presentation: PathBuf,
    /// What to trust: the genesis file, or a trust anchor file.
    #[arg(long)]
    trust: PathBuf,
    /// The licence file, to check its hash (read locally).
    #[arg(long, conflicts_with = "document_hash")]
    file: Option<PathBuf>,
    #[arg(long)]
    document_hash: Option<String>,
    /// How old the proof may be (e.g. 24h, 7d).
    #[arg(long, default_value = "24h")]
    max_age: String,
    /// Verify as of this time (default: now).
    #[arg(long)]
    at: Option<String>,
}

#[derive(Subcommand, Debug)]
enum GovCommand {
    /// Create a council proposal signed by the first member.
    Propose {
        #[command(subcommand)]
        op: GovOp,
    },
    /// Add a council member's signature to a proposal file.
    Approve {
        proposal: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
    /// Submit a proposal with enough signatures and wait for finality.
    Submit {
        proposal: PathBuf,
        #[command(flatten)]
        node: NodeArg,
    },
    /// Show a proposal.
    Show { proposal: PathBuf },
}

#[derive(Args, Debug)]
struct ProposeArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// Where to write the proposal.
    #[arg(short, long)]
    out: PathBuf,
}

#[derive(Subcommand, Debug)]
enum GovOp {
    AddAgency {
        #[command(flatten)]
        p: ProposeArgs,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long = "agency-key", required = true)]
        keys: Vec<String>,
    },
    SetAgencyStatus {
        #[command(flatten)]
        p: ProposeArgs,
        #[arg(long)]
        id: String,
        #[arg(long)]
        suspended: bool,
    },
    AddLicenceType {
        #[command(flatten)]
        p: ProposeArgs,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long = "agency", required = true)]
        agencies: Vec<String>,
    },
    Authorise {
        #[command(flatten)]
        p: ProposeArgs,
        #[arg(long = "type")]
        licence_type: String,
        #[arg(long)]
        agency: String,
        /// Withdraw the authorisation instead.
        #[arg(long)]
        withdraw: bool,
    },
    AddSubmitter {
        #[command(flatten)]
        p: ProposeArgs,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long = "submitter-key", required = true)]
        keys: Vec<String>,
    },
    AddValidator {
        #[command(flatten)]
        p: ProposeArgs,
        #[arg(long)]
        name: String,
        #[arg(long = "validator-key")]
        validator_key: String,
        /// A libp2p peer id (base58) or hex (default: the name's bytes).
        #[arg(long)]
        peer_id: Option<String>,
    },
    RemoveValidator {
        #[command(flatten)]
        p: ProposeArgs,
        #[arg(long = "validator-key")]
        validator_key: String,
    },
    /// Admit a non-voting node to the validators' network by its peer id.
    AddObserver {
        #[command(flatten)]
        p: ProposeArgs,
        #[arg(long)]
        name: String,
        /// A libp2p peer id (base58) or hex.
        #[arg(long)]
        peer_id: String,
    },
    /// Withdraw an observer.
    RemoveObserver {
        #[command(flatten)]
        p: ProposeArgs,
        /// A libp2p peer id (base58) or hex.
        #[arg(long)]
        peer_id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LICHEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn passwords(cli: &Cli) -> PasswordSource {
    PasswordSource {
        file: cli.password_file.clone(),
    }
}

fn run(cli: Cli) -> Result<u8> {
    let pw = passwords(&cli);
    let as_json = cli.json;
    match cli.command {
        Command::Keygen { algo, out } => {
            let algo = match algo {
                Algo::Sm2 => SigAlgo::Sm2,
                Algo::Ed25519 => SigAlgo::Ed25519,
            };
            let password = pw.get(&out.display().to_string(), true)?;
            let key = keys::generate(algo)?;
            keys::write_key_file(&out, &key, &password)?;
            let public = json::public_key_string(&key.public_key());
            if as_json {
                out!(
                    "{}",
                    json!({ "file": out, "public_key": public, "public_key_file": keys::public_path(&out) })
                );
            } else {
                out!(
                    "wrote {} (public key in {})\n{public}",
                    out.display(),
                    keys::public_path(&out).display()
                );
            }
        }
        Command::Key {
            command: KeyCommand::Show { file },
        } => {
            let key = keys::load_secret_key(&file, &pw)?;
            let public = json::public_key_string(&key.public_key());
            if as_json {
                out!(
                    "{}",
                    json!({ "algo": key.algo().name(), "public_key": public })
                );
            } else {
                out!("{} key\n{public}", key.algo().name());
            }
        }
        Command::Genesis { command } => genesis(command, as_json)?,
        Command::Node {
            command: NodeCommand::Run { config, listen },
        } => {
            let options = cli::node::load(&config, &pw, listen)?;
            let chain_id = options.genesis.config.chain_id.clone();
            run_node(options, |addr| {
                format!("lichen node for chain '{chain_id}' serving http://{addr}")
            })?;
        }
        Command::Dev {
            dir,
            suite,
            port,
            init,
        } => {
            let created = cli::dev::ensure_files(&dir, suite.into())?;
            if created {
                out!("created a new dev chain in {}", dir.display());
            } else {
                out!("resuming the dev chain in {}", dir.display());
            }
            if !init {
                let nodes = cli::dev::options(&dir, port)?;
                let actual = nodes
                    .first()
                    .map(|n| n.genesis.suite())
                    .unwrap_or(suite.into());
                run_nodes(nodes, |addrs| {
                    let urls: Vec<String> = addrs.iter().map(|a| format!("http://{a}")).collect();
                    cli::dev::next_steps(&dir, &urls, actual)
                })?;
            }
        }
        Command::P2pKey { command } => match command {
            P2pKeyCommand::New { file } => {
                let peer = cli::p2p::new_key_file(&file)?;
                if as_json {
                    out!("{}", json!({ "peer_id": peer.to_base58(), "file": file }));
                } else {
                    out!("{peer}");
                }
            }
            P2pKeyCommand::Show { file } => {
                let peer = cli::p2p::load_key_file(&file)?.public().to_peer_id();
                if as_json {
                    out!("{}", json!({ "peer_id": peer.to_base58() }));
                } else {
                    out!("{peer}");
                }
            }
        },
        Command::Issue(a) => {
            let client = Client::new(&a.signer.node.node);
            let info = ops::chain_info(&client)?;
            let key = keys::load_secret_key(&a.signer.key, &pw)?;
            let (draft, salt) = make_draft(&info, &a.draft)?;
            let tx = ops::sign(&info, Payload::IssueLicence(draft), &[&key])?;
            let receipt = ops::submit(&client, &tx)?;
            finish_with_salt(
                receipt,
                salt,
                as_json,
                &format!("licence {} issued", a.draft.id),
            );
        }
        Command::Suspend(a) => change_status(a, StatusChange::Suspend, as_json, &pw)?,
        Command::Reinstate(a) => change_status(a, StatusChange::Reinstate, as_json, &pw)?,
        Command::Revoke(a) => change_status(a, StatusChange::Revoke, as_json, &pw)?,
        Command::Supersede(a) => {
            let client = Client::new(&a.signer.node.node);
            let info = ops::chain_info(&client)?;
            let key = keys::load_secret_key(&a.signer.key, &pw)?;
            let (new, salt) = make_draft(&info, &a.draft)?;
            let payload = Payload::SupersedeLicence {
                old_id: a.old_id.clone(),
                reason: a.reason,
                new,
            };
            let tx = ops::sign(&info, payload, &[&key])?;
            let receipt = ops::submit(&client, &tx)?;
            finish_with_salt(
                receipt,
                salt,
                as_json,
                &format!("licence {} superseded by {}", a.old_id, a.draft.id),
            );
        }
        Command::Evidence { command } => evidence(command, as_json, &pw)?,
        Command::Query { command } => query(command, as_json)?,
        Command::Presentation {
            command: PresentationCommand::Export { id, out, qr, node },
        } => {
            if let Some(path) = &qr {
                cli::qr::check_path(path)?;
            }
            let client = Client::new(&node.node);
            let bytes = client.get_bytes(&format!("/v1/licences/{id}/presentation"))?;
            cli::qr::export(&bytes, out.as_deref(), qr.as_deref(), as_json, json!({}))?;
        }
        Command::Verify(a) => return verify(a, as_json),
        Command::Gov { command } => gov(command, as_json, &pw)?,
        Command::Status(node) => {
            let client = Client::new(&node.node);
            ops::print_value(&client.get_json("/v1/status")?, as_json);
        }
    }
    Ok(0)
}

#[derive(Clone, Copy, Debug)]
enum StatusChange {
    Suspend,
    Reinstate,
    Revoke,
}

/// Suspend / reinstate / revoke share their arguments.
fn change_status(
    a: StatusArgs,
    change: StatusChange,
    as_json: bool,
    pw: &PasswordSource,
) -> Result<()> {
    let client = Client::new(&a.signer.node.node);
    let info = ops::chain_info(&client)?;
    let key = keys::load_secret_key(&a.signer.key, pw)?;
    let (id, reason) = (a.id.clone(), a.reason);
    let (payload, past) = match change {
        StatusChange::Suspend => (Payload::SuspendLicence { id, reason }, "suspended"),
        StatusChange::Reinstate => (Payload::ReinstateLicence { id, reason }, "reinstated"),
        StatusChange::Revoke => (Payload::RevokeLicence { id, reason }, "revoked"),
    };
    let tx = ops::sign(&info, payload, &[&key])?;
    let receipt = ops::submit(&client, &tx)?;
    ops::print_receipt(&receipt, as_json, &format!("licence {} {past}", a.id));
    Ok(())
}

fn make_draft(info: &ops::ChainInfo, d: &DraftArgs) -> Result<(LicenceDraft, Option<[u8; 32]>)> {
    let document_hash = match (&d.file, &d.document_hash) {
        (Some(f), _) => ops::hash_file(info.suite, f)?,
        (None, Some(h)) => json::parse_hash(h).map_err(|e| anyhow!("--document-hash: {e}"))?,
        (None, None) => bail!("give the licence file (--file) or its hash (--document-hash)"),
    };
    let (salt, generated) = match &d.holder_salt {
        Some(s) => {
            let b = json::parse_hex(s).map_err(|e| anyhow!("--holder-salt: {e}"))?;
            let arr: [u8; 32] = b
                .try_into()
                .map_err(|_| anyhow!("--holder-salt must be 32 bytes (64 hex digits)"))?;
            (arr, false)
        }
        None => (keys::random::<32>()?, true),
    };
    let draft = LicenceDraft {
        id: d.id.clone(),
        licence_type: d.licence_type.clone(),
        issuer: d.agency.clone(),
        document_hash,
        holder_commitment: holder_commitment(info.suite, &salt, &d.holder_id),
        valid_from_ms: match &d.valid_from {
            Some(t) => ops::parse_time(t)?,
            None => lichen_node::runtime::now_ms(),
        },
        valid_until_ms: d.valid_until.as_deref().map(ops::parse_time).transpose()?,
    };
    draft
        .validate()
        .map_err(|e| anyhow!("the licence is not valid: {e}"))?;
    Ok((draft, generated.then_some(salt)))
}

fn finish_with_salt(
    mut receipt: serde_json::Value,
    salt: Option<[u8; 32]>,
    as_json: bool,
    what: &str,
) {
    if let Some(salt) = salt {
        receipt["holder_salt"] = json!(json::hex_string(&salt));
    }
    ops::print_receipt(&receipt, as_json, what);
    if let (Some(salt), false) = (salt, as_json) {
        out!(
            "holder salt {} (generated; give it to the holder, it is not stored anywhere)",
            json::hex_string(&salt)
        );
    }
}

fn genesis(command: GenesisCommand, as_json: bool) -> Result<()> {
    use cli::genesis as g;
    match command {
        GenesisCommand::New {
            out,
            chain_id,
            suite,
            time,
            force,
        } => {
            let suite = Suite::from(suite);
            let time_ms = match time {
                Some(t) => ops::parse_time(&t)?,
                None => lichen_node::runtime::now_ms(),
            };
            g::new(&out, &chain_id, suite, time_ms, force)?;
            out!(
                "wrote {}; add council members, validators, agencies and licence types next",
                out.display()
            );
        }
        GenesisCommand::AddCouncil {
            genesis,
            keys,
            threshold,
        } => g::add_council(&genesis, &keys, threshold)?,
        GenesisCommand::AddValidator {
            genesis,
            name,
            key,
            peer_id,
        } => g::add_validator(&genesis, &name, &key, peer_id.as_deref())?,
        GenesisCommand::AddObserver {
            genesis,
            name,
            peer_id,
        } => g::add_observer(&genesis, &name, &peer_id)?,
        GenesisCommand::AddAgency {
            genesis,
            id,
            name,
            keys,
        } => g::add_agency(&genesis, &id, &name, &keys)?,
        GenesisCommand::AddLicenceType {
            genesis,
            code,
            name,
            agencies,
        } => g::add_licence_type(&genesis, &code, &name, &agencies)?,
        GenesisCommand::AddSubmitter {
            genesis,
            id,
            name,
            keys,
        } => g::add_submitter(&genesis, &id, &name, &keys)?,
        GenesisCommand::Show { genesis } => {
            let loaded = g::load(&genesis)?;
            out!("{}", json::genesis_to_json_string(&loaded).trim_end());
        }
        GenesisCommand::Hash { genesis } => {
            let loaded = g::load(&genesis)?;
            let v = json!({
                "chain_id": loaded.config.chain_id,
                "genesis_hash": loaded.hash().to_hex(),
                "trust_anchor_hash": loaded.trust_anchor().hash().to_hex(),
            });
            if as_json {
                out!("{v}");
            } else {
                out!("{}", loaded.hash());
            }
        }
        GenesisCommand::Anchor { genesis, out } => {
            let loaded = g::load(&genesis)?;
            let anchor = loaded.trust_anchor();
            ops::write_file(&out, &anchor.to_bytes())?;
            out!("wrote {} (trust anchor {})", out.display(), anchor.hash());
        }
    }
    Ok(())
}

fn evidence(command: EvidenceCommand, as_json: bool, pw: &PasswordSource) -> Result<()> {
    match command {
        EvidenceCommand::Anchor {
            file,
            signer,
            submitter,
            label,
        } => {
            let client = Client::new(&signer.node.node);
            let info = ops::chain_info(&client)?;
            let hash = ops::hash_file(info.suite, &file)?;
            let key = keys::load_secret_key(&signer.key, pw)?;
            let tx = ops::sign(
                &info,
                Payload::AnchorEvidence {
                    hash,
                    submitter,
                    label,
                },
                &[&key],
            )?;
            let mut receipt = ops::submit(&client, &tx)?;
            receipt["evidence_hash"] = json!(hash.to_hex());
            ops::print_receipt(&receipt, as_json, &format!("evidence {hash} anchored"));
        }
        EvidenceCommand::Receipt {
            hash,
            file,
            node,
            out,
            qr,
        } => {
            if let Some(path) = &qr {
                cli::qr::check_path(path)?;
            }
            let client = Client::new(&node.node);
            let hash: Hash32 = match (hash, file) {
                (Some(h), None) => json::parse_hash(&h).map_err(|e| anyhow!("hash: {e}"))?,
                (None, Some(f)) => ops::hash_file(ops::chain_info(&client)?.suite, &f)?,
                _ => bail!("give either the evidence hash or --file, not both"),
            };
            let bytes = client.get_bytes(&format!("/v1/evidence/{hash}/receipt"))?;
            let report = json!({ "hash": hash.to_hex() });
            cli::qr::export(&bytes, out.as_deref(), qr.as_deref(), as_json, report)?;
        }
    }
    Ok(())
}

fn query(command: QueryCommand, as_json: bool) -> Result<()> {
    let (node, path) = match command {
        QueryCommand::Licence { id, node } => (node, format!("/v1/licences/{id}")),
        QueryCommand::Tx { id, node } => (node, format!("/v1/transactions/{id}")),
        QueryCommand::Block { height, node } => (node, format!("/v1/blocks/{height}")),
        QueryCommand::Evidence { hash, node } => (node, format!("/v1/evidence/{hash}")),
    };
    let client = Client::new(&node.node);
    ops::print_value(&client.get_json(&path)?, as_json);
    Ok(())
}

fn verify(a: VerifyArgs, as_json: bool) -> Result<u8> {
    let anchor = ops::load_trust(&a.trust)?;
    let bytes = std::fs::read(&a.presentation)
        .with_context(|| format!("cannot read {}", a.presentation.display()))?;
    let doc_bytes = a
        .file
        .as_ref()
        .map(|f| std::fs::read(f).with_context(|| format!("cannot read {}", f.display())))
        .transpose()?;
    let doc_hash = a
        .document_hash
        .as_deref()
        .map(|h| json::parse_hash(h).map_err(|e| anyhow!("--document-hash: {e}")))
        .transpose()?;
    let document = match (&doc_bytes, doc_hash) {
        (Some(b), _) => Some(Document::Bytes(b)),
        (None, Some(h)) => Some(Document::Hash(h)),
        (None, None) => None,
    };
    let policy = Policy {
        now_ms: match &a.at {
            Some(t) => ops::parse_time(t)?,
            None => lichen_node::runtime::now_ms(),
        },
        proof_age_max_ms: ops::parse_duration_ms(&a.max_age)?,
    };
    let report = verify_bytes(&anchor, &bytes, document, &policy);
    ops::print_report(&report, as_json);
    Ok(ops::verdict_exit_code(report.verdict) as u8)
}

fn gov(command: GovCommand, as_json: bool, pw: &PasswordSource) -> Result<()> {
    match command {
        GovCommand::Propose { op } => {
            let (p, payload) = gov_payload(op)?;
            let client = Client::new(&p.signer.node.node);
            let info = ops::chain_info(&client)?;
            let key = keys::load_secret_key(&p.signer.key, pw)?;
            let tx = ops::sign(&info, payload, &[&key])?;
            ops::write_file(&p.out, &tx.to_bytes())?;
            let summary = ops::proposal_summary(&tx, info.suite);
            if as_json {
                out!("{summary}");
            } else {
                out!(
                    "wrote proposal {} ({}); other members approve with `lichen gov approve {}`",
                    p.out.display(),
                    summary["id"].as_str().unwrap_or("?"),
                    p.out.display()
                );
            }
        }
        GovCommand::Approve { proposal, key } => {
            let mut tx = ops::read_proposal(&proposal)?;
            let key = keys::load_secret_key(&key, pw)?;
            ops::approve(&mut tx, &key)?;
            ops::write_file(&proposal, &tx.to_bytes())?;
            out!(
                "{} now has {} signatures",
                proposal.display(),
                tx.signatures.len()
            );
        }
        GovCommand::Submit { proposal, node } => {
            let tx = ops::read_proposal(&proposal)?;
            let client = Client::new(&node.node);
            let receipt = ops::submit(&client, &tx)?;
            ops::print_receipt(
                &receipt,
                as_json,
                &format!("proposal {} executed", proposal.display()),
            );
        }
        GovCommand::Show { proposal } => {
            let tx = ops::read_proposal(&proposal)?;
            let suite = ops::proposal_suite(&tx)?;
            ops::print_value(&ops::proposal_summary(&tx, suite), as_json);
        }
    }
    Ok(())
}

fn public_keys(keys: &[String]) -> Result<Vec<lichen_contracts::crypto::PublicKey>> {
    let mut out: Vec<_> = keys
        .iter()
        .map(|k| keys::parse_public_key_arg(k))
        .collect::<Result<_>>()?;
    out.sort();
    Ok(out)
}

fn gov_payload(op: GovOp) -> Result<(ProposeArgs, Payload)> {
    use cli::genesis::parse_peer_id;
    use lichen_contracts::model::{Agency, LicenceType, Observer, Submitter, Validator};
    Ok(match op {
        GovOp::AddAgency { p, id, name, keys } => (
            p,
            Payload::RegisterAgency(Agency {
                id,
                name,
                keys: public_keys(&keys)?,
                status: EntityStatus::Active,
            }),
        ),
        GovOp::SetAgencyStatus { p, id, suspended } => (
            p,
            Payload::SetAgencyStatus {
                id,
                status: if suspended {
                    EntityStatus::Suspended
                } else {
                    EntityStatus::Active
                },
            },
        ),
        GovOp::AddLicenceType {
            p,
            code,
            name,
            mut agencies,
        } => {
            agencies.sort();
            (
                p,
                Payload::DefineLicenceType(LicenceType {
                    code,
                    name,
                    authorised: agencies,
                }),
            )
        }
        GovOp::Authorise {
            p,
            licence_type,
            agency,
            withdraw,
        } => (
            p,
            Payload::SetTypeAuthorisation {
                licence_type,
                agency,
                authorised: !withdraw,
            },
        ),
        GovOp::AddSubmitter { p, id, name, keys } => (
            p,
            Payload::RegisterSubmitter(Submitter {
                id,
                name,
                keys: public_keys(&keys)?,
                status: EntityStatus::Active,
            }),
        ),
        GovOp::AddValidator {
            p,
            name,
            validator_key,
            peer_id,
        } => {
            let peer_id = match peer_id {
                Some(p) => parse_peer_id(&p).context("--peer-id")?,
                None => name.as_bytes().to_vec(),
            };
            (
                p,
                Payload::AddValidator(Validator {
                    name,
                    key: keys::parse_public_key_arg(&validator_key)?,
                    peer_id,
                }),
            )
        }
        GovOp::RemoveValidator { p, validator_key } => (
            p,
            Payload::RemoveValidator {
                key: keys::parse_public_key_arg(&validator_key)?,
            },
        ),
        GovOp::AddObserver { p, name, peer_id } => (
            p,
            Payload::AddObserver(Observer {
                name,
                peer_id: parse_peer_id(&peer_id).context("--peer-id")?,
            }),
        ),
        GovOp::RemoveObserver { p, peer_id } => (
            p,
            Payload::RemoveObserver {
                peer_id: parse_peer_id(&peer_id).context("--peer-id")?,
            },
        ),
    })
}

fn run_node(
    options: lichen_node::service::NodeOptions,
    banner: impl FnOnce(SocketAddr) -> String,
) -> Result<()> {
    run_nodes(vec![options], |addrs| {
        banner(
            addrs
                .first()
                .copied()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
        )
    })
}

/// Starts the nodes in one process, prints the banner, and runs until Ctrl-C or SIGTERM, then
/// stops every node cleanly.
fn run_nodes(
    options: Vec<lichen_node::service::NodeOptions>,
    banner: impl FnOnce(&[SocketAddr]) -> String,
) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
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
