#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# libmshare-shim on a kernel that shares SysV page tables itself (shmat()
# with SHM_SHARE_MMU): the shim only asks for it, the segment stays the
# kernel's.  Each case runs the helper under the shim (strict) and without
# it, on the same segment, and compares: the plain process is what a program
# without the shim (or a static one, or a set-user-ID one) gets.  Runs INSIDE
# the VM as root; prints TAP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/vm-kernel-sysv-common.sh"
holders=""

kernel_sysv_start vm-kernel-tables
base=$(( 0x5e000000 + ($$ % 0x1000) * 256 ))
key() { printf '%d' $((base + $1)); }

cleanup() {
	for pid in $holders; do kill -9 "$pid" 2>/dev/null; done
	wait 2>/dev/null
	echo 1 >"$sysctl"
	[ -z "${overcommit_before:-}" ] || echo "$overcommit_before" >/proc/sys/vm/overcommit_memory
	for k in $(seq 0 7); do ipcrm -M $((base + k)) 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

kernel_sysv_tools

# shim [VAR=VALUE...] COMMAND...: under the shim, strict, every key backed,
# the SysV path chosen as by default (auto: the kernel's here).
shim() {
	env LD_PRELOAD="$work/libmshare-shim.so" MSHARE_SHIM_SHM=all \
	    MSHARE_SHIM_MIN_SIZE=64M MSHARE_SHIM_MODE=strict \
	    MSHARE_SHIM_LOG_FILE="$work/shim.log" "$@"
}

# hold (shim|plain) ID: a background attacher of ID; waits until attached.
hold() {
	fifo="$work/held.$$.$2.$1"
	mkfifo "$fifo"
	if [ "$1" = shim ]; then
		(exec env LD_PRELOAD="$work/libmshare-shim.so" MSHARE_SHIM_SHM=all \
		    MSHARE_SHIM_MIN_SIZE=64M MSHARE_SHIM_MODE=strict \
		    MSHARE_SHIM_LOG_FILE="$work/shim.log" "$work/helper" hold "$2" >"$fifo") &
	else
		(exec "$work/helper" hold "$2" >"$fifo") &
	fi
	holders="$holders $!"
	read -r line <"$fifo"
	rm -f "$fifo"
	[ "$line" = held ]
}
stat_nattch() { plain stat "$1" | sed -n 's/^nattch=\([0-9]*\).*/\1/p'; }

echo "1..19"
files_before=$(files_of_mount)

# --- one memory -------------------------------------------------------------
id=$(shim "$work/helper" create "$(key 0)" 64M 0644)
expect_match "a configured segment is created under the shim" '^[0-9]+$' "$id"
id=${id:-0}
expect "the shim's attachment shares page tables (VmFlags st)" shared \
	"$(shim "$work/helper" tables "$id")"
expect "a plain attachment does not" plain "$(plain tables "$id")"
shim "$work/helper" write "$id" from-the-shim >/dev/null
expect "the shim's writes reach a process without the shim" "from-the-shim|m" \
	"$(plain read "$id")"
plain write "$id" from-a-plain-process >/dev/null
expect "a plain process's writes reach the shim's" "from-a-plain-process|s" \
	"$(shim "$work/helper" read "$id")"
# Calls that shared tables cannot serve: the kernel makes the shim's
# attachment plain first, and answers as for a plain one.
ops_plain=$(plain plain-ops "$id" | sed 1d | tr '\n' ' ')
ops_shim=$(shim "$work/helper" plain-ops "$id" | tr '\n' ' ')
expect "the shim's attachment shares tables before munmap of a part and more" \
	"before: shared" "${ops_shim%% munmap:*}"
expect "munmap of a part, mprotect, mlock, madvise answer as without the shim" \
	"$ops_plain" "${ops_shim#before: shared }"
hold shim "$id" && hold plain "$id"
expect "IPC_STAT counts a shared and a plain attacher (nattch)" 2 \
	"$(stat_nattch "$id")"

# Page tables: 4 attachers in turn read 64 MiB the first one faulted in
# (writing a byte to each page: a segment of its own).
idp=$(shim "$work/helper" create "$(key 2)" 64M)
shared_pte=$(shim "$work/helper" vmpte "${idp:-0}" 4 | sed -n 's/^attacher 4: .*(+\([0-9]*\) kB)$/\1/p')
plain_pte=$(plain vmpte "${idp:-0}" 4 | sed -n 's/^attacher 4: .*(+\([0-9]*\) kB)$/\1/p')
plain rmid "${idp:-0}" >/dev/null
note "VmPTE growth of the 4th attacher reading 64 MiB: shim ${shared_pte:-?} kB, plain ${plain_pte:-?} kB"
if [ -n "$shared_pte" ] && [ -n "$plain_pte" ] && [ "$plain_pte" -ge 120 ] &&
   [ "$shared_pte" -le 16 ]; then
	ok "an attacher under the shim pays no PTE tables for the segment"
else
	not_ok "an attacher under the shim pays no PTE tables for the segment"
fi

# --- the kernel's answers, with and without the shim -------------------------
addr=0x600000000000
expect "an attach at an address answers as without the shim" \
	"$(plain attach "$id" "$addr")" "$(shim "$work/helper" attach "$id" "$addr")"
expect "SHM_REMAP without an address answers as without the shim (EINVAL)" \
	"$(plain attach "$id" 0 040000)" "$(shim "$work/helper" attach "$id" 0 040000)"

# Rights follow IPC_SET by a process without the shim, both ways.
plain chmod "$id" 600 >/dev/null
expect "uid 65534 is refused after a plain chmod 600, as without the shim" \
	"$(as_nobody "$work/helper" attach "$id")" \
	"$(as_nobody env LD_PRELOAD="$work/libmshare-shim.so" MSHARE_SHIM_SHM=all \
		MSHARE_SHIM_MIN_SIZE=64M MSHARE_SHIM_MODE=strict "$work/helper" attach "$id")"
plain chmod "$id" 644 >/dev/null
expect "uid 65534 attaches read-only after a plain chmod 644, shared" "ok shared" \
	"$(as_nobody env LD_PRELOAD="$work/libmshare-shim.so" MSHARE_SHIM_SHM=all \
		MSHARE_SHIM_MIN_SIZE=64M MSHARE_SHIM_MODE=strict \
		sh -c "'$work/helper' read '$id' >/dev/null && echo ok; \
		       '$work/helper' tables '$id'" 2>&1 | tr '\n' ' ' | sed 's/ $//')"

# IPC_RMID while attached: both still attach by id (no EIDRM deviation).
plain rmid "$id" >/dev/null
expect "after IPC_RMID an attached segment is attached again under the shim" \
	ok "$(shim "$work/helper" attach "$id")"
expect "and it still holds the data" "from-a-plain-process|s" \
	"$(shim "$work/helper" read "$id")"

# --- strict mode, the kernel declining --------------------------------------
id2=$(plain create "$(key 1)" 64M)
echo 0 >"$sysctl"
expect "kernel.shm_share_mmu=0: strict refuses a configured attach (ENOMEM)" \
	ENOMEM "$(shim "$work/helper" attach "${id2:-0}" 2>&1 | sed 's/.*: //')"
expect "kernel.shm_share_mmu=0: try mode attaches plainly" plain \
	"$(shim env MSHARE_SHIM_MODE=try "$work/helper" tables "${id2:-0}")"
echo 1 >"$sysctl"
plain rmid "${id2:-0}" >/dev/null

# --- one copy, committed once --------------------------------------------------
# Under vm.overcommit_memory=2 a segment of 2/3 of CommitLimit can be made
# and attached with shared tables: the shared mapping commits nothing more.
limit_kb=$(sed -n 's/^CommitLimit: *\([0-9]*\) kB/\1/p' /proc/meminfo)
committed_kb=$(sed -n 's/^Committed_AS: *\([0-9]*\) kB/\1/p' /proc/meminfo)
size_mb=$((limit_kb * 2 / 3 / 1024))
overcommit_before=$(cat /proc/sys/vm/overcommit_memory)
note "CommitLimit $limit_kb kB, Committed_AS $committed_kb kB: a segment of $size_mb MiB"
echo 2 >/proc/sys/vm/overcommit_memory
id3=$(shim "$work/helper" create "$(key 3)" "${size_mb}M")
result=$id3
case "$id3" in
[0-9]*) result="$(shim "$work/helper" tables "$id3")" ;;
esac
echo "$overcommit_before" >/proc/sys/vm/overcommit_memory
expect "overcommit_memory=2: a segment of 2/3 of CommitLimit is made and attached shared" \
	shared "$result"
case "$id3" in [0-9]*) plain rmid "$id3" >/dev/null ;; esac

# --- no names ----------------------------------------------------------------
expect "nothing was created in $mount" "$files_before" "$(files_of_mount)"

echo "# shim log:"
sed 's/^/#   /' "$work/shim.log" 2>/dev/null | head -n 20
[ "$failed" = 0 ]
