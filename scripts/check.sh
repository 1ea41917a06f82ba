# SPDX-License-Identifier: GPL-2.0
# Sourced by the test scripts that print `ok - ...` / `not ok - ...` lines themselves.

failed=0

# check NAME COMMAND...: runs COMMAND, prints ok/not ok, and its output when it failed.
check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then
		echo "ok - $name"
	else
		echo "not ok - $name"; failed=1
		printf '%s\n' "$out" | tail -n 25 | sed 's/^/#   /'
	fi
}
