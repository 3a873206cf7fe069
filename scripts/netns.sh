#!/usr/bin/env bash
# Four validators, each in a network namespace of its own, on a network with 30-80 ms latency and
# 1% loss that splits 2|2 and heals (issue 14; scripts/netns_partition.py says what is checked and
# how: its own switch in user space, on TUN devices, since this kernel has no netem).
# Needs root, iproute2 (ip) and /dev/net/tun.
# Usage: ./scripts/netns.sh           (release CLI; more licences, a 15 s partition)
#        ./scripts/netns.sh --quick   (debug CLI; what ./scripts/test.sh runs)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ip >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends iproute2
fi
target=${CARGO_TARGET_DIR:-target}
if [ "${1:-}" = "--quick" ]; then
  cargo build --locked -p lichen-cli --bin lichen
  exec python3 scripts/netns_partition.py --bin "$target/debug/lichen" --quick
fi
cargo build --release --locked -p lichen-cli --bin lichen
exec python3 scripts/netns_partition.py --bin "$target/release/lichen"
