#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# libmshare-shim on a kernel that shares SysV page tables itself (shmat()
# with SHM_SHARE_MMU): the kernel's rules stay the kernel's.  Rights changed
# by IPC_SET of a process without the shim while threads attach, SHM_LOCK,
# the SHM_INFO / ipcs figures (resident, swapped) and mlockall() before
# shmat.  Each case runs the helper under the shim (strict) and without it
# on the same kind of segment, and compares: the plain process is the
# kernel's reference.  Segments are created under the shim, as by a program
# using it (shmget() passes through on this path).  Runs INSIDE the VM as root; prints TAP.  The swap
# cases need swap in the guest (kernel/vm-run.sh --swap, MSHARE_VM_SWAP).

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/vm-kernel-sysv-common.sh"
cgroup=/sys/fs/cgroup/vm-shim-kernel-rights.$$
holders=""
# Seconds of each race between IPC_SET and attaching threads.
race_seconds=${MSHARE_RIGHTS_RACE_SECONDS:-3}

kernel_sysv_start vm-kernel-rights
base=$(( 0x5f000000 + ($$ % 0x1000) * 256 ))
key() { printf '%d' $((base + $1)); }

cleanup() {
	for pid in $holders; do kill -9 "$pid" 2>/dev/null; done
	wait 2>/dev/null
	for k in $(seq 0 15); do ipcrm -M $((base + k)) 2>/dev/null; done
	[ ! -d "$cgroup" ] || rmdir "$cgroup" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

kernel_sysv_tools
# The shim's log files of the processes running as uid 65534.
touch "$work/shim-nobody.log" "$work/shim-lock.log"
chmod 666 "$work/shim-nobody.log" "$work/shim-lock.log"

# shim COMMAND...: the helper under the shim, strict, every key backed from
# 1 MiB, the SysV path as by default (auto: the kernel's here) unless
# MSHARE_SHIM_SYSV says otherwise.
shim() {
	env LD_PRELOAD="$work/libmshare-shim.so" MSHARE_SHIM_SHM=all \
	    MSHARE_SHIM_MIN_SIZE=1M MSHARE_SHIM_MODE=strict \
	    MSHARE_SHIM_LOG_FILE="$work/shim.log" "$work/helper" "$@"
}
# field NAME LINE: the value of NAME=VALUE in LINE.
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

echo "1..29"
files_before=$(files_of_mount)

# --- rights changed by IPC_SET while threads attach -------------------------
# The segment belongs to uid 65534 (root gave it away with IPC_SET), which
# attaches read-write in 4 threads of a process under the shim and 4 of a
# plain one, while root, without the shim, switches its mode.
id=$(shim create "$(key 0)" 8M 0600)
plain chown "${id:-0}" 65534 >/dev/null
expect "uid 65534 attaches its segment with shared tables under the shim" shared \
	"$(as_nobody env LD_PRELOAD="$work/libmshare-shim.so" \
		MSHARE_SHIM_SHM=all MSHARE_SHIM_MIN_SIZE=1M MSHARE_SHIM_MODE=strict \
		"$work/helper" tables "${id:-0}")"

# race MODE1 MODE2: IPC_SET between the two modes for race_seconds + 2 s
# while both attach for race_seconds; leaves the three result lines in
# $chmod_out, $shim_out, $plain_out.
race() {
	plain chmod-loop "${id:-0}" $((race_seconds + 2)) "$1" "$2" >"$work/chmod.out" &
	chmod_pid=$!
	sleep 0.3
	as_nobody env LD_PRELOAD="$work/libmshare-shim.so" MSHARE_SHIM_SHM=all \
	    MSHARE_SHIM_MIN_SIZE=1M MSHARE_SHIM_MODE=strict \
	    MSHARE_SHIM_LOG_FILE="$work/shim-nobody.log" \
	    "$work/helper" attach-loop "${id:-0}" 4 "$race_seconds" >"$work/shim.out" 2>&1 &
	shim_pid=$!
	as_nobody "$work/helper" attach-loop "${id:-0}" 4 "$race_seconds" >"$work/plain.out" 2>&1 &
	plain_pid=$!
	wait "$chmod_pid" "$shim_pid" "$plain_pid"
	chmod_out=$(cat "$work/chmod.out")
	shim_out=$(cat "$work/shim.out")
	plain_out=$(cat "$work/plain.out")
	note "IPC_SET $1 <-> $2: $chmod_out"
	note "  under the shim: $shim_out"
	note "  without:        $plain_out"
}
# all_shared LINE [MIN]: "yes" if shared=S/L has S = L >= MIN (default 1).
all_shared() {
	s=$(field shared "$1")
	if [ -n "$s" ] && [ "${s%/*}" = "${s#*/}" ] && [ "${s#*/}" -ge "${2:-1}" ]; then
		echo yes
	else
		echo "no ($s)"
	fi
}

race 600 640
expect_match "IPC_SET 0600 <-> 0640 ran throughout, never failing" \
	'^toggles=[0-9]{3,} failed=0$' "$chmod_out"
expect_match "0600 <-> 0640: every attach under the shim succeeds" \
	'^ok=[1-9][0-9]* EACCES=0 other=0 ' "$shim_out"
expect_match "0600 <-> 0640: every attach without the shim succeeds (the kernel)" \
	'^ok=[1-9][0-9]* EACCES=0 other=0 ' "$plain_out"
expect "0600 <-> 0640: the shim's attachments share tables (VmFlags st)" yes \
	"$(all_shared "$shim_out")"
expect "0600 <-> 0640: the plain ones do not" "0/$(field shared "$plain_out" | sed 's,.*/,,')" \
	"$(field shared "$plain_out")"

race 600 000
# outcomes LINE: what the calls gave, "success+EACCES" when both occurred.
# Which of the two each call meets depends on timing (on the debug kernel
# under TCG the attachers can fall into step with the IPC_SET loop and meet
# one mode only): the counts are reported, anything else fails.
outcomes() {
	o=$(field other "$1") a=$(field EACCES "$1") s=$(field ok "$1")
	if [ "${o:-x}" != 0 ]; then echo "other errors: $1"
	elif [ "${a:-0}" -gt 0 ] && [ "${s:-0}" -gt 0 ]; then echo success+EACCES
	elif [ "${s:-0}" -gt 0 ]; then echo success
	else echo EACCES; fi
}
expect_match "IPC_SET 0600 <-> 0000 ran throughout, never failing" \
	'^toggles=[0-9]{3,} failed=0$' "$chmod_out"
expect_match "0600 <-> 0000: without the shim each attach gives success or EACCES (counts above)" \
	'^(success\+EACCES|success|EACCES)$' "$(outcomes "$plain_out")"
expect_match "0600 <-> 0000: under the shim each gives success or EACCES (counts above)" \
	'^(success\+EACCES|success|EACCES)$' "$(outcomes "$shim_out")"
# Strict mode promises a configured segment is never attached unshared,
# also when the rights changed between the shim's IPC_STAT and its shmat.
expect "0600 <-> 0000: the shim's successful attachments share tables" yes \
	"$(all_shared "$shim_out" 0)"

# 0600 <-> 0400: read-write attaches are refused half the time, but IPC_STAT
# (which needs read only) never is.
race 600 400
expect_match "IPC_SET 0600 <-> 0400 ran throughout, never failing" \
	'^toggles=[0-9]{3,} failed=0$' "$chmod_out"
expect_match "0600 <-> 0400: without the shim each attach gives success or EACCES (counts above)" \
	'^(success\+EACCES|success|EACCES)$' "$(outcomes "$plain_out")"
expect_match "0600 <-> 0400: under the shim each gives success or EACCES (counts above)" \
	'^(success\+EACCES|success|EACCES)$' "$(outcomes "$shim_out")"
expect "0600 <-> 0400: the shim's successful attachments share tables" yes \
	"$(all_shared "$shim_out" 0)"
plain chmod "${id:-0}" 600 >/dev/null
plain rmid "${id:-0}" >/dev/null

# --- SHM_LOCK -------------------------------------------------------------------
# lock_case DESCRIPTION PREFIX...: the helper's "lock" with PREFIX (a uid
# switch, an rlimit) under the shim and without; the answers must match.
shim_kinds=""
lock_case() {
	desc=$1
	shift
	p=$("$@" "$work/helper" lock "$id")
	s=$("$@" env LD_PRELOAD="$work/libmshare-shim.so" MSHARE_SHIM_SHM=all \
	    MSHARE_SHIM_MIN_SIZE=1M MSHARE_SHIM_MODE=strict \
	    MSHARE_SHIM_LOG_FILE="$work/shim-lock.log" "$work/helper" lock "$id")
	shim_kinds="$shim_kinds ${s%% *}"
	note "$desc: without the shim: $p; under it: $s"
	expect "SHM_LOCK $desc: as without the shim (${p#* })" "${p#* }" "${s#* }"
}
id=$(shim create "$(key 1)" 8M 0606)
id=${id:-0}
lock_case "by root" env
lock_case "by uid 65534, not the owner, RLIMIT_MEMLOCK 64 MiB" prlimit --memlock=67108864:67108864 \
	setpriv --reuid=65534 --regid=65534 --clear-groups
plain chown "$id" 65534 >/dev/null
plain chmod "$id" 600 >/dev/null
lock_case "by its owner uid 65534, RLIMIT_MEMLOCK 0" prlimit --memlock=0:0 \
	setpriv --reuid=65534 --regid=65534 --clear-groups
lock_case "by its owner uid 65534, RLIMIT_MEMLOCK 1 MiB (segment 8 MiB)" prlimit --memlock=1048576:1048576 \
	setpriv --reuid=65534 --regid=65534 --clear-groups
lock_case "by its owner uid 65534, RLIMIT_MEMLOCK 64 MiB" prlimit --memlock=67108864:67108864 \
	setpriv --reuid=65534 --regid=65534 --clear-groups
expect "the shim's attachments in the SHM_LOCK cases shared tables" \
	" shared shared shared shared shared" "$shim_kinds"
plain rmid "$id" >/dev/null

# --- SHM_INFO and ipcs figures -------------------------------------------------
# figures ID: the kernel's resident and swapped pages three ways: SHM_INFO,
# ipcs -m -u, and the segment's line of /proc/sysvipc/shm (in pages).
figures() {
	info=$(plain info)
	u=$(ipcs -m -u)
	res=$(printf '%s\n' "$u" | sed -n 's/^pages resident *\([0-9]*\)/\1/p')
	swp=$(printf '%s\n' "$u" | sed -n 's/^pages swapped *\([0-9]*\)/\1/p')
	line=$(awk -v id="$1" 'NR > 1 && $2 == id { print $15 / 4096 "/" $16 / 4096 }' /proc/sysvipc/shm)
	echo "SHM_INFO $info ipcs $res/$swp sysvipc ${line:-none}"
}
touched=1000
id=$(shim create "$(key 2)" 16M)
shim fill "${id:-0}" "$touched" >/dev/null
shim_fig=$(figures "${id:-0}")
shim_kind=$(shim tables "${id:-0}")
plain rmid "${id:-0}" >/dev/null
id=$(shim create "$(key 3)" 16M)
plain fill "${id:-0}" "$touched" >/dev/null
plain_fig=$(figures "${id:-0}")
plain rmid "${id:-0}" >/dev/null
note "$touched pages written through a shim attachment ($shim_kind): $shim_fig"
note "$touched pages written through a plain attachment:           $plain_fig"
expect "resident/swapped figures after writing through the shim, as through a plain attachment" \
	"$plain_fig" "$shim_fig"
expect "the pages written through the shim count once, in all three" \
	"SHM_INFO rss=$touched swp=0 ipcs $touched/0 sysvipc $touched/0" "$shim_fig"

# --- swapped out and back --------------------------------------------------------
# Both kinds of attacher stay attached in a memory cgroup that memory.reclaim
# empties into swap; the figures must add up to the pages written, once, and
# the data must come back through either kind of attachment.
swap_pages=2048
swap_case() { # swap_case shim|plain KEYINDEX
	sid=$(shim create "$(key "$2")" 8M)
	sid=${sid:-0}
	fifo="$work/held.$1"
	mkfifo "$fifo"
	if [ "$1" = shim ]; then
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cgroup" \
			env LD_PRELOAD="$work/libmshare-shim.so" MSHARE_SHIM_SHM=all \
			MSHARE_SHIM_MIN_SIZE=1M MSHARE_SHIM_MODE=strict \
			MSHARE_SHIM_LOG_FILE="$work/shim.log" \
			"$work/helper" fill "$sid" "$swap_pages" hold >"$fifo" &
	else
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cgroup" \
			"$work/helper" fill "$sid" "$swap_pages" hold >"$fifo" &
	fi
	holder=$!
	holders="$holders $holder"
	read -r line <"$fifo"
	rm -f "$fifo"
	kind=$(awk '/SYSV/ { f = 1 } f && /^VmFlags/ { print (/ st( |$)/ ? "shared" : "plain"); exit }' \
		"/proc/$holder/smaps")
	[ "$line" = held ] || note "$1 holder: $line"
	echo 64M >"$cgroup/memory.reclaim" 2>/dev/null
	echo 64M >"$cgroup/memory.reclaim" 2>/dev/null
	fig=$(figures "$sid")
	note "$1 holder ($kind) after memory.reclaim: $fig"
	r=$(field rss "$fig") s=$(field swp "$fig")
	u=$(printf '%s\n' "$fig" | sed -n 's/.*ipcs \([0-9]*\/[0-9]*\) .*/\1/p')
	v=$(printf '%s\n' "$fig" | sed -n 's/.*sysvipc \([0-9]*\/[0-9]*\)$/\1/p')
	if [ -n "$s" ] && [ "$s" -gt 0 ] && [ $((r + s)) = "$swap_pages" ] &&
	   [ "$u" = "$r/$s" ] && [ "$v" = "$r/$s" ]; then
		ok "swapped out under a $1 attacher: resident + swapped = $swap_pages pages, once in SHM_INFO, ipcs, sysvipc"
	else
		not_ok "swapped out under a $1 attacher: resident + swapped = $swap_pages pages, once in SHM_INFO, ipcs, sysvipc"
	fi
	expect "the data written by the $1 attacher comes back intact through a shim and a plain attachment" \
		"intact intact" "$(shim check "$sid" "$swap_pages") $(plain check "$sid" "$swap_pages")"
	kill -9 "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	plain rmid "$sid" >/dev/null
}
swap_total=$(awk 'NR > 1 { t += $3 } END { print t + 0 }' /proc/swaps)
cgroup_ok=no
if [ "$swap_total" -gt 0 ]; then
	{ [ -e /sys/fs/cgroup/cgroup.controllers ] ||
	  mount -t cgroup2 cgroup2 /sys/fs/cgroup; } 2>/dev/null &&
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null &&
	mkdir "$cgroup" 2>/dev/null && cgroup_ok=yes
fi
if [ "$swap_total" -gt 0 ] && [ "$cgroup_ok" = yes ]; then
	swap_case shim 4
	swap_case plain 5
else
	why="no swap in this guest (kernel/vm-run.sh --swap)"
	[ "$swap_total" = 0 ] || why="no memory cgroup"
	for w in "shim attacher: figures" "shim attacher: data" "plain attacher: figures" "plain attacher: data"; do
		skip "swapped out under a $w" "$why"
	done
fi

# --- mlockall(MCL_CURRENT|MCL_FUTURE), then shmat --------------------------------
id=$(shim create "$(key 6)" 4M)
p=$(plain mlockall-attach "${id:-0}")
s=$(shim mlockall-attach "${id:-0}")
note "mlockall then shmat: without the shim: $p; under it: $s"
expect "mlockall(MCL_CURRENT|MCL_FUTURE) then shmat under the shim: as the kernel ($p)" "$p" "$s"
expect "which is a plain, locked attachment (the kernel's answer to MCL_FUTURE)" "ok plain locked" "$s"
plain rmid "${id:-0}" >/dev/null

# --- no names --------------------------------------------------------------------
expect "nothing was created in $mount" "$files_before" "$(files_of_mount)"

for log in "$work"/shim*.log; do
	[ -s "$log" ] || continue
	echo "# ${log##*/}:"
	sed 's/^/#   /' "$log" | head -n 20
done
[ "$failed" = 0 ]
