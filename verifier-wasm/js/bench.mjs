// Timing of the WASM verifier in Node (not a test): module load, then verification per
// presentation and receipt of each suite's golden vectors, and for comparison checks 1-6 by the
// pure-JS reading in lib/independent.mjs (sm-crypto / noble).
// Usage: ./scripts/build-wasm.sh && cd verifier-wasm/js && npm ci && node bench.mjs [seconds per case]
import { statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { SUITES, loadGolden, loadVerifier, repoRoot, unhex, documentOf } from './lib/golden.mjs';
import { decodeAll, firstFailedCheck, readTrustAnchor, suiteOf } from './lib/independent.mjs';

const seconds = Number(process.argv[2] ?? 1);

let t = performance.now();
const wasm = loadVerifier();
const loadMs = performance.now() - t;
const wasmFile = path.join(repoRoot, 'verifier-wasm/pkg/node/lichen_verifier_wasm_bg.wasm');
console.log(`node ${process.version}, ${process.arch}`);
console.log(`wasm: ${statSync(wasmFile).size} bytes; compile + instantiate + first require: ${loadMs.toFixed(1)} ms\n`);

function time(label, fn) {
  for (let i = 0; i < 5; i++) fn(); // warm-up (also the first-use tables)
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    fn();
    n++;
    elapsed = performance.now() - start;
  }
  const ms = elapsed / n;
  console.log(`${label.padEnd(66)} ${ms.toFixed(3).padStart(8)} ms  (${(1000 / ms).toFixed(0).padStart(5)}/s, n=${n})`);
  return ms;
}

for (const name of SUITES) {
  const golden = loadGolden(name);
  const anchor = unhex(golden.trust_anchor);
  const jsAnchor = decodeAll(anchor, readTrustAnchor);
  const suite = suiteOf(name);
  const pick = (prefix) => golden.presentations.find((c) => c.name.startsWith(prefix));
  const cases = [
    ['presentation, no document', pick('valid, no document')],
    ['presentation + document', pick('valid, with the document')],
    ['presentation with 1 validator-set change', pick('after a validator-set change')],
  ];
  const receipt = golden.receipts[0];
  console.log(`--- ${name} suite (${name === 'sm' ? 'SM2/SM3' : 'Ed25519/SHA-256'}), quorum 3 of 4 ---`);
  for (const [label, c] of cases) {
    const bytes = unhex(c.hex);
    const doc = documentOf(c);
    const r = wasm.verify(anchor, bytes, c.now_ms, c.proof_age_max_ms, doc);
    if (r.verdict !== c.verdict) throw new Error(`${label}: ${r.verdict}`);
    time(`wasm verify: ${label} (${bytes.length} B)`, () =>
      wasm.verify(anchor, bytes, c.now_ms, c.proof_age_max_ms, doc));
  }
  const rb = unhex(receipt.hex);
  time(`wasm verify: receipt + document (${rb.length} B)`, () =>
    wasm.verify(anchor, rb, 0, 0, documentOf(receipt)));
  const p0 = unhex(cases[0][1].hex);
  time('wasm decodePresentation', () => wasm.decodePresentation(p0));
  time('pure JS checks 1-6 (lib/independent.mjs), no document', () => firstFailedCheck(suite, jsAnchor, p0));
  console.log();
}
