# SPDX-License-Identifier: LGPL-2.1-or-later
# TAP helpers sourced by the shell test scripts (tests/shim/vm-*-tests.sh,
# tests/tools/*.sh), so that they count, report and show failures the same
# way.  POSIX sh.  A script ends with: echo "1..$n"; [ "$failed" = 0 ]
# (or prints its plan first).

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
note() { echo "# $*"; }

# expect DESCRIPTION EXPECTED ACTUAL: passes when they are equal.
expect() {
	if [ "$2" = "$3" ]; then ok "$1"
	else not_ok "$1"; note "expected: $2"; note "got:      $3"; fi
}
# expect_match DESCRIPTION PATTERN ACTUAL: grep -E PATTERN on ACTUAL.
expect_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"
	else not_ok "$1"; note "expected to match: $2"; note "got: $3"; fi
}
