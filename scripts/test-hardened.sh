#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make test-hardened`: the in-VM suites on a debug build of the kernel users run, Debian 13's
# (linux-source of trixie-backports' stock kernel, built in a trixie root with trixie's own
# rustc, bindgen and clang: scripts/kernel.sh with HONE_KERNEL_SUITE) with lockdep, kmemleak,
# KASAN and UBSAN (tests/kernel/hone-test.config and hardened.config). Any report in the kernel
# log fails the run. HONE_VM_SUITES picks the suites (default: all but install, whose packages
# and dkms builds `make test` checks on the stock kernels). Ends with `N passed, N failed`.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
. "$repo/scripts/vm-suite.sh"
export HONE_KERNEL_SUITE=${HONE_KERNEL_SUITE:-trixie-backports}
export HONE_KERNEL_CONFIG="tests/kernel/hone-test.config tests/kernel/hardened.config"
suites=${HONE_VM_SUITES:-process,network,control,tools,security}

"$repo/scripts/deps.sh" || { echo "test-hardened: installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
if ! info=$("$repo/scripts/debian-root.sh" "$HONE_KERNEL_SUITE" clang 2>&1) || ! kdir=$("$repo/scripts/kernel.sh"); then
	printf '%s\n' "$info" | tail -n 25
	echo "not ok - the hardened $HONE_KERNEL_SUITE kernel builds"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "== hardened kernel $(cat "$kdir/include/config/kernel.release") from the $HONE_KERNEL_SUITE root of" \
	"$(printf '%s\n' "$info" | tail -n 1); built with $(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"/\1/p' "$kdir/.config")"

echo "== VM tests on the hardened kernel: $suites"
results=$(mktemp -d)
vm_suite "$results" -- \
	"export PATH=$HOME/.cargo/bin:\$PATH HONE_VERSION=$(cat "$repo/VERSION") HONE_VM_SUITES=$suites; \
	cd \$HONE_REPO/tests/vm && /usr/bin/python3 run.py \$HONE_STAGE \$HONE_TOOLS $results/results.txt"

echo "== VM tests on the hardened kernel, IPv6 disabled at boot"
noipv6=$(mktemp -d)
vm_suite "$noipv6" --append ipv6.disable=1 -- \
	"cd \$HONE_REPO/tests/vm && /usr/bin/python3 noipv6.py \$HONE_STAGE $noipv6/results.txt"

rm -rf "$results" "$noipv6"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
