//! The command-line layer: argument handling and human output over the node library.

pub mod dev;
pub mod genesis;
pub mod keys;
pub mod node;
pub mod ops;
