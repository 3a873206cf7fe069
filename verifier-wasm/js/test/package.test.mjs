// The npm package lichen-verifier as an integrator gets it: the tarball scripts/build-wasm.sh
// packs (verifier-wasm/pkg/lichen-verifier-<version>.tgz), installed with npm into a fresh
// folder and used only through its package name. Every transaction of
// contracts/vectors/transactions-{sm,intl}.json builds and signs byte for byte, and every input
// the vectors refuse throws; then, against `lichen dev` on an SM2 chain and an Ed25519 chain, a
// licence is issued with an agency's key file, verified offline with the same package (VALID),
// revoked (REVOKED), a document hash is anchored by the court (ANCHORED), the council changes
// an authorisation, and a transaction signed by the wrong agency is refused by the node.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { SUITES, repoRoot, hex, unhex } from '../lib/golden.mjs';
import { DEV_PASSWORD, LICHEN, freePort, startDev, stopDev } from '../lib/dev.mjs';

const PKG_DIR = path.join(repoRoot, 'verifier-wasm/pkg');
const DAY_MS = 86_400_000;
const NPM_TIMEOUT_MS = 60_000;

const tarball = readdirSync(PKG_DIR).find((f) => /^lichen-verifier-.*\.tgz$/.test(f));
if (!tarball) throw new Error(`no lichen-verifier-*.tgz in ${PKG_DIR}: run ./scripts/build-wasm.sh`);
if (!existsSync(LICHEN)) throw new Error(`${LICHEN} is missing: cargo build -p lichen-cli, or set LICHEN_BIN`);

// Install the tarball where nothing else is, and import it by name from an ES module there.
const installDir = mkdtempSync(path.join(tmpdir(), 'lichen-npm-'));
writeFileSync(path.join(installDir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', path.join(PKG_DIR, tarball)], {
  cwd: installDir,
  stdio: 'pipe',
  timeout: NPM_TIMEOUT_MS,
});
writeFileSync(
  path.join(installDir, 'entry.mjs'),
  "export * as sdk from 'lichen-verifier';\nexport * as http from 'lichen-verifier/client';\n",
);
const { sdk, http } = await import(pathToFileURL(path.join(installDir, 'entry.mjs')));
const { SigningKey } = sdk;

const ALGO = { sm: 'sm2', intl: 'ed25519' };

function vectors(suite) {
  return JSON.parse(readFileSync(path.join(repoRoot, `contracts/vectors/transactions-${suite}.json`), 'utf8'));
}

describe('the installed package builds and signs every payload kind as the vectors say', () => {
  for (const suite of SUITES) {
    it(`${suite}: bytes, ids and signatures byte for byte; refused inputs throw`, () => {
      const v = vectors(suite);
      const secrets = Object.fromEntries(v.keys.map((k) => [k.name, k]));
      const kinds = new Set();
      for (const t of v.transactions) {
        kinds.add(t.kind);
        assert.equal(hex(sdk.buildTransaction(suite, t.json)), t.transaction_hex, t.kind);
        assert.equal(sdk.transactionId(suite, t.json), t.id, t.kind);
        assert.equal(sdk.transactionId(suite, unhex(t.transaction_hex)), t.id, t.kind);
        const keys = t.signers.map((name) => {
          const key = SigningKey.fromSecret(ALGO[suite], unhex(secrets[name].secret));
          assert.equal(key.publicKey, secrets[name].public_key);
          return key;
        });
        let signed = sdk.signTransaction(suite, t.json, keys[0]);
        for (const key of keys.slice(1)) signed = sdk.cosignTransaction(suite, signed.bytes, key);
        assert.equal(signed.hex, t.signed_hex, t.kind);
        assert.equal(hex(signed.bytes), t.signed_hex);
        assert.equal(signed.id, t.id);
        assert.deepEqual(signed.signers, t.signers.map((n) => secrets[n].public_key));
        assert.deepEqual(sdk.decodeSignedTransaction(suite, signed.bytes).tx, t.json, t.kind);
        assert.throws(() => sdk.cosignTransaction(suite, signed.bytes, keys[0]), /signed the transaction already/);
        for (const key of keys) key.free();
      }
      assert.equal(kinds.size, 18, 'every payload kind');
      for (const r of v.refused) {
        assert.throws(() => sdk.buildTransaction(suite, r.json), /^Error: tx\./, r.why);
      }
    });
  }

  it('keys: generated from entropy, sealed and reopened; the wrong suite, password or length is an error', () => {
    for (const suite of SUITES) {
      const key = SigningKey.generate(ALGO[suite], randomBytes(32));
      assert.match(key.publicKey, new RegExp(`^${ALGO[suite]}:[0-9a-f]+$`));
      const file = key.toKeyFile('correct horse', randomBytes(16), randomBytes(16));
      assert.equal(file.length, 111);
      assert.equal(SigningKey.fromKeyFile(file, 'correct horse').publicKey, key.publicKey);
      assert.throws(() => SigningKey.fromKeyFile(file, 'wrong'), /key/);
      assert.throws(() => SigningKey.generate(ALGO[suite], randomBytes(16)), /at least 32 bytes/);
      const other = suite === 'sm' ? 'intl' : 'sm';
      const tx = vectors(other).transactions.find((t) => t.kind === 'revoke').json;
      assert.throws(() => sdk.signTransaction(other, tx, key), /cannot sign for a chain of suite/);
      key.free();
    }
    assert.throws(() => SigningKey.fromSecret('rsa', new Uint8Array(32)), /algorithm must be/);
    assert.throws(() => sdk.buildTransaction('eu', {}), /suite must be/);
    assert.throws(() => sdk.buildTransaction('sm', 'not an object'), /TransactionInput/);
  });
});

describe('the TypeScript types', () => {
  it('a strict TypeScript program using the package type-checks, and a wrong payload does not', () => {
    const tsc = path.join(repoRoot, 'verifier-wasm/js/node_modules/typescript/bin/tsc');
    const program = `
import { SigningKey, signTransaction, verify, type TransactionInput } from 'lichen-verifier';
import { LichenClient, LichenError } from 'lichen-verifier/client';
export async function issue(node: LichenClient, key: SigningKey, hash: string): Promise<string> {
  const { chain_id, suite, expires_at_height } = await node.transactionContext();
  const tx: TransactionInput = {
    chain_id, nonce: 1, expires_at_height,
    payload: { kind: 'issue', id: 'X-1', licence_type: 'business', issuer: 'a', document_hash: hash,
      holder_commitment: hash, valid_from_ms: 0, valid_until_ms: null },
  };
  const signed = signTransaction(suite, tx, key);
  try { await node.submit(signed, { wait: true }); } catch (e) { if (e instanceof LichenError) return e.code; }
  const report = verify(await node.trustAnchor(), await node.presentation('X-1'), Date.now(), 1000);
  return report.verdict;
}
`;
    const run = (source) => {
      writeFileSync(path.join(installDir, 'check.ts'), source);
      return execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext',
        '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,esnext.disposable', 'check.ts'], {
        cwd: installDir, encoding: 'utf8', stdio: 'pipe', timeout: NPM_TIMEOUT_MS,
      });
    };
    run(program);
    assert.throws(() => run(program.replace("kind: 'issue'", "kind: 'mint'")), (e) => {
      assert.match(String(e.stdout), /error TS/);
      return true;
    });
  });
});

for (const suite of SUITES) {
  describe(`the package against lichen dev (${suite})`, () => {
    let dir;
    let dev;
    let node;
    let anchor;
    const key = (name) =>
      SigningKey.fromKeyFile(readFileSync(path.join(dir, 'chain/keys', `${name}.key`)), DEV_PASSWORD);
    /** Signs `payload` for the dev chain with `signer` and submits it, waiting for its block. */
    const commit = async (payload, signer) => {
      const { chain_id, expires_at_height } = await node.transactionContext();
      const signed = sdk.signTransaction(suite, { chain_id, nonce: randomInt(2 ** 48 - 1), expires_at_height, payload }, signer);
      const receipt = await node.submit(signed, { wait: true });
      assert.equal(receipt.status, 'committed');
      assert.equal(receipt.id, signed.id);
      return receipt;
    };
    const verifyNow = (bytes, document) =>
      document === undefined
        ? sdk.verify(anchor, bytes, Date.now(), DAY_MS)
        : sdk.verifyWithDocumentHash(anchor, bytes, Date.now(), DAY_MS, document);

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), `lichen-npm-dev-${suite}-`));
      dev = startDev(dir, suite, await freePort());
      node = new http.LichenClient(await dev.ready);
      anchor = await node.trustAnchor();
    });

    after(async () => {
      if (dev) await stopDev(dev.child);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('issues with a key file, verifies offline, revokes, and the revocation shows', async () => {
      const { suite: chainSuite } = await node.transactionContext();
      assert.equal(chainSuite, suite);
      const bureau = key('market-bureau');
      const id = `NPM-${suite.toUpperCase()}-${randomInt(1e9)}`;
      const document = new TextEncoder().encode(`%PDF-1.7 business licence ${id}`);
      const salt = randomBytes(32);
      const holder = '91440300MA5FXXXX1X';
      const issued = await commit(
        {
          kind: 'issue',
          id,
          licence_type: 'business',
          issuer: 'market-bureau',
          document_hash: sdk.documentHash(suite, document),
          holder_commitment: sdk.holderCommitment(suite, salt, holder),
          valid_from_ms: Date.now() - 60_000,
          valid_until_ms: Date.now() + 365 * DAY_MS,
        },
        bureau,
      );
      assert.ok(issued.height >= 1);

      const presentation = await node.presentation(id);
      const valid = verifyNow(presentation, sdk.documentHash(suite, document));
      assert.equal(valid.verdict, 'VALID', JSON.stringify(valid.checks));
      assert.equal(valid.licence.id, id);
      const atDesk = sdk.verifyAtDesk(anchor, undefined, presentation, Date.now(), DAY_MS, {
        expect: 'licence',
        holderId: holder,
        holderSalt: hex(salt),
        document,
      });
      assert.equal(atDesk.verdict, 'VALID');
      assert.equal(atDesk.holder_checked, true);
      assert.equal((await node.verify(presentation)).verdict, 'VALID');

      await commit({ kind: 'revoke', id, reason: 'revoked by the npm package test' }, bureau);
      bureau.free();
      assert.equal((await node.licence(id)).licence.status, 'revoked');
      const revoked = verifyNow(await node.presentation(id));
      assert.equal(revoked.verdict, 'REVOKED');
      // The presentation taken before the revocation still says what was true then.
      assert.equal(verifyNow(presentation).verdict, 'VALID');
    });

    it('anchors a document hash as the court and verifies its receipt', async () => {
      const court = key('court-1');
      const hash = sdk.documentHash(suite, randomBytes(64));
      await commit({ kind: 'anchor-evidence', hash, submitter: 'court-1', label: 'npm package test' }, court);
      court.free();
      const report = verifyNow(await node.receipt(hash));
      assert.equal(report.verdict, 'ANCHORED');
      assert.equal(report.evidence.hash, hash);
    });

    it('the council changes an authorisation; the wrong agency is refused', async () => {
      const council = key('council-1');
      await commit({ kind: 'set-type-authorisation', licence_type: 'food', agency: 'market-bureau', authorised: true }, council);
      council.free();
      const types = await (await fetch(`${node.baseUrl}/v1/licence-types`)).json();
      const food = types.items.find((t) => t.code === 'food');
      assert.deepEqual(food.authorised, ['health-commission', 'market-bureau']);

      // An issue in market-bureau's name signed with health-commission's key.
      const health = key('health-commission');
      const { chain_id, expires_at_height } = await node.transactionContext();
      const forged = sdk.signTransaction(
        suite,
        {
          chain_id,
          nonce: 1,
          expires_at_height,
          payload: {
            kind: 'issue', id: `FORGED-${randomInt(1e9)}`, licence_type: 'business', issuer: 'market-bureau',
            document_hash: sdk.documentHash(suite, randomBytes(8)), holder_commitment: hex(randomBytes(32)),
            valid_from_ms: Date.now(),
          },
        },
        health,
      );
      health.free();
      await assert.rejects(node.submit(forged, { wait: true }), (e) => {
        assert.ok(e instanceof http.LichenError, String(e));
        assert.equal(e.status, 422);
        assert.equal(e.code, 'tx_refused', e.message);
        assert.match(e.detail, /market-bureau/, e.message);
        return true;
      });
    });
  });
}

after(() => rmSync(installDir, { recursive: true, force: true }));
