#!/usr/bin/env python3
"""The Healthcare Records Exchange seed scenario, from Python (the Python
version of examples/hre_demo.c), on a ledger kept in a directory.

    HRE_LIBRARY=build/libhre.so.1 PYTHONPATH=bindings/python python3 examples/hospital.py [DIR]

DIR defaults to a fresh temporary directory (removed at the end). A given DIR
is kept; ledger files of a previous run in it are removed first, because the
keys are new each run and the founding hospital's key is part of the network.
"""
import hashlib
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
import hre  # noqa: E402


def short(h):
    return h[:6].hex() + ".."


EVENT_TEXT = {
    hre.EVENT_ORG_REGISTERED: lambda e: f"OrgRegistered org {short(e.org_id)}",
    hre.EVENT_ADMIN_APPOINTED: lambda e: f"AdminAppointed {short(e.subject)}",
    hre.EVENT_DOCTOR_REGISTERED: lambda e: f"DoctorRegistered {short(e.subject)}",
    hre.EVENT_PATIENT_REGISTERED: lambda e: f"PatientRegistered {short(e.subject)}",
    hre.EVENT_RECORD_CREATED: lambda e: f"RecordCreated {short(e.record_id)}",
    hre.EVENT_RECORD_SIGNATURE: lambda e: f"RecordSignature {short(e.record_id)} (count {e.detail})",
    hre.EVENT_RECORD_SIGNED: lambda e: f"*** RecordSigned *** record {short(e.record_id)} is now valid",
    hre.EVENT_GRANTED: lambda e: f"Granted {short(e.grant_id)}",
    hre.EVENT_REVOKED: lambda e: f"Revoked {short(e.grant_id)}",
    hre.EVENT_ACCESS_LOGGED: lambda e: f"AccessLogged by {short(e.actor)} on record {short(e.record_id)}",
}


class Hospital:
    """Keeps the clock, the ledger and each actor's next nonce."""

    def __init__(self):
        self.ledger = self.net = None
        self.now = max(int(time.time()), 1700000600)
        self.nonces = {}
        self.signed_events = 0

    def attach(self, ledger):
        self.ledger, self.net = ledger, ledger.network_id

    def on_event(self, ev):
        if ev.type == hre.LEDGER_EVENT_BLOCK_CONNECTED:
            print(f"      [event] block {ev.height} connected ({ev.tx_count} tx) "
                  f"{ev.block_hash[::-1].hex()[:16]}...")
        elif ev.contract is not None:
            if ev.contract.type == hre.EVENT_RECORD_SIGNED:
                self.signed_events += 1
            print("      [event]", EVENT_TEXT.get(ev.contract.type, lambda e: e.type_name)(ev.contract))

    def send(self, who, kind, **fields):
        """Build, sign and submit one transaction; returns its txid."""
        tx = hre.build_tx(kind, self.net, who, self.nonces.get(who, 0), self.now, **fields)
        txid = self.ledger.submit_tx(tx, self.now)
        self.nonces[who] = self.nonces.get(who, 0) + 1
        return txid

    def mine(self, why):
        n = self.ledger.mempool_count
        self.now += 60
        block = self.ledger.mine(self.now)
        print(f"    mined block {self.ledger.tip()[0]} with {n} tx ({why}): {block[::-1].hex()}")


def main():
    tmp = None
    if len(sys.argv) > 1:
        directory = sys.argv[1]
    else:
        tmp = tempfile.TemporaryDirectory(prefix="hre-hospital-")
        directory = tmp.name
    print(f"=== libhre {hre.version()}: Healthcare Records Exchange, from Python ===")
    print(f"Ledger directory: {directory}")
    storage = hre.Storage.posix(directory)
    old = [n for n in storage.list()
           if n in ("params.dat", "blkindex.dat") or n.startswith(("blk-", "snap-"))]
    for name in old:
        storage.remove(name)
    storage.sync_dir()
    print(f"Starting fresh: removed {len(old)} ledger file(s) of a previous run." if old
          else "Starting fresh: the directory holds no ledger yet.")

    params = hre.ChainParams.regtest()   # a toy network with an easy target
    hospital_admin, lab_admin, clinic_admin, patient, doctor = (hre.Key.generate() for _ in range(5))

    app = Hospital()

    def open_ledger():
        ledger = hre.Ledger(storage, params, hospital_admin, genesis_org_name="St. Mary's Hospital",
                            verify_threads=2, snapshot_interval=4, on_event=app.on_event)
        app.attach(ledger)
        return ledger

    print("\n1) St. Mary's Hospital founds the network; its admin appoints the lab and clinic admins")
    ledger = open_ledger()
    print(f"    network id (genesis hash): {short(app.net)}")
    lab_org = app.send(hospital_admin, "register_org", org_type=hre.ORG_LAB, name="City Lab",
                       admin_key=lab_admin)
    print(f"    hospital registers 'City Lab' and appoints its admin {short(lab_admin.address())}")
    # the doctor works at another organisation: the hospital's and the lab's
    # own staff read the hospital's records by role, without a grant
    app.send(hospital_admin, "register_org", org_type=hre.ORG_CLINIC, name="Riverside Clinic",
             admin_key=clinic_admin)
    print(f"    hospital registers 'Riverside Clinic' and appoints its admin {short(clinic_admin.address())}")
    app.send(clinic_admin, "register_doctor", doctor_key=doctor)
    print(f"    the clinic registers Dr. {short(doctor.address())}")
    app.mine("network setup")

    print("\n2) A patient registers")
    app.send(patient, "register_patient")
    app.mine("patient registration")

    print("\n3) The hospital creates a lab-test record; hospital and lab sign it")
    salt = b"demo-salt-16byte"
    doc = b'{"resourceType":"Observation","code":"HbA1c","value":5.4}'
    record_id = app.send(
        hospital_admin, "new_record", patient=patient.address(), lab_org=lab_org,
        commit_patient_id=hre.commit(hre.COMMIT_PATIENT_ID, salt, "MRN-0042"),
        commit_test_name=hre.commit(hre.COMMIT_TEST_NAME, salt, "HbA1c"),
        date=app.now, price=4200, category=1, doc_sha256=hashlib.sha256(doc).digest(),
        hospital_name="St. Mary's Hospital",
        locator=os.urandom(32))   # the document's opaque id in the vault: never a path
    print(f"    record {short(record_id)} created (patient id and test name only as salted commitments)")
    app.mine("new record")
    app.send(hospital_admin, "sign_record", record_id=record_id)
    print("    hospital admin signs the record")
    app.send(lab_admin, "sign_record", record_id=record_id)
    print("    lab admin signs the record")
    app.mine("two signatures")
    rec = ledger.contract.record(record_id)
    print(f"    record status: valid={int(rec.is_valid)}, signatures={rec.signature_count}")
    assert rec.is_valid and app.signed_events == 1, "RecordSigned must fire exactly once"
    ok = ledger.contract.check_commitment(record_id, salt, "MRN-0042", "HbA1c")
    print(f"    the lab checks the cleartext test name against the commitment: "
          f"{'match' if ok else 'MISMATCH'}")
    proof = ledger.tx_proof(record_id)
    assert proof.verify(record_id, params.pow_limit)
    print(f"    Merkle proof: record {short(record_id)} is in block {proof.height} "
          f"(branch depth {proof.depth}) - checked with the header alone")

    print("\n4) The patient grants the clinic's doctor access; the doctor reads; the patient revokes")
    grant_id = app.send(patient, "grant", reader_type=hre.READER_ACCOUNT,
                        reader=doctor.address(), scope=hre.SCOPE_ALL)
    print(f"    patient grants Dr. {short(doctor.address())} access to all records")
    app.mine("grant")
    app.send(doctor, "log_access", record_id=record_id, purpose=1)
    print("    doctor logs an access to the record (treatment)")
    app.send(patient, "revoke", grant_id=grant_id)
    print("    patient revokes the grant")
    app.mine("access + revoke")

    print("\n5) The revoked doctor tries to read the record again")
    try:
        app.send(doctor, "log_access", record_id=record_id, purpose=1)
        raise SystemExit("hospital.py: revoked access was accepted")
    except hre.HreError as e:
        assert e.code == hre.EAUTH, e
        print(f"    REFUSED: {e}")
    print("    audit trail of the record:")
    for ev in ledger.contract.record_events(record_id):
        print(f"      #{ev.seq:<3} {ev.type_name:<17} by {short(ev.actor)} at {ev.time}")

    print(f"\n   Persistence: close the ledger and reopen it from {directory}")
    state_hash, tip = ledger.contract.state_hash(), ledger.tip()
    ledger.close()
    ledger = open_ledger()
    same = ledger.tip() == tip and ledger.contract.state_hash() == state_hash
    print(f"    reopened: tip height {ledger.tip()[0]} (was {tip[0]}), state hash "
          f"{short(ledger.contract.state_hash())} ({'same' if same else 'DIFFERENT'})")
    assert same
    acc = ledger.contract.account(patient.address())
    print(f"    patient {short(patient.address())}: {acc.record_count} record(s), "
          f"{acc.grant_count} grant(s)")

    print("\n6) Tampering: flip one byte of the block file on disk, then verify-chain")
    ledger.verify_chain()
    print(f"    verify-chain before tampering: all {tip[0]} blocks OK")
    path = os.path.join(directory, "blk-00000.dat")
    with open(path, "r+b") as f:
        data = f.read()
        pos = len(data) // 2
        f.seek(pos)
        f.write(bytes([data[pos] ^ 0x40]))
    print(f"    flipped byte {pos} of {path} ({len(data)} bytes)")
    try:
        ledger.verify_chain()
        raise SystemExit("hospital.py: verify-chain did not detect the damage")
    except hre.HreError as e:
        print(f"    verify-chain: first bad block at height {e.first_bad_height}\n      ({e})")
    with open(path, "r+b") as f:
        f.seek(pos)
        f.write(data[pos:pos + 1])
    ledger.verify_chain()
    print("    byte restored: verify-chain passes again")

    ledger.close()
    storage.close()
    if tmp:
        tmp.cleanup()
        print("\nDemo complete (temporary ledger removed).")
    else:
        print(f"\nDemo complete. The ledger is kept in {directory} (a next run starts fresh).")


if __name__ == "__main__":
    main()
