#!/usr/bin/env bash
# The attack harness (issue 14): four validators in one process, an honest load with
# ?wait=final, once without attack and once under each attack: hostile clients (slow connections,
# junk transactions signed by keys no entity holds, garbage bodies) and a hostile validator (vote
# and future-message floods, junk blocks when it leads, forged copies of the leader's proposal,
# sync/catch-up/forwarding floods); prints
# the table of honest tx/s (and its share of the no-attack rate), finality p50/p99, views, peak
# RSS, what the attacker got and whether the honest nodes cut the hostile validator off. Fails if
# an honest transaction never commits or an attacker's is accepted.
# Usage: ./scripts/attack.sh [--licences N] [--suite sm|intl] [--phases a,b]   (release build,
#        both suites; --phases: only those attacks, beside the no-attack baseline)
#        ./scripts/attack.sh --quick                             (debug build, intl, 40 licences:
#                                                                  what ./scripts/test.sh runs)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--quick" ]; then
  # The workspace's features, as ./scripts/test.sh builds them (no separate build of the node).
  exec cargo test --workspace --locked --features lichen-sim/mutations,lichen-node/attack --bench attack -- --quick
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min); cores: $(nproc)"
echo "cargo bench -p lichen-node --features attack --bench attack -- $*"
exec cargo bench -p lichen-node --features attack --bench attack --locked -- "$@"
