"""The assertions the Python binding tests share: check() counts and records a
failed condition without stopping the test, expect() runs fn and checks that
it raises the given hre.HreError subclass. A test prints its summary from
`failures` and `checks[0]` and exits non-zero when failures is not empty."""
import hre

failures = []
checks = [0]


def check(cond, msg):
    checks[0] += 1
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def expect(cls, fn, msg):
    try:
        fn()
    except hre.HreError as e:
        check(isinstance(e, cls), f"{msg}: got {type(e).__name__} ({e}), want {cls.__name__}")
        return e
    check(False, f"{msg}: no error, want {cls.__name__}")
    return None
