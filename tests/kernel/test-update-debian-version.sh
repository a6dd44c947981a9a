#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# kernel/update-debian-version.sh on the host, TAP (no apt, no network):
#   - the series applies to the installed linux-source-6.12 tarball, which
#     is the version kernel/debian-version pins (install-deps installs it);
#   - a tree the series cannot apply to fails with status 1 and names the
#     first patch;
#   - bad arguments fail with status 2.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
# shellcheck source=tests/tap.sh
. "$srcdir/tests/tap.sh"

script=$srcdir/kernel/update-debian-version.sh
tarball=/usr/src/linux-source-6.12.tar.xz
work=$(mktemp -d "${TMPDIR:-/tmp}/test-update-pin.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT

pinned=$(tr -d '[:space:]' <"$srcdir/kernel/debian-version")
installed=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
if [ ! -r "$tarball" ]; then
	skip "the series applies to the pinned kernel" "no $tarball (linux-source-6.12 not installed)"
else
	expect "the installed linux-source-6.12 is the pinned one" "$pinned" "$installed"
	out=$(bash "$script" --tarball "$tarball" 2>&1)
	rc=$?
	expect "the series applies to $installed (exit status)" 0 "$rc"
	expect_match "it says so" "all [0-9]+ patches apply" "$out"
fi

# A tree without the files the series changes.
mkdir -p "$work/linux-source-6.12/mm"
tar -cJf "$work/empty.tar.xz" -C "$work" linux-source-6.12
out=$(bash "$script" --tarball "$work/empty.tar.xz" 2>&1)
rc=$?
expect "a tree the series does not fit fails with 1" 1 "$rc"
first=$(cd "$srcdir/kernel/patches" && ls ./*.patch | head -n 1)
expect_match "and names the first patch" "${first#./} does not apply" "$out"

bash "$script" --bogus >/dev/null 2>&1
expect "an unknown option fails with 2" 2 "$?"
bash "$script" --tarball "$work/missing.tar.xz" >/dev/null 2>&1
expect "a missing tarball fails with 2" 2 "$?"

echo "1..$n"
[ "$failed" = 0 ]
