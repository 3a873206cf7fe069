#!/usr/bin/env bash
# Alternating runs of two builds of the cluster benchmark, for a change whose effect is smaller
# than this machine's run-to-run noise (+/-10%): A, B, A, B, ... then the medians. Not part of
# ./scripts/test.sh.
#
# Build each side and copy its binary aside, e.g.:
#   cargo bench -p lichen-node --bench cluster --no-run 2>&1 | grep Executable   # prints the path
#   cp target/release/deps/cluster-<hash> /tmp/cluster-before
#   (make the change, build again)  cp target/release/deps/cluster-<hash> /tmp/cluster-after
#   ./scripts/ab.sh /tmp/cluster-before /tmp/cluster-after --rounds 3 -- --suite intl
# (Build both sides in this checkout: a second worktree sharing the target directory can leave
# cargo taking the other tree's artifacts for fresh.)
#
# Usage: ./scripts/ab.sh A B [--rounds N] [-- cluster benchmark args]
# The benchmark args default to `--licences 20000 --verify-requests 500 --suite intl`.
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '2,15p' "$0"
    exit 2
fi
# Absolute paths: the benchmark runs from node/, as cargo runs it.
a=$(realpath -- "$1")
b=$(realpath -- "$2")
shift 2
cd "$(dirname "$0")/../node"
rounds=3
if [ "${1:-}" = "--rounds" ]; then
    rounds=$2
    shift 2
fi
[ "${1:-}" = "--" ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--licences 20000 --verify-requests 500 --suite intl)
for bin in "$a" "$b"; do
    [ -x "$bin" ] || { echo "ab.sh: $bin is not an executable benchmark binary" >&2; exit 2; }
done

echo "load: $(cut -d' ' -f1-3 /proc/loadavg); args: ${args[*]}; $rounds rounds"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
    for side in A B; do
        bin=$a
        [ "$side" = B ] && bin=$b
        out=$("$bin" --bench "${args[@]}" 2>&1)
        # The first suite's figures (run one suite at a time for a clean comparison).
        ratio=$(grep -oE '= [0-9.]+% of the bound' <<<"$out" | head -1 | grep -oE '[0-9.]+')
        node_us=$(grep -oE '[0-9]+ us per committed tx' <<<"$out" | head -1 | grep -oE '^[0-9]+')
        p50=$(grep -oE 'under load .*: p50 [0-9]+ ms' <<<"$out" | head -1 | grep -oE '[0-9]+ ms$' |
            grep -oE '^[0-9]+')
        echo "round $round $side ($(basename "$bin")): ${ratio:-?}% of the bound, nodes ${node_us:-?} us per committed tx, finality under load p50 ${p50:-?} ms"
        echo "$side ${ratio:-nan} ${node_us:-nan} ${p50:-nan}" >>"$results"
    done
done
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for side in A B; do
    ratio=$(awk -v s="$side" '$1 == s { print $2 }' "$results" | median)
    node_us=$(awk -v s="$side" '$1 == s { print $3 }' "$results" | median)
    p50=$(awk -v s="$side" '$1 == s { print $4 }' "$results" | median)
    echo "median $side: ${ratio}% of the bound, nodes ${node_us} us per committed tx, finality under load p50 ${p50} ms"
done
