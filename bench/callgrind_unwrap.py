#!/usr/bin/env python3
"""Instruction counts of a vault unwrap next to one raw OpenSSL ECDH.

    bench/callgrind_unwrap.py [BENCH_VAULT]   (default build/bench/bench_vault)

The wall-clock unwrap figure of bench_vault moves with the load of a shared
machine; valgrind's instruction counts repeat exactly. This runs
`bench_vault --ir-loop MODE N` under `valgrind --tool=callgrind` for N = 50
and N = 150 and takes the difference over 100 operations, so process set-up
cancels out:
  - derive: EVP_PKEY_derive on a P-256 context made once (what
    `openssl speed ecdhp256` times);
  - unwrap: hre_vault_opener_new + hre_vault_opener_free on a base-mode wrap.
It prints one JSON document (the bench/README.md schema).

Valgrind runs the portable code paths of libcrypto: it offers no SHA
extensions and no AVX-512 to the program, so SHA-256 compressions (the HMACs
of the HPKE key schedule) weigh more here than on hardware that has them.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

N1, N2 = 50, 150


def instructions(exe, mode, n):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                        exe, "--ir-loop", mode, str(n)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            for line in f:
                m = re.match(r"(?:summary|totals):\s+(\d+)", line)
                if m:
                    return int(m.group(1))
    raise SystemExit(f"no instruction total in the callgrind output of {mode} {n}")


def main():
    exe = sys.argv[1] if len(sys.argv) > 1 else "build/bench/bench_vault"
    per_op = {}
    for mode in ("derive", "unwrap"):
        per_op[mode] = (instructions(exe, mode, N2) - instructions(exe, mode, N1)) / (N2 - N1)
    doc = {
        "bench": "vault_unwrap_instructions",
        "libhre": os.path.realpath(exe),
        "config": {
            "tool": "valgrind --tool=callgrind",
            "operations": [N1, N2],
            "per_op": "difference of the two runs over %d operations" % (N2 - N1),
        },
        "results": {
            "openssl_evp_derive_p256_instructions_per_op_count": round(per_op["derive"]),
            "unwrap_base_instructions_per_op_count": round(per_op["unwrap"]),
            "ratio_unwrap_vs_openssl_derive": round(per_op["derive"] / per_op["unwrap"], 3),
            "bar_unwrap_ratio": 0.9,
        },
    }
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
