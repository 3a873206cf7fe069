#!/usr/bin/env bash
# The walk-through of deploy/README.md, run: from the key ceremony to a running network.
# Each host is a folder of its own under OUT/hosts (what would be a separate machine); files
# move between them only as the README says (public keys and peer ids to the council, the
# genesis file back). Then four validators and an observer run as separate processes on
# 127.0.0.1, a licence is issued and verified offline, the council (threshold 2) acts, and
# everything stops cleanly. The test command runs it (scripts/test.sh).
#
#   deploy/walkthrough.sh [--bin target/debug/lichen] [--out DIR] [--compose]
#
# --compose writes the hosts' folders for deploy/compose.yaml (containers: listen on 0.0.0.0,
# peers by service name, data in /var/lib/lichen) into OUT/nodes and stops there.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=""
out=""
keep_out=""
compose=false
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$(realpath "$2"); shift 2 ;;
    --out) out="$2"; keep_out=1; shift 2 ;;
    --compose) compose=true; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  cargo build --release --locked -p lichen-cli --bin lichen
  bin=$(realpath "${CARGO_TARGET_DIR:-target}/release/lichen")
fi
if [ -z "$out" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
out=$(realpath "$out")
step() { printf '\n--> %s\n' "$*"; }
json() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

validators=(validator-1 validator-2 validator-3 validator-4)
hosts=("${validators[@]}" observer-1 council-1 council-2 market-bureau court-1)
for h in "${hosts[@]}"; do
  mkdir -p "$out/hosts/$h"
  # Each host's own password for its key files (never leaves the host).
  printf 'secret of %s\n' "$h" > "$out/hosts/$h/password"
  chmod 600 "$out/hosts/$h/password"
done
inbox="$out/hosts/council-1/inbox"
mkdir -p "$inbox"
lichen() { local host=$1; shift; (cd "$out/hosts/$host" && "$bin" --password-file password "$@"); }

step "1. key ceremony: every party makes its own keys; only public keys and peer ids leave a host"
for h in "${validators[@]}"; do
  lichen "$h" --json keygen --algo sm2 -o validator.key >/dev/null
  lichen "$h" p2p-key new node.p2p | tail -n 1 > "$out/hosts/$h/peer-id"
  cp "$out/hosts/$h/validator.key.pub" "$inbox/$h.pub"
  cp "$out/hosts/$h/peer-id" "$inbox/$h.peer-id"
done
lichen observer-1 p2p-key new node.p2p | tail -n 1 > "$out/hosts/observer-1/peer-id"
cp "$out/hosts/observer-1/peer-id" "$inbox/observer-1.peer-id"
for h in council-1 council-2 market-bureau court-1; do
  lichen "$h" --json keygen --algo sm2 -o "$h.key" >/dev/null
  cp "$out/hosts/$h/$h.key.pub" "$inbox/$h.pub"
done

step "2. the council assembles the genesis from what it received"
g() { (cd "$inbox" && "$bin" --json genesis "$@" >/dev/null); }
g new --chain-id city-licences --suite sm -o ../genesis.json
cd "$out/hosts/council-1"
g add-council --genesis ../genesis.json --key council-1.pub --key council-2.pub --threshold 2
for h in "${validators[@]}"; do
  g add-validator --genesis ../genesis.json --name "$h" --key "$h.pub" --peer-id "$(cat "$inbox/$h.peer-id")"
done
g add-observer --genesis ../genesis.json --name observer-1 --peer-id "$(cat "$inbox/observer-1.peer-id")"
g add-agency --genesis ../genesis.json --id market-bureau --name 'Market Regulation Bureau' --key market-bureau.pub
g add-licence-type --genesis ../genesis.json --code business --name 'Business licence' --agency market-bureau
g add-submitter --genesis ../genesis.json --id court-1 --name 'Internet Court' --key court-1.pub
announced=$("$bin" --json genesis hash "$out/hosts/council-1/genesis.json" | json genesis_hash)
echo "genesis hash announced: $announced"

step "3. every host receives genesis.json and checks its hash against the announced one"
for h in "${hosts[@]}"; do
  [ "$h" = council-1 ] || cp "$out/hosts/council-1/genesis.json" "$out/hosts/$h/genesis.json"
  got=$(lichen "$h" --json genesis hash genesis.json | json genesis_hash)
  if [ "$got" != "$announced" ]; then
    echo "$h: genesis hash $got, announced $announced" >&2
    exit 1
  fi
done

step "4. each node host writes its node.toml"
http_base=${WALKTHROUGH_HTTP_BASE:-18180}
p2p_base=${WALKTHROUGH_P2P_BASE:-19180}
nodes=("${validators[@]}" observer-1)
for i in "${!nodes[@]}"; do
  h=${nodes[$i]}
  peers=()
  for j in "${!nodes[@]}"; do
    [ "$i" = "$j" ] && continue
    peer=$(cat "$out/hosts/${nodes[$j]}/peer-id")
    if $compose; then
      peers+=("\"/dns4/${nodes[$j]}/tcp/9101/p2p/$peer\"")
    else
      peers+=("\"/ip4/127.0.0.1/tcp/$((p2p_base + j))/p2p/$peer\"")
    fi
  done
  key_line=""
  [ "$h" = observer-1 ] || key_line='key = "validator.key"'
  if $compose; then
    data='/var/lib/lichen/data'; http='0.0.0.0:8080'; listen='/ip4/0.0.0.0/tcp/9101'
  else
    data='data'; http="127.0.0.1:$((http_base + i))"; listen="/ip4/127.0.0.1/tcp/$((p2p_base + i))"
  fi
  cat > "$out/hosts/$h/node.toml" <<TOML
genesis = "genesis.json"
$key_line
data_dir = "$data"

[http]
listen = "$http"

[network]
key = "node.p2p"
listen = ["$listen"]
peers = [$(IFS=,; echo "${peers[*]}")]

[consensus]
heartbeat_ms = 1000
TOML
done
if $compose; then
  mkdir -p "$out/nodes"
  for h in "${nodes[@]}"; do
    mkdir -p "$out/nodes/$h"
    cp "$out/hosts/$h"/{node.toml,genesis.json,node.p2p,password} "$out/nodes/$h/"
    [ -f "$out/hosts/$h/validator.key" ] && cp "$out/hosts/$h/validator.key" "$out/nodes/$h/"
  done
  echo "wrote the config folders for deploy/compose.yaml in $out/nodes"
  exit 0
fi

step "5. start the four validators and the observer (separate processes)"
pids=()
stop_all() {
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    pids=()
  fi
}
trap 'stop_all; [ -n "$keep_out" ] || rm -rf "$out"' EXIT
for h in "${nodes[@]}"; do
  (cd "$out/hosts/$h" && exec "$bin" --log-format json --password-file password node run --config node.toml) \
    >"$out/hosts/$h/node.log" 2>&1 &
  pids+=($!)
done
ready() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/ready", timeout=2)' "$1" 2>/dev/null; }
for i in "${!nodes[@]}"; do
  url="http://127.0.0.1:$((http_base + i))"
  for _ in $(seq 1 300); do
    ready "$url" && break
    sleep 0.2
  done
  if ! ready "$url"; then
    echo "${nodes[$i]} is not ready; what every node's /ready says:" >&2
    for j in "${!nodes[@]}"; do
      printf '%s: ' "${nodes[$j]}" >&2
      python3 - "http://127.0.0.1:$((http_base + j))/ready" >&2 <<'PY' || true
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except OSError as e:
    print(e)
PY
      echo >&2
    done
    tail -n 20 "$out/hosts/${nodes[$i]}/node.log" >&2
    exit 1
  fi
  echo "${nodes[$i]} ready at $url"
done
node1="http://127.0.0.1:$http_base"
observer="http://127.0.0.1:$((http_base + 4))"

step "6. the agency issues a licence; the court anchors a document; the observer serves proofs"
cd "$out/hosts/market-bureau"
echo 'business licence of Example Trading Co.' > licence.pdf
"$bin" --password-file password --json issue --node "$node1" --key market-bureau.key --agency market-bureau \
  --type business --id CITY-0001 --file licence.pdf --holder-id 91440300MA5FXXXX1X >/dev/null
# The observer follows the validators: it has the licence a moment after they commit it.
for _ in $(seq 1 100); do
  "$bin" query licence CITY-0001 --node "$observer" >/dev/null 2>&1 && break
  sleep 0.2
done
"$bin" presentation export CITY-0001 --node "$observer" -o CITY-0001.pres >/dev/null
verdict=$("$bin" --json verify --presentation CITY-0001.pres --trust genesis.json --file licence.pdf | json verdict)
[ "$verdict" = VALID ] || { echo "verdict $verdict, not VALID" >&2; exit 1; }
echo "CITY-0001: $verdict, verified offline from genesis.json alone"
cd "$out/hosts/court-1"
echo 'contract of sale' > exhibit.pdf
"$bin" --password-file password --json evidence anchor exhibit.pdf --node "$node1" --key court-1.key --submitter court-1 >/dev/null

step "7. the council (threshold 2) authorises a second licence type: propose, approve, submit"
cd "$out/hosts/council-1"
"$bin" --password-file password --json gov propose add-licence-type --node "$node1" --key council-1.key \
  -o proposal.tx --code food --name 'Food permit' --agency market-bureau >/dev/null
cp proposal.tx "$out/hosts/council-2/proposal.tx"
(cd "$out/hosts/council-2" && "$bin" --password-file password --json gov approve proposal.tx --key council-2.key >/dev/null)
(cd "$out/hosts/council-2" && "$bin" --json gov submit proposal.tx --node "$node1" >/dev/null)
types=$(python3 -c 'import json, sys, urllib.request; print(",".join(t["code"] for t in json.load(urllib.request.urlopen(sys.argv[1] + "/v1/licence-types"))["items"]))' "$node1")
[ "$types" = "business,food" ] || { echo "licence types: $types" >&2; exit 1; }
echo "licence types now: $types"

step "8. stop every node cleanly"
stop_all
for h in "${nodes[@]}"; do
  if grep -q '"level":"ERROR"' "$out/hosts/$h/node.log"; then
    echo "$h logged an error:" >&2
    grep '"level":"ERROR"' "$out/hosts/$h/node.log" >&2
    exit 1
  fi
done
echo "walk-through passed: four validators and an observer from a key ceremony, in $out"
