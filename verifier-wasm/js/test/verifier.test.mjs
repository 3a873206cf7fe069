// The WASM verifier (verifier-wasm/pkg/node) on every golden presentation and receipt of both
// suites: the verdicts and failing checks contracts/tests/golden_vectors.rs asserts natively, so
// WASM and native agree; then the rest of the JS API (document hashes, decoding, trust anchors,
// errors).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { SUITES, loadGolden, loadVerifier, unhex, hex, documentOf } from '../lib/golden.mjs';

const wasm = loadVerifier();

const CHECKS = [
  'encoding',
  'chain',
  'validator_set',
  'quorum',
  'state_proof',
  'document_hash',
  'issuer_authorised',
  'status',
  'validity_window',
  'freshness',
];

const VERDICT_CHECK = {
  REVOKED: 'status',
  SUPERSEDED: 'status',
  SUSPENDED: 'status',
  EXPIRED: 'validity_window',
  'NOT YET VALID': 'validity_window',
  'STALE PROOF': 'freshness',
};

const failedChecks = (report) => report.checks.filter((c) => c.outcome === 'fail').map((c) => c.id);

function run(anchor, c) {
  // Receipts carry no policy in the vectors (they do not age): any time will do.
  return wasm.verify(anchor, unhex(c.hex), c.now_ms ?? 0, c.proof_age_max_ms ?? 0, documentOf(c));
}

for (const name of SUITES) {
  const golden = loadGolden(name);
  const anchor = unhex(golden.trust_anchor);

  describe(`${name} suite: WASM verdicts equal the golden (native) ones`, () => {
    for (const c of golden.presentations) {
      it(`presentation: ${c.name} → ${c.verdict}`, () => {
        const r = run(anchor, c);
        assert.equal(r.verdict, c.verdict);
        assert.equal(r.kind, 'presentation');
        assert.equal(r.ok, c.verdict === 'VALID');
        assert.equal(r.certified, true);
        assert.deepEqual(r.checks.map((x) => x.id), CHECKS);
        for (const x of r.checks) {
          assert.ok(['pass', 'fail', 'skipped'].includes(x.outcome));
          assert.equal(typeof x.detail, 'string');
          assert.ok(x.detail.length > 0);
        }
        assert.equal(r.checks[5].outcome, c.document ? 'pass' : 'skipped');
        // The verdict is the most serious failure among checks 8-10 (an expired licence checked a
        // year on is also stale).
        const failed = failedChecks(r);
        if (c.verdict === 'VALID') assert.deepEqual(failed, []);
        else assert.ok(failed.includes(VERDICT_CHECK[c.verdict]), `${failed}`);
        assert.ok(failed.every((id) => ['status', 'validity_window', 'freshness'].includes(id)));
        const bytes = unhex(c.hex);
        const decoded = wasm.decodePresentation(bytes);
        assert.equal(r.height, decoded.block.height);
        assert.equal(r.status_as_of_ms, decoded.block.time_ms);
        assert.equal(r.status_as_of, new Date(r.status_as_of_ms).toISOString());
        assert.deepEqual(r.licence, decoded.licence);
      });
    }

    const packages = Object.fromEntries(golden.trust_packages.map((p) => [p.name, unhex(p.hex)]));
    for (const p of golden.trust_packages) {
      it(`trust package ${p.name}: checkpoint ${p.checkpoint_height}, trusted set since ${p.anchor_height}`, () => {
        const info = wasm.trustPackageInfo(anchor, packages[p.name]);
        assert.equal(info.package_hash, p.hash);
        assert.equal(info.checkpoint.height, p.checkpoint_height);
        assert.equal(info.validators_since_height, p.anchor_height);
        assert.equal(info.revocations.revoked, p.revocations.revoked);
        assert.equal(info.revocations.suspended, p.revocations.suspended);
        assert.equal(info.revocations.superseded, p.revocations.superseded);
      });
    }
    for (const p of golden.broken_trust_packages) {
      it(`broken trust package: ${p.name} is refused`, () => {
        assert.throws(() => wasm.trustPackageInfo(anchor, unhex(p.hex)), /trust package cannot be used/);
      });
    }
    for (const d of golden.trust_deltas) {
      it(`trust delta ${d.name}: applied to ${d.base}, the result verifies`, () => {
        const updated = wasm.applyTrustPackageDelta(anchor, packages[d.base], unhex(d.hex));
        const info = wasm.trustPackageInfo(anchor, updated);
        assert.equal(info.package_hash, d.result_hash);
        assert.equal(info.checkpoint.height, d.checkpoint_height);
        for (const [name, other] of Object.entries(packages)) {
          if (name !== d.base) {
            assert.throws(() => wasm.applyTrustPackageDelta(anchor, other, unhex(d.hex)), /checkpoint/);
          }
        }
      });
    }
    for (const c of golden.at_desk) {
      it(`at a desk: ${c.name} → ${c.verdict}`, () => {
        const options = { expect: c.expect ?? undefined };
        if (c.holder_id !== null) Object.assign(options, { holderId: c.holder_id, holderSalt: c.holder_salt });
        const r = wasm.verifyAtDesk(anchor, null, unhex(c.hex), c.now_ms, c.proof_age_max_ms, options);
        assert.equal(r.verdict, c.verdict);
        assert.deepEqual(failedChecks(r), c.failed_checks);
        assert.equal(r.holder_checked, c.holder_id !== null && r.checks.some((x) => x.id === 'holder'));
      });
    }
    for (const c of golden.with_trust_package) {
      it(`with trust package ${c.package ?? 'none'}: ${c.name} → ${c.verdict}`, () => {
        const bytes = unhex(c.hex);
        const r = c.package === null
          ? wasm.verify(anchor, bytes, c.now_ms, c.proof_age_max_ms, documentOf(c))
          : wasm.verifyWithTrustPackage(anchor, packages[c.package], bytes, c.now_ms,
            c.proof_age_max_ms, documentOf(c));
        assert.equal(r.verdict, c.verdict);
        assert.deepEqual(failedChecks(r), c.failed_check === null ? [] : [c.failed_check]);
        if (c.package !== null) assert.equal(r.trust_package.package_hash,
          golden.trust_packages.find((p) => p.name === c.package).hash);
      });
    }

    for (const c of golden.broken_presentations) {
      it(`broken: ${c.name} → ${c.verdict}, ${c.failed_check} fails`, () => {
        const r = run(anchor, c);
        assert.equal(r.verdict, c.verdict);
        assert.deepEqual(failedChecks(r), [c.failed_check]);
        assert.equal(r.ok, false);
        // Everything after the failure is skipped (the stop rule of checks 1-6).
        const at = r.checks.findIndex((x) => x.outcome === 'fail');
        assert.ok(r.checks.slice(at + 1).every((x) => x.outcome === 'skipped'));
        if (c.failed_check === 'encoding') {
          assert.equal(r.height, null);
          assert.equal(r.status_as_of_ms, null);
          assert.equal(r.licence, null);
        }
      });
    }

    for (const c of golden.receipts) {
      it(`receipt: ${c.name} → ${c.verdict}`, () => {
        const r = run(anchor, c);
        assert.equal(r.verdict, c.verdict);
        assert.equal(r.kind, 'receipt');
        assert.deepEqual(
          r.checks.map((x) => x.id),
          CHECKS.slice(0, 6),
        );
        if (c.anchored_time_ms !== undefined) {
          assert.equal(r.ok, true);
          assert.equal(r.status_as_of_ms, c.anchored_time_ms);
          assert.equal(r.evidence.time_ms, c.anchored_time_ms);
          assert.deepEqual(failedChecks(r), []);
        } else {
          assert.deepEqual(failedChecks(r), [c.failed_check]);
        }
      });
    }
  });

  describe(`${name} suite: the rest of the API`, () => {
    const valid = golden.presentations.find((c) => c.name === 'valid, with the document');
    const bytes = unhex(valid.hex);
    const docHash = golden.hashes.find((h) => h.document !== undefined);
    const { now_ms: now, proof_age_max_ms: age } = valid;

    it('verifyWithDocumentHash: hex (either case) or 32 bytes, as good as the document', () => {
      for (const h of [docHash.hash, docHash.hash.toUpperCase(), unhex(docHash.hash)]) {
        const r = wasm.verifyWithDocumentHash(anchor, bytes, now, age, h);
        assert.equal(r.verdict, 'VALID');
        assert.equal(r.checks[5].outcome, 'pass');
      }
      const wrong = `${docHash.hash.slice(0, 63)}${docHash.hash[63] === '0' ? '1' : '0'}`;
      const r = wasm.verifyWithDocumentHash(anchor, bytes, now, age, wrong);
      assert.equal(r.verdict, 'TAMPERED');
      assert.deepEqual(failedChecks(r), ['document_hash']);
    });

    it('bad arguments throw Errors that say what is wrong', () => {
      assert.throws(() => wasm.verify(anchor.subarray(1), bytes, now, age), {
        name: 'Error',
        message: /^trust anchor is not valid: /,
      });
      assert.throws(() => wasm.verify(new Uint8Array(), bytes, now, age), /trust anchor is not valid/);
      for (const bad of ['abc', 'zz'.repeat(32), docHash.hash.slice(2)]) {
        assert.throws(() => wasm.verifyWithDocumentHash(anchor, bytes, now, age, bad), /^Error: document hash is not valid: expected 64 hex digits/);
      }
      assert.throws(() => wasm.verifyWithDocumentHash(anchor, bytes, now, age, new Uint8Array(31)), /document hash is not valid: expected 32 bytes/);
      assert.throws(() => wasm.verifyWithDocumentHash(anchor, bytes, now, age, 42), /expected a hex string or a Uint8Array/);
      for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
        assert.throws(() => wasm.verify(anchor, bytes, bad, age), /nowMs must be a whole number of milliseconds/);
        assert.throws(() => wasm.verify(anchor, bytes, now, bad), /proofAgeMaxMs must be a whole number/);
      }
    });

    it('malformed presentations are a verdict, not an exception', () => {
      for (const junk of [new Uint8Array(), Uint8Array.of(0x50), Uint8Array.of(0x52, 1, 2), new Uint8Array(600 * 1024)]) {
        const r = wasm.verify(anchor, junk, now, age);
        assert.equal(r.verdict, 'TAMPERED');
        assert.deepEqual(failedChecks(r), ['encoding']);
      }
    });

    it("another suite's anchor does not vouch for these presentations", () => {
      const other = unhex(loadGolden(name === 'sm' ? 'intl' : 'sm').trust_anchor);
      const r = wasm.verify(other, bytes, now, age);
      assert.equal(r.verdict, 'UNKNOWN ISSUER');
      assert.equal(r.certified, false);
    });

    it('decodePresentation: the record, block and sizes, without verifying', () => {
      const d = wasm.decodePresentation(bytes);
      assert.equal(d.kind, 'presentation');
      assert.equal(d.evidence, null);
      assert.equal(d.licence.id, 'SZ-2026-000001');
      assert.equal(d.licence.licence_type, 'business');
      assert.equal(d.licence.issuer, 'agency-a');
      assert.equal(d.licence.status, 'active');
      assert.equal(d.licence.issued_height, 1);
      assert.equal(d.licence.document_hash, docHash.hash);
      assert.equal(d.block.chain_id, golden.chain_id);
      assert.equal(d.block.height, 2);
      assert.equal(d.block.signers.length, 3);
      assert.deepEqual(d.block.set_changes, []);
      const s = d.sizes;
      assert.equal(s.total, bytes.length);
      assert.equal(1 + s.record + s.proof + s.header + s.certificate + s.set_changes, s.total);
      const changed = golden.presentations.find((c) => c.name.startsWith('after a validator-set change'));
      assert.deepEqual(wasm.decodePresentation(unhex(changed.hex)).block.set_changes, [3]);
      const receipt = wasm.decodePresentation(unhex(golden.receipts[0].hex));
      assert.equal(receipt.kind, 'receipt');
      assert.equal(receipt.licence, null);
      assert.equal(receipt.evidence.submitter, 'court-1');
      assert.equal(receipt.evidence.label, 'case 2026-0042 exhibit 3');
      assert.throws(() => wasm.decodePresentation(bytes.subarray(0, bytes.length - 1)), /^Error: not a valid presentation: input ends early/);
      assert.throws(() => wasm.decodePresentation(new Uint8Array()), /not a valid presentation/);
    });

    it('trustAnchorInfo: chain, suite, validators and the fingerprint', () => {
      const a = wasm.trustAnchorInfo(anchor);
      assert.equal(a.chain_id, golden.chain_id);
      assert.equal(a.suite, name);
      assert.equal(a.height, 0);
      assert.equal(a.quorum, 3);
      assert.equal(a.validators.length, 4);
      assert.ok(a.validators.every((v) => v.key.startsWith(name === 'sm' ? 'sm2:' : 'ed25519:')));
      assert.equal(a.fingerprint, golden.objects.find((o) => o.name === 'trust_anchor').hash);
      assert.throws(() => wasm.trustAnchorInfo(unhex(hex(anchor).slice(2))), /trust anchor is not valid/);
    });
  });
}

describe('the web build (pkg/web, for browsers) gives the same reports as the Node build', () => {
  it('every golden presentation and receipt of both suites', async () => {
    const { readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const { repoRoot } = await import('../lib/golden.mjs');
    const dir = path.join(repoRoot, 'verifier-wasm/pkg/web');
    const web = await import(path.join(dir, 'lichen_verifier_wasm.js'));
    // A page calls the default export (init), which fetches the .wasm; Node passes the bytes.
    web.initSync({ module: readFileSync(path.join(dir, 'lichen_verifier_wasm_bg.wasm')) });
    let n = 0;
    for (const name of SUITES) {
      const golden = loadGolden(name);
      const anchor = unhex(golden.trust_anchor);
      for (const c of [...golden.presentations, ...golden.broken_presentations, ...golden.receipts]) {
        const args = [anchor, unhex(c.hex), c.now_ms ?? 0, c.proof_age_max_ms ?? 0, documentOf(c)];
        assert.deepEqual(web.verify(...args), wasm.verify(...args), c.name);
        n++;
      }
    }
    assert.equal(n, 2 * (18 + 16 + 3));
  });
});
