#!/usr/bin/env python3
"""Generate debian/libhre1.symbols from the version script lib/libhre.map.

  debian/gen-symbols.py            print the symbols file
  debian/gen-symbols.py --write    write debian/libhre1.symbols
  debian/gen-symbols.py --check    exit 1 (with a diff) if the committed file
                                   differs from the generated one

Every symbol of the version script is listed with its version node
(name@HRE_1.x), plus each node's own definition symbol (HRE_1.x@HRE_1.x), as
dpkg-gensymbols reports them. The minimal version of a node's symbols is the
node's version (HRE_1.1 -> 1.1.0), but never above the upstream version of
the package (meson.build project version): a node first shipped in an
earlier upstream version than its name says gets that version, so that the
dependencies dpkg-shlibdeps computes can be satisfied by this very package.
Once a version has been released its minimal versions must not change: new
symbols only ever go into new nodes, which this script maps on their own.
debian/rules builds with DPKG_GENSYMBOLS_CHECK_LEVEL=4, so any difference
between this file and what the library exports fails the package build.
"""
import difflib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
MAP = os.path.join(SRC, 'lib', 'libhre.map')
OUT = os.path.join(HERE, 'libhre1.symbols')


def vtuple(v):
    return tuple(int(x) for x in v.split('.'))


def project_version():
    with open(os.path.join(SRC, 'meson.build'), encoding='utf-8') as f:
        m = re.search(r"project\([^)]*?version:\s*'([0-9.]+)'", f.read(), re.S)
    if not m:
        sys.exit('gen-symbols: no project version in meson.build')
    return m.group(1)


def parse_map(text):
    """[(node, [symbols])] in file order; local: entries are skipped."""
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'#[^\n]*', ' ', text)
    nodes = []
    for m in re.finditer(r'([A-Za-z_][A-Za-z0-9_.]*)\s*\{(.*?)\}\s*([A-Za-z0-9_.]*)\s*;',
                         text, re.S):
        name, body = m.group(1), m.group(2)
        syms = []
        section = 'global'
        for tok in re.split(r';', body):
            tok = tok.strip()
            if not tok:
                continue
            sm = re.match(r'(global|local)\s*:\s*(.*)', tok, re.S)
            if sm:
                section, tok = sm.group(1), sm.group(2).strip()
                if not tok:
                    continue
            if section == 'global':
                if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', tok):
                    sys.exit(f'gen-symbols: {name}: unsupported entry {tok!r} (no wildcards)')
                syms.append(tok)
        nodes.append((name, syms))
    if not nodes:
        sys.exit('gen-symbols: no version nodes in lib/libhre.map')
    return nodes


def generate():
    with open(MAP, encoding='utf-8') as f:
        nodes = parse_map(f.read())
    pv = project_version()
    lines = [
        '# Generated from lib/libhre.map by debian/gen-symbols.py: do not edit.',
        '# debian/gen-symbols.py --write regenerates it; the test debian_symbols',
        '# checks that it is current.',
        'libhre.so.1 libhre1 #MINVER#',
        '* Build-Depends-Package: libhre-dev',
    ]
    seen = set()
    for node, syms in nodes:
        nm = re.fullmatch(r'HRE_([0-9]+)\.([0-9]+)', node)
        if not nm:
            sys.exit(f'gen-symbols: unexpected version node {node}')
        nv = f'{nm.group(1)}.{nm.group(2)}.0'
        minver = nv if vtuple(nv) <= vtuple(pv) else pv
        entries = [f'{node}@{node}'] + [f'{s}@{node}' for s in syms]
        for s in syms:
            if s in seen:
                sys.exit(f'gen-symbols: {s} is in two version nodes')
            seen.add(s)
        for e in sorted(entries):
            lines.append(f' {e} {minver}')
    return '\n'.join(lines) + '\n'


def main():
    text = generate()
    if '--write' in sys.argv:
        with open(OUT, 'w', encoding='utf-8') as f:
            f.write(text)
        return 0
    if '--check' in sys.argv:
        try:
            with open(OUT, encoding='utf-8') as f:
                have = f.read()
        except OSError as e:
            print(f'gen-symbols: {e}')
            return 1
        if have != text:
            sys.stdout.writelines(difflib.unified_diff(
                have.splitlines(True), text.splitlines(True),
                'debian/libhre1.symbols (committed)', 'generated from lib/libhre.map'))
            print('debian/libhre1.symbols is stale: run debian/gen-symbols.py --write')
            return 1
        print(f'debian/libhre1.symbols matches lib/libhre.map ({len(text.splitlines()) - 5} entries)')
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
