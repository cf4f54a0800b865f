#!/usr/bin/env python3
"""Checks the ctypes bindings (bindings/python/hre) against the C headers, then
exercises them against independent implementations (hashlib, hmac, Bitcoin
main-net facts).

Usage: test_bindings.py INCLUDE_DIR   (HRE_LIBRARY points at libhre.so.1)
"""
import ctypes
import hashlib
import hmac
import json
import os
import re
import sys

INCLUDE = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import hre  # noqa: E402
from hre import _ffi  # noqa: E402

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


# --------------------------------------------------------------------------
# 1. The bindings' declarations agree with the headers.
# --------------------------------------------------------------------------
def read_headers():
    text = ""
    for root, _, files in os.walk(INCLUDE):
        for f in sorted(files):
            if f.endswith(".h"):
                with open(os.path.join(root, f)) as fh:
                    text += fh.read() + "\n"
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"\\\n", " ", text)  # join continued #define lines


HDR = read_headers()
ENUMS = set(re.findall(r"typedef\s+enum\s+\w*\s*\{[^}]*\}\s*(\w+)\s*;", HDR))
SCALARS = {
    "int": ctypes.c_int, "unsigned": ctypes.c_uint, "unsigned int": ctypes.c_uint,
    "uint8_t": ctypes.c_uint8, "uint16_t": ctypes.c_uint16, "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64, "int64_t": ctypes.c_int64, "int32_t": ctypes.c_int32,
    "size_t": ctypes.c_size_t, "char": ctypes.c_char,
}
# typedef RET (*NAME)(PARAMS);  -- callback types
FNTYPES = {m.group(2): (m.group(1).strip(), m.group(3))
           for m in re.finditer(r"typedef\s+([^;()]*?)\(\s*\*\s*(\w+)\s*\)\s*\(([^;]*?)\)\s*;", HDR)}
# typedef struct NAME { BODY } NAME;  and opaque  typedef struct NAME NAME;
STRUCTS = {m.group(1): m.group(2)
           for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*\1\s*;", HDR, re.S)}
OPAQUE = set(re.findall(r"typedef\s+struct\s+(\w+)\s+\1\s*;", HDR)) - set(STRUCTS)

# #define NAME <integer expression> and enum constants, evaluated.
RAW_DEFINES = dict(re.findall(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+([^\n]+?)[ \t]*$", HDR, re.M))
CONSTS = {}


def c_eval(expr, depth=0):
    if depth > 20:
        raise ValueError(expr)
    expr = re.sub(r"\(\s*(?:uint\d+_t|int\d+_t|size_t|unsigned|int)\s*\)", " ", expr)  # casts
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr)
    def sub(m):
        n = m.group(0)
        if n in CONSTS:
            return str(CONSTS[n])
        if n in RAW_DEFINES:
            return "(" + str(c_eval(RAW_DEFINES[n], depth + 1)) + ")"
        raise ValueError(n)
    expr = re.sub(r"\b[A-Za-z_]\w*\b", sub, expr)
    if not re.fullmatch(r"[\s0-9a-fA-FxX()+\-*/<>|&~]*", expr):
        raise ValueError(expr)
    return int(eval(expr.replace("/", "//"), {"__builtins__": {}}))


for m in re.finditer(r"typedef\s+enum\s+\w*\s*\{([^}]*)\}", HDR):
    nxt = 0
    for item in m.group(1).split(","):
        item = item.strip()
        if not item:
            continue
        name, _, val = item.partition("=")
        nxt = c_eval(val) if val.strip() else nxt
        CONSTS[name.strip()] = nxt
        nxt += 1
for name, val in RAW_DEFINES.items():
    try:
        CONSTS[name] = c_eval(val)
    except (ValueError, SyntaxError):
        pass  # strings, attributes, initializer lists


def scalar_class(ct):
    signed = ct(-1).value == -1 if ct is not ctypes.c_char else False
    return ("int", ctypes.sizeof(ct), signed)


def c_class(decl):
    """Classify a C parameter or return type string."""
    d = re.sub(r"\b(const|volatile|struct|enum|HRE_API)\b", " ", decl)
    ptr = d.count("*") + d.count("[")
    if re.search(r"\(\s*\*\s*\w*\s*\)\s*\[", d):
        ptr = 1  # pointer to array, e.g. const uint8_t (*leaves)[32]: a flat byte buffer
    base = re.sub(r"\(|\)|\*|\[[^\]]*\]", " ", d).split()
    # drop the parameter name if present (last identifier after the type)
    if len(base) > 1 and base[-1] not in SCALARS and base[-1] not in ("int", "char", "void"):
        if not (base[-2] == "unsigned" and base[-1] == "int"):
            base = base[:-1]
    base = " ".join(base)
    if ptr == 0:
        if base == "void":
            return ("void",)
        if base in ENUMS:
            return scalar_class(ctypes.c_int)
        if base in SCALARS:
            return scalar_class(SCALARS[base])
        if base in FNTYPES:
            return ("fn", base)
        return ("struct", base)
    if ptr >= 2:
        return ("ptr", "ptr")
    if base in ("void",):
        return ("ptr", "void")
    if base == "char":
        return ("ptr", "char")
    if base in SCALARS:
        return ("ptr", scalar_class(SCALARS[base]))
    if base in ENUMS:
        return ("ptr", scalar_class(ctypes.c_int))
    return ("ptr", "struct", base)


FUNCPTR = type(ctypes.CFUNCTYPE(None))
CB_NAMES = {v: k for k, v in _ffi.CALLBACKS.items()}


def is_funcptr(t):
    return isinstance(t, type) and issubclass(t, ctypes._CFuncPtr)


def py_class(t):
    if t is None:
        return ("void",)
    if t is ctypes.c_void_p:
        return ("ptr", "?")
    if t is ctypes.c_char_p:
        return ("ptr", "char")
    if is_funcptr(t):
        return ("fn", CB_NAMES.get(t, "?"))
    if isinstance(t, type) and issubclass(t, ctypes._Pointer):
        inner = t._type_
        if inner is ctypes.c_void_p or issubclass(inner, ctypes._Pointer):
            return ("ptr", "ptr")
        if issubclass(inner, ctypes.Structure):
            return ("ptr", "struct", getattr(inner, "_c_name_", inner.__name__))
        return ("ptr", scalar_class(inner))
    if isinstance(t, type) and issubclass(t, ctypes.Structure):
        return ("struct", getattr(t, "_c_name_", t.__name__))
    return scalar_class(t)


def compatible(c, p):
    if c == p:
        return True
    if p == ("ptr", "?"):
        # c_void_p: void buffers and OPAQUE handles only (a value struct such as
        # hre_contract_record must be passed as POINTER(its mirror))
        return c == ("ptr", "void") or (c[:2] == ("ptr", "struct") and c[2] in OPAQUE)
    return False


decls = {}
for m in re.finditer(r"HRE_API\s+([^;{]*?)\b(hre_\w+)\s*\(([^;]*?)\)\s*(?:HRE_WARN_UNUSED_RESULT\s*)?;", HDR, re.S):
    ret, name, params = m.group(1), m.group(2), m.group(3)
    plist = [] if params.strip() in ("", "void") else [x.strip() for x in params.split(",")]
    decls[name] = (ret.strip(), plist)


def check_signature(what, ret, plist, res, args):
    if len(plist) != len(args):
        fail(f"{what}: header has {len(plist)} parameters, bindings {len(args)}")
        return False
    rc, rp = c_class(ret + " x"), py_class(res)
    if not compatible(rc, rp):
        fail(f"{what}: return type {ret!r} {rc} vs ctypes {rp}")
    for i, (cp, pt) in enumerate(zip(plist, args)):
        cc, pc = c_class(cp), py_class(pt)
        if not compatible(cc, pc):
            fail(f"{what}: parameter {i} {cp!r} {cc} vs ctypes {pc}")
    return True


checked = 0
seen = set()
for name, res, args in _ffi._FUNCS:
    if name in seen:
        fail(f"{name}: declared twice in _FUNCS")
    seen.add(name)
    if name not in decls:
        fail(f"{name}: bound in Python but not declared in include/hre")
        continue
    ret, plist = decls[name]
    if check_signature(name, ret, plist, res, args):
        checked += 1

# callback prototypes (CFUNCTYPE) against their typedefs
for cname, proto in _ffi.CALLBACKS.items():
    if cname not in FNTYPES:
        fail(f"callback {cname}: no such typedef in include/hre")
        continue
    ret, params = FNTYPES[cname]
    plist = [] if params.strip() in ("", "void") else [x.strip() for x in params.split(",")]
    check_signature(f"callback {cname}", ret, plist, proto._restype_, list(proto._argtypes_))


# --- struct layouts: every ctypes.Structure in _ffi vs its typedef ----------
PTR = ctypes.c_void_p


def parse_fields(sname):
    """[(name, kind, base, ptr_depth, dims)] of a typedef struct body."""
    out = []
    for decl in STRUCTS[sname].split(";"):
        decl = " ".join(decl.split())
        if not decl:
            continue
        fm = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", decl)
        if fm:  # inline function pointer member
            out.append((fm.group(1), "fnptr", None, 1, []))
            continue
        tm = re.match(r"((?:(?:const|volatile|struct|enum|unsigned|signed)\s+)*\w+)\s*(.*)$", decl)
        if not tm:
            fail(f"{sname}: cannot parse member {decl!r}")
            continue
        base = " ".join(w for w in tm.group(1).split() if w not in ("const", "volatile", "struct", "enum"))
        for dcl in tm.group(2).split(","):
            dm = re.fullmatch(r"\s*((?:\*\s*(?:const\s*)?)*)(\w+)\s*((?:\[[^\]]+\]\s*)*)", dcl)
            if not dm:
                fail(f"{sname}: cannot parse declarator {dcl!r}")
                continue
            dims = [c_eval(x) for x in re.findall(r"\[([^\]]+)\]", dm.group(3))]
            out.append((dm.group(2), "field", base, dm.group(1).count("*"), dims))
    return out


def c_layout(sname):
    """Independent C layout from the header: [(name, offset, size, info)], size, align."""
    off, salign, fields = 0, 1, []
    for name, kind, base, ptr, dims in parse_fields(sname):
        if kind == "fnptr" or ptr or base in FNTYPES:
            size = align = ctypes.sizeof(PTR)
        elif base in SCALARS or base in ENUMS:
            ct = SCALARS.get(base, ctypes.c_int)
            size, align = ctypes.sizeof(ct), ctypes.alignment(ct)
        elif base in STRUCTS:
            _, size, align = c_layout(base)
        else:
            fail(f"{sname}.{name}: unknown member type {base!r}")
            size = align = 1
        n = 1
        for d in dims:
            n *= d
        off = (off + align - 1) // align * align
        fields.append((name, off, size * n, (kind, base, ptr, dims)))
        off += size * n
        salign = max(salign, align)
    return fields, (off + salign - 1) // salign * salign, salign


def array_shape(t):
    dims = []
    while isinstance(t, type) and issubclass(t, ctypes.Array):
        dims.append(t._length_)
        t = t._type_
    return dims, t


def check_member(sname, fname, info, pt):
    kind, base, ptr, dims = info
    where = f"{sname}.{fname}"
    pdims, elem = array_shape(pt)
    if pdims != dims:
        fail(f"{where}: array dimensions {dims} in C, {pdims} in ctypes")
        return
    if kind == "fnptr":
        if not (is_funcptr(elem) or elem is ctypes.c_void_p):
            fail(f"{where}: function pointer member mirrored as {elem}")
        return
    if ptr == 0 and base in FNTYPES:
        if elem is not _ffi.CALLBACKS.get(base):
            fail(f"{where}: {base} must be mirrored as _ffi.CALLBACKS[{base!r}]")
        return
    if ptr == 0 and base in STRUCTS:
        if not (isinstance(elem, type) and issubclass(elem, ctypes.Structure)
                and getattr(elem, "_c_name_", None) == base):
            fail(f"{where}: nested struct {base} mirrored as {elem}")
        return
    if ptr == 0:
        ct = SCALARS.get(base, ctypes.c_int)
        if py_class(elem) != scalar_class(ct) or (ct is ctypes.c_char) != (elem is ctypes.c_char):
            fail(f"{where}: C {base} {scalar_class(ct)} vs ctypes {py_class(elem)}")
        return
    decl = ("const " if False else "") + base + " " + "*" * ptr + " x"
    if not compatible(c_class(decl), py_class(elem)):
        fail(f"{where}: C {base}{'*' * ptr} {c_class(decl)} vs ctypes {py_class(elem)}")


structs_checked = 0
for cls in vars(_ffi).values():
    if not (isinstance(cls, type) and issubclass(cls, ctypes.Structure) and cls is not ctypes.Structure):
        continue
    sname = getattr(cls, "_c_name_", None)
    if sname not in STRUCTS:
        fail(f"{cls.__name__}: _c_name_ {sname!r} is not a typedef struct in include/hre")
        continue
    cfields, csize, calign = c_layout(sname)
    pfields = [(f[0], f[1]) for f in cls._fields_]
    if [f[0] for f in cfields] != [f[0] for f in pfields]:
        fail(f"{sname}: members {[f[0] for f in cfields]} in C, {[f[0] for f in pfields]} in ctypes")
        continue
    for (fname, off, size, info), (_, pt) in zip(cfields, pfields):
        poff = getattr(cls, fname).offset
        if poff != off:
            fail(f"{sname}.{fname}: offset {off} in C, {poff} in ctypes")
        if ctypes.sizeof(pt) != size:
            fail(f"{sname}.{fname}: size {size} in C, {ctypes.sizeof(pt)} in ctypes")
        check_member(sname, fname, info, pt)
    if ctypes.sizeof(cls) != csize or ctypes.alignment(cls) != calign:
        fail(f"{sname}: sizeof/alignof {csize}/{calign} in C, "
             f"{ctypes.sizeof(cls)}/{ctypes.alignment(cls)} in ctypes")
    for pf, (lf, unit) in getattr(cls, "_ptrlen_", {}).items():
        names = [f[0] for f in pfields]
        if pf not in names or lf not in names or unit < 1:
            fail(f"{sname}: bad _ptrlen_ entry {pf} -> {lf}")
    structs_checked += 1
if ctypes.sizeof(_ffi.HreHeader) != 4 + 32 + 32 + 4 + 4 + 4:
    fail("HreHeader size is not 80")
for kind, (kname, cls) in _ffi.PAYLOADS.items():
    if CONSTS.get("HRE_KIND_" + kname.upper()) != kind or cls._c_name_ != f"hre_{kname}_payload":
        fail(f"PAYLOADS[{kind}] = {kname}/{cls._c_name_} disagrees with the header")

# constants the package relies on
for cname, val in _ffi.CONSTANTS.items():
    if CONSTS.get(cname) != val:
        fail(f"constant {cname}: header {CONSTS.get(cname)!r}, bindings {val!r}")

print(f"bindings: {checked} functions, {len(_ffi.CALLBACKS)} callback types, "
      f"{structs_checked} struct layouts, {len(_ffi.CONSTANTS)} constants checked against the headers")

# --------------------------------------------------------------------------
# 2. Behaviour against independent implementations.
# --------------------------------------------------------------------------
for msg in (b"", b"abc", os.urandom(1000)):
    if hre.sha256(msg) != hashlib.sha256(msg).digest():
        fail("sha256 differs from hashlib")
    if hre.sha256d(msg) != hashlib.sha256(hashlib.sha256(msg).digest()).digest():
        fail("sha256d differs from hashlib")
    if hre.hmac_sha256(b"k" * 70, msg) != hmac.new(b"k" * 70, msg, "sha256").digest():
        fail("hmac differs from Python hmac")

for curve in (hre.CURVE_P256, hre.CURVE_SECP256K1):
    k = hre.Key.generate(curve)
    pk = k.pubkey()
    d = hre.sha256(b"lab result")
    sig = k.sign(d)
    if not pk.verify(d, sig):
        fail("signature does not verify")
    if pk.verify(hre.sha256(b"other"), sig):
        fail("signature verifies over the wrong digest")
    if hre.PubKey.parse_wire(pk.serialize_wire()).serialize() != pk.serialize():
        fail("pubkey serialize_wire/parse_wire round trip")
    pem = k.export_pem("correct horse")
    k2 = hre.Key.import_pem(pem, "correct horse")
    if not pk.verify(d, k2.sign(d)):
        fail("PEM round trip lost the key")
    try:
        hre.Key.import_pem(pem, "wrong")
        fail("wrong passphrase accepted")
    except hre.HreError as e:
        if e.code != hre.EDECRYPT:
            fail(f"wrong passphrase gave {e.code}, want EDECRYPT")

net = hre.sha256d(b"test network")
k = hre.Key.generate()
tx = hre.Tx.new(net, 7, 1, 1700000000, b"payload").sign(k)
enc = tx.encode()
tx2 = hre.Tx.decode(enc)
if tx2.encode() != enc or tx2.txid() != hashlib.sha256(hashlib.sha256(enc).digest()).digest():
    fail("tx round trip / txid rule")
if not tx2.verify(net) or tx2.verify(hre.sha256d(b"other network")):
    fail("tx verify network binding")
if (tx2.kind, tx2.nonce, tx2.timestamp, tx2.payload) != (7, 1, 1700000000, b"payload"):
    fail("tx accessors")
try:
    hre.Tx.decode(enc + b"\0")
    fail("trailing byte accepted")
except hre.HreError as e:
    if e.code != hre.EDECODE:
        fail(f"trailing byte gave {e.code}")

# --- the calling convention through the bindings ---------------------------
# defect 1.7: the authority's key in the sender field over another key's
# signature decodes, fails verification, and apply refuses it unverified
auth, attacker = hre.Key.generate(), hre.Key.generate()
contract = hre.Contract(net, auth.wire())
honest = hre.build_tx("register_org", net, attacker, 0, 1700000000, org_type=hre.ORG_HOSPITAL,
                      name=b"Rogue Clinic", admin_key=attacker.wire())
raw = bytearray(honest.encode())
raw[1 + 32 + 2:1 + 32 + 2 + 34] = auth.wire()
forged = hre.Tx.decode(bytes(raw))
if forged.verified or not honest.verified:
    fail("verified mark: a decoded tx is unmarked, a tx signed here is marked")
before = contract.state_hash()
try:
    contract.apply(forged, 1700000000)
    fail("apply accepted an unverified transaction (defect 1.7)")
except hre.HreError as e:
    if e.code != hre.EVERIFY or "signature not verified" not in str(e):
        fail(f"unverified apply gave {e.code} ({e})")
if forged.verify(net) or forged.verified or contract.state_hash() != before:
    fail("forged tx verified, or the refusal changed the state")
contract.apply(forged, 1700000000, hre.CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER)  # caller's word
if contract.state_hash() == before:
    fail("apply with the caller-verified flag did nothing")
contract.close()

# rule 4: a successful call leaves the thread's error clear
try:
    hre.Tx.decode(b"\x01")
    fail("a one-byte transaction decoded")
except hre.HreError:
    pass
if hre._ffi.lib.hre_error_last() != hre.EDECODE:
    fail("a failed decode left no error")
hre.sha256(b"x")
if hre._ffi.lib.hre_error_last() != hre.OK or hre._ffi.lib.hre_error_detail() != b"":
    fail("a successful call did not clear the thread's error")

# worker pool + batch verification
with hre.Pool(2) as pool:
    if pool.threads != 2:
        fail("Pool.threads")
    fresh = hre.Tx.decode(enc)
    if hre.verify_batch([fresh, forged], net, pool) != [True, False] or not fresh.verified:
        fail("verify_batch on a pool")
if hre.verify_batch([], net) != []:
    fail("empty verify_batch")

# the ledger's log hook
lines = []
with hre.Storage.memory() as st:
    led = hre.Ledger(st, hre.ChainParams.regtest(), auth,
                     log=lambda level, msg: lines.append((level, msg)))
    led.close()
if not any(level == hre.LOG_INFO and msg.startswith("ledger open:") for level, msg in lines):
    fail(f"no 'ledger open' log line: {lines}")

vec = os.environ.get("HRE_VECTORS_DIR")
if vec and os.path.exists(os.path.join(vec, "bitcoin", "mainnet.json")):
    with open(os.path.join(vec, "bitcoin", "mainnet.json")) as fh:
        mainnet = json.load(fh)
    pow_limit = (0xFFFF << 208).to_bytes(32, "little")
    prev = None
    for h in mainnet["headers"]:
        hdr = hre.Header(bytes.fromhex(h["raw"]))
        if hdr.display_hash() != h["hash"]:
            fail(f"header {h['height']} hash")
        if hdr.encode().hex() != h["raw"]:
            fail(f"header {h['height']} re-encode")
        if not hdr.check_pow(pow_limit):
            fail(f"header {h['height']} PoW")
        if prev is not None and h["height"] == prev[0] + 1 and hdr.prev_hash != prev[1]:
            fail(f"header {h['height']} does not link")
        prev = (h["height"], hdr.hash())
        if "txids" in h:
            root, mutated = hre.merkle_root([bytes.fromhex(t)[::-1] for t in h["txids"]])
            if root[::-1].hex() != h["merkle_root"] or mutated:
                fail("block 100000 merkle root")
    t, neg, ovf = hre.pow_target_from_compact(0x1D00FFFF)
    if t != 0xFFFF << 208 or neg or ovf:
        fail("pow_target_from_compact(1d00ffff)")
else:
    fail("HRE_VECTORS_DIR/bitcoin/mainnet.json not found")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("python bindings: all checks passed")
