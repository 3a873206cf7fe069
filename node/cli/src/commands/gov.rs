//! Council governance: `lichen gov propose` writes a proposal (a council transaction signed by
//! the first member), `approve` adds members' signatures, `submit` sends it once the threshold
//! is met; `show` prints one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{SecretKey, SigAlgo, Suite};
use lichen_contracts::model::EntityStatus;
use lichen_contracts::tx::{Payload, SignedTransaction, TxSignature};
use lichen_views as views;
use serde_json::{Value, json};

use super::genesis::parse_peer_id;
use super::keys::{self, PasswordSource};
use crate::args::{NodeArg, SignerArgs};
use crate::ops;
use crate::output::{out, print_receipt, print_value};

#[derive(Subcommand, Debug)]
pub enum GovCommand {
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
pub struct ProposeArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// Where to write the proposal.
    #[arg(short, long)]
    out: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum GovOp {
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

/// `lichen gov ...`.
pub fn run(command: GovCommand, as_json: bool, pw: &PasswordSource) -> Result<()> {
    match command {
        GovCommand::Propose { op } => {
            let (p, payload) = gov_payload(op)?;
            let client = p.signer.node.client();
            let info = ops::chain_info(&client)?;
            let key = keys::load_secret_key(&p.signer.key, pw)?;
            let tx = ops::sign(&info, payload, &[&key])?;
            ops::write_file(&p.out, &tx.to_bytes())?;
            let summary = proposal_summary(&tx, info.suite);
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
            let mut tx = read_proposal(&proposal)?;
            let key = keys::load_secret_key(&key, pw)?;
            approve(&mut tx, &key)?;
            ops::write_file(&proposal, &tx.to_bytes())?;
            out!(
                "{} now has {} signatures",
                proposal.display(),
                tx.signatures.len()
            );
        }
        GovCommand::Submit { proposal, node } => {
            let tx = read_proposal(&proposal)?;
            let client = node.client();
            let receipt = ops::submit(&client, &tx)?;
            print_receipt(
                &receipt,
                &[],
                as_json,
                &format!("proposal {} executed", proposal.display()),
            );
        }
        GovCommand::Show { proposal } => {
            let tx = read_proposal(&proposal)?;
            let suite = proposal_suite(&tx)?;
            print_value(&proposal_summary(&tx, suite), as_json);
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

/// The suite a proposal was signed for: the one whose algorithm its signatures use (a suite
/// fixes its algorithm, and the proposal id depends on the suite's hash).
pub fn proposal_suite(tx: &SignedTransaction) -> Result<Suite> {
    let algo = tx
        .signatures
        .first()
        .map(|s| s.key.algo())
        .ok_or_else(|| anyhow!("the proposal carries no signature"))?;
    Ok(suite_for(algo))
}

fn suite_for(algo: SigAlgo) -> Suite {
    match algo {
        SigAlgo::Sm2 => Suite::Sm,
        SigAlgo::Ed25519 => Suite::Intl,
    }
}

/// Adds `key`'s signature to a proposal (a council transaction being collected).
pub fn approve(tx: &mut SignedTransaction, key: &SecretKey) -> Result<()> {
    let suite = suite_for(key.algo());
    if tx
        .signatures
        .first()
        .is_some_and(|s| s.key.algo() != key.algo())
    {
        bail!(
            "the proposal is signed with {} keys; this key is {}",
            tx.signatures[0].key.algo().name(),
            key.algo().name()
        );
    }
    let public = key.public_key();
    if tx.signatures.iter().any(|s| s.key == public) {
        bail!("this key already signed the proposal");
    }
    tx.signatures.push(TxSignature {
        key: public,
        signature: key.sign(tx.id(suite).as_bytes()),
    });
    Ok(())
}

pub fn read_proposal(path: &Path) -> Result<SignedTransaction> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    SignedTransaction::from_bytes(&bytes).map_err(|e| {
        anyhow!(
            "{} is not a proposal (signed transaction): {e}",
            path.display()
        )
    })
}

pub fn proposal_summary(tx: &SignedTransaction, suite: Suite) -> Value {
    json!({
        "id": tx.id(suite).to_hex(),
        "signatures": tx.signatures.len(),
        "payload": views::payload_to_json(&tx.tx.payload),
        "expires_at_height": tx.tx.expires_at_height,
    })
}
