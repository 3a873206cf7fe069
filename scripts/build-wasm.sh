#!/usr/bin/env bash
# Builds the WASM verifier (verifier-wasm) for browsers and Node.js:
#   verifier-wasm/pkg/web/   wasm-bindgen --target web     (ES module; call the default export, init, first)
#   verifier-wasm/pkg/node/  wasm-bindgen --target nodejs  (CommonJS; loads the .wasm synchronously)
# Installs what a fresh machine lacks: the wasm32-unknown-unknown target, and wasm-bindgen-cli at
# exactly the version of the wasm-bindgen crate in Cargo.lock (the CLI refuses any other).
# Usage: ./scripts/build-wasm.sh        (from anywhere inside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: the wasm32-unknown-unknown target"
if command -v rustup >/dev/null 2>&1; then
  rustup target add wasm32-unknown-unknown
fi

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ -z "$version" ]; then
  echo "wasm-bindgen is not in Cargo.lock" >&2
  exit 1
fi
step "wasm-bindgen-cli $version (the locked wasm-bindgen)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $version" ]; then
  cargo install wasm-bindgen-cli --version "$version"
fi
wasm-bindgen --version

step "cargo build (wasm32, profile wasm-release: opt-level s, LTO)"
cargo build -p lichen-verifier-wasm --target wasm32-unknown-unknown --profile wasm-release --locked
wasm=${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm-release/lichen_verifier_wasm.wasm

step "wasm-bindgen: verifier-wasm/pkg/web and verifier-wasm/pkg/node"
rm -rf verifier-wasm/pkg/web verifier-wasm/pkg/node
wasm-bindgen --target web --out-dir verifier-wasm/pkg/web "$wasm"
wasm-bindgen --target nodejs --out-dir verifier-wasm/pkg/node "$wasm"

step "sizes (bytes)"
for f in "$wasm" verifier-wasm/pkg/web/lichen_verifier_wasm_bg.wasm verifier-wasm/pkg/node/lichen_verifier_wasm_bg.wasm; do
  printf '%9d  %s\n' "$(wc -c <"$f")" "$f"
done
printf '%9d  %s\n' "$(gzip -9 -c verifier-wasm/pkg/web/lichen_verifier_wasm_bg.wasm | wc -c)" \
  "verifier-wasm/pkg/web/lichen_verifier_wasm_bg.wasm, gzip -9"

step "npm packages of the JS tests and the scanner (verifier-wasm/js, from package-lock.json)"
if command -v npm >/dev/null 2>&1; then
  (cd verifier-wasm/js && npm ci --no-audit --no-fund)
else
  echo "npm is missing: install Node.js (20.19 or later)" >&2
  exit 1
fi

step "the npm package lichen-verifier (verifier-wasm/npm + both builds), packed: verifier-wasm/pkg/lichen-verifier-<version>.tgz"
npm_dir=verifier-wasm/pkg/npm
rm -rf "$npm_dir" verifier-wasm/pkg/lichen-verifier-*.tgz
mkdir -p "$npm_dir"
cp -r verifier-wasm/pkg/node verifier-wasm/pkg/web "$npm_dir/"
rm -f "$npm_dir/node/.gitignore" "$npm_dir/web/.gitignore"
# The web build is ES modules; the package's own type stays CommonJS for the Node build.
cp verifier-wasm/npm/web-package.json "$npm_dir/web/package.json"
cp verifier-wasm/npm/package.json verifier-wasm/npm/README.md verifier-wasm/npm/client.mjs \
  verifier-wasm/npm/client.d.mts "$npm_dir/"
crate_version=$(awk -F'"' '/^\[workspace.package\]/ { w = 1 } w && /^version/ { print $2; exit }' Cargo.toml)
package_version=$(node -p "require('./verifier-wasm/npm/package.json').version")
if [ "$crate_version" != "$package_version" ]; then
  echo "verifier-wasm/npm/package.json says $package_version, the workspace $crate_version" >&2
  exit 1
fi
(cd verifier-wasm/pkg && npm pack ./npm --pack-destination . --silent)
ls -l verifier-wasm/pkg/lichen-verifier-*.tgz

step "the scanner page: verifier-wasm/pkg/site (www/ + the web build + zxing-wasm, service worker stamped)"
site=verifier-wasm/pkg/site
rm -rf "$site"
mkdir -p "$site"
cp verifier-wasm/www/* "$site/"
cp verifier-wasm/pkg/web/lichen_verifier_wasm.js verifier-wasm/pkg/web/lichen_verifier_wasm_bg.wasm "$site/"
# The QR decoder the page's worker runs: zxing-wasm's classic-script build and its WebAssembly.
cp verifier-wasm/js/node_modules/zxing-wasm/dist/iife/reader/index.js "$site/zxing-reader.js"
cp verifier-wasm/js/node_modules/zxing-wasm/dist/reader/zxing_reader.wasm "$site/"
# The service worker's cache is named after the files it holds: a new build replaces it on the
# next online load of the page, and an unchanged build keeps it.
version=$(cd "$site" && cat $(ls | grep -v '^sw\.js$' | sort) | sha256sum | cut -c1-16)
sed -i "s/^const VERSION = \"dev\";/const VERSION = \"$version\";/" "$site/sw.js"
grep -q "const VERSION = \"$version\";" "$site/sw.js" || { echo "sw.js was not stamped" >&2; exit 1; }
echo "site version $version"
echo "serve it with: python3 -m http.server -b 127.0.0.1 -d $site 8000"
echo "or let the node serve it: lichen dev finds it here; lichen node run takes [http] scanner_dir"
echo "(put the chain's genesis.json or trust anchor (trust-anchor.bin) beside it to bundle it)"
