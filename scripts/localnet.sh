#!/usr/bin/env bash
# Four validators as four separate OS processes on 127.0.0.1, from the sample chain in
# genesis/localnet/ (the files `lichen dev --init` writes: genesis, keys, node-N.toml).
#
#   ./scripts/localnet.sh            start (or resume) the chain in ./localnet/
#   LOCALNET_DIR=/tmp/ln ./scripts/localnet.sh
#
# HTTP APIs on 127.0.0.1:8080-8083, libp2p on 9101-9104, logs in localnet/node-N.log.
# Ctrl-C stops all four cleanly; running it again resumes the same chain.
set -euo pipefail
cd "$(dirname "$0")/.."

work=${LOCALNET_DIR:-localnet}
cargo build --release --locked -p lichen-cli --bin lichen
bin=${CARGO_TARGET_DIR:-target}/release/lichen

if [ ! -f "$work/genesis.json" ]; then
  mkdir -p "$work"
  cp -r genesis/localnet/. "$work/"
  # git does not keep file modes: key files are for their owner only.
  chmod 600 "$work"/keys/*.key "$work"/keys/*.p2p
  echo "new localnet in $work (a copy of genesis/localnet)"
else
  echo "resuming the localnet in $work"
fi

pids=()
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  echo "localnet stopped"
}
trap stop INT TERM EXIT

for i in 1 2 3 4; do
  "$bin" --password-file "$work/password.txt" node run --config "$work/node-$i.toml" \
    >>"$work/node-$i.log" 2>&1 &
  pids+=($!)
done

for i in $(seq 1 100); do
  if curl -fsS http://127.0.0.1:8080/health >/dev/null 2>&1; then
    break
  fi
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "a validator exited at start; see $work/node-*.log" >&2
      tail -n 20 "$work"/node-*.log >&2
      exit 1
    fi
  done
  sleep 0.1
done

cat <<MSG
localnet: 4 validators (pids ${pids[*]}), logs in $work/node-N.log
serving http://127.0.0.1:8080 (and 8081, 8082, 8083)

  export LICHEN_NODE=http://127.0.0.1:8080 LICHEN_PASSWORD=lichen-dev
  $bin status
  $bin issue --key $work/keys/market-bureau.key --agency market-bureau --type business \\
      --id LIC-0001 --file licence.pdf --holder-id holder-1

Ctrl-C stops all four.
MSG
wait "${pids[@]}"
