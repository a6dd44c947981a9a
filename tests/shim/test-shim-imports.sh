#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shim runs inside malloc, signal handlers and fork children of
# threaded programs, with its own locks held: it must import no libc
# function that allocates, takes stdio or locale locks, or translates
# messages (strerror() goes through gettext).  Read from the dynamic
# symbol table of the built library.  Prints TAP.

set -u
builddir=${top_builddir:-.}
shim=$builddir/shim/.libs/libmshare-shim.so

if [ ! -f "$shim" ]; then
	echo "1..0 # SKIP libmshare-shim.so not built"
	exit 0
fi
if ! command -v nm >/dev/null 2>&1; then
	echo "1..0 # SKIP no nm"
	exit 0
fi
imports=$(nm -D --undefined-only "$shim" | awk '{ sub(/@.*/, "", $2); print $2 }')
n=0
failed=0
for fn in malloc calloc realloc free strdup strerror strerror_r strerror_l \
	  printf fprintf sprintf snprintf vsnprintf vfprintf fopen fdopen \
	  fclose fgets syslog vsyslog setlocale gettext dcgettext; do
	n=$((n + 1))
	if printf '%s\n' "$imports" | grep -qx "$fn"; then
		failed=$((failed + 1))
		echo "not ok $n - the shim does not import $fn"
	else
		echo "ok $n - the shim does not import $fn"
	fi
done
echo "1..$n"
[ "$failed" = 0 ]
