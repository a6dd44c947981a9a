#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Prepares PostgreSQL's own regression suite for tests/vm/pg-regress-guest.sh:
# the postgresql-15 source package (its src/test/regress), regress.so built
# against postgresql-server-dev-15, and the server's autoinc.so and refint.so,
# all in one directory readable by user postgres.
#
# Needs root the first time: it adds a deb-src entry for the Debian suite
# the machine already uses (copied from its own apt sources, so it follows
# the configured mirror), then installs dpkg-dev and postgresql-server-dev-15.
#
# usage: scripts/pg-regress-prepare.sh DIR
# Prints nothing but errors when DIR is already prepared.
set -euo pipefail

die() { echo "pg-regress-prepare: ERROR: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 DIR"
dir=$1
ver=15
src_list=/etc/apt/sources.list.d/libmshare-shim-deb-src.sources

if [ -f "$dir/ready" ]; then
	exit 0
fi

# shellcheck source=/dev/null
. /etc/os-release
codename=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}

# A deb-src stanza for the base suite, from the first deb822 stanza that
# already serves it (the security suite's newer sources are not needed:
# the test files of the base suite's version are what we compare).
add_deb_src() {
	local f uri=""
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk -v s="$codename" '
			/^$/ { if (deb && suite && u != "") { print u; exit } deb = suite = 0; u = "" }
			/^Types:/ { deb = / deb( |$)/ }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) suite = 1 }
			/^URIs:/ { u = $2 }
			END { if (deb && suite && u != "") print u }' "$f" | head -n 1)
		[ -z "$uri" ] || break
	done
	[ -n "$uri" ] || die "no deb822 apt source for suite $codename to copy a deb-src entry from"
	cat >"$src_list" <<-EOF
	# Added by libmshare-shim's scripts/pg-regress-prepare.sh: the sources of
	# postgresql-$ver, for PostgreSQL's regression suite.
	Types: deb-src
	URIs: $uri
	Suites: $codename
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
}

export DEBIAN_FRONTEND=noninteractive
if ! dpkg-query -W -f='${db:Status-Abbrev}' postgresql-server-dev-$ver dpkg-dev 2>/dev/null | grep -qx 'ii ii '; then
	[ "$(id -u)" = 0 ] || die "need root to install postgresql-server-dev-$ver and dpkg-dev"
	apt-get install -y -q --no-install-recommends postgresql-server-dev-$ver dpkg-dev >/dev/null ||
		{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends \
			postgresql-server-dev-$ver dpkg-dev >/dev/null; } ||
		die "apt-get install postgresql-server-dev-$ver dpkg-dev failed"
fi
if [ ! -f "$src_list" ]; then
	[ "$(id -u)" = 0 ] || die "need root to add $src_list"
	add_deb_src
	apt-get update -q >/dev/null || die "apt-get update failed"
fi

rm -rf "$dir"
mkdir -p "$dir/download"
# apt fetches as user _apt where it can.
! id _apt >/dev/null 2>&1 || chown _apt "$dir/download"
(cd "$dir/download" && apt-get source -q --download-only "postgresql-$ver" >/dev/null) ||
	die "apt-get source postgresql-$ver failed"
dsc=$(ls "$dir"/download/postgresql-"$ver"_*.dsc)
dpkg-source --no-check -x "$dsc" "$dir/source" >/dev/null || die "dpkg-source -x $dsc failed"
rm -rf "$dir/download" "$dir"/postgresql-"$ver"_*.orig.tar.*

# The suite's shared libraries, in one directory (pg_regress --dlpath).
mkdir -p "$dir/lib"
gcc -O2 -fPIC -shared -I"$(/usr/lib/postgresql/$ver/bin/pg_config --includedir-server)" \
	-o "$dir/lib/regress.so" "$dir/source/src/test/regress/regress.c" || die "building regress.so failed"
cp "/usr/lib/postgresql/$ver/lib/autoinc.so" "/usr/lib/postgresql/$ver/lib/refint.so" "$dir/lib/"
basename "$dsc" >"$dir/ready"
chmod -R a+rX "$dir"
