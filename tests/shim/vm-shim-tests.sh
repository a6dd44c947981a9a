#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# libmshare-shim against real msharefs.  Runs INSIDE the VM as root, with
# the repo (built) at the same path and msharefs mounted; prints TAP.
#
#   SHIM_TEST_MOUNT    the msharefs mount (default /sys/fs/mshare)
#   SHIM_TEST_PRELOAD  objects preloaded before the shim (host run: the fake)
#   SHIM_TEST_FAKE=1   the mount is fake-msharefs.so's tmpfs stand-in: skip
#                      what only the kernel can show (page tables, alignment)
#
# Backed segments are made in strict mode, so a segment that silently ends
# up unbacked fails its shmget instead of passing unnoticed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
builddir=${top_builddir:-$(cd "$here/../.." && pwd)}
mount=${SHIM_TEST_MOUNT:-/sys/fs/mshare}
fake=${SHIM_TEST_FAKE:-0}
holders=""
hold_count=0

# Root switches to uid 65534 for the tests of another user; on the fake
# (make check, often not root) those are skipped and the rest runs.
root=0
[ "$(id -u)" = 0 ] && root=1
if [ "$root" = 0 ] && [ "$fake" != 1 ]; then
	echo "1..0 # SKIP must run as root (it switches to uid 65534 itself)"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vm-shim.XXXXXX") || exit 99
chmod 755 "$work"
# Keys no one else uses.
base=$(( 0x5f000000 + ($$ % 0x1000) * 256 ))
key() { printf '%d' $((base + $1)); }
keyhex() { printf '%08x' $((base + $1)); }

# ok, not_ok, skip, note, expect, expect_match
. "$here/../tap.sh"
show() { [ -s "$1" ] && sed 's/^/#   /' "$1"; }

cleanup() {
	for pid in $holders; do kill -9 "$pid" 2>/dev/null; done
	wait 2>/dev/null
	for k in $(seq 0 15); do ipcrm -M $((base + k)) 2>/dev/null; done
	if [ -f "$work/ids" ]; then
		while read -r id; do ipcrm -m "$id" 2>/dev/null; done <"$work/ids"
	fi
	# Regions of our keys, planted files included; private ones by id.
	for k in $(seq 0 15); do rm -f "$mount/sysv.$(keyhex "$k")."*; done
	if [ -f "$work/ids" ]; then
		while read -r id; do rm -f "$mount/sysv.00000000.$id."*; done <"$work/ids"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The helper and the shim, copied where an unprivileged user can read them.
if ! cp "$builddir/tests/shim/shim-vm-helper" "$work/helper" ||
   ! cp "$builddir/shim/.libs/libmshare-shim.so" "$work/libmshare-shim.so"; then
	echo "Bail out! helper or shim not built in $builddir"
	exit 1
fi
chmod 755 "$work/helper" "$work/libmshare-shim.so"
# Objects preloaded before the shim are copied too: a build directory under
# a private home (mode 0700) is unreadable for uid 65534.
pre=""
for obj in ${SHIM_TEST_PRELOAD:-}; do
	if ! cp "$obj" "$work/pre-${obj##*/}"; then
		echo "Bail out! cannot copy $obj"
		exit 1
	fi
	chmod 755 "$work/pre-${obj##*/}"
	pre="$pre$work/pre-${obj##*/} "
done
preload="$pre$work/libmshare-shim.so"

if [ ! -r "$mount/mshare_info" ]; then
	echo "Bail out! no msharefs at $mount"
	exit 1
fi
align=$(cat "$mount/mshare_info")


# shim [VAR=VALUE...] COMMAND...: under the shim, strict, everything backed
# by the shim's own regions (MSHARE_SHIM_SYSV=regions: the way on kernels
# without shmat(SHM_SHARE_MMU); vm-shim-kernel-tables.sh tests the other).
shim() {
	env LD_PRELOAD="$preload" MSHARE_SHIM_MOUNT="$mount" MSHARE_SHIM_SHM=all \
	    MSHARE_SHIM_MIN_SIZE=64M MSHARE_SHIM_MODE=strict \
	    MSHARE_SHIM_SYSV=regions MSHARE_SHIM_LOG_FILE="$work/shim.log" "$@"
}
# The same, replacing the calling (sub)shell, so $! is the program's pid.
exec_shim() {
	exec env LD_PRELOAD="$preload" MSHARE_SHIM_MOUNT="$mount" MSHARE_SHIM_SHM=all \
	    MSHARE_SHIM_MIN_SIZE=64M MSHARE_SHIM_MODE=strict \
	    MSHARE_SHIM_SYSV=regions MSHARE_SHIM_LOG_FILE="$work/shim.log" "$@"
}
helper() { shim "$work/helper" "$@"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
remember_id() { echo "$1" >>"$work/ids"; }

cpid_of() { "$work/helper" stat "$1" | sed -n 's/.*cpid=\([0-9]*\).*/\1/p'; }
region_of() { echo "$mount/sysv.$(keyhex "$2").$1.$(cpid_of "$1")"; }
nattch_of() { "$work/helper" stat "$1" | sed -n 's/^nattch=\([0-9]*\).*/\1/p'; }

# hold ID [touch]: a background process attached to ID; waits for it.
hold() {
	hold_count=$((hold_count + 1))
	fifo="$work/held.$hold_count"
	mkfifo "$fifo"
	(exec_shim "$work/helper" hold "$@") >"$fifo" &
	holders="$holders $!"
	last_holder=$!
	read -r line <"$fifo"
	rm -f "$fifo"
	[ "$line" = held ]
}

# wait_for CONDITION-COMMAND: up to 5 s.
wait_for() {
	for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done
	return 1
}

# count_files GLOB: entries of the mount matching GLOB.
count_files() {
	count=0
	for f in "$mount"/$1; do [ -e "$f" ] && count=$((count + 1)); done
	echo "$count"
}

shmem_kb() { sed -n 's/^Shmem: *\([0-9]*\) kB/\1/p' /proc/meminfo; }

echo "1..61"

# --- the mount ----------------------------------------------------------
if [ "$fake" = 1 ]; then
	skip "msharefs is mounted at $mount" "fake msharefs"
else
	expect "msharefs is mounted at $mount" 4d534852 "$(stat -f -c %t "$mount")"
fi
expect_match "mshare_info holds the alignment" '^[0-9]+$' "$align"

# --- a keyed segment: region, maps, data across unrelated processes -------
id=$(helper create "$(key 0)" 256M)
remember_id "$id"
expect_match "shmget(key, 256M, IPC_CREAT) under the shim" '^[0-9]+$' "$id"
expect "the creator says so at the default log level, once" 1 \
	"$(grep -c "notice: segment key 0x$(keyhex 0) id $id (268435456 bytes) is backed by msharefs region .*share its page tables" "$work/shim.log")"
region=$(region_of "$id" 0)
if [ -f "$region" ]; then ok "region $region exists"
else not_ok "region for segment $id exists"; for f in "$mount"/* "$mount"/.*; do note "  $f"; done; fi
expect "region mode follows the segment (0600)" 600 "$(stat -c %a "$region" 2>&1)"
expect "region owned by the creator" "$(id -u)" "$(stat -c %u "$region" 2>&1)"
expect "region size is the segment rounded up to the alignment" "$align" \
	"$(stat -c %s "$region" 2>&1)"
# The creator seals the layout once it is set up (MSHAREFS_SEAL): nobody,
# not even the owner or root, can unmap or replace the segment's memory
# through the region file afterwards.
if [ "$fake" = 1 ]; then
	skip "the shim sealed the region" "fake msharefs has no MSHAREFS_SEAL"
else
expect "the shim sealed the region: fdinfo says so, the owner's MSHAREFS_UNMAP gets EPERM" \
	"sealed 1 unmap EPERM" "$(python3 -c '
import errno, fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
sealed = [l.split()[1] for l in open("/proc/self/fdinfo/%d" % fd) if l.startswith("mshare_sealed:")]
try:
    fcntl.ioctl(fd, 0x40107801, struct.pack("QQ", 0, 4096))  # MSHAREFS_UNMAP
    res = "ok"
except OSError as e:
    res = errno.errorcode[e.errno]
print("sealed", sealed[0] if sealed else "?", "unmap", res)
' "$region" 2>&1)"
fi
expect "ipcs shows the real segment at its full size" 268435456 \
	"$(ipcs -m -i "$id" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p')"
expect_match "/proc/PID/maps shows the attachment as the region" \
	" $mount/sysv\.$(keyhex 0)\.$id\." "$(helper maps "$id")"
expect "one process writes" written "$(helper write "$id" "hello from A")"
expect "an unrelated process reads it by id" "hello from A|A" "$(helper read "$id")"
expect "the data is not in the real segment's memory" "|0" "$("$work/helper" read "$id")"
expect "segment persists after its creator and users exit" "hello from A|A" \
	"$(helper read "$id")"
expect "nattch is 0 with nobody attached" 0 "$(nattch_of "$id")"

# --- nattch exact across attach, fork, exit, kill -9 ----------------------
hold "$id" && hold "$id" && hold "$id"
h3=$last_holder
expect "three holders: nattch 3" 3 "$(nattch_of "$id")"
expect "fork: nattch counts the child and drops at its exit" \
	"attached=4 with-child=5 after-child=4 detached=3" "$(helper fork-nattch "$id")"
kill -9 "$h3"; wait "$h3" 2>/dev/null
expect "kill -9 of a holder: nattch 2" 2 "$(nattch_of "$id")"
for pid in $holders; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
holders=""
expect "all holders killed: nattch 0, region stays" "0 yes" \
	"$(nattch_of "$id") $([ -f "$region" ] && echo yes || echo no)"
expect "data survives the kills" "hello from A|A" "$(helper read "$id")"

# --- read-only attachments, threads ---------------------------------------
expect "writing through an SHM_RDONLY attachment faults" SIGSEGV \
	"$(helper rdonly-write "$id")"
expect "16 threads attaching and detaching concurrently" "threads ok" \
	"$(helper threads "$id" 16)"

# --- IPC_SET ---------------------------------------------------------------
expect "IPC_SET mode 0640" ok "$(helper chmod "$id" 640)"
expect "the region follows IPC_SET (0640)" 640 "$(stat -c %a "$region")"

# --- IPC_RMID: name gone at once, memory when the last user goes -------------
id2=$(helper create "$(key 1)" 256M)
remember_id "$id2"
region2=$(region_of "$id2" 1)
shmem_before=$(shmem_kb)
hold "$id2" touch
shmem_touched=$(shmem_kb)
note "Shmem: ${shmem_before} kB before, ${shmem_touched} kB with 256 MiB touched"
expect "RMID with a user attached" ok "$(helper rmid "$id2")"
expect "the region name is gone at RMID" no "$([ -e "$region2" ] && echo yes || echo no)"
expect "attaching a removed backed segment fails (documented: EIDRM)" \
	"shmat: EIDRM" "$(helper attach "$id2")"
kill -9 "$last_holder"; wait "$last_holder" 2>/dev/null
holders=""
gone() { ! "$work/helper" stat "$id2" >/dev/null 2>&1; }
wait_for gone
expect "the segment is gone after the last detach" yes "$(gone && echo yes || echo no)"
freed() { [ $(( $(shmem_kb) - shmem_before )) -lt 65536 ]; }
if [ "$fake" = 1 ]; then
	skip "the region's memory is freed" "Shmem is too noisy on a shared host"
else
	wait_for freed
	note "Shmem after the last detach: $(shmem_kb) kB"
	expect "the region's memory is freed (Shmem back within 64 MiB)" yes \
		"$(freed && echo yes || echo no)"
fi

# --- planted files under a segment's region name are refused -------------------
id3=$(env MSHARE_SHIM_MODE=off "$work/helper" create "$(key 2)" 128M)
remember_id "$id3"
planted="$mount/sysv.$(keyhex 2).$id3.$(cpid_of "$id3")"
if [ "$root" = 1 ]; then
	as_nobody sh -c ": > '$planted'"
	expect "a region file planted by another uid is refused" "shmat: EACCES" \
		"$(helper attach "$id3")"
	rm -f "$planted"
else
	skip "a region file planted by another uid is refused" "needs root"
fi
(umask 0; : >"$planted"; chmod 0666 "$planted")
expect "a region file with the wrong mode is refused" "shmat: EACCES" \
	"$(helper attach "$id3")"
rm -f "$planted"
: >"$planted"; chmod 0600 "$planted"
expect "a region file without the right size is refused" "shmat: EACCES" \
	"$(helper attach "$id3")"
rm -f "$planted"
expect "the loud refusal is logged" yes \
	"$(grep -q 'REFUSING shmat' "$work/shim.log" && echo yes || echo no)"
expect "try: a listed segment created without a region attaches as it is" ok \
	"$(shim env MSHARE_SHIM_MODE=try "$work/helper" attach "$id3")"
expect "strict: a listed segment created without a region is refused" \
	"shmat: ENOMEM" "$(helper attach "$id3")"

# --- 32 processes racing shmget(key, IPC_CREAT) ----------------------------------
race=$(helper race "$(key 3)" 128M 32)
expect_match "32 racers: one segment, everyone's write visible to all" \
	' ids=1 slots=32/32$' "$race"
race_id=$(printf '%s\n' "$race" | sed -n 's/^id=\([0-9]*\).*/\1/p')
[ -n "$race_id" ] && remember_id "$race_id"
expect "32 racers: exactly one region" 1 \
	"$(count_files "sysv.$(keyhex 3).*")"
# An attacher that looked for the region just before the creator's rename and
# for the creating file just after it once fell back to the plain segment:
# a few percent of races, so run many (cheap on the fake, fewer in the VM).
rounds=$([ "$fake" = 1 ] && echo 150 || echo 12)
lost=""
r=0
while [ "$r" -lt "$rounds" ]; do
	out=$(helper race "$(key $((100 + r)))" 128M 32)
	case "$out" in
	*" ids=1 slots=32/32") ;;
	*) lost="$lost [round $r: $out]" ;;
	esac
	rid=$(printf '%s\n' "$out" | sed -n 's/^id=\([0-9]*\).*/\1/p')
	[ -n "$rid" ] && helper rmid "$rid" >/dev/null
	r=$((r + 1))
done
expect "32 racers, $rounds rounds: no racer ever attached without the region" \
	"" "$lost"

# --- an unprivileged user ------------------------------------------------------
if [ "$root" = 1 ]; then
	uid=65534
	id4=$(as_nobody env LD_PRELOAD="$preload" MSHARE_SHIM_MOUNT="$mount" MSHARE_SHIM_SYSV=regions \
		MSHARE_SHIM_SHM=all MSHARE_SHIM_MODE=strict "$work/helper" create "$(key 4)" 128M)
	remember_id "$id4"
	region4=$(region_of "$id4" 4)
	expect "unprivileged creator: region owned by uid 65534, mode 0600" "$uid 600" \
		"$(stat -c '%u %a' "$region4" 2>&1)"
	as_nobody env LD_PRELOAD="$preload" MSHARE_SHIM_MOUNT="$mount" MSHARE_SHIM_SYSV=regions MSHARE_SHIM_SHM=all \
		MSHARE_SHIM_MODE=strict "$work/helper" write "$id4" "from nobody" >/dev/null
	expect "unprivileged: another process reads it" "from nobody|y" \
		"$(as_nobody env LD_PRELOAD="$preload" MSHARE_SHIM_MOUNT="$mount" MSHARE_SHIM_SYSV=regions \
		   MSHARE_SHIM_SHM=all MSHARE_SHIM_MODE=strict "$work/helper" read "$id4")"
	expect "unprivileged: RMID removes the region" "ok no" \
		"$(as_nobody env LD_PRELOAD="$preload" MSHARE_SHIM_MOUNT="$mount" MSHARE_SHIM_SYSV=regions \
		   MSHARE_SHIM_SHM=all "$work/helper" rmid "$id4") $([ -e "$region4" ] && echo yes || echo no)"
else
	for t in "unprivileged creator: region owned by uid 65534, mode 0600" \
	    "unprivileged: another process reads it" "unprivileged: RMID removes the region"; do
		skip "$t" "needs root"
	done
fi

# --- IPC_PRIVATE ----------------------------------------------------------------
id5=$(helper create-private 128M)
remember_id "$id5"
expect "IPC_PRIVATE segment gets a region" yes \
	"$([ -f "$mount/sysv.00000000.$id5.$(cpid_of "$id5")" ] && echo yes || echo no)"
expect "IPC_PRIVATE: data shared by id" "private|e" \
	"$(helper write "$id5" private >/dev/null; helper read "$id5")"

# --- addresses --------------------------------------------------------------
expect "attach at an address not aligned for msharefs: EINVAL" "shmat: EINVAL" \
	"$(helper attach "$id" 0x10000000)"
if [ "$fake" = 1 ]; then
	skip "attach at an aligned address" "fake msharefs"
else
	expect "attach at an aligned address" ok \
		"$(helper attach "$id" $((align * 128)))"
fi

# The kernel's answers for SHM_REMAP (shmat(2), CVE-2017-5669): the same
# program without the shim is the reference.
shm_rnd=8192 shm_remap=16384
expect "shmat(NULL, SHM_REMAP): EINVAL, as the kernel answers" \
	"$("$work/helper" attach "$id" 0 $shm_remap)" \
	"$(helper attach "$id" 0 $shm_remap)"
expect "shmat((void *)1, SHM_RND|SHM_REMAP): EINVAL, as the kernel answers" \
	"$("$work/helper" attach "$id" 1 $((shm_rnd | shm_remap)))" \
	"$(helper attach "$id" 1 $((shm_rnd | shm_remap)))"
if [ "$fake" = 1 ]; then
	skip "SHM_REMAP without the shim: the page beside it intact" "fake msharefs"
	skip "SHM_REMAP with the shim replaces no mapping beyond the segment" "fake msharefs"
	skip "SHM_REMAP over the process's own attachment" "fake msharefs"
else
	# The kernel maps the segment's 256 MiB over ADDR and leaves the page
	# 1 GiB further alone; the region would span 512 GiB there, so the
	# shim refuses before it attaches, and changes nothing.
	expect "SHM_REMAP without the shim: the segment mapped, the page beside it intact" \
		"shmat: ok beside: intact" \
		"$("$work/helper" remap-beside "$id" $((align * 130)) | tr '\n' ' ' | sed 's/ $//')"
	expect "SHM_REMAP with the shim replaces no mapping beyond the segment and leaves IPC_STAT as it was" \
		"shmat: EINVAL beside: intact stat: unchanged" \
		"$(helper remap-beside "$id" $((align * 130)) 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
	expect "SHM_REMAP over the process's own attachment at that address, as without the shim" \
		"$("$work/helper" remap-again "$id" $((align * 132)))" \
		"$(helper remap-again "$id" $((align * 132)))"
fi

# --- ipcmk ------------------------------------------------------------------
mk=$(shim ipcmk -M 128M 2>&1)
id6=$(printf '%s\n' "$mk" | sed -n 's/^Shared memory id: //p')
[ -n "$id6" ] && remember_id "$id6"
expect "ipcmk -M 128M under the shim makes a backed segment" yes \
	"$([ -n "$id6" ] && [ "$(count_files "sysv.*.$id6.*")" = 1 ] && echo yes || echo no)"
helper write "$id6" "via ipcmk" >/dev/null
expect "a program attaching ipcmk's segment by id shares its data" "via ipcmk|k" \
	"$(helper read "$id6")"

# --- SHM_HUGETLB: huge pages are reserved once, by the region --------------
huge_total=$(sed -n 's/^HugePages_Total: *//p' /proc/meminfo)
if [ "$fake" = 1 ]; then
	skip "a 128 MiB SHM_HUGETLB segment fits in 64 huge pages" "fake msharefs"
	skip "hugetlb segment: data shared by id" "fake msharefs"
	skip "a stale region holding the huge pages is swept before the next create" "fake msharefs"
elif [ "${huge_total:-0}" -lt 64 ] ||
     [ "$(sed -n 's/^Hugepagesize: *//p' /proc/meminfo)" != "2048 kB" ]; then
	skip "a 128 MiB SHM_HUGETLB segment fits in 64 huge pages" "needs 64 free 2 MiB huge pages"
	skip "hugetlb segment: data shared by id" "needs huge pages"
	skip "a stale region holding the huge pages is swept before the next create" "needs huge pages"
else
	idh=$(helper create "$(key 9)" 128M 600 hugetlb)
	remember_id "$idh"
	expect_match "a 128 MiB SHM_HUGETLB segment fits in 64 huge pages (reserved once)" \
		'^[0-9]+$' "$idh"
	expect "hugetlb segment: data shared by id" "huge|e" \
		"$(helper write "$idh" huge >/dev/null; helper read "$idh")"
	# Removed without the shim: its stale region keeps the 64 huge pages,
	# and the next region needs them.  The sweep must come first.
	[ -n "$idh" ] && ipcrm -m "$idh"
	idh2=$(helper create "$(key 10)" 128M 600 hugetlb)
	remember_id "$idh2"
	expect_match "a stale region holding the huge pages is swept before the next create" \
		'^[0-9]+$' "$idh2"
	[ -n "$idh2" ] && helper rmid "$idh2" >/dev/null
fi

# --- VmPTE stays flat for attachers after the first ---------------------------
if [ "$fake" = 1 ]; then
	skip "VmPTE flat across 8 attachers of 256 MiB" "fake msharefs shares no page tables"
else
	id7=$(helper create "$(key 5)" 256M)
	remember_id "$id7"
	env MSHARE_SHIM_MODE=off "$work/helper" create "$(key 6)" 256M >"$work/plain-id"
	remember_id "$(cat "$work/plain-id")"
	note "for comparison, a plain SysV segment:"
	"$work/helper" vmpte "$(cat "$work/plain-id")" 8 | sed 's/^/#   /'
	helper vmpte "$id7" 8 >"$work/vmpte.out"
	show "$work/vmpte.out"
	expect "VmPTE flat across 8 attachers of 256 MiB (each after the first < 16 KiB)" \
		"VmPTE flat" "$(tail -n 1 "$work/vmpte.out")"
fi

# --- a segment removed without the shim: its region is swept later ---------
id8=$(helper create "$(key 7)" 128M)
remember_id "$id8"
region8=$(region_of "$id8" 7)
ipcrm -m "$id8"
expect "ipcrm without the shim leaves the region behind" yes \
	"$([ -e "$region8" ] && echo yes || echo no)"
id9=$(helper create "$(key 8)" 128M)
remember_id "$id9"
expect "the next backed shmget of that user sweeps the stale region" no \
	"$([ -e "$region8" ] && echo yes || echo no)"
expect "the sweep leaves live regions alone" yes \
	"$([ -e "$region" ] && [ -e "$(region_of "$id9" 8)" ] && echo yes || echo no)"

# --- leftovers ---------------------------------------------------------------
expect "no creating files are left behind" 0 "$(count_files '.creating.*')"
if [ "$failed" != 0 ] && [ -s "$work/shim.log" ]; then
	note "shim log:"
	show "$work/shim.log"
fi
[ "$failed" = 0 ]
