#!/usr/bin/env python3
"""The streaming vault API through the bindings (hre.vault.Sealer, Opener,
VaultHeader, Import, and Vault.verify / prune / wrap_at / wrap_remove /
entry_by_locator), by behaviour and against docs/PROTOCOL.md 14 computed
here:

- documents sealed in pieces of seeded random sizes (empty, one byte, a
  chunk boundary, several chunks; compressed and raw): the envelope the
  sink received hashes (hashlib.sha256) to the doc hash, has the length
  82 + P + 20 n with P the Padme bucket computed here (14.3) and n =
  ceil(P / 65532), its 82-byte header parses by hand (14.2: "HREV",
  format 1, locator, version) and as a VaultHeader (encode gives the bytes
  back); opened in other random pieces it gives the document byte for byte;
- damage: a flipped byte in the header's locator (VerifyError), magic
  (DecodeError), key commitment or a chunk (DecryptError); a dropped final
  chunk (DecryptError); a wrong key (DecryptError); expected_sender
  (AuthError); trailing bytes;
- a Python exception in a sink stops the sealer / opener (StateError
  afterwards) and is raised, as it is, by the call that ran the sink;
- import of the envelope into a vault (expected hash, wraps), read back,
  entry_by_locator, wrap_at / wraps, wrap_remove, prune against a ledger
  (an account wrap without a grant is removed, the patient's and the
  organisation's kept), verify (0, then Corrupt once a file is damaged).

Seeded: the seed is printed; HRE_SEED=<n> replays it. Must hold for every
seed.

Usage: test_vault_stream.py   (HRE_LIBRARY points at libhre.so.1)
"""
import hashlib
import os
import random
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hre  # noqa: E402
from hre import VaultReader, VaultCompress  # noqa: E402
from hre.vault import Sealer, Opener, VaultHeader  # noqa: E402

from checks import check, expect, failures, checks  # noqa: E402,F401


def padme(n):
    """PROTOCOL 14.3, here: max(512, Padme(L))."""
    if n < 2:
        return 512
    e = n.bit_length() - 1
    s = e.bit_length()
    m = (1 << (e - s)) - 1
    return max(512, (n + m) & ~m)


def pieces(rng, data, max_piece):
    max_piece = max(max_piece, len(data) // 4000)       # at most ~8000 calls
    out, off = [], 0
    while off < len(data):
        k = rng.randrange(0, max_piece + 1)      # 0 is allowed: an empty write
        out.append(data[off:off + k])
        off += k
    return out


class Boom(Exception):
    pass


def seal_streamed(rng, doc, locator, readers, **kw):
    got = []
    with Sealer(locator, sink=got.append, **kw) as s:
        for p in pieces(rng, doc, rng.choice([1, 700, 65536, 200000])):
            s.write(p)
        doc_hash, content = s.finish()
        wraps = [s.wrap(*r) for r in readers]
    return b"".join(got), got, doc_hash, content, wraps


def open_streamed(rng, env, wrap, key, **kw):
    out = []
    with Opener(wrap, key, sink=out.append, **kw) as o:
        for p in pieces(rng, env, rng.choice([1, 81, 83, 65552, 300000])):
            o.write(p)
        c = o.finish()
    return b"".join(out), c


def check_padme_examples():
    for n, p in ((513, 544), (1000, 1024), (5000, 5120), (65537, 67584), (1446636, 1474560),
                 (0, 512), (511, 512)):
        check(padme(n) == p == hre.vault.bucket(n), f"Padme({n}) = {p}")


def stream_cases(rng, org_enc, pat_enc, org_id, pat_id):
    docs = [b"", b"x", rng.randbytes(65531), rng.randbytes(65532 * 2 + rng.randrange(1, 9000)),
            (b'{"resourceType":"Observation","valueQuantity":5.4}' * 9000)[
                :rng.randrange(1, 450000)],
            rng.randbytes(rng.randrange(1, 140000))]
    readers = [(VaultReader.ORG, org_id, org_enc.pubkey()), (VaultReader.ACCOUNT, pat_id, pat_enc)]
    for i, doc in enumerate(docs):
        locator = rng.randbytes(32)
        comp = rng.choice(list(VaultCompress))
        mt = rng.choice([None, "application/fhir+json", "text/plain"])
        env, got, doc_hash, c, wraps = seal_streamed(rng, doc, locator, readers, doc_version=i + 1,
                                                     media_type=mt, compress=comp)
        what = f"doc {i} ({len(doc)} bytes, {comp.name}, {len(got)} sink calls)"
        check(all(len(g) > 0 for g in got), f"{what}: every sink piece is non-empty")
        check(hashlib.sha256(env).digest() == doc_hash == c.doc_hash,
              f"{what}: doc hash is sha256 of what the sink received")
        p_len = padme(c.payload_len)
        n_chunks = -(-p_len // 65532)
        mt_len = len(mt or "")
        check(c.doc_len == len(doc) and c.padded_len == p_len
              and len(env) == c.envelope_len == 82 + p_len + 20 * n_chunks,
              f"{what}: envelope length 82 + P + 20n ({len(env)}, {c})")
        check(c.compressed == (comp == VaultCompress.ALWAYS or (comp == VaultCompress.AUTO
                                                                and c.payload_len < len(doc)))
              and (c.compressed or c.payload_len == 2 + mt_len + len(doc))
              and c.media_type == (mt or ""), f"{what}: payload {c}")
        check(env[:4] == b"HREV" and env[4] == 1 and env[5] == 0 and env[6] == 16
              and env[7:39] == locator and struct.unpack_from("<I", env, 39)[0] == i + 1,
              f"{what}: the header by hand")
        h = VaultHeader.decode(env[:82])
        check((h.format, h.flags, h.chunk_log2, h.locator, h.doc_version)
              == (1, 0, 16, locator, i + 1)
              and h.nonce_prefix == env[43:50] and h.key_commit == env[50:82]
              and h.encode() == env[:82], f"{what}: VaultHeader {h}")
        if len(doc) >= 64:
            check(doc[:64] not in env, f"{what}: no plaintext in the envelope")
        for w, key in zip(wraps, (org_enc, pat_enc)):
            check(w.doc_hash == doc_hash and w.locator == locator and w.doc_version == i + 1
                  and w.mode == hre.HpkeMode.BASE, f"{what}: wrap {w.reader_type!r}")
            out, c2 = open_streamed(rng, env, w, key)
            check(out == doc and c2.doc_hash == doc_hash and c2.doc_len == len(doc),
                  f"{what}: opened in pieces byte for byte ({w.reader_type!r})")
        out, _ = hre.vault.open_envelope(env, wraps[0].raw, org_enc)
        check(out == doc, f"{what}: open_envelope from the wrap's wire form")
        yield doc, env, doc_hash, c, wraps, locator


def damage_cases(rng, doc, env, wraps, org_enc, pat_enc, c):
    w = wraps[0]

    def opened(e, **kw):
        return hre.vault.open_envelope(e, w, org_enc, **kw)

    def flip(pos):
        b = bytearray(env)
        b[pos] ^= 1 << rng.randrange(8)
        return bytes(b)

    expect(hre.DecodeError, lambda: opened(flip(rng.randrange(4))), "magic flipped")
    expect(hre.VerifyError, lambda: opened(flip(7 + rng.randrange(32))), "locator flipped")
    expect(hre.DecryptError, lambda: opened(flip(50 + rng.randrange(32))), "key commitment flipped")
    expect(hre.DecryptError, lambda: opened(flip(43 + rng.randrange(7))), "nonce prefix flipped")
    pos = 82 + rng.randrange(len(env) - 82)
    expect(hre.DecryptError, lambda: opened(flip(pos)), f"chunk byte {pos} flipped")
    n_chunks = -(-c.padded_len // 65532)
    if n_chunks > 1:
        expect(hre.DecryptError, lambda: opened(env[:82 + 65552 * (n_chunks - 1)]),
               "the final chunk dropped")
    expect(hre.DecodeError, lambda: opened(env[:rng.randrange(82)]), "truncated in the header")
    e = expect(hre.DecryptError, lambda: opened(env + b"\0" * 20), "20 bytes appended")
    expect(hre.DecryptError, lambda: Opener(w, pat_enc), "the wrong reader key")
    expect(hre.AuthError, lambda: Opener(w, org_enc, expected_sender=pat_enc.pubkey()),
           "a base-mode wrap when a sender is expected")
    bad = bytearray(w.raw)
    bad[rng.randrange(len(bad) - 48, len(bad))] ^= 1       # the HPKE ct || tag (14.4)
    expect(hre.DecryptError, lambda: Opener(bytes(bad), org_enc), "a damaged wrap")
    if len(doc) > 1:
        expect(hre.LimitExceeded, lambda: opened(env, max_doc_len=len(doc) - 1), "max_doc_len")
        check(opened(env, max_doc_len=len(doc))[0] == doc, "max_doc_len: exactly the document")
    return e


def sink_errors(rng, org_enc):
    doc = rng.randbytes(65536 * 3)
    calls = []

    def bad_sink(piece):
        calls.append(len(piece))
        if len(calls) == 2:
            raise Boom("disk full")
    s = Sealer(rng.randbytes(32), sink=bad_sink)
    raised = None
    try:
        s.write(doc)
    except Boom as e:
        raised = e
    check(raised is not None and str(raised) == "disk full" and len(calls) == 2,
          f"the sink's exception is raised by write ({raised!r}, {calls})")
    expect(hre.StateError, lambda: s.write(b"more"), "the sealer is stopped after a sink error")
    expect(hre.StateError, s.finish, "finish after a sink error")
    s.close()
    s.close()
    expect(hre.InvalidArgument, lambda: s.write(b""), "a closed sealer")
    # in finish (the header and the last chunk go out there)
    s = Sealer(rng.randbytes(32), sink=lambda _p: (_ for _ in ()).throw(KeyError("k")))
    s.write(b"short")
    try:
        s.finish()
        check(False, "the sink's KeyError in finish")
    except KeyError:
        pass
    s.close()
    # the opener
    env, doc_hash, _, wraps = hre.vault.seal(doc, rng.randbytes(32),
                                             [(VaultReader.ORG, b"\1" * 32, org_enc)])
    check(hashlib.sha256(env).digest() == doc_hash, "seal() in memory")
    seen = []

    def reader_sink(piece):
        seen.append(piece)
        raise Boom("stop")
    o = Opener(wraps[0], org_enc, sink=reader_sink)
    try:
        o.write(env)
        check(False, "the opener's sink exception")
    except Boom:
        pass
    check(len(seen) == 1 and doc.startswith(seen[0]), "the opener stopped at the first piece")
    expect(hre.StateError, lambda: o.write(b""), "the opener is stopped after a sink error")
    o.close()
    return env, doc_hash, wraps


def vault_cases(rng, tmp):
    hospital, patient, other = hre.Key.generate(), hre.Key.generate(), hre.Key.generate()
    org_enc, pat_enc, oth_enc = (hre.Key.generate() for _ in range(3))
    T0 = 1770000000
    net = hre.Network.private(hospital, "St Mary's", now=T0)
    ls = hre.Storage.memory()
    led = hre.Ledger(ls, network=net)
    nid, gen_org = net.id, hre.genesis_org_id(net.id)
    now = [T0 + 60]

    def submit(key, kind, **f):
        return led.submit_tx(hre.build_tx(kind, nid, key, led.next_nonce(key), now[0], **f), now[0])

    def mine():
        now[0] += 60
        led.mine(now[0])
    submit(patient, "register_patient")
    submit(other, "register_patient")
    lab = submit(hospital, "register_org", org_type=hre.ORG_LAB, name="City Lab",
                 admin_key=hre.Key.generate())
    mine()
    for signer, tt, target, enc in ((hospital, hre.ENC_TARGET_ORG, gen_org, org_enc),
                                    (patient, hre.ENC_TARGET_ACCOUNT, patient.address(), pat_enc),
                                    (other, hre.ENC_TARGET_ACCOUNT, other.address(), oth_enc)):
        submit(signer, "set_enc_key", target_type=tt, target=target, enc_key=enc.wire())
    mine()

    doc = rng.randbytes(rng.randrange(1, 200000))
    locator = rng.randbytes(32)
    env, got, doc_hash, c, wraps = seal_streamed(
        rng, doc, locator, [(VaultReader.ORG, gen_org, org_enc), (VaultReader.ACCOUNT,
                                                                   patient.address(), pat_enc),
                            (VaultReader.ACCOUNT, other.address(), oth_enc)],
        media_type="application/octet-stream", sender=(VaultReader.ORG, gen_org, org_enc))
    check(all(w.mode == hre.HpkeMode.AUTH and w.sender_key == org_enc.wire() for w in wraps),
          "auth-mode wraps with a sender")
    out, _ = open_streamed(rng, env, wraps[1], pat_enc, expected_sender=org_enc)
    check(out == doc, "expected_sender: the organisation's key")
    expect(hre.AuthError, lambda: Opener(wraps[1], pat_enc, expected_sender=oth_enc.pubkey()),
           "expected_sender: another key")

    vdir = os.path.join(tmp, "vault")
    vs = hre.Storage.posix(vdir)
    v = hre.Vault(vs, prefix="docs")
    expect(hre.VerifyError, lambda: v.import_envelope(env, wraps, expected_hash=b"\x55" * 32),
           "import with another expected hash")
    bad = bytearray(env)
    bad[82 + rng.randrange(len(env) - 82)] ^= 0x80
    expect(hre.VerifyError, lambda: v.import_envelope(bytes(bad), [], expected_hash=doc_hash),
           "import of a damaged envelope under its record's hash")
    im = v.importer(doc_hash)
    for p in pieces(rng, env, 50000):
        im.write(p)
    im.add_wrap(wraps[0])
    check(im.commit() == doc_hash, "import commit gives the hash")
    im.close()
    check(v.import_envelope(env, wraps[1:], expected_hash=doc_hash) == doc_hash,
          "a second import merges the wraps")
    e = v.entry_by_locator(locator, 1)
    check(e.doc_hash == doc_hash and e.wrap_count == 3 and e.envelope_len == len(env),
          f"entry_by_locator {e}")
    expect(hre.NotFound, lambda: v.entry_by_locator(locator, 2), "another version")
    ws = v.wraps(doc_hash)
    check(sorted(w.raw for w in ws) == sorted(w.raw for w in wraps)
          and v.wrap_at(doc_hash, 0).raw == ws[0].raw, "wrap_at / wraps: the imported wraps")
    expect(hre.NotFound, lambda: v.wrap_at(doc_hash, 3), "wrap_at past the end")
    check(v.envelope(doc_hash) == env, "the stored envelope is the imported bytes")
    data, _ = v.read(doc_hash, VaultReader.ACCOUNT, patient.address(), pat_enc)
    check(data == doc, "the patient reads the imported document")
    check(v.verify() == 0 and v.verify(rehash=True) == 0, "verify: a clean vault")

    # prune against the chain: the other patient has no grant
    rec = submit(hospital, "new_record", patient=patient.address(), lab_org=lab,
                 commit_patient_id=b"\1" * 32, commit_test_name=b"\2" * 32, date=now[0], price=1,
                 category=1, doc_sha256=doc_hash, hospital_name="St Mary's", locator=locator)
    mine()
    check(v.prune(led.contract, rec, now[0]) == 1, "prune removes the ungranted account's wrap")
    check(v.entry(doc_hash).wrap_count == 2 and v.entry(doc_hash).record_id == rec,
          "prune keeps two wraps and binds the record")
    expect(hre.NotFound, lambda: v.read(doc_hash, VaultReader.ACCOUNT, other.address(), oth_enc),
           "the pruned reader")
    check(v.prune(led.contract, rec, now[0]) == 0, "prune again: nothing")
    v.wrap_remove(doc_hash, VaultReader.ACCOUNT, patient.address())
    expect(hre.NotFound, lambda: v.wrap_remove(doc_hash, VaultReader.ACCOUNT, patient.address()),
           "wrap_remove twice")
    check(v.entry(doc_hash).wrap_count == 1, "one wrap left")
    data, _ = v.read(doc_hash, VaultReader.ORG, gen_org, org_enc)
    check(data == doc, "the organisation still reads it")

    # damage a stored file: verify finds it
    v.close()
    big = max((os.path.join(vdir, n) for n in os.listdir(vdir)), key=os.path.getsize)
    with open(big, "r+b") as f:
        f.seek(os.path.getsize(big) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 1]))
    v = hre.Vault(vs, prefix="docs")
    check(v.verify() == 0, "verify without rehash does not read the envelope bytes")
    err = expect(hre.Corrupt, lambda: v.verify(rehash=True), "verify(rehash) after damage")
    check(err is not None and err.problems >= 1 and err.detail, f"Corrupt carries problems {err}")
    v.close()
    vs.close()
    led.close()
    ls.close()


def main(seed, tmp):
    rng = random.Random(seed)
    check_padme_examples()
    org_enc, pat_enc = hre.Key.generate(), hre.Key.generate()
    org_id, pat_id = rng.randbytes(32), rng.randbytes(32)
    last = None
    for case in stream_cases(rng, org_enc, pat_enc, org_id, pat_id):
        last = case
        if len(case[0]) > 65532:
            damage_cases(rng, case[0], case[1], case[4], org_enc, pat_enc, case[3])
    damage_cases(rng, last[0], last[1], last[4], org_enc, pat_enc, last[3])
    sink_errors(rng, org_enc)
    # header codec refusals
    raw = last[1][:82]
    for pos, cls in ((0, hre.DecodeError), (5, hre.DecodeError), (6, hre.DecodeError)):
        b = bytearray(raw)
        b[pos] ^= 1
        expect(cls, lambda: VaultHeader.decode(bytes(b)), f"header byte {pos}")
    b = bytearray(raw)
    b[4] = 2
    expect(hre.Unsupported, lambda: VaultHeader.decode(bytes(b)), "header format 2")
    expect(hre.DecodeError, lambda: VaultHeader.decode(raw[:81]), "81-byte header")
    h = VaultHeader.decode(raw)
    h.doc_version = 0
    expect(hre.InvalidArgument, h.encode, "encode a header with version 0")
    vault_cases(rng, tmp)


if __name__ == "__main__":
    seed = int(os.environ.get("HRE_SEED", random.SystemRandom().randrange(1 << 32)))
    print(f"test_vault_stream: seed {seed} (HRE_SEED={seed} replays it)")
    with tempfile.TemporaryDirectory(prefix="hre-py-vstream-") as d:
        try:
            main(seed, d)
        except Exception as e:
            failures.append(repr(e))
            raise
        finally:
            print("vault stream bindings:",
                  "FAILED" if failures else f"all {checks[0]} checks passed",
                  f"({len(failures)} failures)" if failures else "")
    sys.exit(1 if failures else 0)
