#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# On a host without msharefs, the shim's mmap paths must change nothing a
# program can see: mmap-helper prints the same with and without the shim
# for every scenario, and the shim says once why it passes through.
# Prints TAP.

set -u
builddir=${top_builddir:-.}
shim=$(cd "$builddir" && pwd)/shim/.libs/libmshare-shim.so
helper=$builddir/tests/shim/mmap-helper
n=0
failed=0

if [ ! -x "$helper" ] || [ ! -f "$shim" ]; then
	echo "1..0 # SKIP mmap-helper or libmshare-shim.so not built"
	exit 0
fi
if [ -f /sys/fs/mshare/mshare_info ]; then
	echo "1..0 # SKIP msharefs is mounted here: this test is for hosts without it"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/shim-mmap-pt.XXXXXX") || exit 99
trap 'rm -rf "$work"; rm -f /dev/shm/PostgreSQL.pt$$' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# scenario NAME ARGS...: runs the helper on fresh files, plain then shimmed.
scenario() {
	name=$1; shift
	for how in plain shim; do
		rm -rf "$work/f"; mkdir "$work/f"
		truncate -s 4M "$work/f/a"
		touch "$work/go"
		if [ $how = plain ]; then
			"$@" >"$work/$name.$how" 2>&1
		else
			env MSHARE_SHIM_FILES="$work/f/*:/dev/shm/*" MSHARE_SHIM_ANON=1M \
			    MSHARE_SHIM_MIN_SIZE=1M LD_PRELOAD="$shim" \
			    MSHARE_SHIM_LOG_FILE="$work/$name.log" \
			    "$@" >"$work/$name.$how" 2>&1
		fi
		echo "rc $?" >>"$work/$name.$how"
		cat "$work/f/a" | cksum >>"$work/$name.$how"
	done
	if cmp -s "$work/$name.plain" "$work/$name.shim"; then
		ok "$name: output identical"
	else
		not_ok "$name: output identical"
		diff "$work/$name.plain" "$work/$name.shim" | sed 's/^/# /'
	fi
	# One line per program run (fork children share it): shmopen runs two.
	lines=1; [ "$name" = shmopen ] && lines=2
	if [ "$(wc -l <"$work/$name.log")" = $lines ] &&
	   grep -q "^mshare-shim\[mmap-helper:[0-9]*\]: warn: shared mappings pass through unbacked: msharefs is not available" "$work/$name.log"; then
		ok "$name: one 'not available' line per program run"
	else
		not_ok "$name: one 'not available' line per program run"
		sed 's/^/# /' "$work/$name.log"
	fi
}

f=$work/f/a
scenario put "$helper" put "$f" 100 hello
scenario get "$helper" get "$f" 0 4
scenario map "$helper" map "$f" 0 rw "$work/go"
scenario cycle "$helper" cycle "$f" 20
scenario grow "$helper" grow "$f" 4194304
scenario partial "$helper" partial "$f" 4194304
scenario madvise "$helper" madvise "$f" 4194304
scenario forkfile "$helper" forkfile "$f" "$work/go"
scenario anonfork "$helper" anonfork 4194304
# Forked children (server backends) meeting the fallback one after the
# other: one line for all of them, not one each.
scenario forkmap "$helper" forkmap "$f" 20
scenario shmopen sh -c "'$helper' shmopen /PostgreSQL.pt$$ 4194304 && '$helper' shmread /PostgreSQL.pt$$ 4194304; rm -f /dev/shm/PostgreSQL.pt$$"

# Nothing configured for mappings: silent.
env LD_PRELOAD="$shim" MSHARE_SHIM_LOG_FILE="$work/quiet.log" \
	"$helper" cycle "$f" 3 >/dev/null 2>&1
if [ ! -s "$work/quiet.log" ]; then ok "no mapping settings: silent"
else not_ok "no mapping settings: silent"; sed 's/^/# /' "$work/quiet.log"; fi

# The memory-mapping symbols bind to the shim.
for what in grow partial madvise; do
	env LD_DEBUG=bindings LD_PRELOAD="$shim" "$helper" $what "$f" 4194304 \
		>/dev/null 2>>"$work/bindings"
done
for sym in mmap munmap mremap mprotect madvise; do
	if grep -q "libmshare-shim.so \[0\]: normal symbol \`$sym'" "$work/bindings"; then
		ok "$sym binds to libmshare-shim.so"
	else
		not_ok "$sym binds to libmshare-shim.so"
	fi
done

# strict: a configured mapping that cannot be backed fails with ENOMEM.
out=$(env MSHARE_SHIM_FILES="$work/f/*" MSHARE_SHIM_MIN_SIZE=1M MSHARE_SHIM_MODE=strict \
	LD_PRELOAD="$shim" "$helper" get "$f" 0 1 2>/dev/null)
if [ "$out" = "error mmap: Cannot allocate memory" ]; then ok "strict without msharefs: ENOMEM"
else not_ok "strict without msharefs: ENOMEM"; echo "# got: $out"; fi

echo "1..$n"
[ "$failed" = 0 ]
