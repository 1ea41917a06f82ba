#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make stress`: boots the test kernel (HONE_KERNEL_SUITE and HONE_KERNEL_CONFIG pick the
# hardened one, as scripts/test-hardened.sh sets them) and runs
# tests/vm/stress.py: STRESS_CYCLES (default 1000) load/unload cycles of the module chain under
# traffic, namespace churn, fork storms and reader churn, then leak and kernel-log checks.
# STRESS_SEED repeats a run. Ends with `N passed, N failed`; exits non-zero on any failure.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cycles=${STRESS_CYCLES:-1000}
seed=${STRESS_SEED:-$(date +%s)}
"$repo/scripts/deps.sh" || exit 1
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
touch "$results/results.txt"
echo "stress: $cycles cycles, seed $seed" >&2
"$repo/scripts/vm.sh" --rwdir "$results" -- \
	"cd \$HONE_REPO/tests/vm && /usr/bin/python3 stress.py \$HONE_STAGE \$HONE_TOOLS $results/results.txt $cycles $seed" \
	2>&1 | tee "$results/console.txt" | grep --line-buffered '^stress: ' >&2
cat "$results/results.txt"
passed=$(grep -c '^ok - ' "$results/results.txt")
failed=$(grep -c '^not ok - ' "$results/results.txt")
if ! grep -q '^stress: .* passed, .* failed' "$results/results.txt"; then
	echo "stress: the VM run did not finish; its console:"
	tail -n 60 "$results/console.txt"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
