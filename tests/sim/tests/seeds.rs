//! The simulator's fixed seeds: every run must keep agreement, valid certificates, valid and
//! unique transactions, one vote per (kind, height, view) per honest node, and make progress
//! after the network stabilises. A failure prints the seed, what it drew and how to replay it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ops::Range;

use lichen_contracts::crypto::Suite;
use lichen_sim::{Scenario, Settings, run};

fn run_seeds(settings: &Settings, seeds: Range<u64>) {
    let count = seeds.end - seeds.start;
    let failures: Vec<String> = seeds
        .filter_map(|seed| run(seed, settings).err())
        .map(|f| f.to_string())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {count} seeds failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn four_validators_seeds_0_to_100() {
    run_seeds(&Settings::new(4), 0..100);
}

#[test]
fn four_validators_seeds_100_to_200() {
    run_seeds(&Settings::new(4), 100..200);
}

#[test]
fn seven_validators_seeds_0_to_40() {
    run_seeds(&Settings::new(7), 0..40);
}

#[test]
fn seven_validators_seeds_40_to_80() {
    run_seeds(&Settings::new(7), 40..80);
}

/// Every scenario runs, whatever the seeds above happen to draw.
#[test]
fn every_scenario_four_validators() {
    for scenario in Scenario::ALL {
        let mut settings = Settings::new(4);
        settings.scenario = Some(scenario);
        run_seeds(&settings, 1_000..1_006);
    }
}

#[test]
fn every_scenario_seven_validators() {
    for scenario in Scenario::ALL {
        let mut settings = Settings::new(7);
        settings.scenario = Some(scenario);
        run_seeds(&settings, 1_000..1_003);
    }
}

/// One validator: a quorum of one, no view changes needed; crashes and restarts still apply.
#[test]
fn one_validator() {
    run_seeds(&Settings::new(1), 0..20);
}

/// The SM suite (SM2 signatures, SM3 hashes): about ten times slower, so a few seeds.
#[test]
fn sm_suite() {
    let mut settings = Settings::new(4);
    settings.suite = Suite::Sm;
    run_seeds(&settings, 0..4);
    settings.validators = 7;
    run_seeds(&settings, 0..1);
}

/// The same seed gives the same trace: every event, effect and commit is folded into a digest.
#[test]
fn runs_are_deterministic() {
    for (validators, seed, scenario) in [
        (4, 7, Scenario::Chaos),
        (4, 8, Scenario::CrashAfterVote),
        (7, 9, Scenario::Byzantine),
    ] {
        let mut settings = Settings::new(validators);
        settings.scenario = Some(scenario);
        let a = run(seed, &settings).unwrap_or_else(|f| panic!("{f}"));
        let b = run(seed, &settings).unwrap_or_else(|f| panic!("{f}"));
        assert_eq!(a.digest, b.digest, "seed {seed}: traces differ");
        assert_eq!(
            (a.sim_ms, a.height, a.stats.steps, a.stats.commits),
            (b.sim_ms, b.height, b.stats.steps, b.stats.commits)
        );
        assert!(
            a.stats.steps > 100 && a.height > 3,
            "seed {seed} did little"
        );
        // Another seed gives another trace.
        let c = run(seed + 1, &settings).unwrap_or_else(|f| panic!("{f}"));
        assert_ne!(a.digest, c.digest);
    }
}
