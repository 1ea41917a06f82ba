# SPDX-License-Identifier: GPL-2.0
# Sourced by the scripts that boot the test kernel and count what its suites report (test.sh,
# test-hardened.sh), which set `repo`: starts their counts of passed and failed checks.
passed=0
failed=0

# vm_suite RESULTS-DIR VM-ARGS...: boots the VM (once more if it did not come up: boot-vm.sh),
# counts its ok/not ok lines, and counts a run that did not reach its final `vm: N passed,
# N failed` line as a failure (showing its console).
vm_suite() {
	local dir=$1 rc p f; shift
	touch "$dir/results.txt"
	"$repo/scripts/boot-vm.sh" "$dir/results.txt" "$dir/console.txt" "$repo/scripts/vm.sh" --rwdir "$dir" "$@"
	rc=$?
	p=$(grep -c '^ok - ' "$dir/results.txt")
	f=$(grep -c '^not ok - ' "$dir/results.txt")
	cat "$dir/results.txt"
	if ! grep -q '^vm: .* passed, .* failed' "$dir/results.txt"; then
		echo "test: the VM run did not finish (exit $rc); its console:"
		tail -n 60 "$dir/console.txt"
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}
