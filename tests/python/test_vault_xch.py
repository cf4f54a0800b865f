#!/usr/bin/env python3
"""The document exchange's messages and rate limit through the bindings
(hre.vault.XchRequest, XchHeader, XchChunk, XchRefusal,
Exchange.set_rate_limit), against docs/PROTOCOL.md 15 read here:

- REQUEST (15.2): built and signed in Python (ECDSA P-256 over
  SHA-256("HRE-VAULT-XCH-REQ-v1" || bytes 0..123) with the `cryptography`
  package when it is installed, else hashlib's digest signed by hre.Key),
  decoded and verified by the library; a request signed by the library
  parses by hand and its signature verifies in Python; every field
  changed (or a high S) fails verification; type, format, key curve and
  prefix are refused by the decoder with their codes;
- HEADER, CHUNK, REFUSAL (15.3 - 15.5): the library's encodings laid out
  as the tables say, decode(encode()) round trips, and the decoder's
  refusals (doc hash not the wrap's, envelope length out of range, a
  length field that is not the message's, an empty chunk, reasons out of
  range);
- the rate limit driven on two in-process nodes (bytes carried by hand, a
  virtual clock, as examples/vault_flow.py and tests/check_exchange.c's
  test_xch_rate_limit): argument checks, then with (1/s, burst 3) five
  fetches sent at one instant on one connection give three documents and
  two BUSY refusals (LimitExceeded with .reason BUSY), a fetch 1.5 s later
  is served, and with the limit off five more are all served;
- Exchange.fetch_signed with a request built and signed here (the
  doctor's key over hashlib's digest): served, the raw envelope hashes to
  the record's doc hash and opens here with the wrap; a tampered request
  (VerifyError) and one bound to another connection (InvalidArgument) are
  refused before they are sent.

Seeded (flip positions): the seed is printed; HRE_SEED=<n> replays it.

Usage: test_vault_xch.py   (HRE_LIBRARY points at libhre.so.1)
"""
import hashlib
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hre  # noqa: E402
from hre import VaultReader, VaultXchRefusal  # noqa: E402
from hre.node import Node  # noqa: E402
from hre.vault import Exchange, XchRequest, XchHeader, XchChunk, XchRefusal  # noqa: E402

try:
    if os.environ.get("HRE_TEST_NO_CRYPTOGRAPHY"):
        raise ImportError("HRE_TEST_NO_CRYPTOGRAPHY is set")
    from cryptography.hazmat.primitives import hashes, serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import (decode_dss_signature,
                                                                 encode_dss_signature)
    from cryptography.exceptions import InvalidSignature
    HAVE_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - optional
    HAVE_CRYPTOGRAPHY = False

from checks import check, expect, failures, checks  # noqa: E402,F401

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
DOMAIN = b"HRE-VAULT-XCH-REQ-v1"


def request_bytes(nonce, ts, key34, record_id, binding, sig):
    return bytes([1, 1]) + nonce + struct.pack("<Q", ts) + key34 + record_id + binding + sig


def py_request(nonce, ts, record_id, binding):
    """A request made and signed here (PROTOCOL 15.2): a fresh P-256 key,
    ECDSA over SHA-256(DOMAIN || bytes 0..123), low S. Returns the 188 bytes."""
    if HAVE_CRYPTOGRAPHY:
        sk = ec.generate_private_key(ec.SECP256R1())
        key34 = bytes([hre.Curve.P256]) + sk.public_key().public_bytes(
            ser.Encoding.X962, ser.PublicFormat.CompressedPoint)
        signed = request_bytes(nonce, ts, key34, record_id, binding, b"")
        r, s = decode_dss_signature(sk.sign(DOMAIN + signed, ec.ECDSA(hashes.SHA256())))
    else:
        k = hre.Key.generate()
        key34 = k.wire()
        signed = request_bytes(nonce, ts, key34, record_id, binding, b"")
        sig = k.sign(hashlib.sha256(DOMAIN + signed).digest())
        r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    s = min(s, P256_N - s)
    return signed + r.to_bytes(32, "big") + s.to_bytes(32, "big")


def py_verify(raw188):
    """Verify a request's signature here (PROTOCOL 15.2)."""
    key34, sig = raw188[26:60], raw188[124:188]
    if key34[0] != hre.Curve.P256:
        return None
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if s > P256_N // 2:
        return False
    msg = DOMAIN + raw188[:124]
    if HAVE_CRYPTOGRAPHY:
        pk = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key34[1:])
        try:
            pk.verify(encode_dss_signature(r, s), msg, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            return False
    return hre.PubKey.parse_wire(key34).verify(hashlib.sha256(msg).digest(), sig)


def request_cases(rng):
    nonce, ts = rng.randbytes(16), 1770000000123
    rec, binding = rng.randbytes(32), rng.randbytes(32)
    raw = py_request(nonce, ts, rec, binding)
    key34, sig = raw[26:60], raw[124:]
    check(len(raw) == hre.VAULT_XCH_REQUEST_LEN == 188, "request length")
    check(py_verify(raw) is True, "the Python signature verifies in Python")
    r = XchRequest.decode(raw)
    check((r.nonce, r.timestamp_ms, r.reader_key, r.record_id, r.binding, r.sig)
          == (nonce, ts, key34, rec, binding, sig), f"decoded fields {r}")
    check(r.verify() is True, "a request signed in Python verifies in C")
    check(r.encode() == raw, "encode gives the bytes back")
    hs = raw[:124] + sig[:32] + (P256_N - int.from_bytes(sig[32:], "big")).to_bytes(32, "big")
    check(XchRequest.decode(hs).verify() is False and py_verify(hs) is False, "high S refused")
    # every field changed: the signature no longer verifies (C and Python agree)
    for lo, hi, what in ((2, 18, "nonce"), (18, 26, "timestamp"), (60, 92, "record id"),
                         (92, 124, "binding"), (124, 188, "sig")):
        b = bytearray(raw)
        pos = rng.randrange(lo, hi)
        b[pos] ^= 1 << rng.randrange(8)
        q = XchRequest.decode(bytes(b))
        check(q.verify() is False and py_verify(bytes(b)) is False,
              f"{what} byte {pos} flipped: the request fails verification")
    # the decoder's refusals
    for pos, val, cls, what in ((0, 2, hre.DecodeError, "type 2"),
                                (1, 0, hre.DecodeError, "format 0"),
                                (1, 2, hre.Unsupported, "format 2"),
                                (26, 3, hre.DecodeError, "key curve id 3"),
                                (27, 4, hre.DecodeError, "key prefix 04")):
        b = bytearray(raw)
        b[pos] = val
        expect(cls, lambda: XchRequest.decode(bytes(b)), what)
    expect(hre.DecodeError, lambda: XchRequest.decode(raw[:187]), "187 bytes")
    expect(hre.DecodeError, lambda: XchRequest.decode(raw + b"\0"), "189 bytes")
    # the library signs; Python checks the layout and the signature
    k = hre.Key.generate()
    c = XchRequest.new(rec, binding, k, ts, nonce=nonce)
    craw = c.encode()
    check(craw[:26] == bytes([1, 1]) + nonce + struct.pack("<Q", ts) and craw[26:60] == k.wire()
          and craw[60:92] == rec and craw[92:124] == binding,
          "the library's request laid out as 15.2 says")
    check(py_verify(craw) is True, "a request signed by the library verifies in Python")
    c2 = XchRequest.new(rec, binding, k, ts)
    check(c2.nonce != nonce and len(c2.nonce) == 16 and c2.verify(), "a fresh random nonce")
    c.record_id = bytes(32)
    check(c.verify() is False, "a changed record id fails")
    check(c.sign(k).verify() is True, "re-signed")
    expect(hre.DecodeError, lambda: XchRequest.decode(raw[:27] + b"\x07" + raw[28:]).verify(),
           "prefix 07: the decoder refuses")


def message_cases(rng):
    enc = hre.Key.generate()
    env, doc_hash, content, wraps = hre.vault.seal(rng.randbytes(3000), rng.randbytes(32),
                                                   [(VaultReader.ORG, rng.randbytes(32), enc)])
    nonce = rng.randbytes(16)
    # HEADER
    h = XchHeader(nonce=nonce, envelope_len=len(env), doc_hash=doc_hash, wrap=wraps[0])
    raw = h.encode()
    check(len(raw) == hre.VAULT_XCH_HEADER_LEN == 345 and raw[:2] == b"\x02\x01"
          and raw[2:18] == nonce and raw[18:26] == struct.pack("<Q", len(env))
          and raw[26:58] == doc_hash and raw[58:] == wraps[0].raw, "HEADER laid out as 15.3")
    d = XchHeader.decode(raw)
    check(d == h, f"HEADER round trip {d}")
    b = bytearray(raw)
    b[26 + rng.randrange(32)] ^= 1
    expect(hre.DecodeError, lambda: XchHeader.decode(bytes(b)), "HEADER doc hash not the wrap's")
    lo = hre.vault.envelope_len(512)
    for n, ok in ((lo, True), (lo - 1, False)):
        b = bytearray(raw)
        struct.pack_into("<Q", b, 18, n)
        if ok:
            check(XchHeader.decode(bytes(b)).envelope_len == lo, "HEADER: the smallest envelope")
        else:
            expect(hre.DecodeError, lambda: XchHeader.decode(bytes(b)), "HEADER envelope too short")
    expect(hre.DecodeError, lambda: XchHeader.decode(raw[:-1]), "HEADER truncated")
    # CHUNK
    data = env[100:100 + rng.randrange(1, 2000)]
    ch = XchChunk(nonce=nonce, offset=100, data=data)
    raw = ch.encode()
    check(len(raw) == 30 + len(data) and raw[:2] == b"\x03\x01" and raw[2:18] == nonce
          and raw[18:26] == struct.pack("<Q", 100) and raw[26:30] == struct.pack("<I", len(data))
          and raw[30:] == data, "CHUNK laid out as 15.4")
    check(XchChunk.decode(raw) == ch, "CHUNK round trip")
    b = bytearray(raw)
    struct.pack_into("<I", b, 26, len(data) + 1)
    expect(hre.DecodeError, lambda: XchChunk.decode(bytes(b)),
           "CHUNK length field not the message's")
    expect(hre.DecodeError, lambda: XchChunk.decode(raw[:30]), "CHUNK without data")
    b = bytearray(raw)
    struct.pack_into("<Q", b, 18, hre.vault.envelope_len(1 << 41))
    expect(hre.DecodeError, lambda: XchChunk.decode(bytes(b)), "CHUNK past the largest envelope")
    expect(hre.InvalidArgument, lambda: XchChunk(nonce=nonce, offset=0, data=b"").encode(),
           "CHUNK encode of no data")
    # REFUSAL
    rf = XchRefusal(nonce=nonce, reason=VaultXchRefusal.REVOKED, access_reason=hre.ACCESS_REVOKED)
    raw = rf.encode()
    check(raw == b"\x04\x01" + nonce + bytes([2, int(hre.ACCESS_REVOKED)])
          and len(raw) == hre.VAULT_XCH_REFUSAL_LEN, "REFUSAL laid out as 15.5")
    d = XchRefusal.decode(raw)
    check(d == rf and d.reason is VaultXchRefusal.REVOKED, "REFUSAL round trip")
    for pos, val in ((18, 0), (18, 17), (19, 9), (0, 3)):
        b = bytearray(raw)
        b[pos] = val
        expect(hre.DecodeError, lambda: XchRefusal.decode(bytes(b)), f"REFUSAL byte {pos} = {val}")
    expect(hre.InvalidArgument, lambda: XchRefusal(nonce=nonce, reason=0, access_reason=0).encode(),
           "REFUSAL encode of reason 0")


# ---- the rate limit, on two in-process nodes ---------------------------------

T0 = 1760000000
clock = [(T0 + 3600) * 1000]


class Wire:
    """Carries the bytes of one connection (lab conn 1, clinic conn 2)."""

    def __init__(self, lab, clinic):
        self.ends = {id(lab): (clinic, 2), id(clinic): (lab, 1)}
        self.nodes, self.xchs = (lab, clinic), []

    def run(self, until, what, rounds=50000):
        for _ in range(rounds):
            moved = False
            for n in self.nodes:
                while (item := n.pull()) is not None:
                    peer, conn = self.ends[id(n)]
                    peer.peer_recv(conn, item[1], clock[0])
                    moved = True
            for n in self.nodes:
                t = n.next_timer()
                if t is not None and t <= clock[0]:
                    n.tick(clock[0])
                    moved = True
            if until():
                return
            if not moved:
                clock[0] += 50
                for x in self.xchs:
                    x.tick(clock[0])
        raise AssertionError(f"{what}: not reached after {rounds} rounds")


def rate_cases():
    authority = hre.Key.generate()
    ladmin, cadmin, doctor, patient = (hre.Key.generate() for _ in range(4))
    e_patient, e_lab, e_doctor = (hre.Key.generate() for _ in range(3))
    lab_id, clinic_id = hre.Key.generate(), hre.Key.generate()
    net = hre.Network.private(authority, "City Hospital", now=T0)
    nid = net.id
    sl, sc, sv = hre.Storage.memory(), hre.Storage.memory(), hre.Storage.memory()
    ll = hre.Ledger(sl, network=net)
    lc = hre.Ledger(sc, network=hre.Network.decode(net.encode()))
    vault = hre.Vault(sv)
    lab = Node(ll, clock[0], identity=lab_id)
    clinic = Node(lc, clock[0], identity=clinic_id)
    wire = Wire(lab, clinic)

    def secs():
        return clock[0] // 1000

    def submit(key, kind, **fields):
        return lab.submit_tx(hre.build_tx(kind, nid, key, ll.next_nonce(key), secs(), **fields),
                             clock[0])

    def mine(sync=True):
        while True:
            clock[0] += 1000
            if lab.mine(clock[0], 1 << 16) is not None:
                break
        if sync:
            wire.run(lambda: lc.tip() == ll.tip(), "the clinic follows")

    lab_org = submit(authority, "register_org", org_type=hre.ORG_LAB, name="Central Lab",
                     admin_key=ladmin)
    submit(authority, "register_org", org_type=hre.ORG_CLINIC, name="Far Clinic", admin_key=cadmin)
    mine(sync=False)
    submit(ladmin, "register_node", node_key=lab_id)
    submit(cadmin, "register_node", node_key=clinic_id)
    submit(cadmin, "register_doctor", doctor_key=doctor)
    submit(patient, "register_patient")
    mine(sync=False)
    clinic.peer_connected(2, "lab-node", clock[0], outbound=True)
    lab.peer_connected(1, "clinic-node", clock[0])
    wire.run(lambda: lc.tip() == ll.tip() and clinic.peer_list()
             and clinic.peer_info(2).member == hre.NodeMember.LIVE
             and lab.peer_info(1).member == hre.NodeMember.LIVE, "the nodes meet as members")
    for signer, tt, target, enc in ((patient, hre.ENC_TARGET_ACCOUNT, patient.address(), e_patient),
                                    (ladmin, hre.ENC_TARGET_ORG, lab_org, e_lab),
                                    (doctor, hre.ENC_TARGET_ACCOUNT, doctor.address(), e_doctor)):
        submit(signer, "set_enc_key", target_type=tt, target=target, enc_key=enc.wire())
    mine()
    doc = b'{"resourceType":"Observation","id":"rate"}'
    locator = os.urandom(32)
    doc_hash, _ = vault.store(doc, locator, readers=[(VaultReader.ACCOUNT, patient.address()),
                                                     (VaultReader.ORG, lab_org)],
                              contract=ll.contract, sender=(VaultReader.ORG, lab_org, e_lab))
    rec = submit(authority, "new_record", patient=patient.address(), lab_org=lab_org,
                 commit_patient_id=b"\1" * 32, commit_test_name=b"\2" * 32, date=secs(),
                 category=1, doc_sha256=doc_hash, hospital_name="City Hospital", locator=locator)
    mine()
    submit(patient, "grant", reader_type=hre.READER_ACCOUNT, reader=doctor.address(),
           scope=hre.SCOPE_ALL)
    mine()
    submit(doctor, "log_access", record_id=rec, purpose=1)
    mine()
    events = []
    xl = Exchange(lab, vault, holder=(VaultReader.ORG, lab_org, e_lab), on_event=events.append,
                  max_per_peer=16, max_transfers=16)
    xc = Exchange(clinic)
    wire.xchs = [xl, xc]

    expect(hre.InvalidArgument, lambda: xl.set_rate_limit(1, 0), "burst 0")
    expect(hre.InvalidArgument, lambda: xl.set_rate_limit(hre.VAULT_XCH_RATE_BURST_MAX + 1, 1),
           "per_s over the cap")
    expect(hre.InvalidArgument, lambda: xl.set_rate_limit(1, hre.VAULT_XCH_RATE_BURST_MAX + 1),
           "burst over the cap")
    xl.set_rate_limit(1, 3)

    def fetch_many(n):
        conn = clinic.peer_list()[0]
        fs = [xc.fetch(conn, rec, doctor, e_doctor, clock[0]) for _ in range(n)]
        wire.run(lambda: all(f.done for f in fs), "answers to the fetches")
        out = []
        for f in fs:
            req = f.request()
            check(py_verify(req.encode()) is True
                  and req.binding == clinic.peer_info(2).handshake_hash,
                  "a fetch's request verifies in Python and is bound to the connection")
            try:
                data, _ = f.result()
                check(data == doc and f.wrap().reader_id == doctor.address(),
                      "a served fetch: the document, the doctor's wrap")
                out.append("ok")
            except hre.HreError as e:
                out.append(e)
            f.close()
        return out

    res = fetch_many(5)
    served = [r for r in res if r == "ok"]
    busy = [r for r in res if r != "ok"]
    check(len(served) == 3 and len(busy) == 2
          and all(isinstance(e, hre.LimitExceeded) and e.reason == VaultXchRefusal.BUSY
                  for e in busy), f"burst 3: three served, two BUSY ({res})")
    check([e.reason for e in events if e.type == hre.VaultXchEventType.REFUSED]
          == [VaultXchRefusal.BUSY] * 2, "the holder's REFUSED events say BUSY")
    clock[0] += 1500
    check(fetch_many(1) == ["ok"], "1.5 s later the bucket has a token again")
    xl.set_rate_limit(0, 0)
    res = fetch_many(5)
    check(res == ["ok"] * 5, f"no limit: five served ({res})")
    st = xl.stats()
    check(st.served == 9 and st.refused == 2, f"holder stats {st}")
    check(st.audit_failures == 0, "no audit log write failed")
    # the two BUSY refusals are in the holder's durable audit log
    # (PROTOCOL 15.8), oldest first, numbered 1 and 2. The rate limit refuses
    # before the request is decoded, so only the requesting node's key and the
    # nonce are known (flags), and the reader and record id are zero bytes
    aud = vault.refusals()
    check(len(aud) == 2 and [a.seq for a in aud] == [1, 2]
          and all(a.reason == VaultXchRefusal.BUSY for a in aud),
          f"the audit log holds the two BUSY refusals ({aud})")
    check(all(a.flags == hre.VAULT_XCH_AUDIT_HAS_PEER | hre.VAULT_XCH_AUDIT_HAS_NONCE
              and a.record_id == bytes(32) and a.reader == bytes(32) and a.nonce != bytes(16)
              and len(a.peer_key) == 34 and a.peer_key != bytes(34) for a in aud),
          "a BUSY (rate) record: the peer and the nonce, no reader or record")
    check(aud[0].request_hash != aud[1].request_hash and aud[0].nonce != aud[1].nonce,
          "two different requests")

    # a request built and signed here (the doctor's key over hashlib's
    # digest of 15.2's bytes), sent with fetch_signed: the holder's C checks
    # pass, the raw envelope arrives and opens here with the sent wrap
    conn = clinic.peer_list()[0]
    binding = clinic.peer_info(2).handshake_hash
    signed = request_bytes(os.urandom(16), clock[0], doctor.wire(), rec, binding, b"")
    raw = signed + doctor.sign(hashlib.sha256(DOMAIN + signed).digest())
    check(py_verify(raw) is True, "the hand-made request verifies in Python")
    f = xc.fetch_signed(conn, XchRequest.decode(raw), clock[0])
    wire.run(lambda: f.done, "the answer to the hand-signed request")
    env, c = f.result()
    w = f.wrap()
    check(hashlib.sha256(env).digest() == doc_hash == c.doc_hash == w.doc_hash
          and len(env) == c.envelope_len and w.reader_id == doctor.address(),
          "fetch_signed: the raw envelope, its hash, the doctor's wrap")
    data, _ = hre.vault.open_envelope(env, w, e_doctor, expected_sender=e_lab)
    check(data == doc, "fetch_signed: the envelope opens here to the document")
    f.close()
    bad = bytearray(raw)
    bad[18] ^= 1                                   # the timestamp
    expect(hre.VerifyError, lambda: xc.fetch_signed(conn, XchRequest.decode(bytes(bad)), clock[0]),
           "fetch_signed: a tampered request is refused before it is sent")
    other = request_bytes(os.urandom(16), clock[0], doctor.wire(), rec, b"\x11" * 32, b"")
    other += doctor.sign(hashlib.sha256(DOMAIN + other).digest())
    expect(hre.InvalidArgument, lambda: xc.fetch_signed(conn, XchRequest.decode(other), clock[0]),
           "fetch_signed: bound to another connection")
    check(xl.stats().served == 10, "the holder served the hand-signed request")
    xl.close()
    xc.close()
    lab.close()
    clinic.close()
    vault.close()
    ll.close()
    lc.close()
    for s in (sl, sc, sv):
        s.close()


def main(seed):
    rng = random.Random(seed)
    print("signatures in Python with", "cryptography" if HAVE_CRYPTOGRAPHY
          else "hashlib + hre.Key (the cryptography package is not available)")
    request_cases(rng)
    message_cases(rng)
    rate_cases()


if __name__ == "__main__":
    seed = int(os.environ.get("HRE_SEED", random.SystemRandom().randrange(1 << 32)))
    print(f"test_vault_xch: seed {seed} (HRE_SEED={seed} replays it)")
    try:
        main(seed)
    except Exception as e:
        failures.append(repr(e))
        raise
    finally:
        print("vault exchange bindings:",
              "FAILED" if failures else f"all {checks[0]} checks passed",
              f"({len(failures)} failures)" if failures else "")
    sys.exit(1 if failures else 0)
