#!/usr/bin/env bash
# Lichen's one test command: installs what a fresh machine lacks, then runs every check CI runs.
# Usage: ./scripts/test.sh        (from anywhere inside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

# CI builds once from cold: incremental state would only take disk (tens of GB over a session).
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: rustfmt, clippy and the wasm32-unknown-unknown target"
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
  rustup target add wasm32-unknown-unknown
fi

step "format"
cargo fmt --all -- --check

step "clippy (all targets, with and without the test-only features: mutations, attack; warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --workspace --all-targets --locked --features lichen-sim/mutations,lichen-node/attack -- -D warnings

step "contracts builds for wasm32-unknown-unknown"
cargo build -p lichen-contracts --target wasm32-unknown-unknown --locked

step "contracts and consensus depend on no I/O crate"
forbidden='^(tokio|fjall|libp2p|axum|hyper|mio|socket2|getrandom|rand|chrono|clap|tracing-subscriber)$'
for crate in lichen-contracts lichen-consensus; do
  deps=$(cargo tree -p "$crate" -e normal --prefix none --format '{p}' --locked | awk '{print $1}' | sort -u)
  if bad=$(printf '%s\n' "$deps" | grep -E "$forbidden"); then
    echo "$crate must not depend on: $bad" >&2
    exit 1
  fi
  echo "ok: $crate uses $(printf '%s\n' "$deps" | wc -l) crates, none of them I/O"
done

step "storage knows no consensus, runtime or HTTP; only the CLI crate knows clap, anyhow, rpassword and an HTTP client"
deps=$(cargo tree -p lichen-storage -e normal --prefix none --format '{p}' --locked | awk '{print $1}' | sort -u)
if bad=$(printf '%s\n' "$deps" | grep -E '^(lichen-consensus|tokio|axum|hyper|libp2p|clap|anyhow)$'); then
  echo "lichen-storage must not depend on: $bad" >&2
  exit 1
fi
echo "ok: lichen-storage uses $(printf '%s\n' "$deps" | wc -l) crates"
# (no-proc-macro: libp2p's prost-derive uses anyhow at build time; nothing of it is linked in)
deps=$(cargo tree -p lichen-node -e normal,no-proc-macro --prefix none --format '{p}' --locked | awk '{print $1}' | sort -u)
if bad=$(printf '%s\n' "$deps" | grep -E '^(clap|anyhow|rpassword|ureq|tracing-subscriber|lichen-cli|lichen-client)$'); then
  echo "lichen-node must not depend on: $bad (the binary edge is node/cli)" >&2
  exit 1
fi
echo "ok: lichen-node uses $(printf '%s\n' "$deps" | wc -l) crates, none of the binary edge's"

step "rooms stay small: no non-test source file over 800 lines, the CLI's main.rs under 150"
big=$(find contracts node verifier-wasm/src -name '*.rs' -path '*/src/*' ! -name 'tests.rs' ! -path '*/tests/*' \
  -exec awk 'END { if (NR > 800) print FILENAME " (" NR " lines)" }' {} \;)
if [ -n "$big" ]; then
  echo "split these files into modules (ARCHITECTURE.md, code map):" >&2
  echo "$big" >&2
  exit 1
fi
if [ "$(wc -l < node/cli/src/main.rs)" -gt 150 ]; then
  echo "node/cli/src/main.rs is over 150 lines: commands belong in node/cli/src/commands/" >&2
  exit 1
fi
echo "ok: every source file is at most 800 lines"

step "independent verifier (Python, from PROTOCOL.md alone) on the golden vectors"
python3 scripts/independent_verifier.py contracts/vectors/golden-sm.json contracts/vectors/golden-intl.json

step "tests (workspace; the simulator's planted-bug tests need the mutations feature, the attack harness the attack feature)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked --features lichen-sim/mutations,lichen-node/attack 2>&1 | tee "$log"

step "hostile clients and a hostile validator against four validators, briefly (the full table: ./scripts/attack.sh)"
cargo test --workspace --locked --features lichen-sim/mutations,lichen-node/attack --bench attack -- --quick

step "the scale run, briefly: 3,000 licences with a checkpoint at 1,000, a new node joining by state sync and by replay at each (the full run: ./scripts/scale.sh)"
cargo test --workspace --locked --features lichen-sim/mutations,lichen-node/attack --bench scale -- --licences 3000 --checkpoints 1000 --join

step "four validators in network namespaces: 30-80 ms latency, 1% loss, a 2|2 partition that heals (full run: ./scripts/netns.sh)"
./scripts/netns.sh --quick

step "WASM verifier and scanner page: wasm32 build, wasm-bindgen (web, Node), npm packages, site"
./scripts/build-wasm.sh
cargo clippy -p lichen-verifier-wasm --target wasm32-unknown-unknown --locked -- -D warnings

step "Chromium and a CJK font for the browser tests (Debian packages)"
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi 'wqy'; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends chromium fonts-wqy-microhei
fi
chromium --version

step "Node tests: golden vectors through WASM, JS crypto cross-check, the npm package against lichen dev, the scanner page in Chromium"
target_dir=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)
(cd verifier-wasm/js && LICHEN_BIN="$target_dir/debug/lichen" node --test --test-reporter=tap) 2>&1 | tee -a "$log"

step "the deployment walk-through (deploy/README.md): key ceremony, genesis, four validators and an observer as separate processes"
deploy/walkthrough.sh --bin "$target_dir/debug/lichen" 2>&1 | tee -a "$log"

step "Python client: every payload kind of contracts/vectors/transactions-*.json byte for byte, and end to end against lichen dev (both suites)"
LICHEN_BIN="$target_dir/debug/lichen" python3 scripts/test_lichen_client.py 2>&1 | tee -a "$log"

step "schemathesis (PyPI) against lichen dev: every operation of GET /v1/openapi.json, every check (scripts/schemathesis.toml)"
venv="$target_dir/schemathesis-venv"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi
"$venv/bin/schemathesis" --version
dev_dir=$(mktemp -d)
"$target_dir/debug/lichen" dev --dir "$dev_dir/chain" --port 18480 > "$dev_dir/dev.log" 2>&1 &
dev_pid=$!
trap 'kill "$dev_pid" 2>/dev/null || true; rm -rf "$dev_dir" "$log"' EXIT
dev_url=""
for _ in $(seq 1 120); do
  dev_url=$(grep -o 'serving http://127\.0\.0\.1:[0-9]*' "$dev_dir/dev.log" | head -1 | cut -d' ' -f2 || true)
  if [ -n "$dev_url" ] && python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/health", timeout=2)' "$dev_url" 2>/dev/null; then break; fi
  sleep 0.5
done
if [ -z "$dev_url" ]; then
  echo "lichen dev did not start:" >&2
  cat "$dev_dir/dev.log" >&2
  exit 1
fi
# One worker: with two, schemathesis 4.32.5 once failed with an internal KeyError in its own
# coverage cache (no finding of ours); one takes the same ~30 s here.
"$venv/bin/schemathesis" --no-color --config-file scripts/schemathesis.toml run "$dev_url/v1/openapi.json" \
  --max-examples 100 --workers 1 --seed 1
kill "$dev_pid"
wait "$dev_pid" 2>/dev/null || true

# One closing line for the whole run (cargo prints one per test binary, the last often a doc-test
# binary with nothing in it; node's TAP ends with "# pass N" / "# fail N").
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     /^# pass [0-9]+$/ { p += $3 } /^# fail [0-9]+$/ { f += $3 }
     END { printf "\ntotal: %d passed, %d failed\n", p, f; exit (f > 0 || p == 0) }' "$log"
