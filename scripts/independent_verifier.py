#!/usr/bin/env python3
"""Independent Lichen verifier, written from PROTOCOL.md alone (stdlib only).

Implements SM3, SM2 verification (GB/T 32918, default user id), Ed25519 verification
(RFC 8032, strict), the canonical decoders, state proofs, commit certificates, the
signing-set walk, the presentation / evidence-receipt verification of PROTOCOL.md, and trust
packages (revocation region, tree levels, the moved anchor) with full and compact presentations
checked against them, and trust-package deltas applied to their base package (the golden
files' trust_packages, broken_trust_packages, with_trust_package and trust_deltas sections).

Usage: python3 scripts/independent_verifier.py contracts/vectors/golden-sm.json \
           contracts/vectors/golden-intl.json
Prints one line per file and a final "N passed, M failed"; exits 1 if anything failed.
"""

import hashlib
import json
import os
import re
import struct
import sys
import unicodedata

# ----------------------------------------------------------------------------- SM3

_SM3_IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600,
           0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E)
_M32 = 0xFFFFFFFF


def _rotl(x, n):
    n &= 31
    return ((x << n) | (x >> (32 - n))) & _M32 if n else x


_SM3_TJ = [_rotl(0x79CC4519 if j < 16 else 0x7A879D8A, j % 32) for j in range(64)]


def _sm3_compress(v, block):
    w = list(struct.unpack(">16I", block))
    for j in range(16, 68):
        x = w[j - 16] ^ w[j - 9] ^ _rotl(w[j - 3], 15)
        x = x ^ _rotl(x, 15) ^ _rotl(x, 23)
        w.append(x ^ _rotl(w[j - 13], 7) ^ w[j - 6])
    a, b, c, d, e, f, g, h = v
    for j in range(64):
        a12 = _rotl(a, 12)
        ss1 = _rotl((a12 + e + _SM3_TJ[j]) & _M32, 7)
        ss2 = ss1 ^ a12
        if j < 16:
            ff = a ^ b ^ c
            gg = e ^ f ^ g
        else:
            ff = (a & b) | (a & c) | (b & c)
            gg = (e & f) | ((~e) & g)
        tt1 = (ff + d + ss2 + (w[j] ^ w[j + 4])) & _M32
        tt2 = (gg + h + ss1 + w[j]) & _M32
        d = c
        c = _rotl(b, 9)
        b = a
        a = tt1
        h = g
        g = _rotl(f, 19)
        f = e
        e = tt2 ^ _rotl(tt2, 9) ^ _rotl(tt2, 17)
    return tuple(x ^ y for x, y in zip(v, (a, b, c, d, e, f, g, h)))


def sm3(data):
    data = bytes(data)
    bitlen = len(data) * 8
    msg = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack(">Q", bitlen)
    v = _SM3_IV
    for i in range(0, len(msg), 64):
        v = _sm3_compress(v, msg[i:i + 64])
    return struct.pack(">8I", *v)


def sha256(data):
    return hashlib.sha256(data).digest()


# ----------------------------------------------------------------------------- SM2

SM2_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
SM2_A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
SM2_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
SM2_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
SM2_GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
SM2_GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
SM2_ID = b"1234567812345678"


def _j_double(pt):
    # Jacobian doubling for a = -3 (dbl-2001-b)
    x, y, z = pt
    p = SM2_P
    if z == 0 or y == 0:
        return (1, 1, 0)
    delta = z * z % p
    gamma = y * y % p
    beta = x * gamma % p
    alpha = 3 * (x - delta) * (x + delta) % p
    x3 = (alpha * alpha - 8 * beta) % p
    z3 = ((y + z) * (y + z) - gamma - delta) % p
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % p
    return (x3, y3, z3)


def _j_add(p1, p2):
    p = SM2_P
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if z1 == 0:
        return p2
    if z2 == 0:
        return p1
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    u2 = x2 * z1z1 % p
    s1 = y1 * z2 * z2z2 % p
    s2 = y2 * z1 * z1z1 % p
    if u1 == u2:
        if s1 != s2:
            return (1, 1, 0)
        return _j_double(p1)
    h = (u2 - u1) % p
    r = (s2 - s1) % p
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    y3 = (r * (v - x3) - s1 * hhh) % p
    z3 = h * z1 * z2 % p
    return (x3, y3, z3)


def _j_affine(pt):
    x, y, z = pt
    if z == 0:
        return None
    zi = pow(z, -1, SM2_P)
    zi2 = zi * zi % SM2_P
    return (x * zi2 % SM2_P, y * zi2 * zi % SM2_P)


def _j_mul(k, pt):
    acc = (1, 1, 0)
    for bit in bin(k)[2:]:
        acc = _j_double(acc)
        if bit == "1":
            acc = _j_add(acc, pt)
    return acc


def _j_shamir(k1, p1, k2, p2):
    p12 = _j_add(p1, p2)
    acc = (1, 1, 0)
    for i in range(max(k1.bit_length(), k2.bit_length()) - 1, -1, -1):
        acc = _j_double(acc)
        b1 = (k1 >> i) & 1
        b2 = (k2 >> i) & 1
        if b1 and b2:
            acc = _j_add(acc, p12)
        elif b1:
            acc = _j_add(acc, p1)
        elif b2:
            acc = _j_add(acc, p2)
    return acc


def sm2_decompress(b):
    """33-byte compressed SEC1 point -> (x, y) or None."""
    if len(b) != 33 or b[0] not in (2, 3):
        return None
    x = int.from_bytes(b[1:], "big")
    if x >= SM2_P:
        return None
    rhs = (pow(x, 3, SM2_P) + SM2_A * x + SM2_B) % SM2_P
    y = pow(rhs, (SM2_P + 1) // 4, SM2_P)  # p = 3 mod 4
    if y * y % SM2_P != rhs:
        return None
    if (y & 1) != (b[0] & 1):
        y = SM2_P - y
    if y == 0 and b[0] == 3:
        return None
    return (x, y)


def sm2_verify(pub33, msg, sig64):
    q = sm2_decompress(pub33)
    if q is None or len(sig64) != 64:
        return False
    r = int.from_bytes(sig64[:32], "big")
    s = int.from_bytes(sig64[32:], "big")
    n = SM2_N
    if not (1 <= r < n and 1 <= s < n):
        return False
    t = (r + s) % n
    if t == 0:
        return False
    c32 = lambda v: v.to_bytes(32, "big")
    za = sm3(struct.pack(">H", len(SM2_ID) * 8) + SM2_ID + c32(SM2_A) + c32(SM2_B)
             + c32(SM2_GX) + c32(SM2_GY) + c32(q[0]) + c32(q[1]))
    e = int.from_bytes(sm3(za + msg), "big")
    pt = _j_affine(_j_shamir(s, (SM2_GX, SM2_GY, 1), t, (q[0], q[1], 1)))
    if pt is None:
        return False
    return (e + pt[0]) % n == r


# ----------------------------------------------------------------------------- Ed25519

ED_P = 2 ** 255 - 19
ED_L = 2 ** 252 + 27742317777372353535851937790883648493
ED_D = -121665 * pow(121666, -1, ED_P) % ED_P
ED_D2 = 2 * ED_D % ED_P
ED_SQRTM1 = pow(2, (ED_P - 1) // 4, ED_P)
_ED_BY = 4 * pow(5, -1, ED_P) % ED_P


def _ed_add(P, Q):
    p = ED_P
    x1, y1, z1, t1 = P
    x2, y2, z2, t2 = Q
    a = (y1 - x1) * (y2 - x2) % p
    b = (y1 + x1) * (y2 + x2) % p
    c = t1 * ED_D2 * t2 % p
    d = 2 * z1 * z2 % p
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def _ed_mul(k, P):
    acc = (0, 1, 1, 0)
    for bit in bin(k)[2:]:
        acc = _ed_add(acc, acc)
        if bit == "1":
            acc = _ed_add(acc, P)
    return acc


def _ed_eq(P, Q):
    p = ED_P
    return (P[0] * Q[2] - Q[0] * P[2]) % p == 0 and (P[1] * Q[2] - Q[1] * P[2]) % p == 0


def _ed_is_identity(P):
    return P[0] % ED_P == 0 and (P[1] - P[2]) % ED_P == 0


def ed_decode(b):
    """Strict point decoding: y < p, valid x, no negative zero. Returns extended point or None."""
    if len(b) != 32:
        return None
    v = int.from_bytes(b, "little")
    sign = v >> 255
    y = v & ((1 << 255) - 1)
    if y >= ED_P:
        return None
    p = ED_P
    u = (y * y - 1) % p
    w = (ED_D * y * y + 1) % p
    x = u * pow(w, 3, p) * pow(u * pow(w, 7, p), (p - 5) // 8, p) % p
    vx2 = w * x * x % p
    if vx2 == u:
        pass
    elif vx2 == (-u) % p:
        x = x * ED_SQRTM1 % p
    else:
        return None
    if x == 0 and sign == 1:
        return None
    if (x & 1) != sign:
        x = p - x
    return (x, y, 1, x * y % p)


def _ed_xrecover_base():
    return ed_decode(_ED_BY.to_bytes(32, "little"))


ED_B = _ed_xrecover_base()


def ed_small_order(P):
    Q = _ed_add(P, P)
    Q = _ed_add(Q, Q)
    Q = _ed_add(Q, Q)
    return _ed_is_identity(Q)


def ed_pubkey_ok(b):
    A = ed_decode(b)
    return A is not None and not ed_small_order(A)


def ed25519_verify(pub32, msg, sig64):
    if len(pub32) != 32 or len(sig64) != 64:
        return False
    A = ed_decode(pub32)
    if A is None or ed_small_order(A):
        return False
    R = ed_decode(sig64[:32])
    if R is None:
        return False
    S = int.from_bytes(sig64[32:], "little")
    if S >= ED_L:
        return False
    k = int.from_bytes(hashlib.sha512(sig64[:32] + pub32 + msg).digest(), "little") % ED_L
    return _ed_eq(_ed_mul(S, ED_B), _ed_add(R, _ed_mul(k, A)))


# ----------------------------------------------------------------------------- suites

SUITES = {1: ("sm", sm3, 1), 2: ("intl", sha256, 2)}  # tag -> (name, hash, sig algo)
SUITE_BY_NAME = {"sm": 1, "intl": 2}


class Suite:
    def __init__(self, tag):
        self.tag = tag
        self.name, self.hash, self.algo = SUITES[tag]

    def H(self, tag, data):
        t = tag.encode("ascii")
        assert len(t) <= 255
        return self.hash(bytes([len(t)]) + t + data)

    def D(self, data):
        return self.hash(data)


_verify_cache = {}


def verify_sig(algo_key, key, algo_sig, sig, msg, suite_algo=None):
    """Verify a decoded PublicKey/Signature pair over msg."""
    if algo_key != algo_sig:
        return False
    if suite_algo is not None and algo_key != suite_algo:
        return False
    ck = (algo_key, key, sig, msg)
    if ck in _verify_cache:
        return _verify_cache[ck]
    if algo_key == 1:
        ok = sm2_verify(key, msg, sig)
    elif algo_key == 2:
        ok = ed25519_verify(key, msg, sig)
    else:
        ok = False
    _verify_cache[ck] = ok
    return ok


# ----------------------------------------------------------------------------- decoding

class DecodeError(Exception):
    pass


_IDENT_RE = re.compile(r"^[A-Za-z0-9._\-:/]+$")
GBT_PREFIX = "1.2.156.3005.2."


def mod37_36_check(s):
    p = 36
    for ch in s:
        if "0" <= ch <= "9":
            a = ord(ch) - 48
        elif "A" <= ch <= "Z":
            a = ord(ch) - 55
        else:
            raise ValueError(ch)
        t = (p + a) % 36
        if t == 0:
            t = 36
        p = (2 * t) % 37
    c = (37 - p) % 36
    return "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[c]


def valid_identifier(s):
    return 1 <= len(s) <= 64 and bool(_IDENT_RE.match(s))


def valid_licence_id(s):
    if not (1 <= len(s) <= 128 and _IDENT_RE.match(s)):
        return False
    if s.startswith(GBT_PREFIX):
        parts = s[len(GBT_PREFIX):].split(".")
        if len(parts) != 5:
            return False
        if any(not p or not re.fullmatch(r"[0-9A-Z]+", p) for p in parts[:4]):
            return False
        if len(parts[4]) != 1:
            return False
        return mod37_36_check("".join(parts[:4])) == parts[4]
    return True


def _has_control(s):
    return any(unicodedata.category(c) == "Cc" for c in s)


def valid_name(s):
    return 1 <= len(s.encode()) <= 256 and s.strip() != "" and not _has_control(s)


def valid_reason(s):
    return len(s.encode()) <= 512 and not _has_control(s)


class Reader:
    def __init__(self, data):
        self.b = bytes(data)
        self.i = 0

    def take(self, n):
        if n < 0 or self.i + n > len(self.b):
            raise DecodeError("input ends early at offset %d (need %d)" % (self.i, n))
        r = self.b[self.i:self.i + n]
        self.i += n
        return r

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def boolean(self):
        v = self.u8()
        if v > 1:
            raise DecodeError("bool %d" % v)
        return v == 1

    def h32(self):
        return self.take(32)

    def bytes_(self, lo, hi, what="bytes"):
        n = self.u32()
        if n > hi or n < lo:  # checked before reading
            raise DecodeError("%s length %d outside %d..%d" % (what, n, lo, hi))
        return self.take(n)

    def string(self, lo, hi, what="string", check=None):
        raw = self.bytes_(lo, hi, what)
        try:
            s = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("%s: invalid UTF-8" % what)
        if check is not None and not check(s):
            raise DecodeError("%s: invalid value %r" % (what, s))
        return s

    def ident(self, what="identifier"):
        return self.string(1, 64, what, valid_identifier)

    def licence_id(self, what="licence id"):
        return self.string(1, 128, what, valid_licence_id)

    def name(self, what="name"):
        return self.string(1, 256, what, valid_name)

    def reason(self, what="reason"):
        return self.string(0, 512, what, valid_reason)

    def seq(self, lo, hi, fn, what="seq"):
        n = self.u32()
        if n > hi or n < lo:
            raise DecodeError("%s count %d outside %d..%d" % (what, n, lo, hi))
        return [fn() for _ in range(n)]

    def option(self, fn):
        t = self.u8()
        if t == 0:
            return None
        if t == 1:
            return fn()
        raise DecodeError("option tag %d" % t)

    def slice_of(self, fn):
        start = self.i
        v = fn()
        return v, self.b[start:self.i]

    def end(self):
        if self.i != len(self.b):
            raise DecodeError("%d trailing bytes" % (len(self.b) - self.i))


def dec_public_key(r):
    start = r.i
    algo = r.u8()
    if algo == 1:
        k = r.take(33)
        if sm2_decompress(k) is None:
            raise DecodeError("SM2 public key not a compressed curve point")
    elif algo == 2:
        k = r.take(32)
        if not ed_pubkey_ok(k):
            raise DecodeError("Ed25519 public key non-canonical or small order")
    else:
        raise DecodeError("unknown key algorithm %d" % algo)
    return {"algo": algo, "key": k, "enc": r.b[start:r.i]}


def dec_signature(r):
    algo = r.u8()
    s = r.take(64)
    if algo == 1:
        rr = int.from_bytes(s[:32], "big")
        ss = int.from_bytes(s[32:], "big")
        if not (1 <= rr < SM2_N and 1 <= ss < SM2_N):
            raise DecodeError("SM2 signature r/s out of range")
    elif algo == 2:
        if int.from_bytes(s[32:], "little") >= ED_L:
            raise DecodeError("Ed25519 signature S >= L")
    else:
        raise DecodeError("unknown signature algorithm %d" % algo)
    return {"algo": algo, "sig": s}


def _strictly_increasing(xs):
    return all(a < b for a, b in zip(xs, xs[1:]))


def dec_keys(r, lo, hi, what):
    keys = r.seq(lo, hi, lambda: dec_public_key(r), what)
    if not _strictly_increasing([k["enc"] for k in keys]):
        raise DecodeError("%s not strictly increasing" % what)
    return keys


def dec_entity_status(r):
    v = r.u8()
    if v > 1:
        raise DecodeError("EntityStatus %d" % v)
    return v


def dec_agency(r):  # also Submitter
    return {"id": r.ident("agency id"), "name": r.name(), "keys": dec_keys(r, 1, 16, "keys"),
            "status": dec_entity_status(r)}


def dec_licence_type(r):
    code = r.ident("type code")
    name = r.name()
    auth = r.seq(0, 1024, lambda: r.ident("agency id"), "authorised")
    if not _strictly_increasing([a.encode() for a in auth]):
        raise DecodeError("authorised not sorted/distinct")
    return {"code": code, "name": name, "authorised": auth}


def dec_validator(r):
    return {"name": r.name("validator name"), "key": dec_public_key(r),
            "peer_id": r.bytes_(1, 64, "peer_id")}


def dec_validator_set(r):
    vs = r.seq(1, 128, lambda: dec_validator(r), "validators")
    if not _strictly_increasing([v["key"]["enc"] for v in vs]):
        raise DecodeError("validator set not strictly sorted by key")
    if len({v["peer_id"] for v in vs}) != len(vs):
        raise DecodeError("validator set repeats a peer id")
    return vs


def dec_council(r):
    members = dec_keys(r, 1, 32, "council members")
    th = r.u16()
    if not (1 <= th <= len(members)):
        raise DecodeError("council threshold %d" % th)
    return {"members": members, "threshold": th}


def dec_licence_draft(r):
    d = {"id": r.licence_id(), "licence_type": r.ident("licence type"),
         "issuer": r.ident("issuer"), "document_hash": r.h32(),
         "holder_commitment": r.h32(), "valid_from_ms": r.u64(),
         "valid_until_ms": r.option(r.u64)}
    if d["valid_until_ms"] is not None and d["valid_until_ms"] <= d["valid_from_ms"]:
        raise DecodeError("valid_until_ms not after valid_from_ms")
    return d


def dec_licence(r):
    draft = dec_licence_draft(r)
    status = r.u8()
    if status > 3:
        raise DecodeError("LicenceStatus %d" % status)
    return {"draft": draft, "status": status, "status_reason": r.reason("status_reason"),
            "supersedes": r.option(r.licence_id), "superseded_by": r.option(r.licence_id),
            "issued_height": r.u64(), "issued_time_ms": r.u64(),
            "updated_height": r.u64(), "updated_time_ms": r.u64()}


def dec_evidence(r):
    return {"hash": r.h32(), "submitter": r.ident("submitter"), "label": r.reason("label"),
            "height": r.u64(), "time_ms": r.u64(), "tx_id": r.h32()}


def dec_payload(r):
    tag = r.u8()
    if tag in (1, 6):
        return (tag, dec_agency(r))
    if tag == 2:
        return (tag, {"id": r.ident(), "name": r.option(r.name),
                      "keys": r.option(lambda: dec_keys(r, 1, 16, "keys"))})
    if tag == 3:
        return (tag, {"id": r.ident(), "status": dec_entity_status(r)})
    if tag == 4:
        return (tag, dec_licence_type(r))
    if tag == 5:
        return (tag, {"licence_type": r.ident(), "agency": r.ident(), "authorised": r.boolean()})
    if tag == 7:
        return (tag, {"id": r.ident(), "keys": r.option(lambda: dec_keys(r, 1, 16, "keys")),
                      "status": r.option(lambda: dec_entity_status(r))})
    if tag == 8:
        return (tag, dec_validator(r))
    if tag == 9:
        return (tag, dec_public_key(r))
    if tag == 10:
        return (tag, dec_council(r))
    if tag == 20:
        return (tag, dec_licence_draft(r))
    if tag in (21, 22, 23):
        return (tag, {"id": r.licence_id(), "reason": r.reason()})
    if tag == 24:
        return (tag, {"old_id": r.licence_id(), "reason": r.reason(), "new": dec_licence_draft(r)})
    if tag == 30:
        return (tag, {"hash": r.h32(), "submitter": r.ident(), "label": r.reason("label")})
    raise DecodeError("unknown payload tag %d" % tag)


def dec_transaction(r):
    return {"chain_id": r.ident("chain_id"), "nonce": r.u64(),
            "expires_at_height": r.u64(), "payload": dec_payload(r)}


def dec_tx_signature(r):
    return {"key": dec_public_key(r), "signature": dec_signature(r)}


def dec_signed_transaction(r):
    if len(r.b) - r.i > 64 * 1024:
        raise DecodeError("signed transaction above 64 KiB")
    tx, tx_bytes = r.slice_of(lambda: dec_transaction(r))
    sigs = r.seq(1, 32, lambda: dec_tx_signature(r), "signatures")
    if len({s["key"]["enc"] for s in sigs}) != len(sigs):
        raise DecodeError("transaction signed twice by one key")
    return {"tx": tx, "tx_bytes": tx_bytes, "signatures": sigs}


def dec_header(r):
    h = {"version": r.u16()}
    if h["version"] != 1:
        raise DecodeError("header version %d" % h["version"])
    h.update(chain_id=r.ident("chain_id"), height=r.u64(), time_ms=r.u64(), view=r.u64(),
             previous_hash=r.h32(), tx_count=r.u32(), tx_root=r.h32(), state_root=r.h32(),
             validator_set_hash=r.h32(), next_validator_set_hash=r.h32(), proposer=r.u16())
    return h


def dec_header_bytes(r):
    h, raw = r.slice_of(lambda: dec_header(r))
    h["bytes"] = raw
    return h


def dec_vote(r):
    kind = r.u8()
    if kind not in (1, 2):
        raise DecodeError("vote kind %d" % kind)
    return {"kind": kind, "chain_id": r.ident("chain_id"), "genesis_hash": r.h32(),
            "height": r.u64(), "view": r.u64(), "block_hash": r.h32()}


def dec_certificate(r):
    # Index order is NOT enforced here: the vectors require a repeated signer to fail the
    # `quorum` check, not `encoding`.  The count is bounded by the u16 index space.
    return {"height": r.u64(), "view": r.u64(), "block_hash": r.h32(),
            "signatures": r.seq(0, 65536, lambda: {"index": r.u16(),
                                                   "signature": dec_signature(r)},
                                "certificate signatures")}


def dec_state_proof(r):
    depth = r.u16()
    if depth > 256:
        raise DecodeError("proof depth %d > 256" % depth)
    bitmap = r.take((depth + 7) // 8)
    siblings = []
    zero = b"\x00" * 32
    for i in range(len(bitmap) * 8):
        bit = (bitmap[i // 8] >> (7 - i % 8)) & 1
        if i >= depth:
            if bit:
                raise DecodeError("bitmap bit set beyond depth")
            continue
        if bit:
            s = r.h32()
            if s == zero:
                raise DecodeError("sibling marked present is ZERO")
            siblings.append(s)
        else:
            siblings.append(zero)
    t = r.u8()
    if t == 0:
        term = None
    elif t == 1:
        term = (r.h32(), r.h32())
    else:
        raise DecodeError("terminal tag %d" % t)
    return {"depth": depth, "siblings": siblings, "terminal": term}


def dec_set_change(r):
    return {"header": dec_header_bytes(r), "certificate": dec_certificate(r),
            "next_validators": dec_validator_set(r)}


def dec_set_change_bytes(r):
    ch, raw = r.slice_of(lambda: dec_set_change(r))
    ch["bytes"] = raw
    return ch


def dec_certified(r):
    header = dec_header_bytes(r)
    cert, cert_bytes = r.slice_of(lambda: dec_certificate(r))
    cert["bytes"] = cert_bytes
    return {"header": header, "certificate": cert,
            "set_changes": r.seq(0, 1024, lambda: dec_set_change_bytes(r), "set_changes")}


def dec_trust_anchor(r):
    if r.u8() != 0x41:
        raise DecodeError("trust anchor tag")
    a = {"chain_id": r.ident("chain_id"), "suite": r.u8()}
    if a["suite"] not in SUITES:
        raise DecodeError("unknown suite %d" % a["suite"])
    a["genesis_hash"] = r.h32()
    a["height"] = r.u64()
    a["validators"], a["validators_bytes"] = r.slice_of(lambda: dec_validator_set(r))
    return a


def dec_presentation(r):
    if len(r.b) > 512 * 1024:
        raise DecodeError("presentation above 512 KiB")
    if r.u8() != 0x50:
        raise DecodeError("not a presentation (tag)")
    lic, lic_bytes = r.slice_of(lambda: dec_licence(r))
    return {"licence": lic, "licence_bytes": lic_bytes, "proof": dec_state_proof(r),
            "certified": dec_certified(r)}


def dec_receipt(r):
    if len(r.b) > 512 * 1024:
        raise DecodeError("receipt above 512 KiB")
    if r.u8() != 0x52:
        raise DecodeError("not an evidence receipt (tag)")
    ev, ev_bytes = r.slice_of(lambda: dec_evidence(r))
    return {"evidence": ev, "evidence_bytes": ev_bytes, "proof": dec_state_proof(r),
            "certified": dec_certified(r)}


SENTINEL_KEY = b"\x00\x00" + b"\xff" * 30


def dec_region_siblings(r):
    """`bitmap u16` (bit i = mask 0x8000 >> i set iff s[i] is not ZERO), then the non-ZERO
    siblings in order, none ZERO."""
    bitmap = r.u16()
    out = []
    for i in range(16):
        if bitmap & (0x8000 >> i):
            s = r.h32()
            if s == b"\x00" * 32:
                raise DecodeError("region sibling %d marked present is ZERO" % i)
            out.append(s)
        else:
            out.append(b"\x00" * 32)
    return out


def dec_marks(r):
    n = r.u32()
    if n > 2 ** 20:  # checked before reading
        raise DecodeError("mark count %d above 2^20" % n)
    marks = []
    for _ in range(n):
        tag = r.take(16)
        status = r.u8()
        if status not in (1, 2, 3):
            raise DecodeError("mark status %d not 1, 2 or 3" % status)
        marks.append((tag, status))
    if not _strictly_increasing([t for t, _ in marks]):
        raise DecodeError("mark tags not strictly increasing")
    return marks


def dec_foreign(r):
    n = r.u32()
    if n > 65536:
        raise DecodeError("foreign leaf count %d above 65536" % n)
    leaves = []
    for _ in range(n):
        key = r.h32()
        vh = r.h32()
        if key[:2] != b"\x00\x00":
            raise DecodeError("foreign key outside the region")
        if key[18:] == b"\x00" * 14:
            raise DecodeError("foreign key shaped like a mark key")
        if key == SENTINEL_KEY:
            raise DecodeError("foreign key is the sentinel's")
        leaves.append((key, vh))
    if not _strictly_increasing([k for k, _ in leaves]):
        raise DecodeError("foreign keys not strictly increasing")
    return leaves


def dec_levels(r):
    k = r.u8()
    if k > 16:
        raise DecodeError("levels depth %d above 16" % k)
    if k == 0:
        return {"depth": 0, "nodes": []}
    n = 1 << k
    nb = (n + 7) // 8
    present = r.take(nb)
    multi = r.take(nb)
    nodes = []
    for j in range(nb * 8):
        p = (present[j // 8] >> (7 - j % 8)) & 1
        m = (multi[j // 8] >> (7 - j % 8)) & 1
        if j >= n:
            if p or m:
                raise DecodeError("levels bitmap bit set past 2^k")
            continue
        if m and not p:
            raise DecodeError("levels node %d multi but not present" % j)
        nodes.append([bool(p), bool(m), None])
    for node in nodes:
        if node[0]:
            h = r.h32()
            if h == b"\x00" * 32:
                raise DecodeError("present level node is ZERO")
            node[2] = h
    return {"depth": k, "nodes": [tuple(x) for x in nodes]}


def dec_trust_package(r):
    if len(r.b) > 24 * 1024 * 1024:
        raise DecodeError("trust package above 24 MiB")
    if r.u8() != 0x54:
        raise DecodeError("not a trust package (tag)")
    pkg = {"chain_id": r.ident("chain_id"), "suite": r.u8()}
    if pkg["suite"] not in SUITES:
        raise DecodeError("unknown suite %d" % pkg["suite"])
    pkg["genesis_hash"] = r.h32()
    pkg["checkpoint"] = dec_certified(r)
    pkg["region_siblings"] = dec_region_siblings(r)
    pkg["marks"] = dec_marks(r)
    pkg["foreign"] = dec_foreign(r)
    pkg["levels"] = dec_levels(r)
    return pkg


def dec_level_changes(r):
    """A delta's `levels`: `u8 0` then `u32` count (at most 65,536) of `index u32 || u8 keys
    (0 none, 1 one, 2 many) || hash(32) unless none`, indices strictly increasing; or `u8 1` then
    a full `levels` field."""
    t = r.u8()
    if t == 1:
        return {"full": dec_levels(r)}
    if t != 0:
        raise DecodeError("delta levels tag %d" % t)
    n = r.u32()
    if n > 65536:  # checked before reading
        raise DecodeError("changed level node count %d above 65536" % n)
    changes = []
    for _ in range(n):
        index = r.u32()
        keys = r.u8()
        if keys == 0:
            changes.append((index, (False, False, None)))
        elif keys in (1, 2):
            changes.append((index, (True, keys == 2, r.h32())))
        else:
            raise DecodeError("changed level node keys byte %d not 0, 1 or 2" % keys)
    idx = [i for i, _ in changes]
    if any(a >= b for a, b in zip(idx, idx[1:])):
        raise DecodeError("changed level node indices not strictly increasing")
    return {"changed": changes}


def dec_mark_changes(r):
    n = r.u32()
    if n > 2 ** 20:  # checked before reading
        raise DecodeError("mark change count %d above 2^20" % n)
    changes = []
    for _ in range(n):
        tag = r.take(16)
        status = r.u8()
        if status > 3:
            raise DecodeError("mark change status %d not 0..3" % status)
        changes.append((tag, status))
    if not _strictly_increasing([t for t, _ in changes]):
        raise DecodeError("mark change tags not strictly increasing")
    return changes


def dec_trust_delta(r):
    if r.u8() != 0x64:
        raise DecodeError("not a trust delta (tag)")
    d = {"chain_id": r.ident("chain_id"), "suite": r.u8()}
    if d["suite"] not in SUITES:
        raise DecodeError("unknown suite %d" % d["suite"])
    d["genesis_hash"] = r.h32()
    d["base_height"] = r.u64()
    d["base_hash"] = r.h32()
    d["header"] = dec_header_bytes(r)
    cert, cert_bytes = r.slice_of(lambda: dec_certificate(r))
    cert["bytes"] = cert_bytes
    d["certificate"] = cert
    d["set_changes"] = r.seq(0, 1024, lambda: dec_set_change_bytes(r), "set_changes")
    d["region_siblings"] = dec_region_siblings(r)
    d["mark_changes"] = dec_mark_changes(r)
    d["foreign"] = dec_foreign(r)
    d["levels"] = dec_level_changes(r)
    return d


def dec_compact_proof(r):
    top = r.u8()
    depth = r.u16()
    if not (top <= depth <= 256):
        raise DecodeError("compact proof top %d, depth %d" % (top, depth))
    n = depth - top
    bitmap = r.take((n + 7) // 8)
    siblings = []
    for i in range(len(bitmap) * 8):
        bit = (bitmap[i // 8] >> (7 - i % 8)) & 1
        if i >= n:
            if bit:
                raise DecodeError("compact bitmap bit set beyond depth - top")
            continue
        if bit:
            s = r.h32()
            if s == b"\x00" * 32:
                raise DecodeError("compact sibling marked present is ZERO")
            siblings.append(s)
        else:
            siblings.append(b"\x00" * 32)
    return {"top": top, "depth": depth, "siblings": siblings}  # siblings[i] is sibling top + i


def dec_compact_presentation(r):
    if r.u8() != 0x43:
        raise DecodeError("not a compact presentation (tag)")
    ch = r.u64()
    lic, lic_bytes = r.slice_of(lambda: dec_licence(r))
    return {"checkpoint_height": ch, "licence": lic, "licence_bytes": lic_bytes,
            "proof": dec_compact_proof(r)}


DECODERS = {
    "TrustPackage": dec_trust_package, "CompactPresentation": dec_compact_presentation,
    "TrustDelta": dec_trust_delta,
    "ValidatorSet": dec_validator_set, "TrustAnchor": dec_trust_anchor,
    "Transaction": dec_transaction, "SignedTransaction": dec_signed_transaction,
    "BlockHeader": dec_header_bytes, "Vote": dec_vote, "CommitCertificate": dec_certificate,
    "Licence": dec_licence, "Evidence": dec_evidence, "StateProof": dec_state_proof,
    "Presentation": dec_presentation, "EvidenceReceipt": dec_receipt,
    "SetChange": dec_set_change, "Certified": dec_certified,
}


def decode(typ, data):
    r = Reader(data)
    v = DECODERS[typ](r)
    r.end()
    return v


# ----------------------------------------------------------------------------- protocol

ZERO = b"\x00" * 32


def enc_string(s):
    b = s.encode("utf-8")
    return struct.pack(">I", len(b)) + b


def quorum(n):
    return (2 * n) // 3 + 1


def state_key(suite, kind, id_bytes):
    return suite.H("lichen/state-key/v1", bytes([kind]) + id_bytes)


def tx_root(suite, ids):
    n = len(ids)
    if n == 0:
        return ZERO
    if n == 1:
        return suite.H("lichen/tx-root/leaf/v1", ids[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return suite.H("lichen/tx-root/node/v1", tx_root(suite, ids[:k]) + tx_root(suite, ids[k:]))


def _bit(key, i):
    return (key[i // 8] >> (7 - i % 8)) & 1


def verify_state_proof(suite, proof, root, key, value):
    """value None = prove absence. Returns (ok, reason)."""
    depth = proof["depth"]
    if depth > 256:
        return False, "depth > 256"
    term = proof["terminal"]
    if term is not None:
        for i in range(depth):
            if _bit(term[0], i) != _bit(key, i):
                return False, "terminal leaf key disagrees with key on the path"
        h = suite.H("lichen/smt/leaf/v1", term[0] + term[1])
    else:
        h = ZERO
    for i in range(depth - 1, -1, -1):
        sib = proof["siblings"][i]
        if _bit(key, i) == 0:
            h = suite.H("lichen/smt/node/v1", h + sib)
        else:
            h = suite.H("lichen/smt/node/v1", sib + h)
    if h != root:
        return False, "proof does not fold to the root"
    if value is not None:
        if term is None or term[0] != key:
            return False, "key absent"
        if term[1] != suite.H("lichen/smt/value/v1", value):
            return False, "value hash differs"
        return True, "included"
    if term is None or term[0] != key:
        return True, "absent"
    return False, "key is present"


def vote_bytes(kind, chain_id, genesis_hash, height, view, block_hash):
    return bytes([kind]) + enc_string(chain_id) + genesis_hash + \
        struct.pack(">QQ", height, view) + block_hash


def certificate_problems(suite, header, cert, vset, chain_id, genesis_hash):
    """Return (hdr_mismatch, other_problem) for 'cert finalises header under vset on the chain
    (chain_id, genesis_hash)': the votes sign the genesis hash, so a certificate of another
    genesis with the same chain id and keys does not verify."""
    hdr_mismatch = []
    other = None
    if header["chain_id"] != chain_id:
        other = other or "header chain id differs"
    if cert["height"] != header["height"]:
        hdr_mismatch.append("height")
    if cert["block_hash"] != suite.H("lichen/header/v1", header["bytes"]):
        hdr_mismatch.append("block_hash")
    if header["validator_set_hash"] != validator_set_hash(suite, vset):
        other = other or "header validator_set_hash is not the signing set's"
    sigs = cert["signatures"]
    idx = [s["index"] for s in sigs]
    if not _strictly_increasing(idx):
        other = other or "signature indices not strictly increasing"
    elif idx and idx[-1] >= len(vset):
        other = other or "signature index outside the set"
    elif len(sigs) < quorum(len(vset)):
        other = other or "%d signatures, quorum is %d" % (len(sigs), quorum(len(vset)))
    else:
        msg = suite.H("lichen/vote/v1", vote_bytes(2, chain_id, genesis_hash, cert["height"],
                                                   cert["view"], cert["block_hash"]))
        for s in sigs:
            k = vset[s["index"]]["key"]
            if not verify_sig(k["algo"], k["key"], s["signature"]["algo"],
                              s["signature"]["sig"], msg, suite.algo):
                other = other or "signature of validator %d does not verify" % s["index"]
                break
    return hdr_mismatch, other


def validator_set_hash(suite, vset):
    return suite.H("lichen/validator-set/v1", enc_validator_set(vset))


def enc_validator_set(vset):
    out = struct.pack(">I", len(vset))
    for v in vset:
        n = v["name"].encode()
        out += struct.pack(">I", len(n)) + n + v["key"]["enc"] + \
            struct.pack(">I", len(v["peer_id"])) + v["peer_id"]
    return out


def finalises(suite, header, cert, vset, chain_id, genesis_hash):
    m, o = certificate_problems(suite, header, cert, vset, chain_id, genesis_hash)
    return not m and o is None


def signing_set(suite, anchor, certified):
    """The signing set of certified["header"] from `anchor` (PROTOCOL.md, Trust anchors and
    validator-set changes). Returns (S, reason, L) with L the height of the last set change
    applied (the anchor's height if none); S is None when no set is found."""
    S = anchor["validators"]
    prev = anchor["height"]
    header = certified["header"]
    if header["height"] <= anchor["height"]:
        return None, "header height %d is not above the anchor's height %d" % (
            header["height"], anchor["height"]), prev
    for n, ch in enumerate(certified["set_changes"]):
        h = ch["header"]
        if h["height"] <= anchor["height"]:
            continue  # the anchor already knows it
        if not (prev < h["height"] < header["height"]):
            return None, "set change %d: height %d not in (%d, %d)" % (
                n, h["height"], prev, header["height"]), prev
        if not finalises(suite, h, ch["certificate"], S, anchor["chain_id"],
                         anchor["genesis_hash"]):
            return None, "set change %d: certificate does not finalise its header" % n, prev
        if h["validator_set_hash"] == h["next_validator_set_hash"]:
            return None, "set change %d: header does not change the set" % n, prev
        if validator_set_hash(suite, ch["next_validators"]) != h["next_validator_set_hash"]:
            return None, "set change %d: next_validators do not match the header" % n, prev
        S = ch["next_validators"]
        prev = h["height"]
    if header["validator_set_hash"] != validator_set_hash(suite, S):
        return None, "header's validator_set_hash is not the signing set (set change missing?)", \
            prev
    return S, "ok", prev


SEVERITY = ["TAMPERED", "UNKNOWN ISSUER", "REVOKED", "SUPERSEDED", "SUSPENDED", "EXPIRED",
            "NOT YET VALID", "STALE PROOF"]
STATUS_VERDICT = {1: "SUSPENDED", 2: "REVOKED", 3: "SUPERSEDED"}


def _common_checks(suite, anchor, typ, data, document, key_fn, value_field, doc_field):
    """Checks 1-6. Returns (checks list, decoded object or None, failure verdict or None)."""
    checks = []
    names = ["encoding", "chain", "validator_set", "quorum", "state_proof", "document_hash"]

    def fail(name, verdict, why):
        checks.append((name, "FAIL", why))
        for rest in names[len(checks):]:
            checks.append((rest, "skipped", ""))
        return checks, obj, verdict

    obj = None
    try:
        obj = decode(typ, data)
    except DecodeError as e:
        return fail("encoding", "TAMPERED", str(e))
    checks.append(("encoding", "ok", ""))
    cert = obj["certified"]
    header = cert["header"]
    if header["chain_id"] != anchor["chain_id"]:
        return fail("chain", "UNKNOWN ISSUER", "chain %r, anchor %r" % (
            header["chain_id"], anchor["chain_id"]))
    checks.append(("chain", "ok", ""))
    S, why, _ = signing_set(suite, anchor, cert)
    if S is None:
        return fail("validator_set", "UNKNOWN ISSUER", why)
    checks.append(("validator_set", "ok", ""))
    mismatch, other = certificate_problems(suite, header, cert["certificate"], S,
                                           anchor["chain_id"], anchor["genesis_hash"])
    if mismatch and other is None:
        return fail("quorum", "TAMPERED",
                    "certificate is valid for another header (%s differ)" % "/".join(mismatch))
    if mismatch or other:
        return fail("quorum", "UNKNOWN ISSUER", other or "/".join(mismatch))
    checks.append(("quorum", "ok", ""))
    key = key_fn(obj)
    ok, why = verify_state_proof(suite, obj["proof"], header["state_root"], key, obj[value_field])
    if not ok:
        return fail("state_proof", "TAMPERED", why)
    checks.append(("state_proof", "ok", ""))
    if document is None:
        checks.append(("document_hash", "skipped", "no document"))
    elif suite.D(document) != doc_field(obj):
        return fail("document_hash", "TAMPERED", "document digest differs")
    else:
        checks.append(("document_hash", "ok", ""))
    return checks, obj, None


def mark_tag(suite, licence_id):
    """A revocation mark's tag: the first 16 bytes of H("lichen/revocation-mark/v1",
    string(licence id))."""
    return suite.H("lichen/revocation-mark/v1", enc_string(licence_id))[:16]


def _later_checks(checks, lic, status, status_time, now_ms, proof_age_max_ms, status_from=""):
    """Checks 7-10 (issuer_authorised, status, validity_window, freshness); returns the verdict.
    `status` is the licence status to judge (the record's, or the package's mark), as of
    `status_time` (the header's time, or the later of it and the checkpoint's)."""
    d = lic["draft"]
    outcomes = []
    checks.append(("issuer_authorised", "ok", "agency %s, type %s, height %d" % (
        d["issuer"], d["licence_type"], lic["issued_height"])))
    if status == 0:
        checks.append(("status", "ok", "active" + status_from))
    else:
        outcomes.append(STATUS_VERDICT[status])
        checks.append(("status", "FAIL", STATUS_VERDICT[status] + status_from))
    if d["valid_from_ms"] > now_ms:
        outcomes.append("NOT YET VALID")
        checks.append(("validity_window", "FAIL", "not yet valid"))
    elif d["valid_until_ms"] is not None and now_ms >= d["valid_until_ms"]:
        outcomes.append("EXPIRED")
        checks.append(("validity_window", "FAIL", "expired"))
    else:
        checks.append(("validity_window", "ok", ""))
    age = now_ms - status_time if now_ms > status_time else 0
    if age > proof_age_max_ms:
        outcomes.append("STALE PROOF")
        checks.append(("freshness", "FAIL", "proof %d ms old" % age))
    else:
        checks.append(("freshness", "ok", ""))
    for v in SEVERITY:
        if v in outcomes:
            return v
    return "VALID"


LATER_CHECKS = ["issuer_authorised", "status", "validity_window", "freshness"]
EARLY_CHECKS = ["encoding", "chain", "validator_set", "quorum", "state_proof", "document_hash"]


def _compact_fold(suite, proof, key, value):
    """Check 5 of a compact presentation up to the top: returns the hash of level node j."""
    h = suite.H("lichen/smt/leaf/v1", key + suite.H("lichen/smt/value/v1", value))
    top = proof["top"]
    for i in range(proof["depth"] - 1, top - 1, -1):
        sib = proof["siblings"][i - top]
        if _bit(key, i) == 0:
            h = suite.H("lichen/smt/node/v1", h + sib)
        else:
            h = suite.H("lichen/smt/node/v1", sib + h)
    return h


def verify_compact(suite, pkg, data, document, now_ms, proof_age_max_ms):
    """A compact presentation (tag 0x43) with a verified package (or None)."""
    checks = []
    obj = None

    def fail(name, verdict, why):
        checks.append((name, "FAIL", why))
        for rest in EARLY_CHECKS[len(checks):] + LATER_CHECKS:
            checks.append((rest, "skipped", ""))
        return verdict, checks

    try:
        obj = decode("CompactPresentation", data)
    except DecodeError as e:
        return fail("encoding", "TAMPERED", str(e))
    checks.append(("encoding", "ok", ""))
    if pkg is None:
        return fail("chain", "UNKNOWN ISSUER", "a compact presentation needs a trust package")
    checks.append(("chain", "ok", ""))
    proof = obj["proof"]
    if obj["checkpoint_height"] != pkg["c"] or proof["top"] != pkg["levels"]["depth"]:
        return fail("validator_set", "UNKNOWN ISSUER",
                    "compact presentation of checkpoint %d cut at %d, package %d with %d levels:"
                    " ask for a fresh one or the full form" % (
                        obj["checkpoint_height"], proof["top"], pkg["c"],
                        pkg["levels"]["depth"]))
    checks.append(("validator_set", "ok", "the package's checkpoint"))
    checks.append(("quorum", "ok", "checked when the package was loaded"))
    lic = obj["licence"]
    key = state_key(suite, 6, enc_string(lic["draft"]["id"]))
    h = _compact_fold(suite, proof, key, obj["licence_bytes"])
    top = proof["top"]
    if top == 0:
        ok = h == pkg["state_root"]
    else:
        j = int.from_bytes(key, "big") >> (256 - top)
        present, _multi, nh = pkg["levels"]["nodes"][j]
        ok = present and nh == h
    if not ok:
        return fail("state_proof", "TAMPERED", "proof does not fold to the package's level node")
    checks.append(("state_proof", "ok", ""))
    if document is None:
        checks.append(("document_hash", "skipped", "no document"))
    elif suite.D(document) != lic["draft"]["document_hash"]:
        return fail("document_hash", "TAMPERED", "document digest differs")
    else:
        checks.append(("document_hash", "ok", ""))
    status = pkg["marks"].get(mark_tag(suite, lic["draft"]["id"]), 0)
    verdict = _later_checks(checks, lic, status, pkg["time_ms"], now_ms, proof_age_max_ms,
                            " (as of checkpoint %d)" % pkg["c"])
    return verdict, checks


def verify_presentation(suite, anchor, data, document, now_ms, proof_age_max_ms, pkg=None):
    """Returns (verdict, checks) where checks = [(name, 'ok'|'FAIL'|'skipped', detail)].
    With `pkg` (a verified trust package, see verify_trust_package) checks 2-4 use its moved
    anchor and, for a header at or below its checkpoint, the status comes from its marks; the
    bytes may then also be a compact presentation (tag 0x43)."""
    if data[:1] == b"\x43":
        return verify_compact(suite, pkg, data, document, now_ms, proof_age_max_ms)
    checks, obj, verdict = _common_checks(
        suite, anchor if pkg is None else pkg["anchor"], "Presentation", data, document,
        lambda o: state_key(suite, 6, enc_string(o["licence"]["draft"]["id"])),
        "licence_bytes", lambda o: o["licence"]["draft"]["document_hash"])
    if verdict is not None:
        return verdict, checks + [(n, "skipped", "") for n in LATER_CHECKS]
    lic = obj["licence"]
    header = obj["certified"]["header"]
    if pkg is not None and header["height"] <= pkg["c"]:
        status = pkg["marks"].get(mark_tag(suite, lic["draft"]["id"]), 0)
        status_time = max(header["time_ms"], pkg["time_ms"])
        status_from = " (as of checkpoint %d)" % pkg["c"]
    else:
        status, status_time, status_from = lic["status"], header["time_ms"], ""
    verdict = _later_checks(checks, lic, status, status_time, now_ms, proof_age_max_ms,
                            status_from)
    return verdict, checks


def region_hash(suite, leaves, d=16):
    """subtree(L, d) of the revocation region: leaves [(key, value_hash)], distinct keys."""
    if not leaves:
        return ZERO
    if len(leaves) == 1:
        return suite.H("lichen/smt/leaf/v1", leaves[0][0] + leaves[0][1])
    left = [x for x in leaves if _bit(x[0], d) == 0]
    right = [x for x in leaves if _bit(x[0], d) == 1]
    return suite.H("lichen/smt/node/v1", region_hash(suite, left, d + 1) +
                   region_hash(suite, right, d + 1))


def region_root(suite, leaves, siblings):
    """The region's hash folded to the state root with s[0..16) (the collapse rule for a lone
    leaf)."""
    h = region_hash(suite, leaves)
    lone = len(leaves) == 1
    for i in range(15, -1, -1):
        if lone and siblings[i] == ZERO:
            continue
        h = suite.H("lichen/smt/node/v1", h + siblings[i])
        lone = False
    return h


def fold_levels(suite, levels):
    """Step 5: fold the level nodes pairwise to one node (present, multi, hash)."""
    nodes = list(levels["nodes"])
    while len(nodes) > 1:
        nxt = []
        for m in range(0, len(nodes), 2):
            l, r = nodes[m], nodes[m + 1]
            if not l[0] and not r[0]:
                nxt.append((False, False, None))
            elif not l[0] and r[0] and not r[1]:
                nxt.append(r)
            elif not r[0] and l[0] and not l[1]:
                nxt.append(l)
            else:
                nxt.append((True, True, suite.H("lichen/smt/node/v1",
                                                (l[2] or ZERO) + (r[2] or ZERO))))
        nodes = nxt
    return nodes[0]


def verify_trust_package(suite, anchor, data):
    """Verifies a TrustPackage against the genesis anchor (PROTOCOL.md, Trust packages).
    Returns (info, None) or (None, (error, reason)) with error one of encoding, chain,
    checkpoint, region, levels."""
    try:
        pkg = decode("TrustPackage", data)
    except DecodeError as e:
        return None, ("encoding", str(e))
    # 1
    for f in ("chain_id", "suite", "genesis_hash"):
        if pkg[f] != anchor[f]:
            return None, ("chain", "%s differs from the anchor's" % f)
    cp = pkg["checkpoint"]
    X = cp["header"]
    # 2
    if X["validator_set_hash"] != X["next_validator_set_hash"]:
        return None, ("checkpoint", "the checkpoint header changes the validator set")
    # 3
    S, why, L = signing_set(suite, anchor, cp)
    if S is None:
        return None, ("checkpoint", why)
    mismatch, other = certificate_problems(suite, X, cp["certificate"], S, anchor["chain_id"],
                                           anchor["genesis_hash"])
    if mismatch or other:
        return None, ("checkpoint", other or "certificate for another header")
    # 4
    leaves = [(SENTINEL_KEY, suite.H("lichen/smt/value/v1", b"\x01"))]
    for tag, st in pkg["marks"]:
        leaves.append((b"\x00\x00" + tag + b"\x00" * 14,
                       suite.H("lichen/smt/value/v1", bytes([st]))))
    leaves.extend(pkg["foreign"])
    if len({k for k, _ in leaves}) != len(leaves):
        return None, ("region", "region leaves repeat a key")
    if region_root(suite, leaves, pkg["region_siblings"]) != X["state_root"]:
        return None, ("region", "the region does not fold to the checkpoint's state root")
    # 5
    if pkg["levels"]["depth"] > 0:
        present, _multi, h = fold_levels(suite, pkg["levels"])
        if not present or h != X["state_root"]:
            return None, ("levels", "the level nodes do not fold to the checkpoint's state root")
    moved = {"chain_id": anchor["chain_id"], "suite": anchor["suite"],
             "genesis_hash": anchor["genesis_hash"], "height": L, "validators": S}
    counts = {"suspended": 0, "revoked": 0, "superseded": 0}
    for _, st in pkg["marks"]:
        counts[{1: "suspended", 2: "revoked", 3: "superseded"}[st]] += 1
    return {"anchor": moved, "L": L, "c": X["height"], "time_ms": X["time_ms"],
            "state_root": X["state_root"], "marks": dict(pkg["marks"]), "levels": pkg["levels"],
            "hash": suite.H("lichen/trust-package/v1", data), "revocations": counts}, None


def enc_region_siblings(siblings):
    bitmap = 0
    out = b""
    for i, s in enumerate(siblings):
        if s != ZERO:
            bitmap |= 0x8000 >> i
            out += s
    return struct.pack(">H", bitmap) + out


def enc_levels(levels):
    k = levels["depth"]
    if k == 0:
        return b"\x00"
    nodes = levels["nodes"]
    nb = ((1 << k) + 7) // 8
    present = bytearray(nb)
    multi = bytearray(nb)
    hashes = b""
    for j, (p, m, h) in enumerate(nodes):
        if p:
            present[j // 8] |= 0x80 >> (j % 8)
            hashes += h
        if m:
            multi[j // 8] |= 0x80 >> (j % 8)
    return bytes([k]) + bytes(present) + bytes(multi) + hashes


def enc_trust_package(pkg):
    """The TrustPackage encoding of a decoded (or rebuilt) package."""
    cp = pkg["checkpoint"]
    out = b"\x54" + enc_string(pkg["chain_id"]) + bytes([pkg["suite"]]) + pkg["genesis_hash"]
    out += cp["header"]["bytes"] + cp["certificate"]["bytes"]
    out += struct.pack(">I", len(cp["set_changes"])) + b"".join(
        ch["bytes"] for ch in cp["set_changes"])
    out += enc_region_siblings(pkg["region_siblings"])
    out += struct.pack(">I", len(pkg["marks"])) + b"".join(
        tag + bytes([st]) for tag, st in pkg["marks"])
    out += struct.pack(">I", len(pkg["foreign"])) + b"".join(k + vh for k, vh in pkg["foreign"])
    out += enc_levels(pkg["levels"])
    return out


def apply_trust_delta(suite, base_bytes, delta_bytes):
    """Applies a TrustDelta to the base package (PROTOCOL.md, Trust packages, Deltas). Returns
    (package bytes, None) or (None, (error, reason)): `encoding` when either does not decode,
    `checkpoint` for a wrong base (the error the broken-package table gives a delta's wrong
    base). The result is not yet verified: pass it to verify_trust_package."""
    try:
        d = decode("TrustDelta", delta_bytes)
    except DecodeError as e:
        return None, ("encoding", "delta: %s" % e)
    try:
        P = decode("TrustPackage", base_bytes)
    except DecodeError as e:
        return None, ("encoding", "base package: %s" % e)
    X = P["checkpoint"]["header"]
    if (d["chain_id"] != P["chain_id"] or d["suite"] != P["suite"] or
            d["genesis_hash"] != P["genesis_hash"] or d["base_height"] != X["height"] or
            d["base_hash"] != suite.H("lichen/header/v1", X["bytes"])):
        return None, ("checkpoint", "wrong base")
    marks = dict(P["marks"])
    for tag, st in d["mark_changes"]:
        if st == 0:
            marks.pop(tag, None)  # removing an absent mark: nothing to remove
        else:
            marks[tag] = st
    if "full" in d["levels"]:
        levels = d["levels"]["full"]
    else:
        k = P["levels"]["depth"]
        nodes = list(P["levels"]["nodes"])
        for index, node in d["levels"]["changed"]:
            if index >= len(nodes):
                return None, ("levels", "changed level node %d outside depth %d" % (index, k))
            nodes[index] = node
        levels = {"depth": k, "nodes": nodes}
    new = {"chain_id": P["chain_id"], "suite": P["suite"], "genesis_hash": P["genesis_hash"],
           "checkpoint": {"header": d["header"], "certificate": d["certificate"],
                          "set_changes": P["checkpoint"]["set_changes"] + d["set_changes"]},
           "region_siblings": d["region_siblings"], "marks": sorted(marks.items()),
           "foreign": d["foreign"], "levels": levels}
    return enc_trust_package(new), None


def verify_receipt(suite, anchor, data, document):
    checks, obj, verdict = _common_checks(
        suite, anchor, "EvidenceReceipt", data, document,
        lambda o: state_key(suite, 7, o["evidence"]["hash"]),
        "evidence_bytes", lambda o: o["evidence"]["hash"])
    if verdict is not None:
        return verdict, checks, None
    return "ANCHORED", checks, obj["evidence"]["time_ms"]


def first_failure(checks):
    for name, st, why in checks:
        if st == "FAIL":
            return name, why
    return None, None


# ----------------------------------------------------------------------------- self tests

def self_test():
    errs = []
    if sm3(b"abc").hex() != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0":
        errs.append("SM3('abc')")
    if sm3(b"abcd" * 16).hex() != \
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732":
        errs.append("SM3('abcd'*16)")
    if (SM2_GY ** 2 - SM2_GX ** 3 - SM2_A * SM2_GX - SM2_B) % SM2_P != 0:
        errs.append("SM2 G not on curve")
    if _j_mul(SM2_N, (SM2_GX, SM2_GY, 1))[2] != 0:
        errs.append("SM2 n*G != O")
    # RFC 8032 test 1
    pk = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    sig = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb882"
                        "1590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    if not ed25519_verify(pk, b"", sig):
        errs.append("Ed25519 RFC 8032 test 1")
    if ed25519_verify(pk, b"x", sig):
        errs.append("Ed25519 accepts a wrong message")
    gbt = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S"
    if not valid_licence_id(gbt) or valid_licence_id(gbt[:-1] + "T"):
        errs.append("GB/T 36904 MOD 37,36 example")
    return errs


# ----------------------------------------------------------------------------- vector runner

class Tally:
    def __init__(self, fname):
        self.fname = fname
        self.passed = 0
        self.failed = 0

    def check(self, label, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("  FAIL %s: %s %s" % (self.fname, label, detail))


def _hx(s):
    return None if s is None else bytes.fromhex(s)


def run_file(path):
    fname = os.path.basename(path)
    t = Tally(fname)
    with open(path) as f:
        v = json.load(f)
    suite_tag = SUITE_BY_NAME.get(v.get("suite"))
    if suite_tag is None:
        t.check("suite", False, repr(v.get("suite")))
        return t
    suite = Suite(suite_tag)
    try:
        anchor = decode("TrustAnchor", _hx(v["trust_anchor"]))
        t.check("trust_anchor decodes", anchor["suite"] == suite_tag and
                anchor["chain_id"] == v.get("chain_id", anchor["chain_id"]),
                "suite/chain mismatch")
    except DecodeError as e:
        t.check("trust_anchor decodes", False, str(e))
        return t

    # hashes
    for i, h in enumerate(v.get("hashes", [])):
        label = "hashes[%d]" % i
        want = h.get("hash")
        got = None
        if "tx_root_of" in h:
            got = tx_root(suite, [bytes.fromhex(x) for x in h["tx_root_of"]]).hex()
            if "header_tx_root" in h and h["header_tx_root"] != want:
                got = "header_tx_root disagrees"
        elif "holder_salt" in h:
            hid = h["holder_id"].encode()
            got = suite.H(h["tag"], bytes.fromhex(h["holder_salt"]) +
                          struct.pack(">I", len(hid)) + hid).hex()
        elif "state_key" in h:
            m = re.fullmatch(r'\s*(\w+)\s*\(\s*"(.*)"\s*\)\s*', h["state_key"])
            kind = h.get("kind")
            if m and kind in (3, 4, 5, 6):
                got = state_key(suite, kind, enc_string(m.group(2))).hex()
            elif kind == 7:
                m2 = re.search(r"([0-9a-fA-F]{64})", h["state_key"])
                got = state_key(suite, 7, bytes.fromhex(m2.group(1))).hex() if m2 else None
            elif kind in (1, 2):
                got = state_key(suite, kind, b"").hex()
        elif "document" in h:
            got = suite.D(bytes.fromhex(h["document"])).hex()
        elif "tag" in h and "input" in h:
            got = suite.H(h["tag"], bytes.fromhex(h["input"])).hex()
        else:
            t.check(label, False, "unrecognised hash entry %r" % sorted(h))
            continue
        t.check(label, got == want, "got %s want %s" % (got, want))

    # objects
    objs = {}
    for i, o in enumerate(v.get("objects", [])):
        label = "objects[%d] %s" % (i, o.get("name"))
        typ = o["type"]
        data = bytes.fromhex(o["hex"])
        try:
            dec = decode(typ, data)
        except (DecodeError, KeyError) as e:
            t.check(label, False, "decode: %s" % e)
            continue
        objs[o.get("name")] = (typ, dec)
        problems = []
        if o.get("hash_tag"):
            body = dec["tx_bytes"] if typ == "SignedTransaction" else data
            got = suite.H(o["hash_tag"], body).hex()
            if got != o.get("hash"):
                problems.append("hash %s != %s" % (got, o.get("hash")))
        if typ == "SignedTransaction":
            tid = suite.H("lichen/tx/v1", dec["tx_bytes"])
            for s in dec["signatures"]:
                if not verify_sig(s["key"]["algo"], s["key"]["key"], s["signature"]["algo"],
                                  s["signature"]["sig"], tid, suite.algo):
                    problems.append("transaction signature does not verify")
        if typ == "TrustAnchor" and o["hex"] != v["trust_anchor"]:
            problems.append("differs from trust_anchor")
        if typ == "Licence" and "state_key" in o:
            k = state_key(suite, 6, enc_string(dec["draft"]["id"])).hex()
            if k != o["state_key"]:
                problems.append("state key %s" % k)
        if typ == "Evidence" and "state_key" in o:
            k = state_key(suite, 7, dec["hash"]).hex()
            if k != o["state_key"]:
                problems.append("state key %s" % k)
        if typ == "StateProof":
            ok, why = verify_state_proof(suite, dec, bytes.fromhex(o["root"]),
                                         bytes.fromhex(o["key"]), _hx(o.get("value")))
            if not ok:
                problems.append("proof: " + why)
        if typ == "CommitCertificate":
            hdr = [d for (ty, d) in objs.values() if ty == "BlockHeader"
                   and suite.H("lichen/header/v1", d["bytes"]) == dec["block_hash"]]
            if hdr and not finalises(suite, hdr[0], dec, anchor["validators"],
                                     anchor["chain_id"], anchor["genesis_hash"]):
                problems.append("does not finalise its header under the anchor set")
        if typ == "Vote":
            # the hash is checked above; the vote is of this chain: the anchor's chain id and
            # genesis hash, and re-encodes to the same bytes
            if dec["chain_id"] != anchor["chain_id"]:
                problems.append("vote chain id %r, anchor %r" % (dec["chain_id"],
                                                                 anchor["chain_id"]))
            if dec["genesis_hash"] != anchor["genesis_hash"]:
                problems.append("vote genesis hash %s, anchor %s" % (
                    dec["genesis_hash"].hex(), anchor["genesis_hash"].hex()))
            if vote_bytes(dec["kind"], dec["chain_id"], dec["genesis_hash"], dec["height"],
                          dec["view"], dec["block_hash"]) != data:
                problems.append("vote does not re-encode to its bytes")
        if typ == "Presentation":
            verdict, checks = verify_presentation(suite, anchor, data, None, 0, 2 ** 64)
            if any(st == "FAIL" for n, st, _ in checks[:5]):
                problems.append("checks 1-5: %s" % (first_failure(checks),))
        if typ == "EvidenceReceipt":
            verdict, checks, _ = verify_receipt(suite, anchor, data, None)
            if verdict != "ANCHORED":
                problems.append("receipt: %s %s" % (verdict, first_failure(checks)))
        t.check(label, not problems, "; ".join(problems))

    # presentations
    for sec in ("presentations", "broken_presentations"):
        for i, p in enumerate(v.get(sec, [])):
            label = "%s[%d] %s" % (sec, i, p.get("name"))
            verdict, checks = verify_presentation(suite, anchor, bytes.fromhex(p["hex"]),
                                                  _hx(p.get("document")), p["now_ms"],
                                                  p["proof_age_max_ms"])
            fc, why = first_failure(checks)
            ok = verdict == p["verdict"]
            if "failed_check" in p:
                ok = ok and fc == p["failed_check"]
            t.check(label, ok, "got %s (first failure %s: %s), want %s/%s" % (
                verdict, fc, why, p["verdict"], p.get("failed_check")))

    # receipts
    for i, p in enumerate(v.get("receipts", [])):
        label = "receipts[%d] %s" % (i, p.get("name"))
        verdict, checks, at = verify_receipt(suite, anchor, bytes.fromhex(p["hex"]),
                                             _hx(p.get("document")))
        fc, why = first_failure(checks)
        ok = verdict == p["verdict"]
        if "failed_check" in p:
            ok = ok and fc == p["failed_check"]
        if "anchored_time_ms" in p:
            ok = ok and at == p["anchored_time_ms"]
        t.check(label, ok, "got %s at %s (first failure %s: %s), want %s/%s" % (
            verdict, at, fc, why, p["verdict"], p.get("failed_check")))

    # broken objects: each must fail
    for i, o in enumerate(v.get("broken_objects", [])):
        label = "broken_objects[%d] %s" % (i, o.get("name"))
        typ = o["type"]
        try:
            dec = decode(typ, bytes.fromhex(o["hex"]))
        except (DecodeError, KeyError) as e:
            t.check(label, True)  # refused at decoding: it fails, as required
            continue
        accepted = True
        if typ == "SignedTransaction":
            tid = suite.H("lichen/tx/v1", dec["tx_bytes"])
            accepted = all(verify_sig(s["key"]["algo"], s["key"]["key"], s["signature"]["algo"],
                                      s["signature"]["sig"], tid, suite.algo)
                           for s in dec["signatures"])
        elif typ == "StateProof":
            accepted, _ = verify_state_proof(suite, dec, bytes.fromhex(o["root"]),
                                             bytes.fromhex(o["key"]), _hx(o.get("value")))
        elif typ == "Presentation":
            verdict, _ = verify_presentation(suite, anchor, bytes.fromhex(o["hex"]), None,
                                             0, 2 ** 64)
            accepted = verdict == "VALID"
        elif typ == "EvidenceReceipt":
            accepted = verify_receipt(suite, anchor, bytes.fromhex(o["hex"]), None)[0] \
                == "ANCHORED"
        t.check(label, not accepted, "was accepted (expected: %s)" % o.get("expect"))

    # trust packages: each verifies against the genesis anchor, with its stated results
    packages = {}
    for i, p in enumerate(v.get("trust_packages", [])):
        label = "trust_packages[%d] %s" % (i, p.get("name"))
        data = bytes.fromhex(p["hex"])
        info, err = verify_trust_package(suite, anchor, data)
        if info is None:
            t.check(label, False, "refused: %s: %s" % err)
            continue
        packages[p["name"]] = info
        got = {"hash": info["hash"].hex(), "checkpoint_height": info["c"],
               "anchor_height": info["L"], "levels_depth": info["levels"]["depth"],
               "revocations": info["revocations"]}
        want = {k: p.get(k) for k in got}
        t.check(label, got == want, "got %r, want %r" % (got, want))
    for i, p in enumerate(v.get("broken_trust_packages", [])):
        label = "broken_trust_packages[%d] %s" % (i, p.get("name"))
        info, err = verify_trust_package(suite, anchor, bytes.fromhex(p["hex"]))
        got = None if err is None else err[0]
        t.check(label, got == p["error"], "got %s (%s), want %s" % (
            got, err[1] if err else "accepted", p["error"]))

    # trust deltas: applied to their base give a package that verifies with the stated
    # fingerprint and checkpoint; applied to any other package, refused as wrong base
    pkg_hex = {p["name"]: bytes.fromhex(p["hex"]) for p in v.get("trust_packages", [])}
    if v.get("trust_deltas"):
        for name, b in pkg_hex.items():  # the encoder that rebuilds packages, checked
            try:
                same = enc_trust_package(decode("TrustPackage", b)) == b
            except DecodeError:
                same = False
            t.check("trust package %s re-encodes to its bytes" % name, same)
    for i, p in enumerate(v.get("trust_deltas", [])):
        label = "trust_deltas[%d] %s" % (i, p.get("name"))
        delta = bytes.fromhex(p["hex"])
        if p["base"] not in pkg_hex:
            t.check(label, False, "unknown base %r" % p["base"])
            continue
        for what, bad in (("a trailing byte", delta + b"\x00"),
                          ("another tag", b"\x54" + delta[1:]), ("cut short", delta[:-1])):
            full, err = apply_trust_delta(suite, pkg_hex[p["base"]], bad)
            t.check("%s with %s" % (label, what), full is None and err[0] == "encoding",
                    "not refused at decoding: %r" % (err,))
        full, err = apply_trust_delta(suite, pkg_hex[p["base"]], delta)
        if full is None:
            t.check(label, False, "refused: %s: %s" % err)
        else:
            info, err = verify_trust_package(suite, anchor, full)
            if info is None:
                t.check(label, False, "result refused: %s: %s" % err)
            else:
                got = (info["hash"].hex(), info["c"])
                want = (p["result_hash"], p["checkpoint_height"])
                t.check(label, got == want, "got %r, want %r" % (got, want))
        for name, other in pkg_hex.items():
            if name == p["base"]:
                continue
            full, err = apply_trust_delta(suite, other, delta)
            t.check("%s applied to %s" % (label, name),
                    full is None and err[0] == "checkpoint" and err[1] == "wrong base",
                    "not refused as wrong base: %r" % (err,))

    # presentations and compact presentations checked with a package (or none)
    for i, p in enumerate(v.get("with_trust_package", [])):
        label = "with_trust_package[%d] %s" % (i, p.get("name"))
        pkg = None
        if p["package"] is not None:
            pkg = packages.get(p["package"])
            if pkg is None:
                t.check(label, False, "package %r did not verify" % p["package"])
                continue
        verdict, checks = verify_presentation(suite, anchor, bytes.fromhex(p["hex"]),
                                              _hx(p.get("document")), p["now_ms"],
                                              p["proof_age_max_ms"], pkg)
        failed = [n for n, st, _ in checks if st == "FAIL"]
        want_failed = [] if p["failed_check"] is None else [p["failed_check"]]
        fc, why = first_failure(checks)
        t.check(label, verdict == p["verdict"] and failed == want_failed,
                "got %s (failed %s; first: %s), want %s/%s" % (
                    verdict, failed, why, p["verdict"], p["failed_check"]))
    return t


def main(argv):
    if len(argv) < 2:
        print("usage: independent_verifier.py VECTORS.json ...", file=sys.stderr)
        return 2
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    total_p = total_f = 0
    errs = self_test()
    for e in errs:
        print("  FAIL self-test: %s" % e)
    total_f += len(errs)
    for arg in argv[1:]:
        path = arg if os.path.exists(arg) else os.path.join(repo, arg)
        try:
            t = run_file(path)
        except Exception as e:  # a crash counts as one failure
            print("%s: crashed: %r" % (os.path.basename(arg), e))
            total_f += 1
            continue
        print("%s: %d passed, %d failed" % (t.fname, t.passed, t.failed))
        total_p += t.passed
        total_f += t.failed
    print("%d passed, %d failed" % (total_p, total_f))
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
