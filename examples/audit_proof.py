#!/usr/bin/env python3
"""audit_proof: an auditor checks that an access to a patient's record was
logged on the chain, without running a node, from Python (the twin of
examples/audit_proof.c): a transaction inclusion proof (hre.Proof,
include/hre/proof.h, docs/PROTOCOL.md 16).

  1. the hospital's ledger (in memory, the private-network preset): the
     hospital founds the network and registers a lab and a clinic, whose
     doctor is the outside reader; a patient registers; the hospital issues
     a lab-result record (hospital and lab sign it); the patient grants the
     doctor access; the doctor's LOG_ACCESS is mined into a block (next to
     another patient's registration) and three more blocks are mined on top;
  2. the hospital makes the inclusion proof of that LOG_ACCESS
     (Proof.from_ledger: every header from the genesis to the tip, the
     transaction's Merkle branch, the transaction) and encodes it: the proof
     file;
  3. the auditor holds two byte strings, the proof file and the network
     file, and nothing else: it decodes both (hostile input), verifies the
     proof against the network's chain parameters and prints the verdict,
     the kind, the reader, the record, the block height and the
     confirmations;
  4. damaged proofs are refused, each with its own reason: a flipped byte in
     the Merkle branch (bad-branch), a flipped byte in a header's link
     (bad-headers, naming the header), a truncated file (a decode error);
     and the right proof checked against another network's file
     (bad-genesis).

Usage: audit_proof.py        (HRE_LIBRARY=build/libhre.so.1)
Exit status 0 only if every step behaved as described.
"""
import hashlib
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import hre  # noqa: E402
from hre import Kind, ProofWhy  # noqa: E402

T0 = 1700000000
ON_TOP = 3                 # blocks mined on top of the LOG_ACCESS block
clock = [T0 + 600]         # seconds
failures = []


def expect(ok, what):
    print("ok  " if ok else "FAIL", what)
    if not ok:
        failures.append(what)


def short_hex(h):
    return h[:6].hex() + ".."


def audit(data, netfile):
    """The auditor's side: the proof file and the network file, nothing
    else. Returns (verdict or None, the Proof or None, the error when the
    file did not even decode)."""
    net = hre.Network.decode(netfile)
    try:
        q = hre.Proof.decode(data)
    except hre.HreError as e:
        net.close()
        return None, None, e
    verdict = q.verify(net)
    net.close()
    return verdict, q, None


def expect_refused(data, netfile, what, why=None, bad_header=None, error=None):
    """One damaged copy of the proof file: refused with why (and
    bad_header), or, when it does not decode, with the error class."""
    verdict, q, err = audit(data, netfile)
    if q is not None:
        q.close()
    if err is not None:
        expect(error is not None and isinstance(err, error), f"{what}: {type(err).__name__} ({err})")
        return
    at = "" if verdict.bad_header is None else f", header {verdict.bad_header}"
    line = (f"{what}: refused ({hre.proof.why_name(verdict.why)}{at}): {verdict.detail}"
            if not verdict else f"{what}: ACCEPTED")
    expect(not verdict and verdict.why == why and verdict.bad_header == bad_header, line)


def main():
    hospital, lab, clinic, doctor, patient, other = (hre.Key.generate() for _ in range(6))

    # 1. the hospital's chain: a private network whose founding authority is
    #    the hospital's admin; its network file is what it hands out
    net = hre.Network.private(hospital, "City Hospital", now=T0)
    netfile = net.encode()
    st = hre.Storage.memory()
    ledger = hre.Ledger(st, network=net)
    nid = net.id

    def submit(key, kind, **fields):
        tx = hre.build_tx(kind, nid, key, ledger.next_nonce(key), clock[0], **fields)
        txid = ledger.submit_tx(tx, clock[0])
        return txid, tx

    def mine():
        clock[0] += 600
        ledger.mine(clock[0])
        return ledger.tip()[0]

    # a doctor of the hospital or the lab would read by role, without a
    # grant: the consent (and the logged access) needs an outside reader, a
    # clinic's doctor
    lab_org, _ = submit(hospital, "register_org", org_type=hre.ORG_LAB, name="Central Lab",
                        admin_key=lab)
    submit(hospital, "register_org", org_type=hre.ORG_CLINIC, name="Far Clinic", admin_key=clinic)
    mine()
    submit(clinic, "register_doctor", doctor_key=doctor)
    submit(patient, "register_patient")
    mine()
    salt = b"audit-proof-salt-0123456789abcde"
    doc = b'{"resourceType":"Observation","code":{"text":"HbA1c"}}'
    rec, _ = submit(hospital, "new_record", patient=patient.address(), lab_org=lab_org,
                    commit_patient_id=hre.commit(hre.COMMIT_PATIENT_ID, salt, b"MRN-7"),
                    commit_test_name=hre.commit(hre.COMMIT_TEST_NAME, salt, b"HbA1c"),
                    date=clock[0], category=1, doc_sha256=hashlib.sha256(doc).digest(),
                    hospital_name="City Hospital", locator=os.urandom(32))
    mine()
    submit(hospital, "sign_record", record_id=rec)
    submit(lab, "sign_record", record_id=rec)
    mine()
    submit(patient, "grant", reader_type=hre.READER_ACCOUNT, reader=doctor.address(),
           scope=hre.SCOPE_ALL)
    mine()
    access_txid, access_tx = submit(doctor, "log_access", record_id=rec, purpose=1)
    # other traffic in the same block: the branch then has a hash in it
    submit(other, "register_patient")
    access_height = mine()
    for _ in range(ON_TOP):
        tip = mine()
    print(f"1. the hospital's chain: record {short_hex(rec)}, the doctor's LOG_ACCESS "
          f"{short_hex(access_txid)} in block {access_height}, tip {tip}")

    # 2. the hospital proves the LOG_ACCESS: the proof file
    with hre.Proof.from_ledger(ledger, access_tx) as p:
        data = p.encode()
    access_tx.close()
    print(f"2. the hospital wrote the proof file: {len(data)} bytes ({tip + 1} headers, the "
          f"branch, the tx); network file {len(netfile)} bytes")
    ledger.close()                 # from here on: no ledger, no node
    st.close()
    net.close()

    # 3. the auditor: the two files only
    verdict, q, err = audit(data, netfile)
    if err is not None:
        raise SystemExit(f"audit_proof: the proof file does not decode: {err!r}")
    expect(verdict and verdict.why == ProofWhy.OK,
           f"3. the auditor decoded and verified the proof: "
           f"{'verified' if verdict else verdict.detail} ({hre.proof.why_name(verdict.why)})")
    if not verdict:
        raise SystemExit("audit_proof: the proof of the LOG_ACCESS was refused")
    with q, q.tx as t:
        # the reader is the transaction's signer (its address: of the wire key)
        reader = hre.address(t.sender)
        la = hre.decode_payload(t.kind, t.payload) if t.kind == Kind.LOG_ACCESS else {}
        height, conf = q.height, q.confirmations
        print(f"   txid {short_hex(q.txid)}, kind {t.kind.name} ({int(t.kind)}), reader "
              f"{short_hex(reader)}, record {short_hex(la.get('record_id', bytes(32)))}, "
              f"purpose {la.get('purpose', 0)}")
        print(f"   in block {height} with {conf} confirmations (headers up to height "
              f"{q.header_count - 1})")
        expect(t.kind == Kind.LOG_ACCESS and q.txid == access_txid
               and reader == doctor.address() and la.get("record_id") == rec,
               "   it is the doctor's LOG_ACCESS on the patient's record")
        expect(height == access_height and conf == ON_TOP + 1,
               "   in the block the hospital mined it into, with the blocks on top as confirmations")

    # 4. damaged proofs (offsets: docs/PROTOCOL.md 16.1)
    n = tip + 1
    branch_hash, link = 52 + 80 * n + 5, 20 + 80 * access_height + 4
    bent = bytearray(data)
    bent[branch_hash + 7] ^= 0x01
    expect_refused(bytes(bent), netfile, "4. a flipped byte in the Merkle branch",
                   why=ProofWhy.BAD_BRANCH)
    bent = bytearray(data)
    bent[link + 7] ^= 0x01         # the prev_hash of the LOG_ACCESS block's header
    expect_refused(bytes(bent), netfile, "4. a flipped byte in a header's link",
                   why=ProofWhy.BAD_HEADERS, bad_header=access_height)
    expect_refused(data[:-1], netfile, "4. a truncated proof file", error=hre.DecodeError)
    # the same proof against another network's file
    with hre.Network.private(other, "Other Hospital", now=T0) as o:
        otherfile = o.encode()
    expect_refused(data, otherfile, "4. the proof against another network's file",
                   why=ProofWhy.BAD_GENESIS, bad_header=0)
    for k in (hospital, lab, clinic, doctor, patient, other):
        k.close()


if __name__ == "__main__":
    main()
    print("audit_proof: FAILED" if failures else "audit_proof: every step as expected")
    sys.exit(1 if failures else 0)
