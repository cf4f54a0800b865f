"""hre audit on the ledger that examples/hre_demo leaves (argv[2]): the
doctor's access appears with the grant that allowed it, with the grant and
the revocation, in the table, as JSON, and as a FHIR R4 Bundle of
AuditEvents whose required elements and value types are checked."""
import os
import re
import shutil
import sys

from clitest import run, run_json, demo_ledger, chain_blocks, txs_of_kind

DEMO = sys.argv[2]
data = demo_ledger(DEMO)
info, blocks = chain_blocks(data)
(ph, reg), = txs_of_kind(blocks, "register-patient")
patient = reg["sender"]
(gh, grant), = txs_of_kind(blocks, "grant")
(ah, access), = txs_of_kind(blocks, "log-access")
(vh, revoke), = txs_of_kind(blocks, "revoke")
(rh, record), = txs_of_kind(blocks, "new-record")
doctor = access["sender"]

# ---- JSON ---------------------------------------------------------------------
ev = run_json("audit", patient, "--data", data)
assert [e["event"] for e in ev] == ["grant", "access", "revoke"], ev
g, a, r = ev
assert g["txid"] == grant["txid"] == g["grant"] and g["height"] == gh, g
assert g["actor"] == patient and g["actor_role"] == "patient" and g["record"] is None, g
assert a["txid"] == access["txid"] and a["height"] == ah, a
assert a["actor"] == doctor and a["actor_role"] == "doctor", a
assert a["actor_desc"] == "doctor of Riverside Clinic", a
assert a["grant"] == grant["txid"] and a["record"] == record["txid"], a
assert a["patient"] == patient and a["purpose"] == 1, a
assert r["txid"] == revoke["txid"] and r["height"] == vh and r["grant"] == grant["txid"], r
for e in ev:
    assert e["time"] == blocks[e["height"]]["time"], (e, blocks[e["height"]])
    assert e["time_unix"] == blocks[e["height"]]["time_unix"], e
assert [e["seq"] for e in ev] == sorted(e["seq"] for e in ev), ev

# ---- the table --------------------------------------------------------------------
_, out, _ = run("audit", patient, "--data", data, check=0)
rows = out.splitlines()
assert rows[0].split()[:3] == ["TIME", "HEIGHT", "EVENT"], out
arow = [l for l in rows if " access " in l]
assert len(arow) == 1, out
assert doctor[:16] in arow[0] and grant["txid"][:16] in arow[0], arow
assert record["txid"][:16] in arow[0] and access["txid"][:16] in arow[0], arow
assert "doctor of Riverside Clinic" in arow[0] and (" %d " % ah) in arow[0], arow
assert "(3 events;" in rows[-1], out

# ---- FHIR R4 --------------------------------------------------------------------
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ID = re.compile(r"^[A-Za-z0-9\-\.]{1,64}$")


def coding(c, where):
    assert isinstance(c, dict), where
    assert isinstance(c.get("system"), str) and c["system"].startswith(("http", "urn:")), where
    assert isinstance(c.get("code"), str) and c["code"], where


def reference(ref, where):
    assert isinstance(ref, dict) and ("reference" in ref or "identifier" in ref), where
    if "identifier" in ref:
        ident = ref["identifier"]
        assert isinstance(ident["system"], str) and ident["system"].startswith("urn:"), where
        assert isinstance(ident["value"], str) and ident["value"], where


def check_audit_event(res, where):
    """The R4 AuditEvent's required elements (cardinality 1..) and value types."""
    assert res["resourceType"] == "AuditEvent", where
    assert ID.match(res["id"]), where
    coding(res["type"], where + ".type")                            # type 1..1 Coding
    for s in res.get("subtype", []):
        coding(s, where + ".subtype")
    assert res["action"] in ("C", "R", "U", "D", "E"), where        # code
    assert isinstance(res["recorded"], str) and INSTANT.match(res["recorded"]), where
    assert res["outcome"] in ("0", "4", "8", "12"), where
    agents = res["agent"]                                           # agent 1..*
    assert isinstance(agents, list) and agents, where
    for ag in agents:
        assert isinstance(ag["requestor"], bool), where               # requestor 1..1
        reference(ag["who"], where + ".agent.who")
    src = res["source"]                                             # source 1..1
    reference(src["observer"], where + ".source.observer")         # observer 1..1
    for t in src.get("type", []):
        coding(t, where + ".source.type")
    for en in res.get("entity", []):
        reference(en["what"], where + ".entity.what")
        coding(en["type"], where + ".entity.type")
        coding(en["role"], where + ".entity.role")
    return res


_, out, _ = run("audit", patient, "--format", "fhir", "--data", data, check=0)
import json  # noqa: E402
bundle = json.loads(out)
assert bundle["resourceType"] == "Bundle" and bundle["type"] in ("collection", "searchset")
assert INSTANT.match(bundle["timestamp"]), bundle["timestamp"]
assert "total" not in bundle                                        # bdl-1 (collection)
res = [check_audit_event(e["resource"], "entry[%d]" % i) for i, e in enumerate(bundle["entry"])]
assert all(e["fullUrl"].startswith("urn:") for e in bundle["entry"]), bundle["entry"]
assert [x["action"] for x in res] == ["C", "R", "U"], res
acc = res[1]
assert acc["type"] == {"system": "http://dicom.nema.org/resources/ontology/DCM",
                       "code": "110110", "display": "Patient Record"}, acc["type"]
assert acc["recorded"] == a["time"] and acc["id"] == access["txid"], acc
assert acc["agent"][0]["who"]["identifier"]["value"] == doctor, acc["agent"]
assert acc["agent"][0]["requestor"] is True, acc["agent"]
assert acc["source"]["observer"]["identifier"]["value"] == info["network_id"], acc["source"]
ents = {e["what"]["identifier"]["system"]: e["what"]["identifier"]["value"] for e in acc["entity"]}
assert ents == {"urn:hre:account": patient, "urn:hre:record": record["txid"],
                "urn:hre:grant": grant["txid"], "urn:hre:tx": access["txid"]}, ents
assert res[0]["type"]["code"] == "rest" and res[0]["recorded"] == g["time"], res[0]

# ---- refusals -----------------------------------------------------------------------
_, _, err = run("audit", doctor, "--data", data, check=5)
assert "not a patient" in err, err
run("audit", "ab" * 32, "--data", data, check=3)
run("audit", "xyz", "--data", data, check=5)
run("audit", patient, "--format", "csv", "--data", data, check=2)
run("audit", patient, "--format", "fhir", "--json", "--data", data, check=2)
run("audit", patient, check=2)                                     # which ledger?

shutil.rmtree(os.path.dirname(data))
print("test_cli_audit: ok")
