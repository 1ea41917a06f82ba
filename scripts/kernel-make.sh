#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Usage: scripts/kernel-make.sh KDIR [--bind DIR]... COMMAND...
# Runs COMMAND against a kernel tree that scripts/kernel.sh built in a Debian root
# (HONE_KERNEL_SUITE): in an overlay of that root (the file `root` beside KDIR names it; the
# root itself stays as cached), with the kernel's cache directory and each DIR mounted at their
# own paths, and the clean environment of a shell there, so that the kernel and the modules
# built against it use the suite's own compiler, rustc and bindgen.
set -euo pipefail
usage="usage: kernel-make.sh KDIR [--bind DIR]... COMMAND..."
kdir=${1:?$usage}
shift
kernel=$(cd "$kdir/.." && pwd)
root=$(cat "$kernel/root")
binds=("$kernel")
while [ "${1:-}" = --bind ]; do
	binds+=("$(cd "${2:?$usage}" && pwd)")
	shift 2
done
[ $# -gt 0 ] || { echo "$usage" >&2; exit 64; }
[ -f "$root/.done" ] || { echo "kernel-make: the root $root the kernel was built in is gone; remove $kernel to build it again" >&2; exit 1; }
cache=${HONE_CACHE:-$HOME/.cache/hone}
# While this runs, debian-root.sh does not remove the root for a newer one.
exec 8<"$root.lock"
flock -s 8

tmp=$(mktemp -d "$cache/kmake.XXXXXX")
mnt=$tmp/root
mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null || true; done
	# Never into a mount that is still there (the kernel tree, the root).
	mountpoint -q "$mnt" || rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/upper" "$tmp/work" "$mnt"
mount -t overlay overlay -o "lowerdir=$root,upperdir=$tmp/upper,workdir=$tmp/work" "$mnt"
mounted+=("$mnt")
mount -t proc proc "$mnt/proc"
mounted+=("$mnt/proc")
for d in "${binds[@]}"; do
	mkdir -p "$mnt$d"
	mount --bind "$d" "$mnt$d"
	mounted+=("$mnt$d")
done
chroot "$mnt" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"
