#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# boot-vm.sh RESULTS CONSOLE COMMAND...: runs COMMAND, a VM boot whose tests append their lines
# to RESULTS, with its output in CONSOLE; exits with COMMAND's status.
# The tests' first line is `# VM up: ...`, written before any Hone module is loaded. A VM whose
# results lack it stopped before them, while booting (seen once, in CI: the stock unstable
# kernel under TCG, vng exit 255). Such a VM is booted once more, and what its console said is
# shown as `#` lines. A VM that came up is never booted again: whatever
# happens after that line is the tests' to judge.
results=$1 console=$2
shift 2
for attempt in 1 2; do
	"$@" > "$console" 2>&1
	rc=$?
	grep -q '^# VM up:' "$results" && break
	echo "# the VM did not come up (exit $rc, boot $attempt of 2); the end of its console:"
	tail -n 40 "$console" | sed 's/^/#   /'
done
exit $rc
