#!/usr/bin/env python3
"""Check the hre tool's man pages as the build made them.

Usage: check_tool_man.py HRE --groups G1,G2,... -- PAGE...

- the group list kept in docs/meson.build (--groups) must equal, in order,
  what `hre help --groups` prints, so a new command group fails this test
  until it is listed there (and so gets its hre-GROUP(1) page installed);
- the pages given are exactly hre.1 and hre-GROUP.1 for those groups, and each
  equals what `hre help --man [GROUP]` prints now;
- every page is clean under `groff -ww -man -z`.
Exits 77 (skipped) when groff is not installed.
"""
import os
import shutil
import subprocess
import sys


def main():
    argv = sys.argv[1:]
    if len(argv) < 4 or argv[1] != '--groups' or argv[3] != '--':
        print(__doc__)
        return 2
    hre, groups, pages = argv[0], [g for g in argv[2].split(',') if g], argv[4:]
    errors = []
    r = subprocess.run([hre, 'help', '--groups'], capture_output=True, text=True)
    if r.returncode != 0:
        errors.append(f'hre help --groups exited {r.returncode}: {r.stderr.strip()}')
    tool_groups = r.stdout.split()
    if tool_groups != groups:
        errors.append('docs/meson.build hre_man_groups ' + ','.join(groups) +
                      ' != hre help --groups ' + ','.join(tool_groups) +
                      ' (add the new group to hre_man_groups in docs/meson.build)')
    want = {'hre.1': None}
    want.update({f'hre-{g}.1': g for g in groups})
    got = {os.path.basename(p): p for p in pages}
    if sorted(got) != sorted(want):
        errors.append(f'pages built {sorted(got)} != expected {sorted(want)}')
    if shutil.which('groff') is None:
        print('groff not installed: skipped')
        return 77
    for name, path in sorted(got.items()):
        group = want.get(name)
        cmd = [hre, 'help', '--man'] + ([group] if group else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        with open(path, encoding='utf-8') as f:
            built = f.read()
        if r.returncode != 0 or r.stdout != built:
            errors.append(f'{name}: differs from `{" ".join(cmd[1:])}` (rc {r.returncode})')
        if '.TH ' not in built or '.SH NAME' not in built:
            errors.append(f'{name}: no .TH / .SH NAME')
        g = subprocess.run(['groff', '-ww', '-man', '-z', '-Tutf8', path],
                           capture_output=True, text=True)
        if g.returncode != 0 or g.stderr.strip():
            errors.append(f'{name}: groff -ww: {g.stderr.strip() or g.returncode}')
    for e in errors:
        print('FAIL: ' + e)
    print(f'{len(got)} tool pages, groups {",".join(tool_groups)}: {len(errors)} problems')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
