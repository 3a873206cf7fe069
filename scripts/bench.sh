#!/usr/bin/env bash
# The 4-validator benchmark (release build): throughput and finality latency under load, the CPU
# floor per transaction measured in the same run, light-load finality, HTTP verification
# requests/s and presentation size, for both suites. Not part of ./scripts/test.sh.
# Usage: ./scripts/bench.sh [--licences N] [--verify-requests M] [--suite sm|intl] [--observers K]
set -euo pipefail
cd "$(dirname "$0")/.."

args=(--licences 20000 --verify-requests 8000 "$@")

echo "== hardware"
echo "cores:  $(nproc)"
lscpu 2>/dev/null | grep -E '^Model name' | sed 's/^Model name: */cpu:    /' || true
lscpu 2>/dev/null | grep -E '^Hypervisor vendor' | sed 's/^Hypervisor vendor: */hypervisor: /' || true
awk '/^MemTotal/ { printf "memory: %.1f GiB\n", $2 / 1048576 }' /proc/meminfo
if [ -r /etc/os-release ]; then . /etc/os-release && echo "os:     ${PRETTY_NAME:-unknown}"; fi
echo "rustc:  $(rustc --version)"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
echo
echo "== command"
echo "cargo bench -p lichen-node --bench cluster -- ${args[*]}"
echo
cargo bench -p lichen-node --bench cluster -- "${args[@]}"
