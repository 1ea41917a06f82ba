#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A Debian root with a stock Rust-enabled kernel's packages, made with debootstrap and cached:
#   scripts/debian-root.sh trixie-backports   Debian 13 + its backports kernel, trixie's toolchain
#   scripts/debian-root.sh unstable           Debian unstable's kernel and toolchain
#   scripts/debian-root.sh SUITE clang        the same, with the suite's clang, lld and llvm too:
#                                             scripts/kernel.sh builds the hardened kernel in it
# Prints three lines: the root, the kernel release, the package versions it holds (image,
# source, rustc). The root holds what a user installs to build Hone's modules with dkms: the
# stock linux-image and linux-headers, linux-source of the same version, and the toolchain of
# the suite the kernel was built in (rustc, rust-src, bindgen, gcc, dwarves), and the few
# programs the in-VM tests run (iproute2, procps, udev, tshark). The kernel
# packages are whatever the suite holds today, read from its index; the cache key is made of
# those package versions, so a new kernel in the archive gives a new root. HONE_DEBIAN_MIRROR
# overrides the mirror taken from this machine's apt sources.
set -euo pipefail
suite=${1:?usage: debian-root.sh trixie-backports|unstable [clang]}
flavour=${2:-}
cache=${HONE_CACHE:-$HOME/.cache/hone}
mirror=${HONE_DEBIAN_MIRROR:-$( { cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } \
	| sed -n 's|^URIs: *\(\S*/debian\)/*$|\1|p; s|^deb \(\[[^]]*\] \)\?\(\S*/debian\)/* .*|\2|p' | head -1)}
[ -n "$mirror" ] || { echo "debian-root: no Debian mirror in this machine's apt sources; set HONE_DEBIAN_MIRROR" >&2; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

case "$suite" in
trixie-backports)
	base=trixie; lists="$base $base-backports"; kernel_suite=$base-backports; cc=gcc-14 ;;
unstable)
	base=sid; lists=sid; kernel_suite=sid; cc=gcc-16 ;;
*) echo "debian-root: unknown suite $suite (trixie-backports or unstable)" >&2; exit 64 ;;
esac
# The toolchain a module build needs, from the base suite (trixie's backports carry newer rustc
# versions than the one the kernel was built with); the kernel packages from kernel_suite.
toolchain=(rustc rust-src bindgen libclang-dev "$cc" make flex bison bc libelf-dev libssl-dev openssl dwarves
	xz-utils cpio kmod python3 dkms)
case "$flavour" in
'') prefix=root ;;
# A whole kernel built with LLVM (KASAN on a Rust kernel needs clang).
clang) prefix=clangroot; toolchain+=(clang lld llvm) ;;
*) echo "debian-root: unknown flavour $flavour (clang or none)" >&2; exit 64 ;;
esac
# What the in-VM tests run besides (test-stock.sh boots the stock kernel on this root).
vm_tools=(iproute2 procps udev tshark)

# The suite's package index, in a private apt state (nothing of this machine's apt changes).
idx=$cache/apt-$suite
mkdir -p "$idx/lists/partial" "$idx/archives/partial"
: > "$idx/status"
for s in $lists; do echo "deb [signed-by=$keyring] $mirror $s main"; done > "$idx/sources.list"
apt_opts=(-o Dir::Etc::SourceList="$idx/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$idx/lists" -o Dir::State::status="$idx/status" -o Dir::Cache="$idx"
	-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null -o APT::Architecture=amd64
	-o APT::Sandbox::User=root -o Acquire::Check-Valid-Until=false)
if [ -z "$(find "$idx/lists" -maxdepth 1 -name '*Packages*' -mmin -720 2>/dev/null | head -1)" ]; then
	apt-get -qq "${apt_opts[@]}" update >&2 || { echo "debian-root: cannot read the $suite index from $mirror" >&2; exit 1; }
fi
# version PACKAGE SUITE: the version SUITE holds (empty if none).
version() {
	apt-cache "${apt_opts[@]}" madison "$1" 2>/dev/null | awk -F'|' -v s="$2/main" '$3 ~ " "s" " { gsub(/ /, "", $2); print $2; exit }'
}
meta=$(version linux-image-amd64 "$kernel_suite")
[ -n "$meta" ] || { echo "debian-root: $kernel_suite holds no linux-image-amd64" >&2; exit 1; }
image=$(apt-cache "${apt_opts[@]}" show "linux-image-amd64=$meta" | sed -n 's/^Depends: .*\(linux-image-[0-9][^ ,]*-amd64\).*/\1/p' | head -1)
release=${image#linux-image-}
kver=$(version "$image" "$kernel_suite")
srcpkg=linux-source-$(echo "$release" | cut -d. -f1-2)
srcver=$(version "$srcpkg" "$kernel_suite")
rustver=$(version rustc "$base")
[ -n "$kver" ] && [ -n "$rustver" ] || { echo "debian-root: cannot resolve $image or rustc in $suite" >&2; exit 1; }
[ "$srcver" = "$kver" ] || {
	echo "debian-root: $suite holds $image $kver but $srcpkg ${srcver:-(none)}: the Rust artefacts cannot be regenerated" >&2; exit 1; }

versions="$image $kver, $srcpkg $srcver, rustc $rustver"
key=$( { echo "$suite $mirror ${toolchain[*]} ${vm_tools[*]}"; for p in "${toolchain[@]}" "${vm_tools[@]}"; do echo "$p $(version "$p" "$base")"; done
	echo "$versions"; } | sha256sum | cut -c1-16)
root=$cache/$prefix-$suite-$key
if [ ! -f "$root/.done" ]; then
	mkdir -p "$cache"
	exec 9>"$root.lock"
	flock 9
fi
if [ ! -f "$root/.done" ]; then
	rm -rf "$root"
	echo "debian-root: debootstrap $base into $root ($versions); a few minutes" >&2
	debootstrap --variant=minbase --keyring="$keyring" --include="$(IFS=,; echo "${toolchain[*]}")" \
		"$base" "$root" "$mirror" > "$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
	for s in $lists; do echo "deb $mirror $s main"; done > "$root/etc/apt/sources.list"
	# A mirror that is a snapshot serves Release files past their Valid-Until (unstable's last
	# a week): the packages are still the signed ones.
	echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99hone-snapshot"
	# Only the kernel's own packages come from kernel_suite (trixie-backports would also
	# replace the toolchain and linux-libc-dev).
	chroot "$root" apt-get -qq update >&2
	chroot "$root" apt-mark hold linux-libc-dev >/dev/null
	DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends "${vm_tools[@]}" \
		>> "$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends -t "$kernel_suite" \
		"$image=$kver" "linux-headers-$release=$kver" "$srcpkg=$srcver" >> "$root.log" 2>&1 \
		|| { tail -20 "$root.log" >&2; exit 1; }
	chroot "$root" apt-get clean
	touch "$root/.done"
	# Roots of this suite that the archive has moved past go, unless a run still uses one
	# (test-stock.sh holds a shared lock on the root it works on).
	for old in "$cache/$prefix-$suite-"*/; do
		old=${old%/}
		[ "$old" = "$root" ] && continue
		( flock -n -x 8 && rm -rf --one-file-system "$old" "$old.log" ) 8>"$old.lock" && rm -f "$old.lock"
	done
fi
echo "$root"
echo "$release"
echo "$versions"
