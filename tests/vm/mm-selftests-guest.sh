#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs inside the VM: a subset of the kernel's own tools/testing/selftests/mm
# programs, one TAP test per program, each program's own output as TAP
# comments (so that its nested TAP cannot be mistaken for ours).
#
# usage: mm-selftests-guest.sh BINDIR LISTFILE
#   LISTFILE lines: NAME TIMEOUT_SECONDS [ARGS...]   ('#' starts a comment)
#   A NAME written !NAME is run a second time if it fails (a program known to
#   fail intermittently for reasons of its own); the first run's output stays
#   in the log and the result says it needed the retry.
#   A NAME written ~NAME runs with address-space randomization off
#   (setarch -R): for a program that places fixed mappings next to ones it
#   checked, and so fails whenever the randomly placed heap sits in between.
#   The prefixes combine (!~NAME).
# MSHARE_MM_SKIP: space-separated names reported as skipped (with the reason
# that the caller runs them elsewhere) instead of run.
# Exit status: 0 if no program failed, 1 otherwise.
# kselftest exit codes: 0 pass, 4 skip (KSFT_SKIP); anything else is a failure.
set -euo pipefail

if [ "$#" -ne 2 ]; then
	echo "usage: $0 BINDIR LISTFILE" >&2
	exit 2
fi
bindir=$1
list=$2

work=$(mktemp -d /tmp/mm-selftests.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Some programs create files in the current directory.
cd "$work"

declare -a names=() timeouts=() argss=() retry_once=() fixed_layout=()
while read -r name tmo args; do
	case "$name" in '' | '#'*) continue ;; esac
	retry=0 fixed=0
	while :; do
		case "$name" in
		'!'*) retry=1 name=${name#!} ;;
		'~'*) fixed=1 name=${name#\~} ;;
		*) break ;;
		esac
	done
	retry_once+=("$retry")
	fixed_layout+=("$fixed")
	names+=("$name")
	timeouts+=("$tmo")
	argss+=("${args:-}")
done <"$list"

echo "1..${#names[@]}"
echo "# kernel $(uname -r), $(nproc) CPUs, uid $(id -u)," \
	"HugePages_Free $(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)"

failed=0
for i in "${!names[@]}"; do
	n=$((i + 1))
	name=${names[$i]}
	tmo=${timeouts[$i]}
	read -r -a args <<<"${argss[$i]}"
	out=$work/$name.out
	label="mm/$name${args[*]:+ ${args[*]}}"
	if [[ " ${MSHARE_MM_SKIP:-} " == *" $name "* ]]; then
		echo "ok $n - $label # SKIP too slow on this kernel under TCG; run on the default kernel"
		continue
	fi
	if [ ! -x "$bindir/$name" ]; then
		echo "not ok $n - mm/$name (program not built: $bindir/$name)"
		failed=1
		continue
	fi
	cmd=("$bindir/$name" "${args[@]}")
	if [ "${fixed_layout[$i]}" = 1 ]; then
		cmd=(setarch "$(uname -m)" -R "${cmd[@]}")
		label="$label (ASLR off)"
	fi
	start=$(date +%s.%N)
	rc=0
	retried=""
	timeout -k 5 "$tmo" "${cmd[@]}" >"$out" 2>&1 </dev/null || rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ "${retry_once[$i]}" = 1 ]; then
		echo "# ---- $label failed (exit $rc); its output, then a second run:"
		grep -E 'ERROR|FAIL|fail=[1-9]' "$out" | sed 's/^/#   first run: /' || true
		retried=" # passed on the second run; the first failed with exit $rc"
		rc=0
		timeout -k 5 "$tmo" "${cmd[@]}" >"$out" 2>&1 </dev/null || rc=$?
		[ "$rc" = 0 ] || retried=""
	fi
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	echo "# ---- $label (exit $rc, ${secs}s)"
	sed 's/^/#   /' "$out"
	case "$rc" in
	0)
		echo "ok $n - $label (${secs}s)${retried:+ (needed a retry)}"
		[ -z "$retried" ] || echo "#${retried#' #'}"
		;;
	4)
		reason=$(sed -n 's/^1\.\.0 # SKIP *//p; s/^ok [0-9]* .*# SKIP *//p' "$out" | head -n 1)
		echo "ok $n - $label # SKIP ${reason:-program exited with KSFT_SKIP}"
		;;
	124 | 137)
		echo "not ok $n - $label (timed out after ${tmo}s)"
		failed=1
		;;
	*)
		echo "not ok $n - $label (exit status $rc, ${secs}s)"
		failed=1
		;;
	esac
done
exit "$failed"
