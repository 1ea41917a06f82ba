#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""`make stress`: load/unload cycles of the module chain under everything at once.

Usage (inside the test VM, as root): stress.py STAGE TOOLS RESULTS CYCLES [SEED]

While background workers keep UDP and TCP flowing (loopback, IPv4 and IPv6), create and destroy
network namespaces joined by veth with traffic in them, and fork/exec all the time, each cycle
loads the chain with a random ring size and snaplen, starts one to four reader processes (plain
readers of random read sizes, blocking or not; readers that restart their stream; the device
fuzzer of devfuzz.py), kills about half of them in the middle of their reads, and unloads the
chain. Every 25th cycle pauses the workers and checks, on a one-page ring, that a fork storm's
events are each either delivered or counted as lost. At the end: no cycle failed to load or
unload, no fuzzer saw a bad answer or a torn stream, slab usage is back to what the same
workload left without Hone, kmemleak finds nothing and the kernel log has no report.
"""

import json
import os
import random
import signal
import struct
import subprocess
import sys
import time

import test_process
from honetest import MODULES, Modules, Results, fork_storm, mark_kernel_log, parse_text

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 7900


# background workers (each runs as its own process: `stress.py --worker NAME`) ----------------

def worker_udp():
    import socket
    sinks = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind((host, 0))
        s.setblocking(False)
        sinks.append((s, s.getsockname()[:2]))
    out4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    while True:
        for (sink, addr), out in zip(sinks, (out4, out6)):
            out.sendto(b"hone-stress", addr)
            try:
                while True:
                    sink.recv(2048)
            except BlockingIOError:
                pass
        time.sleep(0.002)


def worker_tcp():
    import socket
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("::", PORT))
    srv.listen(64)
    linger = struct.pack("ii", 1, 0)  # close with a reset: no TIME_WAIT sockets piling up
    while True:
        for host in ("127.0.0.1", "::1"):
            try:
                c = socket.create_connection((host, PORT), timeout=2)
                a, _ = srv.accept()
                c.sendall(b"x" * 3000)
                a.recv(4096)
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                c.close()
                a.close()
            except OSError:
                pass
        time.sleep(0.02)


def worker_netns():
    i = 0
    while True:
        i = (i + 1) % 200
        ns, host_if, ns_if, net = f"hstress{i}", f"hsv{i}", f"hsp{i}", f"10.{99}.{i}"
        sh = ["ip", "netns", "exec", ns]
        for cmd in (["ip", "netns", "add", ns],
                    ["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
                    ["ip", "link", "set", ns_if, "netns", ns],
                    ["ip", "addr", "add", f"{net}.1/24", "dev", host_if],
                    ["ip", "link", "set", host_if, "up"],
                    sh + ["ip", "addr", "add", f"{net}.2/24", "dev", ns_if],
                    sh + ["ip", "link", "set", ns_if, "up"],
                    sh + ["ip", "link", "set", "lo", "up"],
                    sh + [sys.executable, "-c",
                          "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                          f"for _ in range(20): s.sendto(b'ns', ('{net}.1', 9)); s.sendto(b'lo', ('127.0.0.1', 9))"]):
            subprocess.run(cmd, capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        time.sleep(0.3)


def worker_forks():
    while True:
        subprocess.run(["/bin/true", "hone-stress-fork"])
        time.sleep(0.01)


def worker_reader():
    """A reader of random read sizes; sometimes blocking, sometimes restarting its stream."""
    import fcntl
    import devfuzz
    rng = random.Random(int(sys.argv[3]))
    device = rng.choice(["/dev/hone", "/dev/honet"])
    fd = os.open(device, os.O_RDONLY | (0 if rng.random() < 0.5 else os.O_NONBLOCK))
    end = time.monotonic() + rng.uniform(0.05, 0.5)
    while time.monotonic() < end:
        try:
            os.read(fd, rng.choice([1, 7, 100, 4096, 65536]))
        except BlockingIOError:
            time.sleep(0.005)
        if rng.random() < 0.02:
            fcntl.ioctl(fd, devfuzz.RESTART)
    os.close(fd)


WORKERS = {"udp": worker_udp, "tcp": worker_tcp, "netns": worker_netns, "forks": worker_forks,
           "reader": worker_reader}


def spawn_worker(name, *args):
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", name, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=HERE)


# measurements ------------------------------------------------------------------------------

def slab_objects():
    """Active objects per slab cache, after the system has been given time to free what it can."""
    subprocess.run(["sync"])
    time.sleep(3)  # namespace teardown and RCU callbacks are asynchronous
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")
    time.sleep(1)
    counts = {}
    with open("/proc/slabinfo") as f:
        for line in f.readlines()[2:]:
            fields = line.split()
            counts[fields[0]] = (int(fields[1]), int(fields[3]))  # active objects, object size
    return counts


def slab_growth(before, after, top=3):
    """The `top` caches that grew most in bytes from `before` to `after` (`slab_objects()`), as
    `name +KiB`: what a growth trend is made of (namespace teardown backlog, or Hone's own)."""
    grown = sorted(((n - before.get(k, (0, 0))[0]) * size, k) for k, (n, size) in after.items())
    return ", ".join(f"{k} {b / 1024:+.0f} KiB" for b, k in reversed(grown[-top:])) or "none"


def unreclaimable_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("SUnreclaim:"):
                return int(line.split()[1])
    return 0


def run_workers(seconds):
    workers = [spawn_worker(n) for n in ("udp", "tcp", "netns", "forks")]
    time.sleep(seconds)
    return workers


def stop_workers(workers):
    for w in workers:
        w.send_signal(signal.SIGCONT)
        w.kill()
    for w in workers:
        w.wait()
    subprocess.run("for n in $(ip netns list | awk '/^hstress/ {print $1}'); do ip netns del $n; done; "
                   "for l in $(ip -o link | awk -F': ' '/hsv/ {print $2}' | cut -d@ -f1); do ip link del $l; done",
                   shell=True, capture_output=True)


def quiet_cycles(M, rng, n):
    """`n` load/read/unload cycles with nothing else running: a per-cycle leak shows in slab
    counts as about one object per cycle, above the noise of a quiet system."""
    import socket
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(n):
        if M.load(pageorder=rng.choice([0, 1, 3]), snaplen=rng.choice([0, 96])).returncode != 0:
            continue
        fds = [os.open(d, os.O_RDONLY | os.O_NONBLOCK) for d in ("/dev/hone", "/dev/honet")]
        for _ in range(20):
            out.sendto(b"hone-quiet", sink.getsockname())
            sink.recv(100)
        subprocess.run(["/bin/true"])
        for fd in fds:
            try:
                os.read(fd, rng.choice([13, 4096, 65536]))
            except BlockingIOError:
                pass
            os.close(fd)
        M.unload_all()
    sink.close()
    out.close()


def accounting_check(M, workers):
    """On a one-page ring, a fork storm's events are delivered or counted as lost, each."""
    for w in workers:
        w.send_signal(signal.SIGSTOP)
    try:
        if M.load(pageorder=0).returncode != 0:
            return False, "load with pageorder=0 failed"
        fd = os.open("/dev/honet", os.O_RDONLY | os.O_NONBLOCK)
        n = 300
        storm = fork_storm(n)
        data = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            data += chunk
        os.close(fd)
        recs = parse_text(data)
        delivered = sum(1 for r in recs if r.get("pid") in storm and r["tag"] in ("FORK", "EXIT"))
        lost = sum(r["process"] for r in recs if r["tag"] == "LOST")
        return 2 * n <= delivered + lost <= 2 * n + 50, f"delivered {delivered} + lost {lost} vs {2 * n}"
    finally:
        M.unload_all()
        for w in workers:
            w.send_signal(signal.SIGCONT)


# the run ---------------------------------------------------------------------------------------

def main():
    stage, tools, results_path, cycles = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else int(time.time())
    rng = random.Random(seed)
    R, M = Results(results_path), Modules(stage)
    mark_kernel_log(R)
    test_process.configure(R, M, tools)
    R.emit(f"# stress: {cycles} cycles, seed {seed}")
    M.unload_all()

    workers = run_workers(2)
    load_fail, unload_fail, fuzz_bad, accounting_bad, killed, readers_run = [], [], [], [], 0, 0
    slab_at_start = slab_objects()
    started = time.monotonic()
    for cycle in range(1, cycles + 1):
        r = M.load(pageorder=rng.choice([0, 1, 2, 3]), snaplen=rng.choice([0, 96, 1500]))
        if r.returncode != 0:
            load_fail.append(f"cycle {cycle}: {r.stderr.strip()}")
            M.unload_all()
            continue
        readers = []
        for _ in range(rng.randint(1, 4)):
            device = rng.choice(["/dev/hone", "/dev/honet"])
            kind = rng.random()
            if kind < 0.25:  # the device fuzzer
                readers.append(subprocess.Popen(
                    [sys.executable, os.path.join(HERE, "devfuzz.py"), device, f"{rng.uniform(0.1, 0.5):.2f}",
                     str(rng.getrandbits(32))], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            elif kind < 0.4:  # random read sizes, some non-blocking, restarting its stream
                readers.append(spawn_worker("reader", rng.getrandbits(32)))
            elif kind < 0.7:  # a blocking reader of an odd block size
                readers.append(subprocess.Popen(["dd", f"if={device}", "of=/dev/null", f"bs={rng.choice([1, 13, 4096, 65536])}"],
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True))
            else:  # reads a few records' worth and closes
                readers.append(subprocess.Popen(["head", "-c", str(rng.randint(1, 200000)), device],
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True))
        readers_run += len(readers)
        time.sleep(rng.uniform(0.05, 0.3))
        for p in readers:
            # dd never ends by itself: it is always killed, in the middle of a read.
            if (p.args[0] == "dd" or rng.random() < 0.5) and p.poll() is None:
                p.kill()  # in the middle of a read, a poll or an ioctl
                killed += 1
        for p in readers:
            try:
                out, _ = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
                fuzz_bad.append(f"cycle {cycle}: a reader hung")
                continue
            if p.returncode == 0 and out and out.strip().startswith("{"):
                report = json.loads(out.strip().splitlines()[-1])
                if report["bad"] or report["stream_problems"]:
                    fuzz_bad.append(f"cycle {cycle}: {report}")
        r = M.unload_all()
        left = set(MODULES) & Modules.loaded()
        if r.returncode != 0 or left:
            unload_fail.append(f"cycle {cycle}: {r.stderr.strip()} still loaded: {sorted(left)}")
            time.sleep(1)
            M.unload_all()
        if cycle % 25 == 0:
            ok, detail = accounting_check(M, workers)
            if not ok:
                accounting_bad.append(f"cycle {cycle}: {detail}")
        if cycle % 50 == 0 or cycle == cycles:
            # Unreclaimable slab as it goes: a long run shows a growth trend before its end.
            print(f"stress: {cycle}/{cycles} cycles, {time.monotonic() - started:.0f} s, "
                  f"unreclaimable slab {unreclaimable_kib()} KiB, grown most since the start: "
                  f"{slab_growth(slab_at_start, slab_objects())}", flush=True)
    elapsed = time.monotonic() - started
    stop_workers(workers)

    R.check(f"{cycles} load/unload cycles under traffic, namespace churn and fork storms: every load worked "
            f"({elapsed:.0f} s)", not load_fail, "; ".join(load_fail[:5]))
    R.check(f"... and every unload, with {readers_run} readers started and {killed} killed mid-read",
            not unload_fail, "; ".join(unload_fail[:5]))
    R.check("no fuzzing reader got an undocumented answer or a torn stream", not fuzz_bad, "; ".join(fuzz_bad[:3]))
    R.check(f"every 25 cycles, each fork-storm event on a one-page ring was delivered or counted as lost "
            f"({cycles // 25} checks)", not accounting_bad, "; ".join(accounting_bad[:5]))

    # Then, with nothing else running, two runs of more cycles: a per-cycle leak adds about one
    # object per cycle to some cache in each of them; noise does not add up.
    quiet = min(cycles, 50)
    quiet_cycles(M, rng, 3)  # first-use allocations (caches, module loader) out of the way
    snaps = [(slab_objects(), unreclaimable_kib())]
    for _ in range(2):
        quiet_cycles(M, rng, quiet)
        snaps.append((slab_objects(), unreclaimable_kib()))

    def growth(a, b):
        return {k: b.get(k, (0, 0))[0] - n for k, (n, _) in a.items()}

    g1, g2 = growth(snaps[0][0], snaps[1][0]), growth(snaps[1][0], snaps[2][0])
    leaking = sorted((g1[k], g2.get(k, 0), k) for k in g1 if g1[k] >= quiet // 2 and g2.get(k, 0) >= quiet // 2)
    kib = [s[1] for s in snaps]
    R.check(f"two runs of {quiet} more cycles on a quiet system leave slab usage where it was "
            f"(unreclaimable {kib[0]} -> {kib[1]} -> {kib[2]} KiB)",
            not leaking and kib[2] - kib[0] < 1024,
            f"caches that grew by about one object per cycle in both runs: {leaking[-8:]}")
    test_process.test_kernel_log()
    R.finish(f"stress: {R.passed} passed, {R.failed} failed")
    return 0 if R.failed == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        WORKERS[sys.argv[2]]()
        sys.exit(0)
    sys.exit(main())
