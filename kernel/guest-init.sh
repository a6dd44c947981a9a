#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# PID 1 of the QEMU guest started by kernel/vm-run.sh. The root file system is
# the host's / over read-only virtio-9p; the per-run control share (tag vmctl)
# brings vm.conf and run.sh in and takes status and dmesg out.
set -euo pipefail

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STAGE=/dev/.vm-run
CTL=$STAGE/ctl

say() { echo "vm-guest: $*"; }
loud() {
	echo "vm-guest: ##################################################"
	echo "vm-guest: $*"
	echo "vm-guest: ##################################################"
}

# PID 1 must never just exit (the kernel would panic): whatever happens,
# leave through a reboot, which QEMU (-no-reboot) turns into its exit.
finish() {
	sync || true
	echo b >/proc/sysrq-trigger
	sleep 10
}
trap 'loud "INIT FAILED at line $LINENO"' ERR
trap finish EXIT

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# The debug kernel's LKDTM (provoke-crash) lives in debugfs.
if [ -d /sys/kernel/debug ]; then
	mount -t debugfs debugfs /sys/kernel/debug || true
fi
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
# devtmpfs lacks these; bash process substitution and many tools need them.
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
# Show kernel warnings (level 4) live on the console: `quiet` hid them.
echo 5 >/proc/sys/kernel/printk

# devtmpfs is the one writable place before the tmpfs mounts: stage there.
mkdir -p "$CTL" "$STAGE/keep"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vmctl "$CTL"
# vm.conf (written by vm-run.sh) sets: VM_CWD VM_KEEP VM_USER VM_HUGEPAGES
# VM_SWAP VM_MSHARE_MOUNT VM_VERBOSE VM_RW VM_RW_CACHE
VM_KEEP=() VM_RW=() VM_USER="" VM_HUGEPAGES=0 VM_MSHARE_MOUNT=1 VM_VERBOSE=0
VM_SWAP=0
VM_RW_CACHE=""
# shellcheck source=/dev/null
. "$CTL/vm.conf"

# tmpfs over /tmp, /var/tmp and /run hides the host's: keep the repo, the
# cwd and other VM_KEEP paths visible at the same path by binding them to
# the stage first and moving them back on top of the fresh tmpfs.
n=0
for dir in /tmp /var/tmp /run; do
	moves=()
	for k in "${VM_KEEP[@]}"; do
		case $k in
		"$dir" | "$dir"/*)
			[ -d "$k" ] || continue
			mkdir -p "$STAGE/keep/$n"
			mount -n --bind "$k" "$STAGE/keep/$n"
			moves+=("$n:$k")
			n=$((n + 1))
			;;
		esac
	done
	mode=1777
	[ "$dir" = /run ] && mode=755
	mount -t tmpfs -o mode=$mode tmpfs "$dir"
	for m in "${moves[@]}"; do
		mkdir -p "${m#*:}"
		mount -n --move "$STAGE/keep/${m%%:*}" "${m#*:}"
	done
done
for k in "${VM_KEEP[@]}"; do
	case $k in /dev/shm | /dev/shm/*) loud "$k is under /dev/shm: not visible in the guest" ;; esac
done

mkdir -p /dev/shm /dev/pts /dev/hugepages
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t hugetlbfs hugetlbfs /dev/hugepages || loud "hugetlbfs mount FAILED"
ip link set lo up || loud "cannot bring up lo"

# Writable shares of host directories (MSHARE_VM_RW), at the same path.
i=0
for d in "${VM_RW[@]}"; do
	mkdir -p "$d" 2>/dev/null || true
	mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000${VM_RW_CACHE:+,cache=$VM_RW_CACHE}" "vmrw$i" "$d" ||
		loud "writable share of $d FAILED"
	i=$((i + 1))
done

if [ "$VM_HUGEPAGES" -gt 0 ]; then
	echo "$VM_HUGEPAGES" >/proc/sys/vm/nr_hugepages || true
	got=$(cat /proc/sys/vm/nr_hugepages)
	[ "$got" -ge "$VM_HUGEPAGES" ] ||
		loud "asked for $VM_HUGEPAGES huge pages, got $got"
fi

# Swap to compressed memory, as a host with a swap device would.
if [ "$VM_SWAP" -gt 0 ]; then
	{ echo "${VM_SWAP}M" >/sys/block/zram0/disksize &&
		mkswap /dev/zram0 >/dev/null && swapon /dev/zram0; } ||
		loud "zram swap of ${VM_SWAP} MB FAILED"
fi

# kmemleak (debug kernel): what leaked before the command is not its doing.
kmemleak=/sys/kernel/debug/kmemleak
if [ -e /sys/kernel/debug ] && ! [ -e "$kmemleak" ]; then
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
fi
if [ -w "$kmemleak" ]; then
	echo scan >"$kmemleak" && echo clear >"$kmemleak" ||
		loud "kmemleak: cannot scan or clear"
fi

if [ "$VM_MSHARE_MOUNT" = 1 ]; then
	if ! out=$(mount -t msharefs msharefs /sys/fs/mshare 2>&1); then
		loud "MSHAREFS MOUNT FAILED (kernel $(uname -r)): $(head -n1 <<<"${out:-mount returned an error}")"
	fi
fi

# The command gets a clean environment: sane defaults, then run.sh exports
# the variables vm-run.sh chose to pass.
home=/root user=root
if [ -n "$VM_USER" ]; then
	IFS=: read -r user _ uid gid _ home _ < <(getent passwd "$VM_USER")
fi
envv=(env -i PATH="$PATH" HOME="$home" USER="$user" LOGNAME="$user"
	LANG=C.UTF-8 TERM=dumb)
up=$(cut -d' ' -f1 /proc/uptime)
echo "$up" >"$CTL/started"
[ "$VM_VERBOSE" = 1 ] && say "up at ${up}s, kernel $(uname -r), running the command"

# "|| rc=$?" keeps a failing command from tripping set -e and the ERR trap.
rc=0
if [ -n "$VM_USER" ]; then
	setpriv --reuid="$uid" --regid="$gid" --init-groups -- \
		"${envv[@]}" /bin/bash "$CTL/run.sh" </dev/null || rc=$?
else
	"${envv[@]}" /bin/bash "$CTL/run.sh" </dev/null || rc=$?
fi

[ "$VM_VERBOSE" = 1 ] && say "command exited $rc at $(cut -d' ' -f1 /proc/uptime)s"
# kmemleak reports only objects older than 5 s; a leak prints "kmemleak:
# N new suspected memory leaks", which vm-run.sh counts as a splat.
if [ -w "$kmemleak" ]; then
	sleep 6
	echo scan >"$kmemleak" || loud "kmemleak: scan failed"
	if [ -s "$kmemleak" ]; then
		loud "kmemleak found leaks (the first ones):"
		head -n 60 "$kmemleak" >&2
	else
		say "kmemleak: no new leak after the command" >&2
	fi
fi
dmesg >"$CTL/dmesg" 2>&1 || true
echo "$rc" >"$CTL/status.new"
mv "$CTL/status.new" "$CTL/status"
sync
umount "$CTL" || true
