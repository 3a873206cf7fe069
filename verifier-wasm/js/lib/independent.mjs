// An independent JavaScript reading of PROTOCOL.md: the canonical decoding of the objects in the
// golden vectors, tagged hashes with sm-crypto's SM3 or @noble/hashes' SHA-256, signatures with
// sm-crypto's SM2 or @noble/curves' Ed25519, state proofs, checks 1-6 of presentation and
// receipt verification, and trust packages (revocation region, tree levels, the moved anchor) with
// checks 1-10 of full and compact presentations verified with one, trust-package deltas applied
// to their base package, and the desk rules (the expected kind, the holder check). It shares no
// code with the Rust verifier: the tests compare the two.
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

// Safe text (PROTOCOL.md, Verifying at a desk): a chain id is an identifier wherever it appears;
// status reasons, reasons and evidence labels hold no control character (Unicode category Cc).
const IDENTIFIER = /^[A-Za-z0-9._:/-]{1,64}$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A chain id: a string that must be an identifier. */
function readChainId(r) {
  const chainId = r.str(64);
  if (!IDENTIFIER.test(chainId)) throw new Error('chain id is not an identifier');
  return chainId;
}

/** A reason or an evidence label: at most 512 bytes, no control character. */
function readSafeText(r, what) {
  const text = r.str(512);
  if (CONTROL.test(text)) throw new Error(`${what} holds a control character`);
  return text;
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
  const chainId = readChainId(r);
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

function readLicenceStatus(r) {
  const status = r.u8();
  if (status > 3) throw new Error(`licence status ${status}`);
  return status;
}

export function readLicence(r) {
  return {
    draft: readDraft(r),
    status: readLicenceStatus(r),
    statusReason: readSafeText(r, 'status reason'),
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
    label: readSafeText(r, 'label'),
    height: r.u64(),
    timeMs: r.u64(),
    txId: r.hash(),
  };
}

/** A transaction with the payloads the golden files hold (issue, status changes, evidence). */
export function readTransaction(r) {
  const chainId = readChainId(r);
  const nonce = r.u64();
  const expiresAtHeight = r.u64();
  const tag = r.u8();
  let payload;
  if (tag === 20) payload = { kind: 'issue', draft: readDraft(r) };
  else if (tag >= 21 && tag <= 23) payload = { kind: 'status', id: r.str(128), reason: readSafeText(r, 'reason') };
  else if (tag === 30) payload = { kind: 'anchor', hash: r.hash(), submitter: r.str(64), label: readSafeText(r, 'label') };
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
    chainId: readChainId(r),
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
    chainId: readChainId(r),
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

function readCertificateSpan(r) {
  const c = r.span(() => readCertificate(r));
  return { ...c.value, raw: c.raw };
}

/** `seq<SetChange>` (at most 1024), each with its exact bytes in `raw`. */
function readSetChanges(r) {
  return r.seq(() => {
    const from = r.i;
    const changeHeader = readHeaderSpan(r);
    const changeCertificate = readCertificate(r);
    const next = r.span(() => readValidatorSet(r));
    return { header: changeHeader, certificate: changeCertificate, next: next.value, nextRaw: next.raw, raw: r.b.subarray(from, r.i) };
  }, 1024);
}

export function readCertified(r) {
  const header = readHeaderSpan(r);
  const certificate = readCertificateSpan(r);
  const setChanges = readSetChanges(r);
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

export const SENTINEL_KEY = concat(new Uint8Array(2), new Uint8Array(30).fill(0xff));

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function strictlyIncreasing(list) {
  return list.every((x, i) => i === 0 || compareBytes(list[i - 1], x) < 0);
}

/** `region_siblings`: `bitmap u16` (bit i = mask 0x8000 >> i), then the non-ZERO siblings. */
function readRegionSiblings(r) {
  const bitmap = r.u16();
  return Array.from({ length: 16 }, (_, i) => {
    if (!(bitmap & (0x8000 >> i))) return ZERO;
    const s = r.hash();
    if (equal(s, ZERO)) throw new Error('a present region sibling is ZERO');
    return s;
  });
}

function readLevels(r) {
  const depth = r.u8();
  if (depth > 16) throw new Error(`levels depth ${depth} above 16`);
  if (depth === 0) return { depth, nodes: [] };
  const n = 2 ** depth;
  const present = r.take(Math.ceil(n / 8));
  const multi = r.take(Math.ceil(n / 8));
  const on = (bits, j) => (bits[j >> 3] & (0x80 >> (j & 7))) !== 0;
  for (let j = n; j < present.length * 8; j++) {
    if (on(present, j) || on(multi, j)) throw new Error('a levels bit past 2^k is set');
  }
  const nodes = [];
  for (let j = 0; j < n; j++) {
    if (on(multi, j) && !on(present, j)) throw new Error(`level node ${j} is multi but absent`);
    nodes.push({ present: on(present, j), multi: on(multi, j), hash: null });
  }
  for (const node of nodes) {
    if (!node.present) continue;
    node.hash = r.hash();
    if (equal(node.hash, ZERO)) throw new Error('a present level node is ZERO');
  }
  return { depth, nodes };
}

/** `chain_id string`, `suite u8`, `genesis_hash Hash32`: the head of a package or a delta. */
function readChainHead(r) {
  const chainId = readChainId(r);
  const suite = r.u8();
  if (suite !== 1 && suite !== 2) throw new Error(`unknown suite ${suite}`);
  const genesisHash = r.hash();
  return { chainId, suite, genesisHash };
}

/** `u32` count (at most 2^20) of `tag(16) || status u8`, tags strictly increasing; status in [lo, 3]. */
function readMarkList(r, lo) {
  const marks = r.seq(() => {
    const tag = r.take(16);
    const status = r.u8();
    if (status < lo || status > 3) throw new Error(`mark status ${status}`);
    return { tag, status };
  }, 2 ** 20);
  if (!strictlyIncreasing(marks.map((m) => m.tag))) throw new Error('mark tags do not strictly increase');
  return marks;
}

/** `TrustPackage` (tag 0x54) with every decoding rule of PROTOCOL.md, Trust packages. */
export function readTrustPackage(r) {
  if (r.b.length > 24 * 1024 * 1024) throw new Error('trust package above 24 MiB');
  if (r.u8() !== 0x54) throw new Error('not a trust package');
  const { chainId, suite, genesisHash } = readChainHead(r);
  const checkpoint = readCertified(r);
  const regionSiblings = readRegionSiblings(r);
  const marks = readMarkList(r, 1);
  const foreign = readForeign(r);
  const levels = readLevels(r);
  return { chainId, suite, genesisHash, checkpoint, regionSiblings, marks, foreign, levels };
}

/** `foreign`: at most 65,536 region leaves, keys strictly increasing, none a mark's or the sentinel's. */
function readForeign(r) {
  const foreign = r.seq(() => {
    const key = r.hash();
    const valueHash = r.hash();
    if (key[0] !== 0 || key[1] !== 0) throw new Error('a foreign key outside the region');
    if (key.subarray(18).every((b) => b === 0)) throw new Error('a foreign key shaped like a mark key');
    if (equal(key, SENTINEL_KEY)) throw new Error("a foreign key is the sentinel's");
    return { key, valueHash };
  }, 65536);
  if (!strictlyIncreasing(foreign.map((f) => f.key))) throw new Error('foreign keys do not strictly increase');
  return foreign;
}

/**
 * A delta's `levels`: `u8 0` then at most 65,536 changed nodes `index u32 || u8 keys (0 none,
 * 1 one, 2 many) || hash(32) unless none`, indices strictly increasing; or `u8 1` then a full
 * `levels` field.
 */
function readLevelChanges(r) {
  const tag = r.u8();
  if (tag === 1) return { full: readLevels(r) };
  if (tag !== 0) throw new Error(`delta levels tag ${tag}`);
  const changed = r.seq(() => {
    const index = r.u32();
    const keys = r.u8();
    if (keys === 0) return { index, node: { present: false, multi: false, hash: null } };
    if (keys !== 1 && keys !== 2) throw new Error(`changed level node keys byte ${keys}`);
    return { index, node: { present: true, multi: keys === 2, hash: r.hash() } };
  }, 65536);
  if (!changed.every((c, i) => i === 0 || changed[i - 1].index < c.index)) {
    throw new Error('changed level node indices do not strictly increase');
  }
  return { changed };
}

/** `TrustDelta` (tag 0x64) with every decoding rule of PROTOCOL.md, Trust packages, Deltas. */
export function readTrustDelta(r) {
  if (r.u8() !== 0x64) throw new Error('not a trust delta');
  const { chainId, suite, genesisHash } = readChainHead(r);
  const baseHeight = r.u64();
  const baseHash = r.hash();
  const header = readHeaderSpan(r);
  const certificate = readCertificateSpan(r);
  const setChanges = readSetChanges(r);
  const regionSiblings = readRegionSiblings(r);
  const markChanges = readMarkList(r, 0);
  const foreign = readForeign(r);
  const levels = readLevelChanges(r);
  return { chainId, suite, genesisHash, baseHeight, baseHash, header, certificate, setChanges, regionSiblings, markChanges, foreign, levels };
}

/** `CompactPresentation` (tag 0x43): checkpoint height, licence, `CompactProof`. */
export function readCompactPresentation(r) {
  if (r.u8() !== 0x43) throw new Error('not a compact presentation');
  const checkpointHeight = r.u64();
  const record = r.span(() => readLicence(r));
  const top = r.u8();
  const depth = r.u16();
  if (top > depth || depth > 256) throw new Error(`compact proof top ${top}, depth ${depth}`);
  const n = depth - top;
  const bitmap = r.take(Math.ceil(n / 8));
  for (let i = n; i < bitmap.length * 8; i++) {
    if (bitmap[i >> 3] & (0x80 >> (i & 7))) throw new Error('bitmap bit beyond depth - top');
  }
  const siblings = []; // siblings[i] is sibling top + i
  for (let i = 0; i < n; i++) {
    if (bitmap[i >> 3] & (0x80 >> (i & 7))) {
      const s = r.hash();
      if (equal(s, ZERO)) throw new Error('a present sibling is ZERO');
      siblings.push(s);
    } else {
      siblings.push(ZERO);
    }
  }
  return { checkpointHeight, record: record.value, recordRaw: record.raw, top, depth, siblings };
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
 * The signing set of `certified.header` from `anchor` (PROTOCOL.md, Trust anchors and
 * validator-set changes): set changes at or below the anchor's height are skipped. Returns
 * `{ set, setRaw, last }` (`last` the height of the last change applied, else the anchor's), or
 * throws with the reason.
 */
export function signingSet(suite, anchor, certified) {
  const { header, setChanges } = certified;
  let set = anchor.validators;
  let setRaw = anchor.validatorsRaw;
  if (header.height <= anchor.height) throw new Error('header at or before the anchor');
  let previous = anchor.height;
  for (const change of setChanges) {
    const h = change.header;
    if (h.height <= anchor.height) continue; // the anchor already knows it
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
  return { set, setRaw, last: previous };
}

/**
 * Checks 1-6 of PROTOCOL.md "Verifying a presentation" (and the receipt variant): returns the
 * name of the first check that fails, or null when all pass. Status, validity window and
 * freshness are the Rust verifier's; the golden verdicts cover them (and `verifyPresentation`
 * below checks them too).
 */
export function firstFailedCheck(suite, anchor, bytes, documentBytes) {
  let p;
  try {
    p = decodeAll(bytes, readProof);
  } catch {
    return 'encoding';
  }
  const { header, certificate } = p.certified;
  if (header.chainId !== anchor.chainId) return 'chain';
  let signing;
  try {
    signing = signingSet(suite, anchor, p.certified);
  } catch {
    return 'validator_set';
  }
  try {
    checkCertificate(suite, anchor.chainId, anchor.genesisHash, header, certificate, signing.set, signing.setRaw);
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

// ---------------------------------------------------------------------------------------------
// Trust packages (PROTOCOL.md, Revocation region and Trust packages)

function leafHash(suite, key, vh) {
  return taggedHash(suite, 'lichen/smt/leaf/v1', key, vh);
}

function nodeHash(suite, left, right) {
  return taggedHash(suite, 'lichen/smt/node/v1', left, right);
}

/** `subtree(L, d)` of the region over leaves `{ key, valueHash }` with distinct keys. */
export function regionHash(suite, leaves, d = 16) {
  if (leaves.length === 0) return ZERO;
  if (leaves.length === 1) return leafHash(suite, leaves[0].key, leaves[0].valueHash);
  const left = leaves.filter((l) => !bit(l.key, d));
  const right = leaves.filter((l) => bit(l.key, d));
  return nodeHash(suite, regionHash(suite, left, d + 1), regionHash(suite, right, d + 1));
}

/** The region's hash folded to the root with `s[0..16)`; a lone leaf rises past ZERO siblings. */
export function regionRoot(suite, leaves, siblings) {
  let h = regionHash(suite, leaves);
  let lone = leaves.length === 1;
  for (let i = 15; i >= 0; i--) {
    if (lone && equal(siblings[i], ZERO)) continue;
    h = nodeHash(suite, h, siblings[i]);
    lone = false;
  }
  return h;
}

/** Step 5: the level nodes folded pairwise to one `{ present, multi, hash }`. */
export function foldLevels(suite, nodes) {
  let level = nodes;
  while (level.length > 1) {
    const next = [];
    for (let m = 0; m < level.length; m += 2) {
      const [l, r] = [level[m], level[m + 1]];
      if (!l.present && !r.present) next.push({ present: false, multi: false, hash: null });
      else if (!l.present && r.present && !r.multi) next.push(r);
      else if (!r.present && l.present && !l.multi) next.push(l);
      else next.push({ present: true, multi: true, hash: nodeHash(suite, l.hash ?? ZERO, r.hash ?? ZERO) });
    }
    level = next;
  }
  return level[0];
}

/** A revocation mark's tag: the first 16 bytes of `H("lichen/revocation-mark/v1", string(id))`. */
export function markTag(suite, licenceId) {
  return taggedHash(suite, 'lichen/revocation-mark/v1', lenPrefixed(utf8(licenceId))).subarray(0, 16);
}

/**
 * Verifies a trust package against the genesis anchor (steps 1-5). Returns `{ error, reason }`
 * (error: encoding, chain, checkpoint, region or levels) or `{ package }`: the moved anchor,
 * L, the checkpoint's height `c`, time and state root, the marks (hex tag -> status), the
 * levels, the fingerprint and the revocation counts.
 */
export function verifyTrustPackage(suite, anchor, bytes) {
  let p;
  try {
    p = decodeAll(bytes, readTrustPackage);
  } catch (e) {
    return { error: 'encoding', reason: e.message };
  }
  if (p.chainId !== anchor.chainId || p.suite !== anchor.suite || !equal(p.genesisHash, anchor.genesisHash)) {
    return { error: 'chain', reason: 'chain id, suite or genesis hash differs from the anchor' };
  }
  const x = p.checkpoint.header;
  if (!equal(x.validatorSetHash, x.nextValidatorSetHash)) {
    return { error: 'checkpoint', reason: 'the checkpoint header changes the validator set' };
  }
  let signing;
  try {
    signing = signingSet(suite, anchor, p.checkpoint);
    checkCertificate(suite, anchor.chainId, anchor.genesisHash, x, p.checkpoint.certificate, signing.set, signing.setRaw);
  } catch (e) {
    return { error: 'checkpoint', reason: e.message };
  }
  const leaves = [
    { key: SENTINEL_KEY, valueHash: valueHash(suite, u8(1)) },
    ...p.marks.map((m) => ({ key: concat(new Uint8Array(2), m.tag, new Uint8Array(14)), valueHash: valueHash(suite, u8(m.status)) })),
    ...p.foreign,
  ];
  if (new Set(leaves.map((l) => toHex(l.key))).size !== leaves.length) {
    return { error: 'region', reason: 'region leaves repeat a key' };
  }
  if (!equal(regionRoot(suite, leaves, p.regionSiblings), x.stateRoot)) {
    return { error: 'region', reason: "the region does not fold to the checkpoint's state root" };
  }
  if (p.levels.depth > 0) {
    const root = foldLevels(suite, p.levels.nodes);
    if (!root.present || !equal(root.hash, x.stateRoot)) {
      return { error: 'levels', reason: "the level nodes do not fold to the checkpoint's state root" };
    }
  }
  const names = { 1: 'suspended', 2: 'revoked', 3: 'superseded' };
  const revocations = { suspended: 0, revoked: 0, superseded: 0 };
  for (const m of p.marks) revocations[names[m.status]]++;
  return {
    package: {
      anchor: { ...anchor, height: signing.last, validators: signing.set, validatorsRaw: signing.setRaw },
      anchorHeight: signing.last,
      checkpointHeight: x.height,
      checkpointTime: x.timeMs,
      stateRoot: x.stateRoot,
      marks: new Map(p.marks.map((m) => [toHex(m.tag), m.status])),
      levels: p.levels,
      hash: taggedHash(suite, 'lichen/trust-package/v1', bytes),
      revocations,
    },
  };
}

function encodeRegionSiblings(siblings) {
  let bitmap = 0;
  const present = [];
  siblings.forEach((s, i) => {
    if (!equal(s, ZERO)) {
      bitmap |= 0x8000 >> i;
      present.push(s);
    }
  });
  return concat(Uint8Array.of(bitmap >> 8, bitmap & 0xff), ...present);
}

function encodeLevels(levels) {
  if (levels.depth === 0) return u8(0);
  const nb = Math.ceil(2 ** levels.depth / 8);
  const present = new Uint8Array(nb);
  const multi = new Uint8Array(nb);
  const hashes = [];
  levels.nodes.forEach((node, j) => {
    if (node.present) {
      present[j >> 3] |= 0x80 >> (j & 7);
      hashes.push(node.hash);
    }
    if (node.multi) multi[j >> 3] |= 0x80 >> (j & 7);
  });
  return concat(u8(levels.depth), present, multi, ...hashes);
}

/** The `TrustPackage` encoding of a decoded (or rebuilt) package. */
export function encodeTrustPackage(p) {
  const cp = p.checkpoint;
  return concat(
    u8(0x54),
    lenPrefixed(utf8(p.chainId)),
    u8(p.suite),
    p.genesisHash,
    cp.header.raw,
    cp.certificate.raw,
    u32(cp.setChanges.length),
    ...cp.setChanges.map((c) => c.raw),
    encodeRegionSiblings(p.regionSiblings),
    u32(p.marks.length),
    ...p.marks.map((m) => concat(m.tag, u8(m.status))),
    u32(p.foreign.length),
    ...p.foreign.map((f) => concat(f.key, f.valueHash)),
    encodeLevels(p.levels),
  );
}

/**
 * Applies a `TrustDelta` to the base package (PROTOCOL.md, Trust packages, Deltas). Returns
 * `{ bytes }` (the full package's encoding, still to be verified with verifyTrustPackage) or
 * `{ error, reason }`: `encoding` when either does not decode, `checkpoint` with reason
 * "wrong base" when the delta names another base.
 */
export function applyTrustDelta(suite, baseBytes, deltaBytes) {
  let d;
  let p;
  try {
    d = decodeAll(deltaBytes, readTrustDelta);
  } catch (e) {
    return { error: 'encoding', reason: `delta: ${e.message}` };
  }
  try {
    p = decodeAll(baseBytes, readTrustPackage);
  } catch (e) {
    return { error: 'encoding', reason: `base package: ${e.message}` };
  }
  const x = p.checkpoint.header;
  if (
    d.chainId !== p.chainId ||
    d.suite !== p.suite ||
    !equal(d.genesisHash, p.genesisHash) ||
    d.baseHeight !== x.height ||
    !equal(d.baseHash, headerHash(suite, x.raw))
  ) {
    return { error: 'checkpoint', reason: 'wrong base' };
  }
  const marks = new Map(p.marks.map((m) => [toHex(m.tag), m]));
  for (const c of d.markChanges) {
    if (c.status === 0) marks.delete(toHex(c.tag)); // removing an absent mark: nothing to remove
    else marks.set(toHex(c.tag), c);
  }
  let levels;
  if (d.levels.full) {
    levels = d.levels.full;
  } else {
    const nodes = [...p.levels.nodes];
    for (const c of d.levels.changed) {
      if (c.index >= nodes.length) {
        return { error: 'levels', reason: `changed level node ${c.index} outside depth ${p.levels.depth}` };
      }
      nodes[c.index] = c.node;
    }
    levels = { depth: p.levels.depth, nodes };
  }
  const bytes = encodeTrustPackage({
    chainId: p.chainId,
    suite: p.suite,
    genesisHash: p.genesisHash,
    checkpoint: { header: d.header, certificate: d.certificate, setChanges: [...p.checkpoint.setChanges, ...d.setChanges] },
    regionSiblings: d.regionSiblings,
    marks: [...marks.values()].sort((a, b) => compareBytes(a.tag, b.tag)),
    foreign: d.foreign,
    levels,
  });
  return { bytes };
}

// ---------------------------------------------------------------------------------------------
// Checks 1-10 of a presentation, with a verified package or without

const EARLY = ['encoding', 'chain', 'validator_set', 'quorum', 'state_proof', 'document_hash'];
const STATUS_VERDICT = { 1: 'SUSPENDED', 2: 'REVOKED', 3: 'SUPERSEDED' };
// The verdict order of PROTOCOL.md, "Verifying a presentation" (WRONG KIND and HOLDER MISMATCH
// arise only at a desk).
const SEVERITY = [
  'TAMPERED',
  'UNKNOWN ISSUER',
  'WRONG KIND',
  'HOLDER MISMATCH',
  'REVOKED',
  'SUPERSEDED',
  'SUSPENDED',
  'EXPIRED',
  'NOT YET VALID',
  'STALE PROOF',
];

/** Checks 7-10; `status` as of `statusTime` (BigInt ms). Returns `{ verdict, failed }`. */
function laterChecks(licence, status, statusTime, nowMs, proofAgeMaxMs) {
  const outcomes = [];
  const failed = [];
  if (status !== 0) {
    outcomes.push(STATUS_VERDICT[status]);
    failed.push('status');
  }
  const { validFrom, validUntil } = licence.draft;
  if (validFrom > nowMs) {
    outcomes.push('NOT YET VALID');
    failed.push('validity_window');
  } else if (validUntil !== null && nowMs >= validUntil) {
    outcomes.push('EXPIRED');
    failed.push('validity_window');
  }
  const age = nowMs > statusTime ? nowMs - statusTime : 0n;
  if (age > proofAgeMaxMs) {
    outcomes.push('STALE PROOF');
    failed.push('freshness');
  }
  return { verdict: SEVERITY.find((v) => outcomes.includes(v)) ?? 'VALID', failed };
}

/**
 * Verifies a presentation (tag 0x50) or, with a package, a compact presentation (0x43): checks
 * 1-10 of PROTOCOL.md, with the "Verifying with a package" differences when `pkg` (the `package`
 * of `verifyTrustPackage`) is given. Returns `{ verdict, failed }`, `failed` the names of the
 * checks that failed (at most one of checks 1-6, where verification stops).
 */
export function verifyPresentation(suite, anchor, bytes, documentBytes, nowMs, proofAgeMaxMs, pkg = null) {
  const now = BigInt(nowMs);
  const maxAge = BigInt(proofAgeMaxMs);
  const fail = (check, verdict) => ({ verdict, failed: [check] });
  if (bytes[0] === 0x43) {
    let c;
    try {
      c = decodeAll(bytes, readCompactPresentation);
    } catch {
      return fail('encoding', 'TAMPERED');
    }
    if (pkg === null) return fail('chain', 'UNKNOWN ISSUER');
    if (c.checkpointHeight !== pkg.checkpointHeight || c.top !== pkg.levels.depth) {
      return fail('validator_set', 'UNKNOWN ISSUER');
    }
    // quorum: the package's certificate was checked when it was loaded.
    const key = licenceKey(suite, c.record.draft.id);
    let h = leafHash(suite, key, valueHash(suite, c.recordRaw));
    for (let i = c.depth - 1; i >= c.top; i--) {
      const s = c.siblings[i - c.top];
      h = bit(key, i) ? nodeHash(suite, s, h) : nodeHash(suite, h, s);
    }
    let expected = pkg.stateRoot;
    if (c.top > 0) {
      let j = 0;
      for (let i = 0; i < c.top; i++) j = j * 2 + (bit(key, i) ? 1 : 0);
      const node = pkg.levels.nodes[j];
      expected = node.present ? node.hash : null;
    }
    if (expected === null || !equal(h, expected)) return fail('state_proof', 'TAMPERED');
    if (documentBytes !== undefined && !equal(suite.digest(documentBytes), c.record.draft.documentHash)) {
      return fail('document_hash', 'TAMPERED');
    }
    const status = pkg.marks.get(toHex(markTag(suite, c.record.draft.id))) ?? 0;
    return laterChecks(c.record, status, pkg.checkpointTime, now, maxAge);
  }
  if (bytes[0] !== 0x50) return fail('encoding', 'TAMPERED'); // not a presentation (a receipt, say)
  const check = firstFailedCheck(suite, pkg === null ? anchor : pkg.anchor, bytes, documentBytes);
  if (check !== null) return fail(check, earlyVerdict(suite, bytes, check));
  const p = decodeAll(bytes, readProof);
  const { header } = p.certified;
  if (pkg !== null && header.height <= pkg.checkpointHeight) {
    const status = pkg.marks.get(toHex(markTag(suite, p.record.draft.id))) ?? 0;
    const time = header.timeMs > pkg.checkpointTime ? header.timeMs : pkg.checkpointTime;
    return laterChecks(p.record, status, time, now, maxAge);
  }
  return laterChecks(p.record, p.record.status, header.timeMs, now, maxAge);
}

/** The verdict of a failure of checks 1-6 (PROTOCOL.md, Verifying a presentation). */
function earlyVerdict(suite, bytes, check) {
  if (check === 'chain' || check === 'validator_set') return 'UNKNOWN ISSUER';
  if (check !== 'quorum') return 'TAMPERED';
  // Check 4: TAMPERED only when the certificate names another height or block hash.
  const { header, certificate } = decodeAll(bytes, readProof).certified;
  const sameHeader = certificate.height === header.height && equal(certificate.blockHash, headerHash(suite, header.raw));
  return sameHeader ? 'UNKNOWN ISSUER' : 'TAMPERED';
}

/**
 * Verifies an evidence receipt (tag 0x52): checks 1-6, key `H(state-key, 7 || hash)`, the
 * document against `evidence.hash`. With `pkg`, checks 2-4 use its moved anchor, as for a
 * presentation. Returns `{ verdict: 'ANCHORED' | the failure's, failed }`.
 */
export function verifyReceipt(suite, anchor, bytes, documentBytes, pkg = null) {
  if (bytes[0] !== 0x52) return { verdict: 'TAMPERED', failed: ['encoding'] };
  const check = firstFailedCheck(suite, pkg === null ? anchor : pkg.anchor, bytes, documentBytes);
  if (check !== null) return { verdict: earlyVerdict(suite, bytes, check), failed: [check] };
  return { verdict: 'ANCHORED', failed: [] };
}

/** A proof's kind is its leading byte: 0x52 evidence, anything else a licence. */
export function proofKind(bytes) {
  return bytes[0] === 0x52 ? 'evidence' : 'licence';
}

/**
 * PROTOCOL.md, "Verifying at a desk". `expect` ('licence', 'evidence' or null) adds a leading
 * `kind` check: a proof of the other kind is WRONG KIND (unless something more serious applies).
 * `holderId` (text) and `holderSalt` (32 bytes) add a `holder` check after `document_hash`, run
 * only when checks 1-6 passed: the record's holder commitment must open with them, else HOLDER
 * MISMATCH, and checks 7-10 still run (a receipt names no holder, so the check fails for one).
 * Returns `{ verdict, failed, holderChecked }`, `failed` every failing check in report order.
 */
export function verifyAtDesk(suite, anchor, bytes, documentBytes, nowMs, proofAgeMaxMs, desk = {}, pkg = null) {
  const { expect = null, holderId = null, holderSalt = null } = desk;
  if ((holderId === null) !== (holderSalt === null)) throw new Error('a holder id goes with a salt');
  if (holderSalt !== null && holderSalt.length !== 32) throw new Error('the holder salt is 32 bytes');
  const kind = proofKind(bytes);
  const base =
    kind === 'evidence'
      ? verifyReceipt(suite, anchor, bytes, documentBytes, pkg)
      : verifyPresentation(suite, anchor, bytes, documentBytes, nowMs, proofAgeMaxMs, pkg);
  const outcomes = base.verdict === 'VALID' || base.verdict === 'ANCHORED' ? [] : [base.verdict];
  const early = base.failed.filter((c) => EARLY.includes(c));
  const later = base.failed.filter((c) => !EARLY.includes(c));
  const failed = [];
  if (expect !== null && kind !== expect) {
    failed.push('kind');
    outcomes.push('WRONG KIND');
  }
  failed.push(...early);
  let holderChecked = false;
  if (holderId !== null && early.length === 0) {
    let opens = false;
    if (kind === 'licence') {
      const record =
        bytes[0] === 0x43 ? decodeAll(bytes, readCompactPresentation).record : decodeAll(bytes, readProof).record;
      opens = equal(holderCommitment(suite, holderSalt, holderId), record.draft.holderCommitment);
      holderChecked = true;
    }
    if (!opens) {
      failed.push('holder');
      outcomes.push('HOLDER MISMATCH');
    }
  }
  failed.push(...later);
  const verdict = SEVERITY.find((v) => outcomes.includes(v)) ?? (kind === 'evidence' ? 'ANCHORED' : 'VALID');
  return { verdict, failed, holderChecked };
}
