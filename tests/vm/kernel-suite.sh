#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The VM suite of `make check`, one TAP stream:
#   - builds the patched kernel (kernel/build.sh) and the mm selftest subset;
#   - in the VM (kernel/vm-run.sh): the msharefs selftests as root and as an
#     unprivileged user, the shim's VM tests, a Debian PostgreSQL cluster
#     under the shim (pg-debian-guest.sh), the reclaim/compaction torture
#     (mshare-torture), the mm selftest subset and the VmPTE demo
#     (mshare-ptdemo);
#   - builds the debug kernel and reruns the selftests (root, and rights with
#     pti=on), the shim's kernel-tables and kernel-rights VM tests, the
#     torture and the mm subset on it (all of the shim's VM tests with
#     MSHARE_VM_DEBUG_FULL=1).
# The nested TAP of each guest program is renumbered into this stream with a
# prefix naming the run; each VM run adds one test "VM run clean": no kernel
# splat (vm-run exit 125), no timeout (124), the guest reported a status (126).
#
# Environment (make check exports the first three):
#   top_srcdir, top_builddir   source and build tree (default: this checkout)
#   MSHARE_VM_TESTS=0          print a skip-all plan and do nothing
#   MSHARE_VM_DEBUG_KERNEL=0   leave out the debug-kernel part (quick loops)
#   MSHARE_VM_DEBUG_FULL=1     on the debug kernel also the selftests as an
#                              unprivileged user and the shim's user-space
#                              suites (shim, cache, mmap VM tests), which
#                              otherwise run on the default kernel only
#   MSHARE_VM_TIMEOUT_SCALE=N  multiply every VM timeout by N (default 1)
#   MSHARE_TORTURE_SECONDS=N   length of each torture run (default 30)
#   MSHARE_VM_SWAP=MB          zram swap of every guest (default 1024; the
#                              guests also have 2 NUMA nodes, vm-run.sh)
#   MSHARE_SUITE_SELFTEST, MSHARE_SUITE_PTDEMO, MSHARE_SUITE_SHIMTESTS
#                              override the guest programs (testing the suite)
set -euo pipefail

if [ "${MSHARE_VM_TESTS:-1}" = 0 ]; then
	echo "1..0 # SKIP VM tests disabled (MSHARE_VM_TESTS=0 / --disable-vm-tests)"
	exit 0
fi

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
export top_srcdir top_builddir

build_sh=$top_srcdir/kernel/build.sh
vm_run=$top_srcdir/kernel/vm-run.sh
selftest=${MSHARE_SUITE_SELFTEST:-$top_builddir/tests/kernel/msharefs-selftest}
ptdemo=${MSHARE_SUITE_PTDEMO:-$top_builddir/tests/kernel/mshare-ptdemo}
torture=${MSHARE_SUITE_TORTURE:-$top_builddir/tests/kernel/mshare-torture}
# Seconds of each torture run (`make torture-long`: 600).
torture_seconds=${MSHARE_TORTURE_SECONDS:-30}
# Every guest swaps, as a database host can.
export MSHARE_VM_SWAP=${MSHARE_VM_SWAP:-1024}
shimtests=${MSHARE_SUITE_SHIMTESTS:-$top_srcdir/tests/shim/vm-shim-tests.sh}
cachetests=${MSHARE_SUITE_CACHETESTS:-$top_srcdir/tests/shim/vm-unbacked-cache-tests.sh}
tablestests=${MSHARE_SUITE_TABLESTESTS:-$top_srcdir/tests/shim/vm-shim-kernel-tables.sh}
rightstests=${MSHARE_SUITE_RIGHTSTESTS:-$top_srcdir/tests/shim/vm-shim-kernel-rights.sh}
mmaptests=${MSHARE_SUITE_MMAPTESTS:-$top_srcdir/tests/shim/vm-mmap-tests.sh}
toolstests=${MSHARE_SUITE_TOOLSTESTS:-$top_srcdir/tests/tools/vm-tools-tests.sh}
benchquick=${MSHARE_SUITE_BENCHQUICK:-$top_srcdir/tests/bench/bench-quick.sh}
pgdebiantests=${MSHARE_SUITE_PGDEBIANTESTS:-$here/pg-debian-guest.sh}
mm_list=$here/mm-selftests.list
mm_guest=$here/mm-selftests-guest.sh
# uffd-unit-tests takes about 10 minutes on the debug kernel under TCG; it
# runs on the default kernel.
declare -A mm_skip=([debug]="uffd-unit-tests")
scale=${MSHARE_VM_TIMEOUT_SCALE:-1}

# Guest programs find the trees through these (vm-run passes MSHARE_* and the
# names listed in MSHARE_VM_PASSENV into the guest).
export MSHARE_TOP_SRCDIR=$top_srcdir MSHARE_TOP_BUILDDIR=$top_builddir
export MSHARE_VM_PASSENV="${MSHARE_VM_PASSENV:+$MSHARE_VM_PASSENV }top_srcdir top_builddir"
# vm-run keeps the checkout visible in the guest; a separate build tree too.
export MSHARE_VM_BIND="${MSHARE_VM_BIND:+$MSHARE_VM_BIND }$top_builddir"
# Each VM run keeps its serial console log (and the guest's dmesg) here.
logdir=$top_builddir/tests/vm/logs
mkdir -p "$logdir"
# A writable 9p share with cache=mmap: a file system whose shared mappings
# are written back, for the selftest of long-term pins (MSHARE_WRITEBACK_DIR).
wbdir=$(mktemp -d "${TMPDIR:-/tmp}/mshare-writeback.XXXXXX")
trap 'rm -rf "$wbdir"' EXIT

n=0
failed=0
declare -a timings=()
suite_start=$SECONDS

# --- TAP output -------------------------------------------------------------

comment() {
	local line
	for line in "$@"; do
		printf '# %s\n' "$line"
	done
}

result() { # result ok|not-ok DESCRIPTION
	n=$((n + 1))
	if [ "$1" = ok ]; then
		printf 'ok %d - %s\n' "$n" "$2"
	else
		failed=$((failed + 1))
		printf 'not ok %d - %s\n' "$n" "$2"
	fi
}

skip() { # skip DESCRIPTION REASON
	n=$((n + 1))
	printf 'ok %d - %s # SKIP %s\n' "$n" "$1" "$2"
}

timing() { # timing WHAT START_SECONDS
	local t=$((SECONDS - $2))
	timings+=("$(printf '%5d s  %s' "$t" "$1")")
	comment "time: $1: ${t} s"
}

# Runs COMMAND with its stdout and stderr as TAP comments; returns its status
# and leaves its last non-empty output line in $last_line.
last_line=""
run_commented() {
	local rc=0 line
	last_line=""
	while IFS= read -r line; do
		case "$line" in
		@@kernel-suite-rc\ *) rc=${line#@@kernel-suite-rc } ;;
		'') ;;
		*)
			printf '# %s\n' "$line"
			last_line=$line
			;;
		esac
	done < <(
		r=0
		"$@" 2>&1 </dev/null || r=$?
		printf '\n@@kernel-suite-rc %d\n' "$r"
	)
	return "$rc"
}

# --- one VM run ---------------------------------------------------------------

# vm_test MODE PREFIX TIMEOUT [vm-run options] -- COMMAND...
#   MODE tap:   COMMAND prints TAP; its results are renumbered into ours as
#               "PREFIX: description" (directives kept, a Bail out! or a plan
#               that does not match the results fails).
#   MODE plain: COMMAND's output goes to the log; one test "PREFIX" passes on
#               exit 0, is skipped on exit 77 (reason: its last output line).
# Then one test "PREFIX: VM run clean ..." from vm-run's exit status.
vm_test() {
	local mode=$1 prefix=$2 tmo=$3
	shift 3
	local t0=$SECONDS rc=0 line plan="" nres=0 nfail=0 splat="" last=""
	local re_res='^(not )?ok([[:space:]]+[0-9]+)?([[:space:]]*-)?[[:space:]]*(.*)$'
	local slug
	slug=$(printf '%s' "$prefix" | tr -c 'A-Za-z0-9._-' '-' | tr -s '-')
	local vmlog=$logdir/${slug%-}.log
	comment "==== $prefix: kernel/vm-run.sh --timeout $((tmo * scale)) $*"
	comment "serial log: $vmlog"
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ $line == "@@kernel-suite-rc "* ]]; then
			rc=${line#@@kernel-suite-rc }
			continue
		fi
		[ -n "$line" ] || continue
		if [[ $line == *"VM-RUN: KERNEL SPLAT:"* ]]; then
			splat=${line#*VM-RUN: KERNEL SPLAT:}
		fi
		if [ "$mode" = tap ] && [[ $line =~ $re_res ]]; then
			nres=$((nres + 1))
			if [ -n "${BASH_REMATCH[1]}" ]; then
				# a nested "not ok ... # TODO" stays a TODO (XFAIL)
				n=$((n + 1))
				printf 'not ok %d - %s: %s\n' "$n" "$prefix" "${BASH_REMATCH[4]}"
				if ! [[ ${BASH_REMATCH[4]} =~ \#[[:space:]]*[Tt][Oo][Dd][Oo] ]]; then
					failed=$((failed + 1))
					nfail=$((nfail + 1))
				fi
			else
				n=$((n + 1))
				printf 'ok %d - %s: %s\n' "$n" "$prefix" "${BASH_REMATCH[4]}"
			fi
		elif [ "$mode" = tap ] && [[ $line =~ ^1\.\.([0-9]+)(.*)$ ]]; then
			plan=${BASH_REMATCH[1]}
			if [ "$plan" = 0 ]; then
				local why=${BASH_REMATCH[2]}
				why=${why#*[Ss][Kk][Ii][Pp]}
				why=${why#"${why%%[![:space:]]*}"}
				skip "$prefix" "${why:-no tests (plan 1..0)}"
			fi
			comment "$line"
		elif [ "$mode" = tap ] && [[ $line == "Bail out!"* ]]; then
			result not-ok "$prefix: $line"
			nfail=$((nfail + 1))
		else
			case "$line" in
			'#'*) printf '%s\n' "$line" ;;
			*) printf '# %s\n' "$line" ;;
			esac
			# the program's own last line (a skip reason), not vm-run's
			case "$line" in
			VM-RUN:* | vm-guest:*) ;;
			*) last=$line ;;
			esac
		fi
	done < <(
		r=0
		MSHARE_VM_LOG=$vmlog "$vm_run" --timeout "$((tmo * scale))" "$@" 2>&1 </dev/null || r=$?
		printf '\n@@kernel-suite-rc %d\n' "$r"
	)

	if [ "$mode" = tap ]; then
		if [ -n "$plan" ] && [ "$plan" != "$nres" ] && [ "$plan" != 0 ]; then
			result not-ok "$prefix: nested plan 1..$plan but $nres results (crashed or cut short?)"
		elif [ -z "$plan" ] && [ "$nres" = 0 ]; then
			result not-ok "$prefix: produced no TAP at all (exit status $rc)"
		fi
	else
		case "$rc" in
		0) result ok "$prefix" ;;
		77) skip "$prefix" "${last:-exit status 77}" ;;
		124 | 125 | 126) result not-ok "$prefix (did not complete, see below)" ;;
		*) result not-ok "$prefix (exit status $rc)" ;;
		esac
	fi

	local clean="$prefix: VM run clean (no kernel splat, no timeout, guest status received)"
	case "$rc" in
	125) result not-ok "$clean # kernel splat:${splat:- see the log above}" ;;
	124) result not-ok "$clean # timed out after $((tmo * scale)) s" ;;
	126) result not-ok "$clean # no exit status from the guest (boot failure?)" ;;
	2) result not-ok "$clean # vm-run usage error" ;;
	0 | 77) result ok "$clean" ;;
	*)
		if [ "$mode" = tap ] && [ "$nfail" -gt 0 ]; then
			result ok "$clean (exit status $rc: the $nfail failure(s) above)"
		elif [ "$mode" = plain ]; then
			result ok "$clean (exit status $rc: reported above)"
		else
			result not-ok "$clean # exit status $rc but no failed test reported"
		fi
		;;
	esac
	timing "$prefix" "$t0"
}

# --- kernels and programs -------------------------------------------------------

# build_kernel LABEL [--debug]: sets $image; one TAP test.
image=""
build_kernel() {
	local label=$1 t0=$SECONDS rc=0
	shift
	image=""
	if [ ! -x "$build_sh" ]; then
		result not-ok "build $label kernel (kernel/build.sh $*) # kernel/build.sh missing"
		return 1
	fi
	comment "==== building the $label kernel: kernel/build.sh $*"
	run_commented "$build_sh" "$@" || rc=$?
	image=$last_line
	if [ "$rc" != 0 ] || [ ! -f "$image" ]; then
		result not-ok "build $label kernel (kernel/build.sh $*: exit status $rc)"
		image=""
		timing "build $label kernel" "$t0"
		return 1
	fi
	result ok "build $label kernel ($image)"
	timing "build $label kernel" "$t0"
}

mm_bin=""
build_mm() {
	local t0=$SECONDS rc=0
	comment "==== building the mm selftest subset: tests/vm/mm-selftests.sh"
	run_commented "$here/mm-selftests.sh" || rc=$?
	mm_bin=$last_line
	if [ "$rc" != 0 ] || [ ! -d "$mm_bin" ]; then
		result not-ok "build the mm selftest subset from the patched tree (exit status $rc)"
		mm_bin=""
	else
		result ok "build the mm selftest subset from the patched tree ($mm_bin)"
	fi
	timing "build mm selftests" "$t0"
}

# --- the runs ---------------------------------------------------------------------

# run_set KERNEL_LABEL [--debug]: the runs on one kernel.
selftest_root() {
	local label=$1
	shift
	if [ -x "$selftest" ]; then
		# pdpe1gb and hugepagesz=1G: the guest gets a 1 GiB huge page
		# size (none reserved), which CREATE_MAPPING must refuse.  svm:
		# TCG emulates AMD-V, so the guest has /dev/kvm and the
		# secondary-MMU tests run a nested guest.
		MSHARE_VM_CPU=${MSHARE_VM_CPU:-qemu64,+pdpe1gb,+svm} \
		MSHARE_EXPECT_KVM=1 MSHARE_EXPECT_MEMCG=1 \
		MSHARE_EXPECT_HMM=1 MSHARE_EXPECT_FUSE=1 MSHARE_EXPECT_NUMA=1 \
		MSHARE_VM_RW="$wbdir" MSHARE_VM_RW_CACHE=mmap \
		MSHARE_WRITEBACK_DIR="$wbdir" \
		MSHARE_VM_CMDLINE="${MSHARE_VM_CMDLINE:-} hugepagesz=1G" \
			vm_test tap "$label/selftest (root)" 1200 "$@" --hugepages 64 --mem 2048 -- "$selftest"
	else
		result not-ok "$label/selftest (root) # $selftest not built"
	fi
}
selftest_user() {
	local label=$1
	shift
	if [ -x "$selftest" ]; then
		vm_test tap "$label/selftest (nobody)" 1200 "$@" --user nobody --mem 2048 -- "$selftest"
	else
		result not-ok "$label/selftest (nobody) # $selftest not built"
	fi
}
# The rights tests again with page table isolation forced on (QEMU's CPU is
# not flagged for Meltdown, so PTI is off otherwise): an attachment's P4D
# link must carry NX right in both copies of the PGD.  The test checks
# that PTI really is on.
selftest_pti() {
	local label=$1
	shift
	if [ -x "$selftest" ]; then
		MSHARE_VM_CMDLINE="${MSHARE_VM_CMDLINE:+$MSHARE_VM_CMDLINE }pti=on" \
			MSHARE_EXPECT_PTI=1 CK_RUN_CASE=rights \
			MSHARE_VM_RW="$wbdir" MSHARE_VM_RW_CACHE=mmap \
			MSHARE_WRITEBACK_DIR="$wbdir" \
			vm_test tap "$label/selftest rights (root, pti=on)" 600 "$@" --mem 2048 -- "$selftest"
	else
		result not-ok "$label/selftest rights (root, pti=on) # $selftest not built"
	fi
}
# A TAP script of ours run in the VM, or a skip when it is not there.
script_tests() { # script_tests SCRIPT NAME TIMEOUT VM-OPTIONS... -- (label and kernel options follow)
	local script=$1 name=$2 timeout=$3
	shift 3
	local vmopts=()
	while [ "$1" != -- ]; do
		vmopts+=("$1")
		shift
	done
	shift
	local label=$1
	shift
	if [ -f "$script" ]; then
		vm_test tap "$label/$name" "$timeout" "$@" "${vmopts[@]}" -- bash "$script"
	else
		skip "$label/$name" "not present ($script)"
	fi
}
shim_tests() { script_tests "$shimtests" "shim VM tests" 1200 --hugepages 64 --mem 2048 -- "$@"; }
cache_tests() { script_tests "$cachetests" "shim cache VM tests" 600 --mem 2048 -- "$@"; }
tables_tests() { script_tests "$tablestests" "shim kernel-tables VM tests" 600 --mem 2048 -- "$@"; }
rights_tests() { script_tests "$rightstests" "shim kernel-rights VM tests" 600 --mem 2048 -- "$@"; }
mmap_tests() { script_tests "$mmaptests" "shim mmap VM tests" 1200 --hugepages 64 --mem 2048 -- "$@"; }
tools_tests() { script_tests "$toolstests" "tools VM tests" 900 --mem 2048 -- "$@"; }
# sysv only here (about 5 minutes of TCG per mode); the main job runs both.
pg_debian_tests() {
	local label=$1
	shift
	if [ -f "$pgdebiantests" ]; then
		vm_test tap "$label/PostgreSQL, Debian's pg_ctlcluster" 900 "$@" --mem 2048 -- \
			bash "$pgdebiantests" sysv
	else
		skip "$label/PostgreSQL, Debian's pg_ctlcluster" "not present ($pgdebiantests)"
	fi
}
bench_quick() {
	local label=$1
	shift
	if [ -f "$benchquick" ]; then
		vm_test tap "$label/quick benchmark (numbers in the log)" 900 "$@" --hugepages 72 -- \
			bash "$benchquick" --builddir "$top_builddir"
	else
		skip "$label/quick benchmark" "not present ($benchquick)"
	fi
}
# The series must stay checkpatch --strict clean (kernel style standard).
checkpatch_series() {
	local src=${MSHARE_CACHE:-/var/cache/mshare-kernel}/src/linux-source-6.12 p out
	for p in "$top_srcdir"/kernel/patches/*.patch; do
		if out=$(perl "$src/scripts/checkpatch.pl" --strict --no-tree --no-signoff "$p" 2>&1) &&
			grep -q '^total: 0 errors, 0 warnings, 0 checks' <<<"$out"; then
			result ok "checkpatch --strict: ${p##*/}"
		else
			comment "$(grep -E '^(WARNING|ERROR|CHECK|total)' <<<"$out")"
			result not-ok "checkpatch --strict: ${p##*/}"
		fi
	done
}
mm_tests() {
	local label=$1
	shift
	if [ -n "$mm_bin" ]; then
		vm_test tap "$label/mm selftests" 1500 "$@" --hugepages 160 --mem 4096 -- \
			env MSHARE_MM_SKIP="${mm_skip[$label]:-}" bash "$mm_guest" "$mm_bin" "$mm_list"
	else
		result not-ok "$label/mm selftests # not built"
	fi
}
ptdemo_run() {
	local label=$1
	shift
	if [ -x "$ptdemo" ]; then
		vm_test plain "$label/VmPTE evidence: mshare-ptdemo --size 256 --procs 8" 900 \
			"$@" --mem 2048 -- "$ptdemo" --size 256 --procs 8
	else
		result not-ok "$label/VmPTE evidence: mshare-ptdemo # $ptdemo not built"
	fi
}

# Data integrity while reclaim, compaction and migration between the two
# NUMA nodes move and free the region's pages under attached processes on
# both vCPUs: shmem under a memory.high it does not fit in (swapped out and
# in), then a 9p file with cache=mmap, whose pages are written back and
# dropped by memory.reclaim.  On the default kernel a third round has
# transparent huge pages "always" (shmem's too).
torture_run() {
	local label=$1
	shift
	if [ ! -x "$torture" ]; then
		result not-ok "$label/torture: mshare-torture # $torture not built"
		return
	fi
	vm_test plain "$label/torture: mshare-torture --seconds $torture_seconds (shmem, swapping)" \
		$((torture_seconds + 600)) "$@" --mem 1024 -- \
		"$torture" --seconds "$torture_seconds" --workers 4 --size 64 --limit 48
	if [ "$label" = default ]; then
		vm_test plain "$label/torture: mshare-torture --seconds $torture_seconds (shmem, THP always)" \
			$((torture_seconds + 600)) "$@" --mem 1024 -- \
			"$torture" --seconds "$torture_seconds" --workers 4 --size 64 --thp
	fi
	MSHARE_VM_RW="$wbdir" MSHARE_VM_RW_CACHE=mmap \
		vm_test plain "$label/torture: mshare-torture --seconds $torture_seconds (9p file, written back)" \
		$((torture_seconds + 600)) "$@" --mem 1024 -- \
		"$torture" --seconds "$torture_seconds" --workers 4 --size 32 --dir "$wbdir"
}

# Guest commands run with / as their working directory: it exists in the guest
# and is readable by the unprivileged user.
cd /

comment "kernel-suite: top_srcdir=$top_srcdir top_builddir=$top_builddir"
if [ ! -x "$vm_run" ]; then
	comment "kernel/vm-run.sh is missing: every VM run below fails"
fi

if build_kernel default; then
	build_mm
	checkpatch_series
	selftest_root default
	selftest_user default
	selftest_pti default
	shim_tests default
	cache_tests default
	tables_tests default
	rights_tests default
	mmap_tests default
	tools_tests default
	pg_debian_tests default
	torture_run default
	mm_tests default
	ptdemo_run default
	bench_quick default
else
	for t in "selftest (root)" "selftest (nobody)" "selftest rights (root, pti=on)" "shim VM tests" "shim cache VM tests" "shim kernel-tables VM tests" "shim kernel-rights VM tests" "shim mmap VM tests" "tools VM tests" "PostgreSQL, Debian's pg_ctlcluster" "torture" "mm selftests" "VmPTE evidence" "quick benchmark"; do
		skip "default/$t" "the default kernel did not build"
	done
fi

if [ "${MSHARE_VM_DEBUG_KERNEL:-1}" = 0 ]; then
	skip "debug kernel runs" "MSHARE_VM_DEBUG_KERNEL=0"
elif build_kernel debug --debug; then
	[ -n "$mm_bin" ] || build_mm
	selftest_root debug --debug
	selftest_pti debug --debug
	tables_tests debug --debug
	rights_tests debug --debug
	if [ "${MSHARE_VM_DEBUG_FULL:-0}" = 1 ]; then
		selftest_user debug --debug
		shim_tests debug --debug
		cache_tests debug --debug
		mmap_tests debug --debug
	else
		for t in "selftest (nobody)" "shim VM tests" "shim cache VM tests" "shim mmap VM tests"; do
			skip "debug/$t" "run on the default kernel; on the debug kernel only with MSHARE_VM_DEBUG_FULL=1 (about 24 minutes more under TCG, beyond CI's time budget)"
		done
	fi
	torture_run debug --debug
	mm_tests debug --debug
else
	for t in "selftest (root)" "selftest (nobody)" "selftest rights (root, pti=on)" "shim VM tests" "shim cache VM tests" "shim kernel-tables VM tests" "shim kernel-rights VM tests" "shim mmap VM tests" "torture" "mm selftests"; do
		skip "debug/$t" "the debug kernel did not build"
	done
fi

comment "==== timings"
comment "${timings[@]}"
timing "whole VM suite" "$suite_start"
comment "$n tests, $failed failed"
echo "1..$n"
