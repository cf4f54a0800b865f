"""The assertions the Python binding tests share: check() counts and records a
failed condition without stopping the test, expect() runs fn and checks that
it raises the given hre.HreError subclass, expect_code() runs fn and checks
that it raises an hre.HreError whose .code is the given error code. A test
prints its summary from `failures` and `checks[0]` and exits non-zero when
failures is not empty."""
import hre

failures = []
checks = [0]


def check(cond, msg):
    checks[0] += 1
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def _raised(fn, msg, want):
    """The hre.HreError fn raises, or None (recorded as a failed check)."""
    try:
        fn()
    except hre.HreError as e:
        return e
    check(False, f"{msg}: no error, want {want}")
    return None


def expect(cls, fn, msg):
    e = _raised(fn, msg, cls.__name__)
    if e is not None:
        check(isinstance(e, cls), f"{msg}: got {type(e).__name__} ({e}), want {cls.__name__}")
    return e


def expect_code(code, fn, msg):
    e = _raised(fn, msg, code)
    if e is not None:
        check(e.code == code, f"{msg}: got {e.code} ({e}), want {code}")
    return e
