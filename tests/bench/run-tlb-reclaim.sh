#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reclaim's TLB shootdowns with many attached processes: memory.reclaim of a
# shmem segment that N processes map, plainly (MAP_SHARED) or through an
# msharefs region, in one VM run per guest clock (host time, then the
# instruction clock).  Prints the reclaim's time and the TLB shootdown IPIs
# of both, their ratios, and whether the targets are met: the region sends
# no more IPIs than plain sharing and takes at most 1.2x its time.  Each
# scenario runs with NUMA balancing off and on (2 guest nodes): when it is
# on, it makes a busy plain attacher's PTEs PROT_NONE before and during the
# reclaim (the row's numa_pte_updates columns), which then clears them
# without a flush; off, both modes reclaim the same present PTEs.
#
# Usage: tests/bench/run-tlb-reclaim.sh [OPTIONS]
#   --size MiB       segment size (default 256)
#   --procs N        attached processes (default 256)
#   --smp N          guest CPUs (default 4: the reclaim runs on CPU 0, the
#                    attachers on the others)
#   --reps N         runs of each mode per kind of attacher (default 2; the
#                    table shows the median)
#   --kernel IMAGE   boot IMAGE instead of kernel/build.sh's kernel
#   --clocks LIST    host,icount (default both)
#   --scenarios LIST attachers-pool pairs (default busy-clean,busy-dirty,
#                    faulting-clean,idle-clean): busy attachers keep CPUs
#                    1.. running them, spinning outside the pool; faulting
#                    ones spin on their own page of the pool, which they
#                    fault back in during the reclaim; idle ones sleep; a
#                    clean pool is read-mostly, a dirty one written by the
#                    attachers
#   --numa-balancing LIST  off,on (default both): kernel.numa_balancing
#                    for each scenario
#   --out DIR        results directory (default ./bench-out/tlb-reclaim):
#                    tlb-reclaim.csv, .txt (table), .png, targets.txt, logs
#   --builddir DIR   build tree with tests/bench/tlb-reclaim (default
#                    $top_builddir, else the current directory)
#   --guest          measure on this kernel; print the CSV rows
#   -h, --help       this text
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

usage() { sed -n '3,37p' "$0" | sed 's/^# \{0,1\}//'; }
die() {
	echo "run-tlb-reclaim.sh: $*" >&2
	exit 2
}

size=256 procs=256 smp=4 reps=2 kernel="" clocks=host,icount guest=0
scenarios=busy-clean,busy-dirty,faulting-clean,idle-clean balancing=off,on
out=./bench-out/tlb-reclaim builddir=${top_builddir:-$PWD}
while [ $# -gt 0 ]; do
	case $1 in
	--size | --procs | --smp | --reps | --kernel | --clocks | --scenarios | --numa-balancing | --out | --builddir)
		[ $# -ge 2 ] || die "$1 needs an argument" ;;&
	--size) size=$2; shift ;;
	--procs) procs=$2; shift ;;
	--smp) smp=$2; shift ;;
	--reps) reps=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--clocks) clocks=$2; shift ;;
	--scenarios) scenarios=$2; shift ;;
	--numa-balancing) balancing=$2; shift ;;
	--out) out=$2; shift ;;
	--builddir) builddir=$2; shift ;;
	--guest) guest=1 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option: $1" ;;
	esac
	shift
done
for v in size procs smp reps; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--$v wants a positive number, got '${!v}'"
done
[[ $clocks =~ ^(host|icount)(,(host|icount))*$ ]] || die "--clocks wants host and/or icount, got '$clocks'"
[[ $scenarios =~ ^(busy|faulting|idle)-(clean|dirty)(,(busy|faulting|idle)-(clean|dirty))*$ ]] ||
	die "--scenarios wants busy|faulting|idle-clean|dirty pairs, got '$scenarios'"
[[ $balancing =~ ^(off|on)(,(off|on))?$ ]] || die "--numa-balancing wants off and/or on, got '$balancing'"
builddir=$(cd "$builddir" && pwd)
prog=$builddir/tests/bench/tlb-reclaim
[ -x "$prog" ] || die "$prog not built (make -C $builddir tests/bench/tlb-reclaim)"

# In the guest: both modes take turns, so that drift hits them alike.
measure() {
	local hz scenario attachers pool rep mode nb value nodes knob=/proc/sys/kernel/numa_balancing old
	nodes=(/sys/devices/system/node/node[0-9]*)
	echo "# kernel $(uname -r), $(nproc) CPUs, ${#nodes[@]} NUMA nodes, MemTotal $(awk '/^MemTotal/ {print $2}' /proc/meminfo) kB, SwapTotal $(awk '/^SwapTotal/ {print $2}' /proc/meminfo) kB"
	if [ -w "$knob" ]; then
		old=$(cat "$knob")
		# Put it back however the runs end: --guest may run on a real host
		# shellcheck disable=SC2064 # expanded now: both are local
		trap "echo $(printf %q "$old") >$(printf %q "$knob")" EXIT
	elif [[ $balancing == *on* ]]; then
		echo "# SKIP: no $knob (a kernel without NUMA balancing)"
		return 0
	fi
	hz=$("$prog" --calibrate)
	# busy, faulting: CPUs 1.. always run an attacher; clean: a read-mostly
	# pool, dirty: attachers wrote every page (reclaim flushes before each
	# write-out)
	for nb in ${balancing//,/ }; do
		value=0
		[ "$nb" = off ] || value=1
		# Without the knob there is no NUMA balancing: off
		if [ -w "$knob" ] && ! echo "$value" >"$knob"; then
			echo "run-tlb-reclaim.sh: cannot set $knob to $value" >&2
			return 1
		fi
		for scenario in ${scenarios//,/ }; do
			attachers=${scenario%-*} pool=${scenario#*-}
			for rep in $(seq "$reps"); do
				for mode in plain region; do
					echo "# --- $scenario $mode run $rep, NUMA balancing $nb"
					"$prog" --mode "$mode" --size "$size" --procs "$procs" \
						--attachers "$attachers" --pool "$pool" \
						--tsc-hz "$hz" | sed "/^#/!s/^/row,/"
				done
			done
		done
	done
}

if [ "$guest" = 1 ]; then
	measure
	exit 0
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
csv=$out/tlb-reclaim.csv table=$out/tlb-reclaim.txt png=$out/tlb-reclaim.png
"$prog" --header | sed 's/^/clock,/' >"$csv"
: >"$out/targets.txt"
mem=$((2048 + size * 2))
for clock in ${clocks//,/ }; do
	log=$out/tlb-reclaim-$clock.log
	vm_opts=(--timeout 3600 --smp "$smp" --numa 2 --mem "$mem" --swap $((size * 3)))
	[ -z "$kernel" ] || vm_opts+=(--kernel "$kernel")
	echo "run-tlb-reclaim.sh: $size MiB, $procs attachers, $smp CPUs, clock $clock" >&2
	rc=0
	if [ "$clock" = icount ]; then
		(cd "$builddir" && MSHARE_VM_ICOUNT=2 "$REPO/kernel/vm-run.sh" "${vm_opts[@]}" -- \
			bash "$HERE/run-tlb-reclaim.sh" --guest --size "$size" --procs "$procs" \
			--reps "$reps" --scenarios "$scenarios" --numa-balancing "$balancing" \
			--builddir "$builddir") >"$log" 2>&1 || rc=$?
	else
		(cd "$builddir" && "$REPO/kernel/vm-run.sh" "${vm_opts[@]}" -- \
			bash "$HERE/run-tlb-reclaim.sh" --guest --size "$size" --procs "$procs" \
			--reps "$reps" --scenarios "$scenarios" --numa-balancing "$balancing" \
			--builddir "$builddir") >"$log" 2>&1 || rc=$?
	fi
	if [ $rc -ne 0 ]; then
		tail -n 20 "$log" >&2
		echo "run-tlb-reclaim.sh: the VM run failed (exit $rc); output in $log" >&2
		exit 1
	fi
	grep -q '^# SKIP' "$log" && { grep '^# SKIP' "$log" >&2; exit 1; }
	sed -n "s/^row,/$clock,/p" "$log" >>"$csv"
done

# Medians per clock, kind of attacher and mode; ratios region / plain.
awk -F, -v size="$size" -v procs="$procs" -v smp="$smp" -v targets="$out/targets.txt" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# A median of an even number of runs may end in .5
function count(x) { return x == int(x) ? sprintf("%d", x) : sprintf("%.1f", x) }
NR == 1 { next }
{
	sc = $3 "-" $4 ($13 ? " nb-on" : " nb-off")
	key = $1 SUBSEP sc SUBSEP $2
	secs[key] = secs[key] " " $8; ipis[key] = ipis[key] " " $9
	if (!(key in lo) || $9 + 0 < lo[key]) lo[key] = $9 + 0
	if (!(key in hi) || $9 + 0 > hi[key]) hi[key] = $9 + 0
	kb[key] = kb[key] " " $7; prot[key] = prot[key] " " ($14 + $15)
	swpin[key] = swpin[key] " " ($16 + 0)
	if (!(($1 SUBSEP sc) in seen)) { seen[$1 SUBSEP sc] = 1; order[++n] = $1 SUBSEP sc }
}
END {
	printf "Reclaiming %d MiB of shmem that %d processes map, %d guest CPUs (median of the runs)\n", size, procs, smp
	printf "%-7s %-22s %11s %11s %7s %10s %10s %7s %15s %10s\n", "clock", "attachers", "plain s", "region s", "time x", "plain IPI", "region IPI", "IPI x", "plain PROT_NONE", "reclaimed"
	for (i = 1; i <= n; i++) {
		split(order[i], k, SUBSEP)
		p = k[1] SUBSEP k[2] SUBSEP "plain"; r = k[1] SUBSEP k[2] SUBSEP "region"
		if (!(p in secs) || !(r in secs)) continue
		ps = median(secs[p]); rs = median(secs[r]); pi = median(ipis[p]); ri = median(ipis[r])
		tx = ps > 0 ? rs / ps : 0
		ix = pi > 0 ? ri / pi : (ri > 0 ? 999 : 1)
		printf "%-7s %-22s %11.3f %11.3f %7.2f %10s %10s %7.2f %15s %7s kB\n", k[1], k[2], ps, rs, tx, count(pi), count(ri), ix, count(median(prot[p])), count(median(kb[r]))
		verdict = (tx <= 1.2 && ri <= pi) ? "met" : "missed"
		# The spread of the runs tells a real difference from drift
		spread = sprintf("runs: region %d-%d, plain %d-%d%s", lo[r], hi[r], lo[p], hi[p], (lo[r] <= hi[p] && lo[p] <= hi[r]) ? ", overlapping" : "")
		printf "tlb-reclaim %s clock, %s: region/plain time %.2fx (target <= 1.2x), IPIs %s vs %s (target: no more; %s; plain PTEs made PROT_NONE by NUMA balancing before or during the reclaim: %s; pages faulted back in during it, plain / region: %s / %s): %s\n", k[1], k[2], tx, count(ri), count(pi), spread, count(median(prot[p])), count(median(swpin[p])), count(median(swpin[r])), verdict >> targets
		label = k[1] "-" k[2]; gsub(/ /, "-", label)
		plot = plot sprintf("%s %.3f %.3f\n", label, tx, ix)
	}
	printf "%s", plot > (targets ".plot")
}' "$csv" | tee "$table"
echo
cat "$out/targets.txt"

if command -v gnuplot >/dev/null; then
	term=png
	gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo && term=pngcairo
	if gnuplot <<EOF; then
set terminal $term size 900,500
set output '$png'
set title "Reclaim of $size MiB mapped by $procs processes: msharefs region / plain MAP_SHARED" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'region / plain'
set yrange [0:*]
set key top left
set xtics rotate by -20
set arrow from graph 0, first 1.2 to graph 1, first 1.2 nohead dt 2 lc rgb 'red'
plot '$out/targets.txt.plot' using 2:xtic(1) title 'reclaim time', '' using 3 title 'TLB shootdown IPIs'
EOF
		echo "plot: $png"
	else
		echo "run-tlb-reclaim.sh: gnuplot failed; no plot" >&2
	fi
else
	echo "run-tlb-reclaim.sh: gnuplot not installed; no plot" >&2
fi

exit 0
