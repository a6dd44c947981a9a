#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# PostgreSQL the Debian way under libmshare-shim, INSIDE the VM as root with
# msharefs mounted; prints TAP. For each mode (default: sysv mmap):
#   pg_createcluster 15 main with our postgresql-MODE.environment,
#   pg_ctlcluster 15 main start: the shim reached postgres and its main
#   shared memory is an msharefs region; pgbench; stop and start; kill -9 of
#   the postmaster and start; pgbench's balances add up after each restart;
#   no region of the cluster's user is left after the last stop.
# sysv appends the file to the environment of a cluster made without it;
# before that, LD_PRELOAD given to pg_ctlcluster itself (what a systemd
# Environment= line does) must NOT reach postgres: that is why the shim goes
# in the cluster's environment file. mmap makes the cluster with
# pg_createcluster --environment=.
#
# The environment files tested are the built ones (conf/*.environment), with
# their two values pointed at copies of the built library and the profiles
# (nothing is installed in the guest). Debian's directories are the host's,
# read-only: the script re-runs itself in a private mount namespace and puts
# tmpfs on /etc/postgresql, /var/lib/postgresql and /var/log/postgresql.
#
# usage: pg-debian-guest.sh [sysv] [mmap]
# Environment: top_srcdir/top_builddir (or MSHARE_TOP_SRCDIR/_BUILDDIR).
set -u

if [ -z "${PG_DEBIAN_PRIVATE_NS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP must run as root (it runs pg_createcluster)"
		exit 0
	fi
	exec env PG_DEBIAN_PRIVATE_NS=1 unshare --mount --propagation private -- bash "$0" "$@"
fi

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
srcdir=${top_srcdir:-${MSHARE_TOP_SRCDIR:-$(cd "$here/../.." && pwd)}}
builddir=${top_builddir:-${MSHARE_TOP_BUILDDIR:-$srcdir}}
# shellcheck source=tests/tap.sh
. "$srcdir/tests/tap.sh"

ver=15
pgbin=/usr/lib/postgresql/$ver/bin
pgdata=/var/lib/postgresql/$ver/main
sockdir=/var/run/postgresql
mount=/sys/fs/mshare
shared_buffers_mb=128
scale=2
modes=("$@")
[ "${#modes[@]}" -gt 0 ] || modes=(sysv mmap)

bail() {
	echo "Bail out! $*"
	exit 1
}
if [ ! -x "$pgbin/postgres" ] || ! command -v pg_createcluster >/dev/null; then
	echo "1..0 # SKIP PostgreSQL $ver (postgresql-$ver, postgresql-common) is not installed"
	exit 0
fi
[ -r "$mount/mshare_info" ] || bail "no msharefs at $mount"
[ -f "$builddir/shim/.libs/libmshare-shim.so" ] || bail "the shim is not built"

work=$(mktemp -d /tmp/pg-debian.XXXXXX) || bail "mktemp failed"
chmod 755 "$work"
cleanup() {
	local pid
	pid=$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null)
	[ -z "$pid" ] || kill -9 "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# Debian's state directories, writable and empty, in this namespace only.
for d in /etc/postgresql /var/lib/postgresql /var/log/postgresql; do
	mount -t tmpfs -o mode=0755 "pg-debian" "$d" || bail "cannot mount a tmpfs on $d"
done
chown postgres:postgres /etc/postgresql /var/lib/postgresql
chown root:postgres /var/log/postgresql
chmod 1775 /var/log/postgresql
mkdir -p "$sockdir"
chown postgres:postgres "$sockdir"
chmod 2775 "$sockdir"

# What the environment files name, copied where user postgres can read it.
install -m 0755 "$builddir/shim/.libs/libmshare-shim.so" "$work/libmshare-shim.so"
install -m 0644 "$srcdir"/conf/postgresql-*.conf "$work/"

as_pg() { # as_pg COMMAND...: as postgres, clean environment, the cluster's socket
	setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- \
		env PATH="$pgbin:/usr/bin:/bin" PGHOST="$sockdir" PGPORT=5432 \
		PGDATABASE=postgres LANG=C.UTF-8 "$@"
}
pg_sql() { as_pg psql -X -q -t -A -c "$1"; }
postmaster() { head -n 1 "$pgdata/postmaster.pid" 2>/dev/null; }

# The largest mapping of PID that shares page tables, in MiB (0 if none).
. "$here/shared-tables.sh"
region_mib() { shared_table_mib "$1"; }

# The running postmaster got the shim from the environment file and its main
# shared memory (at least shared_buffers) is a region.
check_backed() { # check_backed MODE WHEN
	local pm mib
	pm=$(postmaster)
	if [ -z "$pm" ] || [ ! -d "/proc/$pm" ]; then
		not_ok "$1: $2: postmaster running"
		return
	fi
	expect_match "$1: $2: LD_PRELOAD reached postgres" "^LD_PRELOAD=$work/libmshare-shim.so\$" \
		"$(tr '\0' '\n' <"/proc/$pm/environ" | grep '^LD_PRELOAD=')"
	mib=$(region_mib "$pm")
	if [ "$mib" -ge "$shared_buffers_mb" ]; then
		ok "$1: $2: the main shared memory is in an msharefs region (a $mib MiB attachment)"
	else
		not_ok "$1: $2: the main shared memory is an msharefs region"
		note "largest msharefs mapping of the postmaster: $mib MiB; its maps:"
		grep -E "$mount|SYSV|zero|dev/shm" "/proc/$pm/maps" | sed 's/^/# /'
		sed 's/^/# log: /' /var/log/postgresql/postgresql-$ver-main.log | tail -n 20
	fi
	if [ "$1" = sysv ]; then
		expect_match "$1: $2: it is the SysV segment's shared tables" \
			" ($mount/sysv\.|/SYSV[0-9a-f]{8})" \
			"$(shared_table_maps "$pm")"
	fi
}

# pgbench's invariant: every balance total equals the sum of the history
# deltas. Prints the history row count; fails (returns 1) on a mismatch.
balances() {
	local a t b d h
	read -r a t b d h < <(pg_sql "SELECT (SELECT sum(abalance) FROM pgbench_accounts) || ' ' ||
		(SELECT sum(tbalance) FROM pgbench_tellers) || ' ' ||
		(SELECT sum(bbalance) FROM pgbench_branches) || ' ' ||
		(SELECT coalesce(sum(delta), 0) FROM pgbench_history) || ' ' ||
		(SELECT count(*) FROM pgbench_history)") || return 1
	[ -n "$h" ] && [ "$a" = "$d" ] && [ "$t" = "$d" ] && [ "$b" = "$d" ] || return 1
	echo "$h"
}
check_balances() { # check_balances MODE WHEN: sets $rows
	if rows=$(balances); then
		ok "$1: $2: pgbench's balances add up ($rows history rows)"
	else
		rows=-1
		not_ok "$1: $2: pgbench's balances add up"
	fi
}

wait_gone() { # wait_gone PID...: up to 60 s until none of them exists
	local i p
	for ((i = 0; i < 600; i++)); do
		for p in "$@"; do [ -d "/proc/$p" ] && break; done
		[ -d "/proc/$p" ] || return 0
		sleep 0.1
	done
	return 1
}

# Before the fix: the shim given to pg_ctlcluster itself (what a systemd
# Environment= line does) is dropped. Leaves the cluster stopped.
caller_env_dropped() {
	local pm
	env LD_PRELOAD="$work/libmshare-shim.so" MSHARE_SHIM_CONFIG="$work/postgresql-sysv.conf" \
		pg_ctlcluster $ver main start >"$work/start-plain.log" 2>&1 ||
		{ not_ok "caller's environment: pg_ctlcluster start"; sed 's/^/# /' "$work/start-plain.log"; }
	pm=$(postmaster)
	if [ -n "$pm" ] && ! grep -q '^LD_PRELOAD=' <(tr '\0' '\n' <"/proc/$pm/environ") &&
		[ "$(region_mib "$pm")" = 0 ]; then
		ok "caller's environment: LD_PRELOAD given to pg_ctlcluster does not reach postgres (segment unbacked)"
	else
		not_ok "caller's environment: LD_PRELOAD given to pg_ctlcluster does not reach postgres"
	fi
	pg_ctlcluster $ver main stop >/dev/null 2>&1 || not_ok "caller's environment: pg_ctlcluster stop"
}

# DSM of a parallel query (mmap mode: posix segments in /dev/shm, matched by
# MSHARE_SHIM_FILES): two workers launched, the count right.
parallel_query() { # parallel_query MODE
	local out
	out=$(pg_sql "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;
		SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
		EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(*) FROM pgbench_accounts" 2>&1)
	expect_match "$1: parallel query: 2 workers launched" "Workers Launched: 2" "$out"
	expect "$1: parallel query: the count" "$((scale * 100000))" \
		"$(pg_sql "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;
			SET min_parallel_table_scan_size = 0; SELECT count(*) FROM pgbench_accounts" 2>&1)"
}

one_mode() { # one_mode sysv|mmap
	local mode=$1 env=$work/$1.environment built=$builddir/conf/postgresql-$1.environment
	local opts=(-o "shared_buffers=${shared_buffers_mb}MB" -o fsync=off) rows r1 r2 pm kids
	[ "$mode" = sysv ] && opts+=(-o shared_memory_type=sysv)
	note "==== $mode: postgresql-$mode.environment, pg_createcluster, pg_ctlcluster"
	if [ ! -f "$built" ]; then
		not_ok "$mode: $built is built"
		return
	fi
	sed -e "s|^LD_PRELOAD = '[^']*/libmshare-shim.so'\$|LD_PRELOAD = '$work/libmshare-shim.so'|" \
		-e "s|^MSHARE_SHIM_CONFIG = '[^']*/\(postgresql-$mode.conf\)'\$|MSHARE_SHIM_CONFIG = '$work/\1'|" \
		"$built" >"$env"
	expect "$mode: the environment file sets LD_PRELOAD and MSHARE_SHIM_CONFIG" 2 \
		"$(grep -c "^[A-Z_]* = '$work/" "$env")"
	# Both documented ways: sysv appends the file to an existing cluster's
	# environment (first showing that the caller's environment is lost);
	# mmap makes the cluster with it.
	[ "$mode" = mmap ] && opts+=(--environment="$env")
	if ! pg_createcluster -p 5432 "${opts[@]}" $ver main -- \
		-A trust --no-sync >"$work/create-$mode.log" 2>&1; then
		not_ok "$mode: pg_createcluster"
		sed 's/^/# /' "$work/create-$mode.log"
		return
	fi
	ok "$mode: pg_createcluster ${opts[*]} $ver main"
	if [ "$mode" = sysv ]; then
		caller_env_dropped
		cat "$env" >>/etc/postgresql/$ver/main/environment
	fi
	expect "$mode: the cluster's environment file loads the shim" 2 \
		"$(grep -c "^[A-Z_]* = '$work/" /etc/postgresql/$ver/main/environment)"
	if ! pg_ctlcluster $ver main start >"$work/start.log" 2>&1; then
		not_ok "$mode: pg_ctlcluster $ver main start"
		sed 's/^/# /' "$work/start.log" /var/log/postgresql/postgresql-$ver-main.log | tail -n 30
		pg_dropcluster --stop $ver main >/dev/null 2>&1
		return
	fi
	ok "$mode: pg_ctlcluster $ver main start"
	check_backed "$mode" "first start"
	as_pg pgbench -i -q -s $scale >"$work/init.log" 2>&1 || { not_ok "$mode: pgbench -i"; sed 's/^/# /' "$work/init.log"; }
	as_pg pgbench -n -c 4 -j 2 -T 5 >"$work/bench.log" 2>&1 || { not_ok "$mode: pgbench"; sed 's/^/# /' "$work/bench.log"; }
	[ "$mode" = mmap ] && parallel_query "$mode"
	check_balances "$mode" "before a clean stop"
	r1=$rows

	pg_ctlcluster $ver main stop >/dev/null 2>&1 || not_ok "$mode: pg_ctlcluster stop"
	if pg_ctlcluster $ver main start >"$work/start.log" 2>&1; then
		ok "$mode: start after a clean stop"
	else
		not_ok "$mode: start after a clean stop"
		sed 's/^/# /' "$work/start.log"
	fi
	check_backed "$mode" "after a clean stop"
	check_balances "$mode" "after a clean stop"
	expect "$mode: the history rows survive a clean stop" "$r1" "$rows"
	as_pg pgbench -n -c 4 -j 2 -T 5 >"$work/bench.log" 2>&1 || not_ok "$mode: pgbench after the restart"
	check_balances "$mode" "before kill -9"
	r2=$rows

	pm=$(postmaster)
	mapfile -t kids < <(pgrep -P "$pm")
	note "kill -9 of the postmaster ($pm) and its ${#kids[@]} children's wait"
	kill -9 "$pm"
	# The children notice their parent is gone and exit; until then they
	# hold the old shared memory.
	wait_gone "$pm" "${kids[@]}" || not_ok "$mode: the old server's processes exited within 60 s"
	if pg_ctlcluster $ver main start >"$work/start.log" 2>&1; then
		ok "$mode: start after kill -9 of the postmaster"
	else
		not_ok "$mode: start after kill -9 of the postmaster"
		sed 's/^/# /' "$work/start.log" /var/log/postgresql/postgresql-$ver-main.log | tail -n 30
	fi
	check_backed "$mode" "after kill -9"
	check_balances "$mode" "after kill -9"
	if [ "$rows" -ge "$r2" ]; then
		ok "$mode: no committed history row lost by kill -9 ($r2 -> $rows)"
	else
		not_ok "$mode: no committed history row lost by kill -9 ($r2 -> $rows)"
	fi
	[ "$mode" = mmap ] && parallel_query "$mode"

	pg_ctlcluster $ver main stop >/dev/null 2>&1 || not_ok "$mode: last pg_ctlcluster stop"
	expect "$mode: no region of user postgres left after the last stop" "" \
		"$(find "$mount" -maxdepth 1 -user postgres -printf '%f ')"
	pg_dropcluster $ver main >/dev/null 2>&1 || not_ok "$mode: pg_dropcluster"
}

for m in "${modes[@]}"; do
	case $m in
	sysv | mmap) one_mode "$m" ;;
	*) bail "unknown mode: $m" ;;
	esac
done
echo "1..$n"
[ "$failed" = 0 ]
