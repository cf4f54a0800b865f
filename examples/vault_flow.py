#!/usr/bin/env python3
"""vault_flow: the document exchange end to end from Python (the twin of
examples/vault_flow.c). Two nodes in this process, whose bytes the script
carries by hand (pull mode: node.pull() -> peer.peer_recv()), on a virtual
clock: the LAB's node keeps the vault; a DOCTOR at another institution (a
clinic) fetches through the clinic's node.

  1. the lab stores a FHIR result in its vault (readers: the patient, the
     hospital, the lab) and the hospital issues the record on the chain;
  2. the doctor asks before any grant: refused (no_grant);
  3. the patient grants the doctor access, the doctor logs the access
     (LOG_ACCESS) and fetches: the document arrives, byte for byte the file;
  4. the patient revokes the grant: the next fetch is refused (revoked);
  5. the patient erases the record: the lab's vault shreds the document
     (its node's ledger events reach Vault.handle_event) and a fetch is
     refused by the doctor's own chain (erased).

Usage: vault_flow.py [FHIR-JSON-FILE]
       (default: tests/data/fhir-stu3/patient-1032702.fhir-bundle.json of
       this repository; HRE_LIBRARY=build/libhre.so.1)
Exit status 0 only if every step behaved as described.
"""
import hashlib
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import hre  # noqa: E402
from hre import VaultReader, VaultXchRefusal  # noqa: E402
from hre.node import Node  # noqa: E402
from hre.vault import Exchange  # noqa: E402

DEFAULT_DOC = os.path.join(ROOT, "tests", "data", "fhir-stu3", "patient-1032702.fhir-bundle.json")
T0 = 1760000000
clock = [(T0 + 3600) * 1000]          # the virtual clock, ms
failures = []


def expect(ok, what):
    print("ok  " if ok else "FAIL", what)
    if not ok:
        failures.append(what)


class Wire:
    """Carries the bytes of one connection between two nodes (lab conn 1,
    clinic conn 2) and runs both nodes' and exchanges' timers."""

    def __init__(self, lab, clinic):
        self.ends = {id(lab): (clinic, 2), id(clinic): (lab, 1)}
        self.nodes, self.xchs = (lab, clinic), []

    def connect(self):
        lab, clinic = self.nodes
        clinic.peer_connected(2, "lab-node", clock[0], outbound=True)
        lab.peer_connected(1, "clinic-node", clock[0])

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
        raise SystemExit(f"vault_flow: {what}: not reached after {rounds} rounds")


def main(path):
    with open(path, "rb") as f:
        doc = f.read()
    authority = hre.Key.generate()           # City Hospital's admin: the network's authority
    ladmin, cadmin, doctor, patient = (hre.Key.generate() for _ in range(4))
    e_patient, e_hosp, e_lab, e_doctor = (hre.Key.generate() for _ in range(4))
    lab_id, clinic_id = hre.Key.generate(), hre.Key.generate()     # node identities
    net = hre.Network.private(authority, "City Hospital", now=T0)
    nid, hosp = net.id, hre.genesis_org_id(net.id)
    sl, sc, sv = hre.Storage.memory(), hre.Storage.memory(), hre.Storage.memory()
    ll = hre.Ledger(sl, network=net)
    lc = hre.Ledger(sc, network=hre.Network.decode(net.encode()))
    vault = hre.Vault(sv)
    shredded = []

    def lab_event(ev):
        # the holder forwards its ledger's contract events to its vault, so
        # an ERASE_RECORD on the chain shreds the document at once
        if ev.type == hre.NodeEventType.LEDGER and ev.ledger.type == hre.LEDGER_EVENT_CONTRACT:
            if ev.ledger.contract.type == hre.EVENT_RECORD_ERASED:
                shredded.append(ev.ledger.contract.record_id)
            vault.handle_event(ev.ledger.contract)

    lab = Node(ll, clock[0], identity=lab_id, on_event=lab_event)
    clinic = Node(lc, clock[0], identity=clinic_id)
    wire = Wire(lab, clinic)

    def secs():
        return clock[0] // 1000

    def submit(key, kind, **fields):
        tx = hre.build_tx(kind, nid, key, ll.next_nonce(key), secs(), **fields)
        return lab.submit_tx(tx, clock[0])

    def mine(sync=True):
        while True:
            clock[0] += 1000
            if lab.mine(clock[0], 1 << 16) is not None:
                break
        if sync:
            wire.run(lambda: lc.tip() == ll.tip(), "the clinic follows the lab's chain")

    # the network: three organisations, two member nodes, the people
    lab_org = submit(authority, "register_org", org_type=hre.ORG_LAB, name="Central Lab",
                     admin_key=ladmin)
    submit(authority, "register_org", org_type=hre.ORG_CLINIC, name="Far Clinic",
           admin_key=cadmin)
    mine(sync=False)
    submit(ladmin, "register_node", node_key=lab_id)
    submit(cadmin, "register_node", node_key=clinic_id)
    submit(cadmin, "register_doctor", doctor_key=doctor)
    submit(patient, "register_patient")
    mine(sync=False)
    wire.connect()
    wire.run(lambda: lc.tip() == ll.tip() and clinic.peer_list()
             and clinic.peer_info(2).member == hre.NodeMember.LIVE
             and lab.peer_info(1).member == hre.NodeMember.LIVE, "the nodes meet as members")
    for signer, target_type, target, enc in (
            (patient, hre.ENC_TARGET_ACCOUNT, patient.address(), e_patient),
            (authority, hre.ENC_TARGET_ORG, hosp, e_hosp),
            (ladmin, hre.ENC_TARGET_ORG, lab_org, e_lab),
            (doctor, hre.ENC_TARGET_ACCOUNT, doctor.address(), e_doctor)):
        submit(signer, "set_enc_key", target_type=target_type, target=target, enc_key=enc.wire())
    mine()

    # 1. the lab stores the result; the hospital issues the record
    locator = os.urandom(32)
    doc_hash, content = vault.store(
        doc, locator, readers=[(VaultReader.ACCOUNT, patient.address()), (VaultReader.ORG, hosp),
                               (VaultReader.ORG, lab_org)],
        contract=ll.contract, media_type="application/fhir+json",
        sender=(VaultReader.ORG, lab_org, e_lab))
    salt = b"vault-flow-salt-0123456789abcdef"
    rec = submit(authority, "new_record", patient=patient.address(), lab_org=lab_org,
                 commit_patient_id=hre.commit(hre.COMMIT_PATIENT_ID, salt, b"MRN-7"),
                 commit_test_name=hre.commit(hre.COMMIT_TEST_NAME, salt, b"HGB"),
                 date=secs(), category=1, doc_sha256=doc_hash, hospital_name="City Hospital",
                 locator=locator)
    submit(authority, "sign_record", record_id=rec)
    submit(ladmin, "sign_record", record_id=rec)
    mine()
    vault.bind_record(doc_hash, rec)
    served = []                              # the holder's exchange events
    xl = Exchange(lab, vault, holder=(VaultReader.ORG, lab_org, e_lab), on_event=served.append)
    xc = Exchange(clinic)
    wire.xchs = [xl, xc]
    print(f"1. the lab stored a {content.doc_len}-byte FHIR document "
          f"({os.path.basename(path)}); the record is on the chain")

    def fetch():
        f = xc.fetch(clinic.peer_list()[0], rec, doctor, e_doctor, clock[0])
        wire.run(lambda: f.done, "an answer to the fetch")
        st = f.status()
        req = f.request()
        expect(req.record_id == rec and req.reader_key == doctor.wire()
               and req.binding == clinic.peer_info(2).handshake_hash,
               "   the request names the record, the doctor's key and this connection")
        try:
            data, _ = f.result()
        except hre.HreError as e:
            expect(e.code == st.code and e.reason == st.reason, f"   result() raises {e!r}")
            data = None
        f.close()
        return st, data

    # 2. before any grant
    st, _ = fetch()
    expect(st.code == hre.EAUTH and st.reason == VaultXchRefusal.NO_GRANT,
           f"2. no grant yet: refused ({hre.vault.xch_refusal_name(st.reason)})")

    # 3. grant, LOG_ACCESS, fetch
    gid = submit(patient, "grant", reader_type=hre.READER_ACCOUNT, reader=doctor.address(),
                 scope=hre.SCOPE_ALL)
    mine()
    submit(doctor, "log_access", record_id=rec, purpose=1)
    mine()
    st, data = fetch()
    expect(st.code == hre.OK and data == doc and st.content.doc_len == len(doc)
           and hashlib.sha256(data).digest() == hashlib.sha256(doc).digest()
           and st.content.media_type == "application/fhir+json",
           "3. after the grant and LOG_ACCESS: fetched, the document equals the file")
    kinds = [e.type for e in served]
    expect(kinds == [hre.VaultXchEventType.REFUSED, hre.VaultXchEventType.SERVING,
                     hre.VaultXchEventType.SERVED]
           and served[0].reason == VaultXchRefusal.NO_GRANT
           and served[1].reader == doctor.address(),
           f"   the lab's exchange events: {[k.name for k in kinds]}")
    s = xl.stats()
    expect(s.requests == 2 and s.refused == 1 and s.served == 1, f"   the lab's exchange: {s}")

    # 4. revoke
    submit(patient, "revoke", grant_id=gid)
    mine()
    st, _ = fetch()
    expect(st.code == hre.EREVOKED and st.reason == VaultXchRefusal.REVOKED,
           f"4. after the revocation: refused ({hre.vault.xch_refusal_name(st.reason)})")

    # 5. erase
    submit(patient, "erase_record", record_id=rec)
    mine()
    expect(shredded == [rec] and vault.entry(doc_hash).erased,
           "5. after the erasure: the lab's vault shredded the document")
    try:
        xc.fetch(clinic.peer_list()[0], rec, doctor, e_doctor, clock[0])
        expect(False, "5. and a fetch is refused (erased): it was started")
    except hre.Erased:
        expect(True, "5. and a fetch is refused (erased)")

    xl.close()
    xc.close()
    lab.close()
    clinic.close()
    vault.close()
    ll.close()
    lc.close()
    for s in (sl, sc, sv):
        s.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DOC)
    print("vault_flow: FAILED" if failures else "vault_flow: every step as expected")
    sys.exit(1 if failures else 0)
