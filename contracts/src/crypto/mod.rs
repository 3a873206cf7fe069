//! Crypto suites. A chain fixes its suite at genesis: `sm` (SM3 + SM2, the default) or `intl`
//! (SHA-256 + Ed25519). Keys and signatures carry their algorithm tag; the hash is the chain's.

mod hash;
pub mod keystore;
mod sig;

pub use hash::{Hash32, Suite, domain};
pub use sig::{
    PublicKey, SM2_DEFAULT_USER_ID, SecretKey, SigAlgo, Signature, VerifyingKey, verify_batch,
};
