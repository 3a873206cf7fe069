//! One module per command group: its clap arguments and what it does.

pub mod backup;
pub mod dev;
pub mod evidence;
pub mod genesis;
pub mod gov;
pub mod import;
pub mod keys;
pub mod licence;
pub mod node;
pub mod p2p;
pub mod presentation;
pub mod query;
pub mod status;
pub mod trust_package;
pub mod verify;
