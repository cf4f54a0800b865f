#!/usr/bin/env python3
"""Packaging test for bindings/python: build and install the package offline
into a fresh virtual environment, then import it there with HRE_LIBRARY naming
the built library, and check what the installed copy holds.

Usage: test_packaging.py SOURCE_ROOT   (HRE_LIBRARY must be set; meson does)

Offline: `pip install --no-build-isolation --no-index`, so the build backend
(setuptools and wheel) must already be importable by the interpreter the venv
is made from (--system-site-packages). The interpreter running this script is
tried first, then /usr/bin/python3 (Debian's python3-setuptools, python3-wheel,
python3-venv). Exit 77 (meson: skipped) when none has them.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def has_backend(py):
    probe = "import setuptools, wheel, venv, ensurepip"
    return subprocess.run([py, "-c", probe], capture_output=True).returncode == 0


def main():
    src = os.path.abspath(sys.argv[1])
    lib = os.environ.get("HRE_LIBRARY")
    if not lib or not os.path.exists(lib):
        print(f"HRE_LIBRARY must name the built libhre.so.1 (got {lib!r})")
        return 1
    pkg = os.path.join(src, "bindings", "python")

    # The package version must be the C library's.
    meson_build = open(os.path.join(src, "meson.build")).read()
    c_version = re.search(r"version:\s*'([^']+)'", meson_build).group(1)
    pyproject = open(os.path.join(pkg, "pyproject.toml")).read()
    py_version = re.search(r'^version\s*=\s*"([^"]+)"', pyproject, re.M).group(1)
    if py_version != c_version:
        print(f"bindings/python/pyproject.toml says version {py_version}, meson.build {c_version}")
        return 1

    cands = [sys.executable] + [p for p in ("/usr/bin/python3",) if os.path.exists(p)]
    py = next((p for p in cands if has_backend(p)), None)
    if py is None:
        print("SKIP: no interpreter with setuptools, wheel and venv among " + ", ".join(cands))
        return 77

    with tempfile.TemporaryDirectory(prefix="hre-pkg-") as tmp:
        # Build from a copy: pip and setuptools write build/ and *.egg-info
        # next to the sources, and the source tree must stay clean.
        tree = os.path.join(tmp, "src")
        shutil.copytree(pkg, tree, ignore=shutil.ignore_patterns(
            "__pycache__", "build", "*.egg-info"))
        venv = os.path.join(tmp, "venv")
        subprocess.run([py, "-m", "venv", "--system-site-packages", venv], check=True)
        vpy = os.path.join(venv, "bin", "python")
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
        env.pop("PYTHONPATH", None)   # the installed copy, not bindings/python
        subprocess.run([vpy, "-m", "pip", "wheel", "--no-build-isolation", "--no-index",
                        "--no-deps", "-w", os.path.join(tmp, "dist"), tree],
                       check=True, env=env, cwd=tmp)
        wheels = os.listdir(os.path.join(tmp, "dist"))
        if wheels != [f"hre-{c_version}-py3-none-any.whl"]:
            print(f"expected one pure-Python wheel hre-{c_version}-py3-none-any.whl, got {wheels}")
            return 1
        subprocess.run([vpy, "-m", "pip", "install", "--no-build-isolation", "--no-index",
                        "--no-deps", os.path.join(tmp, "dist", wheels[0])],
                       check=True, env=env, cwd=tmp)
        check = (
            "import os, sys, hre, hre._ffi as f\n"
            "d = os.path.dirname(hre.__file__)\n"
            "assert d.startswith(sys.prefix), ('not the installed copy', d, sys.prefix)\n"
            "assert os.path.exists(os.path.join(d, 'py.typed')), 'py.typed not installed'\n"
            "assert f.path == os.environ['HRE_LIBRARY'], f.path\n"
            "assert hre.version() == sys.argv[1], hre.version()\n"
            "assert hre.sha256(b'abc').hex().startswith('ba7816bf'), 'sha256'\n"
            "from importlib.metadata import version\n"
            "assert version('hre') == sys.argv[1], version('hre')\n"
            "print('installed', d, 'loads', f.path, 'version', hre.version())\n")
        r = subprocess.run([vpy, "-c", check, c_version], env=env, cwd=tmp)
        if r.returncode != 0:
            return 1
        # Without HRE_LIBRARY the installed package finds libhre.so.1 by
        # soname: here through LD_LIBRARY_PATH pointing at the build dir.
        env2 = dict(env, LD_LIBRARY_PATH=os.path.dirname(os.path.abspath(lib)))
        env2.pop("HRE_LIBRARY")
        r = subprocess.run([vpy, "-c", "import hre, hre._ffi as f; "
                            "assert f.path == 'libhre.so.1', f.path; print('soname', f.path, hre.version())"],
                           env=env2, cwd=tmp)
        return 1 if r.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
