#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Page-table memory and attach+first-touch time of a SysV segment versus the
# number of attached processes: stock SysV, SysV with SHM_HUGETLB, and SysV
# under the shim (msharefs), all in one run on the patched kernel.
#
# Usage: tests/bench/run-pt-scaling.sh [OPTIONS]
#   --quick          128 MiB, N = 1,4,16 (default: 256 MiB, N = 1..64)
#   --size MiB       segment size
#   --procs LIST     comma-separated process counts
#   --touch MODE     what the later processes touch: write (every page,
#                    default), read, sparse (one page per 2 MiB: a full set
#                    of PTE pages per stock process without faulting every
#                    page, for sweeps to thousands of processes)
#   --modes LIST     which of stock,hugetlb,shim to run (default all three)
#   --mem MB         guest memory (default: vm-run.sh's)
#   --pt-target X    page-table target at the largest N (default 50: >= 50x
#                    less for the segment than stock; 0 reports the ratio
#                    without a target)
#   --speed-target X later attachers' attach+touch target (default 100;
#                    0 reports the ratio without a target)
#   --out DIR        results directory (default ./bench-out): pt-scaling.csv,
#                    pt-scaling.png, pt-scaling.txt (table), pt-scaling-vm.log
#   --builddir DIR   build tree with tests/bench/pt-scaling and the shim
#                    (default $top_builddir, else the current directory)
#   --timeout SEC    VM time limit (default 3600)
#   --guest          measure on this kernel and print the raw results between
#                    marker lines (what runs inside the VM)
#   --from-log FILE  measure nothing: redo the table, CSV and plot from the
#                    raw output of an earlier run (its pt-scaling-vm.log)
#   -h, --help       this text
#
# On a kernel without msharefs the measurement runs in the VM
# (kernel/vm-run.sh) and the results come back on its stdout; the table,
# CSV and PNG are made on the host. Targets (printed, and appended to
# OUT/targets.txt): >= 50x less page-table memory at the largest N, >= 100x
# faster attach+first touch by the later attachers.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BEGIN_MARK='=== PT-SCALING RESULTS BEGIN ==='
END_MARK='=== PT-SCALING RESULTS END ==='

usage() { sed -n '3,37p' "$0" | sed 's/^# \{0,1\}//'; }
die() {
	echo "run-pt-scaling.sh: $*" >&2
	exit 2
}

size=256 procs=1,2,4,8,16,32,64 out=./bench-out timeout=3600 guest=0 from_log=""
touch=write mem="" pt_target=50 speed_target=100 modes=stock,hugetlb,shim
builddir=${top_builddir:-$PWD}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) size=128 procs=1,4,16 ;;
	--size) [ $# -ge 2 ] || die "$1 needs an argument"; size=$2; shift ;;
	--procs) [ $# -ge 2 ] || die "$1 needs an argument"; procs=$2; shift ;;
	--touch) [ $# -ge 2 ] || die "$1 needs an argument"; touch=$2; shift ;;
	--mem) [ $# -ge 2 ] || die "$1 needs an argument"; mem=$2; shift ;;
	--modes) [ $# -ge 2 ] || die "$1 needs an argument"; modes=$2; shift ;;
	--pt-target) [ $# -ge 2 ] || die "$1 needs an argument"; pt_target=$2; shift ;;
	--speed-target) [ $# -ge 2 ] || die "$1 needs an argument"; speed_target=$2; shift ;;
	--out) [ $# -ge 2 ] || die "$1 needs an argument"; out=$2; shift ;;
	--builddir) [ $# -ge 2 ] || die "$1 needs an argument"; builddir=$2; shift ;;
	--timeout) [ $# -ge 2 ] || die "$1 needs an argument"; timeout=$2; shift ;;
	--guest) guest=1 ;;
	--from-log) [ $# -ge 2 ] || die "$1 needs an argument"; from_log=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option: $1" ;;
	esac
	shift
done
if ! [[ $size =~ ^[0-9]+$ ]] || [ "$size" -eq 0 ]; then
	die "--size wants MiB, got '$size'"
fi
[[ $procs =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--procs wants N,N,..., got '$procs'"
case $touch in write | read | sparse) ;; *) die "--touch wants write, read or sparse, got '$touch'" ;; esac
[ -z "$mem" ] || [[ $mem =~ ^[0-9]+$ ]] || die "--mem wants MB, got '$mem'"
[[ ,$modes, =~ ,stock, && ,$modes, =~ ,shim, && $modes =~ ^(stock|hugetlb|shim)(,(stock|hugetlb|shim))*$ ]] ||
	die "--modes wants stock and shim, and maybe hugetlb (comma-separated), got '$modes'"
[[ $pt_target =~ ^[0-9]+$ ]] || die "--pt-target wants a whole number, got '$pt_target'"
[[ $speed_target =~ ^[0-9]+$ ]] || die "--speed-target wants a whole number, got '$speed_target'"
builddir=$(cd "$builddir" && pwd)
prog=$builddir/tests/bench/pt-scaling
shim=$builddir/shim/.libs/libmshare-shim.so
[ -x "$prog" ] || die "$prog not built (make -C $builddir tests/bench/pt-scaling)"
[ -f "$shim" ] || die "$shim not built (make -C $builddir)"

have_msharefs() { [ -r "${MSHARE_MOUNT:-/sys/fs/mshare}/mshare_info" ]; }

# The measurement itself: the three modes, raw output between the markers.
measure() {
	local mode rc cal hz n
	echo "$BEGIN_MARK"
	echo "# kernel $(uname -r), $(nproc) CPUs, MemTotal $(awk '/^MemTotal/ {print $2}' /proc/meminfo) kB, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
	if [ -n "${MSHARE_VM_ICOUNT:-}" ]; then
		echo "# clock: instructions (QEMU -icount shift=$MSHARE_VM_ICOUNT: $((1 << MSHARE_VM_ICOUNT)) ns per guest instruction)"
	else
		echo "# clock: host time"
	fi
	# One clock calibration for all three modes, so their times compare.
	cal=$("$prog" --calibrate)
	grep '^#' <<<"$cal" || true
	hz=$(tail -n 1 <<<"$cal")
	"$prog" --warmup "${MSHARE_BENCH_WARMUP_MIB:-1536}" || true
	# The modes take turns at every N, so that a change in the machine's
	# load hits them alike and the ratios at one N compare like with like.
	for n in ${procs//,/ }; do
		for mode in ${modes//,/ }; do
			echo "# --- mode $mode procs $n"
			rc=0
			if [ "$mode" = shim ]; then
				LD_PRELOAD=$shim MSHARE_SHIM_SHM=all \
					MSHARE_SHIM_MIN_SIZE=${MSHARE_SHIM_MIN_SIZE:-${size}M} \
					MSHARE_SHIM_MODE=strict \
					"$prog" --mode "$mode" --size "$size" --procs "$n" --touch "$touch" --tsc-hz "$hz" || rc=$?
			else
				"$prog" --mode "$mode" --size "$size" --procs "$n" --touch "$touch" --tsc-hz "$hz" || rc=$?
			fi
			echo "# --- mode $mode procs $n exit $rc"
		done
	done
	echo "$END_MARK"
}

if [ "$guest" = 1 ]; then
	have_msharefs || echo "# note: no msharefs here; the shim mode will skip"
	measure
	exit 0
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/pt-scaling-vm.log
csv=$out/pt-scaling.csv
table=$out/pt-scaling.txt
png=$out/pt-scaling.png

# Huge pages for the SHM_HUGETLB mode: the segment plus a little slack.
hugepages=0
[[ ,$modes, == *,hugetlb,* ]] && hugepages=$(((size + 1) / 2 + 8))
if [ -n "$from_log" ]; then
	[ -r "$from_log" ] || die "cannot read $from_log"
	if [ "$(readlink -f "$from_log")" != "$(readlink -f "$log")" ]; then
		cp "$from_log" "$log"
	fi
	size=$(sed -n 's/^# pt-scaling mode=[a-z]* size=\([0-9]*\) MiB.*/\1/p' "$log" | head -n 1)
	[ -n "$size" ] || die "$from_log holds no pt-scaling results"
	touch=$(sed -n 's/^# pt-scaling mode=.* touch=\([a-z]*\) .*/\1/p' "$log" | head -n 1)
	touch=${touch:-write}
elif have_msharefs; then
	echo "run-pt-scaling.sh: msharefs is here; measuring on this kernel" >&2
	measure | tee "$log"
else
	echo "run-pt-scaling.sh: measuring in the VM ($size MiB, N = $procs, touch $touch, $hugepages huge pages reserved)" >&2
	rc=0
	vm_opts=(--timeout "$timeout" --hugepages "$hugepages")
	[ -z "$mem" ] || vm_opts+=(--mem "$mem")
	(cd "$builddir" && "$REPO/kernel/vm-run.sh" "${vm_opts[@]}" \
		-- bash "$HERE/run-pt-scaling.sh" --guest --size "$size" \
		--procs "$procs" --touch "$touch" --modes "$modes" \
		--builddir "$builddir") \
		>"$log" || rc=$?
	if [ $rc -ne 0 ]; then
		tail -n 30 "$log" >&2
		echo "run-pt-scaling.sh: the VM run failed (exit $rc); output in $log" >&2
		exit 1
	fi
fi

# The raw results, then the CSV (one header, rows of every mode).
sed -n "/^$BEGIN_MARK\$/,/^$END_MARK\$/p" "$log" >"$out/pt-scaling.raw"
grep -q "^$END_MARK\$" "$out/pt-scaling.raw" ||
	{ echo "run-pt-scaling.sh: no results in $log" >&2; exit 1; }
{
	grep -m1 '^mode,procs,' "$out/pt-scaling.raw"
	grep -E '^(stock|hugetlb|shim),' "$out/pt-scaling.raw"
} >"$csv"
grep -E '^# (SKIP|--- mode .* exit [^0])' "$out/pt-scaling.raw" | sort -u >&2 || true
grep -q '^shim,' "$csv" || { echo "run-pt-scaling.sh: no shim results (see $log)" >&2; exit 1; }
grep -q '^stock,' "$csv" || { echo "run-pt-scaling.sh: no stock results (see $log)" >&2; exit 1; }

# Instruction-count time or host time (older logs have no clock line).
clock=$(sed -n 's/^# clock: //p' "$out/pt-scaling.raw" | head -n 1)
clock=${clock:-host time}

# Table and ratios.
case $touch in
sparse) touch_text="each touches one page per 2 MiB (a whole set of PTE pages)" ;;
read) touch_text="the first writes every page, each later one reads every page" ;;
*) touch_text="each writes every page" ;;
esac
awk -F, -v size="$size" -v clock="$clock" -v touch_text="$touch_text" '
NR == 1 { next }
{
	key = $1 SUBSEP $2
	seg[key] = $8; vmpte[key] = $5; first[key] = $9; later[key] = $10
	lfaults[key] = $12; pages = $4; own[key] = $7
	if (!($2 in seen)) { seen[$2] = 1; ns[++n] = $2 }
	have[$1] = 1
}
function kb(v) { return v == "" ? "-" : sprintf("%d", v) }
function ms(v) { return v == "" ? "-" : sprintf("%.1f", v) }
function ratio(a, b) { return (a == "" || b == "" || b <= 0) ? "-" : sprintf("%.1fx", a / b) }
END {
	printf "Page-table scaling: SysV segment of %d MiB (%d pages of 4 KiB), each process shmget+shmat by key; %s\n", size, pages, touch_text
	printf "segment page tables = growth of PageTables (/proc/meminfo) minus the processes'"'"' own tables\n"
	printf "times: guest clock = %s\n\n", clock
	printf "%5s | %11s %11s %11s | %11s %11s | %9s | %10s %10s %10s | %8s\n", \
		"", "segment", "page tables", "(kB)", "summed VmPTE", "growth (kB)", "PT ratio", \
		"later", "attach+touch", "(ms)", "touch"
	printf "%5s | %11s %11s %11s | %11s %11s | %9s | %10s %10s %10s | %8s\n", \
		"N", "stock", "hugetlb", "shim", "stock", "shim", "stock/shim", \
		"stock", "hugetlb", "shim", "ratio"
	for (i = 1; i <= n; i++) {
		N = ns[i]
		printf "%5d | %11s %11s %11s | %11s %11s | %9s | %10s %10s %10s | %8s\n", N, \
			kb(seg["stock", N]), kb(seg["hugetlb", N]), kb(seg["shim", N]), \
			kb(vmpte["stock", N]), kb(vmpte["shim", N]), \
			ratio(seg["stock", N], seg["shim", N]), \
			(N > 1 ? ms(later["stock", N]) : "-"), (N > 1 ? ms(later["hugetlb", N]) : "-"), \
			(N > 1 ? ms(later["shim", N]) : "-"), \
			(N > 1 ? ratio(later["stock", N], later["shim", N]) : "-")
	}
	printf "\nFirst attacher (attach + first touch, ms), faults per later attacher (median), and the processes'"'"' own page tables (summed VmPTE before attaching, kB; not in the segment'"'"'s figure):\n"
	printf "%5s | %10s %10s %10s | %10s %10s %10s | %10s %10s\n", "N", "stock", "hugetlb", "shim", "stock", "hugetlb", "shim", "own, stock", "own, shim"
	for (i = 1; i <= n; i++) {
		N = ns[i]
		printf "%5d | %10s %10s %10s | %10s %10s %10s | %10s %10s\n", N, \
			ms(first["stock", N]), ms(first["hugetlb", N]), ms(first["shim", N]), \
			(N > 1 ? kb(lfaults["stock", N]) : "-"), (N > 1 ? kb(lfaults["hugetlb", N]) : "-"), \
			(N > 1 ? kb(lfaults["shim", N]) : "-"), kb(own["stock", N]), kb(own["shim", N])
	}
	if (!have["hugetlb"])
		printf "\n(hugetlb: not measured in this run; see above for a reason)\n"
}' "$csv" | tee "$table"

# Targets, at the largest N measured.
stride=1
[ "$touch" = sparse ] && stride=512
targets=$(awk -F, -v clock="$clock" -v ptt="$pt_target" -v spt="$speed_target" -v stride="$stride" '
NR == 1 { next }
{ key = $1 SUBSEP $2; seg[key] = $8; later[key] = $10; lf[key] = $12; pages = $4
  touched = int(($4 + stride - 1) / stride)
  att[key] = $14; rt[key] = $15
  if ($2 + 0 > maxn) maxn = $2 + 0 }
END {
	N = maxn
	rmin = 1e18; rmax = 0
	for (k in later) {
		split(k, kk, SUBSEP)
		if (kk[1] != "shim" || kk[2] + 0 < 2 || later[k] <= 0) continue
		q = later["stock", kk[2]] / later[k]
		if (q < rmin) rmin = q
		if (q > rmax) rmax = q
	}
	s = seg["stock", N]; m = seg["shim", N]
	r = m > 0 ? s / m : 0
	if (ptt > 0)
		printf "page tables at N=%d: stock %d kB, shim %d kB -> %.1fx less (target >= %dx): %s\n", \
			N, s, m, r, ptt, (r >= ptt ? "MET" : "MISSED")
	else
		printf "page tables at N=%d: stock %d kB, shim %d kB -> %.1fx less (no target)\n", N, s, m, r
	if (r < ptt)
		printf "  why: the shim pays once for the region'"'"'s own tables (%d kB for %d pages, the same as one stock process) plus %.1f kB per attacher; %d processes cannot give more than about %dx over stock'"'"'s one copy per process\n", \
			seg["shim", 1], pages, (N > 1 ? (m - seg["shim", 1]) / (N - 1) : 0), N, N
	if (N > 1) {
		a = later["stock", N]; b = later["shim", N]
		t = b > 0 ? a / b : 0
		if (spt > 0)
			printf "later attachers at N=%d: stock %.1f ms, shim %.1f ms (median attach + touch) -> %.1fx faster (target >= %dx): %s\n", \
				N, a, b, t, spt, (t >= spt ? "MET" : "MISSED")
		else
			printf "later attachers at N=%d: stock %.1f ms, shim %.1f ms (median attach + touch) -> %.1fx faster (no target)\n", \
				N, a, b, t
		printf "  faults per later attacher: stock %d, shim %d (%.0fx fewer); per page touched: stock %.2f us, shim %.3f us\n", \
			lf["stock", N], lf["shim", N], (lf["shim", N] > 0 ? lf["stock", N] / lf["shim", N] : 0), \
			a * 1000 / touched, b * 1000 / touched
		printf "  shim later attacher = attach %.1f ms + touch %.1f ms; touching everything again once mapped takes %.1f ms (stock %.1f ms)\n", \
			att["shim", N], b - att["shim", N], rt["shim", N], rt["stock", N]
		hf = later["hugetlb", N]
		printf "  range of the ratio over N = 2..%d: %.1fx .. %.1fx (guest clock: %s; each N ran the modes back to back)\n", \
			N, rmin, rmax, clock
		if (clock ~ /^instructions/)
			printf "  clock: times count guest instructions, so the kernel work a fault costs is all in, but a TLB refill costs nothing (QEMU does it outside the guest); on hardware each first access costs a page walk, and the host-clock run, where QEMU'"'"'s software refill is slower than a hardware walk, bounds the ratio from the other side\n"
		if (spt > 0 && t < spt) {
			printf "  why: the shim removes the faults (%d instead of %d) but not the first access: a later attacher still touches %d pages for the first time in its own address space, and under QEMU TCG each such access costs a software TLB refill (QEMU walks the guest page tables), %.3f us/page here", \
				lf["shim", N], lf["stock", N], touched, (b - att["shim", N]) * 1000 / touched
			if (hf > 0)
				printf "; SHM_HUGETLB'"'"'s later attachers, with only %d faults, take about as long (%.1f ms)", lf["hugetlb", N], hf
			printf ". Touching the same pages again once they are in the TLB takes %.1f ms. So with every page touched, stock/shim is bounded by stock'"'"'s fault cost over the TLB-refill cost (%.0fx at most here, using the shim'"'"'s own touch time); the per-fault saving itself is %d faults to %d.\n", \
				rt["shim", N], (b - att["shim", N] > 0 ? a / (b - att["shim", N]) : 0), lf["stock", N], lf["shim", N]
		}
	}
}' "$csv")
echo
echo "$targets"
echo "$targets" >>"$out/targets.txt"

# The plot: page-table bytes and later-attacher time versus N.
if command -v gnuplot >/dev/null; then
	term=png
	# SHM_HUGETLB often needs no new page-table page at all (its PMD
	# entries fit in a table the process already has): 0 has no place on
	# a log scale, so say so on the plot.
	hugetlb_label=""
	if grep -q '^hugetlb,' "$csv"; then
		hugetlb_label="set label 1 'SHM\\_HUGETLB: 0 or one 4 kB PMD page per process (ASLR decides' at graph 0.03, graph 0.10 font ',9'
set label 2 'whether its entries fit a table it already has); 0 is off this log scale' at graph 0.03, graph 0.05 font ',9'"
	fi
	gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo && term=pngcairo
	if gnuplot <<EOF; then
set terminal $term size 1280,560
set output '$png'
set datafile separator ','
set multiplot layout 1,2 title 'SysV segment of $size MiB: N processes attach it; $touch_text'
set logscale xy
set key top left
set grid
set xlabel 'processes attached (N)'
set ylabel 'page-table memory for the segment (bytes)'
set format y '%.0s %cB'
set xtics ($(tail -n +2 "$csv" | cut -d, -f2 | sort -nu | paste -sd,)) rotate by -45
set xrange [0.8:$(tail -n +2 "$csv" | cut -d, -f2 | sort -n | tail -n 1) * 1.4]
$hugetlb_label
plot '< grep ^stock, "$csv"' using 2:(\$8 > 0 ? \$8 * 1024 : NaN) with linespoints lw 2 title 'stock SysV', \
     '< grep ^hugetlb, "$csv"' using 2:(\$8 > 0 ? \$8 * 1024 : NaN) with linespoints lw 2 title 'SysV SHM\_HUGETLB', \
     '< grep ^shim, "$csv"' using 2:(\$8 > 0 ? \$8 * 1024 : NaN) with linespoints lw 2 title 'SysV + shim (msharefs)'
set ylabel 'later attachers: shmget+shmat+touch (ms, median)'
set format y '%g'
unset label 1
unset label 2
set key center right
plot '< grep ^stock, "$csv"' using 2:((\$2 > 1 && \$10 > 0) ? \$10 : NaN) with linespoints lw 2 title 'stock SysV', \
     '< grep ^hugetlb, "$csv"' using 2:((\$2 > 1 && \$10 > 0) ? \$10 : NaN) with linespoints lw 2 title 'SysV SHM\_HUGETLB', \
     '< grep ^shim, "$csv"' using 2:((\$2 > 1 && \$10 > 0) ? \$10 : NaN) with linespoints lw 2 title 'SysV + shim (msharefs)'
unset multiplot
EOF
		echo "plot: $png"
	else
		echo "run-pt-scaling.sh: gnuplot failed; no plot" >&2
	fi
else
	echo "run-pt-scaling.sh: gnuplot not installed; no plot" >&2
fi
echo "results: $csv, $table, raw output $log"
