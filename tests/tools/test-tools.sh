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
	--dry-run -- true
check "every option becomes its MSHARE_SHIM_ variable (--opt=value form)" 0 \
	'^MSHARE_SHIM_SHM=0x5432001,1000-1010,private$' "$work/out" '^MSHARE_SHIM_MODE=try$' "$work/out" \
	'^MSHARE_SHIM_LOG=info$' "$work/out" '^MSHARE_SHIM_LOG_FILE=/tmp/x.log$' "$work/out" \
	'^MSHARE_SHIM_EXE=postgres:oracle$' "$work/out" '^MSHARE_SHIM_MOUNT=/sys/fs/mshare$' "$work/out" \
	"^MSHARE_SHIM_FILES='/dev/shm/ora_\\*'\$" "$work/out" '^MSHARE_SHIM_ANON=1G$' "$work/out"

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

if [ "$have_msharefs" = 1 ]; then
	skip "mshare-stat without msharefs: exit 3" "$nomsharefs_reason"
	skip "mshare-stat --json without msharefs" "$nomsharefs_reason"
	skip "mshare-stat --gc without msharefs: exit 3" "$nomsharefs_reason"
else
	r "$stat"
	check "mshare-stat without msharefs: exit 3 and says so" 3 'msharefs is not supported by this kernel' "$work/err"
	r "$stat" --json
	check "mshare-stat --json without msharefs: exit 3" 3 '"supported":false' "$work/out"
	json_valid "... and prints valid JSON" "$work/out"
	r "$stat" --gc
	check "mshare-stat --gc without msharefs: exit 3" 3 'not supported by this kernel' "$work/err"
	r "$stat" --mount "$work"
	check "mshare-stat --mount DIR on a kernel without msharefs: exit 3" 3 'not supported by this kernel' "$work/err"
fi

# ---- mshare-stat on a fake mount (tmpfs standing in for msharefs) ----------

fake_tests=12
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
	check "fake mount: lists the regions, exit 0" 0 '^alignment: 512 GiB \(549755813888 bytes\)$' "$work/out" \
		'^regions: 11$' "$work/out" "^sysv\\.$keyhex\\.$id\\.$cpid\$" "$work/out"
	check "fake mount: a live SysV region shows key, id and the segment" 0 \
		"SysV key 0x$keyhex, id $id, created by pid $cpid: segment exists" "$work/out"
	check "fake mount: gone and reused SysV ids are flagged" 0 \
		"id $gone_id, created by pid $dead: segment is gone" "$work/out" \
		"id $id now names another segment" "$work/out"
	check "fake mount: a file region is resolved to its path via /proc/PID/fd" 0 \
		"backs +file $work/backing \\(device [0-9]+:[0-9]+, inode $bino\\), offset 0, length 4 KiB, for euid [0-9]+, rw-\$" "$work/out"
	fstat --json
	check "fake mount: --json exits 0" 0 '"regions":\[' "$work/out"
	json_valid "fake mount: --json is valid JSON (odd names escaped)" "$work/out"
	if [ -n "$python" ]; then
		got=$(json_get "$work/out" "len(d['regions']), sorted(r['sysv']['state'] for r in d['regions'] if r['kind']=='sysv'), d['alignment']")
		if [ "$got" = "(11, ['gone', 'live', 'reused'], 549755813888)" ]; then ok "fake mount: --json content"
		else not_ok "fake mount: --json content"; echo "# got $got"; fi
	else
		skip "fake mount: --json content" "no python3"
	fi

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

echo "1..$n"
[ "$failed" = 0 ]
