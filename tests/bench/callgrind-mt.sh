#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shim's cost on the multi-threaded unmatched calls (shim-overhead's
# mmap-mt row: MAP_PRIVATE mmap + munmap of 64 KiB in two threads at
# once), counted in instructions by valgrind's callgrind, which repeat
# exactly from run to run however busy the machine is.  Counted in the
# worker thread only (--toggle-collect=mt_worker: its loop is nothing but
# mmap-mt), without the shim (A) and with it (B).  In B the fake msharefs
# (tests/shim/fake-msharefs.so, a tmpfs directory) backs the --hold
# mapping, so every munmap() looks at a table in use, as in a program
# that backs its shared memory; the fake's alignment is 1 GiB because
# valgrind cannot map a 512 GiB attachment.
#
# callgrind counts user-space instructions only: the kernel's work for
# mmap() and munmap() is not in either figure, so the ratio B/A is the
# shim's share of the user-space path, not of the call's time.  Prints
# Ir per mmap+munmap pair for A and B, the difference and the ratio.
#
# Usage: tests/bench/callgrind-mt.sh [--builddir DIR] [--iters N] [--batches B]
set -euo pipefail

builddir=${top_builddir:-$PWD} iters=200 batches=20
while [ $# -gt 0 ]; do
	case $1 in
	--builddir) builddir=$2; shift ;;
	--iters) iters=$2; shift ;;
	--batches) batches=$2; shift ;;
	*) echo "callgrind-mt.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
builddir=$(cd "$builddir" && pwd)
prog=$builddir/tests/bench/shim-overhead
shim=$builddir/shim/.libs/libmshare-shim.so
fake=$builddir/tests/shim/fake-msharefs.so
for f in "$prog" "$shim" "$fake"; do
	[ -e "$f" ] || { echo "callgrind-mt.sh: $f not built" >&2; exit 2; }
done
command -v valgrind >/dev/null || { echo "callgrind-mt.sh: no valgrind" >&2; exit 2; }

work=$(mktemp -d /dev/shm/callgrind-mt.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/mount"
echo 1073741824 >"$work/mount/mshare_info"
chmod 0444 "$work/mount/mshare_info"

# run A|B: prints the worker thread's instruction count.
run() {
	local preload=""

	[ "$1" = B ] && preload="$fake $shim"
	env FAKE_MSHAREFS_DIR="$work/mount" LD_PRELOAD="$preload" \
	    MSHARE_SHIM_MOUNT="$work/mount" MSHARE_SHIM_SHM=all \
	    MSHARE_SHIM_FILES='/nonexistent-mshare-bench/*.none' \
	    MSHARE_SHIM_ANON=256M MSHARE_SHIM_LOG_FILE="$work/shim.log" \
	    valgrind --tool=callgrind --toggle-collect=mt_worker \
	    --callgrind-out-file="$work/$1.out" \
	    "$prog" --iters "$iters" --batches "$batches" --threads 2 \
	    --hold $((256 << 20)) >/dev/null 2>"$work/$1.err"
	awk '/^totals:/ { print $2 }' "$work/$1.out"
}

a=$(run A)
b=$(run B)
# The hold mapping must have been backed in B, or the table is empty.
if ! grep -q 'backed by an msharefs region' "$work/shim.log"; then
	echo "callgrind-mt.sh: the --hold mapping was not backed in B:" >&2
	cat "$work/shim.log" >&2
	exit 1
fi
# The warm-up batch (iters/10 + 1) and the timed ones.
pairs=$(( iters / 10 + 1 + iters * batches ))
awk -v a="$a" -v b="$b" -v n="$pairs" 'BEGIN {
	printf "mmap-mt worker thread, %d mmap+munmap pairs (callgrind, user-space Ir)\n", n
	printf "A no preload: %.1f Ir/pair\n", a / n
	printf "B shim, table in use: %.1f Ir/pair\n", b / n
	printf "B - A: %.1f Ir/pair; B/A: %.3f\n", (b - a) / n, b / a
}'
