#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# conf/ on the host, TAP:
#   - sys-fs-mshare.mount is named after its Where= (systemd ignores a mount
#     unit whose name does not match), mounts msharefs, and systemd-analyze
#     verify finds nothing to say about it;
#   - the postgresql@.service.d drop-in orders PostgreSQL after that unit and
#     verifies cleanly on top of Debian's postgresql@.service (when present);
#   - the built environment files, read by postgresql-common's own parser
#     (PgCommon::read_conf_file, what pg_ctlcluster uses), set exactly
#     LD_PRELOAD to the installed library and MSHARE_SHIM_CONFIG to the
#     installed profile of their mode, and that profile exists.
# Environment: top_srcdir, top_builddir, conf_libdir, conf_pkgdatadir (make
# check sets them).
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
builddir=${top_builddir:-$srcdir}
# shellcheck source=tests/tap.sh
. "$srcdir/tests/tap.sh"

mount_unit=$srcdir/conf/systemd/sys-fs-mshare.mount
dropin=$srcdir/conf/systemd/postgresql@.service.d/mshare.conf
work=$(mktemp -d "${TMPDIR:-/tmp}/test-conf.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT

value() { # value FILE KEY: the value of KEY= in a unit file
	sed -n "s/^$2=//p" "$1"
}

where=$(value "$mount_unit" Where)
expect "mount unit: Where=/sys/fs/mshare" /sys/fs/mshare "$where"
expect "mount unit: Type=msharefs" msharefs "$(value "$mount_unit" Type)"
if command -v systemd-escape >/dev/null; then
	expect "mount unit: its name is the escaped Where=" "${mount_unit##*/}" \
		"$(systemd-escape --path --suffix=mount "$where")"
else
	skip "mount unit: its name is the escaped Where=" "no systemd-escape"
fi
expect "drop-in: After= the mount unit" "${mount_unit##*/}" "$(value "$dropin" After)"
expect "drop-in: Wants= the mount unit" "${mount_unit##*/}" "$(value "$dropin" Wants)"

if command -v systemd-analyze >/dev/null; then
	cp "$mount_unit" "$work/"
	out=$(systemd-analyze verify --man=no "$work/${mount_unit##*/}" 2>&1)
	expect "mount unit: systemd-analyze verify is silent" "" "$out"
	if [ -f /lib/systemd/system/postgresql@.service ]; then
		mkdir "$work/postgresql@.service.d"
		cp /lib/systemd/system/postgresql@.service "$work/"
		cp "$dropin" "$work/postgresql@.service.d/"
		out=$(SYSTEMD_UNIT_PATH="$work:" systemd-analyze verify --man=no \
			postgresql@15-main.service 2>&1)
		expect "drop-in: systemd-analyze verify postgresql@15-main.service is silent" "" "$out"
	else
		skip "drop-in: systemd-analyze verify" "no Debian postgresql@.service"
	fi
else
	skip "mount unit: systemd-analyze verify" "no systemd-analyze"
	skip "drop-in: systemd-analyze verify" "no systemd-analyze"
fi

for mode in sysv mmap; do
	env_file=$builddir/conf/postgresql-$mode.environment
	if [ ! -f "$env_file" ]; then
		not_ok "$mode: $env_file is built"
		continue
	fi
	if ! perl -MPgCommon -e 1 2>/dev/null; then
		skip "$mode: environment file read by postgresql-common" "no PgCommon (postgresql-common)"
		continue
	fi
	# The file is named *.environment, not *.conf: postgresql-common lowercases
	# the keys of *.conf files (environment variables are case-sensitive).
	got=$(perl -MPgCommon -e 'my %e = PgCommon::read_conf_file($ARGV[0]);
		print map { "$_=$e{$_}\n" } sort keys %e' "$env_file")
	expect "$mode: environment file read by postgresql-common" \
		"LD_PRELOAD=${conf_libdir:-/usr/local/lib}/libmshare-shim.so
MSHARE_SHIM_CONFIG=${conf_pkgdatadir:-/usr/local/share/libmshare-shim}/postgresql-$mode.conf" "$got"
	if [ -f "$srcdir/conf/postgresql-$mode.conf" ]; then
		ok "$mode: its profile conf/postgresql-$mode.conf exists"
	else
		not_ok "$mode: its profile conf/postgresql-$mode.conf exists"
	fi
done

echo "1..$n"
[ "$failed" = 0 ]
