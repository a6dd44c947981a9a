#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Secure execution: a set-user-ID copy of tests/shim/secure-probe (owned by
# uid 65534, started by root, so AT_SECURE is set) must ignore every
# MSHARE_SHIM_* variable and, without a root-owned secure.conf, stay off:
# not a word on the caller's stderr, no debug line with addresses, no mount
# point of the caller's.  The same probe run normally says what the shim
# does, so the test can tell.  Needs root and a /tmp that allows
# set-user-ID; prints TAP.

set -u
builddir=${top_builddir:-.}
builddir=$(cd "$builddir" && pwd)
probe=$builddir/tests/shim/secure-probe
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$probe" ]; then
	echo "1..0 # SKIP secure-probe not built"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (to make a set-user-ID binary of another user)"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/shim-secure.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cp "$probe" "$work/probe"
chown 65534 "$work/probe"
chmod 4755 "$work/probe"

# ok, not_ok, skip, note, expect, expect_match
. "$here/../tap.sh"

caller_env() {
	env MSHARE_SHIM_SHM=all MSHARE_SHIM_LOG=debug \
	    MSHARE_SHIM_MOUNT=/nonexistent-caller-mount "$@"
}

out=$(caller_env "$work/probe" 2>"$work/secure.err")
case "$out" in
"secure 1 "*) ;;
*)
	echo "1..0 # SKIP no secure execution here ($out: nosuid /tmp?)"
	exit 0
	;;
esac
expect "set-user-ID: the program works" "secure 1 shmget ok" "$out"
expect "set-user-ID: the shim says nothing (environment ignored, no secure.conf)" "" \
	"$(cat "$work/secure.err")"

# The control: the same binary, not set-user-ID, does take the variables.
cp "$probe" "$work/plain"
out=$(caller_env "$work/plain" 2>"$work/plain.err")
expect "control: not set-user-ID" "secure 0 shmget ok" "$out"
expect_match "control: the shim takes the caller's mount point and logs at debug" \
	'debug: .*|/nonexistent-caller-mount' "$(cat "$work/plain.err")"
echo "1..$n"
[ "$failed" = 0 ]
