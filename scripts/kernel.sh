#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds (once) the Rust-enabled test kernel from Debian's linux-source-6.12 and the config
# fragments given as arguments, or else in HONE_KERNEL_CONFIG (space-separated, relative to the
# repository), or else tests/kernel/hone-test.config; prints the build directory (usable as
# KDIR). `make test-hardened` sets HONE_KERNEL_CONFIG to hone-test.config plus hardened.config
# (KASAN, UBSAN), and every script that boots or builds against the test kernel follows. The result is cached outside the repository under
# $HONE_CACHE (default ~/.cache/hone), keyed by the kernel package version, the fragments, the
# compiler and the rustc, bindgen and clang versions. HONE_KERNEL_CC=gcc builds the C side with
# GCC (as Ubuntu's and Arch's Rust-enabled kernels are) instead of LLVM.
# HONE_KERNEL_SUITE=trixie-backports builds instead the linux-source of that Debian suite's
# stock kernel (7.3 for Debian 13), in a Debian root of the suite with its own toolchain
# (scripts/debian-root.sh SUITE clang: trixie's rustc 1.85, bindgen and clang), as a user's
# modules are built for the stock kernel; the build tree's `root` file names that root, and
# scripts/kernel-make.sh runs a build against the tree there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -gt 0 ]; then
	fragments=("$@")
else
	fragments=()
	for f in ${HONE_KERNEL_CONFIG:-tests/kernel/hone-test.config}; do
		case "$f" in /*) fragments+=("$f") ;; *) fragments+=("$here/$f") ;; esac
	done
fi
cache=${HONE_CACHE:-$HOME/.cache/hone}
export PATH="$HOME/.cargo/bin:$PATH"

case "${HONE_KERNEL_CC:-llvm}" in
llvm) kmake=(LLVM=1) ;;
gcc) kmake=(CC=gcc) ;;
*) echo "kernel: HONE_KERNEL_CC must be llvm or gcc" >&2; exit 64 ;;
esac
suite=${HONE_KERNEL_SUITE:-}
if [ -z "$suite" ]; then
	kver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	source=/usr/src/linux-source-6.12.tar.xz
	key=$( { echo "$kver"; [ "${kmake[*]}" = LLVM=1 ] || echo "${kmake[*]}"; cat "${fragments[@]}"; rustc -V; bindgen --version; clang --version | head -1; } | sha256sum | cut -c1-16)
else
	[ "${kmake[*]}" = LLVM=1 ] || { echo "kernel: a kernel of a Debian suite is built with LLVM only" >&2; exit 64; }
	info=$("$here/scripts/debian-root.sh" "$suite" clang) || exit 1
	root=$(sed -n 1p <<<"$info")
	kver=$(sed -n 3p <<<"$info")
	source=$(ls "$root"/usr/src/linux-source-*.tar.xz)
	# The root's name holds the key of its package versions (the toolchain among them).
	key=$( { echo "$suite $(basename "$root") $kver"; cat "${fragments[@]}"; } | sha256sum | cut -c1-16)
fi
dir=$cache/kernel-$key
if [ -f "$dir/.done" ]; then
	echo "$dir/build"
	exit 0
fi
# Two checkouts asking for the same kernel at once: one builds, the other waits for it.
mkdir -p "$cache"
exec 9>"$dir.lock"
flock 9
if [ -f "$dir/.done" ]; then
	echo "$dir/build"
	exit 0
fi

rm -rf "$dir"
mkdir -p "$dir/build"
echo "kernel: building test kernel $kver ($key) in $dir; this takes several minutes" >&2
tar -C "$dir" -xf "$source"
mv "$dir"/linux-source-* "$dir/src"
if [ -n "$suite" ]; then
	echo "$root" > "$dir/root"
	kmake() { "$here/scripts/kernel-make.sh" "$dir/build" make "$@"; }
else
	kmake() { make "$@"; }
fi
kmake -s -C "$dir/src" O="$dir/build" "${kmake[@]}" allnoconfig >&2
"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/build" "$dir/build/.config" "${fragments[@]}" >/dev/null
kmake -s -C "$dir/src" O="$dir/build" "${kmake[@]}" olddefconfig >&2
# Every option the fragments set (a later fragment overriding an earlier one) must have
# survived olddefconfig (a silently dropped option means a missing dependency, e.g.
# CONFIG_RUST without a usable toolchain).
fail=0
while IFS= read -r line; do
	opt=${line%%=*}; val=${line#*=}
	if [ "$val" = n ]; then
		grep -qx "$opt=y\|$opt=m" "$dir/build/.config" && { echo "kernel: $opt should be off" >&2; fail=1; }
	else
		grep -qx "$line" "$dir/build/.config" || { echo "kernel: $line did not stick" >&2; fail=1; }
	fi
done < <(cat "${fragments[@]}" | awk -F= '/^CONFIG_[A-Za-z0-9_]*=/ { last[$1] = $0; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } } END { for (i = 1; i <= n; i++) print last[order[i]] }')
[ $fail = 0 ] || exit 1
kmake -s -C "$dir/src" O="$dir/build" "${kmake[@]}" -j"$(nproc)" bzImage modules >&2
kmake -s -C "$dir/src" O="$dir/build" "${kmake[@]}" modules_prepare >&2
kmake -s -C "$dir/src" O="$dir/build" "${kmake[@]}" INSTALL_MOD_PATH="$dir/modroot" modules_install >&2
touch "$dir/.done"
echo "$dir/build"
