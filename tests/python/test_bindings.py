#!/usr/bin/env python3
"""Checks the ctypes bindings (bindings/python/hre) against the C headers, then
exercises them against independent implementations (hashlib, hmac, Bitcoin
main-net facts).

Usage: test_bindings.py INCLUDE_DIR   (HRE_LIBRARY points at libhre.so.1)
"""
import ctypes
import hashlib
import hmac
import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
import types

INCLUDE = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import hre  # noqa: E402
from hre import _ffi, _enums, _errors  # noqa: E402

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
# struct NAME { BODY };  defined apart from its  typedef struct NAME NAME;
# (sys/transport.h's vtable, whose typedef node.h repeats)
for _m in re.finditer(r"(?<!typedef)\s\bstruct\s+(\w+)\s*\{(.*?)\}\s*;", HDR, re.S):
    if re.search(r"typedef\s+struct\s+%s\s+%s\s*;" % (_m.group(1), _m.group(1)), HDR):
        STRUCTS.setdefault(_m.group(1), _m.group(2))
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


ENUM_MEMBERS = {}   # typedef enum name -> {member: value}
for m in re.finditer(r"typedef\s+enum\s+\w*\s*\{([^}]*)\}\s*(\w+)\s*;", HDR):
    nxt = 0
    members = ENUM_MEMBERS.setdefault(m.group(2), {})
    for item in m.group(1).split(","):
        item = item.strip()
        if not item:
            continue
        name, _, val = item.partition("=")
        nxt = c_eval(val) if val.strip() else nxt
        CONSTS[name.strip()] = nxt
        members[name.strip()] = nxt
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

# --- error classes: one per hre_error code, checked against errors.h ------
ERRORS_H = ENUM_MEMBERS.get("hre_error", {})
if len(ERRORS_H) < 20:
    fail(f"could not parse enum hre_error from errors.h ({len(ERRORS_H)} members)")
for cname, code in ERRORS_H.items():
    if cname == "HRE_OK":
        continue
    cls = hre.ERROR_CLASSES.get(code)
    if cls is None:
        fail(f"{cname} ({code}) has no exception class in hre/_errors.py")
        continue
    if cls.c_name != cname or cls.code != code or not issubclass(cls, hre.HreError):
        fail(f"{cname} ({code}): class {cls.__name__} says {cls.c_name} ({cls.code})")
    if getattr(hre, cls.__name__, None) is not cls or hre.error_class(code) is not cls:
        fail(f"{cls.__name__} is not exported as hre.{cls.__name__}")
    if getattr(hre, cname[4:], None) != code or hre.ErrorCode[cname[4:]] != code:
        fail(f"hre.{cname[4:]} / ErrorCode.{cname[4:]} is not {code}")
for code, cls in hre.ERROR_CLASSES.items():
    if code not in ERRORS_H.values() and code not in _errors.RESERVED_CODES:
        fail(f"{cls.__name__} ({cls.c_name}, {code}): no such code in errors.h and not reserved")
if len({c.__name__ for c in hre.ERROR_CLASSES.values()}) != len(hre.ERROR_CLASSES):
    fail("two error codes share a class name")
if hre.error_class(-999) is not hre.HreError:
    fail("an unknown code does not map to HreError")

# --- IntEnums against the header constants, both directions ---------------
enums_checked = 0
for cls in _enums.ENUMS:
    info = _enums.C_INFO[cls]
    if info["enum"]:
        if info["enum"] not in ENUM_MEMBERS:
            fail(f"{cls.__name__}: no typedef enum {info['enum']} in include/hre")
            continue
        header = dict(ENUM_MEMBERS[info["enum"]])
    else:
        header = {n: v for n, v in CONSTS.items()
                  if n.startswith(info["prefix"]) and n not in info["exclude"]
                  and not (info["exclude_prefix"] and n.startswith(info["exclude_prefix"]))}
    mine = {_enums.c_name(m): m.value for m in cls}
    for n in sorted(set(header) | set(mine)):
        if n not in mine:
            fail(f"{cls.__name__}: header constant {n} = {header[n]} has no member")
        elif n not in header:
            fail(f"{cls.__name__}: member for {n} is not in the headers")
        elif header[n] != mine[n]:
            fail(f"{cls.__name__}: {n} is {header[n]} in C, {mine[n]} in Python")
    for m in cls:
        if getattr(hre, _enums.c_name(m)[4:], None) is not m:
            fail(f"module constant hre.{_enums.c_name(m)[4:]} is not {cls.__name__}.{m.name}")
    if not (cls.__doc__ or "").strip():
        fail(f"{cls.__name__}: no docstring")
    enums_checked += 1
if enums_checked < 15:
    fail(f"only {enums_checked} enums checked")
# the check above catches a missing member: drop one from a copy and see it fail
probe = {_enums.c_name(m): m.value for m in _enums.Kind if m is not _enums.Kind.LOG_ACCESS}
if "HRE_KIND_LOG_ACCESS" in probe or CONSTS.get("HRE_KIND_LOG_ACCESS") != 11:
    fail("enum check self-test: HRE_KIND_LOG_ACCESS")

print(f"bindings: {checked} functions, {len(_ffi.CALLBACKS)} callback types, "
      f"{structs_checked} struct layouts, {len(_ffi.CONSTANTS)} constants, "
      f"{len(ERRORS_H) - 1} error classes, {enums_checked} enums checked against the headers")
if _ffi.missing:
    fail(f"symbols declared in _ffi but missing from {_ffi.path}: {_ffi.missing}")


# --------------------------------------------------------------------------
# 1b. Every public name of the package has a docstring.
# --------------------------------------------------------------------------
def missing_docstrings(pkg):
    """Public modules, module-level functions and classes, and the methods
    and properties of those classes (their own and their package bases') that
    have no docstring of their own."""
    out, seen = [], set()
    mods = [pkg]
    if hasattr(pkg, "__path__"):
        for info in pkgutil.iter_modules(pkg.__path__):
            if not info.name.startswith("_"):
                mods.append(__import__(f"{pkg.__name__}.{info.name}", fromlist=["x"]))
    root = pkg.__name__
    for mod in mods:
        if not (mod.__doc__ or "").strip():
            out.append(mod.__name__)
        for name in sorted(vars(mod)):
            obj = getattr(mod, name)
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not (getattr(obj, "__module__", "") or "").split(".")[0] == root:
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if not (obj.__doc__ or "").strip():
                out.append(f"{mod.__name__}.{name}")
            if not inspect.isclass(obj):
                continue
            for base in obj.__mro__:
                if (getattr(base, "__module__", "") or "").split(".")[0] != root:
                    continue
                for attr, v in vars(base).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(v, (staticmethod, classmethod)):
                        v = v.__func__
                    if isinstance(v, property) or inspect.isfunction(v):
                        if not (v.__doc__ or "").strip():
                            out.append(f"{mod.__name__}.{name}.{attr}")
    return sorted(set(out))


# self-test: the walker finds what is missing (a module, a function, a
# method, a property, an inherited method)
probe = types.ModuleType("probe", "A probe module.")
exec("def f():\n    pass\n"
     "class _Base:\n    def inherited(self):\n        pass\n"
     "class C(_Base):\n    'documented'\n    def m(self):\n        pass\n"
     "    @property\n    def p(self):\n        return 1\n"
     "    @classmethod\n    def k(cls):\n        'documented'\n", probe.__dict__)
for v in vars(probe).values():
    if inspect.isclass(v) or inspect.isfunction(v):
        v.__module__ = "probe"
got = missing_docstrings(probe)
want = ["probe.C.inherited", "probe.C.m", "probe.C.p", "probe.f"]
if got != want:
    fail(f"docstring walker self-test: {got}, want {want}")
undocumented = missing_docstrings(hre)
if undocumented:
    fail(f"{len(undocumented)} public names without a docstring: {undocumented}")
public = [n for n in dir(hre) if not n.startswith("_")]
print(f"docstrings: {len(public)} public names of hre walked, {len(undocumented)} undocumented")


# --------------------------------------------------------------------------
# 1c. Loading: the soname, HRE_LIBRARY as an override, a clear error.
# --------------------------------------------------------------------------
def run_py(code, env):
    pkg = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python")
    e = {k: v for k, v in os.environ.items() if k not in ("HRE_LIBRARY", "LD_LIBRARY_PATH")}
    e.update(env)
    e["PYTHONPATH"] = pkg
    p = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout + p.stderr


libdir = os.path.dirname(os.path.abspath(_ffi.path)) if os.path.sep in _ffi.path else None
if libdir and os.path.exists(os.path.join(libdir, _ffi.SONAME)):
    rc, out = run_py("import hre; print(hre._ffi.path, hre.sha256(b'abc').hex())",
                     {"LD_LIBRARY_PATH": libdir})
    want = f"{_ffi.SONAME} {hashlib.sha256(b'abc').hexdigest()}"
    if rc != 0 or out.strip() != want:
        fail(f"loading by soname through LD_LIBRARY_PATH: rc {rc}: {out.strip()!r}, want {want!r}")
else:
    fail(f"cannot find {_ffi.SONAME} next to the library under test ({_ffi.path})")
rc, out = run_py("import hre", {"HRE_LIBRARY": "/nonexistent/dir/libhre.so.1",
                                "LD_LIBRARY_PATH": libdir or ""})
if rc == 0 or "HRE_LIBRARY" not in out or "/nonexistent/dir/libhre.so.1" not in out \
        or "ImportError" not in out or "Unset HRE_LIBRARY to load the installed libhre.so.1" not in out:
    fail(f"a bad HRE_LIBRARY does not give a clear ImportError (rc {rc}): {out[-400:]}")
rc, out = run_py("import ctypes; ctypes.CDLL('libhre.so.1')", {})
if rc == 0:
    print("loading: libhre.so.1 is installed on this machine; the not-found message is not tested")
else:
    rc, out = run_py("import hre", {})
    last = out.strip().splitlines()[-1] if out.strip() else ""
    if rc == 0 or not last.startswith("ImportError") or "HRE_LIBRARY" not in last \
            or "libhre.so.1:" not in last:
        fail(f"no library anywhere: the ImportError does not name both (rc {rc}): {last!r}")
try:
    _ffi._absent("hre_future_call")()
    fail("a missing symbol's stub did not raise")
except hre.Unsupported as e:
    if "hre_future_call" not in e.detail or e.code != hre.EUNSUPPORTED:
        fail(f"missing symbol stub: {e!r}")

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
    except hre.DecryptError as e:
        if e.code != hre.EDECRYPT or not isinstance(e, hre.HreError) or not e.detail:
            fail(f"wrong passphrase gave {e!r}")
    except hre.HreError as e:
        fail(f"wrong passphrase gave {type(e).__name__} ({e.code}), want DecryptError")
    if k.curve != curve or not isinstance(k.curve, hre.Curve) or pk.curve != curve:
        fail("Key.curve / PubKey.curve")
    if pk != hre.PubKey.parse(pk.serialize(False), curve) or pk == hre.Key.generate(curve).pubkey():
        fail("PubKey equality")

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
if tx2.sender != k.pubkey().serialize_wire() or hre.Tx.new(net, 7, 1, 0).sender is not None:
    fail("Tx.sender: the signer's wire key, None while unsigned")
if tx2.kind is not hre.Kind.NEW_RECORD or hre.Tx.new(net, 999, 0, 0).kind != 999:
    fail("Tx.kind: a Kind when known, the plain int otherwise")
try:
    hre.Tx.decode(enc + b"\0")
    fail("trailing byte accepted")
except hre.DecodeError as e:
    if e.code != hre.EDECODE or type(e) is not hre.DecodeError:
        fail(f"trailing byte gave {e!r}")

# --- exception classes: one per code, raised by real calls ------------------
for code, cls in hre.ERROR_CLASSES.items():
    e = _errors.make_error(code, "why", hre.LedgerStatus.REJECT_POW)
    if type(e) is not cls or e.code != code or e.detail != "why" or not isinstance(e, hre.HreError):
        fail(f"make_error({code}) gave {e!r}")
    if not str(e).endswith(f"({code}): why"):
        fail(f"message of {cls.__name__}: {e}")
try:
    hre.Contract(net, k.wire()).account(hre.sha256(b"nobody"))
    fail("an unknown account was found")
except hre.NotFound as e:
    if e.code != hre.ENOTFOUND or not e.detail:
        fail(f"NotFound: {e!r}")
try:
    hre.encode_payload("register_org", org_type=hre.OrgType.LAB, name="x" * 65, admin_key=k)
    fail("a 65-byte organisation name was encoded")
except hre.LimitExceeded:
    pass
try:
    hre.ChainParams().genesis.check_pow(b"\0" * 31)
    fail("a 31-byte PoW limit was taken")
except ValueError:
    pass        # fixed-size inputs are length-checked by the package, never over-read
for bad_call in (lambda: hre.Tx.new(net[:31], 1, 0, 0), lambda: tx2.verify(net + b"x"),
                 lambda: hre.verify_batch([tx2], b"")):
    try:
        bad_call()
        fail("a network id that is not 32 bytes was taken")
    except ValueError:
        pass

# --- enums on the values the library returns -------------------------------
d = hre.decode_payload("grant", hre.encode_payload("grant", reader_type=hre.ReaderType.ORG,
                                                   reader=net, scope=hre.Scope.CATEGORY,
                                                   category=3))
if d["reader_type"] is not hre.ReaderType.ORG or d["scope"] is not hre.Scope.CATEGORY:
    fail(f"decoded payload enums: {d}")
if hre.ROLE_ADMIN != 2 or hre.Role.ADMIN != hre.ROLE_ADMIN or hre.LEDGER_CONNECTED != 1:
    fail("enum members compare equal to the header values")

# --- Merkle branches: compute, encode/decode, tamper -----------------------
def py_root_and_branch(leaves, index):
    """Bitcoin's Merkle root and branch, computed here with hashlib."""
    def h2(a, b):
        return hashlib.sha256(hashlib.sha256(a + b).digest()).digest()
    level, branch, i = list(leaves), [], index
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        branch.append(level[i ^ 1])
        level = [h2(level[j], level[j + 1]) for j in range(0, len(level), 2)]
        i //= 2
    return level[0], branch


for n in (1, 2, 3, 7, 8, 33):
    leaves = [hashlib.sha256(b"leaf %d %d" % (n, i)).digest() for i in range(n)]
    for index in sorted({0, n // 2, n - 1}):
        br, root = hre.MerkleBranch.compute(leaves, index)
        want_root, want_hashes = py_root_and_branch(leaves, index)
        if root != want_root or br.hashes != want_hashes or br.index != index \
                or br.depth != len(want_hashes):
            fail(f"MerkleBranch.compute({n} leaves, {index}) differs from the hashlib computation")
        if not br.verify(root, leaves[index]) or br.root(leaves[index]) != root:
            fail(f"branch of leaf {index}/{n} does not verify")
        if n > 1 and br.verify(root, leaves[(index + 1) % n]):
            fail("a branch verifies another leaf")
        wire = br.encode()
        want = index.to_bytes(4, "little") + bytes([len(want_hashes)]) + b"".join(want_hashes)
        if wire != want:
            fail(f"branch encoding {wire.hex()} != {want.hex()}")
        back = hre.MerkleBranch.decode(wire)
        if back != br or not back.verify(root, leaves[index]):
            fail("branch decode round trip")
        for pos in range(5, len(wire)):         # any flipped hash bit breaks it
            bad = bytearray(wire)
            bad[pos] ^= 0x20
            if hre.MerkleBranch.decode(bytes(bad)).verify(root, leaves[index]):
                fail(f"branch with byte {pos} flipped still verifies")
        for bad, cls in ((wire + b"\0", hre.DecodeError), (wire[:-1], hre.DecodeError),
                         (wire[:4], hre.DecodeError),
                         (wire[:4] + bytes([wire[4] + 1]) + wire[5:], hre.DecodeError),
                         (wire[:4] + bytes([33]) + bytes(33 * 32), hre.LimitExceeded)):
            try:
                hre.MerkleBranch.decode(bad)
                fail(f"a bad branch decoded: {bad[:6].hex()}.. ({len(bad)} bytes)")
            except cls:
                pass
depth2 = hre.MerkleBranch.compute(leaves[:4], 3)[0].encode()
try:  # index 4 needs depth 3: not canonical for depth 2
    hre.MerkleBranch.decode(b"\x04\0\0\0" + depth2[4:])
    fail("a branch index >= 2^depth decoded")
except hre.DecodeError:
    pass
try:
    hre.MerkleBranch(index=4, hashes=[leaves[0], leaves[1]]).encode()
    fail("a malformed branch was encoded")
except hre.InvalidArgument:
    pass

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
