"""What the tool tests that prepare a chain with the Python bindings share
(test_cli_vault.py, test_cli_exchange.py): the bindings are found next to
the tests; `hre` itself is what the tests drive."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))
import hre  # noqa: E402


def write(path, data, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


class Chain:
    """A ledger directory, opened with the bindings between tool runs."""

    def __init__(self, data, net):
        self.data, self.net = data, net

    def __enter__(self):
        self.st = hre.Storage.posix(self.data, flags=hre.STORAGE_POSIX_NOSYNC)
        self.l = hre.Ledger(self.st, network=hre.Network.decode(self.net.encode()))
        return self

    def submit(self, key, kind, **fields):
        now = int(time.time())
        tx = hre.build_tx(kind, self.net.id, key, self.l.next_nonce(key), now, **fields)
        return self.l.submit_tx(tx, now)

    def mine(self):
        self.l.mine(int(time.time()))

    def __exit__(self, *exc):
        self.l.close()
        self.st.close()
