# SPDX-License-Identifier: GPL-2.0
"""In-VM tests of the device ioctls: restart, snaplen, socket/pid/connection filters, misuse."""

import ctypes
import errno
import fcntl
import os
import socket
import struct
import subprocess
import time

from devfuzz import (GET_AT_HEAD, GET_SNAPLEN, RESTART, SET_FILTER_CONNS, SET_FILTER_PIDS,
                     SET_FILTER_SOCK, SET_SNAPLEN)
from honetest import options, parse_text, pcapng_blocks

R = M = TOOLS = None


def configure(results, modules, tools):
    global R, M, TOOLS
    R, M, TOOLS = results, modules, tools


def drain(fd, until_eof=False, limit=10.0):
    """Reads what is there (non-blocking); with until_eof, up to the first 0-byte read."""
    out = b""
    end = time.time() + limit
    while time.time() < end:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            if until_eof:
                time.sleep(0.05)
                continue
            break
        if not chunk:
            return out, True
        out += chunk
    return out, False


def errno_of(fn):
    try:
        fn()
        return 0
    except OSError as e:
        return e.errno


def udp_burst(n=5, sock=None, port=7500):
    s = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(n):
        s.sendto(b"hone-filter-test", ("127.0.0.1", port))
    if sock is None:
        s.close()


def epbs(blocks):
    out = []
    for btype, body in blocks:
        if btype == 6:
            caplen, origlen = struct.unpack_from("<II", body, 12)
            opts = dict(options(body[20 + caplen + (-caplen % 4):]))
            out.append({"caplen": caplen, "len": origlen,
                        "conn": struct.unpack("<I", opts[257])[0] if 257 in opts else None,
                        "pid": struct.unpack("<I", opts[258])[0] if 258 in opts else None})
    return out


def test_restart():
    subprocess.run(["ip", "link", "set", "lo", "up"])
    fd = os.open("/dev/hone", os.O_RDONLY | os.O_NONBLOCK)
    R.check("a new reader is at head", fcntl.ioctl(fd, GET_AT_HEAD) == 1)
    first, _ = drain(fd)
    R.check("after its header it is not", fcntl.ioctl(fd, GET_AT_HEAD) == 0)
    subprocess.run(["/usr/bin/true", "before-restart"])
    udp_burst()
    time.sleep(0.3)
    R.check("RESTART returns 0", fcntl.ioctl(fd, RESTART) == 0)
    R.check("after RESTART the reader is at head again", fcntl.ioctl(fd, GET_AT_HEAD) == 1)
    rest, eof = drain(fd, until_eof=True)
    section = first + rest
    R.check("the section ends with one 0-byte read", eof)
    try:
        blocks = pcapng_blocks(section)
    except ValueError as e:
        R.check("the ended section is well-formed", False, str(e))
        return
    R.check("the ended section starts with SHB+IDB and ends with an ISB",
            blocks[0][0] == 0x0A0D0D0A and blocks[1][0] == 1 and blocks[-1][0] == 5 and len(blocks[-1][1]) == 208 - 12)
    isb = dict(options(blocks[-1][1][12:]))
    u64 = lambda code: struct.unpack("<Q", isb[code])[0]
    count = lambda t: sum(1 for b in blocks if b[0] == t)
    R.check("the ISB counts exactly the blocks this reader delivered (processes, sockets, packets)",
            (u64(260), u64(264), u64(8)) == (count(0x101), count(0x102), count(6)),
            f"ISB {u64(260), u64(264), u64(8)} vs blocks {count(0x101), count(0x102), count(6)}")
    R.check("and Hone's global counters are at least as large",
            u64(257) >= u64(260) and u64(4) >= u64(8) and u64(261) >= u64(264))
    after, _ = drain(fd)
    try:
        nb = pcapng_blocks(after)
        pids = set()
        for btype, body in nb:
            if btype == 0x101:
                pids.add(struct.unpack_from("<I", body)[0])
        R.check("the next read starts a new section: SHB, IDB and a fresh snapshot",
                nb[0][0] == 0x0A0D0D0A and nb[1][0] == 1 and 1 in pids and os.getpid() in pids)
    except (ValueError, IndexError) as e:
        R.check("the next read starts a new section: SHB, IDB and a fresh snapshot", False, str(e))
    os.close(fd)

    # A second restart while a section ends (before its statistics, or between them and the end
    # of file) does not take them away: hone-read cuts its files at that end of file.
    for read_first in (0, 16):
        fd = os.open("/dev/hone", os.O_RDONLY | os.O_NONBLOCK)
        head, _ = drain(fd)
        fcntl.ioctl(fd, RESTART)
        tail = os.read(fd, read_first) if read_first else b""
        fcntl.ioctl(fd, RESTART)
        rest, eof = drain(fd, until_eof=True)
        after, _ = drain(fd)
        os.close(fd)
        try:
            blocks = pcapng_blocks(head + tail + rest)
            nb = pcapng_blocks(after)
            ok = (eof and blocks[-1][0] == 5 and len(blocks[-1][1]) == 208 - 12
                  and sum(1 for b in blocks if b[0] == 0x0A0D0D0A) == 1 and nb[0][0] == 0x0A0D0D0A)
            R.check(f"a second RESTART {'after' if read_first else 'before'} the first read of the ending section "
                    "keeps its statistics and its end of file", ok, f"{[b[0] for b in blocks[-3:]]} eof={eof}")
        except (ValueError, IndexError) as e:
            R.check("a second RESTART keeps the ending section's statistics and end of file", False, str(e))

    tfd = os.open("/dev/honet", os.O_RDONLY | os.O_NONBLOCK)
    drain(tfd)
    fcntl.ioctl(tfd, RESTART)
    text, eof = drain(tfd, until_eof=True)
    again, _ = drain(tfd)
    recs, nrecs = parse_text(text), parse_text(again)
    R.check("the text device ends a section with TAIL, then EOF, then HEAD",
            eof and recs and recs[-1]["tag"] == "TAIL" and nrecs and nrecs[0]["tag"] == "HEAD")
    os.close(tfd)


def test_snaplen():
    fd = os.open("/dev/hone", os.O_RDONLY | os.O_NONBLOCK)
    buf = bytearray(4)
    fcntl.ioctl(fd, GET_SNAPLEN, buf, True)
    R.check("GET_SNAPLEN gives the module default", struct.unpack("<I", buf)[0] == int(open(
        "/sys/module/honeevent/parameters/snaplen").read()))
    drain(fd)
    R.check("SET_SNAPLEN takes the value itself", fcntl.ioctl(fd, SET_SNAPLEN, 100) == 0)
    fcntl.ioctl(fd, GET_SNAPLEN, buf, True)
    R.check("GET_SNAPLEN reads it back", struct.unpack("<I", buf)[0] == 100)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"y" * 300, ("127.0.0.1", 7501))
    s.close()
    time.sleep(0.3)
    data, _ = drain(fd)
    blocks = pcapng_blocks(data)
    R.check("SET_SNAPLEN starts a new SHB+IDB advertising it, without an EOF",
            blocks[0][0] == 0x0A0D0D0A and blocks[1][0] == 1 and struct.unpack_from("<HHI", blocks[1][1])[2] == 100)
    big = [p for p in epbs(blocks) if p["len"] == 328]
    R.check("packets are captured up to the new snaplen", big and all(p["caplen"] == 100 for p in big), str(big))
    for bad in (65536, 100000, -1):
        R.check(f"SET_SNAPLEN {bad} is refused with EINVAL", errno_of(lambda: fcntl.ioctl(fd, SET_SNAPLEN, bad)) == errno.EINVAL)
    R.check("GET_SNAPLEN to a bad address fails with EFAULT", errno_of(lambda: fcntl.ioctl(fd, GET_SNAPLEN, 1)) == errno.EFAULT)
    os.close(fd)


def filter_list(ids, reserved=0):
    arr = (ctypes.c_uint32 * max(len(ids), 1))(*ids)
    return arr, struct.pack("<IIQ", len(ids), reserved, ctypes.addressof(arr))


def test_filters():
    watched = os.open("/dev/hone", os.O_RDONLY | os.O_NONBLOCK)
    plain = os.open("/dev/hone", os.O_RDONLY | os.O_NONBLOCK)
    own = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    own.bind(("127.0.0.1", 0))
    other.bind(("127.0.0.1", 0))
    own_conn, other_conn = os.fstat(own.fileno()).st_ino, os.fstat(other.fileno()).st_ino
    R.check("SET_FILTER_SOCK takes a socket fd", fcntl.ioctl(watched, SET_FILTER_SOCK, own.fileno()) == 0)
    # A process that sends only once the filter naming it is set.
    second = subprocess.Popen(["/usr/bin/python3", "-c", "import socket, sys\nsys.stdin.read()\n"
                               "for _ in range(3): socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                               ".sendto(b'x', ('127.0.0.1', 7503))\n"], stdin=subprocess.PIPE)
    arr, arg = filter_list([second.pid])
    R.check("SET_FILTER_PIDS takes a list", fcntl.ioctl(watched, SET_FILTER_PIDS, bytearray(arg), True) == 0)
    second.stdin.close()
    second.wait()
    arr3, arg3 = filter_list([other_conn])
    R.check("SET_FILTER_CONNS takes a list", fcntl.ioctl(watched, SET_FILTER_CONNS, bytearray(arg3), True) == 0)
    udp_burst(4, sock=own, port=7504)
    udp_burst(4, sock=other, port=7505)
    third = os.fork()
    if third == 0:
        udp_burst(2, port=7506)
        os._exit(0)
    os.waitpid(third, 0)
    time.sleep(0.5)
    w, p = epbs(pcapng_blocks(drain(watched)[0])), epbs(pcapng_blocks(drain(plain)[0]))
    R.check("the unfiltered reader sees the own socket's, the other socket's and the second process's packets",
            any(x["conn"] == own_conn for x in p) and any(x["conn"] == other_conn for x in p)
            and any(x["pid"] == second.pid for x in p))
    R.check("the filtered reader sees none of the filtered socket's packets", not any(x["conn"] == own_conn for x in w))
    R.check("nor the filtered connection's", not any(x["conn"] == other_conn for x in w))
    R.check("nor the filtered pid's", not any(x["pid"] == second.pid for x in w))
    R.check("but the packets of an unfiltered process", any(x["pid"] == third for x in w))
    fcntl.ioctl(watched, RESTART)
    section, _ = drain(watched, until_eof=True)
    isb = dict(options(pcapng_blocks(section)[-1][1][12:]))
    hidden = sum(1 for x in p if x["conn"] in (own_conn, other_conn) or x["pid"] == second.pid)
    R.check("the ISB counts the packets the filters hid", struct.unpack("<Q", isb[6])[0] >= hidden > 0,
            f"{struct.unpack('<Q', isb[6])[0]} vs {hidden}")
    # Misuse.
    R.check("SET_FILTER_SOCK with a closed fd fails with EBADF",
            errno_of(lambda: fcntl.ioctl(watched, SET_FILTER_SOCK, 9999)) == errno.EBADF)
    nul = os.open("/dev/null", os.O_RDONLY)
    R.check("SET_FILTER_SOCK with a file that is no socket fails with ENOTSOCK",
            errno_of(lambda: fcntl.ioctl(watched, SET_FILTER_SOCK, nul)) == errno.ENOTSOCK)
    os.close(nul)
    R.check("SET_FILTER_SOCK -1 clears the filter", fcntl.ioctl(watched, SET_FILTER_SOCK, -1) == 0)
    big_arr, big = filter_list(list(range(65)))
    R.check("a filter of more than 64 ids is refused with EINVAL",
            errno_of(lambda: fcntl.ioctl(watched, SET_FILTER_PIDS, big)) == errno.EINVAL)
    r_arr, reserved = filter_list([1], reserved=7)
    R.check("a filter list with a non-zero reserved field is refused with EINVAL",
            errno_of(lambda: fcntl.ioctl(watched, SET_FILTER_CONNS, reserved)) == errno.EINVAL)
    R.check("a filter list at a bad address fails with EFAULT",
            errno_of(lambda: fcntl.ioctl(watched, SET_FILTER_PIDS, 1)) == errno.EFAULT)
    R.check("ids at a bad address fail with EFAULT",
            errno_of(lambda: fcntl.ioctl(watched, SET_FILTER_PIDS, struct.pack("<IIQ", 2, 0, 8))) == errno.EFAULT)
    empty_arr, empty = filter_list([])
    R.check("an empty list clears a filter", fcntl.ioctl(watched, SET_FILTER_PIDS, bytearray(empty), True) == 0)
    for cmd in (0xE0FF, 0x0000E002, 0x4004E007, 0x5401, 0xC008E005):
        R.check(f"unknown ioctl {cmd:#x} is refused with EINVAL", errno_of(lambda: fcntl.ioctl(watched, cmd, 0)) == errno.EINVAL)
    for fd in (watched, plain):
        os.close(fd)
    own.close()
    other.close()
    del arr, arr3, big_arr, r_arr, empty_arr


def run_tool(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    # tshark and capinfos warn about running as root; any other word on stderr is a complaint.
    err = "\n".join(l for l in p.stderr.splitlines() if "could be dangerous" not in l)
    return p.returncode, p.stdout, err


def test_stock_tools():
    fd = os.open("/dev/hone", os.O_RDONLY | os.O_NONBLOCK)
    data, _ = drain(fd)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"to-tshark", ("127.0.0.1", 7600))
    sender = os.fstat(s.fileno()).st_ino
    s.close()
    subprocess.run(["/usr/bin/true", "for-tshark"])
    time.sleep(0.3)
    data += drain(fd)[0]
    fcntl.ioctl(fd, RESTART)
    rest, _ = drain(fd, until_eof=True)
    os.close(fd)
    path = "/tmp/hone-tshark.pcapng"
    with open(path, "wb") as f:
        f.write(data + rest)
    rc, out, err = run_tool("capinfos", path)
    R.check("capinfos reads a /dev/hone section without complaint", rc == 0 and not err, err or out[-300:])
    R.check("capinfos sees nanosecond timestamps", "nanoseconds" in out)
    rc, out, err = run_tool("tshark", "-r", path)
    R.check("tshark reads it without complaint", rc == 0 and not err, err)
    rc, out, err = run_tool("tshark", "-r", path, "-Y", 'udp.dstport == 7600', "-T", "fields", "-e", "frame.comment")
    # The datagram leaves from this process's system call; nothing listens on the port, and the
    # port-unreachable error that comes back quotes it (so matches the filter too) and goes to
    # the sending socket's owner. The datagram arriving and the error leaving are no socket's.
    want = [f"pid={os.getpid()} comm=python3 via={via} conn={sender:08x}" for via in ("sender", "owner")]
    R.check("tshark shows the sending process in the packet comment, and how it was found",
            rc == 0 and [l for l in out.splitlines() if l] == want, f"{out!r} vs {want!r}")


TESTS = [test_restart, test_snaplen, test_filters, test_stock_tools]
