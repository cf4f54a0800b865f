#!/usr/bin/env python3
"""A stand-in for `openssl speed -mr` in the bench JSON test (suite 'bench'):
prints the machine-readable lines the harness parses, with fixed figures, so
the test checks the runner's arguments and parsing and the reference and
ratio fields without spending seconds per run. Figures scale with -multi N.

    ecdsap256          +F4:idx:256:40000*N:20000*N   (sign/s, verify/s)
    ecdh*              +F5:idx:256:10000*N:0.0001    (ops/s)
    -bytes B ... ALG   +H:B  +F:idx:ALG:5e8*N        (bytes/s)
Anything else: exit status 1.
"""
import sys

args = sys.argv[1:]
if not args or args[0] != "speed" or "-mr" not in args or "-seconds" not in args:
    sys.exit(1)
multi = int(args[args.index("-multi") + 1]) if "-multi" in args else 1
alg = args[-1]
if alg == "ecdsap256":
    print(f"+F4:3:256:{40000.0 * multi:f}:{20000.0 * multi:f}")
elif alg.startswith("ecdh"):
    print(f"+F5:3:256:{10000.0 * multi:f}:0.000100")
elif "-bytes" in args:
    print(f"+H:{args[args.index('-bytes') + 1]}")
    print(f"+F:25:{alg.upper()}:{5e8 * multi:.2f}")
else:
    sys.exit(1)
