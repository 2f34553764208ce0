"""Free loopback ports for the test and benchmark scripts, as tests/support/free_port.hpp picks
them: below the kernel's ephemeral range (a port the kernel hands out can be taken, while a
server of the test restarts, as the source port of any outgoing connection), never twice in one
process, and reserved across processes by a lock on a file per port, held until this process
ends. `python3 tests/free_port.py N` prints N ports (reserved only while it runs)."""

import errno
import fcntl
import os
import random
import socket
import sys
import tempfile

_handed_out = set()
_held = []  # the lock files: the reservations


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _can_bind(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _reserve(port):
    folder = os.path.join(tempfile.gettempdir(), "splitstream-test-ports")
    try:
        if not os.path.isdir(folder):
            os.makedirs(folder, exist_ok=True)
            os.chmod(folder, 0o1777)
        fd = os.open(os.path.join(folder, str(port)), os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as error:
        if error.errno in (errno.EMFILE, errno.ENFILE):
            raise RuntimeError("free_port: out of file descriptors for port reservations")
        return True  # no lock files here: the check against other processes is off
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _held.append(fd)
    return True


def free_port():
    low, high = 10000, max(11000, _ephemeral_low()) - 1
    for _ in range(1000):
        port = random.randint(low, high)
        if port not in _handed_out and _can_bind(port) and _reserve(port):
            _handed_out.add(port)
            return port
    raise RuntimeError("free_port: no free port below the ephemeral range")


if __name__ == "__main__":
    print(" ".join(str(free_port()) for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1)))
