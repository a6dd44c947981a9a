#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Extrapolates the measured per-page costs to a big database: page-table
# memory without and with sharing, and the first-touch fault time saved.
#
# Usage: tests/bench/extrapolate.sh --csv bench-out/pt-scaling.csv [OPTIONS]
#        tests/bench/extrapolate.sh --stock-bpp B --shim-bpp B
#               --stock-us US --shim-us US [OPTIONS]
#   --csv FILE          take the costs from run-pt-scaling.sh's CSV (the
#                       largest N measured)
#   --memory-csv FILE   take the page-table costs from this CSV instead (its
#                       largest N: the 1500-process sweep of make
#                       bench-scale), the times still from --csv
#   --stock-bpp B       page-table bytes per 4 KiB page per process, stock
#   --shim-bpp B        page-table bytes per 4 KiB page, once, with the shim
#   --shim-attach-b B   extra page-table bytes per attacher with the shim
#                       (default 0)
#   --stock-us US       later attacher's attach+first-touch time per page, stock
#   --shim-us US        the same with the shim
#   --sga-gb GB         shared memory size in GB of 10^9 bytes (default 300)
#   --procs N           processes attached to all of it (default 1500)
#   -h, --help          this text
# The seeds' case is the default: a 300 GB SGA and 1500 processes.
set -euo pipefail

usage() { sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'; }
die() {
	echo "extrapolate.sh: $*" >&2
	exit 2
}

csv="" memory_csv="" stock_bpp="" shim_bpp="" shim_attach=0 stock_us="" shim_us=""
sga_gb=300 procs=1500
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--csv | --memory-csv | --stock-bpp | --shim-bpp | --shim-attach-b | --stock-us | --shim-us | --sga-gb | --procs)
		[ $# -ge 2 ] || die "$1 needs an argument"
		case $1 in
		--csv) csv=$2 ;;
		--memory-csv) memory_csv=$2 ;;
		--stock-bpp) stock_bpp=$2 ;;
		--shim-bpp) shim_bpp=$2 ;;
		--shim-attach-b) shim_attach=$2 ;;
		--stock-us) stock_us=$2 ;;
		--shim-us) shim_us=$2 ;;
		--sga-gb) sga_gb=$2 ;;
		--procs) procs=$2 ;;
		esac
		shift
		;;
	*) die "unknown option: $1" ;;
	esac
	shift
done

# Per-page costs from a CSV of run-pt-scaling.sh, at its largest N: stock
# bytes per page per process, the shim's one copy (its N=1 figure) and what
# each further attacher added, and the later attachers' time per page.
csv_costs() {
	awk -F, '
	NR == 1 { next }
	{ key = $1 SUBSEP $2; seg[key] = $8; later[key] = $10; pages = $4; size = $3
	  if ($2 + 0 > maxn) maxn = $2 + 0 }
	END {
		N = maxn
		if (!((("stock", N) in seg) && (("shim", N) in seg) && (("shim", 1) in seg)) || N < 2) {
			print "x x x x x missing"
			exit
		}
		attach = (seg["shim", N] - seg["shim", 1]) * 1024 / (N - 1)
		if (attach < 0) attach = 0
		printf "%.4f %.4f %.1f %.4f %.5f measured:_%d_MiB_segment,_N=%d\n", \
			seg["stock", N] * 1024 / (N * pages), seg["shim", 1] * 1024 / pages, attach, \
			later["stock", N] * 1000 / pages, later["shim", N] * 1000 / pages, size, N
	}' "$1"
}

source_note="given on the command line"
if [ -n "$csv" ]; then
	[ -r "$csv" ] || die "cannot read $csv"
	read -r stock_bpp shim_bpp shim_attach stock_us shim_us source_note < <(csv_costs "$csv")
	[ "$source_note" != missing ] || die "$csv lacks the stock/shim rows at N=1 and a larger N"
	source_note=${source_note//_/ }
fi
if [ -n "$memory_csv" ]; then
	[ -n "$csv" ] || die "--memory-csv goes with --csv"
	[ -r "$memory_csv" ] || die "cannot read $memory_csv"
	read -r stock_bpp shim_bpp shim_attach _ _ memory_note < <(csv_costs "$memory_csv")
	[ "$memory_note" != missing ] || die "$memory_csv lacks the stock/shim rows at N=1 and a larger N"
	source_note="page tables ${memory_note//_/ }; times $source_note"
fi
for v in "$stock_bpp" "$shim_bpp" "$shim_attach" "$stock_us" "$shim_us" "$sga_gb" "$procs"; do
	[[ $v =~ ^[0-9]+([.][0-9]+)?$ ]] || die "every cost must be a number (give --csv or all of --stock-bpp --shim-bpp --stock-us --shim-us)"
done

awk -v sbpp="$stock_bpp" -v mbpp="$shim_bpp" -v matt="$shim_attach" \
	-v sus="$stock_us" -v mus="$shim_us" -v gb="$sga_gb" -v procs="$procs" \
	-v note="$source_note" '
function human(b) {
	if (b >= 1e12) return sprintf("%.1f TB", b / 1e12)
	if (b >= 1e9) return sprintf("%.1f GB", b / 1e9)
	if (b >= 1e6) return sprintf("%.1f MB", b / 1e6)
	if (b >= 1e3) return sprintf("%.1f kB", b / 1e3)
	return sprintf("%d B", b)
}
function dur(s) {
	if (s >= 7200) return sprintf("%.1f h", s / 3600)
	if (s >= 120) return sprintf("%.1f min", s / 60)
	return sprintf("%.1f s", s)
}
BEGIN {
	bytes = gb * 1e9
	pages = int(bytes / 4096)
	printf "Extrapolation: %g GB of SysV shared memory (%d pages of 4 KiB), %d processes attached to all of it\n", gb, pages, procs
	printf "Per-page costs (%s):\n", note
	printf "  stock: %.4f B of page tables per page per process (8 B PTE + the PMD/PUD share)\n", sbpp
	printf "  shim:  %.4f B per page, once for all processes (the region'"'"'s tables), + %.0f B per attacher\n", mbpp, matt
	printf "  later attacher, attach + first touch: stock %.3f us/page, shim %.5f us/page\n\n", sus, mus

	stock = pages * sbpp * procs
	shim = pages * mbpp + procs * matt
	printf "Page-table memory\n"
	printf "  without sharing: %d pages x %.4f B x %d processes = %s\n", pages, sbpp, procs, human(stock)
	printf "  with the shim:   %d pages x %.4f B + %d x %.0f B = %s\n", pages, mbpp, procs, matt, human(shim)
	printf "  saved: %s (%.0fx less)\n\n", human(stock - shim), (shim > 0 ? stock / shim : 0)

	later = procs - 1
	tstock = pages * sus / 1e6
	tshim = pages * mus / 1e6
	printf "First touch of the whole area by each of the %d later processes\n", later
	printf "  stock: %d pages x %.3f us = %s per process, x %d = %s of CPU time\n", pages, sus, dur(tstock), later, dur(tstock * later)
	printf "  shim:  %d pages x %.5f us = %s per process, x %d = %s\n", pages, mus, dur(tshim), later, dur(tshim * later)
	printf "  saved: %s of CPU time in page faults (%.0fx faster per process)\n", dur((tstock - tshim) * later), (tshim > 0 ? tstock / tshim : 0)
	printf "  (times are from QEMU TCG, where a fault and a memory access both cost more than on hardware; the memory figures do not depend on it)\n"
}'
