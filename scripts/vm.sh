#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the test kernel in a virtme-ng VM (TCG; KVM with HONE_VM_KVM=1) with Hone's modules staged, and runs a command
# in it. Usage: scripts/vm.sh [--rwdir DIR]... [--append KERNEL-ARGS] -- COMMAND...
# Inside the VM, $HONE_STAGE is the module tree for `modprobe -d`, $HONE_TOOLS the tools'
# directory, $HONE_REPO the repository and $HONE_KDIR the kernel build tree. HONE_VM_MEMORY sets the guest's memory (default 2G).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${HONE_CACHE:-$HOME/.cache/hone}
export PATH="$HOME/.cargo/bin:$PATH"

rwdirs=()  # and other vng options
while [ $# -gt 0 ]; do
	case "$1" in
	--rwdir) rwdirs+=("--rwdir=$2"); shift 2 ;;
	--append) rwdirs+=("--append=$2"); shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done

kdir=$("$repo/scripts/kernel.sh")
krel=$(cat "$kdir/include/config/kernel.release")
# A kernel built in a Debian root (HONE_KERNEL_SUITE) gets its modules built there too.
if [ -f "$kdir/../root" ]; then
	kmake() { "$repo/scripts/kernel-make.sh" "$kdir" --bind "$repo" ${stage:+--bind "$stage"} make "$@"; }
else
	kmake() { make "$@"; }
fi
echo "vm: building modules against $kdir" >&2
kmake -s -C "$repo" KDIR="$kdir" modules >&2
echo "vm: building tools" >&2
cargo build --quiet --release --manifest-path "$repo/tools/Cargo.toml" >&2

# The VM sees the host's file system, so stage the modules where it can find them: the test
# kernel's own modules (nf_socket_*) and Hone's, with depmod's dependency index. Each run has
# its own stage, so VM runs from different checkouts (a long `make stress`, a `make test`) can
# overlap without one replacing the modules under the other.
stage=$(mktemp -d "$cache/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
rmdir "$stage"
cp -a "$kdir/../modroot" "$stage"
kmake -s -C "$repo" KDIR="$kdir" INSTALL_MOD_PATH="$stage" INSTALL_MOD_STRIP=1 modules_install >&2

cmd="export HONE_STAGE=$stage HONE_TOOLS=$repo/tools/target/release HONE_REPO=$repo HONE_KDIR=$kdir; $*"
# HONE_VM_KVM=1 uses KVM where the host has it (`make bench` on a faster machine); TCG otherwise.
if [ "${HONE_VM_KVM:-0}" = 1 ]; then
	[ -w /dev/kvm ] || { echo "vm: HONE_VM_KVM=1 but /dev/kvm is not usable here" >&2; exit 1; }
	accel=() accel_name=KVM
else
	accel=(--disable-kvm) accel_name=TCG
fi
echo "vm: booting $krel ($accel_name)" >&2
vng --run "$kdir/arch/x86/boot/bzImage" "${accel[@]}" --cpus 2 --memory "${HONE_VM_MEMORY:-2G}" --user root \
	"${rwdirs[@]}" --exec "$cmd"
