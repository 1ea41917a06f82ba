#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make test`: installs what is missing, runs the host tests (cargo) and the in-VM tests
# (real modules, real processes, checked against ground truth), and ends with one line
# `N passed, N failed`. Exits non-zero on any failure.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
. "$repo/scripts/vm-suite.sh"

count_cargo() {
	# Adds up cargo's "test result: ok. N passed; M failed" lines.
	local p f
	p=$(grep -o '[0-9]* passed' "$1" | awk '{s+=$1} END {print s+0}')
	f=$(grep -o '[0-9]* failed' "$1" | awk '{s+=$1} END {print s+0}')
	passed=$((passed + p))
	failed=$((failed + f))
}

"$repo/scripts/deps.sh" || { echo "test: installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
for manifest in rust/hone/Cargo.toml tools/Cargo.toml; do
	echo "== cargo test ($manifest)"
	if ! cargo test --quiet --manifest-path "$repo/$manifest" 2>&1 | tee "$log"; then
		grep -q "test result" "$log" || failed=$((failed + 1))
	fi
	count_cargo "$log"
done

echo "== install"
check() {
	if "$@" >/dev/null 2>&1; then
		echo "ok - $name"; passed=$((passed + 1))
	else
		echo "not ok - $name"; failed=$((failed + 1))
	fi
}
inst=$(mktemp -d)
name="make install-tools puts the tools, the unit, the logrotate file and the udev rule in place"
check bash -c "make -s -C '$repo' install-tools DESTDIR='$inst' PREFIX=/usr && test -x '$inst/usr/bin/hone-read' \
	&& test -x '$inst/usr/bin/hone-dump' && test -x '$inst/usr/bin/hone-stats' \
	&& grep -q '^ExecStart=/usr/bin/hone-read ' '$inst/etc/systemd/system/hone.service' \
	&& test -f '$inst/etc/logrotate.d/hone' && test -f '$inst/etc/udev/rules.d/60-hone.rules'"
# systemd checks that the unit's programs exist, so verify a unit pointing at the built tools.
name="systemd accepts the unit"
check bash -c "make -s -C '$repo' install-tools DESTDIR='$inst/v' BINDIR='$repo/tools/target/release' \
	&& systemd-analyze verify --man=no '$inst/v/etc/systemd/system/hone.service'"
rm -rf "$inst"

echo "== packaging"
# Builds and lints the packages, builds with dkms, and prepares the trees the VM's install tests use.
pkg=$(mktemp -d)
"$repo/scripts/test-packaging.sh" "$pkg" | tee "$log"
passed=$((passed + $(grep -c '^ok - ' "$log")))
failed=$((failed + $(grep -c '^not ok - ' "$log")))

# Debian 13's kernel (trixie-backports) runs every in-VM suite (or HONE_VM_SUITES); unstable's,
# a load-and-capture check. HONE_STOCK_SUITES names the Debian suites (default: both).
echo "== stock Debian kernels: the packages installed by apt, the modules built by dkms"
for suite in ${HONE_STOCK_SUITES-trixie-backports unstable}; do
	case "$suite" in
	trixie-backports) vm_suites=${HONE_VM_SUITES:-process,network,control,tools,security,install} ;;
	*) vm_suites=install,network ;;
	esac
	"$repo/scripts/test-stock.sh" "$suite" "$repo/dist/hone-dkms_$(cat "$repo/VERSION")_all.deb" \
		"$repo/dist/hone-tools_$(cat "$repo/VERSION")_amd64.deb" "$vm_suites" | tee "$log"
	rc=${PIPESTATUS[0]}
	passed=$((passed + $(grep -c '^ok - ' "$log")))
	f=$(grep -c '^not ok - ' "$log")
	# A run that stopped without saying what failed is a failure too.
	[ "$rc" != 0 ] && [ "$f" = 0 ] && { echo "not ok - test-stock.sh $suite ended with status $rc"; f=1; }
	failed=$((failed + f))
done

echo "== VM tests"
results=$(mktemp -d)
kdir=$("$repo/scripts/kernel.sh")
vm_suite "$results" --rwdir "$pkg" -- \
	"export PATH=$HOME/.cargo/bin:\$PATH HONE_KDIR=$kdir HONE_VERSION=$(cat "$repo/VERSION") HONE_VM_SUITES=${HONE_VM_SUITES:-} \
	HONE_INSTALL_ROOT=$pkg/install-root HONE_DKMS_TREE=$pkg/dkms HONE_DKMS_SOURCES=$pkg/src/usr/src; \
	cd \$HONE_REPO/tests/vm && /usr/bin/python3 run.py \$HONE_STAGE \$HONE_TOOLS $results/results.txt"

echo "== VM tests, IPv6 disabled at boot"
noipv6=$(mktemp -d)
vm_suite "$noipv6" --append ipv6.disable=1 -- \
	"cd \$HONE_REPO/tests/vm && /usr/bin/python3 noipv6.py \$HONE_STAGE $noipv6/results.txt"

rm -rf "$results" "$noipv6" "$log" "$pkg"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
