#!/usr/bin/env python3
"""Check the library's man pages (docs/man/*.3) against the public headers.

Every function declared with HRE_API in a module's headers must be named in
that module's page (in bold, as roff .B/.BR or \\fB...\\fP), so a page cannot
fall behind its headers; every public header must belong to exactly one page;
and every page must be clean under `groff -ww -man -z` (exit 77, skipped,
when groff is not installed and everything else passed).

Usage: check_man.py SRCDIR [--list]   (--list prints header: functions)
"""
import os
import re
import shutil
import subprocess
import sys

# Which page documents which headers (relative to include/hre). A new header
# must be added here, or the check fails.
PAGES = {
    'libhre.3': ['hre.h', 'version.h'],
    'libhre-core.3': ['common.h', 'errors.h'],
    'libhre-crypto.3': ['hash.h', 'key.h', 'aead.h', 'hpke.h'],
    'libhre-chain.3': ['block.h', 'merkle.h', 'pow.h', 'network.h'],
    'libhre-tx.3': ['tx.h', 'proof.h'],
    'libhre-contract.3': ['contract.h'],
    'libhre-storage.3': ['storage.h', 'sys/storage.h', 'sys/powerloss.h'],
    'libhre-ledger.3': ['ledger.h'],
    'libhre-node.3': ['node.h', 'sys/transport.h', 'sys/hub.h'],
    'libhre-vault.3': ['vault.h'],
    'libhre-pool.3': ['pool.h'],
}


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def api_functions(path):
    """Names of the functions an HRE_API declaration in path declares."""
    with open(path, encoding='utf-8') as f:
        text = strip_comments(f.read())
    names = []
    for m in re.finditer(r'\bHRE_API\b([^;{]*)', text):
        decl = m.group(1)
        if decl.strip().startswith(('__', 'HRE_API')) or '(' not in decl:
            continue  # the macro's own definition, or a data export
        # the identifier right before the first '(' that is not a
        # function-pointer declarator "(*"
        fm = re.search(r'([A-Za-z_][A-Za-z0-9_]*)\s*\(', decl)
        if fm:
            names.append(fm.group(1))
    return names


def bold_names(page_text):
    names = set()
    for line in page_text.splitlines():
        if line.startswith(('.B ', '.BR ', '.BI ', '.BI')):
            for w in re.findall(r'[A-Za-z_][A-Za-z0-9_]*', line.split(' ', 1)[1] if ' ' in line else ''):
                names.add(w)
    for m in re.finditer(r'\\fB(.*?)\\f[PR]', page_text):
        names.update(re.findall(r'[A-Za-z_][A-Za-z0-9_]*', m.group(1)))
    return names


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    src = sys.argv[1]
    inc = os.path.join(src, 'include', 'hre')
    man = os.path.join(src, 'docs', 'man')
    headers = sorted(
        [h for h in os.listdir(inc) if h.endswith('.h')] +
        ['sys/' + h for h in os.listdir(os.path.join(inc, 'sys')) if h.endswith('.h')])
    if '--list' in sys.argv:
        for h in headers:
            print(h + ': ' + ' '.join(api_functions(os.path.join(inc, h))))
        return 0
    errors = []
    owner = {}
    for page, hs in PAGES.items():
        for h in hs:
            if h in owner:
                errors.append(f'{h}: in two pages ({owner[h]}, {page})')
            owner[h] = page
    for h in headers:
        if h not in owner:
            errors.append(f'include/hre/{h}: no man page documents it '
                          '(add it to PAGES in docs/man/check_man.py and to a page)')
    for h in owner:
        if h not in headers:
            errors.append(f'{owner[h]}: lists include/hre/{h}, which does not exist')
    pages_on_disk = sorted(p for p in os.listdir(man) if re.match(r'.*\.3$', p))
    for p in pages_on_disk:
        if p not in PAGES:
            errors.append(f'docs/man/{p}: not in PAGES')
    have_groff = shutil.which('groff') is not None
    total = 0
    for page, hs in PAGES.items():
        path = os.path.join(man, page)
        if not os.path.exists(path):
            errors.append(f'docs/man/{page}: missing')
            continue
        with open(path, encoding='utf-8') as f:
            text = f.read()
        named = bold_names(text)
        for h in hs:
            if h not in headers:
                continue
            # the page names its headers in its SYNOPSIS
            if f'<hre/{h}>' not in text:
                errors.append(f'docs/man/{page}: does not show #include <hre/{h}>')
            for fn in api_functions(os.path.join(inc, h)):
                total += 1
                if fn not in named:
                    errors.append(f'docs/man/{page}: {fn} (include/hre/{h}) is not named in bold')
        if not have_groff:
            continue
        r = subprocess.run(['groff', '-ww', '-man', '-z', '-Tutf8', path],
                           capture_output=True, text=True)
        if r.returncode != 0 or r.stderr.strip():
            errors.append(f'docs/man/{page}: groff -ww: {r.stderr.strip() or r.returncode}')
    for e in errors:
        print('FAIL: ' + e)
    print(f'{len(PAGES)} pages, {total} HRE_API functions checked, {len(errors)} problems')
    if errors:
        return 1
    if not have_groff:
        print('groff not installed: the groff -ww check was skipped')
        return 77
    return 0


if __name__ == '__main__':
    sys.exit(main())
