#!/usr/bin/env bash
# The scale run (release build): one validator loaded through the real transaction path with up
# to 10^7 licences, with figures at 10^5, 10^6, 10^7 (bytes on disk per licence and of what,
# RSS, lookup and presentation latency, presentation size, cold restart). Not part of
# ./scripts/test.sh; 10^7 takes about three hours here, so run it in the background:
#   nohup ./scripts/scale.sh --licences 10000000 > scale.log 2>&1 &
# A run that was stopped (killed, the machine restarted) goes on from its data directory (the
# path it printed first): add --resume DIR to the same command.
# Usage: ./scripts/scale.sh [--licences N] [--suite intl|sm] [--checkpoints a,b,c] [--versions-kept K]
#                           [--join] [--resume DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min); $(nproc) cores"
echo "command: cargo bench -p lichen-node --bench scale -- $*"
exec cargo bench -p lichen-node --bench scale -- "$@"
