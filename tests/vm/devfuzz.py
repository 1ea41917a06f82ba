# SPDX-License-Identifier: GPL-2.0
"""A fuzzer of Hone's device interface, run against the live devices in the test VM.

It opens /dev/hone or /dev/honet and, for a while, picks at random: a known ioctl with good or
bad arguments (out-of-range values, bad and kernel addresses, read-only buffers, lists of every
length, fds that are sockets, files or nothing), an unknown ioctl number, a read of a random size
into a good or a bad buffer, a poll, or a call a read-only character device must refuse (write,
lseek, mmap). The contract it checks:

* every call returns or fails with an errno of the documented set, never hangs;
* the bytes the successful reads returned, in order, are still a well-formed stream: a failed or
  odd-sized read loses or tears nothing (whole text lines, PCAP-NG blocks whose lengths agree,
  zeroed padding);
* the kernel logs nothing (checked by the caller, with the rest of the kernel log).

Usage as a program (what the stress test's fuzzing readers run):
  devfuzz.py DEVICE SECONDS SEED      prints one JSON report line
"""

import ctypes
import errno
import json
import mmap
import os
import random
import select
import socket
import struct
import sys
import time

from honetest import options

_MAGIC = 0xE0


def _ioc(direction, nr, size):
    return direction << 30 | size << 16 | _MAGIC << 8 | nr


RESTART = _ioc(0, 1, 0)
GET_AT_HEAD = _ioc(0, 3, 0)
GET_SNAPLEN = _ioc(2, 4, 4)
SET_SNAPLEN = _ioc(1, 5, 4)
SET_FILTER_SOCK = _ioc(1, 6, 4)
SET_FILTER_PIDS = _ioc(1, 8, 16)
SET_FILTER_CONNS = _ioc(1, 9, 16)
GET_STATS = _ioc(2, 10, 112)
KNOWN = [RESTART, GET_AT_HEAD, GET_SNAPLEN, SET_SNAPLEN, SET_FILTER_SOCK, SET_FILTER_PIDS,
         SET_FILTER_CONNS, GET_STATS]

# What a call may fail with: bad argument, bad address, bad or wrong fd, not a tty ioctl, nothing
# to read yet (the fuzzer reads without blocking), and what the VFS answers for a refused call.
ALLOWED = {errno.EINVAL, errno.EFAULT, errno.EBADF, errno.ENOTSOCK, errno.ENOTTY, errno.EAGAIN,
           errno.ESPIPE, errno.ENODEV, errno.EACCES, errno.EPERM}

PAGE = mmap.PAGESIZE
PCAPNG_TYPES = {0x0A0D0D0A, 1, 5, 6, 0x101, 0x102, 0x80000001}
TEXT_TAGS = {b"HEAD", b"TAIL", b"FORK", b"EXEC", b"EXIT", b"KTHD", b"CGNS", b"SOCK", b"PKNS", b"PAKT", b"LOST"}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
_libc.ioctl.restype = ctypes.c_int
_libc.read.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
_libc.read.restype = ctypes.c_ssize_t
_libc.write.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
_libc.write.restype = ctypes.c_ssize_t
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_libc.mmap.restype = ctypes.c_void_p
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


def _call(fn, *args):
    """(result, errno) of a libc call."""
    ctypes.set_errno(0)
    r = fn(*args)
    return r, (ctypes.get_errno() if r == -1 or r == ctypes.c_void_p(-1).value else 0)


class Fuzzer:
    def __init__(self, device, seed):
        self.device = device
        self.rng = random.Random(seed)
        self.fd = os.open(device, os.O_RDONLY | os.O_NONBLOCK)
        self.stream = bytearray()
        self.calls = 0
        self.errors = {}
        self.bad = []  # calls that failed with an errno outside ALLOWED
        self.buffers = [ctypes.create_string_buffer(1 << 16) for _ in range(2)]
        # A page that is mapped read-only and one that is not mapped at all.
        self.ro_page = _libc.mmap(None, PAGE, mmap.PROT_READ, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
        gone = _libc.mmap(None, PAGE, mmap.PROT_READ, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
        _libc.munmap(gone, PAGE)
        self.bad_addresses = [0, 1, gone, gone + PAGE - 3, 0xFFFF888000000000, 0xFFFFFFFFFFFFF000,
                              (1 << 64) - 1, 0x00007FFFFFFFF000]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.file = os.open("/proc/self/status", os.O_RDONLY)

    def close(self):
        os.close(self.fd)
        os.close(self.file)
        self.sock.close()

    # argument makers -------------------------------------------------------------------------

    def _address(self):
        """A good buffer (random content), a read-only page, or a bad address."""
        roll = self.rng.random()
        if roll < 0.55:
            buf = self.rng.choice(self.buffers)
            ctypes.memmove(buf, self.rng.randbytes(256), 256)
            return ctypes.addressof(buf)
        if roll < 0.65:
            return self.ro_page
        return self.rng.choice(self.bad_addresses)

    def _filter_list(self):
        """A struct hone_filter_list in a good buffer, with ids anywhere."""
        buf = self.buffers[0]
        count = self.rng.choice([0, 1, 2, 63, 64, 65, 1000, 0xFFFFFFFF, self.rng.getrandbits(32)])
        reserved = 0 if self.rng.random() < 0.8 else self.rng.getrandbits(32)
        ids = self.buffers[1]
        ctypes.memmove(ids, self.rng.randbytes(4 * 64), 4 * 64)
        where = ctypes.addressof(ids) if self.rng.random() < 0.7 else self.rng.choice(self.bad_addresses)
        ctypes.memmove(buf, struct.pack("<IIQ", count, reserved, where), 16)
        return ctypes.addressof(buf)

    def _value(self):
        return self.rng.choice([0, 1, 64, 65535, 65536, 0x7FFFFFFF, 0xFFFFFFFF, (1 << 64) - 1,
                                self.rng.getrandbits(64), self.rng.getrandbits(16)])

    def _fd_value(self):
        return self.rng.choice([self.sock.fileno(), self.file, self.fd, -1, 9999, (1 << 32) - 1,
                                self.rng.getrandbits(32)])

    # actions ---------------------------------------------------------------------------------

    def _note(self, what, err):
        self.calls += 1
        if err:
            self.errors[errno.errorcode.get(err, str(err))] = self.errors.get(errno.errorcode.get(err, str(err)), 0) + 1
            if err not in ALLOWED:
                self.bad.append(f"{what}: {errno.errorcode.get(err, err)}")

    def ioctl(self):
        cmd = self.rng.choice(KNOWN) if self.rng.random() < 0.75 else self.rng.choice([
            self.rng.getrandbits(32),
            _ioc(self.rng.randrange(4), self.rng.randrange(256), self.rng.randrange(1 << 14)),
            _ioc(self.rng.randrange(4), self.rng.choice([2, 7, 11, 12, 255]), 0)])
        if cmd in (SET_FILTER_PIDS, SET_FILTER_CONNS):
            arg = self._filter_list() if self.rng.random() < 0.7 else self._address()
        elif cmd == SET_FILTER_SOCK:
            arg = self._fd_value()
        elif cmd == SET_SNAPLEN:
            arg = self._value()
        elif cmd == RESTART and self.rng.random() < 0.7:
            return  # restarts are fine, but not so often that the stream is all headers
        else:
            arg = self._address() if self.rng.random() < 0.8 else self._value()
        _, err = _call(_libc.ioctl, self.fd, cmd, arg)
        self._note(f"ioctl {cmd:#x} {arg:#x}", err)
        if cmd in (SET_FILTER_PIDS, SET_FILTER_CONNS, SET_FILTER_SOCK) and not err and self.rng.random() < 0.5:
            # Keep the stream interesting: clear the filter again most of the time.
            _call(_libc.ioctl, self.fd, SET_FILTER_SOCK, (1 << 64) - 1)

    def read(self):
        size = self.rng.choice([0, 1, 2, 3, 5, 7, 13, 64, 100, 511, 4095, 4096, 4097, 65536])
        if self.rng.random() < 0.8:
            buf = self.buffers[0]
            n, err = _call(_libc.read, self.fd, buf, size)
            self._note(f"read {size}", err)
            if n > 0:
                self.stream += ctypes.string_at(buf, n)
        else:
            where = self.rng.choice(self.bad_addresses + [self.ro_page])
            n, err = _call(_libc.read, self.fd, where, max(size, 1))
            self._note(f"read {size} to {where:#x}", err)
            if n > 0:
                self.bad.append(f"read to bad address {where:#x} returned {n}")

    def refused_call(self):
        kind = self.rng.randrange(3)
        if kind == 0:
            n, err = _call(_libc.write, self.fd, self.buffers[0], self.rng.choice([0, 1, 100]))
            what = "write"
            ok = n <= 0 and err in (errno.EBADF, 0)
        elif kind == 1:
            try:
                if self.rng.random() < 0.5:
                    os.lseek(self.fd, self.rng.choice([0, 1, 100]), os.SEEK_SET)
                else:
                    os.pread(self.fd, 16, self.rng.choice([0, 1, 100]))
                err, ok = 0, False
            except OSError as e:
                err, ok = e.errno, e.errno == errno.ESPIPE
            what = "lseek/pread"
        else:
            try:
                mmap.mmap(self.fd, PAGE, prot=mmap.PROT_READ)
                err, ok = 0, False
            except OSError as e:
                err, ok = e.errno, e.errno in (errno.ENODEV, errno.EACCES, errno.EINVAL)
            what = "mmap"
        self._note(what, err)
        if not ok:
            self.bad.append(f"{what} was not refused (errno {err})")

    def poll(self):
        p = select.poll()
        p.register(self.fd, select.POLLIN)
        p.poll(self.rng.choice([0, 1, 10]))
        self.calls += 1

    def run(self, seconds):
        end = time.monotonic() + seconds
        actions = [self.ioctl] * 4 + [self.read] * 5 + [self.refused_call, self.poll]
        while time.monotonic() < end:
            self.rng.choice(actions)()
        # Drain what is left, with plain reads, so the stream ends on a record boundary. A
        # restart makes one read return end of file before the new section.
        ends = 0
        while ends < 2:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            ends += not chunk
            self.stream += chunk

    def stream_problems(self):
        """Why the bytes read are not a well-formed stream (empty list if they are)."""
        data = bytes(self.stream)
        if self.device.endswith("t"):
            problems = []
            for line in data.split(b"\n")[:-1]:
                parts = line.split(b" ", 2)
                if len(parts) < 2 or parts[1] not in TEXT_TAGS:
                    problems.append(f"torn or unknown text line {line[:80]!r}")
            if data and not data.endswith(b"\n"):
                problems.append("the text stream ends inside a line")
            return problems[:5]
        return pcapng_problems(data)


def pcapng_problems(data):
    """Why `data` is not a well-formed little-endian PCAP-NG stream with zeroed padding."""
    off = 0
    while off < len(data):
        if len(data) - off < 12:
            return [f"truncated block at offset {off}"]
        btype, blen = struct.unpack_from("<II", data, off)
        if btype not in PCAPNG_TYPES:
            return [f"unknown block type {btype:#x} at offset {off}"]
        if blen % 4 or blen < 12 or off + blen > len(data):
            return [f"bad block length {blen} at offset {off}"]
        if struct.unpack_from("<I", data, off + blen - 4)[0] != blen:
            return [f"length mismatch at offset {off}"]
        problem = padding_problem(btype, data[off + 8:off + blen - 4])
        if problem:
            return [f"block {btype:#x} at offset {off}: {problem}"]
        off += blen
    return []


def _options_padding(body, start):
    """Checks the options from `start`: every value's padding is zero, the list ends right."""
    off = start
    while off + 4 <= len(body):
        code, length = struct.unpack_from("<HH", body, off)
        off += 4
        if code == 0:
            return None if length == 0 and off == len(body) else "opt_endofopt is not the last 4 bytes"
        padded = (length + 3) & ~3
        if off + padded > len(body):
            return f"option {code} runs past the block"
        if any(body[off + length:off + padded]):
            return f"option {code} has non-zero padding"
        off += padded
    return None if off == len(body) else "options do not fill the block"


# Where x86-64 (4-level paging) maps kernel memory: the direct map, vmalloc/ioremap and vmemmap,
# then kernel text and modules (Documentation/arch/x86/x86_64/mm.rst).
KERNEL_RANGES = ((0xFFFF888000000000, 0xFFFFEB0000000000), (0xFFFFFFFF80000000, 0xFFFFFFFFFF000000))


def is_kernel_address(value):
    return any(lo <= value < hi for lo, hi in KERNEL_RANGES)


# Where a block's header holds its timestamp (offset from the block's start), by block type.
HEADER_TIMESTAMP = {6: 12, 5: 12, 0x101: 12, 0x102: 16}


def timestamps(data, off, btype, blen):
    """The timestamps (high word, then low word) of one block: the header's and, in an ISB, the
    values of isb_starttime (2) and isb_endtime (3), as bytes. Read as one little-endian u64 they
    are `low << 32 | high`, which is in a kernel range whenever the low word of a nanosecond time
    is; they are times, not addresses."""
    if btype not in HEADER_TIMESTAMP:
        return set()
    at = off + HEADER_TIMESTAMP[btype]
    found = {data[at:at + 8]}
    if btype == 5:
        isb = dict(options(data[off + 20:off + blen - 4]))
        found |= {isb[code] for code in (2, 3) if len(isb.get(code, b"")) == 8}
    return found


def kernel_pointers(data):
    """Offsets of 8-byte values in a PCAP-NG stream's block structure (not packet data, not
    timestamps) that fall where the kernel maps its memory."""
    found = []
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        if blen < 12 or blen % 4:
            break
        body_start, body_end = off + 8, off + blen - 4
        skip = range(0)
        if btype == 6:
            captured = struct.unpack_from("<I", data, body_start + 12)[0]
            skip = range(body_start + 20, body_start + 20 + ((captured + 3) & ~3))
        times = timestamps(data, off, btype, blen)
        for at in range(body_start, body_end - 7, 4):
            if at in skip or at + 7 in skip or data[at:at + 8] in times:
                continue
            if is_kernel_address(struct.unpack_from("<Q", data, at)[0]):
                found.append(at)
        off += blen
    return found


def padding_problem(btype, body):
    """Non-zero padding or reserved bytes in one block body (None when clean)."""
    if btype == 0x0A0D0D0A:
        return _options_padding(body, 16)
    if btype == 1:  # IDB: linktype, reserved, snaplen
        if body[2:4] != b"\0\0":
            return "IDB reserved field is not zero"
        return _options_padding(body, 8)
    if btype == 6:  # EPB: interface, ts hi, ts lo, captured, original, data, options
        captured = struct.unpack_from("<I", body, 12)[0]
        start = 20 + ((captured + 3) & ~3)
        if start > len(body) or any(body[20 + captured:start]):
            return "EPB packet data padding is not zero"
        return _options_padding(body, start)
    if btype == 5:  # ISB: interface, ts hi, ts lo
        return _options_padding(body, 12)
    if btype == 0x80000001:  # Darwin Process Info Block: pid
        return _options_padding(body, 4)
    return None  # 0x101/0x102: fixed-layout blocks of the original format, checked by hone-dump


def main():
    device, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    f = Fuzzer(device, seed)
    try:
        f.run(seconds)
    finally:
        f.close()
    print(json.dumps({"device": device, "seed": seed, "calls": f.calls, "errors": f.errors,
                      "bad": f.bad[:10], "stream": len(f.stream), "stream_problems": f.stream_problems()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
