#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# On a host without msharefs the shim must change nothing a program can see:
# shm-ops prints the same facts with and without it, and the shim says once
# why it passes through.  Prints TAP.

set -u
builddir=${top_builddir:-.}
shim=$(cd "$builddir" && pwd)/shim/.libs/libmshare-shim.so
ops=$builddir/tests/shim/shm-ops
work=$(mktemp -d "${TMPDIR:-/tmp}/shim-passthrough.XXXXXX") || exit 99
# Keys no one else uses: high bits fixed, low bits from our pid.
base=$(( 0x5e000000 + ($$ % 0x10000) * 16 ))
n=0
failed=0

cleanup() {
	for k in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		ipcrm -M $((base + k)) 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	shift
	for f in "$@"; do sed 's/^/# /' "$f"; done
}
check() {	# check DESCRIPTION COMMAND... (files to show on failure after --)
	desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

if [ ! -x "$ops" ] || [ ! -f "$shim" ]; then
	echo "1..0 # SKIP shm-ops or libmshare-shim.so not built"
	exit 0
fi
if [ -d /sys/fs/mshare ] && [ -f /sys/fs/mshare/mshare_info ]; then
	echo "1..0 # SKIP msharefs is mounted here: this test is for hosts without it"
	exit 0
fi

key() { echo $((base + $1)); }

# run NAME KEYINDEX [VAR=VALUE...]: shm-ops under the shim with those variables.
run() {
	name=$1; k=$(key "$2"); shift 2
	env -u MSHARE_SHIM_SHM -u MSHARE_SHIM_MODE -u MSHARE_SHIM_LOG \
	    -u MSHARE_SHIM_LOG_FILE -u MSHARE_SHIM_CONFIG -u MSHARE_SHIM_EXE \
	    -u MSHARE_SHIM_MIN_SIZE -u MSHARE_SHIM_MOUNT \
	    "$@" LD_PRELOAD="$shim" "$ops" "$k" >"$work/$name.out" 2>"$work/$name.err"
	echo $? >"$work/$name.rc"
}

same_as_plain() {	# same_as_plain NAME: stdout and exit code as without the shim
	if cmp -s "$work/plain.out" "$work/$1.out" &&
	   cmp -s "$work/plain.rc" "$work/$1.rc"; then
		return 0
	fi
	diff "$work/plain.out" "$work/$1.out" | sed 's/^/# /'
	return 1
}

lines() { grep -c "$1" "$2"; }

echo "1..26"

"$ops" "$(key 0)" >"$work/plain.out" 2>"$work/plain.err"
echo $? >"$work/plain.rc"
check "shm-ops runs without the shim" test "$(cat "$work/plain.rc")" = 0

# 1. Everything listed, no size floor: the shim is consulted for every call.
run all 1 MSHARE_SHIM_SHM=all MSHARE_SHIM_MIN_SIZE=0
check "SHM=all: output identical to the kernel's" same_as_plain all
check "SHM=all: exactly one line logged" test "$(wc -l <"$work/all.err")" = 1
check "SHM=all: it says msharefs is not available" \
	test "$(lines 'msharefs is not available' "$work/all.err")" = 1
# The tools' words (mshare-run), not a bare errno of the mount point.
if grep -q '	msharefs$' /proc/filesystems; then
	skip "SHM=all: it says why as the tools do" "this kernel has msharefs"
else
	check "SHM=all: it says this kernel does not support msharefs" \
		grep -q 'msharefs is not available: this kernel does not support msharefs (not in /proc/filesystems)$' \
		"$work/all.err"
fi
check "SHM=all: the line is 'mshare-shim[shm-ops:PID]: warn: ...'" \
	grep -q '^mshare-shim\[shm-ops:[0-9]*\]: warn: ' "$work/all.err"
[ -s "$work/all.err" ] && sed 's/^/# /' "$work/all.err"

# 2. The interposed symbols really bind to the shim.
env LD_DEBUG=bindings LD_PRELOAD="$shim" MSHARE_SHIM_SHM=all "$ops" "$(key 2)" \
	>/dev/null 2>"$work/bindings.err"
for sym in shmget shmat shmdt shmctl; do
	check "$sym binds to libmshare-shim.so" \
		grep -q "libmshare-shim.so \[0\]: normal symbol \`$sym'" "$work/bindings.err"
done

# 3. Malformed configuration: one clear message, the program unaffected.
run bad 3 MSHARE_SHIM_SHM=1,,2
check "malformed SHM: output identical" same_as_plain bad
check "malformed SHM: one error line naming variable, element and why" \
	test "$(lines "error: configuration error: MSHARE_SHIM_SHM='1,,2': element 2 is empty" "$work/bad.err")" = 1 -a \
	"$(wc -l <"$work/bad.err")" = 1
[ -s "$work/bad.err" ] && sed 's/^/# /' "$work/bad.err"

# 3b. ... but only in the programs MSHARE_SHIM_EXE selects; and a
#     misspelled variable is named once.
run badother 3 MSHARE_SHIM_SHM=1,,2 MSHARE_SHIM_EXE=postgres
check "malformed SHM, program not selected: identical and silent" \
	sh -c "cmp -s '$work/plain.out' '$work/badother.out' && test ! -s '$work/badother.err'"
run typo 3 MSHARE_SHIM_SHM=1 MSHARE_SHIM_MIN_SZE=1M
check "misspelled variable: one warning that names it" \
	test "$(lines "warn: MSHARE_SHIM_MIN_SZE is not a variable of the shim (ignored)" "$work/typo.err")" = 1 -a \
	"$(wc -l <"$work/typo.err")" = 1
[ -s "$work/typo.err" ] && sed 's/^/# /' "$work/typo.err"

# 4. off: not a byte of difference, not a word said (even with garbage).
run off 4 MSHARE_SHIM_MODE=off MSHARE_SHIM_SHM=garbage
check "MODE=off: identical and silent" \
	sh -c "cmp -s '$work/plain.out' '$work/off.out' && test ! -s '$work/off.err'"

# 5. Nothing configured: identical and silent.
run none 5
check "no configuration: identical and silent" \
	sh -c "cmp -s '$work/plain.out' '$work/none.out' && test ! -s '$work/none.err'"

# 6. The log file takes the messages.
run logfile 6 MSHARE_SHIM_SHM=all MSHARE_SHIM_MIN_SIZE=0 \
	MSHARE_SHIM_LOG_FILE="$work/shim.log"
check "LOG_FILE: identical output, nothing on stderr, message in the file" \
	sh -c "cmp -s '$work/plain.out' '$work/logfile.out' && test ! -s '$work/logfile.err' && grep -q 'msharefs is not available' '$work/shim.log'"

# 7. strict without msharefs: creating a listed segment fails with ENOMEM.
run strict 7 MSHARE_SHIM_SHM=all MSHARE_SHIM_MIN_SIZE=0 MSHARE_SHIM_MODE=strict
check "strict without msharefs: shmget fails with ENOMEM" \
	grep -qx 'create excl: ENOMEM' "$work/strict.out"
check "strict without msharefs: error logged" \
	grep -q 'error: refusing shmget.*msharefs is not available' "$work/strict.err"

# 8. strict with a malformed configuration refuses shmget too.
run strictbad 8 MSHARE_SHIM_SHM=bogus MSHARE_SHIM_MODE=strict
check "strict + malformed: shmget fails with ENOMEM" \
	grep -qx 'create excl: ENOMEM' "$work/strictbad.out"

# 9. MSHARE_SHIM_EXE leaves other programs alone, even in strict mode.
run otherexe 9 MSHARE_SHIM_SHM=all MSHARE_SHIM_MIN_SIZE=0 \
	MSHARE_SHIM_MODE=strict MSHARE_SHIM_EXE=postgres:oracle
check "EXE not matching: identical and silent" \
	sh -c "cmp -s '$work/plain.out' '$work/otherexe.out' && test ! -s '$work/otherexe.err'"

# 10. Below MIN_SIZE nothing is even tried (default floor 64M > 4M segments).
run small 10 MSHARE_SHIM_SHM=all MSHARE_SHIM_MODE=strict
check "below MIN_SIZE: identical and silent even in strict mode" \
	sh -c "cmp -s '$work/plain.out' '$work/small.out' && test ! -s '$work/small.err'"

# 11. Configuration file, and the environment overriding it.
printf '# shim settings\nMSHARE_SHIM_SHM=all\nMSHARE_SHIM_MIN_SIZE=0\nMSHARE_SHIM_MODE=strict\n' \
	>"$work/shim.conf"
run conffile 11 MSHARE_SHIM_CONFIG="$work/shim.conf"
run confenv 12 MSHARE_SHIM_CONFIG="$work/shim.conf" MSHARE_SHIM_MODE=try
check "config file is read (strict: ENOMEM)" \
	grep -qx 'create excl: ENOMEM' "$work/conffile.out"
check "environment overrides the file (try: identical)" same_as_plain confenv

# 12. ipcmk and ipcs under the shim.
if command -v ipcmk >/dev/null && command -v ipcs >/dev/null; then
	shimmed() { env LD_PRELOAD="$shim" MSHARE_SHIM_SHM=all MSHARE_SHIM_MIN_SIZE=0 "$@"; }
	id=$(shimmed ipcmk -M 1M 2>"$work/ipcmk.err" | sed -n 's/^Shared memory id: //p')
	if [ -n "$id" ]; then
		ipcs -m -i "$id" >"$work/ipcs.plain" 2>&1
		shimmed ipcs -m -i "$id" >"$work/ipcs.shim" 2>&1
		check "ipcmk -M 1M under the shim makes a 1 MiB segment" \
			grep -q 'bytes=1048576' "$work/ipcs.plain"
		check "ipcs under the shim prints what it prints without" \
			cmp -s "$work/ipcs.plain" "$work/ipcs.shim"
		ipcrm -m "$id"
	else
		not_ok "ipcmk -M 1M under the shim makes a 1 MiB segment" "$work/ipcmk.err"
		not_ok "ipcs under the shim prints what it prints without"
	fi
else
	ok "ipcmk under the shim # SKIP ipcmk not installed"
	ok "ipcs under the shim # SKIP ipcs not installed"
fi

[ "$failed" = 0 ]
