#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the subset of the kernel's tools/testing/selftests/mm listed in
# tests/vm/mm-selftests.list from the patched tree that kernel/build.sh
# unpacked, statically linked (the guest runs the host's root file system, but
# static binaries do not care about it), with the uAPI headers of that tree.
#
# usage: tests/vm/mm-selftests.sh
# Prints the directory holding the programs as its last line.
#
# Environment:
#   MSHARE_CACHE   kernel work dir (default /var/cache/mshare-kernel)
#   MSHARE_KSRC    patched source tree (default $MSHARE_CACHE/src/linux-source-6.12)
# Output: $MSHARE_CACHE/mm-selftests/{headers,bin,build.log}. Rebuilt only
# when the tree, the list or this script changed.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
list=$here/mm-selftests.list
cache=${MSHARE_CACHE:-/var/cache/mshare-kernel}
src=${MSHARE_KSRC:-$cache/src/linux-source-6.12}
out=$cache/mm-selftests
bin=$out/bin
hdr=$out/headers
log=$out/build.log

die() {
	echo "mm-selftests.sh: ERROR: $*" >&2
	exit 1
}

[ -d "$src/tools/testing/selftests/mm" ] ||
	die "no kernel tree at $src (run kernel/build.sh first)"
[ -r "$list" ] || die "missing $list"

mkdir -p "$out"
# kernel/build.sh re-creates the source tree when the patch series changes:
# hold its lock while reading the tree.
exec 8>"$cache/build.lock"
if ! flock -n 8; then
	echo "mm-selftests.sh: waiting for a kernel build (lock $cache/build.lock)"
	flock 8
fi

mapfile -t progs < <(awk '$1 !~ /^(#|$)/ { sub(/^[!~]+/, "", $1); print $1 }' "$list")
[ "${#progs[@]}" -gt 0 ] || die "empty list $list"

# What the binaries depend on: the uAPI headers and selftest sources of the
# tree (names, sizes, mtimes: build.sh re-creates the tree when the series
# changes), the list and this script.
stamp=$(
	{
		find "$src/include/uapi" "$src/arch/x86/include/uapi" \
			"$src/tools/testing/selftests/mm" "$src/tools/testing/selftests/kselftest.h" \
			"$src/mm/gup_test.h" -type f ! -name 'local_config.*' \
			-printf '%P %s %T@\n' 2>/dev/null | sort
		cat "$list" "${BASH_SOURCE[0]}"
	} | sha256sum | cut -d' ' -f1
)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then
	all=1
	for p in "${progs[@]}"; do
		[ -x "$bin/$p" ] || all=0
	done
	if [ "$all" = 1 ]; then
		echo "mm-selftests.sh: up to date (${#progs[@]} programs)"
		echo "$bin"
		exit 0
	fi
fi

rm -f "$out/stamp"
: >"$log"
t0=$(date +%s)

# The uAPI headers of the patched tree. Out of tree, so build.sh's own
# O= build dirs and the source tree stay as they are; needs no .config.
if ! make -s -C "$src" O="$hdr" ARCH=x86_64 headers >>"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die "make headers failed (log: $log)"
fi

rm -rf "$bin"
mkdir -p "$bin"
targets=()
for p in "${progs[@]}"; do
	targets+=("$bin/$p")
done
# The selftests Makefile builds only what is asked for by full path.
if ! make -C "$src/tools/testing/selftests/mm" -j"$(nproc)" \
	OUTPUT="$bin" KHDR_INCLUDES="-isystem $hdr/usr/include" LDFLAGS=-static \
	"${targets[@]}" >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "building the mm selftests failed (log: $log)"
fi
for p in "${progs[@]}"; do
	[ -x "$bin/$p" ] || die "$p was not built (log: $log)"
done
echo "$stamp" >"$out/stamp"
echo "mm-selftests.sh: built ${#progs[@]} programs in $(($(date +%s) - t0)) s"
echo "$bin"
