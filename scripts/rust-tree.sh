#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Usage: rust-tree.sh KDIR [--check]
# Prints the kernel tree to build Hone's modules in, then the make variables that build in it
# with the kernel's own compiler (empty but for a prepared tree). A tree that carries the kernel's Rust
# artefacts (a self-built kernel, Ubuntu's linux-lib-rust, Arch's headers) is KDIR itself.
# Debian's linux-headers packages lack them (rust/*.rmeta, the proc-macro libraries,
# scripts/target.json), so for those this regenerates them once per kernel release, the way the
# kernel's own build made them: `make modules_prepare` in /usr/src/linux-source-X.Y.tar.xz of
# exactly the headers' package version, with the headers' .config and release, the rustc whose
# version text is the kernel's CONFIG_RUSTC_VERSION_TEXT (the names of Rust symbols depend on
# it) and the pahole of CONFIG_PAHOLE_VERSION (without it the configuration, and so
# `struct module`, changes). The tree is kept under HONE_RUST_TREES (default
# /var/cache/hone/rust-trees for root, else ~/.cache/hone/rust-trees), so later builds for the
# same kernel take seconds. Anything missing stops it with one sentence naming what to install.
# With --check it only says whether a build could go ahead (exit 0) and what is missing.
set -euo pipefail
# Called from make: the outer make's flags and variables (O=, -w, its jobserver) are not ours.
unset MAKEFLAGS MFLAGS MAKELEVEL
kdir=${1:?usage: rust-tree.sh KDIR [--check]}
check_only=${2:-}
say() { echo "hone: $*" >&2; }
# missing WHAT: one sentence, then stop (or, with --check, remember and go on).
problems=0
missing() {
	say "$*"
	problems=$((problems + 1))
	[ "$check_only" = --check ] || exit 1
}

[ -f "$kdir/.config" ] || { say "$kdir is not a kernel build tree (no .config): install the headers of the kernel (linux-headers-$(uname -r)) or set KDIR"; exit 1; }
grep -q '^CONFIG_RUST=y' "$kdir/.config" || { say "the kernel in $kdir is built without CONFIG_RUST=y; Hone's modules are Rust and need a kernel built with it"; exit 1; }
conf() { sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$kdir/.config"; }
# The make variables that build in the tree: the rustc and bindgen asked for, if not the defaults.
kvars=()
[ -n "${RUSTC:-}" ] && kvars+=("RUSTC=$RUSTC")
[ -n "${BINDGEN:-}" ] && kvars+=("BINDGEN=$BINDGEN")
rustc=${RUSTC:-rustc}
want_rustc=$(conf CONFIG_RUSTC_VERSION_TEXT)
have_rustc=$("$rustc" --version 2>/dev/null | head -1) || true
if [ -z "$have_rustc" ]; then
	missing "the kernel's Rust code needs the rustc it was built with (${want_rustc:-see CONFIG_RUSTC_VERSION_TEXT}): install rustc and rust-src"
elif [ -n "$want_rustc" ] && [ "$have_rustc" != "$want_rustc" ]; then
	missing "the kernel was built with '$want_rustc' but rustc here is '$have_rustc': install the rustc of the kernel's Debian release (on Debian 13, 'apt install -t trixie rustc rust-src')"
fi
if [ -f "$kdir/rust/libkernel.rmeta" ]; then
	[ "$problems" = 0 ] || exit 1
	[ "$check_only" = --check ] && say "$kdir carries the kernel's Rust artefacts: ready to build"
	echo "$kdir"
	echo "${kvars[*]}"
	exit 0
fi

[ -z "$have_rustc" ] || [ -f "$("$rustc" --print sysroot)/lib/rustlib/src/rust/library/core/src/lib.rs" ] \
	|| missing "rustc has no library sources, from which the kernel's Rust artefacts are made: install rust-src"
release=$(cat "$kdir/include/config/kernel.release" 2>/dev/null) || true
[ -n "$release" ] || { say "$kdir has no kernel release (include/config/kernel.release): install the kernel's headers again"; exit 1; }
# The package the headers came from, and its version: linux-source must be the same.
headers_pkg=$(dpkg-query -S "$(readlink -f "$kdir")" 2>/dev/null | head -1 | cut -d: -f1 | cut -d, -f1) || true
if [ -z "$headers_pkg" ]; then
	missing "$kdir has no Rust artefacts (rust/libkernel.rmeta) and is not from a Debian package whose sources could make them: run 'make modules_prepare' in the kernel's own build tree"
	exit 1
fi
headers_ver=$(dpkg-query -W -f='${Version}' "$headers_pkg")
series=$(echo "$release" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
src_pkg=linux-source-$series
tarball=/usr/src/$src_pkg.tar.xz
src_ver=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$src_pkg" 2>/dev/null | sed -n 's/^[hi]i *//p') || true
if [ -z "$src_ver" ] || [ ! -f "$tarball" ]; then
	missing "the kernel's headers lack its Rust artefacts, which are made from its sources: install $src_pkg=$headers_ver (apt install $src_pkg=$headers_ver)"
elif [ "$src_ver" != "$headers_ver" ]; then
	missing "$src_pkg is version $src_ver but the kernel's headers ($headers_pkg) are $headers_ver: install $src_pkg=$headers_ver"
fi

# The compilers the kernel was built with (Debian records them in .kernelvariables).
if [ -f "$kdir/.kernelvariables" ]; then
	cross=$(sed -n 's/^override CROSS_COMPILE = *\(\S*\).*/\1/p' "$kdir/.kernelvariables" | head -1)
	cc=$(sed -n 's/^CC = .*)\s*\$(CROSS_COMPILE)\(\S*\)$/\1/p; s/^CC = \(\S*\)$/\1/p' "$kdir/.kernelvariables" | head -1)
	[ -n "$cross" ] && kvars+=("CROSS_COMPILE=$cross")
	[ -n "$cc" ] && kvars+=("CC=$cross$cc")
fi
if grep -q '^CONFIG_CC_IS_CLANG=y' "$kdir/.config"; then
	kvars+=(LLVM=1)
	command -v clang >/dev/null || missing "the kernel was built with clang: install clang, lld and llvm"
else
	gcc_cmd=$(printf '%s\n' "${kvars[@]}" | sed -n 's/^CC=//p')
	gcc_cmd=${gcc_cmd:-gcc}
	command -v "$gcc_cmd" >/dev/null || missing "the kernel was built with $(conf CONFIG_CC_VERSION_TEXT): install ${gcc_cmd#"${cross:-}"} ($gcc_cmd)"
fi

command -v "${BINDGEN:-bindgen}" >/dev/null || missing "the kernel's Rust bindings are made with bindgen ($(conf CONFIG_BINDGEN_VERSION_TEXT)): install bindgen"
want_pahole=$(conf CONFIG_PAHOLE_VERSION)
if [ -n "$want_pahole" ] && [ "$want_pahole" != 0 ]; then
	have_pahole=$(pahole --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\.\([0-9]*\).*/\1\2/p') || true
	if [ -z "$have_pahole" ]; then
		missing "the kernel was configured with pahole $((want_pahole / 100)).$((want_pahole % 100)) (BTF): install dwarves"
	elif [ "$have_pahole" != "$want_pahole" ]; then
		missing "the kernel was configured with pahole $((want_pahole / 100)).$((want_pahole % 100)) but pahole here is ${have_pahole:0:1}.${have_pahole:1}: install the dwarves of the kernel's Debian release"
	fi
fi
for tool in make:make flex:flex bison:bison bc:bc xz:xz-utils; do
	command -v "${tool%%:*}" >/dev/null || missing "preparing the kernel's Rust artefacts needs ${tool%%:*}: install ${tool#*:}"
done
[ -f /usr/include/libelf.h ] || missing "preparing the kernel's Rust artefacts builds objtool, which needs libelf: install libelf-dev"
[ -f /usr/include/openssl/ssl.h ] || missing "preparing the kernel's Rust artefacts builds the kernel's signing tool, which needs OpenSSL's headers: install libssl-dev"

if [ "$check_only" = --check ]; then
	[ "$problems" = 0 ] || exit 1
	say "$kdir lacks the Rust artefacts; the first build makes them from $tarball (a few minutes), later builds reuse them"
	exit 0
fi

if [ -n "${HONE_RUST_TREES:-}" ]; then
	trees=$HONE_RUST_TREES
elif [ "$(id -u)" = 0 ]; then
	trees=/var/cache/hone/rust-trees
else
	trees=${XDG_CACHE_HOME:-$HOME/.cache}/hone/rust-trees
fi
tree=$trees/$release
# What the tree is made of and with; a tree made otherwise (or by another version of this
# script) is made again.
stamp="$headers_pkg $headers_ver|$src_ver|$have_rustc|$("${BINDGEN:-bindgen}" --version 2>&1 | head -1)|${have_pahole:-}|${kvars[*]}|$(sha256sum < "$0" | cut -c1-16)"
mkdir -p "$trees"
exec 9>"$tree.lock"
flock 9
if [ -f "$tree/.hone-stamp" ] && [ "$(cat "$tree/.hone-stamp")" = "$stamp" ]; then
	echo "$tree"
	echo "${kvars[*]}"
	exit 0
fi

say "preparing the Rust artefacts of $release from $tarball in $tree (once per kernel; a few minutes)"
start=$(date +%s)
work=$tree.new
log=$trees/$release.log
rm -rf "$work"
mkdir -p "$work"
# Whatever stops the preparation leaves no half-made tree behind, and says where to look.
told=
trap 'rc=$?; rm -rf "$work"; [ $rc = 0 ] || [ -n "$told" ] || say "preparing the Rust artefacts of $release failed; see $log"' EXIT
tar -C "$work" --strip-components=1 -xf "$tarball" 2> "$log"
cp "$kdir/.config" "$work/.config"
# The release must read exactly as the stock one (vermagic); the signing key stays out of it.
suffix=${release#$(make -s --no-print-directory -C "$work" kernelversion)}
"$work/scripts/config" --file "$work/.config" --set-str LOCALVERSION "$suffix" --disable LOCALVERSION_AUTO \
	--set-str MODULE_SIG_KEY "" --set-str SYSTEM_TRUSTED_KEYS ""
kmake=(make --no-print-directory -C "$work" "${kvars[@]}")
"${kmake[@]}" olddefconfig >> "$log" 2>&1
got=$("${kmake[@]}" -s kernelrelease)
[ "$got" = "$release" ] || { say "the prepared tree's release is $got, not $release; see $log"; told=1; exit 1; }
# Every other option must be as the kernel has it: a dropped one (a missing tool) changes the
# layout of kernel structures, and modules then fail to load.
ignore='CONFIG_\(CC_VERSION_TEXT\|LOCALVERSION\|MODULE_SIG_KEY\|SYSTEM_TRUSTED_KEYS\)='
changed=$(diff <(grep '^CONFIG_' "$kdir/.config" | grep -v "^$ignore" | sort) \
	<(grep '^CONFIG_' "$work/.config" | grep -v "^$ignore" | sort) | sed -n 's/^[<>] //p' | cut -d= -f1 | sort -u | tr '\n' ' ') || true
if [ -n "$changed" ]; then
	say "the kernel's configuration does not survive in $src_pkg with these tools (${changed% }): its compiler, rustc, bindgen or pahole differs from the kernel's; see $log"
	told=1
	exit 1
fi
"${kmake[@]}" -j"$(nproc)" modules_prepare >> "$log" 2>&1
cp "$kdir/Module.symvers" "$work/Module.symvers"
# The headers' vmlinux holds the kernel's BTF: with it, modules get their own BTF as stock ones do.
[ -f "$kdir/vmlinux" ] && cp "$kdir/vmlinux" "$work/vmlinux"
# An external module build reads the headers, Makefiles and scripts, objtool and the Rust
# artefacts (rust/*.rmeta, *.so): drop the kernel's own sources and objects to keep it small.
arch=$(sed -n 's/^CONFIG_\(X86\|ARM64\|RISCV\|LOONGARCH\|S390\|PPC\)=y$/\1/p' "$work/.config" | head -1 \
	| tr A-Z a-z | sed 's/^ppc$/powerpc/')
find "$work" -mindepth 1 -maxdepth 1 -type d ! -name arch ! -name include ! -name scripts ! -name tools ! -name rust \
	-exec find {} -type f ! -name 'Makefile*' ! -name 'Kconfig*' ! -name 'Kbuild*' -delete \;
[ -n "$arch" ] && find "$work/arch" -mindepth 1 -maxdepth 1 -type d ! -name "$arch" -exec rm -rf {} +
find "$work/arch" "$work/rust" "$work/tools" -type f \( -name '*.o' -o -name '*.c' -o -name '*.S' -o -name '*.rs' -o -name '*.cmd' \) -delete
echo "$stamp" > "$work/.hone-stamp"
rm -rf "$tree"
mv "$work" "$tree"
trap - EXIT
say "prepared $tree in $(( $(date +%s) - start )) s"
echo "$tree"
echo "${kvars[*]}"
