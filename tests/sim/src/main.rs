//! `lichen-sim`: runs simulator seeds and reports failures with their seeds.
//!
//! ```text
//! lichen-sim --seeds N [--start S] [--validators 1|4|7] [--suite intl|sm]
//!            [--scenario NAME] [--mutation NAME] [--trace] [--stats]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;
use std::time::Instant;

use lichen_contracts::crypto::Suite;
use lichen_sim::{Scenario, Settings, run};

const USAGE: &str =
    "usage: lichen-sim --seeds N [--start S] [--validators 1|4|7] [--suite intl|sm] \
[--scenario NAME] [--mutation NAME] [--trace] [--stats] [--describe]
  --seeds N       how many seeds to run (default 100)
  --start S       first seed (default 0); seeds S, S+1, ... S+N-1
  --validators V  validators per run (default 4)
  --suite         intl (Ed25519, default) or sm (SM2)
  --scenario      calm, lossy, partitions, crashes, byzantine, minority-commit,
                  crash-after-vote, reconfigure or chaos (default: drawn from each seed)
  --mutation      small-quorum, drop-prepared or vote-before-persist (needs the
                  `mutations` feature): plant that bug in every core
  --trace         print every event and effect to stderr
  --describe      print what each seed draws (scenario, faults) without running it
  --stats         measure throughput instead: 20 simulated seconds per seed, calm and
                  with the default fault mix, blocks per simulated second";

struct Args {
    seeds: u64,
    start: u64,
    settings: Settings,
    stats: bool,
    describe: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        seeds: 100,
        start: 0,
        settings: Settings::new(4),
        stats: false,
        describe: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--seeds" => args.seeds = value()?.parse().map_err(|e| format!("--seeds: {e}"))?,
            "--start" => args.start = value()?.parse().map_err(|e| format!("--start: {e}"))?,
            "--validators" => {
                args.settings.validators =
                    value()?.parse().map_err(|e| format!("--validators: {e}"))?;
                if args.settings.validators == 0 {
                    return Err("--validators must be at least 1".into());
                }
            }
            "--suite" => {
                args.settings.suite = Suite::from_name(&value()?).ok_or("--suite is intl or sm")?;
            }
            "--scenario" => {
                let v = value()?;
                args.settings.scenario =
                    Some(Scenario::from_name(&v).ok_or(format!("unknown scenario {v}"))?);
            }
            "--mutation" => {
                let v = value()?;
                #[cfg(feature = "mutations")]
                {
                    args.settings.mutation = Some(
                        lichen_sim::mutation_from_name(&v)
                            .ok_or(format!("unknown mutation {v}"))?,
                    );
                }
                #[cfg(not(feature = "mutations"))]
                return Err(format!(
                    "--mutation {v} needs a build with `--features mutations`"
                ));
            }
            "--trace" => args.settings.trace = true,
            "--stats" => args.stats = true,
            "--describe" => args.describe = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if args.describe {
        for seed in args.start..args.start.saturating_add(args.seeds) {
            println!("{}", lichen_sim::Options::draw(seed, &args.settings));
        }
        return ExitCode::SUCCESS;
    }
    if args.stats {
        stats(&args);
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    let (mut passed, mut failed) = (0u64, 0u64);
    let mut failed_seeds = Vec::new();
    for seed in args.start..args.start.saturating_add(args.seeds) {
        match run(seed, &args.settings) {
            Ok(o) => {
                passed += 1;
                if args.settings.trace || args.seeds <= 10 {
                    println!(
                        "seed {seed}: ok, height {} ({} at stabilisation), {} ms simulated, digest {:016x}",
                        o.height, o.height_at_stabilise, o.sim_ms, o.digest
                    );
                }
            }
            Err(f) => {
                failed += 1;
                failed_seeds.push(seed);
                println!("{f}\n");
            }
        }
    }
    if !failed_seeds.is_empty() {
        println!("failed seeds: {failed_seeds:?}");
    }
    println!(
        "{} validators, suite {}, seeds {}..{}: {:.1} s",
        args.settings.validators,
        args.settings.suite.name(),
        args.start,
        args.start.saturating_add(args.seeds),
        started.elapsed().as_secs_f64()
    );
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Throughput: committed blocks per simulated second, calm and with the default fault mix.
fn stats(args: &Args) {
    const DURATION_MS: u64 = 20_000;
    for (label, scenario) in [
        ("no faults", Some(Scenario::Calm)),
        ("default fault mix", None),
    ] {
        let mut settings = args.settings.clone();
        settings.scenario = scenario.or(args.settings.scenario);
        settings.fixed_duration_ms = Some(DURATION_MS);
        let (mut blocks, mut txs, mut runs, mut failed) = (0u64, 0u64, 0u64, 0u64);
        let started = Instant::now();
        for seed in args.start..args.start.saturating_add(args.seeds) {
            match run(seed, &settings) {
                Ok(o) => {
                    blocks += o.height;
                    txs += o.txs;
                    runs += 1;
                }
                Err(f) => {
                    failed += 1;
                    println!("{f}\n");
                }
            }
        }
        let secs = (runs * DURATION_MS) as f64 / 1000.0;
        println!(
            "{label}: {} validators, {runs} runs x {} simulated s: {:.1} blocks/s, {:.1} tx/s committed (simulated); {failed} failed; {:.1} s wall",
            settings.validators,
            DURATION_MS / 1000,
            blocks as f64 / secs.max(1e-9),
            txs as f64 / secs.max(1e-9),
            started.elapsed().as_secs_f64()
        );
    }
}
