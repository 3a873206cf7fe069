// An independent JavaScript reading of PROTOCOL.md: the canonical decoding of the objects in the
// golden vectors, tagged hashes with sm-crypto's SM3 or @noble/hashes' SHA-256, signatures with
// sm-crypto's SM2 or @noble/curves' Ed25519, state proofs, and checks 1-6 of presentation and
// receipt verification. It shares no code with the Rust verifier: the tests compare the two.
import smCrypto from 'sm-crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';

const { sm2, sm3 } = smCrypto;

// ---------------------------------------------------------------------------------------------
// Bytes

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const toHex = (bytes) => Buffer.from(bytes).toString('hex');
const utf8 = (text) => new TextEncoder().encode(text);

export function u8(n) {
  return Uint8Array.of(n);
}

export function u32(n) {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

export function u64(n) {
  const out = new Uint8Array(8);
  let v = BigInt(n);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** `string` / `bytes` encoding: u32 length, then the bytes. */
export function lenPrefixed(bytes) {
  return concat(u32(bytes.length), bytes);
}

export const ZERO = new Uint8Array(32);

// ---------------------------------------------------------------------------------------------
// Suites: hashes and signatures

/** SM2 (GB/T 32918) with the default distinguishing identifier of GM/T 0009-2012. */
export const SM2_USER_ID = '1234567812345678';
const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

export function suiteOf(name) {
  if (name === 'sm') {
    return {
      name,
      digest: (bytes) => Uint8Array.from(Buffer.from(sm3(Array.from(bytes)), 'hex')),
      sigAlgo: 1,
    };
  }
  if (name === 'intl') {
    return { name, digest: (bytes) => sha256(bytes), sigAlgo: 2 };
  }
  throw new Error(`unknown suite ${name}`);
}

/** `H(tag, data) = Hash(u8(len(tag)) || tag || data)` (PROTOCOL.md, Hashes). */
export function taggedHash(suite, tag, ...parts) {
  const t = utf8(tag);
  if (t.length > 255) throw new Error('tag too long');
  return suite.digest(concat(u8(t.length), t, ...parts));
}

function beInt(bytes) {
  return BigInt(`0x${toHex(bytes) || '0'}`);
}

/** Refuses what the canonical decoder refuses: SM2 r, s outside [1, n-1]; Ed25519 S >= L. */
function checkSignatureEncoding(algo, sig) {
  if (algo === 1) {
    const r = beInt(sig.subarray(0, 32));
    const s = beInt(sig.subarray(32));
    if (r < 1n || r >= SM2_N || s < 1n || s >= SM2_N) {
      throw new Error('SM2 signature r or s out of range');
    }
  } else if (algo === 2) {
    const S = beInt(Uint8Array.from(sig.subarray(32)).reverse());
    if (S >= ED25519_L) throw new Error('Ed25519 signature S >= L');
  } else {
    throw new Error(`unknown signature algorithm ${algo}`);
  }
}

/**
 * Verifies `sig` (64 bytes) over `msg` under `key` ({algo, key}). SM2: the message is hashed with
 * Z_A (SM3, user id 1234567812345678) as GB/T 32918.2 says, so `hash: true`; the public key is
 * the 33-byte compressed point (sm-crypto decompresses it). Ed25519: RFC 8032 with strict
 * (non-ZIP-215) encodings, as PROTOCOL.md requires.
 */
export function verifySignature(key, msg, sigAlgo, sig) {
  if (key.algo !== sigAlgo) return false;
  if (key.algo === 1) {
    return sm2.doVerifySignature(Array.from(msg), toHex(sig), toHex(key.key), {
      der: false,
      hash: true,
      userId: SM2_USER_ID,
    });
  }
  if (key.algo === 2) {
    try {
      return ed25519.verify(sig, msg, key.key, { zip215: false });
    } catch {
      return false;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Canonical decoding (PROTOCOL.md, Canonical encoding)

export class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.i = 0;
  }

  take(n) {
    if (this.i + n > this.b.length) throw new Error('input ends early');
    const out = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return out;
  }

  u8() {
    return this.take(1)[0];
  }

  u16() {
    const s = this.take(2);
    return (s[0] << 8) | s[1];
  }

  u32() {
    const s = this.take(4);
    return ((s[0] << 24) >>> 0) + (s[1] << 16) + (s[2] << 8) + s[3];
  }

  u64() {
    return beInt(this.take(8));
  }

  bytes(max = 1 << 20) {
    const n = this.u32();
    if (n > max) throw new Error(`length ${n} above ${max}`);
    return this.take(n);
  }

  str(max) {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(max));
  }

  hash() {
    return this.take(32);
  }

  option(read) {
    const tag = this.u8();
    if (tag === 0) return null;
    if (tag === 1) return read();
    throw new Error(`option tag ${tag}`);
  }

  seq(read, max = 1 << 16) {
    const n = this.u32();
    if (n > max) throw new Error(`count ${n} above ${max}`);
    return Array.from({ length: n }, () => read());
  }

  /** Runs `read` and also returns the exact bytes it consumed. */
  span(read) {
    const from = this.i;
    const value = read();
    return { value, raw: this.b.subarray(from, this.i) };
  }

  end() {
    if (this.i !== this.b.length) throw new Error(`${this.b.length - this.i} trailing bytes`);
  }
}

/** Decodes `bytes` entirely with `read(reader)`. */
export function decodeAll(bytes, read) {
  const r = new Reader(bytes);
  const value = read(r);
  r.end();
  return value;
}

export function readPublicKey(r) {
  const algo = r.u8();
  const len = algo === 1 ? 33 : algo === 2 ? 32 : -1;
  if (len < 0) throw new Error(`unknown key algorithm ${algo}`);
  return { algo, key: r.take(len) };
}

export function readSignature(r) {
  const algo = r.u8();
  const sig = r.take(64);
  checkSignatureEncoding(algo, sig);
  return { algo, sig };
}

export function readValidatorSet(r) {
  return r.seq(() => ({ name: r.str(), key: readPublicKey(r), peerId: r.bytes(64) }), 128);
}

export function readTrustAnchor(r) {
  if (r.u8() !== 0x41) throw new Error('not a trust anchor');
  const chainId = r.str(64);
  const suite = r.u8();
  const genesisHash = r.hash();
  const height = r.u64();
  const set = r.span(() => readValidatorSet(r));
  return { chainId, suite, genesisHash, height, validators: set.value, validatorsRaw: set.raw };
}

function readDraft(r) {
  return {
    id: r.str(128),
    licenceType: r.str(64),
    issuer: r.str(64),
    documentHash: r.hash(),
    holderCommitment: r.hash(),
    validFrom: r.u64(),
    validUntil: r.option(() => r.u64()),
  };
}

export function readLicence(r) {
  return {
    draft: readDraft(r),
    status: r.u8(),
    statusReason: r.str(512),
    supersedes: r.option(() => r.str(128)),
    supersededBy: r.option(() => r.str(128)),
    issuedHeight: r.u64(),
    issuedTime: r.u64(),
    updatedHeight: r.u64(),
    updatedTime: r.u64(),
  };
}

export function readEvidence(r) {
  return {
    hash: r.hash(),
    submitter: r.str(64),
    label: r.str(512),
    height: r.u64(),
    timeMs: r.u64(),
    txId: r.hash(),
  };
}

/** A transaction with the payloads the golden files hold (issue, status changes, evidence). */
export function readTransaction(r) {
  const chainId = r.str(64);
  const nonce = r.u64();
  const expiresAtHeight = r.u64();
  const tag = r.u8();
  let payload;
  if (tag === 20) payload = { kind: 'issue', draft: readDraft(r) };
  else if (tag >= 21 && tag <= 23) payload = { kind: 'status', id: r.str(128), reason: r.str(512) };
  else if (tag === 30) payload = { kind: 'anchor', hash: r.hash(), submitter: r.str(64), label: r.str(512) };
  else throw new Error(`payload tag ${tag} is not read by this test decoder`);
  return { chainId, nonce, expiresAtHeight, payload };
}

export function readSignedTransaction(r) {
  const tx = r.span(() => readTransaction(r));
  const signatures = r.seq(() => ({ key: readPublicKey(r), signature: readSignature(r) }), 32);
  return { tx: tx.value, txRaw: tx.raw, signatures };
}

export function readHeader(r) {
  return {
    version: r.u16(),
    chainId: r.str(64),
    height: r.u64(),
    timeMs: r.u64(),
    view: r.u64(),
    previousHash: r.hash(),
    txCount: r.u32(),
    txRoot: r.hash(),
    stateRoot: r.hash(),
    validatorSetHash: r.hash(),
    nextValidatorSetHash: r.hash(),
    proposer: r.u16(),
  };
}

export function readCertificate(r) {
  return {
    height: r.u64(),
    view: r.u64(),
    blockHash: r.hash(),
    signatures: r.seq(() => ({ index: r.u16(), signature: readSignature(r) }), 128),
  };
}

export function readVote(r) {
  return {
    kind: r.u8(),
    chainId: r.str(64),
    genesisHash: r.hash(),
    height: r.u64(),
    view: r.u64(),
    blockHash: r.hash(),
  };
}

export function readStateProof(r) {
  const depth = r.u16();
  if (depth > 256) throw new Error(`proof depth ${depth}`);
  const bitmap = r.take(Math.ceil(depth / 8));
  for (let i = depth; i < bitmap.length * 8; i++) {
    if (bitmap[i >> 3] & (0x80 >> (i & 7))) throw new Error('bitmap bit beyond the depth');
  }
  const siblings = [];
  for (let i = 0; i < depth; i++) {
    if (bitmap[i >> 3] & (0x80 >> (i & 7))) {
      const s = r.hash();
      if (equal(s, ZERO)) throw new Error('a present sibling is ZERO');
      siblings.push(s);
    } else {
      siblings.push(ZERO);
    }
  }
  const terminal = r.u8();
  let leaf = null;
  if (terminal === 1) leaf = { key: r.hash(), valueHash: r.hash() };
  else if (terminal !== 0) throw new Error(`terminal tag ${terminal}`);
  return { siblings, leaf };
}

function readHeaderSpan(r) {
  const h = r.span(() => readHeader(r));
  return { ...h.value, raw: h.raw };
}

export function readCertified(r) {
  const header = readHeaderSpan(r);
  const certificate = readCertificate(r);
  const setChanges = r.seq(() => {
    const changeHeader = readHeaderSpan(r);
    const changeCertificate = readCertificate(r);
    const next = r.span(() => readValidatorSet(r));
    return { header: changeHeader, certificate: changeCertificate, next: next.value, nextRaw: next.raw };
  }, 1024);
  return { header, certificate, setChanges };
}

/** A presentation (tag 0x50) or evidence receipt (0x52). */
export function readProof(r) {
  const tag = r.u8();
  if (tag !== 0x50 && tag !== 0x52) throw new Error(`leading tag ${tag}`);
  const record = r.span(() => (tag === 0x50 ? readLicence(r) : readEvidence(r)));
  const proof = readStateProof(r);
  const certified = readCertified(r);
  return { kind: tag === 0x50 ? 'presentation' : 'receipt', record: record.value, recordRaw: record.raw, proof, certified };
}

// ---------------------------------------------------------------------------------------------
// Ledger hashes

export function validatorSetHash(suite, raw) {
  return taggedHash(suite, 'lichen/validator-set/v1', raw);
}

export function headerHash(suite, raw) {
  return taggedHash(suite, 'lichen/header/v1', raw);
}

/** `H("lichen/state-key/v1", u8(kind) || id)`: kind 6 a licence (string id), 7 evidence. */
export function licenceKey(suite, id) {
  return taggedHash(suite, 'lichen/state-key/v1', u8(6), lenPrefixed(utf8(id)));
}

export function evidenceKey(suite, hash) {
  return taggedHash(suite, 'lichen/state-key/v1', u8(7), hash);
}

export function valueHash(suite, value) {
  return taggedHash(suite, 'lichen/smt/value/v1', value);
}

/** RFC 6962-shaped root over witness hashes (PROTOCOL.md, Blocks). */
export function txRoot(suite, leaves) {
  if (leaves.length === 0) return ZERO;
  if (leaves.length === 1) return taggedHash(suite, 'lichen/tx-root/leaf/v1', leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return taggedHash(
    suite,
    'lichen/tx-root/node/v1',
    txRoot(suite, leaves.slice(0, k)),
    txRoot(suite, leaves.slice(k)),
  );
}

export function holderCommitment(suite, salt, holderId) {
  return taggedHash(suite, 'lichen/holder-commitment/v1', salt, lenPrefixed(utf8(holderId)));
}

/** `Vote{kind, chain_id, genesis_hash, height, view, block_hash}` encoded. */
export function encodeVote(kind, chainId, genesisHash, height, view, blockHash) {
  if (genesisHash.length !== 32) throw new Error('genesis hash is not 32 bytes');
  return concat(u8(kind), lenPrefixed(utf8(chainId)), genesisHash, u64(height), u64(view), blockHash);
}

function bit(key, i) {
  return (key[i >> 3] & (0x80 >> (i & 7))) !== 0;
}

/** Checks a state proof: `key` has `value` (bytes) under `root`, or is absent when value is null. */
export function stateProofHolds(suite, proof, root, key, value) {
  const depth = proof.siblings.length;
  const { leaf } = proof;
  if (leaf) {
    for (let i = 0; i < depth; i++) if (bit(leaf.key, i) !== bit(key, i)) return false;
  }
  let h = leaf ? taggedHash(suite, 'lichen/smt/leaf/v1', leaf.key, leaf.valueHash) : ZERO;
  for (let i = depth - 1; i >= 0; i--) {
    const s = proof.siblings[i];
    h = bit(key, i)
      ? taggedHash(suite, 'lichen/smt/node/v1', s, h)
      : taggedHash(suite, 'lichen/smt/node/v1', h, s);
  }
  if (!equal(h, root)) return false;
  if (value === null) return !leaf || !equal(leaf.key, key);
  return leaf !== null && equal(leaf.key, key) && equal(leaf.valueHash, valueHash(suite, value));
}

export function quorum(n) {
  return Math.floor((2 * n) / 3) + 1;
}

/**
 * Whether `certificate` finalises `header` under `set` on the chain (`chainId`, `genesisHash`)
 * (PROTOCOL.md, Votes and commit certificates): the votes sign the genesis hash, so a certificate
 * of another genesis with the same chain id and keys does not verify. Returns the number of
 * signatures it verified, or throws with the reason.
 */
export function checkCertificate(suite, chainId, genesisHash, header, certificate, set, setRaw) {
  if (header.chainId !== chainId) throw new Error('header of another chain');
  const blockHash = headerHash(suite, header.raw);
  if (certificate.height !== header.height || !equal(certificate.blockHash, blockHash)) {
    throw new Error('certificate is for another header');
  }
  if (!equal(header.validatorSetHash, validatorSetHash(suite, setRaw))) {
    throw new Error('header names another validator set');
  }
  const vote = encodeVote(2, chainId, genesisHash, certificate.height, certificate.view, blockHash);
  const digest = taggedHash(suite, 'lichen/vote/v1', vote);
  let previous = -1;
  for (const { index, signature } of certificate.signatures) {
    if (index <= previous) throw new Error('signer indices do not strictly increase');
    if (index >= set.length) throw new Error('signer index outside the set');
    if (!verifySignature(set[index].key, digest, signature.algo, signature.sig)) {
      throw new Error(`signature of validator ${index} does not verify`);
    }
    previous = index;
  }
  if (certificate.signatures.length < quorum(set.length)) throw new Error('below quorum');
  return certificate.signatures.length;
}

/**
 * Checks 1-6 of PROTOCOL.md "Verifying a presentation" (and the receipt variant): returns the
 * name of the first check that fails, or null when all pass. Status, validity window and
 * freshness are the Rust verifier's; the golden verdicts cover them.
 */
export function firstFailedCheck(suite, anchor, bytes, documentBytes) {
  let p;
  try {
    p = decodeAll(bytes, readProof);
  } catch {
    return 'encoding';
  }
  const { header, certificate, setChanges } = p.certified;
  if (header.chainId !== anchor.chainId) return 'chain';
  // The signing set: follow the set changes from the anchor.
  let set = anchor.validators;
  let setRaw = anchor.validatorsRaw;
  try {
    if (header.height <= anchor.height) throw new Error('header before the anchor');
    let previous = anchor.height;
    for (const change of setChanges) {
      const h = change.header;
      if (h.height <= previous || h.height >= header.height) throw new Error('out of order');
      checkCertificate(suite, anchor.chainId, anchor.genesisHash, h, change.certificate, set, setRaw);
      if (equal(h.validatorSetHash, h.nextValidatorSetHash)) throw new Error('no set change');
      if (!equal(validatorSetHash(suite, change.nextRaw), h.nextValidatorSetHash)) {
        throw new Error('next set hash');
      }
      set = change.next;
      setRaw = change.nextRaw;
      previous = h.height;
    }
    if (!equal(header.validatorSetHash, validatorSetHash(suite, setRaw))) {
      throw new Error('a set change is missing');
    }
  } catch {
    return 'validator_set';
  }
  try {
    checkCertificate(suite, anchor.chainId, anchor.genesisHash, header, certificate, set, setRaw);
  } catch {
    return 'quorum';
  }
  const key =
    p.kind === 'presentation' ? licenceKey(suite, p.record.draft.id) : evidenceKey(suite, p.record.hash);
  if (!stateProofHolds(suite, p.proof, header.stateRoot, key, p.recordRaw)) return 'state_proof';
  if (documentBytes !== undefined) {
    const recorded = p.kind === 'presentation' ? p.record.draft.documentHash : p.record.hash;
    if (!equal(suite.digest(documentBytes), recorded)) return 'document_hash';
  }
  return null;
}
