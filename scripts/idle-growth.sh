#!/usr/bin/env bash
# Measures how much an idle `lichen dev` (four validators, nothing submitted) writes: the data of
# validator-1 and the height, after a minute's warm-up and again after WINDOW seconds.
# Usage: ./scripts/idle-growth.sh [WINDOW_S]      (default 600; needs `cargo build -p lichen-cli`)
set -euo pipefail
cd "$(dirname "$0")/.."
window="${1:-600}"
bin="${LICHEN_BIN:-target/debug/lichen}"
dir=$(mktemp -d)
port=18480
"$bin" dev --dir "$dir/chain" --port "$port" >"$dir/dev.log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
height() { curl -sf "127.0.0.1:$port/v1/status" | python3 -c 'import json,sys;print(json.load(sys.stdin)["height"])'; }
sleep 60
h0=$(height); s0=$(du -sb "$dir/chain/nodes/validator-1" | cut -f1); t0=$(date +%s)
sleep "$window"
h1=$(height); s1=$(du -sb "$dir/chain/nodes/validator-1" | cut -f1); t1=$(date +%s)
python3 - "$h0" "$h1" "$s0" "$s1" "$t0" "$t1" <<'PY'
import sys
h0, h1, s0, s1, t0, t1 = map(int, sys.argv[1:])
t = t1 - t0
print(f"idle for {t} s: height {h0} -> {h1} ({(h1 - h0) * 3600 / t:.0f} blocks/hour), "
      f"validator-1 data {s0} -> {s1} bytes = {(s1 - s0) * 3600 / t / 1e6:.3f} MB per node per hour")
PY
