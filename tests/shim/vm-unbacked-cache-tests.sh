#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shim's record of segments known to have no region, against real
# msharefs with mshare_generation.  Runs INSIDE the VM as root; prints TAP.
# What the shim did is read from its debug log:
#   "shmat(ID): no region NAME at generation G"    a lookup that missed
#   "shmat(ID): known unbacked at generation G"    no lookup at all
#   "shmctl(ID, CMD): known unbacked ..."          no IPC_STAT, no unlink
#
#   SHIM_TEST_MOUNT    the msharefs mount (default /sys/fs/mshare)

set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=${top_builddir:-$(cd "$here/../.." && pwd)}
mount=${SHIM_TEST_MOUNT:-/sys/fs/mshare}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP must run as root"
	exit 0
fi
if [ ! -r "$mount/mshare_generation" ]; then
	echo "1..0 # SKIP no $mount/mshare_generation (kernel without it)"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vm-unbacked.XXXXXX") || exit 99
base=$(( 0x5e000000 + ($$ % 0x1000) * 256 ))
key() { printf '%d' $((base + $1)); }

# ok, not_ok, skip, note, expect, expect_match
. "$here/../tap.sh"
show() { [ -s "$1" ] && sed 's/^/#   /' "$1"; }

cleanup() {
	for k in $(seq 0 7); do ipcrm -M $((base + k)) 2>/dev/null; done
	for k in $(seq 0 7); do rm -f "$mount/sysv.$(printf '%08x' $((base + k)))."*; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

helper=$builddir/tests/shim/shim-vm-helper
lib=$builddir/shim/.libs/libmshare-shim.so
if [ ! -x "$helper" ] || [ ! -f "$lib" ]; then
	echo "Bail out! helper or shim not built in $builddir"
	exit 1
fi

# shim LOG MODE COMMAND...: under the shim with debug messages in LOG.
shim() {
	log=$1 mode=$2
	shift 2
	env LD_PRELOAD="$lib" MSHARE_SHIM_MOUNT="$mount" MSHARE_SHIM_SHM=all \
	    MSHARE_SHIM_MIN_SIZE=64M MSHARE_SHIM_MODE="$mode" MSHARE_SHIM_SYSV=regions \
	    MSHARE_SHIM_LOG=debug MSHARE_SHIM_LOG_FILE="$log" "$@"
}
generation() { cat "$mount/mshare_generation"; }
# lines LOG PATTERN: how many lines of LOG match.
lines() { grep -c -- "$2" "$1" 2>/dev/null || true; }
cpid_of() { "$helper" stat "$1" | sed -n 's/.*cpid=\([0-9]*\).*/\1/p'; }

# twice LOG MODE ID ACTION...: a process attaches ID, ACTION runs, the same
# process attaches ID again.  Prints the helper's two lines.
twice() {
	log=$1 mode=$2 id=$3
	shift 3
	rm -f "$work/in" "$work/out"
	mkfifo "$work/in" "$work/out"
	shim "$log" "$mode" "$helper" attach-twice "$id" <"$work/in" >"$work/out" &
	exec 3>"$work/in" 4<"$work/out"
	read -r first <&4
	"$@" >/dev/null 2>&1
	echo go >&3
	read -r second <&4
	exec 3>&- 4<&-
	wait
	echo "$first $second"
}

echo "1..13"

g0=$(generation)
expect "the generation is even at rest" 0 $((g0 % 2))
id0=$(shim "$work/create.log" strict "$helper" create "$(key 0)" 256M)
g1=$(generation)
expect "a backed shmget moves the generation (creating file, rename)" yes \
	"$([ "$g1" -ge $((g0 + 4)) ] && [ $((g1 % 2)) = 0 ] && echo yes || echo no)"

# A small segment no process backs (under MIN_SIZE).
ids=$(env MSHARE_SHIM_MODE=off "$helper" create "$(key 1)" 1M)

# 1. Nothing changes between two attaches: the second makes no lookup.
out=$(twice "$work/quiet.log" try "$ids" true)
expect "quiet: both attaches work" "first second" "$out"
expect "quiet: one lookup, then known unbacked" "1 1" \
	"$(lines "$work/quiet.log" "shmat($ids): no region") $(lines "$work/quiet.log" "shmat($ids): known unbacked")"

# 2. Other processes attach and read a backed segment: no name changes.
out=$(twice "$work/reads.log" try "$ids" shim "$work/other.log" strict "$helper" read "$id0")
expect "reads elsewhere: still known unbacked" "1 1" \
	"$(lines "$work/reads.log" "shmat($ids): no region") $(lines "$work/reads.log" "shmat($ids): known unbacked")"

# 3. Another process creates a backed segment in between: look up again.
out=$(twice "$work/moved.log" try "$ids" shim "$work/create2.log" strict "$helper" create "$(key 2)" 128M)
expect "a region appears elsewhere: the second attach looks up again" "2 0" \
	"$(lines "$work/moved.log" "shmat($ids): no region") $(lines "$work/moved.log" "shmat($ids): known unbacked")"

# 4. A region appears under this very segment's name between the attaches
#    (planted here by hand with everything a genuine one has): the cached
#    answer would now be wrong, and the shim must find the region.
align=$(cat "$mount/mshare_info")
planted="$mount/sysv.$(printf '%08x' $((base + 1))).$ids.$(cpid_of "$ids")"
plant() { : >"$planted" && chmod 0600 "$planted" && truncate -s "$align" "$planted"; }
out=$(twice "$work/planted.log" try "$ids" plant)
expect "a region appears for the segment: both attaches work" "first second" "$out"
expect "a region appears for the segment: the second attach goes through it" "1 0 1" \
	"$(lines "$work/planted.log" "shmat($ids): no region") $(lines "$work/planted.log" "shmat($ids): known unbacked") $(lines "$work/planted.log" "attached segment id $ids through region")"
rm -f "$planted"

# 5. Strict mode needs the key and size of an unbacked segment: no fast path.
out=$(twice "$work/strict.log" strict "$ids" true)
expect "strict: every attach looks up" "2 0" \
	"$(lines "$work/strict.log" "shmat($ids): no region") $(lines "$work/strict.log" "shmat($ids): known unbacked")"

# 6. A fork child inherits what its parent knows.
out=$(shim "$work/fork.log" try "$helper" attach-fork "$ids")
expect "fork: the child attaches without a lookup" "parent child 1 1" \
	"$out $(lines "$work/fork.log" "shmat($ids): no region") $(lines "$work/fork.log" "shmat($ids): known unbacked")"

# 7. A segment this process just made with IPC_PRIVATE: nothing to look up,
#    neither at shmat nor at IPC_SET nor at IPC_RMID.
idp=$(shim "$work/private.log" try "$helper" private-cycle 1M)
expect "IPC_PRIVATE: shmat, IPC_SET, IPC_RMID all known unbacked" "0 1 1 1" \
	"$(lines "$work/private.log" "no region") $(lines "$work/private.log" "shmat($idp): known unbacked") $(lines "$work/private.log" "shmctl($idp, IPC_SET): known unbacked") $(lines "$work/private.log" "shmctl($idp, IPC_RMID): known unbacked")"
expect "IPC_PRIVATE: the segment is gone" gone \
	"$("$helper" stat "$idp" >/dev/null 2>&1 && echo there || echo gone)"

# 8. The backed segments still work after all this.
expect "backed segment: data shared by id" "cache|e" \
	"$(shim "$work/w.log" strict "$helper" write "$id0" cache >/dev/null; shim "$work/r.log" strict "$helper" read "$id0")"
ipcrm -m "$ids" 2>/dev/null

if [ "$failed" != 0 ]; then
	for f in "$work"/*.log; do note "$f:"; show "$f"; done
fi
[ "$failed" = 0 ]
