// Times the WASM verifier (the Node build, V8 as in Chromium) checking trust packages written by
// `LICHEN_BENCH_OUT=DIR cargo bench -p lichen-contracts --bench trust_package`:
//   node verifier-wasm/js/bench-package.mjs DIR
// A figure, not a test.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { loadVerifier } from './lib/golden.mjs';

const wasm = loadVerifier();
const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench-package.mjs DIR');
for (const file of readdirSync(dir).filter((f) => f.startsWith('package-')).sort()) {
  const [, suite, marks] = file.replace('.bin', '').split('-');
  const pkg = readFileSync(path.join(dir, file));
  const anchor = readFileSync(path.join(dir, `anchor-${suite}.bin`));
  const runs = Number(marks) >= 100000 ? 3 : 10;
  wasm.trustPackageInfo(anchor, pkg);
  const t = performance.now();
  for (let i = 0; i < runs; i++) wasm.trustPackageInfo(anchor, pkg);
  const ms = (performance.now() - t) / runs;
  console.log(`${suite}: ${marks} marks, ${pkg.length} bytes: checked in WASM in ${ms.toFixed(1)} ms (mean of ${runs})`);
}
