#!/usr/bin/env python3
"""The vault bindings (hre.Vault), by behaviour: a document stored for the
issuing organisation, bound to a record on a ledger (doc_sha256, locator),
re-wrapped for the patient after the contract's access check, read back by
the patient (the same bytes), refused for a wrong key (DecryptError), a
reader without a wrap (NotFound) and an account with no grant (AuthError
with the verdict), the wrap's wire form round trip, entry and stats,
binding to a record, erasure (erase, erase_record refusing a record that is
not erased, reconcile), the exchange's refusal names and codes, and
persistence on a POSIX directory (reopen, read again).

Usage: test_vault.py   (HRE_LIBRARY points at libhre.so.1)
"""
import hashlib
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hre  # noqa: E402
from hre import VaultReader  # noqa: E402

from checks import check, expect, failures, checks  # noqa: E402


T0 = 1770000000
DOC = (b'{"resourceType":"Observation","code":"HbA1c","value":5.4}' * 3000)[:150001]


def main(tmp):
    hospital, patient, other = hre.Key.generate(), hre.Key.generate(), hre.Key.generate()
    org_enc, pat_enc, other_enc = (hre.Key.generate() for _ in range(3))
    net = hre.Network.private(hospital, "St Mary's", now=T0)
    ls = hre.Storage.memory()
    led = hre.Ledger(ls, network=net)
    nid, gen_org = net.id, hre.genesis_org_id(net.id)
    now = [T0 + 60]

    def submit(key, kind, **f):
        txid = led.submit_tx(hre.build_tx(kind, nid, key, led.next_nonce(key), now[0], **f), now[0])
        return txid

    def mine():
        now[0] += 60
        led.mine(now[0])

    submit(patient, "register_patient")
    submit(other, "register_patient")
    lab = submit(hospital, "register_org", org_type=hre.ORG_LAB, name="City Lab",
                 admin_key=hre.Key.generate())
    mine()
    submit(hospital, "set_enc_key", target_type=hre.ENC_TARGET_ORG, target=gen_org,
           enc_key=org_enc.wire())
    submit(patient, "set_enc_key", target_type=hre.ENC_TARGET_ACCOUNT, target=patient.address(),
           enc_key=pat_enc.wire())
    submit(other, "set_enc_key", target_type=hre.ENC_TARGET_ACCOUNT, target=other.address(),
           enc_key=other_enc.wire())
    mine()

    vdir = os.path.join(tmp, "vault")
    vs = hre.Storage.posix(vdir)
    v = hre.Vault(vs, prefix="docs")
    locator = hre.sha256(b"locator-1")
    expect(hre.StateError, lambda: v.store(DOC, locator, readers=[]), "no reader")
    doc_hash, content = v.store(DOC, locator, readers=[(VaultReader.ORG, gen_org)],
                                contract=led.contract, media_type="application/fhir+json",
                                sender=(VaultReader.ORG, gen_org, org_enc))
    check(content.doc_len == len(DOC) and content.compressed and content.doc_hash == doc_hash
          and content.media_type == "application/fhir+json", f"store content {content}")
    check(content.padded_len == hre.vault.bucket(content.payload_len)
          and content.envelope_len == hre.vault.envelope_len(content.padded_len),
          "Padme bucket and envelope length")
    env = v.envelope(doc_hash)
    check(len(env) == content.envelope_len and hashlib.sha256(env).digest() == doc_hash,
          "doc hash is sha256 of the envelope")
    check(DOC[:64] not in env, "the envelope does not hold the plaintext")
    e = v.entry(doc_hash)
    check((e.locator, e.doc_version, e.erased, e.wrap_count) == (locator, 1, False, 1),
          f"entry {e}")
    data, c2 = v.read(doc_hash, VaultReader.ORG, gen_org, org_enc)
    check(data == DOC and c2.doc_len == len(DOC), "the organisation reads its document")
    expect(hre.DecryptError, lambda: v.read(doc_hash, VaultReader.ORG, gen_org, pat_enc),
           "a wrong key")
    expect(hre.NotFound, lambda: v.read(doc_hash, VaultReader.ACCOUNT, patient.address(), pat_enc),
           "the patient has no wrap yet")
    expect(hre.NotFound, lambda: v.entry(b"\x42" * 32), "unknown document")

    rec = submit(hospital, "new_record", patient=patient.address(), lab_org=lab,
                 commit_patient_id=b"\1" * 32, commit_test_name=b"\2" * 32, date=now[0], price=1,
                 category=1, doc_sha256=doc_hash, hospital_name="St Mary's", locator=locator)
    mine()
    wrap, verdict = v.rewrap(led.contract, rec, patient.address(), now[0], VaultReader.ORG,
                             gen_org, org_enc)
    check(verdict.allowed and verdict.basis == hre.ACCESS_BY_PATIENT, f"verdict {verdict}")
    check(wrap.reader_type == VaultReader.ACCOUNT and wrap.reader_id == patient.address()
          and wrap.doc_hash == doc_hash and wrap.mode == hre.HpkeMode.AUTH
          and wrap.sender_key == org_enc.wire(), f"the patient's wrap {wrap.reader_id.hex()}")
    check(len(wrap.raw) == hre.VAULT_WRAP_LEN and hre.VaultWrap.decode(wrap.raw) == wrap,
          "wrap wire form round trip")
    bad = bytearray(wrap.raw)
    bad[0] ^= 0xFF
    expect(hre.DecodeError, lambda: hre.VaultWrap.decode(bytes(bad)), "damaged wrap magic")
    check(v.wrap(doc_hash, VaultReader.ACCOUNT, patient.address()) == wrap, "wrap kept")
    data, _ = v.read(doc_hash, VaultReader.ACCOUNT, patient.address(), pat_enc)
    check(data == DOC, "the patient reads the document after the re-wrap")
    err = expect(hre.AuthError, lambda: v.rewrap(led.contract, rec, other.address(), now[0],
                                                 VaultReader.ORG, gen_org, org_enc),
                 "no grant for the other patient")
    check(err is not None and err.access.reason == hre.ACCESS_NO_GRANT, "refusal carries the verdict")
    check(v.entry(doc_hash).wrap_count == 2 and v.stats().documents == 1, "two wraps, one document")

    # refusal reasons: every one has a name and the error class the header says
    for r in hre.VaultXchRefusal:
        check(hre.vault.xch_refusal_name(r) == r.name.lower(), f"refusal name {r!r}")
        check(hre.vault.xch_refusal_code(r) in hre.ERROR_CLASSES, f"refusal code {r!r}")
    check(hre.vault.xch_refusal_code(hre.VaultXchRefusal.REVOKED) == hre.EREVOKED
          and hre.vault.xch_refusal_code(99) == hre.EPROTO
          and hre.vault.xch_refusal_name(99) == "unknown", "refusal code / name of unknown")
    # erasure: erase_record refuses a record not erased on the chain
    v.bind_record(doc_hash, rec)
    v.bind_record(doc_hash, rec)
    check(v.entry(doc_hash).record_id == rec, "bound to the record")
    expect(hre.AlreadyExists, lambda: v.bind_record(doc_hash, b"\x07" * 32), "bound to another")
    expect(hre.StateError, lambda: v.erase_record(led.contract, rec), "record not erased")
    check(v.reconcile(led.contract) == 0, "reconcile: nothing to erase")
    # a second document, erased directly, then idempotently
    h2, _ = v.store(b"second", hre.sha256(b"locator-2"), readers=[(VaultReader.ORG, gen_org)],
                    contract=led.contract)
    v.erase(h2)
    v.erase(h2)
    st = v.stats()
    check(v.entry(h2).erased and st.erased == 1 and st.documents == 1,
          f"erase: the document is shredded {st}")
    expect(hre.Erased, lambda: v.read(h2, VaultReader.ORG, gen_org, org_enc), "read after erase")
    expect(hre.NotFound, lambda: v.erase(b"\x42" * 32), "erase of an unknown document")
    v.erase(h2)
    v.close()
    led.close()
    ls.close()

    # persistence: reopen the directory, read again
    v = hre.Vault(vs, prefix="docs")
    data, _ = v.read(doc_hash, VaultReader.ACCOUNT, patient.address(), pat_enc)
    st = v.stats()
    check(data == DOC and st.documents == 1 and st.erased == 1,
          f"the document and the tombstone survive a reopen {st}")
    expect(hre.StateError, vs.close, "storage closed under an open vault")
    v.close()
    vs.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="hre-py-vault-") as d:
        try:
            main(d)
        except Exception as e:
            failures.append(repr(e))
            raise
        finally:
            print("vault bindings:", "FAILED" if failures else f"all {checks[0]} checks passed",
                  f"({len(failures)} failures)" if failures else "")
    sys.exit(1 if failures else 0)
