# SPDX-License-Identifier: GPL-2.0
"""In-VM tests of hone-read: rotation under traffic, signals, append, snaplen, exit codes."""

import glob
import os
import shutil
import signal
import socket
import struct
import subprocess
import time

from honetest import options, pcapng_blocks

R = M = TOOLS = None
PORT = 7700


def configure(results, modules, tools):
    global R, M, TOOLS
    R, M, TOOLS = results, modules, tools


def hone_read(*args, **kw):
    return subprocess.Popen([os.path.join(TOOLS, "hone-read"), *args], stderr=subprocess.PIPE, text=True, **kw)


def stop(p, sig=signal.SIGTERM):
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    return p.returncode, err


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def send(first, n, pace=10):
    """Sends datagrams "seq=<i>" for i in first..first+n, pausing every `pace` packets."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(first, first + n):
        s.sendto(b"seq=%d" % i, ("127.0.0.1", PORT))
        if i % pace == 0:
            time.sleep(0.002)
    s.close()


def sequences(path):
    """Blocks of one file and the sequence numbers of our outbound datagrams in it."""
    with open(path, "rb") as f:
        blocks = pcapng_blocks(f.read())
    seqs = []
    for btype, body in blocks:
        if btype != 6:
            continue
        caplen = struct.unpack_from("<I", body, 12)[0]
        data = body[20:20 + caplen]
        flags = struct.unpack("<I", dict(options(body[20 + caplen + (-caplen % 4):]))[2])[0]
        if flags & 3 == 2 and data[9] == 17 and struct.unpack_from("!H", data, 22)[0] == PORT:
            seqs.append(int(data[28:].split(b"=")[1]))
    return blocks, seqs


def complete(blocks):
    """Starts with SHB, IDB and a snapshot (pid 1 first), ends with a 208-byte ISB."""
    if len(blocks) < 4 or blocks[0][0] != 0x0A0D0D0A or blocks[1][0] != 1:
        return False
    first_process = next((b for b in blocks if b[0] == 0x101), None)
    return (first_process is not None and struct.unpack_from("<I", first_process[1])[0] == 1
            and blocks[-1][0] == 5 and len(blocks[-1][1]) == 208 - 12)


def capinfos_ok(path):
    """capinfos and tshark read the file without a word of complaint."""
    for cmd in (["capinfos", path], ["tshark", "-r", path]):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0 or [l for l in p.stderr.splitlines() if "could be dangerous" not in l]:
            return False
    return True


def test_rotation_under_traffic():
    subprocess.run(["ip", "link", "set", "lo", "up"])
    d = fresh_dir("/tmp/hone-rot")
    p = hone_read("-w", f"{d}/cap", "-C", "0.03")
    time.sleep(1)
    n = 600
    send(0, n)
    time.sleep(1)
    rc, err = stop(p)
    R.check("hone-read stops cleanly on SIGTERM (exit 0)", rc == 0, err)
    files = sorted(glob.glob(f"{d}/cap*"), key=lambda f: (len(f), f))
    R.check("-C rotates into several files named like tcpdump's", len(files) >= 3 and files[0].endswith("/cap")
            and files[1].endswith("/cap1"), str(files))
    seqs, bad = [], []
    for f in files:
        try:
            blocks, s = sequences(f)
        except ValueError as e:
            bad.append(f"{f}: {e}")
            continue
        if not complete(blocks):
            bad.append(f"{f}: not SHB+IDB+snapshot ... ISB")
        if not capinfos_ok(f):
            bad.append(f"{f}: capinfos or tshark complains")
        seqs += s
    R.check("every file is a complete capture: SHB, IDB, snapshot ... statistics block; capinfos and tshark read it",
            not bad, "; ".join(bad[:5]))
    R.check(f"no packet is lost or split across files: all {n} sent datagrams, once each",
            sorted(seqs) == list(range(n)), f"{len(seqs)} found, {len(set(seqs))} distinct; missing "
            f"{sorted(set(range(n)) - set(seqs))[:20]}; {len(files)} files; hone-read said: {err[-600:]}")
    R.check("hone-read reports each file on stderr", err.count("rotated") == len(files) - 1 and "closed" in err, err[-500:])


def test_signals_and_options():
    d = fresh_dir("/tmp/hone-hup")
    p = hone_read("-w", f"{d}/cap", "-C", "100", "-s", "64")
    time.sleep(1)
    for i in range(2):
        send(1000 * (i + 1), 5)
        time.sleep(0.5)
        p.send_signal(signal.SIGHUP)
        time.sleep(1)
    rc, err = stop(p)
    files = sorted(glob.glob(f"{d}/cap*"))
    R.check("SIGHUP rotates: two signals, three files", rc == 0 and len(files) == 3, f"{files} {err}")
    idb = pcapng_blocks(open(files[0], "rb").read())[1]
    R.check("-s sets the reader's snaplen (the IDB says 64)", struct.unpack_from("<HHI", idb[1])[2] == 64)

    d = fresh_dir("/tmp/hone-g")
    p = hone_read("-w", f"{d}/cap-%s.pcapng", "-G", "1", "-W", "2")
    try:
        rc = p.wait(timeout=20)
        R.check("-G 1 -W 2 writes two strftime-named files and stops", rc == 0 and len(glob.glob(f"{d}/cap-*.pcapng")) == 2,
                str(glob.glob(f"{d}/*")))
    except subprocess.TimeoutExpired:
        stop(p)
        R.check("-G 1 -W 2 writes two strftime-named files and stops", False, "did not stop")

    path = fresh_dir("/tmp/hone-a") + "/cap.pcapng"
    for _ in range(2):
        p = hone_read("-w", path, "-a")
        time.sleep(1)
        stop(p, signal.SIGINT)
    blocks = pcapng_blocks(open(path, "rb").read())
    R.check("-a appends a second complete section", sum(1 for b in blocks if b[0] == 0x0A0D0D0A) == 2
            and capinfos_ok(path))

    # Standard output, into a reader that stops early: a broken pipe ends hone-read cleanly.
    p = subprocess.run(f"{os.path.join(TOOLS, 'hone-read')} -w - | head -c 1000 > /dev/null; echo ${{PIPESTATUS[0]}}",
                       shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=30)
    R.check("-w - writes to a pipe and stops when it closes", p.stdout.strip() == "0", p.stdout + p.stderr)


def test_exit_codes():
    for args, code, what in ((["-d", "/dev/nonexistent"], 66, "a missing device"),
                             (["-w", "/nonexistent/dir/cap"], 73, "an output it cannot create"),
                             (["-C", "1"], 64, "-C without -w FILE"),
                             (["-s", "70000"], 64, "a snaplen out of range")):
        p = subprocess.run([os.path.join(TOOLS, "hone-read"), *args], capture_output=True, text=True, timeout=30)
        R.check(f"hone-read exits {code} on {what}, with a message", p.returncode == code and p.stderr.strip(),
                f"{p.returncode}: {p.stderr}")


def test_stats_and_dump():
    import json
    reader = os.open("/dev/honet", os.O_RDONLY | os.O_NONBLOCK)
    subprocess.run(["/usr/bin/true", "for-stats"])
    send(5000, 3)
    time.sleep(0.3)
    got = b""
    try:
        while True:
            got += os.read(reader, 65536)
    except BlockingIOError:
        pass
    p = subprocess.run([os.path.join(TOOLS, "hone-stats"), "--json"], capture_output=True, text=True, timeout=30)
    try:
        st = json.loads(p.stdout)
    except ValueError:
        st = {}
    delivered_here = got.count(b"\n")
    R.check("hone-stats --json reports the other reader and the events Hone received and delivered",
            p.returncode == 0 and st.get("readers") == 1 and st["received"]["process"] > 0
            and st["received"]["packet"] >= 6 and sum(st["delivered"].values()) >= delivered_here,
            f"{p.stdout} {p.stderr} (this reader read {delivered_here} records)")
    p = subprocess.run([os.path.join(TOOLS, "hone-stats")], capture_output=True, text=True, timeout=30)
    R.check("hone-stats prints a table by class", p.returncode == 0 and "process" in p.stdout and "delivered" in p.stdout,
            p.stdout + p.stderr)
    os.close(reader)

    d = fresh_dir("/tmp/hone-dump")
    p = hone_read("-w", f"{d}/cap")
    time.sleep(1)
    sender = subprocess.Popen(["/usr/bin/python3", "-c", "import socket\nfor i in range(4): socket.socket(socket.AF_INET, "
                               f"socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', {PORT}))"])
    sender.wait()
    time.sleep(0.5)
    stop(p)
    dump = os.path.join(TOOLS, "hone-dump")
    p = subprocess.run([dump, "--json", "-r", f"{d}/cap"], capture_output=True, text=True, timeout=30)
    try:
        objs = [json.loads(l) for l in p.stdout.splitlines()]
    except ValueError as e:
        objs = []
        p.stderr += str(e)
    R.check("hone-dump --json prints one JSON object per record", p.returncode == 0 and len(objs) > 10
            and objs[0]["type"] == "HEAD" and any(o["type"] == "PAKT" and o["pid"] == sender.pid for o in objs), p.stderr)
    p = subprocess.run([dump, "-p", str(sender.pid), "-r", f"{d}/cap"], capture_output=True, text=True, timeout=30)
    lines = [l.split(" ") for l in p.stdout.splitlines()]
    own = [l for l in lines if l[1] not in ("HEAD", "LOST", "PKNS")]
    R.check("hone-dump -p keeps only that process's records (its exec, socket and packets)",
            own and all((l[1] == "PAKT" and l[4] == str(sender.pid)) or (l[1] != "PAKT" and l[2] in ("O", "C") and
                        l[3] == str(sender.pid)) or l[2] == str(sender.pid) for l in own)
            and any(l[1] == "EXEC" for l in own) and any(l[1] == "PAKT" for l in own), p.stdout[-800:])
    p = subprocess.run([dump, "-n", "python3", "-r", f"{d}/cap"], capture_output=True, text=True, timeout=30)
    R.check("hone-dump -n keeps the records of processes of that name",
            p.returncode == 0 and f" {sender.pid} " in p.stdout and " [kthreadd]" not in p.stdout)
    with open(f"{d}/cap", "rb") as f:
        data = f.read()
    with open(f"{d}/cut", "wb") as f:
        f.write(data[:len(data) - 10])
    p = subprocess.run([dump, "-r", f"{d}/cut"], capture_output=True, text=True, timeout=30)
    R.check("hone-dump names the offset of a truncated block and exits 1",
            p.returncode == 1 and "offset" in p.stderr and "panic" not in p.stderr, p.stderr)
    # Twenty sections: far more output than a pipe and hone-dump's buffer hold.
    with open(f"{d}/many", "wb") as f:
        f.write(data * 20)
    for fmt in ("", "--json"):
        p = subprocess.run(f"{dump} {fmt} -r {d}/many | head -n 1 > /dev/null; echo ${{PIPESTATUS[0]}}",
                           shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=60)
        R.check(f"hone-dump {fmt or '(text)'} into a reader that stops early ends quietly with status 0",
                p.stdout.strip() == "0" and not p.stderr, p.stdout + p.stderr)


TESTS = [test_rotation_under_traffic, test_signals_and_options, test_exit_codes, test_stats_and_dump]
