#!/usr/bin/env python3
"""Independent Lichen verifier, written from PROTOCOL.md alone (stdlib only).

Implements SM3, SM2 verification (GB/T 32918, default user id), Ed25519 verification
(RFC 8032, strict), the canonical decoders, state proofs, commit certificates, the
signing-set walk, the presentation / evidence-receipt verification of PROTOCOL.md, and trust
packages (revocation region, tree levels, the moved anchor) with full and compact presentations
checked against them, and trust-package deltas applied to their base package (the golden
files' trust_packages, broken_trust_packages, with_trust_package and trust_deltas sections).

It also implements the desk rules ("Verifying at a desk": the expected kind, the holder check;
the golden files' at_desk section) and reads genesis.json as a trust input ("The genesis file as
a trust input").

Golden-vector mode:
    python3 scripts/independent_verifier.py contracts/vectors/golden-sm.json \
        contracts/vectors/golden-intl.json
prints one line per file and a final "N passed, M failed"; exits 1 if anything failed. Besides
every golden section it runs the court command below on files made from the golden cases, and
checks genesis/localnet/genesis.json against the values PROTOCOL.md records.

Court mode (a verifier for courts and desks; see USAGE below):
    python3 scripts/independent_verifier.py --trust GENESIS_OR_ANCHOR --presentation FILE \
        [--document FILE | --document-hash HEX] [--trust-package FILE] \
        [--expect licence|evidence] [--holder-id ID --holder-salt HEX] \
        [--max-age DURATION] [--at RFC3339] [--json]
prints the verdict on the first line, then one line per check; exits 0 only for VALID or
ANCHORED, 1 for any other verdict, 2 for a usage error or a trust input that cannot be used.
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


# fullmatch, not match with "$": "$" also matches before a final newline.
_IDENT_RE = re.compile(r"[A-Za-z0-9._\-:/]+")
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
    return 1 <= len(s) <= 64 and bool(_IDENT_RE.fullmatch(s))


def valid_licence_id(s):
    if not (1 <= len(s) <= 128 and _IDENT_RE.fullmatch(s)):
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
    if tag == 11:
        return (tag, {"name": r.name("observer name"), "peer_id": r.bytes_(1, 64, "peer_id")})
    if tag == 12:
        return (tag, {"peer_id": r.bytes_(1, 64, "peer_id")})
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


# The verdict order of PROTOCOL.md, "Verifying a presentation" (WRONG KIND and HOLDER MISMATCH
# arise only at a desk).
SEVERITY = ["TAMPERED", "UNKNOWN ISSUER", "WRONG KIND", "HOLDER MISMATCH", "REVOKED", "SUPERSEDED",
            "SUSPENDED", "EXPIRED", "NOT YET VALID", "STALE PROOF"]


class DocHash(bytes):
    """A document given as its digest `D(bytes)` rather than its bytes."""


def document_digest(suite, document):
    return bytes(document) if isinstance(document, DocHash) else suite.D(document)
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
    checks.append(("encoding", "ok", "presentation" if typ == "Presentation"
                   else "evidence receipt"))
    cert = obj["certified"]
    header = cert["header"]
    if header["chain_id"] != anchor["chain_id"]:
        return fail("chain", "UNKNOWN ISSUER", "chain %r, anchor %r" % (
            header["chain_id"], anchor["chain_id"]))
    checks.append(("chain", "ok", header["chain_id"]))
    S, why, _ = signing_set(suite, anchor, cert)
    if S is None:
        return fail("validator_set", "UNKNOWN ISSUER", why)
    applied = sum(1 for ch in cert["set_changes"] if ch["header"]["height"] > anchor["height"])
    checks.append(("validator_set", "ok", "%d validators (%d set change%s after the anchor's "
                   "height %d)" % (len(S), applied, "" if applied == 1 else "s",
                                   anchor["height"])))
    mismatch, other = certificate_problems(suite, header, cert["certificate"], S,
                                           anchor["chain_id"], anchor["genesis_hash"])
    if mismatch and other is None:
        return fail("quorum", "TAMPERED",
                    "certificate is valid for another header (%s differ)" % "/".join(mismatch))
    if mismatch or other:
        return fail("quorum", "UNKNOWN ISSUER", other or "/".join(mismatch))
    checks.append(("quorum", "ok", "%d of %d signatures (quorum %d), block %d" % (
        len(cert["certificate"]["signatures"]), len(S), quorum(len(S)), header["height"])))
    key = key_fn(obj)
    ok, why = verify_state_proof(suite, obj["proof"], header["state_root"], key, obj[value_field])
    if not ok:
        return fail("state_proof", "TAMPERED", why)
    checks.append(("state_proof", "ok", "in the state of block %d" % header["height"]))
    if document is None:
        checks.append(("document_hash", "skipped", "no document"))
    elif document_digest(suite, document) != doc_field(obj):
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
    """A compact presentation (tag 0x43) with a verified package (or None). Returns
    (verdict, checks, info) like verify_presentation_report."""
    checks = []
    obj = None
    info = {"kind": "licence", "height": None, "status_as_of_ms": None, "licence": None}

    def fail(name, verdict, why):
        checks.append((name, "FAIL", why))
        for rest in EARLY_CHECKS[len(checks):] + LATER_CHECKS:
            checks.append((rest, "skipped", ""))
        return verdict, checks, info

    try:
        obj = decode("CompactPresentation", data)
    except DecodeError as e:
        return fail("encoding", "TAMPERED", str(e))
    checks.append(("encoding", "ok", "compact presentation of checkpoint %d"
                   % obj["checkpoint_height"]))
    if pkg is None:
        return fail("chain", "UNKNOWN ISSUER", "a compact presentation needs a trust package")
    checks.append(("chain", "ok", pkg["anchor"]["chain_id"]))
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
    checks.append(("state_proof", "ok", "licence %s" % lic["draft"]["id"]))
    if document is None:
        checks.append(("document_hash", "skipped", "no document"))
    elif document_digest(suite, document) != lic["draft"]["document_hash"]:
        return fail("document_hash", "TAMPERED", "document digest differs")
    else:
        checks.append(("document_hash", "ok", ""))
    status = pkg["marks"].get(mark_tag(suite, lic["draft"]["id"]), 0)
    info.update(height=pkg["c"], status_as_of_ms=pkg["time_ms"], licence=lic)
    verdict = _later_checks(checks, lic, status, pkg["time_ms"], now_ms, proof_age_max_ms,
                            " (as of checkpoint %d)" % pkg["c"])
    return verdict, checks, info


def verify_presentation_report(suite, anchor, data, document, now_ms, proof_age_max_ms,
                               pkg=None):
    """Returns (verdict, checks, info): checks = [(name, 'ok'|'FAIL'|'skipped', detail)], info
    = {kind, height, status_as_of_ms, licence} (None where checks 1-6 did not pass). `document`
    is the document's bytes, a DocHash, or None. With `pkg` (a verified trust package, see
    verify_trust_package) checks 2-4 use its moved anchor and, for a header at or below its
    checkpoint, the status comes from its marks; the bytes may then also be a compact
    presentation (tag 0x43)."""
    if data[:1] == b"\x43":
        return verify_compact(suite, pkg, data, document, now_ms, proof_age_max_ms)
    info = {"kind": "licence", "height": None, "status_as_of_ms": None, "licence": None}
    checks, obj, verdict = _common_checks(
        suite, anchor if pkg is None else pkg["anchor"], "Presentation", data, document,
        lambda o: state_key(suite, 6, enc_string(o["licence"]["draft"]["id"])),
        "licence_bytes", lambda o: o["licence"]["draft"]["document_hash"])
    if verdict is not None:
        return verdict, checks + [(n, "skipped", "") for n in LATER_CHECKS], info
    lic = obj["licence"]
    header = obj["certified"]["header"]
    if pkg is not None and header["height"] <= pkg["c"]:
        status = pkg["marks"].get(mark_tag(suite, lic["draft"]["id"]), 0)
        status_time = max(header["time_ms"], pkg["time_ms"])
        status_from = " (as of checkpoint %d)" % pkg["c"]
    else:
        status, status_time, status_from = lic["status"], header["time_ms"], ""
    info.update(height=header["height"], status_as_of_ms=status_time, licence=lic)
    verdict = _later_checks(checks, lic, status, status_time, now_ms, proof_age_max_ms,
                            status_from)
    return verdict, checks, info


def verify_presentation(suite, anchor, data, document, now_ms, proof_age_max_ms, pkg=None):
    """Returns (verdict, checks); see verify_presentation_report."""
    verdict, checks, _ = verify_presentation_report(suite, anchor, data, document, now_ms,
                                                    proof_age_max_ms, pkg)
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


def verify_receipt_report(suite, anchor, data, document, pkg=None):
    """Checks 1-6 of an evidence receipt. Returns (verdict, checks, info), info = {kind,
    height, status_as_of_ms (None: a receipt has no status), anchored_time_ms, evidence}. With
    `pkg`, checks 2-4 use its moved anchor, as for a presentation (an old receipt is then to be
    checked against the genesis anchor)."""
    info = {"kind": "evidence", "height": None, "status_as_of_ms": None,
            "anchored_time_ms": None, "evidence": None}
    checks, obj, verdict = _common_checks(
        suite, anchor if pkg is None else pkg["anchor"], "EvidenceReceipt", data, document,
        lambda o: state_key(suite, 7, o["evidence"]["hash"]),
        "evidence_bytes", lambda o: o["evidence"]["hash"])
    if verdict is not None:
        return verdict, checks, info
    info.update(height=obj["certified"]["header"]["height"],
                anchored_time_ms=obj["evidence"]["time_ms"], evidence=obj["evidence"])
    return "ANCHORED", checks, info


def verify_receipt(suite, anchor, data, document):
    verdict, checks, info = verify_receipt_report(suite, anchor, data, document)
    return verdict, checks, info["anchored_time_ms"]


def holder_commitment(suite, salt, holder_id):
    hid = holder_id.encode("utf-8")
    return suite.H("lichen/holder-commitment/v1", salt + struct.pack(">I", len(hid)) + hid)


def proof_kind(data):
    """PROTOCOL.md, Verifying at a desk: a proof's kind is its leading byte, 0x52 evidence,
    anything else a licence."""
    return "evidence" if data[:1] == b"\x52" else "licence"


def verify_at_desk(suite, anchor, data, document, now_ms, proof_age_max_ms, pkg=None,
                   expect=None, holder=None):
    """The full report of PROTOCOL.md, "Verifying a presentation" and "Verifying at a desk".

    `expect` is None, "licence" or "evidence": the report then starts with a `kind` check, and a
    proof of the other kind is WRONG KIND (unless a more serious verdict applies). `holder` is
    None or (holder id text, 32-byte salt): a `holder` check then follows `document_hash`, run
    only when checks 1-6 passed; a failure is HOLDER MISMATCH and checks 7-10 still run. A
    receipt has no holder, so asking for one fails the check. Returns (verdict, checks, info);
    info also carries `holder_checked` and, with `expect`, `expected_kind`."""
    kind = proof_kind(data)
    if kind == "evidence":
        verdict, checks, info = verify_receipt_report(suite, anchor, data, document, pkg)
    else:
        verdict, checks, info = verify_presentation_report(suite, anchor, data, document,
                                                           now_ms, proof_age_max_ms, pkg)
    checks = list(checks)
    outcomes = [] if verdict in ("VALID", "ANCHORED") else [verdict]
    info["holder_checked"] = False
    if holder is not None:
        hid, salt = holder
        at = [n for n, _, _ in checks].index("document_hash") + 1
        early_ok = all(st != "FAIL" for _, st, _ in checks[:at])
        if not early_ok:
            line = ("holder", "skipped", "checks 1-6 did not pass")
        elif kind == "evidence":
            line = ("holder", "FAIL", "an evidence receipt names no holder")
            outcomes.append("HOLDER MISMATCH")
        elif holder_commitment(suite, salt, hid) == info["licence"]["draft"]["holder_commitment"]:
            line = ("holder", "ok", "the holder id and salt open the holder commitment")
            info["holder_checked"] = True
        else:
            line = ("holder", "FAIL", "the holder id and salt do not open the holder commitment")
            outcomes.append("HOLDER MISMATCH")
            info["holder_checked"] = True
        checks.insert(at, line)
    if expect is not None:
        info["expected_kind"] = expect
        if kind == expect:
            checks.insert(0, ("kind", "ok", kind))
        else:
            checks.insert(0, ("kind", "FAIL", "a%s %s proof, this desk expects a%s %s" % (
                "n" if kind == "evidence" else "", kind,
                "n" if expect == "evidence" else "", expect)))
            outcomes.append("WRONG KIND")
    for v in SEVERITY:
        if v in outcomes:
            return v, checks, info
    return ("ANCHORED" if kind == "evidence" else "VALID"), checks, info


def first_failure(checks):
    for name, st, why in checks:
        if st == "FAIL":
            return name, why
    return None, None


# ----------------------------------------------------------------------------- times

_EPOCH_ORDINAL = 719163  # datetime.date(1970, 1, 1).toordinal()
_U64_MAX = 2 ** 64 - 1


def ms_to_rfc3339(ms):
    """Milliseconds since the Unix epoch to RFC 3339 UTC (`…T…[.fff]Z`), by calendar arithmetic."""
    import datetime
    days, rest = divmod(ms, 86400000)
    if days + _EPOCH_ORDINAL > datetime.date.max.toordinal():
        return "%d ms" % ms
    d = datetime.date.fromordinal(days + _EPOCH_ORDINAL)
    sec, milli = divmod(rest, 1000)
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (d.year, d.month, d.day, sec // 3600,
                                             sec // 60 % 60, sec % 60)
    return text + (".%03d" % milli if milli else "") + "Z"


# ASCII digits only; fullmatch (a "$" would also match before a final newline).
_RFC3339_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
                         r"([Zz]|[+-]\d{2}:\d{2})", re.ASCII)


def rfc3339_to_ms(text, strict_utc=False):
    """An RFC 3339 time to milliseconds since the Unix epoch. Fractions below a millisecond are
    refused unless zero. `strict_utc` is the genesis file's form: `…T…[.f{1,3}]Z`. Raises
    ValueError."""
    import datetime
    m = _RFC3339_RE.fullmatch(text)
    if not m:
        raise ValueError("not an RFC 3339 time: %r" % text)
    year, month, day, hh, mi, ss = (int(x) for x in m.groups()[:6])
    frac, off = m.group(7) or "", m.group(8)
    # RFC 3339 (5.6, NOTE) allows "t" and "z" in lower case; so does the Rust reader.
    if strict_utc and (off not in ("Z", "z") or len(frac) > 3):
        raise ValueError("not of the form YYYY-MM-DDTHH:MM:SS[.f{1,3}]Z: %r" % text)
    if frac[3:].strip("0"):
        raise ValueError("finer than a millisecond: %r" % text)
    if hh > 23 or mi > 59 or ss > 59:
        raise ValueError("no such time of day: %r" % text)
    days = datetime.date(year, month, day).toordinal() - _EPOCH_ORDINAL  # checks the date
    ms = ((days * 24 + hh) * 60 + mi) * 60000 + ss * 1000 + int((frac + "000")[:3])
    if off not in ("Z", "z"):
        sign = 1 if off[0] == "+" else -1
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            raise ValueError("bad UTC offset in %r" % text)
        ms -= sign * (oh * 60 + om) * 60000
    if not 0 <= ms <= _U64_MAX:
        raise ValueError("before 1970 or too far ahead: %r" % text)
    return ms


_DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 604800000}


def parse_duration(text):
    """`24h`, `7d`, `90m`, `1d12h`, `500ms` ... to milliseconds (a unit is required)."""
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w)", text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError("not a duration (like 24h, 7d, 1d12h, 90m, 30s, 500ms): %r" % text)
    total = sum(int(n) * _DURATION_UNITS[u] for n, u in parts)
    if total > _U64_MAX:
        raise ValueError("duration too long: %r" % text)
    return total


# ----------------------------------------------------------------------------- trust inputs

class TrustInputError(Exception):
    pass


class _JsonNumber:
    """A JSON number that is not a plain non-negative integer (a fraction, an exponent, a sign)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _strict_json(text):
    """Strict JSON: a repeated key in an object is refused; numbers other than unsigned integers
    come back as _JsonNumber (refused wherever an integer is read)."""
    def pairs(items):
        out = {}
        for k, val in items:
            if k in out:
                raise TrustInputError("the key %r is repeated in an object" % k)
            out[k] = val
        return out

    def bad_constant(name):
        raise TrustInputError("%s is not JSON" % name)

    def integer(lit):
        return _JsonNumber(lit) if lit.startswith("-") else int(lit)

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_float=_JsonNumber,
                          parse_int=integer, parse_constant=bad_constant)
    except ValueError as e:
        raise TrustInputError("not JSON: %s" % e)


class _J:
    """A cursor into strict JSON with the path of every value, for error messages."""

    def __init__(self, value, path="$"):
        self.v = value
        self.path = path

    def err(self, msg):
        raise TrustInputError("%s: %s" % (self.path, msg))

    def obj(self, required, optional=()):
        if not isinstance(self.v, dict):
            self.err("expected an object")
        for k in self.v:
            if k not in required and k not in optional:
                self.err("unknown field %r" % k)
        for k in required:
            if k not in self.v:
                self.err("missing field %r" % k)
        return self

    def has(self, key):
        return key in self.v

    def __getitem__(self, key):
        return _J(self.v[key], "%s.%s" % (self.path, key))

    def items(self, lo, hi):
        if not isinstance(self.v, list):
            self.err("expected a list")
        if not lo <= len(self.v) <= hi:
            self.err("%d entries, allowed %d-%d" % (len(self.v), lo, hi))
        return [_J(x, "%s[%d]" % (self.path, i)) for i, x in enumerate(self.v)]

    def uint(self, bits):
        if type(self.v) is not int:  # not bool, not a fraction, exponent, sign or string
            self.err("expected an unsigned integer, got %r" % (self.v,))
        if self.v >= 1 << bits:
            self.err("%d does not fit in u%d" % (self.v, bits))
        return self.v

    def text(self):
        if not isinstance(self.v, str):
            self.err("expected a string")
        try:
            self.v.encode("utf-8")
        except UnicodeEncodeError:
            self.err("not valid Unicode (a lone surrogate)")
        return self.v

    def ident(self):
        t = self.text()
        if not valid_identifier(t):
            self.err("%r is not an identifier (1-64 of A-Z a-z 0-9 . _ - : /)" % t)
        return t

    def name(self):
        t = self.text()
        if not valid_name(t):
            self.err("%r is not a name (1-256 bytes, not only white space, no control "
                     "character)" % t)
        return t

    def hex_bytes(self, lo, hi):
        t = self.text()
        if not re.fullmatch(r"(?:[0-9a-fA-F]{2})*", t):
            self.err("not hex")
        b = bytes.fromhex(t)
        if not lo <= len(b) <= hi:
            self.err("%d bytes, allowed %d-%d" % (len(b), lo, hi))
        return b

    def key(self, suite_algo):
        t = self.text()
        m = re.fullmatch(r"sm2:([0-9a-fA-F]{66})|ed25519:([0-9a-fA-F]{64})", t)
        if not m:
            self.err("not a key (sm2:<66 hex> or ed25519:<64 hex>): %r" % t)
        algo = 1 if m.group(1) else 2
        enc = bytes([algo]) + bytes.fromhex(m.group(1) or m.group(2))
        try:
            k = dec_public_key(Reader(enc))
        except DecodeError as e:
            self.err(str(e))
        if algo != suite_algo:
            self.err("a %s key on a chain of the %s suite" % (
                "sm2" if algo == 1 else "ed25519", SUITES[suite_algo][0]))
        return k

    def suite(self):
        if self.v not in ("sm", "intl"):
            self.err('suite must be "sm" or "intl", not %r' % (self.v,))
        return SUITE_BY_NAME[self.v]

    def status(self):
        if self.v not in ("active", "suspended"):
            self.err('status must be "active" or "suspended", not %r' % (self.v,))
        return 0 if self.v == "active" else 1


def _enc_bytes(b):
    return struct.pack(">I", len(b)) + b


def _enc_keys(keys):
    return struct.pack(">I", len(keys)) + b"".join(k["enc"] for k in keys)


def _sorted_keys(j, lo, hi, suite_algo):
    keys, seen = [], set()
    for x in j.items(lo, hi):
        k = x.key(suite_algo)
        if k["enc"] in seen:
            x.err("repeated key")
        seen.add(k["enc"])
        keys.append(k)
    return sorted(keys, key=lambda k: k["enc"])


def _json_validators(j, suite_algo):
    vals = []
    keys, peers = set(), set()
    for x in j.items(1, 128):
        x.obj(("name", "key", "peer_id"))
        v = {"name": x["name"].name(), "key": x["key"].key(suite_algo),
             "peer_id": x["peer_id"].hex_bytes(1, 64)}
        if v["key"]["enc"] in keys:
            x["key"].err("repeated validator key")
        if v["peer_id"] in peers:
            x["peer_id"].err("repeated validator peer_id")
        keys.add(v["key"]["enc"])
        peers.add(v["peer_id"])
        vals.append(v)
    return sorted(vals, key=lambda v: v["key"]["enc"])


_PARAMS = (("view_timeout_base_ms", 64), ("view_timeout_step_ms", 64),
           ("view_timeout_max_ms", 64), ("block_interval_ms", 64), ("block_txs_max", 32),
           ("block_bytes_max", 32), ("tx_expiry_blocks_max", 64))


def genesis_from_json(text):
    """PROTOCOL.md, "The genesis file as a trust input": the strict reading of genesis.json.
    Returns (genesis encoding, chain_id, suite tag, ValidatorSet as decoded validators)."""
    root = _J(_strict_json(text)).obj(
        ("config", "time_ms", "validators", "agencies", "licence_types", "submitters"),
        ("time", "observers"))
    cfg = root["config"].obj(("chain_id", "suite", "council", "params"))
    chain_id = cfg["chain_id"].ident()
    suite_tag = cfg["suite"].suite()
    algo = SUITES[suite_tag][2]
    council = cfg["council"].obj(("members", "threshold"))
    members = _sorted_keys(council["members"], 1, 32, algo)
    threshold = council["threshold"].uint(16)
    if not 1 <= threshold <= len(members):
        council["threshold"].err("threshold %d outside 1..%d" % (threshold, len(members)))
    params = cfg["params"].obj(tuple(n for n, _ in _PARAMS))
    pv = {n: params[n].uint(bits) for n, bits in _PARAMS}
    if pv["view_timeout_base_ms"] == 0:
        params["view_timeout_base_ms"].err("must be above 0")
    if pv["view_timeout_max_ms"] < pv["view_timeout_base_ms"]:
        params["view_timeout_max_ms"].err("below view_timeout_base_ms")
    for n in ("block_txs_max", "block_bytes_max", "tx_expiry_blocks_max"):
        if pv[n] == 0:
            params[n].err("must be above 0")
    if pv["block_bytes_max"] < 65536:
        params["block_bytes_max"].err("must hold one transaction of the largest size (65536 bytes)")
    if pv["block_bytes_max"] > 8 * 1024 * 1024:
        params["block_bytes_max"].err("is above 8388608 (8 MiB)")
    if pv["block_txs_max"] > 100000:
        params["block_txs_max"].err("is above 100000")
    time_ms = root["time_ms"].uint(64)
    if root.has("time"):
        try:
            t = rfc3339_to_ms(root["time"].text(), strict_utc=True)
        except ValueError as e:
            root["time"].err(str(e))
        if t != time_ms:
            root["time"].err("names %d ms, time_ms is %d" % (t, time_ms))
    validators = _json_validators(root["validators"], algo)

    agencies, agency_ids = [], set()
    for x in root["agencies"].items(0, 10000):
        x.obj(("id", "name", "keys", "status"))
        a = (x["id"].ident(), x["name"].name(), _sorted_keys(x["keys"], 1, 16, algo),
             x["status"].status())
        if a[0] in agency_ids:
            x["id"].err("repeated agency id %r" % a[0])
        agency_ids.add(a[0])
        agencies.append(a)
    types, codes = [], set()
    for x in root["licence_types"].items(0, 10000):
        x.obj(("code", "name", "authorised"))
        code, name = x["code"].ident(), x["name"].name()
        if code in codes:
            x["code"].err("repeated licence type code %r" % code)
        codes.add(code)
        auth = []
        for y in x["authorised"].items(0, 1024):
            aid = y.ident()
            if aid in auth:
                y.err("repeated agency id %r" % aid)
            if aid not in agency_ids:
                y.err("%r is not in agencies" % aid)
            auth.append(aid)
        types.append((code, name, sorted(auth, key=lambda a: a.encode())))
    submitters, sub_ids = [], set()
    for x in root["submitters"].items(0, 10000):
        x.obj(("id", "name", "keys", "status"))
        sb = (x["id"].ident(), x["name"].name(), _sorted_keys(x["keys"], 1, 16, algo),
              x["status"].status())
        if sb[0] in sub_ids:
            x["id"].err("repeated submitter id %r" % sb[0])
        sub_ids.add(sb[0])
        submitters.append(sb)
    observers, obs_peers = [], set()
    val_peers = {v["peer_id"] for v in validators}
    for x in (root["observers"].items(0, 10000) if root.has("observers") else []):
        x.obj(("name", "peer_id"))
        o = (x["name"].name(), x["peer_id"].hex_bytes(1, 64))
        if o[1] in obs_peers:
            x["peer_id"].err("repeated observer peer_id")
        if o[1] in val_peers:
            x["peer_id"].err("an observer with a validator's peer_id")
        obs_peers.add(o[1])
        observers.append(o)

    def agency_enc(a):
        return enc_string(a[0]) + enc_string(a[1]) + _enc_keys(a[2]) + bytes([a[3]])

    out = enc_string(chain_id) + bytes([suite_tag]) + _enc_keys(members) + \
        struct.pack(">H", threshold)
    out += b"".join(struct.pack(">Q" if bits == 64 else ">I", pv[n]) for n, bits in _PARAMS)
    out += struct.pack(">Q", time_ms) + enc_validator_set(validators)
    out += struct.pack(">I", len(agencies)) + b"".join(agency_enc(a) for a in agencies)
    out += struct.pack(">I", len(types)) + b"".join(
        enc_string(c) + enc_string(n) + struct.pack(">I", len(au)) +
        b"".join(enc_string(x) for x in au) for c, n, au in types)
    out += struct.pack(">I", len(submitters)) + b"".join(agency_enc(x) for x in submitters)
    out += struct.pack(">I", len(observers)) + b"".join(
        enc_string(n) + _enc_bytes(pid) for n, pid in observers)
    # Belt and braces: the encoded parts obey the canonical decoders' rules too.
    try:
        decode("ValidatorSet", enc_validator_set(validators))
        for a in agencies + submitters:
            decode_with(dec_agency, agency_enc(a))
    except DecodeError as e:
        raise TrustInputError("genesis does not encode canonically: %s" % e)
    return out, chain_id, suite_tag, validators


def decode_with(fn, data):
    r = Reader(data)
    v = fn(r)
    r.end()
    return v


def enc_trust_anchor(chain_id, suite_tag, genesis_hash, height, validators):
    return b"\x41" + enc_string(chain_id) + bytes([suite_tag]) + genesis_hash + \
        struct.pack(">Q", height) + enc_validator_set(validators)


def anchor_from_genesis_json(text):
    """Steps 1-7: returns (trust anchor bytes, {genesis_hash, validator_set_hash})."""
    g, chain_id, suite_tag, validators = genesis_from_json(text)
    suite = Suite(suite_tag)
    gh = suite.H("lichen/genesis/v1", g)
    return enc_trust_anchor(chain_id, suite_tag, gh, 0, validators), {
        "genesis_hash": gh, "validator_set_hash": validator_set_hash(suite, validators)}


def anchor_from_json(text):
    """A trust anchor written as JSON: chain_id, suite, genesis_hash, height, validators (name,
    key, peer_id as in genesis.json). `fingerprint` and `validator_set_hash`, when present, must
    match what the anchor gives."""
    root = _J(_strict_json(text)).obj(("chain_id", "suite", "genesis_hash", "height",
                                       "validators"), ("fingerprint", "validator_set_hash"))
    chain_id = root["chain_id"].ident()
    suite_tag = root["suite"].suite()
    suite = Suite(suite_tag)
    gh = root["genesis_hash"].hex_bytes(32, 32)
    height = root["height"].uint(64)
    validators = _json_validators(root["validators"], SUITES[suite_tag][2])
    data = enc_trust_anchor(chain_id, suite_tag, gh, height, validators)
    for field, got in (("fingerprint", suite.H("lichen/trust-anchor/v1", data)),
                       ("validator_set_hash", validator_set_hash(suite, validators))):
        if root.has(field) and root[field].hex_bytes(32, 32) != got:
            root[field].err("does not match the anchor (computed %s)" % got.hex())
    return data


def load_trust(path):
    """--trust: a genesis JSON file, a binary trust anchor (leading byte 0x41) or a trust anchor
    in JSON. Returns (anchor bytes, decoded anchor, Suite, description dict)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise TrustInputError("cannot read %s: %s" % (path, e.strerror or e))
    extra = {}
    if raw[:1] == b"\x41":
        data, source = raw, "trust anchor"
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TrustInputError("%s is neither a trust anchor (leading byte 0x41) nor UTF-8 "
                                  "JSON" % path)
        if text.startswith("\ufeff"):
            raise TrustInputError("%s starts with a byte order mark" % path)
        obj = _strict_json(text)
        if isinstance(obj, dict) and "config" in obj:
            data, extra = anchor_from_genesis_json(text)
            source = "genesis file"
        elif isinstance(obj, dict) and "genesis_hash" in obj:
            data, source = anchor_from_json(text), "trust anchor (JSON)"
        else:
            raise TrustInputError("%s is neither a genesis file nor a trust anchor" % path)
    try:
        anchor = decode("TrustAnchor", data)
    except DecodeError as e:
        raise TrustInputError("%s: the trust anchor does not decode: %s" % (path, e))
    suite = Suite(anchor["suite"])
    extra.update(source=source, fingerprint=suite.H("lichen/trust-anchor/v1", data))
    return data, anchor, suite, extra


# ----------------------------------------------------------------------------- court command

USAGE = """\
usage: independent_verifier.py VECTORS.json ...        (check golden vector files)
       independent_verifier.py --trust GENESIS_OR_ANCHOR --presentation FILE
           [--document FILE | --document-hash HEX] [--trust-package FILE]
           [--expect licence|evidence] [--holder-id ID --holder-salt HEX]
           [--max-age DURATION] [--at RFC3339] [--json]

Verifies a presentation, compact presentation or evidence receipt offline, from PROTOCOL.md
alone, against the trust anchor derived from a genesis.json (or a binary trust anchor, or a
trust anchor in JSON). Prints the verdict on the first line, then one line per check.

  --trust FILE          genesis.json, a trust anchor file (leading byte 0x41) or its JSON form
  --presentation FILE   the presentation (.pres), compact presentation (.cpres) or receipt
                        (.rcpt): its bytes, or the same bytes as hex or Base64 text
  --document FILE       the licence or evidence file, hashed here (never sent anywhere)
  --document-hash HEX   the file's digest instead (SM3 for sm chains, SHA-256 for intl)
  --trust-package FILE  a trust package, verified against --trust before it is used
  --expect KIND         licence or evidence: a proof of the other kind is WRONG KIND
  --holder-id ID        the holder id (as issued) and the 32-byte salt (64 hex) the issuer
  --holder-salt HEX     gave the holder: the licence must be theirs (else HOLDER MISMATCH)
  --max-age DURATION    the oldest proof accepted (24h, 7d, 1d12h, 90m ...); default 24h
  --at TIME             verify as of this RFC 3339 time (default: now)
  --json                print the report as JSON

Exit status: 0 for VALID or ANCHORED, 1 for any other verdict, 2 for a usage error or a trust
input (genesis, anchor, trust package) that cannot be read or does not verify."""


class UsageError(Exception):
    pass


_CLI_OPTIONS = {"--trust", "--presentation", "--document", "--document-hash", "--trust-package",
                "--expect", "--holder-id", "--holder-salt", "--max-age", "--at"}
_CLI_FLAGS = {"--json", "--help", "-h"}


def parse_cli(args):
    opts = {}
    i = 0
    while i < len(args):
        a = args[i]
        name, eq, val = a.partition("=") if a.startswith("--") else (a, "", "")
        if name in _CLI_FLAGS and not eq:
            opts[name] = True
            i += 1
            continue
        if name not in _CLI_OPTIONS:
            raise UsageError("unknown argument %r" % a)
        if not eq:
            if i + 1 >= len(args):
                raise UsageError("%s needs a value" % name)
            val = args[i + 1]
            i += 1
        i += 1
        if name in opts:
            raise UsageError("%s given twice" % name)
        opts[name] = val
    return opts


def _read_input(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise UsageError("cannot read %s %s: %s" % (what, path, e.strerror or e))


def proof_bytes(raw):
    """A proof file holds its bytes; a text file with the same bytes as hex or Base64 is read
    too (as the desk page accepts pasted text)."""
    import base64
    import binascii
    if raw[:1] in (b"\x50", b"\x52", b"\x43"):
        return raw
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return raw
    compact = "".join(text.split())
    if compact and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", compact):
        return bytes.fromhex(compact)
    if compact and re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", compact):
        c = compact.rstrip("=").replace("-", "+").replace("_", "/")
        try:
            b = base64.b64decode(c + "=" * (-len(c) % 4), validate=True)
            if b[:1] in (b"\x50", b"\x52", b"\x43"):
                return b
        except (binascii.Error, ValueError):
            pass
    return raw


_UNSAFE = re.compile("[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe_text(s):
    """Escapes control characters (and bidi controls) so nothing printed can redraw a
    terminal."""
    return _UNSAFE.sub(lambda m: "\\u%04x" % ord(m.group()), s)


OUTCOME_WORD = {"ok": "pass", "FAIL": "FAIL", "skipped": "skip"}
OUTCOME_JSON = {"ok": "pass", "FAIL": "fail", "skipped": "skip"}
STATUS_NAME = {0: "active", 1: "suspended", 2: "revoked", 3: "superseded"}


def cli_main(args, out=None):
    """The court command. Returns the exit status."""
    import time
    if out is None:
        out = sys.stdout
        try:  # a name or label the terminal cannot show is escaped, not a crash
            out.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass

    def say(line=""):
        out.write(line + "\n")

    try:
        opts = parse_cli(args)
        if opts.get("--help") or opts.get("-h"):
            say(USAGE)
            return 0
        for req in ("--trust", "--presentation"):
            if req not in opts:
                raise UsageError("%s is required" % req)
        if "--document" in opts and "--document-hash" in opts:
            raise UsageError("give --document or --document-hash, not both")
        expect = opts.get("--expect")
        if expect not in (None, "licence", "evidence"):
            raise UsageError("--expect must be licence or evidence")
        if ("--holder-id" in opts) != ("--holder-salt" in opts):
            raise UsageError("--holder-id and --holder-salt go together")
        holder = None
        if "--holder-id" in opts:
            if expect == "evidence":
                raise UsageError("an evidence desk has no holder to check")
            salt_hex = opts["--holder-salt"].strip()
            if not re.fullmatch(r"[0-9a-fA-F]{64}", salt_hex):
                raise UsageError("--holder-salt must be 32 bytes in hex (64 digits)")
            try:
                opts["--holder-id"].encode("utf-8")
            except UnicodeEncodeError:
                raise UsageError("--holder-id is not valid UTF-8")
            holder = (opts["--holder-id"], bytes.fromhex(salt_hex))
        try:
            max_age = parse_duration(opts.get("--max-age", "24h"))
        except ValueError as e:
            raise UsageError("--max-age: %s" % e)
        if "--at" in opts:
            try:
                now_ms = rfc3339_to_ms(opts["--at"])
            except ValueError as e:
                raise UsageError("--at: %s" % e)
        else:
            now_ms = int(time.time() * 1000)
        data = proof_bytes(_read_input(opts["--presentation"], "presentation"))
        document = None
        if "--document" in opts:
            document = _read_input(opts["--document"], "document")
        elif "--document-hash" in opts:
            dh = opts["--document-hash"].strip()
            if not re.fullmatch(r"[0-9a-fA-F]{64}", dh):
                raise UsageError("--document-hash must be 32 bytes in hex (64 digits)")
            document = DocHash(bytes.fromhex(dh))
        pkg_raw = None
        if "--trust-package" in opts:
            pkg_raw = _read_input(opts["--trust-package"], "trust package")
    except UsageError as e:
        sys.stderr.write("error: %s\n\n%s\n" % (e, USAGE))
        return 2

    try:
        anchor_bytes, anchor, suite, trust = load_trust(opts["--trust"])
    except TrustInputError as e:
        sys.stderr.write("error: trust input refused: %s\n" % e)
        return 2
    pkg = None
    if pkg_raw is not None:
        pkg, err = verify_trust_package(suite, anchor, pkg_raw)
        if pkg is None:
            sys.stderr.write("error: trust package refused (%s): %s\n" % err)
            return 2

    verdict, checks, info = verify_at_desk(suite, anchor, data, document, now_ms, max_age, pkg,
                                           expect, holder)
    ok = verdict in ("VALID", "ANCHORED")
    anchor_json = {"source": trust["source"], "chain_id": anchor["chain_id"],
                   "suite": suite.name, "genesis_hash": anchor["genesis_hash"].hex(),
                   "height": anchor["height"], "fingerprint": trust["fingerprint"].hex()}
    pkg_json = None
    if pkg is not None:
        pkg_json = {"checkpoint_height": pkg["c"], "checkpoint_time_ms": pkg["time_ms"],
                    "checkpoint_time": ms_to_rfc3339(pkg["time_ms"]),
                    "anchor_height": pkg["L"], "fingerprint": pkg["hash"].hex()}
    if opts.get("--json"):
        report = {"verdict": verdict, "ok": ok, "kind": info["kind"],
                  "checks": [{"id": n, "outcome": OUTCOME_JSON[st], "detail": d}
                             for n, st, d in checks],
                  "height": info["height"], "status_as_of_ms": info["status_as_of_ms"],
                  "status_as_of": None if info["status_as_of_ms"] is None
                  else ms_to_rfc3339(info["status_as_of_ms"]),
                  "holder_checked": info["holder_checked"], "expect": expect,
                  "now_ms": now_ms, "proof_age_max_ms": max_age,
                  "trust_anchor": anchor_json, "trust_package": pkg_json}
        if "validator_set_hash" in trust:
            anchor_json["validator_set_hash"] = trust["validator_set_hash"].hex()
        lic = info.get("licence")
        if lic is not None:
            d = lic["draft"]
            report["licence"] = {
                "id": d["id"], "licence_type": d["licence_type"], "issuer": d["issuer"],
                "document_hash": d["document_hash"].hex(), "valid_from_ms": d["valid_from_ms"],
                "valid_until_ms": d["valid_until_ms"],
                "recorded_status": STATUS_NAME[lic["status"]],
                "recorded_status_reason": lic["status_reason"],
                "issued_height": lic["issued_height"]}
        ev = info.get("evidence")
        if ev is not None:
            report["evidence"] = {"hash": ev["hash"].hex(), "submitter": ev["submitter"],
                                  "label": ev["label"], "height": ev["height"],
                                  "time_ms": ev["time_ms"],
                                  "time": ms_to_rfc3339(ev["time_ms"])}
            report["anchored_time_ms"] = ev["time_ms"]
        say(json.dumps(report, indent=2))  # json.dumps escapes control characters
        return 0 if ok else 1

    say(verdict)
    for n, st, d in checks:
        say(("  [%s] %s %s" % (OUTCOME_WORD[st], n, safe_text(d))).rstrip())
    lic, ev = info.get("licence"), info.get("evidence")
    if lic is not None:
        d = lic["draft"]
        say("licence %s (type %s, issuer %s), status in the presented record: %s%s" % (
            safe_text(d["id"]), safe_text(d["licence_type"]), safe_text(d["issuer"]),
            STATUS_NAME[lic["status"]],
            (": " + safe_text(lic["status_reason"])) if lic["status_reason"] else ""))
        say("status as of %s (block %d)" % (ms_to_rfc3339(info["status_as_of_ms"]),
                                            info["height"]))
    if holder is None and info["kind"] == "licence":
        say("holder: not checked (no --holder-id and --holder-salt)")
    if ev is not None:
        say("evidence %s anchored at %s (block %d) by %s, label %s" % (
            ev["hash"].hex(), ms_to_rfc3339(ev["time_ms"]), ev["height"],
            safe_text(ev["submitter"]), '"%s"' % safe_text(ev["label"])))
    say("verified at %s, proof age allowed %d ms" % (ms_to_rfc3339(now_ms), max_age))
    say("trust: %s, chain %s (%s), genesis %s, anchor height %d, fingerprint %s" % (
        trust["source"], anchor["chain_id"], suite.name, anchor["genesis_hash"].hex(),
        anchor["height"], trust["fingerprint"].hex()))
    if pkg is not None:
        say("trust as of checkpoint %d (%s), package fingerprint %s" % (
            pkg["c"], ms_to_rfc3339(pkg["time_ms"]), pkg["hash"].hex()))
    return 0 if ok else 1


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

    # at a desk: the expected kind and the holder check, every failing check in report order
    for i, p in enumerate(v.get("at_desk", [])):
        label = "at_desk[%d] %s" % (i, p.get("name"))
        holder = None
        if p.get("holder_id") is not None:
            holder = (p["holder_id"], bytes.fromhex(p["holder_salt"]))
        verdict, checks, info = verify_at_desk(
            suite, anchor, bytes.fromhex(p["hex"]), _hx(p.get("document")), p["now_ms"],
            p["proof_age_max_ms"], None, p.get("expect"), holder)
        failed = [n for n, st, _ in checks if st == "FAIL"]
        names = [n for n, _, _ in checks]
        problems = []
        if verdict != p["verdict"] or failed != p["failed_checks"]:
            problems.append("got %s %s, want %s %s" % (verdict, failed, p["verdict"],
                                                       p["failed_checks"]))
        if (p.get("expect") is not None) != (names[0] == "kind"):
            problems.append("kind line: %s" % names)
        if holder is None and ("holder" in names or info["holder_checked"]):
            problems.append("a holder line without a holder")
        if holder is not None and names[names.index("document_hash") + 1] != "holder":
            problems.append("holder line not after document_hash: %s" % names)
        t.check(label, not problems, "; ".join(problems))

    # at a desk, beyond the vectors: a more serious verdict wins over WRONG KIND; a receipt
    # names no holder; the holder check does not run when checks 1-6 fail
    desk = v.get("at_desk", [])
    rc = next((p for p in desk if p["hex"].startswith("52")), None)
    lc = next((p for p in desk if p["holder_id"] is not None and p["verdict"] == "VALID"), None)
    if rc is not None and lc is not None:
        salt = b"\x07" * 32
        runs = [
            ("a cut receipt at a licence desk", rc, bytes.fromhex(rc["hex"])[:-1], None,
             "licence", None, "TAMPERED", ["kind", "encoding"]),
            ("a receipt with a holder", rc, bytes.fromhex(rc["hex"]), None, None, ("x", salt),
             "HOLDER MISMATCH", ["holder"]),
            ("a licence with another document and a holder", lc, bytes.fromhex(lc["hex"]),
             b"\x01", None, ("nobody", salt), "TAMPERED", ["document_hash"]),
        ]
        for what, p, data, doc, expect, holder, want_v, want_f in runs:
            verdict, checks, _ = verify_at_desk(suite, anchor, data, doc, p["now_ms"],
                                                p["proof_age_max_ms"], None, expect, holder)
            failed = [n for n, st, _ in checks if st == "FAIL"]
            t.check("desk: " + what, (verdict, failed) == (want_v, want_f),
                    "got %s %s" % (verdict, failed))

    # safe text (decoding rules): a chain id that is no identifier; a control character in a
    # status reason or an evidence label
    def with_byte(b, at, x):
        return b[:at] + bytes([x]) + b[at + 1:]

    for o in v.get("objects", []):
        if o["type"] not in ("BlockHeader", "Vote", "TrustAnchor", "Transaction",
                             "SignedTransaction"):
            continue
        b = bytes.fromhex(o["hex"])
        at = b.find(v["chain_id"].encode())
        for x in (0x20, 0x0a, 0xc3):
            try:
                decode(o["type"], with_byte(b, at, x))
                t.check("safe text: %s chain id with byte %02x" % (o["name"], x), False,
                        "decoded")
            except DecodeError:
                t.check("safe text", True)
    for p in v.get("receipts", []) + v.get("presentations", []):
        b = bytes.fromhex(p["hex"])
        try:
            obj = decode("EvidenceReceipt" if b[0] == 0x52 else "Presentation", b)
        except DecodeError:
            continue
        text = obj["evidence"]["label"] if b[0] == 0x52 else obj["licence"]["status_reason"]
        if not text:
            continue
        at = b.find(text.encode())
        for x in (0x1b, 0x0d, 0x7f):
            verdict, checks, _ = verify_at_desk(suite, anchor, with_byte(b, at, x), None,
                                                p.get("now_ms", 0), p.get("proof_age_max_ms", 0))
            t.check("safe text: %s with byte %02x in its %s" % (
                p.get("name"), x, "label" if b[0] == 0x52 else "status reason"),
                (verdict, first_failure(checks)[0]) == ("TAMPERED", "encoding"),
                "got %s" % verdict)

    run_cli_cases(v, t)
    return t


def run_cli_cases(v, t):
    """The court command, run in-process on files made from the golden cases: the trust anchor
    and packages as binary files, each case's bytes (and document) as files, `now_ms` as --at.
    Its first line and exit status must give the vector's verdict; in --json, at-desk cases
    list exactly their failing checks."""
    import io
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        def write(name, data):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            return path

        anchor_path = write("anchor.bin", bytes.fromhex(v["trust_anchor"]))
        pkg_paths = {p["name"]: write("pkg-%s.bin" % p["name"], bytes.fromhex(p["hex"]))
                     for p in v.get("trust_packages", [])}
        for sec in ("presentations", "broken_presentations", "receipts", "at_desk",
                    "with_trust_package"):
            for i, c in enumerate(v.get(sec, [])):
                args = ["--trust", anchor_path, "--presentation",
                        write("%s-%d.bin" % (sec, i), bytes.fromhex(c["hex"]))]
                if "now_ms" in c:
                    args += ["--at", ms_to_rfc3339(c["now_ms"]),
                             "--max-age", "%dms" % c["proof_age_max_ms"]]
                if c.get("document") is not None:
                    if i % 2:  # alternately the file and its digest
                        suite = Suite(SUITE_BY_NAME[v["suite"]])
                        args += ["--document-hash", suite.D(bytes.fromhex(c["document"])).hex()]
                    else:
                        args += ["--document", write("%s-%d.doc" % (sec, i),
                                                     bytes.fromhex(c["document"]))]
                if c.get("expect") is not None:
                    args += ["--expect", c["expect"]]
                if c.get("holder_id") is not None:
                    args += ["--holder-id", c["holder_id"], "--holder-salt", c["holder_salt"]]
                if c.get("package") is not None:
                    args += ["--trust-package", pkg_paths[c["package"]]]
                want_rc = 0 if c["verdict"] in ("VALID", "ANCHORED") else 1
                label = "cli %s[%d] %s" % (sec, i, c.get("name"))
                out = io.StringIO()
                rc = cli_main(args, out)
                lines = out.getvalue().splitlines()
                t.check(label, rc == want_rc and lines[:1] == [c["verdict"]],
                        "exit %d, first line %r; want %d, %s" % (rc, lines[:1], want_rc,
                                                                c["verdict"]))
                if sec != "at_desk":
                    continue
                out = io.StringIO()
                rc = cli_main(args + ["--json"], out)
                rep = json.loads(out.getvalue())
                failed = [x["id"] for x in rep["checks"] if x["outcome"] == "fail"]
                t.check(label + " --json", rc == want_rc and rep["verdict"] == c["verdict"] and
                        failed == c["failed_checks"], "got %s %s" % (rep["verdict"], failed))


# The values PROTOCOL.md ("The genesis file as a trust input", Check) gives for
# genesis/localnet/genesis.json.
LOCALNET_GENESIS = {
    "validator_set_hash": "c1738a7a7599a08a191d3a3f0d40a6124e5848c136be5ea24f27334aa5516a8b",
    "genesis_hash": "3d25041c93204079b282da5eaeb829069acc545984cb3d6f75f0ae6e9dfc2e42",
    "fingerprint": "e38983b9c88b0cc93b74628cac109f9f14fd088a19777e4eb31140e017ffc9ac",
}


def genesis_self_test(path):
    """genesis.json as a trust input: the localnet values of PROTOCOL.md; what must not change
    G (layout, hex case, `time`, the order of validators, keys and `authorised`); what must (the
    order of agencies, any value); what must be refused; and the anchor's JSON form."""
    import copy
    errs = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        data, extra = anchor_from_genesis_json(text)
    except TrustInputError as e:
        return ["genesis: %s refused: %s" % (path, e)]
    suite = Suite(decode("TrustAnchor", data)["suite"])
    got = {"validator_set_hash": extra["validator_set_hash"].hex(),
           "genesis_hash": extra["genesis_hash"].hex(),
           "fingerprint": suite.H("lichen/trust-anchor/v1", data).hex()}
    if got != LOCALNET_GENESIS:
        errs.append("genesis: localnet values %r, PROTOCOL.md says %r" % (got, LOCALNET_GENESIS))
    g = json.loads(text)
    G = extra["genesis_hash"]

    def gh(obj, raw=None):
        return anchor_from_genesis_json(raw if raw is not None else json.dumps(obj))[1][
            "genesis_hash"]

    same, differ, refused = [], [], []
    v = copy.deepcopy(g)
    v["validators"].reverse()
    same.append(("validators reversed", v))
    v = copy.deepcopy(g)
    for a in v["validators"]:
        a["key"] = "sm2:" + a["key"][4:].upper()
        a["peer_id"] = a["peer_id"].upper()
    same.append(("hex upper case", v))
    v = copy.deepcopy(g)
    v["time"] = ms_to_rfc3339(v["time_ms"])
    same.append(("with time", v))
    v = copy.deepcopy(g)
    v.pop("observers", None)
    same.append(("observers left out", v))
    v = copy.deepcopy(g)
    v["licence_types"][0]["authorised"] = ["market-bureau", "health-commission"]
    w = copy.deepcopy(v)
    w["licence_types"][0]["authorised"].reverse()
    if gh(v) != gh(w):
        errs.append("genesis: the order of authorised changes G")
    v = copy.deepcopy(g)
    v["agencies"].reverse()
    differ.append(("agencies reversed", v))
    v = copy.deepcopy(g)
    v["time_ms"] += 1
    differ.append(("time_ms + 1", v))
    v = copy.deepcopy(g)
    v["validators"][0]["name"] += "x"
    differ.append(("a validator renamed", v))
    for what, obj in same:
        if gh(obj) != G:
            errs.append("genesis: %s changes G" % what)
    for what, obj in differ:
        if gh(obj) == G:
            errs.append("genesis: %s keeps G" % what)
    if gh(None, json.dumps(g, indent=None, sort_keys=False, separators=(",", ":"))) != G:
        errs.append("genesis: whitespace changes G")

    def mutate(fn):
        v = copy.deepcopy(g)
        fn(v)
        return json.dumps(v)

    refused = [
        ("a repeated key", text.replace('"time_ms"', '"time_ms": 1, "time_ms"', 1)),
        ("an unknown field", mutate(lambda v: v.update(extra=1))),
        ("a missing field", mutate(lambda v: v.pop("submitters"))),
        ("a fraction", mutate(lambda v: v.update(time_ms=1.5))),
        ("an exponent", text.replace(str(g["time_ms"]), "1e3", 1)),
        ("a sign", mutate(lambda v: v["config"]["council"].update(threshold=-1))),
        ("a string integer", mutate(lambda v: v.update(time_ms=str(v["time_ms"])))),
        ("a bool integer", mutate(lambda v: v["config"]["council"].update(threshold=True))),
        ("threshold 2 of 1", mutate(lambda v: v["config"]["council"].update(threshold=2))),
        ("u32 overflow", mutate(lambda v: v["config"]["params"].update(block_txs_max=2 ** 32))),
        ("zero base timeout",
         mutate(lambda v: v["config"]["params"].update(view_timeout_base_ms=0))),
        ("a wrong time", mutate(lambda v: v.update(time=ms_to_rfc3339(v["time_ms"] + 1)))),
        ("an offset time", mutate(lambda v: v.update(
            time=ms_to_rfc3339(v["time_ms"]).replace("Z", "+00:00")))),
        ("an upper-case key prefix", mutate(lambda v: v["validators"][0].update(
            key="SM2:" + v["validators"][0]["key"][4:]))),
        ("an ed25519 key on an sm chain", mutate(lambda v: v["validators"][0].update(
            key="ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))),
        ("a key off the curve", mutate(lambda v: v["validators"][0].update(
            key="sm2:02" + "00" * 31 + "05"))),
        ("a repeated validator key", mutate(lambda v: v["validators"][1].update(
            key=v["validators"][0]["key"]))),
        ("a repeated peer id", mutate(lambda v: v["validators"][1].update(
            peer_id=v["validators"][0]["peer_id"]))),
        ("an observer with a validator's peer id", mutate(lambda v: v.update(
            observers=[{"name": "o", "peer_id": v["validators"][0]["peer_id"]}]))),
        ("a repeated agency id", mutate(lambda v: v["agencies"].append(v["agencies"][0]))),
        ("an unknown authorised agency", mutate(lambda v: v["licence_types"][0].update(
            authorised=["nobody"]))),
        ("a repeated authorised agency", mutate(lambda v: v["licence_types"][0].update(
            authorised=["market-bureau", "market-bureau"]))),
        ("a chain id with a space", mutate(lambda v: v["config"].update(chain_id="a b"))),
        ("a name with a control character", mutate(lambda v: v["agencies"][0].update(
            name="x\u001b[2J"))),
        ("an unknown suite", mutate(lambda v: v["config"].update(suite="SM"))),
        ("an unknown status", mutate(lambda v: v["agencies"][0].update(status="Active"))),
    ]
    for what, raw in refused:
        try:
            anchor_from_genesis_json(raw)
            errs.append("genesis: %s was accepted" % what)
        except TrustInputError:
            pass
    # the anchor's JSON form gives the same bytes
    a = decode("TrustAnchor", data)
    aj = {"chain_id": a["chain_id"], "suite": suite.name, "genesis_hash": a["genesis_hash"].hex(),
          "height": a["height"],
          "validators": [{"name": x["name"], "key": ("sm2:" if x["key"]["algo"] == 1
                                                     else "ed25519:") + x["key"]["key"].hex(),
                          "peer_id": x["peer_id"].hex()} for x in reversed(a["validators"])],
          "fingerprint": got["fingerprint"]}
    try:
        if anchor_from_json(json.dumps(aj)) != data:
            errs.append("trust anchor JSON: other bytes")
        aj["fingerprint"] = "00" * 32
        anchor_from_json(json.dumps(aj))
        errs.append("trust anchor JSON: a wrong fingerprint was accepted")
    except TrustInputError as e:
        if "fingerprint" not in str(e):
            errs.append("trust anchor JSON refused: %s" % e)
    return errs


def main(argv):
    if any(a.startswith("-") for a in argv[1:]):
        return cli_main(argv[1:])
    if len(argv) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    total_p = total_f = 0
    errs = self_test()
    genesis = os.path.join(repo, "genesis", "localnet", "genesis.json")
    if os.path.exists(genesis):
        errs += genesis_self_test(genesis)
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
    try:
        sys.exit(main(sys.argv))
    except BrokenPipeError:  # `| head -1`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
