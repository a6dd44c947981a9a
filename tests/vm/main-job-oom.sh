# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# The seeds' failure in miniature, a section of the main job sourced by
# tests/vm/main-job-guest.sh and run in a guest of its own, sized so that
# the stock kernel cannot hold the page tables of N processes attached to
# one segment (run-main-job boots it with --mem 1536: 1 GiB of SysV shared memory is
# more than the overcommit heuristic lets a 1 GiB guest create):
# tests/bench/pt-oom starts N processes that each attach a 1 GiB SysV
# segment and touch one page per 2 MiB (a whole set of PTE pages for a
# stock process), first on the stock SysV path, then under the shim. The
# stock run ends in OOM kills or failed forks, printed as they happen; the
# shim run must attach all N. A short table says what happened.
#
# Environment: MSHARE_MAIN_OOM_PROCS (1000), MSHARE_MAIN_OOM_SIZE_MIB (1024).

oom_procs=${MSHARE_MAIN_OOM_PROCS:-1000}
oom_size=${MSHARE_MAIN_OOM_SIZE_MIB:-1024}
ptoom=$builddir/tests/bench/pt-oom
declare -A OOM=()

# Runs pt-oom once; its CSV result goes into OOM[RUN,column].
oom_run() { # oom_run RUN(stock|shim) [VAR=value...]
	local run=$1 log=/tmp/pt-oom-$1.log rc=0 header values i
	shift
	say "---- $run: $oom_procs processes attach the segment"
	# Streamed: each failure shows when it happens.
	env "$@" "$ptoom" --size "$oom_size" --procs "$oom_procs" 2>&1 | tee "$log" |
		sed "s/^/main-job:   $run: /" || rc=$?
	header=$(grep '^result,' "$log" || true)
	values=$(grep -E '^(ok|failed),' "$log" || true)
	if [ -z "$values" ]; then
		fail "oom ($run): pt-oom printed no result (exit $rc)"
		return
	fi
	local -a h v
	IFS=, read -r -a h <<<"$header"
	IFS=, read -r -a v <<<"$values"
	for i in "${!h[@]}"; do
		OOM[$run,${h[$i]}]=${v[$i]}
	done
}

mb() { awk -v k="$1" 'BEGIN { printf "%d MB", k / 1024 }'; }

oom_first_failure() { # oom_first_failure RUN
	local r=$1
	if [ "${OOM[$r,failures]:-0}" = 0 ]; then
		echo "none"
	elif [ "${OOM[$r,oom_kills]:-0}" != 0 ]; then
		echo "OOM kill at ${OOM[$r,first_failure_at]} attached"
	elif [ "${OOM[$r,fork_failures]:-0}" != 0 ]; then
		echo "fork failed at ${OOM[$r,first_failure_at]}"
	else
		echo "at ${OOM[$r,first_failure_at]} attached"
	fi
}

print_oom_table() {
	local r row label
	local -a rows=(
		"processes attached, of $oom_procs"
		"first failure"
		"processes OOM-killed / forks failed"
		"page tables (PageTables), all attached"
		"memory left (MemAvailable), all attached"
		"memory free (MemFree), all attached"
		"the segment is mapped as"
	)
	echo
	say "==== The seeds' failure in miniature: $oom_procs processes, one ${oom_size} MiB SysV segment, a $(mb "${OOM[stock,memtotal_kb]:-${OOM[shim,memtotal_kb]:-0}}") guest"
	printf '%-44s %22s %22s\n' "" "stock kernel SysV" "shim + msharefs"
	for label in "${rows[@]}"; do
		row=$(printf '%-44s' "$label")
		for r in stock shim; do
			case $label in
			processes\ attached*) row+=$(printf ' %22s' "${OOM[$r,procs_attached]:--}") ;;
			first\ failure) row+=$(printf ' %22s' "$(oom_first_failure "$r")") ;;
			processes\ OOM*) row+=$(printf ' %22s' "${OOM[$r,oom_kills]:--} / ${OOM[$r,fork_failures]:--}") ;;
			page\ tables*) row+=$(printf ' %22s' "$(mb "${OOM[$r,pagetables_kb]:-0}")") ;;
			memory\ left*) row+=$(printf ' %22s' "$(mb "${OOM[$r,memavailable_kb]:-0}")") ;;
			memory\ free*) row+=$(printf ' %22s' "$(mb "${OOM[$r,memfree_kb]:-0}")") ;;
			*) row+=$(printf ' %22s' "${OOM[$r,mapping]:--}") ;;
			esac
		done
		echo "$row"
	done
	echo
}

section_oom() {
	say "==== The seeds' failure in miniature (tests/bench/pt-oom): $(awk '/^MemTotal/ { print $2 }' /proc/meminfo) kB of memory"
	if [ ! -x "$ptoom" ]; then
		fail "pt-oom not built ($ptoom)"
		return
	fi
	oom_run stock
	if [ -f "$shim_so" ]; then
		oom_run shim LD_PRELOAD="$shim_so" MSHARE_SHIM_SHM=all MSHARE_SHIM_MODE=strict
	fi
	print_oom_table
	if [ "${OOM[stock,result]:-}" = ok ]; then
		fail "oom: the stock kernel held all $oom_procs attachers: the guest is too big to show the failure"
	elif [ -n "${OOM[stock,result]:-}" ]; then
		say "stock: the page tables of $oom_procs attachers do not fit (as expected: that is the seeds' failure)"
	fi
	if [ "${OOM[shim,result]:-}" != ok ]; then
		fail "oom: under the shim not all $oom_procs processes attached"
	elif [ "${OOM[shim,mapping]:-}" != msharefs ] &&
		[ "${OOM[shim,mapping]:-}" != sysv-shared-tables ]; then
		fail "oom: under the shim the segment is mapped as ${OOM[shim,mapping]:-nothing}, without shared page tables"
	else
		say "shim: all $oom_procs attached, $(mb "${OOM[shim,memavailable_kb]}") left available"
	fi
}
