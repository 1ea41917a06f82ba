#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds (once) the Rust-enabled test kernel from Debian's linux-source-6.12 and the config
# fragment in tests/kernel/, and prints the build directory (usable as KDIR).
# The result is cached outside the repository under $HONE_CACHE (default ~/.cache/hone), keyed by
# the kernel package version, the fragment, and the rustc, bindgen and clang versions.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
fragment=${1:-$here/tests/kernel/hone-test.config}
cache=${HONE_CACHE:-$HOME/.cache/hone}
export PATH="$HOME/.cargo/bin:$PATH"

kver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( { echo "$kver"; cat "$fragment"; rustc -V; bindgen --version; clang --version | head -1; } | sha256sum | cut -c1-16)
dir=$cache/kernel-$key
if [ -f "$dir/.done" ]; then
	echo "$dir/build"
	exit 0
fi

rm -rf "$dir"
mkdir -p "$dir/build"
echo "kernel: building test kernel $kver ($key) in $dir; this takes several minutes" >&2
tar -C "$dir" -xf /usr/src/linux-source-6.12.tar.xz
mv "$dir/linux-source-6.12" "$dir/src"
make -s -C "$dir/src" O="$dir/build" LLVM=1 allnoconfig >&2
"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/build" "$dir/build/.config" "$fragment" >/dev/null
make -s -C "$dir/src" O="$dir/build" LLVM=1 olddefconfig >&2
# Every option the fragment sets must have survived olddefconfig (a silently dropped option
# means a missing dependency, e.g. CONFIG_RUST without a usable toolchain).
fail=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	opt=${line%%=*}; val=${line#*=}
	if [ "$val" = n ]; then
		grep -qx "$opt=y\|$opt=m" "$dir/build/.config" && { echo "kernel: $opt should be off" >&2; fail=1; }
	else
		grep -qx "$line" "$dir/build/.config" || { echo "kernel: $line did not stick" >&2; fail=1; }
	fi
done < "$fragment"
[ $fail = 0 ] || exit 1
make -s -C "$dir/src" O="$dir/build" LLVM=1 -j"$(nproc)" bzImage modules >&2
make -s -C "$dir/src" O="$dir/build" LLVM=1 modules_prepare >&2
make -s -C "$dir/src" O="$dir/build" LLVM=1 INSTALL_MOD_PATH="$dir/modroot" modules_install >&2
touch "$dir/.done"
echo "$dir/build"
