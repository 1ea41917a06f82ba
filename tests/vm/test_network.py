# SPDX-License-Identifier: GPL-2.0
"""In-VM tests of packet -> socket -> process correlation, against ground truth.

Two network namespaces (hone_a, hone_b) joined by a veth pair, plus loopback. Known programs
(tests/vm/peer.py) run in them with known pids and ports; each case runs alone in its own time
window, so every packet of the window belongs to it. For each packet the test knows which
process must be reported, from the packet's local endpoint (its source when leaving, its
destination when arriving). Cases and packets whose owner is ambiguous say why, and accept
only the processes that could own them (or none). Each attributed packet also says how its
process was found (EPB option 259 and the comment's `via=`), which the rules fix from the
packet's direction, its socket and the context it was sent in.
"""

import fcntl
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

from devfuzz import SET_SNAPLEN
from honetest import (CGROUP_ROOT, DeviceReader, dump, join_cgroup, kernel_config, make_cgroup, options, param,
                      parse_text, pcapng_blocks, unescape)

HERE = os.path.dirname(os.path.abspath(__file__))
R = M = TOOLS = None

A4, B4 = "10.77.0.1", "10.77.0.2"
A6, B6 = "fd77::1", "fd77::2"
# Each namespace's peers run in a cgroup named the way a container runtime names its own.
CGROUPS = {"hone_a": "hone.slice/docker-" + "a1" * 32 + ".scope", "hone_b": "hone.slice/libpod-" + "b2" * 32 + ".scope"}
# The container those names make each namespace's peers part of.
CONTAINER_OF = {"hone_a": "docker:" + "a1" * 32, "hone_b": "podman:" + "b2" * 32}
# The namespace of each local address of the cases (the loopback cases run in hone_a).
ADDRESS_NS = {A4: "hone_a", A6: "hone_a", "127.0.0.1": "hone_a", "::1": "hone_a", B4: "hone_b", B6: "hone_b"}


def configure(results, modules, tools):
    global R, M, TOOLS
    R, M, TOOLS = results, modules, tools


def sh(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return p.stdout


def setup_namespaces():
    for ns in ("hone_a", "hone_b"):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
    sh("ip", "link", "add", "veth_a", "netns", "hone_a", "type", "veth", "peer", "name", "veth_b", "netns", "hone_b")
    for ns, dev, a4, a6 in (("hone_a", "veth_a", A4, A6), ("hone_b", "veth_b", B4, B6)):
        sh("ip", "-n", ns, "addr", "add", f"{a4}/24", "dev", dev)
        sh("ip", "-n", ns, "-6", "addr", "add", f"{a6}/64", "dev", dev, "nodad")
        sh("ip", "-n", ns, "link", "set", dev, "up")
    for path in CGROUPS.values():
        make_cgroup(path)
    # Neighbour discovery before the first case, so no case starts with it.
    for family, addr in (("4", B4), ("6", B6)):
        finish(peer("hone_a", "udp-client", family, addr, 9, "unconnected"))


def peer(ns, *args, wait_ready=False):
    """Runs peer.py in network namespace `ns` and in that namespace's cgroup."""
    p = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", os.path.join(HERE, "peer.py"), *map(str, args)],
                         stdout=subprocess.PIPE, text=True, preexec_fn=lambda: join_cgroup(CGROUPS[ns]))
    if wait_ready:
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"peer {args} did not start: {line!r}")
    return p


def finish(p):
    out, _ = p.communicate(timeout=30)
    return json.loads(out.strip().splitlines()[-1])


# ---- packets, from the raw bytes of /dev/hone ----

def parse_ip(data):
    """(src, dst, proto, sport, dport, tcp_flags, icmp_type, payload_len) of a raw IP packet."""
    v = data[0] >> 4
    if v == 4:
        ihl = (data[0] & 15) * 4
        proto = data[9]
        src, dst = ".".join(map(str, data[12:16])), ".".join(map(str, data[16:20]))
        off = ihl
        total = struct.unpack_from("!H", data, 2)[0]
    else:
        import ipaddress
        proto = data[6]
        src, dst = str(ipaddress.IPv6Address(data[8:24])), str(ipaddress.IPv6Address(data[24:40]))
        off = 40
        total = 40 + struct.unpack_from("!H", data, 4)[0]
    sport = dport = flags = icmp = None
    payload = 0
    if proto in (6, 17) and len(data) >= off + 4:
        sport, dport = struct.unpack_from("!HH", data, off)
        if proto == 6 and len(data) >= off + 14:
            flags = data[off + 13]
            payload = total - off - (data[off + 12] >> 4) * 4
        elif proto == 17:
            payload = total - off - 8
    elif proto in (1, 58) and len(data) > off:
        icmp = data[off]
    return src, dst, proto, sport, dport, flags, icmp, payload


BASIS = {1: "sender", 2: "owner", 3: "listener", 4: "echo"}


def epb_data_and_options(body):
    """The captured bytes of an EPB's body and its options ({code: value})."""
    caplen = struct.unpack_from("<I", body, 12)[0]
    return body[20:20 + caplen], dict(options(body[20 + caplen + (-caplen % 4):]))


def packets(blocks):
    """The EPBs of a /dev/hone stream, decoded."""
    out = []
    for btype, body in blocks:
        if btype != 6:
            continue
        ts_hi, ts_lo, caplen, origlen = struct.unpack_from("<IIII", body, 4)
        data, opts = epb_data_and_options(body)
        flags = struct.unpack("<I", opts[2])[0]
        src, dst, proto, sport, dport, tflags, icmp, payload = parse_ip(data)
        inbound = flags & 3 == 1
        comment = opts.get(1, b"").decode()
        via = BASIS.get(struct.unpack("<I", opts[259])[0], "?") if 259 in opts else None
        netns = struct.unpack("<I", opts[260])[0] if 260 in opts else None
        cgroup = struct.unpack("<Q", opts[261])[0] if 261 in opts else None
        container = f"{opts[262].decode()}:{opts[263].decode()}" if 262 in opts and 263 in opts else None
        out.append({
            "ts": ((ts_hi << 32) | ts_lo) / 1e9, "inbound": inbound, "data": data, "caplen": caplen,
            "len": origlen, "conn": struct.unpack("<I", opts[257])[0] if 257 in opts else 0,
            "pid": struct.unpack("<I", opts[258])[0] if 258 in opts else 0,
            "src": src, "dst": dst, "proto": proto, "sport": sport, "dport": dport, "tcp": tflags, "icmp": icmp,
            "payload": payload, "local": (dst, dport) if inbound else (src, sport), "via": via,
            "netns": netns, "cgroup": cgroup, "container": container,
            "comment_via": next((f[4:] for f in comment.split(" ") if f.startswith("via=")), None),
            "comment_container": next((f[10:] for f in comment.split(" ") if f.startswith("container=")), None),
        })
    return out


def described_processes(blocks):
    """For each EPB in order, (its pid from option 258 or None, its comment's comm, the (pid, name)
    of the Darwin Process Info Block its option 0x8001 points at or None); raises when the index
    points at no block written before it in its section."""
    out, section = [], []
    for btype, body in blocks:
        if btype == 0x0A0D0D0A:
            section = []
        elif btype == 0x80000001:
            opts = dict(options(body[4:]))
            section.append((struct.unpack_from("<I", body)[0], opts.get(2, b"")))
        elif btype == 6:
            opts = epb_data_and_options(body)[1]
            pid = struct.unpack("<I", opts[258])[0] if 258 in opts else None
            comm = next((f[5:] for f in opts.get(1, b"").split(b" ") if f.startswith(b"comm=")), b"")
            index = struct.unpack("<I", opts[0x8001])[0] if 0x8001 in opts else None
            if index is not None and index >= len(section):
                raise ValueError(f"EPB refers to process info block {index} of {len(section)}")
            out.append((pid, unescape(comm), None if index is None else section[index]))
    return out


def tshark_version():
    first = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return tuple(int(x) for x in re.findall(r"\d+", first)[:2])


def check_process_info(blocks, data, windows):
    """The process of every attributed packet, as a Darwin Process Info Block that stock tshark
    4.6 shows as frame.darwin.process_info.*; older tshark reads the capture as before."""
    described = described_processes(blocks)
    attributed = [d for d in described if d[0] is not None]
    wrong = [d for d in described if (d[2] is None) != (d[0] is None) or d[2] and (d[2][0] != d[0]
                                                                                   or unescape(d[2][1]) != d[1])]
    R.check("every attributed packet refers to a process info block of its section with its pid and name",
            attributed and not wrong, f"{len(wrong)} of {len(described)}: {wrong[:5]}")
    # Ground truth for the name: each peer reports its own /proc/self/comm.
    names = {}
    for _, info, _, _ in windows:
        for role in info.values():
            if isinstance(role, dict) and "comm" in role:
                names[role["pid"]] = role["comm"].encode()
    peers = [d for d in attributed if d[0] in names]
    bad = [d for d in peers if d[2][1] != names[d[0]]]
    R.check("the block names each peer as its /proc/<pid>/comm does", peers and not bad, str(bad[:5]))
    path = "/tmp/hone-process-info.pcapng"
    with open(path, "wb") as f:
        f.write(data)
    version = tshark_version()
    if version < (4, 6):
        p = subprocess.run(["tshark", "-r", path], capture_output=True, text=True)
        err = [l for l in p.stderr.splitlines() if "could be dangerous" not in l]
        R.check(f"tshark {version[0]}.{version[1]} (no Darwin process fields) reads the capture without complaint",
                p.returncode == 0 and not err and p.stdout.count("\n") == len(described), "\n".join(err))
        return
    p = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "separator=/t", "-e", "frame.comment",
                        "-e", "frame.darwin.process_info.pid", "-e", "frame.darwin.process_info.pname"],
                       capture_output=True, text=True)
    rows = [l.split("\t") for l in p.stdout.splitlines()]
    shown = [(int(pid) if pid else None, name.replace("\\\\", "\\").encode()) for _, pid, name in rows]
    want = [(d[0], d[2][1] if d[2] else b"") for d in described]
    mismatched = [(i, a, b) for i, (a, b) in enumerate(zip(shown, want)) if a != b]
    R.check(f"tshark {version[0]}.{version[1]} shows frame.darwin.process_info.pid and .pname of every attributed packet",
            p.returncode == 0 and len(shown) == len(want) and not mismatched,
            f"{len(shown)} rows vs {len(want)} packets; {mismatched[:5]}; {p.stderr[-300:]}")
    pid = next(iter(names))
    p = subprocess.run(["tshark", "-r", path, "-Y", f"frame.darwin.process_info.pid == {pid}"],
                       capture_output=True, text=True)
    R.check("tshark filters packets by process id with no plugin",
            p.returncode == 0 and p.stdout.count("\n") == sum(d[0] == pid for d in described),
            f"{p.stdout.count(chr(10))} vs {sum(d[0] == pid for d in described)}")


def check_namespaces_and_cgroups(pkts, every, data, windows):
    """Every packet of the cases names the network namespace whose hook saw it, and every packet
    of a socket the cgroup its socket was opened in (when the kernel keeps it:
    CONFIG_SOCK_CGROUP_DATA), against the namespaces and cgroups the test made; hone-dump -g
    keeps the packets of one cgroup out of `every` packet of the capture `data`."""
    ns_ino = {ns: os.stat(f"/run/netns/{ns}").st_ino for ns in CGROUPS}
    cg_id = {ns: os.stat(os.path.join(CGROUP_ROOT, path)).st_ino for ns, path in CGROUPS.items()}
    keeps = kernel_config().get("CONFIG_SOCK_CGROUP_DATA") == "y"
    peers = [role for _, info, _, _ in windows for role in info.values() if isinstance(role, dict) and "cgroup" in role]
    R.check("each peer runs in its namespace's cgroup, named like a container runtime's",
            peers and all(role["cgroup"].lstrip("/") in CGROUPS.values() for role in peers), str(peers[:3]))
    mine = [p for p in pkts if p["local"][0] in ADDRESS_NS]
    wrong_ns = [(p["src"], p["dst"], p["netns"]) for p in mine if p["netns"] != ns_ino[ADDRESS_NS[p["local"][0]]]]
    R.check(f"every packet names the network namespace of its hook ({len(mine)} packets, {len(set(ns_ino.values()))} namespaces)",
            mine and not wrong_ns, f"{ns_ino}: {wrong_ns[:5]}")
    # An echo reply comes with no socket (its ping socket is found through the request, and
    # may be gone): it names no cgroup.
    sockets = [p for p in mine if p["conn"]]
    want = (lambda p: cg_id[ADDRESS_NS[p["local"][0]]] if p["via"] != "echo" else None) if keeps else (lambda p: None)
    wrong_cg = [(p["src"], p["dst"], p["conn"], p["cgroup"], want(p)) for p in sockets if p["cgroup"] != want(p)]
    kernel = [p["cgroup"] for p in mine if not p["conn"] and p["cgroup"] is not None]
    R.check(f"every packet of a socket names the cgroup the socket was opened in ({len(sockets)} packets; "
            + ("ids of /sys/fs/cgroup" if keeps else "this kernel keeps none: CONFIG_SOCK_CGROUP_DATA is off") + ")",
            sockets and not wrong_cg and not kernel, f"{cg_id}: {wrong_cg[:5]}; kernel sockets' {kernel[:5]}")
    # Every peer lives in a container: each of its packets names it (the comment as docker ps
    # shows it), whichever rule found the process; a packet with no process names none.
    want = lambda p: CONTAINER_OF[ADDRESS_NS[p["local"][0]]] if p["pid"] else None
    short = lambda c: c and c[:c.index(":") + 13]
    wrong = [(p["src"], p["dst"], p["pid"], p["via"], p["container"], p["comment_container"]) for p in mine
             if p["container"] != want(p) or p["comment_container"] != short(want(p))]
    R.check(f"every attributed packet names its process's container ({sum(bool(p['pid']) for p in mine)} of "
            f"{len(mine)} packets; options 262 and 263, and container= in the comment)",
            any(p["container"] for p in mine) and not wrong, str(wrong[:5]))
    kept = [r for r in dump(TOOLS, data, "-g", str(cg_id["hone_b"])) if r["tag"] == "PAKT"]
    want = sum(p["cgroup"] == cg_id["hone_b"] for p in every)
    R.check(f"hone-dump -g keeps the packets of one cgroup ({want} of {len(every)})",
            len(kept) == want and (want > 0) == keeps, f"{len(kept)} printed")


def check_kept_container(kept, every):
    """The file of `hone-read --container` (hone_a's peers' docker container) against `every`
    packet the device gave a reader of all of it meanwhile."""
    want = CONTAINER_OF["hone_a"]
    runtime, cid = want.split(":")
    try:
        blocks = pcapng_blocks(kept)
        described = described_processes(blocks)
    except ValueError as e:
        R.check("the file of hone-read --container is a well-formed capture", False, str(e))
        return
    R.check("the file of hone-read --container starts with a section header and ends with its statistics",
            blocks and blocks[0][0] == 0x0A0D0D0A and blocks[-1][0] == 5, str([b[0] for b in blocks[:3]]))
    kpkts = packets(blocks)
    others = [(p["src"], p["dst"], p["container"]) for p in kpkts if p["container"] != want]
    R.check(f"it keeps only packets of processes in {want[:19]}", kpkts and not others,
            f"{len(kpkts)} packets: {others[:5]}")
    t0, t1 = (kpkts[0]["ts"], kpkts[-1]["ts"]) if kpkts else (0, 0)
    all_of_it = [(p["ts"], p["data"]) for p in every if p["container"] == want and t0 <= p["ts"] <= t1]
    R.check("and every one of them that the device gave meanwhile", [(p["ts"], p["data"]) for p in kpkts] == all_of_it,
            f"{len(kpkts)} kept vs {len(all_of_it)}")
    wrong = [d for d in described if d[0] is None or d[2] is None or d[2][0] != d[0]]
    infos = [struct.unpack_from("<I", body)[0] for btype, body in blocks if btype == 0x80000001]
    R.check("its packets refer to the process info blocks kept with them, renumbered, and no other process's",
            not wrong and set(infos) == {d[0] for d in described}, f"{wrong[:5]}; infos of {sorted(set(infos))}")
    places = [dict(options(body[12:])) for btype, body in blocks if btype == 0x101]
    placed = [o for o in places if 263 in o]
    R.check("its process blocks are the container's: every one with a place names it",
            placed and all(o[262] == runtime.encode() and o[263] == cid.encode() for o in placed),
            str([(o.get(262), o.get(263)) for o in placed if o.get(263) != cid.encode()][:3]))


def connection_events(blocks):
    """(conn, pid, wall time, closed) of the Connection Event Blocks of a /dev/hone stream (their
    timestamps are in µs, as the original's)."""
    out = []
    for btype, body in blocks:
        if btype == 0x102:
            conn, pid, hi, lo = struct.unpack_from("<IIII", body)
            out.append((conn, pid, ((hi << 32) | lo) / 1e6, 2 in dict(options(body[16:]))))
    return out


class Case:
    """One scenario: its packets must each carry the expected pid, and say how it was found as
    `basis(p, info)` allows (by default, `usual_basis`)."""

    def __init__(self, name, run, expect, ambiguous="", basis=None):
        self.name, self.run, self.expect, self.ambiguous = name, run, expect, ambiguous
        self.basis = basis or (lambda p, info: usual_basis(p))


def usual_basis(p):
    """How the process of a packet of an ordinary socket is found: an arriving packet through the
    socket's owner; a leaving one through the task sending it, unless the kernel sent it on the
    socket's behalf outside process context (TCP's ACKs and FINs may go either way; data, SYNs,
    datagrams and echo requests leave in the sender's system call)."""
    if p["inbound"]:
        return {"owner"}
    if p["proto"] == 6 and p["payload"] == 0 and not p["tcp"] & 2:
        return {"sender", "owner"}
    return {"sender"}


def judge(case, pkts, info):
    """Checks every packet of a case; returns True if all unambiguous ones are right."""
    right = wrong = amb_ok = amb_bad = wrong_basis = 0
    bad = []
    fin_seen = set()
    for p in pkts:
        key = frozenset([(p["src"], p["sport"]), (p["dst"], p["dport"])])
        teardown = key in fin_seen
        if p["tcp"] is not None and p["tcp"] & 1:
            fin_seen.add(key)
            teardown = True
        want, allowed = case.expect(p, info, teardown)
        if p["pid"] and (p["via"] not in case.basis(p, info) or p["comment_via"] != p["via"]):
            wrong_basis += 1
            bad.append(("basis", p["src"], p["sport"], p["dst"], p["dport"], p["tcp"], p["icmp"],
                        "in" if p["inbound"] else "out", p["pid"], p["via"], p["comment_via"],
                        sorted(case.basis(p, info))))
        if not p["pid"] and (p["via"] or p["comment_via"]):
            wrong_basis += 1
            bad.append(("basis without a process", p["src"], p["dst"], p["via"], p["comment_via"]))
        if allowed is None:
            if p["pid"] == want:
                right += 1
            else:
                wrong += 1
                bad.append((p["src"], p["sport"], p["dst"], p["dport"], p["proto"], p["tcp"], p["icmp"],
                            "in" if p["inbound"] else "out", p["pid"], want))
        elif p["pid"] in allowed:
            amb_ok += 1
        else:
            amb_bad += 1
            bad.append(("ambiguous", p["src"], p["dst"], p["tcp"], p["icmp"], p["pid"], sorted(allowed)))
    total = right + wrong
    note = f" ({amb_ok} ambiguous: {case.ambiguous})" if amb_ok + amb_bad else ""
    R.check(f"{case.name}: {right}/{total} packets attributed to the right process, each saying how{note}",
            total > 0 and wrong == 0 and amb_bad == 0 and wrong_basis == 0, f"wrong: {bad[:8]}")
    return wrong == 0 and amb_bad == 0 and wrong_basis == 0


def endpoint_owner(p, owners):
    """The pid owning the packet's local endpoint, or 0 (the kernel) if none. An owner bound
    to the wildcard address owns its port on every address."""
    addr, port = p["local"]
    for (a, pt), pid in owners.items():
        if pt == port and a in (addr, "0.0.0.0", "::"):
            return pid
    return 0


# Packets this close before the accepting process's SOCK O may already be the accepted socket's
# while no process owns it yet (accept() gives it a file before it reports it).
ACCEPT_RACE = 0.2


def tcp_case(name, family, ns_client, ns_server, client_addr, server_addr, port, fork=False, late=False):
    def run():
        option = "fork" if fork else "late" if late else ""
        srv = peer(ns_server, "tcp-server", family, server_addr, port, option, wait_ready=True)
        cli = finish(peer(ns_client, "tcp-client", family, server_addr, port))
        s = finish(srv)
        return {"client": cli, "server": s}

    def pre_accept(p, info):
        s = info["server"]
        return p["local"] == (s["addr"], s["port"]) and (p["tcp"] & 2 or p["ts"] < info["accept_ts"])

    def expect(p, info, teardown):
        c, s = info["client"], info["server"]
        owners = {(c["addr"], c["port"]): c["pid"], (s["addr"], s["port"]): s["pid"]}
        want = endpoint_owner(p, owners)
        server_side = p["local"] == (s["addr"], s["port"])
        if pre_accept(p, info):
            # The handshake, and what arrives before accept(), goes through the listener.
            if p["tcp"] & 2 or p["ts"] < info["accept_ts"] - ACCEPT_RACE:
                return s["pid"], None
            return None, {s["pid"], 0}
        if fork and server_side:
            if not p["inbound"] and p["payload"] > 0 and not teardown:
                return s["child"], None  # sent by the child, in its own context
            return None, {s["pid"], s["child"], 0}
        if teardown:
            # The last ACK comes from a TIME_WAIT socket, which no process holds any more.
            return None, {want, 0}
        return want, None

    def basis(p, info):
        if pre_accept(p, info):
            if p["tcp"] & 2 or p["ts"] < info["accept_ts"] - ACCEPT_RACE:
                return {"listener"}
            return {"listener", "owner", "sender"}
        return usual_basis(p)

    amb = "accept() gives a connection its file just before it says so; " + (
        "after a fork both processes hold the socket; " if fork else "") + "teardown ends in TIME_WAIT"
    case = Case(name, run, expect, amb, basis)
    case.late = late
    return case


def udp_case(name, family, server_addr, port, mode):
    def run():
        srv = peer("hone_b", "udp-server", family, "::" if family == "6" else "0.0.0.0", port, wait_ready=True)
        cli = finish(peer("hone_a", "udp-client", family, server_addr, port, mode))
        s = finish(srv)
        return {"client": cli, "server": s}

    def expect(p, info, teardown):
        c, s = info["client"], info["server"]
        # The server is bound to the wildcard address: it owns its port on every address.
        if p["local"][1] == s["port"] and p["local"][0] in (B4, B6):
            return s["pid"], None
        return endpoint_owner(p, {(c["addr"], c["port"]): c["pid"]}), None

    return Case(name, run, expect)


def ping_case(name, family, dst, kind, ident):
    def run():
        return {"client": finish(peer("hone_a", "ping", family, dst, ident, kind))}

    def expect(p, info, teardown):
        c = info["client"]
        mine = p["src"] if not p["inbound"] else p["dst"]
        if mine not in (A4, A6):
            return 0, None  # the peer's kernel answers the echo itself
        if p["icmp"] not in ((0, 8) if p["proto"] == 1 else (128, 129)):
            return 0, None  # neighbour discovery, MLD: the kernel's own messages
        if kind == "raw" and p["inbound"]:
            # A raw socket receives a copy of every matching packet: no socket owns the reply.
            return None, {c["pid"], 0}
        return c["pid"], None

    def basis(p, info):
        # No socket lookup finds an echo reply: the request's ping socket does.
        return {"echo"} if p["inbound"] else usual_basis(p)

    return Case(name, run, expect, "a raw socket gets a copy of the reply, it does not own it", basis)


def refused_case(name, family, server_addr, port, proto):
    def run():
        if proto == "tcp":
            return {"client": finish(peer("hone_a", "tcp-client", family, server_addr, port))}
        return {"client": finish(peer("hone_a", "udp-client", family, server_addr, port, "unconnected"))}

    def expect(p, info, teardown):
        c = info["client"]
        icmp_error = p["icmp"] in ((3, 4, 5, 11, 12) if p["proto"] == 1 else (1, 2, 3, 4))
        if icmp_error and p["inbound"]:
            return c["pid"], None  # the ICMP error quotes the client's datagram
        return endpoint_owner(p, {(c["addr"], c["port"]): c["pid"]}), None

    return Case(name, run, expect)


def cases():
    return [
        tcp_case("TCP over veth, IPv4", "4", "hone_a", "hone_b", A4, B4, 7001),
        tcp_case("TCP over veth, IPv6", "6", "hone_a", "hone_b", A6, B6, 7002),
        tcp_case("TCP over loopback, IPv4", "4", "hone_a", "hone_a", "127.0.0.1", "127.0.0.1", 7003),
        tcp_case("TCP over loopback, IPv6", "6", "hone_a", "hone_a", "::1", "::1", 7004),
        tcp_case("TCP server forking after accept, IPv4", "4", "hone_a", "hone_b", A4, B4, 7005, fork=True),
        tcp_case("TCP server forking after accept, IPv6", "6", "hone_a", "hone_b", A6, B6, 7006, fork=True),
        tcp_case("TCP data before accept goes to the listener, IPv4", "4", "hone_a", "hone_b", A4, B4, 7007, late=True),
        tcp_case("TCP data before accept goes to the listener, IPv6", "6", "hone_a", "hone_a", "::1", "::1", 7008,
                 late=True),
        udp_case("UDP connected client, wildcard server, IPv4", "4", B4, 7101, "connected"),
        udp_case("UDP connected client, wildcard server, IPv6", "6", B6, 7102, "connected"),
        udp_case("UDP unconnected client, wildcard server, IPv4", "4", B4, 7103, "unconnected"),
        udp_case("UDP unconnected client, wildcard server, IPv6", "6", B6, 7104, "unconnected"),
        ping_case("ICMP echo from a ping socket, IPv4", "4", B4, "dgram", 0),
        ping_case("ICMP echo from a ping socket, IPv6", "6", B6, "dgram", 0),
        ping_case("ICMP echo from a raw socket, IPv4", "4", B4, "raw", 4242),
        ping_case("ICMP echo from a raw socket, IPv6", "6", B6, "raw", 4243),
        refused_case("TCP to a closed port: the kernel's RST has no pid, IPv4", "4", B4, 7201, "tcp"),
        refused_case("TCP to a closed port: the kernel's RST has no pid, IPv6", "6", B6, 7202, "tcp"),
        refused_case("UDP to a closed port: the kernel's ICMP error has no pid, IPv4", "4", B4, 7203, "udp"),
        refused_case("UDP to a closed port: the kernel's ICMP error has no pid, IPv6", "6", B6, 7204, "udp"),
    ]


def test_correlation():
    setup_namespaces()
    M.unload_all()
    # A socket opened before the modules are loaded: its packets must still be attributed.
    early = peer("hone_b", "udp-server", "4", "0.0.0.0", 7300, wait_ready=True)
    r = M.load()
    R.check("modules load with a socket already open", r.returncode == 0, r.stderr)
    text = DeviceReader("/dev/honet")
    pcap = DeviceReader("/dev/hone")
    kept_path = "/tmp/hone-kept.pcapng"
    keeper = subprocess.Popen([os.path.join(TOOLS, "hone-read"), "-q", "-w", kept_path, "--container",
                               CONTAINER_OF["hone_a"][:len("docker:") + 12]], stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    windows = []
    for case in cases() + ["early"]:
        t0 = time.time()
        if case == "early":
            cli = finish(peer("hone_a", "udp-client", "4", B4, 7300, "connected"))
            info = {"client": cli, "server": finish(early)}
            case = Case("a socket opened before the modules were loaded", None,
                        lambda p, i, t: (endpoint_owner(p, {(B4, 7300): i["server"]["pid"],
                                                            (i["client"]["addr"], i["client"]["port"]): i["client"]["pid"]}),
                                         None))
        else:
            info = case.run()
        time.sleep(0.3)
        windows.append((case, info, t0, time.time()))
    for rd in (text, pcap):
        rd.wait_quiet(1.0)
    tdata, pdata = text.close(), pcap.close()
    keeper.send_signal(signal.SIGTERM)
    _, err = keeper.communicate(timeout=60)
    R.check("hone-read --container ends its file cleanly", keeper.returncode == 0, err)
    recs = parse_text(tdata)
    blocks = pcapng_blocks(pdata)
    pkts = packets(blocks)
    conns = connection_events(blocks)
    for case, info, t0, t1 in windows:
        mine = [p for p in pkts if t0 <= p["ts"] <= t1]
        s = info.get("server", {})
        # accept(): the Connection Event Block that opens the socket the server replies on.
        reply = [p for p in mine if not p["inbound"] and p["payload"] > 0 and p["local"] == (s.get("addr"), s.get("port"))]
        opens = [ts for conn, pid, ts, closed in conns if reply and conn == reply[0]["conn"] and not closed]
        info["accept_ts"] = min(opens or [t0])
        judge(case, mine, info)
        if getattr(case, "late", False):
            s = info["server"]
            server = [p for p in mine if p["local"] == (s["addr"], s["port"])]
            early = [p for p in server if not p["tcp"] & 2 and p["ts"] < info["accept_ts"] - ACCEPT_RACE]
            R.check(f"{case.name}: the client's data and its ACK, before accept(), name the listening process",
                    any(p["inbound"] and p["payload"] for p in early) and any(not p["inbound"] for p in early)
                    and all(p["pid"] == s["pid"] and p["via"] == "listener" for p in early),
                    f"server {s['pid']}, accepted at {info['accept_ts']:.3f}: (ts - accept, in, flags, payload, pid, via) " +
                    str([(round(p["ts"] - info["accept_ts"], 3), p["inbound"], p["tcp"], p["payload"], p["pid"],
                          p["via"]) for p in server]))

    # Every accepted connection is opened in the accepting process.
    for case, info, t0, t1 in windows:
        s = info.get("server", {})
        if "port" in s and case.name.startswith("TCP"):
            conns = {p["conn"] for p in pkts if t0 <= p["ts"] <= t1 and p["local"] == (s["addr"], s["port"])
                     and not p["inbound"] and p["payload"] > 0}
            opened = {r["conn"] for r in recs if r["tag"] == "SOCK" and r["event"] == "O" and r["pid"] == s["pid"]}
            R.check(f"{case.name}: the accepted socket is opened by the accepting process (SOCK O)",
                    len(conns) == 1 and conns <= opened, f"data conns {conns}, opened by {s['pid']}: {opened}")
    early_rec = [r for r in recs if r["tag"] == "SOCK" and r.get("pid") == windows[-1][1]["server"]["pid"]]
    R.check("the snapshot lists the socket opened before the modules were loaded",
            any(r["event"] == "O" for r in early_rec), str(early_rec))

    # No packet twice per hook: identical bytes in the same direction would be a duplicate.
    seen = {}
    dups = 0
    for p in pkts:
        if p["proto"] == 6:
            k = (p["inbound"], p["data"])
            dups += k in seen
            seen[k] = True
    R.check("no packet is reported twice by the same hook", dups == 0 and len(seen) > 0, f"{dups} duplicates")
    leaked = [p for p in pkts if p["conn"] and p["conn"] > 0xFFFFFFF]
    R.check("connection ids are socket inode numbers, not kernel addresses", not leaked, str(leaked[:3]))

    check_process_info(blocks, pdata, windows)
    with open(kept_path, "rb") as f:
        check_kept_container(f.read(), pkts)
    os.unlink(kept_path)
    check_namespaces_and_cgroups([p for _, _, t0, t1 in windows for p in pkts if t0 <= p["ts"] <= t1], pkts,
                                 pdata, windows)

    # Both devices tell the same story.
    tp = [r["line"].split(b" ", 1)[1] for r in recs if r["tag"] == "PAKT"]
    dp = [r["line"].split(b" ", 1)[1] for r in dump(TOOLS, pdata) if r["tag"] == "PAKT"]
    differ = [(i, a, b) for i, (a, b) in enumerate(zip(tp, dp)) if a != b]
    R.check("/dev/honet and /dev/hone (decoded) report the same packets", tp == dp and len(tp) == len(pkts),
            f"{len(tp)} text vs {len(dp)} decoded vs {len(pkts)} EPBs; {len(differ)} differ: {differ[:3]}")
    # The text's packet places, against the EPB options checked above against the namespaces.
    tplaces = [r["place"] for r in recs if r["tag"] == "PAKT"]
    eplaces = [(p["netns"], p["cgroup"], p["container"]) for p in pkts]
    changes = (1 + sum(a != b for a, b in zip(eplaces, eplaces[1:]))) if eplaces else 0
    lines = sum(r["tag"] == "PKNS" for r in recs)
    wrong = [(i, a, b) for i, (a, b) in enumerate(zip(tplaces, eplaces)) if a != b]
    R.check(f"each text packet's PKNS place is its EPB's netns, cgroup and container, with a PKNS line only "
            f"where it changes ({lines} lines for {len(tplaces)} packets)",
            tplaces == eplaces and lines == changes, f"{lines} lines vs {changes} changes; {wrong[:3]}")


def test_snaplen():
    M.rmmod("honeevent")
    r = M.load(snaplen=64)
    R.check("honeevent loads with snaplen=64", r.returncode == 0 and param("snaplen") == "64", r.stderr)
    text = DeviceReader("/dev/honet")
    pcap = DeviceReader("/dev/hone")
    time.sleep(0.5)
    srv = peer("hone_b", "udp-server", "4", "0.0.0.0", 7400, wait_ready=True)
    finish(peer("hone_a", "udp-client", "4", B4, 7400, "connected:200"))
    finish(srv)
    for rd in (text, pcap):
        rd.wait_quiet(1.0)
    blocks = pcapng_blocks(pcap.close())
    recs = parse_text(text.close())
    idb = [b for b in blocks if b[0] == 1][0]
    R.check("the IDB advertises snaplen 64", struct.unpack_from("<HHI", idb[1])[2] == 64)
    big = [p for p in packets(blocks) if p["proto"] == 17 and p["len"] == 228]
    R.check("snaplen truncates the captured bytes, not the original length",
            len(big) >= 2 and all(p["caplen"] == 64 and p["len"] == 228 for p in big),
            str([(p["caplen"], p["len"]) for p in big]))
    R.check("the text device gives the original length", any(r["tag"] == "PAKT" and r["len"] == 228 for r in recs))
    M.rmmod("honeevent")
    r = M.load()
    R.check("honeevent reloads with defaults", r.returncode == 0, r.stderr)


def test_whole_packets():
    """A whole-packet reader gets every byte of every packet, on loopback both leaving and
    arriving: short ones (up to 256 bytes, copied into their event) and long ones (clones of the
    kernel's buffer) alike, on either side of that length; a reader at snaplen 96 alongside gets
    the first 96 bytes of the same packets."""
    whole = DeviceReader("/dev/hone", chunk=1 << 20)
    cut = DeviceReader("/dev/hone", chunk=1 << 20)
    fcntl.ioctl(cut.fd, SET_SNAPLEN, 96)
    time.sleep(0.5)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    port = sink.getsockname()[1]
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # IP lengths 29, 128, 255, 256, 257, 1428 and 60028: the 256-byte head and both sides of it.
    sent = {}
    for n in (1, 100, 227, 228, 229, 1400, 60000):
        payload = os.urandom(n)
        out.sendto(payload, ("127.0.0.1", port))
        R.check(f"the {n}-byte datagram arrives", sink.recv(65536) == payload)
        sent[28 + n] = payload
    out.close()
    sink.close()
    for rd in (whole, cut):
        rd.wait_quiet(1.0)
    for name, rd, snaplen in (("whole-packet", whole, 65536), ("snaplen 96", cut, 96)):
        mine = [p for p in packets(pcapng_blocks(rd.close())) if p["proto"] == 17 and p["dport"] == port]
        for length, payload in sent.items():
            got = [p for p in mine if p["len"] == length]
            want = min(length, snaplen)
            R.check(f"the {name} reader has the {length}-byte packet leaving and arriving, its first {want} "
                    f"bytes captured, the datagram's bytes among them",
                    sorted(p["inbound"] for p in got) == [False, True]
                    and all(p["caplen"] == want and p["data"][28:] == payload[:want - 28] for p in got),
                    str([(p["inbound"], p["caplen"], p["data"][28:] == payload[:want - 28]) for p in got]))


def slab_active(cache):
    """Objects of slab cache `cache` in use (its per-CPU slabs flushed first, so that the count is
    exact), or None if the cache does not exist."""
    try:
        with open(f"/sys/kernel/slab/{cache}/shrink", "w") as f:
            f.write("1")
    except FileNotFoundError:
        return None
    with open("/proc/slabinfo") as f:
        for line in f:
            fields = line.split()
            if fields[0] == cache:
                return int(fields[1])
    return None


def test_packet_events():
    """Packet events come from hone_notify's own slab cache, one per packet however many readers
    hold it, and every one is freed when the readers are done with it."""
    R.check("packet events have a slab cache of their own, shown in /proc/slabinfo", slab_active("hone_packet") is not None)
    fds = [os.open(dev, os.O_RDONLY | os.O_NONBLOCK) for dev in ("/dev/hone", "/dev/honet")]
    time.sleep(0.5)
    before = slab_active("hone_packet")
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = 200
    for _ in range(n):
        out.sendto(b"hone-slab", sink.getsockname())
        sink.recv(100)
    out.close()
    sink.close()
    time.sleep(0.5)
    # Each datagram passes the hook twice on loopback (leaving, arriving): 2n events, which the
    # two readers (not reading) both hold. A few other packets may pass meanwhile.
    held = slab_active("hone_packet") - before
    R.check(f"two readers holding {2 * n} packets keep {2 * n} events, not one per reader",
            2 * n <= held < 2 * n + 50, f"{held} objects")
    for fd in fds:
        os.close(fd)
    left = None
    for _ in range(20):
        left = slab_active("hone_packet")
        if left == 0:
            break
        time.sleep(0.25)
    R.check("once the readers close, every packet event is freed", left == 0, f"{left} objects left")


TESTS = [test_correlation, test_snaplen, test_whole_packets, test_packet_events]


if __name__ == "__main__":
    sys.exit("run through run.py")
