# SPDX-License-Identifier: GPL-2.0
"""In-VM security tests: the device interface under a fuzzer, no kernel address or dirty padding in
what readers get, and module parameters that cannot be changed at runtime."""

import os
import re
import socket
import struct
import subprocess
import threading
import time

import devfuzz
from honetest import MODULES, DeviceReader, param

R = M = TOOLS = None


def configure(results, modules, tools):
    global R, M, TOOLS
    R, M, TOOLS = results, modules, tools


def traffic(stop, port=7800):
    """UDP and TCP over loopback, IPv4 and IPv6, until `stop` is set."""
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("::", port))
    srv.listen(16)
    srv.settimeout(0.2)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    while not stop.is_set():
        for dst in (("127.0.0.1", port), ):
            udp.sendto(b"hone-security-traffic", dst)
        try:
            c = socket.create_connection(("::1", port), timeout=1)
            a, _ = srv.accept()
            c.sendall(b"x" * 100)
            a.recv(100)
            a.close()
            c.close()
        except OSError:
            pass
        time.sleep(0.01)
    srv.close()
    udp.close()


def with_traffic(fn):
    stop = threading.Event()
    t = threading.Thread(target=traffic, args=(stop,))
    t.start()
    try:
        return fn()
    finally:
        stop.set()
        t.join()


def test_device_fuzzer():
    for device, seed in (("/dev/hone", 1), ("/dev/honet", 2), ("/dev/hone", int(time.time()))):
        def fuzz():
            f = devfuzz.Fuzzer(device, seed)
            try:
                f.run(12)
            finally:
                f.close()
            return f
        f = with_traffic(fuzz)
        R.check(f"fuzzing {device} (seed {seed}, {f.calls} calls): every call returns or fails with a documented errno",
                not f.bad and f.calls > 1000, f"{f.bad[:5]} errors={f.errors}")
        problems = f.stream_problems()
        R.check(f"the bytes read from {device} under the fuzzer still form a whole stream ({len(f.stream)} bytes)",
                not problems and len(f.stream) > 0, "; ".join(problems))
    # The devices still work for a plain reader afterwards.
    r = DeviceReader("/dev/honet")
    subprocess.run(["/bin/true", "after-the-fuzzer"])
    r.wait_quiet()
    data = r.close()
    R.check("after fuzzing, a new reader gets a header and live events", data.split(b"\n", 1)[0].split(b" ")[1:2] == [b"HEAD"]
            and b"after-the-fuzzer" in data, data[:200])


def test_no_kernel_addresses_or_dirty_padding():
    readers = with_traffic(lambda: _capture_both(4.0))
    pcap, text = readers
    # The scan itself must see a real kernel address: this module's own code.
    with open("/sys/module/honeevent/sections/.text") as f:
        text_address = int(f.read(), 16)
    probe = struct.pack("<II", 0x101, 20) + struct.pack("<Q", text_address) + struct.pack("<I", 20)
    R.check(f"the scan recognises a kernel address ({text_address:#x})",
            devfuzz.is_kernel_address(text_address) and devfuzz.kernel_pointers(probe) == [8])
    pointers = devfuzz.kernel_pointers(pcap)
    R.check(f"no kernel address in {len(pcap)} bytes of /dev/hone outside packet data",
            len(pcap) > 10000 and not pointers,
            f"{len(pointers)} hits, first at {pointers[:5]}: {[pcap[o:o + 8].hex() for o in pointers[:5]]}")
    hexes = [h for h in re.findall(rb"\b[0-9a-f]{16}\b", text) if devfuzz.is_kernel_address(int(h, 16))]
    big = [n for n in re.findall(rb"\b\d{19,20}\b", text) if devfuzz.is_kernel_address(int(n))]
    R.check(f"no kernel address in {len(text)} bytes of /dev/honet", len(text) > 1000 and not hexes and not big,
            f"{hexes[:5]} {big[:5]}")
    problems = devfuzz.pcapng_problems(pcap)
    R.check("every PCAP-NG block's padding and reserved bytes are zero", not problems, "; ".join(problems))


def _capture_both(seconds):
    pr, tr = DeviceReader("/dev/hone"), DeviceReader("/dev/honet")
    time.sleep(seconds)
    return pr.close(), tr.close()


def test_params_read_only():
    refused = []
    for module in MODULES:
        pdir = f"/sys/module/{module}/parameters"
        if not os.path.isdir(pdir):
            continue
        for name in os.listdir(pdir):
            path = os.path.join(pdir, name)
            before = param(name, module)
            try:
                with open(path, "w") as f:
                    f.write("1")
                refused.append((path, False))
            except OSError:
                refused.append((path, param(name, module) == before))
    R.check(f"no module parameter can be written at runtime ({len(refused)} tried)",
            refused and all(ok for _, ok in refused), [p for p, ok in refused if not ok])


TESTS = [test_device_fuzzer, test_no_kernel_addresses_or_dirty_padding, test_params_read_only]
