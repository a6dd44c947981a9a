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
# The trusted path: a secure.conf that root owns, in a directory root
# owns, that nobody else may write, is read (and only it: the caller's
# variables still count for nothing).  secure-probe-trusted is linked to
# a shim built to look for it in the build tree (tests/shim/local.mk).
trusted=$builddir/tests/shim/secure-probe-trusted
etc=$builddir/tests/shim/secure-etc
if [ -x "$trusted" ]; then
	rm -rf "$etc"
	mkdir -m 755 "$etc"
	trap 'rm -rf "$work" "$etc"' EXIT
	cp "$trusted" "$work/trusted"
	chown 65534 "$work/trusted"
	chmod 4755 "$work/trusted"
	# strict: the probe's 128 MiB shmget() then fails for want of msharefs.
	printf 'MSHARE_SHIM_SHM=all\nMSHARE_SHIM_MODE=strict\nMSHARE_SHIM_LOG=debug\n' \
		>"$etc/secure.conf"
	chmod 644 "$etc/secure.conf"

	out=$(caller_env MSHARE_SHIM_MODE=try "$work/trusted" 2>"$work/trusted.err")
	expect "root's secure.conf: read (its strict mode, not the caller's try)" \
		"secure 1 shmget failed" "$out"
	expect_match "root's secure.conf: the shim says why it refused" \
		'error: refusing shmget.*ENOMEM' "$(cat "$work/trusted.err")"
	expect "root's secure.conf: no debug line (capped at warn)" "" \
		"$(grep -e 'debug:' -e nonexistent-caller-mount "$work/trusted.err")"

	chmod 664 "$etc/secure.conf"
	out=$(caller_env "$work/trusted" 2>"$work/writable.err")
	expect "secure.conf writable by its group: ignored, the shim is off" \
		"secure 1 shmget ok|" "$out|$(cat "$work/writable.err")"

	chmod 644 "$etc/secure.conf"
	chown 65534 "$etc/secure.conf"
	out=$(caller_env "$work/trusted" 2>"$work/owned.err")
	expect "secure.conf owned by another user: ignored, the shim is off" \
		"secure 1 shmget ok|" "$out|$(cat "$work/owned.err")"

	chown 0 "$etc/secure.conf"
	chmod 777 "$etc"
	out=$(caller_env "$work/trusted" 2>"$work/dir.err")
	expect "secure.conf in a directory anyone may write: ignored, the shim is off" \
		"secure 1 shmget ok|" "$out|$(cat "$work/dir.err")"
else
	skip "root's secure.conf" "secure-probe-trusted not built"
fi
echo "1..$n"
[ "$failed" = 0 ]
