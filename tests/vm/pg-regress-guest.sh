#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# PostgreSQL's own regression suite (pg_regress, parallel_schedule) against
# a server under libmshare-shim, INSIDE the VM as root with msharefs mounted
# (make pg-regress starts it). One server per configuration, each from the
# same fresh initdb: sysv and mmap (shared_memory_type), each without and
# with the shim (sysv: MSHARE_SHIM_SHM=all; mmap: conf/postgresql-mmap.conf).
# The shim configurations must have their shared memory in a region, and
# give the same per-test results as the same mode without the shim (some
# tests differ even without the shim: the source package's test files and
# the installed server need not be the same minor version, and the server
# runs from Debian's paths: they are compared, not required to pass).
#
# usage: pg-regress-guest.sh PREPARED-DIR [CONFIG...]
#   PREPARED-DIR  made by scripts/pg-regress-prepare.sh
#   CONFIG        sysv-noshim sysv-shim mmap-noshim mmap-shim (default: all)
# Environment: top_srcdir/top_builddir (or MSHARE_TOP_SRCDIR/_BUILDDIR).
# Exit status: 0 when every shim configuration matched its mode without it.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
srcdir=${top_srcdir:-${MSHARE_TOP_SRCDIR:-$(cd "$here/../.." && pwd)}}
builddir=${top_builddir:-${MSHARE_TOP_BUILDDIR:-$srcdir}}
prepared=${1:?usage: pg-regress-guest.sh PREPARED-DIR [CONFIG...]}
shift
configs=("$@")
[ "${#configs[@]}" -gt 0 ] || configs=(sysv-noshim sysv-shim mmap-noshim mmap-shim)

ver=15
pgbin=/usr/lib/postgresql/$ver/bin
regress_src=$prepared/source/src/test/regress
pg_regress=/usr/lib/postgresql/$ver/lib/pgxs/src/test/regress/pg_regress
work=/tmp/pg-regress
sock=$work/sock
port=5433

say() { echo "pg-regress: $*"; }
die() { say "ERROR: $*"; exit 1; }
[ -f "$prepared/ready" ] || die "$prepared is not prepared (scripts/pg-regress-prepare.sh)"
[ -x "$pg_regress" ] || die "no $pg_regress (postgresql-server-dev-$ver)"
uptime_s() { cut -d' ' -f1 /proc/uptime; }

as_pg() {
	setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- \
		env PATH="$pgbin:/usr/bin:/bin" LANG=C.UTF-8 "$@"
}

rm -rf "$work"
mkdir -p "$work" "$sock"
chown postgres:postgres "$work" "$sock"
if [ -f "$builddir/shim/.libs/libmshare-shim.so" ]; then
	install -m 0755 "$builddir/shim/.libs/libmshare-shim.so" "$work/libmshare-shim.so"
	install -m 0644 "$srcdir/conf/postgresql-mmap.conf" "$work/postgresql-mmap.conf"
fi
say "source: $(cat "$prepared/ready"); server: $("$pgbin/postgres" --version)"
as_pg initdb -D "$work/data.pristine" -A trust -U postgres --no-sync >"$work/initdb.log" 2>&1 ||
	{ tail -n 20 "$work/initdb.log"; die "initdb failed"; }

config_env() { # config_env CONFIG: the server's extra environment
	case $1 in
	*-noshim) ;;
	sysv-shim) echo "LD_PRELOAD=$work/libmshare-shim.so" "MSHARE_SHIM_SHM=all" ;;
	mmap-shim) echo "LD_PRELOAD=$work/libmshare-shim.so" "MSHARE_SHIM_CONFIG=$work/postgresql-mmap.conf" ;;
	*) die "unknown configuration $1" ;;
	esac
}

# The largest mapping of the postmaster that shares page tables, in MiB.
. "$here/shared-tables.sh"
region_mib() { shared_table_mib "$1"; }

# pg_regress's per-test lines ("test NAME ... ok", "     NAME ... FAILED")
# as "NAME STATUS", sorted.
statuses() {
	sed -n 's/^\(test \)\{0,1\} *\([A-Za-z0-9_]*\) *\.\.\. *\(ok\|FAILED\|failed (ignored)\).*/\2 \3/p' "$1" |
		sed 's/failed (ignored)/ignored/' | sort
}

declare -A status_file=() backed=()
failures=0
run_config() { # run_config CONFIG
	local c=$1 data=$work/data-$1 out=$work/out-$1 envs pm t0
	read -r -a envs <<<"$(config_env "$c")"
	say "==== $c"
	rm -rf "$data" "$out"
	cp -a "$work/data.pristine" "$data"
	install -d -o postgres -g postgres "$out"
	as_pg "${envs[@]}" pg_ctl -D "$data" -l "$work/server-$c.log" -w -t 300 \
		-o "-c listen_addresses= -c unix_socket_directories=$sock -c port=$port" \
		-o "-c shared_memory_type=${c%%-*} -c dynamic_shared_memory_type=posix" \
		-o "-c shared_buffers=128MB -c fsync=off -c max_connections=40" start >/dev/null ||
		{ tail -n 20 "$work/server-$c.log"; die "$c: the server did not start"; }
	pm=$(head -n 1 "$data/postmaster.pid")
	backed[$c]=$(region_mib "$pm")
	say "$c: largest msharefs mapping of the postmaster: ${backed[$c]} MiB"
	t0=$(uptime_s)
	# pg_regress exits 1 when a test fails; the statuses are compared below.
	(cd "$out" && as_pg "$pg_regress" --host="$sock" --port=$port \
		--bindir="$pgbin" --inputdir="$regress_src" --outputdir="$out" \
		--dlpath="$prepared/lib" --schedule="$regress_src/parallel_schedule" \
		--max-concurrent-tests=20 >"$out/stdout" 2>&1) || true
	say "$c: pg_regress took $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { print b - a }') s (guest time)"
	tail -n 4 "$out/stdout" | sed "s/^/pg-regress: $c: /"
	as_pg pg_ctl -D "$data" -m fast -w stop >/dev/null || { say "$c: the server did not stop"; failures=$((failures + 1)); }
	statuses "$out/stdout" >"$work/status-$c"
	status_file[$c]=$work/status-$c
	say "$c: $(wc -l <"$work/status-$c") tests, $(grep -vc ' ok$' "$work/status-$c") not ok:" \
		"$(grep -v ' ok$' "$work/status-$c" | cut -d' ' -f1 | tr '\n' ' ')"
	grep -E 'PANIC|server process .* was terminated' "$work/server-$c.log" | head -n 5 | sed "s/^/pg-regress: $c: log: /" || true
}

# Compares a mode's shim run with its run without the shim, as soon as both
# are there (a long run reports each mode when it is done).
compare_mode() { # compare_mode sysv|mmap
	local mode=$1 a b
	a=${status_file[$mode-noshim]:-} b=${status_file[$mode-shim]:-}
	[ -n "$a" ] && [ -n "$b" ] || return 0
	if [ "${backed[$mode-shim]}" -lt 128 ]; then
		say "$mode: FAILED: the shim's server had no region of at least shared_buffers"
		failures=$((failures + 1))
	fi
	if [ ! -s "$b" ]; then
		say "$mode: FAILED: no test results with the shim"
		failures=$((failures + 1))
	elif cmp -s "$a" "$b"; then
		say "$mode: same results with and without the shim: $(wc -l <"$b") tests, $(grep -vc ' ok$' "$b") not ok in both"
	else
		say "$mode: FAILED: results differ with the shim (< without, > with):"
		diff "$a" "$b" | grep '^[<>]' | sed 's/^/pg-regress:   /'
		failures=$((failures + 1))
	fi
}

for c in "${configs[@]}"; do
	run_config "$c"
	compare_mode "${c%%-*}"
done
if [ "$failures" = 0 ]; then say "all configurations match"; else say "$failures failure(s)"; fi
[ "$failures" = 0 ]
