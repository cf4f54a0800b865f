#!/usr/bin/env python3
"""Compile and run every C snippet of README.md against the built library.

usage: readme_snippets.py README.md INCLUDE_DIR LIBHRE_SO WORK_DIR CC [CFLAG...]

Every ```c fenced block in the README must be a complete program: it is
written to WORK_DIR, compiled as pedantic C99 with -Wall -Wextra -Werror
against INCLUDE_DIR, linked with LIBHRE_SO, and run; it must exit 0. A README
without any C block fails too, so the check cannot pass vacuously. This keeps
the documentation from rotting when the API changes.
"""
import os
import re
import subprocess
import sys


def main():
    if len(sys.argv) < 6:
        sys.stderr.write(__doc__)
        return 2
    readme, incdir, lib, work, cc = sys.argv[1:6]
    extra = sys.argv[6:]
    text = open(readme, encoding="utf-8").read()
    blocks = re.findall(r"^```c[ \t]*\n(.*?)^```[ \t]*$", text, flags=re.M | re.S)
    if not blocks:
        print("FAIL: no ```c block in %s" % readme)
        return 1
    os.makedirs(work, exist_ok=True)
    libdir = os.path.dirname(os.path.abspath(lib))
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = libdir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    failed = 0
    for i, code in enumerate(blocks, 1):
        src = os.path.join(work, "readme_snippet_%d.c" % i)
        exe = os.path.join(work, "readme_snippet_%d" % i)
        with open(src, "w", encoding="utf-8") as f:
            f.write(code)
        cmd = cc.split() + extra + ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror",
                                    "-I", incdir, "-o", exe, src, os.path.abspath(lib),
                                    "-Wl,-rpath," + libdir]
        print("snippet %d (%d lines): %s" % (i, code.count("\n"), " ".join(cmd)))
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL: README.md C block %d does not compile:\n%s%s" % (i, r.stdout, r.stderr))
            failed += 1
            continue
        r = subprocess.run([exe], capture_output=True, text=True, env=env, timeout=60)
        sys.stdout.write(r.stdout)
        sys.stdout.write(r.stderr)
        if r.returncode != 0:
            print("FAIL: README.md C block %d exited with %d" % (i, r.returncode))
            failed += 1
    print("%d of %d README C blocks compiled and ran" % (len(blocks) - failed, len(blocks)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
