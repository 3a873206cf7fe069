// Independent cross-check of the golden vectors with JavaScript crypto libraries (sm-crypto for
// SM3/SM2, @noble/hashes and @noble/curves for SHA-256/Ed25519), from PROTOCOL.md alone: every
// hash the files list, every signature in their objects (transaction, commit certificate) and in
// every presentation and receipt (certificates and validator-set changes), state proofs, trust
// packages, and the desk rules (expected kind, holder check) with every failing check.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { SUITES, loadGolden, unhex, hex, documentOf } from '../lib/golden.mjs';
import {
  SM2_USER_ID,
  applyTrustDelta,
  checkCertificate,
  decodeAll,
  encodeTrustPackage,
  encodeVote,
  equal,
  evidenceKey,
  firstFailedCheck,
  headerHash,
  holderCommitment,
  licenceKey,
  readCertificate,
  readEvidence,
  readHeader,
  readLicence,
  readProof,
  readSignedTransaction,
  readStateProof,
  readTransaction,
  readTrustAnchor,
  readTrustDelta,
  readTrustPackage,
  readValidatorSet,
  readVote,
  stateProofHolds,
  suiteOf,
  taggedHash,
  txRoot,
  valueHash,
  verifyAtDesk,
  verifyPresentation,
  verifyReceipt,
  verifySignature,
  verifyTrustPackage,
} from '../lib/independent.mjs';

const readers = {
  ValidatorSet: readValidatorSet,
  TrustAnchor: readTrustAnchor,
  Transaction: readTransaction,
  SignedTransaction: readSignedTransaction,
  BlockHeader: readHeader,
  Vote: readVote,
  CommitCertificate: readCertificate,
  Licence: readLicence,
  Evidence: readEvidence,
  StateProof: readStateProof,
  Presentation: readProof,
  EvidenceReceipt: readProof,
};

for (const name of SUITES) {
  const golden = loadGolden(name);
  const suite = suiteOf(name);
  const anchorBytes = unhex(golden.trust_anchor);
  const anchor = decodeAll(anchorBytes, readTrustAnchor);
  const object = (n) => {
    const o = golden.objects.find((x) => x.name === n);
    assert.ok(o, `object ${n}`);
    return o;
  };
  const headerOf = (n) => {
    const raw = unhex(object(n).hex);
    return { ...decodeAll(raw, readHeader), raw };
  };

  describe(`${name} suite: hashes and signatures in JS`, () => {
    it('the anchor is for this suite', () => {
      assert.equal(anchor.suite, suite.sigAlgo);
      assert.equal(anchor.chainId, golden.chain_id);
      assert.equal(anchor.validators.length, 4);
    });

    it('every listed hash: tagged, document, holder commitment, tx root, state key', () => {
      let checked = 0;
      for (const h of golden.hashes) {
        let got;
        if (h.input !== undefined) got = taggedHash(suite, h.tag, unhex(h.input));
        else if (h.document !== undefined) got = suite.digest(unhex(h.document));
        else if (h.holder_salt !== undefined) got = holderCommitment(suite, unhex(h.holder_salt), h.holder_id);
        else if (h.tx_root_of !== undefined) got = txRoot(suite, h.tx_root_of.map(unhex));
        else if (h.state_key !== undefined) {
          assert.equal(h.kind, 6);
          const id = /^Licence\("(.*)"\)$/.exec(h.state_key)[1];
          got = licenceKey(suite, id);
        } else assert.fail(`unknown hash entry ${JSON.stringify(h)}`);
        assert.equal(hex(got), h.hash, JSON.stringify(h));
        checked++;
      }
      assert.equal(checked, 6);
    });

    it('every object decodes whole, and its tagged hash and state key match', () => {
      for (const o of golden.objects) {
        const bytes = unhex(o.hex);
        const value = decodeAll(bytes, readers[o.type]);
        if (o.hash_tag) {
          // A signed transaction's id covers its unsigned body only.
          const what = o.type === 'SignedTransaction' ? value.txRaw : bytes;
          assert.equal(hex(taggedHash(suite, o.hash_tag, what)), o.hash, o.name);
        }
        if (o.state_key) {
          const key = o.type === 'Licence' ? licenceKey(suite, value.draft.id) : evidenceKey(suite, value.hash);
          assert.equal(hex(key), o.state_key, o.name);
          assert.equal(hex(valueHash(suite, bytes)), o.hash, o.name);
        }
      }
    });

    it('the transaction signatures verify over the id (SM2 with Z_A, or Ed25519)', () => {
      const o = object('signed_transaction.issue');
      const stx = decodeAll(unhex(o.hex), readSignedTransaction);
      const id = taggedHash(suite, 'lichen/tx/v1', stx.txRaw);
      assert.equal(hex(stx.txRaw), object('transaction.issue').hex);
      assert.ok(stx.signatures.length >= 1);
      for (const { key, signature } of stx.signatures) {
        assert.equal(key.algo, suite.sigAlgo);
        assert.ok(verifySignature(key, id, signature.algo, signature.sig), 'transaction signature');
        // And not over anything else.
        assert.ok(!verifySignature(key, taggedHash(suite, 'other', stx.txRaw), signature.algo, signature.sig));
      }
      // The witness hash (body and signatures) is the first leaf of block 1's tx root.
      const witness = taggedHash(suite, 'lichen/tx-witness/v1', unhex(o.hex));
      const root = golden.hashes.find((h) => h.tx_root_of);
      assert.equal(hex(witness), root.tx_root_of[0]);
      assert.equal(hex(headerOf('block_header.1').txRoot), root.hash);
    });

    if (name === 'sm') {
      it('SM2 is GB/T 32918 with user id 1234567812345678: another user id does not verify', async () => {
        const { default: smCrypto } = await import('sm-crypto');
        const stx = decodeAll(unhex(object('signed_transaction.issue').hex), readSignedTransaction);
        const id = taggedHash(suite, 'lichen/tx/v1', stx.txRaw);
        const { key, signature } = stx.signatures[0];
        const check = (userId, hash) =>
          smCrypto.sm2.doVerifySignature(Array.from(id), hex(signature.sig), hex(key.key), { der: false, hash, userId });
        assert.equal(check(SM2_USER_ID, true), true);
        assert.equal(check('1234567812345679', true), false);
        assert.equal(check(SM2_USER_ID, false), false, 'the message is hashed with Z_A, not signed raw');
      });
    }

    it('broken transactions do not verify', () => {
      const broken = golden.broken_objects.filter((o) => o.type === 'SignedTransaction');
      assert.equal(broken.length, 2);
      for (const o of broken) {
        let ok;
        try {
          const stx = decodeAll(unhex(o.hex), readSignedTransaction);
          const id = taggedHash(suite, 'lichen/tx/v1', stx.txRaw);
          ok = stx.signatures.every(({ key, signature }) => verifySignature(key, id, signature.algo, signature.sig));
        } catch {
          ok = false; // a signature that does not even decode
        }
        assert.equal(ok, false, o.name);
      }
    });

    it('the commit certificate: its vote, every signature, a quorum, the block hash', () => {
      const header = headerOf('block_header.2');
      const header1 = headerOf('block_header.1');
      assert.ok(equal(header.previousHash, headerHash(suite, header1.raw)));
      const cert = decodeAll(unhex(object('commit_certificate.2').hex), readCertificate);
      const vote = encodeVote(2, golden.chain_id, anchor.genesisHash, cert.height, cert.view, cert.blockHash);
      assert.equal(hex(vote), object('vote.commit.2').hex);
      const decoded = decodeAll(vote, readVote);
      assert.equal(decoded.chainId, golden.chain_id);
      assert.ok(equal(decoded.genesisHash, anchor.genesisHash), 'the vote signs the anchor\'s genesis hash');
      const digest = taggedHash(suite, 'lichen/vote/v1', vote);
      assert.equal(hex(digest), object('vote.commit.2').hash);
      assert.equal(hex(cert.blockHash), object('block_header.2').hash);
      for (const { index, signature } of cert.signatures) {
        const key = anchor.validators[index].key;
        assert.ok(verifySignature(key, digest, signature.algo, signature.sig), `validator ${index}`);
        const other = anchor.validators[(index + 1) % anchor.validators.length].key;
        assert.ok(!verifySignature(other, digest, signature.algo, signature.sig), 'not under another key');
      }
      const n = checkCertificate(
        suite,
        golden.chain_id,
        anchor.genesisHash,
        header,
        cert,
        anchor.validators,
        anchor.validatorsRaw,
      );
      assert.ok(n >= 3);
      // Under another genesis hash (same chain id and keys) the certificate does not verify.
      const otherGenesis = Uint8Array.from(anchor.genesisHash, (b) => b ^ 0xff);
      const { validators, validatorsRaw } = anchor;
      assert.throws(
        () => checkCertificate(suite, golden.chain_id, otherGenesis, header, cert, validators, validatorsRaw),
        /does not verify/,
      );
    });

    it('state proofs: inclusion and non-inclusion hold, the broken claims do not', () => {
      for (const o of golden.objects.filter((x) => x.type === 'StateProof')) {
        const proof = decodeAll(unhex(o.hex), readStateProof);
        const value = o.value === undefined ? null : unhex(o.value);
        assert.ok(stateProofHolds(suite, proof, unhex(o.root), unhex(o.key), value), o.name);
      }
      for (const o of golden.broken_objects.filter((x) => x.type === 'StateProof')) {
        const proof = decodeAll(unhex(o.hex), readStateProof);
        const value = o.value == null ? null : unhex(o.value);
        assert.ok(!stateProofHolds(suite, proof, unhex(o.root), unhex(o.key), value), o.name);
      }
    });

    it('every presentation and receipt: checks 1-6 in JS fail exactly where the vectors say', () => {
      let signatures = 0;
      const cases = [
        ...golden.presentations.map((c) => [c, null]),
        ...golden.broken_presentations.map((c) => [c, c.failed_check]),
        ...golden.receipts.map((c) => [c, c.failed_check ?? null]),
      ];
      for (const [c, expected] of cases) {
        const bytes = unhex(c.hex);
        assert.equal(firstFailedCheck(suite, anchor, bytes, documentOf(c)), expected, c.name);
        if (expected === null) {
          const p = decodeAll(bytes, readProof);
          signatures += p.certified.certificate.signatures.length;
          signatures += p.certified.setChanges.reduce((n, s) => n + s.certificate.signatures.length, 0);
        }
      }
      // 8 presentations (one with a set change) and 1 good receipt, each with a quorum of 3.
      assert.ok(signatures >= 9 * 3, `${signatures} certificate signatures verified`);
    });

    it('every presentation: checks 1-10 in JS give the verdict and failed check of the vectors', () => {
      for (const c of [...golden.presentations, ...golden.broken_presentations]) {
        const got = verifyPresentation(suite, anchor, unhex(c.hex), documentOf(c), c.now_ms, c.proof_age_max_ms);
        assert.equal(got.verdict, c.verdict, c.name);
        if (c.failed_check !== undefined) assert.equal(got.failed[0], c.failed_check, c.name);
      }
    });

    // Trust packages (PROTOCOL.md, Trust packages): verified against the genesis anchor alone.
    const packages = new Map();
    for (const p of golden.trust_packages) {
      const got = verifyTrustPackage(suite, anchor, unhex(p.hex));
      if (got.package) packages.set(p.name, got.package);
    }

    it('trust packages: each verifies, with its fingerprint, heights, levels and revocations', () => {
      assert.equal(golden.trust_packages.length, 2);
      for (const p of golden.trust_packages) {
        const got = verifyTrustPackage(suite, anchor, unhex(p.hex));
        assert.ok(got.package, `${p.name}: refused (${got.error}: ${got.reason})`);
        const pkg = got.package;
        assert.equal(hex(pkg.hash), p.hash, p.name);
        assert.equal(pkg.checkpointHeight, BigInt(p.checkpoint_height), p.name);
        assert.equal(pkg.anchorHeight, BigInt(p.anchor_height), p.name);
        assert.equal(pkg.anchor.height, BigInt(p.anchor_height), p.name);
        assert.equal(pkg.levels.depth, p.levels_depth, p.name);
        assert.deepEqual(pkg.revocations, p.revocations, p.name);
      }
    });

    it('broken trust packages: each is refused at the step the vectors name', () => {
      assert.equal(golden.broken_trust_packages.length, 7);
      for (const p of golden.broken_trust_packages) {
        const got = verifyTrustPackage(suite, anchor, unhex(p.hex));
        assert.equal(got.error, p.error, `${p.name}: ${got.reason ?? 'accepted'}`);
      }
    });

    // Deltas (PROTOCOL.md, Trust packages, Deltas): applied to the base package they give a full
    // package, verified from the genesis anchor like any other.
    const packageBytes = new Map(golden.trust_packages.map((p) => [p.name, unhex(p.hex)]));

    it('trust packages re-encode to their bytes (the encoder deltas are applied with)', () => {
      for (const [name, bytes] of packageBytes) {
        assert.equal(hex(encodeTrustPackage(decodeAll(bytes, readTrustPackage))), hex(bytes), name);
      }
    });

    it('trust deltas: applied to their base, a package with the stated fingerprint and checkpoint', () => {
      assert.equal(golden.trust_deltas.length, 2);
      const kinds = new Set();
      for (const d of golden.trust_deltas) {
        const delta = unhex(d.hex);
        kinds.add(decodeAll(delta, readTrustDelta).levels.full ? 'full' : 'changed');
        const base = packageBytes.get(d.base);
        assert.ok(base, `${d.name}: base ${d.base}`);
        const applied = applyTrustDelta(suite, base, delta);
        assert.ok(applied.bytes, `${d.name}: refused (${applied.error}: ${applied.reason})`);
        const got = verifyTrustPackage(suite, anchor, applied.bytes);
        assert.ok(got.package, `${d.name}: result refused (${got.error}: ${got.reason})`);
        assert.equal(hex(got.package.hash), d.result_hash, d.name);
        assert.equal(got.package.checkpointHeight, BigInt(d.checkpoint_height), d.name);
      }
      assert.deepEqual([...kinds].sort(), ['changed', 'full']);
    });

    it('trust deltas: refused as wrong base against every other package, and when malformed', () => {
      for (const d of golden.trust_deltas) {
        const delta = unhex(d.hex);
        for (const [name, bytes] of packageBytes) {
          if (name === d.base) continue;
          const got = applyTrustDelta(suite, bytes, delta);
          assert.equal(got.error, 'checkpoint', `${d.name} on ${name}`);
          assert.equal(got.reason, 'wrong base', `${d.name} on ${name}`);
        }
        const base = packageBytes.get(d.base);
        const malformed = [
          ['a trailing byte', Uint8Array.from([...delta, 0])],
          ['another tag', Uint8Array.from([0x54, ...delta.subarray(1)])],
          ['cut short', delta.subarray(0, delta.length - 1)],
        ];
        for (const [what, bytes] of malformed) {
          assert.equal(applyTrustDelta(suite, base, bytes).error, 'encoding', `${d.name}: ${what}`);
        }
      }
    });

    it('presentations and compact presentations with a package (or none): verdict and failed check', () => {
      assert.equal(golden.with_trust_package.length, 12);
      let compact = 0;
      for (const c of golden.with_trust_package) {
        let pkg = null;
        if (c.package !== null) {
          pkg = packages.get(c.package);
          assert.ok(pkg, `package ${c.package}`);
        }
        const bytes = unhex(c.hex);
        if (bytes[0] === 0x43) compact++;
        const got = verifyPresentation(suite, anchor, bytes, documentOf(c), c.now_ms, c.proof_age_max_ms, pkg);
        assert.equal(got.verdict, c.verdict, c.name);
        assert.deepEqual(got.failed, c.failed_check === null ? [] : [c.failed_check], c.name);
      }
      assert.equal(compact, 5);
    });

    it('receipts: ANCHORED, or the verdict and failed check of the vectors', () => {
      for (const c of golden.receipts) {
        const got = verifyReceipt(suite, anchor, unhex(c.hex), documentOf(c));
        assert.equal(got.verdict, c.verdict, c.name);
        assert.deepEqual(got.failed, c.failed_check === undefined ? [] : [c.failed_check], c.name);
      }
    });

    // PROTOCOL.md, Verifying at a desk: the expected kind and the holder check.
    it('at a desk: the verdict and every failing check, in report order', () => {
      assert.equal(golden.at_desk.length, 11);
      const seen = new Set();
      for (const c of golden.at_desk) {
        const desk = {
          expect: c.expect,
          holderId: c.holder_id,
          holderSalt: c.holder_salt === null ? null : unhex(c.holder_salt),
        };
        const got = verifyAtDesk(suite, anchor, unhex(c.hex), documentOf(c), c.now_ms, c.proof_age_max_ms, desk);
        assert.equal(got.verdict, c.verdict, c.name);
        assert.deepEqual(got.failed, c.failed_checks, c.name);
        if (c.holder_id === null) assert.equal(got.holderChecked, false, c.name);
        seen.add(c.verdict);
        // Without the desk's questions the same bytes get their own verdict: no kind, no holder.
        const plain = verifyAtDesk(suite, anchor, unhex(c.hex), documentOf(c), c.now_ms, c.proof_age_max_ms);
        assert.ok(!plain.failed.includes('kind') && !plain.failed.includes('holder'), c.name);
        assert.equal(plain.holderChecked, false);
      }
      assert.deepEqual([...seen].sort(), ['ANCHORED', 'HOLDER MISMATCH', 'REVOKED', 'TAMPERED', 'VALID', 'WRONG KIND']);
    });

    it('at a desk: a more serious verdict wins over WRONG KIND, and a receipt has no holder', () => {
      const receipt = golden.at_desk.find((c) => c.hex[0] === '5' && c.hex[1] === '2');
      const bytes = unhex(receipt.hex);
      const cut = bytes.subarray(0, bytes.length - 1);
      const tampered = verifyAtDesk(suite, anchor, cut, undefined, receipt.now_ms, receipt.proof_age_max_ms, { expect: 'licence' });
      assert.equal(tampered.verdict, 'TAMPERED');
      assert.deepEqual(tampered.failed, ['kind', 'encoding']);
      const salt = new Uint8Array(32).fill(7);
      const holder = verifyAtDesk(suite, anchor, bytes, undefined, receipt.now_ms, receipt.proof_age_max_ms, { holderId: 'x', holderSalt: salt });
      assert.equal(holder.verdict, 'HOLDER MISMATCH');
      assert.deepEqual(holder.failed, ['holder']);
      // A licence whose checks 1-6 fail: the holder check does not run.
      const licence = golden.at_desk.find((c) => c.holder_id !== null && c.verdict === 'VALID');
      const other = Uint8Array.from(unhex(licence.hex));
      const got = verifyAtDesk(suite, anchor, other, new Uint8Array([1]), licence.now_ms, licence.proof_age_max_ms, {
        holderId: 'nobody',
        holderSalt: salt,
      });
      assert.equal(got.verdict, 'TAMPERED');
      assert.deepEqual(got.failed, ['document_hash']);
    });

    // PROTOCOL.md, Safe text: decoding rules.
    it('safe text: a chain id that is no identifier, a control character in a reason or label', () => {
      const withByte = (bytes, at, value) => {
        const out = Uint8Array.from(bytes);
        out[at] = value;
        return out;
      };
      const find = (bytes, text) => Buffer.from(bytes).indexOf(Buffer.from(text, 'utf8'));
      const refused = (bytes, read, what) => assert.throws(() => decodeAll(bytes, read), undefined, what);
      const chain = golden.chain_id;
      for (const [type, read] of [
        ['BlockHeader', readHeader],
        ['Vote', readVote],
        ['TrustAnchor', readTrustAnchor],
        ['Transaction', readTransaction],
      ]) {
        const o = golden.objects.find((x) => x.type === type);
        const bytes = unhex(o.hex);
        decodeAll(bytes, read); // as given, it decodes
        const at = find(bytes, chain);
        assert.ok(at > 0, type);
        refused(withByte(bytes, at, 0x20), read, `${type}: a space in the chain id`);
        refused(withByte(bytes, at, 0x0a), read, `${type}: a newline in the chain id`);
      }
      const receipt = golden.receipts.find((c) => c.verdict === 'ANCHORED');
      const rbytes = unhex(receipt.hex);
      const label = decodeAll(rbytes, readProof).record.label;
      assert.ok(label.length > 0);
      const at = find(rbytes, label);
      refused(withByte(rbytes, at, 0x1b), readProof, 'an escape in a label');
      refused(withByte(rbytes, at, 0x7f), readProof, 'DEL in a label');
      assert.equal(verifyReceipt(suite, anchor, withByte(rbytes, at, 0x1b)).failed[0], 'encoding');
      const revoked = [...golden.presentations, ...golden.at_desk].find(
        (c) => c.hex.startsWith('50') && decodeAll(unhex(c.hex), readProof).record.statusReason.length > 0,
      );
      assert.ok(revoked, 'a presentation with a status reason');
      const pbytes = unhex(revoked.hex);
      const reason = decodeAll(pbytes, readProof).record.statusReason;
      refused(withByte(pbytes, find(pbytes, reason), 0x0d), readProof, 'a carriage return in a status reason');
      const got = verifyPresentation(suite, anchor, withByte(pbytes, find(pbytes, reason), 0x0d), undefined, revoked.now_ms, revoked.proof_age_max_ms);
      assert.deepEqual(got, { verdict: 'TAMPERED', failed: ['encoding'] });
    });
  });
}
