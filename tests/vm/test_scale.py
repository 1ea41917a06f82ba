# SPDX-License-Identifier: GPL-2.0
"""In-VM tests of hone_notify's socket table at a busy server's scale: 100,000 open sockets, the
`max_sockets` parameter, and the count of sockets a full table cannot track."""

import os
import resource
import shutil
import signal
import socket
import subprocess
import time

from honetest import Modules, dmesg, dump, options, param, pcapng_blocks

R = M = TOOLS = None

# Sockets a busy proxy holds; the default table (229,376) tracks them all.
MANY = 100_000
UNTRACKED_WARNING = "sockets were opened while the socket table was full"


def configure(results, modules, tools):
    global R, M, TOOLS
    R, M, TOOLS = results, modules, tools


class FileLimit:
    """Raises this process's open-file limit (and the system's) for `n` more sockets."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.rlimit = resource.getrlimit(resource.RLIMIT_NOFILE)
        with open("/proc/sys/fs/file-max") as f:
            self.file_max = f.read().strip()
        with open("/proc/sys/fs/file-max", "w") as f:
            f.write(str(max(int(self.file_max), 4 * self.n)))
        want = self.n + 1000
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        return self

    def __exit__(self, *exc):
        resource.setrlimit(resource.RLIMIT_NOFILE, self.rlimit)
        with open("/proc/sys/fs/file-max", "w") as f:
            f.write(self.file_max)


def capture_sockets(n, path):
    """Under hone-read writing `path`: opens `n` UDP sockets, binds the newest to loopback and has
    a child process send it one datagram. Returns (seconds taken to open them, the newest's
    inode, its port, the child's pid) once hone-read has ended its file."""
    p = subprocess.Popen([os.path.join(TOOLS, "hone-read"), "-w", path], stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    socks = []
    try:
        start = time.monotonic()
        for _ in range(n):
            socks.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        took = time.monotonic() - start
        newest = socks[-1]
        newest.bind(("127.0.0.1", 0))
        port = newest.getsockname()[1]
        child = os.fork()
        if child == 0:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(b"to the newest socket", ("127.0.0.1", port))
            os._exit(0)
        os.waitpid(child, 0)
        newest.settimeout(10)
        got = newest.recv(100)
        R.check(f"the newest of {n} sockets gets its datagram", got == b"to the newest socket", repr(got))
        ino = os.fstat(newest.fileno()).st_ino
    finally:
        for s in socks:
            s.close()
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    R.check(f"hone-read stops cleanly after {n} sockets", p.returncode == 0, err[-500:])
    return took, ino, port, child


def section_end(path):
    """The options of the file's closing statistics block."""
    with open(path, "rb") as f:
        blocks = pcapng_blocks(f.read())
    isb = [body for btype, body in blocks if btype == 5]
    return dict(options(isb[-1][12:])) if isb else {}


def datagrams(path, port):
    """The capture's PAKT records to and from `port` on loopback."""
    with open(path, "rb") as f:
        records = dump(TOOLS, f.read())
    return [r for r in records if r["tag"] == "PAKT" and r["proto"] == "UDPv4"
            and (r["dst"] == f"127.0.0.1:{port}" or r["src"] == f"127.0.0.1:{port}")]


def u64(opts, code):
    value = opts.get(code)
    return int.from_bytes(value, "little") if value and len(value) == 8 else None


def test_bad_max_sockets():
    r = M.unload_all()
    R.check("the chain unloads before hone_notify is loaded alone", r.returncode == 0, r.stderr)
    for value in ["0", "1023", "4194305", "-1"]:
        before = len(dmesg())
        r = M.modprobe("hone_notify", f"max_sockets={value}")
        log = dmesg()[before:]
        R.check(f"hone_notify refuses max_sockets={value} with a clear message",
                r.returncode != 0 and "invalid parameter max_sockets" in log and "hone_notify" not in Modules.loaded(),
                f"rc={r.returncode} log={log.strip()!r}")
    r = M.modprobe("hone_notify", "max_sockets=many")
    R.check("and a value that is not a number", r.returncode != 0 and "hone_notify" not in Modules.loaded(), r.stderr)


def test_many_sockets():
    M.unload_all()
    r = M.load()
    R.check("the chain loads with the default socket table", r.returncode == 0, r.stderr)
    R.check("max_sockets reads back its default", param("max_sockets", "hone_notify") == "229376",
            param("max_sockets", "hone_notify"))
    d = "/tmp/hone-scale"
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = f"{d}/many.pcapng"
    with FileLimit(MANY):
        took, ino, port, child = capture_sockets(MANY, path)
    R.emit(f"# {MANY} sockets opened in {took:.1f} s under hone-read")
    pkts = datagrams(path, port)
    arrived = [r for r in pkts if r["dir"] == "I" and r["dst"] == f"127.0.0.1:{port}"]
    R.check(f"the datagram arriving on the newest of {MANY} sockets names its socket and its owner",
            len(arrived) == 1 and arrived[0]["conn"] == ino and arrived[0]["pid"] == os.getpid(),
            f"inode {ino} pid {os.getpid()}: {[r['line'] for r in pkts]}")
    sent = [r for r in pkts if r["dir"] == "O" and r["dst"] == f"127.0.0.1:{port}"]
    R.check("and the one leaving names its sender", len(sent) == 1 and sent[0]["pid"] == child,
            f"child {child}: {[r['line'] for r in pkts]}")
    opts = section_end(path)
    R.check("the section's statistics count no untracked socket (option 265)", u64(opts, 265) == 0,
            f"265={u64(opts, 265)}")


def test_full_table():
    r = M.unload_all()
    r = M.modprobe("hone_notify", "max_sockets=1024")
    R.check("hone_notify loads with max_sockets=1024", r.returncode == 0, r.stderr)
    r = M.load()
    R.check("and the chain above it", r.returncode == 0, r.stderr)
    d = "/tmp/hone-scale"
    os.makedirs(d, exist_ok=True)
    path = f"{d}/full.pcapng"
    n = 3000
    with FileLimit(n):
        _, ino, port, child = capture_sockets(n, path)
    opts = section_end(path)
    # The table holds 1024 at most, some of them sockets open before; the child's socket is one more.
    untracked = u64(opts, 265)
    R.check(f"of {n + 1} sockets opened into a table of 1024, the rest are counted untracked (option 265)",
            untracked is not None and n + 1 - 1024 <= untracked <= n + 50, f"265={untracked}")
    pkts = datagrams(path, port)
    arrived = [r for r in pkts if r["dir"] == "I" and r["dst"] == f"127.0.0.1:{port}"]
    R.check("an untracked socket's arriving datagram still names its socket, but no process",
            len(arrived) == 1 and arrived[0]["conn"] == ino and arrived[0]["pid"] == 0,
            f"inode {ino}: {[r['line'] for r in pkts]}")
    sent = [r for r in pkts if r["dir"] == "O" and r["dst"] == f"127.0.0.1:{port}"]
    R.check("while one sent from an untracked socket in process context names its sender",
            len(sent) == 1 and sent[0]["pid"] == child, f"child {child}: {[r['line'] for r in pkts]}")
    before = len(dmesg())
    r = M.unload_all()
    log = dmesg()[before:]
    R.check("unloading says in the kernel log how many sockets went untracked",
            r.returncode == 0 and f"{untracked} {UNTRACKED_WARNING}" in log, log.strip()[-400:])
    shutil.rmtree(d, ignore_errors=True)
    r = M.load()
    R.check("the chain loads again with the default table", r.returncode == 0 and
            param("max_sockets", "hone_notify") == "229376", r.stderr)


TESTS = [test_bad_max_sockets, test_many_sockets, test_full_table]
