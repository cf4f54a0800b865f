"""hre key new / show / export / import: PKCS#8 PEM files, passphrases from
file descriptors, mode 0600, no overwriting, public key files, and keys made
by `openssl genpkey` (when the openssl binary exists) checked against
openssl's own view of the public key."""
import json
import os
import shutil
import subprocess

from clitest import TOOL, pipe_with, run, run_json, run_pass, sha256_hex, tmpdir

d = tmpdir("hre-cli-keys-")


def path(name):
    return os.path.join(d, name)


def mode(p):
    return os.stat(p).st_mode & 0o777


def show(p, passphrase=None):
    if passphrase is None:
        return run_json("key", "show", "--key", p)
    return run_pass("key", "show", "--key", p, passphrase=passphrase, json_out=True)


# ---- key new ------------------------------------------------------------------------
k = run_pass("key", "new", "--out", path("a.pem"), passphrase="pass-a", json_out=True)
assert k["encrypted"] is True and k["private"] is True and k["curve"] == "P-256", k
assert k["id"] == sha256_hex(k["public_key"]) and k["public_key"].startswith("010"), k
assert mode(path("a.pem")) == 0o600
pem = open(path("a.pem")).read()
assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----") and "pass-a" not in pem
# the passphrase without a newline (EOF ends it) works too
k2 = run_pass("key", "new", "--out", path("b.pem"), passphrase="no-newline", json_out=True)
assert show(path("b.pem"), "no-newline")["id"] == k2["id"]
assert k2["id"] != k["id"]
# show: same id and public key, with the right passphrase only
s = show(path("a.pem"), "pass-a")
assert (s["id"], s["public_key"], s["private"], s["encrypted"]) == \
    (k["id"], k["public_key"], True, True), s
rc, out, err = run_pass("key", "show", "--key", path("a.pem"), passphrase="pass-b", check=6)
assert out == "" and "wrong passphrase" in err, err
rc, out, _ = run_pass("key", "show", "--key", path("a.pem"), passphrase="pass-a", check=0)
assert k["public_key"] in out and "encrypted" in out, out
# never overwrites
before = open(path("a.pem")).read()
rc, _, err = run_pass("key", "new", "--out", path("a.pem"), passphrase="x", check=1)
assert "exists" in err and open(path("a.pem")).read() == before, err
# no passphrase source and no terminal: refused unless --no-passphrase
p = subprocess.run([TOOL, "key", "new", "--out", path("c.pem")], capture_output=True, text=True,
                   start_new_session=True, stdin=subprocess.DEVNULL)
assert p.returncode == 2 and "--no-passphrase" in p.stderr, (p.returncode, p.stderr)
assert not os.path.exists(path("c.pem"))
# an empty passphrase is refused (5); --no-passphrase with a fd is a usage error
run_pass("key", "new", "--out", path("c.pem"), passphrase="\n", check=5)
rc, _, err = run_pass("key", "new", "--out", path("c.pem"), "--no-passphrase", passphrase="x",
                      check=2)
assert not os.path.exists(path("c.pem"))
c = run_json("key", "new", "--out", path("c.pem"), "--no-passphrase")
assert c["encrypted"] is False and mode(path("c.pem")) == 0o600
assert open(path("c.pem")).read().startswith("-----BEGIN PRIVATE KEY-----")
assert show(path("c.pem"))["id"] == c["id"]
run("key", "new", "--out", path("d.pem"), "--no-passphrase", "--curve", "ed448", check=2)

# ---- key export ---------------------------------------------------------------------
# re-encrypt: the old and the new passphrase on ONE descriptor, a line each
fd = pipe_with("pass-a\npass-new\n")
rc, out, err = run("key", "export", "--key", path("a.pem"), "--out", path("a2.pem"),
                   "--passphrase-fd", fd, "--new-passphrase-fd", fd, "--json", pass_fds=(fd,),
                   check=0)
os.close(fd)
e = json.loads(out)
assert e["id"] == k["id"] and e["encrypted"] is True and mode(path("a2.pem")) == 0o600, e
assert show(path("a2.pem"), "pass-new")["public_key"] == k["public_key"]
run_pass("key", "show", "--key", path("a2.pem"), passphrase="pass-a", check=6)
# in clear
fd = pipe_with("pass-a\n")
rc, out, _ = run("key", "export", "--key", path("a.pem"), "--out", path("a-clear.pem"),
                 "--no-passphrase", "--passphrase-fd", fd, "--json", pass_fds=(fd,), check=0)
os.close(fd)
assert json.loads(out)["encrypted"] is False
assert open(path("a-clear.pem")).read().startswith("-----BEGIN PRIVATE KEY-----")
assert show(path("a-clear.pem"))["public_key"] == k["public_key"]
assert mode(path("a-clear.pem")) == 0o600
# the public key only: 68 hex digits and a newline; key show reads it
pub = run_pass("key", "export", "--key", path("a.pem"), "--out", path("a.pub"), "--public",
               passphrase="pass-a", json_out=True)
assert pub["private"] is False and pub["public_key"] == k["public_key"], pub
assert open(path("a.pub")).read() == k["public_key"] + "\n"
s = show(path("a.pub"))
assert s["id"] == k["id"] and s["private"] is False and "encrypted" not in s, s
rc, out, _ = run("key", "export", "--key", path("c.pem"), "--out", "-", "--public", check=0)
assert out == c["public_key"] + "\n", out
# no overwriting without --force; a private key never goes to stdout
run("key", "export", "--key", path("c.pem"), "--out", path("a.pub"), "--public", check=1)
assert open(path("a.pub")).read() == k["public_key"] + "\n"
run("key", "export", "--key", path("c.pem"), "--out", path("a.pub"), "--public", "--force",
    check=0)
assert open(path("a.pub")).read() == c["public_key"] + "\n"
run("key", "export", "--key", path("c.pem"), "--out", "-", "--no-passphrase", check=2)
run("key", "export", "--key", path("c.pem"), "--out", path("z.pem"), "--public",
    "--no-passphrase", check=2)
# wrong passphrase of the source: 6, nothing written
run_pass("key", "export", "--key", path("a.pem"), "--out", path("z.pub"), "--public",
         passphrase="nope", check=6)
assert not os.path.exists(path("z.pub"))
# a damaged public key file: 5
with open(path("bad.pub"), "w") as f:
    f.write("01" + "00" * 33 + "\n")
run("key", "show", "--key", path("bad.pub"), check=5)
with open(path("bad2.pub"), "w") as f:
    f.write("not hex at all\n")
run("key", "show", "--key", path("bad2.pub"), check=5)
run("key", "show", "--key", path("missing.pem"), check=3)

# --force writes a fresh file: a stale FILE.tmp with mode 0644 lends it neither its mode
# nor its content
with open(path("a-clear.pem.tmp"), "w") as f:
    f.write("stale")
os.chmod(path("a-clear.pem.tmp"), 0o644)
fd = pipe_with("pass-a\n")
run("key", "export", "--key", path("a.pem"), "--out", path("a-clear.pem"), "--no-passphrase",
    "--force", "--passphrase-fd", fd, pass_fds=(fd,), check=0)
os.close(fd)
assert mode(path("a-clear.pem")) == 0o600 and not os.path.exists(path("a-clear.pem.tmp"))
assert show(path("a-clear.pem"))["public_key"] == k["public_key"]

# ---- key import ---------------------------------------------------------------------
# hre's own clear export imports back under a passphrase
i = run_pass("key", "import", "--in", path("a-clear.pem"), "--out", path("a3.pem"),
             passphrase="pass-3", json_out=True)
assert i["public_key"] == k["public_key"] and i["encrypted"] is True, i
assert mode(path("a3.pem")) == 0o600
# an encrypted input needs its own passphrase (--in-passphrase-fd)
fd = pipe_with("pass-new\npass-4\n")
rc, out, err = run("key", "import", "--in", path("a2.pem"), "--out", path("a4.pem"),
                   "--in-passphrase-fd", fd, "--passphrase-fd", fd, "--json", pass_fds=(fd,),
                   check=0)
os.close(fd)
assert json.loads(out)["public_key"] == k["public_key"]
assert show(path("a4.pem"), "pass-4")["id"] == k["id"]
fd = pipe_with("wrong\n")
run("key", "import", "--in", path("a2.pem"), "--out", path("a5.pem"), "--in-passphrase-fd", fd,
    "--no-passphrase", pass_fds=(fd,), check=6)
os.close(fd)
assert not os.path.exists(path("a5.pem"))
with open(path("junk.pem"), "w") as f:
    f.write("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
run("key", "import", "--in", path("junk.pem"), "--out", path("j.pem"), "--no-passphrase", check=5)
run("key", "import", "--in", path("a-clear.pem"), "--out", path("a3.pem"), "--no-passphrase",
    check=1)

openssl = shutil.which("openssl")
checked = 0
if openssl:
    def ossl(*args, **kw):
        return subprocess.run([openssl, *args], capture_output=True, check=True, **kw).stdout

    def ossl_wire(pem_path, passin=None):
        """openssl's view of the public key: the compressed point, as 01 || point."""
        extra = ["-passin", "pass:" + passin] if passin else []
        der = ossl("pkey", "-in", pem_path, "-pubout", "-outform", "DER", *extra)
        # SubjectPublicKeyInfo of P-256: the uncompressed point is the last 65 bytes
        pt = der[-65:]
        assert pt[0] == 4
        x, y = pt[1:33], pt[33:]
        return "01" + ("03" if y[-1] & 1 else "02") + x.hex()

    ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
         path("o.pem"))
    j = run_pass("key", "import", "--in", path("o.pem"), "--out", path("o-hre.pem"),
                 passphrase="pass-o", json_out=True)
    assert j["public_key"] == ossl_wire(path("o.pem")), (j, ossl_wire(path("o.pem")))
    assert show(path("o-hre.pem"), "pass-o")["public_key"] == j["public_key"]
    # openssl reads hre's encrypted key and sees the same public key
    assert ossl_wire(path("o-hre.pem"), "pass-o") == j["public_key"]
    # an openssl-encrypted PKCS#8 (PBES2, AES-256-CBC)
    ossl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", path("o.pem"), "-out",
         path("o-enc.pem"), "-passout", "pass:ossl-pass")
    fd = pipe_with("ossl-pass\n")
    rc, out, _ = run("key", "import", "--in", path("o-enc.pem"), "--out", path("o2.pem"),
                     "--in-passphrase-fd", fd, "--no-passphrase", "--json", pass_fds=(fd,), check=0)
    os.close(fd)
    assert json.loads(out)["public_key"] == j["public_key"]
    # keys hre does not take: another algorithm and another curve are malformed input (5)
    ossl("genpkey", "-algorithm", "ed25519", "-out", path("ed.pem"))
    rc, _, err = run("key", "import", "--in", path("ed.pem"), "--out", path("ed-hre.pem"),
                     "--no-passphrase", check=5)
    ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out",
         path("p384.pem"))
    run("key", "import", "--in", path("p384.pem"), "--out", path("p384-hre.pem"),
        "--no-passphrase", check=5)
    assert not os.path.exists(path("ed-hre.pem")) and not os.path.exists(path("p384-hre.pem"))
    checked = 1

# ---- the terminal prompt (a pseudo-terminal as the controlling tty) --------------
def on_tty(args, answers):
    """Run hre on a new pseudo-terminal; answer each prompt (a string that
    ends the output so far) in turn. Returns (exit code, all tty output)."""
    import pty
    import select
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execv(TOOL, [TOOL] + args)
        finally:
            os._exit(127)
    seen = b""
    pending = list(answers)
    while True:
        r, _, _ = select.select([master], [], [], 30)
        if not r:
            os.kill(pid, 9)
            raise AssertionError("hre did not finish on the tty: %r" % seen)
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if pending and seen.rstrip().endswith(pending[0][0].encode()):
            os.write(master, (pending.pop(0)[1] + "\n").encode())
    _, status = os.waitpid(pid, 0)
    os.close(master)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


rc, seen = on_tty(["key", "new", "--out", path("tty.pem")],
                  [("new passphrase:", "tty-pass"), ("again:", "tty-pass")])
assert rc == 0, seen
assert "tty-pass" not in seen, seen       # echo was off
assert show(path("tty.pem"), "tty-pass")["encrypted"] is True
rc, seen = on_tty(["key", "show", "--key", path("tty.pem")],
                  [("passphrase for %s:" % path("tty.pem"), "tty-pass")])
assert rc == 0 and "tty-pass" not in seen and "public key:" in seen, seen
rc, seen = on_tty(["key", "new", "--out", path("tty2.pem")],
                  [("new passphrase:", "one"), ("again:", "two")])
assert rc == 5 and "differ" in seen, (rc, seen)
assert not os.path.exists(path("tty2.pem"))

print("cli_keys: new/show/export/import checked%s" % (
    ", openssl keys imported and compared" if checked else " (no openssl binary)"))
shutil.rmtree(d)
