# SPDX-License-Identifier: GPL-2.0
"""Helpers for Hone's in-VM tests: module loading, device readers, parsers of both formats.

Runs inside the test VM (as root), against the real modules and real processes.
"""

import grp
import os
import re
import select
import struct
import subprocess
import threading
import time

MODULES = ["honeevent", "hone_notify", "process_notify", "socket_notify", "packet_notify"]


class Results:
    """Collects checks; each prints `ok - name` or `not ok - name: why`."""

    def __init__(self, path):
        self.passed = 0
        self.failed = 0
        self.path = path
        self.lines = []

    def emit(self, line):
        print(line, flush=True)
        self.lines.append(line)
        self._write(line + "\n", os.O_APPEND)

    def finish(self, line):
        """Emits the summary line, then replaces the results file with a whole copy. Writes to the
        shared folder have gone missing on their way to the host once (the stock unstable kernel:
        the host saw only the first line of a run that passed); the copy, written aside and then
        renamed over it, makes it whole or leaves it as it was."""
        self.emit(line)
        if self.path:
            whole = f"{self.path}.whole"
            self._write("".join(f"{l}\n" for l in self.lines), os.O_TRUNC, whole)
            os.replace(whole, self.path)

    def _write(self, text, mode, path=None):
        """Writes text to the results file (or path), through a new descriptor, synced before
        closed."""
        path = path or self.path
        if not path:
            return
        data = text.encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode, 0o644)
        try:
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            self.emit(f"ok - {name}")
        else:
            self.failed += 1
            self.emit(f"not ok - {name}" + (f": {detail}" if detail else ""))
        return cond


class Modules:
    """Loads and unloads the module chain from the staged module tree."""

    def __init__(self, stage):
        self.stage = stage

    def modprobe(self, *args):
        return subprocess.run(["modprobe", "-d", self.stage, *args], capture_output=True, text=True)

    def load(self, **params):
        args = ["honeevent"] + [f"{k}={v}" for k, v in params.items()]
        return self.modprobe(*args)

    def rmmod(self, name):
        return subprocess.run(["rmmod", name], capture_output=True, text=True)

    def unload_all(self):
        """`modprobe -r honeevent`, as a user unloads the chain: all five modules go."""
        return self.modprobe("-r", "honeevent")

    @staticmethod
    def loaded():
        with open("/proc/modules") as f:
            return {line.split()[0] for line in f}


def fork_storm(n):
    """Forks `n` children that exit at once, one after the other; returns their pids."""
    pids = set()
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        pids.add(pid)
        os.waitpid(pid, 0)
    return pids


def param(name, module="honeevent"):
    with open(f"/sys/module/{module}/parameters/{name}") as f:
        return f.read().rstrip("\n")


class DeviceReader:
    """Reads a device in a thread with `chunk`-sized reads, by poll() or by blocking read().

    A blocking reader is woken up for closing by a new event, so it may stop in the middle of
    a record: close() returns the complete records only.
    """

    def __init__(self, path, chunk=4096, blocking=False):
        self.path = path
        self.chunk = chunk
        self.blocking = blocking
        self.fd = os.open(path, os.O_RDONLY)
        self.buf = bytearray()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        try:
            while True:
                if self.stop.is_set():
                    # A polled reader stops where the stream pauses, never inside a record:
                    # poll() stays readable while a record is partly read.
                    if self.blocking or not poller.poll(0):
                        break
                elif not self.blocking and not poller.poll(100):
                    continue
                data = os.read(self.fd, self.chunk)
                if len(data) > self.chunk:
                    raise AssertionError(f"read returned {len(data)} > {self.chunk} bytes")
                with self.lock:
                    self.buf += data
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def data(self):
        with self.lock:
            return bytes(self.buf)

    def wait_quiet(self, quiet=1.0, limit=60.0):
        """Waits until nothing new arrived for `quiet` seconds."""
        end = time.time() + limit
        last = -1
        while time.time() < end:
            n = len(self.data())
            if n == last:
                return
            last = n
            time.sleep(quiet)

    def close(self):
        self.stop.set()
        if self.blocking:
            # A blocking read returns once any event arrives.
            subprocess.run(["/bin/true"])
        self.thread.join(10)
        os.close(self.fd)
        data = self.data()
        if not self.blocking:
            return data
        if self.path.endswith("t"):
            return data[:data.rfind(b"\n") + 1]
        return data[:complete_blocks(data)]


def complete_blocks(data):
    """Length of the whole PCAP-NG blocks at the start of `data`."""
    off = 0
    while len(data) - off >= 8:
        (blen,) = struct.unpack_from("<I", data, off + 4)
        if blen < 12 or off + blen > len(data):
            break
        off += blen
    return off


def unescape(field):
    """Undoes the \\xHH escapes of a /dev/honet field."""
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), field)


def parse_text(data):
    """Parses /dev/honet lines into dicts; raises on a malformed line. A PAKT record gets the
    place of the PKNS line before it in its section as "place" (netns, cgroup, container)."""
    records = []
    place = None
    for line in data.split(b"\n"):
        if not line:
            continue
        parts = line.split(b" ", 2)
        ts, tag = parts[0], parts[1].decode()
        if not re.fullmatch(rb"\d+\.\d{9}", ts):
            raise ValueError(f"bad timestamp in {line!r}")
        rec = {"ts": float(ts), "tag": tag, "line": line}
        rest = parts[2] if len(parts) > 2 else b""
        if tag == "HEAD":
            f = rest.split(b" ")
            place = None
            rec["boot"] = float(f[0])
            rec["guid"] = f[1].decode() if len(f) > 1 else None
        elif tag in ("FORK", "EXEC", "EXIT", "KTHD"):
            f = rest.split(b" ", 4)
            rec.update(pid=int(f[0]), ppid=int(f[1]), uid=int(f[2]), gid=int(f[3]), path=None, argv=None)
            tail = f[4] if len(f) > 4 else b""
            if tag == "KTHD" and tail:
                rec["path"] = unescape(tail[1:-1])
            elif tail.startswith(b'"'):
                end = tail.index(b'"', 1)
                rec["path"] = unescape(tail[1:end])
                args = tail[end + 2:]
                if not args.endswith(b" ") and args:
                    raise ValueError(f"argv does not end with a space: {line!r}")
                rec["argv"] = [unescape(a) for a in args[:-1].split(b" ")] if args else []
            elif tail:
                raise ValueError(f"unexpected tail in {line!r}")
        elif tag == "CGNS":
            f = rest.split(b" ", 5)
            rec.update(pid=int(f[0]), cgroup=int(f[1]), nspid=int(f[2]), pidns=int(f[3]), netns=int(f[4]))
            tail = f[5] if len(f) > 5 else b""
            end = tail.rfind(b'" ')
            if not tail.startswith(b'"') or end < 1 or b" " in tail[end + 2:]:
                raise ValueError(f"bad place line {line!r}")
            container = tail[end + 2:]
            rec.update(cgroup_path=unescape(tail[1:end]), container=None if container == b"-" else container.decode())
        elif tag == "PKNS":
            f = rest.split(b" ")
            if len(f) != 3:
                raise ValueError(f"bad packet place line {line!r}")
            known = lambda v: None if v == b"-" else v
            rec.update(netns=known(f[0]) and int(f[0]), cgroup=known(f[1]) and int(f[1]),
                       container=known(f[2]) and f[2].decode())
            place = (rec["netns"], rec["cgroup"], rec["container"])
        elif tag == "PAKT":
            rec["place"] = place
            f = rest.split(b" ")
            rec.update(dir=f[0].decode(), conn=int(f[1], 16), pid=int(f[2]), proto=f[3].decode(),
                       src=f[4].decode(), dst=f[6].decode(), len=int(f[-1]))
            if f[5] != b"->" or len(f) != 8:
                raise ValueError(f"bad packet line {line!r}")
        elif tag == "SOCK":
            f = rest.split(b" ")
            rec.update(event=f[0].decode(), pid=int(f[1]), ppid=int(f[2]), uid=int(f[3]), gid=int(f[4]),
                       conn=int(f[5], 16))
        elif tag == "TAIL":
            if rest:
                raise ValueError(f"unexpected tail in {line!r}")
        elif tag == "LOST":
            f = rest.split(b" ")
            rec.update(process=int(f[0]), socket=int(f[1]), packet=int(f[2]))
        else:
            raise ValueError(f"unknown record {line!r}")
        records.append(rec)
    return records


def pcapng_blocks(data):
    """Splits a little-endian PCAP-NG stream into (type, body) pairs; raises if malformed."""
    blocks = []
    off = 0
    while off < len(data):
        if len(data) - off < 12:
            raise ValueError(f"truncated block at offset {off}")
        btype, blen = struct.unpack_from("<II", data, off)
        if blen % 4 or blen < 12 or off + blen > len(data):
            raise ValueError(f"bad block length {blen} at offset {off}")
        (trailer,) = struct.unpack_from("<I", data, off + blen - 4)
        if trailer != blen:
            raise ValueError(f"length mismatch at offset {off}")
        blocks.append((btype, data[off + 8:off + blen - 4]))
        off += blen
    return blocks


def options(body):
    """(code, value) pairs of an options area."""
    out = []
    off = 0
    while off + 4 <= len(body):
        code, length = struct.unpack_from("<HH", body, off)
        if code == 0:
            break
        out.append((code, body[off + 4:off + 4 + length]))
        off += 4 + length + (-length % 4)
    return out


def dump(tools, data, *args):
    """Decodes a /dev/hone capture with hone-dump (and its options `args`) into text records."""
    p = subprocess.run([os.path.join(tools, "hone-dump"), *args], input=data, capture_output=True)
    if p.returncode != 0:
        raise ValueError(f"hone-dump failed: {p.stderr.decode(errors='replace')}")
    return parse_text(p.stdout)


CGROUP_ROOT = "/sys/fs/cgroup"


def make_cgroup(path):
    """Makes the cgroup v2 directory `path` (under CGROUP_ROOT, mounting cgroup2 there if it is not
    yet); returns its id, the inode number of its directory."""
    if not os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.procs")):
        subprocess.run(["mount", "-t", "cgroup2", "cgroup2", CGROUP_ROOT], check=True)
    os.makedirs(os.path.join(CGROUP_ROOT, path), exist_ok=True)
    return os.stat(os.path.join(CGROUP_ROOT, path)).st_ino


def join_cgroup(path):
    """Moves the calling process into the cgroup at `path` (under CGROUP_ROOT)."""
    with open(os.path.join(CGROUP_ROOT, path, "cgroup.procs"), "w") as f:
        f.write("0")


def dmesg():
    return subprocess.run(["dmesg"], capture_output=True, text=True).stdout


# What a kernel report in the log starts with: warnings, bugs (KASAN's too), oopses, UBSAN,
# lockdep, RCU and kmemleak.
REPORT_KEYS = ("WARNING:", "BUG:", "UBSAN:", "Oops", "general protection", "Call Trace",
               "possible circular locking", "possible recursive locking", "inconsistent lock state",
               "suspicious RCU usage", "unreferenced object")
LOG_MARK = "hone-tests: the tests start here; no Hone module was loaded before this line"


VM_UP = "# VM up:"


def mark_kernel_log(results):
    """Marks the start of the tests, before Hone is loaded: in the kernel log, the line from which
    kernel_reports() judges it; in the results, a first `# VM up:` line (a run whose results lack
    it never got this far: the VM did not boot)."""
    results.emit(f"{VM_UP} {os.uname().release}, tests starting")
    with open("/dev/kmsg", "w") as f:
        f.write(LOG_MARK + "\n")


def kernel_reports():
    """The report lines of the kernel log: (since mark_kernel_log(), before it). What the kernel
    reported while booting, before any Hone module was loaded, is not Hone's; if the mark is gone
    (the log wrapped), every line counts as since."""
    lines = dmesg().splitlines()
    start = next((i for i, line in enumerate(lines) if LOG_MARK in line), 0)
    reports = [i for i, line in enumerate(lines) if any(k in line for k in REPORT_KEYS)]
    return [lines[i] for i in reports if i >= start], [lines[i] for i in reports if i < start]


def kernel_config():
    """The running kernel's options ({"CONFIG_X": "y", ...}): from /boot/config-<release>, where
    Debian's kernel packages put it, or else from the test kernel's build tree (HONE_KDIR)."""
    release = os.uname().release
    for path in (f"/boot/config-{release}", os.path.join(os.environ.get("HONE_KDIR", "/nonexistent"), ".config")):
        if os.path.isfile(path):
            with open(path) as f:
                return dict(line.rstrip("\n").split("=", 1) for line in f if line.startswith("CONFIG_"))
    raise RuntimeError(f"no configuration found for the running kernel {release}")


def nodes_follow_udev_rule():
    """Once udev has handled the devices' events: whether /dev/hone and /dev/honet belong to
    root:hone with mode 0440, as hone-tools' udev rule says; and what they are."""
    subprocess.run(["udevadm", "settle"], capture_output=True)
    try:
        gid = grp.getgrnam("hone").gr_gid
    except KeyError:
        gid = None
    modes = {d: os.stat(d) for d in ("/dev/hone", "/dev/honet") if os.path.exists(d)}
    ok = gid is not None and len(modes) == 2 and all(
        st.st_uid == 0 and st.st_gid == gid and st.st_mode & 0o777 == 0o440 for st in modes.values())
    return ok, f"{[(d, st.st_uid, st.st_gid, oct(st.st_mode)) for d, st in modes.items()]} hone={gid}"
