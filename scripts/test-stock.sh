#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Hone on a Debian install with a stock Rust-enabled kernel, as a user gets it:
#   scripts/test-stock.sh SUITE HONE-DKMS.deb HONE-TOOLS.deb [VM-SUITES]
# In a copy (overlay) of the cached root of SUITE (scripts/debian-root.sh: the stock
# linux-image, linux-headers and linux-source of the suite, and its toolchain), apt installs
# the two packages, dkms builds the modules against the stock headers (whose missing Rust
# artefacts `make` regenerates, kept between runs like a user's /var/cache), and the result
# is checked against the stock kernel: vermagic, and every symbol the modules need is exported
# by the stock kernel or by another Hone module. Then virtme-ng boots the suite's stock,
# signed kernel image on that root, and the in-VM test suites named by VM-SUITES (comma-
# separated, as HONE_VM_SUITES; none if empty) run there with the modules dkms installed,
# loaded by a plain `modprobe honeevent`, and the tools of the hone-tools package.
# Prints `ok - ...` / `not ok - ...` lines.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: test-stock.sh SUITE HONE-DKMS.deb HONE-TOOLS.deb [VM-SUITES]"
suite=${1:?$usage}
deb=${2:?$usage}
tools_deb=${3:?$usage}
vm_suites=${4:-}
cache=${HONE_CACHE:-$HOME/.cache/hone}
version=$(cat "$repo/VERSION")
. "$repo/scripts/check.sh"

if ! info=$("$repo/scripts/debian-root.sh" "$suite" 2>&1); then
	echo "not ok - a $suite root with the suite's stock kernel packages and toolchain"
	printf '%s\n' "$info" | tail -n 25 | sed 's/^/#   /'
	exit 1
fi
info=$(printf '%s\n' "$info" | tail -n 3)
root=$(sed -n 1p <<<"$info")
release=$(sed -n 2p <<<"$info")
echo "# $suite: $(sed -n 3p <<<"$info")"
# While this run uses the root, debian-root.sh does not remove it for a newer one.
exec 8<"$root.lock"
flock -s 8

# The root stays as cached; each run works in an overlay of it. The regenerated Rust
# artefacts are kept per suite, as a user's machine keeps /var/cache/hone (their stamp says
# which kernel packages and toolchain they were made from).
trees=$cache/rust-trees-$suite
mkdir -p "$trees"
tmp=$(mktemp -d "$cache/stock.XXXXXX")
mnt=$tmp/root
mkdir -p "$tmp/upper" "$tmp/work" "$mnt"
cleanup() {
	for m in proc var/cache/hone/rust-trees ""; do umount "$mnt/$m" 2>/dev/null; done
	# Never into a mount that is still there (the cached trees, the root).
	mountpoint -q "$mnt" || rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$root,upperdir=$tmp/upper,workdir=$tmp/work" "$mnt" \
	&& mkdir -p "$mnt/var/cache/hone/rust-trees" && mount --bind "$trees" "$mnt/var/cache/hone/rust-trees" \
	&& mount -t proc proc "$mnt/proc" || { echo "not ok - an overlay of the $suite root"; exit 1; }
# Commands in the root get a clean environment, as a user's shell there would (no make flags).
clean_env="env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8"
in_root() { chroot "$mnt" $clean_env "$@"; }

cp "$deb" "$mnt/tmp/hone-dkms.deb"
cp "$tools_deb" "$mnt/tmp/hone-tools.deb"
check "apt installs hone-dkms and hone-tools $version in $suite, resolving their dependencies" \
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/hone-dkms.deb /tmp/hone-tools.deb
check "make check-kernel finds the stock $release kernel ready" in_root make -s -C "/usr/src/hone-$version" \
	check-kernel KDIR="/lib/modules/$release/build"
check "dkms builds and installs the five modules for the stock $release kernel" bash -c "
	chroot '$mnt' $clean_env dkms install -m hone -v '$version' -k '$release' --force >'$tmp/dkms.log' 2>&1 || { cat '$tmp/dkms.log'; exit 1; }
	n=\$(ls '$mnt/lib/modules/$release/updates/dkms/' | grep -c '\.ko')
	[ \"\$n\" = 5 ] || { echo \"\$n modules installed\"; exit 1; }"
# The same modules, decompressed, for the checks below.
mods=$tmp/modules
mkdir -p "$mods"
for f in "$mnt/lib/modules/$release/updates/dkms/"*.ko*; do
	case "$f" in *.xz) xz -dc "$f" ;; *.zst) zstd -qdc "$f" ;; *) cat "$f" ;; esac > "$mods/$(basename "${f%.xz}" .zst)"
done
check "each module's vermagic is the stock kernel's ($release)" bash -c "
	for m in '$mods'/*.ko; do v=\$(modinfo -F vermagic \"\$m\"); case \"\$v\" in '$release '*) ;; *) echo \"\$m: \$v\"; exit 1;; esac; done"
check "every symbol the modules use is exported by the stock kernel or by another Hone module" bash -c "
	symvers='$mnt/usr/src/linux-headers-$release/Module.symvers'
	[ \$(ls '$mods'/*.ko | wc -l) = 5 ] || { echo 'not five modules'; exit 1; }
	own=\$(for m in '$mods'/*.ko; do nm --defined-only \"\$m\" | awk '{print \$3}' | sed -n 's/^__ksymtab_//p'; done | sort -u)
	used=\$(for m in '$mods'/*.ko; do nm -u \"\$m\" | awk '{print \$2}'; done | sort -u)
	[ -n \"\$used\" ] || { echo 'no undefined symbols read'; exit 1; }
	bad=0
	for s in \$used; do
		grep -q \"	\$s	\" \"\$symvers\" || grep -qx \"\$s\" <<<\"\$own\" || { echo \"not exported: \$s\"; bad=1; }
	done
	exit \$bad"
check "a second build reuses the prepared Rust artefacts, and the build is warning-free" bash -c "
	chroot '$mnt' $clean_env make -C '/usr/src/hone-$version' KDIR='/lib/modules/$release/build' modules >'$tmp/again.log' 2>&1 \
		|| { cat '$tmp/again.log'; exit 1; }
	grep -q 'honeevent.ko' '$tmp/again.log' && ! grep -q 'preparing the Rust artefacts' '$tmp/again.log' \
		&& ! grep -i -A5 'warning' '$tmp/again.log'"

# A machine that lacks a piece is told, in one sentence, which package to install.
# one_sentence NAME WANT COMMAND...: COMMAND fails, and what it says is one sentence of Hone's
# naming WANT (and at most make's own line that the target failed).
one_sentence() {
	local name=$1 want=$2; shift 2
	check "$name" bash -c "! $* >/dev/null 2>'$tmp/err' && test \$(grep -c '^hone: ' '$tmp/err') = 1 \
		&& test \$(grep -Evc '^make(\[[0-9]+\])?: \*\*\*' '$tmp/err') = 1 && grep -q -- '$want' '$tmp/err' || { cat '$tmp/err'; exit 1; }"
}
src=$(basename "$mnt"/usr/src/linux-source-*.tar.xz .tar.xz)
one_sentence "without rustc, make check-kernel says to install rustc" "install rustc" \
	chroot "$mnt" $clean_env RUSTC=/nonexistent make -s -C "/usr/src/hone-$version" check-kernel KDIR="/lib/modules/$release/build"
printf '#!/bin/sh\necho "rustc 1.80.0 (051478957 2024-07-21)"\n' > "$mnt/tmp/rustc-1.80"
chmod +x "$mnt/tmp/rustc-1.80"
one_sentence "with another rustc, make says which rustc the kernel was built with" "but rustc here is .rustc 1.80.0" \
	chroot "$mnt" $clean_env RUSTC=/tmp/rustc-1.80 HONE_RUST_TREES=/tmp/none make -s -C "/usr/src/hone-$version" modules KDIR="/lib/modules/$release/build"
mv "$mnt/usr/src/$src.tar.xz" "$mnt/usr/src/$src.tar.xz.away"
one_sentence "without linux-source, make names the $src package and version to install" "install $src=" \
	chroot "$mnt" $clean_env HONE_RUST_TREES=/tmp/none make -s -C "/usr/src/hone-$version" modules KDIR="/lib/modules/$release/build"
mv "$mnt/usr/src/$src.tar.xz.away" "$mnt/usr/src/$src.tar.xz"
mv "$mnt/usr/bin/pahole" "$mnt/usr/bin/pahole.away"
one_sentence "without pahole, make says to install dwarves" "install dwarves" \
	chroot "$mnt" $clean_env HONE_RUST_TREES=/tmp/none make -s -C "/usr/src/hone-$version" modules KDIR="/lib/modules/$release/build"
mv "$mnt/usr/bin/pahole.away" "$mnt/usr/bin/pahole"

[ -n "$vm_suites" ] || exit $failed
# The stock kernel, booted on this root. virtme-ng's initramfs mounts the root over 9p, whose
# modules it loads with busybox insmod, which reads no .ko.xz: those few stock modules are
# decompressed (in the overlay only). Hone's modules stay as dkms installed them.
for f in $(for alias in fs-9p 9pnet_virtio virtio_mmio; do in_root modprobe --show-depends -S "$release" "$alias"; done \
		| awk '$1 == "insmod" && $2 ~ /\.xz$/ { print $2 }' | sort -u); do
	xz -d "$mnt$f"
done
in_root depmod "$release"
results=$tmp/results
mkdir -p "$results" "$mnt/hone/repo" "$mnt/hone/results"
: > "$results/results.txt"
echo "# booting the stock $release kernel (TCG) with the dkms-built modules; in-VM suites: $vm_suites"
# The guest gets the root alone: not this machine's /proc, nor the cached trees.
umount "$mnt/proc" "$mnt/var/cache/hone/rust-trees"
"$repo/scripts/boot-vm.sh" "$results/results.txt" "$tmp/console.txt" \
	vng --run "$mnt/boot/vmlinuz-$release" --root "$mnt" --rw --disable-kvm --cpus 2 --memory "${HONE_VM_MEMORY:-2G}" \
	--user root --rodir="/hone/repo=$repo" --rwdir="/hone/results=$results" \
	--exec "export HONE_PACKAGED=1 HONE_VM_SUITES=$vm_suites; cd /hone/repo/tests/vm && python3 run.py / /usr/bin /hone/results/results.txt"
rc=$?
cat "$results/results.txt"
# The suites' own lines are counted by the caller; a run that did not finish is a failure.
grep -q '^not ok - ' "$results/results.txt" && failed=1
if ! grep -q '^vm: .* passed, .* failed' "$results/results.txt"; then
	echo "not ok - the VM on the stock $release kernel finished its suites (vng exit $rc)"
	tail -n 60 "$tmp/console.txt" | sed 's/^/#   /'
	failed=1
fi
exit $failed
