#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What the shim costs on calls it does not back: runs tests/bench/shim-overhead
# without LD_PRELOAD (A) and with the shim preloaded and configured (B),
# alternating A/B and B/A for several rounds, and prints per-call ns and the
# B/A ratio as the median over the rounds' pairs. Runs on the host (no VM).
#
# Usage: tests/bench/run-shim-overhead.sh [OPTIONS]
#   --rounds R       A/B pairs (default 9)
#   --iters N        calls per batch (default 200)
#   --batches B      batches per run; a run's figure is its fastest batch
#                    (default 100: short batches, so that some escape
#                    the other work on the machine)
#   --quick          3 rounds of 20 batches of 200
#   --out DIR        results directory (default ./bench-out): shim-overhead.csv
#   --builddir DIR   build tree (default $top_builddir, else the current dir)
#   --label TEXT     where this ran, for the target lines (default: "host"
#                    or "msharefs kernel", whichever this is)
#   -h, --help       this text
#
# B's configuration: MSHARE_SHIM_SHM=all, MSHARE_SHIM_MIN_SIZE unset (64M,
# the 64 KiB segments stay below it), MSHARE_SHIM_FILES set to a pattern no
# file matches (for the file interposition once the shim has it),
# MSHARE_SHIM_ANON=256M with one 256 MiB anonymous MAP_SHARED mapping held
# for the whole run (--hold, in A and B alike): where msharefs exists it is
# backed, so munmap() and the other calls of mmap-anon and mmap-mt (two
# threads at once) run with a backed table, as in a program that backs its
# shared memory.
# Target (printed, and appended to OUT/targets.txt): <= 2 % overhead.
# Where msharefs is missing (the host) the shim stops early on some paths
# that do more work on the patched kernel; with mshare_generation (patch
# 0018) it skips the lookups for segments it knows to be unbacked. So run
# it in the VM too:
#   kernel/vm-run.sh -- bash tests/bench/run-shim-overhead.sh --out /tmp/ov
set -euo pipefail


usage() { sed -n '3,29p' "$0" | sed 's/^# \{0,1\}//'; }
die() {
	echo "run-shim-overhead.sh: $*" >&2
	exit 2
}

rounds=9 iters=200 batches=100 out=./bench-out label=""
builddir=${top_builddir:-$PWD}
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) [ $# -ge 2 ] || die "$1 needs an argument"; rounds=$2; shift ;;
	--iters) [ $# -ge 2 ] || die "$1 needs an argument"; iters=$2; shift ;;
	--batches) [ $# -ge 2 ] || die "$1 needs an argument"; batches=$2; shift ;;
	--quick) rounds=3 iters=200 batches=20 ;;
	--out) [ $# -ge 2 ] || die "$1 needs an argument"; out=$2; shift ;;
	--builddir) [ $# -ge 2 ] || die "$1 needs an argument"; builddir=$2; shift ;;
	--label) [ $# -ge 2 ] || die "$1 needs an argument"; label=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option: $1" ;;
	esac
	shift
done
for v in "$rounds" "$iters" "$batches"; do
	if ! [[ $v =~ ^[0-9]+$ ]] || [ "$v" -eq 0 ]; then
		die "--rounds, --iters and --batches want positive numbers"
	fi
done
builddir=$(cd "$builddir" && pwd)
prog=$builddir/tests/bench/shim-overhead
shim=$builddir/shim/.libs/libmshare-shim.so
[ -x "$prog" ] || die "$prog not built (make -C $builddir tests/bench/shim-overhead)"
[ -f "$shim" ] || die "$shim not built (make -C $builddir)"
if [ -z "$label" ]; then
	if [ -r "${MSHARE_MOUNT:-/sys/fs/mshare}/mshare_info" ]; then
		label="msharefs kernel $(uname -r)"
	else
		label="host without msharefs"
	fi
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
csv=$out/shim-overhead.csv
log=$out/shim-overhead.log
: >"$log"

# One TSC calibration (where the VM's clock is coarse) for every run.
hz=$("$prog" --calibrate | tail -n 1)
run_plain() {
	env -u LD_PRELOAD "$prog" --iters "$iters" --batches "$batches" --tsc-hz "$hz" \
		--hold $((256 << 20))
}
run_shim() {
	env -u MSHARE_SHIM_MIN_SIZE LD_PRELOAD="$shim" MSHARE_SHIM_SHM=all \
		MSHARE_SHIM_FILES='/nonexistent-mshare-bench/*.none' \
		MSHARE_SHIM_ANON=256M MSHARE_SHIM_LOG_FILE="$log" \
		"$prog" --iters "$iters" --batches "$batches" --tsc-hz "$hz" \
		--hold $((256 << 20))
}

echo "shim-overhead ($label): $rounds rounds of A (no preload) and B (shim preloaded), $batches batches of $iters calls each" >&2
echo "round,variant,op,provider,iters,batches,min_ns,median_ns" >"$csv"
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then order="plain shim"; else order="shim plain"; fi
	for variant in $order; do
		"run_$variant" | grep -v '^#' | tail -n +2 | sed "s/^/$r,$variant,/" >>"$csv"
	done
done

# Providers: in B the SysV calls must come from the shim, or nothing was
# measured.
if ! grep -q '^[0-9]*,shim,sysv,shim,' "$csv"; then
	echo "run-shim-overhead.sh: the shim was not in the path of shmget() under LD_PRELOAD (see $csv)" >&2
	exit 1
fi

# With mshare_generation the shim remembers segments it knows to be
# unbacked and skips their lookups; without it every shmat looks up.
generation=0
[ -r "${MSHARE_MOUNT:-/sys/fs/mshare}/mshare_generation" ] && generation=1
report=$(awk -F, -v label="$label" -v generation="$generation" '
NR == 1 { next }
{
	k = $3
	if (!(k in seen)) { seen[k] = 1; ops[++n] = k }
	if ($2 == "plain") a[k, $1] = $7; else { b[k, $1] = $7; prov[k] = $4 }
	if ($1 + 0 > rounds) rounds = $1 + 0
}
function med(arr, cnt,   i, j, t) {
	for (i = 2; i <= cnt; i++)
		for (j = i; j > 1 && arr[j - 1] > arr[j]; j--) { t = arr[j]; arr[j] = arr[j - 1]; arr[j - 1] = t }
	return cnt % 2 ? arr[(cnt + 1) / 2] : (arr[cnt / 2] + arr[cnt / 2 + 1]) / 2
}
END {
	printf "%-10s %-9s %12s %12s %9s %12s %9s\n", "call", "B via", "A ns/iter", "B ns/iter", "B-A ns", "B/A (median", "of pairs)"
	for (i = 1; i <= n; i++) {
		k = ops[i]
		delete ra; delete rb; delete rr
		for (r = 1; r <= rounds; r++) { ra[r] = a[k, r]; rb[r] = b[k, r]; rr[r] = b[k, r] / a[k, r] }
		ma = med(ra, rounds); mb = med(rb, rounds); mr = med(rr, rounds)
		printf "%-10s %-9s %12.1f %12.1f %9.1f %12.4f %+8.2f%%\n", k, prov[k], ma, mb, mb - ma, mr, (mr - 1) * 100
		ratio[k] = mr
	}
	printf "(one iteration: mmap-anon and mmap-file = mmap + munmap; sysv = shmget + 2 shmctl; shmat = shmat + shmdt; mmap-mt = mmap-anon in 2 threads at once)\n"
	print "TARGETS"
	for (i = 1; i <= n; i++) {
		k = ops[i]
		note = ""
		if (prov[k] != "shim")
			note = " (the shim does not interpose this call yet: B measures only the cost of having it loaded)"
		if (k == "shmat" && !generation)
			note = note " (informational: without mshare_generation, shmat of an unbacked segment costs the region lookup, an IPC_STAT and an open(), by design)"
		printf "unmatched %s [%s]: %+.2f%% (target <= 2%%): %s%s\n", k, label, (ratio[k] - 1) * 100, \
			((ratio[k] - 1) * 100 <= 2 ? "MET" : "MISSED"), note
	}
}' "$csv")
sed '/^TARGETS$/,$d' <<<"$report"
targets=$(sed '1,/^TARGETS$/d' <<<"$report")
echo
echo "$targets"
echo "$targets" >>"$out/targets.txt"
if ! grep -q ',shim,mmap-anon,shim,' "$csv"; then
	echo "note: this shim build does not export mmap(); the mmap rows show the cost of the preload alone"
fi
echo "results: $csv (per round; figures are each run's fastest batch)"
