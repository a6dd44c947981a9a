#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Move the kernel pin (kernel/debian-version) to a newer linux-source-6.12,
# the routine step after each Debian security update of the kernel.
#
# Usage: kernel/update-debian-version.sh [--check] [VERSION]
#        kernel/update-debian-version.sh --tarball FILE
#   VERSION        the linux-source-6.12 version to move to (default: apt's
#                  candidate, i.e. the newest of bookworm-security)
#   --check        only report whether kernel/patches/ applies to VERSION
#   --tarball FILE only check that kernel/patches/ applies to FILE (a
#                  linux-source-6.12.tar.xz), without apt
#
# Without --check: fetches the package with `apt-get download` (nothing is
# installed until the series applies), applies every patch of
# kernel/patches/ in order to its tree, then installs that linux-source,
# writes kernel/debian-version and says what to run next: ./run-all-tests
# builds both test kernels on it and runs every suite; commit
# kernel/debian-version when it passes.
# Exit status: 0 the series applies (and the pin moved), 1 a patch does not
# apply (named, with patch's output), 2 usage or download error.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
PIN=$HERE/debian-version
PKG=linux-source-6.12

usage() { sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "update-debian-version: $*" >&2; exit 2; }

check_only=0 tarball="" version=""
while [ $# -gt 0 ]; do
	case $1 in
	--check) check_only=1 ;;
	--tarball) [ $# -ge 2 ] || die "--tarball needs a file"; tarball=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; die "unknown option: $1" ;;
	*) [ -z "$version" ] || die "one VERSION only"; version=$1 ;;
	esac
	shift
done
[ -z "$tarball" ] || [ -z "$version" ] || die "--tarball takes no VERSION"

work=$(mktemp -d "${TMPDIR:-/tmp}/update-debian-version.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Applies kernel/patches/* to the tree of TARBALL; prints what fails.
series_applies() {
	local tarball=$1 tree p out
	tar -xf "$tarball" -C "$work" || die "cannot unpack $tarball"
	tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*' | head -n 1)
	[ -n "$tree" ] || die "$tarball holds no linux-source-* directory"
	for p in "$HERE"/patches/*.patch; do
		if ! out=$(patch -d "$tree" -p1 --batch --forward -s <"$p" 2>&1); then
			echo "update-debian-version: ${p##*/} does not apply:" >&2
			printf '%s\n' "$out" | sed 's/^/  /' >&2
			return 1
		fi
	done
	echo "update-debian-version: all $(find "$HERE/patches" -name '*.patch' | wc -l) patches apply to $(basename "$tree") ($tarball)"
}

if [ -n "$tarball" ]; then
	[ -r "$tarball" ] || die "cannot read $tarball"
	series_applies "$tarball"
	exit $?
fi

[ "$(id -u)" -eq 0 ] || die "needs root (apt-get)"
apt-get update -q >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log" >&2; die "apt-get update failed"; }
if [ -z "$version" ]; then
	version=$(apt-cache policy "$PKG" | awk '/Candidate:/ { print $2 }')
	[ -n "$version" ] && [ "$version" != "(none)" ] || die "apt offers no $PKG"
fi
pinned=$(tr -d '[:space:]' <"$PIN")
echo "update-debian-version: pinned $pinned, moving to $version"

(cd "$work" && apt-get download "$PKG=$version") >"$work/apt.log" 2>&1 ||
	{ tail -n 20 "$work/apt.log" >&2; die "cannot download $PKG=$version"; }
dpkg-deb -x "$work"/"$PKG"_*.deb "$work/deb"
series_applies "$work/deb/usr/src/$PKG.tar.xz" || exit 1
[ "$check_only" = 0 ] || exit 0

apt-get install -y -q --no-install-recommends "$PKG=$version" >"$work/apt.log" 2>&1 ||
	{ tail -n 20 "$work/apt.log" >&2; die "cannot install $PKG=$version"; }
printf '%s\n' "$version" >"$PIN"
cat <<EOF
update-debian-version: kernel/debian-version is now $version.
Next: ./run-all-tests   (builds both test kernels on $version, runs every suite)
Then: git commit kernel/debian-version
EOF
