#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main job, inside the VM (started by ./run-main-job through
# kernel/vm-run.sh, as root, msharefs mounted): shows page-table sharing on
# real programs.
#   1. mshare-ptdemo --size 256 --procs 8: the VmPTE table of the demo.
#   2. PostgreSQL 15 (Debian's, as user postgres, data under /tmp, loopback
#      only) under pgbench, once per phase: in both shared memory modes
#      (shared_memory_type=sysv, and the default mmap: anonymous shared
#      memory, with dynamic_shared_memory_type=posix), each without the
#      shim and with LD_PRELOAD=libmshare-shim.so (when it is built; mmap
#      with conf/postgresql-mmap.conf). Printed side by side: TPS (whole
#      runs and their second halves), the backends' page faults per
#      transaction, a parallel query's time (2 workers, posix DSM), summed
#      VmPTE of the postgres processes, PageTables (/proc/meminfo), whether
#      the postmaster maps /sys/fs/mshare/; then the issue's targets, met
#      or missed, per mode.
#   3. With the shim, in each mode: clean stop and restart, then kill -9 of
#      the postmaster and restart (PostgreSQL's stale-segment probe must
#      accept the backed segment), checking pgbench's tables after each
#      restart.
#   4. The Debian way: tests/vm/pg-debian-guest.sh (pg_createcluster with
#      the environment files of conf/, pg_ctlcluster, restart checks).
#   5. PostgreSQL at 1000 connections and a connection storm, with and
#      without the shim (tests/vm/main-job-connections.sh; runs after 2).
#   6. Not by default, in a small guest of its own: the seeds' failure in
#      miniature, N processes attached to one segment until the stock
#      kernel runs out of memory, and the same under the shim
#      (tests/vm/main-job-oom.sh, section_oom).
# Structure: each section is a function listed in SECTIONS; each PostgreSQL
# phase is a name in PHASES with a phase_env_NAME function giving the
# postmaster's extra environment; metrics go into R[phase,metric] and the
# table prints the rows of METRICS. Add sections/phases/metrics there.
#
# Every phase starts from the same copy of the data directory (made once
# after pgbench -i) and pg_prewarm loads the tables into the pool, so the
# phases differ only in the shim.
#
# Environment: MSHARE_TOP_SRCDIR, MSHARE_TOP_BUILDDIR (set by run-main-job),
#   MSHARE_MAIN_SCALE (pgbench scale, default 60: about 900 MiB, most of
#   the pool), MSHARE_MAIN_SHARED_BUFFERS (1GB),
#   MSHARE_MAIN_SELECT_SECONDS (20), MSHARE_MAIN_SELECT_CLIENTS (32),
#   MSHARE_MAIN_RW_SECONDS (15), MSHARE_MAIN_RW_CLIENTS (16),
#   MSHARE_MAIN_ORDER (noshim shim shim noshim mmap_noshim mmap_shim
#   mmap_shim mmap_noshim),
#   MSHARE_MAIN_SECTIONS (the sections to run, default all but section_oom),
#   MSHARE_MAIN_SKIP_SECTIONS (sections left out of those),
#   and those of main-job-connections.sh and main-job-oom.sh,
#   MSHARE_VM_ICOUNT (set by run-main-job: QEMU's -icount shift, printed)
# Exit status: 0 if every section succeeded, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
srcdir=${MSHARE_TOP_SRCDIR:-$(cd "$here/../.." && pwd)}
builddir=${MSHARE_TOP_BUILDDIR:-$srcdir}
ptdemo=$builddir/tests/kernel/mshare-ptdemo
shim_so=$builddir/shim/.libs/libmshare-shim.so
pgbin=/usr/lib/postgresql/15/bin
scale=${MSHARE_MAIN_SCALE:-60}
select_secs=${MSHARE_MAIN_SELECT_SECONDS:-20}
select_clients=${MSHARE_MAIN_SELECT_CLIENTS:-32}
rw_secs=${MSHARE_MAIN_RW_SECONDS:-15}
rw_clients=${MSHARE_MAIN_RW_CLIENTS:-16}
shared_buffers=${MSHARE_MAIN_SHARED_BUFFERS:-1GB}

work=/tmp/main-job
pgdata=$work/data
pristine=$work/data.pristine
sock=$work/sock

# section_oom is not among the defaults: it needs a guest too small for the
# rest (run-main-job boots one for it).
SECTIONS=(section_ptdemo section_postgres section_pg_connections section_pg_lifecycle section_pg_debian)
[ -z "${MSHARE_MAIN_SECTIONS:-}" ] || read -r -a SECTIONS <<<"$MSHARE_MAIN_SECTIONS"
# MSHARE_MAIN_SKIP_SECTIONS: sections another boot runs (run-main-job).
for skip_section in ${MSHARE_MAIN_SKIP_SECTIONS:-}; do
	for idx in "${!SECTIONS[@]}"; do
		[ "${SECTIONS[$idx]}" != "$skip_section" ] || unset "SECTIONS[$idx]"
	done
done
SECTIONS=("${SECTIONS[@]}")
# Phase names: [mmap_]noshim, [mmap_]shim; mmap_* use PostgreSQL's default
# shared_memory_type=mmap, the others sysv.
PHASES=(noshim)
[ -f "$shim_so" ] && PHASES+=(shim)
PHASES+=(mmap_noshim)
[ -f "$shim_so" ] && PHASES+=(mmap_shim)
# Phases run in A B B A order per mode and their TPS are averaged: whichever
# phase ran second was about 10 % slower in single A B runs (run order, not
# the shim: with the shim first, the shim phase was the faster one).
ORDER=("${PHASES[@]}")
[ "${#PHASES[@]}" -lt 4 ] || ORDER=(noshim shim shim noshim mmap_noshim mmap_shim mmap_shim mmap_noshim)
[ -z "${MSHARE_MAIN_ORDER:-}" ] || read -r -a ORDER <<<"$MSHARE_MAIN_ORDER"
METRICS=(select_tps select_runs select_late select_faults rw_tps rw_runs rw_late rw_faults
	parallel_ms vmpte_kb nprocs pagetables_kb pagetables_base_kb mshare_mapped)
declare -A METRIC_LABEL=(
	[select_tps]="select-only TPS (pgbench -S -c $select_clients -T $select_secs), mean"
	[select_runs]="  each run"
	[select_late]="  second half of the runs (pgbench -P), mean"
	[select_faults]="  page faults per transaction (backends)"
	[rw_tps]="read-write TPS (pgbench -c $rw_clients -T $rw_secs), mean"
	[rw_runs]="  each run"
	[rw_late]="  second half of the runs (pgbench -P), mean"
	[rw_faults]="  page faults per transaction (backends)"
	[parallel_ms]="parallel count(*), 2 workers (ms), each run"
	[vmpte_kb]="summed VmPTE of postgres processes, max (kB)"
	[nprocs]="postgres processes at that sample"
	[pagetables_kb]="PageTables (/proc/meminfo), max during runs (kB)"
	[pagetables_base_kb]="PageTables before the server started (kB)"
	[mshare_mapped]="postmaster memory shares page tables (VmFlags st)"
)
declare -A PHASE_LABEL=([noshim]="sysv, no shim" [shim]="sysv + shim"
	[mmap_noshim]="mmap, no shim" [mmap_shim]="mmap + shim")
declare -A R=()
failures=()

say() { echo "main-job: $*"; }
fail() {
	echo "main-job: FAILED: $*"
	failures+=("$*")
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# --- 1. the page-table demo -------------------------------------------------------

section_ptdemo() {
	say "==== mshare-ptdemo --size 256 --procs 8"
	if [ ! -x "$ptdemo" ]; then
		fail "mshare-ptdemo not built ($ptdemo)"
		return
	fi
	local rc=0
	"$ptdemo" --size 256 --procs 8 || rc=$?
	case "$rc" in
	0) ;;
	77) fail "mshare-ptdemo skipped (exit 77): no msharefs in this kernel?" ;;
	*) fail "mshare-ptdemo exited $rc" ;;
	esac
}

# --- 2. PostgreSQL ------------------------------------------------------------------

as_pg() { # as_pg [VAR=value...] COMMAND...: run as postgres, clean environment
	setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- \
		env PATH="$pgbin:/usr/bin:/bin" PGHOST="$sock" PGDATABASE=postgres PAGER=cat \
		LANG=C.UTF-8 "$@"
}

phase_env_noshim() { :; }
phase_env_shim() {
	# The postmaster and its forks only; copied out of the read-only tree so
	# that user postgres can read it wherever the checkout lives.
	install -m 0755 "$shim_so" "$work/libmshare-shim.so"
	echo "LD_PRELOAD=$work/libmshare-shim.so"
	echo "MSHARE_SHIM_SHM=all"
	echo "MSHARE_SHIM_LOG=info"
}
phase_env_mmap_noshim() { :; }
phase_env_mmap_shim() {
	# The shipped profile: anonymous shared memory and posix DSM files.
	install -m 0755 "$shim_so" "$work/libmshare-shim.so"
	install -m 0644 "$srcdir/conf/postgresql-mmap.conf" "$work/postgresql-mmap.conf"
	echo "LD_PRELOAD=$work/libmshare-shim.so"
	echo "MSHARE_SHIM_CONFIG=$work/postgresql-mmap.conf"
	echo "MSHARE_SHIM_LOG=info"
}
is_shim_phase() { [[ $1 = shim || $1 = *_shim ]]; }
memory_type() { [[ $1 = mmap_* ]] && echo mmap || echo sysv; }

pg_start() { # [pg_extra_opts="-c ..."] pg_start PHASE
	local envs=()
	mapfile -t envs < <("phase_env_$1")
	as_pg "${envs[@]}" pg_ctl -D "$pgdata" -l "$work/pg-$1.log" -w -t 300 \
		-o "-c listen_addresses=localhost -c unix_socket_directories=$sock" \
		-o "-c shared_memory_type=$(memory_type "$1") -c dynamic_shared_memory_type=posix" \
		-o "-c shared_buffers=$shared_buffers -c fsync=off ${pg_extra_opts:-}" \
		start
}
# Loads pgbench's tables and indexes, and any pool_filler, into the pool.
pg_prewarm_tables() { # pg_prewarm_tables PHASE
	local warm
	if warm=$(as_pg psql -X -q -t -A -c "SELECT count(*) || ' relations, ' || round(sum(b) / 128.0, 1) || ' MiB' FROM (SELECT pg_prewarm(c.oid) AS b FROM pg_class c WHERE (c.relname LIKE 'pgbench_%' OR c.relname = 'pool_filler') AND c.relkind IN ('r', 'i')) AS w"); then
		say "pg_prewarm: $warm"
	else
		fail "$1: pg_prewarm failed"
	fi
}

pg_stop() {
	as_pg pg_ctl -D "$pgdata" -m fast -w -t 300 stop
}

# Sum of VmPTE over the processes named postgres, their count, PageTables.
# cat, not awk on the files: processes come and go between glob and open.
sample() {
	local pt
	pt=$(awk '/^PageTables:/ { print $2 }' /proc/meminfo)
	# cat fails when a process exits in between: not an error here.
	{ cat /proc/[0-9]*/status 2>/dev/null || true; } |
		awk -v pt="$pt" '/^Name:/ { n = $2 } /^VmPTE:/ && n == "postgres" { s += $2; c++ }
			END { printf "%d %d %d\n", s, c, pt }'
}

# Samples every 2 s into FILE until killed; the run reads the maxima.
sampler() {
	local out=$1
	while :; do
		sample >>"$out"
		sleep 2
	done
}

max_of() { # max_of FILE: "vmpte nprocs pagetables" with vmpte and pagetables maxima
	awk '$1 > v { v = $1; c = $2 } $3 > p { p = $3 } END { printf "%d %d %d\n", v, c, p }' "$1"
}

mean_of() { # mean_of "A/B/...": the mean, one decimal
	awk -v l="$1" 'BEGIN { n = split(l, v, "/"); for (i = 1; i <= n; i++) s += v[i]; if (n) printf "%.1f\n", s / n }'
}

pgbench_tps() { # pgbench_tps LOG
	awk '/^tps = .*without initial connection time/ { t = sprintf("%.1f", $3) } END { print t }' "$1"
}

# The transactions pgbench counted ("number of transactions actually
# processed: N", or "N/M" with a limit).
pgbench_transactions() { # pgbench_transactions LOG
	sed -n 's|^number of transactions actually processed: \([0-9]*\).*|\1|p' "$1"
}

# The mean TPS of pgbench -P's intervals in the second half of a run of
# SECONDS: by then most pages the run touches have been faulted in.
pgbench_late_tps() { # pgbench_late_tps LOG SECONDS
	awk -v T="$2" '/^progress: [0-9.]+ s, [0-9.]+ tps/ { if ($2 + 0 > T / 2) { s += $4; n++ } }
		END { if (n) printf "%.1f\n", s / n }' "$1"
}

# Page faults of the postmaster's exited children (cminflt + cmajflt in
# /proc/PID/stat): a run's backends are reaped after it, so the growth is
# what that run's backends faulted (the kernel here has no /proc/vmstat
# event counters).
child_faults() { # child_faults PID
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $9 + $11 }'
}

# Waits (up to 120 s: a thousand backends exit one by one under TCG) until
# the postmaster has only its N children left.
wait_children() { # wait_children PID N
	local i
	for ((i = 0; i < 1200; i++)); do
		[ "$(pgrep -c -P "$1")" -le "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# A parallel sequential scan of pgbench_accounts (dynamic shared memory for
# the workers: posix segments in /dev/shm): 2 workers launched, the count
# right, its execution time.
parallel_run() { # parallel_run PHASE
	local ph=$1 plan out ms
	plan=$(as_pg psql -X -q -t -A -c "SET max_parallel_workers_per_gather = 2;
		SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
		EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT count(*) FROM pgbench_accounts" 2>&1)
	echo "$plan" | sed 's/^/main-job:   /'
	grep -q 'Workers Launched: 2' <<<"$plan" || fail "$ph: the parallel query did not launch 2 workers"
	# A parallel seq scan or, once the visibility map is set, index-only scan.
	grep -Eq 'Parallel (Seq|Index Only|Index) Scan .*pgbench_accounts' <<<"$plan" ||
		fail "$ph: no parallel scan of pgbench_accounts in the plan"
	# The workers' partial counts come back through DSM queues.
	out=$(as_pg psql -X -q -t -A -c "SET max_parallel_workers_per_gather = 2;
		SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
		SELECT count(*) FROM pgbench_accounts" 2>&1)
	[ "$out" = "$((scale * 100000))" ] ||
		fail "$ph: the parallel count(*) gave '$out', not $((scale * 100000))"
	ms=$(sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p' <<<"$plan")
	[ -n "$ms" ] || { fail "$ph: no execution time from the parallel query"; return; }
	append_run "$ph" parallel_ms "$(printf '%.0f' "$ms")"
}

append_run() { # append_run PHASE METRIC VALUE: "a/b/..." list and its mean
	local k=$1,$2
	R[$k]="${R[$k]:+${R[$k]}/}$3"
}

# One pgbench run: TPS (whole run and second half) and faults per transaction.
bench_run() { # bench_run PHASE KIND(select|rw) SECONDS LOG PGBENCH-ARGS...
	local ph=$1 kind=$2 secs=$3 log=$4 f0 f1 rc=0 tps late kids txns
	shift 4
	say "pgbench $*"
	kids=$(pgrep -c -P "$pm" || true)
	f0=$(child_faults "$pm")
	as_pg pgbench -n -P 5 "$@" >"$log" 2>&1 &
	local bench=$!
	# One sample at mid-run for sure, whatever the periodic sampler catches.
	sleep $((secs / 2))
	sample >>"$samples"
	wait "$bench" || rc=$?
	wait_children "$pm" "$kids" || fail "$ph: backends still running 120 s after pgbench"
	f1=$(child_faults "$pm")
	grep -v '^progress:' "$log" | sed 's/^/main-job:   /'
	[ "$rc" = 0 ] || fail "$ph: pgbench $* exited $rc"
	tps=$(pgbench_tps "$log")
	late=$(pgbench_late_tps "$log" "$secs")
	txns=$(pgbench_transactions "$log")
	[ -n "$txns" ] && [ "$txns" -gt 0 ] || fail "$ph: pgbench printed no transaction count"
	append_run "$ph" "${kind}_runs" "$tps"
	R[$ph,${kind}_tps]=$(mean_of "${R[$ph,${kind}_runs]}")
	append_run "$ph" "${kind}_late_runs" "$late"
	R[$ph,${kind}_late]=$(mean_of "${R[$ph,${kind}_late_runs]}")
	append_run "$ph" "${kind}_fault_runs" \
		"$(awk -v f=$((f1 - f0)) -v t="${txns:-0}" 'BEGIN { if (t > 0) printf "%.2f", f / t }')"
	R[$ph,${kind}_faults]=$(mean_of "${R[$ph,${kind}_fault_runs]}")
}

run_phase() { # run_phase PHASE
	local ph=$1 samples=$work/samples-$1 pm rc=0 spid
	say "==== PostgreSQL phase: ${PHASE_LABEL[$ph]}"
	[ -n "${R[$ph,pagetables_base_kb]:-}" ] ||
		R[$ph,pagetables_base_kb]=$(awk '/^PageTables:/ { print $2 }' /proc/meminfo)
	# Every phase starts from the same tables: a read-write run leaves dead
	# tuples and WAL behind that would slow the next phase down.
	rm -rf "$pgdata"
	if ! cp -a "$pristine" "$pgdata"; then
		fail "$ph: could not copy the data directory"
		return
	fi
	if ! pg_start "$ph"; then
		fail "$ph: PostgreSQL did not start"
		tail -n 40 "$work/pg-$ph.log" || true
		return
	fi
	pm=$(head -n 1 "$pgdata/postmaster.pid")
	if [ -n "$(shared_table_maps "$pm")" ]; then
		R[$ph,mshare_mapped]=yes
		shared_table_maps "$pm" | sed 's/^/main-job:   maps: /'
	else
		R[$ph,mshare_mapped]=no
	fi
	say "SysV segments:"
	ipcs -m | sed 's/^/main-job:   /'

	pg_prewarm_tables "$ph"

	: >"$samples"
	sampler "$samples" &
	spid=$!
	bench_run "$ph" select "$select_secs" "$work/select-$ph.log" \
		-S -c "$select_clients" -j 2 -T "$select_secs"
	bench_run "$ph" rw "$rw_secs" "$work/rw-$ph.log" \
		-c "$rw_clients" -j 2 -T "$rw_secs"
	parallel_run "$ph"
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	local v c p
	read -r v c p < <(max_of "$samples")
	if [ "$v" -gt "${R[$ph,vmpte_kb]:-0}" ]; then
		R[$ph,vmpte_kb]=$v
		R[$ph,nprocs]=$c
	fi
	[ "$p" -le "${R[$ph,pagetables_kb]:-0}" ] || R[$ph,pagetables_kb]=$p

	if ! pg_stop; then
		fail "$ph: PostgreSQL did not stop cleanly"
	fi
	if is_shim_phase "$ph"; then
		say "shim messages in the server log:"
		grep -i 'mshare' "$work/pg-$ph.log" | head -n 40 | sed 's/^/main-job:   /' || true
		[ "${R[$ph,mshare_mapped]}" = yes ] ||
			fail "shim: no mapping of the postmaster shares page tables (VmFlags st): its shared memory was not backed"
	fi
	grep -E 'ERROR|FATAL|PANIC' "$work/pg-$ph.log" | head -n 20 | sed 's/^/main-job:   log: /' || true
}

# The data directory every phase copies: initdb, pgbench -i, pg_prewarm's
# extension, once, without the shim.  Done by the first section that needs it.
pg_make_pristine() {
	[ ! -d "$pristine" ] || return 0
	rm -rf "$work"
	mkdir -p "$work" "$sock"
	chown postgres:postgres "$work" "$sock"
	local t0
	t0=$(uptime_s)
	if ! as_pg initdb -D "$pgdata" -A trust -U postgres --no-sync >"$work/initdb.log" 2>&1; then
		tail -n 30 "$work/initdb.log"
		fail "initdb failed"
		return 1
	fi
	say "initdb took $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { print b - a }') s"
	# Load the tables once, without the shim; every phase uses them.
	if ! pg_start noshim; then
		tail -n 40 "$work/pg-noshim.log" || true
		fail "PostgreSQL did not start for pgbench -i"
		return 1
	fi
	t0=$(uptime_s)
	if ! as_pg pgbench -i -q -s "$scale" >"$work/init.log" 2>&1 ||
		! as_pg psql -X -q -c 'CREATE EXTENSION IF NOT EXISTS pg_prewarm'; then
		tail -n 30 "$work/init.log"
		fail "pgbench -i -s $scale failed"
		pg_stop || true
		return 1
	fi
	say "pgbench -i -s $scale took $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { print b - a }') s"
	pg_stop || { fail "PostgreSQL did not stop after pgbench -i"; return 1; }
	cp -a "$pgdata" "$pristine" || { fail "could not copy the data directory"; return 1; }
	say "data directory: $(du -sm "$pgdata" | cut -f1) MiB"
}

section_postgres() {
	say "==== PostgreSQL 15, shared_memory_type sysv and mmap, shared_buffers=$shared_buffers, pgbench scale $scale"
	if [ ! -x "$pgbin/postgres" ]; then
		fail "PostgreSQL 15 is not installed ($pgbin)"
		return
	fi
	[ -f "$shim_so" ] || say "no $shim_so: only the phase without the shim runs"
	pg_make_pristine || return

	local ph
	say "phase order: ${ORDER[*]}"
	for ph in "${ORDER[@]}"; do
		run_phase "$ph"
	done
	print_table
}

# --- 3. stop, restart, kill -9, restart under the shim ----------------------------

pg_sql() { as_pg psql -X -q -t -A -c "$1"; }

# pgbench's invariant: every account, teller and branch balance is the sum
# of the history deltas for it.  Prints the number of history rows; on a
# mismatch says so on stderr and returns 1 (the caller records the failure:
# this runs in a command substitution).
pg_consistent() { # pg_consistent WHEN
	local row
	row=$(pg_sql "SELECT (SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts) || ' ' ||
		(SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers) || ' ' ||
		(SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches) || ' ' ||
		(SELECT coalesce(sum(delta), 0) FROM pgbench_history) || ' ' ||
		(SELECT count(*) FROM pgbench_history)") || { say "$1: query failed" >&2; return 1; }
	read -r a t b d n <<<"$row"
	say "$1: sum(abalance)=$a sum(tbalance)=$t sum(bbalance)=$b sum(delta)=$d, $n history rows" >&2
	if [ "$a" != "$d" ] || [ "$t" != "$d" ] || [ "$b" != "$d" ]; then
		say "$1: pgbench's balances do not add up: data lost or corrupted" >&2
		return 1
	fi
	echo "$n"
}

# The running postmaster's main shared memory shares page tables: in sysv
# mode the SysV segment's (the kernel's SHM_SHARE_MMU, /SYSV<key>, or a
# region sysv.*), in mmap mode an anonymous region (unlinked at once, so
# only its size tells it: at least shared_buffers).
pg_backed() { # pg_backed PHASE WHEN
	local pm max min_mib line
	pm=$(head -n 1 "$pgdata/postmaster.pid")
	if [ "$(memory_type "$1")" = sysv ]; then
		while read -r line; do
			if is_segment_attachment "$line"; then
				say "$2: segment backed: $(awk '{print $6}' <<<"$line")"
				return
			fi
		done < <(shared_table_maps "$pm")
		fail "$1: $2: the postmaster's segment shares no page tables"
		return
	fi
	min_mib=$(as_pg psql -X -q -t -A -c "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'")
	max=$(shared_table_mib "$pm")
	if [ -n "$min_mib" ] && [ "$max" -ge "$min_mib" ]; then
		say "$2: anonymous shared memory backed: an msharefs attachment of $max MiB (shared_buffers $min_mib MiB)"
	else
		fail "$1: $2: the postmaster's shared memory is not an msharefs region (largest: $max MiB)"
	fi
}

section_pg_lifecycle() {
	local ph
	for ph in shim mmap_shim; do
		lifecycle "$ph"
	done
}

lifecycle() { # lifecycle PHASE
	local ph=$1 n1 n2 n3 pm waited=0
	if [ ! -f "$shim_so" ] || [ ! -d "$pgdata" ]; then
		say "==== lifecycle: skipped (no shim or no data directory)"
		return
	fi
	say "==== PostgreSQL under the shim, shared_memory_type=$(memory_type "$ph"): stop, restart, kill -9, restart"
	pg_start "$ph" || { fail "lifecycle ($ph): start failed"; return; }
	pg_backed "$ph" "first start"
	as_pg pgbench -n -c 4 -j 2 -T 5 >"$work/life1.log" 2>&1 || fail "lifecycle ($ph): pgbench failed"
	n1=$(pg_consistent "before a clean stop") || { fail "lifecycle ($ph): tables inconsistent before a clean stop"; return; }
	pg_stop || { fail "lifecycle ($ph): clean stop failed"; return; }
	pg_start "$ph" || { fail "lifecycle ($ph): restart after a clean stop failed"; tail -n 20 "$work/pg-$ph.log"; return; }
	pg_backed "$ph" "restart"
	n2=$(pg_consistent "after the restart") || { fail "lifecycle ($ph): tables inconsistent after the restart"; return; }
	[ "$n2" = "$n1" ] || fail "lifecycle ($ph): $n1 history rows before the stop, $n2 after"
	as_pg pgbench -n -c 4 -j 2 -T 5 >"$work/life2.log" 2>&1 || fail "lifecycle ($ph): pgbench failed"
	n2=$(pg_consistent "before kill -9") || { fail "lifecycle ($ph): tables inconsistent before kill -9"; return; }
	pm=$(head -n 1 "$pgdata/postmaster.pid")
	say "kill -9 of the postmaster (pid $pm)"
	kill -9 "$pm"
	# Its children notice and exit; until then the old segment is attached.
	while pgrep -u postgres -x postgres >/dev/null && [ "$waited" -lt 60 ]; do
		sleep 1
		waited=$((waited + 1))
	done
	say "old segment after the crash:"
	ipcs -m | sed 's/^/main-job:   /'
	pg_start "$ph" || { fail "lifecycle ($ph): restart after kill -9 failed"; tail -n 30 "$work/pg-$ph.log"; return; }
	pg_backed "$ph" "restart after kill -9"
	grep -E 'was interrupted|not properly shut down|automatic recovery|redo done' "$work/pg-$ph.log" |
		tail -n 4 | sed 's/^/main-job:   log: /' || true
	n3=$(pg_consistent "after the crash restart") || { fail "lifecycle ($ph): tables inconsistent after the crash restart"; return; }
	[ "$n3" -ge "$n2" ] || fail "lifecycle ($ph): $n2 history rows before kill -9, only $n3 after"
	pg_stop || fail "lifecycle ($ph): final stop failed"
	local left
	left=$(find /sys/fs/mshare -maxdepth 1 -user postgres -printf '%f ')
	if [ -n "$left" ]; then
		fail "lifecycle ($ph): regions left after the last stop: $left"
	else
		say "no regions left after the last stop"
	fi
	say "lifecycle ($(memory_type "$ph")): ok ($n1, $n2, $n3 history rows)"
}

# --- 4. the Debian way: pg_createcluster, pg_ctlcluster -----------------------------

section_pg_debian() {
	local out rc=0
	say "==== PostgreSQL the Debian way: tests/vm/pg-debian-guest.sh (sysv and mmap)"
	out=$(top_srcdir=$srcdir top_builddir=$builddir bash "$here/pg-debian-guest.sh" sysv mmap 2>&1) || rc=$?
	sed 's/^/main-job:   /' <<<"$out"
	[ "$rc" = 0 ] || fail "the Debian way (pg-debian-guest.sh) exited $rc: $(grep -c '^not ok' <<<"$out") failed"
}

# phase_table TITLE PHASES-ARRAY METRICS-ARRAY: one column per phase, one
# row per metric, from R[phase,metric] (the main sections and the
# 1000-connection section print theirs with it).
phase_table() {
	local -n table_phases=$2 table_metrics=$3
	local m ph row
	echo
	say "==== $1"
	row=$(printf '%-52s' "")
	for ph in "${table_phases[@]}"; do row+=$(printf ' %16s' "${PHASE_LABEL[$ph]}"); done
	echo "$row"
	for m in "${table_metrics[@]}"; do
		row=$(printf '%-52s' "${METRIC_LABEL[$m]}")
		for ph in "${table_phases[@]}"; do row+=$(printf ' %16s' "${R[$ph,$m]:--}"); done
		echo "$row"
	done
	echo
}

print_table() {
	phase_table "PostgreSQL with and without the shim" PHASES METRICS
	print_targets
}

# The issue's targets, from the table's numbers: met or missed, never hidden.
print_targets() {
	local pre
	for pre in "" mmap_; do
		mode_targets "${pre}noshim" "${pre}shim" "$(memory_type "${pre}shim")"
	done
}
mode_targets() { # mode_targets NOSHIM-PHASE SHIM-PHASE MODE
	local a=$1 b=$2 mode=$3 m
	[ -n "${R[$a,select_tps]:-}" ] && [ -n "${R[$b,select_tps]:-}" ] || return 0
	for m in select_tps select_late rw_tps rw_late; do
		awk -v a="${R[$a,$m]}" -v b="${R[$b,$m]}" -v l="${METRIC_LABEL[$m]## }" -v mode="$mode" 'BEGIN {
			if (a <= 0 || b <= 0) exit
			d = (b / a - 1) * 100
			printf "main-job: %s: target TPS at most 2 %% below no shim: %s: shim %+.1f %% (%s)\n",
				mode, l, d, (d >= -2 ? "met" : "MISSED")
		}'
	done
	awk -v a="${R[$a,vmpte_kb]:-0}" -v b="${R[$b,vmpte_kb]:-0}" -v mode="$mode" 'BEGIN {
		if (a <= 0 || b <= 0) exit
		printf "main-job: %s: target summed VmPTE >= 10x lower: %d kB / %d kB = %.1fx (%s)\n",
			mode, a, b, a / b, (a / b >= 10 ? "met" : "MISSED")
	}'
}

# Sections in files of their own.
# shellcheck source=tests/vm/main-job-connections.sh
. "$here/shared-tables.sh"
. "$here/main-job-connections.sh"
# shellcheck source=tests/vm/main-job-oom.sh
. "$here/main-job-oom.sh"

say "kernel $(uname -r), $(nproc) CPUs, $(awk '/^MemTotal/ { print $2 " kB" }' /proc/meminfo)," \
	"msharefs $(grep -q ' /sys/fs/mshare msharefs' /proc/mounts && echo mounted || echo 'NOT mounted')"
if [ -n "${MSHARE_VM_ICOUNT:-}" ]; then
	say "guest clock: QEMU -icount shift=$MSHARE_VM_ICOUNT (one guest instruction = $((1 << MSHARE_VM_ICOUNT)) ns of guest time): times and TPS count instructions, not host time"
else
	say "guest clock: host time (TCG without -icount: TPS varies with the host's load)"
fi
for s in "${SECTIONS[@]}"; do
	"$s"
done

if [ "${#failures[@]}" -gt 0 ]; then
	say "${#failures[@]} failure(s):"
	printf 'main-job:   %s\n' "${failures[@]}"
	exit 1
fi
say "all sections succeeded"
