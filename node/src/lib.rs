//! The Lichen node as a library: the ledger service over storage, the mempool, the runtime that
//! carries out the consensus core's effects, the libp2p validator network, and the HTTP API. The `lichen` binary (src/main.rs
//! and src/cli/) adds the command line.

pub mod chain;
pub mod error;
pub mod json;

pub use error::NodeError;
pub mod api;
pub mod client;
pub mod mempool;
pub mod net;
pub mod qr;
pub mod runtime;
pub mod service;
