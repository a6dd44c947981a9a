# SPDX-License-Identifier: LGPL-2.1-or-later
# What the tools tests (test-tools.sh, vm-tools-tests.sh) add to tests/tap.sh:
# run a command and check its status and output.  The script sets $work, a
# scratch directory, before it calls r or check.
# shellcheck shell=bash disable=SC2154 # $work is the sourcing script's

# shellcheck source=tests/tap.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tap.sh"

show() { sed 's/^/#   /' "$@" || true; }

# r COMMAND...: runs it; status in $rc, output in $work/out and $work/err.
rc=0
r() {
	rc=0
	"$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
}
# check DESCRIPTION STATUS [PATTERN FILE]...: ok if the last r exited with
# STATUS and every FILE matches its grep -E PATTERN; else not ok, with the
# output shown.
check() {
	local desc=$1 want=$2 good=1
	shift 2
	[ "$rc" = "$want" ] || good=0
	while [ $# -ge 2 ]; do
		grep -Eq -- "$1" "$2" || { good=0; echo "# missing /$1/ in ${2##*/}"; }
		shift 2
	done
	if [ "$good" = 1 ]; then
		ok "$desc"
	else
		not_ok "$desc"
		echo "# exit status $rc (want $want); stdout:"
		show "$work/out"
		echo "# stderr:"
		show "$work/err"
	fi
}
