#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shim's own descriptors in a program that closes every fd and opens
# its data under the freed numbers (tests/shim/fd-reuse.c): the shim's
# lines never land in the program's data; the log file is created 0600,
# not through a symbolic link, and only under an absolute name.  On a host
# without msharefs, where shmget() under MSHARE_SHIM_SHM=all makes the shim
# say why it passes through.  vm-mmap-tests.sh checks the descriptors of
# backed file mappings.  Prints TAP.

set -u
builddir=${top_builddir:-.}
builddir=$(cd "$builddir" && pwd)
shim=$builddir/shim/.libs/libmshare-shim.so
prog=$builddir/tests/shim/fd-reuse
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$prog" ] || [ ! -f "$shim" ]; then
	echo "1..0 # SKIP fd-reuse or libmshare-shim.so not built"
	exit 0
fi
if [ -f /sys/fs/mshare/mshare_info ]; then
	echo "1..0 # SKIP msharefs is mounted here: the shim would not warn"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/shim-fds.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT

# ok, not_ok, skip, note, expect, expect_match
. "$here/../tap.sh"

shim() { env LD_PRELOAD="$shim" MSHARE_SHIM_SHM=all "$@"; }

# 1. The log file's descriptor closed and its number reused for data.
shim MSHARE_SHIM_LOG_FILE="$work/shim.log" "$prog" log "$work/data" 2>"$work/err"
expect "log file: the program's data file holds only its data" data "$(cat "$work/data")"
expect_match "log file: the line went to the log file, opened again" \
	'mshare-shim\[fd-reuse:[0-9]+\]: warn: ' "$(cat "$work/shim.log" 2>&1)"
expect "log file: created 0600" 600 "$(stat -c %a "$work/shim.log")"

# 2. stderr closed and its number reused for data: the line is dropped.
shim "$prog" stderr "$work/data2"
expect "stderr: the program's data file holds only its data" data "$(cat "$work/data2")"

# 2b. stderr redirected to a pipe with dup2() after start (a logging
#     collector): the shim's lines follow it there.
expect_match "stderr redirected to a pipe: the line goes there" \
	'^pipe: mshare-shim\[fd-reuse:[0-9]+\]: warn: SysV shared memory passes through unbacked' \
	"$(shim "$prog" stderrpipe 2>/dev/null)"

# 3. A symbolic link as the log file is not followed.
ln -s "$work/target" "$work/link"
shim MSHARE_SHIM_LOG_FILE="$work/link" "$prog" log "$work/data3" 2>"$work/err3"
expect "symbolic link: not followed" no "$([ -e "$work/target" ] && echo yes || echo no)"
expect_match "symbolic link: said so on stderr" \
	"cannot open MSHARE_SHIM_LOG_FILE=$work/link" "$(cat "$work/err3")"

# 4. A relative log file name is a configuration error.
(cd "$work" && shim MSHARE_SHIM_LOG_FILE=rel.log "$prog" log "$work/data4" 2>"$work/err4")
expect "relative name: no file in the working directory" no \
	"$([ -e "$work/rel.log" ] && echo yes || echo no)"
expect_match "relative name: refused as a configuration error" \
	"MSHARE_SHIM_LOG_FILE='rel.log': not an absolute path" "$(cat "$work/err4")"
# 5. MSHARE_SHIM_SYSLOG: each line also goes to the syslog socket, one
#    datagram (facility user), even after the program took the descriptor.
sink=$builddir/tests/shim/syslog-sink
"$sink" "$work/log.sock" 1 >"$work/sink.out" &
sink_pid=$!
i=0
while [ ! -s "$work/sink.out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
shim MSHARE_SHIM_SYSLOG="$work/log.sock" "$prog" log "$work/data5" 2>/dev/null
wait "$sink_pid"
expect_match "syslog: the line arrived as <12>mshare-shim[...]: warn: ..." \
	'^<12>mshare-shim\[fd-reuse:[0-9]+\]: warn: SysV shared memory passes through unbacked' \
	"$(sed -n 2p "$work/sink.out")"
expect "syslog: the program's data file holds only its data" data "$(cat "$work/data5")"
echo "1..$n"
[ "$failed" = 0 ]
