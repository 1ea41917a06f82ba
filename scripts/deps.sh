#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs everything Hone's build and test need on a Debian 12 machine, idempotently:
# the kernel source and LLVM toolchain for Rust-for-Linux, qemu and virtme-ng for the test VM,
# rust-src and bindgen-cli 0.69.5 for the kernel's Rust support, the deb/rpm/dkms tools for
# the packaging checks, Debian's stock (Rust-less) kernel headers to check the refusal, and
# debootstrap and busybox-static for the roots and VMs of Debian's stock Rust kernels.
set -euo pipefail

APT_PACKAGES=(
	linux-source-6.12 clang lld llvm libclang-dev
	flex bison bc libelf-dev libssl-dev cpio kmod xz-utils rsync
	qemu-system-x86 udev iproute2 procps python3 tshark iperf3 tcpdump linux-perf
	dkms dh-dkms debhelper fakeroot lintian rpm rpmlint linux-headers-cloud-amd64
	debootstrap debian-archive-keyring busybox-static zstd
)
BINDGEN_VERSION=0.69.5

missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing Debian packages: ${missing[*]}" >&2
	SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v rustup >/dev/null; then
	echo "deps: rustup not found; install the Rust toolchain first" >&2
	exit 1
fi
if [ ! -f "$(rustc --print sysroot)/lib/rustlib/src/rust/library/core/src/lib.rs" ]; then
	echo "deps: adding rust-src" >&2
	rustup component add rust-src >/dev/null
fi
if ! bindgen --version 2>/dev/null | grep -q "bindgen $BINDGEN_VERSION"; then
	echo "deps: installing bindgen-cli $BINDGEN_VERSION" >&2
	cargo install --quiet bindgen-cli --version "$BINDGEN_VERSION" --locked
fi
if ! command -v vng >/dev/null; then
	echo "deps: installing virtme-ng" >&2
	python3 -m pip install --quiet virtme-ng
	command -v pyenv >/dev/null && pyenv rehash || true
fi
