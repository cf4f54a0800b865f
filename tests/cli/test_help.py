"""hre: --help of every command, the usage errors, and the man pages made
from the command tables (they must pass groff's warnings)."""
import shutil
import subprocess
import sys

from clitest import run

rc, out, _ = run("--help", check=0)
assert out.startswith("usage: hre COMMAND"), out
rc, out, _ = run("--version", check=0)
assert out.startswith("hre "), out
run(check=2)                          # no command
rc, _, err = run("no-such-command", check=2)
assert "not a command" in err, err

_, cmds, _ = run("help", "--commands", check=0)
cmds = [c for c in cmds.splitlines() if c]
for cmd in cmds:
    words = cmd.split(" ")
    rc, out, err = run(*words, "--help", check=0)
    assert out.startswith("usage: hre " + cmd), (cmd, out)
    assert "options:" in out and "--json" in out, (cmd, out)
    rc, out, err = run(*words, "--no-such-option", check=2)
    assert "unknown option" in err, (cmd, err)
    assert out == "", (cmd, out)
    # `hre help CMD` is the same text
    _, out2, _ = run("help", *words, check=0)
    rc, out, _ = run(*words, "--help", check=0)
    assert out == out2, cmd
    # a group word alone lists its subcommands (exit 2)
    if len(words) == 2:
        rc, _, err = run(words[0], check=2)
        assert "hre " + cmd in err, (cmd, err)

_, groups, _ = run("help", "--groups", check=0)
groups = [g for g in groups.splitlines() if g]
assert sorted(set(groups)) == sorted(groups), groups
assert set(groups) == {c.split(" ")[0] for c in cmds}, (groups, cmds)

groff = shutil.which("groff")
pages = [None] + groups
for g in pages:
    args = ["help", "--man"] + ([g] if g else [])
    _, page, _ = run(*args, check=0)
    assert page.startswith(".\\\""), page[:80]
    assert ".TH HRE" in page and ".SH NAME" in page and ".SH SYNOPSIS" in page, g
    if g:
        for c in cmds:
            if c.split(" ")[0] == g:
                assert ("hre " + c.replace("-", "\\-")) in page, (g, c)
    if groff:
        p = subprocess.run([groff, "-ww", "-man", "-z"], input=page, capture_output=True,
                           text=True)
        assert p.returncode == 0 and p.stderr == "", (g, p.stderr)
run("help", "--man", "no-such-group", check=2)
print("help: %d commands, %d groups, %d man pages checked%s" % (
    len(cmds), len(groups), len(pages), "" if groff else " (no groff: roff not linted)"))
