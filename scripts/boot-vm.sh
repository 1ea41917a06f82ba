#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# boot-vm.sh RESULTS CONSOLE COMMAND...: runs COMMAND, a VM boot whose tests write their lines
# to RESULTS, with its output in CONSOLE; exits with COMMAND's status.
# The tests' first line is `# VM up: ...`, written before any Hone module is loaded. A VM that
# ended without it and without the status of its command (vng's exit 255) stopped while
# booting (seen once, in CI: the stock unstable kernel under TCG). Such a VM is booted once
# more, and what its console said is shown as `#` lines. A VM that came up is never booted
# again (whatever happens after that line is the tests' to judge), nor is a command that
# failed by itself (a build, say).
results=$1 console=$2
shift 2
for attempt in 1 2; do
	: > "$results"
	"$@" > "$console" 2>&1
	rc=$?
	{ [ "$rc" = 255 ] && ! grep -q '^# VM up:' "$results"; } || break
	echo "# the VM did not come up (vng exit $rc, boot $attempt of 2); the end of its console:"
	tail -n 40 "$console" | sed 's/^/#   /'
done
exit $rc
