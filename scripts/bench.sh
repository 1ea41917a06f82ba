#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boots the test VM and runs tests/vm/bench.py (Hone's cost on the packet path
# next to no capture and tcpdump), prints the table and writes the JSON report to BENCH_JSON
# (default bench.json). BENCH_ROUNDS (5) and BENCH_SECONDS (2) set the repetitions and the
# length of each iperf3 test; BENCH_ROWS limits the rows (comma-separated; the baseline always
# runs; BENCH_ROUNDS=0 skips them for the sweep alone); BENCH_SWEEP_PAGEORDERS (comma-separated)
# repeats the UDP rate sweep with those ring sizes; BENCH_PROFILE names rows to profile with
# perf in the guest (profile-<row>.txt next to the JSON report). It runs on the test kernel
# without lock and memory debugging (tests/kernel/bench.config), as distributions ship theirs;
# HONE_KERNEL_CONFIG overrides. BENCH_KVM=1 boots the guest with KVM (a host with /dev/kvm), for the
# figures TCG cannot give.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# Whole-packet captures of gigabits per second go to tmpfs in the guest: give it room.
export HONE_VM_MEMORY=${HONE_VM_MEMORY:-8G}
export HONE_KERNEL_CONFIG=${HONE_KERNEL_CONFIG:-tests/kernel/hone-test.config tests/kernel/bench.config}
rounds=${BENCH_ROUNDS:-5}
seconds=${BENCH_SECONDS:-2}
out=$(realpath -m "${BENCH_JSON:-bench.json}")
"$repo/scripts/deps.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# BENCH_KVM=1 runs the guest under KVM, on a host that has it; this machine has none (TCG).
if [ "${BENCH_KVM:-0}" = 1 ]; then accelerator=kvm; else accelerator=tcg; fi
export HONE_VM_KVM=${BENCH_KVM:-0}
echo "bench: $rounds rounds of ${seconds}-second tests in the test VM ($accelerator)" >&2
"$repo/scripts/vm.sh" --rwdir "$work" -- \
	"export HONE_ACCELERATOR=$accelerator BENCH_ROWS='${BENCH_ROWS:-}' BENCH_PROFILE='${BENCH_PROFILE:-}' BENCH_SWEEP_PAGEORDERS='${BENCH_SWEEP_PAGEORDERS:-}'; cd \$HONE_REPO/tests/vm && /usr/bin/python3 bench.py \$HONE_STAGE \$HONE_TOOLS $work/bench.json $rounds $seconds" \
	2>&1 | tee "$work/console.txt" | grep --line-buffered '^bench: ' >&2 || true
if [ ! -s "$work/bench.json" ]; then
	echo "bench: the VM run did not finish; its console:" >&2
	tail -n 40 "$work/console.txt" >&2
	exit 1
fi
cp "$work/bench.json" "$out"
for f in "$work"/profile-*.txt; do
	[ -e "$f" ] && cp "$f" "$(dirname "$out")/"
done
python3 "$repo/tests/vm/bench.py" --report "$out"
echo "bench: JSON report in $out" >&2
