#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Packaging checks (`make test-packaging`; `make test` runs them too). Prints `ok - ...` /
# `not ok - ...` lines and leaves in WORKDIR (default: a temporary directory) what the in-VM
# install tests need:
#   WORKDIR/install-root  the test kernel's modules plus `make install` (modules and tools)
#   WORKDIR/dkms          a dkms tree in which hone is built for the test kernel
#   WORKDIR/src           the /usr/src tree of the hone-dkms .deb
# Usage: scripts/test-packaging.sh [WORKDIR]
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
work=${1:-$(mktemp -d)}
mkdir -p "$work"
version=$(cat "$repo/VERSION")
. "$repo/scripts/check.sh"

kdir=$("$repo/scripts/kernel.sh") || { echo "not ok - the test kernel builds"; exit 1; }
krel=$(cat "$kdir/include/config/kernel.release")
rm -rf "$repo/dist"

# deb
check "make deb builds hone-dkms and hone-tools $version" make -s -C "$repo" deb
deb_dkms=$repo/dist/hone-dkms_${version}_all.deb
deb_tools=$(ls "$repo"/dist/hone-tools_"$version"_*.deb 2>/dev/null | head -1)
check "lintian reports no errors on the .deb packages" bash -c \
	"lintian --fail-on error --suppress-tags no-manual-page '$repo'/dist/hone_${version}_*.changes"
check "hone-dkms.deb holds the module sources and a dkms.conf of version $version" bash -c \
	"dpkg-deb -c '$deb_dkms' | grep -q ' ./usr/src/hone-$version/honeevent/rs/honeevent.rs$' \
	&& dpkg-deb --fsys-tarfile '$deb_dkms' | tar -xO ./usr/src/hone-$version/dkms.conf | grep -qx 'PACKAGE_VERSION=\"$version\"' \
	&& dpkg-deb -I '$deb_dkms' postinst | grep -q 'dkms'"
check "hone-tools.deb holds the tools, unit, logrotate file and udev rule, and creates the hone group" bash -c \
	"c=\$(dpkg-deb -c '$deb_tools') && for f in usr/bin/hone-read usr/bin/hone-dump usr/bin/hone-stats \
	lib/systemd/system/hone.service etc/logrotate.d/hone lib/udev/rules.d/60-hone.rules; do \
	grep -q \" ./\$f\$\" <<<\"\$c\" || { echo \"missing \$f\"; exit 1; }; done \
	&& dpkg-deb -I '$deb_tools' postinst | grep -q 'addgroup --system --quiet hone'"

# rpm
check "make rpm builds hone-dkms and hone-tools $version" make -s -C "$repo" rpm
check "rpmlint reports no errors on the .rpm packages" bash -c \
	"rpmlint -c '$repo/packaging/rpmlintrc.toml' '$repo'/dist/hone-*-$version-1.*.rpm | tee /dev/stderr \
	| grep -q ' 0 errors'"
check "hone-tools.rpm creates the hone group; hone-dkms.rpm registers with dkms" bash -c \
	"rpm -qp --scripts '$repo'/dist/hone-tools-$version-1.*.rpm | grep -q 'groupadd -r hone' \
	&& rpm -qp --scripts '$repo'/dist/hone-dkms-$version-1.noarch.rpm | grep -q 'dkms install -m hone'"
check "the .deb and the .rpm carry the same module sources" bash -c \
	"rm -rf '$work/rpmsrc' '$work/src' && mkdir -p '$work/rpmsrc' '$work/src' \
	&& (cd '$work/rpmsrc' && rpm2cpio '$repo'/dist/hone-dkms-$version-1.noarch.rpm | cpio -idm --quiet) \
	&& dpkg-deb -x '$deb_dkms' '$work/src' && diff -r '$work/src/usr/src' '$work/rpmsrc/usr/src'"

# dkms, with its own trees so the host's /var/lib/dkms is not touched
rm -rf "$work/dkms"; mkdir -p "$work/dkms"
check "dkms builds the five modules from hone-dkms.deb for the test kernel $krel" bash -c \
	"dkms build -m hone -v '$version' -k '$krel' --kernelsourcedir '$kdir' --dkmstree '$work/dkms' \
	--sourcetree '$work/src/usr/src' && test \$(ls '$work/dkms/hone/$version/$krel'/*/module/*.ko | wc -l) = 5"
# The plain test config, whatever HONE_KERNEL_CONFIG says: KASAN needs clang for Rust.
gcc_kdir=$(HONE_KERNEL_CONFIG= HONE_KERNEL_SUITE= HONE_KERNEL_CC=gcc "$repo/scripts/kernel.sh")
gcc_krel=$(cat "$gcc_kdir/include/config/kernel.release")
check "dkms builds them for a GCC-built Rust kernel too (as Ubuntu's and Arch's are)" bash -c \
	"rm -rf '$work/dkms-gcc' && mkdir '$work/dkms-gcc' && dkms build -m hone -v '$version' -k '$gcc_krel' \
	--kernelsourcedir '$gcc_kdir' --dkmstree '$work/dkms-gcc' --sourcetree '$work/src/usr/src' \
	&& test \$(ls '$work/dkms-gcc/hone/$version/$gcc_krel'/*/module/*.ko | wc -l) = 5"
norust=$(ls -d /usr/src/linux-headers-*-cloud-amd64 2>/dev/null | head -1)
if [ -n "$norust" ]; then
	nrel=${norust#/usr/src/linux-headers-}
	check "a kernel without CONFIG_RUST gets one clear sentence from make" bash -c \
		"! make -s -C '$repo' KDIR='$norust' modules 2>'$work/norust.err' \
		&& grep -q 'built without CONFIG_RUST=y' '$work/norust.err' && test \$(wc -l <'$work/norust.err') -le 2"
	check "dkms skips a kernel without CONFIG_RUST and says why" bash -c \
		"dkms build -m hone -v '$version' -k '$nrel' --dkmstree '$work/dkms' --sourcetree '$work/src/usr/src' \
		>'$work/norust.dkms' 2>&1; rc=\$?; cat '$work/norust.dkms'; \
		test \$rc = 77 && grep -q 'BUILD_EXCLUSIVE' '$work/norust.dkms'"
else
	echo "not ok - Debian's linux-headers-cloud-amd64 (a kernel without Rust) is installed"; failed=1
fi

# make install into a staging tree: the test kernel's own modules, then Hone's and the tools
rm -rf "$work/install-root"
cp -a "$kdir/../modroot" "$work/install-root"
check "make install puts modules (depmod'ed) and tools into a staging tree" bash -c \
	"make -s -C '$repo' install KDIR='$kdir' INSTALL_MOD_PATH='$work/install-root' DESTDIR='$work/install-root' PREFIX=/usr \
	&& test -f '$work/install-root/lib/modules/$krel/updates/honeevent/honeevent.ko' \
	&& grep -q 'honeevent.ko:' '$work/install-root/lib/modules/$krel/modules.dep' \
	&& test -x '$work/install-root/usr/bin/hone-read' && test -f '$work/install-root/etc/udev/rules.d/60-hone.rules'"
exit $failed
