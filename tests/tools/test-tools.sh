#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mshare-run and mshare-stat on a host without msharefs: options, exit
# codes, messages, profiles, LD_PRELOAD handling, JSON.  With
# tests/shim/fake-msharefs.so (a tmpfs directory that passes for msharefs)
# also mshare-stat's listing and --gc.  Prints TAP.
set -euo pipefail

srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
builddir=$(cd "${top_builddir:-.}" && pwd)
run=$builddir/tools/mshare-run
stat=$builddir/tools/mshare-stat
lib=$builddir/shim/.libs/libmshare-shim.so
fake=$builddir/tests/shim/fake-msharefs.so
# mshare-run calls its checker from the build tree, not the installed path.
export MSHARE_RUN_PREFLIGHT=$builddir/tools/mshare-preflight
work=$(mktemp -d "${TMPDIR:-/tmp}/test-tools.XXXXXX")
holders=()
segments=()

cleanup() {
	local p
	for p in "${holders[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for p in "${segments[@]}"; do ipcrm -m "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=tests/tools/tap.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tap.sh"

python=$(command -v python3 || true)
json_valid() { # json_valid DESCRIPTION FILE
	if [ -z "$python" ]; then
		skip "$1" "no python3"
	elif "$python" -m json.tool "$2" >/dev/null 2>"$work/json-err"; then
		ok "$1"
	else
		not_ok "$1"
		show "$2" "$work/json-err"
	fi
}
# json_get FILE EXPR: EXPR is Python on `d`, the parsed document.
json_get() {
	"$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

if grep -qw msharefs /proc/filesystems; then
	have_msharefs=1
else
	have_msharefs=0
fi
nomsharefs_reason="this host's kernel has msharefs (these tests are for kernels without it)"

# ---- mshare-run ---------------------------------------------------------

r "$run" --help
check "mshare-run --help" 0 '^Usage: mshare-run' "$work/out" '--profile NAME' "$work/out"
r "$run" --version
check "mshare-run --version" 0 '^mshare-run \(libmshare-shim\) [0-9]' "$work/out"

r env -u LD_PRELOAD "$run" --lib "$lib" --dry-run --shm all --min-size 128M -- printf '%s\n' 'a b'
check "--dry-run prints the environment and the command, runs nothing" 0 \
	"^LD_PRELOAD=$lib\$" "$work/out" '^MSHARE_SHIM_SHM=all$' "$work/out" \
	'^MSHARE_SHIM_MIN_SIZE=128M$' "$work/out" "^exec printf '%s\\\\n' 'a b'\$" "$work/out"
if grep -q '^a b$' "$work/out"; then not_ok "--dry-run did not run the program"; else ok "--dry-run did not run the program"; fi

r env LD_PRELOAD="/x/one.so:/y/libmshare-shim.so /x/two.so $lib" "$run" --lib "$lib" --dry-run -- true
check "LD_PRELOAD: the shim first, other entries kept in order, no duplicate or second shim" 0 \
	"^LD_PRELOAD='$lib /x/one\\.so /x/two\\.so'\$" "$work/out"

r env MSHARE_RUN_LIB="$lib" LD_PRELOAD= "$run" --dry-run -- true
check "MSHARE_RUN_LIB names the library" 0 "^LD_PRELOAD=$lib\$" "$work/out"

r env -u MSHARE_RUN_LIB "$run" --lib "$lib" --shm=0x5432001,1000-1010,private --mode=try --log=info \
	--log-file=/tmp/x.log --exe=postgres:oracle --mount=/sys/fs/mshare --files='/dev/shm/ora_*' --anon=1G \
	--sysv=regions --dry-run -- true
check "every option becomes its MSHARE_SHIM_ variable (--opt=value form)" 0 \
	'^MSHARE_SHIM_SHM=0x5432001,1000-1010,private$' "$work/out" '^MSHARE_SHIM_MODE=try$' "$work/out" \
	'^MSHARE_SHIM_LOG=info$' "$work/out" '^MSHARE_SHIM_LOG_FILE=/tmp/x.log$' "$work/out" \
	'^MSHARE_SHIM_EXE=postgres:oracle$' "$work/out" '^MSHARE_SHIM_MOUNT=/sys/fs/mshare$' "$work/out" \
	"^MSHARE_SHIM_FILES='/dev/shm/ora_\\*'\$" "$work/out" '^MSHARE_SHIM_ANON=1G$' "$work/out" \
	'^MSHARE_SHIM_SYSV=regions$' "$work/out"

bad() { # bad DESCRIPTION PATTERN ARGS...
	local desc=$1 pat=$2
	shift 2
	r "$run" --lib "$lib" "$@"
	check "bad option exits 2: $desc" 2 "$pat" "$work/err" "Try 'mshare-run --help'" "$work/err"
}
bad "unknown option" 'unknown option: --bogus' --bogus -- true
bad "--mode" "--mode: MSHARE_SHIM_MODE='fast': unknown mode" --mode fast -- true
bad "--shm octal" "--shm: .*octal is not supported" --shm 010 -- true
bad "--shm garbage" "--shm: .*'0xg': no hex digits" --shm 0xg -- true
bad "--shm backwards range" "--shm: .*reversed range" --shm 20-10 -- true
bad "--min-size MB is refused" "--min-size: .*bad suffix 'MB'" --min-size 64MB -- true
bad "--anon not a size" "--anon: .*not a number" --anon lots -- true
bad "--log" "--log: .*unknown log level" --log loud -- true
bad "--exe with a path" "--exe: .*give basenames" --exe /usr/bin/postgres -- true
bad "--mount relative" "--mount: .*not an absolute path" --mount mshare -- true
bad "--sysv" "--sysv: MSHARE_SHIM_SYSV='fast': unknown SysV page-table sharing" --sysv fast -- true
bad "--files relative" "--files: .*is not absolute" --files relative -- true
bad "missing value" "--shm needs a value" --shm
bad "no program" "no PROGRAM given" --shm all
bad "value to a flag" "--dry-run takes no value" --dry-run=yes -- true
bad "unknown profile" "no profile 'no-such-profile'" --profile no-such-profile -- true
bad "the systemd drop-in is not a profile" "is not a profile name" --profile postgresql@.service.d-mshare -- true

# Profiles.
export MSHARE_RUN_PROFILE_PATH=$srcdir/conf
for conf in "$srcdir"/conf/*.conf; do
	name=${conf##*/}
	[[ $name == *.service.* ]] && continue
	r "$run" --lib "$lib" --profile "${name%.conf}" --dry-run -- true
	check "profile ${name%.conf} loads cleanly" 0 "^MSHARE_SHIM_CONFIG=$conf\$" "$work/out"
	if grep -q -e warning -e error "$work/err"; then not_ok "profile ${name%.conf} draws no warning"; show "$work/err"
	else ok "profile ${name%.conf} draws no warning"; fi
done
r "$run" --list-profiles
check "--list-profiles lists every profile and no other file" 0 \
	'^postgresql-sysv +PostgreSQL with shared_memory_type = sysv \(.*/conf/postgresql-sysv\.conf\)$' "$work/out" \
	'^oracle-amm ' "$work/out"
if [ "$(wc -l <"$work/out")" = "$(find "$srcdir/conf" -maxdepth 1 -name '*.conf' ! -name '*@*' | wc -l)" ] &&
	! grep -q service "$work/out"; then ok "... one line per profile, no systemd drop-in"
else not_ok "... one line per profile, no systemd drop-in"; show "$work/out"; fi
cat >"$work/strict.conf" <<'EOF'
# a test profile
  MSHARE_SHIM_MODE = strict
MSHARE_SHIM_SHM=0x10
EOF
r env -u MSHARE_SHIM_MODE "$run" --lib "$lib" --profile "$work/strict.conf" --dry-run -- true
if [ "$have_msharefs" = 1 ]; then
	skip "--dry-run of a run strict mode would refuse exits 1" "$nomsharefs_reason"
else
	check "--dry-run of a run strict mode would refuse exits 1" 1 'refusing to run in strict mode' "$work/err" \
		'^exec true$' "$work/out"
fi
r env -u MSHARE_SHIM_MODE "$run" --lib "$lib" --profile "$work/strict.conf" -- touch "$work/ran"
if [ "$have_msharefs" = 1 ]; then
	skip "a strict profile without msharefs refuses to run (exit 1)" "$nomsharefs_reason"
else
	check "a strict profile without msharefs refuses to run (exit 1)" 1 'refusing to run in strict mode' "$work/err"
	if [ -e "$work/ran" ]; then not_ok "... and the program did not run"; else ok "... and the program did not run"; fi
fi
r env -u MSHARE_SHIM_MODE "$run" --lib "$lib" --profile "$work/strict.conf" --mode try -- touch "$work/ran"
check "an option overrides the profile (--mode try runs the program)" 0 \
	'the shim will pass everything through \(try mode\)|will be backed' "$work/err"
if [ -e "$work/ran" ]; then ok "... and the program ran"; else not_ok "... and the program ran"; fi
rm -f "$work/ran"
r env MSHARE_SHIM_MODE=try "$run" --lib "$lib" --profile "$work/strict.conf" -- touch "$work/ran"
check "the environment overrides the profile (MSHARE_SHIM_MODE=try)" 0
printf 'MSHARE_SHIM_SHM\n' >"$work/broken.conf"
r "$run" --lib "$lib" --profile "$work/broken.conf" -- true
check "a malformed profile line is reported with file and line (exit 2)" 2 \
	"configuration error: MSHARE_SHIM_CONFIG=$work/broken.conf line 1: 'MSHARE_SHIM_SHM': expected KEY=VALUE" "$work/err"
# The shim rejects a file with an unknown variable; mshare-run once said
# "ignored" and ran.  Now both read it with one parser.
printf 'MSHARE_SHIM_SHM=all\nMSHARE_SHIM_MIN_SIZ=1G\n' >"$work/typo.conf"
rm -f "$work/ran"
r "$run" --lib "$lib" --profile "$work/typo.conf" -- touch "$work/ran"
check "an unknown variable in a profile is an error, as in the shim (exit 2)" 2 \
	"typo.conf line 2: 'MSHARE_SHIM_MIN_SIZ': unknown variable" "$work/err" \
	'the shim would pass everything through' "$work/err"
if [ -e "$work/ran" ]; then not_ok "... and the program did not run"; else ok "... and the program did not run"; fi
printf 'MSHARE_SHIM_SHM=all\nMSHARE_SHIM_MIN_SIZE=1G # big\n' >"$work/value.conf"
r "$run" --lib "$lib" --profile "$work/value.conf" -- true
check "a bad value in a profile is an error, as in the shim (exit 2)" 2 \
	"value.conf line 2: MSHARE_SHIM_MIN_SIZE='1G # big'" "$work/err"
r env MSHARE_SHIM_MIN_SIZE=lots "$run" --lib "$lib" --shm all -- true
check "a bad value in the environment is an error too (exit 2)" 2 "MSHARE_SHIM_MIN_SIZE='lots'" "$work/err"

# --check: the report, and exit 1 wherever strict mode would refuse.
r "$run" --lib "$lib" --profile "$work/typo.conf" --check
check "--check reports a configuration error (exit 1)" 1 "^  FAIL  configuration: .*unknown variable" "$work/out" \
	'^configuration \(as libmshare-shim reads it\):$' "$work/out"
r "$run" --lib "$lib" --shm 0x10,20-30,private --min-size 1G --exe postgres --check -- sh
check "--check shows the configuration as the shim reads it" "$((1 - have_msharefs))" \
	'^  backs        SysV keys 0x10,0x14-0x1e,private of at least 1 GiB$' "$work/out" \
	'^  executables  postgres$' "$work/out" \
	'^  note  the executable (dash|bash|sh) is not in MSHARE_SHIM_EXE=postgres' "$work/out"
# How SysV segments would share tables, decided as the shim decides; the
# kernel's way itself is tested in the VM (vm-tools-tests.sh).
if [ ! -e /proc/sys/kernel/shm_share_mmu ]; then
	r "$run" --lib "$lib" --shm all --sysv kernel --check
	check "--check: --sysv kernel without SHM_SHARE_MMU fails, and the mount is not needed" 1 \
		'^  FAIL  SysV segments: MSHARE_SHIM_SYSV=kernel, and this kernel has no shmat\(SHM_SHARE_MMU\)' "$work/out" \
		'^  note  msharefs at /sys/fs/mshare: not checked, nothing configured here needs it$' "$work/out"
	r env -u MSHARE_SHIM_SYSV "$run" --lib "$lib" --shm all --check
	check "--check: auto without SHM_SHARE_MMU takes msharefs regions" "$((1 - have_msharefs))" \
		'^  note  SysV segments: through msharefs regions of the shim.s own \(this kernel has no shmat\(SHM_SHARE_MMU\)\)$' "$work/out"
else
	skip "--check: --sysv kernel without SHM_SHARE_MMU fails" "this kernel has SHM_SHARE_MMU"
	skip "--check: auto without SHM_SHARE_MMU takes msharefs regions" "this kernel has SHM_SHARE_MMU"
fi
r "$run" --lib "$work/none.so" --mode off --check
check "--check: a missing library fails" 1 '^  FAIL  the library .*none.so does not exist' "$work/out"
cp "$(type -P true)" "$work/suid-true"
if [ "$(id -u)" = 0 ]; then
	chown nobody "$work/suid-true"
fi
chmod u+s "$work/suid-true"
r "$run" --lib "$lib" --mode off --check -- "$work/suid-true"
check "--check: mode off passes (nothing to refuse)" 0 'the shim will change nothing' "$work/out"
if [ "$(id -u)" = 0 ] || [ "$(stat -c %u "$work/suid-true")" != "$(id -u)" ]; then
	r "$run" --lib "$lib" --shm all --check -- "$work/suid-true"
	check "--check: a set-user-ID program of another user fails" 1 "^  FAIL  $work/suid-true is set-user-ID" "$work/out"
else
	skip "--check: a set-user-ID program of another user fails" "cannot make a file of another user"
fi
unset MSHARE_RUN_PROFILE_PATH

# Running without msharefs.
if [ "$have_msharefs" = 1 ]; then
	for t in "try mode runs the program and says why" "the program's exit status is passed on" \
		"the program sees the variables" "strict mode refuses (exit 1)"; do
		skip "$t" "$nomsharefs_reason"
	done
else
	r env -u MSHARE_SHIM_MODE -u MSHARE_SHIM_CONFIG "$run" --lib "$lib" --shm all -- echo ran
	check "try mode runs the program and says why" 0 '^ran$' "$work/out" \
		'^mshare-run: msharefs not available: this kernel does not support msharefs .*: the shim will pass everything through \(try mode\)$' "$work/err"
	r "$run" --lib "$lib" --shm all -- sh -c 'exit 7'
	check "the program's exit status is passed on" 7
	r env -u LD_PRELOAD "$run" --lib "$lib" --shm 0x10 --quiet -- env
	check "the program sees the variables (and --quiet says nothing)" 0 "^LD_PRELOAD=$lib\$" "$work/out" \
		'^MSHARE_SHIM_SHM=0x10$' "$work/out"
	if [ -s "$work/err" ]; then not_ok "--quiet prints nothing"; show "$work/err"; else ok "--quiet prints nothing"; fi
	r "$run" --lib "$lib" --shm all --mode strict -- echo ran
	check "strict mode refuses (exit 1)" 1 'msharefs not available: .*: refusing to run in strict mode' "$work/err"
fi
r "$run" --lib "$lib" --mode off -- true
check "--mode off says the shim changes nothing" 0 'MSHARE_SHIM_MODE=off: the shim will change nothing' "$work/err"
r "$run" --lib "$lib" -- no-such-program-anywhere
check "a missing program exits 127" 127 'no-such-program-anywhere: command not found' "$work/err"
r "$run" --lib "$work/none.so" -- true
check "a missing library exits 1" 1 'none.so does not exist' "$work/err"

# ---- mshare-stat ----------------------------------------------------------

r "$stat" --help
check "mshare-stat --help (documents the exit codes)" 0 '^Usage: mshare-stat' "$work/out" '3 msharefs not supported' "$work/out"
r "$stat" --version
check "mshare-stat --version" 0 '^mshare-stat \(libmshare-shim\) [0-9]' "$work/out"
sbad() { # sbad DESCRIPTION PATTERN ARGS...
	local desc=$1 pat=$2
	shift 2
	r "$stat" "$@"
	check "mshare-stat: bad usage exits 2: $desc" 2 "$pat" "$work/err"
}
sbad "unknown option" 'unknown option: --bogus' --bogus
sbad "unknown short option" 'unknown option: -x' -x
sbad "--dry-run without --gc" '--dry-run goes with --gc' --dry-run
sbad "--mount without a value" 'needs a value' --mount
sbad "an argument" 'unexpected argument: extra' extra
sbad "an unknown column" "--output: unknown column 'bogus'" --output name,bogus
sbad "--prometheus with --json" '--prometheus goes with no other output option' --prometheus --json
sbad "--json with --raw" 'exclude each other' --json --raw
r "$stat" --help
check "mshare-stat --help lists the columns" 0 '^ \*NAME +region file name$' "$work/out" '^  PIDS ' "$work/out"

if [ "$have_msharefs" = 1 ]; then
	skip "mshare-stat without msharefs: exit 3" "$nomsharefs_reason"
	skip "mshare-stat --json without msharefs" "$nomsharefs_reason"
	skip "mshare-stat --gc without msharefs: exit 0 with a note" "$nomsharefs_reason"
	skip "mshare-stat --gc --json without msharefs: exit 0" "$nomsharefs_reason"
	skip "mshare-stat --prometheus without msharefs: exit 0" "$nomsharefs_reason"
else
	r "$stat"
	check "mshare-stat without msharefs: exit 3 and says so" 3 'msharefs is not supported by this kernel' "$work/err"
	r "$stat" --json
	check "mshare-stat --json without msharefs: exit 3" 3 '"supported": false' "$work/out" \
		'"format_version": 1' "$work/out" '"error": "msharefs is not supported' "$work/out"
	json_valid "... and prints valid JSON" "$work/out"
	r "$stat" --gc
	check "mshare-stat --gc without msharefs: exit 0 with a note (cron)" 0 \
		'^note: msharefs is not supported by this kernel .*: nothing to collect$' "$work/out"
	r "$stat" --gc --json
	check "mshare-stat --gc --json without msharefs: exit 0" 0 '"gc": \[' "$work/out"
	json_valid "... and prints valid JSON" "$work/out"
	r "$stat" --prometheus
	check "mshare-stat --prometheus without msharefs: exit 0, supported 0" 0 \
		'^mshare_supported 0$' "$work/out" '^mshare_mounted\{mount=""\} 0$' "$work/out" \
		'^# TYPE mshare_supported gauge$' "$work/out"
	r "$stat" --mount "$work"
	check "mshare-stat --mount DIR on a kernel without msharefs: exit 3" 3 'not supported by this kernel' "$work/err"
fi

# ---- mshare-stat on a fake mount (tmpfs standing in for msharefs) ----------

fake_tests=19
if [ ! -f "$fake" ]; then
	for ((i = 0; i < fake_tests; i++)); do skip "mshare-stat on a fake mount" "$fake not built"; done
elif ! command -v ipcmk >/dev/null || ! command -v flock >/dev/null; then
	for ((i = 0; i < fake_tests; i++)); do skip "mshare-stat on a fake mount" "needs ipcmk and flock"; done
else
	m=$work/mshare
	mkdir "$m"
	echo 549755813888 >"$m/mshare_info"
	fstat() { r env LD_PRELOAD="$fake" FAKE_MSHAREFS_DIR="$m" "$stat" --mount "$m" "$@"; }

	# A live segment (made without the shim) and a region naming it.
	id=$(ipcmk -M 4096 | grep -Eo '[0-9]+$')
	segments+=("$id")
	read -r key cpid < <(awk -v id="$id" '$2 == id { print $1, $5 }' /proc/sysvipc/shm)
	keyhex=$(printf '%08x' $((key & 0xffffffff)))
	# A pid that is surely dead: a reaped child's.
	sh -c 'exit 0' &
	dead=$!
	wait "$dead" || true
	gone_id=2147483000
	touch "$m/sysv.$keyhex.$id.$cpid" "$m/sysv.$keyhex.$id.$((cpid + 1))" \
		"$m/sysv.0000abcd.$gone_id.$dead" \
		"$m/.creating.0000abcd.$dead" "$m/.creating.0000abcd.$$" "$m/.tmp.x.$dead" "$m/.mmap.$dead.1" \
		"$m/$(printf 'we"ird\\name\001\377')" "$m/other"
	echo data >"$work/backing"
	read -r bdev bino < <(stat -c '%d %i' "$work/backing")
	fname=$(printf 'file.%x.%d.0.1000.%d.3' "$bdev" "$bino" "$(id -u)")
	touch "$m/$fname" "$m/file.1.2.0.1000.0"
	flock "$m/file.1.2.0.1000.0" sleep 60 &
	holders+=($!)
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		grep -q "$(stat -c %i "$m/file.1.2.0.1000.0")" /proc/locks && break
		sleep 0.2
	done
	tail -f /dev/null "$work/backing" >/dev/null 2>&1 &
	holders+=($!)
	sleep 0.2

	fstat
	check "fake mount: the summary line, exit 0" 0 \
		"^msharefs at $m, alignment 512 GiB: 11 regions, 0 bytes, 0 attachments, page tables saved now: 0 bytes" "$work/out" \
		'^NAME +KIND +SIZE +OWNER +PERMS +STATE +ATTACH +SAVED +PROCS +BACKS$' "$work/out"
	fstat --raw --output name,kind,state,key,shmid,cpid
	check "fake mount: --raw --output: a live SysV region with key, id and creator" 0 \
		"^sysv\\.$keyhex\\.$id\\.$cpid sysv live 0x$keyhex $id $cpid\$" "$work/out"
	if [ "$(wc -l <"$work/out")" = 12 ]; then ok "fake mount: --raw has a heading and one line per region (11)"
	else not_ok "fake mount: --raw has a heading and one line per region (11)"; show "$work/out"; fi
	fstat --noheadings --output NAME,STATE,KEY,SHMID,CPID
	check "fake mount: gone and reused SysV ids are flagged (--noheadings)" 0 \
		"^sysv\\.0000abcd\\.$gone_id\\.$dead +gone +0x0000abcd +$gone_id +$dead\$" "$work/out" \
		"^sysv\\.$keyhex\\.$id\\.$((cpid + 1)) +reused +0x$keyhex +$id +$((cpid + 1))\$" "$work/out" \
		"^\\.creating\\.0000abcd\\.$dead +stale +$dead\$" "$work/out" \
		"^\\.creating\\.0000abcd\\.$$ +building +$$\$" "$work/out"
	if grep -q '^NAME' "$work/out"; then not_ok "--noheadings prints no heading"; else ok "--noheadings prints no heading"; fi
	fstat --output=+PATH --bytes
	check "fake mount: a file region is resolved to its path via /proc/PID/fd (+PATH, --bytes)" 0 \
		"^file\\.[0-9a-f]+\\.$bino\\.0\\.1000\\.[0-9]+\\.3 +file +0 .* $work/backing, offset 0, length 4 KiB, euid [0-9]+, rw- +$work/backing\$" "$work/out"
	fstat --json
	check "fake mount: --json exits 0" 0 '"regions": \[' "$work/out"
	json_valid "fake mount: --json is valid JSON (odd names escaped)" "$work/out"
	if [ -n "$python" ]; then
		got=$(json_get "$work/out" "d['format_version'], len(d['regions']), sorted(r['state'] for r in d['regions'] if r['kind']=='sysv'), d['mshare'][0]['alignment'], d['mshare'][0]['regions'], [r['size'] for r in d['regions']][:1]")
		if [ "$got" = "(1, 11, ['gone', 'live', 'reused'], 549755813888, 11, [0])" ]; then ok "fake mount: --json content"
		else not_ok "fake mount: --json content"; echo "# got $got"; fi
	else
		skip "fake mount: --json content" "no python3"
	fi
	fstat --json --output name,pids,nprocs
	json_valid "fake mount: --json --output name,pids,nprocs is valid JSON" "$work/out"
	fstat --prometheus
	check "fake mount: --prometheus totals and per-region samples" 0 \
		"^mshare_regions\\{mount=\"$m\"\\} 11\$" "$work/out" \
		"^mshare_bytes\\{mount=\"$m\"\\} 0\$" "$work/out" \
		"^mshare_pgtables_saved_bytes\\{mount=\"$m\"\\} 0\$" "$work/out" \
		"^mshare_region_bytes\\{mount=\"$m\",region=\"sysv\\.$keyhex\\.$id\\.$cpid\",kind=\"sysv\"\\} 0\$" "$work/out" \
		'^mshare_region_attachments\{mount=".*",region="we\\"ird\\\\name.*",kind="other"\} 0$' "$work/out"
	if grep -Evq '^(# (HELP|TYPE) [a-z_]+ .*|[a-z_]+(\{.*\})? [0-9]+)$' "$work/out"; then
		not_ok "fake mount: --prometheus lines are all HELP, TYPE or samples"; show "$work/out"
	else ok "fake mount: --prometheus lines are all HELP, TYPE or samples"; fi

	# A file region is removed only if every process's maps can be read
	# (in a container, pid 1 of the host side may not be).
	unreadable=0
	for p in /proc/[0-9]*; do
		if [ -e "$p/maps" ] && ! head -c1 "$p/maps" >/dev/null 2>&1 && [ -e "$p/maps" ]; then
			unreadable=1
		fi
	done
	if [ "$unreadable" = 0 ]; then
		file_fate="^would remove $fname: nobody holds or maps it\$"
		removable=6
	else
		file_fate="^kept $fname: not held, but the maps of [0-9]+ processes are not readable"
		removable=5
		echo "# some /proc/PID/maps are not readable here: the unheld file region must be kept"
	fi
	fstat --gc --dry-run -v
	check "fake mount: --gc --dry-run names exactly the unreachable ones" 0 \
		"^would remove sysv\\.0000abcd\\.$gone_id\\.$dead: SysV id $gone_id is gone\$" "$work/out" \
		"^would remove sysv\\.$keyhex\\.$id\\.$((cpid + 1)): SysV id $id now names another segment" "$work/out" \
		"^would remove \\.creating\\.0000abcd\\.$dead: creating file of dead pid $dead\$" "$work/out" \
		"^would remove \\.tmp\\.x\\.$dead: temporary file of dead pid $dead\$" "$work/out" \
		"^would remove \\.mmap\\.$dead\\.1: temporary file of dead pid $dead\$" "$work/out" \
		"$file_fate" "$work/out" \
		"^$removable of 11 regions would be removed\$" "$work/out"
	if [ "$(find "$m" -type f | wc -l)" = 12 ]; then ok "fake mount: --dry-run removed nothing"
	else not_ok "fake mount: --dry-run removed nothing"; find "$m" | show; fi

	fstat --gc --json
	json_valid "fake mount: --gc --json is valid JSON" "$work/out"
	check "fake mount: --gc --json lists the actions" 0 '"action": "removed"' "$work/out" '"action": "kept"' "$work/out"
	left=$(cd "$m" && for f in .[!.]* *; do [[ $f == we* ]] || printf '%s ' "$f"; done)
	want=".creating.0000abcd.$$ file.1.2.0.1000.0 "
	[ "$removable" = 6 ] || want="$want$fname "
	want="${want}mshare_info other sysv.$keyhex.$id.$cpid "
	if [ "$rc" = 0 ] && [ "$left" = "$want" ] && [ "$(find "$m" -name 'we*' | wc -l)" = 1 ]; then
		ok "fake mount: --gc removed exactly those and kept the live, held and unknown ones"
	else
		not_ok "fake mount: --gc removed exactly those and kept the live, held and unknown ones"
		echo "# exit $rc; left: $left"
		echo "# want: $want (+ the odd name)"
		show "$work/out"
	fi
	fstat --gc -v
	check "fake mount: a second --gc removes nothing and says why it keeps each" 0 \
		"^0 of $((11 - removable)) regions removed\$" "$work/out" "^kept file\\.1\\.2\\.0\\.1000\\.0: held \\(locked\\) by a process\$" "$work/out" \
		'^kept other: not a name libmshare-shim uses: never removed$' "$work/out" \
		"^kept sysv\\.$keyhex\\.$id\\.$cpid: its SysV segment exists\$" "$work/out"
fi

# ---- many attached processes are summarised, not listed on one line --------

mapper=$builddir/tests/shim/mmap-helper
if [ ! -f "$fake" ] || [ ! -x "$mapper" ]; then
	for i in 1 2 3; do skip "mshare-stat: attachers summarised" "$fake or $mapper not built"; done
else
	m2=$work/mshare2
	mkdir "$m2"
	echo 549755813888 >"$m2/mshare_info"
	region=file.3.4.0.1000.0
	truncate -s 4096 "$m2/$region"
	for c in h1 h2 h3 h4; do cp "$mapper" "$work/$c"; done
	mappers=()
	for i in $(seq 1 20); do mappers+=("$mapper"); done
	mappers+=("$work/h1" "$work/h2" "$work/h3" "$work/h4")
	for p in "${mappers[@]}"; do
		"$p" map "$m2/$region" 4096 r "$work/release" >/dev/null 2>&1 &
		holders+=($!)
	done
	for _ in $(seq 1 100); do
		[ "$(grep -l "$m2/$region" /proc/[0-9]*/maps 2>/dev/null | wc -l)" -ge 24 ] && break
		sleep 0.1
	done
	r env LD_PRELOAD="$fake" FAKE_MSHAREFS_DIR="$m2" "$stat" --mount "$m2" --raw --noheadings --output name,nprocs,procs
	check "mshare-stat: 24 attachers are summarised by command" 0 \
		"^$region 24 mmap-helper\\\\x20x20,\\\\x20h[1-4],\\\\x20h[1-4],\\\\x20\\+2\\\\x20more\$" "$work/out"
	r env LD_PRELOAD="$fake" FAKE_MSHAREFS_DIR="$m2" "$stat" --mount "$m2" --noheadings --output pids
	if [ "$rc" = 0 ] && [ "$(grep -cE '^ *[0-9]+ *$' "$work/out")" = 24 ]; then ok "--output pids: one pid per line"
	else not_ok "--output pids: one pid per line"; show "$work/out"; fi
	r env LD_PRELOAD="$fake" FAKE_MSHAREFS_DIR="$m2" "$stat" --mount "$m2" --json --output name,pids
	if [ -n "$python" ] && [ "$rc" = 0 ] &&
		[ "$(json_get "$work/out" "len(d['regions'][0]['pids']), all(isinstance(p, int) for p in d['regions'][0]['pids'])")" = "(24, True)" ]; then
		ok "--json: pids is an array of 24 numbers"
	else
		not_ok "--json: pids is an array of 24 numbers"; show "$work/out"
	fi
	touch "$work/release"
fi

echo "1..$n"
[ "$failed" = 0 ]
