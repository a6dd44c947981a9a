#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the Debian packages from a release tarball, as a user of it would
# (dpkg-buildpackage -us -uc -b, nocheck profile), then checks them: lintian
# clean (errors and warnings), the files where Debian wants them, the
# installed paths (no /usr/local) in the scripts, man pages and examples,
# and that the unpacked tools run.  Prints TAP.
#   debian/test-packages.sh libmshare-shim-VERSION.tar.gz
set -euo pipefail

tarball=$(readlink -f "${1:?usage: $0 TARBALL}")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/tap.sh
. "$here/../tests/tap.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/test-packages.XXXXXX")
trap 'rm -rf "$work"' EXIT
show() { sed 's/^/#   /' "$@" || true; }

for tool in dpkg-buildpackage lintian dh; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is not installed (scripts/install-deps.sh installs it)"
		exit 1
	fi
done

tar -C "$work" -xzf "$tarball"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d)
start=$SECONDS
if (cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b -Pnocheck) >"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b builds the packages ($((SECONDS - start)) s)"
else
	not_ok "dpkg-buildpackage -us -uc -b builds the packages"
	tail -n 40 "$work/build.log" | show
	echo "1..$n"
	exit 1
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
changes=$(find "$work" -maxdepth 1 -name "*_$arch.changes")
lib_deb=$(find "$work" -maxdepth 1 -name "libmshare-shim_*_$arch.deb")
tools_deb=$(find "$work" -maxdepth 1 -name "mshare-tools_*_$arch.deb")
if [ -n "$lib_deb" ] && [ -n "$tools_deb" ]; then ok "two packages: libmshare-shim and mshare-tools"
else not_ok "two packages: libmshare-shim and mshare-tools"; find "$work" -maxdepth 1 -name "*.deb" | show; fi

if lintian --fail-on error,warning "$changes" >"$work/lintian.log" 2>&1; then
	ok "lintian: no errors or warnings"
else
	not_ok "lintian: no errors or warnings"
	show "$work/lintian.log"
fi
grep -E '^[IP]:' "$work/lintian.log" | sed 's/^/# lintian /' || true

# contains DEB FILE...: every FILE is in the package.
contains() {
	local deb=$1 desc=$2 missing=""
	shift 2
	dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/list"
	for f in "$@"; do
		grep -qxF -- "$f" "$work/list" || missing="$missing $f"
	done
	if [ -z "$missing" ]; then ok "$desc"; else not_ok "$desc"; echo "# missing:$missing"; show "$work/list"; fi
}
contains "$lib_deb" "libmshare-shim: the .so in the multiarch libdir and libmshare-shim(7)" \
	"/usr/lib/$triplet/libmshare-shim.so" /usr/share/man/man7/libmshare-shim.7.gz
contains "$tools_deb" "mshare-tools: the tools, the checker, profiles, environment files, systemd units, man pages" \
	/usr/bin/mshare-run /usr/sbin/mshare-stat /usr/libexec/libmshare-shim/mshare-preflight \
	/usr/share/libmshare-shim/postgresql-sysv.conf /usr/share/libmshare-shim/postgresql-mmap.conf \
	/usr/share/libmshare-shim/oracle-sga.conf /usr/share/libmshare-shim/oracle-amm.conf \
	/usr/share/libmshare-shim/postgresql-sysv.environment \
	/usr/share/libmshare-shim/postgresql-mmap.environment \
	/lib/systemd/system/sys-fs-mshare.mount \
	/lib/systemd/system/postgresql@.service.d/mshare.conf \
	/usr/share/man/man1/mshare-run.1.gz /usr/share/man/man8/mshare-stat.8.gz
if dpkg-deb -c "$lib_deb" | grep -q '\.la$'; then not_ok "no libtool .la file"; else ok "no libtool .la file"; fi

root=$work/root
dpkg-deb -x "$lib_deb" "$root"
dpkg-deb -x "$tools_deb" "$root"
# The installed paths, not the default prefix's.
local_paths='/usr/local/(lib/libmshare-shim|share/libmshare-shim|etc/libmshare-shim|libexec/libmshare-shim)'
found=$( { grep -lE "$local_paths" "$root/usr/bin/mshare-run" \
	"$root"/usr/share/libmshare-shim/postgresql-*.environment || true
	for m in "$root"/usr/share/man/man*/*.gz; do
		zcat "$m" | grep -qE "$local_paths" && echo "$m"
	done; } || true)
if [ -z "$found" ]; then ok "no /usr/local path in mshare-run, the man pages or the environment files"
else not_ok "no /usr/local path in mshare-run, the man pages or the environment files"; echo "$found" | show; fi
if grep -qF "/usr/lib/$triplet/libmshare-shim.so" "$root/usr/bin/mshare-run" &&
	grep -qF /usr/libexec/libmshare-shim/mshare-preflight "$root/usr/bin/mshare-run" &&
	grep -qF "/usr/lib/$triplet/libmshare-shim.so" \
		"$root/usr/share/libmshare-shim/postgresql-sysv.environment" &&
	zcat "$root/usr/share/man/man1/mshare-run.1.gz" | grep -qF "/usr/lib/$triplet/libmshare-shim.so"; then
	ok "mshare-run, the environment file and mshare-run(1) name the installed library"
else
	not_ok "mshare-run, the environment file and mshare-run(1) name the installed library"
fi

# The unpacked tools run (paths redirected into the unpacked tree).
if MSHARE_RUN_PREFLIGHT=$root/usr/libexec/libmshare-shim/mshare-preflight \
	MSHARE_RUN_PROFILE_PATH=$root/usr/share/libmshare-shim \
	"$root/usr/bin/mshare-run" --lib "$root/usr/lib/$triplet/libmshare-shim.so" \
	--profile postgresql-sysv --dry-run -- true >"$work/out" 2>&1 &&
	grep -q '^MSHARE_SHIM_CONFIG=' "$work/out" &&
	"$root/usr/sbin/mshare-stat" --version | grep -q '^mshare-stat (libmshare-shim)'; then
	ok "the packaged mshare-run and mshare-stat run"
else
	not_ok "the packaged mshare-run and mshare-stat run"
	show "$work/out"
fi

echo "1..$n"
[ "$failed" = 0 ]
