#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mshare-stat and mshare-run against real msharefs.  Runs INSIDE the VM as
# root, with the built tree at the same path and msharefs mounted on
# /sys/fs/mshare; prints TAP.  From the host:
#   kernel/vm-run.sh --mem 2048 -- bash tests/tools/vm-tools-tests.sh
# (make check builds tests/shim/shim-vm-helper, which this uses.)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
builddir=$(cd "${top_builddir:-${MSHARE_TOP_BUILDDIR:-$here/../..}}" && pwd)
mount=/sys/fs/mshare
stat=$builddir/tools/mshare-stat
run=$builddir/tools/mshare-run
lib=$builddir/shim/.libs/libmshare-shim.so
helper=$builddir/tests/shim/shim-vm-helper
export MSHARE_RUN_PREFLIGHT=$builddir/tools/mshare-preflight

# shellcheck source=tests/tools/tap.sh
. "$here/tap.sh"

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP must run as root"
	exit 0
fi
for f in "$stat" "$run" "$lib" "$helper" "$MSHARE_RUN_PREFLIGHT"; do
	if [ ! -e "$f" ]; then
		echo "Bail out! $f is not built"
		exit 1
	fi
done
if [ ! -r "$mount/mshare_info" ]; then
	echo "Bail out! no msharefs at $mount"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vm-tools.XXXXXX")
base=$((0x5e7a0000 + ($$ % 0x1000) * 16))
keyhex() { printf '%08x' $((base + $1)); }
holders=()
ids=()
cleanup() {
	local p
	for p in "${holders[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for p in "${ids[@]}"; do ipcrm -m "$p" 2>/dev/null || true; done
	for p in 0 1 2 3 4 5; do rm -f "$mount/sysv.$(keyhex "$p")."* "$mount/.creating.$(keyhex "$p")."*; done
	rm -f "$mount/.tmp.vm-tools.$$".*
	umount "$work/ro" 2>/dev/null || true
	[ -z "${share_mmu_was:-}" ] || echo "$share_mmu_was" >/proc/sys/kernel/shm_share_mmu
	rm -rf "$work"
}
trap cleanup EXIT

# mshare-stat lists regions: SysV segments here are backed by the shim's own
# (on our kernel the default is the kernel's SHM_SHARE_MMU, which makes no
# region file); mshare-run keeps MSHARE_SHIM_* of the environment.
export MSHARE_SHIM_SYSV=regions

# A simple command (not a function), so that `shim ... &` leaves the
# program's own pid in $!.
shim=(env LD_PRELOAD="$lib" MSHARE_SHIM_SHM=all MSHARE_SHIM_MIN_SIZE=64M MSHARE_SHIM_MODE=strict)
region_of() { # region_of ID: the region file name of segment ID
	local id=$1 cpid key
	read -r key cpid < <(awk -v id="$id" '$2 == id { print $1, $5 }' /proc/sysvipc/shm)
	printf 'sysv.%08x.%s.%s' $((key & 0xffffffff)) "$id" "$cpid"
}

r "$stat"
check "mshare-stat finds msharefs and the alignment" 0 \
	"^msharefs at $mount, alignment 512 GiB: [0-9]+ regions?, " "$work/out"

# A backed segment and two processes attached to it, its pages touched.
id1=$("${shim[@]}" "$helper" create $((base + 1)) $((128 << 20)) 0600)
ids+=("$id1")
name1=$(region_of "$id1")
if [ -f "$mount/$name1" ]; then ok "the shim made region $name1"; else not_ok "the shim made region $name1"; find "$mount" -maxdepth 1 | show; fi
for i in 1 2; do
	"${shim[@]}" "$helper" hold "$id1" touch >"$work/hold$i" 2>&1 &
	holders+=($!)
done
for _ in $(seq 1 600); do
	[ "$(cat "$work/hold1" "$work/hold2" 2>/dev/null | grep -c held)" = 2 ] && break
	sleep 0.1
done
if [ "$(cat "$work/hold1" "$work/hold2" | grep -c held)" = 2 ]; then ok "two holders attached and touched the segment"
else not_ok "two holders attached and touched the segment"; show "$work/hold1" "$work/hold2"; fi

r "$stat"
cp "$work/out" "$work/stat.txt"
check "mshare-stat: the summary counts attachments and the saving" 0 \
	"^msharefs at $mount, alignment 512 GiB: [0-9]+ regions?, .*, [2-9][0-9]* attachments, page tables saved now: [1-9]" "$work/stat.txt"
r "$stat" --noheadings --output name,state,key,shmid,size,owner,group,perms,nprocs,procs,saved
grep "^$name1 " "$work/out" >"$work/block" || true
check "mshare-stat lists the region: live, key, id, size, owner, mode, both attachers" 0 \
	"^$name1 +live +0x$(keyhex 1) +$id1 +512 GiB +root +root +0600 +2 +shim-vm-helper x2 +[0-9]" "$work/block"
saved=$(sed -E 's/.* x2 +//' "$work/block")
if [ -n "$saved" ] && [ "$saved" != "0 bytes" ]; then ok "... and a positive saving ($saved)"
else not_ok "... and a positive saving"; show "$work/block"; fi
echo "# the region as mshare-stat shows it:"
show "$work/stat.txt"
# The shim maps mshare_generation in every process: not a region.
if grep -q mshare_generation "$work/stat.txt"; then not_ok "mshare_generation is not listed as a region"
else ok "mshare_generation is not listed as a region"; fi

r "$stat" --json --output name,state,shmid,pids,saved
cp "$work/out" "$work/stat.json"
python=$(command -v python3 || true)
if [ -z "$python" ]; then
	ok "--json # SKIP no python3 in the guest"
	ok "--json content # SKIP no python3 in the guest"
elif "$python" -m json.tool "$work/stat.json" >/dev/null 2>"$work/err"; then
	ok "--json is valid JSON"
	got=$("$python" -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["regions"] if x["name"] == sys.argv[2]][0]
m = d["mshare"][0]
print(d["format_version"], r["shmid"], r["state"], sorted(r["pids"]), r["saved"] > 0,
      m["saved"] >= r["saved"], m["alignment"])
' "$work/stat.json" "$name1")
	want="1 $id1 live $(printf '%s\n' "${holders[@]}" | sort -n | tr '\n' ',' | sed 's/,$//; s/,/, /g; s/^/[/; s/$/]/') True True 549755813888"
	if [ "$got" = "$want" ]; then ok "--json: format version, id, state, attached pids, saving"
	else not_ok "--json: format version, id, state, attached pids, saving"; echo "# got  $got"; echo "# want $want"; fi
else
	not_ok "--json is valid JSON"
	show "$work/err"
	not_ok "--json content"
fi

r "$stat" --prometheus
check "--prometheus: the region's saving and the totals" 0 \
	"^mshare_region_pgtables_saved_bytes\\{mount=\"$mount\",region=\"$name1\",kind=\"sysv\"\\} [1-9][0-9]*\$" "$work/out" \
	"^mshare_region_attachments\\{mount=\"$mount\",region=\"$name1\",kind=\"sysv\"\\} 2\$" "$work/out" \
	"^mshare_pgtables_saved_bytes\\{mount=\"$mount\"\\} [1-9][0-9]*\$" "$work/out" \
	"^mshare_mounted\\{mount=\"$mount\"\\} 1\$" "$work/out"

# Stale things: a segment removed with plain ipcrm (no shim), a creating
# file and a temporary file of a dead process.
id2=$("${shim[@]}" "$helper" create $((base + 2)) $((128 << 20)) 0600)
name2=$(region_of "$id2")
ipcrm -m "$id2"
sh -c 'exit 0' &
dead=$!
wait "$dead" || true
creating=.creating.$(keyhex 3).$dead
tmpname=.tmp.vm-tools.$$.$dead
: >"$mount/$creating"
: >"$mount/$tmpname"
if [ -f "$mount/$name2" ] && [ -f "$mount/$creating" ] && [ -f "$mount/$tmpname" ]; then
	ok "stale region and temporary files in place"
else
	not_ok "stale region and temporary files in place"
	find "$mount" -maxdepth 1 | show
fi

r "$stat" --gc --dry-run
check "--gc --dry-run names the stale region and files" 0 \
	"^would remove $name2: SysV id $id2 is gone\$" "$work/out" \
	"^would remove \\$creating: creating file of dead pid $dead\$" "$work/out" \
	"^would remove \\$tmpname: temporary file of dead pid $dead\$" "$work/out"
if grep -q "$name1" "$work/out"; then not_ok "--gc --dry-run leaves the live region alone"; show "$work/out"
else ok "--gc --dry-run leaves the live region alone"; fi
if [ -f "$mount/$name2" ]; then ok "--dry-run removed nothing"; else not_ok "--dry-run removed nothing"; fi

r "$stat" --gc -v
check "--gc removes them and keeps the live region" 0 "^removed $name2: " "$work/out" \
	"^removed \\$creating: " "$work/out" "^removed \\$tmpname: " "$work/out" \
	"^kept $name1: its SysV segment exists\$" "$work/out"
if [ ! -e "$mount/$name2" ] && [ ! -e "$mount/$creating" ] && [ ! -e "$mount/$tmpname" ] && [ -f "$mount/$name1" ]; then
	ok "... on disk too"
else
	not_ok "... on disk too"
	find "$mount" -maxdepth 1 | show
fi
if kill -0 "${holders[0]}" 2>/dev/null && kill -0 "${holders[1]}" 2>/dev/null; then ok "the holders are still running"
else not_ok "the holders are still running"; fi
r "$stat" --gc --json
if [ -n "$python" ] && "$python" -m json.tool "$work/out" >/dev/null 2>&1 && ! grep -q '"action": "removed"' "$work/out"; then
	ok "a second --gc --json removes nothing (valid JSON)"
else
	if [ -z "$python" ]; then ok "a second --gc --json # SKIP no python3"
	else not_ok "a second --gc --json removes nothing"; show "$work/out"; fi
fi

# mshare-run: a program run through it gets its segment backed.
key4=$((base + 4))
r "$run" --lib "$lib" --shm "$(printf '0x%x' "$key4")" --min-size 64M --mode strict -- "$helper" create "$key4" $((128 << 20)) 0600
check "mshare-run says what will be backed and runs the program" 0 \
	"^mshare-run: msharefs at $mount \\(alignment 512 GiB\\): SysV keys 0x$(printf '%x' "$key4") of at least 64 MiB will be backed \\(strict mode\\): SysV segments share page tables through msharefs regions\$" "$work/err" \
	'^[0-9]+$' "$work/out"
id4=$(cat "$work/out")
ids+=("$id4")
name4=$(region_of "$id4")
if [ -f "$mount/$name4" ]; then ok "the segment made under mshare-run is backed ($name4)"
else not_ok "the segment made under mshare-run is backed"; find "$mount" -maxdepth 1 | show; fi
r "$run" --lib "$lib" --shm all -- "$helper" stat "$id4"
check "mshare-run --shm all: the program can use the backed segment" 0 'nattch=0' "$work/out"
r "$run" --lib "$lib" --shm all --mount "$work" -- true
check "mshare-run --mount on a non-msharefs directory: passes through in try mode" 0 \
	"msharefs not available: msharefs is not mounted at $work .*the shim will pass everything through \\(try mode\\)" "$work/err"
r "$run" --lib "$lib" --shm all --mount "$work" --mode strict -- true
check "... and refuses in strict mode (exit 1)" 1 'refusing to run in strict mode' "$work/err"

# mshare-run --check against real msharefs.
r "$run" --lib "$lib" --shm all --mode strict --check -- "$helper"
check "--check: msharefs usable, exit 0" 0 "^  ok    msharefs is mounted at $mount\$" "$work/out" \
	"^  ok    $mount is writable by uid 0\$" "$work/out" \
	'^  ok    RLIMIT_AS \(ulimit -v\) is unlimited' "$work/out" '^all checks passed$' "$work/out"
r bash -c 'ulimit -v 1048576; exec "$@"' - "$run" --lib "$lib" --shm all --check -- "$helper"
check "--check: RLIMIT_AS below one attachment fails (exit 1)" 1 \
	'^  FAIL  RLIMIT_AS \(ulimit -v\) is 1 GiB, less than one attachment \(512 GiB of address space\)' "$work/out"
r bash -c 'ulimit -v 1048576; exec "$@"' - "$run" --lib "$lib" --shm all --mode strict -- true
check "... and a strict run refuses (exit 1)" 1 'warning: RLIMIT_AS' "$work/err" 'refusing to run in strict mode' "$work/err"
r bash -c 'ulimit -v 1048576; exec "$@"' - "$run" --lib "$lib" --shm all --mode strict --dry-run -- true
check "... and so does a strict --dry-run (exit 1)" 1 'refusing to run in strict mode' "$work/err" '^exec true$' "$work/out"
r bash -c 'ulimit -v 1048576; exec "$@"' - "$run" --lib "$lib" --shm all -- true
check "... while a try run runs, with the warning" 0 'warning: RLIMIT_AS' "$work/err"
r bash -c 'ulimit -v 2147483648; exec "$@"' - "$run" --lib "$lib" --shm all --check
check "--check: RLIMIT_AS of 2 TiB has room for 4 attachments" 0 \
	'^  ok    RLIMIT_AS \(ulimit -v\) is 2 TiB: room for at most 4 attachments of 512 GiB$' "$work/out"
mkdir "$work/ro"
mount -t msharefs -o ro msharefs "$work/ro"
r "$run" --lib "$lib" --shm all --mount "$work/ro" --check
check "--check: a read-only msharefs mount fails (exit 1)" 1 "^  FAIL  $work/ro is mounted read-only\$" "$work/out"
umount "$work/ro"

# SysV through the kernel's own sharing (MSHARE_SHIM_SYSV=auto, the default):
# no msharefs mount is needed for it, and mshare-run --check says so.
kernel_way=(env MSHARE_SHIM_SYSV=auto "$run" --lib "$lib")
r "${kernel_way[@]}" --shm all --mount "$work/none" --mode strict --check -- "$helper"
check "--check, SysV through the kernel: no msharefs mount needed (exit 0)" 0 \
	'^  ok    SysV segments: this kernel shares their page tables itself' "$work/out" \
	"^  note  msharefs at $work/none: not checked, nothing configured here needs it\$" "$work/out" \
	'^all checks passed$' "$work/out"
r "${kernel_way[@]}" --shm all --files '/dev/shm/x*' --mount "$work/none" --check
check "... files configured too still need the mount (exit 1)" 1 \
	'^  ok    SysV segments: this kernel shares' "$work/out" "^  FAIL  $work/none: No such file" "$work/out"
key5=$((base + 5))
r "${kernel_way[@]}" --shm "$(printf '0x%x' "$key5")" --mount "$work/none" --mode strict -- \
	"$helper" create "$key5" $((128 << 20)) 0600
check "mshare-run, SysV through the kernel: says so and runs the program" 0 \
	"^mshare-run: SysV keys 0x$(printf '%x' "$key5") of at least 64 MiB will be backed \\(strict mode\\): SysV segments share page tables through the kernel\$" "$work/err" \
	'^[0-9]+$' "$work/out"
[ "$rc" != 0 ] || ids+=("$(cat "$work/out")")
r bash -c 'ulimit -v 1048576; exec "$@"' - "${kernel_way[@]}" --shm all --mode strict --check
check "--check, SysV through the kernel: RLIMIT_AS below 512 GiB is a note (plain attach), exit 0" 0 \
	'^  note  RLIMIT_AS \(ulimit -v\) is 1 GiB, less than one shared attachment \(512 GiB of address space\): the kernel will attach SysV segments plainly' "$work/out"
share_mmu_was=$(cat /proc/sys/kernel/shm_share_mmu)
echo 0 >/proc/sys/kernel/shm_share_mmu
r "${kernel_way[@]}" --shm all --check
check "--check: kernel.shm_share_mmu=0 fails (exit 1)" 1 \
	'^  FAIL  SysV segments: kernel.shm_share_mmu is 0, so the kernel shares no SysV page tables' "$work/out"
r "${kernel_way[@]}" --shm all --mode strict -- true
check "... and a strict run refuses (exit 1)" 1 'refusing to run in strict mode' "$work/err"
echo "$share_mmu_was" >/proc/sys/kernel/shm_share_mmu
r "$run" --lib "$lib" --sysv regions --shm all --mount "$work/none" --check
check "--sysv regions: SysV needs the mount again (exit 1)" 1 \
	'^  note  SysV segments: through msharefs regions of the shim.s own \(MSHARE_SHIM_SYSV=regions\)' "$work/out" \
	"^  FAIL  $work/none: No such file" "$work/out"

# mshare-stat and SysV segments whose page tables the kernel shares: two
# shimmed holders attach shared, a third without the shim attaches plainly.
kshim=(env LD_PRELOAD="$lib" MSHARE_SHIM_SYSV=auto MSHARE_SHIM_SHM=all MSHARE_SHIM_MIN_SIZE=64M
	MSHARE_SHIM_MODE=strict)
id6=$("${kshim[@]}" "$helper" create $((base + 6)) $((128 << 20)) 0600)
ids+=("$id6")
kname=sysv-kernel.$(keyhex 6).$id6
# hold_three ID TAG [touch]: two holders with the shim, one without; their
# pids in $kholders; 0 once all three print "held".
kholders=()
hold_three() {
	local id=$1 tag=$2 i
	shift 2
	kholders=()
	for i in 1 2 3; do
		if [ "$i" = 3 ]; then
			"$helper" hold "$id" "$@" >"$work/$tag$i" 2>&1 &
		else
			"${kshim[@]}" "$helper" hold "$id" "$@" >"$work/$tag$i" 2>&1 &
		fi
		holders+=($!)
		kholders+=($!)
	done
	for _ in $(seq 1 600); do
		[ "$(cat "$work/$tag"[123] 2>/dev/null | grep -c held)" = 3 ] && return 0
		sleep 0.1
	done
	show "$work/$tag"[123]
	return 1
}
if hold_three "$id6" khold touch; then ok "three holders of a kernel-shared segment, two with the shim"
else not_ok "three holders of a kernel-shared segment, two with the shim"; fi
touchers=("${kholders[@]}")
r "$stat" --noheadings --output name,kind,state,key,shmid,size,owner,perms,attach,nprocs,procs
grep "^$kname " "$work/out" >"$work/block" || true
check "mshare-stat lists the kernel-shared segment: its two shared attachers, not the plain one" 0 \
	"^$kname +kernel +live +0x$(keyhex 6) +$id6 +128 MiB +root +0600 +2 +2 +shim-vm-helper x2\$" "$work/block"
r "$stat" --bytes --noheadings --output name,saved,method
check "... with a positive saving from the segment's resident memory" 0 \
	"^$kname +[1-9][0-9]* +\\(attachments - 1\\) x page tables estimated from the segment.s resident memory" "$work/out"
if [ -n "$python" ]; then
	r "$stat" --json --output name,kind,pids
	got=$("$python" -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["regions"] if x["name"] == sys.argv[2]]
print(r and r[0]["kind"], r and sorted(r[0]["pids"]), d["mshare"][0].get("kernel_shares_sysv"))
' "$work/out" "$kname" 2>&1) || true
	want="kernel $(printf '%s\n' "${touchers[0]}" "${touchers[1]}" | sort -n | tr '\n' ',' | sed 's/,$//; s/,/, /g; s/^/[/; s/$/]/') True"
	if [ "$got" = "$want" ]; then ok "--json: kind kernel, the shared attachers' pids, kernel_shares_sysv"
	else not_ok "--json: kind kernel, the shared attachers' pids, kernel_shares_sysv"; echo "# got  $got"; echo "# want $want"; fi
else
	ok "--json: kind kernel # SKIP no python3 in the guest"
fi
r "$stat" --prometheus
check "--prometheus: the kernel-shared segment's attachments" 0 \
	"^mshare_region_attachments\\{mount=\"$mount\",region=\"$kname\",kind=\"kernel\"\\} 2\$" "$work/out" \
	'^mshare_kernel_shares_sysv 1$' "$work/out"
r unshare -m sh -c 'umount "$1" && shift && exec "$@"' - "$mount" "$stat"
check "without an msharefs mount: lists the kernel-shared segments, exit 0" 0 \
	'^msharefs is not mounted; SysV segments whose page tables the kernel shares: [1-9][0-9]*, .*, [2-9][0-9]* attachments, page tables saved now: [1-9]' "$work/out" \
	"^$kname " "$work/out"
r unshare -m sh -c 'umount "$1" && shift && exec "$@"' - "$mount" "$stat" --gc
check "... and --gc there has nothing to collect (exit 0)" 0 '^note: .*nothing to collect$' "$work/out"
# A segment of one whole 512 GiB unit: a plain attachment spans as much as a
# shared one, so smaps' VmFlags decide (st); never touched, SHM_NORESERVE.
id7=$("${kshim[@]}" "$helper" create $((base + 7)) $((512 << 30)) 0600 noreserve) || id7=""
if [ -n "$id7" ]; then
	ids+=("$id7")
	hold_three "$id7" bighold || true
	r "$stat" --noheadings --output name,kind,size,attach,nprocs
	check "a 512 GiB segment: its two shared attachers told from the plain one by VmFlags st" 0 \
		"^sysv-kernel\\.$(keyhex 7)\\.$id7 +kernel +512 GiB +2 +2\$" "$work/out"
else
	not_ok "a 512 GiB segment: its two shared attachers told from the plain one by VmFlags st"
	echo "# shmget of 512 GiB with SHM_NORESERVE failed"
fi
kill -9 "${touchers[0]}" "${touchers[1]}" 2>/dev/null || true
wait "${touchers[0]}" "${touchers[1]}" 2>/dev/null || true
r "$stat" --noheadings --output name
if [ "$rc" = 0 ] && ! grep -q "^$kname\$" "$work/out"; then ok "with only a plain attacher left, the segment is not listed"
else not_ok "with only a plain attacher left, the segment is not listed"; show "$work/out"; fi

# mshare-stat's mount errors on a kernel with msharefs.
r "$stat" --mount "$work"
check "mshare-stat --mount DIR that is not msharefs: exit 4" 4 "is not an msharefs mount" "$work/err"
r "$stat" --mount "$work" --json
check "... --json says mounted:false" 4 '"supported": true' "$work/out" '"mounted": false' "$work/out"
r "$stat" --mount "$work/none"
check "mshare-stat --mount DIR that does not exist: exit 4" 4 "not mounted at $work/none" "$work/err"

echo "1..$n"
[ "$failed" = 0 ]
