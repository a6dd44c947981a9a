#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot the msharefs test kernel under QEMU and run one command in it.
#
# Usage: kernel/vm-run.sh [OPTIONS] -- COMMAND [ARGS...]
#   --debug            use the debug kernel (lockdep, DEBUG_VM, ...)
#   --user NAME        run COMMAND as NAME (a user of the host's /etc/passwd)
#   --timeout SEC      kill the VM after SEC seconds (default 900)
#   --mem MB           guest memory (default 3072)
#   --smp N            guest CPUs (default 2)
#   --hugepages N      reserve N default-size huge pages before COMMAND
#   --numa N           NUMA nodes (default 2, as on a database host; CPU i
#                      and 1/N of the memory on node i mod N; 1: no NUMA)
#   --swap MB          swap on a zram device of MB (default 0: no swap)
#   --no-mshare-mount  do not mount msharefs on /sys/fs/mshare
#   --kernel IMAGE     boot IMAGE instead of the one kernel/build.sh made
#   -h, --help         this text
#
# COMMAND runs in the current directory (the host's / is the guest's root,
# read-only) with a clean environment: PATH, HOME, LANG, USER, plus the
# caller's variables named MSHARE_*, CK_*, TAP_* or listed in
# MSHARE_VM_PASSENV. Its output streams to stdout.
#
# Exit status: COMMAND's, or 2 usage error, 124 timeout, 125 kernel splat
# (panic, BUG, Oops, WARNING, lockdep, hung task, ...) even if COMMAND
# passed, 126 no status from the guest (boot failure, panic, init died) or
# no kernel to boot.
#
# Environment:
#   MSHARE_CACHE        kernel work dir (default /var/cache/mshare-kernel)
#   MSHARE_VM_LOG       serial log (default $MSHARE_CACHE/vm-last.log); the
#                       guest's dmesg goes next to it (*.dmesg)
#   MSHARE_VM_NO_BUILD=1  never build; fail if no kernel is built
#   MSHARE_VM_ACCEL=kvm use KVM instead of TCG
#   MSHARE_VM_CPU       QEMU -cpu model (default: QEMU's)
#   MSHARE_VM_ICOUNT=N  QEMU -icount shift=N: guest time advances 2^N ns per
#                       guest instruction, so guest-timed results (TPS, ns
#                       per call) count instructions and repeat whatever the
#                       host's load; one host thread runs all guest CPUs
#   MSHARE_VM_CMDLINE   extra kernel command-line arguments
#   MSHARE_VM_PASSENV   more variable names to pass, space-separated
#   MSHARE_VM_BIND      more host paths to keep visible under the guest's
#                       /tmp, /var/tmp, /run (space-separated)
#   MSHARE_VM_RW        host directories to share writable, same path
#                       (space-separated; they hide the read-only view)
#   MSHARE_VM_RW_CACHE  9p cache mode of those shares (default: none);
#                       mmap allows shared writable mappings, written back
#                       like a disk file system's
#   MSHARE_VM_VERBOSE=1 print boot and run times
#   MSHARE_VM_NUMA, MSHARE_VM_SWAP  defaults of --numa and --swap
#
# On a kernel with kmemleak (the debug kernel) the guest scans for leaks
# after COMMAND; leaks from before COMMAND started are not reported, new
# ones count as a splat.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${MSHARE_CACHE:-/var/cache/mshare-kernel}

usage() { sed -n '3,46p' "$0" | sed 's/^# \{0,1\}//'; }
usage_error() {
	echo "vm-run.sh: $*" >&2
	echo "Try 'kernel/vm-run.sh --help'." >&2
	exit 2
}
banner() {
	echo "VM-RUN: ################################################################"
	echo "VM-RUN: $*"
	echo "VM-RUN: ################################################################"
} >&2

variant=default user="" timeout=900 mem=3072 smp=2 hugepages=0 mshare_mount=1
numa=${MSHARE_VM_NUMA:-2} swap=${MSHARE_VM_SWAP:-0}
image=""
need_arg() { [ $# -ge 2 ] || usage_error "$1 needs an argument"; }
is_num() { [[ $1 =~ ^[0-9]+$ ]]; }
while [ $# -gt 0 ]; do
	case $1 in
	--debug) variant=debug ;;
	--user) need_arg "$@"; user=$2; shift ;;
	--timeout) need_arg "$@"; timeout=$2; shift ;;
	--mem) need_arg "$@"; mem=$2; shift ;;
	--smp) need_arg "$@"; smp=$2; shift ;;
	--hugepages) need_arg "$@"; hugepages=$2; shift ;;
	--numa) need_arg "$@"; numa=$2; shift ;;
	--swap) need_arg "$@"; swap=$2; shift ;;
	--no-mshare-mount) mshare_mount=0 ;;
	--kernel) need_arg "$@"; image=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) usage_error "unknown option: $1 (the command goes after --)" ;;
	esac
	shift
done
[ $# -gt 0 ] || usage_error "no COMMAND given"
in_range() {
	if ! is_num "$2" || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		usage_error "$1 wants a number in $3..$4, got '$2'"
	fi
}
in_range --timeout "$timeout" 1 86400
in_range --mem "$mem" 256 65536
in_range --smp "$smp" 1 16
in_range --hugepages "$hugepages" 0 100000
in_range --numa "$numa" 1 8
in_range --swap "$swap" 0 65536
[ $((mem / numa)) -ge 128 ] || usage_error "--numa $numa: --mem $mem leaves less than 128 MB per node"
if [ -n "$user" ]; then
	getent passwd "$user" >/dev/null || usage_error "--user: no user '$user' in the host's passwd"
fi
command -v qemu-system-x86_64 >/dev/null ||
	usage_error "qemu-system-x86_64 not found (run scripts/install-deps.sh)"

# The kernel: the given one, else the built one (building it when missing or
# built from an older patch series/config).
if [ -n "$image" ]; then
	[ -f "$image" ] || usage_error "--kernel: no such file: $image"
else
	bargs=()
	[ "$variant" = debug ] && bargs+=(--debug)
	set +e
	image=$("$HERE/build.sh" "${bargs[@]}" --print-image)
	prc=$?
	set -e
	if [ $prc -ne 0 ]; then
		if [ "${MSHARE_VM_NO_BUILD:-0}" = 1 ]; then
			if [ $prc -eq 3 ]; then
				echo "vm-run.sh: WARNING: $image is older than the patches/config (MSHARE_VM_NO_BUILD=1: using it)" >&2
			else
				banner "NO KERNEL: the $variant kernel is not built and MSHARE_VM_NO_BUILD=1"
				exit 126
			fi
		else
			echo "vm-run.sh: building the $variant kernel first" >&2
			if ! "$HERE/build.sh" "${bargs[@]}" >&2; then
				banner "NO KERNEL: kernel/build.sh ${bargs[*]} failed"
				exit 126
			fi
			# rc 3 here means the series changed again meanwhile: boot it anyway.
			image=$("$HERE/build.sh" "${bargs[@]}" --print-image || true)
			if [ -z "$image" ]; then
				banner "NO KERNEL: kernel/build.sh ${bargs[*]} built no image"
				exit 126
			fi
		fi
	fi
fi

LOG=${MSHARE_VM_LOG:-$CACHE/vm-last.log}
DMESG=${LOG%.log}.dmesg
mkdir -p "$CACHE/runs" "$(dirname "$LOG")"
CTL=$(mktemp -d "$CACHE/runs/run.XXXXXX")
# The guest's unprivileged users read run.sh through 9p.
chmod 755 "$CTL"
trap 'rm -rf "$CTL"' EXIT
# Signals end the script through exit, so the EXIT trap still cleans up.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Paths the guest's tmpfs mounts must not hide: the tree and the cwd.
cwd=$PWD
keep=()
for p in "$REPO" "$cwd" "$(pwd -P)" ${MSHARE_VM_BIND:-}; do
	[[ " ${keep[*]} " == *" $p "* ]] || keep+=("$p")
done
rw=()
for p in ${MSHARE_VM_RW:-}; do
	[ -d "$p" ] || usage_error "MSHARE_VM_RW: not a directory: $p"
	rw+=("$(cd "$p" && pwd -P)")
done
{
	echo "VM_CWD=$(printf %q "$cwd")"
	printf 'VM_KEEP=('
	printf '%q ' "${keep[@]}"
	echo ')'
	printf 'VM_RW=('
	[ ${#rw[@]} -eq 0 ] || printf '%q ' "${rw[@]}"
	echo ')'
	echo "VM_USER=$(printf %q "$user")"
	echo "VM_HUGEPAGES=$hugepages"
	echo "VM_SWAP=$swap"
	echo "VM_MSHARE_MOUNT=$mshare_mount"
	echo "VM_VERBOSE=${MSHARE_VM_VERBOSE:-0}"
	echo "VM_RW_CACHE=$(printf %q "${MSHARE_VM_RW_CACHE:-}")"
} >"$CTL/vm.conf"

# The command and its environment go through a file: the kernel command
# line is limited to 2 KiB and would show them in /proc/cmdline.
passenv=" ${MSHARE_VM_PASSENV:-} "
{
	echo "cd -- $(printf %q "$cwd") || exit 126"
	while IFS= read -r name; do
		case $name in
		MSHARE_* | CK_* | TAP_*) ;;
		*) [[ $passenv == *" $name "* ]] || continue ;;
		esac
		echo "export $name=$(printf %q "${!name}")"
	done < <(compgen -e)
	printf 'exec --'
	printf ' %q' "$@"
	echo
} >"$CTL/run.sh"
chmod 644 "$CTL/run.sh" "$CTL/vm.conf"

cmdline="console=ttyS0 quiet panic=-1 root=hostroot rootfstype=9p"
cmdline+=" rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose ro"
cmdline+=" init=$HERE/guest-init.sh"
# Under TCG on a loaded host the boot-time check that the timer interrupt
# arrives through the IO-APIC can miss its ticks and panic ("IO-APIC +
# timer doesn't work", seen with the host's load at 14): skip that check.
cmdline+=" no_timer_check"
# Cheap slab consistency checks and poisoning, without SLUB_DEBUG_ON's
# per-object stack traces (those cost too much under TCG).
[ "$variant" = debug ] && cmdline+=" slub_debug=FZP"
cmdline+=" ${MSHARE_VM_CMDLINE:-}"

accel=tcg
[ "${MSHARE_VM_ACCEL:-}" = kvm ] && accel=kvm
# NUMA nodes as on a multi-socket server: one socket per node with its
# share of the CPUs (a last-level cache spanning nodes makes the kernel
# warn) and 1/N of the memory (node 0 the rest).  With fewer CPUs than
# nodes, the nodes past the CPUs hold memory only.
smp_spec=$smp numa_args=()
if [ "$numa" -gt 1 ]; then
	sockets=$numa
	[ "$smp" -lt "$numa" ] && sockets=$smp
	[ $((smp % sockets)) -eq 0 ] ||
		usage_error "--numa $numa: --smp $smp does not split evenly into $sockets sockets"
	cores=$((smp / sockets))
	smp_spec="$smp,sockets=$sockets,cores=$cores,threads=1"
	for ((node = 0; node < numa; node++)); do
		size=$((mem / numa))
		[ "$node" -eq 0 ] && size=$((mem - (numa - 1) * (mem / numa)))
		spec="node,nodeid=$node,memdev=ram$node"
		if [ "$node" -lt "$sockets" ]; then
			spec+=",cpus=$((node * cores))-$((node * cores + cores - 1))"
		fi
		numa_args+=(-object "memory-backend-ram,id=ram$node,size=${size}M" -numa "$spec")
	done
fi
qemu=(qemu-system-x86_64 -accel "$accel" -m "$mem" -smp "$smp_spec" "${numa_args[@]}"
	-nographic -no-reboot -vga none -nic none
	-kernel "$image" -append "$cmdline"
	# cache=loose in the guest needs multidevs=remap: host inode numbers
	# from different file systems would collide otherwise.
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"
	-fsdev "local,id=vmctl,path=$CTL,security_model=none"
	-device "virtio-9p-pci,fsdev=vmctl,mount_tag=vmctl")
[ -n "${MSHARE_VM_CPU:-}" ] && qemu+=(-cpu "$MSHARE_VM_CPU")
if [ -n "${MSHARE_VM_ICOUNT:-}" ]; then
	in_range MSHARE_VM_ICOUNT "$MSHARE_VM_ICOUNT" 0 10
	qemu+=(-icount "shift=$MSHARE_VM_ICOUNT,sleep=on,align=off")
fi
i=0
for d in "${rw[@]}"; do
	qemu+=(-fsdev "local,id=vmrw$i,path=$d,security_model=none"
		-device "virtio-9p-pci,fsdev=vmrw$i,mount_tag=vmrw$i")
	i=$((i + 1))
done

t0=$(date +%s.%N)
set +e
# Clean the serial stream so TAP and logs read well: CRLF -> LF, no SeaBIOS
# banner or terminal escapes, no final reboot message. sed -u keeps it live.
serial_filter='s/\r$//
s/\x1b(c|\[[0-9;?]*[A-Za-z])//g
/^SeaBIOS \(version [^)]*\)$/d
/^Booting from ROM\.{2,3}\r*$/d
s/^Booting from ROM\.{2,3}\r*//
/^\[ *[0-9]+\.[0-9]+\] (sysrq: Resetting|reboot: Restarting system)$/d'
# --foreground keeps QEMU in our process group: Ctrl-C or an outer timeout
# that signals the group stops the VM too.
timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null 2>&1 |
	sed -E -u "$serial_filter" | tee "$LOG"
qrc=${PIPESTATUS[0]}
set -e
t1=$(date +%s.%N)
rm -f "$DMESG"
[ -f "$CTL/dmesg" ] && cp "$CTL/dmesg" "$DMESG"

if [ "${MSHARE_VM_VERBOSE:-0}" = 1 ]; then
	echo "vm-run.sh: wall $(echo "$t1 - $t0" | bc) s, guest uptime at command start: $(cat "$CTL/started" 2>/dev/null || echo none) s" >&2
fi

# Kernel messages carry a [seconds.micros] stamp (PRINTK_TIME): only those
# lines are scanned, so a command printing "BUG:" is not taken for a splat.
# Lockdep reports all start with "WARNING:"; a bare "lockdep" would match
# the debug kernel's boot banner ("RCU lockdep checking is enabled").
splat_re='\[ *[0-9]+\.[0-9]{6}\] .*(Kernel panic|BUG:|Oops|WARNING:|possible circular locking|possible recursive locking|inconsistent lock state|INFO: lockdep is turned off|lockdep_assert|INFO: task .* blocked|soft lockup|hard LOCKUP|RCU stall|rcu_.*detected stall|detected stalls on CPUs|general protection fault|Unable to handle|unable to handle|kernel BUG at|list_add corruption|list_del corruption|[Bb]ad page state|new suspected memory leak)'
splat=0
for f in "$LOG" "$DMESG"; do
	[ -f "$f" ] || continue
	ln=$(grep -nE -m1 "$splat_re" "$f" | cut -d: -f1 || true)
	[ -n "$ln" ] || continue
	splat=1
	banner "KERNEL SPLAT: $(sed -n "${ln}p" "$f")"
	echo "VM-RUN: context from $f:" >&2
	start=$((ln > 5 ? ln - 5 : 1))
	sed -n "${start},$((start + 40))p" "$f" | sed 's/^/VM-RUN: | /' >&2
	break
done

rc=""
if [ -f "$CTL/status" ]; then
	rc=$(cat "$CTL/status")
	is_num "$rc" || rc=""
fi

exit_rc=0
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	banner "TIMEOUT after $timeout s"
	exit_rc=124
elif [ -z "$rc" ]; then
	banner "NO STATUS FROM GUEST (qemu exit $qrc); last lines of the serial log:"
	tail -n 30 "$LOG" | sed 's/^/VM-RUN: | /' >&2
	exit_rc=126
elif [ $splat = 1 ]; then
	echo "VM-RUN: command exited $rc, but the kernel splatted: exit 125" >&2
	exit_rc=125
else
	exit_rc=$rc
fi
if [ "$exit_rc" -ne 0 ]; then
	echo "VM-RUN: serial log: $LOG${rc:+ (command exit status $rc)}" >&2
fi
exit "$exit_rc"
