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
        /// The proposal file (`gov propose -o`), rewritten with the signature added.
        proposal: PathBuf,
        /// The approving council member's key file.
        #[arg(long)]
        key: PathBuf,
    },
    /// Submit a proposal with enough signatures and wait for finality.
    Submit {
        /// The proposal file.
        proposal: PathBuf,
        #[command(flatten)]
        node: NodeArg,
    },
    /// Show a proposal: its id, payload, signatures and expiry height.
    Show {
        /// The proposal file.
        proposal: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct ProposeArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// Where to write the proposal.
    #[arg(short, long)]
    out: PathBuf,
}

/// `--status` of an entity.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum StatusArg {
    Active,
    Suspended,
}

impl From<StatusArg> for EntityStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Active => EntityStatus::Active,
            StatusArg::Suspended => EntityStatus::Suspended,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum GovOp {
    /// Register an agency that issues licences.
    AddAgency {
        #[command(flatten)]
        p: ProposeArgs,
        /// The agency's id (1-64 of A-Z a-z 0-9 . _ - : /).
        #[arg(long)]
        id: String,
        /// Its name, for people.
        #[arg(long)]
        name: String,
        /// A public key of the agency (`sm2:<hex>`, `ed25519:<hex>` or a `.pub` file); repeat
        /// for several (at most 16).
        #[arg(long = "agency-key", required = true)]
        keys: Vec<String>,
    },
    /// Rename an agency and/or replace its keys (key rotation: the old keys sign nothing from
    /// the next block on). Only the council may; an agency cannot change its own keys.
    UpdateAgency {
        #[command(flatten)]
        p: ProposeArgs,
        /// The agency's id.
        #[arg(long)]
        id: String,
        /// A new name (unchanged if absent).
        #[arg(long)]
        name: Option<String>,
        /// The agency's new key set, replacing every old key (`sm2:<hex>`, `ed25519:<hex>` or a
        /// `.pub` file); repeat for several. Keys unchanged if absent.
        #[arg(long = "agency-key")]
        keys: Vec<String>,
    },
    /// Suspend an agency (it issues nothing while suspended) or make it active again.
    SetAgencyStatus {
        #[command(flatten)]
        p: ProposeArgs,
        /// The agency's id.
        #[arg(long)]
        id: String,
        /// Suspend it (without this flag: make it active).
        #[arg(long)]
        suspended: bool,
    },
    /// Define a licence type and the agencies that may issue it.
    AddLicenceType {
        #[command(flatten)]
        p: ProposeArgs,
        /// The type's code (1-64 of A-Z a-z 0-9 . _ - : /).
        #[arg(long)]
        code: String,
        /// Its name, for people.
        #[arg(long)]
        name: String,
        /// An agency authorised to issue it; repeat for several.
        #[arg(long = "agency", required = true)]
        agencies: Vec<String>,
    },
    /// Grant (or withdraw) an agency's authorisation to issue a licence type.
    Authorise {
        #[command(flatten)]
        p: ProposeArgs,
        /// The licence type's code.
        #[arg(long = "type")]
        licence_type: String,
        /// The agency's id.
        #[arg(long)]
        agency: String,
        /// Withdraw the authorisation instead.
        #[arg(long)]
        withdraw: bool,
    },
    /// Register a submitter (a court or notary that anchors evidence).
    AddSubmitter {
        #[command(flatten)]
        p: ProposeArgs,
        /// The submitter's id (1-64 of A-Z a-z 0-9 . _ - : /).
        #[arg(long)]
        id: String,
        /// Its name, for people.
        #[arg(long)]
        name: String,
        /// A public key of the submitter (`sm2:<hex>`, `ed25519:<hex>` or a `.pub` file); repeat
        /// for several.
        #[arg(long = "submitter-key", required = true)]
        keys: Vec<String>,
    },
    /// Replace a submitter's keys (key rotation) and/or set its status.
    UpdateSubmitter {
        #[command(flatten)]
        p: ProposeArgs,
        /// The submitter's id.
        #[arg(long)]
        id: String,
        /// The submitter's new key set, replacing every old key; repeat for several. Keys
        /// unchanged if absent.
        #[arg(long = "submitter-key")]
        keys: Vec<String>,
        /// Its new status (unchanged if absent).
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
    /// Replace the council: its members (key rotation) and threshold. Signed by the current
    /// council; the new one signs from the next block on.
    UpdateCouncil {
        #[command(flatten)]
        p: ProposeArgs,
        /// A member's public key (`sm2:<hex>`, `ed25519:<hex>` or a `.pub` file); repeat for
        /// each member (1-32).
        #[arg(long = "member", required = true)]
        members: Vec<String>,
        /// Signatures a council operation will need (1 to the number of members).
        #[arg(long)]
        threshold: u16,
    },
    /// Add a validator to the set (effective for the block after the one that carries it).
    AddValidator {
        #[command(flatten)]
        p: ProposeArgs,
        /// The validator's name, for people.
        #[arg(long)]
        name: String,
        /// Its consensus key (`sm2:<hex>`, `ed25519:<hex>` or a `.pub` file).
        #[arg(long = "validator-key")]
        validator_key: String,
        /// A libp2p peer id (base58) or hex (default: the name's bytes).
        #[arg(long)]
        peer_id: Option<String>,
    },
    /// Remove a validator from the set (effective for the block after the one that carries it).
    RemoveValidator {
        #[command(flatten)]
        p: ProposeArgs,
        /// Its consensus key (`sm2:<hex>`, `ed25519:<hex>` or a `.pub` file).
        #[arg(long = "validator-key")]
        validator_key: String,
    },
    /// Admit a non-voting node to the validators' network by its peer id.
    AddObserver {
        #[command(flatten)]
        p: ProposeArgs,
        /// The observer's name, for people.
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
            if as_json {
                out!("{}", proposal_summary(&tx, proposal_suite(&tx)?));
            } else {
                out!(
                    "{} now has {} signatures",
                    proposal.display(),
                    tx.signatures.len()
                );
            }
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
    if out.windows(2).any(|w| w[0] == w[1]) {
        bail!("the same key is given twice");
    }
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
        GovOp::UpdateAgency { p, id, name, keys } => {
            if name.is_none() && keys.is_empty() {
                bail!("nothing to change: give --name and/or --agency-key");
            }
            let keys = (!keys.is_empty()).then(|| public_keys(&keys)).transpose()?;
            (p, Payload::UpdateAgency { id, name, keys })
        }
        GovOp::UpdateSubmitter {
            p,
            id,
            keys,
            status,
        } => {
            if keys.is_empty() && status.is_none() {
                bail!("nothing to change: give --submitter-key and/or --status");
            }
            let keys = (!keys.is_empty()).then(|| public_keys(&keys)).transpose()?;
            (
                p,
                Payload::UpdateSubmitter {
                    id,
                    keys,
                    status: status.map(EntityStatus::from),
                },
            )
        }
        GovOp::UpdateCouncil {
            p,
            members,
            threshold,
        } => {
            let council = lichen_contracts::model::Council {
                members: public_keys(&members)?,
                threshold,
            };
            council
                .validate()
                .map_err(|e| anyhow!("the new council is not valid: {e}"))?;
            (p, Payload::UpdateCouncil(council))
        }
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
