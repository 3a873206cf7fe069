//! Lichen's pure ledger: what a licence record is, which transactions exist and who may send them,
//! how state is committed to a root, and what an offline verifier checks.
//!
//! This crate does no I/O, reads no clock and draws no randomness: time, randomness and storage
//! are inputs. It builds for `wasm32-unknown-unknown` and is shared by the node, the WASM verifier
//! and the tests.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(any(test, feature = "memo"))]
extern crate std;

pub mod block;
pub mod codec;
pub mod crypto;
pub mod error;
pub mod exec;
pub mod genesis;
pub mod hex;
pub mod ids;
pub mod ledger;
#[cfg(feature = "memo")]
pub mod memo;
pub mod model;
pub mod presentation;
pub mod replay;
pub mod revocation;
pub mod smt;
pub mod state;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod time;
pub mod tx;

pub use error::{CodecError, CryptoError, Error, PackageError, ProofError, StorageError};
