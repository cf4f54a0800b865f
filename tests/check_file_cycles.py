#!/usr/bin/env python3
"""Fail when the .c files of one library directory depend on each other in a
cycle. usage: check_file_cycles.py DIR [DIR ...]

File A depends on file B when A names a function that B defines (a call or
a reference, e.g. in a table of handlers). Definitions are the hre_*
functions defined at column 0 in the file (with or without HRE_API), and the
builders that payload.c generates with DEFINE_BUILDER(name, ...). Comments
and string literals are ignored. Prints each file's dependencies."""
import os
import re
import sys

DEF = re.compile(r'^(?:HRE_API\s+)?(?:static\s+)?(?:const\s+)?[A-Za-z_][\w\s\*]*?\b(hre_\w+)\s*\([^;]*$', re.M)
BUILDER = re.compile(r'^DEFINE_BUILDER\((\w+)', re.M)
TOKEN = re.compile(r'\bhre_\w+\b')
STRIP = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', re.S)


def check(d):
    files = sorted(f for f in os.listdir(d) if f.endswith('.c'))
    text = {f: STRIP.sub(' ', open(os.path.join(d, f), encoding='utf-8').read()) for f in files}
    owner = {}
    for f in files:
        for name in DEF.findall(text[f]):
            owner.setdefault(name, f)
        for name in BUILDER.findall(text[f]):
            owner.setdefault('hre_contract_build_' + name, f)
    edges = {f: sorted({owner[t] for t in TOKEN.findall(text[f]) if owner.get(t, f) != f}) for f in files}
    for f in files:
        print(f'{d}/{f} -> {", ".join(edges[f]) or "-"}')
    state = {}

    def dfs(f, stack):
        state[f] = 1
        stack.append(f)
        for g in edges[f]:
            if state.get(g) == 1:
                return stack[stack.index(g):] + [g]
            if g not in state:
                cyc = dfs(g, stack)
                if cyc:
                    return cyc
        state[f] = 2
        stack.pop()
        return None

    for f in files:
        if f not in state:
            cyc = dfs(f, [])
            if cyc:
                print(f'{d}: file-level cycle: {" -> ".join(cyc)}')
                return False
    print(f'{d}: no file-level cycle among {len(files)} files')
    return True


ok = all([check(d) for d in sys.argv[1:]])
sys.exit(0 if ok and len(sys.argv) > 1 else 1)
