//! A seeded, deterministic simulator that tries hard to break Lichen's consensus core
//! (`lichen-consensus`).
//!
//! A run is a pure function of its seed: n validators (each a real `Core` with its own disk,
//! mempool and a small deterministic app), simulated time in milliseconds with an event queue,
//! and faults drawn from the seed — delays, drops, duplicates, partitions, crashes at any point of
//! a step's effect list, up to f Byzantine validators. After every step the checkers look for a
//! broken property (see [`checker`]); after the network stabilises every honest node must make
//! progress. A failure reports the seed, everything drawn from it and a command that replays it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod app;
pub mod byzantine;
pub mod checker;
pub mod network;
pub mod node;
pub mod rng;
pub mod scenario;
mod world;

pub use checker::Violation;
pub use scenario::{Behaviour, LIVENESS_BLOCKS, Options, SIM_PARAMS, Scenario, Settings};
pub use world::{Failure, Outcome, SYNC_BATCH, Stats, run, run_options};

#[cfg(feature = "mutations")]
pub use lichen_consensus::Mutation;

/// The planted bugs, by name.
#[cfg(feature = "mutations")]
pub const MUTATIONS: [(&str, Mutation); 3] = [
    ("small-quorum", Mutation::SmallQuorum),
    ("drop-prepared", Mutation::DropPreparedInViewChange),
    ("vote-before-persist", Mutation::VoteBeforePersist),
];

#[cfg(feature = "mutations")]
pub fn mutation_name(m: Mutation) -> &'static str {
    MUTATIONS
        .iter()
        .find(|(_, x)| *x == m)
        .map_or("?", |(name, _)| name)
}

#[cfg(feature = "mutations")]
pub fn mutation_from_name(name: &str) -> Option<Mutation> {
    MUTATIONS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
}
