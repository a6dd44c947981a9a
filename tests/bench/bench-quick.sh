#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The small benchmark run for CI, as TAP. Measures page-table scaling (stock
# SysV, SHM_HUGETLB, SysV under the shim) for a 128 MiB segment with N = 1,4,16
# and the shim's overhead on unmatched calls (3 short A/B rounds). A test
# passes when its measurement ran (and, for the shim, when every attacher's
# /proc/PID/maps showed an msharefs region); the numbers are TAP comments.
# No performance threshold is asserted: the full sweep (make bench) reports
# the targets.
#
# Usage: tests/bench/bench-quick.sh [--builddir DIR]
#   DIR defaults to $top_builddir, else the current directory.
# On the patched kernel (msharefs mounted) it measures here; elsewhere it
# runs itself in the VM (kernel/vm-run.sh --hugepages 72). In the VM suite:
#   kernel/vm-run.sh --hugepages 72 --timeout 900 -- \
#       bash SRCDIR/tests/bench/bench-quick.sh --builddir BUILDDIR
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SIZE=128
PROCS=1,4,16

builddir=${top_builddir:-$PWD}
while [ $# -gt 0 ]; do
	case $1 in
	--builddir)
		[ $# -ge 2 ] || { echo "bench-quick.sh: --builddir needs an argument" >&2; exit 2; }
		builddir=$2
		shift
		;;
	-h | --help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-quick.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
builddir=$(cd "$builddir" && pwd)

if [ ! -r "${MSHARE_MOUNT:-/sys/fs/mshare}/mshare_info" ]; then
	# Not on the patched kernel: run this script in the VM.
	cd "$builddir"
	exec "$REPO/kernel/vm-run.sh" --hugepages $((SIZE / 2 + 8)) --timeout 900 -- \
		bash "$HERE/bench-quick.sh" --builddir "$builddir"
fi

echo "1..5"
n=0 failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $*"
}
comment() { sed 's/^/# /'; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-quick.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1-3: page-table scaling, one raw run, a test per mode.
rc=0
bash "$HERE/run-pt-scaling.sh" --guest --size "$SIZE" --procs "$PROCS" \
	--builddir "$builddir" >"$work/pt.raw" 2>"$work/pt.err" || rc=$?
comment <"$work/pt.err"
for mode in stock hugetlb shim; do
	rows=$(grep -c "^$mode," "$work/pt.raw" || true)
	# One exit status per N: all 0, or 77 (skip), else a failure.
	status=$(sed -n "s/^# --- mode $mode procs [0-9]* exit \([0-9]*\)\$/\1/p" "$work/pt.raw" | sort -u | tr '\n' ' ')
	status=${status% }
	what="pt-scaling $mode: $SIZE MiB, N = $PROCS"
	[ "$mode" = shim ] && what="$what, every attachment shares page tables"
	if [ "$rc" -eq 0 ] && [ "$status" = 0 ] &&
		[ "$rows" -eq $(($(tr -cd , <<<"$PROCS" | wc -c) + 1)) ]; then
		ok "$what"
		{ grep -m1 '^mode,' "$work/pt.raw"; grep "^$mode," "$work/pt.raw"; } | comment
	elif [ "$status" = 77 ]; then
		reason=$(grep -m1 "^# SKIP $mode" "$work/pt.raw" | sed "s/^# SKIP $mode: //")
		ok "$what # SKIP ${reason:-cannot run here}"
	else
		not_ok "$what (exit ${status:-none}, $rows rows)"
		sed -n "/^# --- mode $mode procs [0-9]*\$/,/^# --- mode $mode procs [0-9]* exit/p" "$work/pt.raw" | comment
	fi
done

# 4: the ratios, as comments (no threshold in CI).
if grep -q '^stock,' "$work/pt.raw" && grep -q '^shim,' "$work/pt.raw"; then
	ok "pt-scaling ratios computed"
	awk -F, '
	$1 == "stock" || $1 == "shim" { seg[$1, $2] = $8; later[$1, $2] = $10; ns[$2] = 1 }
	END {
		for (N in ns) {
			r = seg["shim", N] > 0 ? sprintf("%.1fx", seg["stock", N] / seg["shim", N]) : "n/a"
			t = (N + 0 > 1 && later["shim", N] > 0) ? sprintf("%.1fx", later["stock", N] / later["shim", N]) : "n/a"
			printf "N=%d: page tables stock/shim %s, later attach+touch stock/shim %s\n", N, r, t
		}
	}' "$work/pt.raw" | sort -t= -k2 -n | comment
else
	not_ok "pt-scaling ratios computed (stock or shim rows missing)"
fi

# 5: overhead of unmatched calls (TCG timing: informative only).
rc=0
bash "$HERE/run-shim-overhead.sh" --quick --builddir "$builddir" \
	--out "$work/overhead" >"$work/ov.out" 2>&1 || rc=$?
if [ $rc -eq 0 ]; then
	ok "shim-overhead: unmatched calls with and without the shim"
else
	not_ok "shim-overhead (exit $rc)"
fi
comment <"$work/ov.out"
exit $failed
