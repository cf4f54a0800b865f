#!/usr/bin/env python3
"""The 1.1 contract and ledger bindings, by behaviour: the network file
(Network.private / encode / decode, a second ledger opened on the decoded
network syncing with submit_blocks), contract kinds 12-15 (register_node,
suspend_org, set_enc_key, erase_record) and their codecs, the verdict
queries (node_status, access_check with its reasons, enc_key), the record's
locator / erased fields, and the ledger queries (next_nonce, mempool_list /
mempool_tx, tip_work, block_info, header_by_hash, block_by_hash,
events_since, fingerprint, chain_params).

Usage: test_contract_ledger.py   (HRE_LIBRARY points at libhre.so.1)
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hre  # noqa: E402

from checks import check, expect, failures, checks  # noqa: E402


T0 = 1750000000
LOCATOR = bytes(range(0x20, 0x40))


def payload_codecs():
    node_key = hre.Key.generate().wire()
    enc = hre.Key.generate().wire()
    org = hashlib.sha256(b"org").digest()
    cases = {
        "register_node": dict(node_key=node_key),
        "suspend_org": dict(org_id=org, action=hre.SUSPEND_SUSPEND),
        "set_enc_key": dict(target_type=hre.ENC_TARGET_ORG, target=org, enc_key=enc),
        "erase_record": dict(record_id=org),
    }
    for kind, fields in cases.items():
        raw = hre.encode_payload(kind, **fields)
        check(hre.decode_payload(kind, raw) == fields, f"{kind}: decode(encode) round trip")
        expect(hre.DecodeError, lambda: hre.decode_payload(kind, raw[:-1]),
               f"{kind}: truncated payload")
        expect(hre.DecodeError, lambda: hre.decode_payload(kind, raw + b"\0"),
               f"{kind}: trailing byte")
    check(isinstance(hre.decode_payload("set_enc_key", hre.encode_payload(
        "set_enc_key", **cases["set_enc_key"]))["target_type"], hre.EncTarget),
        "target_type decodes to an EncTarget")
    check(hre.encode_payload(13, org_id=org, action=1) == b"\x01" + org + b"\x01",
          "suspend_org payload is version 0x01 || org id || action (PROTOCOL.md 5.3)")
    # a secp256k1 key is no encryption key: the encoder refuses it
    k1 = hre.Key.generate(hre.CURVE_SECP256K1).wire()
    try:
        hre.encode_payload("set_enc_key", target_type=0, target=org, enc_key=k1)
        check(False, "set_enc_key with a secp256k1 key encoded")
    except hre.HreError as e:
        check(isinstance(e, (hre.InvalidArgument, hre.DecodeError)), f"secp256k1 enc key: {e}")


def network_file(hospital):
    net = hre.Network.private(hospital, "St Mary's", now=T0)
    raw = net.encode()
    check(0 < len(raw) <= hre.NETWORK_FILE_MAX, f"network file length {len(raw)}")
    net2 = hre.Network.decode(raw)
    check(net2.id == net.id and net2.encode() == raw, "decode(encode) keeps the network")
    check(net.authority_key == hospital.wire(), "authority key kept")
    check(net.org_name == "St Mary's", f"org name {net.org_name!r}")
    check(net.params.genesis.hash() == net.id, "network id is its genesis hash")
    check(net.params.genesis.time == T0, "private genesis time is now")
    check(hre.Network.private(hospital, "St Mary's", now=T0 + 1).id != net.id,
          "another moment gives another network")
    bad = bytearray(raw)
    bad[len(bad) // 2] ^= 1
    try:
        hre.Network.decode(bytes(bad))
        check(False, "a damaged network file decoded")
    except hre.HreError as e:
        check(isinstance(e, (hre.Corrupt, hre.DecodeError)), f"damaged file: {e}")
    expect(hre.DecodeError, lambda: hre.Network.decode(raw[:-1]), "truncated network file")
    n3 = hre.Network.new(net.params, hospital)
    check(n3.org_name is None and n3.id == net.id, "Network.new with the same params")
    return raw


def main():
    payload_codecs()
    hospital, lab_admin, patient, other, node_key = (hre.Key.generate() for _ in range(5))
    stranger = hre.Key.generate()
    netfile = network_file(hospital)
    net = hre.Network.decode(netfile)
    sa, sb = hre.Storage.memory(), hre.Storage.memory()
    a = hre.Ledger(sa, network=net)
    check(a.network_id == net.id and a.network.id == net.id, "ledger opened on the network")
    check(a.network.encode() == netfile, "ledger.network encodes to the same file")
    check(a.chain_params().genesis.hash() == net.id and a.params.genesis.hash() == net.id,
          "chain_params")
    try:
        hre.Ledger(hre.Storage.memory(), a.params, hospital, network=net)
        check(False, "network with params accepted")
    except TypeError:
        pass
    c = a.contract
    nid = net.id
    gen_org = hre.genesis_org_id(nid)
    now = [T0 + 60]
    work = [a.tip_work()]
    check(work[0] > 0, "genesis work counted")

    def submit(key, kind, **fields):
        n = a.next_nonce(key)
        tx = hre.build_tx(kind, nid, key, n, now[0], **fields)
        txid = a.submit_tx(tx, now[0])
        check(a.next_nonce(key.address()) == n + 1, f"{kind}: next_nonce counts the mempool")
        check(a.mempool_tx(txid) == tx.encode(), f"{kind}: mempool_tx gives the encoding")
        return txid

    def mine():
        now[0] += 60
        h = a.mine(now[0])
        w = a.tip_work()
        check(w > work[0], "tip work grows with each block")
        work[0] = w
        return h

    check(a.next_nonce(patient) == 0, "no account: nonce 0")
    lab = submit(hospital, "register_org", org_type=hre.ORG_LAB, name="City Lab",
                 admin_key=lab_admin)
    p1 = submit(patient, "register_patient")
    p2 = submit(other, "register_patient")
    check(a.mempool_list() == [lab, p1, p2], "mempool_list in arrival order")
    check(a.mempool_list(page=1) == [lab, p1, p2], "mempool_list paged one by one")
    h1 = mine()
    check(a.mempool_list() == [], "mempool empty after mining")
    expect(hre.NotFound, lambda: a.mempool_tx(lab), "mempool_tx after mining")

    # block index queries
    info = a.block_info(h1)
    check((info.height, info.on_main, info.invalid, info.tx_count) == (1, True, False, 3),
          f"block_info {info}")
    check(info.header.hash() == h1 and int.from_bytes(info.work, "little") == a.tip_work(),
          "block_info header and work")
    hdr, height, on_main = a.header_by_hash(h1)
    check((hdr.hash(), height, on_main) == (h1, 1, True), "header_by_hash")
    check(a.block_by_hash(h1) == a.block(1), "block_by_hash equals block_by_height")
    expect(hre.NotFound, lambda: a.block_info(b"\x11" * 32), "block_info unknown")
    expect(hre.NotFound, lambda: a.header_by_hash(b"\x11" * 32), "header_by_hash unknown")

    # REGISTER_NODE and node_status
    ns = c.node_status(node_key)
    check((ns.member, ns.reason, ns.code, ns.address) ==
          (False, hre.NodeStatusReason.UNKNOWN_KEY, hre.ENOTFOUND, None), f"unknown key {ns}")
    submit(lab_admin, "register_node", node_key=node_key)
    mine()
    ns = c.node_status(node_key)
    check(ns.member and ns.reason == hre.NODE_MEMBER and ns.code == hre.OK, f"node member {ns}")
    check((ns.role, ns.org_id, ns.org_type, ns.address) ==
          (hre.ROLE_NODE, lab, hre.ORG_LAB, node_key.address()), f"node account {ns}")
    ns = c.node_status(patient.pubkey())
    check((ns.member, ns.reason, ns.role) == (False, hre.NODE_NOT_A_NODE, hre.ROLE_PATIENT),
          f"patient key is not a node {ns}")

    # SET_ENC_KEY: an account's own, and an organisation's by its admin
    pk_enc, org_enc = hre.Key.generate().wire(), hre.Key.generate().wire()
    expect(hre.NotFound, lambda: c.enc_key(hre.ENC_TARGET_ACCOUNT, patient.address()),
           "no enc key yet")
    submit(patient, "set_enc_key", target_type=hre.ENC_TARGET_ACCOUNT, target=patient.address(),
           enc_key=pk_enc)
    submit(lab_admin, "set_enc_key", target_type=hre.ENC_TARGET_ORG, target=lab, enc_key=org_enc)
    mine()
    check(c.enc_key(hre.ENC_TARGET_ACCOUNT, patient.address()) == pk_enc, "account enc key")
    check(c.enc_key(hre.EncTarget.ORG, lab) == org_enc, "org enc key")
    check(c.account(patient.address()).enc_key == pk_enc, "Account.enc_key")
    check(c.org(lab).enc_key == org_enc and c.org(gen_org).enc_key is None, "Org.enc_key")
    expect(hre.NotFound, lambda: c.enc_key(hre.ENC_TARGET_ACCOUNT, other.address()),
           "other patient has none")
    expect(hre.InvalidArgument, lambda: c.enc_key(7, lab), "unknown target type")

    # a record; access_check's verdicts
    rec = submit(hospital, "new_record", patient=patient.address(), lab_org=lab,
                 commit_patient_id=b"\1" * 32, commit_test_name=b"\2" * 32, date=now[0],
                 price=100, category=3, doc_sha256=b"\3" * 32, hospital_name="St Mary's",
                 locator=LOCATOR)
    mine()
    r = c.record(rec)
    check(r.locator == LOCATOR and not r.erased and r.erased_time == 0, "record locator")
    v = c.access_check(patient.address(), rec, now[0])
    check((v.allowed, v.reason, v.basis, v.code) ==
          (True, hre.ACCESS_ALLOWED, hre.ACCESS_BY_PATIENT, hre.OK), f"patient reads {v}")
    v = c.access_check(lab_admin.address(), rec, now[0])
    check((v.allowed, v.basis) == (True, hre.AccessBasis.ROLE), f"lab admin by role {v}")
    v = c.access_check(other.address(), rec, now[0])
    check((v.allowed, v.reason, v.code, v.basis) ==
          (False, hre.ACCESS_NO_GRANT, hre.EAUTH, None), f"other patient, no grant {v}")
    v = c.access_check(stranger.address(), rec, now[0])
    check((v.reason, v.code) == (hre.ACCESS_UNKNOWN_READER, hre.ENOTFOUND), f"stranger {v}")
    v = c.access_check(patient.address(), b"\x55" * 32, now[0])
    check((v.reason, v.code) == (hre.ACCESS_UNKNOWN_RECORD, hre.ENOTFOUND), f"no record {v}")
    grant = submit(patient, "grant", reader_type=hre.READER_ACCOUNT, reader=other.address(),
                   scope=hre.SCOPE_ALL, expiry=now[0] + 10000)
    mine()
    v = c.access_check(other.address(), rec, now[0])
    check((v.allowed, v.basis, v.grant_id) == (True, hre.ACCESS_BY_GRANT, grant), f"grant {v}")
    v = c.access_check(other.address(), rec, now[0] + 20000)
    check((v.allowed, v.reason, v.grant_id) == (False, hre.ACCESS_EXPIRED, grant),
          f"expired grant {v}")
    check(c.can_access(other.address(), rec, now[0]), "can_access agrees")
    submit(patient, "revoke", grant_id=grant)
    mine()
    v = c.access_check(other.address(), rec, now[0])
    check((v.allowed, v.reason, v.grant_id) == (False, hre.ACCESS_REVOKED, grant), f"revoked {v}")

    # SUSPEND_ORG: the lab's node stops being a member; reinstating brings it back
    submit(hospital, "suspend_org", org_id=lab, action=hre.SUSPEND_SUSPEND)
    mine()
    check(c.org(lab).status == hre.STATUS_SUSPENDED, "org suspended")
    check(c.account(lab_admin.address()).org_status == hre.STATUS_SUSPENDED, "Account.org_status")
    ns = c.node_status(node_key)
    check((ns.member, ns.reason, ns.code) == (False, hre.NODE_ORG_SUSPENDED, hre.EAUTH),
          f"node of a suspended org {ns}")
    v = c.access_check(lab_admin.address(), rec, now[0])
    check((v.allowed, v.reason) == (False, hre.ACCESS_ORG_SUSPENDED), f"suspended org reads {v}")
    tx = hre.build_tx("suspend_org", nid, hospital, a.next_nonce(hospital), now[0], org_id=lab,
                      action=hre.SUSPEND_SUSPEND)
    expect(hre.StateError, lambda: a.submit_tx(tx, now[0]), "suspending twice")
    submit(hospital, "suspend_org", org_id=lab, action=hre.SUSPEND_REINSTATE)
    mine()
    check(c.node_status(node_key).member, "reinstated: member again")

    # ERASE_RECORD by the patient
    mark = a.events_since()
    check(mark and [e.seq for e in mark] == list(range(mark[0].seq, mark[0].seq + len(mark))),
          "events_since(0): consecutive seqs")
    check(mark[-1].type == hre.LEDGER_EVENT_BLOCK_CONNECTED and mark[-1].block_hash == a.tip()[1],
          "the stream ends with the tip's BLOCK_CONNECTED")
    last = mark[-1]
    check(a.events_since(last.seq, last.block_hash) == [], "nothing after the last event")
    submit(patient, "erase_record", record_id=rec)
    he = mine()
    new = a.events_since(last.seq, last.block_hash)
    check([e.type for e in new] == [hre.LEDGER_EVENT_CONTRACT, hre.LEDGER_EVENT_BLOCK_CONNECTED]
          and new[0].contract.type == hre.EVENT_RECORD_ERASED and new[0].contract.record_id == rec
          and new[1].block_hash == he and new[0].seq == last.seq + 1,
          f"events_since: the erasure block {new}")
    r = c.record(rec)
    check(r.erased and r.erased_time == now[0], f"record erased at {r.erased_time}")
    v = c.access_check(patient.address(), rec, now[0])
    check((v.allowed, v.reason, v.code) == (False, hre.ACCESS_ERASED, hre.EERASED),
          f"erased record {v}")
    try:
        a.events_since(5)
        check(False, "events_since without a block accepted")
    except ValueError:
        pass

    # the second institution: a ledger on the decoded network file, fed blocks
    b = hre.Ledger(sb, network=hre.Network.decode(netfile))
    check(b.fingerprint() == a.fingerprint(), "same network, same fingerprint")
    other_net = hre.Network.private(hospital, "St Mary's", now=T0 + 5)
    with hre.Ledger(hre.Storage.memory(), network=other_net) as x:
        check(x.fingerprint() != a.fingerprint(), "another network, another fingerprint")
    tip_h, tip = a.tip()
    blocks = [a.block(i) for i in range(1, tip_h + 1)]
    connected, status = b.submit_blocks(blocks, now[0])
    check((connected, status) == (tip_h, hre.LEDGER_CONNECTED), f"submit_blocks {connected}")
    check(b.tip() == (tip_h, tip), "second ledger reached the same tip")
    check(b.contract.state_hash() == a.contract.state_hash(), "same contract state")
    check(b.tip_work() == a.tip_work(), "same work")
    try:
        b.submit_blocks(blocks[-1:], now[0])
        check(False, "a duplicate block accepted")
    except hre.HreError as e:
        check(e.status == hre.LEDGER_REJECT_DUPLICATE, f"duplicate block: {e} {e.status!r}")
    b.close()
    a.close()
    sa.close()
    sb.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        failures.append(f"unexpected {type(e).__name__}: {e}")
        raise
    finally:
        print("contract/ledger 1.1 bindings:",
              "FAILED" if failures else f"all {checks[0]} checks passed",
              f"({len(failures)} failures)" if failures else "")
    sys.exit(1 if failures else 0)
