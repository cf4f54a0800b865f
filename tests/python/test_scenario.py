#!/usr/bin/env python3
"""The seed scenario of the Healthcare Records Exchange, driven from Python
through the ctypes bindings (bindings/python/hre), on the memory backend and
on a POSIX directory: the authority registers the lab with its admin,
a patient registers, a record is created and signed by both admins
(RecordSigned observed exactly once), grant / log access / revoke, access
after revoke refused with EAUTH, verify-chain, proofs, persistence, snapshots.
Values are checked against independent computations (hashlib, hmac) where
the protocol defines them.

Usage: test_scenario.py   (HRE_LIBRARY points at libhre.so.1)
"""
import hashlib
import hmac
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hre  # noqa: E402

from checks import check, expect_code, failures, checks  # noqa: E402


T0 = 1700000000 + 86400  # host clock (the ledger never reads one)
SALT = b"demo-salt-16byte"
LOCATOR = bytes(range(0x40, 0x60))   # the document's opaque id in the vault (never a path)
DOC = b'{"resourceType":"Observation","code":"HbA1c","value":5.4}'


def scenario(storage, label, posix_dir=None):
    print(f"--- scenario on {label}")
    params = hre.ChainParams.regtest()
    hospital, lab_head, lab, patient, doctor, clinic = (hre.Key.generate() for _ in range(6))
    for k in (hospital, lab_head, lab, patient, doctor, clinic):
        check(k.address() == hashlib.sha256(k.wire()).digest(), "address = sha256(wire key)")
    events = []
    ledger = hre.Ledger(storage, params, hospital, genesis_org_name="St. Mary's Hospital",
                        verify_threads=2, on_event=events.append, snapshot_interval=3)
    net = ledger.network_id
    check(net == params.genesis.hash(), "network id is the genesis hash")
    check(ledger.tip() == (0, net), "fresh ledger: tip is genesis")
    c = ledger.contract
    gen_org = hre.genesis_org_id(net)
    check(gen_org == hashlib.sha256(b"HRE-GENESIS-ORG" + net).digest(), "genesis org id rule")
    org = c.org(gen_org)
    check((org.name, org.type) == ("St. Mary's Hospital", hre.ORG_HOSPITAL), f"genesis org {org}")
    acc = c.account(hospital.address())
    check((acc.role, acc.org_id, acc.nonce) == (hre.ROLE_AUTHORITY, gen_org, 0), f"authority {acc}")
    expect_code(hre.ESTATE, storage.close, "closing a storage under an open ledger")

    now = [T0]
    nonces = {}

    def submit(key, kind, **fields):
        tx = hre.build_tx(kind, net, key, nonces.get(key, 0), now[0], **fields)
        txid = ledger.submit_tx(tx, now[0])
        check(txid == tx.txid() == hashlib.sha256(hashlib.sha256(tx.encode()).digest()).digest(),
              "submit returns sha256d(tx)")
        nonces[key] = nonces.get(key, 0) + 1
        return txid

    def mine():
        n = ledger.mempool_count
        now[0] += 60
        del events[:]
        h = ledger.mine(now[0])
        height, tip = ledger.tip()
        check(tip == h, "mined block is the tip")
        conn = [e for e in events if e.type == hre.LEDGER_EVENT_BLOCK_CONNECTED]
        check(len(conn) == 1 and conn[0].height == height and conn[0].tx_count == n
              and conn[0].block_hash == h, f"one BLOCK_CONNECTED event for height {height}")
        check(ledger.mempool_count == 0, "mempool drained")
        return [e.contract for e in events if e.type == hre.LEDGER_EVENT_CONTRACT]

    # 1. the authority registers the lab (with its head as first admin), appoints
    #    the lab admin, and registers a clinic whose admin registers a doctor
    #    (staff of the hospital and the lab read its records by role; the
    #    consent steps need a reader from outside)
    lab_org = submit(hospital, "register_org", org_type=hre.ORG_LAB, name="City Lab",
                     admin_key=lab_head)
    check(ledger.mempool_count == 1 and ledger.in_mempool(lab_org), "register_org in mempool")
    submit(hospital, "appoint_admin", org_id=lab_org, admin_key=lab)
    clinic_org = submit(hospital, "register_org", org_type=hre.ORG_CLINIC, name="Riverside Clinic",
                        admin_key=clinic)
    submit(clinic, "register_doctor", doctor_key=doctor)
    ev = mine()
    check([e.type for e in ev] == [hre.EVENT_ORG_REGISTERED, hre.EVENT_ADMIN_APPOINTED,
                                   hre.EVENT_ADMIN_APPOINTED, hre.EVENT_ORG_REGISTERED,
                                   hre.EVENT_ADMIN_APPOINTED, hre.EVENT_DOCTOR_REGISTERED],
          f"setup events {[e.type_name for e in ev]}")
    check(ev[0].org_id == lab_org and ev[0].subject == lab_head.address()
          and ev[0].actor == hospital.address(), "OrgRegistered: org id = txid, first admin")
    check(ev[2].org_id == lab_org and ev[2].subject == lab.address()
          and ev[2].actor == hospital.address(), "AdminAppointed: the lab admin, by the authority")
    check(ev[5].subject == doctor.address() and ev[5].org_id == clinic_org
          and ev[5].actor == clinic.address(), "DoctorRegistered")
    check(c.org(lab_org).name == "City Lab" and c.org(lab_org).type == hre.ORG_LAB, "lab org")
    la = c.account(lab.address())
    check((la.role, la.org_id, la.org_type, la.status) ==
          (hre.ROLE_ADMIN, lab_org, hre.ORG_LAB, hre.STATUS_ACTIVE), f"lab admin {la}")
    check(c.account(doctor.address()).role == hre.ROLE_DOCTOR, "doctor registered")
    check(c.account_by_key(lab.wire()) == (la, False), "account_by_key")
    check(c.account(hospital.address()).nonce == 3, "authority nonce advanced to 3")

    # 2. the patient registers
    submit(patient, "register_patient")
    ev = mine()
    check([e.type for e in ev] == [hre.EVENT_PATIENT_REGISTERED], "PatientRegistered")
    pa = c.account(patient.address())
    check((pa.role, pa.nonce, pa.record_count, pa.org_id) == (hre.ROLE_PATIENT, 1, 0, None),
          f"patient account {pa}")

    # 3. a record, signed by both admins
    cp = hre.commit(hre.COMMIT_PATIENT_ID, SALT, b"MRN-0042")
    ct = hre.commit(hre.COMMIT_TEST_NAME, SALT, b"HbA1c")
    check(cp == hmac.new(SALT, b"\x01MRN-0042", "sha256").digest(), "commitment = HMAC rule")
    check(ct == hmac.new(SALT, b"\x02HbA1c", "sha256").digest(), "commitment = HMAC rule (test)")
    rec_fields = dict(patient=patient.address(), lab_org=lab_org, commit_patient_id=cp,
                      commit_test_name=ct, date=now[0], price=4200, category=1,
                      doc_sha256=hashlib.sha256(DOC).digest(),
                      hospital_name="St. Mary's Hospital", locator=LOCATOR)
    dec = hre.decode_payload("new_record", hre.encode_payload("new_record", **rec_fields))
    check(dec["hospital_name"] == b"St. Mary's Hospital" and dec["price"] == 4200
          and dec["has_supersedes"] == 0 and dec["patient"] == patient.address(),
          "new_record payload round trip")
    record_id = submit(hospital, "new_record", **rec_fields)
    ev = mine()
    check([e.type for e in ev] == [hre.EVENT_RECORD_CREATED] and ev[0].record_id == record_id
          and ev[0].org_id == gen_org, "RecordCreated")
    r = c.record(record_id)
    check((r.is_valid, r.signature_count, r.issuer_org, r.lab_org, r.price, r.date, r.category)
          == (False, 0, gen_org, lab_org, 4200, rec_fields["date"], 1), f"record {r}")
    check((r.hospital_name, r.locator, r.erased, r.erased_time) == ("St. Mary's Hospital", LOCATOR, False, 0),
          "record clear fields and opaque locator")
    check(c.records_by_patient(patient.address()) == [record_id], "records_by_patient")
    check(c.check_commitment(record_id, SALT, b"MRN-0042", b"HbA1c"), "commitment matches")
    check(not c.check_commitment(record_id, SALT, b"MRN-0042", b"LDL"), "wrong test name")

    submit(hospital, "sign_record", record_id=record_id)
    submit(lab, "sign_record", record_id=record_id)
    ev = mine()
    types = [e.type for e in ev]
    check(types.count(hre.EVENT_RECORD_SIGNED) == 1, f"RecordSigned exactly once: {types}")
    check(types == [hre.EVENT_RECORD_SIGNATURE, hre.EVENT_RECORD_SIGNATURE,
                    hre.EVENT_RECORD_SIGNED], f"signature events {[e.type_name for e in ev]}")
    signed = ev[-1]
    check(signed.record_id == record_id and signed.actor == lab.address() and signed.detail == 2,
          "RecordSigned: record, last signer, count 2")
    r = c.record(record_id)
    check((r.is_valid, r.signature_count, r.issuer_signer, r.lab_signer)
          == (True, 2, hospital.address(), lab.address()), f"signed record {r}")
    expect_code(hre.ESTATE, lambda: submit(lab, "sign_record", record_id=record_id),
                "signing an already valid record")
    record_height = 3
    proof = ledger.tx_proof(record_id)
    check(proof.height == record_height and proof.verify(record_id, params.pow_limit),
          "record inclusion proof verifies with the header alone")
    check(proof.header.hash() == ledger.header(record_height)[1], "proof header is the block's")
    check(not proof.verify(hre.sha256(b"not a txid")), "proof rejects another txid")
    check(ledger.tx_proof(record_id).depth == 0, "a one-transaction block: an empty branch")
    check(ledger.tx_proof(lab_org).depth == 2, "block 1 (3 txs): a branch of depth 2")
    shipped_proof(ledger, params, record_id)
    shipped_proof(ledger, params, lab_org)

    # 4. grant, access, revoke
    grant_id = submit(patient, "grant", reader_type=hre.READER_ACCOUNT, reader=doctor.address(),
                      scope=hre.SCOPE_ALL, envelope=b"sealed-key-for-doctor")
    ev = mine()
    check([e.type for e in ev] == [hre.EVENT_GRANTED] and ev[0].grant_id == grant_id, "Granted")
    g = c.grant(grant_id)
    check((g.reader, g.scope, g.revoked, g.patient, g.envelope_len) ==
          (doctor.address(), hre.SCOPE_ALL, False, patient.address(), 21), f"grant {g}")
    check(c.grants_by_patient(patient.address()) == [g], "grants_by_patient")
    check(c.grant_envelope(grant_id) == b"sealed-key-for-doctor", "grant envelope")
    check(c.grant_records(grant_id) == [], "SCOPE_ALL grant lists no ids")
    check(c.can_access(doctor.address(), record_id, now[0]), "doctor may read under the grant")
    check(c.can_access(lab.address(), record_id, now[0]), "the lab's admin reads by role, without a grant")

    submit(doctor, "log_access", record_id=record_id, purpose=1)
    submit(patient, "revoke", grant_id=grant_id)
    ev = mine()
    check([e.type for e in ev] == [hre.EVENT_ACCESS_LOGGED, hre.EVENT_REVOKED],
          f"access + revoke events {[e.type_name for e in ev]}")
    check(ev[0].actor == doctor.address() and ev[0].detail == 1 and ev[0].grant_id == grant_id
          and ev[0].subject == patient.address(), "AccessLogged fields")
    g = c.grant(grant_id)
    check(g.revoked and g.revoked_time == now[0], "grant revoked at block time")
    check(not c.can_access(doctor.address(), record_id, now[0]), "no access after revoke")

    # 5. access after revoke is refused with EAUTH
    e = expect_code(hre.EAUTH, lambda: submit(doctor, "log_access", record_id=record_id,
                                              purpose=1), "log_access after revoke")
    check(e is not None and e.detail != "", "refusal carries a detail message")
    check(e is not None and hre.status_name(e.status) == "reject-contract",
          f"refusal status {e and hre.status_name(e.status)}")
    blk = ledger.block(record_height)
    check(blk[:80] == ledger.header(record_height)[0].encode(), "stored block starts with its header")
    e = expect_code(hre.EEXISTS, lambda: ledger.submit_block(blk, now[0]), "resubmitted block")
    check(e is not None and hre.status_name(e.status) == "reject-duplicate", "duplicate status")
    check(ledger.mempool_count == 0, "refused tx not in the mempool")
    expect_code(hre.ENOTFOUND, lambda: c.record(hre.sha256(b"nope")), "unknown record")

    trail = c.record_events(record_id)
    check([x.type for x in trail] == [hre.EVENT_RECORD_CREATED, hre.EVENT_RECORD_SIGNATURE,
                                      hre.EVENT_RECORD_SIGNATURE, hre.EVENT_RECORD_SIGNED,
                                      hre.EVENT_ACCESS_LOGGED],
          f"record audit trail {[x.type_name for x in trail]}")
    check([x.seq for x in trail] == sorted(x.seq for x in trail), "audit trail oldest first")
    pev = c.account_events(patient.address())
    check(pev[0].type == hre.EVENT_PATIENT_REGISTERED and pev[-1].type == hre.EVENT_REVOKED,
          "patient's account events")
    st = c.stats()
    check((st.records, st.grants, st.orgs) == (1, 1, 3), f"stats {st}")   # genesis, lab, clinic
    pa = c.account(patient.address())
    check((pa.record_count, pa.grant_count, pa.nonce) == (1, 1, 3), f"patient after {pa}")

    # verify-chain with a progress callback
    tip_h, tip_hash = ledger.tip()
    check(tip_h == 6, f"tip height {tip_h}")
    seen = []
    ledger.verify_chain(lambda h, t: seen.append((h, t)) and False)
    check(seen and seen[-1] == (6, 6), f"verify_chain progress {seen[-3:]}")
    e = expect_code(hre.ECANCELED, lambda: ledger.verify_chain(lambda h, t: True),
                    "verify_chain cancelled by progress")

    # snapshot of the tip state loads into a stand-alone Contract with the same hash
    sh = c.state_hash()
    with hre.Contract.load_snapshot(c.snapshot(), net, hospital, "St. Mary's Hospital") as copy:
        check(copy.state_hash() == sh, "snapshot restores the state hash")
        check(copy.record(record_id) == c.record(record_id), "snapshot keeps the record")
    with hre.Contract.load_snapshot(c.snapshot(), net, hospital, "St. Mary's Hospital",
                                    threads=3) as copy:
        check(copy.state_hash() == sh, "snapshot loaded on 3 threads restores the state hash")
    damaged = bytearray(c.snapshot())
    damaged[len(damaged) // 2] ^= 1
    expect_code(hre.ECORRUPT, lambda: hre.Contract.load_snapshot(
        bytes(damaged), net, hospital, "St. Mary's Hospital", threads=2), "damaged snapshot on 2 threads")

    # persistence: close and reopen on the same storage
    ledger.close()
    expect_code(hre.EINVAL, lambda: c.record(record_id), "view of a closed ledger")
    with hre.Ledger(storage, params, hospital, genesis_org_name="St. Mary's Hospital") as l2:
        check(l2.tip() == (tip_h, tip_hash), "reopened ledger keeps the tip")
        check(l2.contract.state_hash() == sh, "reopened ledger keeps the state hash")
        if posix_dir:
            path = os.path.join(posix_dir, "blk-00000.dat")
            with open(path, "r+b") as f:
                data = bytearray(f.read())
                pos = len(data) // 2
                f.seek(pos)
                f.write(bytes([data[pos] ^ 0x40]))
            e = expect_code(hre.ECORRUPT, l2.verify_chain, "verify_chain after a flipped byte")
            check(e is not None and e.first_bad_height is not None
                  and 1 <= e.first_bad_height <= tip_h, "damaged block height reported")
            with open(path, "r+b") as f:
                f.seek(pos)
                f.write(bytes([data[pos]]))
            l2.verify_chain()
    if posix_dir:
        check("blk-00000.dat" in storage.list(), f"storage files {storage.list()}")


def standalone_contract():
    """The contract without a ledger: apply, events with a Python callback, undo."""
    print("--- stand-alone contract")
    net = hre.sha256d(b"python test network")
    auth, pat = hre.Key.generate(), hre.Key.generate(hre.CURVE_SECP256K1)
    seen = []
    with hre.Contract(net, auth, on_event=seen.append) as c:
        h0 = c.state_hash()
        tx = hre.build_register_patient(net, pat, 0, T0)
        check(tx.kind == hre.KIND_REGISTER_PATIENT and tx.verify(net), "builder output")
        c.apply(tx, T0)
        check([e.type for e in seen] == [hre.EVENT_PATIENT_REGISTERED], "callback event")
        check(seen[0].subject == pat.address() and seen[0].time == T0, "event fields")
        check(c.undo_depth == 1 and c.state_hash() != h0, "applied")
        expect_code(hre.EEXISTS, lambda: c.apply(hre.build_register_patient(net, pat, 0, T0), T0),
                    "registering twice")
        expect_code(hre.ESTATE, lambda: c.apply(hre.build_revoke(net, pat, 5, T0, grant_id=net),
                                                T0), "wrong nonce")
        c.undo()
        check(c.state_hash() == h0, "undo restores the state hash")
        expect_code(hre.ENOTFOUND, lambda: c.account(pat.address()), "undone patient")

        def boom(ev):
            raise RuntimeError("callback failed")
        c2 = hre.Contract(net, auth, on_event=boom)
        h_before = c2.state_hash()
        try:
            c2.apply(hre.build_register_patient(net, pat, 0, T0), T0)
            check(False, "exception in the event callback was swallowed")
        except hre.CallbackError as e:
            check(isinstance(e.__cause__, RuntimeError) and e.call == "Contract.apply"
                  and e.result is None and len(e.errors) == 1, f"CallbackError from apply: {e!r}")
            check(not isinstance(e, hre.HreError), "CallbackError is not a library failure")
        check(c2.state_hash() != h_before and c2.undo_depth == 1
              and c2.account(pat.address()).role == hre.Role.PATIENT,
              "the transaction is applied although the callback raised")
        c2.close()
    # grant payload with a record list round-trips; caps are enforced
    ids = sorted(hre.sha256(bytes([i])) for i in range(3))
    enc = hre.encode_payload("grant", reader_type=hre.READER_ORG, reader=net,
                             scope=hre.SCOPE_RECORDS, record_ids=ids, expiry=T0 + 10)
    d = hre.decode_payload(hre.KIND_GRANT, enc)
    check(d["record_ids"] == ids and d["expiry"] == T0 + 10 and d["envelope"] == b"",
          "grant payload round trip")
    expect_code(hre.EDECODE, lambda: hre.decode_payload("grant", enc + b"\0"), "trailing byte")
    expect_code(hre.ELIMIT, lambda: hre.encode_payload("register_org", org_type=hre.ORG_LAB,
                                                        name="x" * 65, admin_key=auth),
                "name over 64 bytes")


def shipped_proof(ledger, params, txid):
    """A tx proof sent as bytes (80-byte header || encoded branch) and checked
    on the receiving side with nothing but those bytes and the PoW limit."""
    proof = ledger.tx_proof(txid)
    wire = proof.header.encode() + proof.branch.encode()
    check(len(wire) == 80 + 5 + 32 * proof.depth, f"shipped proof length {len(wire)}")
    got = hre.MerkleProof(header=hre.Header(wire[:80]), branch=hre.MerkleBranch.decode(wire[80:]),
                          height=proof.height)
    check(got.branch == proof.branch and got.verify(txid, params.pow_limit),
          "a shipped proof verifies on the receiving side")
    for pos in range(80, len(wire)):
        bad = bytearray(wire)
        bad[pos] ^= 0x01
        try:
            br = hre.MerkleBranch.decode(bytes(bad[80:]))
        except (hre.DecodeError, hre.LimitExceeded):
            # the depth byte (length mismatch), or an index bit at or above 2^depth
            check(pos == 84 or (80 <= pos < 84 and (bad[80] | bad[81] << 8 | bad[82] << 16
                                                    | bad[83] << 24) >> proof.depth),
                  f"flipping byte {pos} made the branch undecodable")
            continue
        tampered = hre.MerkleProof(header=hre.Header(bytes(bad[:80])), branch=br, height=0)
        check(not tampered.verify(txid), f"a proof with byte {pos} flipped still verifies")
    bad = bytearray(wire)
    bad[4 + 32] ^= 0x80                      # the header's Merkle root
    check(not hre.MerkleProof(header=hre.Header(bytes(bad[:80])), branch=got.branch,
                              height=0).verify(txid), "a proof under another root verifies")
    expect_code(hre.EDECODE, lambda: hre.MerkleBranch.decode(wire[80:] + b"\0"),
                "shipped branch with a trailing byte")
    expect_code(hre.EDECODE, lambda: hre.MerkleBranch.decode(wire[80:-1]), "truncated branch")


def callbacks():
    """An exception in an event or log callback does not make a call that
    succeeded look failed: CallbackError after the call, with its result."""
    print("--- callbacks raising during mine() and submit_block()")
    params = hre.ChainParams.regtest()
    auth, pat = hre.Key.generate(), hre.Key.generate()
    seen = []

    def raising(ev):
        seen.append(ev)
        raise ValueError(f"host failure on {ev.type.name}")

    with hre.Storage.memory() as sa, hre.Storage.memory() as sb:
        a = hre.Ledger(sa, params, auth, on_event=raising)
        net = a.network_id
        for i in range(3):
            a.submit_tx(hre.build_register_patient(net, hre.Key.generate(), 0, T0), T0)
        try:
            a.mine(T0 + 60)
            check(False, "mine(): the callback's exception vanished")
            h = None
        except hre.CallbackError as e:
            h = e.result
            check(e.call == "Ledger.mine" and isinstance(e.__cause__, ValueError)
                  and e.__cause__ is e.errors[0], f"CallbackError from mine: {e!r}")
            # 3 contract events + BLOCK_CONNECTED: delivery went on after the first raise
            check(len(e.errors) == 4 and len(seen) == 4
                  and [x.type for x in seen] == [hre.LedgerEventType.CONTRACT] * 3
                  + [hre.LedgerEventType.BLOCK_CONNECTED], f"events delivered {seen}")
        check(h is not None and a.tip() == (1, h) and a.mempool_count == 0,
              "the mined block is the durable tip although the callback raised")
        check(a.contract.stats().accounts == 4, "the block's transactions are applied")
        # the next call does not see the old exceptions again
        a.submit_tx(hre.build_register_patient(net, pat, 0, T0 + 60), T0 + 60)
        del seen[:]
        e = None
        try:
            a.mine(T0 + 120)
        except hre.CallbackError as err:
            e = err
        check(e is not None and len(e.errors) == 2 and a.tip() == (2, e.result),
              "second mine(): only its own callback errors")
        a.close()

        # submit_block: a second node takes the two blocks with a raising callback
        a = hre.Ledger(sa, params, auth)
        b = hre.Ledger(sb, params, auth, on_event=raising)
        del seen[:]
        try:
            b.submit_block(a.block(1), T0 + 200)
            check(False, "submit_block(): the callback's exception vanished")
        except hre.CallbackError as err:
            check(err.result == hre.LedgerStatus.CONNECTED and err.call == "Ledger.submit_block"
                  and isinstance(err.result, hre.LedgerStatus) and len(err.errors) == 4,
                  f"CallbackError from submit_block: {err!r}")
        check(b.tip() == (1, a.header(1)[1]), "submit_block connected the block")
        # a failing call whose callback also raised: the library's error wins
        e = expect_code(hre.EEXISTS, lambda: b.submit_block(a.block(1), T0 + 200),
                        "duplicate block (no events)")
        check(e is not None and e.status == hre.LedgerStatus.REJECT_DUPLICATE
              and isinstance(e, hre.AlreadyExists) and e.callback_errors == [],
              "duplicate: AlreadyExists with its status, no callback errors")
        # KeyboardInterrupt is not wrapped, and the block is still connected
        b.close()
        b = hre.Ledger(sb, params, auth, on_event=lambda ev: (_ for _ in ()).throw(KeyboardInterrupt))
        try:
            b.submit_block(a.block(2), T0 + 200)
            check(False, "KeyboardInterrupt in a callback vanished")
        except KeyboardInterrupt:
            pass
        check(b.tip() == a.tip(), "block 2 connected although the callback was interrupted")
        b.close()

        def bad_log(level, msg):
            raise RuntimeError(f"log sink down: {msg}")
        # the log hook raising while the ledger opens: the ledger is open anyway
        try:
            hre.Ledger(sb, params, auth, log=bad_log)
            check(False, "open: the log hook's exception vanished")
        except hre.CallbackError as err:
            lb = err.result
            check(isinstance(lb, hre.Ledger) and err.call == "Ledger" and lb.tip() == a.tip(),
                  "CallbackError from Ledger() carries the open ledger")
        # a rejected block logs a warning; the hook raises: the rejection is raised,
        # with the hook's exception attached
        blk = bytearray(a.block(2))
        blk[-1] ^= 1                                    # a signature byte: another txid
        try:
            lb.submit_block(bytes(blk), T0 + 200)
            check(False, "a damaged block was accepted")
        except hre.VerifyError as err:
            check(err.status == hre.LedgerStatus.REJECT_MERKLE and "merkle root" in err.detail
                  and len(err.callback_errors) == 1
                  and isinstance(err.callback_errors[0], RuntimeError)
                  and "rejected" in str(err.callback_errors[0]),
                  f"the log hook's exception rides on the rejection: {err!r} "
                  f"{err.callback_errors}")
        try:
            lb.close()
        except hre.CallbackError:
            pass
        a.close()


scenario(hre.Storage.memory(), "memory backend")
with tempfile.TemporaryDirectory() as d:
    with hre.Storage.posix(os.path.join(d, "ledger"), flags=hre.STORAGE_POSIX_NOSYNC) as s:
        scenario(s, "POSIX directory", posix_dir=os.path.join(d, "ledger"))
standalone_contract()
callbacks()

print("python scenario:", "FAILED" if failures else f"all {checks[0]} checks passed",
      f"({len(failures)} failures)" if failures else "")
sys.exit(1 if failures else 0)
