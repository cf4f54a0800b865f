#!/usr/bin/env python3
"""Run one bench program with tiny sizes and check its document (the meson
test suite 'bench'; not a timing test: the figures are not judged).

    check_json.py BENCH_EXECUTABLE NAME [ARGS...]
    check_json.py --writer TEST_BENCH_JSON   (the writer's own test)

1. Its stdout is piped through `python3 -m json.tool`, which must accept it.
2. The schema of bench/README.md: "bench" (== NAME), "libhre", "config",
   "results" (and optionally "machine", "notes" of strings); the old key
   names ("benchmark", "library") appear nowhere; every number or null under
   "results" has its unit in its key (_per_s, _per_cpu_s, _seconds, _ns,
   _bytes, _count) or is a ratio (ratio*, *_ratio); every object holding an
   openssl_* figure holds a ratio* next to it.
3. With OPENSSL pointing at fake_openssl.py (as the meson test does), every
   openssl speed figure is the fake's number (scaled by -multi), so nothing
   under "results" is null: the runner ran, was parsed, and every ratio has
   its reference.
"""
import json
import os
import subprocess
import sys

UNITS = ("_per_s", "_per_cpu_s", "_seconds", "_ns", "_bytes", "_count")
FAKE = "fake_openssl.py" in os.environ.get("OPENSSL", "")
errors = []


def err(msg):
    errors.append(msg)
    print("FAIL:", msg)


def walk(node, path, fn):
    fn(node, path)
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, path + [k], fn)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, path + [f"[{i}]"], fn)


def unit_ok(key):
    return (key.endswith(UNITS) or ("_" + key) in UNITS or key.startswith("ratio")
            or key.endswith("_ratio"))


def fake_value(key):
    """What fake_openssl.py reports for an openssl_speed_* key."""
    m = 2 if "multi2" in key else 1
    if "verify" in key:
        return 20000.0 * m
    if "sign" in key:
        return 40000.0 * m
    if "ecdh" in key:
        return 10000.0 * m
    if "sha256_64B" in key:
        return 5e8 * m / 64
    if "mb_per" in key:
        return 500.0 * m
    return None


WRITER_WANT = {
    "bench": "json_writer",
    "config": {"quote\"backslash\\": "tab\there \"q\" \\ nl\n cr\r bell\a del\x7f end",
               "utf8": "gr\u00fc\u00df \u20ac", "null_string": None},
    "results": {"pi_ratio": 3.142, "rate_per_s": 1234568, "negative_zero_ratio": 0,
                "inf_ratio": None, "nan_ratio": None, "ratio_missing_reference": None,
                "ratio_half": 0.5, "absent_seconds": None, "present_seconds": 2.5,
                "big_count": -9007199254740993, "yes": True, "no": False,
                "empty_object": {}, "empty_array": [], "nested": [{"inner": [1, None, "x"]}, 0.5]},
}


def writer_test(exe):
    """The JSON writer's own test: its document parses to exactly what it wrote."""
    p = subprocess.run([exe], capture_output=True, timeout=60)
    if p.returncode != 0:
        err(f"test_bench_json exited with {p.returncode}: {p.stderr.decode(errors='replace')}")
    tool = subprocess.run([sys.executable, "-m", "json.tool"], input=p.stdout, capture_output=True)
    if tool.returncode != 0:
        err(f"python3 -m json.tool refused the writer's output: {tool.stderr!r}\n{p.stdout!r}")
        return
    doc = json.loads(p.stdout.decode("utf-8"))
    doc.pop("libhre", None)
    if doc != WRITER_WANT:
        err(f"the writer's document differs:\n{doc}\nwant\n{WRITER_WANT}")
    if "-0" in p.stdout.decode():
        err("a negative zero was written")
    print("json writer: escaping, numbers, null for non-finite, nesting, misuse reported")


def main():
    if sys.argv[1] == "--writer":
        writer_test(sys.argv[2])
        return
    exe, name, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    p = subprocess.run([exe] + extra, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        err(f"{name} exited with {p.returncode}: {p.stderr[-2000:]}")
        return
    tool = subprocess.run([sys.executable, "-m", "json.tool"], input=p.stdout,
                          capture_output=True, text=True)
    if tool.returncode != 0:
        err(f"python3 -m json.tool refused the output: {tool.stderr.strip()}\n{p.stdout[:2000]}")
        return
    doc = json.loads(p.stdout)
    if not isinstance(doc, dict) or doc.get("bench") != name:
        err(f'"bench" is {doc.get("bench") if isinstance(doc, dict) else doc!r}, want {name!r}')
        return
    if not isinstance(doc.get("libhre"), str) or not doc["libhre"]:
        err('"libhre" (the library version) missing')
    for k in ("config", "results"):
        if not isinstance(doc.get(k), dict) or not doc[k]:
            err(f'"{k}" missing or empty')
    extra_keys = set(doc) - {"bench", "libhre", "config", "results", "machine", "notes"}
    if extra_keys:
        err(f"unexpected top-level keys {sorted(extra_keys)}")
    if list(doc)[:4] != ["bench", "libhre", "config", "results"]:
        err(f"top-level order {list(doc)}")
    for k, v in doc.get("notes", {}).items():
        if not isinstance(v, str):
            err(f"notes.{k} is not a string")

    def old_names(node, path):
        if isinstance(node, dict):
            for k in node:
                if k in ("benchmark", "library"):
                    err(f"old key {'.'.join(path + [k])}")
    walk(doc, [], old_names)

    nulls = []

    def figures(node, path):
        if not isinstance(node, dict):
            return
        for k, v in node.items():
            where = ".".join(path + [k])
            if isinstance(v, bool):
                continue
            if v is None or isinstance(v, (int, float)):
                if not unit_ok(k):
                    err(f"{where}: no unit in the key (one of {UNITS}, or ratio)")
                if v is None:
                    nulls.append(where)
            if k.startswith("openssl_") and (v is None or isinstance(v, (int, float))):
                if not any(x.startswith("ratio") for x in node):
                    err(f"{where}: a reference figure with no ratio* next to it")
                if FAKE and k.startswith("openssl_speed_"):
                    want = fake_value(k)
                    if want is None or v is None or abs(v - want) > max(1.0, want * 1e-3):
                        err(f"{where} = {v}, the fake openssl reports {want}")
    walk(doc["results"], ["results"], figures)
    if FAKE and nulls:
        err(f"null figures although every reference ran: {nulls}")
    print(f"{name}: valid JSON, schema ok"
          + (", every openssl speed figure parsed" if FAKE else "")
          + (f"; null: {nulls}" if nulls and not FAKE else ""))


main()
sys.exit(1 if errors else 0)
