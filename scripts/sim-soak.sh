#!/usr/bin/env bash
# Runs N random seeds of the deterministic consensus simulator (release build), for 4 and for 7
# validators, and reports every failure with its seed. Exits non-zero if any seed fails.
#
# Usage: ./scripts/sim-soak.sh [N]            (default N = 1000)
#   SEED=123 ./scripts/sim-soak.sh 500        start at seed 123 instead of one taken from the date
#   VALIDATORS="4" ./scripts/sim-soak.sh      only 4 validators (default "4 7")
#   SUITE=sm ./scripts/sim-soak.sh 20         SM2/SM3 instead of Ed25519/SHA-256 (about 10x slower)
# A failing seed is replayed, with every event printed, by the command shown under it.
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-1000}"
# A different range every run unless SEED is given: seconds since the epoch, times 1000.
start="${SEED:-$(( $(date +%s) * 1000 ))}"
suite="${SUITE:-intl}"

cargo build --release --locked -p lichen-sim --bin lichen-sim
bin=target/release/lichen-sim

status=0
for v in ${VALIDATORS:-4 7}; do
  echo "==> $n seeds from $start, $v validators, suite $suite"
  if ! "$bin" --seeds "$n" --start "$start" --validators "$v" --suite "$suite"; then
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "sim-soak: FAILURES (seeds listed above; start seed $start)" >&2
fi
exit "$status"
