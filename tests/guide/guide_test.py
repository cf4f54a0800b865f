#!/usr/bin/env python3
"""Build and run the code snippets of docs/GUIDE.md.

The guide marks every snippet that is code with an HTML comment naming the
program it belongs to, on the line before its fence:

    <!-- guide: scenario.c -->
    ```c
    ...
    ```

The blocks of one program are concatenated in the order they appear, with
the optional hidden parts tests/guide/<program>.pre and .post before and
after them. Expected output lines are HTML comments too:

    <!-- guide-expect: scenario.c: RecordSigned -->

(each text must appear in the program's standard output). A ```c or
```python block without a marker is an error: code that is not meant to
compile is fenced ```text. C programs are compiled with the project's
warning flags and -Werror against the built libhre and run in a temporary
directory; Python programs run with the bindings on PYTHONPATH and
HRE_LIBRARY set. Exit status 0 only if every selected program built, exited
with 0 and printed every expected line.

Usage:
  guide_test.py --guide docs/GUIDE.md --list
  guide_test.py --guide G --program NAME [--cc CC...] [--cflag F]... [--include DIR]
                [--lib PATH] [--python PY] [--bindings DIR] [--hidden DIR]
  guide_test.py --guide G --inventory NAME [NAME...] [--root SRC]
                (the guide's programs are exactly these; with --root, every hre_* /
                HRE_* name in the prose is in the public headers and every path exists)
  guide_test.py --selftest --cc CC... [--include DIR] [--lib PATH]
                (a broken snippet, a missing expected line and an unmarked block fail)
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

MARK = re.compile(r"^<!--\s*guide:\s*([A-Za-z0-9_.-]+)\s*-->\s*$")
EXPECT = re.compile(r"^<!--\s*guide-expect:\s*([A-Za-z0-9_.-]+):\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(```+|~~~+)\s*([A-Za-z0-9_+-]*)\s*$")
CODE_LANGS = {"c": ".c", "python": ".py"}

WARN_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes",
              "-Wmissing-prototypes", "-Wvla", "-Wformat=2",
              "-D_POSIX_C_SOURCE=200809L", "-D_DEFAULT_SOURCE"]


class GuideError(Exception):
    pass


def parse(path):
    """Returns ({program: [(line, lang, text)]}, {program: [expected]})."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    progs, expects, errors = {}, {}, []
    pending = None   # (program, line) of a marker waiting for its block
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARK.match(line)
        e = EXPECT.match(line)
        f = FENCE.match(line)
        if m:
            if pending:
                errors.append(f"{path}:{pending[1]}: marker for {pending[0]} has no code block")
            pending = (m.group(1), i + 1)
        elif e:
            expects.setdefault(e.group(1), []).append(e.group(2))
        elif f:
            fence, lang = f.group(1), f.group(2).lower()
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and not (lines[i].startswith(fence[0] * len(fence))
                                          and lines[i].strip() == fence[0] * len(lines[i].strip())):
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise GuideError(f"{path}:{start}: unterminated code block")
            if pending:
                name = pending[0]
                want = os.path.splitext(name)[1]
                if CODE_LANGS.get(lang) != want:
                    errors.append(f"{path}:{start}: block for {name} is fenced '{lang}', "
                                  f"expected {'c' if want == '.c' else 'python'}")
                progs.setdefault(name, []).append((start, lang, "\n".join(body)))
                pending = None
            elif lang in CODE_LANGS:
                errors.append(f"{path}:{start}: ```{lang} block without a <!-- guide: NAME --> "
                              "marker (fence code that is not meant to run as ```text)")
        elif pending and line.strip():
            errors.append(f"{path}:{pending[1]}: marker for {pending[0]} is not followed by a code block")
            pending = None
        i += 1
    if pending:
        errors.append(f"{path}:{pending[1]}: marker for {pending[0]} has no code block")
    for name in expects:
        if name not in progs:
            errors.append(f"{path}: expected output for {name}, which has no code")
    if errors:
        raise GuideError("\n".join(errors))
    return progs, expects


# Names in the prose that are not library identifiers.
NOT_API = {"HRE_LIBRARY"}   # the bindings' environment variable


def check_prose(path, root):
    """Every hre_* / HRE_* name the prose (outside code blocks) mentions must
    exist in the public headers under root/include/hre (a name followed by
    `*` or `<`, or ending in `_`, is a prefix), and every repository path in
    backticks must exist under root. Code blocks are checked by compiling."""
    import glob
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # blank the code blocks out, keeping the line numbers
    prose = re.sub(r"^(```+|~~~+).*?^\1\s*$", lambda m: "\n" * m.group(0).count("\n"), text,
                   flags=re.S | re.M)
    headers = sorted(glob.glob(os.path.join(root, "include", "hre", "*.h")) +
                     glob.glob(os.path.join(root, "include", "hre", "sys", "*.h")))
    if not headers:
        raise GuideError(f"no headers under {root}/include/hre")
    names = set()
    for h in headers:
        with open(h, encoding="utf-8") as f:
            names.update(re.findall(r"\b(?:hre|HRE)_[A-Za-z0-9_]*", f.read()))
    errors = []
    for m in re.finditer(r"(?<![/A-Za-z0-9_.])((?:hre|HRE)_[A-Za-z0-9_]*)(\*|<|\.(?:c|h|py)\b)?", prose):
        tok, after = m.group(1), m.group(2) or ""
        if tok in NOT_API or after.startswith("."):
            continue
        if after in ("*", "<") or tok.endswith("_"):
            ok = any(n.startswith(tok) for n in names)
        else:
            ok = tok in names
        if not ok:
            line = prose.count("\n", 0, m.start()) + 1
            errors.append(f"{path}:{line}: prose names {tok}{after}, which no public header "
                          "declares")
    for p in sorted(set(re.findall(r"`((?:examples|include|docs|tests|bindings|lib|tools)/"
                                   r"[A-Za-z0-9_./-]*[A-Za-z0-9_])`", text))):
        if not os.path.exists(os.path.join(root, p)):
            errors.append(f"{path}: names {p}, which does not exist")
    if errors:
        raise GuideError("\n".join(sorted(set(errors))))


def assemble(name, blocks, hidden_dir, guide):
    parts = []
    c = name.endswith(".c")
    pre = os.path.join(hidden_dir, name + ".pre") if hidden_dir else None
    post = os.path.join(hidden_dir, name + ".post") if hidden_dir else None
    if pre and os.path.exists(pre):
        with open(pre, encoding="utf-8") as f:
            parts.append(f.read())
    for line, _lang, text in blocks:
        if c:
            # errors point into the guide
            parts.append(f'#line {line + 1} "{guide}"\n{text}\n')
        else:
            parts.append(text + "\n")
    if post and os.path.exists(post):
        with open(post, encoding="utf-8") as f:
            parts.append(f.read())
    return "".join(parts)


def run_program(name, source, expects, args, workdir):
    src = os.path.join(workdir, name)
    with open(src, "w", encoding="utf-8") as f:
        f.write(source)
    rundir = os.path.join(workdir, "run-" + name.replace(".", "-"))
    os.mkdir(rundir)
    env = dict(os.environ)
    if name.endswith(".c"):
        if not args.cc:
            raise GuideError("--cc is needed for C programs")
        exe = os.path.join(workdir, name[:-2])
        libdir = os.path.dirname(os.path.abspath(args.lib))
        cmd = (args.cc + WARN_FLAGS + args.cflag + ["-I", os.path.abspath(args.include), "-o", exe, src,
               os.path.abspath(args.lib), "-Wl,-rpath," + libdir])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stdout.write(r.stdout + r.stderr)
            raise GuideError(f"{name}: does not compile ({' '.join(cmd)})")
        run = [exe]
        # in a sanitizer build, undefined behaviour fails the program
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    else:
        env["HRE_LIBRARY"] = os.path.abspath(args.lib)
        env["PYTHONPATH"] = os.path.abspath(args.bindings) + (os.pathsep + env["PYTHONPATH"]
                                             if env.get("PYTHONPATH") else "")
        run = [args.python, src]
    try:
        r = subprocess.run(run, cwd=rundir, env=env, capture_output=True, text=True,
                           timeout=args.timeout)
    except subprocess.TimeoutExpired:
        raise GuideError(f"{name}: timed out after {args.timeout} s")
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    if r.returncode != 0:
        raise GuideError(f"{name}: exit status {r.returncode}")
    missing = [e for e in expects if e not in r.stdout]
    if missing:
        raise GuideError(f"{name}: expected output missing: " + "; ".join(repr(m) for m in missing))
    print(f"guide: {name}: built, ran, {len(expects)} expected line(s) found")


def selftest(args):
    """The checker must fail on a broken snippet, a missing expected line,
    an unmarked block, and pass on a good one."""
    good = ("# t\n<!-- guide: ok.c -->\n```c\n#include <hre/hre.h>\n#include <stdio.h>\n```\n"
            "text\n<!-- guide: ok.c -->\n```c\nint main(void)\n{\n"
            "    printf(\"libhre %s\\n\", hre_version_string());\n    return 0;\n}\n```\n"
            "<!-- guide-expect: ok.c: libhre -->\n")
    cases = [
        ("good", good, True),
        ("compile error", good.replace("return 0;", "return 0"), False),
        ("warning is an error", good.replace("return 0;", "int unused; return 0;"), False),
        ("missing output", good.replace("ok.c: libhre", "ok.c: no such line"), False),
        ("nonzero exit", good.replace("return 0;", "return 3;"), False),
        ("unmarked block", good + "```c\nint x;\n```\n", False),
        ("marker without block", good + "<!-- guide: lost.c -->\nprose\n", False),
    ]
    failures = 0
    root = os.path.dirname(os.path.abspath(args.include))
    with tempfile.TemporaryDirectory(prefix="hre-guide-self-") as tmp:
        for what, text, ok in [
                ("prose names real API", "Call `hre_ledger_open`, `HRE_NODE_EVENT_*`, "
                 "`hre_contract_build_<kind>`; see `examples/hre_demo.c`.\n", True),
                ("prose names a missing function", "Call `hre_ledger_frobnicate`.\n", False),
                ("prose names a missing file", "See `examples/no_such_file.c`.\n", False)]:
            md = os.path.join(tmp, "prose.md")
            with open(md, "w", encoding="utf-8") as f:
                f.write(text)
            try:
                check_prose(md, root)
                got = True
            except GuideError as e:
                got = False
                print(f"selftest {what}: failed: {e}")
            if got != ok:
                print(f"selftest FAIL: case '{what}' {'passed' if got else 'failed'}")
                failures += 1
            else:
                print(f"selftest ok: {what}")
        for i, (what, text, ok) in enumerate(cases):
            md = os.path.join(tmp, f"case{i}.md")
            with open(md, "w", encoding="utf-8") as f:
                f.write(text)
            work = os.path.join(tmp, f"w{i}")
            os.mkdir(work)
            try:
                progs, expects = parse(md)
                for name, blocks in progs.items():
                    run_program(name, assemble(name, blocks, None, md), expects.get(name, []),
                                args, work)
                got = True
            except GuideError as e:
                got = False
                print(f"selftest {what}: failed as {'expected' if not ok else 'NOT expected'}: "
                      f"{str(e).splitlines()[0]}")
            if got != ok:
                print(f"selftest FAIL: case '{what}' {'passed' if got else 'failed'}")
                failures += 1
            else:
                print(f"selftest ok: {what}")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--guide")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--program", action="append", default=[])
    ap.add_argument("--inventory", nargs="+")
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--cc", nargs="+", help="the C compiler command (last option group)")
    ap.add_argument("--cflag", action="append", default=[])
    ap.add_argument("--include", default="include")
    ap.add_argument("--lib", default="build/libhre.so")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--bindings", default="bindings/python")
    ap.add_argument("--hidden")
    ap.add_argument("--root", help="with --inventory: the source tree, to check the prose's "
                    "API names against include/hre and its paths")
    ap.add_argument("--timeout", type=int, default=240)
    args = ap.parse_args()
    try:
        if args.selftest:
            return selftest(args)
        progs, expects = parse(args.guide)
        if args.list:
            for name, blocks in progs.items():
                print(f"{name}: {len(blocks)} block(s), {len(expects.get(name, []))} expected line(s)")
            return 0
        if args.inventory:
            if args.root:
                check_prose(args.guide, args.root)
            have, want = set(progs), set(args.inventory)
            if have != want:
                raise GuideError(f"the guide's programs {sorted(have)} are not the tested ones "
                                 f"{sorted(want)} (register new programs in tests/guide/meson.build)")
            print(f"guide: {len(have)} programs, all registered: {', '.join(sorted(have))}")
            return 0
        if not args.program:
            raise GuideError("nothing to do: --list, --program, --inventory or --selftest")
        with tempfile.TemporaryDirectory(prefix="hre-guide-") as tmp:
            for name in args.program:
                if name not in progs:
                    raise GuideError(f"{args.guide}: no program {name}")
                run_program(name, assemble(name, progs[name], args.hidden, args.guide),
                            expects.get(name, []), args, tmp)
    except GuideError as e:
        print(f"guide_test: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
