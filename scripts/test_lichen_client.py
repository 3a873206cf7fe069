#!/usr/bin/env python3
"""Tests of scripts/lichen_client.py. From the repository's root:

    python3 scripts/test_lichen_client.py                                  # vectors, units
    LICHEN_BIN=target/debug/lichen python3 scripts/test_lichen_client.py   # and end to end

Without LICHEN_BIN the end-to-end tests are skipped (with a message saying so); with it, each
suite starts its own `lichen dev` chain in a temporary folder, issues, verifies, revokes,
anchors evidence and runs a council operation through the client, and stops the chain whatever
happens.
"""

from __future__ import annotations

import atexit
import http.server
import json
import os
import re
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import independent_verifier as iv  # noqa: E402
import lichen_client as lc  # noqa: E402

REPO = os.path.dirname(HERE)
VECTORS = os.path.join(REPO, "contracts", "vectors")
SUITES = ("sm", "intl")


def load_vectors(name: str) -> dict:
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


def testkit_key(suite: str, name: str) -> lc.SigningKey:
    """PROTOCOL "SM2 signing", Check: the golden chain's key of `name` is H("lichen/testkit/key",
    name || u32 c) for the first c that gives a valid key (`name` as its raw UTF-8 bytes)."""
    for c in range(256):
        secret = lc.tagged_hash(suite, "lichen/testkit/key", name.encode() + struct.pack(">I", c))
        try:
            return lc.SigningKey.from_secret(suite, secret)
        except ValueError:
            continue
    raise AssertionError("no valid testkit key")


# ============================================================================ vectors


class TransactionVectorsTest(unittest.TestCase):
    """contracts/vectors/transactions-{sm,intl}.json: every payload kind builds, hashes and signs
    byte for byte (SM2 is deterministic), and every `refused` input is refused."""

    def test_every_kind_builds_and_signs_exactly(self):
        for suite in SUITES:
            v = load_vectors(f"transactions-{suite}.json")
            keys = {k["name"]: lc.SigningKey.from_secret(suite, k["secret"]) for k in v["keys"]}
            for k in v["keys"]:
                self.assertEqual(keys[k["name"]].public_key, k["public_key"], k["name"])
            self.assertEqual(sorted(e["kind"] for e in v["transactions"]),
                             sorted(lc.PAYLOAD_KINDS), "one vector per payload kind")
            for e in v["transactions"]:
                with self.subTest(suite=suite, kind=e["kind"]):
                    tx = lc.build_transaction(e["json"], suite)
                    self.assertEqual(tx.hex(), e["transaction_hex"])
                    self.assertEqual(tx[4 + len(v["chain_id"]) + 16], e["tag"])
                    self.assertEqual(lc.transaction_id(suite, tx), e["id"])
                    signers = [keys[n] for n in e["signers"]]
                    tx_id, signed = lc.sign_transaction(suite, e["json"], signers)
                    self.assertEqual(tx_id, e["id"])
                    self.assertEqual(signed.hex(), e["signed_hex"])
                    # The same from the encoded Transaction, and from JSON text.
                    self.assertEqual(lc.sign_transaction(suite, tx, signers)[1], signed)
                    self.assertEqual(lc.build_transaction(json.dumps(e["json"]), suite), tx)
                    # Signed by members one after the other: the same bytes.
                    passed = lc.sign_transaction(suite, tx, signers[:1])[1]
                    for key in signers[1:]:
                        passed = lc.cosign(suite, passed, key)
                    self.assertEqual(passed, signed)
                    self.assertEqual(lc.verify_signed_transaction(suite, signed), e["id"])

    def test_refused_inputs(self):
        for suite in SUITES:
            for e in load_vectors(f"transactions-{suite}.json")["refused"]:
                with self.subTest(suite=suite, why=e["why"]):
                    with self.assertRaises(ValueError) as caught:
                        lc.build_transaction(e["json"], suite)
                    # Every message names the field it is about.
                    self.assertRegex(str(caught.exception), r"^tx(\.[a-z_]+)*(\[\d+\])?: ")


class SigningTest(unittest.TestCase):
    def test_protocol_worked_sm2_example(self):
        """PROTOCOL "SM2 signing", Check: agency-a's signature in golden-sm.json
        signed_transaction.issue, from d alone."""
        d = "4a9c98ac895ba8a27974e70bcafb789dcaf032d0d1875d5fb0fe62a3e8237afa"
        key = lc.SigningKey.from_secret("sm", d)
        self.assertTrue(key.public_key_bytes.hex().startswith("01024036f7"))
        self.assertTrue(key.public_key_bytes.hex().endswith("994d196e"))
        self.assertEqual(testkit_key("sm", "agency-a").public_key, key.public_key)
        objects = {o["name"]: o for o in load_vectors("golden-sm.json")["objects"]}
        signed = bytes.fromhex(objects["signed_transaction.issue"]["hex"])
        tx = bytes.fromhex(objects["transaction.issue"]["hex"])
        tx_id = "20471cb48e25e67ce2e908eef1b00461219ad2588348a5d221455ac00c993857"
        self.assertEqual(lc.transaction_id("sm", tx), tx_id)
        r = "aeab9b6f17313dbf0d65771babb983c80384df8e24be207494e30c6bba397cf5"
        s = "105b8a07b07a5cf62f4faa7b7920fabcdcb931228f098608c4e2883722de2e03"
        self.assertEqual(key.sign(bytes.fromhex(tx_id)).hex(), r + s)
        self.assertIn(bytes.fromhex("01" + r + s), signed)
        self.assertEqual(lc.sign_transaction("sm", tx, [key]), (tx_id, signed))

    def test_golden_signatures_reproduce(self):
        """Both suites: the issue signature and the four commit-certificate signatures of the
        golden chain, from the testkit keys."""
        for suite in SUITES:
            with self.subTest(suite=suite):
                objects = {o["name"]: o for o in load_vectors(f"golden-{suite}.json")["objects"]}
                agency = testkit_key(suite, "agency-a")
                tx = bytes.fromhex(objects["transaction.issue"]["hex"])
                self.assertEqual(lc.sign_transaction(suite, tx, [agency])[1].hex(),
                                 objects["signed_transaction.issue"]["hex"])
                validators = {k.public_key_bytes: k for k in
                              (testkit_key(suite, f"validator-{i}") for i in range(4))}
                vset = iv.decode("ValidatorSet", bytes.fromhex(objects["validator_set"]["hex"]))
                cert = iv.decode("CommitCertificate",
                                 bytes.fromhex(objects["commit_certificate.2"]["hex"]))
                digest = bytes.fromhex(objects["vote.commit.2"]["hash"])
                self.assertEqual(len(cert["signatures"]), 4)
                for s in cert["signatures"]:
                    key = validators[vset[s["index"]]["key"]["enc"]]
                    self.assertEqual(key.sign(digest), s["signature"]["sig"])

    def test_official_sm2_example(self):
        """GM/T 0003.5 with its random k: Z_A, e, r and s (steps 1, 2, 4, 5)."""
        o = load_vectors("official.json")["sm2"]["signature_default_id"]
        d = int(o["private_key_d"], 16)
        pub = lc._sm2_point(d)
        self.assertEqual(pub, (int(o["public_key_x"], 16), int(o["public_key_y"], 16)))
        za = lc._sm2_za(pub)
        self.assertEqual(za.hex(), o["z_a"].lower())
        e = int.from_bytes(lc.sm3(za + o["message_utf8"].encode()), "big")
        self.assertEqual(e, int(o["e"], 16))
        sig = lc._sm2_sign_with_k(d, e, int(o["k"], 16))
        self.assertEqual(sig.hex(), (o["r"] + o["s"]).lower())

    def test_rfc8032_ed25519(self):
        for case in load_vectors("official.json")["ed25519"]["cases"]:
            seed = bytes.fromhex(case["secret_key"])
            self.assertEqual(lc._ed_expand(seed)[2].hex(), case["public_key"])
            self.assertEqual(lc._ed_sign(seed, bytes.fromhex(case["message"])).hex(),
                             case["signature"])

    def test_fresh_keys_verify_independently(self):
        for suite in SUITES:
            key = lc.SigningKey.generate(suite)
            msg = secrets.token_bytes(32)
            sig = key.sign(msg)
            self.assertEqual(sig, key.sign(msg), "deterministic")
            enc = key.public_key_bytes
            self.assertTrue(iv.verify_sig(enc[0], enc[1:], key.algo, sig, msg, key.algo))
            self.assertFalse(iv.verify_sig(enc[0], enc[1:], key.algo, sig, bytes(32), key.algo))

    def test_key_checks(self):
        n = iv.SM2_N
        for bad in (0, n - 1, n):
            with self.assertRaises(ValueError):
                lc.SigningKey.from_secret("sm", bad.to_bytes(32, "big"))
        lc.SigningKey.from_secret("sm2", (n - 2).to_bytes(32, "big"))
        with self.assertRaises(ValueError):
            lc.SigningKey.from_secret("intl", bytes(31))
        with self.assertRaises(ValueError):
            lc.SigningKey.from_secret("rsa", bytes(32))
        with self.assertRaisesRegex(ValueError, "32-byte digests"):
            lc.SigningKey.from_secret("ed25519", bytes(32)).sign(b"abc")


class PrimitivesTest(unittest.TestCase):
    def test_sm3(self):
        for case in load_vectors("official.json")["sm3"]["cases"]:
            self.assertEqual(lc.sm3(case["message_utf8"].encode()).hex(), case["digest"])
        # The unrolled compression of the pure-Python PBKDF2 against the verifier's.
        for _ in range(3):
            block = secrets.token_bytes(64)
            state = struct.unpack(">8I", secrets.token_bytes(32))
            self.assertEqual(lc._sm3_compress_words(state, struct.unpack(">16I", block)),
                             iv._sm3_compress(state, block))

    def test_sm4(self):
        o = load_vectors("official.json")["sm4"]
        key, plain = bytes.fromhex(o["key"]), bytes.fromhex(o["plaintext"])
        self.assertEqual(lc.sm4_encrypt_block(key, plain).hex(), o["ciphertext_once"])
        # CTR: block i is the plaintext XOR SM4(iv + i), the counter carrying over 128 bits.
        ctr = b"\xff" * 16
        data = secrets.token_bytes(40)
        out = lc.sm4_ctr(key, ctr, data)
        self.assertEqual(out[16:32], bytes(
            a ^ b for a, b in zip(data[16:32], lc.sm4_encrypt_block(key, bytes(16)))))
        self.assertEqual(lc.sm4_ctr(key, ctr, out), data)

    def test_pbkdf2_pure_matches(self):
        """The pure-Python PBKDF2-HMAC-SM3 against OpenSSL's (when present) and against a
        direct RFC 8018 loop over HMAC-SM3, short and long (hashed) passwords."""
        for password in (b"lichen-dev", b"p" * 64, b"q" * 100):
            salt = secrets.token_bytes(16)
            u = lc.hmac_sm3(password, salt + b"\x00\x00\x00\x01")
            direct = bytearray(u)
            for _ in range(49):
                u = lc.hmac_sm3(password, u)
                direct = bytearray(a ^ b for a, b in zip(direct, u))
            self.assertEqual(lc.pbkdf2_hmac_sm3(password, salt, 50, pure=True), bytes(direct))
            if lc.OPENSSL_SM3:
                self.assertEqual(lc.pbkdf2_hmac_sm3(password, salt, 1000, pure=True),
                                 lc.pbkdf2_hmac_sm3(password, salt, 1000, pure=False))


class KeyFileTest(unittest.TestCase):
    def test_golden_keystore(self):
        for suite in SUITES:
            for case in load_vectors(f"golden-{suite}.json")["keystore"]:
                with self.subTest(suite=suite, name=case["name"]):
                    data = bytes.fromhex(case["hex"])
                    if "secret" in case:
                        key = lc.SigningKey.from_key_file(data, case["password"])
                        self.assertEqual(key._secret.hex(), case["secret"])
                        self.assertEqual(key.public_key_bytes.hex(), case["public_key"])
                    else:
                        self.assertEqual(case["expect"], "authentication fails")
                        with self.assertRaises(lc.KeyFileError) as caught:
                            lc.SigningKey.from_key_file(data, case["password"])
                        self.assertTrue(caught.exception.authentication)

    def test_golden_keystore_pure_python(self):
        """The pure-Python path opens a real file (10,000 iterations: about 2.5 s)."""
        case = load_vectors("golden-sm.json")["keystore"][0]
        key = lc.SigningKey.from_key_file(bytes.fromhex(case["hex"]), case["password"], pure=True)
        self.assertEqual(key._secret.hex(), case["secret"])

    def test_seal_open_and_malformed(self):
        for suite in SUITES:
            key = lc.SigningKey.generate(suite)
            sealed = lc.seal_key_file(key.algo, key._secret, "pw", iterations=10_000)
            self.assertEqual(len(sealed), 111)
            self.assertEqual(lc.SigningKey.from_key_file(sealed, b"pw").public_key, key.public_key)
            with self.assertRaises(lc.KeyFileError) as caught:
                lc.SigningKey.from_key_file(sealed, "pW")
            self.assertTrue(caught.exception.authentication)
            flipped = bytearray(sealed)
            flipped[100] ^= 1
            with self.assertRaises(lc.KeyFileError):
                lc.SigningKey.from_key_file(bytes(flipped), "pw")
            for bad, why in ((b"LICHENKX" + sealed[8:], "magic"), (sealed[:110], "111 bytes"),
                             (sealed[:11] + struct.pack(">I", 9_999) + sealed[15:], "10,000"),
                             (sealed[:9] + b"\x07" + sealed[10:], "algorithm"),
                             (sealed[:10] + b"\x02" + sealed[11:], "KDF")):
                with self.assertRaisesRegex(lc.KeyFileError, why) as caught:
                    lc.SigningKey.from_key_file(bad, "pw")
                self.assertFalse(caught.exception.authentication)


# ============================================================================ building


def _base(payload: dict) -> dict:
    return {"chain_id": "lichen-test", "nonce": 7, "expires_at_height": 100, "payload": payload}


class BuildTransactionTest(unittest.TestCase):
    def setUp(self):
        v = load_vectors("transactions-sm.json")
        self.vectors = {e["kind"]: e for e in v["transactions"]}
        self.keys = {k["name"]: k["public_key"] for k in v["keys"]}

    def refused(self, tx, field: str, suite: str | None = "sm", match: str = ""):
        with self.assertRaises(ValueError) as caught:
            lc.build_transaction(tx, suite)
        message = str(caught.exception)
        self.assertTrue(message.startswith(field + ": "), message)
        self.assertIn(match, message)
        return message

    def test_types_and_ranges(self):
        revoke = {"kind": "revoke", "id": "SZ-1", "reason": ""}
        for nonce in (True, 1.0, "1", None, 2 ** 64):
            self.refused({**_base(revoke), "nonce": nonce}, "tx.nonce")
        lc.build_transaction({**_base(revoke), "nonce": 2 ** 64 - 1})
        tx = _base(revoke)
        del tx["expires_at_height"]
        self.refused(tx, "tx.expires_at_height", match="missing field")
        self.refused({**_base(revoke), "extra": 1}, "tx.extra", match="unknown field")
        self.refused({**_base(revoke), "chain_id": "lichen-test\n"}, "tx.chain_id")
        self.refused(_base({**revoke, "id": "SZ-1\n"}), "tx.payload.id")
        self.refused(_base({"id": "SZ-1", "reason": ""}), "tx.payload.kind", match="missing")
        self.refused(_base({"kind": 23}), "tx.payload.kind", match="expected a string")
        self.refused(_base({**revoke, "reason": None}), "tx.payload.reason")
        self.refused(_base({**revoke, "reason": "\ud800"}), "tx.payload.reason", match="Unicode")
        self.refused(_base({**revoke, "reason": "x" * 513}), "tx.payload.reason")
        self.refused([], "tx", match="expected an object")
        self.refused('{"chain_id": "a", "chain_id": "b"}', "tx", match="twice")
        self.refused('{"nonce": NaN}', "tx")
        auth = {"kind": "set-type-authorisation", "licence_type": "food", "agency": "a",
                "authorised": 1}
        self.refused(_base(auth), "tx.payload.authorised", match="true or false")

    def test_key_sets_are_sorted_and_distinct(self):
        e = self.vectors["register-agency"]
        payload = e["json"]["payload"]
        shuffled = {**payload, "keys": list(reversed(payload["keys"]))}
        upper = {**payload, "keys": [k.split(":")[0] + ":" + k.split(":")[1].upper()
                                     for k in payload["keys"]]}
        for p in (shuffled, upper):
            self.assertEqual(lc.build_transaction({**e["json"], "payload": p}, "sm").hex(),
                             e["transaction_hex"])
        dup = {**payload, "keys": payload["keys"] + [payload["keys"][0].upper().replace(
            "SM2:", "sm2:")]}
        self.refused({**e["json"], "payload": dup}, "tx.payload.keys[2]", match="same as "
                     "tx.payload.keys[0]")
        self.refused({**e["json"], "payload": {**payload, "keys": []}}, "tx.payload.keys")
        upper_prefix = "SM2:" + payload["keys"][0][4:]
        self.refused({**e["json"], "payload": {**payload, "keys": [upper_prefix]}},
                     "tx.payload.keys[0]", match="prefix")
        self.refused({**e["json"], "payload": {**payload, "keys": [payload["keys"][0][:-2]]}},
                     "tx.payload.keys[0]", match="33 bytes")
        not_on_curve = "sm2:02" + "00" * 31 + "05"
        self.refused({**e["json"], "payload": {**payload, "keys": [not_on_curve]}},
                     "tx.payload.keys[0]", match="not a valid sm2 public key")
        # Without a suite, keys of either algorithm; with one, only its own.
        ed = load_vectors("transactions-intl.json")["keys"][0]["public_key"]
        mixed = {**e["json"], "payload": {**payload, "keys": [ed]}}
        lc.build_transaction(mixed)
        self.refused(mixed, "tx.payload.keys[0]", match="suite signs with sm2")

    def test_authorised_and_council(self):
        e = self.vectors["define-licence-type"]
        p = e["json"]["payload"]
        shuffled = {**p, "authorised": list(reversed(p["authorised"]))}
        self.assertEqual(lc.build_transaction({**e["json"], "payload": shuffled}, "sm").hex(),
                         e["transaction_hex"])
        # By the ids' bytes, not by their length-prefixed encodings.
        built = lc.build_transaction({**e["json"], "payload": {**p, "authorised": ["b", "aa"]}})
        self.assertIn(b"\x00\x00\x00\x02\x00\x00\x00\x02aa\x00\x00\x00\x01b", built)
        self.refused({**e["json"], "payload": {**p, "authorised": ["a", "b", "a"]}},
                     "tx.payload.authorised[2]", match="duplicate")
        self.refused({**e["json"], "payload": {**p, "authorised": ["a b"]}},
                     "tx.payload.authorised[0]")
        council = self.vectors["update-council"]["json"]
        for threshold in (0, 3):
            bad = {**council, "payload": {**council["payload"], "threshold": threshold}}
            self.refused(bad, "tx.payload.threshold", match="outside 1..2")

    def test_licence_draft_companions(self):
        issue = self.vectors["issue"]["json"]
        p = issue["payload"]
        # The companions are optional; valid_until_ms null or absent: no end.
        bare = {k: v for k, v in p.items() if k not in ("valid_from", "valid_until")}
        self.assertEqual(lc.build_transaction({**issue, "payload": bare}, "sm").hex(),
                         self.vectors["issue"]["transaction_hex"])
        lc.build_transaction({**issue, "payload": {**bare, "valid_until_ms": None}})
        no_end = {k: v for k, v in bare.items() if k != "valid_until_ms"}
        self.assertEqual(lc.build_transaction({**issue, "payload": no_end}),
                         lc.build_transaction({**issue, "payload": {**no_end,
                                                                    "valid_until": None}}))
        self.refused({**issue, "payload": {**p, "valid_from": "2026-01-01T00:00:00.001Z"}},
                     "tx.payload.valid_from", match="informational")
        for text in ("2026-01-01 00:00:00Z", "2026-01-01T00:00:00+00:00",
                     "\u0662026-01-01T00:00:00Z"):
            self.refused({**issue, "payload": {**p, "valid_from": text}},
                         "tx.payload.valid_from", match="RFC 3339")
        lower = {**p, "valid_from": "2026-01-01t00:00:00z"}  # as lichen reads it
        lc.build_transaction({**issue, "payload": lower})
        self.refused({**issue, "payload": {**p, "valid_from": None}}, "tx.payload.valid_from")
        self.refused({**issue, "payload": {**no_end, "valid_until": p["valid_until"]}},
                     "tx.payload.valid_until", match="without valid_until_ms")
        self.refused({**issue, "payload": {**p, "holder_commitment": "0x" + "00" * 31}},
                     "tx.payload.holder_commitment", match="bad hex")
        self.refused({**issue, "payload": {**p, "id": ""}}, "tx.payload.id")
        sup = self.vectors["supersede"]["json"]
        self.refused({**sup, "payload": {**sup["payload"], "new": {**sup["payload"]["new"],
                                                                    "kind": "issue"}}},
                     "tx.payload.new.kind", match="unknown field")

    def test_observers_and_peer_ids(self):
        obs = self.vectors["add-observer"]["json"]
        self.refused({**obs, "payload": {**obs["payload"], "peer_id": ""}},
                     "tx.payload.peer_id", match="1-64 bytes")
        self.refused({**obs, "payload": {**obs["payload"], "peer_id": "ab" * 65}},
                     "tx.payload.peer_id")
        self.refused({**obs, "payload": {**obs["payload"], "name": " "}}, "tx.payload.name")

    def test_signing_rules(self):
        issue = self.vectors["issue"]["json"]
        ed = lc.SigningKey.generate("intl")
        with self.assertRaisesRegex(ValueError, "cannot sign for the sm suite"):
            lc.sign_transaction("sm", issue, [ed])
        sm = lc.SigningKey.generate("sm")
        with self.assertRaisesRegex(ValueError, "twice"):
            lc.sign_transaction("sm", issue, [sm, sm])
        _, signed = lc.sign_transaction("sm", issue, sm)
        with self.assertRaisesRegex(ValueError, "already"):
            lc.cosign("sm", signed, sm)
        with self.assertRaises(ValueError):
            lc.cosign("sm", signed + b"\x00", lc.SigningKey.generate("sm"))
        with self.assertRaisesRegex(ValueError, "1-32"):
            lc.sign_transaction("sm", issue, [])

    def test_hash_helpers(self):
        for suite in SUITES:
            golden = load_vectors(f"golden-{suite}.json")["hashes"]
            docs = [h for h in golden if "document" in h]
            holders = [h for h in golden if "holder_salt" in h]
            self.assertTrue(docs and holders)
            for h in docs:
                self.assertEqual(lc.document_hash(suite, bytes.fromhex(h["document"])).hex(),
                                 h["hash"])
            for h in holders:
                self.assertEqual(lc.holder_commitment(suite, bytes.fromhex(h["holder_salt"]),
                                                      h["holder_id"]).hex(), h["hash"])
            for h in golden:
                if "input" in h:
                    self.assertEqual(lc.tagged_hash(suite, h["tag"],
                                                    bytes.fromhex(h["input"])).hex(), h["hash"])


# ============================================================================ HTTP client


class _Canned(http.server.BaseHTTPRequestHandler):
    """Answers every request with the status and JSON body of the server's `answer`, and
    records what it was sent."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append((self.command, self.path, dict(self.headers),
                                 self.rfile.read(length)))
        status, body = self.server.answer
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
        self.server.seen = []
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.client = lc.Client(f"http://127.0.0.1:{self.server.server_address[1]}", timeout=5)

    def test_requests_and_errors(self):
        self.server.answer = (202, {"id": "ab", "status": "pending", "duplicate": False})
        self.assertEqual(self.client.submit(b"\x01\x02")["status"], "pending")
        method, path, headers, body = self.server.seen[-1]
        self.assertEqual((method, path, body), ("POST", "/v1/transactions", b"\x01\x02"))
        self.assertEqual(headers["Content-Type"], "application/octet-stream")
        self.client.submit(b"x", wait=True, timeout_ms=2000)
        self.assertEqual(self.server.seen[-1][1], "/v1/transactions?wait=final&timeout_ms=2000")
        self.client.verify(b"P", document_hash=b"\x01" * 32, holder_id="id 1/2",
                           holder_salt="00" * 32)
        self.assertEqual(self.server.seen[-1][1], "/v1/verify?document_hash=" + "01" * 32
                         + "&holder_id=id+1%2F2&holder_salt=" + "00" * 32)
        self.client.presentation("a/b c", compact=True)
        self.assertEqual(self.server.seen[-1][1],
                         "/v1/licences/a%2Fb%20c/presentation?compact=true")
        self.server.answer = (422, {"error": {"code": "tx_refused", "message": "no"}})
        with self.assertRaises(lc.LichenError) as caught:
            self.client.submit(b"x", wait=True)
        e = caught.exception
        self.assertEqual((e.status, e.code, e.message), (422, "tx_refused", "no"))
        self.server.answer = (502, b"<html>bad gateway</html>")
        with self.assertRaises(lc.LichenError) as caught:
            self.client.status()
        self.assertEqual((caught.exception.status, caught.exception.code), (502, "http_error"))

    def test_unreachable(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with self.assertRaises(lc.LichenError) as caught:
            lc.Client(f"http://127.0.0.1:{port}", timeout=2).status()
        self.assertEqual((caught.exception.status, caught.exception.code), (None, "unreachable"))


# ============================================================================ end to end

# Absolute: `lichen dev` runs in a folder of its own.
LICHEN_BIN = os.path.abspath(os.environ["LICHEN_BIN"]) if os.environ.get("LICHEN_BIN") else None
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 20
COMMIT_TIMEOUT_MS = 30_000
DAY_MS = 86_400_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevChain:
    """`$LICHEN_BIN dev` in a folder: started until its banner names the URL, stopped with
    SIGTERM (SIGKILL after STOP_TIMEOUT_S). Its stderr goes to dev.log beside the chain."""

    def __init__(self, binary: str, workdir: str, suite: str):
        self.binary, self.workdir, self.suite = binary, workdir, suite
        self.chain_dir = os.path.join(workdir, "chain")
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []
        self.url: str | None = None
        self._ready = threading.Event()

    def start(self) -> str:
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise RuntimeError(f"LICHEN_BIN={self.binary} is not an executable file")
        self.log = open(os.path.join(self.workdir, "dev.log"), "wb")
        # Also stopped at interpreter exit, should the test run itself be interrupted.
        atexit.register(self.stop)
        self.proc = subprocess.Popen(
            [self.binary, "dev", "--dir", self.chain_dir, "--suite", self.suite,
             "--port", str(_free_port())],
            cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self.log, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lichen dev ({self.suite}) did not start: "
                                   f"exit {self.proc.poll()}\n{self.tail()}")
        return self.url

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line)
            m = re.search(r"serving (http://127\.0\.0\.1:\d+)", line)
            if m and not self.url:
                self.url = m.group(1)
                self._ready.set()

    def tail(self) -> str:
        try:
            with open(os.path.join(self.workdir, "dev.log"), "rb") as f:
                err = f.read()[-3000:].decode("utf-8", "replace")
        except OSError:
            err = ""
        return "stdout:\n" + "".join(self.output[-30:]) + "\nstderr (end):\n" + err

    def stop(self):
        """SIGTERM (lichen stops cleanly on it), then SIGKILL if it has not ended in time."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            self._reader.join(5)
            self.proc.stdout.close()
        if getattr(self, "log", None):
            self.log.close()


class _EndToEnd:
    """One `lichen dev` chain of `suite` for the class; each test uses its own ids."""

    suite = "sm"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=f"lichen-client-{cls.suite}-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.dev = DevChain(LICHEN_BIN, cls.tmp, cls.suite)
        cls.addClassCleanup(cls.dev.stop)  # runs even if the rest of setUpClass fails
        cls.client = lc.Client(cls.dev.start())
        chain = cls.dev.chain_dir
        with open(os.path.join(chain, "password.txt"), encoding="utf-8") as f:
            password = f.read().rstrip("\r\n")
        def open_key(name):
            with open(os.path.join(chain, "keys", f"{name}.key"), "rb") as f:
                data = f.read()
            key = lc.SigningKey.from_key_file(data, password)
            with open(os.path.join(chain, "keys", f"{name}.key.pub"), encoding="utf-8") as f:
                if f.read().strip() != key.public_key:
                    raise AssertionError(f"{name}.key does not hold the key of {name}.key.pub")
            return key

        cls.agency = open_key("market-bureau")
        cls.court = open_key("court-1")
        cls.council = open_key("council-1")
        # The node's anchor must be the one the genesis file gives (the out-of-band check a
        # verifier makes); then it is what offline verification trusts.
        anchor = cls.client.trust_anchor()
        with open(os.path.join(chain, "genesis.json"), encoding="utf-8") as f:
            from_genesis, _ = iv.anchor_from_genesis_json(f.read())
        if anchor != from_genesis:
            raise AssertionError("the node's trust anchor is not the genesis file's")
        cls.anchor = iv.decode("TrustAnchor", anchor)
        cls.iv_suite = iv.Suite(cls.anchor["suite"])
        status = cls.client.status()
        if (status["suite"], status["chain_id"]) != (cls.suite, cls.anchor["chain_id"]):
            raise AssertionError(f"unexpected chain: {status}")

    def tx(self, payload: dict, expires_in: int = 100) -> dict:
        status = self.client.status()
        return {"chain_id": status["chain_id"], "nonce": secrets.randbits(63),
                "expires_at_height": status["height"] + min(expires_in,
                                                            status["tx_expiry_blocks_max"]),
                "payload": payload}

    def commit(self, payload: dict, keys) -> dict:
        tx_id, signed = lc.sign_transaction(self.suite, self.tx(payload), keys)
        receipt = self.client.submit(signed, wait=True, timeout_ms=COMMIT_TIMEOUT_MS)
        self.assertEqual((receipt["id"], receipt["status"]), (tx_id, "committed"))
        return receipt

    def offline(self, data: bytes, document: bytes) -> str:
        """The independent verifier's verdict against the node's (checked) trust anchor."""
        if data[:1] == b"\x52":
            verdict, _, _ = iv.verify_receipt(self.iv_suite, self.anchor, data, document)
        else:
            verdict, _ = iv.verify_presentation(self.iv_suite, self.anchor, data, document,
                                                int(time.time() * 1000), DAY_MS)
        return verdict

    def test_issue_verify_revoke(self):
        licence_id = f"PY-{self.suite.upper()}-{secrets.token_hex(6)}"
        document = f"licence {licence_id} (a test document)".encode()
        salt, holder = secrets.token_bytes(32), "91350100M000100Y43"
        now = int(time.time() * 1000)
        issue = {"kind": "issue", "id": licence_id, "licence_type": "business",
                 "issuer": "market-bureau",
                 "document_hash": lc.document_hash(self.suite, document).hex(),
                 "holder_commitment": lc.holder_commitment(self.suite, salt, holder).hex(),
                 "valid_from_ms": now - 60_000, "valid_until_ms": now + 365 * DAY_MS}
        tx_id, signed = lc.sign_transaction(self.suite, self.tx(issue), [self.agency])
        receipt = self.client.submit(signed, wait=True, timeout_ms=COMMIT_TIMEOUT_MS)
        self.assertEqual((receipt["id"], receipt["status"]), (tx_id, "committed"))
        with self.assertRaises(lc.LichenError) as caught:  # a replay
            self.client.submit(signed)
        self.assertEqual((caught.exception.status, caught.exception.code),
                         (409, "already_committed"))
        record = self.client.licence(licence_id)
        self.assertEqual((record["licence"]["status"], record["licence"]["issuer"]),
                         ("active", "market-bureau"))

        presentation = self.client.presentation(licence_id)
        report = self.client.verify(presentation,
                                    document_hash=lc.document_hash(self.suite, document),
                                    holder_id=holder, holder_salt=salt)
        self.assertEqual((report["verdict"], report["holder_checked"]), ("VALID", True))
        self.assertEqual(self.offline(presentation, document), "VALID")
        self.assertEqual(self.offline(presentation, b"another document"), "TAMPERED")

        self.commit({"kind": "revoke", "id": licence_id, "reason": "revoked by the Python "
                     "client test"}, [self.agency])
        revoked = self.client.presentation(licence_id)
        self.assertEqual(self.client.verify(revoked)["verdict"], "REVOKED")
        self.assertEqual(self.offline(revoked, document), "REVOKED")
        # The presentation exported before is still VALID on its own (PROTOCOL: status as of
        # its header's time); a trust package would tell (not this client's business).
        self.assertEqual(self.offline(presentation, document), "VALID")

    def test_anchor_evidence(self):
        exhibit = secrets.token_bytes(200)
        digest = lc.document_hash(self.suite, exhibit)
        receipt = self.commit({"kind": "anchor-evidence", "hash": digest.hex(),
                               "submitter": "court-1", "label": "exhibit A (Python client)"},
                              [self.court])
        entry = self.client.evidence(digest.hex())["evidence"]
        self.assertEqual((entry["submitter"], entry["tx_id"], entry["height"]),
                         ("court-1", receipt["id"], receipt["height"]))
        proof = self.client.receipt(digest.hex())
        self.assertEqual(self.client.verify(proof, document_hash=digest)["verdict"], "ANCHORED")
        self.assertEqual(self.offline(proof, exhibit), "ANCHORED")

    def test_council_operation(self):
        self.commit({"kind": "set-type-authorisation", "licence_type": "food",
                     "agency": "market-bureau", "authorised": True}, [self.council])
        types = {t["code"]: t for t in self.client.get("/v1/licence-types")["items"]}
        self.assertEqual(types["food"]["authorised"], ["health-commission", "market-bureau"])

    def test_wrong_keys_refused(self):
        issue = {"kind": "issue", "id": f"PY-{secrets.token_hex(6)}", "licence_type": "business",
                 "issuer": "market-bureau", "document_hash": "11" * 32,
                 "holder_commitment": "22" * 32, "valid_from_ms": 0}
        cases = []
        # A key no agency holds, and the court's key, on the agency's issue: the node checks
        # authority against committed state at admission.
        for who, key in (("unknown key", lc.SigningKey.generate(self.suite)),
                         ("court's key", self.court)):
            cases.append((who, lc.sign_transaction(self.suite, self.tx(issue), [key])[1],
                          422, "tx_refused"))
        # The agency's signature made over another transaction: it does not verify.
        _, good = lc.sign_transaction(self.suite, self.tx(issue), [self.agency])
        _, other = lc.sign_transaction(self.suite, self.tx(issue), [self.agency])
        cases.append(("signature of another transaction", good[:-64] + other[-64:], 422,
                      "bad_signature"))
        for who, signed, status, code in cases:
            with self.subTest(who):
                with self.assertRaises(lc.LichenError) as caught:
                    self.client.submit(signed)
                self.assertEqual((caught.exception.status, caught.exception.code),
                                 (status, code), caught.exception.message)

    def test_refused_by_the_block(self):
        """What may depend on pending transactions (here: a licence nobody issued) is left to
        the block; `wait=final` then answers 422 with the reason."""
        _, signed = lc.sign_transaction(self.suite, self.tx(
            {"kind": "revoke", "id": f"PY-NONE-{secrets.token_hex(6)}", "reason": ""}),
            [self.agency])
        with self.assertRaises(lc.LichenError) as caught:
            self.client.submit(signed, wait=True, timeout_ms=COMMIT_TIMEOUT_MS)
        e = caught.exception
        self.assertEqual((e.status, e.code, list(e.body)), (422, "tx_refused", ["error"]),
                         e.message)


_SKIP = ("end to end: set LICHEN_BIN to the lichen binary (e.g. LICHEN_BIN=target/debug/lichen) "
         "to run `lichen dev` for each suite")


@unittest.skipUnless(LICHEN_BIN, _SKIP)
class EndToEndSmTest(_EndToEnd, unittest.TestCase):
    suite = "sm"


@unittest.skipUnless(LICHEN_BIN, _SKIP)
class EndToEndIntlTest(_EndToEnd, unittest.TestCase):
    suite = "intl"


if __name__ == "__main__":
    unittest.main()
