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
kver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( { echo "$kver"; [ "${kmake[*]}" = LLVM=1 ] || echo "${kmake[*]}"; cat "${fragments[@]}"; rustc -V; bindgen --version; clang --version | head -1; } | sha256sum | cut -c1-16)
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
tar -C "$dir" -xf /usr/src/linux-source-6.12.tar.xz
mv "$dir/linux-source-6.12" "$dir/src"
make -s -C "$dir/src" O="$dir/build" "${kmake[@]}" allnoconfig >&2
"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/build" "$dir/build/.config" "${fragments[@]}" >/dev/null
make -s -C "$dir/src" O="$dir/build" "${kmake[@]}" olddefconfig >&2
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
make -s -C "$dir/src" O="$dir/build" "${kmake[@]}" -j"$(nproc)" bzImage modules >&2
make -s -C "$dir/src" O="$dir/build" "${kmake[@]}" modules_prepare >&2
make -s -C "$dir/src" O="$dir/build" "${kmake[@]}" INSTALL_MOD_PATH="$dir/modroot" modules_install >&2
touch "$dir/.done"
echo "$dir/build"
