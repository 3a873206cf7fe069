//! Arguments several commands share.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use lichen_client::Client;
use lichen_contracts::crypto::{SigAlgo, Suite};

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Algo {
    Sm2,
    Ed25519,
}

impl From<Algo> for SigAlgo {
    fn from(a: Algo) -> Self {
        match a {
            Algo::Sm2 => SigAlgo::Sm2,
            Algo::Ed25519 => SigAlgo::Ed25519,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SuiteArg {
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
pub struct NodeArg {
    /// The node's HTTP API.
    #[arg(long, env = "LICHEN_NODE", default_value = "http://127.0.0.1:8080")]
    pub node: String,
}

impl NodeArg {
    pub fn client(&self) -> Client {
        Client::new(&self.node)
    }
}

#[derive(Args, Debug)]
pub struct SignerArgs {
    #[command(flatten)]
    pub node: NodeArg,
    /// The signing key file.
    #[arg(long)]
    pub key: PathBuf,
}
