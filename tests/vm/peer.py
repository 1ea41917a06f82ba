#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A known network program for Hone's in-VM tests, run in a network namespace.

peer.py ROLE FAMILY ADDR PORT [OPTION]: prints one JSON line with its pid, its command name, its
cgroup (v2 path), the local address and port it used and, for a forking server, the child's pid. A
server prints `ready` first, once it listens.
"""

import json
import os
import select
import socket
import struct
import sys
import time

role, family, addr, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
option = sys.argv[5] if len(sys.argv) > 5 else ""
fam = socket.AF_INET6 if family == "6" else socket.AF_INET
with open("/proc/self/comm") as f:
    out = {"pid": os.getpid(), "comm": f.read().strip()}
with open("/proc/self/cgroup") as f:
    out.update(("cgroup", line.strip()[3:]) for line in f if line.startswith("0::"))


def ready():
    print("ready", flush=True)


def local(s):
    name = s.getsockname()
    out["addr"], out["port"] = name[0], name[1]


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


if role == "tcp-server":
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen()
    local(s)
    ready()
    if option == "late":
        # Once a connection waits in the kernel's queue, leave it there a second: the
        # client's data arrives meanwhile.
        select.select([s], [], [])
        time.sleep(1)
    conn, _ = s.accept()
    if option == "fork":
        child = os.fork()
        if child == 0:
            data = conn.recv(100)
            conn.sendall(b"reply:" + data)
            while conn.recv(100):
                pass
            conn.close()
            os._exit(0)
        out["child"] = child
        conn.close()
        os.waitpid(child, 0)
    else:
        data = conn.recv(100)
        conn.sendall(b"reply:" + data)
        while conn.recv(100):
            pass
        conn.close()
    s.close()
elif role == "tcp-client":
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind(("", 0))  # the local port stays known even if the connection is refused
    try:
        s.connect((addr, port))
        local(s)
        s.sendall(b"hello")
        s.recv(100)
    except ConnectionRefusedError:
        local(s)
        out["refused"] = True
    s.close()
elif role == "udp-server":
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    local(s)
    ready()
    data, peer = s.recvfrom(1000)
    s.sendto(b"reply:" + data, peer)
    s.close()
elif role == "udp-client":
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(5)
    payload = b"x" * int(option.split(":")[1]) if ":" in option else b"hello"
    if option.startswith("connected"):
        s.connect((addr, port))
        local(s)
        s.send(payload)
    else:
        s.bind(("", 0))
        local(s)
        s.sendto(payload, (addr, port))
    try:
        s.recv(1000)
    except (socket.timeout, ConnectionRefusedError):
        out["no_reply"] = True
    s.close()
elif role == "ping":
    # option: "dgram" (ICMP ping socket) or "raw"; port is the echo identifier for raw.
    proto = socket.IPPROTO_ICMPV6 if fam == socket.AF_INET6 else socket.IPPROTO_ICMP
    kind = socket.SOCK_DGRAM if option == "dgram" else socket.SOCK_RAW
    s = socket.socket(fam, kind, proto)
    s.settimeout(5)
    request_type = 128 if fam == socket.AF_INET6 else 8
    body = struct.pack("!BBHHH", request_type, 0, 0, port, 1) + b"hone-echo"
    if fam == socket.AF_INET and kind == socket.SOCK_RAW:
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    s.sendto(body, (addr, 0))
    if kind == socket.SOCK_DGRAM:
        out["id"] = s.getsockname()[1]
    deadline = time.time() + 5
    while time.time() < deadline:
        data = s.recv(2000)
        icmp = data[20:] if fam == socket.AF_INET and kind == socket.SOCK_RAW else data
        if icmp[0] in (0, 129):
            out["reply"] = True
            break
    s.close()
else:
    sys.exit(f"unknown role {role}")
print(json.dumps(out), flush=True)
