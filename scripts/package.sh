#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make deb` / `make rpm`: builds the hone-dkms and hone-tools packages into dist/.
# Usage: scripts/package.sh deb|rpm...
# The version is the VERSION file's; the packages are built from a copy of the working tree
# without build output. The tools are compiled with the rustup toolchain on PATH (Debian 12's
# rustc is too old for them), so the package builds do not declare Debian's cargo/rustc.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
version=$(cat "$repo/VERSION")
out=$repo/dist
# Reuse the compiled dependencies of the working tree's builds.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/tools/target}
# Reproducible timestamps: the last commit's, or VERSION's modification time outside git.
SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || stat -c %Y "$repo/VERSION")
export SOURCE_DATE_EPOCH
maintainer="${DEBFULLNAME:-Hone developers} <${DEBEMAIL:-hone@example.org}>"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/hone-$version
mkdir -p "$src" "$out"
rsync -a --exclude=/.git --exclude=/dist --exclude-from="$repo/.gitignore" "$repo/" "$src/"

build_deb() {
	cp -a "$src" "$work/deb"
	cp -a "$repo/packaging/debian" "$work/deb/debian"
	sed -i "s|^Maintainer: .*|Maintainer: $maintainer|" "$work/deb/debian/control"
	cat > "$work/deb/debian/changelog" <<-END
	hone ($version) unstable; urgency=medium

	  * Release $version.

	 -- $maintainer  $(date -R -u -d "@$SOURCE_DATE_EPOCH")
	END
	echo "package: building hone-dkms and hone-tools $version (deb)" >&2
	(cd "$work/deb" && dpkg-buildpackage --build=binary --no-sign) > "$work/deb.log" 2>&1 || {
		tail -n 40 "$work/deb.log" >&2; echo "package: dpkg-buildpackage failed" >&2; exit 1; }
	mv "$work"/hone-*_"$version"_*.deb "$work"/hone_"$version"_*.changes "$work"/hone_"$version"_*.buildinfo "$out/"
	ls "$out"/hone-*_"$version"_*.deb
}

build_rpm() {
	local top=$work/rpm
	mkdir -p "$top/SOURCES" "$top/SPECS"
	tar -C "$work" -czf "$top/SOURCES/hone-$version.tar.gz" "hone-$version"
	sed -e "s/@VERSION@/$version/g" -e "s/@PACKAGER@/$maintainer/" \
		-e "s/@CHANGELOG_DATE@/$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y')/" \
		"$repo/packaging/hone.spec.in" > "$top/SPECS/hone.spec"
	echo "package: building hone-dkms and hone-tools $version (rpm)" >&2
	# --nodeps: a Debian host has no rpm database to satisfy BuildRequires from.
	rpmbuild -bb --nodeps --define "_topdir $top" --define "packager $maintainer" \
		"$top/SPECS/hone.spec" > "$work/rpm.log" 2>&1 || {
		tail -n 40 "$work/rpm.log" >&2; echo "package: rpmbuild failed" >&2; exit 1; }
	find "$top/RPMS" -name "hone-*-$version-*.rpm" -exec mv {} "$out/" \;
	ls "$out"/hone-*-"$version"-*.rpm
}

[ $# -gt 0 ] || { echo "usage: $0 deb|rpm..." >&2; exit 64; }
for kind in "$@"; do
	case "$kind" in
	deb) build_deb ;;
	rpm) build_rpm ;;
	*) echo "package: unknown package kind '$kind' (deb or rpm)" >&2; exit 64 ;;
	esac
done
