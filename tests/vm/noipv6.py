#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hone on a kernel booted with ipv6.disable=1: the chain loads and reports IPv4.

Usage (inside the test VM, booted with ipv6.disable=1): noipv6.py STAGE RESULTS
"""

import os
import socket
import sys

from honetest import DeviceReader, Modules, Results, kernel_reports, mark_kernel_log, parse_text


def main():
    R, M = Results(sys.argv[2]), Modules(sys.argv[1])
    mark_kernel_log(R)
    R.check("the kernel was booted with IPv6 disabled", not os.path.exists("/proc/net/if_inet6"))
    r = M.load()
    R.check("with IPv6 disabled, modprobe honeevent loads the chain", r.returncode == 0, r.stderr)
    reader = DeviceReader("/dev/honet")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    for _ in range(5):
        s.sendto(b"hone-without-ipv6", sink.getsockname())
    sink.recv(100)
    reader.wait_quiet()
    recs = parse_text(reader.close())
    mine = [x for x in recs if x["tag"] == "PAKT" and x.get("pid") == os.getpid()]
    R.check("and reports this process's IPv4 packets", len(mine) >= 5, f"{len(mine)} of {len(recs)} records")
    r = M.unload_all()
    R.check("and unloads", r.returncode == 0, r.stderr)
    bad, at_boot = kernel_reports()
    for line in at_boot[:20]:
        R.emit(f"# reported while booting, before Hone was loaded (not judged): {line}")
    R.check("with no report in the kernel log", not bad, "\n".join(bad[:20]))
    R.finish(f"vm: {R.passed} passed, {R.failed} failed")
    return 0 if R.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
