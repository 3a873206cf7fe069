//! Planted bugs must be found: with each `lichen_consensus::Mutation` compiled into every core,
//! seeds 0, 1, 2... of the default fault mix run until a checker fails, within a stated bound.
//! The failing seed passes without the bug, so it is the bug the checker caught.
//! Run with `cargo test -p lichen-sim --features mutations`.
#![cfg(feature = "mutations")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_sim::{Failure, Mutation, Settings, Violation, mutation_name, run};

/// Runs seeds from 0 until one fails; panics if none does within `bound` seeds.
fn first_failure(validators: usize, mutation: Mutation, bound: u64) -> Failure {
    let mut settings = Settings::new(validators);
    settings.mutation = Some(mutation);
    for seed in 0..bound {
        if let Err(failure) = run(seed, &settings) {
            println!(
                "{} with {validators} validators: found at seed {seed} ({} seeds run): {}: {}",
                mutation_name(mutation),
                seed + 1,
                failure.violation,
                failure.detail
            );
            if let Err(f) = run(seed, &Settings::new(validators)) {
                panic!("seed {seed} fails without the planted bug too:\n{f}");
            }
            return failure;
        }
    }
    panic!(
        "{} with {validators} validators was not found in {bound} seeds",
        mutation_name(mutation)
    );
}

/// 2f votes taken for a quorum: the first certificate has too few signers.
#[test]
fn small_quorum_is_found() {
    for validators in [4, 7] {
        let f = first_failure(validators, Mutation::SmallQuorum, 10);
        assert!(
            matches!(f.violation, Violation::Certificate | Violation::Agreement),
            "{f}"
        );
    }
}

/// View changes without the prepared certificate: a block final at a minority is replaced.
#[test]
fn drop_prepared_in_view_change_is_found() {
    for validators in [4, 7] {
        let f = first_failure(validators, Mutation::DropPreparedInViewChange, 200);
        assert_eq!(f.violation, Violation::Agreement, "{f}");
    }
}

/// A vote sent before it is persisted: a crash between the two, and an equivocating leader
/// offering the other block after the restart, make an honest node vote twice.
#[test]
fn vote_before_persist_is_found() {
    for validators in [4, 7] {
        let f = first_failure(validators, Mutation::VoteBeforePersist, 100);
        assert_eq!(f.violation, Violation::DoubleVote, "{f}");
    }
}
