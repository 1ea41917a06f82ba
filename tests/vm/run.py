#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Runs Hone's in-VM tests.

Usage (inside the test VM, as root): run.py STAGE TOOLS RESULTS
  STAGE    module tree for `modprobe -d` (the test kernel's modules plus Hone's, depmod'ed;
           `/` on a stock kernel, whose modules are installed in the root)
  TOOLS    directory holding the hone-dump binary
  RESULTS  file to append `ok`/`not ok` lines to
HONE_VM_SUITES (comma-separated: process,network,control,tools,security,install,scale) runs only those
suites; the unload and kernel-log checks always run last.
"""

import os
import signal
import sys

import test_control
import test_install
import test_network
import test_process
import test_scale
import test_security
import test_tools
from honetest import Modules, Results, mark_kernel_log

STAGE, TOOLS, RESULTS = sys.argv[1:4]


def main():
    signal.alarm(1800)
    results, modules = Results(RESULTS), Modules(STAGE)
    mark_kernel_log(results)
    suites = {"process": test_process, "network": test_network, "control": test_control, "tools": test_tools,
              "security": test_security, "install": test_install, "scale": test_scale}
    chosen = (os.environ.get("HONE_VM_SUITES") or ",".join(suites)).split(",")
    tests = []
    for name in chosen:
        suites[name].configure(results, modules, TOOLS)
        tests += suites[name].TESTS
    test_process.configure(results, modules, TOOLS)
    # Unloading and the kernel log come last: they judge everything before them.
    tests += [test_process.test_unload, test_process.test_kernel_log]
    for test in tests:
        try:
            test()
        except Exception as e:  # noqa: BLE001 - a crashing test is a failed check
            results.check(f"{test.__name__} ran to completion", False, f"{type(e).__name__}: {e}")
    results.finish(f"vm: {results.passed} passed, {results.failed} failed")
    return 0 if results.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
