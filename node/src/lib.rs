//! The Lichen node as a library: the ledger service over storage, the mempool, the runtime that
//! carries out the consensus core's effects, the libp2p validator network, and the HTTP API.
//! The `lichen` command line is the `lichen-cli` crate (node/cli).

pub mod chain;
pub mod error;

pub use error::NodeError;
pub mod api;
pub mod backup;
pub mod budget;
pub mod data_dir;
pub mod memory;
pub mod mempool;
pub mod net;
pub mod runtime;
pub mod service;
pub mod state_sync;
