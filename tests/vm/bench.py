#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""`make bench`: what Hone costs on the packet path, side by side with no capture and tcpdump.

Usage (inside the test VM, as root): bench.py STAGE TOOLS OUT.json ROUNDS SECONDS
       bench.py --report OUT.json

BENCH_ROWS (comma-separated; the baseline is always measured) limits the rows (ROUNDS 0: none,
the sweep alone); BENCH_SWEEP_PAGEORDERS repeats the sweep with those ring sizes; BENCH_PROFILE
(comma-separated rows, or `pktgen`/`pktgen96` for the sweep's generator at full rate with one
reader) profiles those rows once more with `perf record -a -g` while their traffic runs, and
writes each profile's hottest symbols next to OUT.json (`profile-<row>.txt`).

Two network namespaces joined by veth (iperf3 server in one, client in the other) and loopback
(both in the root namespace). Rows, each measured in every round, in an order rotated per round
so that drift over the run spreads over all rows:

  baseline   no Hone module loaded
  loaded     the chain loaded, no reader
  reader     one `hone-read -w` to a file on tmpfs, whole packets
  reader96   the same with `-s 96`
  readers4   four such readers at once (whole packets)
  tcpdump    Debian's tcpdump -w to tmpfs on the same traffic, no Hone

BENCH_KVM=1 (on a host with /dev/kvm) runs the same in a KVM guest, for figures TCG cannot give.

Columns: iperf3 TCP throughput with 1 and 4 streams (veth and loopback), UDP with 64-byte
payloads at a fixed offered rate and at the maximum rate (veth; packets per second received),
CPU seconds used by the readers (hone-read or tcpdump), and the events Hone dropped or lost
(its own counters). In each row of each round the kernel's packet generator also finds its
ceiling (64-byte UDP into the server's veth): what a packet costs the CPU that runs the hook,
with Hone and with tcpdump (with no round, once in the baseline, loaded, reader and tcpdump
rows). Then a sweep of offered UDP rates with one reader finds where drops begin, and the
kernel memory a reader costs is measured by opening 32 of them.
"""

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

from honetest import Modules

ROWS = ["baseline", "loaded", "reader", "reader96", "readers4", "tcpdump"]
NS_CLIENT, NS_SERVER = "hbench-c", "hbench-s"
VETH_SERVER_IP = "10.201.0.2"
CAPDIR = "/run/hone-bench"
FIXED_PPS = 20000
SWEEP_PPS = [10000, 25000, 50000, 75000, 100000, 150000, 200000]
SINK_PORT = 9000


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def setup_network():
    for ns in (NS_CLIENT, NS_SERVER):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "link", "add", "hbc", "netns", NS_CLIENT, "type", "veth", "peer", "name", "hbs", "netns", NS_SERVER)
    sh("ip", "-n", NS_CLIENT, "addr", "add", "10.201.0.1/24", "dev", "hbc")
    sh("ip", "-n", NS_SERVER, "addr", "add", f"{VETH_SERVER_IP}/24", "dev", "hbs")
    sh("ip", "-n", NS_CLIENT, "link", "set", "hbc", "up")
    sh("ip", "-n", NS_SERVER, "link", "set", "hbs", "up")
    sh("ip", "link", "set", "lo", "up")
    ensure_servers()
    return SERVERS


SERVER_COMMANDS = {"veth": ["ip", "netns", "exec", NS_SERVER, "iperf3", "-s", "-p", "5201"],
                   "lo": ["iperf3", "-s", "-p", "5202", "-B", "127.0.0.1"]}
SERVERS = {}


def ensure_servers():
    """(Re)starts the iperf3 servers that are not running (a server can quit after an error)."""
    started = False
    for path, cmd in SERVER_COMMANDS.items():
        if path not in SERVERS or SERVERS[path].poll() is not None:
            SERVERS[path] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started = True
    if started:
        time.sleep(1)


def iperf(path, seconds, *args):
    """One iperf3 client run; its JSON report."""
    prefix = ["ip", "netns", "exec", NS_CLIENT] if path == "veth" else []
    target = [VETH_SERVER_IP, "-p", "5201"] if path == "veth" else ["127.0.0.1", "-p", "5202"]
    for _ in range(3):  # the server is busy for a moment after each test
        r = subprocess.run(prefix + ["iperf3", "-J", "-c", *target, "-t", str(seconds), *args],
                           capture_output=True, text=True)
        if r.returncode == 0:
            report = json.loads(r.stdout)
            if "error" not in report:
                return report
        time.sleep(0.5)
        ensure_servers()
    raise RuntimeError(f"iperf3 {path} {args}: {r.stdout[-300:]} {r.stderr[-300:]}")


def free_captures():
    """Empties the capture files between tests (their writers go on, leaving holes that tmpfs
    does not store), so that gigabits per second of captures never fill the guest's memory."""
    for name in os.listdir(CAPDIR) if os.path.isdir(CAPDIR) else []:
        os.truncate(os.path.join(CAPDIR, name), 0)


def measure_traffic(seconds):
    """The row's columns: TCP Mbit/s and UDP packets/s."""
    out = {}
    for path in ("veth", "lo"):
        for streams in (1, 4):
            free_captures()
            rep = iperf(path, seconds, "-P", str(streams))
            out[f"tcp{streams}_{path}_mbps"] = rep["end"]["sum_received"]["bits_per_second"] / 1e6
    for name, rate in (("udp_fixed", FIXED_PPS), ("udp_max", 0)):
        free_captures()
        rep = iperf("veth", seconds, "-u", "-l", "64", "-b", str(rate * 64 * 8) if rate else "0")
        s = rep["end"]["sum"]
        out[f"{name}_rx_pps"] = (s["packets"] - s["lost_packets"]) / s["seconds"]
        out[f"{name}_tx_pps"] = s["packets"] / s["seconds"]
    return out


def generator_ceiling(row, seconds):
    """The highest rate at which the kernel's packet generator delivers datagrams to a sink on
    the server's veth while the row's capture runs (see `sweep`): what each packet costs the
    CPU that runs the hook (LOCAL_IN, in the generator's context). tcpdump's row listens on the
    server's veth for it, where the generator's datagrams arrive."""
    with Sink(), Tcpdump([(NS_SERVER, "hbs")] if row.name == "tcpdump" else []) as t:
        before = row.hone_dropped()
        pps = generate(0, 100000 * seconds)
        time.sleep(0.5)  # the reader catches up with what is queued
        dropped = row.hone_dropped() - before if before is not None else 0
    return {"pktgen_max_pps": pps, "pktgen_dropped": dropped + t.drops}


def cpu_seconds(pids):
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


def hone_counters(tools):
    r = sh(os.path.join(tools, "hone-stats"), "--json", check=False)
    return json.loads(r.stdout) if r.returncode == 0 else None


class Tcpdump:
    """Debian's tcpdump -w to tmpfs on each (network namespace or None, interface), while in
    the `with`; then `drops`, the packets they say the kernel dropped."""

    def __init__(self, ifaces):
        self.ifaces, self.procs, self.drops = ifaces, [], 0

    def __enter__(self):
        for ns, iface in self.ifaces:
            prefix = ["ip", "netns", "exec", ns] if ns else []
            self.procs.append(subprocess.Popen(prefix + ["tcpdump", "-q", "-n", "-i", iface, "-w",
                                                         f"{CAPDIR}/{iface}.pcap"],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        if self.procs:
            time.sleep(1)  # listening
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            _, err = p.communicate(timeout=60)
            m = re.search(r"(\d+) packets dropped by kernel", err or "")
            self.drops += int(m.group(1)) if m else 0
        return False


class Row:
    """Sets a row's capture up and takes it down."""

    # Where the tcpdump row captures (network namespace or None, interface): both ends of the
    # row's traffic.
    TCPDUMP_ON = [(NS_CLIENT, "hbc"), (None, "lo")]

    def __init__(self, name, modules, tools, **params):
        self.name, self.M, self.tools, self.procs, self.params = name, modules, tools, [], params

    def __enter__(self):
        shutil.rmtree(CAPDIR, ignore_errors=True)
        os.makedirs(CAPDIR)
        sh("mount", "-t", "tmpfs", "-o", "size=75%", "hone-bench", CAPDIR)
        if self.name != "baseline" and self.name != "tcpdump":
            r = self.M.load(**self.params)
            if r.returncode != 0:
                raise RuntimeError(f"modprobe: {r.stderr}")
        readers = {"reader": 1, "reader96": 1, "readers4": 4}.get(self.name, 0)
        for i in range(readers):
            snap = ["-s", "96"] if self.name == "reader96" else []
            self.procs.append(subprocess.Popen([os.path.join(self.tools, "hone-read"), "-q", *snap, "-w",
                                                f"{CAPDIR}/r{i}.pcapng"], stderr=subprocess.DEVNULL))
        self.tcpdump = Tcpdump(self.TCPDUMP_ON if self.name == "tcpdump" else [])
        self.procs += self.tcpdump.__enter__().procs
        time.sleep(1)  # readers past their snapshot
        self.before = hone_counters(self.tools) if self.name != "baseline" and self.name != "tcpdump" else None
        return self

    def hone_dropped(self):
        """Events Hone's readers dropped so far (None with no Hone module)."""
        if not self.before:
            return None
        return sum(hone_counters(self.tools)["dropped"].values())

    def results(self):
        """CPU of the readers, Hone's drops and losses (and tcpdump's) during the row."""
        out = {"reader_cpu_s": cpu_seconds([p.pid for p in self.procs])}
        if self.before:
            after = hone_counters(self.tools)
            for k in ("dropped", "lost"):
                out[f"hone_{k}"] = sum(after[k].values()) - sum(self.before[k].values())
            out["hone_delivered_packets"] = after["delivered"]["packet"] - self.before["delivered"]["packet"]
        return out

    def __exit__(self, *exc):
        self.tcpdump.__exit__(*exc)
        self.tcpdump_drops = self.tcpdump.drops
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=60)
        if self.name != "baseline" and self.name != "tcpdump":
            self.M.unload_all()
        sh("umount", CAPDIR, check=False)
        shutil.rmtree(CAPDIR, ignore_errors=True)
        return False


def pktgen(ctl, command):
    """One command to the server namespace's packet generator (`ctl`: a file of /proc/net/pktgen)."""
    sh("ip", "netns", "exec", NS_SERVER, "sh", "-c", f"echo '{command}' > /proc/net/pktgen/{ctl}", timeout=600)


def generate(pps, count):
    """`count` 64-byte UDP datagrams received by the server's veth at `pps` (0: as fast as it
    can; otherwise as far as the machine keeps up), from the kernel's packet generator, to the
    sink's port; the rate achieved."""
    mac = json.loads(sh("ip", "-n", NS_SERVER, "-j", "link", "show", "hbs").stdout)[0]["address"]
    pktgen("pgctrl", "reset")
    pktgen("kpktgend_0", "rem_device_all")
    pktgen("kpktgend_0", "add_device hbs")
    for command in ("xmit_mode netif_receive", f"count {count}", "pkt_size 106", f"dst {VETH_SERVER_IP}",
                    "src_min 10.201.0.1", "src_max 10.201.0.1", f"dst_mac {mac}", f"udp_dst_min {SINK_PORT}",
                    f"udp_dst_max {SINK_PORT}", "udp_src_min 9001", "udp_src_max 9001", *([f"ratep {pps}"] if pps else [])):
        pktgen("hbs", command)
    pktgen("pgctrl", "start")  # returns when all are sent
    result = sh("ip", "netns", "exec", NS_SERVER, "cat", "/proc/net/pktgen/hbs").stdout
    m = re.search(r"(\d+)pps", result)
    return int(m.group(1)) if m else 0


class Sink:
    """The destination of pktgen's datagrams: a bound UDP socket in the server namespace that
    does not read (see `sweep`)."""

    def __enter__(self):
        self.proc = subprocess.Popen(["ip", "netns", "exec", NS_SERVER, sys.executable, "-c",
                                      "import socket, signal\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                                      f"s.bind(('{VETH_SERVER_IP}', {SINK_PORT}))\nsignal.pause()"])
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        return False


def sweep(M, tools, seconds, pageorders):
    """With one reader (whole packets; the default ring, then each of `pageorders`), the
    offered UDP rates at which Hone starts to drop. The kernel's packet generator injects the
    datagrams at the server's veth as if received (no userspace sender under TCG gets near
    these rates), to a sink socket; Hone sees each at LOCAL_IN. The sink does not read: its
    queue overflows after LOCAL_IN, and the guest's second vCPU (pktgen spins on the first) is
    left to the reader, as on a host whose application has cores of its own. No rate above the
    generator's ceiling with the reader (measured in every round) can be offered."""
    points = {}
    with Sink():
        for pageorder in [None, *pageorders]:
            with Row("reader", M, tools, **({"pageorder": pageorder} if pageorder is not None else {})):
                with open("/sys/module/honeevent/parameters/pageorder") as f:
                    key = f"pageorder {int(f.read())}" + (" (default)" if pageorder is None else "")
                points[key] = []
                for pps in SWEEP_PPS:
                    before = hone_counters(tools)
                    sent = generate(pps, pps * seconds)
                    time.sleep(0.5)  # the reader catches up with what is queued
                    after = hone_counters(tools)
                    points[key].append({
                        "offered_pps": pps, "sent_pps": sent,
                        "hone_seen": after["received"]["packet"] - before["received"]["packet"],
                        "hone_dropped": sum(after["dropped"].values()) - sum(before["dropped"].values()),
                        "hone_lost": sum(after["lost"].values()) - sum(before["lost"].values())})
    return points


def free_pages():
    """Pages no one holds: the free pages of every zone and those in the per-CPU lists, where
    order-0 pages (vmalloc's) come from and go back without changing the free count."""
    with open("/proc/zoneinfo") as f:
        info = f.read()
    return sum(int(n) for n in re.findall(r"^\s+nr_free_pages (\d+)$", info, re.M)) + \
        sum(int(n) for n in re.findall(r"^\s+count:\s+(\d+)$", info, re.M))


def reader_memory(M, n=32):
    """Kernel memory per open reader: the pages no one holds before and after opening `n` of
    them."""
    M.load()
    time.sleep(1)
    before = free_pages()
    fds = [os.open("/dev/hone", os.O_RDONLY) for _ in range(n)]
    time.sleep(1)
    after = free_pages()
    for fd in fds:
        os.close(fd)
    with open("/sys/module/honeevent/parameters/pageorder") as f:
        pageorder = int(f.read())
    M.unload_all()
    return {"readers": n, "pageorder": pageorder, "ring_bytes": os.sysconf("SC_PAGE_SIZE") << pageorder,
            "kib_per_reader": (before - after) * os.sysconf("SC_PAGE_SIZE") / 1024 / n}


PKTGEN_PROFILES = {"pktgen": "reader", "pktgen96": "reader96"}


def profile(name, M, tools, seconds, out_dir):
    """The row's traffic once more under `perf record -a -g` (`pktgen`, `pktgen96`: the
    generator at full rate with one reader of whole packets, or at snaplen 96, as in the sweep);
    the hottest symbols (self time) to `profile-<row>.txt` in `out_dir`."""
    data = os.path.join(CAPDIR + "-perf", f"{name}.data")
    os.makedirs(os.path.dirname(data), exist_ok=True)
    generator = name in PKTGEN_PROFILES
    with Sink(), Row(PKTGEN_PROFILES.get(name, name), M, tools):
        rec = subprocess.Popen(["perf", "record", "-q", "-a", "-g", "-e", "cpu-clock", "-F", "1999", "-o", data],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        if generator:
            generate(0, 100000 * seconds)
        else:
            measure_traffic(seconds)
        rec.send_signal(2)
        rec.wait(timeout=120)
    report = sh("perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "comm,dso,sym",
                "-g", "none", "--percent-limit", "0.1", check=False)
    path = os.path.join(out_dir, f"profile-{name}.txt")
    with open(path, "w") as f:
        f.write(report.stdout)
    shutil.rmtree(os.path.dirname(data), ignore_errors=True)
    print(f"bench: profile of {name} in {os.path.basename(path)}", flush=True)


def summarize(samples):
    """Median and spread (min, max) of each column of one row."""
    out = {}
    for key in samples[0]:
        values = [s[key] for s in samples if key in s]
        out[key] = {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}
    return out


def accelerator():
    with open("/proc/cpuinfo") as f:
        cpu = f.read()
    model = re.search(r"model name\s*:\s*(.*)", cpu)
    return {"hypervisor": "hypervisor" in cpu, "cpu_model": model.group(1) if model else "?",
            "cpus": os.cpu_count(), "kernel": platform.release(),
            "accelerator": os.environ.get("HONE_ACCELERATOR", "unknown")}


COLUMNS = [("tcp1_veth_mbps", "TCP 1 veth"), ("tcp4_veth_mbps", "TCP 4 veth"), ("tcp1_lo_mbps", "TCP 1 lo"),
           ("tcp4_lo_mbps", "TCP 4 lo"), ("udp_fixed_rx_pps", "UDP fixed"), ("udp_max_rx_pps", "UDP max")]


def throughput_table(rows, fixed_pps):
    """The rows' lines: per column the median, its ratio to the baseline's median in the same
    run, and the spread (min-max) in percent of the median."""
    base = rows["baseline"]
    lines = ["Throughput in Mbit/s (TCP) and received packets/s (UDP, 64-byte payloads, fixed rate "
             f"{fixed_pps} pkt/s offered); each cell: median, ratio to baseline, spread.", ""]
    head = f"{'row':<10}" + "".join(f"{title:>22}" for _, title in COLUMNS) + f"{'reader CPU s':>14}{'dropped':>10}{'lost':>8}"
    lines.append(head)
    for name, row in rows.items():
        cells = ""
        for key, _ in COLUMNS:
            c, b = row[key], base[key]["median"]
            spread = (c["max"] - c["min"]) / c["median"] * 100 if c["median"] else 0
            cells += f"{c['median']:>9.0f} {c['median'] / b if b else 0:>5.0%} ±{spread / 2:>3.0f}%"
        dropped = row.get("hone_dropped", {}).get("median", 0) + row.get("tcpdump_dropped", {}).get("median", 0)
        lost = row.get("hone_lost", {}).get("median", 0)
        lines.append(f"{name:<10}{cells}{row['reader_cpu_s']['median']:>14.2f}{dropped:>10.0f}{lost:>8.0f}")
    lines.append("")
    return lines


CEILING_ROWS = ["baseline", "loaded", "reader", "tcpdump"]


def ceiling_table(ceilings):
    """The generator's ceiling in each row (median, ratio to the baseline's median, spread), the
    drops at that rate, and what each packet costs the CPU that runs the hook (pktgen's
    datagrams reach LOCAL_IN in its own context), against the baseline's time per packet."""
    base = ceilings["baseline"]["pktgen_max_pps"]["median"]
    lines = ["The generator's ceiling (pktgen, 64-byte UDP into the server's veth, a sink that does not read), "
             "and what a packet costs the CPU that runs the hook:"]
    for name, row in ceilings.items():
        c = row["pktgen_max_pps"]
        spread = (c["max"] - c["min"]) / c["median"] * 100 if c["median"] else 0
        line = f"  {name:<10}{c['median']:>9.0f} pkt/s {c['median'] / base:>5.0%} ±{spread / 2:>3.0f}%"
        if name == "baseline":
            line += f"   {1e9 / base:>6.0f} ns per packet"
        elif c["median"]:
            line += (f"   {1e9 / c['median'] - 1e9 / base:>+6.0f} ns per packet ({base / c['median'] - 1:+.0%}), "
                     f"dropped {row['pktgen_dropped']['median']:.0f}")
        lines.append(line)
    return lines


def table(report):
    """The report as text: the rows' table (if rounds were run), the sweep, the memory."""
    rows, m = report["rows"], report["machine"]
    lines = [f"Hone benchmark: {report['rounds']} rounds of {report['seconds_per_test']} s per test; "
             f"{m['cpus']} CPUs, {m['cpu_model']}, kernel {m['kernel']}, "
             f"{'virtual machine' if m['hypervisor'] else 'bare metal'} ({m.get('accelerator', '?')})"]
    if rows:
        lines += throughput_table(rows, report["fixed_pps"])
    for ring, points in report["udp_sweep_one_reader"].items():
        lines.append(f"UDP rate sweep with one reader, {ring} (64-byte payloads, pktgen into the veth):")
        for p in points:
            lines.append(f"  offered {p['offered_pps']:>7} pkt/s: generated {p['sent_pps']:>8.0f}/s, "
                         f"Hone saw {p['hone_seen']:>7} packets, dropped {p['hone_dropped']}, lost {p['hone_lost']}")
        first = next((p["offered_pps"] for p in points if p["hone_dropped"] or p["hone_lost"]), None)
        lines.append(f"  drops begin at: {first if first else 'no drop at any rate tried'}")
    lines += ceiling_table(report["pktgen_ceiling"])
    mem = report["reader_memory"]
    lines.append(f"Kernel memory per reader: {mem['kib_per_reader']:.0f} KiB with pageorder={mem['pageorder']} "
                 f"(ring {mem['ring_bytes'] // 1024} KiB), measured over {mem['readers']} readers")
    return "\n".join(lines)


def main():
    if sys.argv[1] == "--report":
        with open(sys.argv[2]) as f:
            print(table(json.load(f)))
        return 0
    stage, tools, out_path, rounds, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    rows = [r for r in ROWS if r == "baseline" or r in (os.environ.get("BENCH_ROWS") or ",".join(ROWS)).split(",")]
    M = Modules(stage)
    M.unload_all()
    servers = setup_network()
    samples = {r: [] for r in rows}
    # The generator's ceiling in every row of every round (with no round, once in each of
    # CEILING_ROWS).
    ceilings = {r: [] for r in (rows if rounds else CEILING_ROWS)}
    try:
        for rnd in range(max(rounds, 1)):
            names = list(ceilings)
            for name in names[rnd % len(names):] + names[:rnd % len(names)]:
                with Row(name, M, tools) as row:
                    if rounds:
                        t0 = time.monotonic()
                        sample = measure_traffic(seconds)
                        sample.update(row.results())
                        sample["wall_s"] = time.monotonic() - t0
                    ceilings[name].append(generator_ceiling(row, seconds))
                if rounds:
                    sample["tcpdump_dropped"] = row.tcpdump_drops
                    samples[name].append(sample)
                    print(f"bench: round {rnd + 1}/{rounds} {name}: tcp1 veth {sample['tcp1_veth_mbps']:.0f} Mbit/s, "
                          f"udp max {sample['udp_max_rx_pps']:.0f} pkt/s, "
                          f"pktgen {ceilings[name][-1]['pktgen_max_pps']} pkt/s", flush=True)
        pageorders = [int(p) for p in os.environ.get("BENCH_SWEEP_PAGEORDERS", "").split(",") if p]
        sweep_points = sweep(M, tools, seconds, pageorders)
        memory = reader_memory(M)
        for name in filter(None, os.environ.get("BENCH_PROFILE", "").split(",")):
            profile(name, M, tools, seconds, os.path.dirname(out_path))
    finally:
        for s in servers.values():
            s.terminate()
        M.unload_all()
    report = {"machine": accelerator(), "rounds": rounds, "seconds_per_test": seconds, "fixed_pps": FIXED_PPS,
              "rows": {name: summarize(samples[name]) for name in rows if samples[name]}, "samples": samples,
              "udp_sweep_one_reader": sweep_points,
              "pktgen_ceiling": {name: summarize(c) for name, c in ceilings.items()}, "reader_memory": memory}
    with open(out_path, "w") as f:
        json.dump(report, f, indent=1)
    print("bench: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
