// Times the npm package's signing in Node (the Node build in verifier-wasm/pkg/node): building
// and signing an issue transaction, co-signing, and opening a key file (PBKDF2-HMAC-SM3, 100,000
// iterations), for both suites. A benchmark, not a test: `node bench-sign.mjs [count]`.
import { randomBytes } from 'node:crypto';

import { SUITES, loadVerifier } from './lib/golden.mjs';

const sdk = loadVerifier();
const count = Number(process.argv[2] ?? 2000);
const ALGO = { sm: 'sm2', intl: 'ed25519' };

for (const suite of SUITES) {
  const key = sdk.SigningKey.generate(ALGO[suite], randomBytes(32));
  const other = sdk.SigningKey.generate(ALGO[suite], randomBytes(32));
  const tx = (i) => ({
    chain_id: 'lichen-bench', nonce: i, expires_at_height: 100,
    payload: {
      kind: 'issue', id: `BENCH-${i}`, licence_type: 'business', issuer: 'agency-a',
      document_hash: 'ab'.repeat(32), holder_commitment: 'cd'.repeat(32),
      valid_from_ms: 1_767_225_600_000, valid_until_ms: null,
    },
  });
  for (let i = 0; i < 50; i++) sdk.signTransaction(suite, tx(i), key);
  let t = process.hrtime.bigint();
  let last;
  for (let i = 0; i < count; i++) last = sdk.signTransaction(suite, tx(i), key);
  const signUs = Number(process.hrtime.bigint() - t) / 1e3 / count;
  t = process.hrtime.bigint();
  for (let i = 0; i < count; i++) sdk.cosignTransaction(suite, last.bytes, other);
  const cosignUs = Number(process.hrtime.bigint() - t) / 1e3 / count;
  const file = key.toKeyFile('pw', randomBytes(16), randomBytes(16));
  t = process.hrtime.bigint();
  const opens = 5;
  for (let i = 0; i < opens; i++) sdk.SigningKey.fromKeyFile(file, 'pw').free();
  const openMs = Number(process.hrtime.bigint() - t) / 1e6 / opens;
  console.log(
    `${suite}: build+sign ${signUs.toFixed(0)} us/tx, cosign ${cosignUs.toFixed(0)} us, ` +
      `open a key file ${openMs.toFixed(0)} ms (${count} transactions)`,
  );
  key.free();
  other.free();
}
