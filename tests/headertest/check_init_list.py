#!/usr/bin/env python3
"""Fail if include/hre defines an HRE_*_INIT macro that init_macros.c does
not instantiate (so a new initializer is compiled and checked too).
usage: check_init_list.py INCLUDE_DIR INIT_MACROS_C"""
import pathlib
import re
import sys

inc, src = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]).read_text()
defined = set()
for h in sorted(inc.glob("hre/**/*.h")):
    defined |= set(re.findall(r"#define (HRE_[A-Z0-9_]*_INIT)\b", h.read_text()))
used = set(re.findall(r"= (HRE_[A-Z0-9_]*_INIT);", src))
missing = sorted(defined - used)
for m in missing:
    print(f"FAIL: {m} is not instantiated in init_macros.c")
print(f"init macros: {len(defined)} defined, {len(used)} instantiated")
sys.exit(1 if missing or not defined else 0)
