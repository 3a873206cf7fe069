#!/usr/bin/env python3
"""A Lichen client in Python (3.11+, standard library only): builds every transaction payload
kind from its JSON form, signs it (SM2 or Ed25519), opens the node's key files, and talks to a
node's HTTP API.

Written from PROTOCOL.md ("Canonical encoding", "Keys and signatures", "SM2 signing",
"Transactions", "Key files") and the README's API table. It reuses the independent verifier
(`scripts/independent_verifier.py`) for SM3, the curve arithmetic and, above all, its strict
decoders: every field is checked by decoding its own bytes with the verifier's reader for that
field type, and the whole transaction is decoded again before it is returned, so the client
refuses exactly what PROTOCOL.md says a decoder refuses and no rule is written here twice.

    import lichen_client as lc
    key = lc.SigningKey.from_key_file(open("lichen-dev/keys/market-bureau.key", "rb").read(),
                                      "lichen-dev")
    tx = {"chain_id": "lichen-dev", "nonce": 1, "expires_at_height": 500, "payload": {
          "kind": "revoke", "id": "LIC-0001", "reason": "demo"}}
    tx_id, signed = lc.sign_transaction("sm", tx, [key])
    lc.Client("http://127.0.0.1:8080").submit(signed, wait=True)

Speed: a pure-Python SM3 compression costs about 0.1 ms even unrolled, so PBKDF2 over a key
file's 100,000 iterations (200,000 compressions, the HMAC pads' states computed once) takes
20-25 s in pure Python. When the interpreter's OpenSSL offers SM3 (`hashlib.new("sm3")`: OpenSSL
1.1.1 and 3.x), SM3 and PBKDF2-HMAC-SM3 run there instead (after a GB/T 32905 known-answer
check), and a key file opens in about 0.07 s. LICHEN_CLIENT_PURE=1 forces the pure-Python code.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
import json
import os
import re
import secrets
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterable, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import independent_verifier as iv  # noqa: E402  (the verifier lives beside this file)

__all__ = [
    "build_transaction", "transaction_id", "sign_transaction", "cosign",
    "verify_signed_transaction", "SigningKey", "KeyFileError", "open_key_file", "seal_key_file",
    "document_hash", "holder_commitment", "tagged_hash", "Client", "LichenError",
    "PAYLOAD_KINDS", "sm3", "hmac_sm3", "pbkdf2_hmac_sm3", "sm4_encrypt_block", "sm4_ctr",
]

# ============================================================================ SM3 and HMAC-SM3


def _openssl_sm3_ok() -> bool:
    """OpenSSL's SM3 is used only if it exists and gives GB/T 32905's "abc" digest."""
    if os.environ.get("LICHEN_CLIENT_PURE"):
        return False
    try:
        return hashlib.new("sm3", b"abc").hexdigest() == (
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    except ValueError:
        return False


OPENSSL_SM3 = _openssl_sm3_ok()


def sm3(data: bytes) -> bytes:
    """SM3 (GB/T 32905-2016): OpenSSL's when it has it, else the independent verifier's."""
    if OPENSSL_SM3:
        return hashlib.new("sm3", data).digest()
    return iv.sm3(data)


def hmac_sm3(key: bytes, msg: bytes) -> bytes:
    """HMAC-SM3: RFC 2104 with a 64-byte block and a 32-byte output (PROTOCOL "SM2 signing")."""
    if len(key) > 64:
        key = sm3(key)
    key = key.ljust(64, b"\x00")
    inner = sm3(bytes(b ^ 0x36 for b in key) + msg)
    return sm3(bytes(b ^ 0x5C for b in key) + inner)


def _sm3_compress_source() -> str:
    """Source of a straight-line SM3 compression function (GB/T 32905 §5.3) on eight state
    words and sixteen message words: the 52 expansion steps and 64 rounds unrolled, the
    registers renamed from round to round instead of shifted. About 1.4 times as fast as a loop
    in CPython; it serves only the pure-Python PBKDF2, where it runs 200,000 times a key file."""
    mask = 0xFFFFFFFF

    def rotl(x: str, n: int) -> str:
        return f"((({x}) << {n}) & 0xFFFFFFFF | (({x}) >> {32 - n}))"

    t = [((c << (j % 32)) | (c >> (32 - j % 32))) & mask if j % 32 else c
         for j, c in ((j, 0x79CC4519 if j < 16 else 0x7A879D8A) for j in range(64))]
    lines = ["def _sm3_compress_words(v, w):",
             "    a, b, c, d, e, f, g, h = v",
             "    (" + ", ".join(f"w{i}" for i in range(16)) + ",) = w"]
    for j in range(16, 68):
        lines.append(f"    x = w{j - 16} ^ w{j - 9} ^ {rotl(f'w{j - 3}', 15)}")
        lines.append(f"    w{j} = x ^ {rotl('x', 15)} ^ {rotl('x', 23)} ^ "
                     f"{rotl(f'w{j - 13}', 7)} ^ w{j - 6}")
    regs = "abcdefgh"
    for j in range(64):
        a, b, c, d, e, f, g, h = regs
        ff = f"({a} ^ {b} ^ {c})" if j < 16 else f"(({a} & {b}) | ({c} & ({a} | {b})))"
        gg = f"({e} ^ {f} ^ {g})" if j < 16 else f"((({f} ^ {g}) & {e}) ^ {g})"
        lines += [
            f"    a12 = {rotl(a, 12)}",
            f"    s = (a12 + {e} + {t[j]}) & 0xFFFFFFFF",
            f"    ss1 = {rotl('s', 7)}",
            f"    {d} = ({ff} + {d} + (ss1 ^ a12) + (w{j} ^ w{j + 4})) & 0xFFFFFFFF",
            f"    t = ({gg} + {h} + ss1 + w{j}) & 0xFFFFFFFF",
            f"    {b} = {rotl(b, 9)}",
            f"    {f} = {rotl(f, 19)}",
            f"    {h} = t ^ {rotl('t', 9)} ^ {rotl('t', 17)}",
        ]
        # TT1 went to D and P0(TT2) to H: next round's (A..H) is this round's (D A B C H E F G).
        regs = d + a + b + c + h + e + f + g
    lines.append("    return (" + ", ".join(f"v[{i}] ^ {r}" for i, r in enumerate(regs)) + ")")
    return "\n".join(lines)


_ns: dict[str, Any] = {}
exec(compile(_sm3_compress_source(), "<sm3 compression>", "exec"), _ns)
_sm3_compress_words = _ns["_sm3_compress_words"]

# The 32 bytes that follow a 32-byte message in its one SM3 block once 64 bytes (an HMAC pad)
# were hashed: 0x80, zeros, the length in bits (96 bytes = 768 bits), as words.
_PAD_AFTER_96 = (0x80000000, 0, 0, 0, 0, 0, 0, 768)


def _pbkdf2_pure(password: bytes, salt: bytes, iterations: int) -> bytes:
    """PBKDF2-HMAC-SM3 (RFC 8018 §5.2), one 32-byte block, in pure Python. The SM3 states after
    the key's inner and outer pads are computed once; every U_i is then one compression for the
    inner hash (U_{i-1} and the padding fill the second block) and one for the outer."""
    if len(password) > 64:
        password = sm3(password)
    key = password.ljust(64, b"\x00")
    iv0 = iv._SM3_IV
    inner = _sm3_compress_words(iv0, struct.unpack(">16I", bytes(b ^ 0x36 for b in key)))
    outer = _sm3_compress_words(iv0, struct.unpack(">16I", bytes(b ^ 0x5C for b in key)))
    u = struct.unpack(">8I", hmac_sm3(password, salt + b"\x00\x00\x00\x01"))
    acc = list(u)
    for _ in range(iterations - 1):
        u = _sm3_compress_words(outer, _sm3_compress_words(inner, u + _PAD_AFTER_96)
                                + _PAD_AFTER_96)
        for i in range(8):
            acc[i] ^= u[i]
    return struct.pack(">8I", *acc)


def pbkdf2_hmac_sm3(password: bytes, salt: bytes, iterations: int, *,
                    pure: bool | None = None) -> bytes:
    """PBKDF2-HMAC-SM3 giving 32 bytes (PROTOCOL "Key files"). `pure=True` forces the
    pure-Python code, `False` OpenSSL's; by default OpenSSL's when it has SM3."""
    if iterations < 1:
        raise ValueError("PBKDF2 needs at least one iteration")
    if pure is None:
        pure = not OPENSSL_SM3
    if pure:
        return _pbkdf2_pure(password, salt, iterations)
    return hashlib.pbkdf2_hmac("sm3", password, salt, iterations, 32)


# ============================================================================ SM4 (GB/T 32907)

_SM4_SBOX = bytes.fromhex(
    "d690e9fecce13db716b614c228fb2c052b679a762abe04c3aa44132649860699"
    "9c4250f491ef987a33540b43edcfac62e4b31ca9c908e89580df94fa758f3fa6"
    "4707a7fcf37317ba83593c19e6854fa8686b81b27164da8bf8eb0f4b70569d35"
    "1e240e5e6358d1a225227c3b01217887d40046579fd327524c3602e7a0c4c89e"
    "eabf8ad240c738b5a3f7f2cef96115a1e0ae5da49b341a55ad933230f58cb1e3"
    "1df6e22e8266ca60c02923ab0d534e6fd5db3745defd8e2f03ff6a726d6c5b51"
    "8d1baf92bbddbc7f11d95c411f105ad80ac13188a5cd7bbd2d74d012b8e5b4b0"
    "8969974a0c96777e65b9f109c56ec68418f07dec3adc4d2079ee5f3ed7cb3948")
_SM4_FK = (0xA3B1BAC6, 0x56AA3350, 0x677D9197, 0xB27022DC)
_SM4_CK = tuple(int.from_bytes(bytes(((4 * i + j) * 7) % 256 for j in range(4)), "big")
                for i in range(32))


def _rotl32(x: int, n: int) -> int:
    return ((x << n) & 0xFFFFFFFF) | (x >> (32 - n))


def _sm4_tau(x: int) -> int:
    return int.from_bytes(bytes(_SM4_SBOX[b] for b in x.to_bytes(4, "big")), "big")


def _sm4_round_keys(key: bytes) -> list[int]:
    if len(key) != 16:
        raise ValueError("an SM4 key is 16 bytes")
    k = [w ^ f for w, f in zip(struct.unpack(">4I", key), _SM4_FK)]
    for i in range(32):
        b = _sm4_tau(k[i + 1] ^ k[i + 2] ^ k[i + 3] ^ _SM4_CK[i])
        k.append(k[i] ^ b ^ _rotl32(b, 13) ^ _rotl32(b, 23))
    return k[4:]


def _sm4_block(rk: Sequence[int], block: bytes) -> bytes:
    x = list(struct.unpack(">4I", block))
    for i in range(32):
        b = _sm4_tau(x[i + 1] ^ x[i + 2] ^ x[i + 3] ^ rk[i])
        x.append(x[i] ^ b ^ _rotl32(b, 2) ^ _rotl32(b, 10) ^ _rotl32(b, 18) ^ _rotl32(b, 24))
    return struct.pack(">4I", x[35], x[34], x[33], x[32])


def sm4_encrypt_block(key: bytes, block: bytes) -> bytes:
    """One SM4 block encryption (GB/T 32907-2016)."""
    return _sm4_block(_sm4_round_keys(key), block)


def sm4_ctr(key: bytes, iv_block: bytes, data: bytes) -> bytes:
    """SM4-CTR: the keystream is SM4(iv), SM4(iv + 1), ..., the whole 16-byte block counted as
    a big-endian 128-bit integer (PROTOCOL "Key files"). Encrypts and decrypts."""
    rk = _sm4_round_keys(key)
    counter = int.from_bytes(iv_block, "big")
    out = bytearray()
    for i in range(0, len(data), 16):
        stream = _sm4_block(rk, (counter % (1 << 128)).to_bytes(16, "big"))
        out += bytes(a ^ b for a, b in zip(data[i:i + 16], stream))
        counter += 1
    return bytes(out)


# ============================================================================ suites and hashes

_SUITE_NAMES = {"sm": 1, "intl": 2}
_ALGO_NAMES = {1: "sm2", 2: "ed25519"}
_ALGO_BY_NAME = {"sm": 1, "sm2": 1, "intl": 2, "ed25519": 2}


def _suite_tag(suite: str | int) -> int:
    """"sm" / "intl" (or the suite tags 1 / 2) to the suite tag, which is also the tag of the
    suite's signature algorithm (1 = sm = SM2, 2 = intl = Ed25519)."""
    if isinstance(suite, str) and suite in _SUITE_NAMES:
        return _SUITE_NAMES[suite]
    if isinstance(suite, int) and not isinstance(suite, bool) and suite in (1, 2):
        return suite
    raise ValueError(f"unknown suite {suite!r} (expected 'sm' or 'intl')")


def _digest(suite_tag: int, data: bytes) -> bytes:
    return sm3(data) if suite_tag == 1 else hashlib.sha256(data).digest()


def tagged_hash(suite: str | int, tag: str, data: bytes) -> bytes:
    """H(tag, data) = Hash(u8(len(tag)) || tag || data) (PROTOCOL "Hashes")."""
    t = tag.encode("ascii")
    return _digest(_suite_tag(suite), bytes([len(t)]) + t + data)


def document_hash(suite: str | int, data: bytes) -> bytes:
    """D(document): the plain SM3 or SHA-256 digest (what `sm3sum` / `sha256sum` print)."""
    return _digest(_suite_tag(suite), bytes(data))


def holder_commitment(suite: str | int, salt32: bytes, holder_id: str) -> bytes:
    """H("lichen/holder-commitment/v1", salt(32) || u32 len || holder id) (PROTOCOL "State
    entries"): the issuer gives the holder the salt, the chain sees only this."""
    if len(salt32) != 32:
        raise ValueError("the holder salt is 32 bytes")
    hid = holder_id.encode("utf-8")
    return tagged_hash(suite, "lichen/holder-commitment/v1",
                       bytes(salt32) + struct.pack(">I", len(hid)) + hid)


def transaction_id(suite: str | int, tx_bytes: bytes) -> str:
    """The transaction id H("lichen/tx/v1", Transaction) as 64 hex digits (PROTOCOL
    "Transactions"); signers sign its 32 raw bytes."""
    return tagged_hash(suite, "lichen/tx/v1", bytes(tx_bytes)).hex()


# ============================================================================ SM2 signing

_N = iv.SM2_N
_G = (iv.SM2_GX, iv.SM2_GY, 1)


def _c32(v: int) -> bytes:
    return v.to_bytes(32, "big")


def _sm2_point(d: int) -> tuple[int, int]:
    return iv._j_affine(iv._j_mul(d, _G))


def _sm2_compress(pt: tuple[int, int]) -> bytes:
    return bytes([2 | (pt[1] & 1)]) + _c32(pt[0])


def _sm2_za(pub: tuple[int, int]) -> bytes:
    """Z_A with the default identifier "1234567812345678" (ENTL = 0x0080)."""
    return sm3(struct.pack(">H", len(iv.SM2_ID) * 8) + iv.SM2_ID + _c32(iv.SM2_A)
               + _c32(iv.SM2_B) + _c32(iv.SM2_GX) + _c32(iv.SM2_GY) + _c32(pub[0]) + _c32(pub[1]))


def _rfc6979_k(d: int, e: int, extra: bytes) -> int:
    """RFC 6979 §3.2 with HMAC-SM3, q = n, x = int2octets(d), h1 = int2octets(e mod n), and
    §3.6's additional data `extra` (PROTOCOL "SM2 signing", step 3)."""
    x, h1 = _c32(d), _c32(e % _N)
    v, k = b"\x01" * 32, b"\x00" * 32
    k = hmac_sm3(k, v + b"\x00" + x + h1 + extra)
    v = hmac_sm3(k, v)
    k = hmac_sm3(k, v + b"\x01" + x + h1 + extra)
    v = hmac_sm3(k, v)
    while True:
        v = hmac_sm3(k, v)
        candidate = int.from_bytes(v, "big")
        if 1 <= candidate <= _N - 1:
            return candidate
        k = hmac_sm3(k, v + b"\x00")
        v = hmac_sm3(k, v)


def _sm2_sign_with_k(d: int, e: int, k: int) -> bytes | None:
    """Steps 4-5 of GB/T 32918.2 §6.1 with nonce k; None when the attempt fails."""
    x1 = _sm2_point(k)[0]
    r = (e + x1) % _N
    if r == 0 or r + k == _N:
        return None
    s = pow(1 + d, -1, _N) * (k - r * d) % _N
    if s == 0:
        return None
    return _c32(r) + _c32(s)


def _sm2_sign(d: int, pub: tuple[int, int], msg: bytes) -> bytes:
    e = int.from_bytes(sm3(_sm2_za(pub) + msg), "big")
    # Attempt 0 has no additional data; attempt c (1..255) starts again with 32 bytes of c
    # (PROTOCOL "SM2 signing", step 6: not RFC 6979 §3.2 h.3's continuation).
    for attempt in range(256):
        extra = bytes([attempt]) * 32 if attempt else b""
        sig = _sm2_sign_with_k(d, e, _rfc6979_k(d, e, extra))
        if sig is not None:
            return sig
    raise RuntimeError("SM2 signing failed 256 times (probability about 2^-2000)")


# ============================================================================ Ed25519 signing


def _ed_encode(pt: tuple[int, int, int, int]) -> bytes:
    x, y, z, _ = pt
    zi = pow(z, -1, iv.ED_P)
    x, y = x * zi % iv.ED_P, y * zi % iv.ED_P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _ed_expand(seed: bytes) -> tuple[int, bytes, bytes]:
    """RFC 8032 §5.1.5: the clamped scalar, the prefix, and the public key A."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    return a, h[32:], _ed_encode(iv._ed_mul(a, iv.ED_B))


def _ed_sign(seed: bytes, msg: bytes) -> bytes:
    """Pure Ed25519 (RFC 8032 §5.1.6): no prehash, no context."""
    a, prefix, pub = _ed_expand(seed)
    r = int.from_bytes(hashlib.sha512(prefix + msg).digest(), "little") % iv.ED_L
    big_r = _ed_encode(iv._ed_mul(r, iv.ED_B))
    k = int.from_bytes(hashlib.sha512(big_r + pub + msg).digest(), "little") % iv.ED_L
    return big_r + ((r + k * a) % iv.ED_L).to_bytes(32, "little")


# ============================================================================ key files

_KS_MAGIC = b"LICHENKS"
_KS_LEN = 111
_KS_ITERATIONS = (10_000, 2_000_000)
_KS_DEFAULT_ITERATIONS = 100_000


class KeyFileError(ValueError):
    """A key file that cannot be opened. `authentication` is True for a wrong password or an
    altered file (the two cannot be told apart, by design), False for a malformed file."""

    def __init__(self, message: str, authentication: bool = False):
        super().__init__(message)
        self.authentication = authentication


def _ks_keys(password: bytes, salt: bytes, iterations: int, pure: bool | None):
    master = pbkdf2_hmac_sm3(password, salt, iterations, pure=pure)
    enc = hmac_sm3(master, b"lichen/keystore/v1/sm4-key")[:16]
    mac = hmac_sm3(master, b"lichen/keystore/v1/hmac-key")
    return enc, mac


def _password_bytes(password: str | bytes) -> bytes:
    return password.encode("utf-8") if isinstance(password, str) else bytes(password)


def open_key_file(data: bytes, password: str | bytes, *,
                  pure: bool | None = None) -> tuple[int, bytes]:
    """Opens a key file (PROTOCOL "Key files"): returns (algorithm tag, 32-byte secret). The
    format is checked, then the HMAC-SM3 tag (in constant time), and only then is anything
    decrypted. Raises KeyFileError."""
    data = bytes(data)
    if data[:8] != _KS_MAGIC:
        raise KeyFileError("not a Lichen key file (no LICHENKS magic)")
    if len(data) > 8 and data[8] != 1:
        raise KeyFileError(f"unsupported key file format version {data[8]}")
    if len(data) != _KS_LEN:
        raise KeyFileError(f"a version 1 key file is {_KS_LEN} bytes, this one {len(data)}")
    algo, kdf = data[9], data[10]
    if algo not in _ALGO_NAMES:
        raise KeyFileError(f"unknown signature algorithm tag {algo} in key file")
    if kdf != 1:
        raise KeyFileError(f"unknown KDF id {kdf} in key file (1 = PBKDF2-HMAC-SM3)")
    iterations = struct.unpack(">I", data[11:15])[0]
    if not _KS_ITERATIONS[0] <= iterations <= _KS_ITERATIONS[1]:
        raise KeyFileError(f"KDF iteration count {iterations} outside 10,000..2,000,000")
    enc, mac = _ks_keys(_password_bytes(password), data[15:31], iterations, pure)
    if not _hmac.compare_digest(hmac_sm3(mac, data[:79]), data[79:]):
        raise KeyFileError("wrong password, or the key file was altered", authentication=True)
    return algo, sm4_ctr(enc, data[31:47], data[47:79])


def seal_key_file(algo: int, secret: bytes, password: str | bytes, *,
                  iterations: int = _KS_DEFAULT_ITERATIONS, salt: bytes | None = None,
                  iv_block: bytes | None = None, pure: bool | None = None) -> bytes:
    """Seals a secret into a version-1 key file (a fresh random salt and IV unless given; give
    them only to reproduce a vector)."""
    if algo not in _ALGO_NAMES or len(secret) != 32:
        raise ValueError("algorithm 1 or 2 and a 32-byte secret")
    if not _KS_ITERATIONS[0] <= iterations <= _KS_ITERATIONS[1]:
        raise ValueError("iterations must lie in 10,000..2,000,000")
    salt = secrets.token_bytes(16) if salt is None else salt
    iv_block = secrets.token_bytes(16) if iv_block is None else iv_block
    enc, mac = _ks_keys(_password_bytes(password), salt, iterations, pure)
    head = (_KS_MAGIC + bytes([1, algo, 1]) + struct.pack(">I", iterations) + salt + iv_block
            + sm4_ctr(enc, iv_block, secret))
    return head + hmac_sm3(mac, head)


# ============================================================================ signing keys


class SigningKey:
    """A secret key of one algorithm: SM2 (the `sm` suite) or Ed25519 (`intl`).

    `public_key` is the "sm2:<hex>" / "ed25519:<hex>" form of the JSON views,
    `public_key_bytes` the `PublicKey` encoding (algorithm byte, then 33 or 32 bytes), and
    `sign(msg32)` gives the 64 signature bytes (SM2 `r || s`, deterministic as in PROTOCOL
    "SM2 signing"; Ed25519 `R || S`)."""

    def __init__(self, algo: int, secret: bytes):
        secret = bytes(secret)
        if algo not in _ALGO_NAMES:
            raise ValueError(f"unknown signature algorithm {algo!r}")
        if len(secret) != 32:
            raise ValueError(f"a secret key is 32 bytes, not {len(secret)}")
        self.algo = algo
        self._secret = secret
        if algo == 1:
            self._d = int.from_bytes(secret, "big")
            # 1 <= d <= n - 2: d = n - 1 is refused because 1 + d must be invertible.
            if not 1 <= self._d <= _N - 2:
                raise ValueError("an SM2 secret key must lie in 1..n-2")
            self._point = _sm2_point(self._d)
            key = _sm2_compress(self._point)
        else:
            key = _ed_expand(secret)[2]
        self.public_key_bytes = bytes([algo]) + key
        self.public_key = f"{_ALGO_NAMES[algo]}:{key.hex()}"

    @classmethod
    def from_secret(cls, suite_or_algo: str | int, secret32: bytes | str) -> "SigningKey":
        """`suite_or_algo`: "sm", "intl", "sm2", "ed25519" (or the tag 1 / 2); the secret as
        bytes or hex: the SM2 scalar d (big-endian) or the Ed25519 seed."""
        if isinstance(secret32, str):
            secret32 = _hex_bytes(secret32, "secret")
        return cls(_algo_of(suite_or_algo), secret32)

    @classmethod
    def generate(cls, suite_or_algo: str | int) -> "SigningKey":
        """A fresh key from the operating system's randomness."""
        algo = _algo_of(suite_or_algo)
        while True:
            try:
                return cls(algo, secrets.token_bytes(32))
            except ValueError:  # an SM2 scalar out of range: about 2^-32
                continue

    @classmethod
    def from_key_file(cls, data: bytes, password: str | bytes, *,
                      pure: bool | None = None) -> "SigningKey":
        """Opens a sealed key file (`lichen keys new`, `lichen dev`'s keys/*.key): raises
        KeyFileError for a malformed file, a wrong password or an altered file."""
        algo, secret = open_key_file(data, password, pure=pure)
        try:
            return cls(algo, secret)
        except ValueError as e:
            raise KeyFileError(f"the key file holds an invalid key: {e}") from None

    def sign(self, msg32: bytes) -> bytes:
        """Signs a 32-byte digest (a transaction id, a vote digest): 64 bytes."""
        msg32 = bytes(msg32)
        if len(msg32) != 32:
            raise ValueError("Lichen signs only 32-byte digests (PROTOCOL \"SM2 signing\")")
        if self.algo == 1:
            return _sm2_sign(self._d, self._point, msg32)
        return _ed_sign(self._secret, msg32)

    def seal(self, password: str | bytes, iterations: int = _KS_DEFAULT_ITERATIONS) -> bytes:
        """This key as a key file."""
        return seal_key_file(self.algo, self._secret, password, iterations=iterations)

    def __repr__(self) -> str:
        return f"SigningKey({self.public_key})"


def _algo_of(suite_or_algo: str | int) -> int:
    if isinstance(suite_or_algo, str) and suite_or_algo in _ALGO_BY_NAME:
        return _ALGO_BY_NAME[suite_or_algo]
    return _suite_tag(suite_or_algo)


# ============================================================================ JSON -> Transaction


def _err(path: str, message: str) -> ValueError:
    return ValueError(f"{path}: {message}")


def _kind_of(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"the boolean {'true' if v else 'false'}"
    if isinstance(v, (int, float)):
        return f"the number {v!r}"
    return {str: "a string", list: "an array", dict: "an object"}.get(type(v), type(v).__name__)


def _show(s: str) -> str:
    return repr(s if len(s) <= 80 else s[:77] + "...")


def _checked(data: bytes, read, path: str, what: str, why: bool = True) -> bytes:
    """Decodes a field's own encoding with the independent verifier's reader for its type:
    the verifier, not this file, says what a valid value is. The error names the field, says
    `what` is wrong and (with `why`) adds the decoder's reason."""
    r = iv.Reader(data)
    try:
        read(r)
        r.end()
    except iv.DecodeError as e:
        raise _err(path, f"{what} ({e})" if why else what) from None
    return data


def _text(v: Any, path: str) -> bytes:
    if not isinstance(v, str):
        raise _err(path, f"expected a string, found {_kind_of(v)}")
    try:
        return v.encode("utf-8")
    except UnicodeEncodeError:
        raise _err(path, "not valid Unicode (a lone surrogate)") from None


def _string_codec(read_name: str, rule: str):
    def encode(v: Any, path: str) -> bytes:
        raw = _text(v, path)
        data = struct.pack(">I", len(raw)) + raw
        return _checked(data, lambda r: getattr(r, read_name)(), path,
                        f"{_show(v)} is not {rule}", why=False)
    return encode


_IDENT_RULE = "an identifier (1-64 ASCII letters, digits or . _ - : /)"
_ident = _string_codec("ident", _IDENT_RULE)
_name = _string_codec("name", "a name (1-256 bytes of UTF-8, not only white space, no control "
                              "character)")
_reason = _string_codec("reason", "a reason or label (0-512 bytes of UTF-8, no control "
                                  "character)")
_licence_id_plain = _string_codec("licence_id", "a licence id (1-128 of the identifier "
                                                "alphabet; GB/T 36904 rules after "
                                                f"{iv.GBT_PREFIX})")


def _licence_id(v: Any, path: str) -> bytes:
    try:
        return _licence_id_plain(v, path)
    except ValueError as e:
        # Name the check character a GB/T 36904 id should have, when that is all that is wrong.
        parts = v[len(iv.GBT_PREFIX):].split(".") if isinstance(v, str) else []
        if (isinstance(v, str) and v.startswith(iv.GBT_PREFIX) and len(parts) == 5
                and all(re.fullmatch(r"[0-9A-Z]+", p) for p in parts[:4])):
            want = iv.mod37_36_check("".join(parts[:4]))
            raise _err(path, f"{_show(v)}: a GB/T 36904 id whose check character should be "
                             f"{want!r}, not {parts[4]!r} (ISO/IEC 7064 MOD 37,36)") from None
        raise e


def _uint(bits: int):
    def encode(v: Any, path: str) -> bytes:
        if isinstance(v, bool) or not isinstance(v, int):
            raise _err(path, f"expected an unsigned integer, found {_kind_of(v)}")
        if not 0 <= v < 1 << bits:
            raise _err(path, f"{v} is out of range (0..{(1 << bits) - 1})")
        return v.to_bytes(bits // 8, "big")
    return encode


_u16, _u64 = _uint(16), _uint(64)


def _bool(v: Any, path: str) -> bytes:
    if not isinstance(v, bool):
        raise _err(path, f"expected true or false, found {_kind_of(v)}")
    return b"\x01" if v else b"\x00"


_HEX_RE = re.compile(r"(?:[0-9a-fA-F]{2})*")


def _hex_bytes(v: Any, path: str) -> bytes:
    if not isinstance(v, str):
        raise _err(path, f"expected a hex string, found {_kind_of(v)}")
    if not _HEX_RE.fullmatch(v):
        raise _err(path, "bad hex (expected pairs of digits 0-9 a-f, no 0x, no spaces)")
    return bytes.fromhex(v)


def _hash32(v: Any, path: str) -> bytes:
    b = _hex_bytes(v, path)
    if len(b) != 32:
        raise _err(path, f"a hash is 32 bytes (64 hex digits), found {len(b)} bytes")
    return b


def _peer_id(v: Any, path: str) -> bytes:
    b = _hex_bytes(v, path)
    return _checked(struct.pack(">I", len(b)) + b, lambda r: r.bytes_(1, 64, "peer id"), path,
                    f"a peer id is 1-64 bytes, found {len(b)}")


def _status(v: Any, path: str) -> bytes:
    """EntityStatus: "active" (0) or "suspended" (1)."""
    if not isinstance(v, str):
        raise _err(path, f"expected a string, found {_kind_of(v)}")
    if v not in ("active", "suspended"):
        raise _err(path, f"unknown status {_show(v)} (expected \"active\" or \"suspended\")")
    return b"\x00" if v == "active" else b"\x01"


def _key(algo: int | None):
    """A "sm2:<hex>" / "ed25519:<hex>" key; with `algo`, it must be that algorithm (the
    suite's). The result is the PublicKey encoding, checked by the verifier's decoder."""
    def encode(v: Any, path: str) -> bytes:
        if not isinstance(v, str):
            raise _err(path, f"expected a public key string, found {_kind_of(v)}")
        prefix, sep, hexpart = v.partition(":")
        if not sep:
            raise _err(path, "not a public key: expected \"sm2:<hex>\" or \"ed25519:<hex>\"")
        if prefix not in ("sm2", "ed25519"):
            raise _err(path, f"not a public key: unknown algorithm prefix {_show(prefix)} "
                             "(expected \"sm2:\" or \"ed25519:\")")
        key_algo = _ALGO_BY_NAME[prefix]
        raw = _hex_bytes(hexpart, path)
        size = 33 if key_algo == 1 else 32
        if len(raw) != size:
            raise _err(path, f"an {prefix} key is {size} bytes, found {len(raw)}")
        if algo is not None and key_algo != algo:
            raise _err(path, f"{prefix} key, but this chain's suite signs with "
                             f"{_ALGO_NAMES[algo]}")
        return _checked(bytes([key_algo]) + raw, iv.dec_public_key, path,
                        f"not a valid {prefix} public key")
    return encode


def _array(v: Any, path: str, most: int) -> list:
    if not isinstance(v, list):
        raise _err(path, f"expected an array, found {_kind_of(v)}")
    if len(v) > most:
        raise _err(path, f"{len(v)} entries, more than the maximum {most}")
    return v


def _sorted_set(items: list[tuple[bytes, bytes]], path: str, what: str) -> bytes:
    """`seq<T>` of a set given in any order as (sort key, encoding) pairs: sorted by the key,
    a repeat refused (naming both input positions)."""
    first: dict[bytes, int] = {}
    for i, (order, _) in enumerate(items):
        if order in first:
            raise _err(f"{path}[{i}]", f"duplicate {what} (same as {path}[{first[order]}])")
        first[order] = i
    return struct.pack(">I", len(items)) + b"".join(enc for _, enc in sorted(items))


def _key_set(least: int, most: int, algo: int | None):
    """A set of keys in any order: sorted by PublicKey encoding, a repeat refused (PROTOCOL
    "State entries": keys and council members strictly increasing)."""
    key = _key(algo)

    def encode(v: Any, path: str) -> bytes:
        items = _array(v, path, most)
        if len(items) < least:
            raise _err(path, f"{len(items)} keys, at least {least} needed")
        encs = [key(k, f"{path}[{i}]") for i, k in enumerate(items)]
        # The order is the PublicKey encoding's, algorithm byte first.
        return _sorted_set([(enc, enc) for enc in encs], path, "key")
    return encode


def _id_set(v: Any, path: str) -> bytes:
    """`authorised` agency ids in any order: sorted by the ids' bytes ("aa" < "b", so not by
    their length-prefixed encodings), a repeat refused."""
    items = _array(v, path, 1024)
    encs = [_ident(x, f"{path}[{i}]") for i, x in enumerate(items)]
    return _sorted_set([(enc[4:], enc) for enc in encs], path, "agency id")


def _nullable(codec):
    """option<T>: null or absent is none (0x00); else 0x01 || T."""
    def encode(v: Any, path: str) -> bytes:
        return b"\x00" if v is None else b"\x01" + codec(v, path)
    encode.optional = True
    return encode


def _object(v: Any, path: str, allowed: Iterable[str]) -> dict:
    if not isinstance(v, dict):
        raise _err(path, f"expected an object, found {_kind_of(v)}")
    allowed = list(allowed)
    for name in v:
        if name not in allowed:
            raise _err(f"{path}.{name}", f"unknown field (expected one of: {', '.join(allowed)})")
    return v


def _fields(obj: dict, path: str, spec: Sequence[tuple[str, Any]]) -> bytes:
    """Encodes `spec`'s fields in order (the struct order of PROTOCOL.md)."""
    out = b""
    for name, codec in spec:
        if name not in obj and not getattr(codec, "optional", False):
            raise _err(f"{path}.{name}", "missing field")
        out += codec(obj.get(name), f"{path}.{name}")
    return out


_RFC3339_FORM = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?[Zz]", re.ASCII)

_DRAFT_FIELDS = ("id", "licence_type", "issuer", "document_hash", "holder_commitment",
                 "valid_from_ms", "valid_from", "valid_until_ms", "valid_until")


def _companion(obj: dict, path: str, name: str, ms: int) -> None:
    """An informational RFC 3339 companion must name exactly the instant `<name>_ms` names."""
    text = obj[name]
    if not isinstance(text, str):
        raise _err(f"{path}.{name}", f"expected a string, found {_kind_of(text)}")
    try:
        if not _RFC3339_FORM.fullmatch(text):
            raise ValueError("form")
        stated = iv.rfc3339_to_ms(text)
    except ValueError:
        raise _err(f"{path}.{name}", f"not an RFC 3339 UTC time like "
                                     f"\"2026-01-01T00:00:00.000Z\": {_show(text)}") from None
    if stated != ms:
        raise _err(f"{path}.{name}", f"says {text} but {name}_ms is {ms} "
                                     f"({iv.ms_to_rfc3339(ms)}); {name} is informational, "
                                     f"edit {name}_ms")


def _draft(v: Any, path: str) -> bytes:
    """LicenceDraft: `valid_from` / `valid_until` are checked against the `_ms` fields (which
    alone are encoded); `valid_until_ms` null or absent means it does not expire."""
    obj = _object(v, path, _DRAFT_FIELDS)
    data = _fields(obj, path, [
        ("id", _licence_id), ("licence_type", _ident), ("issuer", _ident),
        ("document_hash", _hash32), ("holder_commitment", _hash32),
        ("valid_from_ms", _u64), ("valid_until_ms", _nullable(_u64))])
    if "valid_from" in obj:
        _companion(obj, path, "valid_from", obj["valid_from_ms"])
    if obj.get("valid_until") is not None:
        if obj.get("valid_until_ms") is None:
            raise _err(f"{path}.valid_until", "given without valid_until_ms (valid_until is "
                                              "informational, set valid_until_ms)")
        _companion(obj, path, "valid_until", obj["valid_until_ms"])
    until = obj.get("valid_until_ms")
    if until is not None and until <= obj["valid_from_ms"]:
        raise _err(f"{path}.valid_until_ms", f"{until} is not after valid_from_ms "
                                             f"{obj['valid_from_ms']} (the end is exclusive)")
    return _checked(data, iv.dec_licence_draft, path, "not a valid licence draft")


def _payload_spec(algo: int | None) -> dict[str, tuple[int, list]]:
    """Every payload kind: its tag and its fields in encoding order (PROTOCOL "Transactions")."""
    entity = [("id", _ident), ("name", _name), ("keys", _key_set(1, 16, algo)),
              ("status", _status)]
    change = [("id", _licence_id), ("reason", _reason)]
    return {
        "register-agency": (1, entity),
        "update-agency": (2, [("id", _ident), ("name", _nullable(_name)),
                              ("keys", _nullable(_key_set(1, 16, algo)))]),
        "set-agency-status": (3, [("id", _ident), ("status", _status)]),
        "define-licence-type": (4, [("code", _ident), ("name", _name),
                                    ("authorised", _id_set)]),
        "set-type-authorisation": (5, [("licence_type", _ident), ("agency", _ident),
                                       ("authorised", _bool)]),
        "register-submitter": (6, entity),
        "update-submitter": (7, [("id", _ident), ("keys", _nullable(_key_set(1, 16, algo))),
                                 ("status", _nullable(_status))]),
        "add-validator": (8, [("name", _name), ("key", _key(algo)), ("peer_id", _peer_id)]),
        "remove-validator": (9, [("key", _key(algo))]),
        "update-council": (10, [("members", _key_set(1, 32, algo)), ("threshold", _u16)]),
        "add-observer": (11, [("name", _name), ("peer_id", _peer_id)]),
        "remove-observer": (12, [("peer_id", _peer_id)]),
        "issue": (20, None),  # the draft's own fields, flattened beside `kind`
        "suspend": (21, change),
        "reinstate": (22, change),
        "revoke": (23, change),
        "supersede": (24, [("old_id", _licence_id), ("reason", _reason), ("new", _draft)]),
        "anchor-evidence": (30, [("hash", _hash32), ("submitter", _ident), ("label", _reason)]),
    }


PAYLOAD_KINDS = tuple(_payload_spec(None))


def _payload(v: Any, path: str, algo: int | None) -> bytes:
    if not isinstance(v, dict):
        raise _err(path, f"expected an object, found {_kind_of(v)}")
    if "kind" not in v:
        raise _err(f"{path}.kind", "missing field")
    kind = v["kind"]
    if not isinstance(kind, str):
        raise _err(f"{path}.kind", f"expected a string, found {_kind_of(kind)}")
    spec = _payload_spec(algo)
    if kind not in spec:
        raise _err(f"{path}.kind", f"unknown payload kind {_show(kind)} (expected one of: "
                                   f"{', '.join(spec)})")
    tag, fields = spec[kind]
    bare = {k: x for k, x in v.items() if k != "kind"}
    if fields is None:
        return bytes([tag]) + _draft(bare, path)
    _object(bare, path, ["kind"] + [name for name, _ in fields])
    body = _fields(bare, path, fields)
    if kind == "update-council":
        threshold, members = bare["threshold"], len(bare["members"])
        if not 1 <= threshold <= members:
            raise _err(f"{path}.threshold", f"{threshold} is outside 1..{members} (the "
                                            "number of members)")
    return bytes([tag]) + body


class _StrictJsonError(ValueError):
    pass


def _strict_json(text: str | bytes) -> Any:
    """JSON text with no repeated key in an object and no NaN / Infinity."""
    def pairs(items):
        out = {}
        for k, x in items:
            if k in out:
                raise _StrictJsonError(f"the key {k!r} appears twice in an object")
            out[k] = x
        return out

    def constant(name):
        raise _StrictJsonError(f"{name} is not JSON")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except _StrictJsonError as e:
        raise ValueError(f"tx: {e}") from None
    except ValueError as e:
        raise ValueError(f"tx: not valid JSON: {e}") from None


def build_transaction(tx_json: dict | str | bytes, suite: str | int | None = None) -> bytes:
    """The canonical `Transaction` bytes of `{chain_id, nonce, expires_at_height, payload:
    {kind, ...fields}}` (a dict, or JSON text), the shape `GET /v1/transactions/{id}` prints
    and `contracts/vectors/transactions-*.json` hold. Key sets and `authorised` are sorted
    into canonical order (a repeat is refused); with `suite` ("sm" / "intl") every key must be
    of its algorithm. Raises ValueError naming the field (`tx.payload.keys[1]: ...`)."""
    if isinstance(tx_json, (str, bytes, bytearray)):
        tx_json = _strict_json(tx_json)
    algo = None if suite is None else _suite_tag(suite)
    obj = _object(tx_json, "tx", ("chain_id", "nonce", "expires_at_height", "payload"))
    data = _fields(obj, "tx", [
        ("chain_id", _ident), ("nonce", _u64), ("expires_at_height", _u64),
        ("payload", lambda v, p: _payload(v, p, algo))])
    # The whole transaction through the verifier's decoder once more: a backstop that every
    # field check above agrees with it (it cannot fail unless they do not).
    return _checked(data, iv.dec_transaction, "tx", "does not decode as a Transaction")


# ============================================================================ signed transactions


def _as_transaction(tx: dict | str | bytes, suite_tag: int) -> bytes:
    if isinstance(tx, (bytes, bytearray, memoryview)):
        return _checked(bytes(tx), iv.dec_transaction, "tx", "does not decode as a Transaction")
    return build_transaction(tx, suite_tag)


def _check_signer(key: SigningKey, suite_tag: int) -> None:
    if not isinstance(key, SigningKey):
        raise TypeError(f"expected a SigningKey, found {type(key).__name__}")
    if key.algo != suite_tag:
        raise ValueError(f"the {_ALGO_NAMES[key.algo]} key {key.public_key} cannot sign for "
                         f"the {'sm' if suite_tag == 1 else 'intl'} suite "
                         f"({_ALGO_NAMES[suite_tag]} keys only)")


def _signed(tx_bytes: bytes, count: int, entries: bytes) -> bytes:
    """`SignedTransaction`: the transaction, then `seq<TxSignature>` (`count` entries, each
    `PublicKey || Signature`)."""
    data = tx_bytes + struct.pack(">I", count) + entries
    # Size (64 KiB), 1-32 signatures, distinct keys, signature ranges: the verifier's decoder.
    _checked(data, iv.dec_signed_transaction, "signed transaction", "refused")
    return data


def _entry(key: SigningKey, tx_id: bytes) -> bytes:
    """A `TxSignature`: the signer's PublicKey, then `u8 algo || 64 bytes`."""
    return key.public_key_bytes + bytes([key.algo]) + key.sign(tx_id)


def sign_transaction(suite: str | int, tx: dict | str | bytes,
                     keys: SigningKey | Sequence[SigningKey]) -> tuple[str, bytes]:
    """Builds (from JSON, or takes encoded `Transaction` bytes) and signs: returns (id hex,
    `SignedTransaction` bytes) with one `TxSignature` per key, in the order given. Every key
    must be of the suite's algorithm and appear once."""
    tag = _suite_tag(suite)
    keys = [keys] if isinstance(keys, SigningKey) else list(keys)
    if not 1 <= len(keys) <= 32:
        raise ValueError(f"a transaction carries 1-32 signatures, not {len(keys)}")
    tx_bytes = _as_transaction(tx, tag)
    tx_id = bytes.fromhex(transaction_id(tag, tx_bytes))
    seen = set()
    for key in keys:
        _check_signer(key, tag)
        if key.public_key_bytes in seen:
            raise ValueError(f"{key.public_key} is given twice (signers must be distinct)")
        seen.add(key.public_key_bytes)
    entries = b"".join(_entry(key, tx_id) for key in keys)
    return tx_id.hex(), _signed(tx_bytes, len(keys), entries)


def cosign(suite: str | int, signed_bytes: bytes, key: SigningKey) -> bytes:
    """Adds `key`'s signature to a signed transaction (a council transaction passed from member
    to member): returns the new `SignedTransaction` bytes, same id, the signature last."""
    tag = _suite_tag(suite)
    _check_signer(key, tag)
    signed_bytes = bytes(signed_bytes)
    decoded = _checked_decode(signed_bytes)
    if any(s["key"]["enc"] == key.public_key_bytes for s in decoded["signatures"]):
        raise ValueError(f"{key.public_key} has signed this transaction already")
    tx_bytes = decoded["tx_bytes"]
    tx_id = bytes.fromhex(transaction_id(tag, tx_bytes))
    # The existing entries are kept byte for byte; the count before them grows by one.
    entries = signed_bytes[len(tx_bytes) + 4:] + _entry(key, tx_id)
    return _signed(tx_bytes, len(decoded["signatures"]) + 1, entries)


def _checked_decode(signed_bytes: bytes) -> dict:
    r = iv.Reader(signed_bytes)
    try:
        decoded = iv.dec_signed_transaction(r)
        r.end()
        return decoded
    except iv.DecodeError as e:
        raise ValueError(f"signed transaction: does not decode ({e})") from None


def verify_signed_transaction(suite: str | int, signed_bytes: bytes) -> str:
    """Checks every signature of a signed transaction with the independent verifier; returns
    the id hex. Raises ValueError naming the first signature that does not verify."""
    tag = _suite_tag(suite)
    decoded = _checked_decode(bytes(signed_bytes))
    tx_id = bytes.fromhex(transaction_id(tag, decoded["tx_bytes"]))
    for i, s in enumerate(decoded["signatures"]):
        if not iv.verify_sig(s["key"]["algo"], s["key"]["key"], s["signature"]["algo"],
                             s["signature"]["sig"], tx_id, tag):
            raise ValueError(f"signatures[{i}]: does not verify under "
                             f"{_ALGO_NAMES.get(s['key']['algo'])}:{s['key']['key'].hex()}")
    return tx_id.hex()


# ============================================================================ HTTP client


class LichenError(Exception):
    """A node's refusal `{"error": {"code", "message"}}` with its HTTP `status` (`body` is the
    whole JSON answer; code "http_error" if the answer was not that shape). A node that did not
    answer gives `status` None and code "unreachable" or "timeout"."""

    def __init__(self, status: int | None, code: str, message: str, body: Any = None):
        super().__init__(f"{code} ({status}): {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body


class Client:
    """A node's HTTP API (README, "The HTTP API"). JSON answers come back as dicts, binary ones
    (presentations, receipts, the trust anchor) as bytes; errors raise LichenError. Every
    request has a timeout (`timeout` seconds; longer for `submit(wait=True)`)."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _request(self, method: str, path: str, *, query: dict | None = None,
                 body: bytes | None = None, content_type: str | None = None,
                 accept: str = "application/json", timeout: float | None = None):
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                return response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                answer = json.loads(raw)
                error = answer["error"]
                code, message = str(error["code"]), str(error["message"])
            except (ValueError, KeyError, TypeError):
                answer, code, message = None, "http_error", raw[:200].decode("utf-8", "replace")
            raise LichenError(e.code, code, message, answer) from None
        except (urllib.error.URLError, OSError) as e:  # refused, reset, timed out
            reason = getattr(e, "reason", e)
            code = "timeout" if isinstance(reason, TimeoutError) else "unreachable"
            raise LichenError(None, code, f"{method} {url}: {reason}") from None

    def _json(self, method: str, path: str, **kw) -> Any:
        _, _, raw = self._request(method, path, **kw)
        return json.loads(raw)

    def _binary(self, path: str, query: dict | None = None) -> bytes:
        _, _, raw = self._request("GET", path, query=query, accept="application/octet-stream")
        return raw

    def get(self, path: str, query: dict | None = None) -> Any:
        """Any JSON endpoint, e.g. `get("/v1/licence-types")`."""
        return self._json("GET", path, query=query)

    def status(self) -> dict:
        """`GET /v1/status`: chain_id, suite, height, block_hash, tx_expiry_blocks_max, ..."""
        return self._json("GET", "/v1/status")

    def submit(self, signed_bytes: bytes, wait: bool = False,
               timeout_ms: int | None = None) -> dict:
        """`POST /v1/transactions` (binary). Without `wait`: 202 `{id, status: "pending",
        duplicate}` once admitted. With `wait`: `?wait=final`, answering 200 `{id, status:
        "committed", height, index, block_time_ms, block_time}` once a block includes it
        (`timeout_ms`: the node's wait, default 10 s, at most 60 s). A refusal at admission
        (bad_signature, tx_refused, wrong_chain ... 4xx) or by the block (422 tx_refused) or a
        wait that ran out (504 finality_timeout) raises LichenError."""
        query = {"wait": "final", "timeout_ms": timeout_ms} if wait else None
        http_timeout = self.timeout + ((timeout_ms or 10_000) / 1000 if wait else 0)
        return self._json("POST", "/v1/transactions", query=query, body=bytes(signed_bytes),
                          content_type="application/octet-stream", timeout=http_timeout)

    def transaction(self, tx_id: str) -> dict:
        """`GET /v1/transactions/{id}`: committed (with the transaction), pending or refused."""
        return self._json("GET", f"/v1/transactions/{tx_id}")

    def licence(self, licence_id: str) -> dict:
        """`GET /v1/licences/{id}`: `{licence, history, height}` (the record, its status changes
        and the height read at)."""
        return self._json("GET", "/v1/licences/" + urllib.parse.quote(licence_id, safe=""))

    def presentation(self, licence_id: str, height: int | None = None,
                     compact: bool = False) -> bytes:
        """`GET /v1/licences/{id}/presentation`: the binary Presentation (a compact one with
        `compact`), at the latest height or `height`."""
        query = {"height": height, "compact": "true" if compact else None}
        return self._binary("/v1/licences/" + urllib.parse.quote(licence_id, safe="")
                            + "/presentation", query)

    def evidence(self, hash_hex: str) -> dict:
        """`GET /v1/evidence/{hash}`: the anchored entry."""
        return self._json("GET", f"/v1/evidence/{hash_hex}")

    def receipt(self, hash_hex: str, height: int | None = None) -> bytes:
        """`GET /v1/evidence/{hash}/receipt`: the binary EvidenceReceipt."""
        return self._binary(f"/v1/evidence/{hash_hex}/receipt", {"height": height})

    def trust_anchor(self) -> bytes:
        """`GET /v1/trust-anchor`: the genesis TrustAnchor bytes (for offline verification; a
        verifier should compare its fingerprint with one obtained out of band)."""
        return self._binary("/v1/trust-anchor")

    def verify(self, presentation_bytes: bytes, *, document_hash: bytes | str | None = None,
               proof_age_max_ms: int | None = None, trust_package: str | None = None,
               expect: str | None = None, holder_id: str | None = None,
               holder_salt: bytes | str | None = None) -> dict:
        """`POST /v1/verify` (binary, the parameters in the query): the node's per-check report
        `{kind, verdict, ok, certified, checks, status_as_of_ms, height, licence, evidence,
        holder_checked, trust_package}`; `verdict` is "VALID", "ANCHORED", "REVOKED" ..."""
        def hx(v):
            return v.hex() if isinstance(v, (bytes, bytearray)) else v
        query = {"document_hash": hx(document_hash), "proof_age_max_ms": proof_age_max_ms,
                 "trust_package": trust_package, "expect": expect, "holder_id": holder_id,
                 "holder_salt": hx(holder_salt)}
        return self._json("POST", "/v1/verify", query=query, body=bytes(presentation_bytes),
                          content_type="application/octet-stream")
