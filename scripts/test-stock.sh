#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Hone on a Debian install with a stock Rust-enabled kernel, as a user gets it:
#   scripts/test-stock.sh SUITE HONE-DKMS.deb
# In a copy (overlay) of the cached root of SUITE (scripts/debian-root.sh: the stock
# linux-image, linux-headers and linux-source of the suite, and its toolchain), apt installs
# the hone-dkms package, dkms builds the modules against the stock headers (whose missing Rust
# artefacts `make` regenerates, kept between runs like a user's /var/cache), and the result
# is checked against the stock kernel: vermagic, and every symbol the modules need is exported
# by the stock kernel or by another Hone module. Prints `ok - ...` / `not ok - ...` lines.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
suite=${1:?usage: test-stock.sh SUITE HONE-DKMS.deb}
deb=${2:?usage: test-stock.sh SUITE HONE-DKMS.deb}
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

# The root stays as cached; each run works in an overlay of it. The regenerated Rust
# artefacts are kept per root, as a user's machine keeps /var/cache/hone.
trees=$cache/rust-trees-$(basename "$root")
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
check "apt installs hone-dkms $version in $suite, resolving its dependencies" \
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/hone-dkms.deb
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
exit $failed
